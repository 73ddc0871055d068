"""Catalogue H8: the load-test script, small, as a test (its full 20-user, 60 s figures are in docs/benchmarks.md).

It serves the run with gunicorn as deployed, runs concurrent users hovering and
re-clustering with different parameters and reviewers deciding on labels, and
fails on any error, on any user receiving a clustering other than their own, on
memory growth above the bound, or on a review database that holds other than the
decisions the server acknowledged.
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
        [sys.executable, "benchmarks/bench_load.py", "--run", str(small_run), "--users", "6", "--reviewers", "6",
         "--seconds", "10", "--threads", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "PASS"
    kinds = ("thumbnail", "hover", "re-cluster", "decision")
    rows = {line.split()[0]: line.split() for line in lines if line.split() and line.split()[0] in kinds}
    assert int(rows["thumbnail"][1]) > 0
    assert int(rows["re-cluster"][1]) > 0
    decided = int(rows["decision"][1])
    assert decided > 0
    assert f"decisions acknowledged {decided}, in the review database {decided}" in lines
    assert all(row[-4] == "0" for row in rows.values())  # the errors column
    assert "distinct clusterings in play" in lines[0]
