"""Findings: where the taxonomy fails, with evidence, computed from a run's clusters, labels and embeddings.

One module per kind, each a registered frozen dataclass that declares its
title, its rule, its dashboard view, its CLI line and how the evaluation
scores it (`Finding`, in ``_base.py``):

==============  =================================================================
``merge``       labels sharing clusters, mixed at random by their neighbours (over-splitting)
``continuum``   labels ordered along one cluster's axis (a boundary, not a merge)
``overlap``     distinct shapes sharing a cluster (neighbours tell them apart)
``split``       one label, two shapes (Omicron groups confirmed by neighbours)
``novel``       a cluster dominated by a catch-all label (a candidate new class)
==============  =================================================================

Every module of this package not starting with ``_`` is imported here, which
registers its kinds: a new kind is a new module and nothing else. Everything
that lists findings (`all_findings`, the audit's ``summary.json``, the CLI,
the dashboard's failure modes, the evaluation) goes through `kinds`, in each
kind's ``order``. Every threshold is a field of
`precompute.audit.params.FindingParams`, recorded beside the findings.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import numpy as np
import pandas as pd

from ..groups import TwoGroups
from ..params import FindingParams
from ._base import Finding, FindingContext, FindingView, PlantedTruth, kinds, register, registry_digest
from ._pairs import merge_suggestions

__all__ = [
    "Finding",
    "FindingContext",
    "FindingView",
    "Findings",
    "PlantedTruth",
    "all_findings",
    "findings_as_dict",
    "kinds",
    "merge_suggestions",
    "novel_classes",
    "register",
    "registry_digest",
    "split_suggestions",
]

#: One clustering's findings: kind -> findings of that kind, kinds in their order.
Findings = dict[str, list[Finding]]

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from .novel import novel_classes  # noqa: E402  (registered above; re-exported for callers and tests)
from .split import split_suggestions  # noqa: E402


def all_findings(
    points: pd.DataFrame, params: FindingParams, embeddings: np.ndarray | None, groups: dict[str, TwoGroups] | None
) -> Findings:
    """Every finding of one clustering, by kind: what the audit writes and the dashboard shows per re-cut.

    ``points`` holds gravityspy_id, label, cluster, x, y (and the Omicron
    columns); ``embeddings`` one row per point; ``groups`` the run's two-view
    split groups (`precompute.audit.groups.label_groups`), None without Omicron parameters.
    """
    context = FindingContext(points, params, embeddings, groups)
    return {kind.kind: kind.detect(context) for kind in kinds()}


def findings_as_dict(findings: Findings) -> dict[str, list[dict[str, Any]]]:
    """The findings as plain data, kind by kind: the ``findings`` of ``audit/summary.json``."""
    return {kind: [f.as_dict() for f in items] for kind, items in findings.items()}
