"""The GPU paths, on a machine that has a GPU: they skip only where no GPU exists (issue 18).

On a GPU machine ``make test`` installs requirements-gpu.txt (cuML), so a missing cuML there fails these tests
instead of skipping them: a GPU machine that silently falls back to the CPU is what they are here to catch.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest


def _gpu_present() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=False)
    return listed.returncode == 0 and "GPU" in listed.stdout


pytestmark = pytest.mark.skipif(not _gpu_present(), reason="no GPU on this machine (nvidia-smi lists none)")


def _blobs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.normal(size=(6, 128)))
    labels = rng.integers(0, 6, n)
    return (centres[labels] + 0.3 * np.abs(rng.normal(size=(n, 128)))).astype(np.float32), labels


def _separation(coords: np.ndarray, labels: np.ndarray) -> float:
    """5-NN accuracy of the labels on the map."""
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    return float(cross_val_score(KNeighborsClassifier(5), coords, labels, cv=5).mean())


def test_auto_picks_cuml_and_its_map_keeps_the_classes_apart():
    from precompute.reduce import UMAPConfig, _fit, resolve_backend

    assert resolve_backend("auto") == "cuml", "a GPU machine should fit maps with cuML (requirements-gpu.txt)"
    vectors, labels = _blobs(3000)
    coords, reducer = _fit(vectors, UMAPConfig(n_neighbors=15, backend="cuml"), [])
    assert type(reducer).__module__.startswith("cuml")
    assert coords.shape == (3000, 2)
    assert np.isfinite(coords).all()
    assert _separation(coords, labels) >= 0.9
    placed = np.asarray(reducer.transform(vectors[:200]))  # the --map-from path
    assert placed.shape == (200, 2)


def test_embedding_on_the_gpu_agrees_with_the_cpu():
    from precompute.embed import EmbedConfig, embed_arrays, load_resnet18

    images = np.random.default_rng(0).normal(size=(16, 3, 140, 170)).astype(np.float32)
    cpu = embed_arrays(load_resnet18(EmbedConfig(weights="random", device="cpu")), images)
    gpu_model = load_resnet18(EmbedConfig(weights="random", device="cuda"))
    assert gpu_model.gpu
    gpu = embed_arrays(gpu_model, images)  # bf16 autocast: close, not equal
    cosine = (cpu * gpu).sum(1) / (np.linalg.norm(cpu, axis=1) * np.linalg.norm(gpu, axis=1))
    assert cosine.min() >= 0.99
