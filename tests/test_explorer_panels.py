"""The panels' pure renderers, without a server: components in, what a user would see checked."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest
from plotly.io.json import to_json_plotly

from explorer import ids
from explorer.components import Thumbnails
from explorer.data import ExplorerData
from explorer.figures import (
    CONTINUOUS_LEVELS,
    colour_modes,
    colouring,
    framed_range,
    map_figure,
    outside_frame,
    typed_array,
)
from explorer.ids import MapTrace
from explorer.panels import bulk, clusters, failure_modes, glitch, label_audit, map, review, selection
from explorer.review import ReviewOff, ReviewStore
from precompute.audit.findings import kinds


@pytest.fixture(scope="module")
def data(small_run, tmp_path_factory) -> ExplorerData:
    return ExplorerData(small_run, cache_dir=tmp_path_factory.mktemp("panels-cache"))


@pytest.fixture(scope="module")
def thumbs(data) -> Thumbnails:
    return Thumbnails(data, lambda path: f"/mounted{path}")


def _walk(component):
    """Every component in a tree (children lists, single children), depth first."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def _text(component) -> str:
    parts = []
    for c in _walk(component):
        children = getattr(c, "children", None)
        parts += [
            str(x) for x in (children if isinstance(children, list | tuple) else [children]) if isinstance(x, str | int)
        ]
    return " ".join(parts)


def _of_type(component, name: str) -> list:
    return [c for c in _walk(component) if getattr(c, "_type", None) == name]


def test_the_detail_shows_four_windows_the_facts_and_the_nearest_neighbours(data, thumbs):
    point = 3
    shown = glitch.render_detail(data, thumbs, point, data.view(data.run_params))
    images = [img for img in _of_type(shown, "Img") if img.className == "detail-img"]
    assert len(images) == 4
    assert all(img.src.startswith("/mounted/previews/detail/") for img in images)
    assert data.points["gravityspy_id"].iat[point] in _text(shown)
    neighbour_ids = [c.id for c in _walk(shown) if isinstance(getattr(c, "id", None), dict)]
    # the neighbours the evidence line counts: the audit's k
    assert neighbour_ids == [
        ids.goto_point(i, "neighbours") for i, _ in data.neighbours(point, k=data.finding_params.k)
    ]
    assert f"/{data.finding_params.k} nearest neighbours" in _text(shown)


def test_every_points_images_are_its_glitchs_in_window_order(data):
    expected = {
        gid: list(zip(rows["window"].astype(str), rows["key"].astype(str), strict=True))
        for gid, rows in data.images.sample(frac=1, random_state=0).sort_values("window").groupby("gravityspy_id")
    }
    for point, gid in enumerate(data.points["gravityspy_id"].astype(str)):
        assert data.image_keys(point) == expected.get(gid, []), f"point {point} ({gid})"
    assert {len(v) for v in expected.values()} == {4}


def test_only_this_runs_image_keys_are_known(data):
    keys = sorted(set(data.images["key"].astype(str)))
    assert all(data.is_known_key(key) for key in keys)
    flipped = [key[:-1] + ("0" if key[-1] != "0" else "1") for key in keys]
    strangers = [key for key in flipped if key not in set(keys)] + ["", "0" * len(keys[0]), "f" * len(keys[0]), "zz"]
    assert not any(data.is_known_key(key) for key in strangers if key not in set(keys))


def test_the_failure_modes_say_first_what_was_decided_and_what_could_not_be_told(data, thumbs):
    """The tab once read "(0) none at these parameters" five times: it now opens with the verdicts, the open
    questions and what each kind of finding needs; each open question says what would decide it."""
    view = data.view(data.run_params)
    findings = data.findings(view)
    sections = failure_modes.render_findings(data, thumbs, view)
    summary = _text(sections[0])
    assert summary.index("Decided:") < summary.index("Could not tell:") < summary.index("What a finding needs:")
    for kind, items in findings.items():
        if kind != "cannot_tell" and items:
            assert failure_modes._counted(len(items), kind) in summary
    undecided = findings["cannot_tell"]
    assert f"{len(undecided)} question" in summary
    assert f"{data.finding_params.smallest_side} glitches of each label" in summary
    assert "none at these parameters" not in " ".join(_text(s) for s in sections)
    listed = [item for s in sections[1:] for item in _of_type(s, "Li")]
    assert len(listed) == sum(len(v) for v in findings.values())  # every finding, no empty sections
    shown_undecided = [_text(item) for item in listed[len(listed) - len(undecided) :]]
    assert all("decid" in text.lower() or "narrow the interval" in text for text in shown_undecided)
    assert [kind.kind for kind in kinds()][-1] == "cannot_tell"  # what could not be told comes last


