"""The canonical in-memory form of a labelled glitch data set, whatever its source format.

Every reader returns a `Dataset`: one table with a row per glitch (Gravity Spy's
own column names first), one table with a row per image (which glitch, which
time window, where its pixels are and in what form), and a `ReadReport` of
everything odd it met. Nothing a reader drops goes unrecorded in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "CANONICAL_COLUMNS",
    "IMAGE_KINDS",
    "REQUIRED_COLUMNS",
    "SINGLE_WINDOW",
    "Dataset",
    "ReadIssue",
    "ReadReport",
    "load_stored_image",
]

#: Columns every glitch table has, in this order (NaN where the source lacks them).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "gravityspy_id", "ifo", "label", "sample_type", "event_time", "snr",
    "peak_frequency", "central_freq", "bandwidth", "duration",
)  # fmt: skip
#: Columns a metadata CSV must have for its rows to be matched to images.
REQUIRED_COLUMNS: tuple[str, ...] = ("gravityspy_id", "ifo", "label")
#: Window name of data sets with one image per item (generic image folders).
SINGLE_WINDOW = "single"
#: How an image's pixels are stored: a full 800x600 Gravity Spy figure (crop it),
#: a pre-cropped grey array in an HDF5 file, or a plain image to use whole.
IMAGE_KINDS: tuple[str, ...] = ("figure", "hdf5", "plain")
_EXAMPLES = 5


@dataclass
class ReadIssue:
    """One kind of problem found while reading, with a count and a few examples."""

    kind: str
    message: str
    count: int
    examples: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        shown = ", ".join(self.examples[:_EXAMPLES])
        more = f" (e.g. {shown})" if shown else ""
        return f"[{self.kind}] {self.message}: {self.count}{more}"


@dataclass
class ReadReport:
    """Everything a reader met that was not a clean, complete glitch."""

    issues: list[ReadIssue] = field(default_factory=list)
    skipped_images: list[dict[str, str]] = field(default_factory=list)

    def add(
        self, kind: str, message: str, items: list[Any] | pd.Series | np.ndarray, *, count: int | None = None
    ) -> None:
        """Record ``items`` (ids or paths) under ``kind`` if there are any."""
        items = [str(i) for i in list(items)]
        n = len(items) if count is None else count
        if n:
            self.issues.append(ReadIssue(kind, message, n, items[:_EXAMPLES]))

    def skip_image(self, source: str, reason: str) -> None:
        """Record an image left out, and why."""
        self.skipped_images.append({"source": source, "reason": reason})

    def count(self, kind: str) -> int:
        """Total count of issues of ``kind`` (0 when none)."""
        return sum(issue.count for issue in self.issues if issue.kind == kind)

    def lines(self) -> list[str]:
        """Human-readable lines, one per issue, then the skipped images grouped by reason."""
        out = [str(issue) for issue in self.issues]
        reasons: dict[str, list[str]] = {}
        for skipped in self.skipped_images:
            reasons.setdefault(skipped["reason"], []).append(skipped["source"])
        for reason, sources in reasons.items():
            out.append(f"[unreadable-image] {reason}: {len(sources)} (e.g. {', '.join(sources[:_EXAMPLES])})")
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for run manifests."""
        return {
            "issues": [issue.__dict__ for issue in self.issues],
            "skipped_images": list(self.skipped_images),
        }


@dataclass
class Dataset:
    """A labelled glitch data set read from disk.

    Attributes
    ----------
    format : `str`
        The reader that produced it (``trainingset``, ``trainingset-h5``, ``imagefolder``).
    source : `pathlib.Path`
        What was read (folder or file).
    glitches : `pandas.DataFrame`
        One row per glitch; `CANONICAL_COLUMNS` first, then whatever else the source has.
    images : `pandas.DataFrame`
        One row per readable image: ``gravityspy_id``, ``window``, ``kind`` (one of
        `IMAGE_KINDS`) and ``source`` (a file path, or ``file.h5::key``).
    report : `ReadReport`
        What was odd, missing or skipped.
    """

    format: str
    source: Path
    glitches: pd.DataFrame
    images: pd.DataFrame
    report: ReadReport

    @property
    def windows(self) -> list[str]:
        """Time windows present, sorted."""
        return sorted(self.images["window"].unique(), key=_window_key)

    def summary(self) -> str:
        """A few lines: counts per label, windows, detectors, and the report."""
        labels = self.glitches["label"].value_counts()
        lines = [
            f"{self.format} data set at {self.source}",
            f"  {len(self.glitches)} glitches, {len(self.images)} images, windows {', '.join(self.windows) or '-'}",
            "  detectors: "
            + ", ".join(f"{k} {v}" for k, v in self.glitches["ifo"].fillna("unknown").value_counts().items()),
            f"  {len(labels)} labels: " + ", ".join(f"{k} {v}" for k, v in labels.items()),
        ]
        report = self.report.lines()
        lines.append(f"  {len(report)} kind(s) of issue" + (":" if report else ""))
        lines.extend("    " + line for line in report)
        return "\n".join(lines)

    def load_image(self, kind: str, source: str) -> np.ndarray:
        """Decode one image (a row of ``images``) to an array, as stored (no crop)."""
        return load_stored_image(kind, source)


def load_stored_image(kind: str, source: str) -> np.ndarray:
    """Decode one image row (``kind``, ``source``) to an array, as stored: a plain function, so that a
    distributed engine's workers can call it without the data set object."""
    from .images import load_png

    if kind == "hdf5":
        import h5py

        path, key = source.split("::", 1)
        with h5py.File(path, "r") as h5:
            return np.asarray(h5[key])
    return load_png(source)


def _window_key(window: str) -> tuple[int, float | str]:
    try:
        return (0, float(window))
    except ValueError:
        return (1, window)


def canonical_table(table: pd.DataFrame) -> pd.DataFrame:
    """Put `CANONICAL_COLUMNS` first (adding missing ones as NaN), keep the rest after."""
    table = table.copy()
    for column in CANONICAL_COLUMNS:
        if column not in table.columns:
            table[column] = np.nan
    rest = [c for c in table.columns if c not in CANONICAL_COLUMNS]
    return table[list(CANONICAL_COLUMNS) + rest].reset_index(drop=True)
