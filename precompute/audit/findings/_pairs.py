"""Labels that share clusters, and the verdict on each linked pair: merge, continuum or overlap.

For each cluster, the labels holding a substantial share of it
(``min_cluster_share`` of its members and at least ``min_count``) are linked.
Each linked pair gets one verdict, each statistic with its evidence
(`precompute.audit.neighbours.Evidence`: a label-permutation null and a
half-sample interval, computed on the pair's own glitches):

- **continuum** when its members separate cleanly along their shared
  clusters' main map axis: the axis AUC's interval lies above ``axis_auc`` and
  shuffled labels rarely separate so well (p < ``alpha``), with no gap between
  them along the axis (two Gaussians do not beat one by ``min_delta_bic``: a
  continuum is one shape drifting; separated labels with a gap are two shapes,
  judged as an overlap or merge below). One shape drifting into another,
  labelled by which side of an arbitrary line it falls; relabel along the
  boundary, don't merge;
- **overlap** when nearest neighbours in the embedding space tell its labels
  apart: the ``label_mixing`` interval lies above ``max_mixing``, p < ``alpha``.
  Two shapes a coarse clustering put together, not one shape with two names;
- **merge** when the AUC's interval lies below ``axis_auc`` and the mixing's
  interval at or below ``max_mixing``: labels mixed nearly at random,
  interchangeable, which is what over-splitting means. Without embeddings every
  pair that is surely not a continuum is a merge;
- **cannot tell** otherwise, or when either label has fewer than
  ``smallest_side`` glitches in the shared clusters: the data cannot decide,
  and the audit says so (`CannotTell`) instead of guessing.

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

from ..groups import two_gaussian_fit
from ..metrics import contingency
from ..neighbours import Evidence, mixing_evidence
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
VERDICTS = ("merge", "continuum", "overlap", "cannot_tell")


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
    support: dict[str, dict[str, Any]]  #: "a | b" -> each statistic's interval, null and p (`Evidence.as_dict`)
    n_glitches: int  #: glitches of these labels in the shared clusters: what the verdict rests on
    reason: str = ""  #: why the data cannot tell (cannot_tell groups only)
    short_of: tuple[int, int] | None = None  #: (glitches the smallest side has, glitches a verdict needs), if too few


def _auc(projection: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of ``projection`` for ``positive`` as the Mann-Whitney U statistic, folded to [0.5, 1]."""
    from scipy.stats import rankdata

    return _auc_of_ranks(rankdata(projection), positive)


def _auc_of_ranks(ranks: np.ndarray, positive: np.ndarray) -> float:
    """`_auc` from the ranks of the projection: a label permutation leaves the ranks as they are."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return 0.5
    auc = (ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    return float(max(auc, 1 - auc))


#: Members behind one axis `Evidence` at most (each label's share kept, a seeded sample beyond): an AUC from
#: 2,000 points is within about 0.01 of the full set's, and a re-cut of a 700k-point map must stay fast.
_AXIS_SAMPLE = 2000


def _stratified(positive: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Rows of a seeded sample of about ``size``, each side kept in proportion (at least two of each)."""
    rows = []
    for side in (np.flatnonzero(positive), np.flatnonzero(~positive)):
        take = min(len(side), max(2, round(len(side) * size / len(positive))))
        rows.append(rng.choice(side, take, replace=False))
    return np.sort(np.concatenate(rows))


def _projection(coords: np.ndarray) -> np.ndarray:
    """The members' map positions projected on their main axis."""
    centred = coords - coords.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[0]


