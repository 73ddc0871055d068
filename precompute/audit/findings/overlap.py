"""Overlaps: distinct shapes sharing a cluster, which their neighbours tell apart. Not a merge.

No synthetic plan plants overlaps, so the evaluation does not score them; they
are what keeps a coarse clustering from being reported as over-splitting.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._base import register
from ._pairs import SharedClusterFinding

__all__ = ["Overlap"]


@register
@dataclass(frozen=True, kw_only=True)
class Overlap(SharedClusterFinding):
    """Two labels that share clusters but not a shape: leave them apart."""

    kind = "overlap"
    title = "Overlaps: distinct shapes sharing a cluster (their neighbours tell them apart; don't merge)"
    order = 30