def test_every_clickable_thumbnail_of_a_panel_has_its_own_id(data, thumbs):
    """A glitch in both a cluster's contact sheet and its intensity strip was two components of one id, and Dash
    dropped the click on it."""
    view = data.view(data.run_params)
    for cluster in view.table["cluster"]:
        shown = clusters.render_cluster(data, thumbs, view, int(cluster))
        found = [json.dumps(c.id, sort_keys=True) for c in _walk(shown) if isinstance(getattr(c, "id", None), dict)
                 and c.id.get("type") == ids.GOTO_POINT]  # fmt: skip
        assert found, f"cluster {cluster} has no clickable thumbnail"
        assert len(found) == len(set(found)), f"cluster {cluster} repeats a thumbnail's id"


def test_a_cluster_up_close_and_the_clusters_that_are_not_there(data, thumbs):
    view = data.view(data.run_params)
    cluster = int(view.table["cluster"].iat[0])
    size = int((view.labels == cluster).sum())
    shown = clusters.render_cluster(data, thumbs, view, cluster)
    assert f"Cluster {cluster}: {size} glitches" in _text(shown)
    assert [c for c in _walk(shown) if getattr(c, "id", None) == ids.SEGMENT_TABLE]
    assert "Choose a cluster" in _text(clusters.render_cluster(data, thumbs, view, None))
    assert "does not exist" in _text(clusters.render_cluster(data, thumbs, view, 999))
    assert [r["cluster"] for r in clusters.cluster_rows(view)] == view.table["cluster"].tolist()


def test_a_selection_and_its_export_carry_the_clustering(data, thumbs):
    view = data.view(data.run_params)
    points = list(range(0, data.n_points, 2))
    shown = selection.render_selection(data, thumbs, points)
    assert f"{len(points)} glitches selected" in _text(shown)
    assert len(_of_type(shown, "Img")) == min(len(points), selection.MAX_THUMBS)
    table = selection.selection_table(data, view, points)
    assert table["gravityspy_id"].tolist() == data.points["gravityspy_id"].iloc[points].tolist()
    assert (table["cluster"].to_numpy() == view.labels[points]).all()
    assert (table["min_cluster_size"] == view.params.min_cluster_size).all()
    assert "Lasso" in _text(selection.render_selection(data, thumbs, []))


def test_the_correction_table_at_the_runs_parameters_is_the_audits(data, small_run):
    table = label_audit.corrections_table(data, data.view(data.run_params))
    audit = pd.read_csv(small_run / "audit" / "corrections.csv", dtype={"gravityspy_id": str})
    assert table["gravityspy_id"].tolist() == audit["gravityspy_id"].tolist()
    assert table["proposed_label"].tolist() == audit["proposed_label"].tolist()
    assert (table["current_label"] != table["proposed_label"]).all()


def _array(value) -> np.ndarray:
    """A patch's value as numbers: a list, or plotly.js's base64 typed-array spec decoded."""
    if isinstance(value, dict):
        kinds = {"u1": np.uint8, "i2": np.int16, "f4": np.float32}
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(kinds[value["dtype"]]).newbyteorder("<"))
    return np.asarray(value)


def test_a_patch_sends_arrays_as_base64_typed_arrays_not_lists_of_numbers():
    """Dash writes a numpy array in a Patch as a JSON list (1.8 MB for 700,000 cluster codes); the map's
    patches send plotly.js's typed-array spec instead, which decodes to the same numbers."""
    for values in (
        np.arange(300, dtype=np.uint8),
        np.array([-3, 700], np.int16),
        np.linspace(0, 1, 7, dtype=np.float32),
    ):
        spec = typed_array(values)
        assert set(spec) == {"dtype", "bdata"}
        np.testing.assert_array_equal(_array(spec), values)
    assert typed_array(np.array([1, 2])).tolist() == [1, 2]  # no typed array for int64: left as it is
    assert typed_array(0.8) == 0.8
    colours = colouring("cluster", pd.DataFrame(index=range(700_000)), np.arange(700_000) % 40)
    sent = to_json_plotly(map.recolour_patch(colours).to_plotly_json())  # as Dash encodes a callback's reply
    assert len(sent) < 1_000_000  # issue 18's recolour budget at the archive's size


