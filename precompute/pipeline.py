"""``python -m precompute run``: from a data set on disk to a run directory.

The stages run in the order of `STAGES`, each timed in the manifest
(``timings_s``; the cluster stage as ``cluster-tree`` and ``cluster-cut``), and
each module's docstring gives its stage's number. Every stage that can take
long shows a progress bar with its rate. Expensive work is cached by content
(embeddings, previews, the map), so an interrupted or repeated run redoes only
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
from .cluster import ClusterParams, ClusterTree, fit_to_size
from .embed import EmbedConfig
from .embed_cache import content_keys, default_cache_dir
from .embed_stage import EngineConfig, embed_rows
from .errors import DataError, PrecomputeError
from .fuse import FUSIONS, fuse_windows
from .io import read_dataset
from .preprocess import PreprocessConfig
from .reduce import UMAPConfig
from .rundir import MANIFEST_VERSION, clear_leftovers, write_run

__all__ = ["STAGES", "RunConfig", "RunSummary", "run_pipeline"]

log = logging.getLogger("precompute")

#: The stages of a run, numbered in the order they run: (name, the modules that do it).
STAGES = (
    ("read", "precompute.io"),  # 1: the data set's glitches and images, every image decoded once
    ("hash", "precompute.embed_cache"),  # 2: a content key per stored image
    (
        "embed",
        "precompute.embed_stage, precompute.preprocess, precompute.embed, precompute.embed_cache, precompute.embed_ray",
    ),  # 3: ResNet-18 vectors, cached (local or Ray)
    ("fuse", "precompute.fuse"),  # 4: one vector per glitch from its windows (glitch unit only)
    ("reduce", "precompute.reduce"),  # 5: the UMAP map, cached by its input
    ("cluster", "precompute.cluster"),  # 6: the HDBSCAN tree, and its cut
    ("previews", "precompute.previews"),  # 7: thumbnails, detail crops, plot-area energy
    ("audit", "precompute.audit"),  # 8: metrics, findings, suspicion, deep dives
    ("write", "precompute.rundir"),  # 9: the run directory, atomically
)


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
    engine: str = "local"
    ray_address: str | None = None
    ray_actors: int | None = None
    map_from: Path | None = None  #: place the points on this earlier run's map instead of fitting one
    keep_map_model: bool = True  #: keep the fitted UMAP model beside the map, for later --map-from runs

    def __post_init__(self) -> None:
        if self.unit not in ("glitch", "image"):
            raise PrecomputeError(f"--unit must be glitch or image, got {self.unit!r}")
        if not isinstance(self.shard_images, int) or self.shard_images < 1:
            raise PrecomputeError(f"--cache-shard-size must be a whole number >= 1, got {self.shard_images!r}")
        if self.fusion not in FUSIONS:
            raise PrecomputeError(f"--fusion must be one of {', '.join(FUSIONS)}, got {self.fusion!r}")
        self.embed_config()  # validates weights, device, batch size and workers before any data is read
        self.engine_config()

    def engine_config(self) -> EngineConfig:
        """Where the embedding stage runs (local, or Ray at ``ray_address``)."""
        return EngineConfig(self.engine, self.ray_address, self.ray_actors)

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
                **self.engine_config().as_dict(),
            },
            "umap": self.umap.as_dict(),
            "cluster": self.cluster.as_dict(),
            "cache_dir": str(self.cache_dir),
            "map_from": str(self.map_from) if self.map_from else None,
            "keep_map_model": self.keep_map_model,
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
        "ray",
    ):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out


@dataclass
class _Progress:
    """What a run gathers as it goes: each stage's time, the warnings, the inputs it had to skip."""

    show_progress: bool
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    def stage(self, name: str, fn, *args, **kwargs):
        """Run one stage (or step of one) and record its time under ``name``."""
        log.info("stage %s ...", name)
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        self.timings[name] = round(time.perf_counter() - start, 3)
        return result


def _read(config: RunConfig, progress: _Progress) -> tuple[Any, pd.DataFrame, list[str]]:
    """Stage 1: the data set, and the images of the windows asked for."""
    dataset = progress.stage(
        "read", read_dataset, config.data, format=config.format, metadata=config.metadata,
        show_progress=progress.show_progress,
    )  # fmt: skip
    progress.skipped.extend(dataset.report.skipped_images)
    windows = list(config.windows) if config.windows else dataset.windows
    unknown = sorted(set(windows) - set(dataset.windows))
    if unknown:
        raise DataError(f"--windows {', '.join(unknown)} not in the data set, which has {', '.join(dataset.windows)}")
    images = dataset.images[dataset.images["window"].isin(windows)].reset_index(drop=True)
    if images.empty:
        raise DataError(f"no images left in {config.data} after choosing windows {windows}")
    return dataset, images, windows


