"""The dashboard in a real headless Chromium (dash[testing]): what a user sees and does.

Screenshots land in test-artifacts/ for a person to open and judge.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select

from explorer.data import ExplorerData
from precompute.cluster import ClusterParams

from .browser import JS_CANVAS_PIXELS, JS_HOVERED_POINT, move_to_point, open_tab, visible_point, wait
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _shot(dash_duo, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    dash_duo.driver.save_screenshot(str(ARTIFACTS / f"explorer-{name}.png"))


@pytest.fixture(scope="module")
def data(small_run, tmp_path_factory) -> ExplorerData:
    """The same run as the server sees it, for the expected values."""
    return ExplorerData(small_run, cache_dir=tmp_path_factory.mktemp("expected-cache"))


@pytest.fixture
def served(dash_br, server, data):
    dash_br.server_url = server
    dash_br.wait_for_element("#map .main-svg", timeout=30)
    wait(lambda: dash_br.driver.execute_script(JS_CANVAS_PIXELS) > 0, what="the scatter to be drawn")
    dash_br.wait_for_element("#cluster-grid .ag-row", timeout=20)
    dash_br.wait_for_element("#map-legend .legend-item", timeout=20)  # the initial recolouring has landed
    time.sleep(0.5)  # and Plotly has redrawn with it
    return dash_br, data


def _clusters_shown(dash_duo) -> int:
    return len(dash_duo.find_elements("#cluster-grid .ag-center-cols-container .ag-row"))


def _flags_shown(dash_duo) -> dict[int, str]:
    """The cluster grid's flags column, by cluster id, for the rows the grid has drawn."""
    rows = dash_duo.find_elements("#cluster-grid .ag-center-cols-container .ag-row")
    return {
        int(r.find_element("css selector", "[col-id='cluster']").text): r.find_element(
            "css selector", "[col-id='flags']"
        ).text
        for r in rows
    }


def test_page_draws_the_scatter_and_shows_the_run(served):
    dash_duo, data = served
    drawn = dash_duo.driver.execute_script(JS_CANVAS_PIXELS)
    assert drawn > 50, "the WebGL scatter is blank"
    assert "random" in dash_duo.find_element("#run-warnings").text  # the random-weights warning is visible
    assert "ResNet-18" in dash_duo.find_element("#run-facts").text
    assert _clusters_shown(dash_duo) == data.manifest["n_clusters"]
    _shot(dash_duo, "page")
    assert dash_duo.get_logs() == []


def test_hover_shows_the_four_windows_and_they_load(served):
    dash_duo, data = served
    move_to_point(dash_duo.driver, visible_point(dash_duo.driver))
    dash_duo.wait_for_element("#map-tooltip .map-tip img", timeout=15)
    images = dash_duo.find_elements("#map-tooltip .map-tip img")
    assert len(images) == 4
    wait(
        lambda: all(
            dash_duo.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
            for i in images
        ),
        what="the tooltip images to load",
    )
    hovered = dash_duo.driver.execute_script(JS_HOVERED_POINT)  # that point or one drawn on top of it
    row = data.points.iloc[hovered]
    assert f"{row['label']} · {row['gravityspy_id']}" in dash_duo.find_element("#map-tooltip").text
    _shot(dash_duo, "hover")
    assert dash_duo.get_logs() == []


def test_click_opens_the_detail_view_and_a_neighbour_moves_to_it(served):
    dash_duo, data = served
    move_to_point(dash_duo.driver, visible_point(dash_duo.driver, 3), click=True)
    dash_duo.wait_for_element("#detail-content", timeout=15)
    clicked = dash_duo.driver.execute_script(JS_HOVERED_POINT)
    assert data.points["gravityspy_id"].iat[clicked] in dash_duo.find_element("#detail-panel").text
    assert len(dash_duo.find_elements("#detail-content .detail-img")) == 4
    _shot(dash_duo, "detail")
    neighbour = data.neighbours(clicked, k=8)[0][0]
    dash_duo.find_elements("#neighbour-grid .thumb-box")[0].click()
    dash_duo.wait_for_contains_text("#detail-panel", data.points["gravityspy_id"].iat[neighbour], timeout=15)
    assert dash_duo.get_logs() == []


