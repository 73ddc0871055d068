"""Invariants of the taxonomy metrics, pinned with hypothesis, and their agreement with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics

from precompute.audit.metrics import CONFOUND_NMI_THRESHOLD, cluster_table, entropy_bits, global_metrics, label_table

LABELS = ["Blip", "Koi_Fish", "Whistle", "Tomte", "Helix"]


@st.composite
def assignments(draw, min_size: int = 2):
    n = draw(st.integers(min_value=min_size, max_value=80))
    clusters = draw(st.lists(st.integers(min_value=-1, max_value=6), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    return np.array(clusters), np.array(labels, dtype=object)


@settings(max_examples=150, deadline=None)
@given(assignments())
def test_cluster_metrics_are_bounded(data):
    clusters, labels = data
    table = cluster_table(clusters, labels)
    for row in table.itertuples():
        assert 1 / row.n_labels - 1e-12 <= row.purity <= 1
        assert 0 <= row.entropy_bits <= math.log2(row.n_labels) + 1e-9
        assert row.ambiguity == pytest.approx(row.size * (1 - row.purity))
        assert 1 - 1e-9 <= row.effective_labels <= row.n_labels + 1e-9
        assert sum(row.label_shares.values()) == pytest.approx(1, abs=1e-3)
    assert table["size"].sum() == (clusters != -1).sum()  # noise excluded


@settings(max_examples=150, deadline=None)
@given(assignments())
def test_entropy_is_exactly_zero_only_for_single_label_clusters(data):
    clusters, labels = data
    for row in cluster_table(clusters, labels).itertuples():
        assert (row.entropy_bits == 0.0) == (row.n_labels == 1)
        assert (row.purity == 1.0) == (row.n_labels == 1)


@settings(max_examples=100, deadline=None)
@given(assignments(), st.randoms(use_true_random=False))
def test_renaming_cluster_ids_changes_nothing(data, rng):
    clusters, labels = data
    ids = sorted(set(clusters.tolist()) - {-1})
    renamed_ids = rng.sample(range(100, 200), len(ids))
    mapping = dict(zip(ids, renamed_ids, strict=True)) | {-1: -1}
    renamed = np.array([mapping[c] for c in clusters])
    a, b = cluster_table(clusters, labels), cluster_table(renamed, labels)
    columns = ["size", "top_label", "purity", "ambiguity", "entropy_bits", "n_labels"]
    key = ["ambiguity", "size", "top_label", "entropy_bits"]
    assert a[columns].sort_values(key).to_numpy().tolist() == b[columns].sort_values(key).to_numpy().tolist()
    ga, gb = global_metrics(clusters, labels), global_metrics(renamed, labels)
    for name in ("homogeneity", "completeness", "v_measure", "nmi", "ari"):
        assert getattr(ga, name) == pytest.approx(getattr(gb, name), nan_ok=True)
    la, lb = label_table(clusters, labels), label_table(renamed, labels)
    np.testing.assert_allclose(la["cluster_entropy_bits"], lb["cluster_entropy_bits"])


@settings(max_examples=100, deadline=None)
@given(assignments(min_size=4))
def test_both_directions_agree_with_scikit_learn(data):
    clusters, labels = data
    keep = clusters != -1
    if keep.sum() < 2:
        return
    c, y = clusters[keep], labels[keep].astype(str)
    n = len(c)
    h_label = entropy_bits(np.unique(y, return_counts=True)[1])
    h_cluster = entropy_bits(np.unique(c, return_counts=True)[1])
    per_cluster = cluster_table(clusters, labels)
    per_label = label_table(clusters, labels)
    h_label_given_cluster = (per_cluster["size"] * per_cluster["entropy_bits"]).sum() / n
    h_cluster_given_label = (per_label["clustered"] * per_label["cluster_entropy_bits"]).sum() / n
    homogeneity, completeness, _ = metrics.homogeneity_completeness_v_measure(y, c)
    expected_h = 1.0 if h_label == 0 else 1 - h_label_given_cluster / h_label
    expected_c = 1.0 if h_cluster == 0 else 1 - h_cluster_given_label / h_cluster
    assert homogeneity == pytest.approx(expected_h, abs=1e-9)
    assert completeness == pytest.approx(expected_c, abs=1e-9)
    g = global_metrics(clusters, labels)
    assert g.homogeneity == pytest.approx(homogeneity)
    assert g.ari == pytest.approx(metrics.adjusted_rand_score(y, c))


def test_the_seeds_headline_metrics_on_a_worked_example():
    # cluster 0: 6 Blip + 2 Koi_Fish + 2 Tomte; cluster 1: 5 Whistle; 3 noise points
    clusters = np.array([0] * 10 + [1] * 5 + [-1] * 3)
    labels = np.array(["Blip"] * 6 + ["Koi_Fish"] * 2 + ["Tomte"] * 2 + ["Whistle"] * 5 + ["Blip"] * 3, dtype=object)
    table = cluster_table(clusters, labels).set_index("cluster")
    assert table.at[0, "purity"] == pytest.approx(0.6)
    assert table.at[0, "ambiguity"] == pytest.approx(4.0)
    assert table.at[0, "entropy_bits"] == pytest.approx(-(0.6 * math.log2(0.6) + 2 * 0.2 * math.log2(0.2)))
    assert table.at[1, "entropy_bits"] == 0.0
    labels_table = label_table(clusters, labels).set_index("label")
    assert labels_table.at["Blip", "noise_fraction"] == pytest.approx(3 / 9)
    assert labels_table.at["Blip", "main_cluster"] == 0
    assert labels_table.at["Blip", "main_cluster_purity"] == pytest.approx(0.6)
    g = global_metrics(clusters, labels)
    assert g.noise_fraction == pytest.approx(3 / 18)
    assert g.n_clusters == 2


def test_confound_checks_warn_when_clusters_follow_window_or_detector():
    windows = np.array(["0.5", "1.0", "2.0", "4.0"] * 10)
    clusters = np.array([{"0.5": 0, "1.0": 1, "2.0": 2, "4.0": 3}[w] for w in windows])  # the seed's failure
    labels = np.array(["Blip"] * 40, dtype=object)
    g = global_metrics(clusters, labels, windows=windows)
    assert g.nmi_window == pytest.approx(1.0)
    assert any("time window" in w for w in g.warnings)
    shape_clusters = np.repeat([0, 1], 20)
    labels = np.repeat(["Blip", "Helix"], 20).astype(object)
    detectors = np.tile(["H1", "L1"], 20)
    quiet = global_metrics(shape_clusters, labels, windows=np.full(40, "fused"), detectors=detectors)
    assert quiet.nmi_window is None
    assert quiet.ami_detector_within_labels is None  # no label has two clusters: nothing to confound
    split_by_detector = np.where(detectors == "H1", 0, 1)
    loud = global_metrics(split_by_detector, labels, detectors=detectors)
    assert loud.ami_detector_within_labels == pytest.approx(1.0)
    assert any("detector" in w for w in loud.warnings)
    rng = np.random.default_rng(0)
    unrelated = global_metrics(rng.integers(0, 4, 40), labels, detectors=rng.choice(["H1", "L1"], 40))
    assert unrelated.ami_detector_within_labels < CONFOUND_NMI_THRESHOLD  # chance-corrected: no false alarm
    assert unrelated.warnings == ()


def test_detector_check_counts_each_glitch_once_per_window():
    rng = np.random.default_rng(5)
    n = 60
    detectors = np.repeat(rng.choice(["H1", "L1"], n), 4)  # a glitch keeps its detector in all four windows
    windows = np.tile(["0.5", "1.0", "2.0", "4.0"], n)
    labels = np.repeat(rng.choice(["Blip", "Whistle"], n), 4).astype(object)
    independent = rng.integers(0, 3, 4 * n)
    quiet = global_metrics(independent, labels, windows=windows, detectors=detectors)
    assert quiet.ami_detector_within_labels < CONFOUND_NMI_THRESHOLD
    follows = np.where(detectors == "H1", 0, 1)  # e.g. the seed's whole figures, titled Hanford / Livingston
    loud = global_metrics(follows, labels, windows=windows, detectors=detectors)
    assert loud.ami_detector_within_labels == pytest.approx(1.0)
    assert any("detector" in w for w in loud.warnings)


@pytest.mark.parametrize("case", ["random", "one cluster", "one label", "identical", "noise and singletons"])
def test_the_agreement_scores_are_scikit_learns(case):
    """global_metrics scores from its one contingency table; they must be scikit-learn's, special cases included."""
    rng = np.random.default_rng(7)
    clusters = rng.integers(-1, 6, 500)
    labels = rng.choice(["Blip", "Koi_Fish", "Tomte", "Whistle"], 500)
    if case == "one cluster":
        clusters = np.where(clusters >= 0, 3, -1)
    elif case == "one label":
        labels = np.full(500, "Blip")
    elif case == "identical":
        labels = np.array(["Blip", "Koi_Fish", "Tomte", "Whistle", "Helix", "Chirp", "None"])[clusters + 1]
    elif case == "noise and singletons":
        clusters = np.where(rng.random(500) < 0.9, -1, np.arange(500))
    keep = clusters != -1
    c, y = clusters[keep], labels[keep]
    g = global_metrics(clusters, labels)
    h, comp, v = metrics.homogeneity_completeness_v_measure(y, c)
    assert (g.homogeneity, g.completeness, g.v_measure) == pytest.approx((h, comp, v), abs=1e-12)
    assert g.nmi == pytest.approx(metrics.normalized_mutual_info_score(y, c), abs=1e-12)
    assert g.ari == pytest.approx(metrics.adjusted_rand_score(y, c), abs=1e-12)
    coded = global_metrics(clusters, pd.Categorical(labels))  # the dashboard's coded labels: the same numbers
    assert coded == g