def _embed(
    config: RunConfig, rows: list[tuple[str, str]], keys: list[str], loader, progress: _Progress
) -> tuple[np.ndarray, dict[str, Any]]:
    """Stage 3: a vector for every row, from the cache or computed by the chosen engine; NaN where it failed."""
    vectors, info, warnings, failed = embed_rows(
        rows, keys, loader, embed=config.embed_config(), preprocess=config.preprocess, engine=config.engine_config(),
        cache_root=config.cache_dir, shard_images=config.shard_images, show_progress=progress.show_progress,
    )  # fmt: skip
    progress.warnings.extend(warnings)
    for row, error in failed.items():
        progress.skipped.append({"source": rows[row][1], "reason": f"could not be embedded: {error}"})
    return vectors, info


def _points(
    config: RunConfig, glitches: pd.DataFrame, images: pd.DataFrame, vectors: np.ndarray, windows: list[str],
    progress: _Progress,
) -> tuple[pd.DataFrame, np.ndarray]:  # fmt: skip
    """Stage 4: the points to map (a glitch with its windows fused, or an image) with their metadata and vectors."""
    glitches = glitches.set_index("gravityspy_id")
    if config.unit == "glitch":
        ids, point_vectors, n_windows = progress.stage(
            "fuse", fuse_windows, images, vectors, windows, method=config.fusion
        )
        # named here: pandas 3.0 names the index after `ids`, which has no name, and the column would be lost
        points = glitches.loc[ids].rename_axis("gravityspy_id").reset_index()
        points.insert(1, "window", "fused")
        points["n_windows"] = n_windows
    else:
        point_vectors = vectors
        points = glitches.loc[images["gravityspy_id"]].reset_index()
        points.insert(1, "window", images["window"].to_numpy())
        points["n_windows"] = 1
    points.insert(0, "point_id", np.arange(len(points)))
    return points, point_vectors


def _reduce(
    config: RunConfig, points: pd.DataFrame, vectors: np.ndarray, embed_info: dict[str, Any], progress: _Progress
) -> tuple[np.ndarray, dict[str, Any]]:
    """Stage 5: the map, fitted (or from the cache), or the points placed on an earlier run's map (``map_from``).

    Returns the coordinates and the manifest's map entries.
    """
    from .reduce import place_on_map, reduce_cached, resolve_backend
    from .rundir import load_run

    if config.map_from is None:
        coords, reused, model = reduce_cached(
            vectors, config.umap, progress.warnings, config.cache_dir, keep_model=config.keep_map_model
        )
        backend = resolve_backend(config.umap.backend)
        return coords, {"umap_map_from_cache": reused, "umap_model": model and str(model), "umap_backend": backend}
    earlier = load_run(config.map_from)
    model = earlier.manifest.get("umap_model")
    if not model or not Path(model).is_file():
        raise PrecomputeError(
            f"--map-from {config.map_from}: its UMAP model {model or '(not recorded)'} is not there (runs before "
            "2026-11-30 and runs with --no-map-model keep none, or the cache was cleared); fit a new map by leaving "
            "out --map-from"
        )
    before = earlier.manifest["embedding"]["cache_fingerprint"], earlier.manifest["parameters"]["fusion"]
    if before != (embed_info["cache_fingerprint"], config.fusion):
        raise PrecomputeError(
            f"--map-from {config.map_from}: its vectors were made differently (embedding {before[0]}, fusion "
            f"{before[1]}; this run: {embed_info['cache_fingerprint']}, {config.fusion}); a map can only take "
            "vectors made the same way"
        )
    coords, placement = place_on_map(
        vectors, points["gravityspy_id"].to_numpy(), model=Path(model), earlier_ids=earlier.points["gravityspy_id"].to_numpy(),
        earlier_vectors=earlier.embeddings(), earlier_coords=earlier.points[["x", "y"]].to_numpy(np.float32),
        run=str(config.map_from),
    )  # fmt: skip
    progress.warnings.append(
        f"the map is {config.map_from}'s: {placement.placed} glitch(es) placed on it with UMAP's transform, "
        f"{placement.kept} kept their places"
    )
    return coords, {"umap_map_from_cache": False, "umap_model": str(model), "map_from": placement.as_dict()}


def _cluster(config: RunConfig, coords: np.ndarray, progress: _Progress) -> tuple[ClusterParams, ClusterTree, Any]:
    """Stage 6: the tree for the run's min_samples (settings lowered to what the data allows), and its cut."""
    params, notes = fit_to_size(config.cluster, len(coords))
    progress.warnings.extend(notes)
    tree = progress.stage("cluster-tree", ClusterTree.build, coords, params.min_samples)
    return params, tree, progress.stage("cluster-cut", tree.cut, params)


def _previews(config: RunConfig, dataset, images: pd.DataFrame, progress: _Progress) -> pd.DataFrame:
    """Stage 7: every image's previews (cached by content), and its plot-area energy as new columns."""
    from .previews import make_previews

    rows = list(zip(images["kind"], images["source"], images["key"], strict=True))
    results = progress.stage(
        "previews", make_previews, rows, dataset.load_image, config.cache_dir, workers=max(1, config.workers),
        show_progress=progress.show_progress,
    )  # fmt: skip
    for (_, source, _), (error, _) in zip(rows, results, strict=True):
        if error:
            progress.warnings.append(f"no preview for {source}: {error}")
    stats = [s for _, s in results]
    images = images.copy()
    for column in ("energy_mean", "energy_p99"):
        images[column] = [np.nan if s is None else s[column] for s in stats]
    return images


