"""Helpers for the tests that drive a real headless Chromium: waiting, and pointing at map points as a user does."""

from __future__ import annotations

import time
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

__all__ = [
    "JS_CALLBACKS_IDLE", "JS_CANVAS_PIXELS", "JS_HOVERED_POINT", "JS_POINT_SPOT", "healthy", "leave_map",
    "move_to_point", "open_page", "open_tab", "poll", "settle", "visible_point", "wait",
]  # fmt: skip

#: The most non-transparent pixels drawn on any of the map's WebGL canvases (0 while the scatter is blank).
JS_CANVAS_PIXELS = """
const canvases = [...document.querySelectorAll('#map canvas')];
let best = 0;
for (const c of canvases) {
  const gl = c.getContext('webgl', {preserveDrawingBuffer: true}) || c.getContext('experimental-webgl');
  if (!gl || !c.width || !c.height) continue;
  const px = new Uint8Array(c.width * c.height * 4);
  gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
  let n = 0;
  for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
  best = Math.max(best, n);
}
return best;
"""

#: The main trace's point Plotly reports as hovered, or null.
JS_HOVERED_POINT = """
const hovered = document.querySelector('#map .js-plotly-plot')._hoverdata || [];
return hovered.length && hovered[0].curveNumber === 0 ? hovered[0].pointNumber : null;
"""


#: Whether Dash has no callback pending or running (its renderer's store; dash.testing reads the same).
JS_CALLBACKS_IDLE = """
if (!window.store) { return false; }
const callbacks = Object.assign({}, window.store.getState().callbacks);
delete callbacks.stored;
delete callbacks.completed;
return Object.values(callbacks).every(list => !list.length);
"""


def settle(driver, timeout: float = 60.0) -> None:
    """Wait until the page's callbacks have all answered: what a user's next action should not race with."""
    wait(lambda: driver.execute_script(JS_CALLBACKS_IDLE), timeout, what="the page's callbacks to finish")


def poll(predicate, timeout: float):
    """The predicate's first truthy value within ``timeout`` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return None


def wait(predicate, timeout: float = 20.0, what: str = "condition"):
    """The predicate's first truthy value; an AssertionError naming ``what`` after ``timeout`` seconds."""
    value = poll(predicate, timeout)
    if not value:
        raise AssertionError(f"timed out waiting for {what}")
    return value


def open_page(dash_duo, url: str) -> None:
    """Open the dashboard at ``url`` in dash[testing]'s browser and wait until a user could use it: the scatter
    drawn, the cluster table filled, every first callback answered."""
    dash_duo.server_url = url
    wait(lambda: dash_duo.driver.execute_script(JS_CANVAS_PIXELS) > 0, what="the scatter to be drawn")
    dash_duo.wait_for_element("#cluster-grid .ag-row", timeout=20)
    settle(dash_duo.driver)


def open_tab(dash_duo, name: str) -> None:
    """Click the tab labelled ``name`` beside the map."""
    links = [link for link in dash_duo.find_elements("#tabs .nav-link") if link.text == name]
    if not links:
        raise AssertionError(f"no tab named {name!r}")
    links[0].click()


def healthy(url: str) -> bool:
    """Whether the explorer at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


#: Where point ``arguments[0]`` of the main trace is drawn: its offset from the plot area's top-left corner, whether
#: that lies in the plot area (a margin of ``arguments[1]`` px inside) and in the window, and what element is on top
#: there (the drag layer, when nothing covers the point).
JS_POINT_SPOT = """
const gd = document.querySelector('#map .js-plotly-plot');
const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, tr = gd._fullData[0];
const area = gd.querySelector('.nsewdrag').getBoundingClientRect();
const spot = i => {
  const dx = xa.l2p(tr.x[i]), dy = ya.l2p(tr.y[i]), m = arguments[1];
  const cx = area.left + dx, cy = area.top + dy;
  const top = document.elementFromPoint(cx, cy);
  return {
    dx, dy,
    inView: dx >= m && dx <= xa._length - m && dy >= m && dy <= ya._length - m,
    inWindow: cx >= 0 && cy >= 0 && cx < window.innerWidth && cy < window.innerHeight,
    onTop: top === null ? 'nothing' : top.classList.contains('nsewdrag') ? 'map' : top.outerHTML.slice(0, 120),
  };
};
if (arguments[2]) {  // the first point from arguments[0] on that a user can point at
  for (let i = arguments[0]; i < tr.x.length; i++) {
    const s = spot(i);
    if (s.inView && s.inWindow && s.onTop === 'map') return {point: i, ...s};
  }
  return null;
}
return {point: arguments[0], ...spot(arguments[0])};
"""


def leave_map(driver) -> None:
    """Move the mouse off the map, so that its hover and tooltip close (a tooltip left open can cover the next point)."""
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, ".navbar-brand")).perform()
    poll(lambda: driver.execute_script(JS_HOVERED_POINT) is None, timeout=5)


def _map_in_window(driver) -> None:
    layer = driver.find_element(By.CSS_SELECTOR, "#map .nsewdrag")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", layer)


def visible_point(driver, start: int = 0) -> int:
    """The first point from ``start`` on that a user can point at: inside the map's current view (not out of frame),
    inside the window, and covered by nothing. Which points those are depends on the map's layout, so tests ask
    for one rather than naming it."""
    leave_map(driver)
    _map_in_window(driver)
    found = driver.execute_script(JS_POINT_SPOT, start, 8, True)
    if found is None:
        raise AssertionError(f"no point from {start} on lies in the map's view, in the window, uncovered")
    return int(found["point"])


def move_to_point(driver, point: int, click: bool = False) -> None:
    """Move the mouse onto one point of the main trace, wait until Plotly hovers it, and click it if asked.

    The mouse leaves the map first, as a hand does between two points: a jump from one hovered point straight
    onto another can land on the first one's tooltip. Plotly throttles hover and picks WebGL points
    asynchronously, so on a loaded machine a click sent with the move can find no point under the mouse;
    clicking only once the hover has landed is what a user does. A point a user could not point at (out of
    the view, outside the window, under another element) is an error that says so (`visible_point` finds one).
    """
    leave_map(driver)
    _map_in_window(driver)
    spot = driver.execute_script(JS_POINT_SPOT, point, 0, False)
    where = f"point {point} at ({spot['dx']:.0f}, {spot['dy']:.0f}) px in the plot area"
    if not spot["inView"]:
        raise AssertionError(f"{where} lies outside the map's current view: a user cannot point at it")
    if not spot["inWindow"]:
        raise AssertionError(f"{where} lies outside the browser window: a user cannot point at it")
    if spot["onTop"] != "map":
        raise AssertionError(f"{where} is covered by {spot['onTop']}: a user cannot point at it")
    layer = driver.find_element(By.CSS_SELECTOR, "#map .nsewdrag")
    # offsets from the drag layer's top-left corner (selenium 4.2, which dash[testing] installs)
    dx, dy = spot["dx"], spot["dy"]
    for nudge in (0, 1, -1, 2):  # a mouse that does not move raises no new hover: nudge it by a pixel
        ActionChains(driver).move_to_element_with_offset(layer, int(dx) + nudge, int(dy)).perform()
        if poll(lambda: driver.execute_script(JS_HOVERED_POINT) is not None, timeout=5):
            break
    else:
        browser = driver.capabilities.get("browserVersion", "?")
        raise AssertionError(f"Plotly never hovered {where}, uncovered, in Chromium {browser}")
    if click:
        ActionChains(driver).move_to_element_with_offset(layer, int(dx) + nudge, int(dy)).click().perform()
