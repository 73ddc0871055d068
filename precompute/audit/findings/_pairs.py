"""Labels that share clusters, and the verdict on each linked pair: merge, continuum or overlap.

For each cluster, the labels holding a substantial share of it
(``min_cluster_share`` of its members and at least ``min_count``) are linked.
Each linked pair gets one verdict:

- **continuum** when its members separate cleanly along their shared
  clusters' main map axis (``axis_auc``): one shape drifting into another,
  labelled by which side of an arbitrary line it falls; relabel along the
  boundary, don't merge;
- **overlap** when nearest neighbours in the embedding space still tell its
  labels apart (``label_mixing`` above ``max_mixing``): two shapes a coarse
  clustering put together, not one shape with two names;
- **merge** otherwise: labels mixed nearly at random, interchangeable, which is
  what over-splitting means. Without embeddings every non-continuum pair is a
  merge.

Pairs with one verdict form groups (connected components); each group is one
finding of that kind (`SharedClusterFinding` and its kinds in ``merge.py``,
``continuum.py``, ``overlap.py``). In the spirit of cleanlab's
``find_overlapping_classes``, but from the cluster x label table and the
neighbours: no classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from ..metrics import contingency
from ..neighbours import label_mixing
from ..params import FindingParams
from ._base import _REGISTRY, Finding, FindingContext, FindingView

__all__ = [
    "VERDICTS",
    "LinkedGroup",
    "SharedClusterFinding",
    "connected_components",
    "linked_label_groups",
    "merge_suggestions",
]

#: The verdicts, in the order their groups are listed.
VERDICTS = ("merge", "continuum", "overlap")


@dataclass(frozen=True)
class LinkedGroup:
    """Labels linked through the clusters they share, all of whose pairs got one verdict."""

    verdict: str
    labels: list[str]
    clusters: list[int]
    counts: dict[str, dict[str, int]]  #: cluster -> label -> members
    axis_auc: dict[str, float]  #: "a | b" -> separation along the shared clusters' main map axis
    examples: dict[str, list[str]]  #: label -> first gravityspy_ids in the shared clusters
    label_mixing: dict[str, float] | None  #: "a | b" -> how well neighbours tell them apart; None without embeddings


def _axis_auc(coords: np.ndarray, labels: np.ndarray, a: str, b: str) -> float:
    """How cleanly labels a and b separate along the main axis of their members' map positions (AUC in [0.5, 1])."""
    from scipy.stats import rankdata

    members = (labels == a) | (labels == b)
    points = coords[members] - coords[members].mean(axis=0)
    if members.sum() < 4:
        return 0.5
    _, _, vt = np.linalg.svd(points, full_matrices=False)
    projection = points @ vt[0]
    positive = labels[members] == a
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return 0.5
    # ROC AUC as the Mann-Whitney U statistic (ties get average ranks), as roc_auc_score computes it
    auc = (rankdata(projection)[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(auc, 1 - auc))


def _links(table: pd.DataFrame, params: FindingParams) -> dict[tuple[str, str], list[int]]:
    """Label pairs that each hold a substantial share of a cluster, with the clusters they share."""
    counts = table.to_numpy()
    floor = np.maximum(params.min_count, params.min_cluster_share * counts.sum(axis=1))
    links: dict[tuple[str, str], list[int]] = {}
    for cluster, row, least in zip(table.index, counts, floor, strict=True):
        strong = [str(table.columns[j]) for j in np.flatnonzero(row >= least)]
        for i, a in enumerate(strong):
            for b in strong[i + 1 :]:
                links.setdefault(tuple(sorted((a, b))), []).append(int(cluster))
    return links


def linked_label_groups(
    points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray | None = None
) -> list[LinkedGroup]:
    """Every group of labels linked by shared clusters, with its verdict (see the module docstring)."""
    labels = points["label"].astype(str).to_numpy()
    clusters = points["cluster"].to_numpy()
    table = contingency(clusters, labels)
    links = _links(table, params)
    if not links:
        return []
    coords = points[["x", "y"]].to_numpy()
    ids = points["gravityspy_id"].astype(str).to_numpy()
    verdicts, mixing = {}, {}
    for (a, b), shared in links.items():
        inside = np.isin(clusters, shared)
        auc = _axis_auc(coords[inside], labels[inside], a, b)
        verdict = "continuum" if auc >= params.axis_auc else "merge"
        if verdict == "merge" and embeddings is not None:
            pair = inside & np.isin(labels, [a, b])
            mixing[(a, b)] = label_mixing(embeddings[pair], labels[pair], params.mix_k)
            verdict = "overlap" if mixing[(a, b)] > params.max_mixing else "merge"
        verdicts[(a, b)] = (verdict, auc)
    found = []
    for verdict in VERDICTS:
        graph = {pair: shared for pair, shared in links.items() if verdicts[pair][0] == verdict}
        for group in connected_components(graph):
            shared = sorted({c for pair, cs in graph.items() if set(pair) <= group for c in cs})
            counts = {
                str(c): {lab: int(table.at[c, lab]) for lab in sorted(group) if table.at[c, lab] > 0} for c in shared
            }
            in_shared = np.isin(clusters, shared)
            pairs = [(a, b) for (a, b) in graph if {a, b} <= group]
            found.append(
                LinkedGroup(
                    verdict=verdict,
                    labels=sorted(group),
                    clusters=shared,
                    counts=counts,
                    axis_auc={f"{a} | {b}": round(verdicts[(a, b)][1], 3) for a, b in pairs},
                    examples={lab: ids[in_shared & (labels == lab)][:5].tolist() for lab in sorted(group)},
                    label_mixing={f"{a} | {b}": round(mixing[(a, b)], 3) for a, b in pairs if (a, b) in mixing}
                    if any(pair in mixing for pair in pairs)
                    else None,
                )
            )
    return found


def connected_components(graph: dict[tuple[str, str], Any]) -> list[set[str]]:
    """Groups of labels joined by the pairs of ``graph`` (its keys), each group sorted out by its first label."""
    neighbours: dict[str, set[str]] = {}
    for a, b in graph:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    seen: set[str] = set()
    groups = []
    for start in sorted(neighbours):
        if start in seen:
            continue
        group, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node not in group:
                group.add(node)
                stack.extend(neighbours[node] - group)
        seen |= group
        groups.append(group)
    return groups


@dataclass(frozen=True, kw_only=True)
class SharedClusterFinding(Finding):
    """A group of labels sharing clusters (the fields of `LinkedGroup`); its kind is the group's verdict."""

    labels: list[str]
    clusters: list[int]
    counts: dict[str, dict[str, int]]
    axis_auc: dict[str, float]
    examples: dict[str, list[str]]
    label_mixing: dict[str, float] | None = None

    @classmethod
    def from_group(cls, group: LinkedGroup) -> Self:
        return cls(
            labels=group.labels,
            clusters=group.clusters,
            counts=group.counts,
            axis_auc=group.axis_auc,
            examples=group.examples,
            label_mixing=group.label_mixing,
        )

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        return [cls.from_group(g) for g in context.linked_groups if g.verdict == cls.kind]

    def view(self) -> FindingView:
        evidence = "; ".join(f"{pair}: axis AUC {auc:.2f}" for pair, auc in self.axis_auc.items())
        if self.label_mixing:
            told = "; ".join(f"{pair}: neighbours tell apart {m:.2f}" for pair, m in self.label_mixing.items())
            evidence = f"{evidence}; {told}"
        return FindingView(
            headline=f"{' + '.join(self.labels)} in cluster(s) {', '.join(map(str, self.clusters))}",
            details=(evidence,),
            examples=tuple(("", tuple(ids)) for ids in self.examples.values()),
        )

    def cli_line(self) -> str:
        return f"{self.kind}: {', '.join(self.labels)} (clusters {', '.join(map(str, self.clusters))})"


def merge_suggestions(
    points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray | None = None
) -> list[SharedClusterFinding]:
    """Every group of labels sharing clusters as a finding of its verdict's kind (merge, continuum, overlap)."""
    return [_REGISTRY[g.verdict].from_group(g) for g in linked_label_groups(points, params, embeddings)]
