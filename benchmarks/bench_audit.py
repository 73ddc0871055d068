"""The audit's costs at scale: what runs once per run and what runs on every re-cut of the dashboard.

Once per run (``run``/``audit``, and the dashboard's load for the split groups):
per-glitch suspicion (k-NN in the 512-d embedding space) and the split rule's
Omicron groups (precompute.audit.groups). Per re-cut: every finding
(`all_findings`: merge, continuum, overlap, split placement, novel, cannot
tell), which the dashboard computes after the cluster table, in its own
callback; and three of them alone, as earlier tables had them.

It builds a synthetic audit input of N points: 22 labels on a 2-D map and in a
512-d embedding space, a few labels lumping two shapes with two durations,
10% label noise.

    python benchmarks/bench_audit.py [--sizes 34000,100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.audit.findings import all_findings, merge_suggestions, novel_classes, split_suggestions
from precompute.audit.groups import label_groups
from precompute.audit.params import FindingParams
from precompute.audit.suspicion import glitch_suspicion
from precompute.classes import CLASSES


def make_points(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """N points of 26 shapes under 22 labels (four labels lump two shapes), 10% label noise."""
    rng = np.random.default_rng(seed)
    labels = list(CLASSES)
    shapes = rng.integers(0, 26, n)
    label = np.array(labels)[shapes % len(labels)]
    noisy = rng.random(n) < 0.1
    label[noisy] = rng.choice(labels, int(noisy.sum()))
    centres2d, centres = rng.uniform(-15, 15, (26, 2)), rng.normal(size=(26, 512))
    duration = np.exp(rng.normal(np.log(0.2 + shapes / 5), 0.2))
    points = pd.DataFrame(
        {
            "gravityspy_id": [f"g{i:07d}" for i in range(n)],
            "label": label,
            "x": centres2d[shapes, 0] + rng.normal(0, 0.5, n),
            "y": centres2d[shapes, 1] + rng.normal(0, 0.5, n),
            "cluster": np.where(rng.random(n) < 0.1, -1, shapes),
            "duration": duration,
            "peak_frequency": np.exp(rng.normal(5, 0.3, n)),
        }
    )
    embeddings = (centres[shapes] + rng.normal(0, 1.0, (n, 512))).astype(np.float32)
    return points, embeddings


def _timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="34000,100000")
    args = parser.parse_args()
    params = FindingParams()
    print(machine_line())
    print()
    print("| points | suspicion (once per run) | split groups (once per run) | every finding per re-cut | merge / split placement / novel alone | splits found |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        points, embeddings = make_points(n)
        t_suspicion, glitches = _timed(glitch_suspicion, points, embeddings, params)
        agreement = glitches["agreement"].to_numpy()
        t_groups, groups = _timed(label_groups, points, embeddings, params, agreement)
        t_merge, _ = _timed(merge_suggestions, points, params, embeddings)
        t_split, splits = _timed(split_suggestions, points, params, groups=groups)
        t_novel, _ = _timed(novel_classes, points, params)
        t_all, _ = _timed(all_findings, points, params, embeddings, groups)  # every kind, as the dashboard asks
        print(
            f"| {n:,} | {t_suspicion:.2f} s | {t_groups:.2f} s | {t_all:.2f} s | "
            f"{t_merge:.3f} / {t_split:.3f} / {t_novel:.3f} s | {len(splits)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
