"""``python -m precompute evaluate --run RUN --truth DIR/truth``: the audit against a synthetic set's known truth.

Prints a table and writes ``RUN/audit/evaluation.json``:

- clusters against the true morphology and against the human labels (ARI,
  NMI, V-measure; noise excluded);
- every kind of finding a plan can plant (merge, continuum, split, novel)
  against what it planted, each matched by its own rule (`Finding.hits`, in
  the kind's module): recall and precision;
- per-glitch suspicion against the labels the plan altered one by one (random
  noise, over-splitting, continuum flips): ROC AUC and average precision, side
  by side with cleanlab fed the same leave-one-out neighbours our scores use
  and a classifier's out-of-fold probabilities (`precompute.audit.peers`);
- merges against cleanlab's ``find_overlapping_classes``, scored by the same rule;
- how often a proposed label is the true morphology. Labels changed for a
  whole morphology (over-compression, novel shapes) are consistent among
  neighbours by construction: the split and novel findings are what should
  catch them, and they are scored there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import write_text_atomic
from ..cluster import NOISE_LABEL
from ..errors import DataError
from ..rundir import Run
from .findings import Findings, PlantedTruth, kinds
from .params import FindingParams
from .peers import classifier_probabilities, leave_one_out_probabilities, peer_merges, peer_suspicion
from .tables import audit_points

__all__ = ["INDIVIDUAL_MECHANISMS", "evaluate_run", "format_evaluation"]

#: Plan mechanisms that alter labels one glitch at a time (what a per-glitch score can find).
INDIVIDUAL_MECHANISMS = ("random_noise", "over_split", "continuum")


def _agreement(truth: np.ndarray, clusters: np.ndarray) -> dict[str, float]:
    from sklearn import metrics

    keep = clusters != NOISE_LABEL
    return {
        "ari": float(metrics.adjusted_rand_score(truth[keep], clusters[keep])),
        "nmi": float(metrics.normalized_mutual_info_score(truth[keep], clusters[keep])),
        "v_measure": float(metrics.v_measure_score(truth[keep], clusters[keep])),
    }


def _recall_precision(found: list[bool], planted_hit: list[bool]) -> dict[str, float | None]:
    return {
        "recall": float(np.mean(planted_hit)) if planted_hit else None,
        "precision": float(np.mean(found)) if found else None,
        "n_found": len(found),
        "n_planted": len(planted_hit),
    }


def _score_findings(findings: Findings, plan: dict[str, Any], truth: PlantedTruth) -> dict[str, dict[str, Any]]:
    """Recall and precision of every kind that a plan can plant (`Finding.planted_as`), each by its own match.

    A finding is right when it hits something planted of its kind; a planted
    failure is found when some finding of its kind hits it. A planted failure
    not found but covered by a "cannot tell" entry is counted apart
    (``n_cannot_tell``): it is neither wrong nor found.
    """
    undecided = findings.get("cannot_tell", [])
    scores = {}
    for kind in kinds():
        if kind.planted_as is None:
            continue
        planted, found = kind.planted(plan), findings.get(kind.kind, [])
        hit = [any(f.hits(p, truth) for f in found) for p in planted]
        scores[kind.kind] = _recall_precision([any(f.hits(p, truth) for p in planted) for f in found], hit)
        # planted failures the audit did not find but said it could not decide: silent where it cannot tell
        scores[kind.kind]["n_cannot_tell"] = sum(
            not h and any(u.covers(kind.kind, p, truth) for u in undecided) for p, h in zip(planted, hit, strict=True)
        )
    scores["cannot_tell"] = {"n_entries": len(undecided)}
    return scores


def evaluate_run(run: Run, truth_dir: Path, params: FindingParams | None = None) -> dict[str, Any]:
    """Score the run's clusters, findings and suspicion against the truth folder of a synthetic set."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    truth_path = Path(truth_dir) / "truth.csv"
    plan_path = Path(truth_dir) / "plan.json"
    if not truth_path.is_file() or not plan_path.is_file():
        raise DataError(
            f"{truth_dir} has no truth.csv and plan.json; pass the truth/ folder of a synthetic set made by 'synth'"
        )
    truth = pd.read_csv(truth_path, dtype={"gravityspy_id": str}).set_index("gravityspy_id")
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    points = run.points
    ids = points["gravityspy_id"].astype(str)
    missing = ~ids.isin(truth.index)
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} points of {run.root} are not in {truth_path} (e.g. {ids[missing].iloc[0]}); is it the same data set?"
        )
    morphology = truth.loc[ids, "morphology"].to_numpy().astype(str)
    labels = points["label"].astype(str).to_numpy()
    clusters = points["cluster"].to_numpy()
    embeddings = np.asarray(run.embeddings())
    params = params or FindingParams()
    tables = audit_points(points, embeddings, params=params)

    scores = _score_findings(
        tables.findings, plan, PlantedTruth(morphology=morphology, clusters=clusters, labels=labels)
    )

    mech = truth.loc[ids, "mechanism"].to_numpy().astype(str)
    altered = truth.loc[ids, "label_altered"].to_numpy().astype(bool)
    scored = np.isin(mech, [*INDIVIDUAL_MECHANISMS, "none"])
    target = altered[scored]
    ours = tables.glitches["suspicion"].to_numpy()[scored]
    classes, inputs = leave_one_out_probabilities(embeddings, labels, params)
    classifier = classifier_probabilities(embeddings, labels, classes)
    peers = peer_suspicion({**inputs, "out-of-fold logistic regression": classifier}, classes, labels, target, scored)
    suspicion = {
        "n_scored": int(scored.sum()),
        "n_altered": int(target.sum()),
        "ours": {
            "roc_auc": float(roc_auc_score(target, ours)),
            "average_precision": float(average_precision_score(target, ours)),
        },
        "cleanlab": peers["best"],
        "cleanlab_inputs": peers["inputs"],
        "corrections_precision": _corrections_precision(tables.glitches, truth, ids),
        **_proposals_recall(tables.glitches, morphology, altered, set(labels)),
    }
    result = {
        "run": str(run.root),
        "truth": str(truth_dir),
        "plan": plan.get("name"),
        "weights_used": run.manifest.get("embedding", {}).get("weights_used"),
        "clusters_vs_morphology": _agreement(morphology, clusters),
        "clusters_vs_labels": _agreement(labels, clusters),
        **scores,
        "merge_cleanlab": {
            name: peer_merges(probabilities, classes, labels, plan, params)
            for name, probabilities in (
                ("out-of-fold logistic regression", classifier),
                ("leave-one-out 10-NN", inputs["leave-one-out 10-NN"]),
            )
        },
        "suspicion": suspicion,
        "thresholds": params.as_dict(),
    }
    write_text_atomic(run.root / "audit" / "evaluation.json", json.dumps(result, indent=2) + "\n")
    return result


