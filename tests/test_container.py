"""The Dockerfile's `serve` image, really built with podman and run on a run directory mounted read-only.

`make test` prepares podman and a local base image (scripts/ensure-podman.sh) and sets
GSX_REQUIRE_CONTAINER_TEST=1, so there this test fails instead of skipping when podman is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from explorer.client import free_port

from .containers import ROOT, SERVE_IMAGE, build_image, podman, wait_for_health, world_readable_copy
from .pages import Page

pytestmark = pytest.mark.container


@pytest.fixture(scope="module")
def image() -> str:
    return build_image(SERVE_IMAGE)  # started at collection (conftest.py): this waits for it


@pytest.mark.parametrize("containerfile", ["Dockerfile", "deploy/redis.Containerfile"])
def test_hadolint_passes_on_the_containerfiles(containerfile):
    linter = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(linter), str(ROOT / containerfile)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_serve_image_has_no_torch_and_runs_as_a_plain_user(image):
    inspected = json.loads(podman("inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] not in ("", "root", "0")
    assert "8050/tcp" in config["ExposedPorts"]
    assert inspected["Healthcheck"]["Test"]
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('torch', 'umap')))"
    assert podman("run", "--rm", "--entrypoint", "python", image, "-c", probe, check=False).returncode == 0


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.status, response.read()


def test_the_serve_image_serves_a_read_only_run_and_stops_cleanly(image, small_run, tmp_path_factory):
    run = world_readable_copy(small_run, Path(tmp_path_factory.mktemp("container-run")) / "run")
    name = f"gsx-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8050", "-v", f"{run}:/run:ro", image)
    url = f"http://127.0.0.1:{port}"
    try:
        health = wait_for_health(url, 120, lambda: podman("logs", name, check=False).stderr)
        assert health["status"] == "ok"
        assert podman("healthcheck", "run", name, check=False).returncode == 0

        status, page = _get(url + "/")
        assert status == 200
        assert b"Gravity Spy Glitch Explorer" in page
        key = next((run / "previews").glob("*-thumb.webp")).name.removesuffix("-thumb.webp")
        status, thumb = _get(f"{url}/previews/thumb/{key}.webp")
        assert (status, thumb[:4]) == (200, b"RIFF")

        # one callback over HTTP, as the browser posts it: the cluster table for the run's parameters
        manifest = json.loads((run / "manifest.json").read_text())
        params = manifest["cluster_params_used"]
        status, rows = Page(url, params).clusters(params)
        assert status == 200
        assert len(rows) == manifest["n_clusters"]
    finally:
        stop = podman("stop", "-t", "20", name, check=False)
        state = json.loads(podman("inspect", name, check=False).stdout or "[{}]")[0].get("State", {})
        logs = podman("logs", name, check=False)
        podman("rm", "-f", name, check=False)
    assert stop.returncode == 0
    assert state.get("ExitCode") == 0, logs.stdout[-2000:] + logs.stderr[-2000:]  # SIGTERM honoured, not killed
    assert "Shutting down: Master" in logs.stdout + logs.stderr
