"""Curators' decisions on labels, kept in SQLite with their whole history.

Why SQLite: several gunicorn workers (and reviewers) write at once, a decision
must survive a killed server, and a curator's history must never be lost.
SQLite in WAL mode gives all three from one file, with readers never blocked
by the writer. The file lives under ``GSX_REVIEW_DB`` (default
``data/review/decisions.sqlite``), never in the run directory, which may be
mounted read-only.

The table is append-only: a new decision on a glitch supersedes the previous
one (the highest ``id`` that is not undone is current), and undo marks a
decision undone instead of deleting it, so the previous one is current again.
A bulk action (a cluster, a lasso selection) shares one ``batch`` and is undone
as one. Every write runs in one ``BEGIN IMMEDIATE`` transaction; a database
locked by another writer is retried for ``busy_timeout_s`` and then reported
as ``ReviewBusy``, never as a crash. A database file deleted, moved or
replaced while the server runs is reported as ``ReviewUnavailable``, and is
never silently re-created empty: a curator must not decide into a file that
nobody will read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from precompute.decisions import ACTIONS, EXPORT_COLUMNS

__all__ = [
    "DEFAULT_REVIEW_DB",
    "NewDecision",
    "ReviewBusy",
    "ReviewError",
    "ReviewOff",
    "ReviewStore",
    "ReviewTrouble",
    "ReviewUnavailable",
    "decisions_in_force",
    "open_review",
    "with_review",
]

#: Where decisions go when ``GSX_REVIEW_DB`` is not set (relative to the working directory).
DEFAULT_REVIEW_DB = Path("data/review/decisions.sqlite")

SCHEMA_VERSION = 1
MAX_REVIEWER = 64
MAX_NOTE = 2000
MAX_LABEL = 100
MAX_EVIDENCE_BYTES = 32_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    gravityspy_id TEXT NOT NULL,
    action TEXT NOT NULL,
    old_label TEXT NOT NULL,
    new_label TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL,
    run_id TEXT NOT NULL,
    cluster_params TEXT NOT NULL,
    evidence TEXT NOT NULL,
    batch TEXT NOT NULL,
    undone_at TEXT,
    undone_by TEXT
);
CREATE INDEX IF NOT EXISTS decisions_by_glitch ON decisions (gravityspy_id, id);
CREATE INDEX IF NOT EXISTS decisions_by_reviewer ON decisions (reviewer, id);
"""

#: Columns read back, in the export's order.
_SELECT = ", ".join(c if c != "decision_id" else "id AS decision_id" for c in EXPORT_COLUMNS)

#: The current decision of each glitch: its latest one that is not undone.
_CURRENT = (
    f"SELECT {_SELECT} FROM decisions"
    " WHERE id IN (SELECT MAX(id) FROM decisions WHERE undone_at IS NULL GROUP BY gravityspy_id) ORDER BY id"
)


class ReviewError(ValueError):
    """A decision that cannot be stored as given (the message says which field and why)."""


class ReviewTrouble(RuntimeError):
    """The database cannot be used right now; nothing was written, and the message says what to do."""


class ReviewBusy(ReviewTrouble):
    """The database stayed locked by another writer; nothing was written."""


class ReviewUnavailable(ReviewTrouble):
    """The database file is gone, replaced or unreadable (e.g. deleted while the server ran)."""


@dataclass(frozen=True)
class ReviewOff:
    """Deciding is off for this server; ``reason`` says why, for the dashboard's banner."""

    reason: str


@dataclass(frozen=True)
class NewDecision:
    """One decision as a curator makes it; the store adds the time, id and batch."""

    gravityspy_id: str
    action: str
    old_label: str
    new_label: str
    reviewer: str
    run_id: str
    cluster_params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _plain_text(value: str, name: str, limit: int, *, newlines: bool = False) -> str:
    """``value`` stripped and checked: not too long, no control characters (a newline only where allowed)."""
    if not isinstance(value, str):
        raise ReviewError(f"{name} must be text, got {type(value).__name__}")
    value = value.strip()
    if len(value) > limit:
        raise ReviewError(f"{name} is {len(value)} characters long; at most {limit} are kept, shorten it")
    allowed = {"\n"} if newlines else set()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in allowed for ch in value):
        raise ReviewError(f"{name} contains control characters; use printable text")
    return value


