"""Reader of the volunteers' consensus (Zenodo 5911227), joined to the classifications on ``gravityspy_id``.

The release is one pandas HDF5 store, ``retired_fulldata_min2_max50_ret0p9.hdf5``,
with a table under key ``image_db``: per glitch the volunteers' ``final_label``
and ``final_score`` (the weighted share behind it), ``Nclassifications``,
``retired`` (whether the glitch reached the retirement threshold) and
``tracks``, beside the ML scores and ``ml_label`` the archive also has.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from .classifications import Classifications
from .runs import ARCHIVE_CLASSES

__all__ = ["CONSENSUS_COLUMNS", "CONSENSUS_KEY", "join_consensus", "read_consensus"]

CONSENSUS_KEY = "image_db"
#: Columns the consensus must have; ``tracks`` is kept when present.
CONSENSUS_COLUMNS: tuple[str, ...] = ("gravityspy_id", "final_label", "final_score", "Nclassifications", "retired")
#: What the joined glitch table calls them.
_RENAMED = {"final_label": "volunteer_label", "final_score": "volunteer_score", "Nclassifications": "n_votes"}


def read_consensus(path: Path | str) -> pd.DataFrame:
    """The consensus table: one row per glitch, `CONSENSUS_COLUMNS` (and ``tracks``) only.

    Raises
    ------
    DataError
        If the file is missing, not an HDF5 pandas store, lacks the ``image_db``
        table, or lacks a required column; the message names the file and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"consensus file {path} does not exist; pass retired_fulldata_min2_max50_ret0p9.hdf5")
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = [k.lstrip("/") for k in store]
            if CONSENSUS_KEY not in keys:
                raise DataError(
                    f"consensus file {path} has no table '{CONSENSUS_KEY}' (it has {', '.join(keys) or 'none'}); "
                    "is it the volunteers' release (Zenodo 5911227)?"
                )
            table = store.get(CONSENSUS_KEY)
    except DataError:
        raise
    except Exception as exc:  # PyTables raises its own HDF5 errors, OSError and ValueError for damaged files
        raise DataError(
            f"consensus file {path} is not a readable pandas HDF5 store ({type(exc).__name__}: {exc})"
        ) from None
    missing = [c for c in CONSENSUS_COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            f"consensus file {path} lacks column(s) {', '.join(missing)} in '{CONSENSUS_KEY}'; "
            f"it has {', '.join(map(str, table.columns[:30]))}"
        )
    keep = [*CONSENSUS_COLUMNS, *(["tracks"] if "tracks" in table.columns else [])]
    table = table[keep].reset_index(drop=True)
    table["gravityspy_id"] = table["gravityspy_id"].astype(str)
    return table


def join_consensus(classifications: Classifications, consensus: pd.DataFrame, *, source: str = "consensus") -> None:
    """Add ``volunteer_label``, ``volunteer_score``, ``n_votes``, ``retired`` to the glitches (NaN where none).

    Raises `DataError` when no id matches: the wrong file, or ids in another form.
    """
    glitches, report = classifications.glitches, classifications.report
    duplicate = consensus["gravityspy_id"].duplicated(keep="first")
    report.add("consensus-duplicate-id", f"ids repeated in {source} (the first row is kept)",
               consensus.loc[duplicate, "gravityspy_id"])  # fmt: skip
    consensus = consensus[~duplicate].set_index("gravityspy_id")
    known = consensus.index.isin(glitches["gravityspy_id"])
    if not known.any():
        raise DataError(
            f"{source} matches none of the {len(glitches):,} catalogue ids (it has e.g. "
            f"{', '.join(consensus.index[:3])}; the catalogue e.g. {', '.join(glitches['gravityspy_id'][:3])}). "
            "Are they the same detector and runs?"
        )
    report.add("consensus-not-in-catalogue", f"ids of {source} that no catalogue file has (ignored)",
               consensus.index[~known])  # fmt: skip
    unknown = consensus["final_label"].notna() & ~consensus["final_label"].isin(ARCHIVE_CLASSES)
    report.add("consensus-unknown-label", f"final labels in {source} outside the archive's classes (kept)",
               consensus.loc[unknown, "final_label"].unique())  # fmt: skip
    joined = consensus.rename(columns=_RENAMED).reindex(glitches["gravityspy_id"])
    for column in (*_RENAMED.values(), "retired", *(["tracks"] if "tracks" in joined else [])):
        glitches[column] = joined[column].to_numpy()
