"""Deep dive: members along a cluster's main axis, segments, proposals, and plot-area intensity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precompute.audit.deep_dive import deep_dive, deep_dive_all
from precompute.plotarea import ENERGY_MAX, energy_to_rgb
from precompute.previews import energy_stats


def _line_cluster(n: int = 90, seed: int = 0, flip_intensity: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """A 1-D drift inside one cluster: labels A, B, C along the line, two members of A labelled C."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, n)
    direction = rng.normal(size=32)
    base = rng.normal(size=32) * 5
    vectors = base + np.outer(t, direction) * 4 + rng.normal(scale=0.02, size=(n, 32))
    labels = np.where(t < 1 / 3, "A", np.where(t < 2 / 3, "B", "C")).astype(object)
    labels[[3, 7]] = "C"
    order = rng.permutation(n)  # rows in no particular order
    points = pd.DataFrame(
        {
            "point_id": np.arange(n),
            "gravityspy_id": [f"g{i:03d}" for i in order],
            "label": labels[order],
            "x": rng.normal(size=n),
            "cluster": 0,
            "intensity": (1 - t if flip_intensity else t)[order],
        }
    )
    return points, vectors[order]


def test_segments_find_the_canonical_labels_along_the_axis():
    points, vectors = _line_cluster()
    dive = deep_dive(points, vectors, 0, n_segments=3)
    assert list(dive.segments["canonical_label"]) == ["A", "B", "C"]
    assert dive.segments["size"].sum() == len(points)
    assert dive.explained_variance > 0.9
    first = dive.segments.iloc[0]
    assert first["disagreement"] == pytest.approx(2 / 30)
    assert dive.segments.iloc[1]["disagreement"] == 0.0
    assert np.all(np.diff(dive.members["position"]) >= 0)
    proposed = dive.members[dive.members["proposed_label"] != dive.members["label"]]
    assert sorted(proposed["gravityspy_id"]) == ["g003", "g007"]
    assert set(proposed["proposed_label"]) == {"A"}
    assert "segment 1/3 of cluster 0" in proposed["justification"].iloc[0]


def test_the_axis_points_towards_higher_intensity():
    for flip in (False, True):
        points, vectors = _line_cluster(flip_intensity=flip)
        dive = deep_dive(points, vectors, 0)
        assert np.corrcoef(dive.members["position"], dive.members["intensity"])[0, 1] > 0.9
        assert dive.segments.iloc[0]["canonical_label"] == ("C" if flip else "A")


def test_mixed_segments_propose_nothing():
    points, vectors = _line_cluster()
    points["label"] = np.where(np.arange(len(points)) % 2 == 0, "A", "B")
    dive = deep_dive(points, vectors, 0, min_segment_share=0.9)
    assert (dive.members["proposed_label"] == dive.members["label"]).all()


def test_bad_requests_raise_clear_errors():
    points, vectors = _line_cluster()
    with pytest.raises(ValueError, match="cluster 5 has no members"):
        deep_dive(points, vectors, 5)
    with pytest.raises(ValueError, match="n_segments must be at least 1"):
        deep_dive(points, vectors, 0, n_segments=0)


def test_deep_dive_all_covers_every_clustered_point_once():
    a, va = _line_cluster(seed=1)
    b, vb = _line_cluster(seed=2)
    b = b.assign(cluster=1, point_id=b["point_id"] + len(a))
    noise = a.head(5).assign(cluster=-1, point_id=np.arange(5) + 1000)
    points = pd.concat([a, b, noise], ignore_index=True)
    members, segments = deep_dive_all(points, np.vstack([va, vb, va[:5]]))
    assert sorted(members["point_id"]) == sorted(points.loc[points["cluster"] >= 0, "point_id"])
    assert set(segments["cluster"]) == {0, 1}


def test_intensity_is_the_plot_areas_normalized_energy():
    energy = np.zeros((46, 56))
    energy[10:20, 10:30] = ENERGY_MAX  # 200 of 2576 pixels at full energy
    stats = energy_stats(energy_to_rgb(energy))
    assert stats["energy_mean"] == pytest.approx(200 / 2576, abs=0.01)
    assert stats["energy_p99"] == pytest.approx(1.0, abs=0.01)
    quiet = energy_stats(energy_to_rgb(np.full((46, 56), 2.55)))
    assert quiet["energy_mean"] == pytest.approx(0.1, abs=0.01)
