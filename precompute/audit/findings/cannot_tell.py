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


def _listed(items: list[Any]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = [str(i) for i in items]
    return items[0] if len(items) <= 1 else f"{', '.join(items[:-1])} and {items[-1]}"


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
    """A question a rule asked that this run's data cannot answer, why, and what would answer it."""

    kind = "cannot_tell"
    title = "Cannot tell: too few glitches, or too mixed a signal, for a rule to decide"
    order = 60
    revision = 2
    rules: ClassVar[dict[str, tuple[str, ...]]] = RULES

    rule: str  #: one of `RULES`
    subject: list[str]  #: the labels it is about
    clusters: list[int]
    n_glitches: int  #: the glitches it rests on
    reason: str
    sizes: dict[str, int] | None = None  #: label -> glitches, where several labels are listed together
    examples: dict[str, list[str]] | None = None
    have: int | None = None  #: glitches the rule counted where it fell short for too few
    need: int | None = None  #: glitches that would let it decide (at the share seen, for a new class)

    @classmethod
    def from_group(cls, group: LinkedGroup) -> Self:
        have, need = group.short_of or (None, None)
        return cls(
            rule="labels sharing clusters",
            subject=group.labels,
            clusters=group.clusters,
            n_glitches=group.n_glitches,
            reason=group.reason,
            examples=group.examples,
            have=have,
            need=need,
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
                    sizes=too_few, have=max(too_few.values()), need=2 * context.params.smallest_side)
            )  # fmt: skip
        for label, (n, why) in sorted(undecided.items()):
            if label not in too_few:
                found.append(cls(rule="split", subject=[label], clusters=[], n_glitches=n, reason=why))
        ids = context.points["gravityspy_id"].astype(str).to_numpy()
        clusters = context.points["cluster"].to_numpy()
        for miss in undecided_novel(context.points, context.params):
            found.append(
                cls(rule="novel class", subject=[miss.label], clusters=[miss.cluster], n_glitches=miss.size,
                    reason=miss.why, examples={miss.label: ids[clusters == miss.cluster][:5].tolist()},
                    have=miss.size if miss.need is not None else None, need=miss.need)
            )  # fmt: skip
        return found

    def clusters_involved(self) -> list[int]:
        return list(self.clusters)

    def question(self) -> str:
        """The question the rule asked, in a scientist's words."""
        clusters = f"cluster{'s' if len(self.clusters) > 1 else ''} {_listed(self.clusters)}" if self.clusters else ""
        if self.rule == "labels sharing clusters":
            return f"{_listed(self.subject)} share {clusters} ({self.n_glitches} glitches): one shape under several labels?"
        if self.rule == "split":
            if self.sizes:
                return f"Does any of {len(self.sizes)} labels hold two shapes? Too few glitches to judge."
            return f"{self.subject[0]} ({self.n_glitches} glitches): two shapes under one label?"
        return f"A new shape in {clusters}? {self.n_glitches} glitches, most of them {self.subject[0]}."

    def what_would_decide(self) -> str:
        """How much more data would let the rule decide, where a count can say it; else what more data does."""
        if self.need is None or self.have is None:
            return "More glitches of these labels narrow the interval until it lies on one side of the threshold."
        if self.rule == "novel class":
            return f"About {self.need} glitches at this share would decide it; the cluster has {self.have}."
        times = -(-self.need // max(self.have, 1))
        more = f"about {times}x as many glitches of these labels" if times > 1 else "a few more glitches"
        if self.rule == "split":
            return (f"Deciding a split needs two groups of {self.need // 2} glitches ({self.need} of the label); the "
                    f"largest of these labels has {self.have}.")  # fmt: skip
        return f"A verdict needs {self.need} glitches of each label there; the smallest side has {self.have}: {more}."

    def view(self) -> FindingView:
        """The question, then what would decide it; the rule's own reason where no count says it, and the labels
        listed together with their sizes."""
        details = [self.what_would_decide()]
        if self.rule == "novel class" or self.have is None:
            details.insert(0, self.reason)
        if self.sizes:
            details.insert(0, ", ".join(f"{label} ({n})" for label, n in self.sizes.items()))
        examples = tuple(("", tuple(ids)) for ids in (self.examples or {}).values())
        return FindingView(self.question(), tuple(details), examples)

    def cli_line(self) -> str:
        shown = self.view().details[1 if self.sizes else 0 :]  # the labels' sizes are the dashboard's
        return f"cannot tell, {self.question()} " + " ".join(line.rstrip(".") + "." for line in shown)

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
