"""Cannot tell: where a rule looked and the data could not decide, said instead of guessed or dropped.

Three rules can fall short:

- **labels sharing clusters** (merge, continuum or overlap): a linked pair with
  fewer than ``smallest_side`` glitches of one label in its shared clusters, or
  whose statistic's interval spans the rule's threshold;
- **split**: labels with fewer than two groups' worth of glitches (listed
  together), candidate groups too small, or groups whose neighbour statistic's
  interval spans ``max_mixing``;
- **novel class**: a cluster a catch-all label tops whose share is not surely
  high enough, or not beyond chance.

Each entry names what it rests on (the glitches, the interval) so that a
curator knows how much more data would decide it. Not scored as a finding: the
evaluation counts the planted failures an entry covers (`CannotTell.covers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from ._base import Finding, FindingContext, FindingView, PlantedTruth, register
from ._pairs import LinkedGroup
from .novel import undecided_novel

__all__ = ["CannotTell"]

#: The rules, and the kinds of finding each could have given.
RULES: dict[str, tuple[str, ...]] = {
    "labels sharing clusters": ("merge", "continuum", "overlap"),
    "split": ("split",),
    "novel class": ("novel",),
}
_TOO_FEW_TO_SPLIT = "too few to judge a split"


@register
@dataclass(frozen=True, kw_only=True)
class CannotTell(Finding):
    """A question a rule asked that this run's data cannot answer, and why."""

    kind = "cannot_tell"
    title = "Cannot tell: too few glitches, or too mixed a signal, for a rule to decide"
    order = 60
    rules: ClassVar[dict[str, tuple[str, ...]]] = RULES

    rule: str  #: one of `RULES`
    subject: list[str]  #: the labels it is about
    clusters: list[int]
    n_glitches: int  #: the glitches it rests on
    reason: str
    sizes: dict[str, int] | None = None  #: label -> glitches, where several labels are listed together
    examples: dict[str, list[str]] | None = None

    @classmethod
    def from_group(cls, group: LinkedGroup) -> Self:
        return cls(
            rule="labels sharing clusters",
            subject=group.labels,
            clusters=group.clusters,
            n_glitches=group.n_glitches,
            reason=group.reason,
            examples=group.examples,
        )

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        found = [cls.from_group(g) for g in context.linked_groups if g.verdict == cls.kind]
        undecided = getattr(context.groups, "undecided", {})
        too_few = {label: n for label, (n, why) in sorted(undecided.items()) if why.startswith(_TOO_FEW_TO_SPLIT)}
        if too_few:
            why = next(w for n, w in undecided.values() if w.startswith(_TOO_FEW_TO_SPLIT))
            found.append(
                cls(rule="split", subject=list(too_few), clusters=[], n_glitches=sum(too_few.values()), reason=why,
                    sizes=too_few)
            )  # fmt: skip
        for label, (n, why) in sorted(undecided.items()):
            if label not in too_few:
                found.append(cls(rule="split", subject=[label], clusters=[], n_glitches=n, reason=why))
        ids = context.points["gravityspy_id"].astype(str).to_numpy()
        clusters = context.points["cluster"].to_numpy()
        for cluster, label, size, why in undecided_novel(context.points, context.params):
            found.append(
                cls(rule="novel class", subject=[label], clusters=[cluster], n_glitches=size, reason=why,
                    examples={label: ids[clusters == cluster][:5].tolist()})
            )  # fmt: skip
        return found

    def clusters_involved(self) -> list[int]:
        return list(self.clusters)

    def view(self) -> FindingView:
        if self.sizes:
            headline = f"{self.rule}: " + ", ".join(f"{label} ({n})" for label, n in self.sizes.items())
        else:
            where = f" in cluster(s) {', '.join(map(str, self.clusters))}" if self.clusters else ""
            headline = f"{self.rule}: {' + '.join(self.subject)}{where} · {self.n_glitches} glitches"
        examples = tuple(("", tuple(ids)) for ids in (self.examples or {}).values())
        return FindingView(headline, (self.reason,), examples)

    def cli_line(self) -> str:
        return f"cannot tell, {self.view().headline}: {self.reason}"

    def covers(self, kind: str, planted: Any, truth: PlantedTruth) -> bool:
        """Whether this entry is about ``planted``, a failure of ``kind`` a plan planted (for the evaluation)."""
        if kind not in self.rules.get(self.rule, ()):
            return False
        if kind in ("merge", "continuum"):
            return len(set(self.subject) & set(planted)) >= 2
        if kind == "split":
            return planted in self.subject
        members = np.isin(truth.clusters, self.clusters)
        return bool(members.any() and np.mean(truth.morphology[members] == planted) >= 0.5)
