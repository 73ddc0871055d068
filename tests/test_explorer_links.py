"""Shareable links without a browser: what a view writes, what a link restores, and what it refuses."""

from __future__ import annotations

import numpy as np
import pytest
from dash import no_update

from explorer import ids
from explorer.data import ExplorerData
from explorer.links import read_link, write_link
from explorer.panels.links import restore_outputs
from explorer.panels.map import point_opacity


@pytest.fixture(scope="module")
def data(small_run, tmp_path_factory) -> ExplorerData:
    return ExplorerData(small_run, cache_dir=tmp_path_factory.mktemp("links-cache"))


def _shown(data: ExplorerData, **changes) -> dict:
    """What a freshly opened page shows: nothing chosen, the run's parameters, coloured by cluster."""
    base = {
        "point": None,
        "cluster": None,
        "params": data.run_params.as_dict(),
        "colour": "cluster",
        "min_samples_box": data.run_params.min_samples,
    }
    return {**base, **changes}


def test_the_runs_own_view_is_the_bare_address(data):
    assert write_link(data, None, None, data.run_params.as_dict(), "cluster") == ""
    assert write_link(data, None, None, None, None) == ""


def test_a_view_round_trips_through_its_link(data):
    params = {**data.run_params.as_dict(), "min_cluster_size": 5, "selection_method": "leaf", "epsilon": 0.25}
    link = write_link(data, 7, 1, params, "suspicion")
    gid = data.points["gravityspy_id"].iat[7]
    assert link == f"?glitch={gid}&cluster=1&mcs=5&method=leaf&epsilon=0.25&colour=suspicion"
    view = read_link(data, link)
    assert view.problems == []
    assert (view.point, view.cluster, view.params, view.colour) == (7, 1, params, "suspicion")
    assert write_link(data, view.point, view.cluster, view.params, view.colour) == link


def test_restoring_what_is_already_shown_changes_nothing(data):
    """A push is read back (callback-nav): restoring it must not set anything, or each view would push twice."""
    params = {**data.run_params.as_dict(), "min_cluster_size": 5}
    view = read_link(data, write_link(data, 7, 1, params, "label"))
    shown = _shown(data, point=7, cluster=1, params=params, colour="label")
    point, cluster, out_params, colour, mcs, method, epsilon, box, tab, alert, is_open = restore_outputs(view, shown)
    everything = (point, cluster, out_params, colour, mcs, method, epsilon, box, tab, alert, is_open)
    assert all(value is no_update for value in everything)


def test_opening_a_link_sets_the_stores_the_controls_and_the_tab(data):
    params = {**data.run_params.as_dict(), "min_cluster_size": 5, "selection_method": "leaf"}
    view = read_link(data, write_link(data, 4, None, params, "snr"))
    point, cluster, out_params, colour, mcs, method, epsilon, box, tab, _, is_open = restore_outputs(view, _shown(data))
    assert (point, out_params, colour) == (4, params, "snr")
    assert (mcs, method, epsilon) == (5, "leaf", 0.0)  # the parameter controls follow the link
    assert cluster is no_update
    assert box is no_update
    assert tab == ids.TAB_GLITCH
    assert is_open is no_update


def test_back_to_the_bare_address_clears_the_choice(data):
    shown = _shown(data, point=4, cluster=2, colour="label")
    point, cluster, params, colour, *_ = restore_outputs(read_link(data, ""), shown)
    assert (point, cluster, colour) == (None, None, "cluster")
    assert params is no_update


@pytest.mark.parametrize(
    ("search", "says"),
    [
        ("?glitch=NOT_AN_ID", "glitch 'NOT_AN_ID' is not in this run"),
        ("?mcs=abc", "mcs='abc' is not a number"),
        ("?mcs=1", "min_cluster_size"),
        ("?mcs=100001", "min_cluster_size must be at most 100000"),
        ("?method=best", "selection_method"),
        ("?epsilon=-1", "epsilon"),
        ("?cluster=999", "cluster 999 does not exist at these parameters"),
        ("?cluster=x", "cluster='x' is not a cluster number"),
        ("?colour=rainbow", "colour='rainbow' is not a colour mode"),
        ("?zoom=3", "unknown link field(s) zoom ignored"),
    ],
)
def test_a_bad_link_restores_the_rest_and_says_what_it_dropped(data, search, says):
    gid = data.points["gravityspy_id"].iat[2]
    view = read_link(data, f"{search}&glitch={gid}" if "glitch=" not in search else search)
    assert any(says in problem for problem in view.problems), view.problems
    if "glitch=" not in search:
        assert view.point == 2  # the good part of the link still applies
    assert view.params == data.params_from(view.params).as_dict()  # whatever is applied is valid
    *_, alert, is_open = restore_outputs(view, _shown(data))
    assert is_open
    assert says in alert


def test_a_link_to_an_unbuilt_tree_fills_the_box_and_asks_for_a_rebuild(data):
    assert not data.has_tree(7)
    view = read_link(data, "?ms=7&mcs=4")
    assert view.min_samples_asked == 7
    assert view.params["min_samples"] == data.run_params.min_samples
    assert view.params["min_cluster_size"] == 4
    assert any("press Rebuild tree" in problem for problem in view.problems)
    outputs = restore_outputs(view, _shown(data))
    assert outputs[7] == 7  # the min_samples box holds the link's value, ready for Rebuild


def test_greying_keeps_every_point_visible_and_the_filter_wins():
    shown = np.array([True, True, False, False])
    members = np.array([True, False, True, False])
    assert point_opacity(None, None) == pytest.approx(0.8)
    opacity = point_opacity(shown, members)
    assert opacity[0] > opacity[1] > opacity[2] > 0  # member > greyed context > filtered out, never invisible
    assert opacity[2] == opacity[3]
    only_cluster = point_opacity(None, members)
    assert only_cluster[0] > only_cluster[1] >= 0.1
