"""Taxonomy metrics in both directions: how pure each cluster is, how scattered each label is.

The seed study looked only at clusters (purity, ambiguity, label entropy), so
it could not see one label spread over many clusters, and its two flags fired
on the same clusters. Here every metric comes in both directions:

- per cluster: size, top label, purity, ambiguity = n (1 - purity), label
  entropy H(label | cluster) in bits, number of labels, effective number of
  labels 2^H, the label shares, persistence and mean membership probability;
- per label: its size, noise fraction, H(cluster | label) in bits, effective
  number of clusters, the clusters holding a meaningful share of it, and its
  main cluster's share and purity;
- globally: homogeneity, completeness, V-measure, NMI and ARI between clusters
  and labels, the noise fraction, and confound checks: NMI between cluster and
  time window (one point per image) and, within each label, the adjusted
  mutual information between cluster and detector.

Noise points (cluster -1) are excluded from every metric and counted apart.
Pure numpy/pandas/scikit-learn: the dashboard recomputes these live.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..cluster import NOISE_LABEL

__all__ = [
    "CONFOUND_NMI_THRESHOLD",
    "GlobalMetrics",
    "cluster_table",
    "contingency",
    "entropy_bits",
    "global_metrics",
    "label_table",
]

#: NMI with the time window / AMI with the detector (within labels) above which a run is warned.
CONFOUND_NMI_THRESHOLD = 0.1
#: A label enters the detector check only with at least this many clustered members from each detector.
_MIN_PER_DETECTOR = 5


def entropy_bits(counts: np.ndarray) -> float:
    """Shannon entropy (bits) of a count vector; exactly 0 for a single non-zero count."""
    counts = np.asarray(counts, dtype=np.float64)
    counts = counts[counts > 0]
    if len(counts) <= 1:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def sorted_codes(values: np.ndarray | pd.Categorical) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` by hashing instead of sorting the values: the same sorted
    names and codes, several times faster for strings (700,000 labels: ~0.05 s against ~0.5 s).

    A `pandas.Categorical` with sorted categories (how the dashboard keeps each label
    source, coded once) answers from its codes without reading a string.
    """
    if isinstance(values, pd.Categorical) and values.categories.is_monotonic_increasing and (values.codes >= 0).all():
        present, codes = _cluster_codes(values.codes.astype(np.intp))  # the categories in use, renumbered
        return np.asarray(values.categories)[present], codes
    codes, names = pd.factorize(np.asarray(values), sort=True)
    return np.asarray(names), codes.astype(np.intp)