def _shown_mcs(dash_duo) -> int | None:
    """The min_cluster_size the metrics line names (read in the page: the line is redrawn while we poll)."""
    text = dash_duo.driver.execute_script("return document.querySelector('#current-params')?.textContent || '';")
    found = re.search(r"mcs (\d+)", text)
    return int(found.group(1)) if found else None


def test_min_cluster_size_changes_the_clusters_and_the_table(served):
    dash_duo, data = served
    before = _clusters_shown(dash_duo)
    slider = dash_duo.find_element("#mcs-slider")
    handle = dash_duo.find_element("#mcs-slider [role=slider]")
    width = slider.size["width"]
    ActionChains(dash_duo.driver).drag_and_drop_by_offset(handle, int(width * 0.15), 0).perform()
    mcs = wait(lambda: (m := _shown_mcs(dash_duo)) != data.run_params.min_cluster_size and m, what="a new mcs")
    # the table and its badge are the new cut's, however many clusters this map has at that size
    cut = data.view(ClusterParams(**{**data.run_params.as_dict(), "min_cluster_size": mcs}))
    wait(lambda: _clusters_shown(dash_duo) == cut.n_clusters, what=f"the table of the cut at mcs {mcs}")
    assert dash_duo.find_element("#cluster-metrics .badge").text == f"{cut.n_clusters} clusters"
    # the flags follow the table in their own callback: the new cut's findings, not pending, not the old cut's
    expected = data.flags(cut)

    def flags_landed() -> bool:
        shown = _flags_shown(dash_duo)  # the rows the grid has drawn
        return shown == {c: expected.get(c, "") for c in shown} and (bool(shown) or cut.n_clusters == 0)

    wait(flags_landed, what="the new cut's flags in the table")
    _shot(dash_duo, "reclustered")
    dash_duo.find_element("#reset-params").click()
    wait(lambda: _clusters_shown(dash_duo) == before, what="reset to the run's parameters")
    assert _shown_mcs(dash_duo) == data.run_params.min_cluster_size
    assert dash_duo.get_logs() == []


