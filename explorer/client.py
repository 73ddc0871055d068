"""For the scripts and tests that talk to a running explorer over HTTP: what Dash's renderer posts for a
callback, and a gunicorn server started as in production."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Served", "callback_body", "free_port", "gunicorn_server"]

ROOT = Path(__file__).resolve().parent.parent


def callback_body(output: str, inputs: list[dict], state: list[dict] | None = None) -> dict[str, Any]:
    """The JSON body of ``POST /_dash-update-component`` for one callback.

    ``output`` is the callback's key in ``app.callback_map`` (``"..a.prop...b.prop.."`` for several
    outputs; duplicate outputs carry their ``@hash``); ``inputs`` and ``state`` are
    ``{"id", "property", "value"}`` dicts in the callback's order.
    """
    outputs = [
        dict(zip(("id", "property"), part.split(".", 1), strict=True)) for part in output.strip(".").split("...")
    ]
    return {
        "output": output,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs],
    }


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A running gunicorn: its URL and its master process (the workers are its children)."""

    url: str
    process: subprocess.Popen


#: How the line begins that each gunicorn worker prints once it serves (app.py); `gunicorn_server` waits for them
WORKER_READY = "explorer worker ready"


@contextlib.contextmanager
def gunicorn_server(
    run: Path,
    cache_dir: Path,
    *,
    workers: int = 2,
    threads: int = 4,
    log: Path | None = None,
    wait_s: float = 300,
    review_db: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """Serve ``run`` with ``gunicorn app:server`` and ``gunicorn.conf.py`` (as the container does) on a free
    loopback port; wait until ``/healthz`` answers and, with a ``log``, until every worker says it is ready
    (app.py's line); stop it (SIGTERM, as ``docker stop``) on exit.

    ``review_db`` sets ``GSX_REVIEW_DB`` (else the caller's environment decides); ``env`` adds more settings."""
    port = free_port()
    environment = {
        **os.environ, **(env or {}), "GSX_RUN": str(run), "GSX_CACHE_DIR": str(cache_dir), "GSX_HOST": "127.0.0.1",
        "GSX_PORT": str(port), "GSX_WORKERS": str(workers), "GSX_THREADS": str(threads),
    }  # fmt: skip
    if review_db is not None:
        environment["GSX_REVIEW_DB"] = str(review_db)
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:server"],
        cwd=ROOT,
        env=environment,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode} before serving (log: {log})")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"gunicorn did not answer /healthz within {wait_s} s (log: {log})") from None
                time.sleep(0.5)
        if log:  # /healthz answers once one worker serves; the others may still be loading the run
            while log.read_text(errors="replace").count(WORKER_READY) < workers:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise TimeoutError(f"not every gunicorn worker was ready within {wait_s} s (log: {log})")
                time.sleep(0.5)
        yield Served(url, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()
