"""Stage 6 (cluster): HDBSCAN with its single-linkage tree built once and re-cut at will; also the dashboard's.

HDBSCAN's single-linkage tree depends only on ``min_samples`` (through the core
distances); ``min_cluster_size``, the selection method (``eom``/``leaf``) and
``cluster_selection_epsilon`` only change how that tree is condensed and cut.
`ClusterTree` keeps the tree, so moving the dashboard's ``min_cluster_size``
slider re-cuts in milliseconds instead of refitting; a new ``min_samples``
builds a new tree.

The tree is built with fast_hdbscan's parallel Boruvka minimum spanning tree
(an exact MST of the mutual-reachability graph) and cut with its condensed-tree
routines; GLOSH outlier scores come from hdbscan's own implementation. The
result matches a fresh exact ``hdbscan.HDBSCAN`` fit up to a documented
tolerance (``tests/test_cluster.py``): fast_hdbscan keeps MST distances in
float32, hdbscan in float64, so a cluster whose size sits exactly at
``min_cluster_size`` can flip; we require ARI >= 0.98 and cluster counts
within one.

This module is shared by the pipeline and the dashboard. It imports neither
torch nor umap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from types import SimpleNamespace
from typing import Literal

import numpy as np

from .errors import PrecomputeError

__all__ = [
    "NOISE_LABEL",
    "SELECTION_METHODS",
    "ClusterParams",
    "ClusterResult",
    "ClusterTree",
    "check_fits",
    "cluster_points",
    "fit_to_size",
    "size_limits",
]

#: Label of points HDBSCAN leaves unclustered.
NOISE_LABEL = -1
SELECTION_METHODS = ("eom", "leaf")


class ClusterParamError(PrecomputeError, ValueError):
    """A clustering parameter is out of range; the message names it and the allowed range."""


@dataclass(frozen=True)
class ClusterParams:
    """HDBSCAN parameters.

    Parameters
    ----------
    min_cluster_size : `int`, default: 50
        Smallest group that counts as a cluster. Larger values merge small
        groups into their neighbours or into noise; typical 5-500.
    min_samples : `int`, default: 10
        Neighbourhood size of the core distance: larger values make the
        clustering more conservative (more noise). Kept explicit, because
        HDBSCAN's ``None`` means "= min_cluster_size", which would rebuild the
        tree on every slider move. Typical 1-100.
    selection_method : {'eom', 'leaf'}, default: 'eom'
        'eom' picks the most persistent clusters (fewer, larger); 'leaf' the
        finest ones.
    epsilon : `float`, default: 0.0
        Clusters closer than this (in map units) are merged; 0 disables.
    """

    min_cluster_size: int = 50
    min_samples: int = 10
    selection_method: Literal["eom", "leaf"] = "eom"
    epsilon: float = 0.0

    def __post_init__(self) -> None:
        for name in ("min_cluster_size", "min_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ClusterParamError(f"{name} must be a whole number, got {value!r}")
        if self.min_cluster_size < 2:
            raise ClusterParamError(f"min_cluster_size must be at least 2, got {self.min_cluster_size}")
        if self.min_samples < 1:
            raise ClusterParamError(f"min_samples must be at least 1, got {self.min_samples}")
        if self.selection_method not in SELECTION_METHODS:
            raise ClusterParamError(
                f"selection_method must be one of {SELECTION_METHODS}, got {self.selection_method!r}"
            )
        if not isinstance(self.epsilon, int | float) or not math.isfinite(self.epsilon) or self.epsilon < 0:
            raise ClusterParamError(f"epsilon must be a finite number >= 0, got {self.epsilon!r}")

    def as_dict(self) -> dict[str, object]:
        return {
            "min_cluster_size": int(self.min_cluster_size),
            "min_samples": int(self.min_samples),
            "selection_method": self.selection_method,
            "epsilon": float(self.epsilon),
        }


def size_limits(n_points: int) -> dict[str, int]:
    """The largest ``min_cluster_size`` and ``min_samples`` that ``n_points`` points allow: the one size rule.

    A cluster can hold every point; a core distance needs ``min_samples``
    *other* points. The pipeline lowers settings to these limits
    (`fit_to_size`), the dashboard and the tree refuse values above them (`check_fits`).
    """
    return {"min_cluster_size": n_points, "min_samples": n_points - 1}


def _over_limit(name: str, value: int, n_points: int) -> str | None:
    if value <= size_limits(n_points)[name]:
        return None
    relation = "at most" if name == "min_cluster_size" else "smaller than"
    return f"{name} must be {relation} the number of points ({n_points}), got {value}"


def check_fits(n_points: int, *, min_samples: int | None = None, min_cluster_size: int | None = None) -> None:
    """Raise `ClusterParamError`, naming the parameter and the limit, if a given value is too big for the data."""
    for name, value in (("min_samples", min_samples), ("min_cluster_size", min_cluster_size)):
        problem = None if value is None else _over_limit(name, value, n_points)
        if problem:
            raise ClusterParamError(problem)


def fit_to_size(params: ClusterParams, n_points: int) -> tuple[ClusterParams, list[str]]:
    """``params`` with the values a data set of ``n_points`` cannot satisfy lowered to its limits, and a note for each."""
    limits = size_limits(n_points)
    size = min(params.min_cluster_size, limits["min_cluster_size"])
    samples = min(params.min_samples, limits["min_samples"])
    notes = [
        f"{name} lowered from {old} to {new}: only {n_points} points"
        for name, old, new in (
            ("min_cluster_size", params.min_cluster_size, size),
            ("min_samples", params.min_samples, samples),
        )
        if old != new
    ]
    return ClusterParams(size, samples, params.selection_method, params.epsilon), notes


@dataclass(frozen=True)
class ClusterResult:
    """Labels and per-point and per-cluster scores of one cut of the tree."""

    params: ClusterParams
    labels: np.ndarray  #: int, NOISE_LABEL for noise; clusters numbered 0..k-1 by decreasing size
    probabilities: np.ndarray  #: membership strength in [0, 1] (0 for noise)
    outlier_scores: np.ndarray  #: GLOSH outlier score in [0, 1]; NaN when the cut was asked not to compute them
    persistence: np.ndarray  #: per cluster (index = label): its stability, normalised to its maximum

    @property
    def n_clusters(self) -> int:
        return len(self.persistence)

    @property
    def noise_fraction(self) -> float:
        return float(np.mean(self.labels == NOISE_LABEL)) if len(self.labels) else 0.0


class ClusterTree:
    """The single-linkage tree of a point set for one ``min_samples``, ready to be cut.

    Build it with `ClusterTree.build`, keep it (``linkage`` is an (n-1, 4)
    array that can be saved and restored with `ClusterTree.from_linkage`), and
    call `cut` for any ``min_cluster_size``, selection method and epsilon.
    """

    def __init__(self, linkage: np.ndarray, min_samples: int):
        self.linkage = np.ascontiguousarray(linkage, dtype=np.float64)
        self.min_samples = int(min_samples)
        self.n_points = len(self.linkage) + 1

    @classmethod
    def build(cls, points: np.ndarray, min_samples: int) -> ClusterTree:
        """Build the tree of ``points`` (n, d), the expensive step."""
        from fast_hdbscan.hdbscan import compute_minimum_spanning_tree, mst_to_linkage_tree

        points = np.ascontiguousarray(points, dtype=np.float64)
        if len(points) < 2:
            raise ClusterParamError(f"clustering needs at least 2 points, got {len(points)}")
        check_fits(len(points), min_samples=min_samples)
        if not np.isfinite(points).all():
            raise ClusterParamError("points to cluster contain NaN or infinite coordinates")
        # reproducible: the parallel Boruvka otherwise breaks ties between equal distances by thread timing
        mst = compute_minimum_spanning_tree(points, min_samples=int(min_samples), reproducible=True)[0]
        order = np.lexsort((mst[:, 1], mst[:, 0], mst[:, 2]))
        return cls(mst_to_linkage_tree(mst[order]), min_samples)

    @classmethod
    def from_linkage(cls, linkage: np.ndarray, min_samples: int) -> ClusterTree:
        """Restore a tree saved as its ``linkage`` array."""
        return cls(linkage, min_samples)

    def cut(self, params: ClusterParams, *, outliers: bool = True) -> ClusterResult:
        """Condense and cut the tree with ``params`` (its ``min_samples`` must be this tree's).

        ``outliers=False`` skips the GLOSH scores (NaN instead): the dashboard's re-cut does not show them,
        and at 700,000 points they are a sizeable part of the cut.
        """
        from fast_hdbscan.hdbscan import (
            cluster_epsilon_search,
            cluster_tree_from_condensed_tree,
            cluster_tree_leaves,
            condense_tree,
            extract_eom_clusters,
            get_cluster_label_vector,
        )

        if params.min_samples != self.min_samples:
            raise ClusterParamError(
                f"this tree was built for min_samples={self.min_samples}, not {params.min_samples}; build another"
            )
        check_fits(self.n_points, min_cluster_size=params.min_cluster_size)
        condensed = condense_tree(self.linkage, min_cluster_size=int(params.min_cluster_size))
        cluster_tree = cluster_tree_from_condensed_tree(condensed)
        if params.selection_method == "eom":
            selected = extract_eom_clusters(
                condensed, cluster_tree, max_cluster_size=np.inf, allow_single_cluster=False
            )
        elif cluster_tree.parent.shape[0] == 0:
            selected = np.empty(0, dtype=np.int64)
        else:
            selected = cluster_tree_leaves(cluster_tree, self.n_points)
        if len(selected) > 1 and params.epsilon > 0.0:
            selected = cluster_epsilon_search(selected, cluster_tree, min_epsilon=float(params.epsilon))
        raw = get_cluster_label_vector(condensed, selected, float(params.epsilon), n_samples=self.n_points)
        strengths = _strengths(condensed, selected, raw)
        stability = _stabilities(condensed, selected, self.n_points)
        labels, persistence = _relabel_by_size(np.asarray(raw), stability)
        return ClusterResult(
            params=params,
            labels=labels,
            probabilities=np.asarray(strengths, dtype=np.float64),
            outlier_scores=_glosh(condensed, self.n_points) if outliers else np.full(self.n_points, np.nan),
            persistence=persistence,
        )


@cache
def _kernels():
    """numba kernels for GLOSH and stability, compiled once and cached on disk.

    They compute exactly what hdbscan's ``outlier_scores`` and
    ``compute_stability`` compute (tests compare them), without the
    record-array conversion and Python dict that made those take ~3 s at 1M
    points.
    """
    import numba

    @numba.njit(cache=True)
    def glosh(parent, child, lam, n_points):
        n_nodes = max(parent.max(), child.max()) + 1
        deaths = np.zeros(n_nodes)
        for i in range(len(parent)):
            if lam[i] > deaths[parent[i]]:
                deaths[parent[i]] = lam[i]
        # clusters are numbered top-down, so visiting them by decreasing id passes children before parents
        order = np.argsort(-child)
        for i in order:
            c = child[i]
            if c >= n_points and deaths[c] > deaths[parent[i]]:
                deaths[parent[i]] = deaths[c]
        scores = np.zeros(n_points)
        for i in range(len(parent)):
            point = child[i]
            if point >= n_points:
                continue
            top = deaths[parent[i]]
            if top != 0.0 and np.isfinite(lam[i]):
                scores[point] = (top - lam[i]) / top
        return scores

    @numba.njit(cache=True)
    def stability(parent, child, lam, size, n_points):
        n_nodes = max(parent.max(), child.max()) + 1
        births = np.full(n_nodes, np.inf)
        for i in range(len(parent)):
            c = child[i]
            if c >= n_points and lam[i] < births[c]:
                births[c] = lam[i]
        births[n_points] = 0.0
        result = np.zeros(n_nodes - n_points)
        for i in range(len(parent)):
            p = parent[i]
            result[p - n_points] += (lam[i] - births[p]) * size[i]
        return result

    return SimpleNamespace(glosh=glosh, stability=stability)


@cache
def _cut_kernels():
    """numba kernels for the cut's per-point arrays, compiled once and cached on disk (tests compare them
    with the library code they replace): each the same result with arrays where that used typed dicts or sorting."""
    import numba

    @numba.njit(cache=True)
    def strengths(parent, child, lam, size, selected, raw):
        # fast_hdbscan's get_point_membership_strength_vector with arrays for its typed dicts (10x faster)
        n_nodes = max(parent.max(), child.max()) + 1
        slot = np.full(n_nodes, -1, dtype=np.int64)
        for i, cluster in enumerate(np.sort(selected)):
            slot[cluster] = i
        deaths = np.zeros(len(selected))
        for i in range(len(parent)):
            s = slot[parent[i]]
            if s >= 0 and size[i] == 1 and lam[i] > deaths[s]:
                deaths[s] = lam[i]
        root = parent.min()
        result = np.zeros(len(raw), dtype=np.float32)
        for i in range(len(child)):
            point = child[i]
            if point >= root or raw[point] < 0:
                continue
            death = deaths[raw[point]]
            if death == 0.0 or not np.isfinite(lam[i]):
                result[point] = 1.0
            else:
                result[point] = min(lam[i], death) / death
        return result

    @numba.njit(cache=True)
    def census(raw, k):
        # each cluster's size and first member: np.unique(return_index, return_counts) without sorting
        sizes = np.zeros(k, dtype=np.int64)
        first = np.full(k, len(raw), dtype=np.int64)
        for i in range(len(raw)):
            r = raw[i]
            if r >= 0:
                if sizes[r] == 0:
                    first[r] = i
                sizes[r] += 1
        return sizes, first

    return SimpleNamespace(strengths=strengths, census=census)


def _arrays(condensed) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.asarray(condensed.parent, dtype=np.int64),
        np.asarray(condensed.child, dtype=np.int64),
        np.asarray(condensed.lambda_val, dtype=np.float64),
        np.asarray(condensed.child_size, dtype=np.float64),
    )


def _glosh(condensed, n_points: int) -> np.ndarray:
    """GLOSH outlier score of every point (as hdbscan's ``outlier_scores``)."""
    if len(condensed.parent) == 0:
        return np.zeros(n_points)
    parent, child, lam, _ = _arrays(condensed)
    return _kernels().glosh(parent, child, lam, n_points)


def _strengths(condensed, selected: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """Each point's membership strength in its cluster (as fast_hdbscan's ``get_point_membership_strength_vector``)."""
    if len(selected) == 0 or len(condensed.parent) == 0:
        return np.zeros(len(raw), dtype=np.float32)
    parent, child, lam, size = _arrays(condensed)
    return _cut_kernels().strengths(parent, child, lam, size, np.asarray(selected, dtype=np.int64), np.asarray(raw))


def _stabilities(condensed, selected: np.ndarray, n_points: int) -> np.ndarray:
    """HDBSCAN stability of each selected cluster, in the order of ``selected`` (as hdbscan's ``compute_stability``)."""
    if len(selected) == 0:
        return np.zeros(0)
    parent, child, lam, size = _arrays(condensed)
    per_cluster = _kernels().stability(parent, child, lam, size, n_points)
    return per_cluster[np.asarray(selected, dtype=np.int64) - n_points]


def _relabel_by_size(raw: np.ndarray, stability: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number clusters 0..k-1 by decreasing size (ties by first member), for stable, readable ids."""
    labels = np.full(len(raw), NOISE_LABEL, dtype=np.int64)
    member = raw >= 0
    if not member.any():
        return labels, np.zeros(0)
    sizes, first = _cut_kernels().census(np.asarray(raw, dtype=np.int64), int(raw.max()) + 1)
    ids = np.flatnonzero(sizes)
    first, sizes = first[ids], sizes[ids]
    order = np.lexsort((first, -sizes))
    mapping = np.full(ids.max() + 1, NOISE_LABEL, dtype=np.int64)
    mapping[ids[order]] = np.arange(len(ids))
    labels[member] = mapping[raw[member]]
    persistence = stability[order] if len(stability) == len(ids) else np.zeros(len(ids))
    top = persistence.max() if len(persistence) and persistence.max() > 0 else 1.0
    return labels, persistence / top


def cluster_points(points: np.ndarray, params: ClusterParams) -> tuple[ClusterResult, ClusterTree]:
    """Build the tree for ``params.min_samples`` and cut it: a full HDBSCAN fit."""
    tree = ClusterTree.build(points, params.min_samples)
    return tree.cut(params), tree
