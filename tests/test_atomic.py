"""Atomic writes: readers see the old file or the whole new one, and files get the usual permissions."""

from __future__ import annotations

import os
import stat

import pytest

from precompute.atomic import atomic_path, write_bytes_atomic


def test_outputs_get_the_mode_a_plain_open_would_give(tmp_path):
    # a run written by one account must be readable by the service that serves it (mkstemp alone gives 0600)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = tmp_path / "atomic.txt"
    write_bytes_atomic(written, b"x")
    assert stat.S_IMODE(os.stat(written).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
    assert os.stat(written).st_mode & stat.S_IROTH


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    dest = tmp_path / "table.csv"
    dest.write_text("old")

    def write_half_then_fail() -> None:
        with atomic_path(dest) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_half_then_fail()
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]
