"""The precompute image and the compose stack, really built and run with podman (issue 19).

`make test-images` runs these, not `make test`: the precompute image holds torch's CUDA build (a 7.4 GB
virtualenv) and takes minutes to build and tens of GB of disk while it does, which `make test`'s 30 minutes
cannot carry. They are marked ``images``, which pyproject's addopts deselect; `make test-images` downloads the
pinned wheels into build/wheels (GSX_WHEELS: torch comes from this machine's local index, never from a hub),
prepares podman as `make test` does, and runs ``pytest -m images``. Build times and sizes go to
test-artifacts/images.json (docs/deploy.md quotes them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from explorer.client import free_port
from precompute.rundir import load_run

from .conftest import ARTIFACTS
from .containers import (
    BASE_IMAGE,
    CA_BUNDLE,
    ROOT,
    SERVE_IMAGE,
    build_image,
    podman,
    podman_env,
    require_podman,
    wait_for_health,
    wheels_folder,
    world_readable_copy,
)
from .helpers import assert_same_run, small_run_args
from .pages import Page, status_text

pytestmark = [pytest.mark.images, pytest.mark.container]

PRECOMPUTE = "localhost/gsx-precompute:test"
REDIS = "localhost/gsx-redis:test"
COMPOSE = ROOT / "deploy" / "compose.yaml"


def _record(name: str, seconds: float, image: str) -> None:
    """Keep the build's time and the image's size for docs/deploy.md."""
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())
    path = ARTIFACTS / "images.json"
    ARTIFACTS.mkdir(exist_ok=True)
    record = json.loads(path.read_text()) if path.exists() else {}
    record[name] = {"build_s": round(seconds, 1), "size_bytes": size, "wheels": wheels_folder() is not None}
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\n{name}: built in {seconds:.0f} s, {size / 1e9:.2f} GB", file=sys.stderr)


@pytest.fixture(scope="module")
def precompute_image() -> str:
    require_podman()
    if wheels_folder() is None and os.environ.get("GSX_REQUIRE_CONTAINER_TEST"):
        pytest.fail("GSX_WHEELS names no folder of wheels: `make test-images` downloads them into build/wheels")
    start = time.monotonic()
    build_image(PRECOMPUTE, "precompute", timeout=3600)
    _record("precompute", time.monotonic() - start, PRECOMPUTE)
    return PRECOMPUTE


@pytest.fixture(scope="module")
def readable_set(synth_set, tmp_path_factory) -> Path:
    """The shared test set, copied once so that the images' own user can read it."""
    return world_readable_copy(synth_set.root, tmp_path_factory.mktemp("readable") / "set")


def _run_offline(image: str, data: Path, tmp_path: Path, args: list[str], timeout: float):
    """``precompute ARGS`` in ``image`` with no network, ``data`` at /data and a fresh folder at /runs."""
    runs = tmp_path / "runs"
    runs.mkdir()
    runs.chmod(0o777)  # the image's user (uid 10001) writes here
    done = podman(
        "run", "--rm", "--network", "none", "-v", f"{data}:/data:ro", "-v", f"{runs}:/runs", image, *args,
        timeout=timeout, check=False,
    )  # fmt: skip
    return done, runs


