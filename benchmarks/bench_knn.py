"""Nearest neighbours (cosine) at the archive's scale: exact search against approximate indexes, time and recall@10.

Candidates (issue 18): scikit-learn's exact brute-force search (what the audit
used), pynndescent (already installed: umap-learn's own neighbour search) and
faiss-cpu (HNSW, and its inverted-file search per point, on normalised vectors,
where inner product is cosine), and ours: the same inverted file searched list
by list as a self-join of matrix products. Recall@10 is measured on 2,000 random
queries against their exact neighbours. ``--search-k`` asks every method for more
neighbours than the ten scored (the audit of an archive run asks for 60).

The vectors are ResNet-18-like: a run's real fused embeddings (``--from-run``,
e.g. the synthetic archive run of benchmarks/validate_sources.py) resampled
with noise to the size asked, else a mixture of 24 non-negative clusters in 512-d.

    python benchmarks/bench_knn.py [--sizes 100000] [--from-run RUN] [--search-k 10]
        [--methods exact,pynndescent,faiss-hnsw,faiss-ivf,ours]
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
#: neighbours each method is asked for (``--search-k``); recall is scored on the first K
SEARCH_K = [K]


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

    index = NearestNeighbors(n_neighbors=SEARCH_K[0] + 1, metric="cosine").fit(x)
    return index.kneighbors(x)[1]


def run_pynndescent(x: np.ndarray) -> np.ndarray:
    from pynndescent import NNDescent

    index = NNDescent(
        x, metric="cosine", n_neighbors=max(30, SEARCH_K[0] + 1), random_state=0, n_jobs=-1, low_memory=True
    )
    return index.neighbor_graph[0]


def run_faiss_hnsw(x: np.ndarray) -> np.ndarray:
    import faiss

    index = faiss.IndexHNSWFlat(x.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(x)
    index.hnsw.efSearch = max(64, SEARCH_K[0] + 1)
    return index.search(x, SEARCH_K[0] + 1)[1]


def run_faiss_ivf(x: np.ndarray) -> np.ndarray:
    """faiss's own IVF search, one scan per point, with the lists and probes ours uses (ours until 2026-11-30)."""
    import faiss

    from precompute.audit.neighbours import _LISTS_PER_ROOT, _PROBES

    lists = int(min(_LISTS_PER_ROOT * np.sqrt(len(x)), len(x) / 40))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(x.shape[1]), x.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    index.train(x[np.sort(np.random.default_rng(0).choice(len(x), min(len(x), 40 * lists), replace=False))])
    index.add(x)
    index.nprobe = _PROBES
    return index.search(x, SEARCH_K[0] + 1)[1]


def run_ours(x: np.ndarray) -> np.ndarray:
    """What the audit uses above its exact-search threshold (precompute.audit.neighbours)."""
    from precompute.audit.neighbours import nearest_neighbours

    return nearest_neighbours(x, SEARCH_K[0], exact_up_to=0)


METHODS = {
    "exact": run_exact, "pynndescent": run_pynndescent, "faiss-hnsw": run_faiss_hnsw, "faiss-ivf": run_faiss_ivf,
    "ours": run_ours,
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--from-run", type=Path, default=None)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--search-k", type=int, default=K)
    args = parser.parse_args()
    SEARCH_K[0] = max(K, args.search_k)
    methods = args.methods.split(",")
    print(f"# {machine_line()}")
    print(
        f"# cosine k-NN, k={SEARCH_K[0]} asked, all points queried; recall@{K} on {QUERIES} random queries against exact search"
    )
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
