"""Helpers shared by tests: small plans and re-laid-out copies of the synthetic set."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from precompute.classes import CLASSES
from precompute.rundir import load_run
from precompute.synth.generate import GenerationResult
from precompute.synth.plan import Plan, load_plan

#: What make test-portability perturbs (conftest sets it from ``--map-seed`` and ``--browser-window``).
PORTABILITY: dict[str, object] = {"map_seed": 42, "window": (1400, 900)}


def map_seed() -> int:
    """The seed the small runs' maps (and random weights) are drawn with (``--map-seed``)."""
    return int(PORTABILITY["map_seed"])


def window_argument() -> str:
    """Chromium's ``--window-size`` argument for the session's ``--browser-window``."""
    width, height = PORTABILITY["window"]
    return f"--window-size={width},{height}"


def small_plan(floor: int = 1) -> Plan:
    """The default plan with a lower per-morphology floor, so a few dozen glitches cover it."""
    return Plan.from_dict({**load_plan().source, "min_per_morphology": floor})


def dashboard_plan(label_noise: float = 0.12) -> Plan:
    """Four distinct shapes and some random label noise: a map with clear clusters and real relabelling proposals."""
    keep = ("Blip", "Whistle", "Scattered_Light", "Violin_Mode")
    weights = {name: {"weight": 1000.0 if name in keep else 0.001} for name in CLASSES}
    return Plan.from_dict(
        {
            "name": "dashboard-test",
            "morphologies": weights,
            "mechanisms": [{"kind": "random_noise", "rate": label_noise}],
            "min_per_morphology": 0,
        }
    )


def link_tree(pairs: list[tuple[Path, Path]]) -> None:
    for src, dest in pairs:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dest)


def relayout(synth_set: GenerationResult, dest: Path, layout: str) -> Path:
    """Lay the synthetic PNGs out as the Kaggle mirror or gwpy's downloader does."""
    meta = synth_set.metadata.set_index("gravityspy_id")
    pairs = []
    for png in sorted((synth_set.root / "TrainingSet").rglob("*.png")):
        gid = png.name.split("_")[1]
        label, split = meta.at[gid, "label"], meta.at[gid, "sample_type"]
        if layout == "kaggle":
            pairs.append((png, dest / split / split / label / png.name))
        elif layout == "gwpy":
            pairs.append((png, dest / label / split / png.name))
        else:
            raise ValueError(layout)
    link_tree(pairs)
    shutil.copy(synth_set.root / "trainingset_v1d1_metadata.csv", dest / "trainingset_v1d1_metadata.csv")
    return dest


#: ``python -m precompute`` as a ``-c`` program, so that a test can put code in front of it
CLI_PROGRAM = "import sys; from precompute.cli import main; sys.exit(main(sys.argv[1:]))\n"


def small_run_args(data: Path, out: Path, cache: Path) -> list[str]:
    """``precompute run`` on the shared 30-glitch set: random weights, CPU, small batches and shards."""
    return [
        "run", "--data", str(data), "--out", str(out), "--cache-dir", str(cache), "--weights", "random",
        "--device", "cpu", "--workers", "0", "--batch-size", "4", "--cache-shard-size", "8",
        "--umap-neighbors", "10", "--min-cluster-size", "3", "--min-samples", "2", "--seed", str(map_seed()),
    ]  # fmt: skip


def assert_same_run(a: Path, b: Path) -> None:
    """Two runs agree: embeddings to 1e-5, clusters, map, previews, and the audit tables byte for byte."""
    first, second = load_run(a), load_run(b)
    np.testing.assert_allclose(first.embeddings(), second.embeddings(), atol=1e-5)
    np.testing.assert_array_equal(first.points["cluster"], second.points["cluster"])
    np.testing.assert_allclose(first.points[["x", "y"]], second.points[["x", "y"]], atol=1e-3)
    assert sorted(p.name for p in (a / "previews").iterdir()) == sorted(p.name for p in (b / "previews").iterdir())
    for name in ("clusters.csv", "glitches.csv", "corrections.csv"):
        assert (a / "audit" / name).read_bytes() == (b / "audit" / name).read_bytes(), name
