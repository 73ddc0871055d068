"""Where the machine and the volunteers disagree, and which volunteer labels the classifier's own scores doubt.

Two of the archive's three label sources (the third, the spectrograms' own
morphology, needs the fetched images' embeddings; issue 17 step 5):

- `machine_vs_volunteer`: the confusion matrix of the consensus label against
  ``ml_label``, over the glitches with a consensus.
- `label_issues`: cleanlab's ``find_label_issues`` and label-quality scores
  on the volunteers' labels with the classifier's scores as the
  probabilities. No training: the scores are the archive's own, made by a
  model that never saw these labels... except where it was trained on them,
  which a curator should keep in mind (Gravity Spy's classifier was trained
  on the training set, a small share of the archive).
- `score_against_truth`: on a synthetic archive, how well each is borne out
  by the planted truth (accuracy of each source, precision and recall of the
  flagged volunteer labels).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .classifications import Classifications

__all__ = ["agreement", "label_issues", "machine_vs_volunteer", "score_against_truth"]


def _voted(archive: Classifications, retired_only: bool) -> np.ndarray:
    """Rows with a volunteer consensus (retired ones only when asked) whose label is a scored class."""
    glitches = archive.glitches
    if "volunteer_label" not in glitches:
        return np.zeros(len(glitches), dtype=bool)
    voted = glitches["volunteer_label"].isin(archive.classes).to_numpy(copy=True)
    if retired_only:
        voted &= glitches["retired"].fillna(False).astype(bool).to_numpy()
    return voted


def machine_vs_volunteer(archive: Classifications, *, retired_only: bool = True) -> pd.DataFrame:
    """Counts of (volunteer label, machine label) over the glitches with a consensus; rows volunteer, columns machine."""
    voted = archive.glitches[_voted(archive, retired_only)]
    return pd.crosstab(voted["volunteer_label"], voted["ml_label"]).rename_axis(
        index="volunteer_label", columns="ml_label"
    )


def agreement(confusion: pd.DataFrame) -> float:
    """The share of glitches on the confusion matrix's diagonal (machine and volunteers name the same class)."""
    total = int(confusion.to_numpy().sum())
    same = sum(int(confusion.at[label, label]) for label in confusion.index if label in confusion.columns)
    return round(same / total, 4) if total else float("nan")


def label_issues(archive: Classifications, *, retired_only: bool = True) -> pd.DataFrame:
    """The volunteers' labels scored by cleanlab with the classifier's scores as probabilities, most doubtful first.

    Columns: ``gravityspy_id, volunteer_label, ml_label, ml_confidence,
    volunteer_score, n_votes, label_quality`` (cleanlab's self-confidence:
    the classifier's score for the volunteers' label) and ``issue``
    (``find_label_issues``' verdict). Volunteer labels the classifier of the
    glitch's run had no class for (an O3 class on an O1 glitch) are left out.
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    rows = np.flatnonzero(_voted(archive, retired_only))
    coded = np.array([archive.classes.index(label) for label in archive.glitches["volunteer_label"].iloc[rows]], int)
    scorable = ~np.isnan(archive.scores[rows, coded]) if len(rows) else np.zeros(0, bool)
    rows = rows[scorable]  # a label the classifier of that run had no class for cannot be doubted by it
    glitches = archive.glitches.iloc[rows]
    if not len(rows):
        return pd.DataFrame(columns=["gravityspy_id", "volunteer_label", "ml_label", "label_quality", "issue"])
    probabilities = np.nan_to_num(archive.scores[rows].astype(np.float64), nan=0.0) + 1e-6
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    labels = np.array([archive.classes.index(label) for label in glitches["volunteer_label"]])
    present = np.unique(labels)  # cleanlab wants every class it scores to appear among the labels
    recoded = np.searchsorted(present, labels)
    reduced = probabilities[:, present] / probabilities[:, present].sum(axis=1, keepdims=True)
    table = glitches[["gravityspy_id", "volunteer_label", "ml_label", "ml_confidence", "volunteer_score", "n_votes"]]
    table = table.assign(
        label_quality=get_label_quality_scores(recoded, reduced, method="self_confidence"),
        issue=find_label_issues(recoded, reduced),
    )
    return table.sort_values("label_quality", kind="stable").reset_index(drop=True)


def score_against_truth(archive: Classifications, issues: pd.DataFrame, truth: pd.DataFrame) -> dict[str, Any]:
    """On a synthetic archive: each source's accuracy, and how well the flagged volunteer labels are real errors."""
    by_id = truth.set_index("gravityspy_id")["true_label"]
    glitches = archive.glitches
    true = glitches["gravityspy_id"].map(by_id)
    voted = glitches["volunteer_label"].notna() if "volunteer_label" in glitches else pd.Series(False, glitches.index)
    wrong = issues["volunteer_label"].to_numpy() != issues["gravityspy_id"].map(by_id).to_numpy()
    flagged = issues["issue"].to_numpy(dtype=bool)
    disagree = voted & (glitches["volunteer_label"] != glitches["ml_label"])
    return {
        "machine_accuracy": round(float((glitches["ml_label"] == true).mean()), 4),
        "volunteer_accuracy": round(float((glitches.loc[voted, "volunteer_label"] == true[voted]).mean()), 4),
        "disagreements": int(disagree.sum()),
        "machine_right_when_they_disagree": round(float((glitches.loc[disagree, "ml_label"] == true[disagree]).mean()), 4)
        if disagree.any() else None,
        "volunteer_labels_scored": len(issues),
        "volunteer_labels_wrong": int(wrong.sum()),
        "flagged": int(flagged.sum()),
        "flagged_precision": round(float(wrong[flagged].mean()), 4) if flagged.any() else None,
        "flagged_recall": round(float(flagged[wrong].mean()), 4) if wrong.any() else None,
    }  # fmt: skip