def test_choosing_a_cluster_highlights_it_and_opens_its_panel(served):
    dash_duo, data = served
    dash_duo.find_element("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    dash_duo.wait_for_element("#cluster-title", timeout=15)
    cluster = int(
        dash_duo.find_element("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] [col-id='cluster']").text
    )
    size = int((data.points["cluster"] == cluster).sum())
    highlighted = wait(
        lambda: dash_duo.driver.execute_script(
            "const gd = document.querySelector('#map .js-plotly-plot'); return gd._fullData[1].x.length;"
        ),
        what="the cluster highlight",
    )
    assert highlighted == size
    # the patches travel as base64 typed arrays (`figures.typed_array`) and plotly.js draws them decoded
    sent, drawn = dash_duo.driver.execute_script(
        "const gd = document.querySelector('#map .js-plotly-plot');"
        "return [Object.keys(gd.data[1].x).sort(), Array.from(gd._fullData[0].marker.color).length];"
    )
    assert {"bdata", "dtype"} <= set(sent)  # plotly.js keeps the spec in data (adding its decoded _inputArray)
    assert drawn == len(data.points)
    assert f"Cluster {cluster}: {size} glitches" in dash_duo.find_element("#cluster-title").text
    assert dash_duo.find_elements("#segment-table tr")
    opacity = np.array(wait(lambda: dash_duo.driver.execute_script(JS_POINT_OPACITY), what="the other points greyed"))
    members = data.points["cluster"].to_numpy() == cluster
    assert opacity[members].min() > opacity[~members].max() > 0  # the rest greyed, still drawn
    _shot(dash_duo, "cluster")
    assert dash_duo.get_logs() == []


#: The main trace's per-point opacities, or null while they are one number for all. From ``_fullData``: what
#: plotly.js draws, the patches' base64 typed arrays decoded (``data`` keeps them as sent).
JS_POINT_OPACITY = """
const o = document.querySelector('#map .js-plotly-plot')._fullData[0].marker.opacity;
return o !== undefined && o.length !== undefined ? Array.from(o) : null;
"""


def test_correction_table_download_is_a_valid_csv(served):
    dash_duo, data = served
    corrections = data.corrections
    assert len(corrections) > 0, "the small run should have some proposals to test the download with"
    open_tab(dash_duo, "Label audit")
    dash_duo.wait_for_contains_text("#audit-count", f"{len(corrections)} glitches", timeout=15)
    dash_duo.wait_for_element("#audit-grid .ag-row", timeout=15)
    _shot(dash_duo, "audit")
    dash_duo.find_element("#download-corrections").click()
    content = wait(lambda: _downloaded(dash_duo), what="the downloaded file")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == len(corrections)
    assert {"gravityspy_id", "current_label", "proposed_label", "cluster", "suspicion", "min_cluster_size"} <= set(
        rows[0]
    )
    assert all(r["current_label"] != r["proposed_label"] for r in rows)
    assert dash_duo.get_logs() == []


def _downloaded(dash_duo, stem: str = "corrections") -> str | None:
    files = sorted(Path(dash_duo.download_path).glob(f"{stem}*.csv"))
    return files[0].read_text(encoding="utf-8") if files else None


def test_previews_are_served_only_for_this_runs_images(served):
    dash_duo, data = served
    key = data.images["key"].iat[0]
    with urllib.request.urlopen(f"{dash_duo.server_url}/previews/thumb/{key}.webp") as response:
        assert response.headers["Content-Type"] == "image/webp"
        assert response.read(4) == b"RIFF"
    for bad in (f"/previews/thumb/{'0' * 40}.webp", "/previews/../manifest.json", f"/previews/x/{key}.webp"):
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"{dash_duo.server_url}{bad}")
        assert info.value.code == 404


def test_box_selection_shows_the_glitches_and_exports_them(served):
    dash_duo, data = served
    dash_duo.find_element("#map .modebar-btn[data-val='select']").click()
    layer = dash_duo.find_element("#map .nsewdrag")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", layer)
    width, height = layer.size["width"], layer.size["height"]
    ActionChains(dash_duo.driver).move_to_element_with_offset(layer, 2, 2).click_and_hold().pause(0.2).move_by_offset(
        int(width * 0.6), int(height * 0.6)
    ).pause(0.2).move_by_offset(int(width * 0.38), int(height * 0.38)).release().perform()
    dash_duo.wait_for_contains_text("#selection-panel", "glitches selected", timeout=15)
    selected = int(dash_duo.find_element("#selection-panel .fw-bold").text.split()[0])
    assert 0 < selected <= data.n_points
    assert len(dash_duo.find_elements("#selection-panel .thumb-box")) == min(selected, 60)
    _shot(dash_duo, "selection")
    dash_duo.find_element("#export-selection").click()
    content = wait(lambda: _downloaded(dash_duo, "selection"), what="the exported selection")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert len(rows) == selected
    assert {"gravityspy_id", "label", "cluster", "min_cluster_size", "min_samples"} <= set(rows[0])
    assert dash_duo.get_logs() == []