def _cluster_codes(clusters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`sorted_codes` of non-negative integer cluster ids, by counting (linear, no hashing)."""
    if clusters.dtype.kind not in "iu" or (len(clusters) and clusters.min() < 0):
        return sorted_codes(clusters)
    present = np.flatnonzero(np.bincount(clusters))
    lookup = np.zeros(len(present) and present[-1] + 1, dtype=np.intp)
    lookup[present] = np.arange(len(present))
    return present, lookup[clusters]


def _as_labels(labels: np.ndarray | pd.Categorical) -> np.ndarray | pd.Categorical:
    """Labels as strings, or the `pandas.Categorical` they came as (its codes are what the metrics count)."""
    return labels if isinstance(labels, pd.Categorical) else np.asarray(labels).astype(str)


def contingency(clusters: np.ndarray, labels: np.ndarray | pd.Categorical) -> pd.DataFrame:
    """Cluster x label counts over clustered points (noise excluded); rows sorted by cluster id."""
    clusters, labels = np.asarray(clusters), _as_labels(labels)
    keep = clusters != NOISE_LABEL
    # codes + bincount: the same table as pd.crosstab, ~10x faster (the dashboard recomputes it per re-cut)
    cluster_ids, cluster_index = _cluster_codes(clusters[keep])
    label_names, label_index = sorted_codes(labels[keep])
    counts = np.bincount(
        cluster_index * len(label_names) + label_index, minlength=len(cluster_ids) * len(label_names)
    ).reshape(len(cluster_ids), len(label_names))
    return pd.DataFrame(
        counts,
        index=pd.Index(cluster_ids, name="cluster"),
        columns=pd.Index(label_names.astype(object), name="label"),
    )


def cluster_table(
    clusters: np.ndarray,
    labels: np.ndarray,
    *,
    probabilities: np.ndarray | None = None,
    persistence: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per cluster (see the module docstring); sorted by ambiguity, largest first."""
    table = contingency(clusters, labels)
    columns = [
        "cluster", "size", "top_label", "purity", "ambiguity", "entropy_bits", "n_labels",
        "effective_labels", "label_shares", "persistence", "mean_probability",
    ]  # fmt: skip
    if table.empty:
        return pd.DataFrame(columns=columns)
    counts = table.to_numpy()
    sizes = counts.sum(axis=1)
    top = counts.argmax(axis=1)
    purity = counts.max(axis=1) / sizes
    entropy = np.array([entropy_bits(row) for row in counts])
    clusters = np.asarray(clusters)
    if probabilities is not None:  # each cluster's mean membership, in one pass over the points
        clustered = clusters != NOISE_LABEL
        index = np.searchsorted(table.index.to_numpy(), clusters[clustered])
        mean_probability = np.bincount(index, np.asarray(probabilities)[clustered], len(table)) / sizes
    rows = []
    for i, cluster in enumerate(table.index):
        shares = {
            str(label): round(float(c) / sizes[i], 4) for label, c in zip(table.columns, counts[i], strict=True) if c
        }
        rows.append(
            {
                "cluster": int(cluster),
                "size": int(sizes[i]),
                "top_label": str(table.columns[top[i]]),
                "purity": float(purity[i]),
                "ambiguity": float(sizes[i] * (1 - purity[i])),
                "entropy_bits": float(entropy[i]),
                "n_labels": int((counts[i] > 0).sum()),
                "effective_labels": float(2 ** entropy[i]),
                "label_shares": dict(sorted(shares.items(), key=lambda kv: -kv[1])),
                "persistence": float(persistence[cluster])
                if persistence is not None and cluster < len(persistence)
                else np.nan,
                "mean_probability": float(mean_probability[i]) if probabilities is not None else np.nan,
            }
        )
    return (
        pd.DataFrame(rows, columns=columns).sort_values(["ambiguity", "size"], ascending=False).reset_index(drop=True)
    )


def label_table(clusters: np.ndarray, labels: np.ndarray, *, min_share: float = 0.1) -> pd.DataFrame:
    """One row per label: how it spreads over clusters. ``min_share`` defines a meaningful share."""
    clusters, labels = np.asarray(clusters), np.asarray(labels, dtype=object)
    table = contingency(clusters, labels)
    cluster_sizes = table.sum(axis=1)
    rows = []
    for label in sorted(set(labels.tolist()), key=str):
        total = int((labels == label).sum())
        noise = int(((labels == label) & (clusters == NOISE_LABEL)).sum())
        column = table[label] if label in table.columns else pd.Series(dtype=np.int64)
        column = column[column > 0].sort_values(ascending=False)
        clustered = int(column.sum())
        entropy = entropy_bits(column.to_numpy())
        main = int(column.index[0]) if clustered else None
        shares = (column / clustered) if clustered else column
        rows.append(
            {
                "label": str(label),
                "size": total,
                "clustered": clustered,
                "noise_fraction": noise / total if total else 0.0,
                "cluster_entropy_bits": entropy,
                "effective_clusters": float(2**entropy),
                "n_clusters": len(column),
                "main_cluster": main,
                "main_cluster_share": float(shares.iloc[0]) if clustered else np.nan,
                "main_cluster_purity": float(column.iloc[0] / cluster_sizes[main]) if clustered else np.nan,
                "clusters_with_share": {int(c): round(float(s), 4) for c, s in shares.items() if s >= min_share},
            }
        )
    return pd.DataFrame(rows).sort_values(["cluster_entropy_bits", "size"], ascending=False).reset_index(drop=True)


def _nmi_if_varied(values: np.ndarray | None, clusters: np.ndarray, keep: np.ndarray) -> float | None:
    """NMI of clusters with ``values`` (e.g. time windows), or None when they do not vary."""
    from sklearn.metrics import normalized_mutual_info_score

    if values is None:
        return None
    values = np.asarray(values, dtype=str)[keep]
    if len(np.unique(values)) < 2 or len(clusters) == 0:
        return None
    return float(normalized_mutual_info_score(values, clusters))


def _ami_within_labels(
    detectors: np.ndarray | None, clusters: np.ndarray, labels: np.ndarray, keep: np.ndarray
) -> float | None:
    """Size-weighted mean, over labels seen in both detectors, of AMI(cluster, detector) within the label.

    Classes are unevenly split between H1 and L1 (Helix is nearly all L1), so
    clusters that follow shape also correlate with the detector overall. Within
    one label they should not: a high value means the map separates the same
    kind of glitch by detector. Adjusted mutual information, not NMI: within a
    label the groups are small, and NMI of two unrelated small partitions is
    far from 0 (0.23 on the demo set, whose detectors differ only in the
    cropped-out title), while AMI is 0 in expectation.
    """
    from sklearn.metrics import adjusted_mutual_info_score

    if detectors is None:
        return None
    detectors = np.asarray(detectors, dtype=str)[keep]
    total, weighted = 0, 0.0
    for label in np.unique(labels):
        members = labels == label
        _, per_detector = np.unique(detectors[members], return_counts=True)
        if len(per_detector) < 2 or per_detector.min() < _MIN_PER_DETECTOR or len(np.unique(clusters[members])) < 2:
            continue  # too few of one detector to tell a split from chance
        weighted += members.sum() * adjusted_mutual_info_score(detectors[members], clusters[members])
        total += members.sum()
    return float(weighted / total) if total else None


def _ami_within_labels_per_window(
    detectors: np.ndarray | None, windows: np.ndarray | None, clusters: np.ndarray, labels: np.ndarray, keep: np.ndarray
) -> float | None:
    """`_ami_within_labels`, computed within each time window and averaged when points are images.

    With one point per image a glitch appears four times, always with the same
    detector: those points are not independent, and pooling them inflates the
    statistic (0.13 on the demo set, whose detectors differ only in the cropped
    title). Within one window every glitch appears once.
    """
    if windows is None or len(np.unique(np.asarray(windows, dtype=str))) < 2:
        return _ami_within_labels(detectors, clusters, labels, keep)
    if detectors is None:
        return None
    windows = np.asarray(windows, dtype=str)[keep]
    detectors = np.asarray(detectors, dtype=str)[keep]
    everything = np.ones(len(clusters), dtype=bool)
    scores = []
    for window in np.unique(windows):
        inside = windows == window
        score = _ami_within_labels(detectors[inside], clusters[inside], labels[inside], everything[inside])
        if score is not None:
            scores.append(score)
    return float(np.mean(scores)) if scores else None


def _agreement(counts: np.ndarray) -> dict[str, float]:
    """Homogeneity, completeness, V-measure, NMI (arithmetic) and ARI from a cluster x label count table.

    scikit-learn's definitions and special cases (tests compare them), from the one
    table the caller already has: its functions would each rebuild it, three times
    over 700,000 points on every re-cut of the dashboard.
    """
    counts = counts.astype(np.float64)
    n = counts.sum()
    per_cluster, per_label = counts.sum(axis=1), counts.sum(axis=0)
    per_label = per_label[per_label > 0]

    def entropy(sizes: np.ndarray) -> float:
        return float(-np.sum(sizes / n * (np.log(sizes) - np.log(n)))) if len(sizes) > 1 else 0.0

    h_label, h_cluster = entropy(per_label), entropy(per_cluster)
    nz = counts[counts > 0]
    outer = np.outer(per_cluster, counts.sum(axis=0))[counts > 0]
    mi = float(max(np.sum(nz / n * (np.log(nz) - np.log(outer) + np.log(n))), 0.0))
    if len(per_label) == 1 or len(per_cluster) == 1:
        mi = 0.0  # exactly, as scikit-learn has it (the sum above leaves rounding)
    homogeneity = mi / h_label if h_label else 1.0
    completeness = mi / h_cluster if h_cluster else 1.0
    v_measure = 2 * homogeneity * completeness / (homogeneity + completeness) if homogeneity + completeness else 0.0
    if len(per_label) == len(per_cluster) == 1:
        nmi = 1.0
    else:
        nmi = 0.0 if mi == 0 else mi / max((h_label + h_cluster) / 2, np.finfo(np.float64).eps)
    # the adjusted Rand index from pair counts, as sklearn.metrics.pair_confusion_matrix forms them
    squares = float(np.sum(nz**2))
    same_both = squares - n
    same_cluster = float(np.sum(per_cluster**2)) - squares
    same_label = float(np.sum(per_label**2)) - squares
    neither = n**2 - same_cluster - same_label - squares
    if same_cluster == 0 and same_label == 0:
        ari = 1.0
    else:
        ari = (
            2.0
            * (same_both * neither - same_cluster * same_label)
            / (
                (same_both + same_cluster) * (same_cluster + neither)
                + (same_both + same_label) * (same_label + neither)
            )
        )
    return {
        "homogeneity": float(homogeneity),
        "completeness": float(completeness),
        "v_measure": float(v_measure),
        "nmi": float(nmi),
        "ari": float(ari),
    }


@dataclass(frozen=True)
class GlobalMetrics:
    """Agreement between clusters and labels over clustered points, and the confound checks."""

    n_points: int
    n_clustered: int
    n_clusters: int
    noise_fraction: float
    homogeneity: float
    completeness: float
    v_measure: float
    nmi: float
    ari: float
    nmi_window: float | None
    ami_detector_within_labels: float | None
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


def global_metrics(
    clusters: np.ndarray,
    labels: np.ndarray,
    *,
    windows: np.ndarray | None = None,
    detectors: np.ndarray | None = None,
    threshold: float = CONFOUND_NMI_THRESHOLD,
) -> GlobalMetrics:
    """Cluster-label agreement (noise excluded) and NMI of clusters with window and detector.

    ``windows`` is checked only when it varies (one point per image); a value
    above ``threshold`` adds a warning: the map groups by a nuisance variable.
    """
    clusters, labels = np.asarray(clusters), _as_labels(labels)
    names, codes = sorted_codes(labels)
    keep = clusters != NOISE_LABEL
    c, y = clusters[keep], codes[keep]
    counts = contingency(clusters, labels).to_numpy()
    n_clusters = len(counts)
    warnings: list[str] = []
    if len(c) == 0:
        scores = dict.fromkeys(("homogeneity", "completeness", "v_measure", "nmi", "ari"), float("nan"))
    else:
        scores = _agreement(counts)

    if len(names) == 1:
        warnings.append(
            f"every point has the single label {str(names[0])!r}: label entropy, merge suggestions and neighbour "
            "agreement say nothing; only the clusters (and split or novel findings) are informative"
        )
    nmi_window = _nmi_if_varied(windows, c, keep)
    if nmi_window is not None and nmi_window > threshold:
        warnings.append(
            f"clusters follow the time window (NMI {nmi_window:.2f} > {threshold}): the map groups images by "
            "duration, not by shape (the seed study's confound)"
        )
    ami_detector = _ami_within_labels_per_window(detectors, windows, c, y, keep)
    if ami_detector is not None and ami_detector > threshold:
        warnings.append(
            f"within labels, clusters follow the detector (AMI {ami_detector:.2f} > {threshold}): the map separates "
            "the same kind of glitch by H1/L1"
        )
    return GlobalMetrics(
        n_points=len(clusters),
        n_clustered=int(keep.sum()),
        n_clusters=n_clusters,
        noise_fraction=float(1 - keep.mean()) if len(clusters) else 0.0,
        nmi_window=nmi_window,
        ami_detector_within_labels=ami_detector,
        warnings=tuple(warnings),
        **scores,
    )
