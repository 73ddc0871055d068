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
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import PrecomputeError

__all__ = ["BACKENDS", "MapPlacement", "UMAPConfig", "place_on_map", "reduce_cached", "reduce_umap", "resolve_backend"]

log = logging.getLogger("precompute")
#: Who fits the map: ``umap-learn`` on the CPU, or RAPIDS cuML's UMAP on a GPU (requirements-gpu.txt); ``auto``
#: takes cuML where it is installed and sees a GPU.
BACKENDS = ("auto", "umap-learn", "cuml")


@dataclass(frozen=True)
class UMAPConfig:
    """UMAP settings (defaults as the seed study).

    n_neighbors (30): size of the neighbourhood that shapes the map; larger
    keeps more global structure, smaller finer local detail; typical 5-100.
    min_dist (0.1): how tightly points may pack; 0-0.99.
    metric ('cosine'): distance between embeddings.
    seed (42): makes the map reproducible (UMAP then runs single-threaded).
    backend ('auto'): one of `BACKENDS`.
    """

    n_neighbors: int = 30
    min_dist: float = 0.1
    metric: str = "cosine"
    seed: int = 42
    backend: str = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.n_neighbors, int) or self.n_neighbors < 2:
            raise PrecomputeError(f"--umap-neighbors must be a whole number >= 2, got {self.n_neighbors!r}")
        if not (isinstance(self.min_dist, int | float) and math.isfinite(self.min_dist) and 0 <= self.min_dist < 1):
            raise PrecomputeError(f"--umap-min-dist must be in [0, 1), got {self.min_dist!r}")
        if self.metric not in ("cosine", "euclidean", "correlation", "manhattan"):
            raise PrecomputeError(
                f"--umap-metric must be cosine, euclidean, correlation or manhattan, got {self.metric!r}"
            )

        if self.backend not in BACKENDS:
            raise PrecomputeError(f"--umap-backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")

    def as_dict(self) -> dict[str, object]:
        return {"n_neighbors": self.n_neighbors, "min_dist": self.min_dist, "metric": self.metric, "seed": self.seed,
                "backend": self.backend}  # fmt: skip


def _cuml_on_a_gpu() -> str | None:
    """Why cuML cannot fit here, or None when it can (installed, and a CUDA GPU visible)."""
    try:
        import cuml  # noqa: F401
        import cupy
    except ImportError as exc:
        return f"cuML is not installed ({exc}); pip install -r requirements-gpu.txt"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA GPU is visible"
    except Exception as exc:  # cupy's CUDARuntimeError when there is no driver
        return f"no CUDA GPU is usable ({exc})"
    return None


def resolve_backend(requested: str) -> str:
    """'umap-learn' or 'cuml' for ``requested``; 'cuml' where it cannot run is an error naming why."""
    if requested == "umap-learn":
        return requested
    reason = _cuml_on_a_gpu()
    if requested == "cuml" and reason:
        raise PrecomputeError(f"--umap-backend cuml: {reason}; use --umap-backend umap-learn or auto")
    return "umap-learn" if reason else "cuml"


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
    return _fit(vectors, config, warnings)[0]


def _fit(vectors: np.ndarray, config: UMAPConfig, warnings: list[str]) -> tuple[np.ndarray, Any]:
    neighbors = _neighbours_for(len(vectors), config, warnings)
    settings = {"n_neighbors": neighbors, "min_dist": config.min_dist, "metric": config.metric, "n_components": 2,
                "random_state": config.seed}  # fmt: skip
    if resolve_backend(config.backend) == "cuml":
        from cuml.manifold import UMAP as GpuUMAP

        reducer = GpuUMAP(**settings, build_algo="brute_force_knn" if config.metric == "cosine" else "auto")
    else:
        import umap

        reducer = umap.UMAP(**settings, n_jobs=1)  # a seed makes UMAP single-threaded anyway; saying so silences it
    return np.asarray(reducer.fit_transform(vectors), dtype=np.float32), reducer


