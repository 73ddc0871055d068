"""Plans: validation of the JSON, and what applying one to N glitches yields."""

from __future__ import annotations

import numpy as np
import pytest

from precompute.classes import CLASSES
from precompute.errors import PlanError
from precompute.synth.plan import MECHANISMS, Plan, assign_truth, default_plan_path, load_plan


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan()


@pytest.fixture(scope="module")
def big(plan) -> object:
    return assign_truth(plan, 8000, seed=1)


def test_default_plan_plants_every_mechanism(plan):
    assert {m["kind"] for m in plan.mechanisms} == set(MECHANISMS)


def test_same_seed_same_truth_and_different_seed_differs(plan):
    a, b, c = assign_truth(plan, 300, 5), assign_truth(plan, 300, 5), assign_truth(plan, 300, 6)
    assert a.equals(b)
    assert not a["gravityspy_id"].equals(c["gravityspy_id"])


def test_every_morphology_reaches_the_floor_and_every_class_is_present(plan):
    truth = assign_truth(plan, 400, 0)
    per_model = truth.groupby("model").size()
    assert (per_model >= plan.min_per_morphology).all()
    assert per_model["blip_family"] >= 2 * plan.min_per_morphology  # Blip and Koi_Fish share it
    assert set(CLASSES) <= set(truth["label"])


def test_class_frequencies_follow_the_real_counts(big):
    shares = big["morphology"].value_counts(normalize=True)
    blip_family = shares.get("Blip", 0) + shares.get("Koi_Fish", 0)
    real = (CLASSES["Blip"].total + CLASSES["Koi_Fish"].total) / (sum(c.total for c in CLASSES.values()) + 370)
    assert blip_family == pytest.approx(real, rel=0.1)
    assert shares["1080Lines"] > shares["1400Ripples"]


def test_detector_mix_follows_the_real_table(big):
    by_ifo = big.groupby("morphology")["ifo"].apply(lambda s: (s == "H1").mean())
    assert by_ifo["Helix"] < 0.1  # 3 H1 vs 276 L1 in v1.1
    assert by_ifo["1080Lines"] > 0.9  # 327 H1 vs 1 L1
    assert 0.6 < by_ifo["Blip"] < 0.9


def test_over_splitting_gives_one_morphology_three_labels(big):
    power = big[(big["morphology"] == "Power_Line") & (big["mechanism"] == "over_split")]
    assert set(power["label"]) == {"Power_Line", "Air_Compressor", "Low_Frequency_Lines"}
    assert power["label"].value_counts(normalize=True)["Power_Line"] == pytest.approx(0.45, abs=0.08)


def test_over_compression_gives_one_label_two_morphologies(big):
    scattered = big[(big["label"] == "Scattered_Light") & (big["mechanism"] == "over_compress")]
    assert set(scattered["morphology"]) == {"Scattered_Light", "Fast_Scattering"}


def test_continuum_labels_disagree_most_near_the_boundary(big):
    cont = big[big["mechanism"] == "continuum"]
    near = cont[np.abs(np.log10(cont["snr_target"] / 45.0)) < 0.1]
    far = cont[np.abs(np.log10(cont["snr_target"] / 45.0)) > 0.4]
    assert len(near) > 30
    assert len(far) > 30
    assert near["label_altered"].mean() > 0.25
    assert far["label_altered"].mean() < 0.05
    assert (cont.loc[cont["snr_target"] >= 45, "morphology"] == "Koi_Fish").all()


def test_novel_morphology_is_filed_under_none_of_the_above(big):
    comb = big[big["morphology"] == "Descending_Comb"]
    assert len(comb) > 0
    assert (comb["label"][comb["mechanism"] == "novel"] == "None_of_the_Above").all()


def test_random_noise_rate(big):
    noisy = big[big["mechanism"] == "random_noise"]
    assert len(noisy) / len(big) == pytest.approx(0.04, abs=0.01)
    assert (noisy["label"] != noisy["morphology"]).mean() > 0.9


def test_altered_flag_is_label_versus_morphology(big):
    assert (big["label_altered"] == (big["label"] != big["morphology"])).all()


def _plan(**changes):
    raw = {**load_plan().source, **changes}
    return Plan.from_dict(raw, where="test-plan")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mechanisms": [{"kind": "teleport"}]}, r"mechanisms\[0\]\.kind: 'teleport' is not one of"),
        (
            {"mechanisms": [{"kind": "over_split", "morphology": "Blip", "labels": {"A": 0.5, "B": 0.5}}]},
            r"needs >= 3 labels",
        ),
        (
            {"mechanisms": [{"kind": "over_split", "morphology": "Blip", "labels": {"A": 0.5, "B": 0.3, "C": 0.1}}]},
            r"must sum to 1",
        ),
        (
            {"mechanisms": [{"kind": "over_compress", "label": "X", "morphologies": ["Blip", "Nope"]}]},
            r"unknown morphology 'Nope'",
        ),
        (
            {
                "mechanisms": [
                    {"kind": "continuum", "morphologies": ["Blip", "Whistle"], "boundary_snr": 40, "width_dex": 0.1}
                ]
            },
            r"share one waveform model",
        ),
        ({"mechanisms": [{"kind": "random_noise", "rate": 1.5}]}, r"rate must be in \[0, 1\)"),
        ({"morphologies": {"Odd": {"model": "nope", "weight": 1}}}, r"morphologies\.Odd\.model: unknown model 'nope'"),
        ({"morphologies": {"Odd": {"model": "tomte", "weight": -1}}}, r"morphologies\.Odd\.weight must be a number"),
        (
            {"morphologies": {"Odd": {"model": "tomte", "weight": 5}}, "mechanisms": []},
            r"\['Odd'\] are not Gravity Spy classes",
        ),
        ({"colour": "red"}, r"unknown field\(s\) \['colour'\]"),
        ({"min_per_morphology": -2}, r"min_per_morphology"),
    ],
)
def test_bad_plans_are_refused_with_the_field_named(change, message):
    with pytest.raises(PlanError, match=message):
        _plan(**change)


def test_too_few_glitches_for_the_floor(plan):
    with pytest.raises(PlanError, match=r"--glitches 50 is too few .* at least 8 each \(192\)"):
        assign_truth(plan, 50, 0)


def test_plan_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    with pytest.raises(PlanError, match=r"plan\.json is not valid JSON"):
        load_plan(bad)
    with pytest.raises(PlanError, match=r"does not exist"):
        load_plan(tmp_path / "missing.json")


@pytest.mark.parametrize("path", sorted(default_plan_path().parent.glob("*.json")), ids=lambda p: p.stem)
def test_every_shipped_plan_plants_what_it_says(path):
    plan = load_plan(path)
    truth = assign_truth(plan, 300, seed=43)
    assert len(truth) == 300
    for mech in plan.mechanisms:
        if mech["kind"] == "over_split":
            given = set(truth.loc[truth["morphology"] == mech["morphology"], "label"])
            assert given >= set(mech["labels"]) - {mech["morphology"]}, mech
        elif mech["kind"] == "over_compress":
            for morphology in mech["morphologies"]:
                members = truth[(truth["morphology"] == morphology) & (truth["mechanism"] == "over_compress")]
                assert len(members) >= plan.min_per_morphology // 2, (mech, morphology)
                assert set(members["label"]) == {mech["label"]}
        elif mech["kind"] == "random_noise":
            share = (truth["mechanism"] == "random_noise").mean()
            assert abs(share - mech["rate"]) < 0.05
