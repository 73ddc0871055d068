"""Which side a glitch's spectrogram neighbours take where machine and volunteers disagree (the third source).

Where the classifier's ``ml_label`` and the volunteers' consensus name
different classes, the glitch's nearest neighbours in the embedding space
(cosine, itself excluded: `precompute.audit.neighbours`) are asked, nearest
first. A neighbour *sides with the machine* when one of its own labels
(machine or volunteer) is the machine's class and none is the volunteers'
class, and with the volunteers the other way round; a neighbour carrying
both (typically another glitch of the same dispute) or neither takes no side
and the next is asked, until ``K`` have taken a side or ``REACH`` were asked.
The verdict is a two-sided sign test on those: ``machine`` or ``volunteers``
when it rejects an even split at ``ALPHA``, ``undecided`` otherwise
(``neither`` when fewer than half the ``K`` nearest name either class: the
spectrogram looks like a third class).

``K`` = 15 and ``ALPHA`` = 0.05 were fixed before the verdicts were first
scored against a synthetic archive's truth. The first version asked only the
``K`` nearest; on that first archive (seed 7) the glitches of one systematic
confusion were each other's neighbours, took no side, and left most of them
undecided. ``REACH`` = 60 was chosen there (15, 30 and 60 tried) and then
checked once on a fresh archive (seed 8); docs/validation.md has both. A
sign test at 0.05 needs at least six neighbours on one side and none on the
other, so the verdict stays silent where the neighbourhood is thin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .neighbours import nearest_neighbours

__all__ = ["ALPHA", "LABEL_COLUMNS", "REACH", "SIDE_COLUMNS", "VERDICTS", "K", "has_both_labels", "side_support"]

#: Neighbours that took a side, per glitch: the sign test's sample.
K = 15
#: Nearest neighbours asked at most to find them.
REACH = 60
#: Significance of the sign test behind a verdict.
ALPHA = 0.05
#: The two labels a run of archive images carries per glitch: the classifier's and the volunteers'.
LABEL_COLUMNS = ("ml_label", "volunteer_label")
#: What `side_support` adds per glitch (to the audit's glitches.csv).
SIDE_COLUMNS = ("for_machine", "for_volunteers", "sides_p", "sides_with")
#: Every verdict, in the order a table or legend lists them.
VERDICTS = ("agree", "machine", "volunteers", "undecided", "neither", "no consensus")


def has_both_labels(columns) -> bool:
    """Whether a table with these columns carries the machine's and the volunteers' labels (`LABEL_COLUMNS`)."""
    return set(LABEL_COLUMNS) <= set(columns)


def _sign_test(wins: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Two-sided exact binomial p-value of ``wins`` against ``losses`` under an even split (1 where none took a side)."""
    from scipy.stats import binom

    n = wins + losses
    smaller = np.minimum(wins, losses)
    return np.where(n > 0, np.minimum(1.0, 2.0 * binom.cdf(smaller, n, 0.5)), 1.0)


def _labels(values: pd.Series | np.ndarray) -> np.ndarray:
    """Labels as strings, with "" where a glitch has none (no consensus)."""
    return pd.Series(values, dtype=object).fillna("").astype(str).to_numpy()


def side_support(
    embeddings: np.ndarray, machine: pd.Series | np.ndarray, volunteer: pd.Series | np.ndarray, *,
    k: int = K, reach: int = REACH, alpha: float = ALPHA, neighbours: np.ndarray | None = None,
) -> pd.DataFrame:  # fmt: skip
    """Per glitch: ``for_machine``, ``for_volunteers`` (neighbours siding with each), ``sides_p`` and ``sides_with``.

    ``volunteer`` is empty or NaN where a glitch has no consensus; such glitches
    get ``no consensus`` and glitches whose two labels agree get ``agree``,
    but both still serve as neighbours of the others. ``neighbours`` (from
    `nearest_neighbours`, at least ``reach`` columns) saves the search.
    """
    machine, volunteer = _labels(machine), _labels(volunteer)
    n = len(machine)
    if neighbours is None:
        neighbours = nearest_neighbours(embeddings, reach) if n > 1 else np.zeros((n, 0), dtype=np.intp)
    found = neighbours[:, :reach]
    of_machine = (machine[found] == machine[:, None]) | (volunteer[found] == machine[:, None])
    of_volunteers = (machine[found] == volunteer[:, None]) | (volunteer[found] == volunteer[:, None])
    took = of_machine ^ of_volunteers  # one side, not both
    counted = took & (np.cumsum(took, axis=1) <= k)  # the first k neighbours that took a side
    for_machine = (counted & of_machine).sum(axis=1)
    for_volunteers = (counted & of_volunteers).sum(axis=1)
    p = _sign_test(for_machine, for_volunteers)
    verdict = np.where(for_machine > for_volunteers, "machine", "volunteers")
    verdict = np.where(p < alpha, verdict, "undecided")
    nearest = min(k, found.shape[1])
    named = (of_machine | of_volunteers)[:, :nearest].sum(axis=1)
    verdict = np.where((verdict == "undecided") & (named < nearest / 2), "neither", verdict)
    verdict = np.where(machine == volunteer, "agree", verdict)
    verdict = np.where(volunteer == "", "no consensus", verdict)
    return pd.DataFrame(
        {"for_machine": for_machine, "for_volunteers": for_volunteers, "sides_p": np.round(p, 5),
         "sides_with": verdict.astype(object)}
    )  # fmt: skip
