"""Trigger parameters measured from a glitch's Q-transform, the way Omicron measures the real ones.

The synthetic metadata must be what a trigger generator would *measure* from
the simulated strain, scatter included, never the waveform model's own numbers
(a split rule reading a copied, noise-free ``duration`` would be reading the
answer). Omicron tiles the whitened data in time, frequency and Q, keeps tiles
above an SNR threshold, and clusters them in time; a trigger's parameters are
its cluster's extent. Here, on the Q-plane the glitch is rendered from
(gwpy's ``q_scan``, Gravity Spy's Omega-scan settings):

1. a tile is one sample of one frequency row: it spans the row's sample
   spacing in time and the row's bandwidth ``2 sqrt(pi) f / Q`` in frequency
   (gwpy's ``QTile``); its SNR is ``sqrt(2 E)`` for normalized energy ``E``;
2. the *peak* is the loudest tile within the search window (±0.25 s): it
   gives ``peak_frequency``, the peak time and ``snr``;
3. tiles with SNR >= ``TILE_SNR`` away from the whitening's edges are merged
   into time clusters (gaps up to ``CLUSTER_GAP_S``); the cluster holding the
   peak is the trigger (the peak alone when nothing else passes);
4. ``duration`` is the cluster's time extent, ``bandwidth`` its frequency
   extent, ``central_freq`` the middle of that extent, as in LIGO's burst
   tables (``flow = central_freq - bandwidth / 2``).

Measured this way every column carries the noise: a shape's values spread
from glitch to glitch with its loudness and the noise around it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["CLUSTER_GAP_S", "TILE_SNR", "Trigger", "measure_trigger"]

#: Tiles at least this loud (SNR, ``sqrt(2 E)``) join a trigger (Omicron's usual tile threshold).
TILE_SNR = 5.0
#: Tiles closer than this in time belong to one cluster (Omicron's default clustering window).
CLUSTER_GAP_S = 0.1


@dataclass(frozen=True)
class Trigger:
    """One measured trigger; times in seconds from the segment's centre, frequencies in Hz."""

    peak_time_s: float
    start_time_s: float
    end_time_s: float
    peak_frequency_hz: float
    low_frequency_hz: float
    high_frequency_hz: float
    snr: float
    q: float
    n_tiles: int  #: tiles in the trigger's cluster

    @property
    def duration_s(self) -> float:
        return self.end_time_s - self.start_time_s

    @property
    def bandwidth_hz(self) -> float:
        return self.high_frequency_hz - self.low_frequency_hz

    @property
    def central_frequency_hz(self) -> float:
        return (self.low_frequency_hz + self.high_frequency_hz) / 2


def _tiles(qgram, keep) -> tuple[np.ndarray, ...]:
    """(time, half width, frequency, half bandwidth, energy) of every tile ``keep(times, energies)`` selects."""
    q = float(qgram.plane.q)
    parts = []
    for frequency, row in zip(qgram.plane.frequencies, qgram.energies, strict=True):
        times, energies = np.asarray(row.times.value), np.asarray(row.value, dtype=np.float64)
        chosen = keep(times, energies)
        if chosen.any():
            half_bandwidth = math.sqrt(math.pi) * float(frequency) / q
            n = int(chosen.sum())
            parts.append(
                (times[chosen], np.full(n, float(row.dx.value) / 2), np.full(n, float(frequency)),
                 np.full(n, half_bandwidth), energies[chosen])
            )  # fmt: skip
    if not parts:
        return tuple(np.empty(0) for _ in range(5))
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def measure_trigger(
    qgram, *, search_s: float, edge_s: float, tile_snr: float = TILE_SNR, gap_s: float = CLUSTER_GAP_S
) -> Trigger:
    """The trigger around the loudest tile of ``qgram`` within ``search_s`` of the centre (module docstring).

    ``edge_s`` is how far from either end of the segment tiles are trusted (the
    whitening's filter length); ``qgram`` is gwpy's ``QGram`` (``q_scan``'s first result).
    """
    t, half_t, f, half_f, e = _tiles(qgram, lambda times, _: np.abs(times) <= search_s / 2)
    if not len(e):
        raise ValueError("the Q-plane has no tile within the search window")
    best = int(np.argmax(e))
    peak_time, peak_frequency, peak_energy = float(t[best]), float(f[best]), float(e[best])
    span = np.asarray(qgram.energies[0].times.value)
    limit = min(-span[0], span[-1]) - edge_s
    t, half_t, f, half_f, _ = _tiles(
        qgram, lambda times, energies: (np.abs(times) <= limit) & (np.sqrt(2 * np.maximum(energies, 0)) >= tile_snr)
    )
    start, end, low, high, n_tiles = peak_time, peak_time, peak_frequency, peak_frequency, 1
    if len(t):
        order = np.argsort(t - half_t, kind="stable")
        begins, ends = (t - half_t)[order], (t + half_t)[order]
        # a new cluster starts where a tile begins more than gap_s after every earlier tile has ended
        reach = np.maximum.accumulate(ends)
        cluster = np.concatenate([[0], np.cumsum(begins[1:] > reach[:-1] + gap_s)])
        at_peak = (begins <= peak_time + gap_s) & (ends >= peak_time - gap_s)
        if at_peak.any():
            mine = np.isin(cluster, np.unique(cluster[at_peak]))
            members = order[mine]
            n_tiles = int(mine.sum())
            start, end = float(begins[mine].min()), float(ends[mine].max())
            low, high = float((f - half_f)[members].min()), float((f + half_f)[members].max())
    # the peak tile itself always belongs to its trigger
    peak_half_t = _row_half_width(qgram, peak_frequency)
    peak_half_f = math.sqrt(math.pi) * peak_frequency / float(qgram.plane.q)
    return Trigger(
        peak_time_s=peak_time,
        start_time_s=min(start, peak_time - peak_half_t),
        end_time_s=max(end, peak_time + peak_half_t),
        peak_frequency_hz=peak_frequency,
        low_frequency_hz=max(min(low, peak_frequency - peak_half_f), 0.0),
        high_frequency_hz=max(high, peak_frequency + peak_half_f),
        snr=math.sqrt(2.0 * max(peak_energy, 0.0)),
        q=float(qgram.plane.q),
        n_tiles=n_tiles,
    )


def _row_half_width(qgram, frequency: float) -> float:
    """Half the sample spacing of the row at ``frequency``: the peak tile's half duration."""
    for f, row in zip(qgram.plane.frequencies, qgram.energies, strict=True):
        if float(f) == frequency:
            return float(row.dx.value) / 2
    return 0.0
