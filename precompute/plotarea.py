"""The plot area of a Gravity Spy PNG: where it is, and how to read energy back from it.

A Gravity Spy PNG is an 800x600 matplotlib figure; only the axes' interior is
data. Gravity Spy's own classifier crops ``img[66:532, 105:671]`` (466x566) and
so do we: no axis, tick label, title or colorbar may reach an embedding (the
seed study's time-window confound came from exactly that chrome).

Because the spectrogram is viridis applied to normalized energy clipped to
[0, 25.5], the colormap can be inverted (nearest of its 256 entries) to get the
energy back, with a quantisation step of 25.5/256 ~ 0.1.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = [
    "ENERGY_MAX",
    "FIGURE_SHAPE",
    "FREQUENCY_RANGE_HZ",
    "GREY_SHAPE",
    "PLOT_AREA",
    "crop_plot_area",
    "energy_from_viridis",
    "energy_to_rgb",
    "to_gravityspy_grey",
    "viridis_lut",
]

#: (height, width) of a Gravity Spy figure in pixels.
FIGURE_SHAPE: tuple[int, int] = (600, 800)
#: The official crop as (row slice, column slice): ``img[66:532, 105:671]``.
PLOT_AREA: tuple[slice, slice] = (slice(66, 532), slice(105, 671))
#: Upper end of the normalized-energy colour scale.
ENERGY_MAX: float = 25.5
#: Shape of the HDF5 release's pre-cropped grey images (crop scaled by 0.3).
GREY_SHAPE: tuple[int, int] = (140, 170)
#: The plot area's frequency axis, bottom to top: Gravity Spy's Omega scans span 10-2048 Hz on a log2 scale.
#: Its time axis spans the window, centred on the glitch (-w/2 to w/2 s).
FREQUENCY_RANGE_HZ: tuple[float, float] = (10.0, 2048.0)


@cache
def viridis_lut() -> np.ndarray:
    """Return viridis as a (256, 3) uint8 table, exactly as matplotlib renders it."""
    from matplotlib import colormaps

    return np.ascontiguousarray(colormaps["viridis"](np.arange(256), bytes=True)[:, :3])


def crop_plot_area(image: np.ndarray) -> np.ndarray:
    """Return the plot area of a full 800x600 Gravity Spy figure (RGB, alpha dropped).

    Raises
    ------
    ValueError
        If ``image`` is not a 600x800 figure; the message gives the shape found.
    """
    if image.shape[:2] != FIGURE_SHAPE:
        raise ValueError(
            f"expected a {FIGURE_SHAPE[1]}x{FIGURE_SHAPE[0]} Gravity Spy figure, got "
            f"{image.shape[1]}x{image.shape[0]}; pre-cropped images (the HDF5 release, "
            "a generic image folder) must not be cropped again"
        )
    rows, cols = PLOT_AREA
    if image.ndim == 2:
        return image[rows, cols]
    return image[rows, cols, :3]


def energy_to_rgb(energy: np.ndarray) -> np.ndarray:
    """Colour normalized energy with viridis on [0, 25.5] exactly as matplotlib does."""
    scaled = np.asarray(energy, dtype=np.float64) / ENERGY_MAX * 256.0
    index = np.clip(np.nan_to_num(scaled, nan=0.0), 0, 255).astype(np.intp)
    return viridis_lut()[index]


@cache
def _viridis_centres() -> np.ndarray:
    """The energy bin each viridis entry stands for.

    matplotlib's 8-bit viridis has two pairs of identical neighbours (entries
    104/105 and 137/138); such a colour stands for the middle of its two bins, so
    the inversion is never off by more than one bin.
    """
    lut = viridis_lut()
    bins = np.arange(256, dtype=np.float64)
    same = (lut[:, None, :] == lut[None, :, :]).all(axis=2)
    return (same * bins[None, :]).sum(axis=1) / same.sum(axis=1)


def _pack(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8-valued colours as one uint32 each (0xRRGGBB), same leading shape."""
    packed = rgb[..., 0].astype(np.uint32) << 16
    packed |= rgb[..., 1].astype(np.uint32) << 8
    packed |= rgb[..., 2].astype(np.uint32)
    return packed


_NOT_VIRIDIS = 255  # matplotlib's viridis has 254 distinct colours, so 255 is free as a marker


@cache
def _viridis_exact() -> tuple[np.ndarray, np.ndarray]:
    """A table over all 2**24 colours (16 MB) giving each exact viridis colour's entry, and each entry's bin."""
    keys, first = np.unique(_pack(viridis_lut()), return_index=True)
    table = np.full(1 << 24, _NOT_VIRIDIS, dtype=np.uint8)
    table[keys] = np.arange(len(keys), dtype=np.uint8)
    centres = np.full(_NOT_VIRIDIS + 1, np.nan)
    centres[: len(keys)] = _viridis_centres()[first]
    return table, centres


@cache
def _viridis_tree() -> object:
    """A KD-tree over the 256 viridis colours, for pixels that are not exactly a viridis colour."""
    from scipy.spatial import cKDTree

    return cKDTree(viridis_lut().astype(np.float64))


def energy_from_viridis(rgb: np.ndarray) -> np.ndarray:
    """Recover normalized energy from a viridis-coloured plot area.

    Parameters
    ----------
    rgb : `numpy.ndarray`
        (..., 3) or (..., 4) uint8 colours, e.g. the output of `crop_plot_area`.

    Returns
    -------
    energy : `numpy.ndarray`
        float32 energy at the centre of each colour's bin in [0, 25.5]: exact to
        one bin (0.1) for rendered viridis; other colours map to the nearest entry.

    Rendered spectrograms hold (nearly) only exact viridis colours, so those are
    looked up in a table; only the rest (anti-aliased edges, re-encoded images)
    go through the KD-tree. Decoding is the embedding stage's limit on a GPU
    (docs/benchmarks.md), so this matters there.
    """
    rgb = np.asarray(rgb)[..., :3]
    packed = _pack(rgb).ravel()
    table, centres = _viridis_exact()
    entry = table[packed]
    index = centres[entry]
    miss = entry == _NOT_VIRIDIS
    if miss.any():
        colours, inverse = np.unique(packed[miss], return_inverse=True)
        unique_rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1).astype(np.float64)
        _, nearest = _viridis_tree().query(unique_rgb)
        index[miss] = _viridis_centres()[nearest][inverse]
    index = index.reshape(rgb.shape[:-1])
    return ((index + 0.5) * (ENERGY_MAX / 256.0)).astype(np.float32)


def to_gravityspy_grey(image: np.ndarray) -> np.ndarray:
    """Turn a full figure into the HDF5 release's form: crop, grey, scale by 0.3.

    Returns a (140, 170) float32 array in [0, 1], as Gravity Spy's classifier
    prepares its input (luminance weights of ``skimage.color.rgb2gray``).
    """
    from PIL import Image

    area = crop_plot_area(image).astype(np.float32) / 255.0
    grey = area @ np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)
    resized = Image.fromarray(grey).resize(GREY_SHAPE[::-1], Image.Resampling.BILINEAR)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)
