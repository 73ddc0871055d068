"""Observing runs of O1–O3b: their GPS spans (to catch a catalogue file mixed from two runs) and their classes."""

from __future__ import annotations

from ..classes import CLASSES

__all__ = ["ARCHIVE_CLASSES", "DETECTORS", "O3_CLASSES", "RUN_SPANS", "run_of_time"]

#: GPS start and end of each observing run (public LIGO run dates; ends are exclusive).
RUN_SPANS: dict[str, tuple[float, float]] = {
    "O1": (1126051217.0, 1137254417.0),  # 2015-09-12 .. 2016-01-19
    "O2": (1164556817.0, 1187733618.0),  # 2016-11-30 .. 2017-08-25
    "O3a": (1238166018.0, 1253977218.0),  # 2019-04-01 .. 2019-10-01
    "O3b": (1256655618.0, 1269363618.0),  # 2019-11-01 .. 2020-03-27
}
DETECTORS: tuple[str, ...] = ("H1", "L1")
#: Classes the O3 classifier added to the 22 of the training set (Soni et al. 2021; Glanzer et al. 2023).
O3_CLASSES: tuple[str, ...] = ("Blip_Low_Frequency", "Fast_Scattering")
#: Every class the archive's score columns may carry; anything else is reported as an unknown class (kept).
ARCHIVE_CLASSES: tuple[str, ...] = (*CLASSES, *O3_CLASSES)


def run_of_time(gps: float) -> str | None:
    """The observing run a GPS time falls in, or None (between runs, or outside O1–O3b)."""
    for run, (start, end) in RUN_SPANS.items():
        if start <= gps < end:
            return run
    return None
