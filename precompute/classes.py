"""The Gravity Spy class taxonomy and file-naming facts, in one place.

Everything that is a property of the real data set (the 22 training-set classes,
their v1.1 counts and mean properties, the four time windows, the PNG naming
scheme) lives here so that readers, the synthetic generator and the audit agree.
Counts are the real v1.1 numbers and serve only as weights for the synthetic
generator: no code treats them as expected values for a data set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CATCH_ALL_LABELS",
    "CLASSES",
    "KNOWN_LABELS",
    "PNG_NAME_RE",
    "WINDOWS",
    "ClassInfo",
    "png_name",
]

#: Labels that mean "none of the named shapes": a coherent cluster of them is a candidate new class, and holding
#: several shapes is what they are for (so they are never split suggestions).
CATCH_ALL_LABELS: tuple[str, ...] = ("None_of_the_Above",)

#: The four time windows (seconds) as the strings used in file names.
WINDOWS: tuple[str, ...] = ("0.5", "1.0", "2.0", "4.0")

#: Gravity Spy's own PNG naming scheme: ``{ifo}_{gravityspy_id}_spectrogram_{window}.png``.
PNG_NAME_RE = re.compile(r"^(H1|L1)_([A-Za-z0-9]+)_spectrogram_(0\.5|1\.0|2\.0|4\.0)\.png$")


def png_name(ifo: str, gravityspy_id: str, window: str) -> str:
    """Return the Gravity Spy file name of one time window of one glitch."""
    return f"{ifo}_{gravityspy_id}_spectrogram_{window}.png"


@dataclass(frozen=True)
class ClassInfo:
    """Summary statistics of one class in training set v1.1."""

    name: str
    h1: int
    l1: int
    mean_snr: float
    mean_peak_frequency_hz: float
    mean_duration_s: float
    look: str

    @property
    def total(self) -> int:
        return self.h1 + self.l1

    @property
    def h1_fraction(self) -> float:
        return self.h1 / self.total


# name, H1, L1, mean SNR, mean peak f (Hz), mean duration (s), look
_TABLE = [
    ("1080Lines", 327, 1, 10.2, 1111, 0.85, "faint repeating dots/short lines near 1080 Hz"),
    ("1400Ripples", 0, 81, 10.9, 1527, 0.15, "short ripples at 1.4-1.6 kHz"),
    ("Air_Compressor", 55, 3, 8.7, 48, 0.41, "narrow band near 50 Hz"),
    ("Blip", 1453, 368, 22.8, 199, 0.27, "~10 ms symmetric teardrop, ~30-500 Hz"),
    ("Chirp", 28, 32, 13.6, 141, 0.29, "upward sweep, inspiral-like"),
    ("Extremely_Loud", 266, 181, 2416, 140, 8.17, "saturates most of the band, long"),
    ("Helix", 3, 276, 8.8, 134, 0.09, "stacked bright knots, coil-like, ~50-300 Hz"),
    ("Koi_Fish", 517, 189, 139, 157, 1.75, "loud blip: wide head at 30-150 Hz, narrow tail"),
    ("Light_Modulation", 511, 1, 34.6, 105, 2.34, "repeating train of low-frequency spikes"),
    ("Low_Frequency_Burst", 166, 455, 29.9, 16, 2.91, "hump at 10-30 Hz lasting 0.5-3 s"),
    ("Low_Frequency_Lines", 79, 368, 23.1, 12, 3.94, "horizontal lines below ~30 Hz"),
    ("No_Glitch", 91, 59, 9.3, 183, 1.95, "noise only"),
    ("None_of_the_Above", 51, 30, 45.3, 170, 2.72, "anything else, novel shapes"),
    ("Paired_Doves", 27, 0, 33.4, 41, 0.42, "chirp up then mirror chirp down"),
    ("Power_Line", 273, 176, 11.3, 62, 0.75, "60 Hz (and harmonics) burst"),
    ("Repeating_Blips", 230, 33, 29.2, 200, 0.31, "3-6 blips, regular spacing"),
    ("Scattered_Light", 385, 58, 16.4, 30, 2.61, "stacked arches below ~100 Hz"),
    ("Scratchy", 90, 247, 8.6, 153, 1.45, "smear of many weak wiggles at 30-400 Hz"),
    ("Tomte", 61, 42, 16.2, 47, 0.73, "short, bottom-heavy triangle at ~20-60 Hz"),
    ("Violin_Mode", 141, 271, 13.4, 1673, 0.29, "short lines at multiples of ~500 Hz"),
    ("Wandering_Line", 42, 0, 27.8, 667, 6.05, "narrow line drifting slowly in frequency"),
    ("Whistle", 2, 297, 9.5, 1093, 0.59, "narrow V/W/U-shaped tracks, ~0.3-2 kHz"),
]

#: The 22 classes of training sets v1.0/v1.1, by name.
CLASSES: dict[str, ClassInfo] = {row[0]: ClassInfo(*row) for row in _TABLE}

#: Labels a reader accepts without a warning. Others are kept and reported.
KNOWN_LABELS: frozenset[str] = frozenset(CLASSES)
