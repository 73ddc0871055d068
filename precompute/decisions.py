"""Curators' label decisions: their file form, and applying them to a metadata CSV.

The dashboard records decisions (``explorer/review.py``, SQLite) and exports
the current one per glitch as CSV or JSON with ``EXPORT_COLUMNS``;
``python -m precompute apply-decisions`` reads such a file and writes a
corrected copy of the data set's metadata CSV. The original is never touched:
labels are evidence, and a reviewer's decision is another piece of it, so the
corrected copy keeps the old label beside the new one.

Only pandas and the standard library: the dashboard imports this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .classes import KNOWN_LABELS
from .errors import DataError

__all__ = [
    "ACTIONS",
    "EXPORT_COLUMNS",
    "ApplyReport",
    "apply_decisions",
    "apply_decisions_file",
    "read_decisions",
]

#: What a curator can decide about a glitch's label.
#: accept: the proposed label is right; relabel: another label, chosen by the curator;
#: reject: the current label stands; new_class: the glitch is a candidate for a class that has no name yet.
ACTIONS: tuple[str, ...] = ("accept", "relabel", "reject", "new_class")

#: Actions that change the label in a corrected metadata CSV.
RELABELLING: frozenset[str] = frozenset({"accept", "relabel"})

#: Columns of an exported decision (CSV header, or keys of each JSON record).
EXPORT_COLUMNS: tuple[str, ...] = (
    "gravityspy_id", "old_label", "new_label", "action", "reviewer", "decided_at", "note",
    "evidence", "run_id", "cluster_params", "decision_id",
)  # fmt: skip

#: Columns apply-decisions needs; the rest are carried for the record.
REQUIRED_COLUMNS: tuple[str, ...] = ("gravityspy_id", "old_label", "new_label", "action", "decided_at")

#: Columns a corrected metadata CSV gains (replaced when the input already has them).
REVIEW_COLUMNS: tuple[str, ...] = ("label_before_review", "review_action", "reviewer", "decided_at")


@dataclass
class ApplyReport:
    """What apply-decisions did, for the CLI's summary and for tests."""

    applied: dict[str, int] = field(default_factory=dict)
    unknown_ids: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    superseded_in_file: int = 0

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        done = ", ".join(f"{action} {n}" for action, n in sorted(self.applied.items())) or "none"
        out = [f"decisions applied: {done}"]
        if self.superseded_in_file:
            out.append(f"{self.superseded_in_file} older decisions in the file were superseded by later ones")
        if self.unknown_ids:
            out.append(f"{len(self.unknown_ids)} decisions name glitches not in the metadata (skipped): "
                       + _some(self.unknown_ids))  # fmt: skip
        if self.conflicts:
            out.append(
                f"{len(self.conflicts)} decisions were made on a label the metadata no longer has (skipped; "
                "review them again on a run of the current data): " + _some(self.conflicts)
            )
        return out


def _some(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _as_text(value: object) -> str:
    """One JSON value as the text a CSV export holds (objects as JSON, missing as empty)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def read_decisions(path: Path) -> pd.DataFrame:
    """Read an exported decisions file (``.csv`` or ``.json``), checked; raise ``DataError`` naming the fix."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"decisions file {path} does not exist; export it from the dashboard's Label audit tab")
    try:
        if path.suffix.lower() == ".json":
            records = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(records, dict):
                records = records.get("decisions")
            if not isinstance(records, list):
                raise DataError(f"{path}: expected a JSON list of decisions (or {{'decisions': [...]}})")
            table = pd.DataFrame.from_records(records).map(_as_text)
        else:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(
            f"{path} cannot be read as a decisions file ({exc}); export it again from the dashboard"
        ) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"{path} lacks the column(s) {', '.join(missing)}; a decisions export has {', '.join(EXPORT_COLUMNS)}"
        )
    bad = table.loc[~table["action"].isin(ACTIONS), "action"]
    if len(bad):
        row = int(bad.index[0]) + 2  # header is line 1
        raise DataError(f"{path}, row {row}: action {bad.iloc[0]!r} is not one of {', '.join(ACTIONS)}")
    empty = table["gravityspy_id"].str.strip().eq("") | (
        table["action"].isin(RELABELLING) & table["new_label"].str.strip().eq("")
    )
    if empty.any():
        row = int(empty.idxmax()) + 2
        raise DataError(f"{path}, row {row}: an accept or relabel decision needs gravityspy_id and new_label")
    return table