def test_the_maps_patches_address_the_traces_by_their_roles(data):
    figure = map_figure(data.points, colouring("cluster", data.points, data.points["cluster"].to_numpy()))
    assert [trace.name for trace in figure.data] == ["glitches", "cluster", "glitch"]  # MapTrace's order
    members = data.points["cluster"].to_numpy() == 0
    patch = map.highlight_patch(data, members, 5).to_plotly_json()
    touched = {(op["location"][1], op["location"][2]) for op in patch["operations"]}
    assert touched == {(MapTrace.CLUSTER, "x"), (MapTrace.CLUSTER, "y"), (MapTrace.GLITCH, "x"), (MapTrace.GLITCH, "y")}
    sizes = {op["location"][1]: len(_array(op["params"]["value"])) for op in patch["operations"] if op["location"][2] == "x"}  # fmt: skip
    assert sizes == {MapTrace.CLUSTER: int(members.sum()), MapTrace.GLITCH: 1}
    for mode in colour_modes(data.points):
        points = map.points_for(data, mode)
        recolour = map.recolour_patch(colouring(mode, points, data.points["cluster"].to_numpy()))
        assert {op["location"][1] for op in recolour.to_plotly_json()["operations"]} == {MapTrace.POINTS}


def test_the_legend_counts_every_point_once(data):
    colours = colouring("label", data.points, data.points["cluster"].to_numpy())
    legend = map.render_legend(colours)
    counts = [int(item.children[1].rsplit("(", 1)[1].rstrip(")")) for item in legend]
    assert sum(counts) == data.n_points
    ramp = map.render_legend(colouring("suspicion", data.points, np.zeros(data.n_points, int)))
    assert len(ramp) == 1  # a continuous value: one ramp, in the same place as the categories' swatches
    assert "suspicion" in _text(ramp[0])


def _island_map(seed: int = 0, island: int = 14, n: int = 300) -> pd.DataFrame:
    """A blob of points and, far to the lower left, a small island (the demo map's shape)."""
    rng = np.random.default_rng(seed)
    bulk = rng.normal([8.0, 5.0], [2.0, 1.5], size=(n - island, 2))
    far = rng.normal([-12.0, -7.0], [0.1, 0.1], size=(island, 2))
    return pd.DataFrame(np.vstack([bulk, far]), columns=["x", "y"])


def test_the_first_view_frames_the_bulk_and_leaves_a_far_island_a_zoom_out_away():
    points = _island_map()
    (x0, x1), (y0, y1) = framed_range(points["x"].to_numpy()), framed_range(points["y"].to_numpy())
    island = points.iloc[-14:]
    assert (island["x"] < x0).all()
    assert (island["y"] < y0).all()
    bulk = points.iloc[:-14]
    inside = bulk["x"].between(x0, x1) & bulk["y"].between(y0, y1)
    assert inside.mean() >= 0.98  # the bulk is framed, only stragglers beyond 0.5 % trimmed
    assert outside_frame(points) == 14 + int((~inside).sum())
    figure = map_figure(
        points.assign(cluster=0), colouring("suspicion", points.assign(suspicion=0.0), np.zeros(300, int))
    )
    assert len(figure.data[MapTrace.POINTS].x) == 300  # every point is still drawn
    assert tuple(figure.layout.xaxis.range) == pytest.approx((x0, x1))


def test_a_map_without_an_island_is_framed_whole():
    points = _island_map(island=0)
    x = np.sort(points["x"].to_numpy())
    x0, x1 = framed_range(x)
    assert x0 <= x[1]
    assert x1 >= x[-2]
    assert outside_frame(points) <= 4


def test_an_island_bigger_than_a_small_share_stays_in_view():
    points = _island_map(island=45)  # 15 %: a real cluster, not a far straggler
    assert framed_range(points["x"].to_numpy())[0] < -12


def _buttons(component) -> list:
    """Every dbc.Button under ``component``."""
    found, stack = [], [component]
    while stack:
        here = stack.pop()
        if type(here).__name__ == "Button":
            found.append(here)
        children = getattr(here, "children", None)
        stack.extend(children if isinstance(children, list) else [children] if children is not None else [])
    return found


def test_with_deciding_off_the_bar_says_why_and_its_buttons_are_disabled(data, monkeypatch):
    off = ReviewOff("deciding is off: the folder /nowhere of GSX_REVIEW_DB does not exist; create it")
    monkeypatch.setitem(data.__dict__, "review", off)
    rendered = review.bar(data)
    assert all(button.disabled for button in _buttons(rendered))
    assert off.reason in str(rendered.to_plotly_json())
    assert review.decide(data, 0, "reject", "ada", note="", new_label=None, raw_params=None) == off.reason
    table = label_audit.with_decisions(label_audit.corrections_table(data, data.view(data.run_params)), data)
    assert (table["decision"] == "").all()


