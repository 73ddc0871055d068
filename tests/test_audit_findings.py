"""Findings on constructed maps whose right answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precompute.audit_findings import (
    FindingParams,
    glitch_suspicion,
    label_mixing,
    merge_suggestions,
    novel_classes,
    split_suggestions,
)

PARAMS = FindingParams()


def _points(rows: list[tuple[int, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["cluster", "label", "x", "y"])
    frame.insert(0, "gravityspy_id", [f"g{i:04d}" for i in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def scene() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    # cluster 0: one shape, three labels mixed at random positions -> merge
    for label, n in (("Power_Line", 20), ("Air_Compressor", 12), ("Low_Frequency_Lines", 8)):
        rows += [(0, label, *rng.normal([0, 0], 1.0)) for _ in range(n)]
    # cluster 1: Blip on the left, Koi_Fish on the right of one elongated cluster -> continuum
    rows += [(1, "Blip", rng.uniform(10, 15), rng.normal(0, 0.3)) for _ in range(25)]
    rows += [(1, "Koi_Fish", rng.uniform(15, 20), rng.normal(0, 0.3)) for _ in range(15)]
    # Scattered_Light in two clusters -> split
    rows += [(2, "Scattered_Light", *rng.normal([0, 20], 0.5)) for _ in range(20)]
    rows += [(3, "Scattered_Light", *rng.normal([20, 20], 0.5)) for _ in range(18)]
    # a coherent None_of_the_Above cluster -> novel class
    rows += [(4, "None_of_the_Above", *rng.normal([40, 0], 0.5)) for _ in range(12)]
    rows += [(4, "Blip", *rng.normal([40, 0], 0.5)) for _ in range(2)]
    # noise
    rows += [(-1, "Whistle", *rng.uniform(-50, 50, 2)) for _ in range(5)]
    return _points(rows)


def test_labels_sharing_a_cluster_at_random_are_a_merge(scene):
    merges = [f for f in merge_suggestions(scene, PARAMS) if f["kind"] == "merge"]
    assert [f["labels"] for f in merges] == [["Air_Compressor", "Low_Frequency_Lines", "Power_Line"]]
    assert merges[0]["clusters"] == [0]
    assert merges[0]["counts"]["0"] == {"Air_Compressor": 12, "Low_Frequency_Lines": 8, "Power_Line": 20}
    assert len(merges[0]["examples"]["Power_Line"]) == 5


def test_labels_split_along_a_cluster_are_a_continuum_not_a_merge(scene):
    continua = [f for f in merge_suggestions(scene, PARAMS) if f["kind"] == "continuum"]
    assert [f["labels"] for f in continua] == [["Blip", "Koi_Fish"]]
    assert continua[0]["axis_auc"]["Blip | Koi_Fish"] > 0.95


def test_a_label_in_two_clusters_is_a_split(scene):
    splits = split_suggestions(scene, PARAMS)
    assert [f["label"] for f in splits] == ["Scattered_Light"]
    assert splits[0]["clusters"] == [2, 3]
    assert splits[0]["shares"] == {"2": pytest.approx(20 / 38, abs=1e-3), "3": pytest.approx(18 / 38, abs=1e-3)}


def test_a_coherent_catch_all_cluster_is_a_novel_class(scene):
    novel = novel_classes(scene, PARAMS)
    assert [(f["cluster"], f["label"]) for f in novel] == [(4, "None_of_the_Above")]
    assert novel[0]["purity"] == pytest.approx(12 / 14, abs=1e-3)


def test_thresholds_change_the_findings(scene):
    strict = FindingParams(min_cluster_share=0.35)
    assert not [f for f in merge_suggestions(scene, strict) if f["kind"] == "merge"]
    assert split_suggestions(scene, FindingParams(min_label_share=0.6)) == []


def test_a_label_unlike_its_neighbours_is_suspicious_and_gets_theirs():
    rng = np.random.default_rng(1)
    blips, whistles = rng.normal([1, 0, 0], 0.05, size=(30, 3)), rng.normal([0, 1, 0], 0.05, size=(30, 3))
    embeddings = np.vstack([blips, whistles])
    labels = ["Blip"] * 30 + ["Whistle"] * 30
    labels[3] = "Whistle"  # a Blip-looking glitch labelled Whistle
    points = _points([(0 if i < 30 else 1, lab, 0.0, 0.0) for i, lab in enumerate(labels)])
    result = glitch_suspicion(points, embeddings, PARAMS).set_index("gravityspy_id")
    assert result.at["g0003", "suspicion"] == pytest.approx(1.0)
    assert result.at["g0003", "proposed_label"] == "Blip"
    assert "10/10 are Blip" in result.at["g0003", "evidence"]
    others = result.drop(index="g0003")
    assert (others["proposed_label"] == points.set_index("gravityspy_id").drop(index="g0003")["label"]).all()
    assert others["suspicion"].max() == pytest.approx(0.1)  # a few Blips have the mislabelled one as a neighbour
    assert others["suspicion"].min() == 0.0


def test_labels_their_neighbours_tell_apart_are_an_overlap_not_a_merge():
    """Cluster 0: three labels of one shape, scattered at random (a merge). Cluster 1: two shapes a coarse
    clustering put together; in the embedding space each label keeps to its own blob (an overlap)."""
    rng = np.random.default_rng(1)
    rows, vectors = [], []
    for label, n in (("Power_Line", 20), ("Air_Compressor", 12), ("Low_Frequency_Lines", 10)):
        rows += [(0, label, *rng.normal([0, 0], 1.0)) for _ in range(n)]
        vectors += [rng.normal(0, 1, 16) + 5 * np.eye(16)[0] for _ in range(n)]
    for label, axis in (("Whistle", 1), ("Wandering_Line", 2)):
        rows += [(1, label, *rng.normal([20, 0], 1.0)) for _ in range(15)]
        vectors += [rng.normal(0, 1, 16) + 5 * np.eye(16)[axis] for _ in range(15)]
    points, embeddings = _points(rows), np.array(vectors)

    found = merge_suggestions(points, PARAMS, embeddings)
    by_kind = {kind: [f["labels"] for f in found if f["kind"] == kind] for kind in ("merge", "overlap")}
    assert by_kind["merge"] == [["Air_Compressor", "Low_Frequency_Lines", "Power_Line"]]
    assert by_kind["overlap"] == [["Wandering_Line", "Whistle"]]
    overlap = next(f for f in found if f["kind"] == "overlap")
    assert overlap["label_mixing"]["Wandering_Line | Whistle"] > 0.8
    merge = next(f for f in found if f["kind"] == "merge")
    assert all(v <= PARAMS.max_mixing for v in merge["label_mixing"].values())
    # without embeddings there is no way to tell: both are merges, as before
    assert len([f for f in merge_suggestions(points, PARAMS) if f["kind"] == "merge"]) == 2


def test_label_mixing_is_zero_for_a_random_mix_and_one_for_separate_blobs():
    rng = np.random.default_rng(2)
    mixed = rng.normal(size=(400, 8))
    assert abs(label_mixing(mixed, rng.choice(["a", "b"], 400), k=5)) < 0.1
    apart = np.vstack([rng.normal(size=(100, 8)) + 10 * np.eye(8)[0], rng.normal(size=(100, 8)) + 10 * np.eye(8)[1]])
    assert label_mixing(apart, np.repeat(["a", "b"], 100), k=5) == pytest.approx(1.0)
    assert label_mixing(apart, np.repeat(["a"], 200), k=5) == 0.0  # one label: nothing to tell apart
