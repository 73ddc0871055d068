"""Stage 7 (previews): small previews of each window for hover, and the plot-area crop for the detail view.

Both are WebP files named by the image's content key, made once into the
cache and linked into each run directory, so a re-run makes none again.
Thumbnails are 170x140 (the plot area's aspect), details the full 566x466 crop.

The same pass records each image's *intensity* (``<key>-energy.json``): the
mean and 99th percentile of the normalized energy recovered from the plot
area's colours (viridis inverted, `precompute.plotarea.energy_from_viridis`),
in [0, 1]. The seed summed RGB over the whole figure, chrome included; this
measures the spectrogram only, in the Q-transform's own units.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
from pathlib import Path

from .atomic import write_bytes_atomic
from .progress import progress

__all__ = ["DETAIL_SIZE", "THUMB_SIZE", "energy_stats", "link_previews", "make_previews"]

THUMB_SIZE = (170, 140)  # width, height
DETAIL_SIZE = (566, 466)
#: The data set's image loader, set in each worker by `_use_loader` (Pool initializer).
_LOADER = None


def _use_loader(loader) -> None:
    global _LOADER
    _LOADER = loader


def _encode(rgb, size: tuple[int, int], quality: int) -> bytes:
    import io

    from PIL import Image

    image = Image.fromarray(rgb)
    if image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=quality, method=2)
    return buffer.getvalue()


def energy_stats(rgb) -> dict[str, float]:
    """Mean and 99th percentile of the normalized energy (in [0, 1]) of a viridis plot area."""
    import numpy as np

    from .plotarea import ENERGY_MAX, energy_from_viridis

    energy = energy_from_viridis(rgb) / ENERGY_MAX
    return {"energy_mean": round(float(energy.mean()), 6), "energy_p99": round(float(np.percentile(energy, 99)), 6)}


def _make_one(task: tuple[str, str, str, str]) -> tuple[str, dict[str, float] | None]:
    """Make one image's missing previews; return (error or "", its energy statistics or None)."""
    from .preprocess import to_display_rgb

    kind, source, key, folder = task
    thumb, detail = Path(folder) / f"{key}-thumb.webp", Path(folder) / f"{key}-detail.webp"
    stats_file = Path(folder) / f"{key}-energy.json"
    if thumb.exists() and detail.exists() and stats_file.exists():
        try:
            return "", json.loads(stats_file.read_text())
        except (OSError, ValueError):
            pass  # an unreadable record is made again below
    try:
        rgb = to_display_rgb(_LOADER(kind, source), kind)
        if not (thumb.exists() and detail.exists()):
            write_bytes_atomic(thumb, _encode(rgb, THUMB_SIZE, 80), durable=False)
            write_bytes_atomic(detail, _encode(rgb, DETAIL_SIZE, 90), durable=False)
        stats = energy_stats(rgb)
        write_bytes_atomic(stats_file, json.dumps(stats).encode(), durable=False)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}", None
    return "", stats


def make_previews(
    rows: list[tuple[str, str, str]], loader, cache_dir: Path, *, workers: int, show_progress: bool = True
) -> list[tuple[str, dict[str, float] | None]]:
    """Make missing previews of (kind, source, key) rows in ``cache_dir/previews``.

    Returns, per row, its error ("" when fine) and its energy statistics (None when it failed).
    """
    folder = Path(cache_dir) / "previews"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(kind, source, key, str(folder)) for kind, source, key in rows]
    if workers <= 1 or "fork" not in mp.get_all_start_methods():
        _use_loader(loader)
        results = map(_make_one, tasks)
        return list(progress(results, total=len(tasks), desc="previews", unit="image", enabled=show_progress))
    with mp.get_context("fork").Pool(workers, initializer=_use_loader, initargs=(loader,)) as pool:
        results = pool.imap(_make_one, tasks, chunksize=8)
        return list(progress(results, total=len(tasks), desc="previews", unit="image", enabled=show_progress))


def link_previews(keys: list[str], cache_dir: Path, dest: Path) -> None:
    """Hard-link (or copy, across file systems) each key's previews into ``dest``."""
    folder = Path(cache_dir) / "previews"
    dest.mkdir(parents=True, exist_ok=True)
    for key in dict.fromkeys(keys):
        for suffix in ("thumb", "detail"):
            src, target = folder / f"{key}-{suffix}.webp", dest / f"{key}-{suffix}.webp"
            if not src.exists() or target.exists():
                continue
            try:
                os.link(src, target)
            except OSError:
                shutil.copyfile(src, target)
