"""Catalogue I1-I4 (docs/bad-input.md): a precompute killed (SIGKILL) mid-embedding or mid-write.

The next run resumes from what was finished, gives the same result as an
uninterrupted run, and no reader ever sees a half-written run directory.
Kills land at exact points: the child process SIGKILLs itself from inside
the stage (a real kill, no clean-up code runs), not after a guessed delay.
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

import pytest

from precompute.rundir import RunError, clear_leftovers, load_run

from .helpers import CLI_PROGRAM, assert_same_run, small_run_args

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _run(args: list[str], *, kill_in: str | None = None) -> subprocess.CompletedProcess:
    """``python -m precompute -q ARGS``; with ``kill_in='module:function'`` the process SIGKILLs itself when
    that function returns (the function's work is done, what follows it is not)."""
    injection = ""
    if kill_in:
        module, name = kill_in.split(":")
        injection = (
            f"import os, signal, importlib; m = importlib.import_module({module!r}); f = getattr(m, {name!r})\n"
            "def killed(*a, **k):\n"
            "    f(*a, **k); os.kill(os.getpid(), signal.SIGKILL)\n"
            f"setattr(m, {name!r}, killed)\n"
        )
    code = injection + CLI_PROGRAM
    return subprocess.run(
        [sys.executable, "-c", code, "-q", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_i1_killed_mid_embedding_resumes_and_matches(synth_set, reference, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-c", CLI_PROGRAM, "-q", *small_run_args(synth_set.root, out, cache)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(cache.glob("embeddings/*/shard-*.npz"))) < 3:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(cache.glob("embeddings/*/shard-*.npz")))
    assert 3 <= finished < 15, "the kill should land mid-embedding"
    assert not out.exists()

    resumed = _run(small_run_args(synth_set.root, out, cache))
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embedding"]["cache_hits"] >= finished * 8  # finished shards were not embedded again
    assert manifest["embedding"]["embedded"] == 120 - manifest["embedding"]["cache_hits"]
    assert_same_run(out, reference)


def test_i2_killed_while_writing_the_first_run(synth_set, reference, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "run"
    killed = _run(small_run_args(synth_set.root, out, cache), kill_in="precompute.pipeline:write_audit")
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()  # nothing half-written where readers look
    leftovers = list(tmp_path.glob(".run.partial-*"))
    assert len(leftovers) == 1
    assert (leftovers[0] / "points.parquet").exists()
    with pytest.raises(RunError, match=r"left by an interrupted run\. Run the precompute again"):
        load_run(out)
    served = subprocess.run(
        [sys.executable, "app.py", "--run", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert served.returncode == 2
    assert "interrupted run" in served.stderr
    assert "Traceback" not in served.stderr

    resumed = _run(small_run_args(synth_set.root, out, cache))
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["embedding"]["embedded"] == 0  # every vector came from the killed run's cache
    assert manifest["umap_map_from_cache"] is True
    assert [note.split(",")[0] for note in manifest["leftovers_cleared"]] == [f"removed {leftovers[0].name}"]
    assert list(tmp_path.glob(".run.*")) == []
    assert_same_run(out, reference)


def _finished(reference: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(cache, run): a copy of the uninterrupted run and its cache, as if ``small_run_args`` had run here."""
    shutil.copytree(reference.parent / "cache", tmp_path / "cache")
    shutil.copytree(reference, tmp_path / "run")
    return tmp_path / "cache", tmp_path / "run"


def test_i3_killed_while_replacing_a_run_leaves_the_old_one_readable(synth_set, reference, tmp_path):
    cache, out = _finished(reference, tmp_path)
    before = (out / "manifest.json").read_bytes()
    args = small_run_args(synth_set.root, out, cache)
    args[args.index("--min-cluster-size") + 1] = "4"  # a different run replacing the first
    killed = _run(args, kill_in="precompute.pipeline:write_audit")
    assert killed.returncode == -signal.SIGKILL
    assert (out / "manifest.json").read_bytes() == before  # the finished run is untouched and loads
    assert load_run(out).manifest["cluster_params_used"]["min_cluster_size"] == 3
    assert _run(args).returncode == 0
    assert load_run(out).manifest["cluster_params_used"]["min_cluster_size"] == 4
    assert list(tmp_path.glob(".run.*")) == []


def test_i4_killed_between_the_renames_of_a_non_atomic_swap(synth_set, reference, tmp_path):
    """Where the file system has no atomic exchange, a run is replaced by two renames; a kill between them
    leaves the old run aside, and the next writer (or `clear_leftovers`) puts it back."""
    cache, out = _finished(reference, tmp_path)
    before = (out / "manifest.json").read_bytes()
    code = (
        "import os, signal, sys\n"
        "import precompute.rundir as rundir\n"
        "rundir._exchange = lambda a, b: False\n"
        "real = os.rename\n"
        "def rename(a, b):\n"
        "    real(a, b)\n"
        "    if '.old-' in str(b): os.kill(os.getpid(), signal.SIGKILL)\n"
        "rundir.os.rename = rename\n"
    ) + CLI_PROGRAM
    killed = subprocess.run(
        [sys.executable, "-c", code, "-q", *small_run_args(synth_set.root, out, cache)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert not out.exists()
    assert len(list(tmp_path.glob(".run.old-*"))) == 1
    with pytest.raises(RunError, match=r"interrupted run"):
        load_run(out)
    notes = clear_leftovers(out)
    assert any(note.startswith(f"restored {out}") for note in notes)
    assert (out / "manifest.json").read_bytes() == before
    assert list(tmp_path.glob(".run.*")) == []
