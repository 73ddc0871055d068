"""Reader for the Gravity Spy training set as PNG files plus its metadata CSV.

Handles every layout users have: the tarball's ``TrainingSet/<label>/``, the
Kaggle mirror's ``train/train/<label>/`` split folders, and gwpy's
``<label>/<sample_type>/``. It globs every PNG below the root, parses Gravity
Spy's file-name pattern, and takes label and split from the CSV, never from
folder names (which differ between layouts and can be stale).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from ..classes import PNG_NAME_RE
from ..errors import DataError
from ..plotarea import FIGURE_SHAPE
from ..progress import progress
from .dataset import Dataset, ReadReport, canonical_table
from .images import check_image
from .metadata import find_metadata_csv, read_metadata_csv

__all__ = ["identify_trainingset", "read_trainingset", "verify_images"]


def identify_trainingset(path: Path) -> bool:
    """True for a folder holding an official metadata CSV."""
    return path.is_dir() and find_metadata_csv(path) is not None


def _scan_pngs(root: Path, report: ReadReport) -> pd.DataFrame:
    rows, odd = [], []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.lower().endswith(".png"):
                continue
            match = PNG_NAME_RE.match(name)
            path = Path(folder) / name
            if match is None:
                odd.append(str(path.relative_to(root)))
                continue
            ifo, gid, window = match.groups()
            rows.append((gid, ifo, window, str(path)))
    report.add("unparsed-png-name", "PNG files not named <ifo>_<id>_spectrogram_<window>.png (ignored)", sorted(odd))
    return pd.DataFrame(rows, columns=["gravityspy_id", "file_ifo", "window", "source"]).sort_values("source")


def verify_images(
    images: pd.DataFrame,
    report: ReadReport,
    *,
    expect_size: tuple[int, int] | None,
    show_progress: bool,
    expect_colour: bool = False,
) -> pd.DataFrame:
    """Decode every image once; drop and record the unusable ones."""
    if images.empty:
        return images
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) * 2)) as pool:
        reasons = list(
            progress(
                pool.map(lambda s: check_image(s, expect_size=expect_size, expect_colour=expect_colour), images["source"]),
                total=len(images), desc="verify", unit="image", enabled=show_progress,
            )
        )  # fmt: skip
    bad = [r is not None for r in reasons]
    for source, reason in zip(images["source"], reasons, strict=True):
        if reason is not None:
            if expect_size is not None and reason.startswith("is "):
                reason += " (not a full Gravity Spy figure: pre-cropped images need --format imagefolder)"
            report.skip_image(source, reason)
    return images[[not b for b in bad]]


def read_trainingset(
    path: Path, *, metadata: Path | None = None, verify: bool = True, show_progress: bool = True
) -> Dataset:
    """Read a training-set folder: metadata CSV + PNG figures anywhere below ``path``.

    Parameters
    ----------
    path : `pathlib.Path`
        The folder the download was unpacked into.
    metadata : `pathlib.Path`, optional
        The metadata CSV, when it is not ``trainingset_v1d1_metadata.csv`` (or
        v1d0) in ``path``.
    verify : `bool`, optional, default: True
        Decode every PNG now and skip (and record) the unreadable ones.
    """
    report = ReadReport()
    csv = metadata or find_metadata_csv(path)
    if csv is None:
        raise DataError(
            f"{path} has no trainingset_v1d1_metadata.csv or trainingset_v1d0_metadata.csv; "
            "pass the metadata CSV with --metadata"
        )
    table = read_metadata_csv(Path(csv), report)
    found = _scan_pngs(path, report)
    if found.empty:
        raise DataError(
            f"no Gravity Spy PNGs (<ifo>_<id>_spectrogram_<window>.png) below {path}; is this the unpacked download?"
        )

    twice = found.duplicated(["gravityspy_id", "window"], keep="first")
    report.add(
        "duplicate-png",
        "PNG files for a glitch and window already found elsewhere (first path kept)",
        found.loc[twice, "source"],
    )
    found = found[~twice]

    known = found["gravityspy_id"].isin(table["gravityspy_id"])
    orphan_ids = found.loc[~known, "gravityspy_id"].unique()
    report.add("png-without-row", f"glitches with PNGs but no row in {Path(csv).name} (ignored)", orphan_ids)
    found = found[known]

    ifo_by_id = table.set_index("gravityspy_id")["ifo"]
    from_name = found.drop_duplicates("gravityspy_id").set_index("gravityspy_id")["file_ifo"]
    unknown_ifo = ifo_by_id.index[ifo_by_id.isna() & ifo_by_id.index.isin(from_name.index)]
    report.add("ifo-from-file-name", f"glitches with no ifo in {Path(csv).name}, taken from the PNG name", unknown_ifo)
    table["ifo"] = table["ifo"].where(table["ifo"].notna(), table["gravityspy_id"].map(from_name))
    ifo_by_id = table.set_index("gravityspy_id")["ifo"]
    mismatch = found["file_ifo"].to_numpy() != ifo_by_id.loc[found["gravityspy_id"]].to_numpy()
    report.add(
        "ifo-mismatch",
        "PNGs whose file-name detector differs from the CSV's ifo (CSV kept)",
        found.loc[mismatch, "source"],
    )

    if verify:
        found = verify_images(
            found, report, expect_size=FIGURE_SHAPE[::-1], expect_colour=True, show_progress=show_progress
        )

    with_images = table["gravityspy_id"].isin(found["gravityspy_id"])
    report.add(
        "row-without-png",
        f"rows of {Path(csv).name} with no readable PNG (dropped)",
        table.loc[~with_images, "gravityspy_id"],
    )
    table = table[with_images]
    windows = found.groupby("gravityspy_id")["window"].nunique()
    n_windows = found["window"].nunique()
    incomplete = windows[windows < n_windows].index
    report.add("incomplete-glitch", f"glitches with fewer than {n_windows} readable windows (kept)", incomplete)

    images = found.assign(kind="figure")[["gravityspy_id", "window", "kind", "source"]].reset_index(drop=True)
    return Dataset("trainingset", path, canonical_table(table), images, report)
