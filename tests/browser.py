"""Helpers for the tests that drive a real headless Chromium: waiting, and pointing at map points as a user does."""

from __future__ import annotations

import time
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

__all__ = ["JS_CANVAS_PIXELS", "JS_HOVERED_POINT", "healthy", "move_to_point", "poll", "wait"]

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


def healthy(url: str) -> bool:
    """Whether the explorer at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def move_to_point(driver, point: int, click: bool = False) -> None:
    """Move the mouse onto one point of the main trace, wait until Plotly hovers it, and click it if asked.

    Plotly throttles hover and picks WebGL points asynchronously, so on a loaded machine a click sent with
    the move can find no point under the mouse; clicking only once the hover has landed is what a user does.
    """
    layer = driver.find_element(By.CSS_SELECTOR, "#map .nsewdrag")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", layer)
    # offsets from the drag layer's top-left corner (selenium 4.2, which dash[testing] installs)
    dx, dy = driver.execute_script(
        """
        const gd = document.querySelector('#map .js-plotly-plot');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, tr = gd._fullData[0];
        return [xa.l2p(tr.x[arguments[0]]), ya.l2p(tr.y[arguments[0]])];
        """,
        point,
    )
    for nudge in (0, 1, -1, 2):  # a mouse that does not move raises no new hover: nudge it by a pixel
        ActionChains(driver).move_to_element_with_offset(layer, int(dx) + nudge, int(dy)).perform()
        if poll(lambda: driver.execute_script(JS_HOVERED_POINT) is not None, timeout=5):
            break
    else:
        raise AssertionError(f"Plotly never hovered point {point} at ({dx:.0f}, {dy:.0f}) px")
    if click:
        ActionChains(driver).move_to_element_with_offset(layer, int(dx) + nudge, int(dy)).click().perform()
