"""Render a strain segment the way Gravity Spy does: Q-transform, then an 800x600 figure.

The Q-transform is GWpy's, with Gravity Spy's Omega-scan parameters
(``qrange=(4, 64)``, ``frange=(10, 2048)``, ``search=0.5`` s, median-normalized
energy, whitening with the noise ASD). As Gravity Spy's newer pipeline does, one
Q-scan is computed per glitch and read out for each of the four windows.

The read-out interpolates the chosen Q-plane onto *the figure's own pixel grid*
(one sample per pixel of the plot area, log2-spaced in frequency as the axis
is), so each pixel shows exactly the Q energy at its centre. The figure's chrome
(axes, ticks, labels, title, colorbar) is drawn once per detector and window by
matplotlib and the coloured energy is placed into the axes' interior. That makes
the official plot-area crop land on pure spectrogram and keeps rendering cheap.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np

from ..plotarea import ENERGY_MAX, FIGURE_SHAPE, FREQUENCY_RANGE_HZ, energy_to_rgb
from .trigger import Trigger, measure_trigger

__all__ = [
    "AXES_BOX",
    "FREQUENCY_RANGE_HZ",
    "Q_RANGE",
    "SEARCH_S",
    "figure_png",
    "pixel_frequencies",
    "pixel_times",
    "q_energy_windows",
    "warm_chrome",
]

#: Gravity Spy's Omega-scan settings.
Q_RANGE: tuple[float, float] = (4.0, 64.0)
SEARCH_S: float = 0.5
#: Length of the whitening filter (s): tiles this close to the segment's ends are not trusted.
_WHITEN_S = 2.0

#: The axes' interior in figure pixels: (left, top, right, bottom), right/bottom exclusive.
#: Two pixels wider than the official crop on each side, so the crop holds no spine.
AXES_BOX: tuple[int, int, int, int] = (103, 64, 673, 534)
_AXES_W = AXES_BOX[2] - AXES_BOX[0]
_AXES_H = AXES_BOX[3] - AXES_BOX[1]
_TITLES = {"H1": "Hanford", "L1": "Livingston"}


def pixel_times(window_s: float) -> np.ndarray:
    """Time (s from the glitch) at the centre of each pixel column of the plot area."""
    return -window_s / 2 + (np.arange(_AXES_W) + 0.5) * (window_s / _AXES_W)


def pixel_frequencies() -> np.ndarray:
    """Frequency (Hz) at the centre of each pixel row of the plot area, top row first."""
    lo, hi = np.log2(FREQUENCY_RANGE_HZ)
    return 2.0 ** (hi - (np.arange(_AXES_H) + 0.5) * (hi - lo) / _AXES_H)


def q_energy_windows(strain, windows_s: list[float], asd) -> tuple[list[np.ndarray], Trigger]:
    """Q-transform ``strain`` (a GWpy TimeSeries centred on t=0) for each window.

    Returns one (rows, columns) normalized-energy array per window on the plot
    area's pixel grid (top row = 2048 Hz), and the trigger measured on the same
    Q-plane as Omicron would measure it (`precompute.synth.trigger`).
    """
    from gwpy.segments import Segment
    from gwpy.signal.qtransform import q_scan

    whitened = strain.whiten(asd=asd, fduration=_WHITEN_S)
    qgram, _ = q_scan(
        whitened,
        qrange=Q_RANGE,
        frange=FREQUENCY_RANGE_HZ,
        search=Segment(-SEARCH_S / 2, SEARCH_S / 2),
    )
    row_freqs = np.asarray(qgram.plane.frequencies, dtype=np.float64)
    log_row_freqs = np.log(row_freqs)
    log_pixel_freqs = np.log(pixel_frequencies())
    images = []
    for window in windows_s:
        times = pixel_times(window)
        pad = window
        by_row = np.empty((len(row_freqs), len(times)), dtype=np.float64)
        for i, row in enumerate(qgram.energies):
            x0, dx = float(row.x0.value), float(row.dx.value)
            lo = max(0, int((times[0] - pad - x0) / dx))
            hi = min(len(row), int((times[-1] + pad - x0) / dx) + 2)
            row_t = x0 + dx * np.arange(lo, hi)
            by_row[i] = np.interp(times, row_t, np.asarray(row.value[lo:hi], dtype=np.float64))
        # linear interpolation in log-frequency onto the pixel rows (clamped at the band edges)
        idx = np.clip(np.searchsorted(log_row_freqs, log_pixel_freqs), 1, len(row_freqs) - 1)
        frac = np.clip(
            (log_pixel_freqs - log_row_freqs[idx - 1]) / (log_row_freqs[idx] - log_row_freqs[idx - 1]), 0.0, 1.0
        )[:, None]
        images.append(((1 - frac) * by_row[idx - 1] + frac * by_row[idx]).astype(np.float32))
    return images, measure_trigger(qgram, search_s=SEARCH_S, edge_s=_WHITEN_S)


@cache
def _chrome(ifo: str, window: str) -> np.ndarray:
    """The figure without data: axes, ticks, title and colorbar, as RGBA (600, 800, 4)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    height, width = FIGURE_SHAPE
    left, top, right, bottom = AXES_BOX
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((left / width, 1 - bottom / height, (right - left) / width, (bottom - top) / height))
    seconds = float(window)
    ax.set_xlim(-seconds / 2, seconds / 2)
    ax.set_yscale("log", base=2)
    ax.set_ylim(*FREQUENCY_RANGE_HZ)
    ax.set_xticks(np.linspace(-seconds / 2, seconds / 2, 5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_major_locator(FixedLocator([16, 32, 64, 128, 256, 512, 1024, 2048]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("Time [seconds]")
    ax.set_ylabel("Frequency [Hz]")
    ax.set_title(_TITLES[ifo], fontsize=14)
    cax = fig.add_axes((690 / width, 1 - bottom / height, 22 / width, (bottom - top) / height))
    bar = fig.colorbar(ScalarMappable(norm=Normalize(0, ENERGY_MAX), cmap="viridis"), cax=cax)
    bar.set_label("Normalized energy")
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def warm_chrome() -> None:
    """Draw the chrome of every detector and window now (before forking workers, so they share it)."""
    from ..classes import WINDOWS

    for ifo in _TITLES:
        for window in WINDOWS:
            _chrome(ifo, window)


def figure_png(energy: np.ndarray, *, ifo: str, window: str, compress_level: int = 1) -> bytes:
    """Encode one window as a Gravity Spy style 800x600 RGBA PNG."""
    from PIL import Image

    left, top, right, bottom = AXES_BOX
    image = _chrome(ifo, window).copy()
    image[top:bottom, left:right, :3] = energy_to_rgb(energy)
    image[top:bottom, left:right, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=compress_level)
    return buffer.getvalue()
