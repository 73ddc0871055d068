"""Merge suggestions (over-splitting): labels that share clusters and that their neighbours mix at random.

Scored against a plan's ``over_split`` mechanisms (one shape filed under
several labels): a finding hits a planted group only when its label set is
that group give or take one label (a finding that swallows unrelated labels is
a miss, however much it overlaps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._base import PlantedTruth, register
from ._pairs import SharedClusterFinding

__all__ = ["LABEL_SLACK", "Merge"]

#: Labels a merge finding may have too many or too few and still match a planted group (fixed by issue 15).
LABEL_SLACK = 1


@register
@dataclass(frozen=True, kw_only=True)
class Merge(SharedClusterFinding):
    """Labels that are one shape under several names: merge them."""

    kind = "merge"
    title = "Merge suggestions (over-splitting): labels sharing the same morphology clusters"
    order = 10
    planted_as = "planted over-splitting"

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[set[str]]:
        return [set(m["labels"]) for m in plan.get("mechanisms", []) if m["kind"] == "over_split"]

    def hits(self, planted: set[str], truth: PlantedTruth) -> bool:
        return len(set(self.labels) ^ planted) <= LABEL_SLACK
