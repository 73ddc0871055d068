"""The map's density image (explorer.density): colours, opacity and placement of what it draws."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from explorer.density import SettingError, density_above, density_rgba, png_bytes, point_rgb, view_from
from explorer.figures import colouring
from precompute.rundir import load_run

from .browser import settle, wait
from .conftest import ARTIFACTS, ROOT, serve_run


def test_each_pixel_is_the_mean_colour_of_its_points_and_denser_is_more_opaque():
    x = np.array([0.1, 0.1, 0.1, 0.9, 0.9])
    y = np.array([0.9, 0.9, 0.9, 0.1, 0.1])
    rgb = np.array([[255, 0, 0], [255, 0, 0], [0, 0, 255], [0, 255, 0], [0, 255, 0]], float)
    image = density_rgba(x, y, rgb, (0, 1), (0, 1), shape=(2, 2))
    top_left, bottom_right = image[0, 0], image[1, 1]  # y 0.9 is the top row
    assert top_left[:3].tolist() == [170, 0, 85]  # two red and a blue
    assert bottom_right[:3].tolist() == [0, 255, 0]
    assert top_left[3] == 255 > bottom_right[3] > 0  # three points against two
    assert image[0, 1, 3] == image[1, 0, 3] == 0  # nothing there


def test_points_outside_the_view_are_left_out():
    x, y = np.array([-1.0, 0.5, 2.0]), np.array([0.5, 0.5, 0.5])
    image = density_rgba(x, y, np.full((3, 3), 200.0), (0, 1), (0, 1), shape=(4, 4))
    assert (image[..., 3] > 0).sum() == 1


def test_point_colours_follow_the_colour_mode():
    clusters = np.array([0, 0, 1, -1])
    colours = colouring("cluster", pd.DataFrame(index=range(4)), clusters)
    rgb = point_rgb(colours)
    assert rgb.shape == (4, 3)
    assert (rgb[0] == rgb[1]).all()  # one cluster, one colour
    assert (rgb[0] != rgb[2]).any()
    suspicion = colouring("suspicion", pd.DataFrame({"suspicion": [0.0, 1.0]}), np.zeros(2, int))
    low, high = point_rgb(suspicion)
    assert (low.tolist(), high.tolist()) == ([254, 217, 118], [128, 0, 38])  # the suspicion ramp's ends (RAMPS)


def test_the_view_follows_zooms_and_pans_and_autoscale_shows_the_whole_map():
    view = {"x": [0.0, 10.0], "y": [0.0, 5.0]}
    zoom = {"xaxis.range[0]": 2.0, "xaxis.range[1]": 4.0, "yaxis.range[0]": 1.0, "yaxis.range[1]": 2.0}
    assert view_from(zoom, view) == {"x": [2.0, 4.0], "y": [1.0, 2.0]}
    assert view_from({"xaxis.range": [6, 3]}, view) == {"x": [3.0, 6.0], "y": [0.0, 5.0]}
    assert view_from({"xaxis.autorange": True, "yaxis.autorange": True}, view) is None
    for unrelated in (
        {"dragmode": "lasso"},
        None,
        {"xaxis.range[0]": "x", "xaxis.range[1]": 1},
        {"xaxis.range": [1, 1]},
    ):
        assert view_from(unrelated, view) == view


def test_a_bad_density_threshold_stops_the_server_with_the_fix(monkeypatch, small_run):
    monkeypatch.setenv("GSX_DENSITY_ABOVE", "lots")
    with pytest.raises(SettingError, match=r"GSX_DENSITY_ABOVE must be a whole number.*unset it"):
        density_above()
    started = subprocess.run(
        [sys.executable, "app.py", "--run", str(small_run)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 2
    assert "error: GSX_DENSITY_ABOVE must be a whole number of points, got 'lots'" in started.stderr
    monkeypatch.setenv("GSX_DENSITY_ABOVE", "20")
    assert density_above() == 20


#: The dense server's threshold: more glitches than this in view are drawn as density.
DENSE_ABOVE = 20


def _sparse_box(xy: np.ndarray, most: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """A zoom box round a point and its nearest few on the map, with at most ``most`` points in view even after
    the map's 1:1 aspect lock widens one axis (counted in the box three times as wide and high): the first point
    whose box qualifies, since which points those are depends on the map's layout."""
    for centre in xy:
        half = np.sort(np.abs(xy - centre).max(axis=1))[3] + 1e-3  # its third-nearest neighbour, in the max norm
        inside = (np.abs(xy - centre) <= 3 * half).all(axis=1).sum()
        if inside <= most:
            x, y = centre
            return (float(x - half), float(x + half)), (float(y - half), float(y + half))
    raise AssertionError(f"no box on this map holds at most {most} points")


@pytest.fixture(scope="module")
def dense_server(small_run, tmp_path_factory):
    """The small run served with the density layer above 20 points in view (its 64 points are 'too many')."""
    yield from serve_run(small_run, tmp_path_factory, env={"GSX_DENSITY_ABOVE": str(DENSE_ABOVE)})


#: (points trace drawn, density images in the layout) as plotly.js has them.
JS_DENSITY = """
const gd = document.querySelector('#map .js-plotly-plot');
return gd && gd._fullData ? [gd._fullData[0].visible === true, (gd._fullLayout.images || []).length] : null;
"""


@pytest.mark.browser
def test_a_crowded_view_is_drawn_as_density_and_zooming_in_brings_the_points_back(dash_br, dense_server, small_run):
    dash_br.server_url = dense_server
    wait(lambda: dash_br.driver.execute_script(JS_DENSITY) == [False, 1], what="the density image, points hidden")
    assert "zoom in to see, hover and select them" in dash_br.find_element("#map-frame").text
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "explorer-density.png"))
    settle(dash_br.driver)  # the first view's own redraws land before the zoom, never after it
    (x0, x1), (y0, y1) = _sparse_box(load_run(small_run).points[["x", "y"]].to_numpy(), DENSE_ABOVE)
    dash_br.driver.execute_script(
        "Plotly.relayout(document.querySelector('#map .js-plotly-plot'), arguments[0]);",
        {"xaxis.range": [x0, x1], "yaxis.range": [y0, y1]},
    )
    wait(lambda: dash_br.driver.execute_script(JS_DENSITY) == [True, 0], what="the points back, no image")
    dash_br.driver.execute_script(
        "Plotly.relayout(document.querySelector('#map .js-plotly-plot'), {'xaxis.autorange': true, 'yaxis.autorange': true});"
    )
    wait(lambda: dash_br.driver.execute_script(JS_DENSITY) == [False, 1], what="density again for the whole map")
    assert dash_br.get_logs() == []


def test_a_lone_point_spreads_to_a_dot_of_its_colour():
    image = density_rgba(np.array([0.5]), np.array([0.5]), np.array([[10.0, 20.0, 30.0]]), (0, 1), (0, 1), (5, 5), 1)
    drawn = image[..., 3] > 0
    assert drawn.sum() == 9  # the 3 x 3 pixels around it
    assert (image[drawn, :3] == [10, 20, 30]).all()


def test_the_png_writer_round_trips_through_a_real_decoder():
    from PIL import Image  # in the test environment; the serving image has no Pillow, hence png_bytes

    rgba = np.random.default_rng(3).integers(0, 256, size=(7, 11, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(png_bytes(rgba))).convert("RGBA"))
    np.testing.assert_array_equal(decoded, rgba)
