"""Read a data set by format name, or let the format be identified from what is on disk.

Formats register a reader and an ``identify`` test, in the order they are tried
(the first match wins), as gwpy's I/O registry does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from .dataset import Dataset

__all__ = ["FORMATS", "identify_format", "read_dataset", "register_reader"]


@dataclass(frozen=True)
class Reader:
    name: str
    identify: Callable[[Path], bool]
    read: Callable[..., Dataset]
    description: str


FORMATS: dict[str, Reader] = {}


def register_reader(
    name: str, identify: Callable[[Path], bool], read: Callable[..., Dataset], description: str
) -> None:
    """Make ``read`` available as ``format=name``; ``identify`` lets auto-detection pick it."""
    FORMATS[name] = Reader(name, identify, read, description)


def identify_format(path: Path) -> str:
    """Name of the first registered format that recognises ``path``."""
    for reader in FORMATS.values():
        if reader.identify(path):
            return reader.name
    looked = "; ".join(f"{r.name}: {r.description}" for r in FORMATS.values())
    raise DataError(f"cannot tell what kind of data set {path} is. Looked for {looked}. Pass --format to say which")


def read_dataset(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    metadata: str | os.PathLike[str] | None = None,
    verify: bool = True,
    show_progress: bool = True,
) -> Dataset:
    """Read a labelled glitch data set into the canonical `Dataset`.

    Parameters
    ----------
    path : path
        A folder (or, for HDF5 and labels CSVs, a file).
    format : `str`, optional
        One of `FORMATS`; identified from the contents when omitted.
    metadata : path, optional
        A metadata CSV elsewhere than where the format expects it.
    verify : `bool`, optional, default: True
        Decode every image now; unreadable ones are skipped and recorded.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data set path {path} does not exist")
    if format is None:
        format = identify_format(path)
    elif format not in FORMATS:
        raise DataError(f"unknown --format {format!r}; choose one of {', '.join(FORMATS)}")
    dataset = FORMATS[format].read(
        path, metadata=Path(metadata) if metadata else None, verify=verify, show_progress=show_progress
    )
    if dataset.glitches.empty:
        found = "; ".join(dataset.report.lines()) or "nothing"
        raise DataError(f"{path} holds no usable glitch ({found}); check that its metadata rows match its images")
    return dataset
