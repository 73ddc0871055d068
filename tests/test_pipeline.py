"""The precompute pipeline on the small synthetic set: CPU, random weights, every stage."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from precompute.cluster import ClusterParams
from precompute.errors import PrecomputeError
from precompute.pipeline import RunConfig, run_pipeline
from precompute.reduce import UMAPConfig, resolve_backend
from precompute.rundir import RunError, load_run

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"umap": UMAPConfig(n_neighbors=10), "cluster": ClusterParams(3, 2), "workers": 0, "batch_size": 16}


def _config(synth_set, out: Path, cache: Path, **changes) -> RunConfig:
    return RunConfig(
        **{"data": synth_set.root, "out": out, "cache_dir": cache, "weights": "random", **SMALL, **changes}
    )


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def run(synth_set, cache_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "glitch"
    summary = run_pipeline(_config(synth_set, out, cache_dir), show_progress=False, argv=["test"])
    return summary, load_run(out)


def test_run_directory_holds_every_artifact(run):
    summary, loaded = run
    assert summary.n_points == 30
    assert summary.embedded == 120
    assert summary.cache_hits == 0
    root = loaded.root
    for name in ("manifest.json", "points.parquet", "images.parquet", "embeddings.npy"):
        assert (root / name).is_file()
    assert (root / "trees" / "min_samples-2.npy").is_file()
    for name in (
        "clusters.csv",
        "labels.csv",
        "glitches.csv",
        "corrections.csv",
        "segments.csv",
        "deep_dive.csv",
        "summary.json",
    ):
        assert (root / "audit" / name).is_file()
    assert not list(root.parent.glob(".glitch.partial-*"))  # the staging folder is gone


def test_manifest_records_inputs_parameters_versions_and_timings(run):
    manifest = run[1].manifest
    assert manifest["manifest_version"] == 1
    assert manifest["data"]["format"] == "trainingset"
    assert manifest["data"]["n_glitches"] == 30
    assert manifest["parameters"]["umap"] == {
        "n_neighbors": 10, "min_dist": 0.1, "metric": "cosine", "seed": 42, "backend": "auto",
    }  # fmt: skip
    assert manifest["umap_backend"] == resolve_backend("auto")  # umap-learn here; cuML on a GPU machine
    assert Path(manifest["umap_model"]).is_file()  # kept for --map-from
    assert manifest["embedding"]["engine"] == "local"
    assert manifest["parameters"]["cluster"]["min_samples"] == 2
    assert manifest["embedding"]["weights_used"] == "random:seed=42"
    assert manifest["embedding"]["device"] == "cpu"
    assert {"torch", "torchvision", "umap-learn", "hdbscan", "fast_hdbscan"} <= set(manifest["versions"])
    assert {"read", "hash", "embed", "fuse", "reduce", "cluster-tree", "cluster-cut", "previews"} <= set(
        manifest["timings_s"]
    )
    assert manifest["seed"] == 42
    assert manifest["warnings"] == [
        "ResNet-18 weights were random (seed 42, as asked with --weights random). "
        "Clusters reflect generic image structure, not ImageNet features."
    ]
    assert manifest["n_clusters"] == int(run[1].points["cluster"].max()) + 1


def test_points_table_has_metadata_coordinates_and_clusters(run, synth_set):
    points = run[1].points
    assert points["intensity"].between(0, 1).all()  # plot-area energy, recorded with the previews
    assert run[1].images[["energy_mean", "energy_p99"]].notna().all().all()
    for column in (
        "gravityspy_id",
        "ifo",
        "label",
        "snr",
        "x",
        "y",
        "cluster",
        "probability",
        "outlier_score",
        "n_windows",
    ):
        assert column in points.columns
    assert set(points["gravityspy_id"]) == set(synth_set.metadata["gravityspy_id"])
    assert (points["n_windows"] == 4).all()
    assert (points["window"] == "fused").all()
    assert points["cluster"].nunique() >= 2  # computed, not a constant
    assert np.isfinite(points[["x", "y"]].to_numpy()).all()
    assert run[1].embeddings().shape == (30, 512)


def test_cached_tree_reproduces_the_stored_clusters(run):
    loaded = run[1]
    tree = loaded.tree(2)
    result = tree.cut(ClusterParams(**loaded.manifest["cluster_params_used"]))
    np.testing.assert_array_equal(result.labels, loaded.points["cluster"].to_numpy())
    assert loaded.tree(7) is None


def test_previews_exist_for_every_image(run):
    loaded = run[1]
    assert len(loaded.images) == 120
    for key in loaded.images["key"]:
        with Image.open(loaded.preview_path(key, "thumb")) as thumb:
            assert thumb.size == (170, 140)
        with Image.open(loaded.preview_path(key, "detail")) as detail:
            assert detail.size == (566, 466)


def test_second_run_reuses_every_embedding(run, synth_set, cache_dir, tmp_path):
    summary = run_pipeline(
        _config(synth_set, tmp_path / "again", cache_dir, umap=UMAPConfig(n_neighbors=8)), show_progress=False
    )
    assert (summary.embedded, summary.cache_hits) == (0, 120)
    first = run[1].points.set_index("gravityspy_id")
    np.testing.assert_allclose(load_run(tmp_path / "again").embeddings(), run[1].embeddings())
    assert len(first) == summary.n_points


def test_image_unit_gives_one_point_per_png(synth_set, cache_dir, tmp_path):
    summary = run_pipeline(_config(synth_set, tmp_path / "img", cache_dir, unit="image"), show_progress=False)
    points = load_run(tmp_path / "img").points
    assert summary.n_points == 120
    assert sorted(points["window"].unique()) == ["0.5", "1.0", "2.0", "4.0"]
    assert load_run(tmp_path / "img").embeddings().shape == (120, 512)


def test_window_selection_and_unknown_windows(synth_set, cache_dir, tmp_path):
    summary = run_pipeline(
        _config(synth_set, tmp_path / "two", cache_dir, windows=("0.5", "4.0"), fusion="concat"), show_progress=False
    )
    assert load_run(tmp_path / "two").embeddings().shape == (30, 2 * 512)
    assert summary.cache_hits == 60
    with pytest.raises(PrecomputeError, match=r"--windows 8.0 not in the data set"):
        run_pipeline(_config(synth_set, tmp_path / "bad", cache_dir, windows=("8.0",)), show_progress=False)


def _offline(monkeypatch, tmp_path):
    """No network and an empty torchvision cache: what our machines look like."""
    import torch.hub

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network unreachable (test)")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


def test_imagenet_weights_offline_is_a_clear_error(monkeypatch, tmp_path, synth_set, cache_dir):
    _offline(monkeypatch, tmp_path)
    with pytest.raises(
        PrecomputeError, match=r"ImageNet weights for ResNet-18 are unavailable.*--weights PATH.*--weights random"
    ):
        run_pipeline(_config(synth_set, tmp_path / "x", cache_dir, weights="imagenet"), show_progress=False)
    assert not (tmp_path / "x").exists()


def test_demo_mode_falls_back_to_random_weights_with_a_warning(monkeypatch, tmp_path, synth_set, cache_dir, capsys):
    _offline(monkeypatch, tmp_path)
    run_pipeline(_config(synth_set, tmp_path / "demo", cache_dir, weights="imagenet-or-random"), show_progress=False)
    manifest = load_run(tmp_path / "demo").manifest
    assert manifest["embedding"]["weights_used"] == "random:seed=42"
    assert any(
        "ResNet-18 weights were random" in w and "ImageNet weights unavailable" in w for w in manifest["warnings"]
    )


def test_local_weights_file(tmp_path):
    import torch
    from torchvision.models import resnet18

    from precompute.embed import EmbedConfig, load_resnet18

    torch.manual_seed(1)
    path = tmp_path / "mine.pth"
    torch.save(resnet18().state_dict(), path)
    loaded = load_resnet18(EmbedConfig(weights=str(path), device="cpu"))
    assert loaded.weights_used == f"file:{path}"
    assert loaded.weights_id.startswith("file-sha256:")
    (tmp_path / "junk.pth").write_bytes(b"not a state dict")
    with pytest.raises(PrecomputeError, match=r"junk\.pth is not a readable torch state dict"):
        load_resnet18(EmbedConfig(weights=str(tmp_path / "junk.pth"), device="cpu"))


def test_load_run_explains_what_is_wrong(tmp_path, run):
    with pytest.raises(RunError, match=r"does not exist; make one with"):
        load_run(tmp_path / "none")
    (tmp_path / "half").mkdir()
    with pytest.raises(RunError, match=r"no manifest.json: it is not a finished run"):
        load_run(tmp_path / "half")
    old = tmp_path / "old"
    old.mkdir()
    manifest = dict(run[1].manifest, manifest_version=0)
    (old / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunError, match=r"version 0; this tool reads version 1"):
        load_run(old)


def test_a_run_loads_and_recuts_without_torch_or_umap(run):
    code = (
        "import sys\n"
        "from precompute.rundir import load_run\n"
        "from precompute.cluster import ClusterParams\n"
        f"run = load_run({str(run[1].root)!r})\n"
        "result = run.tree(2).cut(ClusterParams(4, 2))\n"
        "heavy = sorted(m for m in ('torch', 'torchvision', 'umap', 'gwpy') if m in sys.modules)\n"
        "print(result.n_clusters, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    clusters, heavy = result.stdout.split(" ", 1)
    assert int(clusters) >= 1
    assert heavy.strip() == "[]"


def test_cluster_settings_too_big_for_the_data_are_lowered_with_a_warning():
    from precompute.cluster import fit_to_size  # the one size rule, which the pipeline applies

    params, warnings = fit_to_size(ClusterParams(50, 10), 8)
    assert (params.min_cluster_size, params.min_samples) == (8, 7)
    assert warnings == [
        "min_cluster_size lowered from 50 to 8: only 8 points",
        "min_samples lowered from 10 to 7: only 8 points",
    ]
    assert fit_to_size(ClusterParams(5, 3), 100) == (ClusterParams(5, 3), [])


def test_audit_command_rewrites_the_metrics_from_the_run(run, capsys):
    from precompute.cli import main

    summary_path = run[1].root / "audit" / "summary.json"
    written = json.loads(summary_path.read_text())
    summary_path.unlink()
    assert main(["audit", "--run", str(run[1].root)]) == 0
    out = capsys.readouterr().out
    assert "most ambiguous clusters:" in out
    assert json.loads(summary_path.read_text()) == written
    assert written["global"] == run[1].manifest["audit"]
    clusters = pd.read_csv(run[1].root / "audit" / "clusters.csv")
    assert clusters["size"].sum() == (run[1].points["cluster"] >= 0).sum()


def test_changing_only_cluster_settings_reuses_the_map(run, synth_set, cache_dir, tmp_path):
    assert run[1].manifest["umap_map_from_cache"] is False
    run_pipeline(_config(synth_set, tmp_path / "recut", cache_dir, cluster=ClusterParams(4, 2)), show_progress=False)
    again = load_run(tmp_path / "recut")
    assert again.manifest["umap_map_from_cache"] is True
    np.testing.assert_array_equal(again.points[["x", "y"]].to_numpy(), run[1].points[["x", "y"]].to_numpy())
    assert again.manifest["cluster_params_used"]["min_cluster_size"] == 4
