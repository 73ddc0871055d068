"""Reader for any human-labelled image set: ``<root>/<label>/*.png`` or a CSV of ``path,label``.

Each image is one item (window ``single``) and is used whole: no plot-area crop,
since there is no Gravity Spy chrome to remove. Its id is its path relative to
the root, without extension. Extra CSV columns are kept as metadata.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .dataset import SINGLE_WINDOW, Dataset, ReadReport, canonical_table
from .metadata import check_labels
from .trainingset import verify_images

__all__ = ["find_labels_csv", "identify_imagefolder", "read_imagefolder"]

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def find_labels_csv(path: Path) -> Path | None:
    """A CSV with ``path`` and ``label`` columns: ``path`` itself or one at the folder's top."""
    candidates = [path] if path.is_file() else sorted(path.glob("*.csv")) if path.is_dir() else []
    for candidate in candidates:
        if candidate.suffix.lower() != ".csv":
            continue
        try:
            header = pd.read_csv(candidate, nrows=0).columns
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
            continue
        if {"path", "label"} <= {str(c).strip() for c in header}:
            return candidate
    return None


def identify_imagefolder(path: Path) -> bool:
    """True for a labels CSV, or a folder with image files one level down."""
    if find_labels_csv(path) is not None:
        return True
    return path.is_dir() and any(
        child.is_dir() and any(f.suffix.lower() in _IMAGE_SUFFIXES for f in child.iterdir() if f.is_file())
        for child in path.iterdir()
    )


def read_imagefolder(
    path: Path, *, metadata: Path | None = None, verify: bool = True, show_progress: bool = True
) -> Dataset:
    """Read a generic labelled image set (see module docstring)."""
    report = ReadReport()
    csv = Path(metadata) if metadata else find_labels_csv(path)
    if csv is not None:
        table = pd.read_csv(csv, dtype={"path": str, "label": str})
        table.columns = [str(c).strip() for c in table.columns]
        if not {"path", "label"} <= set(table.columns):
            raise DataError(f"{csv} needs columns 'path' and 'label'; it has {', '.join(table.columns)}")
        base = csv.parent
        empty = table["path"].isna() | table["label"].isna()
        report.add(
            "empty-id-or-label",
            f"rows of {csv.name} with an empty path or label (dropped)",
            [f"row {i + 2}" for i in table.index[empty]],
        )
        table = table[~empty].copy()
        table["source"] = [str((base / p).resolve()) if not Path(p).is_absolute() else p for p in table["path"]]
        root = base
    else:
        rows = []
        for folder, _dirs, files in os.walk(path):
            here = Path(folder)
            if here == path:
                continue
            label = here.relative_to(path).parts[0]
            rows.extend((str(here / f), label) for f in sorted(files) if Path(f).suffix.lower() in _IMAGE_SUFFIXES)
        table = pd.DataFrame(rows, columns=["source", "label"])
        root = path
    if table.empty:
        raise DataError(f"no labelled images found at {path}: expected <root>/<label>/*.png or a CSV with path,label")
    exists = table["source"].map(lambda s: Path(s).is_file())
    report.add("row-without-png", "rows whose image file does not exist (dropped)", table.loc[~exists, "source"])
    table = table[exists].copy()
    table["gravityspy_id"] = [os.path.splitext(os.path.relpath(s, root))[0] for s in table["source"]]
    dup = table["gravityspy_id"].duplicated(keep="first")
    report.add("duplicate-id", "images listed twice (first kept)", table.loc[dup, "source"])
    table = table[~dup]
    check_labels(table["label"], report)
    images = table.assign(window=SINGLE_WINDOW, kind="plain")[["gravityspy_id", "window", "kind", "source"]]
    if verify:
        images = verify_images(images, report, expect_size=None, show_progress=show_progress)
    glitches = table[table["gravityspy_id"].isin(images["gravityspy_id"])].drop(
        columns=["source", "path"], errors="ignore"
    )
    return Dataset("imagefolder", csv or path, canonical_table(glitches), images.reset_index(drop=True), report)
