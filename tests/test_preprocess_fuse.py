"""Network input (no chrome reaches it; PNG and HDF5 forms agree) and window fusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from precompute.fuse import fuse_windows
from precompute.io import read_dataset
from precompute.plotarea import PLOT_AREA, viridis_lut
from precompute.preprocess import _LUMA, PreprocessConfig, prepare_image, to_display_rgb


@pytest.fixture(scope="module")
def figure(synth_set) -> np.ndarray:
    ds = read_dataset(synth_set.root, verify=False)
    row = ds.images.iloc[0]
    return ds.load_image(row["kind"], row["source"])


@pytest.mark.parametrize("colour", ["energy", "grey", "rgb"])
def test_chrome_never_reaches_the_network(figure, colour):
    config = PreprocessConfig(colour=colour)
    defaced = figure.copy()
    outside = np.ones(defaced.shape[:2], dtype=bool)
    outside[PLOT_AREA] = False
    defaced[outside] = np.array([255, 0, 0, 255], dtype=np.uint8)  # paint over titles, ticks, colorbar
    np.testing.assert_array_equal(prepare_image(figure, "figure", config), prepare_image(defaced, "figure", config))
    whole = PreprocessConfig(crop="none", colour=colour)
    assert not np.array_equal(prepare_image(figure, "figure", whole), prepare_image(defaced, "figure", whole))


def test_input_shape_and_normalisation(figure):
    array = prepare_image(figure, "figure", PreprocessConfig(height=64, width=80))
    assert array.shape == (3, 64, 80)
    assert array.dtype == np.float32
    assert array.min() > -2.2
    assert array.max() < 2.7


@pytest.mark.parametrize("colour", ["energy", "grey", "rgb"])
def test_png_and_hdf5_forms_give_the_same_input(synth_set, colour):
    png = read_dataset(synth_set.root, verify=False)
    h5 = read_dataset(synth_set.root / "trainingsetv1d1.h5", verify=False)
    row = png.images.iloc[5]
    twin = h5.images[
        (h5.images["gravityspy_id"] == row["gravityspy_id"]) & (h5.images["window"] == row["window"])
    ].iloc[0]
    config = PreprocessConfig(colour=colour)
    a = prepare_image(png.load_image("figure", row["source"]), "figure", config)
    b = prepare_image(h5.load_image("hdf5", twin["source"]), "hdf5", config)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.95


def test_grey_levels_map_back_to_their_viridis_colours():
    grey = (viridis_lut().astype(np.float32) / 255) @ _LUMA
    np.testing.assert_array_equal(to_display_rgb(grey.reshape(1, 16, 16), "hdf5").reshape(256, 3), viridis_lut())


def _images(windows_per_glitch: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(gid, w) for gid, ws in windows_per_glitch.items() for w in ws]
    return pd.DataFrame(rows, columns=["gravityspy_id", "window"])


def test_concat_cosine_is_the_mean_of_per_window_cosines():
    rng = np.random.default_rng(0)
    images = _images({"a": ["0.5", "1.0", "2.0", "4.0"], "b": ["0.5", "1.0", "2.0", "4.0"]})
    vectors = rng.normal(size=(8, 16)).astype(np.float32)
    ids, fused, counts = fuse_windows(images, vectors, ["0.5", "1.0", "2.0", "4.0"], method="concat")
    assert list(ids) == ["a", "b"]
    assert list(counts) == [4, 4]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = np.mean([unit[i] @ unit[4 + i] for i in range(4)])
    assert fused[0] @ fused[1] == pytest.approx(expected, abs=1e-5)
    np.testing.assert_allclose(np.linalg.norm(fused, axis=1), 1.0, atol=1e-5)


def test_mean_fusion_and_missing_windows():
    rng = np.random.default_rng(1)
    images = _images({"a": ["0.5", "4.0"], "b": ["1.0"]})
    vectors = rng.normal(size=(3, 8)).astype(np.float32) * np.array([[1.0], [50.0], [3.0]], dtype=np.float32)
    _, fused, counts = fuse_windows(images, vectors, ["0.5", "1.0", "2.0", "4.0"], method="mean")
    assert list(counts) == [2, 1]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = (unit[0] + unit[1]) / np.linalg.norm(unit[0] + unit[1])
    np.testing.assert_allclose(fused[0], expected, atol=1e-6)  # the loud window does not dominate
    np.testing.assert_allclose(fused[1], unit[2], atol=1e-6)
    with pytest.raises(ValueError, match=r"windows outside"):
        fuse_windows(_images({"a": ["8.0"]}), vectors[:1], ["0.5"], method="mean")