def _proposals_recall(
    glitches: pd.DataFrame, morphology: np.ndarray, altered: np.ndarray, label_set: set[str]
) -> dict[str, float | None]:
    """Among altered glitches, the share whose proposed label is the true morphology: over all of them, and over
    those whose true morphology is a label of the data set (a proposal can only name a label it has seen)."""
    proposed = glitches["proposed_label"].to_numpy()
    nameable = altered & np.isin(morphology, list(label_set))
    return {
        "proposals_true_morphology_altered": float(np.mean(proposed[altered] == morphology[altered]))
        if altered.any()
        else None,
        "proposals_true_morphology_nameable": float(np.mean(proposed[nameable] == morphology[nameable]))
        if nameable.any()
        else None,
    }


def _corrections_precision(glitches: pd.DataFrame, truth: pd.DataFrame, ids: pd.Series) -> float | None:
    """Among proposed corrections, the share whose proposed label is the glitch's true morphology."""
    proposed = glitches["proposed_label"] != glitches["current_label"]
    if not proposed.any():
        return None
    true = truth.loc[ids[proposed.to_numpy()], "morphology"].to_numpy()
    return float(np.mean(glitches.loc[proposed, "proposed_label"].to_numpy() == true))


def format_evaluation(result: dict[str, Any]) -> str:
    """The evaluation as a Markdown table, for the terminal and docs/validation.md."""

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        f"# evaluation of {result['run']} against {result['truth']} (plan {result['plan']}, weights {result['weights_used']})",
        "| what | measure | value |",
        "|---|---|---|",
    ]
    for key, name in (
        ("clusters_vs_morphology", "clusters vs true morphology"),
        ("clusters_vs_labels", "clusters vs human labels"),
    ):
        scores = result[key]
        lines.append(
            f"| {name} | ARI / NMI / V | {scores['ari']:.3f} / {scores['nmi']:.3f} / {scores['v_measure']:.3f} |"
        )
    for kind in kinds():
        if kind.kind not in result:
            continue
        if kind.planted_as is None:
            continue
        r, name = result[kind.kind], f"{kind.kind} vs {kind.planted_as}"
        lines.append(
            f"| {name} | recall / precision (found, planted; of the rest, cannot tell) | {pct(r['recall'])} / "
            f"{pct(r['precision'])} ({r['n_found']}, {r['n_planted']}; {r.get('n_cannot_tell', 0)}) |"
        )
    for name, m in result.get("merge_cleanlab", {}).items():
        lines.append(
            f"| merge, cleanlab find_overlapping_classes on {name} (same rule) | recall / precision (found, planted) | "
            f"{pct(m['recall'])} / {pct(m['precision'])} ({m['n_found']}, {m['n_planted']}) |"
        )
    s = result["suspicion"]
    lines.append(
        f"| suspicion, ours ({s['n_altered']} of {s['n_scored']} altered one by one) | ROC AUC / AP | {s['ours']['roc_auc']:.3f} / {s['ours']['average_precision']:.3f} |"
    )
    best = s["cleanlab"]
    lines.append(
        f"| suspicion, cleanlab's best ({best['input']}, {best['method']}) | ROC AUC / AP | {best['roc_auc']:.3f} / {best['average_precision']:.3f} |"
    )
    for name, row in s["cleanlab_inputs"].items():
        issues = row["find_label_issues"]
        lines.append(
            f"| cleanlab on {name} | AUC self-confidence / margin / entropy; find_label_issues flagged, precision / recall | "
            f"{row['self_confidence']['roc_auc']:.3f} / {row['normalized_margin']['roc_auc']:.3f} / "
            f"{row['confidence_weighted_entropy']['roc_auc']:.3f}; {issues['flagged']}, {pct(issues['precision'])} / {pct(issues['recall'])} |"
        )
    lines.append(f"| proposed corrections | share proposing the true morphology | {pct(s['corrections_precision'])} |")
    lines.append(
        f"| altered glitches | share whose proposal is the true morphology: all / true morphology among the labels | "
        f"{pct(s['proposals_true_morphology_altered'])} / {pct(s['proposals_true_morphology_nameable'])} |"
    )
    return "\n".join(lines)