def test_a_min_samples_change_rebuilds_the_tree_in_the_background(served):
    dash_duo, data = served
    box = dash_duo.find_element("#min-samples")
    box.clear()
    box.send_keys("5")
    dash_duo.find_element("#rebuild").click()
    dash_duo.wait_for_contains_text("#tree-status", "min_samples=5 ready", timeout=120)
    dash_duo.wait_for_contains_text("#current-params", "ms 5", timeout=15)
    data.tree(5, build=True)
    expected = data.view(data.params_from({"min_samples": 5})).n_clusters
    wait(lambda: _clusters_shown(dash_duo) == expected, what="the table of the new tree")
    assert dash_duo.get_logs() == []


def test_colouring_and_filtering_change_the_legend(served):
    dash_duo, data = served
    Select(dash_duo.find_element("#colour-by")).select_by_value("label")
    dash_duo.wait_for_contains_text("#map-legend", data.labels[0], timeout=15)
    assert len(dash_duo.find_elements("#map-legend .legend-item")) == len(data.labels)
    Select(dash_duo.find_element("#colour-by")).select_by_value("suspicion")
    dash_duo.wait_for_element("#map-legend .legend-ramp", timeout=15)  # a continuous value: a ramp in the legend
    assert "suspicion" in dash_duo.find_element("#map-legend").text
    assert not dash_duo.driver.execute_script(  # one legend convention: no colour bar inside the plot
        "return document.querySelector('#map .js-plotly-plot')._fullData[0].marker.showscale"
    )
    assert dash_duo.get_logs() == []


#: Header labels of a grid that are cut ("Pur…", by CSS, though the DOM holds them whole) or wrapped inside a word
#: ("Susp / icion"): a word wider than its cell, measured in the header's own font.
JS_CUT_HEADERS = """
const pen = document.createElement('canvas').getContext('2d');
return Array.from(document.querySelectorAll(arguments[0] + ' .ag-header-cell-text'))
  .filter(e => e.offsetParent !== null)
  .filter(e => {
    pen.font = getComputedStyle(e).font;
    const widest = Math.max(...e.textContent.split(/\\s+/).map(w => pen.measureText(w).width));
    return widest > e.clientWidth + 1 || e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
  })
  .map(e => e.textContent);
"""


@pytest.fixture
def laptop_window(served):
    """The served page in a laptop's 1400x900 window, whatever ``--browser-window`` the session runs at."""
    dash_duo, data = served
    size = dash_duo.driver.get_window_size()
    dash_duo.driver.set_window_size(1400, 900)
    yield dash_duo, data
    dash_duo.driver.set_window_size(size["width"], size["height"])


def test_table_headers_are_readable_whole_at_a_laptops_width(laptop_window):
    dash_duo, _ = laptop_window
    headers = [e.text for e in dash_duo.find_elements("#cluster-grid .ag-header-cell-text")]
    assert {"purity", "ambiguity", "entropy", "flags"} <= {h.replace("\n", " ").lower() for h in headers}
    assert dash_duo.driver.execute_script(JS_CUT_HEADERS, "#cluster-grid") == []
    open_tab(dash_duo, "Label audit")
    dash_duo.wait_for_element("#audit-grid .ag-row", timeout=15)
    assert dash_duo.driver.execute_script(JS_CUT_HEADERS, "#audit-grid") == []
    _shot(dash_duo, "headers")


def aspect_locked_view(box: tuple[tuple[float, float], tuple[float, float]], pixels: tuple[float, float]):
    """The ranges a 1:1 aspect lock makes of ``box`` in a plot area of ``pixels`` (width, height): the axis with
    more units per pixel keeps its range, the other widens about its centre just enough for equal scales."""
    (x0, x1), (y0, y1) = box
    width, height = pixels
    per_pixel = max((x1 - x0) / width, (y1 - y0) / height)
    half_x, half_y = per_pixel * width / 2, per_pixel * height / 2
    return [(x0 + x1) / 2 - half_x, (x0 + x1) / 2 + half_x], [(y0 + y1) / 2 - half_y, (y0 + y1) / 2 + half_y]


