"""A data set that grows keeps its map (``--map-from RUN``, issue 18): the glitches the earlier run had keep their
places, new ones are placed by the earlier fit's UMAP ``transform``, and nothing is refitted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precompute.cluster import ClusterParams
from precompute.errors import PrecomputeError
from precompute.pipeline import RunConfig, run_pipeline
from precompute.reduce import UMAPConfig, place_on_map
from precompute.rundir import load_run

pytestmark = pytest.mark.slow


def _config(data: Path, out: Path, cache: Path, **changes) -> RunConfig:
    return RunConfig(
        data=data, out=out, cache_dir=cache, weights="random", umap=UMAPConfig(n_neighbors=10),
        cluster=ClusterParams(3, 2), workers=0, batch_size=16, **changes,
    )  # fmt: skip


@pytest.fixture(scope="module")
def grown(synth_set, tmp_path_factory) -> tuple[Path, Path]:
    """A run of the first 22 glitches of the shared set, then of all 30 placed on its map."""
    from .helpers import link_tree

    root = tmp_path_factory.mktemp("growing")
    data = root / "set"
    link_tree(
        [(p, data / p.relative_to(synth_set.root)) for p in sorted((synth_set.root / "TrainingSet").rglob("*.png"))]
    )
    metadata = pd.read_csv(synth_set.root / "trainingset_v1d1_metadata.csv", dtype=str)
    csv = data / "trainingset_v1d1_metadata.csv"
    metadata.iloc[:22].to_csv(csv, index=False)
    run_pipeline(_config(data, root / "first", root / "cache"), show_progress=False, argv=["test"])
    metadata.to_csv(csv, index=False)
    run_pipeline(_config(data, root / "grown", root / "cache", map_from=root / "first"), show_progress=False,
                 argv=["test"])  # fmt: skip
    return root / "first", root / "grown"


def test_the_earlier_glitches_keep_their_places_and_the_new_ones_are_placed(grown):
    first, later = (load_run(path) for path in grown)
    assert later.manifest["map_from"] == {
        "run": str(grown[0]), "model": first.manifest["umap_model"], "kept": 22, "placed": 8,
    }  # fmt: skip
    assert later.manifest["umap_model"] == first.manifest["umap_model"]
    assert any("8 glitch(es) placed on it with UMAP's transform" in w for w in later.manifest["warnings"])
    before = first.points.set_index("gravityspy_id")[["x", "y"]]
    after = later.points.set_index("gravityspy_id")[["x", "y"]]
    np.testing.assert_array_equal(after.loc[before.index].to_numpy(), before.to_numpy())
    new = after.drop(before.index)
    assert len(new) == 8
    assert np.isfinite(new.to_numpy()).all()
    assert "reduce" in later.manifest["timings_s"]


def test_transform_puts_a_known_glitch_near_where_the_fit_put_it(grown):
    """UMAP's transform of the fitted glitches' own vectors lands them near their fitted places: the placement
    respects the map, it is not an arbitrary position."""
    first = load_run(grown[0])
    coords = first.points[["x", "y"]].to_numpy(np.float32)
    placed, info = place_on_map(
        first.embeddings(), np.array([f"other-{i}" for i in range(len(coords))]),
        model=Path(first.manifest["umap_model"]), earlier_ids=first.points["gravityspy_id"].to_numpy(),
        earlier_vectors=first.embeddings(), earlier_coords=coords, run="test",
    )  # fmt: skip
    assert info.placed == len(coords)
    extent = np.linalg.norm(coords.max(axis=0) - coords.min(axis=0))
    moved = np.linalg.norm(placed - coords, axis=1)
    assert np.median(moved) < 0.1 * extent, f"median move {np.median(moved):.3f} of a map {extent:.3f} across"


def test_a_map_made_from_other_vectors_is_refused(grown, synth_set, tmp_path):
    config = _config(synth_set.root, tmp_path / "run", tmp_path / "cache", map_from=grown[0], seed=7)
    with pytest.raises(PrecomputeError, match=r"--map-from .*its vectors were made differently"):
        run_pipeline(config, show_progress=False, argv=["test"])
    assert not (tmp_path / "run").exists()


def test_a_run_without_a_kept_model_is_refused_with_the_way_out(grown, synth_set, tmp_path):
    import json
    import shutil

    copy = tmp_path / "old"
    shutil.copytree(grown[0], copy, symlinks=True)
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["umap_model"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    config = _config(synth_set.root, tmp_path / "run", tmp_path / "cache", map_from=copy)
    with pytest.raises(PrecomputeError, match=r"UMAP model \(not recorded\) is not there.*leaving out --map-from"):
        run_pipeline(config, show_progress=False, argv=["test"])
