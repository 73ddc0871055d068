"""Stage 3 (embed): ResNet-18 embeddings (512-d, ``fc`` replaced by identity), on the GPU when there is one.

The only module that imports torch. ``auto`` picks CUDA when available; there
the model runs in bf16 autocast with channels_last, and a DataLoader with
worker processes and pinned memory decodes PNGs in parallel so that decoding,
not the network, is the limit.

Weights:

``imagenet``            torchvision's ``IMAGENET1K_V1`` from its cache, or downloaded
                        where the network allows. If neither works, the error
                        names ``--weights PATH`` and ``--weights random``.
``imagenet-or-random``  the same, falling back to seeded random weights with a
                        warning (the demo's mode: our machines are offline).
``random``              seeded random initialisation. Random ResNet features keep
                        real structure (see docs/benchmarks.md), and the run's
                        manifest and dashboard say plainly that they were used.
a file path             a state dict (``.pth``) of a torchvision ResNet-18; ``fc.*`` ignored.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import PrecomputeError
from .preprocess import PreprocessConfig, prepare_image

__all__ = [
    "EmbedConfig",
    "LoadedModel",
    "WeightsUnavailable",
    "embed_arrays",
    "embed_images",
    "load_resnet18",
    "resolve_device",
    "set_cpu_threads",
]

log = logging.getLogger("precompute")
EMBEDDING_DIM = 512
WEIGHT_MODES = ("imagenet", "imagenet-or-random", "random")


class WeightsUnavailable(PrecomputeError):
    """ImageNet weights could not be loaded (offline, no cache)."""


@dataclass(frozen=True)
class EmbedConfig:
    """Embedding options (see the module docstring for ``weights``)."""

    weights: str = "imagenet"
    device: str = "auto"
    batch_size: int = 64
    workers: int = 2
    seed: int = 42

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cuda", "cpu"):
            raise PrecomputeError(f"--device must be auto, cuda or cpu, got {self.device!r}")
        if not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= 4096:
            raise PrecomputeError(f"--batch-size must be in [1, 4096], got {self.batch_size!r}")
        if not isinstance(self.workers, int) or not 0 <= self.workers <= 64:
            raise PrecomputeError(f"--workers must be in [0, 64], got {self.workers!r}")
        if self.weights not in WEIGHT_MODES and not Path(self.weights).suffix:
            raise PrecomputeError(
                f"--weights must be one of {', '.join(WEIGHT_MODES)} or a path to a .pth file, got {self.weights!r}"
            )


@dataclass
class LoadedModel:
    """The network, where it runs, and what weights it really has."""

    model: object
    device: str
    weights_used: str  #: 'imagenet:IMAGENET1K_V1', 'random:seed=42' or 'file:<path>'
    weights_id: str  #: what the embedding cache keys on (includes the file's hash)
    warnings: list[str]
    gpu: str | None = None  #: the GPU's name when ``device`` is cuda (recorded in the manifest)
    #: the largest batch the device has taken; lowered (halved) when the GPU runs out of memory, see `_forward`
    max_batch: int | None = None
    #: one line per halving, for the run's manifest
    halvings: list[str] = field(default_factory=list)


def resolve_device(requested: str) -> str:
    """'cuda' or 'cpu' for ``requested`` ('auto', 'cuda', 'cpu'); 'cuda' without a GPU is an error."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise PrecomputeError("--device cuda was asked for but torch sees no CUDA GPU; use --device auto or cpu")
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def set_cpu_threads(threads: int) -> None:
    """Let torch use ``threads`` CPU threads (a Ray actor's share of its node)."""
    import torch

    torch.set_num_threads(max(1, threads))


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_resnet18(config: EmbedConfig) -> LoadedModel:
    """Build ResNet-18 with ``fc = Identity`` and the requested weights, in eval mode on its device."""
    import torch
    from torchvision.models import ResNet18_Weights, resnet18

    device = resolve_device(config.device)
    warnings: list[str] = []
    if config.weights in ("imagenet", "imagenet-or-random"):
        try:
            model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1)
            used = weights_id = "imagenet:IMAGENET1K_V1"
        except Exception as exc:  # urllib, OSError, hash mismatch: all mean "not to be had"
            reason = f"{type(exc).__name__}: {exc}"
            if config.weights == "imagenet":
                raise WeightsUnavailable(
                    f"ImageNet weights for ResNet-18 are unavailable ({reason}); torchvision looked in "
                    f"{torch.hub.get_dir()}/checkpoints and tried to download them. Put resnet18-f37072fd.pth "
                    "there, pass a local file with --weights PATH, or use --weights random"
                ) from None
            warnings.append(
                f"ResNet-18 weights were random (seed {config.seed}): ImageNet weights unavailable ({reason}). "
                "Clusters reflect generic image structure, not ImageNet features."
            )
            config = EmbedConfig(**{**config.__dict__, "weights": "random"})
    if config.weights == "random":
        if not warnings:
            warnings.append(
                f"ResNet-18 weights were random (seed {config.seed}, as asked with --weights random). "
                "Clusters reflect generic image structure, not ImageNet features."
            )
        torch.manual_seed(config.seed)
        model = resnet18(weights=None)
        used = weights_id = f"random:seed={config.seed}"
    elif config.weights not in ("imagenet", "imagenet-or-random"):
        path = Path(config.weights)
        if not path.is_file():
            raise PrecomputeError(f"--weights file {path} does not exist")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise PrecomputeError(f"--weights file {path} is not a readable torch state dict ({exc})") from None
        state = {k: v for k, v in dict(state).items() if not k.startswith("fc.")}
        model = resnet18(weights=None)
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing or unexpected:
            raise PrecomputeError(
                f"--weights file {path} is not a ResNet-18 state dict: missing {missing[:3]}, unexpected {list(unexpected)[:3]}"
            )
        used = f"file:{path}"
        weights_id = f"file-sha256:{_file_sha256(path)}"
    model.fc = torch.nn.Identity()
    model.eval().to(device)
    gpu = None
    if device == "cuda":
        model = model.to(memory_format=torch.channels_last)
        gpu = torch.cuda.get_device_name(0)
    return LoadedModel(model, device, used, weights_id, warnings, gpu)