def apply_decisions(
    metadata: pd.DataFrame, decisions: pd.DataFrame, *, allow_new_labels: bool = False, source: str = "decisions"
) -> tuple[pd.DataFrame, ApplyReport]:
    """Return a corrected copy of ``metadata`` (strings, as read) and what was done.

    The latest decision per glitch (by ``decided_at``) counts. A decision whose
    ``old_label`` differs from the metadata's label was made on other data and is
    skipped; a new label outside the known taxonomy and the metadata's own labels
    is refused unless ``allow_new_labels``.
    """
    report = ApplyReport()
    latest = decisions.sort_values("decided_at", kind="stable").drop_duplicates("gravityspy_id", keep="last")
    report.superseded_in_file = len(decisions) - len(latest)
    known = set(KNOWN_LABELS) | set(metadata["label"])
    if not allow_new_labels:
        unknown = latest[latest["action"].isin(RELABELLING) & ~latest["new_label"].isin(known)]
        if len(unknown):
            raise DataError(
                f"{source}: new label {unknown['new_label'].iloc[0]!r} (glitch {unknown['gravityspy_id'].iloc[0]}) "
                "is neither a Gravity Spy class nor a label of this data set; fix the decision, or pass "
                "--allow-new-labels to introduce it"
            )
    corrected = metadata.copy()
    for column in REVIEW_COLUMNS:
        corrected[column] = corrected[column] if column in corrected.columns else ""
    row_of = pd.Series(range(len(metadata)), index=metadata["gravityspy_id"])
    for decision in latest.itertuples(index=False):
        if decision.gravityspy_id not in row_of.index:
            report.unknown_ids.append(decision.gravityspy_id)
            continue
        row = int(row_of[decision.gravityspy_id])
        if metadata["label"].iat[row] != decision.old_label:
            report.conflicts.append(
                f"{decision.gravityspy_id} ({decision.old_label} → now {metadata['label'].iat[row]})"
            )
            continue
        if decision.action in RELABELLING:
            corrected.iat[row, corrected.columns.get_loc("label")] = decision.new_label
        values = (decision.old_label, decision.action, getattr(decision, "reviewer", ""), decision.decided_at)
        for column, value in zip(REVIEW_COLUMNS, values, strict=True):
            corrected.iat[row, corrected.columns.get_loc(column)] = value
        report.applied[decision.action] = report.applied.get(decision.action, 0) + 1
    return corrected, report


def apply_decisions_file(
    metadata_csv: Path, decisions_file: Path, out: Path, *, allow_new_labels: bool = False
) -> ApplyReport:
    """Write ``out``: ``metadata_csv`` with the decisions applied (atomically; the original is only read)."""
    metadata_csv, out = Path(metadata_csv), Path(out)
    if out.resolve() == metadata_csv.resolve():
        raise DataError(f"--out {out} is the metadata CSV itself; write the corrected copy to another file")
    decisions = read_decisions(decisions_file)
    metadata = pd.read_csv(metadata_csv, dtype=str, keep_default_na=False)
    missing = [c for c in ("gravityspy_id", "label") if c not in metadata.columns]
    if missing:
        raise DataError(f"{metadata_csv} lacks the column(s) {', '.join(missing)}; is it a Gravity Spy metadata CSV?")
    corrected, report = apply_decisions(
        metadata, decisions, allow_new_labels=allow_new_labels, source=str(decisions_file)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out, suffix=".csv") as tmp:
        corrected.to_csv(tmp, index=False)
    return report