def _shown_view(dash_duo) -> dict:
    return dash_duo.driver.execute_script(
        "const l = document.querySelector('#map .js-plotly-plot')._fullLayout;"
        "return {x: l.xaxis.range, y: l.yaxis.range, auto: [l.xaxis.autorange, l.yaxis.autorange],"
        "        pixels: [l.xaxis._length, l.yaxis._length]};"
    )


def test_the_first_view_is_framed_by_the_maps_bulk(served):
    """The framed box, widened on whichever axis the plot's shape and the 1:1 lock need, and no more; at a window
    of another shape too. Which axis widens depends on the map's spread and the window, so neither is assumed."""
    from explorer.figures import framed_range

    dash_duo, data = served
    box = framed_range(data.points["x"].to_numpy()), framed_range(data.points["y"].to_numpy())
    size = dash_duo.driver.get_window_size()
    try:
        for width, height in ((size["width"], size["height"]), (900, 1100)):  # as started, then a tall window
            dash_duo.driver.set_window_size(width, height)
            dash_duo.driver.refresh()  # a first view, drawn at this window's shape
            dash_duo.wait_for_element("#map-legend .legend-item", timeout=30)
            shown = wait(lambda: (v := _shown_view(dash_duo))["pixels"][0] and v, what="the map's layout")
            assert shown["auto"] == [False, False]
            expected_x, expected_y = aspect_locked_view(box, shown["pixels"])
            where = f"window {width}x{height}, plot {shown['pixels']} px, framed box {box}"
            assert shown["x"] == pytest.approx(expected_x, rel=1e-3, abs=1e-3 * (box[0][1] - box[0][0])), where
            assert shown["y"] == pytest.approx(expected_y, rel=1e-3, abs=1e-3 * (box[1][1] - box[1][0])), where
    finally:
        dash_duo.driver.set_window_size(size["width"], size["height"])


def test_a_curator_decides_from_the_glitch_tab_undoes_and_exports(served):
    from explorer.review import ReviewStore

    from .conftest import server_review_db

    dash_duo, data = served
    store = ReviewStore(server_review_db[dash_duo.server_url])
    dash_duo.find_element("#reviewer").send_keys("Ada O'Lovelace")
    open_tab(dash_duo, "Label audit")
    dash_duo.wait_for_element("#audit-grid .ag-row", timeout=15)
    dash_duo.find_element("#audit-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    gid = dash_duo.driver.execute_script(
        "return document.querySelector(\"#audit-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell\")"
        ".textContent.trim();"
    )
    assert gid in data.point_of_id, f"the first row's id {gid!r} is not a glitch of the run"
    dash_duo.wait_for_contains_text("#detail-panel", gid, timeout=15)
    dash_duo.wait_for_contains_text("#decision-status", "No decision on this glitch yet", timeout=15)

    proposed = data.points.loc[data.points["gravityspy_id"] == gid, "proposed_label"].iat[0]
    dash_duo.find_element("#decide-accept").click()
    dash_duo.wait_for_contains_text("#decision-status", f"accepted → {proposed} by Ada O'Lovelace", timeout=15)
    stored = store.current().set_index("gravityspy_id").loc[gid]
    assert stored["action"] == "accept"
    assert stored["new_label"] == proposed
    assert json.loads(stored["cluster_params"])["min_cluster_size"] == data.run_params.min_cluster_size
    assert json.loads(stored["evidence"])["proposed_label"] == proposed
    _shot(dash_duo, "decided")

    Select(dash_duo.find_element("#relabel-to")).select_by_value("Tomte")
    dash_duo.find_element("#decide-relabel").click()
    dash_duo.wait_for_contains_text("#decision-status", "relabelled → Tomte", timeout=15)
    dash_duo.find_element("#undo-decision").click()
    dash_duo.wait_for_contains_text("#decision-status", f"accepted → {proposed}", timeout=15)
    assert store.history(gid)["action"].tolist() == ["accept", "relabel"]  # the undone one is kept

    open_tab(dash_duo, "Label audit")
    dash_duo.wait_for_contains_text("#audit-count", f"reviewed 1 of {len(data.corrections)}", timeout=15)
    dash_duo.find_element("#export-decisions-csv").click()
    content = wait(lambda: _downloaded(dash_duo, "decisions"), what="the decisions file")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert [(r["gravityspy_id"], r["action"], r["new_label"]) for r in rows] == [(gid, "accept", proposed)]
    assert dash_duo.get_logs() == []


