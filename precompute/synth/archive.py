"""A synthetic Gravity Spy archive: the classifier's catalogue CSVs and the volunteers' consensus, with planted truth.

The real archive (Zenodo 5649212 and 5911227) cannot be downloaded here, so
the readers, and the three-source audit built on them, are tested on a stand-in
of the same shape:

- ``{H1,L1}_{O1,O2,O3a,O3b}.csv``: the trigger columns, one score column per
  class (O3 files add `precompute.archive.runs.O3_CLASSES`), ``ml_label``,
  ``ml_confidence`` and ``url1..url4`` (some empty or ``"?"``, as in the real
  files). URLs point at the reserved ``.invalid`` domain unless a base is given.
- ``retired_fulldata_min2_max50_ret0p9.hdf5``: the consensus under
  ``image_db`` for a share of the glitches, some of them not retired.
- ``gravity-spy-classifications.csv`` (with ``votes``): a Zooniverse
  classification export of individual votes on some of the glitches with a
  consensus, by volunteers of planted skill (``truth/volunteers.csv``).
- ``images/{ifo}_{id}_spectrogram_{window}.png`` (with ``images``): the four
  windows of some glitches with a consensus (up to half of them ones where
  machine and volunteers disagree, the rest a random sample), rendered by the
  training-set renderer from each glitch's *true* class at its catalogue SNR
  (an O3 class as the class it was split from), named as their URLs end. Serve
  the folder (``python -m http.server -d images``, with ``--url-base`` pointing
  there) and ``precompute fetch`` downloads them like the real archive's.
- ``truth/archive_truth.parquet`` and ``truth/archive_plan.json``: each
  glitch's true class, and which planted confusion (if any) moved its machine
  or volunteer label.

The simulated classifier scores every class with a softmax of noisy logits,
the true class ahead by a random margin; a planted confusion gives a share of
one class's glitches a higher logit for another class. The volunteers get the
true class except for their own planted confusion and a little random error;
their score and number of votes decide retirement. Everything is vectorised:
700,000 rows of metadata take well under the two minutes the issue allows
(benchmarks/bench_synth.py --archive).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..archive.consensus import CONSENSUS_KEY
from ..archive.runs import DETECTORS, O3_CLASSES, RUN_SPANS
from ..atomic import atomic_path, write_text_atomic
from ..classes import CLASSES, WINDOWS, png_name
from ..errors import PlanError

__all__ = ["CONSENSUS_FILE", "IMAGES_FOLDER", "VOTES_FILE", "ArchivePlan", "Confusion", "generate_archive"]

CONSENSUS_FILE = "retired_fulldata_min2_max50_ret0p9.hdf5"
VOTES_FILE = "gravity-spy-classifications.csv"
DEFAULT_URL_BASE = "https://gravityspy.archive.invalid/images"
IMAGES_FOLDER = "images"
#: The O3 classes have no morphology of their own in the renderer's plan: drawn as the class each was split from.
_RENDER_AS = {"Blip_Low_Frequency": "Blip"}
_ID_ALPHABET = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"))


@dataclass(frozen=True)
class Confusion:
    """A planted confusion: ``share`` of the glitches of class ``true`` get the label ``as_label``."""

    true: str
    as_label: str
    share: float


@dataclass(frozen=True)
class ArchivePlan:
    """What the synthetic archive holds and what is planted in it (written beside the truth)."""

    #: the share of glitches in each observing run
    run_shares: dict[str, float] = field(default_factory=lambda: {"O1": 0.1, "O2": 0.2, "O3a": 0.35, "O3b": 0.35})
    #: the classifier's planted confusions
    machine: tuple[Confusion, ...] = (Confusion("Koi_Fish", "Blip", 0.30), Confusion("Tomte", "Blip", 0.25))
    #: the volunteers' planted confusions
    volunteer: tuple[Confusion, ...] = (
        Confusion("Whistle", "Violin_Mode", 0.30),
        Confusion("Low_Frequency_Lines", "Scattered_Light", 0.25),
    )
    #: glitches with a volunteer consensus, and of those the share not retired
    consensus_share: float = 0.4
    unretired_share: float = 0.2
    #: volunteers' random mistakes (any other class), besides the planted ones
    volunteer_noise: float = 0.03

    def check(self) -> None:
        """Raise `PlanError` naming the bad field."""
        classes = {*CLASSES, *O3_CLASSES}
        for confusion in (*self.machine, *self.volunteer):
            for name in (confusion.true, confusion.as_label):
                if name not in classes:
                    raise PlanError(f"archive plan: confusion names unknown class {name!r}")
            if not 0 < confusion.share < 1:
                raise PlanError(f"archive plan: confusion share must be in (0, 1), got {confusion.share}")
        if set(self.run_shares) - set(RUN_SPANS) or not np.isclose(sum(self.run_shares.values()), 1):
            raise PlanError(f"archive plan: run_shares must cover runs of {list(RUN_SPANS)} and sum to 1")


def _class_table(run: str) -> tuple[list[str], dict[str, np.ndarray]]:
    """The classes a run's classifier knows, and each detector's class frequencies (training-set counts, +1)."""
    names = list(CLASSES)
    counts = {d: np.array([getattr(CLASSES[n], d.lower()) + 1 for n in names], dtype=float) for d in DETECTORS}
    if run.startswith("O3"):
        # the O3 classes: as common as a tenth of the classes they were split from
        extra = {"Blip_Low_Frequency": "Blip", "Fast_Scattering": "Scattered_Light"}
        for name, parent in extra.items():
            names.append(name)
            for d in DETECTORS:
                counts[d] = np.append(counts[d], counts[d][names.index(parent)] * 0.5)
    return names, {d: c / c.sum() for d, c in counts.items()}


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct 10-character Gravity Spy-like ids."""
    out: set[str] = set()
    while len(out) < n:
        draw = rng.integers(0, len(_ID_ALPHABET), size=(int((n - len(out)) * 1.05) + 8, 10))
        out.update("".join(row) for row in _ID_ALPHABET[draw])
    return np.array(sorted(out)[:n], dtype=object)


