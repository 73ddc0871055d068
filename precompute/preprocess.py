"""Stage 3 (embed), its first half: turn a stored image into the network's input, with only spectrogram pixels in it.

A full Gravity Spy figure is cropped to its plot area (``img[66:532, 105:671]``)
so that no axis, tick label, title or colorbar reaches the network; the HDF5
release is already cropped; a generic image is used whole. The crop is then
converted to the chosen colour form, resized, and normalised with ImageNet's
statistics (what ResNet-18's weights expect).

Colour forms:

``energy``  normalized energy recovered by inverting viridis, scaled to [0, 1]
            (the default): linear in the Q-transform's energy, the physical
            quantity; it gave the best k-NN accuracy of the true morphology on
            the synthetic set (docs/pipeline.md).
``grey``    luminance of the viridis colours: what Gravity Spy's classifier
            uses and what the HDF5 release stores.
``rgb``     the viridis colours as they are.

HDF5 arrays are viridis luminance; viridis' lightness rises (almost strictly)
along the map, so each grey level maps back to its colour-map entry and every
colour form works for every source.

``crop='none'`` keeps the whole figure: the seed study's configuration, kept
only to measure its confound. Numpy and Pillow only: no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import PrecomputeError
from .plotarea import ENERGY_MAX, crop_plot_area, energy_from_viridis

__all__ = ["COLOUR_FORMS", "IMAGENET_MEAN", "IMAGENET_STD", "PreprocessConfig", "prepare_image", "to_display_rgb"]

COLOUR_FORMS = ("energy", "grey", "rgb")
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_LUMA = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)


@dataclass(frozen=True)
class PreprocessConfig:
    """How images become network input.

    Parameters
    ----------
    crop : {'plot-area', 'none'}, default: 'plot-area'
        'none' feeds whole figures, chrome included (the seed's flaw; for comparison only).
    colour : {'energy', 'grey', 'rgb'}, default: 'energy'
        See the module docstring.
    height, width : `int`, default: 140, 170
        Network input size. The default keeps the plot area's aspect ratio
        (466:566) at Gravity Spy's own classifier resolution, ~2x fewer pixels
        than 224x224.
    """

    crop: Literal["plot-area", "none"] = "plot-area"
    colour: Literal["energy", "grey", "rgb"] = "energy"
    height: int = 140
    width: int = 170

    def __post_init__(self) -> None:
        if self.crop not in ("plot-area", "none"):
            raise PrecomputeError(f"--crop must be 'plot-area' or 'none', got {self.crop!r}")
        if self.colour not in COLOUR_FORMS:
            raise PrecomputeError(f"--colour must be one of {', '.join(COLOUR_FORMS)}, got {self.colour!r}")
        for name in ("height", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 32 <= value <= 1024:
                raise PrecomputeError(f"input {name} must be a whole number in [32, 1024], got {value!r}")

    def as_dict(self) -> dict[str, object]:
        return {"crop": self.crop, "colour": self.colour, "height": self.height, "width": self.width}


def _as_float_channels(image: np.ndarray, kind: str, config: PreprocessConfig) -> np.ndarray:
    """Crop (for figures) and convert to (H, W, C) float32 in [0, 1] in the chosen colour form.

    C is 1 for the one-channel forms (energy, grey), which the network sees
    repeated on its three inputs, and 3 for rgb: resizing one channel, not three
    identical ones, keeps decoding (the GPU's limit) cheap.
    """
    if kind == "hdf5":
        index = _viridis_index_of_grey(image)
        if config.colour == "energy":
            return ((index.astype(np.float32) + 0.5) / 256.0)[:, :, None]
        if config.colour == "rgb":
            from .plotarea import viridis_lut

            return viridis_lut()[index].astype(np.float32) / 255.0
        grey = np.asarray(image, dtype=np.float32).reshape(image.shape[-2:])
        return np.clip(grey, 0, 1)[:, :, None]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    rgb = image[:, :, :3]
    if kind == "figure" and config.crop == "plot-area":
        rgb = crop_plot_area(rgb)
    if config.colour == "energy":
        return (energy_from_viridis(rgb) / ENERGY_MAX)[:, :, None]
    scaled = rgb.astype(np.float32) / 255.0
    if config.colour == "grey":
        return (scaled @ _LUMA)[:, :, None]
    return scaled


def _viridis_index_of_grey(image: np.ndarray) -> np.ndarray:
    """Colour-map index of each viridis-luminance grey level (HDF5 arrays): the entry of nearest luminance."""
    from .plotarea import viridis_lut

    grey = np.asarray(image, dtype=np.float32).reshape(image.shape[-2:])
    lut_grey = (viridis_lut().astype(np.float32) / 255.0) @ _LUMA
    order = np.argsort(lut_grey, kind="stable")  # 8-bit rounding leaves one tiny inversion (entry 120)
    ranked = lut_grey[order]
    upper = np.clip(np.searchsorted(ranked, grey), 1, 255)
    nearer = np.where(np.abs(ranked[upper - 1] - grey) <= np.abs(ranked[upper] - grey), upper - 1, upper)
    return order[nearer]


def prepare_image(image: np.ndarray, kind: str, config: PreprocessConfig) -> np.ndarray:
    """Return the (3, height, width) float32 network input for one stored image."""
    from PIL import Image

    planes = _as_float_channels(image, kind, config)
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(planes[:, :, c])).resize(
                (config.width, config.height), Image.Resampling.BILINEAR
            )
        )
        for c in range(planes.shape[2])
    ]
    stacked = np.broadcast_to(np.stack(channels, axis=0), (3, config.height, config.width))
    return ((stacked - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]).astype(np.float32)


def to_display_rgb(image: np.ndarray, kind: str) -> np.ndarray:
    """The spectrogram as people expect to see it: the plot area in viridis, uint8 (H, W, 3).

    HDF5 arrays are grey (viridis luminance); each grey level maps back to the
    viridis entry of nearest luminance.
    """
    from .plotarea import viridis_lut

    if kind == "hdf5":
        return viridis_lut()[_viridis_index_of_grey(image)]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    rgb = image[:, :, :3]
    return crop_plot_area(rgb) if kind == "figure" else np.ascontiguousarray(rgb)