def test_the_keyboard_queue_walks_the_proposals_and_decides(served):
    from explorer.panels.review import choices, queue
    from explorer.review import ReviewStore

    from .conftest import server_review_db

    dash_duo, data = served
    store = ReviewStore(server_review_db[dash_duo.server_url])
    order = queue(data, data.view(data.run_params))
    gid = [str(data.points["gravityspy_id"].iat[p]) for p in order]
    name = dash_duo.find_element("#reviewer")
    name.clear()
    name.send_keys("Grace")
    keys = ActionChains(dash_duo.driver)

    def press(key: str) -> None:
        dash_duo.find_element(".navbar-brand").click()  # out of any field: keys typed into one are text
        keys.send_keys(key).perform()

    press("j")
    dash_duo.wait_for_contains_text("#detail-panel", gid[0], timeout=15)
    dash_duo.wait_for_contains_text("#queue-status", f"queue: glitch 1 of {len(order)}", timeout=15)
    press("j")
    dash_duo.wait_for_contains_text("#detail-panel", gid[1], timeout=15)
    press("k")
    dash_duo.wait_for_contains_text("#detail-panel", gid[0], timeout=15)

    before = store.count()
    press("a")  # accept the first, and move on to the second
    dash_duo.wait_for_contains_text("#detail-panel", gid[1], timeout=15)
    first = store.history(gid[0]).iloc[-1]
    assert (first["action"], first["reviewer"]) == ("accept", "Grace")
    assert first["new_label"] == data.points["proposed_label"].iat[order[0]]

    wanted = choices(data, order[1])[0][0]
    press("1")  # the second glitch's most common other neighbour label
    dash_duo.wait_for_contains_text("#detail-panel", gid[2], timeout=15)
    assert store.history(gid[1]).iloc[-1]["new_label"] == wanted
    press("u")  # undoes the relabel, keeps the accept
    wait(lambda: pd.notna(store.history(gid[1])["undone_at"].iat[-1]), what="the undo")
    assert store.count() == before + 2
    assert pd.isna(store.history(gid[0])["undone_at"].iat[-1])  # the accept stays in force
    _shot(dash_duo, "queue")
    assert dash_duo.get_logs() == []


def test_a_cluster_is_decided_in_one_batch_and_undone_in_one(served):
    from explorer.review import ReviewStore

    from .conftest import server_review_db

    dash_duo, data = served
    store = ReviewStore(server_review_db[dash_duo.server_url])
    name = dash_duo.find_element("#reviewer")
    name.clear()
    name.send_keys("Vera")
    open_tab(dash_duo, "Clusters")
    dash_duo.find_element("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    dash_duo.wait_for_element("#cluster-title", timeout=15)
    cluster = int(dash_duo.find_element("#cluster-title").text.split(":")[0].split()[-1])
    members = np.flatnonzero(data.view(data.run_params).labels == cluster)
    dash_duo.find_element(".bulk-bar .btn-outline-warning").click()  # flag all as a candidate new class
    dash_duo.wait_for_contains_text("#review-notice", f"{len(members)} glitches of cluster {cluster}", timeout=15)
    dash_duo.find_element("#bulk-skip-decided").click()  # none decided yet: "Decide all"
    dash_duo.wait_for_contains_text("#review-notice", f"Flagged as a new class: {len(members)} glitches", timeout=15)
    flagged = store.current()
    flagged = flagged[(flagged["reviewer"] == "Vera") & (flagged["action"] == "new_class")]
    assert sorted(flagged["gravityspy_id"]) == sorted(data.points["gravityspy_id"].iloc[members])
    _shot(dash_duo, "bulk")
    open_tab(dash_duo, "Glitch")
    dash_duo.find_element("#undo-decision").click()
    wait(lambda: not (store.current()["reviewer"] == "Vera").any(), what="the batch to be undone")
    assert dash_duo.get_logs() == []


def _view_in_address(dash_duo) -> dict[str, str]:
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(dash_duo.driver.current_url).query))