def check_decision(decision: NewDecision) -> NewDecision:
    """The decision with its text fields cleaned, or ``ReviewError`` naming the field and the fix."""
    if decision.action not in ACTIONS:
        raise ReviewError(f"action {decision.action!r} is not one of {', '.join(ACTIONS)}")
    reviewer = _plain_text(decision.reviewer, "reviewer name", MAX_REVIEWER)
    if not reviewer:
        raise ReviewError("reviewer name is empty; enter your name before deciding")
    gravityspy_id = _plain_text(decision.gravityspy_id, "gravityspy_id", MAX_LABEL)
    if not gravityspy_id:
        raise ReviewError("gravityspy_id is empty")
    new_label = _plain_text(decision.new_label, "new label", MAX_LABEL)
    if decision.action == "relabel" and not new_label:
        raise ReviewError("a relabel needs the new label; choose one")
    evidence = json.dumps(decision.evidence, sort_keys=True, default=str)
    if len(evidence.encode()) > MAX_EVIDENCE_BYTES:
        raise ReviewError(f"the evidence is {len(evidence.encode())} bytes; at most {MAX_EVIDENCE_BYTES} are kept")
    return NewDecision(
        gravityspy_id=gravityspy_id,
        action=decision.action,
        old_label=_plain_text(decision.old_label, "old label", MAX_LABEL),
        new_label=new_label or decision.old_label,
        reviewer=reviewer,
        run_id=_plain_text(decision.run_id, "run id", 200),
        cluster_params=decision.cluster_params,
        evidence=decision.evidence,
        note=_plain_text(decision.note, "note", MAX_NOTE, newlines=True),
    )


class ReviewStore:
    """Decisions in one SQLite file; safe to use from several threads and processes at once."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        with self._connection(create=True) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            (version,) = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if int(version) > SCHEMA_VERSION:
            raise ReviewError(
                f"{self.path} was written by a newer version of the explorer (schema {version}); upgrade, "
                "or point GSX_REVIEW_DB at another file"
            )

    @contextmanager
    def _connection(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        """A fresh connection per operation: no connection is shared between threads or forked workers.

        Only the constructor may create the file (``mode=rwc``); later a missing
        file is `ReviewUnavailable`, as is a file that lost its tables.
        """
        uri = f"{self.path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}"
        try:
            db = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.OperationalError as exc:
            raise self._unavailable(exc, create) from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=FULL")
            yield db
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise ReviewBusy(
                    f"the review database {self.path} stayed locked by another writer for "
                    f"{self.busy_timeout_s:g} s; nothing was saved, try again"
                ) from None
            raise self._unavailable(exc, create) from None
        except sqlite3.DatabaseError as exc:
            raise self._unavailable(exc, create) from None
        finally:
            db.close()

    def _unavailable(self, exc: Exception, opening: bool) -> ReviewUnavailable:
        if opening:
            return ReviewUnavailable(f"{self.path} is not a usable review database ({exc}); move it aside")
        where = "is missing" if not self.path.exists() else f"cannot be used ({exc})"
        return ReviewUnavailable(
            f"the review database {self.path} {where}: was it deleted, moved or replaced while the server ran? "
            "Nothing was saved. Put the file back, or restart the server to start a new one."
        )

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One immediate transaction; a lock held past the timeout becomes ``ReviewBusy``."""
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def decide(self, decisions: Sequence[NewDecision]) -> list[int]:
        """Store ``decisions`` as one batch (all or none); return their ids. Each supersedes its glitch's last."""
        checked = [check_decision(d) for d in decisions]
        if not checked:
            return []
        batch, now = uuid.uuid4().hex, _now()
        rows = [
            (d.gravityspy_id, d.action, d.old_label, d.new_label, d.reviewer, d.note, now, d.run_id,
             json.dumps(d.cluster_params, sort_keys=True, default=str),
             json.dumps(d.evidence, sort_keys=True, default=str), batch)
            for d in checked
        ]  # fmt: skip
        with self._write() as db:
            db.executemany(
                "INSERT INTO decisions (gravityspy_id, action, old_label, new_label, reviewer, note, decided_at,"
                " run_id, cluster_params, evidence, batch) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            ids = [r[0] for r in db.execute("SELECT id FROM decisions WHERE batch = ? ORDER BY id", (batch,))]
        return ids

    def undo_last(self, reviewer: str) -> list[str]:
        """Undo ``reviewer``'s latest batch that is still in force; return the glitches it touched."""
        return sorted(self.undo_last_batch(reviewer)["gravityspy_id"])

    def undo_last_batch(self, reviewer: str) -> pd.DataFrame:
        """Undo ``reviewer``'s latest batch that is still in force; return its decisions (``EXPORT_COLUMNS``), so the
        curator can be told what was undone and on which glitches (empty when nothing of theirs is in force)."""
        reviewer = _plain_text(reviewer, "reviewer name", MAX_REVIEWER)
        with self._write() as db:
            row = db.execute(
                "SELECT batch FROM decisions WHERE reviewer = ? AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
                (reviewer,),
            ).fetchone()
            if row is None:
                return pd.DataFrame(columns=list(EXPORT_COLUMNS))
            db.execute(
                "UPDATE decisions SET undone_at = ?, undone_by = ? WHERE batch = ? AND undone_at IS NULL",
                (_now(), reviewer, row["batch"]),
            )
            rows = [
                tuple(r)
                for r in db.execute(f"SELECT {_SELECT} FROM decisions WHERE batch = ? ORDER BY id", (row["batch"],))
            ]
        return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))

    def current(self) -> pd.DataFrame:
        """The decision in force for every decided glitch, in ``EXPORT_COLUMNS`` (one row per glitch)."""
        return self._frame(_CURRENT, columns=EXPORT_COLUMNS)

    def history(self, gravityspy_id: str) -> pd.DataFrame:
        """Every decision ever made on one glitch, oldest first, undone ones included (``undone_at`` set)."""
        columns = (*EXPORT_COLUMNS, "undone_at", "undone_by")
        sql = f"SELECT {_SELECT}, undone_at, undone_by FROM decisions WHERE gravityspy_id = ? ORDER BY id"
        return self._frame(sql, (gravityspy_id,), columns=columns)

    def count(self) -> int:
        """Rows in the history (every decision ever stored)."""
        with self._connection() as db:
            return int(db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])

    def _frame(self, sql: str, params: tuple = (), *, columns: Sequence[str]) -> pd.DataFrame:
        with self._connection() as db:
            rows = [tuple(r) for r in db.execute(sql, params)]
        return pd.DataFrame(rows, columns=list(columns))

    def export_csv(self) -> str:
        """The current decisions as CSV text (``precompute apply-decisions`` reads it)."""
        return self.current().to_csv(index=False)

    def export_json(self) -> str:
        """The current decisions as a JSON list, evidence and parameters as objects."""
        records = self.current().to_dict(orient="records")
        for record in records:
            record["evidence"] = json.loads(record["evidence"])
            record["cluster_params"] = json.loads(record["cluster_params"])
        return json.dumps(records, indent=1, ensure_ascii=False)


