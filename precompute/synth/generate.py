"""Generate a synthetic Gravity Spy training set in the real on-disk format.

``generate_dataset`` draws the truth from a plan (`plan.assign_truth`), renders
each glitch (coloured noise + waveform -> GWpy Q-transform -> four 800x600 PNGs)
in parallel worker processes, and writes:

``DIR/TrainingSet/<label>/<ifo>_<id>_spectrogram_<window>.png``
``DIR/trainingset_v1d1_metadata.csv``      the real 28 columns, in order
``DIR/trainingsetv1d1.h5``                 with ``hdf5=True``: the real HDF5 layout
``DIR/truth/truth.csv``                    true morphology, label, mechanism per glitch
``DIR/truth/plan.json``, ``generation.json``  what was asked for
``DIR/truth/rendered.jsonl``              one line per rendered glitch (its journal)

Each glitch is rendered from its own seed, so results do not depend on the
number of workers. PNGs are written atomically and journalled as they finish:
an interrupted run, started again with the same arguments, renders only what is
missing. The metadata CSV and truth appear last, atomically.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_path, write_bytes_atomic, write_text_atomic
from ..classes import WINDOWS, png_name
from ..errors import DataError
from ..progress import progress
from .noise import aligo_asd, colour, strain_asd_series
from .plan import Plan, assign_truth, load_plan

__all__ = [
    "METADATA_COLUMNS",
    "GenerationResult",
    "generate_dataset",
    "render_glitch",
    "render_pool",
]

log = logging.getLogger("precompute")

#: The 28 columns of ``trainingset_v1d1_metadata.csv``, in order.
METADATA_COLUMNS: tuple[str, ...] = (
    "event_time", "ifo", "peak_time", "peak_time_ns", "start_time", "start_time_ns", "duration",
    "search", "process_id", "event_id", "peak_frequency", "central_freq", "bandwidth", "channel",
    "amplitude", "snr", "confidence", "chisq", "chisq_dof", "param_one_name", "param_one_value",
    "gravityspy_id", "label", "sample_type", "url1", "url2", "url3", "url4",
)  # fmt: skip

GENERATOR_VERSION = 2  #: 2: every Omicron-like column measured from the strain (synth/trigger.py)
SAMPLE_RATE_HZ = 8192.0
#: Seconds of strain per glitch: long enough that the median normalisation of the
#: Q-transform sees mostly noise even for glitches that fill the 4 s window.
BLOCK_S = 16.0
_OBSERVING_RUNS = ((1126051217, 1137254417), (1164556817, 1187733618))  # O1, O2 (GPS)
_JOURNAL = "truth/rendered.jsonl"


@dataclass(frozen=True)
class GenerationResult:
    """What `generate_dataset` produced."""

    root: Path
    metadata: pd.DataFrame
    truth: pd.DataFrame
    rendered: int
    reused: int


@cache
def _grid(sample_rate: float, block_s: float):
    n = int(sample_rate * block_s)
    return n, np.arange(n) / sample_rate - block_s / 2, strain_asd_series(n, sample_rate)


def _png_relpath(label: str, ifo: str, gravityspy_id: str, window: str) -> str:
    return f"TrainingSet/{label}/{png_name(ifo, gravityspy_id, window)}"


def render_glitch(task: dict[str, Any]) -> dict[str, Any]:
    """Simulate and render one glitch; write its four PNGs; return its catalogue values, measured from the strain."""
    from gwpy.timeseries import TimeSeries

    from .glitches import MODELS
    from .render import figure_png, q_energy_windows

    n, t, asd = _grid(task["sample_rate"], task["block_s"])
    rng = np.random.default_rng(task["glitch_seed"])
    wave = MODELS[task["model"]](rng, t, task["snr_target"])
    strain = colour(rng.normal(size=n) + wave.samples, task["sample_rate"])
    series = TimeSeries(strain, sample_rate=task["sample_rate"], t0=-task["block_s"] / 2)
    energies, trigger = q_energy_windows(series, [float(w) for w in WINDOWS], asd)
    root = Path(task["root"])
    for window, energy in zip(WINDOWS, energies, strict=True):
        png = figure_png(energy, ifo=task["ifo"], window=window)
        if "folder" in task:  # the archive's images: one flat folder, named as their URLs end
            path = root / task["folder"] / png_name(task["ifo"], task["gravityspy_id"], window)
        else:
            path = root / _png_relpath(task["label"], task["ifo"], task["gravityspy_id"], window)
        write_bytes_atomic(path, png, durable=False)
    return {
        "gravityspy_id": task["gravityspy_id"],
        # every catalogue value is measured from the strain, as Omicron measures it (synth/trigger.py)
        "snr": trigger.snr,
        "peak_frequency": trigger.peak_frequency_hz,
        "q": trigger.q,
        "central_freq": trigger.central_frequency_hz,
        "bandwidth": trigger.bandwidth_hz,
        "duration": trigger.duration_s,
        "peak_offset_s": trigger.peak_time_s,
        "start_offset_s": trigger.start_time_s,
    }


def render_pool(workers: int | None):
    """A process pool for `render_glitch` (forked after the figure chrome is drawn, where the platform forks)."""
    workers = max(1, workers or os.cpu_count() or 1)
    if "fork" in mp.get_all_start_methods():
        from .render import warm_chrome

        warm_chrome()  # drawn once here, inherited by every forked worker
        return mp.get_context("fork").Pool(workers)
    return mp.get_context("spawn").Pool(workers)


def _settings(plan: Plan, n: int, seed: int) -> dict[str, Any]:
    return {
        "generator_version": GENERATOR_VERSION,
        "glitches": n,
        "seed": seed,
        "sample_rate_hz": SAMPLE_RATE_HZ,
        "block_s": BLOCK_S,
        "plan": plan.source,
    }


def _check_or_claim(root: Path, settings: dict[str, Any]) -> None:
    """Refuse to mix two data sets in one folder; record what this one is."""
    record = root / "truth" / "generation.json"
    if record.exists():
        previous = json.loads(record.read_text(encoding="utf-8"))
        if previous != settings:
            changed = sorted(k for k in settings if previous.get(k) != settings[k])
            raise DataError(
                f"{root} already holds a synthetic data set made with different settings ({', '.join(changed)}); "
                "choose another --out, or delete that folder to regenerate"
            )
    elif root.exists() and any(root.iterdir()):
        raise DataError(f"{root} exists and is not empty; choose an empty or new --out folder")
    write_text_atomic(record, json.dumps(settings, indent=2) + "\n")


def _finished(root: Path, truth: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Journalled glitches whose four PNGs are all on disk: a rerun skips them."""
    journal = root / _JOURNAL
    if not journal.exists():
        return {}
    done: dict[str, dict[str, Any]] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        done[entry["gravityspy_id"]] = entry
    rows = truth.set_index("gravityspy_id")
    return {
        gid: entry
        for gid, entry in done.items()
        if gid in rows.index
        and all((root / _png_relpath(rows.at[gid, "label"], rows.at[gid, "ifo"], gid, w)).exists() for w in WINDOWS)
    }


