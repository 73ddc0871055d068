"""The Dockerfile's `serve` image, really built with podman and run on a run directory mounted read-only.

`make test` prepares podman and a local base image (scripts/ensure-podman.sh) and sets
GSX_REQUIRE_CONTAINER_TEST=1, so there this test fails instead of skipping when podman is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from explorer.client import callback_body, free_port

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/debian-python:test"
IMAGE = "localhost/gsx-serve:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

pytestmark = pytest.mark.container


def _podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env.get("CONTAINERS_CONF"):  # podman's build helpers run in other directories: the path must be absolute
        env["CONTAINERS_CONF"] = str(Path(env["CONTAINERS_CONF"]).resolve())
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout, check=check, env=env)


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("podman") is None or _podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        if os.environ.get("GSX_REQUIRE_CONTAINER_TEST"):
            pytest.fail(f"podman or the base image {BASE_IMAGE} is missing: run scripts/ensure-podman.sh")
        pytest.skip(f"podman or {BASE_IMAGE} not available (make test prepares them)")
    build = ["build", "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", IMAGE]
    if CA_BUNDLE.is_file():  # machines whose TLS goes through a re-signing proxy; harmless elsewhere
        build += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    result = _podman(*build, str(ROOT), timeout=1500, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return IMAGE


def test_hadolint_passes_on_the_dockerfile():
    linter = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(linter), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_serve_image_has_no_torch_and_runs_as_a_plain_user(image):
    config = json.loads(_podman("inspect", image).stdout)[0]["Config"]
    assert config["User"] not in ("", "root", "0")
    assert "8050/tcp" in config["ExposedPorts"]
    assert json.loads(_podman("inspect", image).stdout)[0]["Healthcheck"]["Test"]
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('torch', 'umap')))"
    assert _podman("run", "--rm", "--entrypoint", "python", image, "-c", probe, check=False).returncode == 0


def _get(url: str, body: dict | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.status, response.read()


def test_the_serve_image_serves_a_read_only_run_and_stops_cleanly(image, small_run, tmp_path_factory):
    # a world-readable copy: the container's user is not the one who wrote the run
    run = Path(tmp_path_factory.mktemp("container-run")) / "run"
    shutil.copytree(small_run, run)
    for path in [run.parent, *run.rglob("*"), run]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    name = f"gsx-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    _podman("run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:8050", "-v", f"{run}:/run:ro", image)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline:
            try:
                health = json.loads(_get(f"{url}/healthz")[1])
                break
            except OSError:
                time.sleep(1)
        assert health is not None, _podman("logs", name, check=False).stderr[-3000:]
        assert health["status"] == "ok"
        assert _podman("healthcheck", "run", name, check=False).returncode == 0

        status, page = _get(url + "/")
        assert status == 200
        assert b"Gravity Spy Glitch Explorer" in page
        key = next((run / "previews").glob("*-thumb.webp")).name.removesuffix("-thumb.webp")
        status, thumb = _get(f"{url}/previews/thumb/{key}.webp")
        assert (status, thumb[:4]) == (200, b"RIFF")

        # one callback over HTTP, as the browser posts it: the cluster table for the run's parameters
        manifest = json.loads((run / "manifest.json").read_text())
        output = "cluster-grid.rowData"
        inputs = [
            {"id": "cluster-params", "property": "data", "value": manifest["cluster_params_used"]},
            {"id": "label-source", "property": "value", "value": "label"},
        ]
        body = callback_body(output, inputs)
        status, reply = _get(f"{url}/_dash-update-component", body)
        assert status == 200
        assert len(json.loads(reply)["response"]["cluster-grid"]["rowData"]) == manifest["n_clusters"]
    finally:
        stop = _podman("stop", "-t", "20", name, check=False)
        state = json.loads(_podman("inspect", name, check=False).stdout or "[{}]")[0].get("State", {})
        logs = _podman("logs", name, check=False)
        _podman("rm", "-f", name, check=False)
    assert stop.returncode == 0
    assert state.get("ExitCode") == 0, logs.stdout[-2000:] + logs.stderr[-2000:]  # SIGTERM honoured, not killed
    assert "Shutting down: Master" in logs.stdout + logs.stderr
