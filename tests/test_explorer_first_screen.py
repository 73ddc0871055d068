"""What a newcomer meets, in a real headless Chromium: a page that fits the window with one scrollbar per region,
tables that fit their column, controls that do what they say, evidence of the cut on screen, a map that can be
saved as a picture. Each test replays a fault found by trying the demo as a new user (docs/explorer.md).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from explorer.data import ExplorerData
from precompute.cluster import ClusterParams

from .browser import move_to_point, open_page, open_tab, settle, visible_point, wait
from .conftest import ARTIFACTS

pytestmark = pytest.mark.browser

#: Every element that scrolls (its content taller or wider than it, and overflow that lets it): its id or class.
JS_SCROLLERS = """
const out = [];
for (const e of document.querySelectorAll('body *')) {
  if (e.offsetParent === null) continue;
  const style = getComputedStyle(e);
  const y = /(auto|scroll)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 1;
  const x = /(auto|scroll)/.test(style.overflowX) && e.scrollWidth > e.clientWidth + 1;
  if (y || x) out.push((e.id ? '#' + e.id : '.' + String(e.className).split(' ').join('.')) + (x ? ' (sideways)' : ''));
}
const page = document.scrollingElement;
if (page.scrollHeight > page.clientHeight + 1) out.push('the page');
return out;
"""
#: Regions allowed to scroll, each its own: the open tab's content, the map's legend.
_OWN_SCROLL = ("tab-content", "legend")

#: Cells of a grid whose text is cut (an ellipsis instead of the whole value): [column, text].
JS_CUT_CELLS = """
return Array.from(document.querySelectorAll(arguments[0] + ' .ag-center-cols-container .ag-cell'))
  .filter(c => c.offsetParent !== null)
  .filter(c => { const v = c.querySelector('.ag-cell-value') || c; return v.scrollWidth > v.clientWidth + 1; })
  .map(c => [c.getAttribute('col-id'), c.textContent]);