def _apply(labels: np.ndarray, confusions: tuple[Confusion, ...], rng: np.random.Generator,
           names: list[str]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Labels after the planted confusions, and which rows each moved (the confusion's index, -1 for none)."""
    moved = np.full(len(labels), -1, dtype=np.int16)
    out = labels.copy()
    for number, confusion in enumerate(confusions):
        if confusion.true not in names or confusion.as_label not in names:
            continue
        chosen = (labels == names.index(confusion.true)) & (rng.random(len(labels)) < confusion.share)
        out[chosen], moved[chosen] = names.index(confusion.as_label), number
    return out, moved


def _triggers(rng: np.random.Generator, truth: np.ndarray, names: list[str], run: str, detector: str) -> pd.DataFrame:
    """Omicron-like trigger columns around each class's training-set means (log-normal scatter)."""
    n = len(truth)
    info = [CLASSES.get(name) or CLASSES["Blip" if "Blip" in name else "Scattered_Light"] for name in names]
    fields = {"snr": "mean_snr", "peak_frequency": "mean_peak_frequency_hz", "duration": "mean_duration_s"}
    mean = {key: np.array([getattr(i, name) for i in info])[truth] for key, name in fields.items()}
    start, end = RUN_SPANS[run]
    event = np.sort(rng.uniform(start, end - 1, n))
    duration = mean["duration"] * rng.lognormal(0, 0.4, n)
    peak = np.clip(mean["peak_frequency"] * rng.lognormal(0, 0.3, n), 10, 2048)
    snr = np.maximum(7.5, mean["snr"] * rng.lognormal(0, 0.5, n))
    return pd.DataFrame(
        {
            "event_time": np.round(event, 4),
            "ifo": detector,
            "peak_time": np.floor(event).astype(np.int64),
            "peak_time_ns": ((event % 1) * 1e9).astype(np.int64),
            "start_time": np.floor(event - duration / 2).astype(np.int64),
            "start_time_ns": (((event - duration / 2) % 1) * 1e9).astype(np.int64),
            "duration": np.round(duration, 4),
            "peak_frequency": np.round(peak, 3),
            "central_freq": np.round(np.clip(peak * rng.lognormal(0.3, 0.3, n), 10, 2048), 3),
            "bandwidth": np.round(peak * rng.lognormal(0.5, 0.4, n), 3),
            "channel": f"{detector}:GDS-CALIB_STRAIN",
            "amplitude": snr * 1e-23 * rng.lognormal(0, 0.2, n),
            "snr": np.round(snr, 3),
            "q_value": np.round(rng.choice([5.66, 11.31, 22.63, 45.25, 90.51], n), 2),
        }
    )


def _scores(rng: np.random.Generator, machine: np.ndarray, k: int) -> np.ndarray:
    """Softmax of noisy logits with the machine's class ahead by a random margin (rounded as the release is)."""
    logits = rng.normal(0, 1, (len(machine), k)).astype(np.float32)
    logits[np.arange(len(machine)), machine] += rng.gamma(6.0, 1.2, len(machine)).astype(np.float32)
    logits -= logits.max(axis=1, keepdims=True)
    scores = np.exp(logits)
    scores /= scores.sum(axis=1, keepdims=True)
    return np.round(scores, 6)


def _file(rng: np.random.Generator, plan: ArchivePlan, n: int, run: str, detector: str, url_base: str,
          ids: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """One catalogue file's rows, and their truth."""
    names, frequencies = _class_table(run)
    truth = rng.choice(len(names), size=n, p=frequencies[detector])
    machine, machine_moved = _apply(truth, plan.machine, rng, names)
    scores = _scores(rng, machine, len(names))
    table = _triggers(rng, truth, names, run, detector)
    table["gravityspy_id"] = ids
    for number, name in enumerate(names):
        table[name] = scores[:, number]
    table["ml_label"] = np.array(names, dtype=object)[scores.argmax(axis=1)]
    table["ml_confidence"] = scores.max(axis=1)
    prefix = url_base.rstrip("/") + f"/{detector}_" + pd.Series(ids, dtype=object)
    for number, window in enumerate(WINDOWS, start=1):
        urls = (prefix + f"_spectrogram_{window}.png").to_numpy(dtype=object, copy=True)
        urls[rng.random(n) < 0.002] = rng.choice(["", "?"])  # as some real rows are
        table[f"url{number}"] = urls
    truth_table = pd.DataFrame(
        {"gravityspy_id": ids, "detector": detector, "run": run,
         "true_label": np.array(names, dtype=object)[truth], "machine_confusion": machine_moved}
    )  # fmt: skip
    return table, truth_table


def _consensus(
    rng: np.random.Generator, plan: ArchivePlan, catalogue: pd.DataFrame, truth: pd.DataFrame
) -> pd.DataFrame:
    """The volunteers' table for a share of the glitches, with the planted confusions and some not retired."""
    chosen = np.flatnonzero(rng.random(len(truth)) < plan.consensus_share)
    names = sorted({*CLASSES, *O3_CLASSES})
    true = truth["true_label"].to_numpy()[chosen]
    labels = np.array([names.index(t) for t in true])
    volunteer, moved = _apply(labels, plan.volunteer, rng, names)
    noisy = (moved < 0) & (rng.random(len(chosen)) < plan.volunteer_noise)
    volunteer[noisy] = rng.integers(0, len(names), int(noisy.sum()))
    retired = rng.random(len(chosen)) >= plan.unretired_share
    votes = np.where(retired, rng.integers(2, 51, len(chosen)), rng.integers(1, 8, len(chosen)))
    score = np.where(retired, rng.uniform(0.9, 1.0, len(chosen)), rng.uniform(0.3, 0.9, len(chosen)))
    truth.loc[chosen, "volunteer_confusion"] = moved
    truth.loc[chosen, "volunteer_noise"] = noisy
    rows = catalogue.iloc[chosen]
    consensus = pd.DataFrame(
        {
            "gravityspy_id": rows["gravityspy_id"].to_numpy(),
            "final_label": np.array(names, dtype=object)[volunteer],
            "final_score": np.round(score, 4),
            "Nclassifications": votes.astype(np.int64),
            "retired": retired,
            "tracks": rng.choice([1, 2, 3, 4, 5], len(chosen)),
            "ml_label": rows["ml_label"].to_numpy(),
            "ml_confidence": rows["ml_confidence"].to_numpy(),
        }
    )
    return consensus


def _votes(
    rng: np.random.Generator, plan: ArchivePlan, truth: pd.DataFrame, glitches: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A Zooniverse export of 3-8 votes on each of ``glitches`` glitches with a consensus, and each volunteer's skill.

    Seven volunteers in ten are careful (85-98 % right), the rest careless
    (40-70 %); a wrong vote falls on a planted volunteer confusion where the
    glitch's class has one (seven times in ten), else on any class its run's
    classifier knows.
    """
    voted = rng.permutation(truth.index[truth["consensus"]])[:glitches]
    n_volunteers = max(20, len(voted) // 15)
    careful = rng.random(n_volunteers) < 0.7
    skill = np.where(careful, rng.uniform(0.85, 0.98, n_volunteers), rng.uniform(0.4, 0.7, n_volunteers))
    slips = {c.true: c.as_label for c in plan.volunteer}
    rows, number = [], 0
    for index in voted:
        gid, true, run = truth.at[index, "gravityspy_id"], truth.at[index, "true_label"], truth.at[index, "run"]
        names, _ = _class_table(run)
        for volunteer in rng.choice(n_volunteers, size=rng.integers(3, 9), replace=False):
            label = true
            if rng.random() >= skill[volunteer]:
                label = slips[true] if true in slips and rng.random() < 0.7 else names[rng.integers(len(names))]
            number += 1
            subject = 10_000_000 + int(index)
            rows.append({
                "classification_id": 400_000_000 + number, "user_name": f"volunteer-{volunteer:04d}",
                "user_id": 1_000 + int(volunteer), "workflow_id": 1610, "workflow_name": "Level 5",
                "created_at": f"2019-{1 + number % 12:02d}-{1 + number % 28:02d} 12:00:00 UTC",
                "annotations": json.dumps([{"task": "T1", "task_label": None, "value": [
                    {"choice": re.sub(r"[^A-Z0-9]", "", label.upper()), "answers": {}, "filters": {}}]}]),
                "subject_data": json.dumps({str(subject): {"retired": None, "subject_id": gid}}),
                "subject_ids": subject,
            })  # fmt: skip
    volunteers = pd.DataFrame({"volunteer": [f"volunteer-{v:04d}" for v in range(n_volunteers)], "skill": skill})
    return pd.DataFrame(rows), volunteers


def _render(out: Path, truth: pd.DataFrame, disputed: np.ndarray, snr: pd.Series, rng: np.random.Generator,
            images: int, workers: int | None, show_progress: bool) -> np.ndarray:  # fmt: skip
    """Render the four windows of ``images`` glitches with a consensus into ``out/images`` (skipping those done).

    Up to half are glitches whose machine and volunteer labels disagree (what a
    curator would fetch to settle), the rest a random reference sample of the
    others with a consensus, so that every class has neighbours to compare with.
    ``disputed`` marks the rows of ``truth`` whose two labels differ; returns the rows chosen.
    """
    from ..progress import progress
    from .generate import BLOCK_S, SAMPLE_RATE_HZ, render_glitch, render_pool
    from .plan import load_plan

    morphologies = load_plan().morphologies
    first = rng.permutation(truth.index[disputed])[: images // 2]
    rest = rng.permutation(truth.index[truth["consensus"].to_numpy() & ~disputed])[: images - len(first)]
    chosen = truth.loc[np.sort(np.concatenate([first, rest]))]
    seeds = rng.integers(0, 2**63 - 1, size=len(chosen), dtype=np.int64)
    folder = out / IMAGES_FOLDER
    tasks = [
        {"gravityspy_id": gid, "ifo": ifo, "folder": IMAGES_FOLDER, "root": str(out),
         "model": morphologies[_RENDER_AS.get(label, label)].model, "snr_target": float(snr[gid]),
         "glitch_seed": int(seed), "sample_rate": SAMPLE_RATE_HZ, "block_s": BLOCK_S, "label": label}
        for gid, ifo, label, seed in zip(chosen["gravityspy_id"], chosen["detector"], chosen["true_label"], seeds,
                                         strict=True)
        if not all((folder / png_name(ifo, gid, w)).is_file() for w in WINDOWS)
    ]  # fmt: skip
    if tasks:
        with render_pool(workers) as pool:
            for _ in progress(pool.imap_unordered(render_glitch, tasks), total=len(tasks), desc="render",
                              unit="glitch", enabled=show_progress):  # fmt: skip
                pass
    return truth["gravityspy_id"].isin(chosen["gravityspy_id"]).to_numpy()


def generate_archive(
    out: str | os.PathLike[str], *, glitches: int, seed: int = 0, plan: ArchivePlan | None = None,
    url_base: str = DEFAULT_URL_BASE, votes: int = 0, images: int = 0, workers: int | None = None,
    show_progress: bool = False,
) -> Path:  # fmt: skip
    """Write a synthetic archive of ``glitches`` rows into ``out``; return ``out``. Each file is written atomically.

    ``images`` glitches with a consensus also get their four PNGs rendered
    (``workers`` processes), which a re-run with the same settings skips.
    """
    plan = plan or ArchivePlan()
    plan.check()
    out = Path(out)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = _ids(rng, glitches)
    rng.shuffle(ids)
    detectors = rng.choice(DETECTORS, size=glitches, p=[0.4, 0.6])  # the archive: 234k H1, 380k L1
    runs = rng.choice(list(plan.run_shares), size=glitches, p=list(plan.run_shares.values()))
    catalogue, truths = [], []
    for run in plan.run_shares:
        for detector in DETECTORS:
            mine = (runs == run) & (detectors == detector)
            if not mine.any():
                continue
            table, truth = _file(rng, plan, int(mine.sum()), run, detector, url_base, ids[mine])
            with atomic_path(out / f"{detector}_{run}.csv") as tmp:
                table.to_csv(tmp, index=False)
            catalogue.append(table[["gravityspy_id", "ml_label", "ml_confidence", "snr"]])
            truths.append(truth)
    everything, truth = pd.concat(catalogue, ignore_index=True), pd.concat(truths, ignore_index=True)
    truth["volunteer_confusion"], truth["volunteer_noise"] = np.int16(-1), False
    consensus = _consensus(rng, plan, everything, truth)
    with atomic_path(out / CONSENSUS_FILE) as tmp:
        consensus.to_hdf(tmp, key=CONSENSUS_KEY, mode="w")
    truth["consensus"] = truth["gravityspy_id"].isin(consensus["gravityspy_id"])
    if votes:
        export, volunteers = _votes(rng, plan, truth, votes)
        with atomic_path(out / VOTES_FILE) as tmp:
            export.to_csv(tmp, index=False)
        with atomic_path(out / "truth" / "volunteers.csv") as tmp:
            volunteers.to_csv(tmp, index=False)
    if images:
        by_id = everything.set_index("gravityspy_id")
        volunteer = truth["gravityspy_id"].map(consensus.set_index("gravityspy_id")["final_label"])
        disputed = (truth["consensus"] & (truth["gravityspy_id"].map(by_id["ml_label"]) != volunteer)).to_numpy()
        truth["imaged"] = _render(out, truth, disputed, by_id["snr"], rng, images, workers, show_progress)
    with atomic_path(out / "truth" / "archive_truth.parquet") as tmp:
        truth.to_parquet(tmp, index=False)
    write_text_atomic(out / "truth" / "archive_plan.json", json.dumps({"seed": seed, **asdict(plan)}, indent=1))
    return out
