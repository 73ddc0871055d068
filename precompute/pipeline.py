"""``python -m precompute run``: from a data set on disk to a run directory.

Stages, each timed and recorded in the manifest: read -> hash -> embed (cached)
-> fuse -> reduce (UMAP) -> cluster -> previews -> write. Every stage that can
take long shows a progress bar with its rate. Expensive work is cached by
content (embeddings, previews), so an interrupted or repeated run redoes only
what it had not finished; the run directory itself appears atomically at the end.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import __version__
from .audit import audit_points, write_audit
from .cluster import ClusterParams, ClusterTree
from .embed import EmbedConfig
from .embed_cache import EmbeddingCache, content_keys, default_cache_dir
from .errors import DataError, PrecomputeError
from .fuse import FUSIONS, fuse_windows
from .io import read_dataset
from .preprocess import PreprocessConfig
from .progress import counter
from .reduce import UMAPConfig
from .rundir import MANIFEST_VERSION, clear_leftovers, write_run

__all__ = ["RunConfig", "RunSummary", "run_pipeline"]

log = logging.getLogger("precompute")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on. Recorded in full in the manifest."""

    data: Path
    out: Path
    format: str | None = None
    metadata: Path | None = None
    windows: tuple[str, ...] | None = None
    unit: Literal["glitch", "image"] = "glitch"
    fusion: str = "mean"
    preprocess: PreprocessConfig = field(default_factory=PreprocessConfig)
    weights: str = "imagenet"
    device: str = "auto"
    batch_size: int = 64
    workers: int = 2
    umap: UMAPConfig = field(default_factory=UMAPConfig)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    cache_dir: Path = field(default_factory=default_cache_dir)
    shard_images: int = 512
    seed: int = 42

    def __post_init__(self) -> None:
        if self.unit not in ("glitch", "image"):
            raise PrecomputeError(f"--unit must be glitch or image, got {self.unit!r}")
        if not isinstance(self.shard_images, int) or self.shard_images < 1:
            raise PrecomputeError(f"--cache-shard-size must be a whole number >= 1, got {self.shard_images!r}")
        if self.fusion not in FUSIONS:
            raise PrecomputeError(f"--fusion must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        self.embed_config()  # validates weights, device, batch size and workers before any data is read

    def embed_config(self) -> EmbedConfig:
        """The embedding options, as the embedding stage takes them."""
        return EmbedConfig(
            weights=self.weights, device=self.device, batch_size=self.batch_size, workers=self.workers, seed=self.seed
        )

    def parameters(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "metadata": str(self.metadata) if self.metadata else None,
            "windows": list(self.windows) if self.windows else None,
            "unit": self.unit,
            "fusion": self.fusion,
            "preprocess": self.preprocess.as_dict(),
            "embed": {
                "model": "resnet18",
                "weights": self.weights,
                "device": self.device,
                "batch_size": self.batch_size,
                "workers": self.workers,
            },
            "umap": self.umap.as_dict(),
            "cluster": self.cluster.as_dict(),
            "cache_dir": str(self.cache_dir),
            "seed": self.seed,
        }


@dataclass
class RunSummary:
    """What `run_pipeline` did."""

    out: Path
    n_points: int
    n_clusters: int
    noise_fraction: float
    embedded: int
    cache_hits: int
    warnings: list[str]
    timings: dict[str, float]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "precompute": __version__}
    for package in (
        "numpy",
        "pandas",
        "torch",
        "torchvision",
        "umap-learn",
        "hdbscan",
        "fast_hdbscan",
        "scikit-learn",
        "pillow",
        "gwpy",
        "h5py",
    ):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