def decisions_in_force(review: ReviewStore | ReviewOff) -> tuple[pd.DataFrame | None, str]:
    """The current decisions, or None and why not (deciding off, the file gone): for views that only read."""
    if isinstance(review, ReviewOff):
        return None, review.reason
    try:
        return review.current(), ""
    except ReviewTrouble as exc:
        return None, str(exc)


def with_review(points: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """``points`` with ``decision`` (the action in force, "" while undecided) and ``decided_label`` columns.

    ``decided_label`` is the label a corrected metadata CSV would carry: the new
    one after an accept or relabel, the current one otherwise.
    """
    by_id = current.set_index("gravityspy_id") if len(current) else None
    ids = points["gravityspy_id"].astype(str)
    if by_id is None:
        return points.assign(decision="", decided_label=points["label"].astype(str))
    action = ids.map(by_id["action"]).fillna("").astype(str)
    relabelled = action.isin(["accept", "relabel"])
    decided = ids.map(by_id["new_label"]).where(relabelled, points["label"]).astype(str)
    return points.assign(decision=action.to_numpy(), decided_label=decided.to_numpy())


def open_review(path: Path | str | None = None, *, busy_timeout_s: float = 5.0) -> ReviewStore | ReviewOff:
    """The store at ``path`` (else ``GSX_REVIEW_DB``, else the default), or why deciding is off.

    A missing folder is created only for the default location; a folder named
    by the user that is missing or read-only, or a file that is not a review
    database, turns deciding off with a reason: the dashboard keeps browsing.
    """
    chosen = path or os.environ.get("GSX_REVIEW_DB") or DEFAULT_REVIEW_DB
    target = Path(chosen)
    if target == DEFAULT_REVIEW_DB:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return ReviewOff(f"deciding is off: cannot create {target.parent} ({exc.strerror}); set GSX_REVIEW_DB")
    if not target.parent.is_dir():
        return ReviewOff(f"deciding is off: the folder {target.parent} of GSX_REVIEW_DB does not exist; create it")
    if not _writable(target):
        return ReviewOff(
            f"deciding is off: {target} cannot be written (read-only folder or file); "
            "point GSX_REVIEW_DB at a writable place"
        )
    try:
        return ReviewStore(target, busy_timeout_s=busy_timeout_s)
    except (ReviewError, ReviewTrouble) as exc:
        return ReviewOff(f"deciding is off: {exc}")


def _writable(target: Path) -> bool:
    """Whether the database (and its WAL beside it) can be written; tried, since root ignores permission bits."""
    if target.exists() and not os.access(target, os.W_OK):
        return False
    probe = target.parent / f".{target.name}.probe-{uuid.uuid4().hex}"
    try:
        probe.touch()
        probe.unlink()
    except OSError:
        return False
    return True
