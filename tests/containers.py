"""Building and running this project's images with podman, for the container tests (test_container, test_images).

`make test` and `make test-images` prepare podman and the local base image (scripts/ensure-podman.sh): no
registry is reachable on our machines, so every image starts from ``localhost/debian-python:test``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/debian-python:test"
SERVE_IMAGE = "localhost/gsx-serve:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def podman_env(settings: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment plus ``settings``, for podman and podman-compose."""
    env = {**os.environ, **(settings or {})}
    if env.get("CONTAINERS_CONF"):  # podman's build helpers run in other directories: the path must be absolute
        env["CONTAINERS_CONF"] = str(Path(env["CONTAINERS_CONF"]).resolve())
    return env


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """``podman ARGS``, its output captured; ``check`` raises on a non-zero exit."""
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=check, env=podman_env()
    )


def require_podman() -> None:
    """Fail (under ``make test``'s GSX_REQUIRE_CONTAINER_TEST) or skip when podman or the base image is missing."""
    if not podman_ready():
        if os.environ.get("GSX_REQUIRE_CONTAINER_TEST"):
            pytest.fail(f"podman or the base image {BASE_IMAGE} is missing: run scripts/ensure-podman.sh")
        pytest.skip(f"podman or {BASE_IMAGE} not available (make test prepares them)")


def wheels_folder() -> Path | None:
    """The folder of wheels the make targets download for image builds (GSX_WHEELS), if there is one."""
    folder = os.environ.get("GSX_WHEELS")
    return Path(folder).resolve() if folder and any(Path(folder).glob("*.whl")) else None


def _build_args(tag: str, target: str | None) -> list[str]:
    build = ["build", "--format", "docker", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-t", tag]
    if target:
        build += ["--target", target]
    if wheels := wheels_folder():
        build += ["-v", f"{wheels}:/wheels:ro", "--build-arg", "WHEELS=/wheels"]
    if CA_BUNDLE.is_file():  # machines whose TLS goes through a re-signing proxy; harmless elsewhere
        build += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    return [*build, str(ROOT)]


#: builds started early in the session (`start_build`), by tag: the process and its log
_started: dict[str, tuple[subprocess.Popen, Path]] = {}


def start_build(tag: str, log: Path) -> None:
    """Start building ``tag`` (the Dockerfile's default target) now, at a low priority, so that its minutes pass
    while other tests run.

    `build_image` then waits for it instead of building. The serve image takes about four minutes here, mostly
    pip and numba on one core, while most tests keep the other busy: `make test` starts it at collection
    (conftest.py), as long as a container test is selected and podman is ready.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            ["nice", "-n", "15", "podman", *_build_args(tag, None)], stdout=handle, stderr=subprocess.STDOUT,
            env=podman_env(),
        )  # fmt: skip
    _started[tag] = (process, log)


def stop_builds() -> None:
    """Stop the builds `start_build` began that nothing waited for."""
    while _started:
        process, _log = _started.popitem()[1]
        if process.poll() is None:
            process.kill()
            process.wait()


def podman_ready() -> bool:
    return shutil.which("podman") is not None and podman("image", "exists", BASE_IMAGE, check=False).returncode == 0


def build_image(tag: str, target: str | None = None, *, timeout: float = 1500) -> str:
    """Build the Dockerfile (``target``, or its default) from the local base image as ``tag``; the tag.

    With GSX_WHEELS set, pip installs from that folder of wheels (the Dockerfile's WHEELS) instead of PyPI. A
    build `start_build` began is waited for instead.
    """
    require_podman()
    if tag in _started:
        process, log = _started.pop(tag)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert code == 0, log.read_text(errors="replace")[-6000:]
        return tag
    result = podman(*_build_args(tag, target), timeout=timeout, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tag


def world_readable_copy(source: Path, dest: Path) -> Path:
    """A copy of ``source`` that a container's own user (not the one who wrote it) can read."""
    shutil.copytree(source, dest)
    for path in [dest.parent, dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def wait_for_health(url: str, seconds: float, logs: Callable[[], str]) -> dict:
    """``GET url/healthz`` until a container's server answers; its JSON. Fails with ``logs()`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(1)
    raise AssertionError(f"/healthz did not answer in {seconds} s:\n{logs()[-3000:]}")
