"""Nothing leaves the machine: in a real headless Chromium, using every part of the dashboard contacts no origin
but the server's own.

Gravity Spy data is often not yet public, so the page must never send a request, navigate, or open a window
anywhere else, whatever a curator clicks (Plotly's mode bar once offered "Share chart…", an upload to Plotly
Cloud). This test uses its own Chromium driver, because it needs Chrome's performance log (every DevTools
network and page event), which dash[testing]'s driver does not record.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from explorer.components import PRIVATE_CONFIG

from .browser import JS_CANVAS_PIXELS, move_to_point, visible_point, wait
from .conftest import ARTIFACTS, ROOT
from .helpers import window_argument

#: DevTools events that name a URL the page requested, navigated to or opened, and where the URL is.
_URL_EVENTS = {
    "Network.requestWillBeSent": ("request", "url"),
    "Network.webSocketCreated": ("url",),
    "Page.windowOpen": ("url",),
    "Page.frameRequestedNavigation": ("url",),
    "Page.frameNavigated": ("frame", "url"),
    "Page.navigatedWithinDocument": ("url",),
}
#: Schemes that never leave the browser.
_LOCAL_SCHEMES = {"data", "blob", "about", "javascript"}


class Recorder:
    """A headless Chromium that keeps every URL the page asked for (Chrome's performance log)."""

    def __init__(self, download_dir: str):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
        for argument in (
            "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", window_argument(),
            "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
            # a popup must be seen, not blocked, and the browser's own background traffic is not the page's
            "--disable-popup-blocking", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync",
        ):  # fmt: skip
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"download.default_directory": download_dir})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": True})
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "SEVERE"})
        self.driver = webdriver.Chrome(options=options)
        self.urls: list[tuple[str, str]] = []  #: (event, url), in order

    def collect(self) -> None:
        """Move what the performance log holds into ``urls`` (reading the log empties it)."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            path = _URL_EVENTS.get(message.get("method", ""))
            if path is None:
                continue
            value = message.get("params", {})
            for key in path:
                value = value.get(key, {}) if isinstance(value, dict) else {}
            if isinstance(value, str) and value:
                self.urls.append((message["method"], value))

    def foreign(self, origin: str) -> list[tuple[str, str]]:
        """The recorded (event, url) pairs that left the browser for another origin than ``origin``."""
        self.collect()
        out = []
        for event, url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in _LOCAL_SCHEMES:
                continue
            if f"{parts.scheme}://{parts.netloc}" != origin:
                out.append((event, url))
        return out

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def close(self) -> None:
        with contextlib.suppress(WebDriverException):
            self.driver.quit()


@pytest.fixture
def recorder(tmp_path):
    browser = Recorder(str(tmp_path))
    yield browser
    browser.close()


def _open_tab(browser: Recorder, name: str) -> None:
    links = [link for link in browser.find_all("#tabs .nav-link") if link.text == name]
    assert links, f"no tab named {name!r}"
    links[0].click()


def _click_every_mode_bar_button(browser: Recorder) -> list[str]:
    """Click each button of the map's mode bar, confirming any dialog one opens, as a curious user would.

    Element clicks, not pointer clicks at a position: WebDriver refuses one that another element (the hover
    tooltip) would receive, so a button this test means to press is pressed or the test fails.
    """
    ActionChains(browser.driver).move_to_element(browser.find("#run-facts")).perform()  # off the map: no tooltip
    titles = []
    for i in range(len(browser.find_all("#map .modebar-btn"))):
        button = browser.find_all("#map .modebar-btn")[i]
        titles.append(button.get_attribute("data-title") or "")
        ActionChains(browser.driver).move_to_element(button).perform()  # hovering the graph shows its mode bar
        button.click()
        time.sleep(0.5)
        for confirm in browser.find_all(".plotly-cloud-dialog-btn--confirm, .modebar-dialog button"):
            if confirm.is_displayed():
                confirm.click()
                time.sleep(0.5)
    return titles


def _windows(driver, original: str) -> list[str]:
    """The URL of every window besides ``original`` (the driver ends on ``original``)."""
    urls = []
    for handle in driver.window_handles:
        if handle != original:
            driver.switch_to.window(handle)
            urls.append(driver.current_url)
    driver.switch_to.window(original)
    return urls


@pytest.mark.browser
def test_using_every_part_of_the_dashboard_contacts_no_other_origin(recorder, server):
    driver = recorder.driver
    original = driver.current_window_handle
    driver.get(server)
    wait(lambda: recorder.find_all("#map .main-svg"), timeout=60, what="the page")
    wait(lambda: driver.execute_script(JS_CANVAS_PIXELS) > 0, timeout=60, what="the scatter to be drawn")
    wait(lambda: recorder.find_all("#cluster-grid .ag-row"), what="the cluster table")

    for tab in ("Clusters", "Glitch", "Selection", "Failure modes", "Label audit"):
        _open_tab(recorder, tab)
        time.sleep(0.5)
    _open_tab(recorder, "Clusters")
    recorder.find("#cluster-grid .ag-center-cols-container .ag-row[row-index='0'] .ag-cell").click()
    wait(lambda: recorder.find_all("#cluster-title"), what="the cluster panel")

    move_to_point(driver, visible_point(driver))  # hover: the tooltip and its four thumbnails
    wait(lambda: recorder.find_all("#map-tooltip .map-tip img"), what="the tooltip")
    move_to_point(driver, visible_point(driver, 3), click=True)  # click: the detail view, then a neighbour
    wait(lambda: recorder.find_all("#detail-content"), what="the detail view")
    recorder.find_all("#neighbour-grid .thumb-box")[0].click()

    recorder.find("#map .modebar-btn[data-val='select']").click()  # a box selection and its export
    layer = recorder.find("#map .nsewdrag")
    width, height = layer.size["width"], layer.size["height"]
    ActionChains(driver).move_to_element_with_offset(layer, 2, 2).click_and_hold().pause(0.2).move_by_offset(
        int(width * 0.9), int(height * 0.9)
    ).pause(0.2).release().perform()
    wait(lambda: "glitches selected" in recorder.find("#selection-panel").text, what="the selection")
    recorder.find("#export-selection").click()

    for label in recorder.find_all("#method label"):  # re-cluster: another selection method, then back
        label.click()
        time.sleep(1)
    recorder.find("#reset-params").click()
    _open_tab(recorder, "Label audit")
    recorder.find("#download-corrections").click()
    time.sleep(1)

    titles = _click_every_mode_bar_button(recorder)
    time.sleep(2)  # let anything a click started go out

    ARTIFACTS.mkdir(exist_ok=True)
    opened = _windows(driver, original)
    driver.save_screenshot(str(ARTIFACTS / "explorer-no-outside-origin.png"))
    origin = f"{urlsplit(server).scheme}://{urlsplit(server).netloc}"
    assert not opened, f"the page opened new window(s): {opened}"
    assert not recorder.foreign(origin), f"the page contacted other origins: {recorder.foreign(origin)}"
    assert recorder.urls, "the performance log recorded nothing: the test would see no leak either"
    offending = [t for t in titles if any(w in t.lower() for w in ("share", "cloud", "upload", "edit in", "studio"))]
    assert not offending, f"the mode bar offers sharing or upload: {offending}"
    assert titles, "the map has no mode bar: the buttons this test must click were not found"


def _graph_calls(path: Path) -> list[int]:
    """Lines of ``path`` that build a dcc.Graph directly (``dcc.Graph(...)``, or ``Graph(...)`` imported from dash)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in ("dash", "dash.dcc", "dash_core_components")
        for alias in node.names
        if alias.name == "Graph"
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "Graph") or (
            isinstance(func, ast.Name) and func.id in imported
        ):
            lines.append(node.lineno)
    return lines


def test_every_graph_is_made_by_the_one_private_factory():
    """A new figure cannot forget the private config: only explorer.components.graph builds a dcc.Graph."""
    sources = [ROOT / "app.py", *sorted((ROOT / "explorer").rglob("*.py"))]
    direct = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if path.name != "components.py" and (lines := _graph_calls(path))
    }
    assert not direct, f"dcc.Graph built outside explorer.components.graph (lines): {direct}"
    assert _graph_calls(ROOT / "explorer" / "components.py"), "the factory itself was not found by this check"


def test_the_served_page_asks_plotly_for_no_sharing(small_run, tmp_path):
    from explorer import create_app

    app = create_app(small_run, cache_dir=tmp_path / "cache", warm=False)
    graphs = []

    def walk(component):
        if getattr(component, "_type", None) == "Graph":
            graphs.append(component)
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if child is not None and hasattr(child, "_type"):
                walk(child)

    walk(app.layout)
    assert graphs, "no graph in the layout"
    for component in graphs:
        for key, value in PRIVATE_CONFIG.items():
            assert component.config[key] == value, (component.id, key)
        assert "sendChartToCloud" in component.config["modeBarButtonsToRemove"]
