"""Embedding throughput on the same images: the seed study's configuration against ours.

seed: whole 800x600 figure, grey, 224x224, batch 64, no DataLoader workers, fp32
ours: plot-area crop, energy, 140x170, batch 64, 2 workers (GPU: bf16, channels_last, pinned memory)
decode-only: our DataLoader without the network: the ceiling that PNG decoding sets.

    python benchmarks/bench_embed.py [--data DIR] [--images 256] [--device auto]

Without --data a small synthetic set is generated in a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.embed import EmbedConfig, embed_images, load_resnet18
from precompute.io import read_dataset
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from precompute.synth.generate import generate_dataset
            from precompute.synth.plan import Plan, load_plan

            plan = Plan.from_dict({**load_plan().source, "min_per_morphology": 1})
            data = generate_dataset(
                Path(tmp) / "set", glitches=max(24, args.images // 4), seed=5, plan=plan, show_progress=False
            ).root
        dataset = read_dataset(data, verify=False, show_progress=False)
        rows = list(zip(dataset.images["kind"], dataset.images["source"], strict=True))[: args.images]
        seed_pre = PreprocessConfig(crop="none", colour="grey", height=224, width=224)
        ours_pre = PreprocessConfig()
        seed_cfg = EmbedConfig(weights="random", device=args.device, batch_size=64, workers=0)
        ours_cfg = EmbedConfig(weights="random", device=args.device, batch_size=64, workers=args.workers)
        device = load_resnet18(ours_cfg).device
        gpu = f", {torch.cuda.get_device_name(0)}" if device == "cuda" else ""
        print(f"# ResNet-18 embedding throughput, {len(rows)} images, device {device}{gpu}, torch {torch.__version__}")
        print(f"# {machine_line()}; torch threads {torch.get_num_threads()}")
        results = [
            (
                "seed: whole figure, grey, 224x224, no workers, fp32",
                _throughput(rows, dataset.load_image, seed_pre, seed_cfg),
            ),
            (
                f"ours: plot area, energy, 140x170, {args.workers} workers" + (", bf16" if device == "cuda" else ""),
                _throughput(rows, dataset.load_image, ours_pre, ours_cfg),
            ),
            (
                f"decode + preprocess only (ours, {args.workers} workers)",
                _decode_only(rows, dataset.load_image, ours_pre, args.workers, 64),
            ),
        ]
        base = results[0][1]
        print("| configuration | images/s | vs seed |")
        print("|---|---|---|")
        for name, rate in results:
            print(f"| {name} | {rate:.1f} | {rate / base:.2f}x |")


if __name__ == "__main__":
    main()