def test_the_precompute_image_makes_the_same_run_as_this_machine_without_a_network(
    precompute_image, readable_set, reference, tmp_path
):
    args = small_run_args(Path("/data"), Path("/runs/run"), Path("/cache"))
    done, runs = _run_offline(precompute_image, readable_set, tmp_path, args, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    run = load_run(runs / "run")  # the dashboard's reader takes what the image wrote
    assert run.manifest["versions"]["torch"].startswith("2.14.1")
    assert run.manifest["embedding"]["device"] == "cpu"
    assert any("weights were random" in w for w in run.manifest["warnings"])
    assert_same_run(reference, runs / "run")  # the host's run of the same set and arguments


def test_imagenet_weights_without_a_network_stop_the_image_with_the_fix_and_write_nothing(
    precompute_image, readable_set, tmp_path
):
    args = [*small_run_args(Path("/data"), Path("/runs/run"), Path("/cache")), "--weights", "imagenet"]
    done, runs = _run_offline(precompute_image, readable_set, tmp_path, args, timeout=600)
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ImageNet weights for ResNet-18 are unavailable" in done.stderr
    assert "--weights PATH" in done.stderr
    assert list(runs.iterdir()) == []


# -- the compose file ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_images(precompute_image) -> dict[str, str]:
    """The three images compose.yaml names, built here from the local base image (no registry is reachable)."""
    start = time.monotonic()
    build_image(SERVE_IMAGE)
    _record("serve", time.monotonic() - start, SERVE_IMAGE)
    build = ["build", "-f", str(ROOT / "deploy" / "redis.Containerfile"), "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
    if CA_BUNDLE.is_file():
        build += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    done = podman(*build, "-t", REDIS, str(ROOT / "deploy"), timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"GSX_PRECOMPUTE_IMAGE": precompute_image, "GSX_SERVE_IMAGE": SERVE_IMAGE, "GSX_REDIS_IMAGE": REDIS}


class Stack:
    """``podman-compose -p PROJECT -f deploy/compose.yaml ...`` with the test's settings in its environment."""

    def __init__(self, project: str, settings: dict[str, str]):
        self.project = project
        self.env = podman_env(settings)

    def __call__(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "podman-compose"), "-p", self.project, "-f", str(COMPOSE), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=self.env, check=False)

    def logs(self, service: str) -> str:
        done = podman("logs", f"{self.project}_{service}_1", check=False)
        return done.stdout + done.stderr


def test_the_compose_stack_runs_the_job_serves_its_run_and_rebuilds_through_its_worker(
    compose_images, readable_set, tmp_path
):
    weights = tmp_path / "weights"
    weights.mkdir()
    port = free_port()
    stack = Stack(
        f"gsxtest{uuid.uuid4().hex[:8]}",
        {**compose_images, "GSX_BASE_IMAGE": BASE_IMAGE, "GSX_PUBLISH_PORT": str(port), "GSX_WEIGHTS": str(weights),
         "GSX_DATA": str(readable_set)},
    )  # fmt: skip
    try:
        job = stack(
            "--profile", "jobs", "run", "--rm", "precompute",
            *small_run_args(Path("/data"), Path("/runs/current"), Path("/cache")), timeout=1200,
        )  # fmt: skip
        assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-3000:]
        up = stack("up", "-d", "explorer", "worker")
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        url = f"http://127.0.0.1:{port}"
        health = wait_for_health(url, 240, lambda: stack.logs("explorer"))
        assert health["status"] == "ok", health

        manifest = json.loads(
            podman("run", "--rm", "-v", f"{stack.project}_runs:/runs:ro", "--entrypoint", "cat", SERVE_IMAGE,
                   "/runs/current/manifest.json").stdout
        )  # fmt: skip
        params = manifest["cluster_params_used"]
        page = Page(url, params)
        status, own = page.clusters(params)
        assert status == 200
        assert len(own) == manifest["n_clusters"]
        new_samples = params["min_samples"] + 1
        answer = page.rebuild(new_samples)
        assert f"Tree for min_samples={new_samples} ready" in status_text(answer), answer
        status, rows = page.clusters({**params, "min_samples": new_samples})
        assert status == 200
        assert rows
        assert "] received" in stack.logs("worker"), "the rebuild did not go through the compose file's worker"
        assert "Traceback" not in stack.logs("explorer")
    finally:
        down = stack("down", "-v", "-t", "20")
        left = podman("ps", "-a", "--filter", f"label=io.podman.compose.project={stack.project}", "-q", check=False)
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert left.stdout.strip() == "", "containers were left behind"
    assert stack.project not in podman("volume", "ls", "-q").stdout, "volumes were left behind"
