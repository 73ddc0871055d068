"""Waveform models of the glitch morphologies, designed in the whitened domain.

Each model draws its shape parameters from ``rng`` and returns samples on the
time grid ``t`` (seconds from the glitch's peak, which the image centres on),
scaled so that its loudest time-frequency feature has roughly the requested
peak SNR. The models follow the class descriptions in
``docs/synthetic-data.md`` (band, duration, shape): close enough to look like
Gravity Spy's classes to a CNN and a human, not a physical model of the detector.

The scale is set per component: a compact component (sine-Gaussian) of total
SNR rho shows a peak tile of about rho; a long narrow track spreads its energy
over many tiles, so its total SNR is raised by the square root of the number of
tiles it covers. The SNR written to the metadata is measured afterwards from the
Q-transform, as Omicron would, not taken from these targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["MODELS", "Waveform", "model_names"]


@dataclass(frozen=True)
class Waveform:
    """A glitch in whitened units plus the catalogue values a trigger generator would report."""

    samples: np.ndarray
    central_freq_hz: float
    bandwidth_hz: float
    duration_s: float


# -- components ----------------------------------------------------------------


def _scaled(x: np.ndarray, snr: float) -> np.ndarray:
    norm = float(np.sqrt(np.sum(x * x)))
    return x * (snr / norm) if norm > 0 else x


def _spread(duration_s: float, freq_hz: float, q: float) -> float:
    """sqrt(number of Q tiles of quality ``q`` at ``freq_hz`` that a track of this duration covers)."""
    tile_s = q / (np.sqrt(2.0) * np.pi * freq_hz)
    return float(max(1.0, 0.5 * np.sqrt(duration_s / tile_s)))


def sine_gaussian(t: np.ndarray, t0: float, f0: float, q: float, snr: float, phase: float = 0.0) -> np.ndarray:
    """A sine-Gaussian of quality ``q``: the elementary compact glitch."""
    tau = q / (np.sqrt(2.0) * np.pi * f0)
    x = np.exp(-(((t - t0) / tau) ** 2)) * np.cos(2 * np.pi * f0 * (t - t0) + phase)
    return _scaled(x, snr)


def track(t: np.ndarray, freq: np.ndarray, envelope: np.ndarray, snr: float, phase: float = 0.0) -> np.ndarray:
    """A narrow track following instantaneous frequency ``freq(t)`` under ``envelope``."""
    dt = t[1] - t[0]
    ph = 2 * np.pi * np.cumsum(freq) * dt + phase
    return _scaled(envelope * np.sin(ph), snr)


def band_noise(
    rng: np.random.Generator, t: np.ndarray, envelope: np.ndarray, flo: float, fhi: float, snr: float
) -> np.ndarray:
    """Gaussian noise band-limited to [flo, fhi] under ``envelope``."""
    dt = t[1] - t[0]
    spec = np.fft.rfft(rng.normal(size=len(t)))
    freqs = np.fft.rfftfreq(len(t), d=dt)
    spec[(freqs < flo) | (freqs > fhi)] = 0.0
    return _scaled(np.fft.irfft(spec, n=len(t)) * envelope, snr)


def _gauss(t: np.ndarray, t0: float, width: float) -> np.ndarray:
    return np.exp(-(((t - t0) / width) ** 2))


def _window(t: np.ndarray, start: float, stop: float, ramp: float = 0.05) -> np.ndarray:
    """1 inside [start, stop] with cosine ramps of ``ramp`` seconds."""
    up = np.clip((t - start) / ramp + 0.5, 0, 1)
    down = np.clip((stop - t) / ramp + 0.5, 0, 1)
    return np.sin(0.5 * np.pi * np.minimum(up, down)) ** 2


# -- models -----------------------------------------------------------------------

Model = Callable[[np.random.Generator, np.ndarray, float], Waveform]
MODELS: dict[str, Model] = {}


def _model(name: str) -> Callable[[Model], Model]:
    def register(fn: Model) -> Model:
        MODELS[name] = fn
        return fn

    return register


def model_names() -> list[str]:
    """Names of every registered waveform model, sorted."""
    return sorted(MODELS)


@_model("blip_family")
def blip_family(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Blip at low SNR, growing a Koi-Fish head and tail as it gets louder.

    One model for both classes makes the Blip -> Koi_Fish continuum a real
    continuum: the head (a low-frequency lobe) and the high-frequency tail scale
    faster than linearly with SNR, so they appear only for loud events.
    """
    f0 = float(np.exp(rng.normal(np.log(170.0), 0.25)))
    q = float(rng.uniform(2.5, 4.5))
    x = sine_gaussian(t, 0.0, f0, q, snr)
    loud = (snr / 50.0) ** 0.6
    x += sine_gaussian(t, 0.0, float(rng.uniform(45, 80)), 2.0, 0.45 * snr * min(loud, 2.0))
    x += sine_gaussian(t, 0.004, float(rng.uniform(700, 1100)), 9.0, 0.08 * snr * loud)
    return Waveform(x, f0, f0 / q * 2.5, float(q / (np.sqrt(2) * np.pi * f0) * 4 * max(1.0, loud)))


