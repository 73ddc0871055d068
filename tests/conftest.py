"""Shared fixtures: one small synthetic data set, generated once per session, in every layout, and its run."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from precompute.cluster import ClusterParams
from precompute.pipeline import RunConfig, run_pipeline
from precompute.reduce import UMAPConfig
from precompute.synth.generate import GenerationResult, generate_dataset

from .containers import SERVE_IMAGE, podman_ready, start_build, stop_builds
from .helpers import (
    CLI_PROGRAM,
    PORTABILITY,
    dashboard_plan,
    link_tree,
    map_seed,
    small_plan,
    small_run_args,
    window_argument,
)  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def pytest_addoption(parser: pytest.Parser) -> None:
    """What make test-portability perturbs: the small runs' maps and the browser's window (docs/testing.md).

    A test that passes only at the defaults encodes one machine's layout, not the property it means.
    """
    group = parser.getgroup("portability", "perturb the small runs' layouts and the browser window")
    group.addoption(
        "--map-seed", type=int, default=42, help="seed of the small runs' UMAP maps and random weights (default: 42)"
    )
    group.addoption(
        "--browser-window", default="1400,900", help="the headless Chromium's window, WIDTH,HEIGHT (default: 1400,900)"
    )


@functools.cache
def chromium_problem() -> str | None:
    """Why this machine's Chromium cannot run the browser tests (scripts/ensure-chromium.sh --check), or None."""
    done = subprocess.run([ROOT / "scripts" / "ensure-chromium.sh", "--check"], capture_output=True, text=True)
    return (done.stderr.strip() or f"exit {done.returncode}") if done.returncode else None


@pytest.fixture(autouse=True)
def supported_chromium(request: pytest.FixtureRequest) -> None:
    """A browser test runs only on the Chromium the suite supports: elsewhere it skips (fails under make test's
    GSX_REQUIRE_BROWSER_TEST) naming the version found and the fix, instead of failing somewhere inside."""
    if request.node.get_closest_marker("browser") and (why := chromium_problem()):
        if os.environ.get("GSX_REQUIRE_BROWSER_TEST"):
            pytest.fail(why)
        pytest.skip(why)


def pytest_configure(config: pytest.Config) -> None:
    width, _, height = config.getoption("--browser-window").partition(",")
    PORTABILITY.update(map_seed=config.getoption("--map-seed"), window=(int(width), int(height)))


@pytest.fixture(scope="session", autouse=True)
def review_db_of_the_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Decisions made by tests (and servers they start) go to a temporary file, never to the checkout's data/."""
    path = tmp_path_factory.mktemp("review-db") / "decisions.sqlite"
    os.environ["GSX_REVIEW_DB"] = str(path)
    return path


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """30 glitches (every morphology at least once), PNGs + CSV + HDF5 + truth. Treat as read-only."""
    root = tmp_path_factory.mktemp("synth") / "set"
    return generate_dataset(root, glitches=30, seed=7, plan=small_plan(), hdf5=True, workers=2, show_progress=False)


@pytest.fixture
def trainingset_copy(synth_set: GenerationResult, tmp_path: Path) -> Path:
    """A private copy of the synthetic set's CSV and PNGs (hard links), safe to damage."""
    root = tmp_path / "copy"
    pngs = sorted((synth_set.root / "TrainingSet").rglob("*.png"))
    link_tree([(p, root / p.relative_to(synth_set.root)) for p in pngs])
    shutil.copy(synth_set.root / "trainingset_v1d1_metadata.csv", root / "trainingset_v1d1_metadata.csv")
    return root


@pytest.fixture(scope="session")
def reference(synth_set: GenerationResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``precompute run`` (`small_run_args`, local engine) of the shared set, uninterrupted, in its own cache:
    what interrupted runs and the Ray engine are compared with. Read-only."""
    base = tmp_path_factory.mktemp("uninterrupted")
    done = subprocess.run(
        [sys.executable, "-c", CLI_PROGRAM, "-q", *small_run_args(synth_set.root, base / "run", base / "cache")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return base / "run"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of 64 glitches of four shapes with 12% label noise (random weights, CPU): what the dashboard serves.

    Read-only. Clear clusters and real relabelling proposals, so every panel has something to show.
    """
    data = tmp_path_factory.mktemp("dashboard-set") / "set"
    generate_dataset(data, glitches=64, seed=5, plan=dashboard_plan(), workers=2, show_progress=False)
    out = tmp_path_factory.mktemp("served") / "small"
    config = RunConfig(
        data=data,
        out=out,
        cache_dir=tmp_path_factory.mktemp("run-cache"),
        weights="random",
        umap=UMAPConfig(n_neighbors=10, seed=map_seed()),
        seed=map_seed(),
        cluster=ClusterParams(3, 2),
        workers=0,
        batch_size=16,
    )
    run_pipeline(config, show_progress=False, argv=["test"])
    return out


#: The review database of each running test server, by its URL (the server fixture fills it).
server_review_db: dict[str, Path] = {}


def serve_run(run: Path, tmp_path_factory: pytest.TempPathFactory, env: dict[str, str] | None = None):
    """``python app.py --run RUN`` in its own process, with its own cache and review database (and ``env`` added
    to its environment); yields its URL."""
    from explorer.client import free_port

    from .browser import healthy, wait

    port = free_port()
    review_db = tmp_path_factory.mktemp("review") / "decisions.sqlite"
    env = {
        **os.environ,
        "GSX_CACHE_DIR": str(tmp_path_factory.mktemp("server-cache")),
        "GSX_REVIEW_DB": str(review_db),
        **(env or {}),
    }
    log = (tmp_path_factory.mktemp("server-log") / "app.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "app.py", "--run", str(run), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: process.poll() is not None or healthy(url), timeout=120, what="the server to start")
        assert process.poll() is None, f"app.py exited with {process.returncode}; see {log.name}"
        server_review_db[url] = review_db
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def server(small_run: Path, tmp_path_factory: pytest.TempPathFactory):
    """The real entry point, ``python app.py --run RUN``, in its own process (as a user starts it); its URL.

    Its own process also keeps it free of what the test process has loaded (torch, OpenMP), like a deployment.
    One per test module, with its own cache, so that what one module builds (trees) never leaks into another.
    """
    yield from serve_run(small_run, tmp_path_factory)


def pytest_setup_options():
    """Headless Chromium for dash[testing], with a software GL so that WebGL scatters are drawn."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.add_argument("--enable-unsafe-swiftshader")
    options.add_argument("--use-angle=swiftshader")
    options.add_argument(window_argument())
    options.add_argument("--no-sandbox")
    return options


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building the serve image now when a container test will need it, so its minutes overlap other tests.

    Not for make test-images, whose build times are measured and reported (docs/deploy.md).
    """
    needed = any(i.get_closest_marker("container") and not i.get_closest_marker("images") for i in session.items)
    if needed and not session.config.option.collectonly and podman_ready():
        start_build(SERVE_IMAGE, ARTIFACTS / "serve-image-build.log")


def pytest_sessionfinish(session: pytest.Session) -> None:
    stop_builds()  # a build no test waited for (the container test deselected or failed early)