def _axis_evidence(coords: np.ndarray, labels: np.ndarray, a: str, params: FindingParams, seed: int = 0) -> Evidence:
    """How cleanly two labels separate along the main axis of their members' map positions (AUC in [0.5, 1]),
    with a label-permutation null and a half-sample interval (`Evidence`)."""
    positive = labels == a
    n, smallest = len(labels), int(min(positive.sum(), (~positive).sum()))
    if n < 4 or not smallest:
        return Evidence(0.5, 0.5, 0.5, float("nan"), 1.0, n, smallest)
    if n > _AXIS_SAMPLE:
        keep = _stratified(positive, _AXIS_SAMPLE, np.random.default_rng(seed + 7))
        coords, positive = coords[keep], positive[keep]
    from scipy.stats import rankdata

    projection = _projection(coords)
    ranks = rankdata(projection)
    observed = _auc_of_ranks(ranks, positive)
    rng = np.random.default_rng(seed)
    null = np.array([_auc_of_ranks(ranks, rng.permutation(positive)) for _ in range(params.n_permutations)])
    halves = []
    for _ in range(params.n_subsamples):
        rows = np.concatenate(
            [
                rng.choice(g, max(2, len(g) // 2), replace=False)
                for g in (np.flatnonzero(positive), np.flatnonzero(~positive))
            ]
        )
        halves.append(_auc(projection[rows], positive[rows]))
    deviation = np.asarray(halves) - np.mean(halves)
    return Evidence(
        observed=observed,
        low=observed + float(np.quantile(deviation, params.alpha)),
        high=observed + float(np.quantile(deviation, 1 - params.alpha)),
        null_q95=float(np.quantile(null, 1 - params.alpha)),
        p_value=(1 + int((null >= observed).sum())) / (1 + params.n_permutations),
        n=n,
        smallest=smallest,
    )


def _verdict(axis: Evidence, gap: float, mixing: Evidence | None, params: FindingParams) -> tuple[str, str, int]:
    """A linked pair's verdict from its evidence (module docstring), why when the data cannot tell, and the
    glitches of each label a verdict needs when it fell short for too few (else 0).

    ``gap`` is how much better two Gaussians than one describe the members' positions along the axis (ΔBIC):
    a continuum is one shape drifting, so labels separated by a gap are two shapes, judged by their neighbours.
    """
    smallest = min(axis.smallest, mixing.smallest) if mixing is not None else axis.smallest
    if smallest < params.smallest_side:
        return (
            "cannot_tell",
            f"{smallest} glitches of one label in the shared clusters; a verdict needs {params.smallest_side}",
            params.smallest_side,
        )
    one_shape = gap < params.min_delta_bic
    if axis.low >= params.axis_auc and axis.p_value < params.alpha and one_shape:
        return "continuum", "", 0
    if axis.high >= params.axis_auc and one_shape:
        return (
            "cannot_tell",
            f"axis AUC {axis.observed:.2f}, interval {axis.low:.2f}-{axis.high:.2f} spans {params.axis_auc}",
            0,
        )
    if mixing is None:
        return "merge", "", 0
    if mixing.low > params.max_mixing and mixing.p_value < params.alpha:
        return "overlap", "", 0
    if mixing.high <= params.max_mixing:
        return "merge", "", 0
    return (
        "cannot_tell",
        (
            f"neighbours tell apart {mixing.observed:.2f}, interval {mixing.low:.2f}-{mixing.high:.2f} spans {params.max_mixing}"
        ),
        0,
    )


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
    verdicts, evidence = {}, {}
    for (a, b), shared in links.items():
        pair = np.isin(clusters, shared) & np.isin(labels, [a, b])
        axis = _axis_evidence(coords[pair], labels[pair], a, params)
        gap = two_gaussian_fit(_projection(coords[pair]))[0] if pair.sum() >= 4 else 0.0
        mixing = None
        if embeddings is not None:
            mixing = mixing_evidence(
                embeddings[pair], labels[pair], params.mix_k, n_permutations=params.n_permutations,
                n_subsamples=params.n_subsamples, alpha=params.alpha,
            )  # fmt: skip
        verdicts[(a, b)] = _verdict(axis, gap, mixing, params)
        evidence[(a, b)] = (axis, mixing, gap)
    found: list[LinkedGroup] = []
    for verdict in VERDICTS:
        graph = {pair: shared for pair, shared in links.items() if verdicts[pair][0] == verdict}
        if verdict == "cannot_tell":  # a pair inside a decided group is covered by that group's verdict
            decided = [set(g.labels) for g in found]
            graph = {pair: shared for pair, shared in graph.items() if not any(set(pair) <= g for g in decided)}
        for group in connected_components(graph):
            found.append(_group(verdict, group, graph, table, clusters, labels, ids, evidence, verdicts))
    return found


def _group(
    verdict: str,
    group: set[str],
    graph: dict[tuple[str, str], list[int]],
    table: pd.DataFrame,
    clusters: np.ndarray,
    labels: np.ndarray,
    ids: np.ndarray,
    evidence: dict[tuple[str, str], tuple[Evidence, Evidence | None, float]],
    verdicts: dict[tuple[str, str], tuple[str, str]],
) -> LinkedGroup:
    """One group of labels with one verdict: the clusters they share, counts, examples and every pair's evidence."""
    shared = sorted({c for pair, cs in graph.items() if set(pair) <= group for c in cs})
    counts = {str(c): {lab: int(table.at[c, lab]) for lab in sorted(group) if table.at[c, lab] > 0} for c in shared}
    in_shared = np.isin(clusters, shared)
    pairs = [(a, b) for (a, b) in graph if {a, b} <= group]
    mixed = [pair for pair in pairs if evidence[pair][1] is not None]
    return LinkedGroup(
        verdict=verdict,
        labels=sorted(group),
        clusters=shared,
        counts=counts,
        axis_auc={f"{a} | {b}": round(evidence[(a, b)][0].observed, 3) for a, b in pairs},
        examples={lab: ids[in_shared & (labels == lab)][:5].tolist() for lab in sorted(group)},
        label_mixing={f"{a} | {b}": round(evidence[(a, b)][1].observed, 3) for a, b in mixed} if mixed else None,
        support={
            f"{a} | {b}": {
                "axis_auc": evidence[(a, b)][0].as_dict(),
                "axis_gap_delta_bic": round(float(evidence[(a, b)][2]), 1),
                **({"label_mixing": evidence[(a, b)][1].as_dict()} if evidence[(a, b)][1] is not None else {}),
            }
            for a, b in pairs
        },
        n_glitches=int((in_shared & np.isin(labels, sorted(group))).sum()),
        reason="; ".join(f"{a} | {b}: {verdicts[(a, b)][1]}" for a, b in pairs if verdicts[(a, b)][1]),
        short_of=_short_of([evidence[pair] for pair in pairs], verdicts, pairs),
    )


def _short_of(
    evidence: list[tuple[Evidence, Evidence | None, float]], verdicts: dict, pairs: list[tuple[str, str]]
) -> tuple[int, int] | None:
    """(smallest side, the side a verdict needs) over the pairs that fell short for too few glitches, else None."""
    short = [min(axis.smallest, mixing.smallest) if mixing is not None else axis.smallest
             for (axis, mixing, _), pair in zip(evidence, pairs, strict=True) if verdicts[pair][2]]  # fmt: skip
    need = next((verdicts[pair][2] for pair in pairs if verdicts[pair][2]), None)
    return (min(short), need) if short else None


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
    support: dict[str, dict[str, Any]] | None = None  #: per pair: each statistic's interval, null and p
    n_glitches: int | None = None  #: glitches of these labels in the shared clusters

    @classmethod
    def from_group(cls, group: LinkedGroup) -> Self:
        return cls(
            labels=group.labels,
            clusters=group.clusters,
            counts=group.counts,
            axis_auc=group.axis_auc,
            examples=group.examples,
            label_mixing=group.label_mixing,
            support=group.support,
            n_glitches=group.n_glitches,
        )

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        return [cls.from_group(g) for g in context.linked_groups if g.verdict == cls.kind]

    def view(self) -> FindingView:
        lines = []
        for pair, stats in (self.support or {}).items():
            parts = [f"{_STATISTIC[name]} {s['value']:.2f} ({s['interval'][0]:.2f}-{s['interval'][1]:.2f}, "
                     f"p {s['p_value']:.3f})" for name, s in stats.items() if name in _STATISTIC]  # fmt: skip
            if "axis_gap_delta_bic" in stats:
                parts.append(f"gap along the axis ΔBIC {stats['axis_gap_delta_bic']:.0f}")
            lines.append(f"{pair}: " + "; ".join(parts))
        return FindingView(
            headline=f"{' + '.join(self.labels)} in cluster(s) {', '.join(map(str, self.clusters))}"
            + (f" · {self.n_glitches} glitches" if self.n_glitches is not None else ""),
            details=tuple(lines),
            examples=tuple(("", tuple(ids)) for ids in self.examples.values()),
        )

    def cli_line(self) -> str:
        return f"{self.kind}: {', '.join(self.labels)} (clusters {', '.join(map(str, self.clusters))})"


#: How each statistic reads in a finding's evidence line.
_STATISTIC = {"axis_auc": "axis AUC", "label_mixing": "neighbours tell apart"}


def merge_suggestions(
    points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray | None = None
) -> list[SharedClusterFinding]:
    """Every group of labels sharing clusters as a finding of its verdict's kind (merge, continuum, overlap,
    cannot_tell)."""
    return [_REGISTRY[g.verdict].from_group(g) for g in linked_label_groups(points, params, embeddings)]
