"""Stage 3 (embed) on Ray Data: decoding and cropping as CPU tasks, ResNet-18 in a pool of actors.

The driver (`precompute.embed_stage`) keeps the cache: this module only turns
image rows into vectors. Ray Data streams the rows through two steps:

1. ``_prepare`` (a CPU task per block): decode, crop to the plot area, resize,
   normalise; a failed decode becomes an error string for its row, as in the
   local engine.
2. ``_Embedder`` (an actor pool): loads ResNet-18 once per actor, on its own GPU
   where the cluster has GPUs (one per actor) or on CPUs otherwise, checks that
   its weights are the ones the driver keyed the cache on, and embeds each batch
   (halving the batch on a GPU out-of-memory error, `precompute.embed`).

Ray Data restarts a killed actor and re-runs the batch it held (its actor pools
default to unlimited restarts and task retries), so a lost worker costs that
batch, not the run. Without an address Ray starts on this machine; with one, the
address is checked before anything is read, so an unreachable head fails fast
with its address named and leaves no run behind. The cluster's nodes need this
project and its requirements installed and the data at the same path
(docs/pipeline.md, "Embedding on a Ray cluster").
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .embed import EmbedConfig
from .errors import PrecomputeError
from .preprocess import PreprocessConfig

__all__ = ["RayEmbedder", "check_address"]

log = logging.getLogger("precompute")
#: how long to wait for a Ray head's port before calling it unreachable
CONNECT_TIMEOUT_S = 5.0


def check_address(address: str) -> None:
    """Fail with a clear message unless a Ray head answers at ``address`` ('auto', 'HOST:PORT', 'ray://HOST:PORT')."""
    if address == "auto":
        return  # ray.init finds the local cluster (or says it found none), below
    host_port = address.removeprefix("ray://")
    host, _, port = host_port.rpartition(":")
    if not host or not port.isdigit():
        raise PrecomputeError(f"--ray-address {address!r} is not HOST:PORT, ray://HOST:PORT or auto")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise PrecomputeError(
            f"the Ray head at {address} is unreachable ({exc}); start it (`ray start --head`), check the address "
            "and port, or leave out --ray-address to run Ray on this machine. Nothing was written."
        ) from None


class RayEmbedder:
    """A connection to a Ray cluster (started here when ``address`` is None) that embeds image rows."""

    def __init__(self, address: str | None, *, actors: int | None = None) -> None:
        import ray

        if address is not None:
            check_address(address)
        self.address = address
        package = str(Path(__file__).resolve().parent)
        runtime_env = {"py_modules": [package], "excludes": ["__pycache__", "*.nbi", "*.nbc"]}
        try:
            ray.init(
                address=address, runtime_env=runtime_env, include_dashboard=False, logging_level=logging.WARNING,
                log_to_driver=False, ignore_reinit_error=True,
            )  # fmt: skip
        except (ConnectionError, RuntimeError) as exc:
            hint = (
                "a cluster must be running on this machine (`ray start --head`)"
                if address == "auto"
                else "if the cluster uses token authentication (Ray's default), set RAY_AUTH_MODE=token and give "
                "this machine the cluster's token (RAY_AUTH_TOKEN or ~/.ray/auth_token)"
            )
            raise PrecomputeError(
                f"could not connect to Ray at {address or 'a new local cluster'} ({exc}); {hint}. Nothing was written."
            ) from None
        logging.getLogger("ray.data").setLevel(logging.WARNING)  # its per-dataset INFO lines drown the run's log
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0))
        self.cpus = int(resources.get("CPU", 1))
        self.actors = actors or max(1, self.gpus)
        self._actor_limits: list[int] = []

    def batches(
        self, rows: list[tuple[str, str]], *, embed: EmbedConfig, preprocess: PreprocessConfig, weights_id: str
    ) -> Iterator[tuple[np.ndarray, np.ndarray, list[str]]]:
        """Yield (indices into ``rows``, vectors, errors) as the actors finish them, in no fixed order."""
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        on_gpu = self.gpus > 0 and embed.device != "cpu"
        if embed.device == "cuda" and not on_gpu:
            raise PrecomputeError("--device cuda was asked for but the Ray cluster has no GPUs; use auto or cpu")
        # CPU actors leave one CPU to the decoding tasks; GPU actors need little CPU of their own.
        actor_cpus = 1 if on_gpu else max(1, (self.cpus - 1) // self.actors)
        items = [{"row": i, "kind": kind, "source": source} for i, (kind, source) in enumerate(rows)]
        blocks = max(1, min(len(items) // embed.batch_size, 4 * self.cpus))
        actor_args = {"embed": embed, "weights_id": weights_id, "on_gpu": on_gpu, "threads": actor_cpus}
        dataset = (
            ray.data.from_items(items, override_num_blocks=blocks)
            .map_batches(_prepare, batch_size=embed.batch_size, fn_kwargs={"preprocess": preprocess}, num_cpus=1)
            .map_batches(
                _Embedder,
                fn_constructor_kwargs=actor_args,
                batch_size=embed.batch_size,
                compute=ray.data.ActorPoolStrategy(size=self.actors),
                num_gpus=1 if on_gpu else 0,
                num_cpus=actor_cpus,
            )
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            self._actor_limits.extend(int(v) for v in np.unique(batch["max_batch"]))
            yield batch["row"], batch["vector"].astype(np.float32), [str(e) for e in batch["error"]]

    def close(self) -> tuple[dict[str, Any], list[str]]:
        """Disconnect (stopping the cluster if it was started here); the manifest's record and any warnings."""
        import ray

        ray.shutdown()
        info = {"ray_address": self.address or "local", "ray_actors": self.actors, "ray_gpus": self.gpus,
                "ray_cpus": self.cpus, "ray_version": ray.__version__}  # fmt: skip
        halved = [limit for limit in self._actor_limits if limit > 0]
        warnings = []
        if halved:
            warnings.append(
                f"GPU out of memory on a Ray actor: its batch size was halved to {min(halved)} and the run went on"
            )
        return info, warnings


