"""UMAP time (cosine, seeded: single-threaded) from the demo's size to the archive's, and placing new points.

Embedding-like inputs: 512-d vectors drawn around 24 class centres (real
embeddings of 34k images would take ~40 min to compute on our CPU).
``--transform N`` also places N new points on each fitted map with UMAP's
``transform`` (what ``precompute run --map-from`` does for a data set that grows),
and times pickling the fitted model (what the map cache keeps for that).

    python benchmarks/bench_umap.py [--sizes 300,8000,34000] [--transform 0]
    python benchmarks/bench_umap.py --sizes 100000,300000,700000 --transform 10000   # issue 18
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.reduce import UMAPConfig, _fit


def _vectors(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(24, 512))
    return (centres[rng.integers(0, 24, size=n)] + rng.normal(scale=0.8, size=(n, 512))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,8000,34000")
    parser.add_argument("--transform", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print("# UMAP to 2-D, n_neighbors=30, min_dist=0.1, cosine, random_state=42")
    print(f"# {machine_line()}")
    start = time.perf_counter()
    import umap  # noqa: F401

    print(f"import umap: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    warm = _vectors(5200)
    _, reducer = _fit(warm[:5000], UMAPConfig(backend="umap-learn"), [])  # compiles the exact-kNN and NN-descent paths
    if args.transform:
        reducer.transform(warm[5000:])  # and transform's own
    print(f"first fit in a process (5,000 points, numba compilation included): {time.perf_counter() - start:.1f} s")
    if args.transform:
        print(f"| points | fit time, warm (s) | transform {args.transform:,} new points (s) | model pickle (s, MB) |")
        print("|---|---|---|---|")
    else:
        print("| points | fit time, warm (s) |")
        print("|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        vectors = _vectors(n + args.transform)
        start = time.perf_counter()
        _, reducer = _fit(vectors[:n], UMAPConfig(backend="umap-learn"), [])
        fitted = time.perf_counter() - start
        if not args.transform:
            print(f"| {n:,} | {fitted:.1f} |", flush=True)
            continue
        start = time.perf_counter()
        reducer.transform(vectors[n:])
        placed = time.perf_counter() - start
        start = time.perf_counter()
        size = len(pickle.dumps(reducer, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
        pickled = time.perf_counter() - start
        print(f"| {n:,} | {fitted:.1f} | {placed:.1f} | {pickled:.1f}, {size:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
