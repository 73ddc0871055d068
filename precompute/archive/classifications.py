"""Reader of the archive's ML classifications (Zenodo 5649212): one CSV per detector and observing run.

Columns are matched by name, never by position: the class set differs between
runs (O3 adds `runs.O3_CLASSES`), so the header says which score columns a file
has. Every oddity is recorded in the `ReadReport`, nothing is dropped
silently:

- a required column missing: a `DataError` naming the file and the columns;
- columns neither known nor scores: reported as extra (kept);
- a score column of a class outside `runs.ARCHIVE_CLASSES`: reported (kept);
- scores that do not sum to ~1, an ``ml_label`` that is not the top score;
- rows outside the GPS span of the run the file is named after, or of the
  other detector (a file mixed from two runs or detectors);
- an id already read from another file (the first is kept);
- an image URL that is empty or ``"?"`` (as some real rows have);
- a row without an id, ``ml_label`` or ``ml_confidence`` (a truncated file): dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..io.dataset import ReadReport
from ..io.metadata import read_csv_checked
from .runs import ARCHIVE_CLASSES, DETECTORS, RUN_SPANS

__all__ = [
    "OTHER_COLUMNS",
    "REQUIRED_COLUMNS",
    "TRIGGER_COLUMNS",
    "Classifications",
    "find_catalogue_files",
    "read_classifications",
]

#: Omicron trigger columns of every row, as the public record lists them.
TRIGGER_COLUMNS: tuple[str, ...] = (
    "event_time", "ifo", "peak_time", "peak_time_ns", "start_time", "start_time_ns", "duration",
    "peak_frequency", "central_freq", "bandwidth", "channel", "amplitude", "snr", "q_value", "gravityspy_id",
)  # fmt: skip
#: The classifier's verdict and the four windows' images.
OTHER_COLUMNS: tuple[str, ...] = ("ml_label", "ml_confidence", "url1", "url2", "url3", "url4")
#: Without these a row cannot be used.
REQUIRED_COLUMNS: tuple[str, ...] = ("gravityspy_id", "ifo", "event_time", "ml_label", "ml_confidence")
#: Columns of training-set metadata and other releases that may also appear; known, not scores.
_ALSO_KNOWN = frozenset({"search", "process_id", "event_id", "confidence", "chisq", "chisq_dof", "param_one_name",
                         "param_one_value", "label", "sample_type", "Unnamed: 0"})  # fmt: skip
#: A file named like the release: H1_O1.csv, L1_O3b.csv.
_FILE_NAME = re.compile(r"^(H1|L1)_(O1|O2|O3a|O3b)\.csv$")
#: How far a row's scores may sum from 1 (they are rounded softmax outputs).
SUM_TOLERANCE = 0.01


@dataclass
class Classifications:
    """The archive's glitches with the classifier's scores.

    Attributes
    ----------
    glitches : `pandas.DataFrame`
        One row per glitch: the trigger columns present, ``detector`` and
        ``run`` (from the file name, else the row), ``source_file``,
        ``ml_label``, ``ml_confidence``, ``url1``..``url4``.
    scores : `numpy.ndarray`
        (n_glitches, n_classes) float32 class probabilities, NaN where a
        glitch's file has no column for a class (another run's class set).
    classes : `list` of `str`
        The score columns, in order.
    report : `ReadReport`
        Everything odd met while reading.
    """

    glitches: pd.DataFrame
    scores: np.ndarray
    classes: list[str]
    report: ReadReport
    files: list[Path]

    def summary(self) -> str:
        """A few lines: glitches per detector and run, classes, and the report."""
        per = self.glitches.groupby(["detector", "run"], dropna=False).size()
        lines = [
            f"archive classifications: {len(self.glitches):,} glitches from {len(self.files)} file(s)",
            "  " + ", ".join(f"{d} {r}: {n:,}" for (d, r), n in per.items()),
            f"  {len(self.classes)} classes scored; machine labels: "
            + ", ".join(f"{k} {v}" for k, v in self.glitches["ml_label"].value_counts().head(8).items())
            + (" …" if self.glitches["ml_label"].nunique() > 8 else ""),
        ]
        if "volunteer_label" in self.glitches:
            voted = self.glitches["volunteer_label"].notna()
            agree = (self.glitches.loc[voted, "volunteer_label"] == self.glitches.loc[voted, "ml_label"]).mean()
            retired = self.glitches.loc[voted, "retired"].astype(bool).sum()
            lines.append(
                f"  volunteer consensus for {int(voted.sum()):,} glitches ({retired:,} retired); "
                f"the machine's label agrees on {agree:.1%} of them"
            )
        lines += [f"  {line}" for line in self.report.lines()]
        return "\n".join(lines)


def find_catalogue_files(path: Path) -> list[Path]:
    """The catalogue CSVs at ``path``: the file itself, or a folder's release-named CSVs (``H1_O1.csv`` …).

    Other CSVs beside them (a vote export, notes) are left alone; a folder with
    no release-named CSV is read whole, so renamed files still work.
    """
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"archive catalogue {path} does not exist; pass a CSV such as H1_O3a.csv or their folder")
    files = sorted(path.glob("*.csv"))
    named = [f for f in files if _FILE_NAME.match(f.name)]
    if not files:
        raise DataError(f"no catalogue CSVs (H1_O1.csv … L1_O3b.csv) in {path}")
    return named or files


def _read_one(path: Path) -> pd.DataFrame:
    return read_csv_checked(
        path,
        what="catalogue file",
        required=REQUIRED_COLUMNS,
        dtype={"gravityspy_id": str, "ifo": str, "ml_label": str, "channel": str},
        absent_fix="pass a CSV such as H1_O3a.csv or their folder",
        columns_fix="Is it one of the archive's ML classification CSVs (Zenodo 5649212)?",
    )


def _score_columns(table: pd.DataFrame, path: Path, report: ReadReport) -> list[str]:
    """Score columns: known classes, plus numeric [0, 1] columns no one else claims (unknown classes, kept)."""
    known = set(TRIGGER_COLUMNS) | set(OTHER_COLUMNS) | _ALSO_KNOWN
    scores, extra, unknown = [], [], []
    for column in table.columns:
        if column in ARCHIVE_CLASSES:
            scores.append(column)
        elif column in known:
            continue
        elif pd.api.types.is_numeric_dtype(table[column]) and _probabilities(table[column]):
            scores.append(column)
            unknown.append(column)
        else:
            extra.append(column)
    report.add("unknown-class", f"score columns of {path.name} naming classes outside the archive's (kept)", unknown)
    report.add("extra-column", f"columns of {path.name} that are neither trigger nor score columns (kept)", extra)
    absent = [c for c in TRIGGER_COLUMNS if c not in table.columns]
    report.add("missing-column", f"trigger columns {path.name} lacks (left empty)", absent)
    if not scores:
        raise DataError(f"catalogue file {path} has no class score columns (e.g. Blip, Koi_Fish); cannot use it")
    return scores


def _no_url(urls: pd.Series) -> pd.Series:
    """Cells that hold no image URL: empty, or "?" as some real rows have."""
    return urls.isna() | urls.astype(str).str.strip().isin(["", "?"])


def _probabilities(values: pd.Series) -> bool:
    """Whether a column looks like class scores: numbers, all in [0, 1] where given."""
    given = values.dropna()
    return len(given) > 0 and bool(given.between(0, 1).all())


def _check_file(table: pd.DataFrame, path: Path, scores: list[str], report: ReadReport) -> None:
    """Rows that contradict the file's name (run, detector), their own scores, or carry no image URL."""
    named = _FILE_NAME.match(path.name)
    ids = table["gravityspy_id"].astype(str)
    if named:
        detector, run = named.groups()
        start, end = RUN_SPANS[run]
        times = pd.to_numeric(table["event_time"], errors="coerce")
        outside = ~times.between(start, end, inclusive="left")
        report.add("outside-run", f"rows of {path.name} outside {run}'s GPS span (a file mixed from two runs?)",
                   ids[outside])  # fmt: skip
        report.add("other-detector", f"rows of {path.name} from another detector than {detector}",
                   ids[table["ifo"].astype(str) != detector])  # fmt: skip
    values = table[scores].to_numpy(dtype=np.float64)
    total = np.nansum(values, axis=1)
    report.add("scores-not-normalised", f"rows of {path.name} whose scores do not sum to 1 ± {SUM_TOLERANCE}",
               ids[np.abs(total - 1) > SUM_TOLERANCE])  # fmt: skip
    top = np.array(scores, dtype=object)[np.nanargmax(np.where(np.isnan(values), -1, values), axis=1)]
    report.add("label-not-top-score", f"rows of {path.name} whose ml_label is not their highest score",
               ids[(table["ml_label"].astype(str).to_numpy() != top)])  # fmt: skip
    urls = [c for c in ("url1", "url2", "url3", "url4") if c in table]
    blank = np.zeros(len(table), dtype=bool)
    for column in urls:
        blank |= _no_url(table[column]).to_numpy()
    report.add("no-url", f"rows of {path.name} missing a window's image URL (empty or '?')", ids[blank])


