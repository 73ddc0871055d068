"""Two shapes under one label: groups in the Omicron parameters that the spectrograms confirm.

Over-compression (one label for two shapes) is the failure a clustering of
the map alone finds worst: two similar shapes can share a cluster, and one
shape is often cut into two clusters by loudness. So a split needs two
independent views to agree:

1. **Omicron view.** The label's members fall into two groups along at least one of the
   trigger's shape parameters (log10 of ``duration``, ``peak_frequency`` or
   ``bandwidth``; loudness is left out on purpose, since one shape spans a
   range of loudness): a mixture of two Gaussians fits better than one by
   ``min_delta_bic`` (10, "very strong" on Kass & Raftery's scale), and each
   group holds at least ``smallest_side`` members (no share of the label is
   required: the evidence below decides whether a small group is real).
2. **Spectrogram view.** Nearest neighbours in the embedding space tell the two
   groups apart: the ``label_mixing`` interval lies above ``max_mixing`` (the
   threshold that also tells overlaps from merges) and shuffled groups rarely
   mix so little (p < ``alpha``; `precompute.audit.neighbours.Evidence`), and
   each group is a shape the label keeps
   to itself: its members' ``k`` nearest neighbours carry the label at least
   ``min_majority`` of the time on average (the per-glitch audit's agreement).
   That rules out a handful of mislabelled glitches, whose neighbours carry
   their true labels, and one shape shared with sibling labels (a merge, not a
   split).

When several parameters show two groups, the shape axis is the one whose groups
the spectrograms tell apart best (the highest low end of the interval): ΔBIC
says how two-grouped a parameter is, not whether the groups are two shapes,
and measurement alone makes some parameters bimodal (a trigger reaching the band
edge, repeating arches chained into one trigger).

Catch-all labels (None_of_the_Above) are never split: holding several shapes is
what they are for, and the novel-class finding looks inside them.

Where the data cannot decide, the label is *undecided*, not dropped: fewer
than two groups of ``smallest_side`` glitches, candidate groups below that
size, or a neighbour statistic whose interval spans ``max_mixing``. The audit
reports these as "cannot tell" (`precompute.audit.findings.cannot_tell`).

Neither view uses the clustering, so the groups are computed once per run and
reused by every re-cut; only the clusters each group lands in are per cut.
Numpy only (a small EM in one dimension): fast and deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..classes import CATCH_ALL_LABELS
from .neighbours import Evidence, mixing_evidence, neighbour_agreement
from .params import FindingParams

__all__ = [
    "SHAPE_PARAMETERS",
    "LabelGroups",
    "TwoGroups",
    "has_shape_parameters",
    "label_groups",
    "two_gaussian_fit",
]

#: Omicron trigger parameters describing a glitch's shape (not its loudness), as the metadata CSV names them.
SHAPE_PARAMETERS = ("duration", "peak_frequency", "bandwidth")

_VAR_FLOOR = 1e-4  # (0.01 dex)^2: Omicron's tiled frequencies repeat exactly; a zero variance is not evidence
_EM_STEPS = 200
_FIT_SAMPLE = 500  #: values EM fits at most (a seeded sample beyond): a re-fit stays fast on a 34k-glitch run


@dataclass(frozen=True)
class TwoGroups:
    """A label's members in two groups along one shape parameter, confirmed by their neighbours."""

    label: str
    parameter: str
    delta_bic: float
    mixing: float
    members: np.ndarray  #: row positions (in the points table) of the label's members that have the parameter
    group: np.ndarray  #: 0 (lower values) or 1 per member
    medians: tuple[float, float]  #: the parameter's median in each group, in its own unit
    evidence: Evidence | None = None  #: the groups' neighbour statistic with its null and interval


def _normal_logpdf(x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    return -0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)


