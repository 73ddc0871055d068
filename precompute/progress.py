"""Progress bars with rates for long stages, and a summary line that survives in logs."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["progress"]

T = TypeVar("T")
log = logging.getLogger("precompute")


def progress(items: Iterable[T], *, total: int | None, desc: str, unit: str, enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` under a tqdm bar (on a terminal) and log the final rate.

    Parameters
    ----------
    items : iterable
        What the stage processes.
    total : `int`, optional
        Number of items, for the bar and the summary.
    desc, unit : `str`
        Stage name and the unit of work ("glitch", "image").
    enabled : `bool`, optional, default: True
        False hides the bar (tests, library use); the summary is still logged.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    count = 0
    show = enabled and sys.stderr.isatty()
    for item in tqdm(items, total=total, desc=desc, unit=unit, disable=not show, dynamic_ncols=True):
        count += 1
        yield item
    elapsed = time.perf_counter() - start
    rate = count / elapsed if elapsed > 0 else float("inf")
    log.info("%s: %d %s in %.1f s (%.2f %s/s)", desc, count, unit, elapsed, rate, unit)
