"""Label statistics over nearest neighbours in the embedding space (cosine), shared by the audit's findings.

Neighbours are taken in the embedding space, never the 2-D map: UMAP keeps
neighbourhoods only approximately, and the audit should not inherit its
distortions.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "knn_label_probabilities",
    "label_mixing",
    "nearest_neighbours",
    "neighbour_agreement",
    "rank_weighted_agreement",
]


#: Members of a label pair used for its mixing statistic at most (a seeded sample beyond), so that a re-cut of a
#: large map stays fast.
_MIX_SAMPLE = 600


def label_mixing(embeddings: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> float:
    """How well nearest neighbours tell the labels apart, 0 for random mixing, 1 for perfect separation.

    The share of each point's ``k`` nearest neighbours (cosine, itself excluded; at most
    ``_MIX_SAMPLE`` points, a seeded sample beyond)
    with its own label, minus the share expected if labels were scattered at
    random (the sum of squared label shares), over the room above that
    expectation. Negative values are chance fluctuations of a random mix.
    """
    labels = np.asarray(labels)
    if len(labels) > _MIX_SAMPLE:
        keep = np.random.default_rng(seed).choice(len(labels), _MIX_SAMPLE, replace=False)
        embeddings, labels = embeddings[keep], labels[keep]
    k = min(k, len(labels) - 1)
    _, shares = np.unique(labels, return_counts=True)
    expected = float(((shares / shares.sum()) ** 2).sum())
    if k < 1 or expected >= 1.0:
        return 0.0
    unit = np.asarray(embeddings, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T  # a few hundred rows: plain numpy beats a neighbour index here
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    same = float((labels[neighbours] == labels[:, None]).mean())
    return (same - expected) / (1.0 - expected)


def nearest_neighbours(embeddings: np.ndarray, k: int) -> np.ndarray:
    """(n, k) indices of each point's ``k`` nearest neighbours (cosine), nearest first, itself excluded."""
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(embeddings) - 1)
    index = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(embeddings)
    _, found = index.kneighbors(embeddings)
    return np.array([[j for j in row if j != i][:k] for i, row in enumerate(found)], dtype=np.intp)


def knn_label_probabilities(
    embeddings: np.ndarray, labels: np.ndarray, k: int, neighbours: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each point, the label shares among its k nearest neighbours (itself excluded), cosine.

    ``neighbours`` (from `nearest_neighbours`, at least ``k`` columns) saves the search when already done.
    Returns (classes, probabilities (n, n_classes), neighbour indices (n, k)).
    """
    if neighbours is None:
        neighbours = nearest_neighbours(embeddings, k)
    neighbours = neighbours[:, : min(k, len(labels) - 1)]
    classes, coded = np.unique(labels, return_inverse=True)
    probabilities = np.zeros((len(labels), len(classes)))
    for column in range(neighbours.shape[1]):
        probabilities[np.arange(len(labels)), coded[neighbours[:, column]]] += 1.0 / neighbours.shape[1]
    return classes, probabilities, neighbours


def rank_weighted_agreement(labels: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Per point, the share of its neighbours carrying its label, the r-th nearest weighted 1/r.

    A graded version of the plain share: it breaks the many ties of a k-vote
    (k + 1 possible values) and lets the nearest neighbours count most.
    """
    labels = np.asarray(labels)
    weights = 1.0 / np.arange(1, neighbours.shape[1] + 1)
    same = labels[neighbours] == labels[:, None]
    return (same * weights).sum(axis=1) / weights.sum()


def neighbour_agreement(embeddings: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per point, the share of its ``k`` nearest neighbours (cosine, itself excluded) that carry its label."""
    classes, probabilities, _ = knn_label_probabilities(np.asarray(embeddings), labels, k)
    return probabilities[np.arange(len(labels)), np.searchsorted(classes, labels)]
