"""The one neighbours module: exact search below the size threshold, the approximate index above it (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from precompute.audit.neighbours import nearest_neighbours


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors shaped like fused ResNet-18 embeddings: non-negative, 512-d, in 24 overlapping kinds."""
    rng = np.random.default_rng(seed)
    centres = np.abs(rng.normal(size=(24, 512))).astype(np.float32)
    x = centres[rng.integers(0, 24, n)] + 0.6 * np.abs(rng.normal(size=(n, 512))).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute(x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    similarity = x[rows] @ x.T
    similarity[np.arange(len(rows)), rows] = -np.inf
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def test_below_the_threshold_the_search_is_exact_and_excludes_each_point_itself():
    x = _clustered(600)
    found = nearest_neighbours(x, 10)
    assert found.shape == (600, 10)
    assert not (found == np.arange(600)[:, None]).any()
    expected = _brute(x, np.arange(600), 10)
    assert np.mean([len(set(a) & set(b)) for a, b in zip(found, expected, strict=True)]) == pytest.approx(10, abs=0.01)


def test_the_approximate_index_finds_at_least_95_percent_of_the_true_ten_nearest_and_is_repeatable():
    x = _clustered(20_000, seed=1)
    before = x.copy()
    found = nearest_neighbours(x, 10, exact_up_to=0)  # force the index at a size the suite can afford
    assert (x == before).all()  # the caller's vectors are not normalised in place
    assert found.shape == (20_000, 10)
    assert not (found == np.arange(20_000)[:, None]).any()
    assert (found >= 0).all()
    rows = np.random.default_rng(2).choice(20_000, 1000, replace=False)
    truth = _brute(x, rows, 10)
    recall = np.mean([len(set(found[r]) & set(t)) / 10 for r, t in zip(rows, truth, strict=True)])
    assert recall >= 0.95, f"recall@10 {recall:.3f}"
    assert (nearest_neighbours(x, 10, exact_up_to=0) == found).all()  # deterministic: a run repeats itself


def test_a_set_smaller_than_k_gets_every_other_point():
    x = _clustered(5)
    found = nearest_neighbours(x, 10)
    assert found.shape == (5, 4)
    assert all(set(row) == set(range(5)) - {i} for i, row in enumerate(found))