def test_a_shared_link_opens_the_view_it_names(served):
    dash_duo, data = served
    gid = str(data.points["gravityspy_id"].iat[5])
    dash_duo.driver.get(f"{dash_duo.server_url}/?glitch={gid}&cluster=0&mcs=4&method=leaf&colour=label")
    dash_duo.wait_for_contains_text("#detail-panel", gid, timeout=30)
    dash_duo.wait_for_contains_text("#current-params", "mcs 4", timeout=15)
    assert "leaf" in dash_duo.find_element("#current-params").text
    assert Select(dash_duo.find_element("#colour-by")).first_selected_option.get_attribute("value") == "label"
    assert dash_duo.find_element("#method input[value='leaf']").is_selected()  # the controls follow the link
    ringed = wait(
        lambda: dash_duo.driver.execute_script("return document.querySelector('#map .js-plotly-plot').data[2].x;"),
        what="the linked glitch ringed on the map",
    )
    assert ringed == [pytest.approx(float(data.points["x"].iat[5]), rel=1e-5)]
    assert _view_in_address(dash_duo) == {
        "glitch": gid,
        "cluster": "0",
        "mcs": "4",
        "method": "leaf",
        "colour": "label",
    }
    assert not dash_duo.find_elements("#link-alert")  # nothing of the link was dropped
    _shot(dash_duo, "shared-link")

    dash_duo.driver.get(f"{dash_duo.server_url}/?glitch=NO_SUCH_ID&mcs=4")
    dash_duo.wait_for_contains_text("#link-alert", "glitch 'NO_SUCH_ID' is not in this run", timeout=30)
    dash_duo.wait_for_contains_text("#current-params", "mcs 4", timeout=15)  # the rest of the link still applies
    assert dash_duo.get_logs() == []


def test_back_and_forward_step_through_views(served):
    dash_duo, data = served
    driver = dash_duo.driver
    move_to_point(driver, visible_point(driver, 3), click=True)
    dash_duo.wait_for_element("#detail-content", timeout=15)
    clicked = str(data.points["gravityspy_id"].iat[driver.execute_script(JS_HOVERED_POINT)])
    wait(lambda: _view_in_address(dash_duo) == {"glitch": clicked}, what="the glitch in the address bar")
    Select(dash_duo.find_element("#colour-by")).select_by_value("suspicion")
    wait(lambda: _view_in_address(dash_duo) == {"glitch": clicked, "colour": "suspicion"}, what="the colour mode too")
    colour = lambda: Select(dash_duo.find_element("#colour-by")).first_selected_option.get_attribute("value")  # noqa: E731
    ring = "return document.querySelector('#map .js-plotly-plot').data[2].x.length;"

    driver.back()
    wait(lambda: colour() == "cluster", what="Back to restore the colour mode")
    assert _view_in_address(dash_duo) == {"glitch": clicked}
    assert driver.execute_script(ring) == 1
    driver.back()
    wait(lambda: driver.execute_script(ring) == 0, what="Back to the bare page, no glitch ringed")
    assert _view_in_address(dash_duo) == {}
    driver.forward()
    wait(lambda: driver.execute_script(ring) == 1, what="Forward to the glitch again")
    dash_duo.wait_for_contains_text("#detail-panel", clicked, timeout=15)
    assert colour() == "cluster"
    assert dash_duo.get_logs() == []