class _Stages:
    """Times named stages and keeps the order they ran in."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def run(self, name: str, fn, *args, **kwargs):
        log.info("stage %s ...", name)
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        self.timings[name] = round(time.perf_counter() - start, 3)
        return result


def _embed(
    config: RunConfig, rows, keys, loader, warnings, skipped, show_progress
) -> tuple[np.ndarray, dict[str, Any]]:
    """Vectors for every row: from the cache, or computed (and cached shard by shard)."""
    from .embed import EMBEDDING_DIM, embed_images, load_resnet18

    embed_config = config.embed_config()
    loaded = load_resnet18(embed_config)
    warnings.extend(loaded.warnings)
    fingerprint = {
        "model": "resnet18",
        "weights": loaded.weights_id,
        "preprocess": config.preprocess.as_dict(),
        "version": 1,
    }
    cache = EmbeddingCache(config.cache_dir, fingerprint)
    warnings.extend(f"embedding cache shard unreadable, re-embedded: {s}" for s in cache.unreadable_shards)
    todo = [i for i, key in enumerate(keys) if key not in cache]
    hits = len(rows) - len(todo)
    failed: dict[int, str] = {}
    with counter(total=len(todo), desc="embed", unit="image", enabled=show_progress) as bar:
        for start in range(0, len(todo), config.shard_images):
            chunk = todo[start : start + config.shard_images]
            shard_keys, shard_vectors = [], []
            for indices, vectors, errors in embed_images(
                [rows[i] for i in chunk], loader, loaded, config.preprocess, embed_config
            ):
                for j, vector, error in zip(indices, vectors, errors, strict=True):
                    row = chunk[int(j)]
                    if error:
                        failed[row] = error
                    else:
                        shard_keys.append(keys[row])
                        shard_vectors.append(vector)
                bar.update(len(indices))
            cache.put(shard_keys, np.asarray(shard_vectors, dtype=np.float32).reshape(len(shard_keys), -1))
    for row, error in failed.items():
        skipped.append({"source": rows[row][1], "reason": f"could not be embedded: {error}"})
    good = [i for i in range(len(rows)) if i not in failed]
    vectors = np.full((len(rows), EMBEDDING_DIM), np.nan, dtype=np.float32)
    if good:
        vectors[good] = cache.get([keys[i] for i in good])
    info = {
        "weights_requested": config.weights,
        "weights_used": loaded.weights_used,
        "device": loaded.device,
        "cache_fingerprint": fingerprint,
        "cache_folder": str(cache.directory),
        "embedded": len(todo) - len(failed),
        "cache_hits": hits,
    }
    if loaded.device == "cuda":
        import torch

        info["gpu"] = torch.cuda.get_device_name(0)
    return vectors, info


def _fit_to_size(params: ClusterParams, n_points: int, warnings: list[str]) -> ClusterParams:
    """Lower HDBSCAN settings that a small data set cannot satisfy, saying so in the warnings."""
    size = min(params.min_cluster_size, n_points)
    samples = min(params.min_samples, n_points - 1)
    if size != params.min_cluster_size:
        warnings.append(f"min_cluster_size lowered from {params.min_cluster_size} to {size}: only {n_points} points")
    if samples != params.min_samples:
        warnings.append(f"min_samples lowered from {params.min_samples} to {samples}: only {n_points} points")
    return ClusterParams(size, samples, params.selection_method, params.epsilon)


def _point_intensity(points: pd.DataFrame, images: pd.DataFrame) -> np.ndarray:
    """Each point's intensity: the mean plot-area energy of its image(s), averaged over its windows."""
    if (points["window"] == "fused").all():
        per_glitch = images.groupby("gravityspy_id")["energy_mean"].mean()
        return per_glitch.reindex(points["gravityspy_id"]).to_numpy(dtype=float)
    keyed = images.set_index(["gravityspy_id", "window"])["energy_mean"]
    return keyed.reindex(pd.MultiIndex.from_arrays([points["gravityspy_id"], points["window"]])).to_numpy(dtype=float)


