"""The audit's thresholds, in one frozen dataclass shared by every rule (the base of the audit package).

Every module of the audit reads its thresholds from `FindingParams`, and every
run records them beside its findings (``audit/summary.json`` → ``thresholds``).
It imports nothing from the audit, so no rule imports another in a circle.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

__all__ = ["FindingParams"]


@dataclass(frozen=True)
class FindingParams:
    """Thresholds of the audit's rules, each read by the rules named (docs/audit.md has the table).

    Parameters
    ----------
    min_count : `int`, default: 3
        Fewest glitches that count: a label's share of a cluster (merge links,
        cluster-only splits, novel classes) and each group of a split.
    min_cluster_share : `float`, default: 0.15
        Share of a cluster a label must hold to be linked with the cluster's other labels (merge).
    min_label_share : `float`, default: 0.15
        Share of a label's clustered members each cluster of a clusters-only split must hold (no Omicron
        parameters); the two-view split needs no share, its evidence decides.
    axis_auc : `float`, default: 0.85
        Two linked labels separating this cleanly along their clusters' main map axis are a continuum.
    novel_purity : `float`, default: 0.6
        Share of a cluster a catch-all label must hold for a candidate new class.
    k : `int`, default: 10
        Nearest neighbours of the per-glitch vote, the proposed label and the split groups' agreement.
    min_majority : `float`, default: 0.5
        Share of the ``k`` neighbours a proposed label needs; least mean agreement of each split group.
    mix_k : `int`, default: 5
        Nearest neighbours of the ``label_mixing`` statistic (overlap vs merge; split confirmation).
    max_mixing : `float`, default: 0.2
        Above this, neighbours tell two labels (or two groups) apart: an overlap, not a merge; a split.
    min_delta_bic : `float`, default: 10.0
        Two Gaussians must beat one by this BIC difference in an Omicron shape parameter (split).
    suspicion_k : `int`, default: 20
        Nearest neighbours of the rank-weighted suspicion score.
    alpha : `float`, default: 0.05
        How sure a verdict must be. A structural finding (merge, continuum,
        overlap, split, novel class) is reported only when the 1 - 2 alpha
        interval of its statistic lies on one side of its threshold, and a claim
        of separation only when shuffled labels reach its value with probability
        below alpha; otherwise the audit says "cannot tell". Conventional, not
        fitted to any plan.
    n_permutations : `int`, default: 200
        Label shuffles of each permutation null.
    n_subsamples : `int`, default: 50
        Half-samples behind each interval.
    """

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
    alpha: float = 0.05
    n_permutations: int = 200
    n_subsamples: int = 50

    @property
    def smallest_side(self) -> int:
        """Fewest glitches each side of a comparison needs before a neighbour statistic can decide: 2 (mix_k + 1).

        A side needs more than ``mix_k`` glitches for its points' neighbours to
        be able to be all its own, and twice that for half-samples to keep it so.
        """
        return 2 * (self.mix_k + 1)

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def digest(self) -> str:
        """A short hash of every threshold: keys caches of what they produced."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:12]
