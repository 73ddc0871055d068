"""Individual volunteer votes from a Zooniverse classification export, and CROWDLAB on them.

A Panoptes classification export is a CSV with one row per classification:
``classification_id, user_name, user_id, …, created_at, annotations,
subject_data, subject_ids``. ``annotations`` is JSON: a list of tasks, the
Gravity Spy survey task's ``value`` a list of ``{"choice": "BLIP", …}``.
``subject_data`` is JSON keyed by the Zooniverse subject id, holding the
subject's metadata, where Gravity Spy keeps the glitch's id.

Two things here are matched loosely on purpose, because the real export could
not be checked from our machines:

- a choice names a class when their letters and digits agree, case aside
  (``KOIFISH`` and ``Koi_Fish``, ``NONEOFTHEABOVE`` and ``None_of_the_Above``);
  other choices are reported and not used;
- the glitch's id is read from the first of `ID_FIELDS` found in the subject's
  metadata (or the key given with ``id_field``); the report says which.

`crowdlab` runs cleanlab's CROWDLAB (``cleanlab.multiannotator``) with the
classifier's scores as the model's probabilities: a consensus label and a
quality score per glitch, and a quality score per volunteer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io.dataset import ReadReport
from ..io.metadata import read_csv_checked
from .classifications import Classifications
from .runs import ARCHIVE_CLASSES

__all__ = ["ID_FIELDS", "crowdlab", "crowdlab_against_truth", "read_votes"]

#: Subject metadata keys that may hold the glitch's gravityspy_id, tried in this order.
ID_FIELDS: tuple[str, ...] = ("gravityspy_id", "subject_id", "uniqueID", "#gravityspy_id")
_REQUIRED = ("classification_id", "annotations", "subject_data")


def _key(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(name).upper())


_CLASS_OF_CHOICE = {_key(name): name for name in ARCHIVE_CLASSES}


def _choice(annotations: Any) -> str | None:
    """The survey task's first choice in one row's annotations (JSON text), or None if it has none."""
    for task in json.loads(annotations):
        value = task.get("value") if isinstance(task, dict) else None
        if isinstance(value, list):
            for answer in value:
                if isinstance(answer, dict) and answer.get("choice"):
                    return str(answer["choice"])
    return None


def _glitch_id(subject_data: Any, id_field: str | None) -> tuple[str | None, str | None]:
    """(gravityspy_id, the metadata key it came from) from one row's subject_data JSON."""
    for metadata in json.loads(subject_data).values():
        if not isinstance(metadata, dict):
            continue
        for field in (id_field,) if id_field else ID_FIELDS:
            if metadata.get(field):
                return str(metadata[field]), field
    return None, None


def read_votes(path, *, id_field: str | None = None) -> tuple[pd.DataFrame, ReadReport]:
    """One row per vote: ``gravityspy_id, volunteer, label, created_at``; and what was odd.

    Rows with malformed JSON, no choice, a choice that names no class, or no
    glitch id are left out and reported by line; a volunteer's repeated vote
    on one glitch keeps the latest. A file where no row yields a vote is an error.
    """
    report = ReadReport()
    table = read_csv_checked(
        path, what="vote export", required=_REQUIRED, dtype={"user_name": str, "user_id": str},
        absent_fix="pass a Zooniverse classification export", columns_fix="Is it a Zooniverse classification export?",
    )  # fmt: skip
    votes, malformed, no_choice, no_id, unknown, fields = [], [], [], [], [], set()
    volunteers = table.get("user_name", table.get("user_id", pd.Series(["anonymous"] * len(table))))
    for line, row in enumerate(table.itertuples(index=False), start=2):
        try:
            choice = _choice(row.annotations)
            gid, field = _glitch_id(row.subject_data, id_field)
        except (json.JSONDecodeError, TypeError, AttributeError):
            malformed.append(f"line {line}")
            continue
        if choice is None:
            no_choice.append(f"line {line}")
        elif gid is None:
            no_id.append(f"line {line}")
        elif _key(choice) not in _CLASS_OF_CHOICE:
            unknown.append(choice)
        else:
            fields.add(field)
            volunteer = volunteers.iat[line - 2]
            votes.append((gid, str(volunteer), _CLASS_OF_CHOICE[_key(choice)], getattr(row, "created_at", ""), line))
    name = getattr(path, "name", str(path))
    report.add("malformed-annotations", f"rows of {name} whose annotations or subject_data are not valid JSON (left out)", malformed)  # fmt: skip
    report.add("no-choice", f"rows of {name} without a survey choice (left out)", no_choice)
    report.add("no-glitch-id", f"rows of {name} whose subject metadata has none of {', '.join((id_field,) if id_field else ID_FIELDS)} (left out)", no_id)  # fmt: skip
    report.add("unknown-choice", f"choices in {name} that name no class (left out)", sorted(set(unknown)), count=len(unknown))  # fmt: skip
    if not votes:
        raise DataError(
            f"vote export {name} yields no usable vote ({len(malformed)} malformed, {len(no_choice)} without a choice, "
            f"{len(no_id)} without a glitch id, {len(unknown)} unknown choices); pass --vote-id-field if the id is "
            "kept under another metadata key"
        )
    frame = pd.DataFrame(votes, columns=["gravityspy_id", "volunteer", "label", "created_at", "line"])
    repeated = frame.duplicated(["gravityspy_id", "volunteer"], keep="last")
    report.add("repeated-vote", f"votes in {name} repeated by the same volunteer on a glitch (the latest kept)",
               "line " + frame.loc[repeated, "line"].astype(str))  # fmt: skip
    report.add("id-field", f"subject metadata key(s) the glitch ids of {name} were read from", sorted(fields))
    return frame[~repeated].drop(columns="line").reset_index(drop=True), report


