"""The clustering engine: a cached tree, re-cut, must agree with a fresh HDBSCAN fit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from precompute.cluster import NOISE_LABEL, ClusterParamError, ClusterParams, ClusterTree, cluster_points

POINTS, _ = make_blobs(n_samples=3000, centers=12, n_features=2, cluster_std=0.7, random_state=3)


@pytest.fixture(scope="module")
def tree() -> ClusterTree:
    return ClusterTree.build(POINTS, min_samples=8)


@pytest.mark.parametrize(
    ("min_cluster_size", "method", "epsilon"), [(15, "eom", 0.0), (60, "eom", 0.0), (15, "leaf", 0.0), (15, "eom", 0.8)]
)
def test_cut_agrees_with_a_fresh_hdbscan_fit(tree, min_cluster_size, method, epsilon):
    import hdbscan

    fresh = hdbscan.HDBSCAN(
        min_cluster_size=min_cluster_size,
        min_samples=8,
        cluster_selection_method=method,
        cluster_selection_epsilon=epsilon,
        approx_min_span_tree=False,  # exact MST, as ours; the approximate one differs from itself
    ).fit(POINTS)
    ours = tree.cut(ClusterParams(min_cluster_size, 8, method, epsilon))
    # documented tolerance: fast_hdbscan's float32 MST distances can flip a cluster sitting exactly at min_cluster_size
    assert abs(ours.n_clusters - (fresh.labels_.max() + 1)) <= 1
    assert adjusted_rand_score(fresh.labels_, ours.labels) >= 0.98
    assert np.mean((fresh.labels_ == NOISE_LABEL) == (ours.labels == NOISE_LABEL)) >= 0.98
    # GLOSH scores: equal up to float32 rounding, except a handful of points whose merge order ties
    assert np.mean(np.abs(ours.outlier_scores - fresh.outlier_scores_) < 0.02) >= 0.99
    assert np.corrcoef(ours.probabilities, fresh.probabilities_)[0, 1] > 0.98


def test_tree_building_is_deterministic(tree):
    np.testing.assert_array_equal(ClusterTree.build(POINTS, min_samples=8).linkage, tree.linkage)


def test_recut_equals_building_afresh(tree):
    for size in (10, 40, 120):
        params = ClusterParams(size, 8)
        again, _ = cluster_points(POINTS, params)
        np.testing.assert_array_equal(tree.cut(params).labels, again.labels)


def test_min_cluster_size_changes_the_clustering(tree):
    # not monotonic in general (EOM may split a parent once its children qualify), but the extremes differ
    small, large = tree.cut(ClusterParams(5, 8)), tree.cut(ClusterParams(320, 8))
    assert small.n_clusters > large.n_clusters >= 1
    assert large.noise_fraction >= small.noise_fraction


def test_labels_are_numbered_by_size_and_scores_are_bounded(tree):
    result = tree.cut(ClusterParams(15, 8))
    sizes = np.bincount(result.labels[result.labels >= 0])
    assert (np.diff(sizes) <= 0).all()
    assert set(np.unique(result.labels)) <= set(range(-1, result.n_clusters))
    assert ((result.probabilities >= 0) & (result.probabilities <= 1)).all()
    assert (result.probabilities[result.labels == NOISE_LABEL] == 0).all()
    assert ((result.outlier_scores >= 0) & (result.outlier_scores <= 1)).all()
    assert result.persistence.max() == pytest.approx(1.0)


def test_tree_round_trips_through_its_linkage(tree):
    restored = ClusterTree.from_linkage(tree.linkage.copy(), 8)
    np.testing.assert_array_equal(restored.cut(ClusterParams(30, 8)).labels, tree.cut(ClusterParams(30, 8)).labels)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_cluster_size": 1}, r"min_cluster_size must be at least 2, got 1"),
        ({"min_cluster_size": 2.5}, r"min_cluster_size must be a whole number, got 2.5"),
        ({"min_samples": 0}, r"min_samples must be at least 1, got 0"),
        ({"selection_method": "best"}, r"selection_method must be one of \('eom', 'leaf'\), got 'best'"),
        ({"epsilon": float("nan")}, r"epsilon must be a finite number >= 0, got nan"),
        ({"epsilon": -1.0}, r"epsilon must be a finite number >= 0"),
    ],
)
def test_out_of_range_parameters_are_refused(kwargs, message):
    with pytest.raises(ClusterParamError, match=message):
        ClusterParams(**kwargs)


def test_a_tree_serves_only_its_own_min_samples(tree):
    with pytest.raises(ClusterParamError, match=r"built for min_samples=8, not 5"):
        tree.cut(ClusterParams(20, 5))
    with pytest.raises(ClusterParamError, match=r"at most the number of points \(3000\)"):
        tree.cut(ClusterParams(5000, 8))
    with pytest.raises(ClusterParamError, match=r"NaN"):
        ClusterTree.build(np.array([[0.0, np.nan], [1, 1], [2, 2]]), 1)


def test_glosh_and_stability_kernels_equal_hdbscans_own(tree):
    from fast_hdbscan.hdbscan import cluster_tree_from_condensed_tree, condense_tree, extract_eom_clusters
    from hdbscan._hdbscan_tree import compute_stability, outlier_scores

    from precompute.cluster import _glosh, _stabilities

    condensed = condense_tree(tree.linkage, min_cluster_size=25)
    records = np.empty(
        len(condensed.parent),
        dtype=[("parent", np.intp), ("child", np.intp), ("lambda_val", np.float64), ("child_size", np.intp)],
    )
    for name in ("parent", "child", "lambda_val", "child_size"):
        records[name] = getattr(condensed, name)
    np.testing.assert_allclose(_glosh(condensed, len(POINTS)), outlier_scores(records), rtol=1e-12)
    selected = extract_eom_clusters(
        condensed, cluster_tree_from_condensed_tree(condensed), max_cluster_size=np.inf, allow_single_cluster=False
    )
    reference = compute_stability(records)
    np.testing.assert_allclose(
        _stabilities(condensed, selected, len(POINTS)), [reference[int(c)] for c in selected], rtol=1e-12
    )


@pytest.mark.parametrize(("min_cluster_size", "leaf", "epsilon"), [(25, False, 0.0), (8, True, 0.0), (60, False, 0.5)])
def test_membership_strengths_and_relabelling_equal_fast_hdbscans_own(tree, min_cluster_size, leaf, epsilon):
    """The cut's array kernels (membership strength; sizes and first members for the relabelling) against the
    library functions they replace for speed, on eom, leaf and epsilon selections."""
    from fast_hdbscan import hdbscan as library

    from precompute.cluster import _relabel_by_size, _strengths

    condensed = library.condense_tree(tree.linkage, min_cluster_size=min_cluster_size)
    hierarchy = library.cluster_tree_from_condensed_tree(condensed)
    if leaf:
        selected = library.cluster_tree_leaves(hierarchy, len(POINTS))
    else:
        selected = library.extract_eom_clusters(
            condensed, hierarchy, max_cluster_size=np.inf, allow_single_cluster=False
        )
    if epsilon:
        selected = library.cluster_epsilon_search(selected, hierarchy, min_epsilon=epsilon)
    assert len(selected) > 2
    raw = library.get_cluster_label_vector(condensed, selected, epsilon, n_samples=len(POINTS))
    np.testing.assert_array_equal(
        _strengths(condensed, selected, raw), library.get_point_membership_strength_vector(condensed, selected, raw)
    )
    labels, _ = _relabel_by_size(np.asarray(raw), np.ones(len(selected)))
    ids, first, sizes = np.unique(raw[raw >= 0], return_index=True, return_counts=True)
    order = np.lexsort((first, -sizes))  # by decreasing size, ties by first member
    for new, old in enumerate(ids[order]):
        np.testing.assert_array_equal(labels == new, raw == old)