class _ImageSet:
    """A torch-style dataset over (kind, source) rows; a failed decode yields a flag, not an exception."""

    def __init__(self, rows: list[tuple[str, str]], loader: Callable[[str, str], np.ndarray], config: PreprocessConfig):
        self.rows, self.loader, self.config = rows, loader, config

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int):
        import torch

        kind, source = self.rows[index]
        try:
            array = prepare_image(self.loader(kind, source), kind, self.config)
            return torch.from_numpy(array), index, ""
        except Exception as exc:  # recorded and skipped by the caller
            return torch.zeros(3, self.config.height, self.config.width), index, f"{type(exc).__name__}: {exc}"


def embed_images(
    rows: list[tuple[str, str]],
    loader: Callable[[str, str], np.ndarray],
    loaded: LoadedModel,
    preprocess: PreprocessConfig,
    config: EmbedConfig,
) -> Iterator[tuple[np.ndarray, np.ndarray, list[str]]]:
    """Embed ``rows`` in batches; yield (row indices, (b, 512) float32 vectors, errors per row).

    A row whose image failed to decode has a non-empty error string and a
    vector of NaN; the caller records and skips it.
    """
    import torch
    from torch.utils.data import DataLoader

    on_gpu = loaded.device == "cuda"
    batches = DataLoader(
        _ImageSet(rows, loader, preprocess),
        batch_size=config.batch_size,
        shuffle=False,
        num_workers=config.workers,
        pin_memory=on_gpu,
        persistent_workers=False,
        prefetch_factor=4 if config.workers > 0 else None,
    )
    with torch.inference_mode():
        for images, indices, errors in batches:
            vectors = _forward(loaded, images)
            errors = list(errors)
            for i, error in enumerate(errors):
                if error:
                    vectors[i] = np.nan
            yield indices.numpy(), vectors, errors


def embed_arrays(loaded: LoadedModel, images: np.ndarray) -> np.ndarray:
    """(b, 3, h, w) float32 prepared images → (b, 512) float32 vectors: the step a distributed engine's actors run."""
    import torch

    with torch.inference_mode():
        return _forward(loaded, torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)))


def _forward(loaded: LoadedModel, images) -> np.ndarray:
    """Run the network on one batch; on a GPU out-of-memory error halve the batch and go on.

    The halved size sticks (``loaded.max_batch``) so later batches do not fail
    the same way, and each halving is recorded in ``loaded.halvings`` for the
    manifest. A single image that does not fit is an error worth stopping for.
    """
    import torch

    limit = loaded.max_batch or len(images)
    parts = []
    start = 0
    while start < len(images):
        chunk = images[start : start + limit]
        try:
            parts.append(_run_model(loaded, chunk))
        except torch.OutOfMemoryError:
            if limit == 1:
                raise PrecomputeError(
                    "the GPU ran out of memory on a single image; free the GPU or use --device cpu"
                ) from None
            if loaded.device == "cuda":
                torch.cuda.empty_cache()
            limit = max(1, limit // 2)
            loaded.max_batch = limit
            loaded.halvings.append(f"GPU out of memory at batch {len(chunk)}: batch size halved to {limit}")
            log.warning("%s", loaded.halvings[-1])
            continue
        start += len(chunk)
    return np.concatenate(parts) if parts else np.empty((0, EMBEDDING_DIM), dtype=np.float32)


def _run_model(loaded: LoadedModel, images) -> np.ndarray:
    import torch

    on_gpu = loaded.device == "cuda"
    images = images.to(loaded.device, non_blocking=on_gpu)
    if on_gpu:
        images = images.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            vectors = loaded.model(images)
    else:
        vectors = loaded.model(images)
    return vectors.float().cpu().numpy()