@_model("repeating_blips")
def repeating_blips(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    n = int(rng.integers(3, 7))
    spacing = float(rng.uniform(0.12, 0.35))
    f0 = float(np.exp(rng.normal(np.log(180.0), 0.2)))
    start = -spacing * (n - 1) * float(rng.uniform(0.3, 0.7))
    x = sum(
        sine_gaussian(
            t, start + k * spacing, f0 * rng.uniform(0.9, 1.1), rng.uniform(2.5, 4.0), snr * rng.uniform(0.7, 1.2)
        )
        for k in range(n)
    )
    return Waveform(x, f0, f0, spacing * (n - 1) + 0.02)


@_model("chirp")
def chirp(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Inspiral-like upward sweep, f = f_low (1 - (t - t_s)/T)^(-3/8), ending at t = 0."""
    length = float(rng.uniform(0.2, 0.8))
    f_low = float(rng.uniform(25, 40))
    f_high = float(rng.uniform(250, 500))
    tau = np.clip((0.0 - t) / length, 1e-6, None)  # 1 at the start, 0 at coalescence
    freq = np.clip(f_low * tau ** (-3.0 / 8.0), f_low, f_high)
    env = _window(t, -length, 0.0, 0.02) * (freq / f_low) ** (2.0 / 3.0)
    x = track(t, freq, env, snr * _spread(length, 80.0, 12.0))
    return Waveform(x, float(np.sqrt(f_low * f_high)), f_high - f_low, length)


@_model("paired_doves")
def paired_doves(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A short sweep up, then its mirror image down, repeated once or twice."""
    half = float(rng.uniform(0.08, 0.15))
    lo, hi = float(rng.uniform(25, 35)), float(rng.uniform(55, 80))
    x = np.zeros_like(t)
    for k in range(int(rng.integers(1, 3))):
        centre = k * 0.5 - 0.25 * k
        u = np.clip((t - (centre - half)) / (2 * half), 0, 1)
        freq = lo + (hi - lo) * (1 - np.abs(2 * u - 1))
        x += track(t, freq, _window(t, centre - half, centre + half, 0.02), snr * _spread(2 * half, 45.0, 8.0))
    return Waveform(x, 0.5 * (lo + hi), hi - lo, 2 * half)


@_model("helix")
def helix(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Bright knots stepping up in frequency while swinging back and forth in time: a coil."""
    n = int(rng.integers(6, 10))
    freqs = np.geomspace(float(rng.uniform(45, 60)), float(rng.uniform(220, 320)), n)
    swing = float(rng.uniform(0.008, 0.02))
    phase = float(rng.uniform(0, np.pi))
    x = sum(
        sine_gaussian(t, swing * np.sin(1.3 * k + phase), f, 6.0, snr * rng.uniform(0.6, 1.0))
        for k, f in enumerate(freqs)
    )
    return Waveform(x, float(np.sqrt(freqs[0] * freqs[-1])), float(freqs[-1] - freqs[0]), 0.06 + 2 * swing)


@_model("extremely_loud")
def extremely_loud(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    length = float(rng.uniform(0.4, 2.0))
    env = _window(t, -0.3 * length, 0.7 * length, 0.05)
    x = band_noise(rng, t, env, 10.0, 2048.0, snr)
    return Waveform(x, 150.0, 2000.0, length)


@_model("light_modulation")
def light_modulation(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A train of low-frequency spikes, regularly spaced, over several seconds."""
    period = float(rng.uniform(0.25, 0.6))
    count = int(rng.integers(8, 16))
    f0 = float(rng.uniform(40, 120))
    start = -period * count / 2
    x = sum(
        sine_gaussian(
            t, start + k * period + rng.normal(0, 0.01), f0 * rng.uniform(0.85, 1.15), 2.5, snr * rng.uniform(0.6, 1.0)
        )
        for k in range(count)
    )
    return Waveform(x, f0, 2 * f0, period * count)


@_model("low_frequency_burst")
def low_frequency_burst(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A hump: a track at 10-15 Hz that rises towards ~30 Hz and comes back over 0.5-3 s."""
    width = float(rng.uniform(0.25, 1.0))
    base, top = float(rng.uniform(10, 14)), float(rng.uniform(22, 34))
    freq = base + (top - base) * _gauss(t, 0.0, width)
    env = _gauss(t, 0.0, 1.3 * width)
    x = track(t, freq, env, snr * _spread(2 * width, 18.0, 5.0))
    x += band_noise(rng, t, env, base, top, 0.5 * snr * _spread(2 * width, 18.0, 5.0))
    return Waveform(x, 0.5 * (base + top), top - base, 3 * width)


@_model("low_frequency_lines")
def low_frequency_lines(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """One to three horizontal lines below ~30 Hz crossing the whole 4 s window."""
    n = int(rng.integers(1, 4))
    freqs = np.sort(rng.uniform(11, 28, size=n))
    length = float(rng.uniform(5.0, 6.0))
    env = _window(t, -length / 2, length / 2, 0.3)
    x = sum(track(t, np.full_like(t, f), env, snr * _spread(length, f, 32.0), rng.uniform(0, 6)) for f in freqs)
    return Waveform(x, float(freqs.mean()), float(freqs[-1] - freqs[0] + 2), length)


@_model("no_glitch")
def no_glitch(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Noise only: the trigger was a noise fluctuation."""
    return Waveform(np.zeros_like(t), float(rng.uniform(50, 400)), 10.0, 0.01)


@_model("none_of_the_above")
def none_of_the_above(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A grab bag of shapes that fit no class: scattered knots at random bands and times."""
    n = int(rng.integers(2, 6))
    freqs = np.exp(rng.uniform(np.log(20), np.log(1500), size=n))
    x = sum(sine_gaussian(t, rng.uniform(-1.2, 1.2), f, rng.uniform(4, 30), snr * rng.uniform(0.5, 1.0)) for f in freqs)
    return Waveform(x, float(np.exp(np.log(freqs).mean())), float(freqs.max() - freqs.min()), 2.4)


def _line_burst(
    rng: np.random.Generator, t: np.ndarray, snr: float, freqs: list[float], weights: list[float], length: float
) -> np.ndarray:
    env = _window(t, -length / 2, length / 2, min(0.1, length / 4))
    return sum(
        track(t, np.full_like(t, f), env, w * snr * _spread(length, f, 32.0), rng.uniform(0, 6))
        for f, w in zip(freqs, weights, strict=True)
    )


@_model("power_line")
def power_line(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A burst of the 60 Hz mains and its harmonics."""
    length = float(rng.uniform(0.3, 1.5))
    f0 = 60.0 + float(rng.normal(0, 0.2))
    x = _line_burst(rng, t, snr, [f0, 2 * f0, 3 * f0], [1.0, 0.6, 0.4], length)
    return Waveform(x, f0, 2 * f0 + 5, length)


@_model("air_compressor")
def air_compressor(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A narrow band near 50 Hz (a motor's hum), with a weak harmonic."""
    length = float(rng.uniform(0.3, 1.0))
    f0 = float(rng.uniform(47, 53))
    x = _line_burst(rng, t, snr, [f0, 2 * f0], [1.0, 0.25], length)
    return Waveform(x, f0, 6.0, length)


@_model("violin_mode")
def violin_mode(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Short lines at the ~500 Hz violin mode and its harmonics."""
    length = float(rng.uniform(0.15, 0.5))
    f0 = float(rng.uniform(495, 515))
    x = _line_burst(rng, t, snr, [f0, 2 * f0, 3 * f0], [1.0, 0.7, 0.5], length)
    return Waveform(x, f0, 2 * f0, length)


@_model("scattered_light")
def scattered_light(
    rng: np.random.Generator,
    t: np.ndarray,
    snr: float,
    *,
    period_range=(1.5, 3.0),
    fmax_range=(18.0, 40.0),
    harmonics_range=(2, 5),
    span_s: float = 7.0,
    envelope_power: float = 0.5,
) -> Waveform:
    """Stacked arches: harmonics of f(t) = f_max |sin(pi t / T)| below ~100 Hz."""
    period = float(rng.uniform(*period_range))
    fmax = float(rng.uniform(*fmax_range))
    harmonics = int(rng.integers(*harmonics_range))
    offset = float(rng.uniform(0, period))
    arch = np.abs(np.sin(np.pi * (t - offset) / period))
    env = _window(t, -span_s / 2, span_s / 2, 0.3) * arch**envelope_power
    x = np.zeros_like(t)
    for k in range(1, harmonics + 1):
        freq = k * fmax * arch
        # the arch's feet fade out below ~12 Hz instead of piling up into a line at the floor
        feet = np.clip((freq - 10.0) / 6.0, 0.0, 1.0)
        x += track(t, np.maximum(freq, 8.0), env * feet, snr * _spread(span_s, k * fmax, 8.0) / np.sqrt(k))
    return Waveform(x, fmax * (harmonics + 1) / 2, fmax * harmonics, min(span_s, period))


@_model("fast_scattering")
def fast_scattering(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Many short, low arches in quick succession (found by volunteers in O3)."""
    return scattered_light(
        rng,
        t,
        snr,
        period_range=(0.25, 0.5),
        fmax_range=(32.0, 64.0),
        harmonics_range=(1, 3),
        span_s=6.0,
        envelope_power=0.5,
    )


@_model("scratchy")
def scratchy(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A smear of many weak wiggles across 30-400 Hz over about a second."""
    n = int(rng.integers(25, 45))
    length = float(rng.uniform(0.8, 2.0))
    freqs = np.exp(rng.uniform(np.log(30), np.log(400), size=n))
    x = sum(
        sine_gaussian(t, rng.uniform(-length / 2, length / 2), f, rng.uniform(5, 12), snr * rng.uniform(0.45, 0.8))
        for f in freqs
    )
    return Waveform(x, 110.0, 370.0, length)


@_model("tomte")
def tomte(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A short, bottom-heavy triangle at 20-60 Hz."""
    f0 = float(rng.uniform(30, 55))
    q = float(rng.uniform(1.5, 2.5))
    x = sine_gaussian(t, 0.0, f0, q, snr) + sine_gaussian(t, 0.0, 0.6 * f0, 1.5, 0.5 * snr)
    return Waveform(x, f0, f0, 0.1)


@_model("wandering_line")
def wandering_line(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A narrow line drifting slowly in frequency, across the whole window."""
    f0 = float(rng.uniform(400, 900))
    drift = float(rng.uniform(-25, 25))
    wobble = float(rng.uniform(5, 20))
    freq = f0 + drift * t + wobble * np.sin(2 * np.pi * t / rng.uniform(3, 8))
    length = 6.0
    x = track(t, freq, _window(t, -length / 2, length / 2, 0.3), snr * _spread(length, f0, 64.0))
    return Waveform(x, f0, 2 * (abs(drift) * 2 + wobble), length)


@_model("whistle")
def whistle(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Narrow V, U or W shaped tracks between ~0.3 and 2 kHz."""
    fmin = float(rng.uniform(300, 800))
    half = float(rng.uniform(0.15, 0.35))
    shape = rng.choice(["V", "U", "W"])
    u = np.clip(t / half, -1, 1)
    if shape == "V":
        profile = np.abs(u)
    elif shape == "U":
        profile = u**2
    else:
        profile = np.abs(np.abs(u) * 2 - 1)
    freq = fmin + (float(rng.uniform(1500, 2000)) - fmin) * profile
    x = track(t, freq, _window(t, -half, half, 0.02), snr * _spread(2 * half, fmin * 1.5, 20.0))
    return Waveform(x, fmin * 1.5, float(freq.max() - fmin), 2 * half)


@_model("lines_1080")
def lines_1080(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """Faint short dots at ~1080 Hz, scattered through the window."""
    n = int(rng.integers(3, 9))
    f0 = float(rng.uniform(1075, 1085))
    x = sum(
        sine_gaussian(t, rng.uniform(-1.8, 1.8) if k else 0.0, f0, rng.uniform(40, 80), snr * rng.uniform(0.7, 1.0))
        for k in range(n)
    )
    return Waveform(x, f0, 10.0, 0.05)


@_model("ripples_1400")
def ripples_1400(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A few quick ripples at 1.4-1.6 kHz."""
    n = int(rng.integers(3, 7))
    spacing = float(rng.uniform(0.015, 0.04))
    x = sum(
        sine_gaussian(t, (k - n / 2) * spacing, rng.uniform(1400, 1600), 12.0, snr * rng.uniform(0.7, 1.0))
        for k in range(n)
    )
    return Waveform(x, 1500.0, 200.0, n * spacing)


@_model("descending_comb")
def descending_comb(rng: np.random.Generator, t: np.ndarray, snr: float) -> Waveform:
    """A novel shape: 2-6 parallel downward sweeps (harmonics of a falling tone)."""
    f_start = float(rng.uniform(250, 400))
    f_end = float(rng.uniform(60, 110))
    length = float(rng.uniform(0.4, 0.9))
    u = np.clip((t + length / 2) / length, 0, 1)
    base = f_start * (f_end / f_start) ** u
    env = _window(t, -length / 2, length / 2, 0.03)
    x = sum(
        track(t, k * base, env, snr * _spread(length, k * 150.0, 12.0) / k**0.3)
        for k in range(1, int(rng.integers(3, 7)))
    )
    return Waveform(x, float(np.sqrt(f_start * f_end)), f_start - f_end, length)
