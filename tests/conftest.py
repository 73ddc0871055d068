"""Shared fixtures: one small synthetic data set, generated once per session, in every layout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from precompute.synth.generate import GenerationResult, generate_dataset

from .helpers import link_tree, small_plan

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """30 glitches (every morphology at least once), PNGs + CSV + HDF5 + truth. Treat as read-only."""
    root = tmp_path_factory.mktemp("synth") / "set"
    return generate_dataset(root, glitches=30, seed=7, plan=small_plan(), hdf5=True, workers=2, show_progress=False)


@pytest.fixture
def trainingset_copy(synth_set: GenerationResult, tmp_path: Path) -> Path:
    """A private copy of the synthetic set's CSV and PNGs (hard links), safe to damage."""
    root = tmp_path / "copy"
    pngs = sorted((synth_set.root / "TrainingSet").rglob("*.png"))
    link_tree([(p, root / p.relative_to(synth_set.root)) for p in pngs])
    shutil.copy(synth_set.root / "trainingset_v1d1_metadata.csv", root / "trainingset_v1d1_metadata.csv")
    return root