def _metadata(truth: pd.DataFrame, measured: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Assemble the 28-column metadata table from truth and the measured values."""
    rng = np.random.default_rng([seed, 28])
    n = len(truth)
    run = rng.integers(0, len(_OBSERVING_RUNS), size=n)
    lo = np.array([_OBSERVING_RUNS[r][0] for r in run], dtype=np.float64)
    hi = np.array([_OBSERVING_RUNS[r][1] for r in run], dtype=np.float64)
    segment_centre = lo + rng.random(n) * (hi - lo)
    m = measured.set_index("gravityspy_id").loc[truth["gravityspy_id"]].reset_index()
    # the trigger's peak is the event time, its first tile the start, as in Omicron's tables
    event_time = np.round(segment_centre + m["peak_offset_s"].to_numpy(), 4)
    start = segment_centre + m["start_offset_s"].to_numpy()
    table = pd.DataFrame(
        {
            "event_time": event_time,
            "ifo": truth["ifo"].to_numpy(),
            "peak_time": np.floor(event_time).astype(np.int64),
            "peak_time_ns": np.round((event_time - np.floor(event_time)) * 1e9).astype(np.int64),
            "start_time": np.floor(start).astype(np.int64),
            "start_time_ns": np.round((start - np.floor(start)) * 1e9).astype(np.int64),
            "duration": m["duration"].round(4),
            "search": "Omicron",
            "process_id": 0,
            "event_id": np.arange(n, dtype=np.int64),
            "peak_frequency": m["peak_frequency"].round(3),
            "central_freq": m["central_freq"].round(3),
            "bandwidth": m["bandwidth"].round(3),
            "channel": truth["ifo"].to_numpy() + ":GDS-CALIB_STRAIN",
            "amplitude": (m["snr"].to_numpy() * aligo_asd(m["central_freq"].to_numpy())),
            "snr": m["snr"].round(3),
            "confidence": 1.0,
            "chisq": 0.0,
            "chisq_dof": 0.0,
            "param_one_name": "phase",
            "param_one_value": np.round(rng.uniform(-np.pi, np.pi, size=n), 4),
            "gravityspy_id": truth["gravityspy_id"].to_numpy(),
            "label": truth["label"].to_numpy(),
            "sample_type": truth["sample_type"].to_numpy(),
        }
    )
    for i, window in enumerate(WINDOWS, start=1):
        table[f"url{i}"] = [
            _png_relpath(label, ifo, gid, window)
            for label, ifo, gid in zip(truth["label"], truth["ifo"], truth["gravityspy_id"], strict=True)
        ]
    return table[list(METADATA_COLUMNS)]


def _grey_of(path: str) -> np.ndarray:
    from ..io.images import load_png
    from ..plotarea import to_gravityspy_grey

    return to_gravityspy_grey(load_png(Path(path)))[None, :, :]


def _write_hdf5(root: Path, metadata: pd.DataFrame, pool, show_progress: bool) -> Path:
    """Write ``trainingsetv1d1.h5`` (label/sample_type/id/<window>.png -> (1, 140, 170))."""
    import h5py

    dest = root / "trainingsetv1d1.h5"
    keys = [
        (f"{row.label}/{row.sample_type}/{row.gravityspy_id}/{window}.png", str(root / getattr(row, f"url{i}")))
        for row in metadata.itertuples()
        for i, window in enumerate(WINDOWS, start=1)
    ]
    with atomic_path(dest, suffix=".h5") as tmp, h5py.File(tmp, "w") as h5:
        arrays = pool.imap(_grey_of, [path for _, path in keys], chunksize=8)
        for (key, _), array in progress(
            zip(keys, arrays, strict=True), total=len(keys), desc="hdf5", unit="image", enabled=show_progress
        ):
            h5.create_dataset(key, data=array, compression="gzip", compression_opts=4)
    return dest


def generate_dataset(
    out: str | os.PathLike[str],
    *,
    glitches: int,
    seed: int,
    plan: Plan | str | os.PathLike[str] | None = None,
    hdf5: bool = False,
    workers: int | None = None,
    show_progress: bool = True,
) -> GenerationResult:
    """Generate a synthetic Gravity Spy data set; resume an interrupted one.

    Parameters
    ----------
    out : path
        Destination folder: new, empty, or an earlier run with the same settings.
    glitches : `int`
        Number of glitches (each gives four PNGs).
    seed : `int`
        Seed of everything random; same seed and plan, same files.
    plan : `Plan` or path, optional, default: the default plan
        Morphologies and planted label failures.
    hdf5 : `bool`, optional, default: False
        Also write the HDF5 release form.
    workers : `int`, optional, default: all cores
        Rendering processes.
    show_progress : `bool`, optional, default: True
        Show a progress bar on a terminal.
    """
    if glitches < 1:
        raise DataError(f"--glitches must be at least 1, got {glitches}")
    if not isinstance(plan, Plan):
        plan = load_plan(plan)
    root = Path(out)
    settings = _settings(plan, glitches, seed)
    truth = assign_truth(plan, glitches, seed)
    _check_or_claim(root, settings)
    write_text_atomic(root / "truth" / "plan.json", plan.to_json())

    finished = _finished(root, truth)
    todo = truth[~truth["gravityspy_id"].isin(finished)]
    tasks = [
        {**row, "root": str(root), "sample_rate": SAMPLE_RATE_HZ, "block_s": BLOCK_S}
        for row in todo[["gravityspy_id", "ifo", "label", "model", "snr_target", "glitch_seed"]].to_dict("records")
    ]
    results = dict(finished)
    with render_pool(workers) as pool, open(root / _JOURNAL, "a", encoding="utf-8") as journal:
        for result in progress(
            pool.imap(render_glitch, tasks), total=len(tasks), desc="render", unit="glitch", enabled=show_progress
        ):
            journal.write(json.dumps(result) + "\n")
            journal.flush()
            results[result["gravityspy_id"]] = result
        metadata = _metadata(truth, pd.DataFrame(list(results.values())), seed)
        if hdf5:
            _write_hdf5(root, metadata, pool, show_progress)
    truth_out = truth.merge(metadata[["gravityspy_id", "snr", "peak_frequency"]], on="gravityspy_id")
    with atomic_path(root / "truth" / "truth.csv") as tmp:
        truth_out.to_csv(tmp, index=False)
    with atomic_path(root / "trainingset_v1d1_metadata.csv") as tmp:
        metadata.to_csv(tmp, index=False)
    log.info(
        "synthetic data set in %s: %d glitches (%d rendered, %d reused)", root, glitches, len(tasks), len(finished)
    )
    return GenerationResult(root, metadata, truth_out, rendered=len(tasks), reused=len(finished))