"""

#: Whether the widest option of a <select> fits the select (its arrow and padding allowed for).
JS_SELECT_FITS = """
const s = document.querySelector(arguments[0]);
const pen = document.createElement('canvas').getContext('2d');
pen.font = getComputedStyle(s).font;
const widest = Math.max(...Array.from(s.options).map(o => pen.measureText(o.text).width));
return [widest, s.clientWidth - 40];
"""


@pytest.fixture(scope="module")
def data(small_run, tmp_path_factory) -> ExplorerData:
    return ExplorerData(small_run, cache_dir=tmp_path_factory.mktemp("first-screen-cache"))


@pytest.fixture
def page(dash_br, server, data):
    open_page(dash_br, server)
    size = dash_br.driver.get_window_size()
    yield dash_br, data
    dash_br.driver.set_window_size(size["width"], size["height"])


def _prepare_every_tab(dash_duo) -> None:
    """A cluster chosen, the most suspicious glitch opened: every tab has its content, as a user would have it."""
    dash_duo.find_element("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    dash_duo.wait_for_element("#cluster-title", timeout=15)
    open_tab(dash_duo, "Label audit")
    dash_duo.wait_for_element("#audit-grid .ag-row", timeout=15)
    dash_duo.find_element("#audit-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    dash_duo.wait_for_element("#detail-content", timeout=15)
    settle(dash_duo.driver)


@pytest.mark.parametrize("size", [(1400, 900), (1920, 1080)])
def test_every_tab_fits_with_one_scrollbar_per_region_and_nothing_cut(page, size):
    """Tab contents sat in a 427-px scroll box inside a scrolling page (three nested scrollbars); the tables
    scrolled sideways at 1400 and 1920 px and cut ids and labels; the colour menu cut its modes."""
    dash_duo, _ = page
    dash_duo.driver.set_window_size(*size)
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#cluster-grid .ag-row", timeout=30)
    settle(dash_duo.driver)
    _prepare_every_tab(dash_duo)
    for tab in ("Clusters", "Glitch", "Selection", "Failure modes", "Label audit"):
        open_tab(dash_duo, tab)
        settle(dash_duo.driver)
        time.sleep(0.5)
        scrollers = dash_duo.driver.execute_script(JS_SCROLLERS)
        strays = [s for s in scrollers if not any(own in s for own in _OWN_SCROLL) or "sideways" in s]
        assert not strays, f"{tab} at {size}: more scrollbars than regions: {scrollers}"
        ARTIFACTS.mkdir(exist_ok=True)
        dash_duo.driver.save_screenshot(str(ARTIFACTS / f"explorer-tab-{tab.replace(' ', '-').lower()}-{size[0]}.png"))
    for grid in ("#cluster-grid", "#audit-grid"):
        cut = [(col, text) for col, text in dash_duo.driver.execute_script(JS_CUT_CELLS, grid) if col != "evidence"]
        ids_cut = [text for col, text in cut if col in ("gravityspy_id", "cluster", "decision")]
        assert not ids_cut, f"{grid} at {size} cuts ids or decisions: {ids_cut}"
    headers = {e.get_attribute("col-id") for e in dash_duo.find_elements("#audit-grid .ag-header-cell")}
    assert {"gravityspy_id", "current_label", "proposed_label", "suspicion", "decision"} <= headers
    widest, room = dash_duo.driver.execute_script(JS_SELECT_FITS, "#colour-by")
    assert widest <= room, f"the colour menu cuts its longest mode ({widest:.0f} px in {room} px)"
    assert dash_duo.get_logs() == []


def test_each_tab_opens_at_its_top(page):
    """Scroll position carried over between tabs: a tab opened after scrolling another opened half-way down."""
    dash_duo, _ = page
    _prepare_every_tab(dash_duo)
    open_tab(dash_duo, "Glitch")
    content = ".side-tabs .tab-content"
    dash_duo.driver.execute_script(f"document.querySelector('{content}').scrollTop = 400;")
    assert dash_duo.driver.execute_script(f"return document.querySelector('{content}').scrollTop;") > 0
    open_tab(dash_duo, "Clusters")
    wait(lambda: dash_duo.driver.execute_script(f"return document.querySelector('{content}').scrollTop;") == 0,
         what="the new tab at its top")  # fmt: skip


def test_enter_applies_a_typed_min_cluster_size_and_the_slider_moves_in_small_steps(page):
    """The box ignored Enter (only leaving it applied a value); an 8-px drag jumped from 10 to 18."""
    dash_duo, data = page
    box = dash_duo.find_element("#mcs-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("8", Keys.ENTER)  # the focus stays in the box: no blur applies it
    dash_duo.wait_for_contains_text("#current-params", "mcs 8", timeout=15)
    assert dash_duo.driver.switch_to.active_element.get_attribute("id") == "mcs-input"
    handle = dash_duo.find_element("#mcs-slider [role=slider]")
    ActionChains(dash_duo.driver).drag_and_drop_by_offset(handle, 8, 0).perform()
    moved = wait(lambda: (v := int(box.get_attribute("value") or 0)) != 8 and v, what="the slider's new size")
    assert 8 < moved <= 10, f"an 8-px drag from 8 jumped to {moved}"
    dash_duo.wait_for_contains_text("#current-params", f"mcs {moved}", timeout=15)
    box = dash_duo.find_element("#min-samples")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(data.run_params.min_samples + 1), Keys.ENTER)  # Enter rebuilds the tree too
    dash_duo.wait_for_contains_text("#tree-status", f"min_samples={data.run_params.min_samples + 1} ready", timeout=120)


def test_the_evidence_and_neighbours_shown_are_those_of_the_cut_on_screen(page):
    """At another min_cluster_size the panel said "cluster 4" while the evidence said "cluster 22 is 100 %
    Paired_Doves", a cluster that no longer existed, and counted 10 neighbours where the panel showed 8."""
    dash_duo, data = page
    run = data.view(data.run_params)
    size = next(s for s in (6, 12, 24, 4) if not np.array_equal(data.view(ClusterParams(s, 2)).labels, run.labels))
    cut = data.view(ClusterParams(**{**data.run_params.as_dict(), "min_cluster_size": size}))
    box = dash_duo.find_element("#mcs-input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(str(size), Keys.ENTER)
    dash_duo.wait_for_contains_text("#current-params", f"mcs {size}", timeout=15)
    settle(dash_duo.driver)
    move_to_point(dash_duo.driver, visible_point(dash_duo.driver), click=True)
    dash_duo.wait_for_element("#detail-content", timeout=15)
    shown = dash_duo.find_element("#detail-panel").text
    point = data.point_of_id[next(g for g in data.points["gravityspy_id"] if g in shown)]
    cluster = int(cut.labels[point])
    facts = re.search(r"cluster\s+(\S+)", dash_duo.find_element("#detail-content table").text).group(1)
    assert facts == (str(cluster) if cluster >= 0 else "noise")
    named = re.findall(r"cluster (-?\d+) is", shown)
    assert named == ([str(cluster)] if cluster >= 0 else []), "the evidence names another cut's cluster"
    k = data.finding_params.k
    assert f"/{k} nearest neighbours" in shown
    assert len(dash_duo.find_elements("#neighbour-grid .thumb-box")) == k


def test_the_map_is_saved_as_a_png_in_the_browser(page):
    """No way to save the map as a picture: the mode bar's camera now draws a PNG in the browser, offline."""
    dash_duo, _ = page
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element("#map")).perform()
    dash_duo.find_element("#map .modebar-btn[data-title='Download plot as a PNG']").click()
    saved = wait(lambda: sorted(Path(dash_duo.download_path).glob("gravityspy-map*.png")), what="the PNG")
    png = saved[0].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    picture = np.asarray(Image.open(BytesIO(png)).convert("RGB"))
    assert picture.shape[1] >= 1000  # at twice the screen's pixels
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 5  # the points are in it, not a blank frame


def test_previews_carry_gravity_spys_axes(page):
    """Thumbnails had no time or frequency axes: the tooltip's and the detail view's now do, as Gravity Spy draws."""
    dash_duo, _ = page
    move_to_point(dash_duo.driver, visible_point(dash_duo.driver))
    dash_duo.wait_for_element("#map-tooltip .spectrogram .y-axis .tick", timeout=15)
    ticks = [e.text for e in dash_duo.find_elements("#map-tooltip .tip-window:first-child .y-axis .tick")]
    assert ticks[0] == "16"
    assert ticks[-1] == "1024"
    assert [e.text for e in dash_duo.find_elements("#map-tooltip .tip-window:first-child .x-axis .tick")][:3] == [
        "-0.25", "0", "0.25 s"
    ]  # fmt: skip  # the 0.5 s window, centred on the glitch