def two_gaussian_fit(values: np.ndarray) -> tuple[float, np.ndarray]:
    """How much better two Gaussians describe ``values`` than one: (BIC_1 - BIC_2, group per value).

    Started from the best two-way cut of the sorted values (Otsu's rule), then
    refined by EM (on a seeded sample of ``_FIT_SAMPLE`` values for large
    labels; the likelihoods are always evaluated on every value). Group 0 is
    the component with the lower mean. Positive values favour two groups; 10
    is "very strong" evidence.
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n < 4:
        return 0.0, np.zeros(n, dtype=np.int8)
    var1 = max(float(x.var()), _VAR_FLOOR)
    loglik1 = float(_normal_logpdf(x, x.mean(), var1).sum())
    fit = x if n <= _FIT_SAMPLE else np.random.default_rng(0).choice(x, _FIT_SAMPLE, replace=False)
    weight, mean, var = _em(np.sort(fit))
    joint = np.log(weight) + _normal_logpdf(x[:, None], mean, var)
    top = joint.max(axis=1)
    loglik2 = float((top + np.log(np.exp(joint - top[:, None]).sum(axis=1))).sum())
    delta_bic = 2 * (loglik2 - loglik1) - 3 * np.log(n)  # two components cost three more parameters
    group = joint.argmax(axis=1).astype(np.int8)
    if mean[0] > mean[1]:
        group = 1 - group
    return float(delta_bic), group


def _em(order: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and variances of two Gaussians fitted to sorted values (Otsu start, then EM)."""
    n = len(order)
    sizes = np.arange(1, n)
    left = np.cumsum(order)[:-1] / sizes
    right = (order.sum() - np.cumsum(order)[:-1]) / (n - sizes)
    between = sizes * (n - sizes) * (left - right) ** 2  # Otsu: the cut maximising between-group variance
    cut = int(np.argmax(between[1:-1])) + 2 if n > 4 else 2  # at least two values on each side
    weight = np.array([cut / n, 1 - cut / n])
    mean = np.array([order[:cut].mean(), order[cut:].mean()])
    var = np.maximum([order[:cut].var(), order[cut:].var()], _VAR_FLOOR)
    previous = -np.inf
    for _ in range(_EM_STEPS):
        joint = np.log(weight) + _normal_logpdf(order[:, None], mean, var)
        top = joint.max(axis=1, keepdims=True)
        resp = np.exp(joint - top)
        total = resp.sum(axis=1, keepdims=True)
        loglik = float((top + np.log(total)).sum())
        resp /= total
        mass = np.maximum(resp.sum(axis=0), 1e-9)
        weight = np.maximum(mass / n, 1e-300)
        mean = (resp * order[:, None]).sum(axis=0) / mass
        var = np.maximum((resp * (order[:, None] - mean) ** 2).sum(axis=0) / mass, _VAR_FLOOR)
        if loglik - previous < 1e-5 * n:
            break
        previous = loglik
    return weight, mean, var


def has_shape_parameters(points: pd.DataFrame) -> bool:
    """True when the points carry at least one Omicron shape parameter with usable (positive) values."""
    return any(
        column in points and (pd.to_numeric(points[column], errors="coerce") > 0).any() for column in SHAPE_PARAMETERS
    )


class LabelGroups(dict):
    """The labels found to hold two shapes (label -> `TwoGroups`), and those the data cannot judge.

    ``undecided`` maps a label to (glitches, why): too few glitches for two
    groups of ``smallest_side``, groups too small to decide, or groups whose
    neighbour statistic's interval spans the threshold.
    """

    def __init__(self, found: dict[str, TwoGroups], undecided: dict[str, tuple[int, str]]):
        super().__init__(found)
        self.undecided = undecided


def _candidate_groups(
    rows: np.ndarray, logs: dict[str, np.ndarray], params: FindingParams
) -> tuple[list[tuple[float, str, np.ndarray, np.ndarray]], int]:
    """Every parameter in which the label's members form two groups (ΔBIC >= min_delta_bic, groups large enough):
    (ΔBIC, parameter, members, group) each; and the smaller group of the best fit that was too small to count."""
    candidates, too_small = [], 0
    for column, values in logs.items():
        members = rows[np.isfinite(values[rows])]
        if len(members) < 2 * params.min_count:
            continue
        delta, group = two_gaussian_fit(values[members])
        smallest = min(int((group == 0).sum()), int((group == 1).sum()))
        if smallest < params.min_count or delta < params.min_delta_bic:
            continue
        if smallest < params.smallest_side:
            too_small = max(too_small, smallest)
            continue
        candidates.append((delta, column, members, group))
    return candidates, too_small


