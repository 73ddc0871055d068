"""Rendering: the figure's plot area holds exactly the Q-transform's energy, and nothing else."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from precompute.plotarea import ENERGY_MAX, PLOT_AREA, crop_plot_area, energy_from_viridis, viridis_lut
from precompute.synth.glitches import MODELS
from precompute.synth.noise import colour
from precompute.synth.render import AXES_BOX, figure_png, q_energy_windows

FS, BLOCK = 8192.0, 16.0


def _simulate(model: str, snr: float, seed: int = 0):
    from gwpy.timeseries import TimeSeries

    from precompute.synth.noise import strain_asd_series

    n = int(FS * BLOCK)
    t = np.arange(n) / FS - BLOCK / 2
    rng = np.random.default_rng(seed)
    wave = MODELS[model](rng, t, snr)
    strain = TimeSeries(colour(rng.normal(size=n) + wave.samples, FS), sample_rate=FS, t0=-BLOCK / 2)
    return q_energy_windows(strain, [0.5, 1.0, 2.0, 4.0], strain_asd_series(n, FS))


@pytest.fixture(scope="module")
def blip():
    return _simulate("blip_family", 20.0)


def test_energy_read_back_from_the_png_matches_the_q_transform(blip):
    energies, _ = blip
    energy = energies[1]  # the 1.0 s window
    png = figure_png(energy, ifo="L1", window="1.0")
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape == (600, 800, 4)
    recovered = energy_from_viridis(crop_plot_area(image))
    left, top, _, _ = AXES_BOX
    rows, cols = PLOT_AREA
    expected = np.clip(energy[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left], 0, ENERGY_MAX)
    assert recovered.shape == expected.shape
    assert np.abs(recovered - expected).max() <= ENERGY_MAX / 256 + 1e-5
    assert expected.max() == ENERGY_MAX  # the blip saturates the scale, so this compared a real glitch


def test_crop_holds_only_spectrogram_and_the_chrome_lies_outside(blip):
    png = figure_png(blip[0][0], ifo="H1", window="0.5")
    image = np.asarray(Image.open(io.BytesIO(png)))[..., :3]
    area = crop_plot_area(image).reshape(-1, 3).astype(int)
    lut = viridis_lut().astype(int)
    distance = ((area[:, None, :] - lut[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    assert distance.max() == 0, "a pixel of the crop is not a viridis colour: chrome leaked in"
    # around the plot area: white figure background, dark tick labels and the colorbar
    outside = image.copy()
    outside[PLOT_AREA[0], PLOT_AREA[1]] = 0
    assert (outside[:, :100] == 255).all(axis=2).mean() > 0.8  # left margin is mostly white
    assert (outside[:, :100] < 100).all(axis=2).any()  # with dark tick labels in it
    colorbar = image[300, 694:708]  # the colorbar, right of the crop, is (resampled) viridis
    assert ((colorbar[:, None, :].astype(int) - lut[None]) ** 2).sum(axis=2).min(axis=1).max() <= 12


def test_peak_snr_follows_the_target_for_a_compact_glitch():
    snrs = []
    for target in (10.0, 40.0):
        _, trigger = _simulate("blip_family", target, seed=3)
        snrs.append(trigger.snr)
        assert 60 < trigger.peak_frequency_hz < 400
    assert 0.6 * 10 < snrs[0] < 1.6 * 10
    assert 0.6 * 40 < snrs[1] < 1.6 * 40


def test_pixel_grid_puts_a_tone_on_its_frequency_row():
    energies, trigger = _simulate("violin_mode", 30.0, seed=1)
    from precompute.synth.render import pixel_frequencies

    energy = energies[3]  # 4 s window
    loudest_row = int(np.argmax(energy.mean(axis=1)))
    assert 480 < pixel_frequencies()[loudest_row] < 540
    assert 480 < trigger.peak_frequency_hz < 540


def test_the_trigger_is_measured_around_the_glitch_as_omicron_would():
    """A long narrow tone: the trigger's frequency band holds its line and its time extent covers it; a short
    blip: a short trigger. Neither is the waveform model's own numbers."""
    _, tone = _simulate("violin_mode", 30.0, seed=1)
    assert tone.low_frequency_hz < tone.peak_frequency_hz < tone.high_frequency_hz
    assert tone.low_frequency_hz <= 510 <= tone.high_frequency_hz
    assert tone.start_time_s <= tone.peak_time_s <= tone.end_time_s
    assert tone.n_tiles > 1
    _, blip = _simulate("blip_family", 30.0, seed=2)
    assert blip.duration_s < tone.duration_s
    assert abs(blip.peak_time_s) <= 0.25  # within the search window
    assert blip.central_frequency_hz == pytest.approx((blip.low_frequency_hz + blip.high_frequency_hz) / 2)
