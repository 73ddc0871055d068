"""A curator's work is never stored on the wrong glitch, never overwritten unasked, and every undo says what it did.

In a real headless Chromium against ``python app.py``, each test replays what a curator did when the fault was
found (a note carried to the next glitch, a bulk action replacing a careful relabel, a silent undo) and checks
the review database itself, not only the page.
"""

from __future__ import annotations

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import Select

from explorer.data import ExplorerData
from explorer.panels.review import queue
from explorer.review import ReviewStore

from .browser import open_page, open_tab, settle, wait
from .conftest import server_review_db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def data(small_run, tmp_path_factory) -> ExplorerData:
    return ExplorerData(small_run, cache_dir=tmp_path_factory.mktemp("review-flow-cache"))


@pytest.fixture
def page(dash_br, server, data):
    """The served page, drawn and settled; and the server's review store."""
    open_page(dash_br, server)
    return dash_br, data, ReviewStore(server_review_db[server])


def _name(dash_duo, reviewer: str) -> None:
    box = dash_duo.find_element("#reviewer")
    box.clear()
    box.send_keys(reviewer)


def _press(dash_duo, key: str) -> None:
    dash_duo.find_element(".navbar-brand").click()  # out of any field: keys typed into one are text
    ActionChains(dash_duo.driver).send_keys(key).perform()


def _current(store: ReviewStore, reviewer: str):
    current = store.current()
    return current[current["reviewer"] == reviewer].set_index("gravityspy_id")


def test_a_note_and_label_typed_for_one_glitch_never_reach_the_next(page):
    dash_duo, data, store = page
    _name(dash_duo, "Nora")
    order = queue(data, data.view(data.run_params))
    first, second = (str(data.points["gravityspy_id"].iat[p]) for p in order[:2])
    _press(dash_duo, "j")
    dash_duo.wait_for_contains_text("#detail-panel", first, timeout=15)
    dash_duo.find_element("#decision-note").send_keys("tail looks helical at 4 s")
    Select(dash_duo.find_element("#relabel-to")).select_by_value("Helix")
    _press(dash_duo, "j")  # on to the next glitch without deciding
    dash_duo.wait_for_contains_text("#detail-panel", second, timeout=15)
    wait(lambda: dash_duo.find_element("#decision-note").get_attribute("value") == "", what="the note box cleared")
    assert Select(dash_duo.find_element("#relabel-to")).first_selected_option.text in ("", "label…")
    settle(dash_duo.driver)
    dash_duo.find_element("#decide-accept").click()
    wait(lambda: second in _current(store, "Nora").index, what="the accept stored")
    stored = _current(store, "Nora")
    assert stored.at[second, "note"] == ""  # the note typed for the first glitch is not on the second
    assert first not in stored.index
    assert dash_duo.get_logs() == []


def test_deciding_needs_a_glitch_on_screen(page):
    dash_duo, _data, _store = page
    open_tab(dash_duo, "Glitch")
    for button in ("#decide-accept", "#decide-reject", "#decide-relabel", "#decide-new-class"):
        assert not dash_duo.find_element(button).is_enabled(), f"{button} is active with no glitch chosen"


def test_a_bulk_action_asks_before_replacing_a_decision_and_its_undo_says_what_it_undid(page):
    dash_duo, data, store = page
    _name(dash_duo, "Vera")
    open_tab(dash_duo, "Clusters")
    dash_duo.find_element("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    dash_duo.wait_for_element("#cluster-title", timeout=15)
    cluster = int(dash_duo.find_element("#cluster-title").text.split(":")[0].split()[-1])
    members = np.flatnonzero(data.view(data.run_params).labels == cluster)
    dash_duo.find_element("#cluster-panel .thumb-box").click()  # one member up close: a careful relabel
    dash_duo.wait_for_element("#detail-content", timeout=15)
    careful = next(
        g for g in data.points["gravityspy_id"].iloc[members] if g in dash_duo.find_element("#detail-panel").text
    )
    dash_duo.find_element("#decision-note").send_keys("tail looks helical at 4 s")
    Select(dash_duo.find_element("#relabel-to")).select_by_value("Helix")
    dash_duo.find_element("#decide-relabel").click()
    wait(lambda: careful in _current(store, "Vera").index, what="the relabel stored")
    before = store.count()

    open_tab(dash_duo, "Clusters")
    dash_duo.find_element(".bulk-bar .btn-outline-warning").click()  # flag all as a candidate new class
    dash_duo.wait_for_contains_text("#review-notice", f"{len(members)} glitches", timeout=15)
    assert "1 already" in dash_duo.find_element("#review-notice").text  # it says who decided what, and asks
    assert store.count() == before  # nothing stored before the answer
    dash_duo.find_element("#bulk-skip-decided").click()  # the default: leave decided glitches as they are
    wait(lambda: store.count() == before + len(members) - 1, what="the batch without the decided glitch")
    kept = _current(store, "Vera").loc[careful]
    assert (kept["action"], kept["new_label"], kept["note"]) == ("relabel", "Helix", "tail looks helical at 4 s")

    open_tab(dash_duo, "Glitch")
    dash_duo.find_element("#undo-decision").click()
    dash_duo.wait_for_contains_text("#review-notice", f"Undone: {len(members) - 1}", timeout=15)
    assert "Flagged" not in dash_duo.find_element("#review-notice").text  # the batch's banner is gone
    assert _current(store, "Vera").loc[careful, "action"] == "relabel"
    assert dash_duo.get_logs() == []


def test_the_undo_key_shows_the_glitch_it_undid_and_says_so(page):
    dash_duo, data, store = page
    _name(dash_duo, "Grace")
    order = queue(data, data.view(data.run_params))
    gid = [str(data.points["gravityspy_id"].iat[p]) for p in order[:2]]
    _press(dash_duo, "j")
    dash_duo.wait_for_contains_text("#detail-panel", gid[0], timeout=15)
    _press(dash_duo, "a")  # accept, and on to the next
    dash_duo.wait_for_contains_text("#detail-panel", gid[1], timeout=15)
    _press(dash_duo, "u")
    dash_duo.wait_for_contains_text("#detail-panel", gid[0], timeout=15)  # back on the glitch it undid
    dash_duo.wait_for_contains_text("#review-notice", f"Undone: your accept of {gid[0]}", timeout=15)
    assert gid[0] not in _current(store, "Grace").index
    assert dash_duo.get_logs() == []
