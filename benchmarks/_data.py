"""The image rows the embedding benchmarks run on: a data set's, or a small synthetic set's made for the run."""

from __future__ import annotations

from pathlib import Path

from precompute.io import read_dataset


def image_rows(data: Path | None, images: int, scratch: Path) -> list[tuple[str, str]]:
    """(kind, source) of every image of ``data``; without one, of a synthetic set of about ``images`` images
    (one glitch per four), generated under ``scratch``."""
    if data is None:
        from precompute.synth.generate import generate_dataset
        from precompute.synth.plan import Plan, load_plan

        plan = Plan.from_dict({**load_plan().source, "min_per_morphology": 1})
        data = generate_dataset(
            scratch / "set", glitches=max(24, images // 4), seed=5, plan=plan, show_progress=False
        ).root
    dataset = read_dataset(data, verify=False, show_progress=False)
    return list(zip(dataset.images["kind"], dataset.images["source"], strict=True))
