"""The plot-area crop and the viridis inversion."""

from __future__ import annotations

import numpy as np
import pytest

from precompute.plotarea import (
    ENERGY_MAX,
    GREY_SHAPE,
    crop_plot_area,
    energy_from_viridis,
    energy_to_rgb,
    to_gravityspy_grey,
    viridis_lut,
)


def test_crop_is_the_official_region():
    image = np.zeros((600, 800, 4), dtype=np.uint8)
    image[66:532, 105:671, 0] = 7
    area = crop_plot_area(image)
    assert area.shape == (466, 566, 3)
    assert (area[..., 0] == 7).all()


def test_crop_rejects_images_that_are_not_full_figures():
    with pytest.raises(ValueError, match=r"expected a 800x600 Gravity Spy figure, got 170x140"):
        crop_plot_area(np.zeros((140, 170), dtype=np.float32))


def test_every_viridis_entry_inverts_to_within_one_energy_bin():
    lut = viridis_lut()
    energy = energy_from_viridis(lut[None, :, :])[0]
    expected = (np.arange(256) + 0.5) * ENERGY_MAX / 256
    step = ENERGY_MAX / 256
    assert np.abs(energy - expected).max() <= step / 2 + 1e-5  # duplicated entries land mid-way
    assert (np.abs(energy - expected) < 1e-5).sum() >= 252  # all other entries exactly


def test_energy_round_trip_is_within_one_quantisation_step():
    rng = np.random.default_rng(0)
    energy = rng.uniform(0, 40, size=(50, 60))
    recovered = energy_from_viridis(energy_to_rgb(energy))
    np.testing.assert_array_less(np.abs(recovered - np.clip(energy, 0, ENERGY_MAX)), ENERGY_MAX / 256 + 1e-5)


def test_grey_form_matches_the_hdf5_release():
    image = np.full((600, 800, 4), 255, dtype=np.uint8)
    image[66:532, 105:671, :3] = energy_to_rgb(np.full((466, 566), 25.5))
    grey = to_gravityspy_grey(image)
    assert grey.shape == GREY_SHAPE
    assert grey.dtype == np.float32
    # viridis' top colour (253, 231, 36) in luminance, everywhere: no white chrome leaked in
    np.testing.assert_allclose(grey, (0.2125 * 253 + 0.7154 * 231 + 0.0721 * 36) / 255, atol=1e-3)


def test_off_palette_colours_among_exact_ones_map_to_the_nearest_entry():
    """The table path (exact viridis colours) and the KD-tree path (the rest) agree within one image."""
    lut = viridis_lut().astype(int)
    rng = np.random.default_rng(3)
    entries = rng.integers(0, 256, size=(40, 50))
    nudged = np.clip(lut[entries] + rng.integers(-2, 3, size=(40, 50, 3)), 0, 255).astype(np.uint8)
    exact = lut[entries].astype(np.uint8)
    mixed = np.where(rng.random((40, 50, 1)) < 0.5, exact, nudged)
    distance = ((mixed[:, :, None, :].astype(int) - lut[None, None, :, :]) ** 2).sum(axis=3)
    # a duplicated entry's colour stands mid-way between its two bins: either names the same colour
    entry = np.floor(energy_from_viridis(mixed) / (ENERGY_MAX / 256) - 0.5 + 1e-3).astype(int)
    chosen = np.take_along_axis(distance, entry[:, :, None], axis=2)[:, :, 0]
    assert (chosen == distance.min(axis=2)).all()  # brute force agrees, ties included
