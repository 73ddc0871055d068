"""A density image of the map, for views that hold too many points to draw one by one.

Measured with software WebGL (docs/benchmarks.md), 700,000 points take 23 s to
redraw after a zoom, so a browser without a GPU cannot pan such a map. When a
view holds more points than `DENSITY_ABOVE`, the map shows this image instead:
each pixel is the mean colour of the points it holds, in the current colour
mode (as Datashader's categorical shading does), and its opacity grows with
the logarithm of how many there are. Zoomed in below the threshold, the points
come back, with hover, click and lasso.

Pure numpy: four weighted bincounts over the points in view, tens of
milliseconds at 700,000 points.
"""

from __future__ import annotations

import base64
import os
import struct
import zlib
from typing import Any

import numpy as np
import plotly.colors

from .figures import Colouring

__all__ = [
    "DENSITY_ABOVE",
    "SettingError",
    "density_above",
    "density_image",
    "density_rgba",
    "png_bytes",
    "point_rgb",
    "view_from",
]

#: Points in view above which the map shows the density image instead of the points.
DENSITY_ABOVE = 150_000
#: Opacity of a pixel holding one point (the densest pixel is opaque): lone points stay visible.
_FLOOR = 0.6


def _rgb(colour: str) -> tuple[int, int, int]:
    """'#rrggbb' or 'rgb(r, g, b)' as integers."""
    if colour.startswith("#"):
        return plotly.colors.hex_to_rgb(colour)
    return plotly.colors.unlabel_rgb(colour)


def point_rgb(colours: Colouring) -> np.ndarray:
    """Each point's colour as (n, 3) floats in 0-255, from a colour mode's codes and colour scale."""
    marker = colours.marker
    codes = np.asarray(marker["color"])
    scale = marker["colorscale"]
    if colours.scale is not None or isinstance(scale, str):  # continuous: codes are levels from cmin to cmax
        levels = np.linspace(0, 1, int(marker["cmax"]) + 1)
        palette = np.array([_rgb(c) for c in plotly.colors.sample_colorscale(scale, levels.tolist())], float)
    else:  # discrete: two stops per category, in code order
        palette = np.array([_rgb(colour) for _, colour in scale[::2]], float)
    return palette[codes.astype(np.intp)]


def density_rgba(
    x: np.ndarray,
    y: np.ndarray,
    rgb: np.ndarray,
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    shape: tuple[int, int] = (360, 480),
    spread: int = 0,
) -> np.ndarray:
    """An RGBA image (rows top to bottom) of the points inside the ranges: mean colour, log-density opacity.

    ``spread``: each point also counts in the pixels this many around its own, so
    that a lone point shows as a dot the size of a marker, not one faint pixel.
    """
    height, width = shape
    (x0, x1), (y0, y1) = x_range, y_range
    col = np.floor((x - x0) / (x1 - x0) * width).astype(np.int64)
    row = np.floor((y1 - y) / (y1 - y0) * height).astype(np.int64)  # the image's first row is the top of the view
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    pixel = row[inside] * width + col[inside]
    sums = np.zeros((height * width, 4))  # colour sums, then the count
    for channel in range(3):
        sums[:, channel] = np.bincount(pixel, weights=rgb[inside, channel], minlength=height * width)
    sums[:, 3] = np.bincount(pixel, minlength=height * width)
    sums = _spread(sums.reshape(height, width, 4), spread).reshape(height * width, 4)
    count = sums[:, 3]
    image = np.zeros((height * width, 4))
    image[:, :3] = sums[:, :3]
    held = count > 0
    image[held, :3] /= count[held, None]
    # one point: _FLOOR; the densest pixel: opaque; log in between
    spread = max(float(np.log1p(count.max() - 1)), 1e-9)
    image[held, 3] = 255 * (_FLOOR + (1 - _FLOOR) * np.log1p(count[held] - 1) / spread)
    return np.rint(image).clip(0, 255).astype(np.uint8).reshape(height, width, 4)


def _spread(grid: np.ndarray, radius: int) -> np.ndarray:
    """Each pixel's sum over the square of pixels ``radius`` around it (a box filter, edges padded with zeros)."""
    if radius <= 0:
        return grid
    height, width = grid.shape[:2]
    padded = np.pad(grid, ((radius, radius), (radius, radius), (0, 0)))
    out = np.zeros_like(grid)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out += padded[dy : dy + height, dx : dx + width]
    return out


class SettingError(ValueError):
    """A setting from the environment the dashboard cannot use; the message names it and the fix."""


def density_above() -> int:
    """`DENSITY_ABOVE`, or ``$GSX_DENSITY_ABOVE`` (a whole number; 0 draws density at any size).

    Raises `SettingError` for anything else.
    """
    raw = os.environ.get("GSX_DENSITY_ABOVE", "").strip()
    if not raw:
        return DENSITY_ABOVE
    if not raw.isdigit():
        raise SettingError(
            f"GSX_DENSITY_ABOVE must be a whole number of points, got {raw!r}; unset it for {DENSITY_ABOVE}"
        )
    return int(raw)


#: Each side of the view is widened by this share of its span, so a small pan still finds image under it.
_MARGIN = 0.25


def density_image(
    x: np.ndarray, y: np.ndarray, rgb: np.ndarray, x_range: tuple[float, float], y_range: tuple[float, float]
) -> dict[str, Any]:
    """A ``layout.images`` entry drawing `density_rgba` of the view (widened by `_MARGIN`) under the traces."""
    (x0, x1), (y0, y1) = x_range, y_range
    dx, dy = (x1 - x0) * _MARGIN, (y1 - y0) * _MARGIN
    x0, x1, y0, y1 = x0 - dx, x1 + dx, y0 - dy, y1 + dy
    image = density_rgba(x, y, rgb, (x0, x1), (y0, y1), shape=(540, 720), spread=1)
    return {
        "source": "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii"),
        "xref": "x", "yref": "y", "x": x0, "y": y1, "sizex": x1 - x0, "sizey": y1 - y0,
        "sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top",
    }  # fmt: skip


def png_bytes(rgba: np.ndarray) -> bytes:
    """An 8-bit RGBA image as a PNG file, with the standard library only (the serving image has no Pillow)."""
    height, width = rgba.shape[:2]
    rows = np.zeros((height, width * 4 + 1), dtype=np.uint8)  # each row: filter type 0, then its pixels
    rows[:, 1:] = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(height, width * 4)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def view_from(relayout: dict[str, Any] | None, view: dict[str, list[float]] | None) -> dict[str, list[float]] | None:
    """The map's view ({"x": [lo, hi], "y": [lo, hi]}) after a ``relayoutData`` event; None: the whole map.

    A zoom or pan names both ends of each axis it moved; Autoscale and a
    double-click name ``autorange``; other events (the drag mode) leave it as it was.
    """
    if not isinstance(relayout, dict):
        return view
    if relayout.get("xaxis.autorange") or relayout.get("autosize"):
        return None
    out = dict(view or {})
    for axis in ("x", "y"):
        ends = [relayout.get(f"{axis}axis.range[0]"), relayout.get(f"{axis}axis.range[1]")]
        if isinstance(relayout.get(f"{axis}axis.range"), list):
            ends = relayout[f"{axis}axis.range"][:2]
        if all(isinstance(e, (int, float)) and np.isfinite(e) for e in ends) and ends[0] != ends[1]:
            out[axis] = sorted(float(e) for e in ends)
    return out if {"x", "y"} <= set(out) else view
