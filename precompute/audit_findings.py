"""Findings: where the taxonomy fails, with evidence, computed from a run's clusters, labels and embeddings.

- **Merge** (over-splitting): groups of labels that keep landing in the same
  clusters. For each cluster, the labels holding a substantial share of it
  (``min_cluster_share`` of its members and at least ``min_count``) are linked;
  linked labels form groups (connected components). A pair whose members
  separate cleanly along their shared clusters' main axis (``axis_auc``) is a
  *boundary on a continuum* instead: one shape drifting into another, labelled
  by which side of an arbitrary line it falls, so the advice is to relabel
  along the boundary, not to merge. A pair whose labels its members' nearest
  neighbours in the embedding space still tell apart (``label_mixing`` above
  ``max_mixing``) is an *overlap*: two shapes a coarse clustering put
  together, not one shape with two names. Over-splitting means the labels are
  interchangeable, so only pairs mixed nearly at random are merges. In the
  spirit of cleanlab's ``find_overlapping_classes``, but from the cluster x
  label table and the neighbours: no classifier.
- **Split** (over-compression): a label whose members form two groups in
  one of the Omicron shape parameters (``min_delta_bic``) that their nearest
  neighbours in the embedding space also tell apart (``max_mixing``), see
  `precompute.audit_groups`. Without Omicron parameters: a label with at least
  ``min_label_share`` of its clustered members (and ``min_count``) in each of
  two or more clusters.
- **Novel class**: a cluster dominated (``novel_purity``) by a catch-all label
  such as None_of_the_Above: a coherent shape the taxonomy has no name for.
- **Per glitch**: agreement of its label with its ``k`` nearest neighbours in the
  embedding space (cosine, not the 2-D map): the share carrying its label, and
  the evidence line ("4/10 nearest neighbours share its label"). The proposed
  label is the neighbours' majority when it differs and holds at least
  ``min_majority`` of them. ``suspicion`` ranks: 1 minus the rank-weighted
  agreement of its ``suspicion_k`` nearest neighbours (the r-th weighted 1/r),
  which breaks the ties of a ten-way vote.

Every threshold is a field of `FindingParams`, recorded beside the findings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .audit_groups import TwoGroups
from .audit_metrics import contingency
from .classes import CATCH_ALL_LABELS
from .cluster import NOISE_LABEL
from .neighbours import knn_label_probabilities, label_mixing, nearest_neighbours, rank_weighted_agreement

__all__ = [
    "CATCH_ALL_LABELS",
    "FindingParams",
    "all_findings",
    "glitch_suspicion",
    "label_mixing",
    "merge_suggestions",
    "novel_classes",
    "split_suggestions",
]


@dataclass(frozen=True)
class FindingParams:
    """Thresholds of the findings (see the module docstring)."""

    min_count: int = 3
    min_cluster_share: float = 0.15
    min_label_share: float = 0.15
    axis_auc: float = 0.85
    novel_purity: float = 0.6
    k: int = 10
    min_majority: float = 0.5
    mix_k: int = 5
    max_mixing: float = 0.2
    min_delta_bic: float = 10.0
    suspicion_k: int = 20

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:12]


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


def merge_suggestions(points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray | None = None) -> list[dict]:
    """Groups of labels sharing clusters; each with its clusters, counts, examples and kind.

    Kinds: ``merge``, ``continuum`` and, when ``embeddings`` (one row per point)
    are given, ``overlap`` for pairs whose neighbours tell them apart (see the
    module docstring). Without embeddings every non-continuum pair is a merge.
    """
    labels = points["label"].astype(str).to_numpy()
    clusters = points["cluster"].to_numpy()
    table = contingency(clusters, labels)
    counts_array = table.to_numpy()
    floor = np.maximum(params.min_count, params.min_cluster_share * counts_array.sum(axis=1))
    links: dict[tuple[str, str], list[int]] = {}
    for cluster, row, least in zip(table.index, counts_array, floor, strict=True):
        strong = [str(table.columns[j]) for j in np.flatnonzero(row >= least)]
        for i, a in enumerate(strong):
            for b in strong[i + 1 :]:
                links.setdefault(tuple(sorted((a, b))), []).append(int(cluster))
    if not links:
        return []
    coords = points[["x", "y"]].to_numpy()
    ids = points["gravityspy_id"].astype(str).to_numpy()
    pair_kind, mixing = {}, {}
    for (a, b), shared in links.items():
        inside = np.isin(clusters, shared)
        auc = _axis_auc(coords[inside], labels[inside], a, b)
        kind = "continuum" if auc >= params.axis_auc else "merge"
        if kind == "merge" and embeddings is not None:
            pair = inside & np.isin(labels, [a, b])
            mixing[(a, b)] = label_mixing(embeddings[pair], labels[pair], params.mix_k)
            kind = "overlap" if mixing[(a, b)] > params.max_mixing else "merge"
        pair_kind[(a, b)] = (kind, auc)
    findings = []
    for kind in ("merge", "continuum", "overlap"):
        graph = {pair: shared for pair, shared in links.items() if pair_kind[pair][0] == kind}
        for group in _components(graph):
            shared = sorted({c for pair, cs in graph.items() if set(pair) <= group for c in cs})
            counts = {
                str(c): {lab: int(table.at[c, lab]) for lab in sorted(group) if table.at[c, lab] > 0} for c in shared
            }
            in_shared = np.isin(clusters, shared)
            examples = {lab: ids[in_shared & (labels == lab)][:5].tolist() for lab in sorted(group)}
            pairs = [(a, b) for (a, b) in graph if {a, b} <= group]
            finding = {
                "kind": kind,
                "labels": sorted(group),
                "clusters": shared,
                "counts": counts,
                "axis_auc": {f"{a} | {b}": round(pair_kind[(a, b)][1], 3) for a, b in pairs},
                "examples": examples,
            }
            if any(pair in mixing for pair in pairs):
                finding["label_mixing"] = {f"{a} | {b}": round(mixing[(a, b)], 3) for a, b in pairs if (a, b) in mixing}
            findings.append(finding)
    return findings


def _components(graph: dict[tuple[str, str], list[int]]) -> list[set[str]]:
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


def split_suggestions(
    points: pd.DataFrame, params: FindingParams, groups: dict[str, TwoGroups] | None = None
) -> list[dict]:
    """Labels holding two shapes; each with the clusters its members fall in, shares and examples.

    ``groups`` are the run's two-view groups (`precompute.audit_groups.label_groups`,
    clustering-independent): each becomes a split with ``evidence``
    ``omicron+neighbours``. Without them (no Omicron parameters, an image
    folder), a label with a substantial share of its members in each of two or
    more clusters is reported, with ``evidence`` ``clusters``: the weaker rule,
    since a clustering also cuts one shape in two by loudness.
    """
    if groups is not None:
        return [_two_view_split(points, found, params) for _, found in sorted(groups.items())]
    return _cluster_splits(points, params)


#: Units of the Omicron parameters, for the evidence line.
_UNITS = {"duration": " s", "peak_frequency": " Hz", "bandwidth": " Hz"}


def _two_view_split(points: pd.DataFrame, found: TwoGroups, params: FindingParams) -> dict:
    """One label's run-wide groups as a split finding, placed in this clustering's clusters."""
    clusters = points["cluster"].to_numpy()[found.members]
    ids = points["gravityspy_id"].astype(str).to_numpy()[found.members]
    unit = _UNITS.get(found.parameter, "")
    names = [f"{found.parameter} ~ {median:.3g}{unit}" for median in found.medians]
    if names[0] == names[1]:  # medians equal to three digits: keep the two groups' keys apart
        names = [f"{names[0]} (lower)", f"{names[1]} (upper)"]
    in_clusters = clusters != NOISE_LABEL
    counts = pd.Series(clusters[in_clusters]).value_counts()
    held = counts[counts >= params.min_count]
    groups, examples = {}, {}
    for g, name in enumerate(names):
        mine = found.group == g
        where = pd.Series(clusters[mine & in_clusters]).value_counts()
        groups[name] = {
            "size": int(mine.sum()),
            "clusters": {str(int(c)): int(n) for c, n in where.items()},
            "noise": int((mine & ~in_clusters).sum()),
        }
        examples[name] = ids[mine][:5].tolist()
    return {
        "kind": "split",
        "label": found.label,
        "evidence": "omicron+neighbours",
        "parameter": found.parameter,
        "delta_bic": found.delta_bic,
        "label_mixing": found.mixing,
        "groups": groups,
        "clusters": sorted(int(c) for c in held.index),
        "shares": {str(int(c)): round(float(n) / max(int(in_clusters.sum()), 1), 3) for c, n in held.items()},
        "examples": examples,
    }


def _cluster_splits(points: pd.DataFrame, params: FindingParams) -> list[dict]:
    """Labels whose members fall into two or more clusters, each holding a substantial share of them."""
    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    examples = _examples_by_cluster_and_label(points)
    findings = []
    for label in table.columns:
        column = table[label]
        clustered = column.sum()
        parts = column[(column >= params.min_count) & (column >= params.min_label_share * clustered)].sort_values(
            ascending=False
        )
        if len(parts) < 2:
            continue
        sizes = table.loc[parts.index].sum(axis=1)
        findings.append(
            {
                "kind": "split",
                "label": str(label),
                "evidence": "clusters",
                "clusters": [int(c) for c in parts.index],
                "shares": {str(c): round(float(n) / float(clustered), 3) for c, n in parts.items()},
                "purity_in_cluster": {str(c): round(float(parts[c]) / float(sizes[c]), 3) for c in parts.index},
                "examples": {f"cluster {c}": examples.get((int(c), str(label)), []) for c in parts.index},
            }
        )
    return findings


def _examples_by_cluster_and_label(points: pd.DataFrame, n: int = 5) -> dict[tuple[int, str], list[str]]:
    """The first ``n`` gravityspy_ids of each (cluster, label) pair, in table order, in one pass."""
    head = points.assign(label=points["label"].astype(str)).groupby(["cluster", "label"], sort=False).head(n)
    out: dict[tuple[int, str], list[str]] = {}
    for cluster, label, gid in zip(head["cluster"], head["label"], head["gravityspy_id"].astype(str), strict=True):
        out.setdefault((int(cluster), label), []).append(gid)
    return out


def all_findings(
    points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray, groups: dict[str, TwoGroups] | None
) -> dict[str, list[dict]]:
    """Every finding for one clustering, by kind: what the audit writes and the dashboard shows per re-cut."""
    merges = merge_suggestions(points, params, embeddings)
    return {
        "merge": [f for f in merges if f["kind"] == "merge"],
        "continuum": [f for f in merges if f["kind"] == "continuum"],
        "overlap": [f for f in merges if f["kind"] == "overlap"],
        "split": split_suggestions(points, params, groups),
        "novel": novel_classes(points, params),
    }


def novel_classes(
    points: pd.DataFrame, params: FindingParams, catch_all: tuple[str, ...] = CATCH_ALL_LABELS
) -> list[dict]:
    """Clusters dominated by a catch-all label: shapes the taxonomy has no name for."""
    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    findings = []
    for cluster, row in table.iterrows():
        size, top = row.sum(), row.idxmax()
        if top in catch_all and row[top] >= params.min_count and row[top] / size >= params.novel_purity:
            findings.append(
                {
                    "kind": "novel",
                    "label": str(top),
                    "cluster": int(cluster),
                    "size": int(size),
                    "purity": round(float(row[top]) / float(size), 3),
                    "examples": points.loc[points["cluster"] == cluster, "gravityspy_id"].astype(str).head(5).tolist(),
                }
            )
    return findings


def glitch_suspicion(points: pd.DataFrame, embeddings: np.ndarray, params: FindingParams) -> pd.DataFrame:
    """Per point: neighbour agreement, suspicion, proposed label and a one-line justification."""
    labels = points["label"].astype(str).to_numpy()
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
    evidence = []
    for i in range(len(labels)):
        text = f"{round(own[i] * k)}/{k} nearest neighbours share its label; {round(majority_share[i] * k)}/{k} are {majority[i]}"
        if clusters[i] != NOISE_LABEL:
            top_label, top_share = purity[clusters[i]]
            text += f"; cluster {clusters[i]} is {top_share:.0%} {top_label}"
        else:
            text += "; unclustered (noise)"
        evidence.append(text)
    return pd.DataFrame(
        {
            "gravityspy_id": points["gravityspy_id"].astype(str).to_numpy(),
            "agreement": own,
            "suspicion": np.clip(1.0 - graded, 0.0, 1.0).round(6),
            "proposed_label": np.where(propose, majority, labels),
            "evidence": evidence,
        }
    )


def _cluster_top(points: pd.DataFrame) -> dict[int, tuple[str, float]]:
    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    return {int(c): (str(row.idxmax()), float(row.max() / row.sum())) for c, row in table.iterrows()}
