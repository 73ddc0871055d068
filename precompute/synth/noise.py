"""Detector noise for the synthetic data set: an aLIGO-like ASD and coloured Gaussian noise.

GWpy has no coloured-noise generator, so noise is coloured in the frequency
domain. Glitch waveforms are designed in the *whitened* domain (where the
noise has unit variance per sample, so a waveform's SNR is its Euclidean
norm) and coloured together with the noise: whitening the strain with the same
ASD, as the Q-transform does, returns noise + glitch at the intended SNR.
"""

from __future__ import annotations

import numpy as np

__all__ = ["aligo_asd", "colour", "strain_asd_series"]

#: Lines in the stationary spectrum (Hz, peak factor, half-width Hz): power mains and violin modes.
_LINES = ((60.0, 8.0, 0.5), (120.0, 4.0, 0.5), (180.0, 3.0, 0.5), (500.0, 20.0, 1.5), (1000.0, 8.0, 1.5))


def aligo_asd(frequency_hz: np.ndarray) -> np.ndarray:
    """Advanced-LIGO-like amplitude spectral density (strain/sqrt(Hz)).

    The analytic zero-detuned high-power fit (Ajith 2011,
    ``S(f) = 1e-49 [x^-4.14 - 5 x^-2 + 111 (1 - x^2 + x^4/2) / (1 + x^2/2)]``,
    ``x = f / 215 Hz``) with a seismic wall below 10 Hz and a few narrow lines.
    It only needs to look like a detector's spectrum: whitening removes it.
    """
    f = np.maximum(np.asarray(frequency_hz, dtype=np.float64), 5.0)
    x = f / 215.0
    psd = 1e-49 * (x**-4.14 - 5.0 * x**-2 + 111.0 * (1 - x**2 + 0.5 * x**4) / (1 + 0.5 * x**2))
    psd = psd * (1.0 + (10.0 / f) ** 8)  # seismic wall
    for centre, peak, width in _LINES:
        psd = psd * (1.0 + peak / (1.0 + ((f - centre) / width) ** 2))
    return np.sqrt(psd)


def colour(whitened: np.ndarray, sample_rate: float) -> np.ndarray:
    """Colour a unit-variance white series with `aligo_asd`, giving strain.

    White noise of variance 1 has one-sided PSD ``2 / fs``; multiplying its
    spectrum by ``ASD(f) * sqrt(fs / 2)`` gives noise with PSD ``ASD(f)^2``.
    """
    n = len(whitened)
    freqs = np.fft.rfftfreq(n, d=1.0 / sample_rate)
    spectrum = np.fft.rfft(whitened) * aligo_asd(freqs) * np.sqrt(sample_rate / 2.0)
    return np.fft.irfft(spectrum, n=n)


def strain_asd_series(n_samples: int, sample_rate: float):
    """Return `aligo_asd` as a GWpy FrequencySeries on the data's FFT grid (for whitening)."""
    from gwpy.frequencyseries import FrequencySeries

    freqs = np.fft.rfftfreq(n_samples, d=1.0 / sample_rate)
    return FrequencySeries(aligo_asd(freqs), frequencies=freqs, unit="1/Hz^(1/2)")
