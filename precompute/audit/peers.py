"""The peer the audit is measured against: cleanlab, given the inputs our own scores have, and a classifier's.

Our suspicion ranks each glitch by the rank-weighted agreement of its
``suspicion_k`` nearest neighbours in the embedding space, every other point
counting (leave-one-out). A fair peer gets the same: cleanlab is fed

- leave-one-out k-NN label probabilities from exactly our neighbours, with
  ``k`` and ``suspicion_k`` neighbours, and the rank-weighted form our
  suspicion uses (with cleanlab's ``self_confidence`` that one ranks exactly as
  ours does: the row says so, and it is left out of "the peer's best");
- out-of-fold probabilities of a classifier trained on the same embeddings
  (a logistic regression on the L2-normalised vectors, stratified K-fold),
  cleanlab's own recommended set-up;

and scored with each of its label-quality methods. For merges, cleanlab's
``find_overlapping_classes`` on the classifier's probabilities (and, reported
beside it, on the leave-one-out 10-NN ones) gives label pairs; a pair is linked as our own labels are (its overlapping glitches hold
at least ``min_cluster_share`` of the smaller class and number at least
``min_count``), linked pairs are joined into groups, and the groups are scored
by the same rule as our merge findings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .findings import PlantedTruth
from .findings._pairs import connected_components
from .findings.merge import Merge
from .neighbours import knn_label_probabilities, nearest_neighbours
from .params import FindingParams

__all__ = [
    "METHODS",
    "OURS",
    "classifier_probabilities",
    "leave_one_out_probabilities",
    "peer_merges",
    "peer_suspicion",
]

#: cleanlab's label-quality methods, each tried on every input.
METHODS = ("self_confidence", "normalized_margin", "confidence_weighted_entropy")
#: The input and method that reproduce our own suspicion score exactly (not counted as the peer's best).
OURS = ("leave-one-out rank-weighted", "self_confidence")


def leave_one_out_probabilities(
    embeddings: np.ndarray, labels: np.ndarray, params: FindingParams
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Label probabilities from each point's nearest neighbours, itself excluded, as our scores see them.

    Returns the classes and, by input name, (n, n_classes) probabilities: plain
    shares of the ``k`` and ``suspicion_k`` nearest, and the rank-weighted shares
    (r-th neighbour weighted 1/r) of the ``suspicion_k`` nearest.
    """
    neighbours = nearest_neighbours(np.asarray(embeddings), max(params.k, params.suspicion_k))
    classes, coded = np.unique(labels, return_inverse=True)
    inputs = {}
    for k in sorted({params.k, params.suspicion_k}):
        inputs[f"leave-one-out {k}-NN"] = knn_label_probabilities(embeddings, labels, k, neighbours)[1]
    near = neighbours[:, : params.suspicion_k]
    weights = 1.0 / np.arange(1, near.shape[1] + 1)
    weighted = np.zeros((len(labels), len(classes)))
    for column in range(near.shape[1]):
        weighted[np.arange(len(labels)), coded[near[:, column]]] += weights[column]
    inputs["leave-one-out rank-weighted"] = weighted / weights.sum()
    return classes, inputs


