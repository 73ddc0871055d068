"""Per glitch: how well its label agrees with its nearest neighbours, its suspicion, and a proposed label.

Agreement of a glitch's label with its ``k`` nearest neighbours in the
embedding space (cosine, not the 2-D map): the share carrying its label, and
the evidence line ("4/10 nearest neighbours share its label"). The proposed
label is the neighbours' majority when it differs and holds at least
``min_majority`` of them. ``suspicion`` ranks: 1 minus the rank-weighted
agreement of its ``suspicion_k`` nearest neighbours (the r-th weighted 1/r),
which breaks the ties of a ten-way vote.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..cluster import NOISE_LABEL
from .metrics import contingency
from .neighbours import knn_label_probabilities, nearest_neighbours, rank_weighted_agreement
from .params import FindingParams

__all__ = ["CLUSTER_PART", "cluster_evidence", "glitch_suspicion", "neighbour_evidence"]


def glitch_suspicion(
    points: pd.DataFrame, embeddings: np.ndarray, params: FindingParams, neighbours: np.ndarray | None = None
) -> pd.DataFrame:
    """Per point: neighbour agreement, suspicion, proposed label and a one-line justification.

    ``neighbours`` (`nearest_neighbours`, at least ``max(k, suspicion_k)`` columns) saves the search.
    """
    labels = points["label"].astype(str).to_numpy()
    if neighbours is None:
        neighbours = nearest_neighbours(np.asarray(embeddings), max(params.k, params.suspicion_k))
    classes, probabilities, _ = knn_label_probabilities(embeddings, labels, params.k, neighbours)
    k = min(params.k, len(labels) - 1)
    graded = rank_weighted_agreement(labels, neighbours[:, : params.suspicion_k])
    own = probabilities[np.arange(len(labels)), np.searchsorted(classes, labels)]
    best = probabilities.argmax(axis=1)
    majority, majority_share = classes[best], probabilities[np.arange(len(labels)), best]
    propose = (majority != labels) & (majority_share >= params.min_majority)
    clusters = points["cluster"].to_numpy()
    purity = _cluster_top(points)
    evidence = [
        f"{round(own[i] * k)}/{k} nearest neighbours share its label; {round(majority_share[i] * k)}/{k} are "
        f"{majority[i]}{CLUSTER_PART}{cluster_evidence(int(clusters[i]), *purity.get(int(clusters[i]), ('', 0.0)))}"
        for i in range(len(labels))
    ]
    return pd.DataFrame(
        {
            "gravityspy_id": points["gravityspy_id"].astype(str).to_numpy(),
            "agreement": own,
            "suspicion": np.clip(1.0 - graded, 0.0, 1.0).round(6),
            "proposed_label": np.where(propose, majority, labels),
            "evidence": evidence,
        }
    )


#: Where a glitch's evidence line turns from its neighbours (the embedding's, any clustering) to its cluster.
CLUSTER_PART = "; "


def cluster_evidence(cluster: int, top_label: str, top_share: float) -> str:
    """The cluster half of a glitch's evidence: what its cluster holds in one clustering."""
    return "unclustered (noise)" if cluster == NOISE_LABEL else f"cluster {cluster} is {top_share:.0%} {top_label}"


def neighbour_evidence(evidence: str) -> str:
    """The neighbour half of an evidence line (`glitch_suspicion`): the same in every clustering, so a view of
    another cut can add its own `cluster_evidence`."""
    return evidence.rsplit(CLUSTER_PART, 1)[0] if CLUSTER_PART in evidence else evidence


def _cluster_top(points: pd.DataFrame) -> dict[int, tuple[str, float]]:
    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    return {int(c): (str(row.idxmax()), float(row.max() / row.sum())) for c, row in table.iterrows()}