def map_path(vectors: np.ndarray, config: UMAPConfig, cache_dir: Path) -> Path:
    """Where the map of these vectors and settings is cached (``.npy``; the fitted model beside it, ``.model.pkl``)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    digest = hashlib.sha256(vectors.tobytes())
    settings = {k: v for k, v in config.as_dict().items() if k != "backend"}
    if resolve_backend(config.backend) == "cuml":  # another algorithm, another map (umap-learn's keys unchanged)
        settings["backend"] = "cuml"
    digest.update(json.dumps({"shape": vectors.shape, **settings, "version": 1}, sort_keys=True).encode())
    return Path(cache_dir) / "umap" / f"{digest.hexdigest()[:32]}.npy"


def model_path(coords_path: Path) -> Path:
    return coords_path.with_suffix(".model.pkl")


def reduce_cached(
    vectors: np.ndarray, config: UMAPConfig, warnings: list[str], cache_dir: Path, *, keep_model: bool = True
) -> tuple[np.ndarray, bool, Path | None]:
    """`reduce_umap`, reusing the coordinates of an earlier fit on the same vectors and settings.

    Returns the coordinates, whether they came from the cache (`map_path`,
    written atomically), and the fitted model's path (None when not kept: it
    holds the fitted vectors, about 5.5 KB a point). The fitted model is kept beside them, so
    that a later run can place new glitches on this map (`place_on_map`).
    """
    from .atomic import atomic_path

    path = map_path(vectors, config, cache_dir)
    if path.is_file():
        try:
            coords = np.load(path)
            if coords.shape == (len(vectors), 2):
                if config.n_neighbors >= len(vectors):
                    warnings.append(
                        f"UMAP n_neighbors lowered from {config.n_neighbors} to {len(vectors) - 1}: only {len(vectors)} points"
                    )
                model = model_path(path)
                return coords, True, model if model.is_file() else None
        except (OSError, ValueError) as exc:
            log.warning("cached UMAP map %s is unreadable (%s); fitting again", path, exc)
    coords, reducer = _fit(np.ascontiguousarray(vectors, dtype=np.float32), config, warnings)
    if keep_model:
        with atomic_path(model_path(path), suffix=".pkl") as tmp, open(tmp, "wb") as handle:
            pickle.dump(reducer, handle, protocol=pickle.HIGHEST_PROTOCOL)
    with atomic_path(path, suffix=".npy") as tmp, open(tmp, "wb") as handle:
        np.save(handle, coords)
    return coords, False, model_path(path) if keep_model else None


@dataclass
class MapPlacement:
    """What `place_on_map` did, for the manifest's ``map_from``."""

    run: str
    model: str
    kept: int  #: points the earlier run had, with the same vector: their coordinates are its own
    placed: int  #: points placed by UMAP's ``transform``

    def as_dict(self) -> dict[str, object]:
        return {"run": self.run, "model": self.model, "kept": self.kept, "placed": self.placed}


def place_on_map(
    vectors: np.ndarray, ids: np.ndarray, *, model: Path, earlier_ids: np.ndarray, earlier_vectors: np.ndarray,
    earlier_coords: np.ndarray, run: str,
) -> tuple[np.ndarray, MapPlacement]:  # fmt: skip
    """Coordinates for ``vectors`` on an earlier run's map, without fitting a new one.

    A point the earlier run had (same id, same vector) keeps its place; every
    other point is placed by the earlier fit's ``transform`` (its nearest
    neighbours among the fitted points, then a short optimisation with those
    held still), so a growing data set keeps one map. ``model`` is a pickle of
    a fitted ``umap.UMAP``: only the run's own cache should ever be read here.
    """
    import umap  # noqa: F401  (the pickle needs the class)

    try:
        with open(model, "rb") as handle:
            reducer = pickle.load(handle)  # our own cache, written by reduce_cached
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError) as exc:
        raise PrecomputeError(
            f"the UMAP model {model} cannot be read ({exc}); fit a new map (leave out --map-from)"
        ) from None
    position = {str(i): row for row, i in enumerate(earlier_ids)}
    rows = np.array([position.get(str(i), -1) for i in ids])
    same = rows >= 0
    same[same] = np.all(np.isclose(vectors[same], earlier_vectors[rows[same]], atol=1e-6), axis=1)
    coords = np.empty((len(vectors), 2), dtype=np.float32)
    coords[same] = earlier_coords[rows[same]]
    if (~same).any():
        coords[~same] = np.asarray(reducer.transform(np.ascontiguousarray(vectors[~same])), dtype=np.float32)
    return coords, MapPlacement(run=run, model=str(model), kept=int(same.sum()), placed=int((~same).sum()))
