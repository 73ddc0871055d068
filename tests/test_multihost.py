"""Serving from several hosts (issue 19): two gunicorn servers, one Redis, one Celery worker, all real.

The two servers stand for two hosts: each has its own cache folder, so all
they share is ``GSX_CACHE_URL``. A tree rebuilt through one must be served by
the other without a second build; a worker killed mid-build must leave the
page an error it can show and a retry that works once a worker is back; and
Redis going away must cost only speed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from benchmarks.bench_explorer import make_run
from explorer.client import free_port, gunicorn_server
from explorer.jobs import WatchedCeleryManager, _alive_key, _queued_key, _started_key, make_celery

from .pages import Page, status_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
#: Points in the test's run: big enough that a tree takes a few seconds to build, so a worker can be killed mid-build
POINTS = 40_000
RUN_PARAMS = {"min_cluster_size": 50, "min_samples": 10, "selection_method": "eom", "epsilon": 0.0}

if shutil.which("redis-server") is None:
    if os.environ.get("GSX_REQUIRE_REDIS_TEST"):
        raise RuntimeError("redis-server is missing; `make test` installs it (scripts/ensure-redis.sh)")
    pytest.skip("redis-server is not installed (scripts/ensure-redis.sh installs it)", allow_module_level=True)


@contextlib.contextmanager
def redis_server(folder: Path, port: int):
    """A real Redis on a loopback port, nothing persisted; stopped on exit."""
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"redis-server did not answer on port {port}") from None
            time.sleep(0.1)
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def _worker_env(run: Path, url: str, cache: Path) -> dict[str, str]:
    return {**os.environ, "GSX_RUN": str(run), "GSX_CACHE_URL": url, "GSX_CACHE_DIR": str(cache)}


def celery_worker(run: Path, url: str, cache: Path, log: Path) -> subprocess.Popen:
    """``celery -A app:celery_app worker`` as docs/deploy.md runs it, in its own process group."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "app:celery_app", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--hostname", f"worker-{time.monotonic_ns()}@test"],
        cwd=ROOT, env=_worker_env(run, url, cache), stdout=open(log, "ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def _wait_for(log: Path, text: str, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text(errors="replace"):
        if time.monotonic() > deadline or (process is not None and process.poll() is not None):
            raise AssertionError(f"{text!r} not in {log} after {seconds} s:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory):
    """A run of `POINTS` glitches served by two gunicorns ("hosts") sharing one Redis, and one Celery worker."""
    base = tmp_path_factory.mktemp("multihost")
    preview = base / "preview.webp"
    Image.new("RGB", (16, 16), "white").save(preview, "WEBP")
    run = make_run(POINTS, base / "run", preview, neighbours=False)
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    shared = {"GSX_CACHE_URL": url}
    with (
        redis_server(base, port) as redis_process,
        gunicorn_server(run, base / "cache-one", workers=2, threads=2, log=base / "one.log", env=shared) as one,
        gunicorn_server(run, base / "cache-two", workers=2, threads=2, log=base / "two.log", env=shared) as two,
    ):
        state = {"run": run, "url": url, "base": base, "redis": redis_process, "port": port}
        worker = celery_worker(run, url, base / "worker-cache", base / "worker.log")
        _wait_for(base / "worker.log", "ready.", 180, worker)
        state["worker"] = worker
        try:
            yield one, two, state
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(state["worker"].pid, signal.SIGKILL)
            state["worker"].wait()


def _builds(state: dict) -> int:
    """Background jobs the Celery worker has received so far (each a tree build)."""
    return (state["base"] / "worker.log").read_text(errors="replace").count("] received")


def test_a_tree_rebuilt_through_one_host_is_served_by_the_other_without_a_second_build(hosts):
    one, two, state = hosts
    before = _builds(state)
    status, untreed = Page(two.url, RUN_PARAMS).clusters({**RUN_PARAMS, "min_samples": 12})
    status_run, own = Page(two.url, RUN_PARAMS).clusters(RUN_PARAMS)
    assert status == status_run == 200
    assert untreed == own, "without the tree, the run's own clustering is shown"
    answer = Page(one.url, RUN_PARAMS).rebuild(12)
    assert "Tree for min_samples=12 ready" in status_text(answer), answer
    assert answer["cluster-params"]["data"]["min_samples"] == 12
    status, rows = Page(two.url, RUN_PARAMS).clusters({**RUN_PARAMS, "min_samples": 12})
    assert status == 200
    assert rows, "no clustering"
    assert rows != own, "the other host did not serve the tree built through the first"
    assert _builds(state) - before == 1, "the tree was built more than once"
    for server_log in ("one.log", "two.log"):
        assert "Traceback" not in (state["base"] / server_log).read_text(errors="replace")


def test_a_worker_killed_mid_build_gives_a_clear_error_and_a_retry_succeeds_once_it_is_back(hosts):
    one, _two, state = hosts
    import redis

    client = redis.Redis(port=state["port"])
    page = Page(one.url, RUN_PARAMS)
    body, query = page.press_rebuild(25)
    deadline = time.monotonic() + 60
    while not client.keys("gsx:job-alive:*"):  # the task has started: kill the worker while it builds
        assert time.monotonic() < deadline, "the worker never started the rebuild"
        time.sleep(0.02)
    os.killpg(state["worker"].pid, signal.SIGKILL)
    state["worker"].wait()
    assert not client.keys("gsx:tree/*/25"), "the tree was finished before the worker was killed: the test saw nothing"
    answer = page.answer(body, query, timeout=60)
    assert "Not rebuilt: the Celery worker building it stopped" in status_text(answer), answer
    assert "Press Rebuild again" in status_text(answer)

    state["worker"] = celery_worker(
        state["run"], state["url"], state["base"] / "worker-cache", state["base"] / "worker.log"
    )
    answer = page.rebuild(25)
    assert "Tree for min_samples=25 ready" in status_text(answer), answer


def test_a_started_job_whose_heartbeat_stopped_is_lost_whatever_celery_recorded(hosts):
    """A worker killed between starting a job and Celery storing "STARTED" leaves it "PENDING": still lost."""
    _one, _two, state = hosts
    manager = WatchedCeleryManager(make_celery(state["url"]), where="test")
    client = manager.handle.backend.client
    job = f"job-{time.monotonic_ns()}"
    client.set(_queued_key(job), str(time.time()))
    assert manager.problem(job) is None, "queued and waiting for a worker"
    client.set(_started_key(job), "1")
    client.set(_alive_key(job), "1", ex=10)
    assert manager.problem(job) is None, "running, its heartbeat fresh"
    client.delete(_alive_key(job))
    assert manager.handle.AsyncResult(job).state == "PENDING"
    assert "the Celery worker building it stopped" in (manager.problem(job) or "")
    assert not manager.job_running(job)


def test_redis_going_away_costs_speed_not_answers(hosts):
    one, two, state = hosts
    expected = {
        url: Page(url, RUN_PARAMS).clusters({**RUN_PARAMS, "min_cluster_size": 70}) for url in (one.url, two.url)
    }
    state["redis"].kill()
    state["redis"].wait()
    for server, log in ((one, "one.log"), (two, "two.log")):
        status, rows = Page(server.url, RUN_PARAMS).clusters({**RUN_PARAMS, "min_cluster_size": 70})
        assert status == 200
        assert rows == expected[server.url][1], f"{log}: another clustering for the same parameters"
        status, rows = Page(server.url, RUN_PARAMS).clusters(
            {**RUN_PARAMS, "min_cluster_size": 90}
        )  # not computed before
        assert status == 200, f"{log}: HTTP {status} without Redis"
        assert rows, f"{log}: no clustering without Redis"
        text = (state["base"] / log).read_text(errors="replace")
        assert "the shared cache at redis://127.0.0.1" in text
        assert "computing without it" in text
        assert "Traceback" not in text
