"""Stage 9 (write): the run directory, written atomically and read back cheaply.

Layout (docs/run-directory.md has the full description)::

    RUN/
      manifest.json       inputs, parameters, versions, device, weights, seed, timings, warnings, skips
      points.parquet      one row per point: metadata, x, y, cluster, probability, outlier_score
      images.parquet      one row per image: gravityspy_id, window, source, key (previews/<key>-*.webp)
      embeddings.npy      (n_points, d) float32, the vectors UMAP saw
      trees/min_samples-<k>.npy   cached single-linkage tree(s)
      previews/<key>-thumb.webp, <key>-detail.webp
      audit/clusters.csv, labels.csv, summary.json   taxonomy metrics (precompute.audit)

A run is assembled in a hidden sibling folder and renamed into place only when
complete, so a reader never sees a half-written run (a crash leaves a
``.RUN.partial-*`` folder, never a broken ``RUN``; the next write clears it). Loading imports only
numpy and pandas: the dashboard reads runs without torch or umap.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import json_default
from .cluster import ClusterTree
from .errors import PrecomputeError

__all__ = ["MANIFEST_VERSION", "Run", "RunError", "clear_leftovers", "load_run", "tree_path", "write_run"]

#: Bumped when the layout changes incompatibly; `load_run` refuses other versions with a clear message.
MANIFEST_VERSION = 1


class RunError(PrecomputeError):
    """A run directory is missing, incomplete or from an incompatible version."""


def tree_path(root: Path, min_samples: int) -> Path:
    return Path(root) / "trees" / f"min_samples-{int(min_samples)}.npy"


def write_run(
    out: Path,
    *,
    manifest: dict[str, Any],
    points: pd.DataFrame,
    images: pd.DataFrame,
    embeddings: np.ndarray,
    trees: list[ClusterTree],
    add_files,
) -> Path:
    """Assemble the run beside ``out`` and move it into place atomically; return ``out``.

    ``add_files(staging)`` writes the remaining artifacts (previews, audit
    tables) into the staging folder before the manifest, which comes last.
    The staging folder's name carries this process's id, so that
    `clear_leftovers` can tell a live writer's folder from a killed one's.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}{_PARTIAL}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        points.to_parquet(staging / "points.parquet", index=False)
        images.to_parquet(staging / "images.parquet", index=False)
        np.save(staging / "embeddings.npy", np.asarray(embeddings, dtype=np.float32))
        for tree in trees:
            path = tree_path(staging, tree.min_samples)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, tree.linkage)
        add_files(staging)
        (staging / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=json_default) + "\n", encoding="utf-8"
        )
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


_PARTIAL = ".partial-"
_RETIRED = ".old-"


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (signal 0 checks without sending; PermissionError means it exists)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def clear_leftovers(out: Path) -> list[str]:
    """Remove what killed runs left beside ``out``; restore ``out`` if a kill fell mid-swap. Return what was done.

    A SIGKILL can leave a ``.OUT.partial-<pid>-*`` staging folder (removed here
    once its process is gone) and, on file systems without an atomic exchange,
    a retired ``.OUT.old-*`` run with no ``OUT`` (moved back, so no finished
    run is ever lost).
    """
    out = Path(out)
    done = []
    if not out.parent.is_dir():
        return done
    for entry in sorted(out.parent.glob(f".{out.name}{_PARTIAL}*")):
        pid = entry.name[len(f".{out.name}{_PARTIAL}") :].split("-", 1)[0]
        if pid.isdigit() and _pid_alive(int(pid)):
            continue  # another precompute is writing this run right now
        shutil.rmtree(entry, ignore_errors=True)
        done.append(f"removed {entry.name}, left by an interrupted run")
    for entry in sorted(out.parent.glob(f".{out.name}{_RETIRED}*")):
        if not out.exists() and (entry / "manifest.json").is_file():
            os.rename(entry, out)
            done.append(f"restored {out} from {entry.name} (a run was interrupted while replacing it)")
        else:
            shutil.rmtree(entry, ignore_errors=True)
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return result == 0


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if not (out / "manifest.json").exists() and any(out.iterdir()):
        raise RunError(f"{out} exists and is not a run directory; choose another --out")
    if _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the replaced run
        return
    retired = out.parent / f".{out.name}{_RETIRED}{uuid.uuid4().hex[:8]}"
    os.rename(out, retired)  # a kill between these two renames is undone by clear_leftovers
    os.rename(staging, out)
    shutil.rmtree(retired, ignore_errors=True)


