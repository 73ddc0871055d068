"""Catalogue entries of docs/bad-input.md not covered by the readers' own tests.

Each test names its entry (B-number). The last test checks that every entry in
the catalogue points at a test that exists, so the document cannot drift from
the suite.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from precompute.cluster import ClusterParams
from precompute.embed_cache import EmbeddingCache
from precompute.errors import DataError
from precompute.io import read_dataset
from precompute.pipeline import RunConfig, run_pipeline
from precompute.reduce import UMAPConfig
from precompute.rundir import load_run

ROOT = Path(__file__).resolve().parent.parent
CSV = "trainingset_v1d1_metadata.csv"


def _read(path: Path, **kwargs):
    return read_dataset(path, show_progress=False, **kwargs)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "precompute", "-q", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def _small_run(data: Path, out: Path, cache: Path) -> Path:
    config = RunConfig(
        data=data, out=out, cache_dir=cache, weights="random", umap=UMAPConfig(n_neighbors=10),
        cluster=ClusterParams(3, 2), workers=0, batch_size=16,
    )  # fmt: skip
    run_pipeline(config, show_progress=False, argv=["test"])
    return out


def _own_copy(path: Path) -> None:
    """Break a hard link so that writing ``path`` leaves the shared original alone."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)


def test_b04_grey_bilevel_palette_and_alpha_pngs(trainingset_copy, synth_set):
    rows = synth_set.metadata
    grey, bilevel, palette, alpha = (trainingset_copy / rows.iloc[i]["url1"] for i in range(4))
    for path, mode in ((grey, "L"), (bilevel, "1"), (palette, "P"), (alpha, "RGBA")):
        _own_copy(path)
        Image.open(path).convert(mode).save(path)
    ds = _read(trainingset_copy)
    reasons = {Path(s["source"]).name: s["reason"] for s in ds.report.skipped_images}
    assert set(reasons) == {grey.name, bilevel.name}  # palette and alpha are still colour figures
    assert "mode L" in reasons[grey.name]
    assert "expected a colour (RGB) Gravity Spy figure" in reasons[bilevel.name]
    assert len(ds.images) == 118
    assert ds.report.count("incomplete-glitch") == 2


def test_b06_renamed_columns_are_named_with_a_guess(trainingset_copy):
    path = trainingset_copy / CSV
    pd.read_csv(path).rename(columns={"label": "Label", "gravityspy_id": "gravitySpyID"}).to_csv(path, index=False)
    with pytest.raises(DataError) as caught:
        _read(trainingset_copy)
    message = str(caught.value)
    assert str(path) in message
    assert "lacks required column(s) gravityspy_id, label" in message
    assert "is 'gravitySpyID' meant as 'gravityspy_id'?" in message
    assert "is 'Label' meant as 'label'?" in message
    run = _cli("inspect", "--data", str(trainingset_copy))
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert "meant as 'label'" in run.stderr


def test_b07_extra_columns_are_kept(trainingset_copy):
    path = trainingset_copy / CSV
    pd.read_csv(path).assign(curator_note="checked", ml_confidence=0.5).to_csv(path, index=False)
    ds = _read(trainingset_copy)
    assert (ds.glitches["curator_note"] == "checked").all()
    assert ds.report.issues == []


def test_b08_empty_metadata_cells_are_kept_reported_and_filled_where_known(trainingset_copy, synth_set):
    path = trainingset_copy / CSV
    table = pd.read_csv(path)
    table.loc[:4, "snr"] = np.nan
    table.loc[:2, "ifo"] = np.nan
    table.loc[:3, "event_time"] = np.nan
    table.to_csv(path, index=False)
    ds = _read(trainingset_copy)
    assert len(ds.glitches) == 30
    assert ds.glitches["snr"].isna().sum() == 5
    by_id = ds.glitches.set_index("gravityspy_id")["ifo"]
    truth = synth_set.metadata.set_index("gravityspy_id")["ifo"]
    assert (by_id == truth.loc[by_id.index]).all()  # the PNG names gave the detector back
    assert ds.report.count("ifo-from-file-name") == 3
    lines = "\n".join(ds.report.lines())
    assert "empty snr in trainingset_v1d1_metadata.csv (kept): 5" in lines
    assert "empty event_time" in lines
    assert ds.report.count("ifo-mismatch") == 0


def test_b12_a_data_set_with_no_usable_glitch_is_an_error(trainingset_copy):
    path = trainingset_copy / CSV
    pd.read_csv(path).iloc[:0].to_csv(path, index=False)
    with pytest.raises(DataError, match=r"holds no usable glitch .*png-without-row.*: 30"):
        _read(trainingset_copy)
    run = _cli("run", "--data", str(trainingset_copy), "--out", str(trainingset_copy.parent / "out"))
    assert run.returncode != 0
    assert "holds no usable glitch" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (trainingset_copy.parent / "out").exists()


