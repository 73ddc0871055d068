"""Print, per true shape of a synthetic set, the spread of each measured Omicron column beside the real class means.

    python scripts/metadata_spread.py --data data/validation/data/default-2000-s1

Medians with the 10th-90th percentile range of duration, peak frequency, central
frequency, bandwidth and SNR, as measured from the simulated strain
(precompute/synth/trigger.py), and the training set v1.1 means of SNR, peak
frequency and duration (precompute/classes.py) for the shapes that are Gravity
Spy classes. The table in docs/synthetic-data.md comes from this script.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from precompute.classes import CLASSES


def _spread(values: pd.Series, digits: str) -> str:
    q10, q50, q90 = values.quantile([0.1, 0.5, 0.9])
    return f"{q50:{digits}} ({q10:{digits}}–{q90:{digits}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="a synthetic set made by 'synth'")
    args = parser.parse_args()
    meta = pd.read_csv(args.data / "trainingset_v1d1_metadata.csv", dtype={"gravityspy_id": str})
    truth = pd.read_csv(args.data / "truth" / "truth.csv", dtype={"gravityspy_id": str})
    table = meta.merge(truth[["gravityspy_id", "morphology"]], on="gravityspy_id")
    print(f"{len(table)} glitches of {args.data.name}; median (10th–90th percentile) per true shape; real: v1.1 mean")
    print()
    print("| shape | n | duration s (real) | peak frequency Hz (real) | central freq Hz | bandwidth Hz | SNR (real) |")
    print("|---|---|---|---|---|---|---|")
    for shape, group in table.groupby("morphology"):
        info = CLASSES.get(shape)
        real = (lambda v: f" ({v:g})") if info else (lambda v: "")
        print(
            f"| {shape} | {len(group)} | {_spread(group['duration'], '.2f')}{real(info.mean_duration_s if info else 0)} | "
            f"{_spread(group['peak_frequency'], '.0f')}{real(info.mean_peak_frequency_hz if info else 0)} | "
            f"{_spread(group['central_freq'], '.0f')} | {_spread(group['bandwidth'], '.0f')} | "
            f"{_spread(group['snr'], '.1f')}{real(info.mean_snr if info else 0)} |"
        )


if __name__ == "__main__":
    main()