def test_deciding_records_the_evidence_and_refuses_what_cannot_be_decided(data, monkeypatch, tmp_path):
    store = ReviewStore(tmp_path / "decisions.sqlite")
    monkeypatch.setitem(data.__dict__, "review", store)
    proposed = data.points.index[data.points["proposed_label"] != data.points["label"]]
    agreed = data.points.index[data.points["proposed_label"] == data.points["label"]]
    point, calm = int(proposed[0]), int(agreed[0])
    assert "no proposal to accept" in review.decide(
        data, calm, "accept", "ada", note="", new_label=None, raw_params=None
    )
    assert "Choose the label" in review.decide(data, point, "relabel", "ada", note="", new_label=None, raw_params=None)
    assert "enter your name" in review.decide(data, point, "accept", "", note="", new_label=None, raw_params=None)
    assert store.count() == 0
    raw = {**data.run_params.as_dict(), "min_cluster_size": data.run_params.min_cluster_size + 1}
    assert review.decide(data, point, "accept", "ada", note="seen it", new_label=None, raw_params=raw) == ""
    row = store.current().iloc[0]
    assert row["new_label"] == data.points["proposed_label"].iat[point]
    assert json.loads(row["cluster_params"])["min_cluster_size"] == raw["min_cluster_size"]
    assert json.loads(row["evidence"])["cluster"] == int(data.view_for(raw).labels[point])
    table = label_audit.with_decisions(label_audit.corrections_table(data, data.view(data.run_params)), data)
    decided = table.set_index("gravityspy_id").loc[data.points["gravityspy_id"].iat[point], "decision"]
    assert decided == f"accept → {row['new_label']}"
    status = str(review.render_status(review.decision_of(data, row["gravityspy_id"])))
    assert "accepted" in status
    assert "ada" in status


def test_the_review_colour_modes_follow_the_decisions_in_force(data, monkeypatch, tmp_path):
    store = ReviewStore(tmp_path / "decisions.sqlite")
    monkeypatch.setitem(data.__dict__, "review", store)
    proposed = np.flatnonzero((data.points["proposed_label"] != data.points["label"]).to_numpy())
    clusters = data.points["cluster"].to_numpy()

    def legend(mode: str) -> dict[str, int]:
        return {name: count for name, _, count in colouring(mode, map.points_for(data, mode), clusters).legend}

    before = legend("review")
    assert before["pending"] == len(proposed)
    assert before["no proposal"] == data.n_points - len(proposed)
    accepted, rejected = int(proposed[0]), int(proposed[1])
    assert review.decide(data, accepted, "accept", "ada", note="", new_label=None, raw_params=None) == ""
    assert review.decide(data, rejected, "reject", "ada", note="", new_label=None, raw_params=None) == ""
    after = legend("review")
    assert (after["pending"], after["accepted"], after["rejected"]) == (len(proposed) - 2, 1, 1)

    decided = legend("decided")
    labels = data.points["label"].value_counts()
    new, old = data.points["proposed_label"].iat[accepted], data.points["label"].iat[accepted]
    assert decided[new] == labels.get(new, 0) + 1
    assert decided.get(old, 0) == labels[old] - 1
    store.undo_last("ada")  # the reject
    assert legend("review")["rejected"] == 0


def test_a_bulk_decision_is_one_batch_over_the_proposals_and_one_undo_takes_it_back(data, monkeypatch, tmp_path):
    store = ReviewStore(tmp_path / "decisions.sqlite")
    monkeypatch.setitem(data.__dict__, "review", store)
    selection = np.arange(data.n_points)[::2]
    proposed = selection[(data.points["proposed_label"] != data.points["label"]).to_numpy()[selection]]
    assert len(proposed) > 1, "the small run should have proposals among every other glitch"
    message, stored = bulk.bulk_decide(data, selection, "accept", "ada", None, decided="replace")
    assert stored
    assert message.startswith(f"Accepted: {len(proposed)} glitches in one batch")
    current = store.current()
    assert sorted(current["gravityspy_id"]) == sorted(data.points["gravityspy_id"].iloc[proposed])
    assert (current["new_label"].to_numpy() == data.points["proposed_label"].iloc[proposed].to_numpy()).all()
    assert bulk.bulk_decide(data, selection, "new_class", "grace", None, decided="replace")[0].startswith(
        f"Flagged as a new class: {len(selection)} glitches"
    )
    assert len(store.undo_last("grace")) == len(selection)  # one undo takes the whole batch back
    assert len(store.current()) == len(proposed)
    assert "enter your name" in bulk.bulk_decide(data, selection, "reject", "", None, decided="replace")[0]
    skipped, stored = bulk.bulk_decide(data, selection, "new_class", "vera", None, decided="skip")
    assert stored  # glitches with a decision in force are left as they were, the rest decided
    assert f"{len(proposed)} already decided left as they were" in skipped
    assert (store.current().set_index("gravityspy_id").loc[data.points["gravityspy_id"].iloc[proposed], "reviewer"]
            == "ada").all()  # fmt: skip


