"""The Ray Data engine for stage 3 (``--engine ray``, issue 18): the same vectors and the same run as the local
engine, one cache the two take turns on, and its faults: a worker killed mid-batch, an unreachable head.

Everything here runs real Ray (a local cluster, or a head started with ``ray start``) on the shared 30-glitch
synthetic set; the kill is a real SIGKILL of the embedding actor's process, found by its Ray process title.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from explorer.client import free_port

from .helpers import CLI_PROGRAM, assert_same_run, map_seed, small_run_args

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow
IMAGES = 120  # the shared synthetic set: 30 glitches x 4 windows


def _precompute(args: list[str], **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI_PROGRAM, "-q", *args], cwd=ROOT, text=True, **popen)


def _finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def _cache_vectors(cache: Path) -> dict[str, np.ndarray]:
    vectors = {}
    for shard in cache.glob("embeddings/*/shard-*.npz"):
        with np.load(shard) as data:
            vectors.update(zip(map(str, data["keys"]), data["vectors"], strict=True))
    return vectors


@pytest.fixture(scope="module")
def ray_run(synth_set, tmp_path_factory) -> Path:
    """``--engine ray`` with Ray started on this machine, in a fresh cache."""
    base = tmp_path_factory.mktemp("ray-engine")
    args = [*small_run_args(synth_set.root, base / "run", base / "cache"), "--engine", "ray"]
    code, err = _finish(_precompute(args, stderr=subprocess.PIPE))
    assert code == 0, err
    return base / "run"


def test_the_ray_engine_gives_the_local_engines_vectors_and_run(reference, ray_run):
    manifest = json.loads((ray_run / "manifest.json").read_text())
    assert manifest["embedding"]["engine"] == "ray"
    assert manifest["embedding"]["ray_address"] == "local"
    assert manifest["embedding"]["embedded"] == IMAGES
    assert manifest["parameters"]["embed"]["engine"] == "ray"
    assert_same_run(ray_run, reference)  # embeddings to 1e-5, clusters, map, previews, audit tables byte for byte


def test_the_engines_take_turns_on_one_cache(synth_set, ray_run, tmp_path):
    """Half of Ray's shards in a new cache: the local engine embeds only the rest, and the vectors agree."""
    from precompute.embed import EmbedConfig
    from precompute.embed_cache import content_keys
    from precompute.embed_stage import EngineConfig, embed_rows
    from precompute.io import read_dataset
    from precompute.preprocess import PreprocessConfig

    ray_cache = ray_run.parent / "cache"
    shards = sorted(ray_cache.glob("embeddings/*/shard-*.npz"))
    assert len(shards) >= 4
    cache = tmp_path / "cache"
    for shard in shards[: len(shards) // 2]:
        target = cache / shard.relative_to(ray_cache)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shard, target)
    kept = len(_cache_vectors(cache))
    dataset = read_dataset(synth_set.root, show_progress=False)
    rows = list(zip(dataset.images["kind"], dataset.images["source"], strict=True))
    keys = content_keys(rows, show_progress=False)
    vectors, info, _, failed = embed_rows(
        rows, keys, dataset.load_image, embed=EmbedConfig(weights="random", device="cpu", batch_size=4, workers=0, seed=map_seed()),
        preprocess=PreprocessConfig(), engine=EngineConfig("local"), cache_root=cache, shard_images=8,
        show_progress=False,
    )  # fmt: skip
    assert not failed
    assert info["engine"] == "local"
    assert info["cache_hits"] == kept
    assert info["embedded"] == IMAGES - kept
    by_ray = _cache_vectors(ray_cache)
    assert _cache_vectors(cache).keys() == by_ray.keys()
    np.testing.assert_allclose(vectors, np.stack([by_ray[k] for k in keys]), atol=1e-5)


#: Ray 2.60 clusters started with ``ray start`` require a token; a driver sends ~/.ray/auth_token when told to
TOKEN_AUTH = {**os.environ, "RAY_AUTH_MODE": "token"}


@pytest.fixture
def ray_head(tmp_path_factory):
    """A Ray head on a free loopback port (``ray start --head --block``, its own session), stopped afterwards."""
    port = free_port()
    temp = Path(f"/tmp/gsx-ray-{os.getpid()}-{port}")  # Ray's socket paths must stay short
    log = (tmp_path_factory.mktemp("ray-head") / "head.log").open("w")
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", f"--temp-dir={temp}", "--node-ip-address=127.0.0.1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=TOKEN_AUTH,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not list(temp.glob("session_latest/logs/raylet.out")) and time.monotonic() < deadline:
        assert head.poll() is None, f"ray start exited with {head.returncode}; see {log.name}"
        time.sleep(0.5)
    try:
        yield address
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)  # the head's own processes share its process group
            head.wait(timeout=30)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def _embedding_actors() -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        if line.startswith("ray::") and "_Embedder" in line:
            found.append(process)
    return found


def test_a_ray_worker_killed_mid_batch_is_replaced_and_the_run_finishes(synth_set, reference, ray_head, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "run"
    args = [*small_run_args(synth_set.root, out, cache), "--engine", "ray", "--ray-address", ray_head]
    run = _precompute(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=TOKEN_AUTH)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(cache.glob("embeddings/*/shard-*.npz")):
        assert run.poll() is None, run.stderr.read()
        time.sleep(0.05)
    actors = _embedding_actors()
    assert actors, "the embedding actor should be running while shards are being written"
    for actor in actors:
        actor.send_signal(signal.SIGKILL)
    killed = {actor.pid for actor in actors}
    assert len(_cache_vectors(cache)) < IMAGES, "the kill should land mid-embedding"
    replaced = False
    while run.poll() is None and not replaced:  # Ray starts a new actor in the killed one's place
        replaced = bool({actor.pid for actor in _embedding_actors()} - killed)
        time.sleep(0.05)

    code, err = _finish(run)
    assert code == 0, err
    assert replaced, "a new embedding actor should have taken over"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embedding"]["ray_address"] == ray_head
    assert manifest["embedding"]["embedded"] == IMAGES
    assert_same_run(out, reference)


def test_an_unreachable_ray_head_fails_at_once_naming_its_address(synth_set, tmp_path):
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    args = [*small_run_args(synth_set.root, tmp_path / "run", tmp_path / "cache"), "--engine", "ray", "--ray-address",
            address]  # fmt: skip
    code, err = _finish(_precompute(args, stderr=subprocess.PIPE), timeout=120)
    assert code == 2
    assert f"the Ray head at {address} is unreachable" in err
    assert "ray start --head" in err
    assert "Nothing was written" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run.partial-*"))
    assert not list((tmp_path / "cache").glob("embeddings/*/shard-*.npz"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ray-address", "127.0.0.1:1"], "need --engine ray"),
        (["--engine", "ray", "--ray-address", "no-port-here"], "is not HOST:PORT"),
    ],
)
def test_ray_options_are_checked(synth_set, tmp_path, args, message):
    code, err = _finish(
        _precompute(
            [*small_run_args(synth_set.root, tmp_path / "run", tmp_path / "cache"), *args], stderr=subprocess.PIPE
        )
    )
    assert code == 2
    assert message in err
    assert not (tmp_path / "run").exists()
