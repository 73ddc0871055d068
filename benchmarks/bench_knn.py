"""Nearest neighbours (cosine) at the archive's scale: exact search against approximate indexes, time and recall@10.

Candidates (issue 18): scikit-learn's exact brute-force search (what the audit
used), pynndescent (already installed: umap-learn's own neighbour search) and
faiss-cpu (HNSW, and the inverted file the audit uses, on normalised vectors,
where inner product is cosine). Recall@10
is measured on 2,000 random queries against their exact neighbours.

The vectors are ResNet-18-like: a run's real fused embeddings (``--from-run``,
e.g. the synthetic archive run of benchmarks/validate_sources.py) resampled
with noise to the size asked, else a mixture of 24 non-negative clusters in 512-d.

    python benchmarks/bench_knn.py [--sizes 100000] [--from-run RUN] [--methods exact,pynndescent,faiss-hnsw,"ours (faiss IVF)"]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line

K = 10
QUERIES = 2000


def vectors(n: int, source: Path | None, seed: int = 0) -> np.ndarray:
    """n unit vectors shaped like fused ResNet-18 embeddings."""
    rng = np.random.default_rng(seed)
    if source is not None:
        base = np.load(source / "embeddings.npy").astype(np.float32)
        spread = base.std(axis=0, keepdims=True) * 0.15
        out = base[rng.integers(0, len(base), n)] + rng.normal(size=(n, base.shape[1])).astype(np.float32) * spread
        out = np.maximum(out, 0)
    else:
        centres = np.abs(rng.normal(size=(24, 512))).astype(np.float32)
        out = centres[rng.integers(0, 24, n)] + 0.6 * np.abs(rng.normal(size=(n, 512))).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def exact_truth(x: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The exact k nearest (cosine) of each query, itself excluded."""
    similarity = x[queries] @ x.T
    similarity[np.arange(len(queries)), queries] = -np.inf
    return np.argpartition(-similarity, K, axis=1)[:, :K]


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)]))


def run_exact(x: np.ndarray) -> np.ndarray:
    from sklearn.neighbors import NearestNeighbors

    index = NearestNeighbors(n_neighbors=K + 1, metric="cosine").fit(x)
    return index.kneighbors(x)[1]


def run_pynndescent(x: np.ndarray) -> np.ndarray:
    from pynndescent import NNDescent

    index = NNDescent(x, metric="cosine", n_neighbors=30, random_state=0, n_jobs=-1, low_memory=True)
    return index.neighbor_graph[0]


def run_faiss_hnsw(x: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(x)
    index.hnsw.efSearch = 64
    return index.search(x, K + 1)[1]


def run_ours(x: np.ndarray) -> np.ndarray:
    """What the audit uses above its exact-search threshold (precompute.audit.neighbours)."""
    from precompute.audit.neighbours import nearest_neighbours

    return nearest_neighbours(x, K, exact_up_to=0)


METHODS = {
    "exact": run_exact, "pynndescent": run_pynndescent, "faiss-hnsw": run_faiss_hnsw, "ours (faiss IVF)": run_ours,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--from-run", type=Path, default=None)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    methods = args.methods.split(",")
    print(f"# {machine_line()}")
    print(f"# cosine k-NN, k={K}, all points queried; recall@{K} on {QUERIES} random queries against exact search")
    print(f"# vectors: {'resampled from ' + str(args.from_run) if args.from_run else 'synthetic mixture'}, 512-d")
    print("| points | method | time (s) | recall@10 |")
    print("|---|---|---|---|")
    for n in (int(s) for s in args.sizes.split(",")):
        x = vectors(n, args.from_run)
        queries = np.random.default_rng(1).choice(n, min(QUERIES, n), replace=False)
        truth = exact_truth(x, queries)
        for method in methods:
            start = time.perf_counter()
            found = METHODS[method](x)
            seconds = time.perf_counter() - start
            # the libraries return the point itself among its neighbours (ours already leaves it out): drop it
            rows = [[j for j in found[q] if j != q][:K] for q in queries]
            print(f"| {n:,} | {method} | {seconds:.1f} | {recall(np.array(rows), truth):.3f} |", flush=True)


if __name__ == "__main__":
    main()