@dataclass
class Run:
    """A run directory, loaded."""

    root: Path
    manifest: dict[str, Any]
    points: pd.DataFrame
    images: pd.DataFrame

    def embeddings(self) -> np.ndarray:
        """The (n_points, d) vectors, memory-mapped."""
        return np.load(self.root / "embeddings.npy", mmap_mode="r")

    def tree(self, min_samples: int) -> ClusterTree | None:
        """The cached tree for ``min_samples``, or None when this run has none."""
        path = tree_path(self.root, min_samples)
        return ClusterTree.from_linkage(np.load(path), min_samples) if path.exists() else None

    def summary(self) -> str:
        """A few lines: what was run on what, the result, and every warning."""
        m = self.manifest
        params = m["cluster_params_used"]
        lines = [
            f"run {self.root} ({m['created_utc']})",
            f"  data: {m['data']['format']} at {m['data']['path']}: {m['data']['n_glitches']} glitches, windows {', '.join(m['data']['windows'])}",
            f"  embedding: resnet18, weights {m['embedding']['weights_used']} on {m['embedding']['device']}; "
            f"unit {m['parameters']['unit']}, fusion {m['parameters']['fusion']}",
            f"  result: {m['n_points']} points, {m['n_clusters']} clusters, {m['noise_fraction']:.1%} noise "
            f"(min_cluster_size {params['min_cluster_size']}, min_samples {params['min_samples']}, {params['selection_method']})",
            f"  {len(m['warnings'])} warning(s), {len(m['skipped'])} skipped input(s)",
        ]
        lines.extend(f"  warning: {w}" for w in m["warnings"])
        return "\n".join(lines)

    def preview_path(self, key: str, size: str) -> Path:
        """Path of a preview (``size`` 'thumb' or 'detail') of the image with content ``key``."""
        return self.root / "previews" / f"{key}-{size}.webp"


def load_run(path: str | os.PathLike[str]) -> Run:
    """Read a run directory's manifest and tables; errors say what is wrong and what to do."""
    root = Path(path)
    manifest_path = root / "manifest.json"
    if not root.is_dir():
        partial = sorted(root.parent.glob(f".{root.name}{_PARTIAL}*")) + sorted(
            root.parent.glob(f".{root.name}{_RETIRED}*")
        )
        if partial:
            raise RunError(
                f"run directory {root} does not exist; {partial[0].name} beside it was left by an interrupted run. "
                f"Run the precompute again with --out {root}: it resumes from its cache and clears the leftovers"
            )
        raise RunError(
            f"run directory {root} does not exist; make one with: python -m precompute run --data DIR --out {root}"
        )
    if not manifest_path.is_file():
        raise RunError(f"{root} has no manifest.json: it is not a finished run; run the precompute again")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunError(f"{manifest_path} is not valid JSON ({exc.msg}); run the precompute again") from None
    version = manifest.get("manifest_version")
    if version != MANIFEST_VERSION:
        raise RunError(
            f"{root} was written with run-directory version {version!r}; this tool reads version {MANIFEST_VERSION}. "
            "Re-run the precompute with this version"
        )
    missing = [name for name in ("points.parquet", "images.parquet", "embeddings.npy") if not (root / name).is_file()]
    if missing:
        raise RunError(f"{root} lacks {', '.join(missing)}; the run is damaged: run the precompute again")
    return Run(root, manifest, pd.read_parquet(root / "points.parquet"), pd.read_parquet(root / "images.parquet"))
