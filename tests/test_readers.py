"""Readers: every layout and form of the real data, and every kind of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from precompute.classes import WINDOWS
from precompute.errors import DataError
from precompute.io import CANONICAL_COLUMNS, identify_format, read_dataset

from .helpers import relayout


def _read(path: Path, **kwargs):
    return read_dataset(path, show_progress=False, **kwargs)


# -- good data in every layout -----------------------------------------------------


def test_training_set_layout(synth_set):
    ds = _read(synth_set.root)
    assert ds.format == "trainingset"
    assert len(ds.glitches) == 30
    assert len(ds.images) == 120
    assert tuple(ds.glitches.columns[: len(CANONICAL_COLUMNS)]) == CANONICAL_COLUMNS
    assert ds.windows == list(WINDOWS)
    assert ds.report.issues == []
    assert ds.report.skipped_images == []
    merged = ds.glitches.merge(synth_set.metadata, on="gravityspy_id", suffixes=("", "_csv"))
    assert (merged["label"] == merged["label_csv"]).all()
    assert (merged["snr"] == merged["snr_csv"]).all()
    assert set(ds.images["kind"]) == {"figure"}


@pytest.mark.parametrize("layout", ["kaggle", "gwpy"])
def test_other_layouts_give_the_same_data_set(synth_set, tmp_path, layout):
    root = relayout(synth_set, tmp_path / layout, layout)
    ds = _read(root)
    assert ds.format == "trainingset"
    reference = _read(synth_set.root, verify=False)
    pd.testing.assert_frame_equal(
        ds.glitches.sort_values("gravityspy_id").reset_index(drop=True),
        reference.glitches.sort_values("gravityspy_id").reset_index(drop=True),
    )
    assert len(ds.images) == 120
    assert ds.report.issues == []


def test_hdf5_release_with_and_without_metadata(synth_set, tmp_path):
    ds = _read(synth_set.root / "trainingsetv1d1.h5")
    assert ds.format == "trainingset-h5"
    assert len(ds.glitches) == 30
    assert len(ds.images) == 120
    assert set(ds.images["kind"]) == {"hdf5"}
    assert ds.glitches["snr"].notna().all()
    assert set(ds.glitches["ifo"]) <= {"H1", "L1"}
    first = ds.images.iloc[0]
    assert ds.load_image(first["kind"], first["source"]).shape == (1, 140, 170)

    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(synth_set.root / "trainingsetv1d1.h5", alone / "trainingsetv1d1.h5")
    assert identify_format(alone) == "trainingset-h5"
    bare = _read(alone)
    assert bare.glitches["snr"].isna().all()
    assert bare.report.count("no-metadata") == 30
    assert "pass --metadata" in "\n".join(bare.report.lines())
    with_csv = _read(alone, metadata=synth_set.root / "trainingset_v1d1_metadata.csv")
    assert with_csv.glitches["snr"].notna().all()


def test_generic_image_folder_by_directories_and_by_csv(synth_set, tmp_path):
    folder = tmp_path / "folder"
    for png in sorted((synth_set.root / "TrainingSet").rglob("*_1.0.png"))[:6]:
        dest = folder / png.parent.name / png.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, dest)
    ds = _read(folder)
    assert ds.format == "imagefolder"
    assert len(ds.glitches) == 6
    assert ds.windows == ["single"]
    assert set(ds.images["kind"]) == {"plain"}
    assert set(ds.glitches["label"]) == {p.name for p in folder.iterdir()}

    listing = tmp_path / "labels.csv"
    rows = [
        {"path": str(p.relative_to(tmp_path)), "label": "Mine", "note": i}
        for i, p in enumerate(sorted(folder.rglob("*.png")))
    ]
    pd.DataFrame(rows).to_csv(listing, index=False)
    from_csv = _read(listing)
    assert len(from_csv.glitches) == 6
    assert "note" in from_csv.glitches.columns
    assert from_csv.report.count("unknown-label") == 6  # 'Mine' is not a Gravity Spy class: kept, reported


# -- bad input ---------------------------------------------------------------------


def _csv(root: Path) -> Path:
    return root / "trainingset_v1d1_metadata.csv"


def test_missing_required_columns_are_listed(trainingset_copy):
    table = pd.read_csv(_csv(trainingset_copy)).drop(columns=["label", "ifo"])
    table.to_csv(_csv(trainingset_copy), index=False)
    with pytest.raises(DataError, match=r"lacks required column\(s\) ifo, label; it has event_time"):
        _read(trainingset_copy)


def test_empty_and_truncated_csv(trainingset_copy):
    text = _csv(trainingset_copy).read_text()
    _csv(trainingset_copy).write_text("")
    with pytest.raises(DataError, match=r"metadata_csv|metadata file .* is empty"):
        _read(trainingset_copy, format="trainingset")
    _csv(trainingset_copy).write_text(text[: len(text) // 2])  # cut mid-row
    ds = _read(trainingset_copy)
    assert len(ds.glitches) < 30
    assert ds.report.count("png-without-row") > 0  # the lost rows' PNGs are reported, not silently ignored


def test_pngs_without_rows_and_rows_without_pngs(trainingset_copy, synth_set):
    table = pd.read_csv(_csv(trainingset_copy))
    dropped = table.iloc[0]
    table.iloc[1:].to_csv(_csv(trainingset_copy), index=False)
    lost = synth_set.metadata.iloc[5]
    for i in range(1, 5):
        (trainingset_copy / lost[f"url{i}"]).unlink()
    ds = _read(trainingset_copy)
    assert len(ds.glitches) == 28
    assert ds.report.count("png-without-row") == 1
    assert ds.report.count("row-without-png") == 1
    lines = "\n".join(ds.report.lines())
    assert dropped["gravityspy_id"] in lines
    assert lost["gravityspy_id"] in lines


def test_incomplete_glitch_is_kept_and_reported(trainingset_copy, synth_set):
    row = synth_set.metadata.iloc[3]
    (trainingset_copy / row["url2"]).unlink()
    ds = _read(trainingset_copy)
    assert len(ds.glitches) == 30
    assert len(ds.images) == 119
    assert ds.report.count("incomplete-glitch") == 1


def test_duplicate_ids_keep_the_first_row(trainingset_copy):
    table = pd.read_csv(_csv(trainingset_copy))
    twin = table.iloc[[4]].assign(label="Blip")
    pd.concat([table, twin]).to_csv(_csv(trainingset_copy), index=False)
    ds = _read(trainingset_copy)
    assert len(ds.glitches) == 30
    assert ds.report.count("duplicate-id") == 1
    kept = ds.glitches.set_index("gravityspy_id").at[table.iloc[4]["gravityspy_id"], "label"]
    assert kept == table.iloc[4]["label"]


def test_corrupt_truncated_and_wrong_size_pngs_are_skipped_with_reasons(trainingset_copy, synth_set):
    rows = synth_set.metadata
    corrupt, truncated, small = (trainingset_copy / rows.iloc[i]["url1"] for i in (0, 1, 2))
    for path in (corrupt, truncated, small):
        data = path.read_bytes()
        path.unlink()  # break the hard link before writing
        path.write_bytes(data)
    corrupt.write_bytes(b"this is not a png" * 100)
    truncated.write_bytes(truncated.read_bytes()[:5000])
    from PIL import Image

    Image.new("RGB", (170, 140)).save(small)
    ds = _read(trainingset_copy)
    reasons = {Path(s["source"]).name: s["reason"] for s in ds.report.skipped_images}
    assert "not an image file" in reasons[corrupt.name]
    assert "truncated" in reasons[truncated.name]
    assert "is 170x140, expected 800x600" in reasons[small.name]
    assert "--format imagefolder" in reasons[small.name]
    assert len(ds.images) == 117
    assert len(ds.glitches) == 30


def test_unknown_labels_are_kept_and_reported(trainingset_copy):
    table = pd.read_csv(_csv(trainingset_copy))
    table.loc[:2, "label"] = "Crown"
    table.to_csv(_csv(trainingset_copy), index=False)
    ds = _read(trainingset_copy)
    assert (ds.glitches["label"] == "Crown").sum() == 3
    assert ds.report.count("unknown-label") == 3
    assert "['Crown']" in "\n".join(ds.report.lines())


def test_empty_ids_or_labels_are_dropped_and_reported(trainingset_copy):
    table = pd.read_csv(_csv(trainingset_copy))
    table.loc[0, "label"] = None
    table.to_csv(_csv(trainingset_copy), index=False)
    ds = _read(trainingset_copy)
    assert ds.report.count("empty-id-or-label") == 1
    assert ds.report.count("png-without-row") == 1


def test_paths_that_are_not_data_sets(tmp_path):
    with pytest.raises(DataError, match=r"does not exist"):
        _read(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"cannot tell what kind of data set .* Pass --format"):
        _read(tmp_path / "empty")
    with pytest.raises(DataError, match=r"unknown --format 'zip'"):
        _read(tmp_path / "empty", format="zip")
    (tmp_path / "empty" / "trainingset_v1d1_metadata.csv").write_text("gravityspy_id,ifo,label\nabc,H1,Blip\n")
    with pytest.raises(DataError, match=r"no Gravity Spy PNGs"):
        _read(tmp_path / "empty")
    bad_h5 = tmp_path / "broken.h5"
    bad_h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 50)
    with pytest.raises(DataError, match=r"cannot be opened as HDF5"):
        _read(bad_h5)


def test_unicode_paths(synth_set, tmp_path):
    root = relayout(synth_set, tmp_path / "données λ", "gwpy")
    assert len(_read(root).glitches) == 30
