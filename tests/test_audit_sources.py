"""The third label source: which side a disagreement's embedding neighbours take (precompute.audit.sources)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from precompute.audit.sources import ALPHA, K, side_support


def _blobs(rng: np.random.Generator, per_class: int, classes: int, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Tight clusters around random directions in 32-d: the embedding of classes the network tells apart."""
    centres = rng.normal(size=(classes, 32))
    truth = np.repeat(np.arange(classes), per_class)
    return centres[truth] + rng.normal(scale=spread, size=(len(truth), 32)), truth


def _labels(rng: np.random.Generator, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Machine labels with class 0 called 1 a quarter of the time; volunteers with class 2 called 0 a quarter of the
    time and no consensus on 40 %. Returns machine, volunteer, and which rows each source got wrong."""
    names = np.array([f"class-{c}" for c in range(truth.max() + 1)], dtype=object)
    machine, volunteer = names[truth].copy(), names[truth].copy()
    machine_wrong = (truth == 0) & (rng.random(len(truth)) < 0.25)
    volunteer_wrong = (truth == 2) & (rng.random(len(truth)) < 0.25) & ~machine_wrong
    machine[machine_wrong], volunteer[volunteer_wrong] = names[1], names[0]
    unvoted = (rng.random(len(truth)) < 0.4) & ~machine_wrong & ~volunteer_wrong
    volunteer[unvoted] = None
    return machine, volunteer, machine_wrong, volunteer_wrong


def test_where_the_classes_are_apart_the_neighbours_side_with_the_source_that_is_right():
    rng = np.random.default_rng(3)
    embeddings, truth = _blobs(rng, per_class=80, classes=5, spread=0.3)
    machine, volunteer, machine_wrong, volunteer_wrong = _labels(rng, truth)
    sides = side_support(embeddings, machine, volunteer)
    assert set(sides.columns) == {"for_machine", "for_volunteers", "sides_p", "sides_with"}
    assert (sides["sides_with"][machine_wrong] == "volunteers").mean() >= 0.9
    assert (sides["sides_with"][volunteer_wrong] == "machine").mean() >= 0.9
    settled = ~machine_wrong & ~volunteer_wrong
    assert set(sides["sides_with"][settled]) <= {"agree", "no consensus"}
    assert (sides["sides_with"][pd.isna(volunteer)] == "no consensus").all()


def test_where_the_embedding_holds_no_class_structure_the_verdict_stays_silent():
    rng = np.random.default_rng(4)
    _, truth = _blobs(rng, per_class=80, classes=5, spread=0.3)
    machine, volunteer, machine_wrong, volunteer_wrong = _labels(rng, truth)
    noise = rng.normal(size=(len(truth), 32))  # neighbours unrelated to the class
    sides = side_support(noise, machine, volunteer)
    disagree = machine_wrong | volunteer_wrong
    spoke = sides["sides_with"][disagree].isin(["machine", "volunteers"])
    assert disagree.sum() > 30
    assert spoke.mean() <= 2 * ALPHA  # a verdict by chance about as often as the test's level allows


def test_a_thin_neighbourhood_cannot_reach_a_verdict():
    # five neighbours of the volunteers' class and ten of a third: five against none is no verdict at ALPHA
    embeddings = np.vstack([np.zeros((1, 4)), np.tile([1.0, 0, 0, 0], (5, 1)), np.tile([0, 1.0, 0, 0], (K, 1))])
    embeddings[0] = [1.0, 0.9, 0, 0]
    machine = np.array(["A"] + ["B"] * 5 + ["C"] * K, dtype=object)
    volunteer = np.array(["B"] + [None] * 5 + [None] * K, dtype=object)
    sides = side_support(embeddings + 1e-3 * np.random.default_rng(0).normal(size=embeddings.shape), machine, volunteer)
    first = sides.iloc[0]
    assert (first["for_machine"], first["for_volunteers"]) == (0, 5)
    assert first["sides_p"] > ALPHA  # five against none is p = 0.0625
    assert first["sides_with"] == "neither"  # ten of fifteen neighbours name neither class


def test_glitches_of_one_dispute_take_no_side_and_the_next_neighbours_are_asked():
    # 20 glitches of one systematic confusion (machine "A", volunteers "B"), each other's nearest neighbours,
    # then 30 glitches the volunteers and machine both call "B" a little further off, and 30 "C" far away
    rng = np.random.default_rng(5)
    centre = np.zeros(16)
    centre[0] = 1.0
    disputed = centre + rng.normal(scale=0.01, size=(20, 16))
    same_kind = centre + 0.3 * np.eye(16)[1] + rng.normal(scale=0.05, size=(30, 16))
    other = np.eye(16)[5] + rng.normal(scale=0.05, size=(30, 16))
    embeddings = np.vstack([disputed, same_kind, other])
    machine = np.array(["A"] * 20 + ["B"] * 30 + ["C"] * 30, dtype=object)
    volunteer = np.array(["B"] * 20 + ["B"] * 30 + ["C"] * 30, dtype=object)
    sides = side_support(embeddings, machine, volunteer)
    assert (sides["sides_with"][:20] == "volunteers").all()
    assert (sides["for_volunteers"][:20] == K).all()
    nearest_only = side_support(embeddings, machine, volunteer, reach=K)  # the first version: K nearest only
    assert (nearest_only["sides_with"][:20] != "volunteers").all()