def test_b13_a_data_set_with_a_single_label_runs_and_says_what_it_cannot_measure(trainingset_copy, tmp_path):
    path = trainingset_copy / CSV
    pd.read_csv(path).assign(label="Blip").to_csv(path, index=False)
    out = _small_run(trainingset_copy, tmp_path / "run", tmp_path / "cache")
    run = load_run(out)
    assert set(run.points["label"]) == {"Blip"}
    summary = json.loads((out / "audit" / "summary.json").read_text())
    assert summary["findings"]["merge"] == []
    clusters = pd.read_csv(out / "audit" / "clusters.csv")
    assert (clusters["purity"] == 1.0).all()
    assert (clusters["entropy_bits"] == 0.0).all()
    assert any("single label" in w for w in run.manifest["warnings"])


def test_b15_hdf5_with_missing_groups_and_datasets(synth_set, tmp_path):
    h5_path = tmp_path / "trainingsetv1d1.h5"
    shutil.copy(synth_set.root / "trainingsetv1d1.h5", h5_path)
    shutil.copy(synth_set.root / CSV, tmp_path / CSV)
    with h5py.File(h5_path, "a") as h5:
        gone_label = sorted(h5.keys())[0]
        gone_ids = [gid for split in h5[gone_label].values() for gid in split]
        del h5[gone_label]
        label = sorted(h5.keys())[0]
        split = sorted(h5[label].keys())[0]
        partial = sorted(h5[label][split].keys())[0]
        del h5[label][split][partial]["1.0.png"]
        h5[label][split].create_group("emptyglitch")  # a glitch group with no window datasets
    ds = _read(h5_path)
    assert len(ds.glitches) == 30 - len(gone_ids)
    assert ds.report.count("row-without-image") == len(gone_ids)
    assert gone_ids[0] in "\n".join(ds.report.lines())
    assert ds.report.count("incomplete-glitch") == 1
    with h5py.File(h5_path, "w") as h5:
        h5.create_group("Blip/train")
    with pytest.raises(DataError, match=r"trainingsetv1d1\.h5 holds no images at label/sample_type"):
        _read(h5_path)


def test_b16_truncated_hdf5_file(synth_set, tmp_path):
    h5_path = tmp_path / "trainingsetv1d1.h5"
    data = (synth_set.root / "trainingsetv1d1.h5").read_bytes()
    h5_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"cannot be opened as HDF5 .*is the download complete\?"):
        _read(h5_path)


def test_b20_a_run_from_an_older_version_is_refused_by_the_dashboard(small_run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(small_run, old)
    manifest = json.loads((old / "manifest.json").read_text())
    (old / "manifest.json").write_text(json.dumps({**manifest, "manifest_version": 0}))
    served = subprocess.run(
        [sys.executable, "app.py", "--run", str(old)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert served.returncode == 2
    assert "version 0; this tool reads version 1. Re-run the precompute" in served.stderr
    assert "Traceback" not in served.stderr


def test_b22_an_unreadable_embedding_cache_shard_is_embedded_again(tmp_path):
    fingerprint = {"model": "test"}
    cache = EmbeddingCache(tmp_path, fingerprint)
    cache.put(["a", "b"], np.ones((2, 4), dtype=np.float32))
    cache.put(["c"], np.zeros((1, 4), dtype=np.float32))
    shard = next(p for p in cache.directory.glob("shard-*.npz") if "a" in np.load(p)["keys"])
    shard.write_bytes(shard.read_bytes()[:40])  # truncated by a crash or a full disk
    reopened = EmbeddingCache(tmp_path, fingerprint)
    assert len(reopened.unreadable_shards) == 1
    assert shard.name in reopened.unreadable_shards[0]
    assert "c" in reopened
    assert "a" not in reopened  # to be embedded again, not read as garbage
    assert shard.with_name(shard.name + ".unreadable").exists()  # set aside: reported once, kept for inspection
    assert EmbeddingCache(tmp_path, fingerprint).unreadable_shards == []


# -- the catalogue and the suite agree ---------------------------------------------


def test_every_catalogue_entry_names_a_test_that_exists():
    text = (ROOT / "docs" / "bad-input.md").read_text(encoding="utf-8")
    entries = re.findall(r"^\| \*\*([BIHD]\d+)\*\* \|.*\| `(tests/[\w/]+\.py)::(\w+)`", text, flags=re.MULTILINE)
    assert len(entries) >= 30
    ids = [entry for entry, _, _ in entries]
    assert len(ids) == len(set(ids)), "catalogue ids repeat"
    defined: dict[str, set[str]] = {}
    for _, path, name in entries:
        if path not in defined:
            tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
            defined[path] = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
        assert name in defined[path], f"{path}::{name} named in docs/bad-input.md does not exist"