def test_a_continuous_colour_goes_as_one_byte_a_point_with_its_ramp_labelled_in_values():
    snr = np.array([5.0, 50.0, np.nan, 500.0, 5.0])
    colours = colouring("snr", pd.DataFrame({"snr": snr}), np.zeros(5, int))
    codes, scale = colours.marker["color"], colours.scale
    assert codes.dtype == np.uint8
    top = CONTINUOUS_LEVELS - 1
    assert codes[[0, 2, 3, 4]].tolist() == [0, 0, top, 0]  # log10: 0.7, (NaN at the low end), 2.7, 0.7
    assert abs(int(codes[1]) - top / 2) <= 0.5  # log10 50 = 1.7: the middle
    assert (colours.marker["cmin"], colours.marker["cmax"]) == (0, top)
    assert not colours.marker["showscale"]  # the legend is the page's, under the map, as for categories
    assert [scale.ticks[0], scale.ticks[-1]] == [(0.0, "0.699"), (1.0, "2.7")]  # what a reader sees: log10 SNR
    assert "1 without a value" in scale.missing
    suspicion = colouring("suspicion", pd.DataFrame({"suspicion": np.linspace(0, 1, 1001)}), np.zeros(1001, int))
    step = np.abs(suspicion.marker["color"] / top - np.linspace(0, 1, 1001)).max()
    assert step <= 0.5 / top + 1e-9  # quantised to the nearest of the levels, no further


def _luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("mode", ["suspicion", "snr"])
def test_a_higher_value_stands_out_more_on_the_maps_pale_background(mode):
    """Suspicion 1.0 was the palest yellow, nearly invisible: every continuous scale now darkens as values rise,
    and its palest colour still shows on the map's background."""
    values = pd.DataFrame({mode: np.linspace(0.0, 1.0, 11) if mode == "suspicion" else np.logspace(0, 3, 11)})
    colours = colouring(mode, values, np.zeros(11, int))
    scale = [colour for _, colour in colours.marker["colorscale"]]
    shades = [_luminance(c) for c in scale]
    assert shades == sorted(shades, reverse=True), "the scale does not darken from low to high"
    assert shades[0] < _luminance("#FAFAFA") - 0.1, "the lowest colour vanishes on the background"
    assert list(colours.scale.colours) == scale  # the legend's ramp is the points' scale


def test_a_newcomer_is_told_what_this_is_and_every_metric_and_knob_explains_itself(data):
    """No "what this is / where to start" line, a raw Python error in the warning, jargon without a tooltip."""
    from explorer.help import GLOSSARY
    from explorer.layout import create_layout, plain_warning

    page = create_layout(data)
    intro = next(c for c in _walk(page) if getattr(c, "className", None) == "intro small px-3 py-1")
    assert "Start with" in _text(intro)
    options = [o["label"] for c in _walk(page) for o in getattr(c, "options", None) or [] if isinstance(o, dict)]
    titled = {c.title for c in [*_walk(page), *options] if getattr(c, "title", None)}
    for term in ("min_cluster_size", "min_samples", "eom", "leaf", "epsilon", "nmi", "ari", "homogeneity",
                 "completeness", "noise", "reviewer"):  # fmt: skip
        assert GLOSSARY[term] in titled, f"{term} has no tooltip"
    raw = (
        "ResNet-18 weights were random (seed 42): ImageNet weights unavailable (URLError: <urlopen error "
        "[Errno -2] Name or service not known>). Clusters reflect generic image structure, not ImageNet features."
    )
    plain, detail = plain_warning(raw)
    assert plain == ("ResNet-18 weights were random (seed 42): ImageNet weights unavailable. Clusters reflect generic "
                     "image structure, not ImageNet features.")  # fmt: skip
    assert detail.startswith("URLError: <urlopen error")
    assert plain_warning("UMAP n_neighbors lowered from 30 to 9: only 10 points") == (
        "UMAP n_neighbors lowered from 30 to 9: only 10 points",
        "",
    )