def read_classifications(path: Path | str) -> Classifications:
    """Read one catalogue CSV or a folder of them (``H1_O1.csv`` … ``L1_O3b.csv``).

    Raises
    ------
    DataError
        If nothing can be read: no files, an unreadable or truncated CSV, a
        missing required column, or no score columns; the message names the file.
    """
    report = ReadReport()
    files = find_catalogue_files(Path(path))
    tables, score_names = [], []
    for file in files:
        table = _read_one(file)
        scores = _score_columns(table, file, report)
        _check_file(table, file, scores, report)
        named = _FILE_NAME.match(file.name)
        table["detector"] = named.group(1) if named else table["ifo"].astype(str)
        table["run"] = named.group(2) if named else None
        table["source_file"] = file.name
        table["source_row"] = np.arange(len(table)) + 2  # the line in the file, header = 1
        tables.append(table)
        score_names += [s for s in scores if s not in score_names]
    glitches = pd.concat(tables, ignore_index=True)
    incomplete = glitches["gravityspy_id"].isna() | glitches["ml_label"].isna() | glitches["ml_confidence"].isna()
    report.add("incomplete-row", "rows without an id, ml_label or ml_confidence, e.g. a truncated file's last (dropped)",
               "line " + glitches.loc[incomplete, "source_row"].astype(str) + " of " + glitches.loc[incomplete, "source_file"])  # fmt: skip
    glitches = glitches[~incomplete].reset_index(drop=True)
    duplicate = glitches["gravityspy_id"].duplicated(keep="first")
    report.add("duplicate-id", "ids already read from an earlier file (the first row is kept)",
               glitches.loc[duplicate, "gravityspy_id"] + " in " + glitches.loc[duplicate, "source_file"])  # fmt: skip
    glitches = glitches[~duplicate].reset_index(drop=True)
    classes = [c for c in ARCHIVE_CLASSES if c in score_names] + [c for c in score_names if c not in ARCHIVE_CLASSES]
    scores = glitches.reindex(columns=classes).to_numpy(dtype=np.float32)
    keep = [c for c in (*TRIGGER_COLUMNS, "detector", "run", "source_file", *OTHER_COLUMNS) if c in glitches]
    glitches = glitches[keep].copy()
    for column in ("url1", "url2", "url3", "url4"):
        if column in glitches:
            glitches[column] = glitches[column].where(~_no_url(glitches[column]))
    _check_known_labels(glitches, classes, report)
    return Classifications(glitches, scores, classes, report, files)


def _check_known_labels(glitches: pd.DataFrame, classes: list[str], report: ReadReport) -> None:
    unscored = ~glitches["ml_label"].isin(classes)
    report.add(
        "label-without-score", "rows whose ml_label has no score column", glitches.loc[unscored, "gravityspy_id"]
    )
    bad_ifo = ~glitches["ifo"].isin(DETECTORS)
    report.add("unknown-detector", "rows whose ifo is neither H1 nor L1", glitches.loc[bad_ifo, "gravityspy_id"])
