"""Findings on constructed maps whose right answers are known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from precompute.audit.findings import merge_suggestions, novel_classes, split_suggestions
from precompute.audit.groups import label_groups, two_gaussian_fit
from precompute.audit.neighbours import label_mixing, rank_weighted_agreement
from precompute.audit.params import FindingParams
from precompute.audit.suspicion import glitch_suspicion

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
    for label, n in (("Power_Line", 20), ("Air_Compressor", 16), ("Low_Frequency_Lines", 14)):
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
    merges = [f for f in merge_suggestions(scene, PARAMS) if f.kind == "merge"]
    assert [f.labels for f in merges] == [["Air_Compressor", "Low_Frequency_Lines", "Power_Line"]]
    assert merges[0].clusters == [0]
    assert merges[0].counts["0"] == {"Air_Compressor": 16, "Low_Frequency_Lines": 14, "Power_Line": 20}
    assert len(merges[0].examples["Power_Line"]) == 5


def test_labels_split_along_a_cluster_are_a_continuum_not_a_merge(scene):
    continua = [f for f in merge_suggestions(scene, PARAMS) if f.kind == "continuum"]
    assert [f.labels for f in continua] == [["Blip", "Koi_Fish"]]
    assert continua[0].axis_auc["Blip | Koi_Fish"] > 0.95


def test_a_label_in_two_clusters_is_a_split(scene):
    splits = split_suggestions(scene, PARAMS)
    assert [f.label for f in splits] == ["Scattered_Light"]
    assert splits[0].clusters == [2, 3]
    assert splits[0].shares == {"2": pytest.approx(20 / 38, abs=1e-3), "3": pytest.approx(18 / 38, abs=1e-3)}


def test_a_coherent_catch_all_cluster_is_a_novel_class(scene):
    novel = novel_classes(scene, PARAMS)
    assert [(f.cluster, f.label) for f in novel] == [(4, "None_of_the_Above")]
    assert novel[0].purity == pytest.approx(12 / 14, abs=1e-3)


def test_thresholds_change_the_findings(scene):
    strict = FindingParams(min_cluster_share=0.35)
    assert not [f for f in merge_suggestions(scene, strict) if f.kind == "merge"]
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
    assert others["agreement"].min() == pytest.approx(0.9)  # a few Blips have the mislabelled one as a neighbour
    # suspicion weighs the r-th neighbour 1/r over suspicion_k = 20: one wrong neighbour costs at most 1/H(20)
    harmonic = sum(1 / r for r in range(1, PARAMS.suspicion_k + 1))
    assert 0 < others["suspicion"].max() <= 1 / harmonic + 1e-6
    assert others["suspicion"].min() == 0.0


def test_nearer_disagreeing_neighbours_make_a_glitch_more_suspicious():
    """The same vote (one stranger among two neighbours) weighs more when the stranger is the nearest."""
    labels = np.array(["a", "a", "b"])
    neighbours_near = np.array([[2, 1], [0, 2], [0, 1]])  # point 0's nearest is the 'b'
    neighbours_far = np.array([[1, 2], [0, 2], [0, 1]])  # point 0's nearest is an 'a'
    near = rank_weighted_agreement(labels, neighbours_near)[0]
    far = rank_weighted_agreement(labels, neighbours_far)[0]
    assert near == pytest.approx((1 / 2) / 1.5)
    assert far == pytest.approx(1 / 1.5)
    assert rank_weighted_agreement(labels, neighbours_near)[2] == 0.0


def test_labels_their_neighbours_tell_apart_are_an_overlap_not_a_merge():
    """Cluster 0: three labels of one shape, scattered at random (a merge). Cluster 1: two shapes a coarse
    clustering put together; in the embedding space each label keeps to its own blob (an overlap)."""
    rng = np.random.default_rng(1)
    rows, vectors = [], []
    for label, n in (("Power_Line", 20), ("Air_Compressor", 16), ("Low_Frequency_Lines", 14)):
        rows += [(0, label, *rng.normal([0, 0], 1.0)) for _ in range(n)]
        vectors += [rng.normal(0, 1, 16) + 5 * np.eye(16)[0] for _ in range(n)]
    for label, axis in (("Whistle", 1), ("Wandering_Line", 2)):
        rows += [(1, label, *rng.normal([20, 0], 1.0)) for _ in range(15)]
        vectors += [rng.normal(0, 1, 16) + 5 * np.eye(16)[axis] for _ in range(15)]
    points, embeddings = _points(rows), np.array(vectors)

    found = merge_suggestions(points, PARAMS, embeddings)
    by_kind = {kind: [f.labels for f in found if f.kind == kind] for kind in ("merge", "overlap")}
    assert by_kind["merge"] == [["Air_Compressor", "Low_Frequency_Lines", "Power_Line"]]
    assert by_kind["overlap"] == [["Wandering_Line", "Whistle"]]
    overlap = next(f for f in found if f.kind == "overlap")
    assert overlap.label_mixing["Wandering_Line | Whistle"] > 0.8
    merge = next(f for f in found if f.kind == "merge")
    assert all(v <= PARAMS.max_mixing for v in merge.label_mixing.values())
    # without embeddings there is no way to tell: both are merges, as before
    assert len([f for f in merge_suggestions(points, PARAMS) if f.kind == "merge"]) == 2


def test_label_mixing_is_zero_for_a_random_mix_and_one_for_separate_blobs():
    rng = np.random.default_rng(2)
    mixed = rng.normal(size=(400, 8))
    assert abs(label_mixing(mixed, rng.choice(["a", "b"], 400), k=5)) < 0.1
    apart = np.vstack([rng.normal(size=(100, 8)) + 10 * np.eye(8)[0], rng.normal(size=(100, 8)) + 10 * np.eye(8)[1]])
    assert label_mixing(apart, np.repeat(["a", "b"], 100), k=5) == pytest.approx(1.0)
    assert label_mixing(apart, np.repeat(["a"], 200), k=5) == 0.0  # one label: nothing to tell apart


# -- splits: two groups in the Omicron parameters, confirmed by the spectrograms ---------------------------


def test_two_gaussians_beat_one_only_for_two_groups():
    rng = np.random.default_rng(4)
    one = rng.normal(0.0, 0.2, 60)
    delta, _ = two_gaussian_fit(one)
    assert delta < PARAMS.min_delta_bic
    two = np.concatenate([rng.normal(-0.4, 0.05, 25), rng.normal(0.4, 0.05, 35)])
    delta, group = two_gaussian_fit(two)
    assert delta >= PARAMS.min_delta_bic
    assert group.tolist() == [0] * 25 + [1] * 35  # group 0 is the lower one
    # Omicron's tiled frequencies repeat exactly: identical values are not infinitely strong evidence
    delta, _ = two_gaussian_fit(np.repeat([1.0, 2.0], [3, 30]))
    assert np.isfinite(delta)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(-5, 5))
def test_two_gaussian_fit_ignores_where_the_values_sit(seed, shift):
    values = np.random.default_rng(seed).normal(0, 0.3, 30) + np.repeat([0.0, 1.0], 15)
    delta, group = two_gaussian_fit(values)
    shifted_delta, shifted_group = two_gaussian_fit(values + shift)
    assert shifted_delta == pytest.approx(delta, rel=1e-6, abs=1e-6)
    assert (shifted_group == group).all()


def _split_scene() -> tuple[pd.DataFrame, np.ndarray]:
    """Cluster 0 holds Scattered_Light's two shapes (short and long, each its own blob in the embedding space);
    Violin_Mode has two durations but one look; Whistle has thirteen short members that look like Blips (label
    errors); None_of_the_Above holds two shapes (a catch-all); Blip sits in two clusters with one duration.
    Every group has at least ``smallest_side`` (12) glitches, so each rule can decide."""
    rng = np.random.default_rng(5)
    rows, vectors, durations = [], [], []

    def add(n, cluster, label, duration, blob, xy=(0.0, 0.0)):
        for _ in range(n):
            rows.append((cluster, label, *rng.normal(xy, 1.0)))
            vectors.append(rng.normal(0, 1, 16) + 6 * np.eye(16)[blob])
            durations.append(duration * 10 ** rng.normal(0, 0.04))

    add(16, 0, "Scattered_Light", 2.6, 0)
    add(14, 0, "Scattered_Light", 0.36, 1)
    add(16, 1, "Violin_Mode", 0.36, 2, (20, 0))
    add(13, 1, "Violin_Mode", 0.17, 2, (20, 0))
    add(30, 2, "Whistle", 0.6, 3, (40, 0))
    add(40, 3, "Blip", 0.27, 4, (0, 20))
    add(20, 4, "Blip", 0.27, 4, (20, 20))
    add(13, 3, "Whistle", 0.03, 4, (0, 20))
    add(14, 5, "None_of_the_Above", 2.7, 5, (40, 20))
    add(14, 5, "None_of_the_Above", 0.5, 6, (40, 20))
    points = _points(rows).assign(duration=durations)
    return points, np.array(vectors)


def test_a_label_with_two_durations_that_look_different_is_a_split():
    points, embeddings = _split_scene()
    splits = split_suggestions(points, PARAMS, label_groups(points, embeddings, PARAMS))
    assert [f.label for f in splits] == ["Scattered_Light"]
    split = splits[0]
    assert split.evidence == "omicron+neighbours"
    assert split.parameter == "duration"
    assert split.delta_bic >= PARAMS.min_delta_bic
    assert split.label_mixing > 0.8
    assert [g["size"] for g in split.groups.values()] == [14, 16]
    assert [g["clusters"] for g in split.groups.values()] == [{"0": 14}, {"0": 16}]
    assert split.clusters == [0]  # one cluster: a map clustering alone could not have found it
    assert [len(v) for v in split.examples.values()] == [5, 5]


def test_why_the_other_labels_are_not_splits():
    points, embeddings = _split_scene()
    groups = label_groups(points, embeddings, PARAMS)
    assert set(groups) == {"Scattered_Light"}
    # Violin_Mode: two durations, one look -> its groups' neighbours mix at random: decided, not a split
    assert "Violin_Mode" not in groups
    assert "Violin_Mode" not in groups.undecided
    # Whistle: the short group's neighbours are Blips -> label errors, not a second shape
    trusting = FindingParams(min_majority=0.0)
    assert "Whistle" in label_groups(points, embeddings, trusting)
    # Blip: two clusters, one duration -> no Omicron groups; the clusters-only rule (no Omicron columns) sees it
    assert "Blip" not in label_groups(points, embeddings, FindingParams(min_majority=0.0, max_mixing=-1.0))
    no_omicron = points.drop(columns="duration")
    fallback = split_suggestions(no_omicron, PARAMS, label_groups(no_omicron, embeddings, PARAMS))
    assert "Blip" in [f.label for f in fallback]
    assert {f.evidence for f in fallback} == {"clusters"}


def test_a_catch_all_label_is_never_split():
    points, embeddings = _split_scene()
    assert "None_of_the_Above" not in label_groups(points, embeddings, FindingParams(min_majority=0.0))
    renamed = points.assign(label=points["label"].replace({"None_of_the_Above": "Tomte"}))
    assert "Tomte" in label_groups(renamed, embeddings, PARAMS)


def test_missing_or_impossible_omicron_values_are_left_out_not_fatal():
    points, embeddings = _split_scene()
    broken = points.copy().astype({"duration": object})
    broken.loc[[0, 1], "duration"] = np.nan
    broken.loc[2, "duration"] = 0.0  # log10 of a zero duration is not a shape
    broken.loc[3, "duration"] = "n/a"
    groups = label_groups(broken, embeddings, PARAMS)
    assert set(groups) == {"Scattered_Light"}
    assert not np.isin([0, 1, 2, 3], groups["Scattered_Light"].members).any()
    # no usable value at all: the clusters-only rule, said so
    empty = points.assign(duration=np.nan)
    assert {f.evidence for f in split_suggestions(empty, PARAMS, label_groups(empty, embeddings, PARAMS))} == {
        "clusters"
    }


# -- evidence: the same failure on too few glitches is "cannot tell", on enough it is a finding ------------------


def _merge_scene(per_label: int, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    """One shape under three labels, mixed at random in one cluster, ``per_label`` glitches each."""
    rng = np.random.default_rng(seed)
    rows, vectors = [], []
    for label in ("Power_Line", "Air_Compressor", "Low_Frequency_Lines"):
        rows += [(0, label, *rng.normal([0, 0], 1.0)) for _ in range(per_label)]
        vectors += [rng.normal(0, 1, 16) + 5 * np.eye(16)[0] for _ in range(per_label)]
    return _points(rows), np.array(vectors)


@pytest.mark.parametrize(("per_label", "verdict"), [(6, "cannot_tell"), (40, "merge")])
def test_a_merge_on_too_few_glitches_is_cannot_tell_and_on_enough_a_merge(per_label, verdict):
    from precompute.audit.findings import all_findings

    points, embeddings = _merge_scene(per_label)
    found = all_findings(points, PARAMS, embeddings, None)
    labels = ["Air_Compressor", "Low_Frequency_Lines", "Power_Line"]
    assert [f.subject if verdict == "cannot_tell" else f.labels for f in found[verdict]] == [labels]
    other = "merge" if verdict == "cannot_tell" else "cannot_tell"
    assert found[other] == []
    if verdict == "cannot_tell":
        entry = found["cannot_tell"][0]
        assert entry.rule == "labels sharing clusters"
        assert entry.n_glitches == 3 * per_label
        assert f"a verdict needs {PARAMS.smallest_side}" in entry.reason
    else:
        merge = found["merge"][0]
        assert merge.n_glitches == 3 * per_label
        for stats in merge.support.values():  # every pair: the interval below the threshold, the null beside it
            low, high = stats["label_mixing"]["interval"]
            assert low <= stats["label_mixing"]["value"] <= high <= PARAMS.max_mixing
            assert stats["axis_auc"]["interval"][1] < PARAMS.axis_auc


def _two_shape_label(per_group: int, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    """Scattered_Light holding two shapes (two durations, two blobs), ``per_group`` glitches of each, plus Blips."""
    rng = np.random.default_rng(seed)
    rows, vectors, durations = [], [], []
    for label, duration, blob, n in (("Scattered_Light", 2.6, 0, per_group), ("Scattered_Light", 0.36, 1, per_group),
                                     ("Blip", 0.27, 2, 40)):  # fmt: skip
        rows += [(0, label, *rng.normal([0, 0], 1.0)) for _ in range(n)]
        vectors += [rng.normal(0, 1, 16) + 6 * np.eye(16)[blob] for _ in range(n)]
        durations += [duration * 10 ** rng.normal(0, 0.04) for _ in range(n)]
    return _points(rows).assign(duration=durations), np.array(vectors)


def test_a_split_on_too_few_glitches_is_cannot_tell_and_on_enough_a_split():
    from precompute.audit.findings import all_findings

    points, embeddings = _two_shape_label(per_group=5)
    groups = label_groups(points, embeddings, PARAMS)
    assert "Scattered_Light" not in groups
    assert groups.undecided["Scattered_Light"] == (10, "too few to judge a split (two groups of 12 needed)")
    undecided = all_findings(points, PARAMS, embeddings, groups)["cannot_tell"]
    assert [(f.rule, f.sizes) for f in undecided if f.rule == "split"] == [("split", {"Scattered_Light": 10})]

    points, embeddings = _two_shape_label(per_group=20)
    groups = label_groups(points, embeddings, PARAMS)
    assert set(groups) == {"Scattered_Light"}
    split = all_findings(points, PARAMS, embeddings, groups)["split"][0]
    assert split.n_glitches == 40
    assert split.support["interval"][0] > PARAMS.max_mixing
    assert split.support["p_value"] < PARAMS.alpha
    assert split.support["null_q95"] < split.support["value"]


@pytest.mark.parametrize(("novel", "others", "expected"), [(4, 1, "cannot_tell"), (20, 2, "novel")])
def test_a_novel_class_on_too_few_glitches_is_cannot_tell_and_on_enough_a_novel_class(novel, others, expected):
    from precompute.audit.findings import all_findings

    rng = np.random.default_rng(6)
    rows = [(0, "Blip", *rng.normal([0, 0], 1.0)) for _ in range(60)]
    rows += [(1, "None_of_the_Above", *rng.normal([20, 0], 0.5)) for _ in range(novel)]
    rows += [(1, "Whistle", *rng.normal([20, 0], 0.5)) for _ in range(others)]
    rows += [(0, "None_of_the_Above", *rng.normal([0, 0], 1.0)) for _ in range(3)]
    found = all_findings(_points(rows), PARAMS, None, None)
    if expected == "novel":
        assert [(f.cluster, f.size) for f in found["novel"]] == [(1, novel + others)]
        assert found["novel"][0].purity_low >= PARAMS.novel_purity
        assert found["novel"][0].p_value < PARAMS.alpha
    else:
        assert found["novel"] == []
        entry = found["cannot_tell"][0]
        assert (entry.rule, entry.clusters) == ("novel class", [1])
        assert "surely only" in entry.reason  # 4 of 5: a share whose lower bound is below novel_purity


def test_an_open_question_says_what_would_decide_it():
    """ "7 of 8 are None_of_the_Above: surely only 59 %, a novel class needs 60 %" told a curator nothing to do: each
    entry now says how many glitches would decide it, and more glitches at that share do decide it."""
    from precompute.audit.findings import all_findings
    from precompute.audit.findings.novel import glitches_to_be_sure, wilson_lower

    rng = np.random.default_rng(6)
    rows = [(0, "Blip", *rng.normal([0, 0], 1.0)) for _ in range(60)]
    rows += [(1, "None_of_the_Above", *rng.normal([20, 0], 0.5)) for _ in range(7)]
    rows += [(1, "Whistle", *rng.normal([20, 0], 0.5))]
    entry = all_findings(_points(rows), PARAMS, None, None)["cannot_tell"][0]
    need = glitches_to_be_sure(7 / 8, PARAMS.novel_purity, PARAMS.alpha)
    assert (entry.have, entry.need) == (8, need)
    shown = entry.view()
    assert shown.headline == "A new shape in cluster 1? 8 glitches, most of them None_of_the_Above."
    assert f"About {need} glitches at this share would decide it; the cluster has 8." in shown.details
    assert wilson_lower(7 / 8 * need, need, PARAMS.alpha) >= PARAMS.novel_purity > wilson_lower(7, 8, PARAMS.alpha)
    assert wilson_lower(7 / 8 * (need - 1), need - 1, PARAMS.alpha) < PARAMS.novel_purity  # the least that does
    assert glitches_to_be_sure(0.58, PARAMS.novel_purity, PARAMS.alpha) is None  # below 60 %: no count decides

    points, embeddings = _merge_scene(6)
    pair = all_findings(points, PARAMS, embeddings, None)["cannot_tell"][0]
    assert (pair.have, pair.need) == (6, PARAMS.smallest_side)
    assert (
        f"A verdict needs {PARAMS.smallest_side} glitches of each label there; the smallest side has 6"
        in (pair.view().details[0])
    )
