"""The review store: history and undo, two writers at once, a locked or read-only database, a killed writer."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from explorer.review import (
    NewDecision,
    ReviewBusy,
    ReviewError,
    ReviewOff,
    ReviewStore,
    ReviewUnavailable,
    decisions_in_force,
    open_review,
)

ROOT = Path(__file__).resolve().parent.parent


def _decision(gid: str = "g1", action: str = "accept", new: str = "Koi_Fish", reviewer: str = "ada") -> NewDecision:
    return NewDecision(gid, action, "Blip", new, reviewer, "run-1", {"min_cluster_size": 5}, {"agreement": 0.1})


@pytest.fixture
def store(tmp_path: Path) -> ReviewStore:
    return ReviewStore(tmp_path / "decisions.sqlite")


def test_a_new_decision_supersedes_the_last_and_undo_restores_it(store: ReviewStore):
    store.decide([_decision(action="reject", new="Blip")])
    store.decide([_decision(action="relabel", new="Tomte", reviewer="grace")])
    current = store.current()
    assert current["action"].tolist() == ["relabel"]
    assert current["new_label"].tolist() == ["Tomte"]
    assert store.history("g1")["action"].tolist() == ["reject", "relabel"]

    assert store.undo_last("grace") == ["g1"]
    assert store.current()["action"].tolist() == ["reject"]
    history = store.history("g1")
    assert len(history) == 2
    assert history["undone_by"].tolist()[1] == "grace"
    assert store.undo_last("grace") == []  # nothing of grace's left in force


def test_a_bulk_decision_is_one_batch_and_undone_as_one(store: ReviewStore):
    store.decide([_decision("g0")])
    ids = store.decide([_decision(f"g{i}", reviewer="ada") for i in range(1, 6)])
    assert len(ids) == 5
    assert len(store.current()) == 6
    assert store.undo_last("ada") == [f"g{i}" for i in range(1, 6)]
    assert store.current()["gravityspy_id"].tolist() == ["g0"]


def test_an_invalid_decision_in_a_batch_stores_none_of_it(store: ReviewStore):
    with pytest.raises(ReviewError, match="action 'delete'"):
        store.decide([_decision("g1"), _decision("g2", action="delete")])
    assert store.count() == 0


@pytest.mark.parametrize(
    ("reviewer", "message"),
    [("x" * 10_240, "10240 characters long; at most 64"), ("", "enter your name"), ("a\x00b", "control characters")],
)
def test_bad_reviewer_names_are_refused_with_a_message(store: ReviewStore, reviewer: str, message: str):
    with pytest.raises(ReviewError, match=message):
        store.decide([_decision(reviewer=reviewer)])
    assert store.count() == 0


def test_odd_but_printable_text_is_stored_exactly(store: ReviewStore):
    name = 'Ω\'; DROP TABLE decisions;-- "Zoë" <b>'
    note = "line one\nline two: 1080Lines? 🤔"
    store.decide([NewDecision("g1", "relabel", "Blip", "Koi_Fish", name, "run", {}, {}, note)])
    row = store.current().iloc[0]
    assert row["reviewer"] == name
    assert row["note"] == note


def _decide_after(path: str, barrier, reviewer: str, queue) -> None:
    barrier.wait()
    ReviewStore(path).decide([_decision("shared", new=reviewer.title(), reviewer=reviewer)])
    queue.put(reviewer)


def test_two_reviewers_deciding_one_glitch_at_once_are_both_kept(tmp_path: Path):
    path = str(tmp_path / "decisions.sqlite")
    ReviewStore(path)
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_decide_after, args=(path, barrier, name, queue)) for name in ("ada", "grace")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    history = ReviewStore(path).history("shared")
    assert sorted(history["reviewer"]) == ["ada", "grace"]
    assert ReviewStore(path).current()["reviewer"].tolist() == [history["reviewer"].iat[-1]]  # the later one


def test_a_database_locked_by_another_writer_is_a_clear_error_and_writes_nothing(tmp_path: Path):
    path = tmp_path / "decisions.sqlite"
    store = ReviewStore(path, busy_timeout_s=0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ReviewBusy, match=r"stayed locked by another writer for 0.3 s; nothing was saved"):
            store.decide([_decision()])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.count() == 0
    store.decide([_decision()])  # and works once the lock is gone
    assert store.count() == 1


def test_a_database_deleted_under_the_store_is_reported_and_not_recreated(store: ReviewStore):
    store.decide([_decision()])
    for file in store.path.parent.glob(f"{store.path.name}*"):
        file.unlink()
    with pytest.raises(ReviewUnavailable, match=r"is missing: was it deleted, moved or replaced"):
        store.decide([_decision("g2")])
    with pytest.raises(ReviewUnavailable):
        store.current()
    current, why = decisions_in_force(store)
    assert current is None
    assert "is missing" in why
    assert not store.path.exists()
    assert decisions_in_force(ReviewOff("deciding is off: test")) == (None, "deciding is off: test")


def test_a_missing_or_read_only_folder_turns_deciding_off_with_the_reason(tmp_path: Path, monkeypatch):
    off = open_review(tmp_path / "nowhere" / "decisions.sqlite")
    assert isinstance(off, ReviewOff)
    assert "does not exist" in off.reason
    read_only = Path("/proc") if os.geteuid() == 0 else tmp_path / "ro"  # root ignores permission bits
    if read_only != Path("/proc"):
        read_only.mkdir()
        read_only.chmod(0o555)
    off = open_review(read_only / "decisions.sqlite")
    assert isinstance(off, ReviewOff)
    assert "cannot be written" in off.reason
    monkeypatch.setenv("GSX_REVIEW_DB", str(tmp_path / "ok.sqlite"))
    assert isinstance(open_review(), ReviewStore)


def test_a_file_that_is_not_a_database_turns_deciding_off(tmp_path: Path):
    path = tmp_path / "decisions.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    off = open_review(path)
    assert isinstance(off, ReviewOff)
    assert "not a usable review database" in off.reason
    assert path.read_bytes() == b"this is not sqlite" * 100  # left as it was


_WRITER = textwrap.dedent(
    """
    import sys
    from explorer.review import NewDecision, ReviewStore
    store = ReviewStore(sys.argv[1])
    i = 0
    while True:
        ids = store.decide([NewDecision(f"g{i % 50}", "accept", "Blip", "Koi_Fish", "ada", "run", {}, {"i": i})])
        print(ids[0], flush=True)
        i += 1
    """
)


def test_a_writer_killed_mid_stream_loses_nothing_it_acknowledged(tmp_path: Path):
    path = tmp_path / "decisions.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    acknowledged = []
    assert proc.stdout is not None
    while len(acknowledged) < 200:
        acknowledged.append(int(proc.stdout.readline()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    acknowledged += [int(line) for line in proc.stdout.read().split()]

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT id FROM decisions")}
    assert set(acknowledged) <= stored
    store = ReviewStore(path)  # opens cleanly and keeps working
    store.decide([_decision("after")])
    assert "after" in set(store.current()["gravityspy_id"])
