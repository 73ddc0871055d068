"""Candidate new classes: clusters dominated by a catch-all label (None_of_the_Above).

A coherent shape the taxonomy has no name for: a cluster whose top label is a
catch-all holding at least ``novel_purity`` of it and ``min_count`` members.

Scored against a plan's ``novel`` mechanisms: a finding hits a planted shape
when at least half of its cluster's members have that true morphology.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd

from ...classes import CATCH_ALL_LABELS
from ..metrics import contingency
from ..params import FindingParams
from ._base import Finding, FindingContext, FindingView, PlantedTruth, register

__all__ = ["NovelClass", "novel_classes"]


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

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        return novel_classes(context.points, context.params)

    def clusters_involved(self) -> list[int]:
        return [self.cluster]

    def view(self) -> FindingView:
        return FindingView(
            f"cluster {self.cluster}: {self.size} glitches, {self.purity:.0%} {self.label}",
            examples=(("", tuple(self.examples)),),
        )

    def cli_line(self) -> str:
        return f"novel: cluster {self.cluster} is {self.purity:.0%} {self.label} ({self.size} glitches)"

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[str]:
        return sorted({m["morphology"] for m in plan.get("mechanisms", []) if m["kind"] == "novel"})

    def hits(self, planted: str, truth: PlantedTruth) -> bool:
        return bool(np.mean(truth.morphology[truth.clusters == self.cluster] == planted) >= 0.5)


def novel_classes(
    points: pd.DataFrame, params: FindingParams, catch_all: tuple[str, ...] = CATCH_ALL_LABELS
) -> list[NovelClass]:
    """Clusters dominated by a catch-all label: shapes the taxonomy has no name for."""
    table = contingency(points["cluster"].to_numpy(), points["label"].astype(str).to_numpy())
    findings = []
    for cluster, row in table.iterrows():
        size, top = row.sum(), row.idxmax()
        if top in catch_all and row[top] >= params.min_count and row[top] / size >= params.novel_purity:
            findings.append(
                NovelClass(
                    label=str(top),
                    cluster=int(cluster),
                    size=int(size),
                    purity=round(float(row[top]) / float(size), 3),
                    examples=points.loc[points["cluster"] == cluster, "gravityspy_id"].astype(str).head(5).tolist(),
                )
            )
    return findings