def label_groups(
    points: pd.DataFrame,
    embeddings: np.ndarray,
    params: FindingParams,
    agreement: np.ndarray | None = None,
) -> LabelGroups | None:
    """Labels whose members form two groups in both views (see the module docstring), with those groups, and the
    labels the data cannot judge (`LabelGroups.undecided`).

    None when the points carry no usable Omicron shape parameter (an image
    folder): the split finding then falls back to the clusters-only rule.

    ``params`` is the audit's `FindingParams` (``min_count``,
    ``min_delta_bic``, ``mix_k``, ``max_mixing``, ``k``, ``min_majority``,
    ``alpha`` and the evidence settings); ``agreement`` is each point's
    neighbour agreement (the per-glitch audit's, computed here when not given).
    """
    if not has_shape_parameters(points):
        return None
    labels = points["label"].astype(str).to_numpy()
    if agreement is None:
        agreement = neighbour_agreement(embeddings, labels, params.k)
    logs = {
        column: np.log10(pd.to_numeric(points[column], errors="coerce").where(lambda v: v > 0).to_numpy(float))
        for column in SHAPE_PARAMETERS
        if column in points
    }
    found: dict[str, TwoGroups] = {}
    undecided: dict[str, tuple[int, str]] = {}
    for label in np.unique(labels):
        if label in CATCH_ALL_LABELS:
            continue  # holding several shapes is what a catch-all is for; the novel-class finding looks inside it
        rows = np.flatnonzero(labels == label)
        if len(rows) < 2 * params.smallest_side:
            undecided[str(label)] = (
                len(rows),
                f"too few to judge a split (two groups of {params.smallest_side} needed)",
            )
            continue
        candidates, too_small = _candidate_groups(rows, logs, params)
        if not candidates:
            if too_small:
                undecided[str(label)] = (len(rows), f"two groups, the smaller of {too_small}: too few to decide")
            continue
        # ΔBIC says how two-grouped a parameter is, not whether its groups are two shapes: several parameters
        # can be bimodal for reasons of measurement (a band edge, arches chained into one trigger), so the shape
        # axis is the candidate whose groups the spectrograms tell apart best (the highest interval's low end)
        judged = []
        for delta, column, members, group in candidates:
            # each group must be a shape this label keeps to itself: a group whose neighbours mostly carry other
            # labels is a handful of mislabelled glitches (the suspicion list) or one shape shared with other
            # labels (a merge), not a second shape hiding under this one
            if min(float(agreement[members[group == g]].mean()) for g in (0, 1)) < params.min_majority:
                continue
            evidence = mixing_evidence(
                embeddings[members], group, params.mix_k, n_permutations=params.n_permutations,
                n_subsamples=params.n_subsamples, alpha=params.alpha,
            )  # fmt: skip
            judged.append((evidence.low, delta, column, members, group, evidence))
        if not judged:
            continue
        _, delta, column, members, group, evidence = max(judged, key=lambda j: (j[0], j[1]))
        if all(j[5].high <= params.max_mixing for j in judged):
            continue  # in every candidate the two groups look alike: one shape whose parameters vary
        if not (evidence.low > params.max_mixing and evidence.p_value < params.alpha):
            undecided[str(label)] = (
                len(members),
                f"two groups in {column}, but neighbours tell them apart {evidence.observed:.2f} "
                f"(interval {evidence.low:.2f}-{evidence.high:.2f}, p {evidence.p_value:.3f}): not enough to decide",
            )
            continue
        raw = 10.0 ** logs[column][members]
        found[str(label)] = TwoGroups(
            label=str(label),
            parameter=column,
            delta_bic=round(delta, 1),
            mixing=round(float(evidence.observed), 3),
            members=members,
            group=group,
            medians=(float(np.median(raw[group == 0])), float(np.median(raw[group == 1]))),
            evidence=evidence,
        )
    return LabelGroups(found, undecided)
