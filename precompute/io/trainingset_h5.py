"""Reader for the HDF5 release of the training set (``trainingsetv1d1.h5``).

Layout: ``h5[label][sample_type][gravityspy_id]['0.5.png' | '1.0.png' | '2.0.png' | '4.0.png']``,
each a (1, 140, 170) grey array already cropped to the plot area and scaled by 0.3.
The file holds no metadata beyond label and split; a metadata CSV beside it
(or given with ``metadata=``) adds detector, SNR, times and frequencies.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..classes import WINDOWS
from ..errors import DataError
from ..plotarea import GREY_SHAPE
from .dataset import Dataset, ReadReport, canonical_table
from .metadata import check_labels, find_metadata_csv, read_metadata_csv

__all__ = ["find_h5", "identify_trainingset_h5", "read_trainingset_h5"]

_H5_SUFFIXES = (".h5", ".hdf5", ".hdf")
_H5_NAMES = ("trainingsetv1d1.h5", "trainingsetv1d0.h5")


def find_h5(path: Path) -> Path | None:
    """The HDF5 release at ``path`` (a file, or a folder holding the official file name)."""
    if path.is_file() and path.suffix.lower() in _H5_SUFFIXES:
        return path
    if path.is_dir():
        for name in _H5_NAMES:
            if (path / name).is_file():
                return path / name
    return None


def identify_trainingset_h5(path: Path) -> bool:
    """True for an .h5 file, or a folder with the official .h5 file name."""
    return find_h5(path) is not None


def _walk(h5, report: ReadReport, source: str) -> pd.DataFrame:
    """Collect (label, sample_type, id, window, key) for every image dataset in the tree."""
    import h5py

    rows, misplaced, wrong_shape = [], [], []
    window_names = {f"{w}.png": w for w in WINDOWS}

    def visit(name: str, obj) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        parts = name.split("/")
        if len(parts) != 4 or parts[3] not in window_names:
            misplaced.append(name)
            return
        shape = tuple(obj.shape)
        if shape not in ((1, *GREY_SHAPE), GREY_SHAPE):
            wrong_shape.append(f"{name} {shape}")
            report.skip_image(f"{source}::{name}", f"shape {shape}, expected (1, {GREY_SHAPE[0]}, {GREY_SHAPE[1]})")
            return
        label, sample_type, gid, png = parts
        rows.append((gid, label, sample_type, window_names[png], f"{source}::{name}"))

    h5.visititems(visit)
    report.add("unexpected-h5-dataset", "datasets not at label/sample_type/id/<window>.png (ignored)", misplaced)
    return pd.DataFrame(rows, columns=["gravityspy_id", "label", "sample_type", "window", "source"])


def read_trainingset_h5(
    path: Path, *, metadata: Path | None = None, verify: bool = True, show_progress: bool = True
) -> Dataset:
    """Read the HDF5 release, merging metadata from a CSV when one is found.

    ``verify`` checks every array's shape (always) and, when True, reads each
    array once so that a truncated file is found now rather than mid-run.
    """
    import h5py

    h5_path = find_h5(path)
    if h5_path is None:
        raise DataError(f"{path} is not an HDF5 file and holds no trainingsetv1d1.h5; pass the .h5 file itself")
    report = ReadReport()
    try:
        with h5py.File(h5_path, "r") as h5:
            found = _walk(h5, report, str(h5_path))
            if verify:
                for source in list(found["source"]):
                    try:
                        np.asarray(h5[source.split("::", 1)[1]])
                    except (OSError, KeyError) as exc:
                        report.skip_image(source, f"unreadable array ({exc})")
                bad = {s["source"] for s in report.skipped_images}
                found = found[~found["source"].isin(bad)]
    except OSError as exc:
        raise DataError(f"{h5_path} cannot be opened as HDF5 ({exc}); is the download complete?") from None
    if found.empty:
        raise DataError(f"{h5_path} holds no images at label/sample_type/gravityspy_id/<window>.png")

    twice = found.duplicated(["gravityspy_id", "window"], keep="first")
    report.add(
        "duplicate-id",
        "glitch ids stored under more than one label or split (first kept)",
        found.loc[twice, "gravityspy_id"].unique(),
    )
    found = found[~twice]
    glitches = found.drop_duplicates("gravityspy_id")[["gravityspy_id", "label", "sample_type"]]
    check_labels(glitches["label"], report)

    csv = metadata or find_metadata_csv(h5_path.parent)
    if csv is not None:
        table = read_metadata_csv(Path(csv), report, required=("gravityspy_id",))
        extra = table.drop(columns=[c for c in ("label", "sample_type") if c in table.columns])
        if "label" in table.columns:
            both = glitches.merge(table[["gravityspy_id", "label"]], on="gravityspy_id", suffixes=("", "_csv"))
            differ = both.loc[both["label"] != both["label_csv"], "gravityspy_id"]
            report.add("label-mismatch", f"glitches whose HDF5 label differs from {Path(csv).name} (HDF5 kept)", differ)
        no_row = ~glitches["gravityspy_id"].isin(table["gravityspy_id"])
        report.add(
            "h5-without-row",
            f"glitches in the HDF5 file with no row in {Path(csv).name} (kept, metadata unknown)",
            glitches.loc[no_row, "gravityspy_id"],
        )
        no_image = ~table["gravityspy_id"].isin(glitches["gravityspy_id"])
        report.add(
            "row-without-image",
            f"rows of {Path(csv).name} with no readable image in {h5_path.name} (dropped)",
            table.loc[no_image, "gravityspy_id"],
        )
        glitches = glitches.merge(extra, on="gravityspy_id", how="left")
    else:
        report.add(
            "no-metadata",
            "no metadata CSV beside the HDF5 file: detector, SNR, times and frequencies are unknown; pass --metadata",
            ["-"], count=len(glitches),
        )  # fmt: skip

    n_windows = found["window"].nunique()
    counts = found.groupby("gravityspy_id")["window"].nunique()
    report.add(
        "incomplete-glitch", f"glitches with fewer than {n_windows} windows (kept)", counts[counts < n_windows].index
    )
    images = found.assign(kind="hdf5")[["gravityspy_id", "window", "kind", "source"]].reset_index(drop=True)
    return Dataset("trainingset-h5", h5_path, canonical_table(glitches), images, report)
