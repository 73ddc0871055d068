"""Plans: which morphologies a synthetic data set holds and how its human labels fail.

A plan is a JSON document (``docs/synthetic-data.md`` describes it field by
field; ``plans/*.json`` are examples). It names extra morphologies beyond the 22
Gravity Spy classes and a list of *mechanisms* that turn each glitch's true
morphology into the label a human gave it:

``over_split``      one morphology, labelled with any of >= 3 labels
``over_compress``   >= 2 morphologies that all carry one label
``continuum``       two morphologies on one parameter (SNR); the label flips
                    noisily near a boundary
``novel``           a morphology absent from the taxonomy, filed under a label
                    such as None_of_the_Above
``random_noise``    a fraction of all labels replaced by a random other class

`assign_truth` applies a plan to N glitches and returns the truth table; the
generator renders it. Everything is drawn from one seeded generator, so the
same plan, N and seed give the same table on any machine.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..classes import CLASSES
from ..errors import PlanError
from .glitches import MODELS

__all__ = [
    "CANONICAL_MODELS",
    "MECHANISMS",
    "Morphology",
    "Plan",
    "assign_truth",
    "default_plan_path",
    "load_plan",
]

#: Waveform model of each of the 22 Gravity Spy classes.
CANONICAL_MODELS: dict[str, str] = {
    "1080Lines": "lines_1080",
    "1400Ripples": "ripples_1400",
    "Air_Compressor": "air_compressor",
    "Blip": "blip_family",
    "Chirp": "chirp",
    "Extremely_Loud": "extremely_loud",
    "Helix": "helix",
    "Koi_Fish": "blip_family",
    "Light_Modulation": "light_modulation",
    "Low_Frequency_Burst": "low_frequency_burst",
    "Low_Frequency_Lines": "low_frequency_lines",
    "No_Glitch": "no_glitch",
    "None_of_the_Above": "none_of_the_above",
    "Paired_Doves": "paired_doves",
    "Power_Line": "power_line",
    "Repeating_Blips": "repeating_blips",
    "Scattered_Light": "scattered_light",
    "Scratchy": "scratchy",
    "Tomte": "tomte",
    "Violin_Mode": "violin_mode",
    "Wandering_Line": "wandering_line",
    "Whistle": "whistle",
}

MECHANISMS = ("over_split", "over_compress", "continuum", "novel", "random_noise")
#: Spread of log(SNR) within a morphology.
_SNR_LOG_SIGMA = 0.5
#: Omicron's trigger threshold: no catalogued glitch is quieter.
_SNR_FLOOR = 7.5


@dataclass(frozen=True)
class Morphology:
    """A true glitch shape: its waveform model, weight, SNR and detector mix."""

    name: str
    model: str
    weight: float
    snr_mean: float
    h1_fraction: float


@dataclass(frozen=True)
class Plan:
    """A validated plan. Build one with `load_plan` or `Plan.from_dict`."""

    name: str
    description: str
    morphologies: dict[str, Morphology]
    mechanisms: list[dict[str, Any]]
    min_per_morphology: int = 8
    source: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], *, where: str = "plan") -> Plan:
        """Validate ``raw`` (a parsed plan) and build a `Plan`; errors name the field."""
        if not isinstance(raw, dict):
            raise PlanError(f"{where}: a plan must be a JSON object, got {type(raw).__name__}")
        unknown = set(raw) - {"name", "description", "morphologies", "mechanisms", "min_per_morphology"}
        if unknown:
            raise PlanError(f"{where}: unknown field(s) {sorted(unknown)}; see docs/synthetic-data.md")
        morphologies = {
            name: Morphology(name, CANONICAL_MODELS[name], float(info.total), info.mean_snr, info.h1_fraction)
            for name, info in CLASSES.items()
        }
        for name, spec in (raw.get("morphologies") or {}).items():
            morphologies[name] = _parse_morphology(name, spec, morphologies.get(name), where)
        mechanisms = raw.get("mechanisms")
        if not isinstance(mechanisms, list):
            raise PlanError(f"{where}: 'mechanisms' must be a list of objects (it may be empty)")
        for i, mech in enumerate(mechanisms):
            _check_mechanism(mech, morphologies, f"{where}: mechanisms[{i}]")
        labelled = set(CLASSES)
        for mech in mechanisms:
            if mech["kind"] in ("over_compress", "novel"):
                labelled.update(mech["morphologies"] if mech["kind"] == "over_compress" else [mech["morphology"]])
        unlabelled = [m for m in morphologies if m not in labelled and morphologies[m].weight > 0]
        if unlabelled:
            raise PlanError(
                f"{where}: morphologies {unlabelled} are not Gravity Spy classes and no 'novel' or "
                "'over_compress' mechanism says which label humans give them; add one"
            )
        floor = raw.get("min_per_morphology", 8)
        if not isinstance(floor, int) or floor < 0:
            raise PlanError(f"{where}: 'min_per_morphology' must be a non-negative integer, got {floor!r}")
        return cls(
            name=str(raw.get("name", "unnamed")),
            description=str(raw.get("description", "")),
            morphologies=morphologies,
            mechanisms=mechanisms,
            min_per_morphology=floor,
            source=raw,
        )

    def to_json(self) -> str:
        """The plan as given (the truth folder keeps it beside the labels)."""
        return json.dumps(self.source, indent=2, sort_keys=False) + "\n"


def _parse_morphology(name: str, spec: Any, base: Morphology | None, where: str) -> Morphology:
    field_where = f"{where}: morphologies.{name}"
    if not isinstance(spec, dict):
        raise PlanError(f"{field_where} must be an object with 'model', 'weight', 'snr_mean', 'h1_fraction'")
    model = spec.get("model", base.model if base else None)
    if model not in MODELS:
        raise PlanError(f"{field_where}.model: unknown model {model!r}; known models: {', '.join(sorted(MODELS))}")
    values = {}
    for key, default, lo, hi in (
        ("weight", base.weight if base else None, 0.0, math.inf),
        ("snr_mean", base.snr_mean if base else 20.0, _SNR_FLOOR, 1e5),
        ("h1_fraction", base.h1_fraction if base else 0.5, 0.0, 1.0),
    ):
        value = spec.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or not (lo <= value <= hi):
            raise PlanError(f"{field_where}.{key} must be a number in [{lo}, {hi}], got {value!r}")
        values[key] = float(value)
    return Morphology(name, model, values["weight"], values["snr_mean"], values["h1_fraction"])


def _check_mechanism(mech: Any, morphologies: dict[str, Morphology], where: str) -> None:
    if not isinstance(mech, dict) or mech.get("kind") not in MECHANISMS:
        kind = mech.get("kind") if isinstance(mech, dict) else mech
        raise PlanError(f"{where}.kind: {kind!r} is not one of {', '.join(MECHANISMS)}")
    kind = mech["kind"]

    def need_morph(name: Any, key: str) -> None:
        if name not in morphologies:
            raise PlanError(f"{where}.{key}: unknown morphology {name!r}; declare it under 'morphologies'")

    def need_label(name: Any, key: str) -> None:
        if not isinstance(name, str) or not name:
            raise PlanError(f"{where}.{key}: a label must be a non-empty string, got {name!r}")

    if kind == "over_split":
        need_morph(mech.get("morphology"), "morphology")
        labels = mech.get("labels")
        if not isinstance(labels, dict) or len(labels) < 3:
            raise PlanError(f"{where}.labels: over-splitting needs >= 3 labels with shares, got {labels!r}")
        for label, share in labels.items():
            need_label(label, "labels")
            if not isinstance(share, int | float) or share <= 0:
                raise PlanError(f"{where}.labels.{label}: share must be > 0, got {share!r}")
        if abs(sum(labels.values()) - 1.0) > 1e-6:
            raise PlanError(f"{where}.labels: shares must sum to 1, they sum to {sum(labels.values()):.6g}")
    elif kind == "over_compress":
        need_label(mech.get("label"), "label")
        names = mech.get("morphologies")
        if not isinstance(names, list) or len(names) < 2:
            raise PlanError(f"{where}.morphologies: over-compression needs >= 2 morphologies, got {names!r}")
        for name in names:
            need_morph(name, "morphologies")
    elif kind == "continuum":
        names = mech.get("morphologies")
        if not isinstance(names, list) or len(names) != 2:
            raise PlanError(
                f"{where}.morphologies: a continuum joins exactly 2 morphologies (low, high), got {names!r}"
            )
        for name in names:
            need_morph(name, "morphologies")
        if morphologies[names[0]].model != morphologies[names[1]].model:
            raise PlanError(f"{where}.morphologies: {names} must share one waveform model to form a continuum")
        for key in ("boundary_snr", "width_dex"):
            value = mech.get(key)
            if not isinstance(value, int | float) or value <= 0:
                raise PlanError(f"{where}.{key} must be a positive number, got {value!r}")
    elif kind == "novel":
        need_morph(mech.get("morphology"), "morphology")
        need_label(mech.get("label"), "label")
    elif kind == "random_noise":
        rate = mech.get("rate")
        if not isinstance(rate, int | float) or not 0 <= rate < 1:
            raise PlanError(f"{where}.rate must be in [0, 1), got {rate!r}")


def default_plan_path() -> Path:
    """The default plan shipped with the package."""
    return Path(__file__).with_name("plans") / "default.json"


def load_plan(path: str | Path | None = None) -> Plan:
    """Read and validate a plan file (the default plan when ``path`` is None)."""
    path = Path(path) if path is not None else default_plan_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"plan file {path} does not exist; pass an existing --plan or omit it") from None
    except json.JSONDecodeError as exc:
        raise PlanError(f"plan file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return Plan.from_dict(raw, where=str(path))


# -- applying a plan ---------------------------------------------------------------


def _counts(plan: Plan, n: int) -> dict[str, int]:
    """Glitches per morphology: proportional to weight, each at least the plan's floor."""
    names = [m for m, spec in plan.morphologies.items() if spec.weight > 0]
    floor = plan.min_per_morphology
    if n < floor * len(names):
        raise PlanError(
            f"--glitches {n} is too few for plan {plan.name!r}: its {len(names)} morphologies need at least "
            f"{floor} each ({floor * len(names)}); ask for more glitches or lower 'min_per_morphology'"
        )
    weights = np.array([plan.morphologies[m].weight for m in names])
    counts = np.full(len(names), floor)
    rest = n - counts.sum()
    share = weights / weights.sum() * rest
    counts += np.floor(share).astype(int)
    remainder = n - counts.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[:remainder]] += 1
    return dict(zip(names, counts.tolist(), strict=True))


