"""Stages 2 (hash) and 3 (embed): content keys, and the embedding cache keyed by content + model + weights + preprocessing.

Vectors are stored in shards (``shard-<n>.npz``, each written atomically) under
a folder named by the fingerprint of everything that changes an embedding. A
re-run with other UMAP or HDBSCAN settings never re-embeds, and a run killed
mid-embedding keeps every shard it finished: the next run embeds only the rest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_path, write_text_atomic
from .progress import progress

__all__ = ["EmbeddingCache", "content_keys", "default_cache_dir"]

log = logging.getLogger("precompute")


def default_cache_dir() -> Path:
    """``$GSX_CACHE_DIR``, else ``~/.cache/gravityspy-explorer``."""
    return Path(os.environ.get("GSX_CACHE_DIR") or Path.home() / ".cache" / "gravityspy-explorer")


def _content_key(kind: str, source: str) -> str:
    digest = hashlib.sha256()
    if kind == "hdf5":
        import h5py

        path, key = source.split("::", 1)
        with h5py.File(path, "r") as h5:
            array = np.ascontiguousarray(h5[key][()])
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    else:
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:40]


def content_keys(rows: list[tuple[str, str]], *, show_progress: bool = True) -> list[str]:
    """SHA-256 (truncated) of each image's stored bytes, read in parallel."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(
            progress(
                pool.map(lambda r: _content_key(*r), rows),
                total=len(rows),
                desc="hash",
                unit="image",
                enabled=show_progress,
            )
        )


class EmbeddingCache:
    """Cached vectors for one fingerprint (model, weights, preprocessing)."""

    def __init__(self, root: Path, fingerprint: dict[str, Any]):
        text = json.dumps(fingerprint, sort_keys=True)
        self.fingerprint = fingerprint
        self.directory = Path(root) / "embeddings" / hashlib.sha256(text.encode()).hexdigest()[:20]
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.directory / "fingerprint.json").exists():
            write_text_atomic(
                self.directory / "fingerprint.json", json.dumps(fingerprint, indent=2, sort_keys=True) + "\n"
            )
        self._vectors: dict[str, np.ndarray] = {}
        self.unreadable_shards: list[str] = []
        for shard in sorted(self.directory.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as data:
                    for key, vector in zip(data["keys"], data["vectors"], strict=True):
                        self._vectors[str(key)] = vector
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                self.unreadable_shards.append(f"{shard.name}: {exc}")
                log.warning(
                    "embedding cache shard %s is unreadable (%s); its images will be embedded again", shard, exc
                )
                with contextlib.suppress(OSError):  # set aside (kept for inspection), so it is reported once
                    shard.rename(shard.with_name(shard.name + ".unreadable"))

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, key: str) -> bool:
        return key in self._vectors

    def get(self, keys: list[str]) -> np.ndarray:
        """Vectors for ``keys`` (all must be present), stacked."""
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def put(self, keys: list[str], vectors: np.ndarray) -> None:
        """Write one shard with these vectors (atomically) and remember them."""
        if not keys:
            return
        dest = self.directory / f"shard-{uuid.uuid4().hex}.npz"
        with atomic_path(dest, suffix=".npz") as tmp, open(tmp, "wb") as handle:
            np.savez(handle, keys=np.array(keys), vectors=np.asarray(vectors, dtype=np.float32))
        for key, vector in zip(keys, vectors, strict=True):
            self._vectors[key] = np.asarray(vector, dtype=np.float32)
