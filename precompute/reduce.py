"""Stage 5: UMAP to two dimensions, seeded. The only module that imports umap.

UMAP is slow to import (numba compiles) and to fit on one core: it runs here,
offline, once per run; the dashboard only reads the stored coordinates.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from .errors import PrecomputeError

__all__ = ["UMAPConfig", "reduce_umap"]

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


def reduce_umap(vectors: np.ndarray, config: UMAPConfig, warnings: list[str]) -> np.ndarray:
    """Map ``vectors`` (n, d) to (n, 2) float32 coordinates."""
    import umap

    n = len(vectors)
    if n < 4:
        raise PrecomputeError(f"UMAP needs at least 4 points, the data set gave {n}")
    neighbors = config.n_neighbors
    if neighbors >= n:
        neighbors = n - 1
        warnings.append(f"UMAP n_neighbors lowered from {config.n_neighbors} to {neighbors}: only {n} points")
    reducer = umap.UMAP(
        n_neighbors=neighbors,
        min_dist=config.min_dist,
        metric=config.metric,
        n_components=2,
        random_state=config.seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; saying so silences its warning
    )
    return np.asarray(reducer.fit_transform(vectors), dtype=np.float32)
