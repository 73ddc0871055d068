"""Catalogue H8: the load-test script, small, as a test (its full 20-user, 60 s figures are in docs/benchmarks.md).

It serves the run with gunicorn as deployed, runs concurrent users hovering and
re-clustering with different parameters, and fails on any error, on any user
receiving a clustering other than their own, or on memory growth above the bound.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_concurrent_users_get_their_own_answers_and_no_errors(small_run):
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_load.py", "--run", str(small_run), "--users", "8", "--seconds", "10",
         "--threads", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "PASS"
    rows = {line.split()[0]: line.split() for line in lines if line.startswith(("thumbnail", "hover", "re-cluster"))}
    assert int(rows["thumbnail"][1]) > 0
    assert int(rows["re-cluster"][1]) > 0
    assert all(row[-4] == "0" for row in rows.values())  # the errors column
    assert "distinct clusterings in play" in lines[0]
