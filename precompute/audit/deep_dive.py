"""Deep dive of one cluster: its members along its main direction, cut into segments, and by intensity.

The seed's "Cluster 16" analysis, computed for any cluster of any run instead
of drawn by hand for one:

- **Main axis.** Members' embedding vectors (L2-normalised, so the direction
  is the one cosine UMAP saw) are projected on their first principal
  component. Its sign is fixed so that position grows with intensity where
  intensities are known (else with the map's x), so "lower" and "upper" mean
  the same thing on every run. The share of variance the axis explains says
  how 1-D the cluster is.
- **Segments.** The ordered members are cut into ``n_segments`` equal-count
  segments; each gets its canonical (majority) label and its disagreement rate
  (the share of members whose label differs). A member that disagrees with a
  segment holding at least ``min_segment_share`` of one label is proposed for
  that label, with a one-line justification.
- **Intensity.** Members ordered by the mean normalized energy of their plot
  areas (`precompute.previews.energy_stats`), not by RGB over the whole figure.

Pure numpy and pandas: the dashboard calls it on clusters of a live re-cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["DeepDive", "deep_dive", "deep_dive_all"]


@dataclass(frozen=True)
class DeepDive:
    """One cluster's ordered members and segments."""

    cluster: int
    explained_variance: float  #: share of the members' variance along the main axis
    members: pd.DataFrame  #: point_id, gravityspy_id, label, position, segment, segment_label, disagrees, proposed_label, justification, intensity
    segments: pd.DataFrame  #: segment, size, start, end, canonical_label, canonical_share, disagreement, label_shares


def _main_axis(vectors: np.ndarray) -> tuple[np.ndarray, float]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms > 0, norms, 1.0)
    centred = unit - unit.mean(axis=0)
    if len(centred) < 2 or not np.any(centred):
        return np.zeros(len(vectors)), 0.0
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    total = float((singular**2).sum())
    return centred @ vt[0], float(singular[0] ** 2 / total) if total > 0 else 0.0


def deep_dive(
    points: pd.DataFrame,
    embeddings: np.ndarray,
    cluster: int,
    *,
    clusters: np.ndarray | None = None,
    n_segments: int = 3,
    min_segment_share: float = 0.6,
) -> DeepDive:
    """Order ``cluster``'s members along its main axis and cut them into segments.

    Parameters
    ----------
    points : `pandas.DataFrame`
        The run's points (``point_id``, ``gravityspy_id``, ``label``, ``x``;
        ``intensity`` when known), row i matching ``embeddings[i]``.
    embeddings : `numpy.ndarray`
        (n_points, d) vectors.
    cluster : `int`
        The cluster to examine.
    clusters : `numpy.ndarray`, optional, default: ``points["cluster"]``
        Cluster labels to use instead (a live re-cut in the dashboard).
    n_segments : `int`, optional, default: 3
        Equal-count segments along the axis (the seed used lower/middle/upper).
    min_segment_share : `float`, optional, default: 0.6
        A segment's canonical label must hold this share before its
        disagreeing members are proposed for it.

    Raises
    ------
    ValueError
        If the cluster has no members or ``n_segments`` is below 1.
    """
    if n_segments < 1:
        raise ValueError(f"n_segments must be at least 1, got {n_segments}")
    labels_of = np.asarray(points["cluster"] if clusters is None else clusters)
    rows = np.flatnonzero(labels_of == cluster)
    if len(rows) == 0:
        raise ValueError(f"cluster {cluster} has no members")
    position, explained = _main_axis(np.asarray(embeddings[rows], dtype=np.float64))
    intensity = points["intensity"].to_numpy(dtype=float)[rows] if "intensity" in points else np.full(len(rows), np.nan)
    reference = intensity if np.isfinite(intensity).sum() >= 2 else points["x"].to_numpy(dtype=float)[rows]
    finite = np.isfinite(reference)
    if finite.sum() >= 2 and np.corrcoef(position[finite], reference[finite])[0, 1] < 0:
        position = -position
    order = np.argsort(position, kind="stable")
    members = pd.DataFrame(
        {
            "point_id": (points["point_id"].to_numpy() if "point_id" in points else np.arange(len(points)))[rows][
                order
            ],
            "gravityspy_id": points["gravityspy_id"].to_numpy()[rows][order],
            "label": points["label"].astype(str).to_numpy()[rows][order],
            "position": position[order],
            "intensity": intensity[order],
        }
    )
    n_seg = min(n_segments, len(members))
    members["segment"] = np.arange(len(members)) * n_seg // len(members)
    segments = []
    for segment, group in members.groupby("segment", sort=True):
        shares = group["label"].value_counts(normalize=True)
        segments.append(
            {
                "cluster": cluster,
                "segment": int(segment),
                "size": len(group),
                "start": float(group["position"].iloc[0]),
                "end": float(group["position"].iloc[-1]),
                "canonical_label": str(shares.index[0]),
                "canonical_share": float(shares.iloc[0]),
                "disagreement": float(1 - shares.iloc[0]),
                "label_shares": {str(k): round(float(v), 4) for k, v in shares.items()},
            }
        )
    segment_table = pd.DataFrame(segments)
    canonical = segment_table.set_index("segment")["canonical_label"]
    share = segment_table.set_index("segment")["canonical_share"]
    members["segment_label"] = canonical.reindex(members["segment"]).to_numpy()
    members["disagrees"] = members["label"] != members["segment_label"]
    confident = share.reindex(members["segment"]).to_numpy() >= min_segment_share
    members["proposed_label"] = np.where(members["disagrees"] & confident, members["segment_label"], members["label"])
    members["justification"] = [
        (
            f"segment {s + 1}/{n_seg} of cluster {cluster} along its main axis is "
            f"{share[s]:.0%} {canonical[s]}"
            + ("" if d and c else "; label agrees" if not d else "; segment too mixed to propose")
        )
        for s, d, c in zip(members["segment"], members["disagrees"], confident, strict=True)
    ]
    members.insert(0, "cluster", cluster)
    return DeepDive(cluster=cluster, explained_variance=explained, members=members, segments=segment_table)


def deep_dive_all(
    points: pd.DataFrame, embeddings: np.ndarray, *, n_segments: int = 3, min_segment_share: float = 0.6
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deep dives of every cluster (noise excluded): all members, all segments (with each cluster's axis variance)."""
    members, segments = [], []
    for cluster in sorted(c for c in points["cluster"].unique() if c >= 0):
        dive = deep_dive(points, embeddings, int(cluster), n_segments=n_segments, min_segment_share=min_segment_share)
        members.append(dive.members)
        segments.append(dive.segments.assign(explained_variance=dive.explained_variance))
    if not members:
        return pd.DataFrame(), pd.DataFrame()
    return pd.concat(members, ignore_index=True), pd.concat(segments, ignore_index=True)
