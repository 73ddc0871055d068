"""``make serve`` (and so ``make demo``) serves with the production server, as the container does."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from explorer.client import free_port

from .browser import healthy, wait
from .conftest import ROOT

pytestmark = pytest.mark.slow


def test_make_serve_runs_gunicorn_with_its_settings_not_the_development_server(small_run, tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "GSX_CACHE_DIR": str(tmp_path / "cache"), "GSX_WORKERS": "1"}
    with log.open("w") as out:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve", f"RUN={small_run}", f"PORT={port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait(lambda: process.poll() is not None or healthy(url), timeout=240, what="make serve to answer")
            assert process.poll() is None, log.read_text()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
    text = log.read_text()
    assert f"Serving {small_run} at http://127.0.0.1:{port}/" in text
    assert f"Listening at: http://127.0.0.1:{port}" in text  # gunicorn's own line, bound where gunicorn.conf.py says
    assert "development server" not in text.lower()
    assert "Shutting down: Master" in text  # and it stopped cleanly on SIGTERM, as `docker stop` sends