def classifier_probabilities(
    embeddings: np.ndarray, labels: np.ndarray, classes: np.ndarray, *, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Out-of-fold probabilities of a logistic regression on the L2-normalised embeddings (stratified K-fold).

    A class too small for every fold to see it gets a tiny probability where
    its fold's model never met it (cleanlab needs every class in every row).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    smallest = int(np.unique(labels, return_counts=True)[1].min())
    splitter = StratifiedKFold(n_splits=max(2, min(folds, smallest if smallest >= 2 else folds)), shuffle=True,
                               random_state=seed)  # fmt: skip
    probabilities = np.zeros((len(labels), len(classes)))
    for train, test in splitter.split(unit, labels):
        model = LogisticRegression(max_iter=2000).fit(unit[train], labels[train])
        probabilities[np.ix_(test, np.searchsorted(classes, model.classes_))] = model.predict_proba(unit[test])
    return probabilities


def _smoothed(probabilities: np.ndarray) -> np.ndarray:
    """Rows summing to 1 with no exact zero (cleanlab's requirement); monotone, so no ranking changes."""
    return (probabilities + 1e-6) / (probabilities + 1e-6).sum(axis=1, keepdims=True)


def peer_suspicion(
    inputs: dict[str, np.ndarray], classes: np.ndarray, labels: np.ndarray, target: np.ndarray, scored: np.ndarray
) -> dict[str, Any]:
    """cleanlab's label-quality ranking on each input with each method, scored like ours (ROC AUC and AP).

    ``target`` marks the altered labels among the ``scored`` points. Also
    cleanlab's ``find_label_issues`` on each input (flagged, precision, recall).
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores
    from sklearn.metrics import average_precision_score, roc_auc_score

    coded = np.searchsorted(classes, labels)
    table: dict[str, Any] = {}
    for name, raw in inputs.items():
        probabilities = _smoothed(raw)
        row: dict[str, Any] = {}
        for method in METHODS:
            badness = 1 - get_label_quality_scores(coded, probabilities, method=method)[scored]
            row[method] = {
                "roc_auc": round(float(roc_auc_score(target, badness)), 4),
                "average_precision": round(float(average_precision_score(target, badness)), 4),
            }
        issues = find_label_issues(coded, probabilities)[scored]
        row["find_label_issues"] = {
            "flagged": int(issues.sum()),
            "precision": float(target[issues].mean()) if issues.any() else None,
            "recall": float(issues[target].mean()) if target.any() else None,
        }
        table[name] = row
    best = max(
        ((name, method) for name in table for method in METHODS if (name, method) != OURS),
        key=lambda nm: table[nm[0]][nm[1]]["roc_auc"],
    )
    return {"inputs": table, "best": {"input": best[0], "method": best[1], **table[best[0]][best[1]]}}


def peer_merges(
    classifier: np.ndarray, classes: np.ndarray, labels: np.ndarray, plan: dict[str, Any], params: FindingParams
) -> dict[str, Any]:
    """cleanlab's overlapping classes as merge groups, scored by our merge findings' own rule."""
    from cleanlab.dataset import find_overlapping_classes

    coded = np.searchsorted(classes, labels)
    pairs = find_overlapping_classes(labels=coded, pred_probs=_smoothed(classifier))
    # linked as our own labels are: the overlap holds min_cluster_share of the smaller class, and min_count
    sizes = np.bincount(coded, minlength=len(classes))
    smaller = np.minimum(sizes[pairs["Class Index A"].to_numpy()], sizes[pairs["Class Index B"].to_numpy()])
    floor = np.maximum(params.min_count, params.min_cluster_share * smaller)
    strong = pairs[pairs["Num Overlapping Examples"].to_numpy() >= floor]
    graph = {
        tuple(sorted((str(classes[a]), str(classes[b])))): n
        for a, b, n in zip(
            strong["Class Index A"], strong["Class Index B"], strong["Num Overlapping Examples"], strict=True
        )
    }
    groups = [sorted(g) for g in connected_components(graph)]
    planted = Merge.planted(plan)
    none = PlantedTruth(morphology=np.array([]), clusters=np.array([]))
    found = [Merge(labels=g, clusters=[], counts={}, axis_auc={}, examples={}) for g in groups]
    hit = [any(f.hits(p, none) for p in planted) for f in found]
    return {
        "groups": groups,
        "top_pairs": [
            {
                "labels": [str(classes[a]), str(classes[b])],
                "overlapping": int(n),
                "joint_probability": round(float(j), 4),
            }
            for a, b, n, j in pairs.head(8)[
                ["Class Index A", "Class Index B", "Num Overlapping Examples", "Joint Probability"]
            ].itertuples(index=False)
        ],
        "recall": float(np.mean([any(f.hits(p, none) for f in found) for p in planted])) if planted else None,
        "precision": float(np.mean(hit)) if hit else None,
        "n_found": len(found),
        "n_planted": len(planted),
    }
