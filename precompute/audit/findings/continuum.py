"""Continua: labels ordered along one cluster's axis. Relabel at the boundary; don't merge.

Scored against a plan's ``continuum`` mechanisms by its members (the points of
its labels in its clusters): at least half of them have one of the continuum's
two true morphologies, and each of the two makes up at least a tenth of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._base import PlantedTruth, register
from ._pairs import SharedClusterFinding

__all__ = ["Continuum"]

#: Share of a continuum finding's members that must be the planted morphologies, and of each (fixed by issue 15).
MIN_SHARE, MIN_EACH = 0.5, 0.1


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
        if truth.labels is None:
            raise ValueError("matching a continuum by its members needs the points' labels in PlantedTruth")
        members = np.isin(truth.clusters, self.clusters) & np.isin(truth.labels, self.labels)
        if not members.any():
            return False
        shares = [float(np.mean(truth.morphology[members] == m)) for m in sorted(planted)]
        return sum(shares) >= MIN_SHARE and min(shares) >= MIN_EACH
