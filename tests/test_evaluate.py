"""The evaluation scores findings against a planted truth: right answers score 1, wrong ones do not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precompute.audit.evaluate import evaluate_run, format_evaluation
from precompute.cluster import ClusterTree
from precompute.errors import DataError
from precompute.rundir import MANIFEST_VERSION, load_run, write_run

_DURATION = {
    "Power_Line": 0.75,
    "Air_Compressor": 0.41,
    "Low_Frequency_Lines": 3.94,
    "Scattered_Light": 2.61,
    "Fast_Scattering": 0.36,
    "Descending_Comb": 1.5,
    "Whistle": 0.59,
    "Helix": 0.09,
}


def _scene(rng: np.random.Generator):
    """Points, embeddings and truth for a map whose planted failures are all visible."""
    rows = []  # (cluster, label, morphology, mechanism, x, y, embedding centre)

    def add(n, cluster, label, morphology, mechanism, xy, centre):
        for _ in range(n):
            rows.append((cluster, label, morphology, mechanism, *rng.normal(xy, 0.5), centre))

    # over-splitting: one Power_Line shape, three labels (AC and LFL also have shapes of their own)
    add(20, 0, "Power_Line", "Power_Line", "over_split", (0, 0), 0)
    add(14, 0, "Air_Compressor", "Power_Line", "over_split", (0, 0), 0)
    add(13, 0, "Low_Frequency_Lines", "Power_Line", "over_split", (0, 0), 0)
    add(20, 1, "Air_Compressor", "Air_Compressor", "none", (10, 0), 1)
    add(20, 2, "Low_Frequency_Lines", "Low_Frequency_Lines", "none", (20, 0), 2)
    # over-compression: two shapes, one label
    add(20, 3, "Scattered_Light", "Scattered_Light", "over_compress", (0, 10), 3)
    add(20, 4, "Scattered_Light", "Fast_Scattering", "over_compress", (10, 10), 4)
    # novel shape under None_of_the_Above
    add(12, 5, "None_of_the_Above", "Descending_Comb", "novel", (20, 10), 5)
    # clean classes, with a few random label errors
    add(25, 6, "Whistle", "Whistle", "none", (0, 20), 6)
    add(25, 7, "Helix", "Helix", "none", (10, 20), 7)
    add(3, 6, "Helix", "Whistle", "random_noise", (0, 20), 6)
    add(3, 7, "Whistle", "Helix", "random_noise", (10, 20), 7)
    table = pd.DataFrame(rows, columns=["cluster", "label", "morphology", "mechanism", "x", "y", "centre"])
    table.insert(0, "gravityspy_id", [f"g{i:05d}" for i in range(len(table))])
    # Omicron durations by shape (roughly the real classes' means, precompute/classes.py), 0.05 dex scatter
    typical = table["morphology"].map(_DURATION).to_numpy()
    table["duration"] = typical * 10 ** rng.normal(0, 0.05, len(table))
    centres = rng.normal(size=(8, 32))
    embeddings = centres[table["centre"]] + rng.normal(scale=0.15, size=(len(table), 32))
    return table, embeddings.astype(np.float32)


@pytest.fixture(scope="module")
def constructed(tmp_path_factory) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    table, embeddings = _scene(rng)
    root = tmp_path_factory.mktemp("eval")
    points = table.drop(columns=["morphology", "mechanism", "centre"]).assign(ifo="H1", probability=1.0, window="fused")
    manifest = {"manifest_version": MANIFEST_VERSION, "parameters": {}, "embedding": {"weights_used": "constructed"}}
    tree = ClusterTree.build(points[["x", "y"]].to_numpy(), 3)
    write_run(
        root / "run",
        manifest=manifest,
        points=points,
        images=pd.DataFrame({"key": []}),
        embeddings=embeddings,
        trees=[tree],
        add_files=lambda _: None,
    )
    truth = root / "truth"
    truth.mkdir()
    (
        table.assign(label_altered=table["label"] != table["morphology"])[
            ["gravityspy_id", "morphology", "label", "label_altered", "mechanism"]
        ]
    ).to_csv(truth / "truth.csv", index=False)
    plan = {
        "name": "constructed",
        "mechanisms": [
            {
                "kind": "over_split",
                "morphology": "Power_Line",
                "labels": {"Power_Line": 0.5, "Air_Compressor": 0.3, "Low_Frequency_Lines": 0.2},
            },
            {
                "kind": "over_compress",
                "label": "Scattered_Light",
                "morphologies": ["Scattered_Light", "Fast_Scattering"],
            },
            {"kind": "novel", "morphology": "Descending_Comb", "label": "None_of_the_Above"},
            {"kind": "random_noise", "rate": 0.05},
        ],
    }
    (truth / "plan.json").write_text(json.dumps(plan))
    return root / "run", truth


def test_planted_failures_are_found_and_scored(constructed):
    run, truth = constructed
    result = evaluate_run(load_run(run), truth)
    assert result["merge"]["recall"] == 1.0
    assert result["merge"]["precision"] == 1.0
    assert result["split"]["recall"] == 1.0
    # Air_Compressor also holds two durations (its own shape and the shared Power_Line one), but that second
    # group's neighbours carry sibling labels: a merge, not a split; None_of_the_Above is a catch-all
    assert result["split"]["precision"] == 1.0
    assert result["novel"]["recall"] == 1.0
    assert result["novel"]["precision"] == 1.0
    assert result["clusters_vs_morphology"]["ari"] > result["clusters_vs_labels"]["ari"]
    assert result["suspicion"]["n_altered"] > 0
    assert result["suspicion"]["ours"]["roc_auc"] > 0.9  # the random label errors sit among the other class
    assert (run / "audit" / "evaluation.json").is_file()
    assert (
        "merge vs planted over-splitting | recall / precision (found, planted; of the rest, cannot tell) | 1.00 / 1.00"
        in (format_evaluation(result))
    )


def test_a_wrong_plan_scores_the_same_findings_as_misses(constructed, tmp_path):
    run, truth = constructed
    other = tmp_path / "truth"
    other.mkdir()
    (other / "truth.csv").write_bytes((truth / "truth.csv").read_bytes())
    plan = json.loads((truth / "plan.json").read_text())
    plan["mechanisms"][0]["labels"] = {"Whistle": 0.4, "Helix": 0.3, "Tomte": 0.3}
    plan["mechanisms"][1]["label"] = "Whistle"
    (other / "plan.json").write_text(json.dumps(plan))
    result = evaluate_run(load_run(run), other)
    assert result["merge"]["recall"] == 0.0
    assert result["merge"]["precision"] == 0.0
    assert result["split"]["recall"] == 0.0


def test_truth_from_another_data_set_is_refused(constructed, tmp_path):
    run, _truth = constructed
    (tmp_path / "truth.csv").write_text(
        "gravityspy_id,morphology,label,label_altered,mechanism\nzzz,Blip,Blip,False,none\n"
    )
    (tmp_path / "plan.json").write_text("{}")
    with pytest.raises(DataError, match=r"are not in .*truth.csv .* is it the same data set"):
        evaluate_run(load_run(run), tmp_path)
    with pytest.raises(DataError, match=r"has no truth.csv and plan.json"):
        evaluate_run(load_run(run), tmp_path / "nowhere")


# -- the scorer is strict: hand-built findings that must miss -----------------------------------------------


def _truth(morphology, clusters, labels):
    from precompute.audit.findings import PlantedTruth

    return PlantedTruth(morphology=np.array(morphology), clusters=np.array(clusters), labels=np.array(labels))


def test_an_over_broad_merge_is_a_miss_and_one_label_either_way_is_a_hit():
    from precompute.audit.findings.merge import Merge

    planted = {"Power_Line", "Air_Compressor", "Low_Frequency_Lines"}
    truth = _truth([], [], [])

    def merge(*labels):
        return Merge(labels=sorted(labels), clusters=[0], counts={}, axis_auc={}, examples={})

    assert merge(*planted).hits(planted, truth)
    assert merge(*planted, "Blip").hits(planted, truth)  # one label too many
    assert merge("Power_Line", "Air_Compressor").hits(planted, truth)  # one too few
    assert not merge(*planted, "Blip", "Whistle").hits(planted, truth)  # Jaccard 0.6: a hit for the old scorer
    assert not merge("Power_Line", "Blip", "Whistle").hits(planted, truth)


def test_a_split_of_the_right_label_on_the_wrong_axis_is_a_miss():
    from precompute.audit.findings.split import Split

    rng = np.random.default_rng(0)
    morphology = np.array(["Scattered_Light"] * 30 + ["Fast_Scattering"] * 30)
    truth = _truth(morphology, np.zeros(60, int), ["Scattered_Light"] * 60)
    members = np.arange(60)

    def split(groups):
        return Split(label="Scattered_Light", evidence="omicron+neighbours", clusters=[0], shares={}, examples={},
                     members=members, member_group=np.asarray(groups))  # fmt: skip

    assert split((morphology == "Fast_Scattering").astype(int)).hits("Scattered_Light", truth)
    assert not split(rng.integers(0, 2, 60)).hits("Scattered_Light", truth)  # groups by something else
    assert not split(np.r_[np.zeros(15), np.ones(30), np.zeros(15)]).hits("Scattered_Light", truth)  # half right
    assert not split((morphology == "Fast_Scattering").astype(int)).hits("Whistle", truth)  # the wrong label
    assert not Split(label="Scattered_Light", evidence="clusters", clusters=[0], shares={}, examples={}).hits(
        "Scattered_Light", truth
    )  # nothing to judge the groups by


def test_a_continuum_is_matched_by_its_members_not_its_label_names():
    from precompute.audit.findings.continuum import Continuum

    planted = {"Blip", "Koi_Fish"}
    labels = ["Blip"] * 20 + ["Koi_Fish"] * 20
    right = _truth(["Blip"] * 22 + ["Koi_Fish"] * 18, [3] * 40, labels)
    wrong = _truth(["Whistle"] * 30 + ["Koi_Fish"] * 10, [3] * 40, labels)  # the labels, on other shapes
    finding = Continuum(labels=["Blip", "Koi_Fish"], clusters=[3], counts={}, axis_auc={}, examples={})
    assert finding.hits(planted, right)
    assert not finding.hits(planted, wrong)
    assert not Continuum(labels=["Blip", "Koi_Fish"], clusters=[9], counts={}, axis_auc={}, examples={}).hits(
        planted, right
    )


# -- the peer: cleanlab on our own inputs, and on a classifier's -----------------------------------------------


def test_cleanlab_gets_our_own_neighbours_and_ranks_as_ours_on_them(constructed):
    """Fed the rank-weighted leave-one-out probabilities our suspicion is made of, cleanlab's self-confidence
    ranks every glitch exactly as our score does: the set-up is the same, so remaining gaps are method."""
    from precompute.audit.params import FindingParams
    from precompute.audit.peers import OURS, leave_one_out_probabilities
    from precompute.audit.suspicion import glitch_suspicion

    run, _truth = constructed
    loaded = load_run(run)
    embeddings, labels = np.asarray(loaded.embeddings()), loaded.points["label"].astype(str).to_numpy()
    classes, inputs = leave_one_out_probabilities(embeddings, labels, FindingParams())
    own = inputs[OURS[0]][np.arange(len(labels)), np.searchsorted(classes, labels)]
    ours = glitch_suspicion(loaded.points, embeddings, FindingParams())["suspicion"].to_numpy()
    np.testing.assert_allclose(1 - own, ours, atol=1e-6)
    assert np.allclose(inputs["leave-one-out 10-NN"].sum(axis=1), 1.0)


def test_the_evaluation_reports_every_peer_input_and_cleanlabs_merges(constructed):
    run, truth = constructed
    result = evaluate_run(load_run(run), truth)
    inputs = result["suspicion"]["cleanlab_inputs"]
    assert set(inputs) == {"leave-one-out 10-NN", "leave-one-out 20-NN", "leave-one-out rank-weighted",
                           "out-of-fold logistic regression"}  # fmt: skip
    assert (result["suspicion"]["cleanlab"]["input"], result["suspicion"]["cleanlab"]["method"]) != (
        "leave-one-out rank-weighted",
        "self_confidence",
    )  # our own score is not counted as the peer's best
    assert result["suspicion"]["cleanlab"]["roc_auc"] > 0.5
    assert set(result["merge_cleanlab"]) == {"out-of-fold logistic regression", "leave-one-out 10-NN"}
    for merges in result["merge_cleanlab"].values():
        assert merges["n_planted"] == 1
        assert all(len(group) >= 2 for group in merges["groups"])
    assert 0.0 <= result["suspicion"]["proposals_true_morphology_altered"] <= 1.0
    table = format_evaluation(result)
    assert "cleanlab on out-of-fold logistic regression" in table
    assert "find_overlapping_classes" in table


def test_a_planted_failure_the_audit_cannot_tell_is_counted_apart_neither_wrong_nor_found():
    from precompute.audit.evaluate import _score_findings
    from precompute.audit.findings.cannot_tell import CannotTell

    plan = {"mechanisms": [
        {"kind": "over_split", "morphology": "Power_Line", "labels": {"Power_Line": 0.5, "Air_Compressor": 0.5}},
        {"kind": "over_compress", "label": "Paired_Doves", "morphologies": ["Paired_Doves", "Chirp"]},
    ]}  # fmt: skip
    undecided = [
        CannotTell(rule="labels sharing clusters", subject=["Air_Compressor", "Power_Line"], clusters=[0],
                   n_glitches=14, reason="too few"),
        CannotTell(rule="split", subject=["Paired_Doves", "Tomte"], clusters=[], n_glitches=17, reason="too few"),
    ]  # fmt: skip
    scores = _score_findings({"merge": [], "split": [], "cannot_tell": undecided}, plan, _truth([], [], []))
    assert (scores["merge"]["recall"], scores["merge"]["n_cannot_tell"]) == (0.0, 1)
    assert (scores["split"]["recall"], scores["split"]["n_cannot_tell"]) == (0.0, 1)
    assert scores["merge"]["precision"] is None  # nothing claimed, nothing wrong
    assert scores["cannot_tell"] == {"n_entries": 2}
    # an entry about other labels covers nothing
    other = [CannotTell(rule="split", subject=["Blip"], clusters=[], n_glitches=30, reason="interval spans")]
    assert _score_findings({"cannot_tell": other}, plan, _truth([], [], []))["split"]["n_cannot_tell"] == 0
