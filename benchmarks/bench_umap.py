"""UMAP time (cosine, seeded: single-threaded) at the demo's size and at the real training set's 34k.

Embedding-like inputs: 512-d vectors drawn around 24 class centres (real
embeddings of 34k images would take ~40 min to compute on our CPU).

    python benchmarks/bench_umap.py [--sizes 300,8000,34000]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.reduce import UMAPConfig, reduce_umap


def _vectors(n: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(24, 512))
    return (centres[rng.integers(0, 24, size=n)] + rng.normal(scale=0.8, size=(n, 512))).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,8000,34000")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    print("# UMAP to 2-D, n_neighbors=30, min_dist=0.1, cosine, random_state=42")
    print(f"# {machine_line()}")
    start = time.perf_counter()
    import umap  # noqa: F401

    print(f"import umap: {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    reduce_umap(_vectors(5000), UMAPConfig(), [])  # compiles the exact-kNN and NN-descent paths
    print(f"first fit in a process (5,000 points, numba compilation included): {time.perf_counter() - start:.1f} s")
    print("| points | fit time, warm (s) |")
    print("|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        vectors = _vectors(n)
        start = time.perf_counter()
        reduce_umap(vectors, UMAPConfig(), [])
        print(f"| {n:,} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main()
