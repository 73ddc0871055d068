"""Label statistics over nearest neighbours in the embedding space (cosine), shared by the audit's findings.

Neighbours are taken in the embedding space, never the 2-D map: UMAP keeps
neighbourhoods only approximately, and the audit should not inherit its
distortions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "Evidence",
    "knn_label_probabilities",
    "label_mixing",
    "mixing_evidence",
    "nearest_neighbours",
    "neighbour_agreement",
    "rank_weighted_agreement",
]


#: Members of a label pair used for its mixing statistic at most (a seeded sample beyond), so that a re-cut of a
#: large map stays fast.
_MIX_SAMPLE = 600
#: Points behind one `Evidence` at most (a seeded sample beyond): its fifty half-samples each search their own
#: neighbours, and 300 points already bound the statistic to a few hundredths.
_EVIDENCE_SAMPLE = 300


def _mixing_sample(n: int, seed: int) -> np.ndarray | None:
    """Rows the mixing statistic uses: all, or a seeded sample of ``_MIX_SAMPLE`` beyond that."""
    return np.random.default_rng(seed).choice(n, _MIX_SAMPLE, replace=False) if n > _MIX_SAMPLE else None


def _mixing_neighbours(embeddings: np.ndarray, k: int) -> np.ndarray:
    """(n, k) nearest neighbours by cosine, itself excluded (plain numpy: a few hundred rows at most)."""
    unit = np.asarray(embeddings, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argpartition(-similarity, k - 1, axis=1)[:, :k]


def _mixing(codes: np.ndarray, neighbours: np.ndarray, expected: float) -> float:
    same = float((codes[neighbours] == codes[:, None]).mean())
    return (same - expected) / (1.0 - expected)


def label_mixing(embeddings: np.ndarray, labels: np.ndarray, k: int, seed: int = 0) -> float:
    """How well nearest neighbours tell the labels apart, 0 for random mixing, 1 for perfect separation.

    The share of each point's ``k`` nearest neighbours (cosine, itself excluded; at most
    ``_MIX_SAMPLE`` points, a seeded sample beyond)
    with its own label, minus the share expected if labels were scattered at
    random (the sum of squared label shares), over the room above that
    expectation. Negative values are chance fluctuations of a random mix.
    """
    labels = np.asarray(labels)
    keep = _mixing_sample(len(labels), seed)
    if keep is not None:
        embeddings, labels = embeddings[keep], labels[keep]
    k = min(k, len(labels) - 1)
    _, codes, shares = np.unique(labels, return_inverse=True, return_counts=True)
    expected = float(((shares / shares.sum()) ** 2).sum())
    if k < 1 or expected >= 1.0:
        return 0.0
    return _mixing(codes, _mixing_neighbours(embeddings, k), expected)


@dataclass(frozen=True)
class Evidence:
    """A statistic with what the data says of it: a permutation null and an interval, and how much data it rests on.

    ``null_q95`` and ``p_value`` come from shuffling the labels among the same
    points (how large the statistic gets by chance); ``low``/``high`` bound it
    from half-samples of the points (how much it would move with other glitches
    of the same kinds: half-samples without replacement vary about as much as the
    full sample does). Rules decide only when ``low``..``high`` lies on one side
    of their threshold (`precompute.audit.params.FindingParams.alpha`).
    """

    observed: float
    low: float
    high: float
    null_q95: float
    p_value: float  #: (1 + shuffles at least as large) / (1 + shuffles)
    n: int  #: the points it rests on (the statistic itself uses at most ``_EVIDENCE_SAMPLE`` of them)
    smallest: int  #: the fewest points of one label among them

    def as_dict(self) -> dict[str, float | int]:
        return {
            "value": round(self.observed, 3),
            "interval": [round(self.low, 3), round(self.high, 3)],
            "null_q95": round(self.null_q95, 3),
            "p_value": round(self.p_value, 4),
            "n": self.n,
        }


def _half_samples(codes: np.ndarray, repeats: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Half of each label's points, ``repeats`` times (each label keeps at least two)."""
    out = []
    groups = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    for _ in range(repeats):
        out.append(
            np.sort(np.concatenate([rng.choice(g, min(len(g), max(2, len(g) // 2)), replace=False) for g in groups]))
        )
    return out


def mixing_evidence(
    embeddings: np.ndarray,
    labels: np.ndarray,
    k: int,
    *,
    n_permutations: int = 200,
    n_subsamples: int = 50,
    alpha: float = 0.05,
    seed: int = 0,
) -> Evidence:
    """`label_mixing` with its permutation null and its half-sample interval, on the same points (see `Evidence`).

    The neighbours do not change when labels are shuffled, so the search is done
    once for the null; each half-sample searches its own points.
    """
    labels = np.asarray(labels)
    total = len(labels)
    all_shares = pd.Series(labels).value_counts().to_numpy()  # by hashing: every member, before the sample
    if total > _EVIDENCE_SAMPLE:
        keep = np.random.default_rng(seed).choice(total, _EVIDENCE_SAMPLE, replace=False)
        embeddings, labels = embeddings[keep], labels[keep]
    n = len(labels)
    _, codes, shares = np.unique(labels, return_inverse=True, return_counts=True)
    expected = float(((shares / shares.sum()) ** 2).sum())
    k = min(k, n - 1)
    if k < 1 or expected >= 1.0:
        return Evidence(0.0, 0.0, 0.0, float("nan"), 1.0, total, int(all_shares.min()))
    unit = np.asarray(embeddings, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    observed = _mixing(codes, neighbours, expected)
    rng = np.random.default_rng(seed + 1)
    null = np.array([_mixing(rng.permutation(codes), neighbours, expected) for _ in range(n_permutations)])
    halves = []
    for rows in _half_samples(codes, n_subsamples, rng):
        sub_codes = codes[rows]
        sub_k = min(k, len(rows) - 1)
        sub_shares = np.bincount(sub_codes) / len(rows)
        sub_expected = float((sub_shares**2).sum())
        sub = similarity[np.ix_(rows, rows)]
        halves.append(_mixing(sub_codes, np.argpartition(-sub, sub_k - 1, axis=1)[:, :sub_k], sub_expected))
    deviation = np.asarray(halves) - np.mean(halves)
    return Evidence(
        observed=observed,
        low=observed + float(np.quantile(deviation, alpha)),
        high=observed + float(np.quantile(deviation, 1 - alpha)),
        null_q95=float(np.quantile(null, 1 - alpha)),
        p_value=(1 + int((null >= observed).sum())) / (1 + n_permutations),
        n=total,
        smallest=int(all_shares.min()),
    )


def nearest_neighbours(embeddings: np.ndarray, k: int, *, exact_up_to: int | None = None) -> np.ndarray:
    """(n, k) indices of each point's ``k`` nearest neighbours (cosine), nearest first, itself excluded.

    Exact up to ``exact_up_to`` points (`EXACT_UP_TO`), approximate above (`_approximate`: exact search
    grows with the square of the points, 2.5 hours at the archive's 614k on our 2 cores).
    """
    embeddings = np.asarray(embeddings)
    k = min(k, len(embeddings) - 1)
    limit = EXACT_UP_TO if exact_up_to is None else exact_up_to
    if len(embeddings) <= limit:
        return _exact(embeddings, k)
    return _approximate(embeddings, k)


#: Up to this many points the neighbour search is exact; above it, approximate (recall@10 >= 0.95, measured
#: against exact search in benchmarks/bench_knn.py and checked in tests/test_neighbours.py).
EXACT_UP_TO = 50_000
#: The approximate search: points in ``_LISTS_PER_ROOT`` * sqrt(n) k-means lists; each list's points compared
#: with every point of the ``_PROBES`` lists nearest to it.
_LISTS_PER_ROOT, _PROBES = 4, 24
#: Query rows per matrix product (bounds the memory of one block of similarities)
_BLOCK_ROWS = 2048


def _exact(embeddings: np.ndarray, k: int) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(embeddings)
    _, found = index.kneighbors(embeddings)
    return _without_self(found, k)


def _without_self(found: np.ndarray, k: int) -> np.ndarray:
    """Each row's first ``k`` results other than the row itself (the last dropped where itself is absent)."""
    n = len(found)
    keep = found != np.arange(n)[:, None]
    keep[keep.all(axis=1), -1] = False
    return found[keep].reshape(n, k).astype(np.intp)


def _approximate(embeddings: np.ndarray, k: int) -> np.ndarray:
    """k nearest (cosine) of every point by an inverted-file self-join: a matrix product per k-means list.

    The points are split into k-means lists (faiss's k-means on a fixed sample,
    fixed seed); the points of each list are compared, exactly, with every point
    of the `_PROBES` lists whose centres lie nearest that list's centre. Searching
    list by list turns the work into a few thousand BLAS products instead of a
    scan per point (faiss's IVF search is bound by memory traffic: 124 s at 200k
    against 14 s here; benchmarks/bench_knn.py). Each row is ordered by
    similarity, then index, so a run repeats itself. A list whose probed
    neighbourhood holds fewer than k + 1 points is searched against all points.
    """
    import faiss

    unit = np.array(embeddings, dtype=np.float32, order="C")  # a copy: the caller's vectors stay as they are
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    n, dim = unit.shape
    lists = max(1, int(min(_LISTS_PER_ROOT * np.sqrt(n), n / 40)))  # faiss's k-means: >= 39 points a list
    training = np.sort(np.random.default_rng(0).choice(n, min(n, 40 * lists), replace=False))
    kmeans = faiss.Kmeans(dim, lists, niter=20, seed=1234, spherical=True, verbose=False)
    kmeans.train(unit[training])
    centres = faiss.IndexFlatIP(dim)
    centres.add(kmeans.centroids)
    _, assigned = centres.search(unit, 1)
    _, probed = centres.search(kmeans.centroids, min(_PROBES, lists))
    order = np.argsort(assigned[:, 0], kind="stable")
    bounds = np.searchsorted(assigned[order, 0], np.arange(lists + 1))
    members = [order[bounds[i] : bounds[i + 1]] for i in range(lists)]
    found = np.empty((n, k + 1), dtype=np.intp)
    for list_id, queries in enumerate(members):
        if len(queries) == 0:
            continue
        candidates = np.sort(np.concatenate([members[p] for p in probed[list_id] if p >= 0]))
        if len(candidates) < k + 1:
            candidates = np.arange(n)
        for start in range(0, len(queries), _BLOCK_ROWS):
            rows = queries[start : start + _BLOCK_ROWS]
            found[rows] = _top(unit[rows] @ unit[candidates].T, candidates, k + 1)
    return _without_self(found, k)


def _top(similarity: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` most similar ``candidates``, most similar first, ties by index."""
    k = min(k, similarity.shape[1])
    best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    values = np.take_along_axis(similarity, best, axis=1)
    ids = candidates[best]
    order = np.lexsort((ids, -values), axis=1)
    return np.take_along_axis(ids, order, axis=1)


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
