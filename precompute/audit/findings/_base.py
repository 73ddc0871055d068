"""What every kind of finding is: a frozen dataclass registered under its kind, with its own evidence.

A kind declares in one place (its module in this package) everything the
rest of the tool needs from it:

- what it is: ``kind``, ``title`` (the dashboard's section heading), ``order``
  (where it comes in the audit's files, the CLI and the dashboard);
- how it is found: `Finding.detect`, from a `FindingContext`;
- how it is shown: `Finding.view` (headline, evidence lines, example glitches),
  which the dashboard's failure-modes panel draws, and `Finding.cli_line`;
- how it is written: `Finding.as_dict` (``audit/summary.json``);
- how it is scored against a synthetic plan: `Finding.planted` and `Finding.hits`.

Kinds register themselves with `register` when their module is imported; the
package imports every public module in it, so adding a kind is adding a module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import numpy as np
import pandas as pd

from ..params import FindingParams

if TYPE_CHECKING:
    from ..groups import TwoGroups

__all__ = [
    "NOT_RECORDED",
    "Finding",
    "FindingContext",
    "FindingView",
    "PlantedTruth",
    "kinds",
    "register",
    "registry_digest",
]

_REGISTRY: dict[str, type[Finding]] = {}
_Kind = TypeVar("_Kind", bound="type[Finding]")


@dataclass(frozen=True)
class FindingView:
    """What the dashboard shows of one finding: a headline, evidence lines, rows of example glitches."""

    headline: str
    details: tuple[str, ...] = ()
    #: (caption, gravityspy_ids) per row of thumbnails; an empty caption draws the row alone
    examples: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class PlantedTruth:
    """What a synthetic set's truth tells about each point of a run (row i is point i)."""

    morphology: np.ndarray  #: the true shape of each point
    clusters: np.ndarray  #: the run's cluster of each point
    labels: np.ndarray | None = None  #: the human label of each point


#: Metadata of a finding's field kept for the evaluation and the dashboard but not written to ``summary.json``:
#: ``field(default=None, compare=False, repr=False, metadata=NOT_RECORDED)``.
NOT_RECORDED = {"record": False}


class FindingContext:
    """One clustering's inputs to every rule, with what several kinds share computed once."""

    def __init__(
        self,
        points: pd.DataFrame,
        params: FindingParams,
        embeddings: np.ndarray | None = None,
        groups: dict[str, TwoGroups] | None = None,
    ):
        self.points = points  #: gravityspy_id, label, cluster, x, y (and Omicron columns)
        self.params = params
        self.embeddings = embeddings  #: one row per point, or None (no neighbour evidence)
        self.groups = groups  #: the run's two-view split groups (`precompute.audit.groups.label_groups`)

    @cached_property
    def linked_groups(self) -> list:
        """Labels linked by the clusters they share, each with its verdict (`._pairs`): merge, continuum, overlap."""
        from ._pairs import linked_label_groups

        return linked_label_groups(self.points, self.params, self.embeddings)


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One finding: a place where the taxonomy and the spectrograms disagree, with its evidence.

    Subclasses are frozen dataclasses whose fields, in order, are what
    ``audit/summary.json`` records (fields left None are not written, nor
    fields whose metadata is `NOT_RECORDED`: per-glitch detail the evaluation and
    the dashboard use, too large for the summary of a large run).
    """

    kind: ClassVar[str]
    title: ClassVar[str]
    order: ClassVar[int]
    #: raised when a kind's fields change meaning, so caches of older views are not served
    revision: ClassVar[int] = 1
    #: what the evaluation matches this kind to ("planted over-splitting"); None: not scored
    planted_as: ClassVar[str | None] = None

    @classmethod
    def detect(cls, context: FindingContext) -> list[Self]:
        """Every finding of this kind in one clustering."""
        raise NotImplementedError

    def clusters_involved(self) -> list[int]:
        """The clusters this finding speaks of (the cluster table's ``flags``)."""
        return list(getattr(self, "clusters", []))

    def view(self) -> FindingView:
        raise NotImplementedError

    def cli_line(self) -> str:
        return f"{self.kind}: {self.view().headline}"

    def as_dict(self) -> dict[str, Any]:
        """The finding as ``summary.json`` records it: its kind, then every recorded field that is set."""
        out: dict[str, Any] = {"kind": self.kind}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is not None and spec.metadata.get("record", True):
                out[spec.name] = value
        return out

    @classmethod
    def planted(cls, plan: dict[str, Any]) -> list[Any]:
        """What a synthetic plan planted that findings of this kind should find (its mechanisms)."""
        return []

    def hits(self, planted: Any, truth: PlantedTruth) -> bool:
        """Whether this finding finds ``planted`` (one item of `planted`)."""
        return False


def register(cls: _Kind) -> _Kind:
    """Class decorator: make ``cls`` a kind of finding, known to the audit, the CLI, the dashboard and the evaluation."""
    if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
        raise ValueError(f"two kinds of finding named {cls.kind!r}: {_REGISTRY[cls.kind]} and {cls}")
    _REGISTRY[cls.kind] = cls
    return cls


def kinds() -> list[type[Finding]]:
    """Every kind of finding, in its ``order``."""
    return sorted(_REGISTRY.values(), key=lambda cls: (cls.order, cls.kind))


def registry_digest() -> str:
    """A short hash of every kind, its revision and its fields: changes whenever a finding's form does."""
    form = [(cls.kind, cls.revision, [f.name for f in fields(cls)]) for cls in kinds()]
    return hashlib.sha256(json.dumps(form).encode()).hexdigest()[:12]