def _gravityspy_ids(rng: np.random.Generator, n: int) -> list[str]:
    alphabet = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))
    ids: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        candidate = "".join(rng.choice(alphabet, size=10))
        if candidate not in ids:
            ids.add(candidate)
            out.append(candidate)
    return out


def assign_truth(plan: Plan, n: int, seed: int) -> pd.DataFrame:
    """Draw N glitches under ``plan``: truth table with morphology, label and mechanism.

    Columns: ``gravityspy_id, ifo, morphology, model, snr_target, label,
    label_altered, mechanism, continuum_p_high, sample_type, glitch_seed``.
    ``label_altered`` is True where the human label differs from the true
    morphology's name; ``mechanism`` names the plan mechanism that set the label
    (``none`` when the label is the morphology's own).
    """
    rng = np.random.default_rng(seed)
    counts = _counts(plan, n)
    morph = np.array([name for name, count in counts.items() for _ in range(count)], dtype=object)
    rng.shuffle(morph)
    specs = [plan.morphologies[m] for m in morph]
    median = np.array([s.snr_mean for s in specs]) / math.exp(_SNR_LOG_SIGMA**2 / 2)
    snr = np.maximum(median * np.exp(rng.normal(0.0, _SNR_LOG_SIGMA, size=n)), _SNR_FLOOR)
    ifo = np.where(rng.random(n) < np.array([s.h1_fraction for s in specs]), "H1", "L1")
    label = morph.copy()
    mechanism = np.full(n, "none", dtype=object)
    p_high = np.full(n, np.nan)

    for mech in plan.mechanisms:
        kind = mech["kind"]
        if kind == "over_split":
            members = np.flatnonzero(morph == mech["morphology"])
            names = list(mech["labels"])
            label[members] = rng.choice(names, size=len(members), p=list(mech["labels"].values()))
            mechanism[members] = kind
        elif kind == "over_compress":
            members = np.flatnonzero(np.isin(morph, mech["morphologies"]))
            label[members] = mech["label"]
            mechanism[members] = kind
        elif kind == "novel":
            members = np.flatnonzero(morph == mech["morphology"])
            label[members] = mech["label"]
            mechanism[members] = kind
        elif kind == "continuum":
            low, high = mech["morphologies"]
            members = np.flatnonzero(np.isin(morph, [low, high]))
            # the true morphology is the side of the boundary its loudness puts it on;
            # the human label flips with a logistic probability around the boundary
            morph[members] = np.where(snr[members] >= mech["boundary_snr"], high, low)
            p = 1.0 / (1.0 + np.exp(-np.log10(snr[members] / mech["boundary_snr"]) / mech["width_dex"]))
            p_high[members] = p
            label[members] = np.where(rng.random(len(members)) < p, high, low)
            mechanism[members] = kind
        elif kind == "random_noise":
            members = np.flatnonzero(rng.random(n) < mech["rate"])
            pool = sorted(CLASSES)
            for i in members:
                label[i] = rng.choice([c for c in pool if c != label[i]])
            mechanism[members] = kind

    split = rng.random(n)
    sample_type = np.where(split < 0.7, "train", np.where(split < 0.85, "validation", "test"))
    table = pd.DataFrame(
        {
            "gravityspy_id": _gravityspy_ids(rng, n),
            "ifo": ifo,
            "morphology": morph.astype(str),
            "model": [plan.morphologies[m].model for m in morph],
            "snr_target": snr,
            "label": label.astype(str),
            "label_altered": label != morph,
            "mechanism": mechanism.astype(str),
            "continuum_p_high": p_high,
            "sample_type": sample_type,
            "glitch_seed": rng.integers(0, 2**63 - 1, size=n, dtype=np.int64),
        }
    )
    table["label_altered"] = table["label_altered"].astype(bool)
    return table
