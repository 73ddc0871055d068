"""Re-clustering after a min_cluster_size change: cached tree cut vs fresh HDBSCAN fits.

Targets (issue 3), on our 2-core machine: cut <= 0.3 s at 34k points and <= 3 s
at 1M points, and >= 30x faster than a fresh fit.

    python benchmarks/bench_recluster.py [--sizes 34000,1000000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.cluster import ClusterParams, ClusterTree


def _points(n: int) -> np.ndarray:
    """A UMAP-like 2-D map: many blobs of varied size and spread, plus a sprinkle of noise."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(-15, 15, size=(60, 2))
    sizes = rng.dirichlet(np.ones(60)) * n * 0.95
    parts = [rng.normal(c, rng.uniform(0.2, 0.8), size=(int(s), 2)) for c, s in zip(centres, sizes, strict=True)]
    parts.append(rng.uniform(-16, 16, size=(n - sum(len(p) for p in parts), 2)))
    return np.concatenate(parts)


def _measure(n: int, min_samples: int) -> str:
    """One table row: build, cut (best of 3 different sizes), fresh hdbscan fit, ratio."""
    import hdbscan

    points = _points(n)
    start = time.perf_counter()
    tree = ClusterTree.build(points, min_samples)
    build = time.perf_counter() - start
    cuts = []
    for size in (50, 120, 300):
        start = time.perf_counter()
        tree.cut(ClusterParams(size, min_samples))
        cuts.append(time.perf_counter() - start)
    cut = min(cuts)
    clusters = tree.cut(ClusterParams(50, min_samples)).n_clusters
    start = time.perf_counter()
    hdbscan.HDBSCAN(min_cluster_size=50, min_samples=min_samples, core_dist_n_jobs=-1).fit(points)
    fit = time.perf_counter() - start
    return (
        f"| {n:,} | {build:.2f} s | {cut:.3f} s | {fit:.2f} s | {build + cut:.2f} s | {fit / cut:.0f}x | {clusters} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="34000,1000000")
    parser.add_argument("--min-samples", type=int, default=10)
    args = parser.parse_args()
    print("# re-clustering after a min_cluster_size change (min_samples fixed)")
    print(f"# {machine_line()}")
    print(
        "| points | tree build (once per min_samples) | cut, cached tree (best of 3 sizes) | fresh fit: hdbscan | fresh fit: engine (build + cut) | cut vs hdbscan fit | clusters |"
    )
    print("|---|---|---|---|---|---|---|")
    import hdbscan

    warm = _points(2000)  # first calls pay for loading numba caches and hdbscan's set-up: not what we compare
    ClusterTree.build(warm, args.min_samples).cut(ClusterParams(30, args.min_samples))
    hdbscan.HDBSCAN(min_cluster_size=30, min_samples=args.min_samples, core_dist_n_jobs=-1).fit(warm)
    for n in (int(s) for s in args.sizes.split(",")):
        print(_measure(n, args.min_samples), flush=True)


if __name__ == "__main__":
    main()
