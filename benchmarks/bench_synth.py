"""Synthetic data generation speed: glitches per second, by worker count, and where the time goes.

Target (issue 2): >= 2 glitches/s on our 2-core machine with all cores.

    python benchmarks/bench_synth.py [--glitches 48]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.synth.generate import BLOCK_S, SAMPLE_RATE_HZ, generate_dataset
from precompute.synth.plan import Plan, assign_truth, load_plan


def _plan() -> Plan:
    return Plan.from_dict({**load_plan().source, "min_per_morphology": 1})


def stage_breakdown(n: int) -> dict[str, float]:
    """Mean seconds per glitch of each stage, in this process (one core)."""
    from gwpy.timeseries import TimeSeries

    from precompute.synth.generate import _grid
    from precompute.synth.glitches import MODELS
    from precompute.synth.noise import colour
    from precompute.synth.render import figure_png, q_energy_windows, warm_chrome

    warm_chrome()  # one-time cost, shared by forked workers: not part of the per-glitch time

    truth = assign_truth(_plan(), max(n, 24), seed=1).head(n)
    size, t, asd = _grid(SAMPLE_RATE_HZ, BLOCK_S)
    spent = dict.fromkeys(["waveform + noise", "Q-transform (4 windows)", "PNG render + encode (4)"], 0.0)
    for row in truth.itertuples():
        start = time.perf_counter()
        rng = np.random.default_rng(row.glitch_seed)
        wave = MODELS[row.model](rng, t, row.snr_target)
        series = TimeSeries(
            colour(rng.normal(size=size) + wave.samples, SAMPLE_RATE_HZ), sample_rate=SAMPLE_RATE_HZ, t0=-BLOCK_S / 2
        )
        after_wave = time.perf_counter()
        energies, _ = q_energy_windows(series, [0.5, 1.0, 2.0, 4.0], asd)
        after_q = time.perf_counter()
        for window, energy in zip(("0.5", "1.0", "2.0", "4.0"), energies, strict=True):
            figure_png(energy, ifo=row.ifo, window=window)
        end = time.perf_counter()
        spent["waveform + noise"] += after_wave - start
        spent["Q-transform (4 windows)"] += after_q - after_wave
        spent["PNG render + encode (4)"] += end - after_q
    return {k: v / n for k, v in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glitches", type=int, default=48)
    args = parser.parse_args()
    import os

    cores = os.cpu_count() or 1
    print(f"# synthetic generation, {args.glitches} glitches x 4 PNGs")
    print(f"# {machine_line()}")
    rows = []
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            generate_dataset(
                Path(tmp) / "set", glitches=args.glitches, seed=3, plan=_plan(), workers=workers, show_progress=False
            )
            elapsed = time.perf_counter() - start
        rows.append((workers, elapsed, args.glitches / elapsed))
    base = rows[0][2]
    print("| workers | wall time (s) | glitches/s | speed-up vs 1 worker |")
    print("|---|---|---|---|")
    for workers, elapsed, rate in rows:
        print(f"| {workers} | {elapsed:.1f} | {rate:.2f} | {rate / base:.2f}x |")
    print()
    print("| stage (one core) | s per glitch | share |")
    print("|---|---|---|")
    stages = stage_breakdown(8)
    total = sum(stages.values())
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.3f} | {seconds / total:.0%} |")
    print(f"| total | {total:.3f} | 100% |")


if __name__ == "__main__":
    main()
