"""Progress bars with rates for long stages, and a summary line that survives in logs."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["counter", "progress"]

T = TypeVar("T")
log = logging.getLogger("precompute")


class _Counter:
    def __init__(self, bar) -> None:
        self.bar = bar
        self.count = 0

    def update(self, n: int = 1) -> None:
        self.count += n
        self.bar.update(n)


@contextlib.contextmanager
def counter(*, total: int | None, desc: str, unit: str, enabled: bool = True) -> Iterator[_Counter]:
    """A bar advanced by ``update(n)``; on exit, log how many ``unit`` per second the stage did.

    The bar shows on a terminal only (``enabled`` and stderr is a TTY); the
    summary line is logged everywhere, so CI logs and files keep the rate.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    show = enabled and sys.stderr.isatty()
    with tqdm(total=total, desc=desc, unit=unit, disable=not show, dynamic_ncols=True) as bar:
        state = _Counter(bar)
        yield state
    elapsed = time.perf_counter() - start
    rate = state.count / elapsed if elapsed > 0 else float("inf")
    log.info("%s: %d %s in %.1f s (%.2f %s/s)", desc, state.count, unit, elapsed, rate, unit)


def progress(items: Iterable[T], *, total: int | None, desc: str, unit: str, enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` under a `counter` advanced by one per item."""
    with counter(total=total, desc=desc, unit=unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update()