def _prepare(batch: dict[str, np.ndarray], preprocess: PreprocessConfig) -> dict[str, np.ndarray]:
    """Decode and crop one block of rows (a CPU task); a row that fails gets zeros and its error."""
    from .io.dataset import load_stored_image
    from .preprocess import prepare_image

    shape = (3, preprocess.height, preprocess.width)
    images = np.zeros((len(batch["row"]), *shape), dtype=np.float32)
    errors = []
    for i, (kind, source) in enumerate(zip(batch["kind"], batch["source"], strict=True)):
        try:
            images[i] = prepare_image(load_stored_image(str(kind), str(source)), str(kind), preprocess)
            errors.append("")
        except Exception as exc:  # recorded per row and skipped by the driver, as the local engine does
            errors.append(f"{type(exc).__name__}: {exc}")
    return {"row": batch["row"], "image": images, "error": np.array(errors, dtype=object)}


class _Embedder:
    """One ResNet-18 per actor; checks its weights against the driver's, then embeds batches."""

    def __init__(self, embed: EmbedConfig, weights_id: str, on_gpu: bool, threads: int) -> None:
        from .embed import load_resnet18, set_cpu_threads

        if not on_gpu:
            set_cpu_threads(threads)
        config = EmbedConfig(**{**embed.__dict__, "device": "cuda" if on_gpu else "cpu"})
        self.loaded = load_resnet18(config)
        if self.loaded.weights_id != weights_id:
            raise PrecomputeError(
                f"a Ray worker on {socket.gethostname()} (pid {os.getpid()}) loaded weights {self.loaded.weights_id} "
                f"but the run is keyed on {weights_id}: give every node the same weights (put the file on a shared "
                "path and pass --weights PATH)"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from .embed import embed_arrays

        vectors = embed_arrays(self.loaded, batch["image"])
        failed = np.array([bool(e) for e in batch["error"]])
        vectors[failed] = np.nan
        limit = self.loaded.max_batch or 0
        return {"row": batch["row"], "vector": vectors, "error": batch["error"],
                "max_batch": np.full(len(vectors), limit, dtype=np.int64)}  # fmt: skip
