"""Decoding image files, with errors that say which file and what is wrong with it."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import DataError

__all__ = ["ImageError", "check_image", "load_png"]


class ImageError(DataError):
    """An image file cannot be decoded; ``reason`` is a short phrase for reports."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


def _open(path: Path):
    from PIL import Image, UnidentifiedImageError

    try:
        return Image.open(path)
    except FileNotFoundError:
        raise ImageError(path, "file not found") from None
    except UnidentifiedImageError:
        raise ImageError(path, "not an image file (unrecognised or corrupt header)") from None
    except OSError as exc:
        raise ImageError(path, f"cannot be opened ({exc})") from None


def load_png(path: Path | str) -> np.ndarray:
    """Decode an image file to a uint8 array (H, W) or (H, W, C).

    Raises
    ------
    ImageError
        If the file is missing, not an image, truncated or otherwise corrupt.
    """
    from PIL import Image

    path = Path(path)
    with _open(path) as image, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            reason = "truncated file" if "truncated" in str(exc).lower() else f"corrupt image data ({exc})"
            raise ImageError(path, reason) from None
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        return np.asarray(image)


#: Modes of a colour image; a Gravity Spy figure is viridis, so grey or bilevel ones cannot be one.
_COLOUR_MODES = frozenset({"RGB", "RGBA", "P", "PA", "RGBX", "CMYK", "YCbCr"})


def check_image(
    path: Path | str, *, expect_size: tuple[int, int] | None = None, expect_colour: bool = False
) -> str | None:
    """Return why ``path`` is unusable, or None if its data decode and its size and mode are right.

    ``expect_size`` is (width, height). ``expect_colour`` refuses grey images:
    the energy is read back through the viridis colour map, which a grey
    figure does not use. The check decodes the whole file, as the embedding
    stage will: a file that passes here will not fail later.
    """
    try:
        with _open(Path(path)) as image:
            size, mode = image.size, image.mode
            image.load()
    except ImageError as exc:
        return exc.reason
    except (OSError, SyntaxError, ValueError) as exc:
        return "truncated file" if "truncated" in str(exc).lower() else f"corrupt image data ({exc})"
    if expect_size is not None and size != expect_size:
        return f"is {size[0]}x{size[1]}, expected {expect_size[0]}x{expect_size[1]}"
    if expect_colour and mode not in _COLOUR_MODES:
        return f"grey or bilevel image (mode {mode}), expected a colour (RGB) Gravity Spy figure"
    return None
