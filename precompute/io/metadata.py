"""Gravity Spy metadata CSVs: find them, read them, and check them row by row."""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from ..classes import KNOWN_LABELS
from ..errors import DataError
from .dataset import REQUIRED_COLUMNS, ReadReport

__all__ = ["METADATA_NAMES", "check_labels", "find_metadata_csv", "read_csv_checked", "read_metadata_csv"]

#: File names of the official metadata tables, newest first.
METADATA_NAMES: tuple[str, ...] = ("trainingset_v1d1_metadata.csv", "trainingset_v1d0_metadata.csv")


def find_metadata_csv(root: Path) -> Path | None:
    """The official metadata CSV in ``root`` (newest release first), else None."""
    for name in METADATA_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def read_metadata_csv(path: Path, report: ReadReport, *, required: tuple[str, ...] = REQUIRED_COLUMNS) -> pd.DataFrame:
    """Read a metadata CSV, check its columns and rows, and return one row per glitch.

    Rows with an empty id or label are dropped, duplicate ids keep their first
    row; both are recorded in ``report``. Labels outside the 22 known classes are
    kept and recorded.

    Raises
    ------
    DataError
        If the file is missing, empty, not CSV, or lacks a required column; the
        message names the file and lists the missing columns.
    """
    table = read_csv_checked(
        path,
        what="metadata file",
        required=required,
        dtype={"gravityspy_id": str, "label": str, "ifo": str, "sample_type": str},
        absent_fix="pass the CSV with --metadata",
        columns_fix="Rename the columns or pass the right CSV with --metadata",
    )
    for column in ("gravityspy_id", "label", "ifo", "sample_type"):
        if column in table.columns:
            table[column] = table[column].astype("string").str.strip()
    empty = (
        table["gravityspy_id"].isna() | (table["gravityspy_id"] == "") | table["label"].isna() | (table["label"] == "")
    )
    report.add(
        "empty-id-or-label",
        f"rows of {path.name} with an empty gravityspy_id or label (dropped)",
        [f"row {i + 2}" for i in table.index[empty]],
    )
    table = table[~empty]
    dup = table["gravityspy_id"].duplicated(keep="first")
    report.add(
        "duplicate-id",
        f"rows of {path.name} repeating an earlier gravityspy_id (the first row is kept)",
        table.loc[dup, "gravityspy_id"],
    )
    table = table[~dup].copy()
    for column in ("gravityspy_id", "label", "ifo", "sample_type"):
        if column in table.columns:
            table[column] = table[column].astype(object).where(table[column].notna(), None)
    check_labels(table["label"], report)
    report_missing_values(table, path, report)
    return table.reset_index(drop=True)


def read_csv_checked(
    path: Path, *, what: str, required: tuple[str, ...], dtype: dict[str, type], absent_fix: str, columns_fix: str
) -> pd.DataFrame:
    """A CSV read with errors that name the file and the fix: missing, empty, unparsable, or lacking ``required``.

    ``what`` names the file's role ("metadata file", "catalogue file") in every
    message; column names are stripped of surrounding spaces.
    """
    try:
        table = pd.read_csv(path, dtype=dtype, low_memory=False)
    except FileNotFoundError:
        raise DataError(f"{what} {path} does not exist; {absent_fix}") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{what} {path} is empty; it needs a header with {', '.join(required)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{what} {path} is not a readable CSV ({exc}); is it truncated?") from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DataError(
            f"{what} {path} lacks required column(s) {', '.join(missing)}{_guesses(missing, table.columns)}; "
            f"it has {', '.join(table.columns[:40])}. {columns_fix}"
        )
    return table


def _guesses(missing: list[str], columns) -> str:
    """' (is 'Label' meant as 'label'?)' for missing columns that look like present ones, else ''."""
    pairs = []
    for name in missing:
        close = difflib.get_close_matches(name.lower(), [str(c).lower() for c in columns], n=1, cutoff=0.75)
        if close:
            actual = next(str(c) for c in columns if str(c).lower() == close[0])
            pairs.append(f"is {actual!r} meant as {name!r}?")
    return f" ({'; '.join(pairs)})" if pairs else ""


#: Metadata the dashboard and the confound checks use; empty cells are kept and reported.
_DESCRIPTIVE = ("ifo", "event_time", "snr", "peak_frequency")


def report_missing_values(table: pd.DataFrame, path: Path, report: ReadReport) -> None:
    """Record glitches whose detector, time, SNR or frequency cell is empty (kept, shown as unknown)."""
    for column in _DESCRIPTIVE:
        if column in table.columns:
            empty = table[column].isna()
            report.add(
                "missing-value",
                f"glitches with an empty {column} in {path.name} (kept)",
                table.loc[empty, "gravityspy_id"],
            )


def check_labels(labels: pd.Series, report: ReadReport) -> None:
    """Record labels outside the 22 known classes (they are kept: later runs add classes)."""
    unknown = sorted(set(labels.dropna()) - KNOWN_LABELS)
    if unknown:
        n = int(labels.isin(unknown).sum())
        report.add(
            "unknown-label",
            f"glitches whose label is not one of the 22 Gravity Spy classes (kept): labels {unknown}",
            unknown,
            count=n,
        )
