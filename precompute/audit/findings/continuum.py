"""Continua: labels ordered along one cluster's axis. Relabel at the boundary; don't merge.

Scored against a plan's ``continuum`` mechanisms: a finding hits when it names
at least two of the continuum's morphologies as labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._base import PlantedTruth, register
from ._pairs import SharedClusterFinding

__all__ = ["Continuum"]


@register
@dataclass(frozen=True, kw_only=True)
class Continuum(SharedClusterFinding):
    """Two labels on one shape that drifts: the line between them is arbitrary."""

    kind = "continuum"
    title = "Continua: labels ordered along one cluster's axis (relabel at the boundary, don't merge)"
    order = 20
    planted_as = "planted continua"

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[set[str]]:
        return [set(m["morphologies"]) for m in plan.get("mechanisms", []) if m["kind"] == "continuum"]

    def hits(self, planted: set[str], truth: PlantedTruth) -> bool:
        return len(set(self.labels) & planted) >= 2
