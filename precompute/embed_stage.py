"""Stage 3 (embed), the driver's side: which images need a vector, which engine computes them, and the cache.

Both engines hand back batches of (row indices, vectors, errors); this module
alone decides what is cached and when. It writes a cache shard every
``shard_images`` vectors, so a run killed mid-stage (by either engine) keeps what
it finished, and the engines take turns on one cache: the content keys and the
fingerprint are the same whichever engine computed a vector.

``local``  torch in this process, a DataLoader's worker processes decoding (the default).
``ray``    Ray Data: decoding and cropping as CPU tasks, ResNet-18 in an actor pool, one
           GPU per actor where the cluster has GPUs (`precompute.embed_ray`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .embed import EMBEDDING_DIM, EmbedConfig, LoadedModel, embed_images, load_resnet18
from .embed_cache import EmbeddingCache
from .errors import PrecomputeError
from .preprocess import PreprocessConfig
from .progress import counter

__all__ = ["ENGINES", "EngineConfig", "embed_rows"]

log = logging.getLogger("precompute")
ENGINES = ("local", "ray")
#: the embedding cache's layout version: part of every fingerprint, bumped when a vector's meaning changes
CACHE_VERSION = 1

Batches = Iterator[tuple[np.ndarray, np.ndarray, list[str]]]


@dataclass(frozen=True)
class EngineConfig:
    """Where stage 3 runs: ``engine`` and, for Ray, the cluster's address (None: start Ray here)."""

    engine: str = "local"
    ray_address: str | None = None
    ray_actors: int | None = None  #: embedding actors (default: one per GPU, or one on a CPU-only cluster)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise PrecomputeError(f"--engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.engine != "ray" and (self.ray_address is not None or self.ray_actors is not None):
            raise PrecomputeError("--ray-address and --ray-actors need --engine ray")
        if self.ray_actors is not None and not 1 <= self.ray_actors <= 4096:
            raise PrecomputeError(f"--ray-actors must be in [1, 4096], got {self.ray_actors!r}")

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "ray_address": self.ray_address, "ray_actors": self.ray_actors}


def embed_rows(
    rows: list[tuple[str, str]],
    keys: list[str],
    loader: Callable[[str, str], np.ndarray],
    *,
    embed: EmbedConfig,
    preprocess: PreprocessConfig,
    engine: EngineConfig,
    cache_root,
    shard_images: int,
    show_progress: bool = True,
) -> tuple[np.ndarray, dict[str, Any], list[str], dict[int, str]]:
    """A vector for every row, from the cache or computed by ``engine``; NaN where an image failed.

    Returns (vectors, the manifest's ``embedding`` entry, warnings, {row: why it failed}).
    """
    loaded = load_resnet18(embed)  # the driver's copy names the weights (the cache key); Ray's actors check theirs
    warnings = list(loaded.warnings)
    fingerprint = {"model": "resnet18", "weights": loaded.weights_id, "preprocess": preprocess.as_dict(),
                   "version": CACHE_VERSION}  # fmt: skip
    cache = EmbeddingCache(cache_root, fingerprint)
    warnings.extend(f"embedding cache shard unreadable, re-embedded: {s}" for s in cache.unreadable_shards)
    todo = [i for i, key in enumerate(keys) if key not in cache]
    failed: dict[int, str] = {}
    info: dict[str, Any] = {"engine": engine.engine}
    if todo:
        batches, finish = _open_engine(engine, [rows[i] for i in todo], loader, loaded, embed, preprocess)
        try:
            failed = _fill_cache(batches, todo, keys, cache, shard_images, show_progress)
        finally:
            engine_info, engine_warnings = finish()
        info.update(engine_info)
        warnings.extend(engine_warnings)
    warnings.extend(loaded.halvings)
    good = [i for i in range(len(rows)) if i not in failed]
    vectors = np.full((len(rows), EMBEDDING_DIM), np.nan, dtype=np.float32)
    if good:
        vectors[good] = cache.get([keys[i] for i in good])
    info.update({
        "weights_requested": embed.weights, "weights_used": loaded.weights_used, "device": loaded.device,
        "cache_fingerprint": fingerprint, "cache_folder": str(cache.directory),
        "embedded": len(todo) - len(failed), "cache_hits": len(rows) - len(todo),
    })  # fmt: skip
    if loaded.gpu is not None:
        info["gpu"] = loaded.gpu
    return vectors, info, warnings, failed


def _open_engine(
    engine: EngineConfig,
    rows: list[tuple[str, str]],
    loader: Callable[[str, str], np.ndarray],
    loaded: LoadedModel,
    embed: EmbedConfig,
    preprocess: PreprocessConfig,
) -> tuple[Batches, Callable[[], tuple[dict[str, Any], list[str]]]]:
    """The engine's batches over ``rows`` and a function that closes it and says what it did."""
    if engine.engine == "ray":
        from .embed_ray import RayEmbedder

        ray_engine = RayEmbedder(engine.ray_address, actors=engine.ray_actors)  # connects, or fails naming the address
        batches = ray_engine.batches(rows, embed=embed, preprocess=preprocess, weights_id=loaded.weights_id)
        return batches, ray_engine.close
    return embed_images(rows, loader, loaded, preprocess, embed), lambda: ({}, [])


def _fill_cache(
    batches: Batches, todo: list[int], keys: list[str], cache: EmbeddingCache, shard_images: int, show_progress: bool
) -> dict[int, str]:
    """Consume ``batches`` (indices into ``todo``) into cache shards of ``shard_images`` vectors each.

    A shard is written as soon as it is full, in whatever order the engine
    delivers, so a kill loses at most one shard's worth of work.
    """
    failed: dict[int, str] = {}
    shard_keys: list[str] = []
    shard_vectors: list[np.ndarray] = []
    with counter(total=len(todo), desc="embed", unit="image", enabled=show_progress) as bar:
        for indices, vectors, errors in batches:
            for j, vector, error in zip(indices, vectors, errors, strict=True):
                row = todo[int(j)]
                if error:
                    failed[row] = error
                else:
                    shard_keys.append(keys[row])
                    shard_vectors.append(vector)
            bar.update(len(indices))
            if len(shard_keys) >= shard_images:
                cache.put(shard_keys, np.asarray(shard_vectors, dtype=np.float32))
                shard_keys, shard_vectors = [], []
        if shard_keys:
            cache.put(shard_keys, np.asarray(shard_vectors, dtype=np.float32))
    return failed
