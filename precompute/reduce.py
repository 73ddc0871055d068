"""Stage 5 (reduce): UMAP to two dimensions, seeded. The only module that imports umap.

UMAP is slow to import (numba compiles) and to fit on one core: it runs here,
offline, and its result is cached by the exact input vectors and settings
(`reduce_cached`), so a re-run that changes only clustering or audit settings
reuses the map; the dashboard only reads the stored coordinates.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import PrecomputeError

__all__ = ["UMAPConfig", "reduce_cached", "reduce_umap"]

log = logging.getLogger("precompute")


@dataclass(frozen=True)
class UMAPConfig:
    """UMAP settings (defaults as the seed study).

    n_neighbors (30): size of the neighbourhood that shapes the map; larger
    keeps more global structure, smaller finer local detail; typical 5-100.
    min_dist (0.1): how tightly points may pack; 0-0.99.
    metric ('cosine'): distance between embeddings.
    seed (42): makes the map reproducible (UMAP then runs single-threaded).
    """

    n_neighbors: int = 30
    min_dist: float = 0.1
    metric: str = "cosine"
    seed: int = 42

    def __post_init__(self) -> None:
        if not isinstance(self.n_neighbors, int) or self.n_neighbors < 2:
            raise PrecomputeError(f"--umap-neighbors must be a whole number >= 2, got {self.n_neighbors!r}")
        if not (isinstance(self.min_dist, int | float) and math.isfinite(self.min_dist) and 0 <= self.min_dist < 1):
            raise PrecomputeError(f"--umap-min-dist must be in [0, 1), got {self.min_dist!r}")
        if self.metric not in ("cosine", "euclidean", "correlation", "manhattan"):
            raise PrecomputeError(
                f"--umap-metric must be cosine, euclidean, correlation or manhattan, got {self.metric!r}"
            )

    def as_dict(self) -> dict[str, object]:
        return {"n_neighbors": self.n_neighbors, "min_dist": self.min_dist, "metric": self.metric, "seed": self.seed}


def _neighbours_for(n: int, config: UMAPConfig, warnings: list[str]) -> int:
    """The n_neighbors UMAP can use on ``n`` points (lowered, with a warning, for tiny sets)."""
    if n < 4:
        raise PrecomputeError(f"UMAP needs at least 4 points, the data set gave {n}")
    if config.n_neighbors < n:
        return config.n_neighbors
    warnings.append(f"UMAP n_neighbors lowered from {config.n_neighbors} to {n - 1}: only {n} points")
    return n - 1


def reduce_umap(vectors: np.ndarray, config: UMAPConfig, warnings: list[str]) -> np.ndarray:
    """Map ``vectors`` (n, d) to (n, 2) float32 coordinates."""
    import umap

    neighbors = _neighbours_for(len(vectors), config, warnings)
    reducer = umap.UMAP(
        n_neighbors=neighbors,
        min_dist=config.min_dist,
        metric=config.metric,
        n_components=2,
        random_state=config.seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so silences its warning
    )
    return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)


def reduce_cached(
    vectors: np.ndarray, config: UMAPConfig, warnings: list[str], cache_dir: Path
) -> tuple[np.ndarray, bool]:
    """`reduce_umap`, reusing the coordinates of an earlier fit on the same vectors and settings.

    Returns the coordinates and whether they came from the cache
    (``cache_dir/umap/<sha256 of vectors + settings>.npy``, written atomically).
    """
    from .atomic import atomic_path

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    digest = hashlib.sha256(vectors.tobytes())
    digest.update(json.dumps({"shape": vectors.shape, **config.as_dict(), "version": 1}, sort_keys=True).encode())
    path = Path(cache_dir) / "umap" / f"{digest.hexdigest()[:32]}.npy"
    if path.is_file():
        try:
            coords = np.load(path)
            if coords.shape == (len(vectors), 2):
                if config.n_neighbors >= len(vectors):
                    warnings.append(
                        f"UMAP n_neighbors lowered from {config.n_neighbors} to {len(vectors) - 1}: only {len(vectors)} points"
                    )
                return coords, True
        except (OSError, ValueError) as exc:
            log.warning("cached UMAP map %s is unreadable (%s); fitting again", path, exc)
    coords = reduce_umap(vectors, config, warnings)
    with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as handle:
        np.save(handle, coords)
    return coords, False
