"""Embedding throughput on the same images: the seed study's configuration against ours.

seed: whole 800x600 figure, grey, 224x224, batch 64, no DataLoader workers, fp32
ours: plot-area crop, energy, 140x170, batch 64, 2 workers (GPU: bf16, channels_last, pinned memory)
decode-only: our DataLoader without the network: the ceiling that PNG decoding sets.
network-only: ready tensors already on the device: the ceiling that the network sets.

    python benchmarks/bench_embed.py [--data DIR] [--images 256] [--device auto]
        [--workers 2] [--batch 64] [--repeat 1] [--agreement 0]

Without --data a small synthetic set is generated in a temporary folder.
``--repeat N`` cycles the set's images N times (every pass decodes them again),
for a throughput measurement on a machine that can hold only a few images.
``--agreement N`` embeds N images on the CPU in fp32 and on the chosen device
and prints how far apart the vectors are (the GPU path runs in bf16).
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
from precompute.embed import EmbedConfig, embed_images, load_resnet18
from precompute.io.dataset import load_stored_image
from precompute.preprocess import PreprocessConfig


def _decode_only(rows, loader, preprocess: PreprocessConfig, workers: int, batch: int) -> float:
    from torch.utils.data import DataLoader

    from precompute.embed import _ImageSet

    start = time.perf_counter()
    for _ in DataLoader(_ImageSet(rows, loader, preprocess), batch_size=batch, num_workers=workers):
        pass
    return len(rows) / (time.perf_counter() - start)


def _throughput(rows, loader, preprocess: PreprocessConfig, config: EmbedConfig) -> float:
    loaded = load_resnet18(config)
    list(embed_images(rows[: config.batch_size], loader, loaded, preprocess, config))  # warm-up
    start = time.perf_counter()
    for _ in embed_images(rows, loader, loaded, preprocess, config):
        pass
    return len(rows) / (time.perf_counter() - start)


def _network_only(loaded, preprocess: PreprocessConfig, batch: int, batches: int = 20) -> float:
    import torch

    images = torch.rand(batch, 3, preprocess.height, preprocess.width, device=loaded.device)
    on_gpu = loaded.device == "cuda"
    if on_gpu:
        images = images.contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=on_gpu):
            loaded.model(images).float().cpu()

    run()  # warm-up (cuDNN picks its kernels)
    start = time.perf_counter()
    for _ in range(batches):
        run()
    return batch * batches / (time.perf_counter() - start)


def _agreement(rows, loader, preprocess: PreprocessConfig, config: EmbedConfig) -> str:
    """Cosine similarity and relative distance between CPU fp32 and ``config.device`` vectors of the same images."""
    cpu_cfg = EmbedConfig(weights="random", device="cpu", batch_size=config.batch_size, workers=config.workers)
    vectors = []
    for cfg in (cpu_cfg, config):
        loaded = load_resnet18(cfg)
        vectors.append(np.concatenate([v for _, v, _ in embed_images(rows, loader, loaded, preprocess, cfg)]))
    cpu, dev = vectors
    cosine = (cpu * dev).sum(1) / (np.linalg.norm(cpu, axis=1) * np.linalg.norm(dev, axis=1))
    relative = np.linalg.norm(cpu - dev, axis=1) / np.linalg.norm(cpu, axis=1)
    return (
        f"# agreement on {len(rows)} images, CPU fp32 vs {load_resnet18(config).device}: cosine min {cosine.min():.5f}, "
        f"median {np.median(cosine):.5f}; relative distance median {np.median(relative):.4f}, max {relative.max():.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--agreement", type=int, default=0)
    args = parser.parse_args()
    import torch
    import torchvision

    with tempfile.TemporaryDirectory() as tmp:
        distinct = image_rows(args.data, args.images, Path(tmp))
        rows = (distinct * args.repeat)[: args.images]
        seed_pre = PreprocessConfig(crop="none", colour="grey", height=224, width=224)
        ours_pre = PreprocessConfig()
        seed_cfg = EmbedConfig(weights="random", device=args.device, batch_size=64, workers=0)
        ours_cfg = EmbedConfig(weights="random", device=args.device, batch_size=args.batch, workers=args.workers)
        ours = load_resnet18(ours_cfg)
        device = ours.device
        gpu = f", {torch.cuda.get_device_name(0)}" if device == "cuda" else ""
        print(
            f"# ResNet-18 embedding throughput, {len(rows)} images ({len(set(rows))} distinct), device {device}{gpu}, "
            f"torch {torch.__version__}, torchvision {torchvision.__version__}"
        )
        print(f"# {machine_line()}; torch threads {torch.get_num_threads()}")
        results = [
            (
                "seed: whole figure, grey, 224x224, no workers, fp32",
                _throughput(rows, load_stored_image, seed_pre, seed_cfg),
            ),
            (
                f"ours: plot area, energy, 140x170, batch {args.batch}, {args.workers} workers"
                + (", bf16" if device == "cuda" else ""),
                _throughput(rows, load_stored_image, ours_pre, ours_cfg),
            ),
            (
                f"decode + preprocess only (ours, {args.workers} workers)",
                _decode_only(rows, load_stored_image, ours_pre, args.workers, args.batch),
            ),
            (
                f"network only (ready tensors on {device}, batch {args.batch})",
                _network_only(ours, ours_pre, args.batch),
            ),
        ]
        base = results[0][1]
        print("| configuration | images/s | vs seed |")
        print("|---|---|---|")
        for name, rate in results:
            print(f"| {name} | {rate:.1f} | {rate / base:.2f}x |")
        if args.agreement:
            print(_agreement(rows[: args.agreement], load_stored_image, ours_pre, ours_cfg))


if __name__ == "__main__":
    main()
