"""The three sources side by side: a run's spectrogram neighbours on the glitches where machine and volunteers disagree.

A run made from fetched archive images (``precompute fetch --consensus``, then
``precompute run``) carries both labels per glitch, and its audit records
which side each disagreement's neighbours take (`precompute.audit.sources`).
Here that verdict meets the archive's other evidence on the same glitches
(the classifier's confidence, the volunteers' score, cleanlab's doubt about
the volunteer label), ranked by how clearly the neighbours decide, and on a
synthetic archive is scored against the planted truth next to the two rules a
curator could use without images: "trust the machine" and "trust cleanlab".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..audit.sources import LABEL_COLUMNS, SIDE_COLUMNS, has_both_labels
from ..errors import DataError
from ..rundir import load_run

__all__ = ["disagreements", "sides_against_truth"]


def _run_sides(run_path: Path) -> pd.DataFrame:
    """The run's glitches (fused points) with both labels and the neighbours' verdict, from its audit."""
    run = load_run(run_path)
    audit = run.root / "audit" / "glitches.csv"
    points = run.points
    if not has_both_labels(points.columns) or not audit.is_file():
        raise DataError(
            f"run {run_path} has no machine and volunteer labels side by side; make it from images fetched with "
            "`precompute fetch --consensus …` (then `precompute run`)"
        )
    sides = pd.read_csv(audit, dtype={"gravityspy_id": str})
    if "sides_with" not in sides or len(sides) != len(points):
        raise DataError(
            f"the audit of {run_path} predates the neighbours' verdicts: run `precompute audit --run {run_path}`"
        )
    if (points["window"] != "fused").any():
        raise DataError(f"run {run_path} maps single images (--unit image); the verdicts need one point per glitch")
    table = points[["gravityspy_id", *LABEL_COLUMNS]].reset_index(drop=True)
    return pd.concat([table, sides[list(SIDE_COLUMNS)]], axis=1)


def disagreements(run_path: Path, issues: pd.DataFrame | None = None) -> pd.DataFrame:
    """The run's glitches whose machine and volunteer labels differ, clearest verdict first.

    ``issues`` (`precompute.archive.agreement.label_issues`) adds cleanlab's
    ``label_quality`` and ``issue`` for the volunteer label where it scored it.
    """
    table = _run_sides(run_path)
    table = table[table["volunteer_label"].notna() & (table["ml_label"] != table["volunteer_label"])]
    if issues is not None and len(issues):
        extra = issues.set_index("gravityspy_id")[["ml_confidence", "volunteer_score", "label_quality", "issue"]]
        table = table.join(extra, on="gravityspy_id")
    decided = table["sides_with"].isin(["machine", "volunteers"])
    return (
        table.assign(_undecided=~decided)
        .sort_values(["_undecided", "sides_p"], kind="stable")
        .drop(columns="_undecided")
        .reset_index(drop=True)
    )


def _rule(right: np.ndarray) -> dict[str, Any]:
    return {"glitches": len(right), "right": round(float(right.mean()), 4) if len(right) else None}


def sides_against_truth(table: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """On a synthetic archive: how often each verdict names the true class, beside image-free rules on the same glitches.

    ``table`` is `disagreements`' output. A verdict for the machine is right
    when ``ml_label`` is the true class, and so on; "undecided"/"neither" are
    counted, not scored (they make no claim). The rules: *always the machine*;
    *cleanlab* (the machine where cleanlab flags the volunteer label, the
    volunteers otherwise, over the glitches it scored).
    """
    true = table["gravityspy_id"].map(truth.set_index("gravityspy_id")["true_label"]).to_numpy()
    machine_right = table["ml_label"].to_numpy() == true
    volunteers_right = table["volunteer_label"].to_numpy() == true
    verdict = table["sides_with"].to_numpy()
    out: dict[str, Any] = {
        "disagreements": len(table),
        "machine_right": int(machine_right.sum()),
        "volunteers_right": int(volunteers_right.sum()),
        "neither_right": int((~machine_right & ~volunteers_right).sum()),
        "sides_with_machine": _rule(machine_right[verdict == "machine"]),
        "sides_with_volunteers": _rule(volunteers_right[verdict == "volunteers"]),
        "no_verdict": int(np.isin(verdict, ["undecided", "neither"]).sum()),
        "rule_always_machine": _rule(machine_right),
    }
    decided = np.isin(verdict, ["machine", "volunteers"])
    right = np.where(verdict == "machine", machine_right, volunteers_right)
    out["verdicts"] = _rule(right[decided])
    out["coverage"] = round(float(decided.mean()), 4) if len(table) else None
    if "issue" in table:
        scored = table["issue"].notna().to_numpy()
        flagged = table["issue"].fillna(False).astype(bool).to_numpy()
        cleanlab_right = np.where(flagged, machine_right, volunteers_right)
        out["rule_cleanlab"] = _rule(cleanlab_right[scored])
        out["rule_cleanlab_where_decided"] = _rule(cleanlab_right[scored & decided])
        out["rule_always_machine_where_decided"] = _rule(machine_right[decided])
    return out
