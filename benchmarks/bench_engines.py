"""Embedding on the local engine against Ray Data on the same images, and what the archive would take on many GPUs.

    python benchmarks/bench_engines.py [--data DIR] [--images 480] [--batch 32] [--archive-images 2460000]
        [--gpu-rate 10000] [--cores-per-gpu 8]

Both engines embed the same rows into fresh caches through the stage's own entry point
(`precompute.embed_stage.embed_rows`), so each time includes everything a run pays: for Ray, starting a local
cluster, shipping the package, starting the actor and loading ResNet-18 in it. The per-image costs measured
here (decoding and preparing one image on one core; Ray's fixed start-up cost) feed a projection of the
archive's embedding time on 1, 8 and 64 GPUs. The GPU's own rate is *not* measured here (no GPU on the machine
that wrote docs/benchmarks.md): ``--gpu-rate`` is an assumption, printed with the table; on a machine with a GPU,
pass the network-only rate that benchmarks/bench_embed.py prints.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks._data import image_rows
from benchmarks._machine import machine_line
from precompute.embed import EmbedConfig
from precompute.embed_cache import content_keys
from precompute.embed_stage import EngineConfig, embed_rows
from precompute.io.dataset import load_stored_image
from precompute.preprocess import PreprocessConfig, prepare_image


def _embed(rows, keys, engine: EngineConfig, config: EmbedConfig, cache: Path) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vectors, info, _, failed = embed_rows(
        rows, keys, load_stored_image, embed=config, preprocess=PreprocessConfig(), engine=engine, cache_root=cache,
        shard_images=512, show_progress=False,
    )  # fmt: skip
    if failed or info["embedded"] != len(rows):
        raise SystemExit(f"the {engine.engine} engine did not embed every image: {info}, failed {failed}")
    return time.perf_counter() - start, vectors


def _prepare_rate(rows) -> float:
    """Images decoded, cropped and normalised per second on one core (what a Ray CPU task does per image)."""
    preprocess = PreprocessConfig()
    start = time.perf_counter()
    for kind, source in rows:
        prepare_image(load_stored_image(kind, source), kind, preprocess)
    return len(rows) / (time.perf_counter() - start)


def _ray_start_cost() -> float:
    """Seconds to start a local Ray cluster and disconnect from it, with nothing run."""
    from precompute.embed_ray import RayEmbedder

    start = time.perf_counter()
    RayEmbedder(None).close()
    return time.perf_counter() - start


def _projection(args, prepare_rate: float, fixed_s: float) -> list[str]:
    lines = [
        "| GPUs | cores | decode ceiling (img/s) | GPU ceiling (img/s) | archive embedding time |",
        "|---|---|---|---|---|",
    ]
    for gpus in (1, 8, 64):
        cores = gpus * args.cores_per_gpu
        decode = cores * prepare_rate
        network = gpus * args.gpu_rate
        seconds = args.archive_images / min(decode, network) + fixed_s
        lines.append(
            f"| {gpus} | {cores} | {decode:,.0f} | {network:,.0f} | {seconds / 3600:.2f} h ({seconds:,.0f} s) |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--images", type=int, default=480)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--archive-images", type=int, default=2_460_000, help="614k glitches x 4 windows")
    parser.add_argument("--gpu-rate", type=float, default=10_000, help="assumed ResNet-18 images/s on one GPU")
    parser.add_argument("--cores-per-gpu", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = image_rows(args.data, args.images, Path(tmp))[: args.images]
        keys = content_keys(rows, show_progress=False)
        config = EmbedConfig(weights="random", device="cpu", batch_size=args.batch, workers=2)
        prepare_rate = _prepare_rate(rows[:120])
        start_cost = _ray_start_cost()
        local_s, local_vectors = _embed(rows, keys, EngineConfig("local"), config, Path(tmp) / "local")
        ray_s, ray_vectors = _embed(rows, keys, EngineConfig("ray"), config, Path(tmp) / "ray")
    difference = float(np.abs(local_vectors - ray_vectors).max())
    print(f"# embedding engines, {len(rows)} images, batch {args.batch}, random weights, CPU")
    print(f"# {machine_line()}")
    print("| engine | wall time (s) | images/s | ratio to local |")
    print("|---|---|---|---|")
    print(f"| local (torch here, 2 DataLoader workers) | {local_s:.1f} | {len(rows) / local_s:.1f} | 1.00 |")
    print(f"| ray (local cluster, 1 actor) | {ray_s:.1f} | {len(rows) / ray_s:.1f} | {ray_s / local_s:.2f} |")
    print(f"# largest difference between the engines' vectors: {difference:.2e}")
    print(f"# Ray's start-up alone (local cluster up and down): {start_cost:.1f} s")
    print(f"# decode + crop + normalise, one core: {prepare_rate:.0f} images/s")
    print()
    print(
        f"# projection: {args.archive_images:,} archive images, {args.cores_per_gpu} decoding cores per GPU at the "
        f"rate above, an ASSUMED {args.gpu_rate:,.0f} images/s per GPU (not measured here), plus Ray's start-up"
    )
    print("\n".join(_projection(args, prepare_rate, start_cost)))


if __name__ == "__main__":
    main()