def crowdlab(votes: pd.DataFrame, archive: Classifications) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CROWDLAB's consensus per glitch and quality per volunteer, with the classifier's scores as probabilities.

    Only glitches of the archive with at least one vote whose every voted
    label the glitch's classifier could score are used (cleanlab needs a
    probability for each). Returns (glitches: ``gravityspy_id,
    crowdlab_label, consensus_quality, annotator_agreement, num_annotations``;
    volunteers: ``volunteer, quality, agreement_with_consensus, worst_class,
    num_examples_labeled``).
    """
    from cleanlab.multiannotator import get_label_quality_multiannotator

    row_of = pd.Series(np.arange(len(archive.glitches)), index=archive.glitches["gravityspy_id"])
    votes = votes[votes["gravityspy_id"].isin(row_of.index)]
    code = votes["label"].map({c: i for i, c in enumerate(archive.classes)})
    scorable = ~np.isnan(archive.scores[row_of[votes["gravityspy_id"]].to_numpy(), code.to_numpy()])
    bad = votes.loc[~scorable, "gravityspy_id"].unique()
    votes, code = votes[~votes["gravityspy_id"].isin(bad)], code[~votes["gravityspy_id"].isin(bad)]
    if votes.empty:
        raise DataError(
            "no vote falls on a glitch of the catalogue: are the vote export and the catalogue the same runs?"
        )
    wide = pd.DataFrame({"task": votes["gravityspy_id"], "annotator": votes["volunteer"], "label": code})
    wide = wide.pivot(index="task", columns="annotator", values="label")
    probabilities = np.nan_to_num(archive.scores[row_of[wide.index].to_numpy()].astype(np.float64), nan=0.0) + 1e-6
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    result = get_label_quality_multiannotator(wide, probabilities, verbose=False, return_detailed_quality=False)
    quality = result["label_quality"]
    glitches = pd.DataFrame(
        {
            "gravityspy_id": wide.index.to_numpy(),
            "crowdlab_label": np.array(archive.classes, dtype=object)[quality["consensus_label"].to_numpy(dtype=int)],
            "consensus_quality": quality["consensus_quality_score"].to_numpy(),
            "annotator_agreement": quality["annotator_agreement"].to_numpy(),
            "num_annotations": quality["num_annotations"].to_numpy(),
        }
    )
    stats = result["annotator_stats"].rename_axis("volunteer").reset_index()
    stats = stats.rename(columns={"annotator_quality": "quality"})
    stats["worst_class"] = np.array(archive.classes, dtype=object)[stats["worst_class"].to_numpy(dtype=int)]
    return glitches, stats.sort_values("quality", kind="stable").reset_index(drop=True)


def crowdlab_against_truth(glitches: pd.DataFrame, volunteers: pd.DataFrame, votes: pd.DataFrame,
                           truth_dir) -> dict[str, Any]:  # fmt: skip
    """On a synthetic archive: CROWDLAB's consensus against the truth beside a plain majority vote, and how
    well its volunteer quality ranks the volunteers' planted skill (Spearman)."""
    from pathlib import Path

    from scipy.stats import spearmanr

    truth = pd.read_parquet(Path(truth_dir) / "archive_truth.parquet").set_index("gravityspy_id")["true_label"]
    majority = votes.groupby("gravityspy_id")["label"].agg(lambda s: s.value_counts().index[0])
    majority = majority.reindex(glitches["gravityspy_id"])
    skill_file = Path(truth_dir) / "volunteers.csv"
    out = {
        "crowdlab_accuracy": round(
            float((glitches["crowdlab_label"] == glitches["gravityspy_id"].map(truth)).mean()), 4
        ),
        "majority_vote_accuracy": round(float((majority.to_numpy() == glitches["gravityspy_id"].map(truth)).mean()), 4),
    }
    if skill_file.is_file():
        skill = pd.read_csv(skill_file).set_index("volunteer")["skill"]
        rho = spearmanr(volunteers["quality"], volunteers["volunteer"].map(skill)).statistic
        out["volunteer_quality_vs_skill_spearman"] = round(float(rho), 4)
    return out
