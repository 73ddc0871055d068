"""Candidate new classes: clusters dominated by a catch-all label (None_of_the_Above).

A coherent shape the taxonomy has no name for: a cluster whose top label is a
catch-all holding at least ``min_count`` members, whose share of the cluster
is surely at least ``novel_purity`` (the one-sided 1 - ``alpha`` Wilson lower
bound of that share) and more than chance would give it (the hypergeometric
probability of so many catch-all glitches in a cluster this size, given their
share of all clustered glitches, below ``alpha``). A catch-all-dominated
cluster whose evidence falls short is a "cannot tell" (`undecided_novel`).

Scored against a plan's ``novel`` mechanisms: a finding hits a planted shape
when at least half of its cluster's members have that true morphology.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from ...classes import CATCH_ALL_LABELS
from ..metrics import contingency
from ..params import FindingParams
from ._base import Finding, FindingContext, FindingView, PlantedTruth, register

__all__ = ["NearMiss", "NovelClass", "glitches_to_be_sure", "novel_classes", "undecided_novel", "wilson_lower"]


@register
@dataclass(frozen=True, kw_only=True)
class NovelClass(Finding):
    """A cluster of one catch-all label: a shape worth a name of its own."""

    kind = "novel"
    title = "Candidate new classes: coherent clusters of a catch-all label"
    order = 50
    planted_as = "planted novel shapes"

    label: str
    cluster: int
    size: int
    purity: float
    examples: list[str]
    purity_low: float | None = None  #: the share's one-sided lower bound at 1 - alpha
    p_value: float | None = None  #: hypergeometric chance of so many catch-all glitches here

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        return novel_classes(context.points, context.params)

    def clusters_involved(self) -> list[int]:
        return [self.cluster]

    def view(self) -> FindingView:
        details = (
            () if self.p_value is None else (f"at least {self.purity_low:.0%} {self.label}, p {self.p_value:.2g}",)
        )
        return FindingView(
            f"cluster {self.cluster}: {self.size} glitches, {self.purity:.0%} {self.label}",
            details=details,
            examples=(("", tuple(self.examples)),),
        )

    def cli_line(self) -> str:
        return f"novel: cluster {self.cluster} is {self.purity:.0%} {self.label} ({self.size} glitches)"

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[str]:
        return sorted({m["morphology"] for m in plan.get("mechanisms", []) if m["kind"] == "novel"})

    def hits(self, planted: str, truth: PlantedTruth) -> bool:
        return bool(np.mean(truth.morphology[truth.clusters == self.cluster] == planted) >= 0.5)


def wilson_lower(successes: int, n: int, alpha: float) -> float:
    """One-sided (1 - alpha) lower bound of a proportion (Wilson's score interval)."""
    from scipy.stats import norm

    if n == 0:
        return 0.0
    z = float(norm.ppf(1 - alpha))
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre - spread) / (1 + z * z / n))


def _candidates(points: pd.DataFrame, params: FindingParams, catch_all: tuple[str, ...]):
    """Clusters a catch-all label tops with at least ``novel_purity`` of them: (cluster, label, count, size, p, low)."""
    from scipy.stats import hypergeom

    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    total = int(table.to_numpy().sum())
    for cluster, row in table.iterrows():
        size, top = int(row.sum()), row.idxmax()
        count = int(row[top])
        if top in catch_all and count / size >= params.novel_purity:
            p_value = float(hypergeom.sf(count - 1, total, int(table[top].sum()), size))
            yield int(cluster), str(top), count, size, p_value, wilson_lower(count, size, params.alpha)


def novel_classes(
    points: pd.DataFrame, params: FindingParams, catch_all: tuple[str, ...] = CATCH_ALL_LABELS
) -> list[NovelClass]:
    """Clusters surely dominated by a catch-all label: shapes the taxonomy has no name for (module docstring)."""
    findings = []
    for cluster, label, count, size, p_value, low in _candidates(points, params, catch_all):
        if count >= params.min_count and low >= params.novel_purity and p_value < params.alpha:
            findings.append(
                NovelClass(
                    label=label,
                    cluster=cluster,
                    size=size,
                    purity=round(count / size, 3),
                    examples=points.loc[points["cluster"] == cluster, "gravityspy_id"].astype(str).head(5).tolist(),
                    purity_low=round(low, 3),
                    p_value=float(f"{p_value:.3g}"),
                )
            )
    return findings


def glitches_to_be_sure(share: float, threshold: float, alpha: float, most: int = 100_000) -> int | None:
    """How many glitches at ``share`` make the share's one-sided lower bound (`wilson_lower`) reach ``threshold``;
    None when no number can (the share itself is not above the threshold)."""
    if share <= threshold or wilson_lower(round(share * most), most, alpha) < threshold:
        return None
    low, high = 1, most
    while low < high:
        middle = (low + high) // 2
        if wilson_lower(share * middle, middle, alpha) >= threshold:
            high = middle
        else:
            low = middle + 1
    return low


@dataclass(frozen=True)
class NearMiss:
    """A cluster a catch-all label tops whose evidence falls short of a new class (`undecided_novel`)."""

    cluster: int
    label: str
    size: int
    count: int  #: glitches of the catch-all label in it
    why: str
    need: int | None  #: glitches at this share that would decide it, where more glitches could


def undecided_novel(
    points: pd.DataFrame, params: FindingParams, catch_all: tuple[str, ...] = CATCH_ALL_LABELS
) -> list[NearMiss]:
    """Clusters a catch-all label tops whose evidence falls short of a novel class, each with why and what would
    decide it."""
    out = []
    for cluster, label, count, size, p_value, low in _candidates(points, params, catch_all):
        if count < params.min_count:
            why = f"{count} {label} glitches; a novel class needs {params.min_count}"
        elif low < params.novel_purity:
            why = f"{count} of {size} are {label}: surely only {low:.0%}, a novel class needs {params.novel_purity:.0%}"
        elif p_value >= params.alpha:
            why = f"{label} is common enough that {count} of {size} happens by chance (p {p_value:.2g})"
        else:
            continue
        share = count / size
        sure = glitches_to_be_sure(share, params.novel_purity, params.alpha)
        need = None if sure is None or p_value >= params.alpha else max(sure, math.ceil(params.min_count / share))
        out.append(NearMiss(cluster, label, size, count, why, need))
    return out
