"""The generator's output: real layout, real columns, determinism, resumption, HDF5 form."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from precompute.classes import WINDOWS, png_name
from precompute.errors import DataError
from precompute.synth.generate import METADATA_COLUMNS, generate_dataset

from .helpers import small_plan


def _digest(root: Path) -> dict[str, str]:
    """Hash of every output file except the journal (its line order follows the workers)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "rendered.jsonl"
    }


def test_metadata_csv_has_the_real_28_columns_in_order(synth_set):
    table = pd.read_csv(synth_set.root / "trainingset_v1d1_metadata.csv")
    assert tuple(table.columns) == METADATA_COLUMNS
    assert len(table) == 30
    assert table["gravityspy_id"].map(lambda s: bool(re.fullmatch(r"[A-Za-z0-9]{10}", s))).all()
    assert set(table["ifo"]) <= {"H1", "L1"}
    assert set(table["sample_type"]) <= {"train", "validation", "test"}
    assert (table["snr"] > 0).all()
    assert ((table["peak_frequency"] >= 10) & (table["peak_frequency"] <= 2048)).all()
    assert (table["event_time"] > 1.126e9).all()
    assert ((table["peak_time"] + table["peak_time_ns"] * 1e-9) - table["event_time"]).abs().max() < 1e-5


def test_pngs_are_in_the_training_set_layout(synth_set):
    for row in synth_set.metadata.itertuples():
        for i, window in enumerate(WINDOWS, start=1):
            path = synth_set.root / "TrainingSet" / row.label / png_name(row.ifo, row.gravityspy_id, window)
            assert path.is_file()
            assert getattr(row, f"url{i}") == str(path.relative_to(synth_set.root))
    some = next((synth_set.root / "TrainingSet").rglob("*.png"))
    with Image.open(some) as image:
        assert image.size == (800, 600)
        assert image.mode == "RGBA"


def test_truth_is_kept_apart_and_agrees_with_the_csv(synth_set):
    truth = pd.read_csv(synth_set.root / "truth" / "truth.csv")
    assert {"morphology", "label", "label_altered", "mechanism"} <= set(truth.columns)
    merged = truth.merge(synth_set.metadata, on="gravityspy_id", suffixes=("_truth", ""))
    assert (merged["label_truth"] == merged["label"]).all()
    assert json.loads((synth_set.root / "truth" / "plan.json").read_text())["name"] == "default"
    assert "morphology" not in pd.read_csv(synth_set.root / "trainingset_v1d1_metadata.csv").columns


def test_hdf5_release_form(synth_set):
    row = synth_set.metadata.iloc[0]
    with h5py.File(synth_set.root / "trainingsetv1d1.h5", "r") as h5:
        assert set(h5.keys()) == set(synth_set.metadata["label"])
        group = h5[row["label"]][row["sample_type"]][row["gravityspy_id"]]
        assert sorted(group.keys()) == [f"{w}.png" for w in WINDOWS]
        array = np.asarray(group["1.0.png"])
    assert array.shape == (1, 140, 170)
    assert array.min() >= 0.0
    assert array.max() <= 1.0


@pytest.mark.slow
def test_same_seed_same_bytes_regardless_of_workers_and_resumes_after_interruption(tmp_path):
    plan = small_plan(floor=0)
    first = generate_dataset(tmp_path / "a", glitches=5, seed=11, plan=plan, workers=1, show_progress=False)
    second = generate_dataset(tmp_path / "b", glitches=5, seed=11, plan=plan, workers=2, show_progress=False)
    assert _digest(first.root) == _digest(second.root)

    # an interrupted run: the CSV never written and one glitch's PNG lost mid-write
    (second.root / "trainingset_v1d1_metadata.csv").unlink()
    victim = second.metadata.iloc[2]
    (second.root / victim["url3"]).unlink()
    resumed = generate_dataset(tmp_path / "b", glitches=5, seed=11, plan=plan, workers=2, show_progress=False)
    assert (resumed.rendered, resumed.reused) == (1, 4)
    assert _digest(resumed.root) == _digest(first.root)

    other = generate_dataset(tmp_path / "c", glitches=5, seed=12, plan=plan, workers=2, show_progress=False)
    assert not other.metadata["gravityspy_id"].equals(first.metadata["gravityspy_id"])


def test_refuses_to_mix_two_data_sets_in_one_folder(synth_set, tmp_path):
    with pytest.raises(DataError, match=r"different settings \(glitches, seed\)"):
        generate_dataset(synth_set.root, glitches=31, seed=8, plan=small_plan(), show_progress=False)
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    with pytest.raises(DataError, match=r"exists and is not empty"):
        generate_dataset(tmp_path / "occupied", glitches=3, seed=1, plan=small_plan(0), show_progress=False)


def test_omicron_columns_are_measured_so_no_shape_has_a_constant_value(tmp_path):
    """The columns a real pipeline measures (duration, bandwidth, central and peak frequency, SNR, times) vary
    within a shape, as measurements do; the waveform model's own numbers (Tomte 0.1 s, No_Glitch 10 Hz,
    1080Lines 0.05 s, Scratchy 370 Hz, ...) never appear as a constant."""
    from .helpers import dashboard_plan  # a plan of a few shapes, many glitches each

    keep = ("Tomte", "No_Glitch", "1080Lines", "Scratchy")
    plan = dashboard_plan(label_noise=0.0)
    plan = type(plan).from_dict({**plan.source, "morphologies": {
        name: {"weight": 1000.0 if name in keep else 0.001} for name in plan.morphologies}})  # fmt: skip
    result = generate_dataset(tmp_path / "set", glitches=24, seed=11, plan=plan, workers=2, show_progress=False)
    meta = result.metadata.merge(result.truth[["gravityspy_id", "morphology"]], on="gravityspy_id")
    for shape, group in meta.groupby("morphology"):
        assert len(group) >= 4, shape
        for column in ("duration", "snr", "event_time", "start_time_ns"):  # measured on continuous times and energies
            assert group[column].nunique() >= len(group) - 1, (shape, column)
        # frequency extents end on Q-plane tiles, so values repeat, as Omicron's do; but a shape never has one value
        for column in ("bandwidth", "central_freq", "peak_frequency"):
            assert group[column].nunique() > 1, (shape, column)
        for column in ("duration", "bandwidth", "central_freq"):
            values = group[column].to_numpy(float)
            assert (values > 0).all(), (shape, column)
            assert values.std() / values.mean() > 0.01, (shape, column)  # a measurement's scatter
    assert (meta["central_freq"] - meta["bandwidth"] / 2 >= 0).all()  # flow = central - bandwidth/2 >= 0
    assert (meta["peak_frequency"].between(10, 2048)).all()