def run_pipeline(config: RunConfig, *, show_progress: bool = True, argv: list[str] | None = None) -> RunSummary:
    """Run every stage and write ``config.out``; see the module docstring."""
    from .previews import link_previews, make_previews
    from .reduce import reduce_cached

    stages = _Stages()
    warnings: list[str] = []
    started = dt.datetime.now(dt.UTC)
    leftovers = clear_leftovers(config.out)  # what a killed run left beside config.out
    for note in leftovers:
        log.warning("%s", note)
    dataset = stages.run(
        "read", read_dataset, config.data, format=config.format, metadata=config.metadata, show_progress=show_progress
    )
    skipped: list[dict[str, str]] = list(dataset.report.skipped_images)
    images = dataset.images
    windows = list(config.windows) if config.windows else dataset.windows
    unknown = sorted(set(windows) - set(dataset.windows))
    if unknown:
        raise DataError(f"--windows {', '.join(unknown)} not in the data set, which has {', '.join(dataset.windows)}")
    images = images[images["window"].isin(windows)].reset_index(drop=True)
    if images.empty:
        raise DataError(f"no images left in {config.data} after choosing windows {windows}")
    rows = list(zip(images["kind"], images["source"], strict=True))
    keys = stages.run("hash", content_keys, rows, show_progress=show_progress)
    vectors, embed_info = stages.run(
        "embed", _embed, config, rows, keys, dataset.load_image, warnings, skipped, show_progress
    )

    ok = ~np.isnan(vectors).any(axis=1)
    images = images.assign(key=keys)[ok].reset_index(drop=True)
    vectors = vectors[ok]
    glitches = dataset.glitches.set_index("gravityspy_id")
    if config.unit == "glitch":
        ids, point_vectors, n_windows = stages.run("fuse", fuse_windows, images, vectors, windows, method=config.fusion)
        points = glitches.loc[ids].reset_index()
        points.insert(1, "window", "fused")
        points["n_windows"] = n_windows
    else:
        point_vectors = vectors
        points = glitches.loc[images["gravityspy_id"]].reset_index()
        points.insert(1, "window", images["window"].to_numpy())
        points["n_windows"] = 1
    coords, map_reused = stages.run("reduce", reduce_cached, point_vectors, config.umap, warnings, config.cache_dir)
    params = _fit_to_size(config.cluster, len(coords), warnings)
    tree = stages.run("cluster-tree", ClusterTree.build, coords, params.min_samples)
    result = stages.run("cluster-cut", tree.cut, params)

    points.insert(0, "point_id", np.arange(len(points)))
    points["x"], points["y"] = coords[:, 0], coords[:, 1]
    points["cluster"] = result.labels
    points["probability"] = result.probabilities
    points["outlier_score"] = result.outlier_scores
    preview_rows = list(zip(images["kind"], images["source"], images["key"], strict=True))
    preview_results = stages.run(
        "previews",
        make_previews,
        preview_rows,
        dataset.load_image,
        config.cache_dir,
        workers=max(1, config.workers),
        show_progress=show_progress,
    )
    for (_, source, _), (error, _) in zip(preview_rows, preview_results, strict=True):
        if error:
            warnings.append(f"no preview for {source}: {error}")
    stats = [s for _, s in preview_results]
    for column in ("energy_mean", "energy_p99"):
        images[column] = [np.nan if s is None else s[column] for s in stats]
    points["intensity"] = _point_intensity(points, images)

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "created_utc": started.isoformat(timespec="seconds"),
        "command": argv if argv is not None else sys.argv,
        "data": {
            "path": str(config.data),
            "format": dataset.format,
            "source": str(dataset.source),
            "n_glitches": len(dataset.glitches),
            "n_images": len(dataset.images),
            "windows": windows,
            "labels": {str(k): int(v) for k, v in dataset.glitches["label"].value_counts().items()},
            "report": dataset.report.as_dict(),
        },
        "parameters": config.parameters(),
        "cluster_params_used": params.as_dict(),
        "umap_map_from_cache": map_reused,
        "embedding": embed_info,
        "n_points": len(points),
        "n_clusters": result.n_clusters,
        "noise_fraction": result.noise_fraction,
        "cluster_persistence": result.persistence.tolist(),
        "versions": _versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "seed": config.seed,
        "timings_s": stages.timings,
        "warnings": warnings,
        "skipped": skipped,
        "leftovers_cleared": leftovers,
    }
    image_table = images[["gravityspy_id", "window", "kind", "source", "key", "energy_mean", "energy_p99"]]

    tables = stages.run(
        "audit", audit_points, points, point_vectors, persistence=result.persistence, run_parameters=config.parameters()
    )
    manifest["audit"] = tables.summary.as_dict()
    warnings.extend(tables.summary.warnings)

    def fill(staging: Path) -> None:
        link_previews(list(image_table["key"]), config.cache_dir, staging / "previews")
        write_audit(staging / "audit", tables)

    start = time.perf_counter()
    write_run(
        config.out,
        manifest=manifest,
        points=points,
        images=image_table,
        embeddings=point_vectors,
        trees=[tree],
        add_files=fill,
    )
    stages.timings["write"] = round(time.perf_counter() - start, 3)
    for warning in warnings:
        log.warning("%s", warning)
    return RunSummary(
        out=config.out,
        n_points=len(points),
        n_clusters=result.n_clusters,
        noise_fraction=result.noise_fraction,
        embedded=embed_info["embedded"],
        cache_hits=embed_info["cache_hits"],
        warnings=warnings,
        timings=stages.timings,
    )
