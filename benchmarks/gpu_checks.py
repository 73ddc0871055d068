"""The checks that need a GPU, in one run, printed as a table (for a session lent a GPU machine).

What a CPU machine cannot show, each measured on the real CUDA allocator and driver:

1. **Out-of-memory halving** (`precompute.embed._forward`): ResNet-18 is given one batch far larger than a capped
   allocator allows (``torch.cuda.set_per_process_memory_fraction``); the batch must be halved until it fits, the
   halvings recorded, and the vectors agree with an uncapped run at a small batch.
2. **`precompute run --device cuda`**, end to end on a training-set folder: the manifest must name the GPU.
3. **The same run on Ray** (``--engine ray``): one embedding actor holding the GPU; its vectors against (2)'s.
4. **The CLI under a capped allocator** (``--batch-size 4096 --unit image``): the run must finish with the halving
   in its manifest's warnings.

    python benchmarks/gpu_checks.py --data SET --work /tmp/gpu-checks

Everything else the pipeline does (UMAP, HDBSCAN, the audit) runs on the CPU and is the same code as on a CPU
machine. cuML's map (requirements-gpu.txt) is not checked here: its wheels are too large to carry to a lent machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks._machine import machine_line
from precompute.fuse import l2_normalise

ROOT = Path(__file__).resolve().parent.parent

_CAPPED_CLI = (
    "import runpy, sys, torch; torch.cuda.set_per_process_memory_fraction(float(sys.argv[1])); "
    "sys.argv = ['precompute'] + sys.argv[2:]; runpy.run_module('precompute', run_name='__main__', alter_sys=True)"
)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (l2_normalise(a) * l2_normalise(b)).sum(1)


def check_halving(fractions: list[float], images: int) -> list[tuple[str, str]]:
    """Embed ``images`` random inputs in one call under each allocator cap; compare to an uncapped run."""
    import torch

    from precompute.embed import EmbedConfig, embed_arrays, load_resnet18

    inputs = np.random.default_rng(0).normal(size=(images, 3, 140, 170)).astype(np.float32)
    reference_model = load_resnet18(EmbedConfig(weights="random", device="cuda"))
    reference = np.concatenate([embed_arrays(reference_model, inputs[i : i + 64]) for i in range(0, images, 64)])
    rows = []
    for fraction in fractions:
        torch.cuda.empty_cache()
        torch.cuda.set_per_process_memory_fraction(fraction)
        loaded = load_resnet18(EmbedConfig(weights="random", device="cuda"))
        start = time.perf_counter()
        try:
            vectors = embed_arrays(loaded, inputs)
        except Exception as exc:  # the single-image error is a result too
            rows.append((f"halving, cap {fraction:g} of the GPU, one call of {images}", f"FAILED: {exc}"))
            continue
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0)
        cosine = _cosines(vectors, reference)
        rows.append(
            (
                f"halving, cap {fraction:g} of the GPU ({fraction * torch.cuda.get_device_properties(0).total_memory / 2**30:.2f} GiB), one call of {images}",
                f"{len(loaded.halvings)} halvings to batch {loaded.max_batch}; cosine to uncapped min {cosine.min():.5f}; "
                f"{time.perf_counter() - start:.1f} s; first: {loaded.halvings[0] if loaded.halvings else '-'}",
            )
        )
    return rows


def _run(args: list[str], log: Path) -> tuple[int, float]:
    start = time.perf_counter()
    with open(log, "w") as handle:
        code = subprocess.run(args, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, check=False).returncode
    return code, time.perf_counter() - start


def _manifest(run: Path) -> dict:
    path = run / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {}


def check_runs(data: Path, work: Path, workers: int, cap: float, device: str) -> list[tuple[str, str]]:
    common = ["--data", str(data), "--device", device, "--weights", "random", "--workers", str(workers)]
    runs = {
        "local": ["--engine", "local"],
        "ray": ["--engine", "ray", "--ray-actors", "1"],
    }
    rows = []
    vectors = {}
    for name, extra in runs.items():
        out = work / f"run-{name}"
        cmd = [sys.executable, "-m", "precompute", "run", *common, *extra,
               "--out", str(out), "--cache-dir", str(work / f"cache-{name}")]  # fmt: skip
        code, seconds = _run(cmd, work / f"{name}.log")
        manifest = _manifest(out)
        embedding = manifest.get("embedding", {})
        rows.append(
            (
                f"precompute run --device {device} --engine {name}",
                f"exit {code} in {seconds:.1f} s; device {embedding.get('device')}, gpu {embedding.get('gpu')}, "
                f"embedded {embedding.get('embedded')}; warnings: {manifest.get('warnings')}",
            )
        )
        if (out / "embeddings.npy").exists():
            vectors[name] = np.load(out / "embeddings.npy")
    if len(vectors) == 2:
        cosine = _cosines(vectors["local"], vectors["ray"])
        rows.append(
            (
                f"ray against local vectors (same {device})",
                f"cosine min {cosine.min():.6f}, median {np.median(cosine):.6f}",
            )
        )
    if device != "cuda":
        return rows
    out = work / "run-capped"
    cmd = [sys.executable, "-c", _CAPPED_CLI, str(cap), "run", *common, "--unit", "image", "--batch-size", "4096"]
    cmd += ["--out", str(out), "--cache-dir", str(work / "cache-capped")]
    code, seconds = _run(cmd, work / "capped.log")
    manifest = _manifest(out)
    halvings = [w for w in manifest.get("warnings", []) if "out of memory" in w]
    rows.append(
        (
            f"precompute run --unit image --batch-size 4096 under a {cap:g} cap",
            f"exit {code} in {seconds:.1f} s; halvings in manifest: {halvings or 'none'}",
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a training-set folder")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder for runs, caches and logs")
    parser.add_argument("--fractions", default="0.01,0.002", help="allocator caps for the halving check")
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--cli-cap", type=float, default=0.001, help="allocator cap for the CLI run (check 4)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu rehearses checks 2-3 only")
    args = parser.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA GPU: nothing to check (--device cpu rehearses the runs)", file=sys.stderr)
        return 2
    if args.work.exists():
        shutil.rmtree(args.work)  # every check embeds afresh: a cache hit would check nothing
    args.work.mkdir(parents=True)
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU"
    rows = [("machine", f"{where}; torch {torch.__version__}; {machine_line()}")]
    if args.device == "cuda":
        rows += check_halving([float(f) for f in args.fractions.split(",") if f], args.images)
    rows += check_runs(args.data, args.work, args.workers, args.cli_cap, args.device)
    print("| check | result |\n|---|---|")
    for check, result in rows:
        print(f"| {check} | {result} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
