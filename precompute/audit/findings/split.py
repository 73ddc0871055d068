"""Split suggestions (over-compression): one label holding two shapes.

With Omicron parameters, a label's members form two groups in one shape
parameter that their nearest neighbours in the embedding space also tell
apart (`precompute.audit.groups`, computed once per run): ``evidence``
``omicron+neighbours``, placed in the clusters of each cut. Without them (an
image folder), a label with at least ``min_label_share`` of its clustered
members (and ``min_count``) in each of two or more clusters: ``evidence``
``clusters``, the weaker rule, since a clustering also cuts one shape in two
by loudness.

Scored against a plan's ``over_compress`` mechanisms: a finding hits only when
its label is the planted one and its two groups separate the hidden shapes
among the label's members (adjusted Rand index >= 0.5 between the groups and
the true morphologies); a split of the right label on the wrong axis is a miss.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from ...cluster import NOISE_LABEL
from ..groups import TwoGroups
from ..metrics import contingency
from ..params import FindingParams
from ._base import NOT_RECORDED, Finding, FindingContext, FindingView, PlantedTruth, register

__all__ = ["MIN_ARI", "Split", "split_suggestions"]

#: Least adjusted Rand index between a split's groups and the true morphologies for a hit (fixed by issue 15).
MIN_ARI = 0.5
#: Units of the Omicron parameters, for the evidence line.
_UNITS = {"duration": " s", "peak_frequency": " Hz", "bandwidth": " Hz"}


@register
@dataclass(frozen=True, kw_only=True)
class Split(Finding):
    """A label whose members are two shapes, with the evidence that says so and where they fall."""

    kind = "split"
    title = "Split suggestions (over-compression): one label, two shapes"
    order = 40
    planted_as = "planted over-compression"

    label: str
    evidence: str  #: "omicron+neighbours" (two views agree) or "clusters" (no Omicron parameters)
    parameter: str | None = None  #: the Omicron shape parameter the groups differ in
    delta_bic: float | None = None  #: how much better two Gaussians describe it than one
    label_mixing: float | None = None  #: how well the groups' neighbours tell them apart
    groups: dict[str, dict[str, Any]] | None = None  #: group name -> size, clusters, noise
    clusters: list[int]
    shares: dict[str, float]  #: cluster -> share of the label's clustered members
    purity_in_cluster: dict[str, float] | None = None  #: cluster -> the label's share of it (clusters evidence)
    examples: dict[str, list[str]]  #: group (or cluster) -> first gravityspy_ids
    support: dict[str, Any] | None = None  #: the groups' neighbour statistic: interval, null, p, n (two views)
    n_glitches: int | None = None  #: the label's glitches the groups were formed from
    #: the points (rows) the groups were formed from, and each one's group (0/1) or cluster
    members: np.ndarray | None = field(default=None, compare=False, repr=False, metadata=NOT_RECORDED)
    member_group: np.ndarray | None = field(default=None, compare=False, repr=False, metadata=NOT_RECORDED)

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        return split_suggestions(context.points, context.params, context.groups)

    def view(self) -> FindingView:
        where = ", ".join(f"cluster {c}: {s:.0%}" for c, s in self.shares.items())
        examples = tuple((name, tuple(ids)) for name, ids in self.examples.items())
        if self.evidence != "omicron+neighbours":
            return FindingView(
                f"{self.label} → {where}", ("evidence: its members fall in separate clusters",), examples
            )
        parts = " and ".join(f"{name} ({group['size']})" for name, group in (self.groups or {}).items())
        told = self.support or {}
        interval = (
            f" (interval {told['interval'][0]:.2f}-{told['interval'][1]:.2f}, p {told['p_value']:.3f})" if told else ""
        )
        evidence = (
            f"Omicron {self.parameter}: two groups beat one by ΔBIC {self.delta_bic:.0f}; "
            f"neighbours tell them apart {self.label_mixing:.2f}{interval}; {self.n_glitches} glitches; "
            f"label's clustered members: {where or 'none'}"
        )
        return FindingView(f"{self.label} → two groups: {parts}", (evidence,), examples)

    def cli_line(self) -> str:
        return f"split: {self.label} over clusters {', '.join(map(str, self.clusters))}"

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[str]:
        return sorted({m["label"] for m in plan.get("mechanisms", []) if m["kind"] == "over_compress"})

    def hits(self, planted: str, truth: PlantedTruth) -> bool:
        from sklearn.metrics import adjusted_rand_score

        if self.label != planted or self.members is None or len(self.members) < 2:
            return False
        return adjusted_rand_score(truth.morphology[self.members], self.member_group) >= MIN_ARI


def split_suggestions(
    points: pd.DataFrame, params: FindingParams, groups: dict[str, TwoGroups] | None = None
) -> list[Split]:
    """Labels holding two shapes; each with the clusters its members fall in, shares and examples.

    ``groups`` are the run's two-view groups (`precompute.audit.groups.label_groups`,
    clustering-independent): each becomes a split with ``evidence``
    ``omicron+neighbours``. Without them, the clusters-only rule (module docstring).
    """
    if groups is not None:
        return [_two_view_split(points, found, params) for _, found in sorted(groups.items())]
    return _cluster_splits(points, params)


def _two_view_split(points: pd.DataFrame, found: TwoGroups, params: FindingParams) -> Split:
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
    return Split(
        label=found.label,
        evidence="omicron+neighbours",
        parameter=found.parameter,
        delta_bic=found.delta_bic,
        label_mixing=found.mixing,
        groups=groups,
        clusters=sorted(int(c) for c in held.index),
        shares={str(int(c)): round(float(n) / max(int(in_clusters.sum()), 1), 3) for c, n in held.items()},
        examples=examples,
        support=found.evidence.as_dict() if found.evidence is not None else None,
        n_glitches=len(found.members),
        members=found.members,
        member_group=found.group,
    )


def _cluster_splits(points: pd.DataFrame, params: FindingParams) -> list[Split]:
    """Labels whose members fall into two or more clusters, each holding a substantial share of them."""
    clusters, labels = points["cluster"].to_numpy(), points["label"].astype(str).to_numpy()
    table = contingency(clusters, labels)
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
        rows = np.flatnonzero((labels == str(label)) & np.isin(clusters, parts.index.to_numpy()))
        findings.append(
            Split(
                label=str(label),
                evidence="clusters",
                clusters=[int(c) for c in parts.index],
                shares={str(c): round(float(n) / float(clustered), 3) for c, n in parts.items()},
                purity_in_cluster={str(c): round(float(parts[c]) / float(sizes[c]), 3) for c in parts.index},
                examples={f"cluster {c}": examples.get((int(c), str(label)), []) for c in parts.index},
                members=rows,
                member_group=clusters[rows],
            )
        )
    return findings


def _examples_by_cluster_and_label(points: pd.DataFrame, n: int = 5) -> dict[tuple[int, str], list[str]]:
    """The first ``n`` gravityspy_ids of each (cluster, label) pair, in table order, in one pass."""
    head = points.assign(label=points["label"].astype(str)).groupby(["cluster", "label"], sort=False).head(n)
    out: dict[tuple[int, str], list[str]] = {}
    for cluster, label, gid in zip(head["cluster"], head["label"], head["gravityspy_id"].astype(str), strict=True):
        out.setdefault((int(cluster), label), []).append(gid)
    return out