def _point_intensity(points: pd.DataFrame, images: pd.DataFrame) -> np.ndarray:
    """Each point's intensity: the mean plot-area energy of its image(s), averaged over its windows."""
    if (points["window"] == "fused").all():
        per_glitch = images.groupby("gravityspy_id")["energy_mean"].mean()
        return per_glitch.reindex(points["gravityspy_id"]).to_numpy(dtype=float)
    keyed = images.set_index(["gravityspy_id", "window"])["energy_mean"]
    return keyed.reindex(pd.MultiIndex.from_arrays([points["gravityspy_id"], points["window"]])).to_numpy(dtype=float)


def _manifest(
    config: RunConfig, dataset, windows: list[str], started: dt.datetime, argv: list[str] | None, **run: Any
) -> dict[str, Any]:
    """What the run read, with which settings and versions, what it found and what went wrong: ``manifest.json``."""
    result, progress = run["result"], run["progress"]
    return {
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
        "cluster_params_used": run["params"].as_dict(),
        **run["map_info"],
        "embedding": run["embed_info"],
        "n_points": run["n_points"],
        "n_clusters": result.n_clusters,
        "noise_fraction": result.noise_fraction,
        "cluster_persistence": result.persistence.tolist(),
        "versions": _versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "seed": config.seed,
        "timings_s": progress.timings,  # the same dict: the audit's time lands in it before the manifest is written
        "warnings": progress.warnings,
        "skipped": progress.skipped,
        "leftovers_cleared": run["leftovers"],
        "audit": run["audit"].summary.as_dict(),
    }


def run_pipeline(config: RunConfig, *, show_progress: bool = True, argv: list[str] | None = None) -> RunSummary:
    """Run every stage of `STAGES` and write ``config.out``; see the module docstring."""
    from .previews import link_previews

    progress = _Progress(show_progress)
    started = dt.datetime.now(dt.UTC)
    if config.engine == "ray" and config.ray_address is not None:
        from .embed_ray import check_address

        check_address(config.ray_address)  # before anything is read: an unreachable head leaves nothing behind
    leftovers = clear_leftovers(config.out)  # what a killed run left beside config.out
    for note in leftovers:
        log.warning("%s", note)
    dataset, images, windows = _read(config, progress)  # 1
    rows = list(zip(images["kind"], images["source"], strict=True))
    keys = progress.stage("hash", content_keys, rows, show_progress=show_progress)  # 2
    vectors, embed_info = progress.stage("embed", _embed, config, rows, keys, dataset.load_image, progress)  # 3
    ok = ~np.isnan(vectors).any(axis=1)
    images = images.assign(key=keys)[ok].reset_index(drop=True)
    points, point_vectors = _points(config, dataset.glitches, images, vectors[ok], windows, progress)  # 4
    coords, map_info = progress.stage("reduce", _reduce, config, points, point_vectors, embed_info, progress)  # 5
    params, tree, result = _cluster(config, coords, progress)  # 6
    points = points.assign(
        x=coords[:, 0], y=coords[:, 1], cluster=result.labels, probability=result.probabilities,
        outlier_score=result.outlier_scores,
    )  # fmt: skip
    images = _previews(config, dataset, images, progress)  # 7
    points["intensity"] = _point_intensity(points, images)
    tables = progress.stage(
        "audit", audit_points, points, point_vectors, persistence=result.persistence,
        run_parameters=config.parameters(),
    )  # 8  # fmt: skip
    progress.warnings.extend(tables.summary.warnings)
    manifest = _manifest(
        config, dataset, windows, started, argv, result=result, progress=progress, params=params,
        map_info=map_info, embed_info=embed_info, n_points=len(points), leftovers=leftovers, audit=tables,
    )  # fmt: skip
    image_table = images[["gravityspy_id", "window", "kind", "source", "key", "energy_mean", "energy_p99"]]

    def fill(staging: Path) -> None:
        link_previews(list(image_table["key"]), config.cache_dir, staging / "previews")
        write_audit(staging / "audit", tables)

    start = time.perf_counter()
    write_run(
        config.out, manifest=manifest, points=points, images=image_table, embeddings=point_vectors, trees=[tree],
        add_files=fill,
    )  # 9  # fmt: skip
    progress.timings["write"] = round(time.perf_counter() - start, 3)
    for warning in progress.warnings:
        log.warning("%s", warning)
    return RunSummary(
        out=config.out,
        n_points=len(points),
        n_clusters=result.n_clusters,
        noise_fraction=result.noise_fraction,
        embedded=embed_info["embedded"],
        cache_hits=embed_info["cache_hits"],
        warnings=progress.warnings,
        timings=progress.timings,
    )
