"""``python -m precompute validate``: synthetic sets generated, run, evaluated and tabulated in one command.

For every plan x size x data seed it generates the set (an existing one with the
same settings is reused, an interrupted one resumed), runs the pipeline into a
run directory (embeddings, previews and the map are cached by content, so a
rerun after a rule change embeds nothing), evaluates the run against the set's
truth (`precompute.audit.evaluate`) and, with ``--stability``, cuts a second
map of the same data drawn with another UMAP seed and reports the adjusted Rand
index between the two clusterings. Results go to ``WORKDIR/validation.json``
(rewritten after each set, so a long validation keeps what it finished) and,
as a Markdown table, to stdout and, with ``--doc``, between the markers
``<!-- validate:SECTION -->`` and ``<!-- /validate:SECTION -->`` of that file.

The clustering settings for each size come from one rule, `settings_for`,
fixed before any validation was run (it gives the demo's settings at 300
glitches and 15 / 5 at 2,000).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic import write_text_atomic
from .errors import PrecomputeError

__all__ = ["ValidationSet", "settings_for", "validate", "validation_table"]


def settings_for(n_glitches: int) -> dict[str, int]:
    """HDBSCAN and UMAP settings for a set of ``n_glitches``: min_cluster_size ~ n / 130 (at least 5),
    min_samples a third of it (at least 3), 15 UMAP neighbours."""
    size = max(5, round(n_glitches / 130))
    return {"min_cluster_size": size, "min_samples": max(3, round(size / 3)), "umap_neighbors": 15}


@dataclass(frozen=True)
class ValidationSet:
    """One synthetic set to validate on."""

    plan: str
    glitches: int
    seed: int

    @property
    def name(self) -> str:
        return f"{Path(self.plan).stem}-{self.glitches}-s{self.seed}"


def _plan_path(plan: str) -> Path:
    from .synth.plan import default_plan_path

    path = Path(plan)
    if path.suffix == ".json":
        if not path.is_file():
            raise PrecomputeError(f"--plans: {path} does not exist")
        return path
    shipped = default_plan_path().parent / f"{plan}.json"
    if not shipped.is_file():
        known = ", ".join(sorted(p.stem for p in shipped.parent.glob("*.json")))
        raise PrecomputeError(f"--plans: no shipped plan named {plan!r}; shipped: {known}, or give a .json path")
    return shipped


def _run(data: Path, out: Path, n: int, cache: Path, umap_seed: int, workers: int) -> Path:
    from .cluster import ClusterParams
    from .pipeline import RunConfig, run_pipeline
    from .reduce import UMAPConfig

    s = settings_for(n)
    config = RunConfig(
        data=data, out=out, weights="imagenet-or-random", cache_dir=cache, workers=workers,
        umap=UMAPConfig(n_neighbors=s["umap_neighbors"], seed=umap_seed),
        cluster=ClusterParams(s["min_cluster_size"], s["min_samples"]),
    )  # fmt: skip
    run_pipeline(config, show_progress=False, argv=["precompute", "validate"])
    return out


def _stability(first: Path, second: Path) -> float:
    """Adjusted Rand index between two runs' clusterings of the same glitches (noise as its own group)."""
    from sklearn.metrics import adjusted_rand_score

    from .rundir import load_run

    a, b = load_run(first).points, load_run(second).points
    joined = a[["gravityspy_id", "cluster"]].merge(b[["gravityspy_id", "cluster"]], on="gravityspy_id")
    return float(adjusted_rand_score(joined["cluster_x"], joined["cluster_y"]))


def validate(
    sets: list[ValidationSet], workdir: Path, *, cache_dir: Path, stability: bool = False, workers: int = 2
) -> list[dict[str, Any]]:
    """Generate, run and evaluate every set (module docstring); the results, one dict per set."""
    from .audit.evaluate import evaluate_run
    from .rundir import load_run
    from .synth.generate import generate_dataset

    results: list[dict[str, Any]] = []
    for item in sets:
        started = time.perf_counter()
        data = workdir / "data" / item.name
        generate_dataset(data, glitches=item.glitches, seed=item.seed, plan=_plan_path(item.plan), workers=workers,
                         show_progress=False)  # fmt: skip
        run = _run(data, workdir / "runs" / item.name, item.glitches, cache_dir, 42, workers)
        result = evaluate_run(load_run(run), data / "truth")
        result.update(set=item.name, glitches=item.glitches, data_seed=item.seed, settings=settings_for(item.glitches))
        if stability:
            other = _run(data, workdir / "runs" / f"{item.name}-umap43", item.glitches, cache_dir, 43, workers)
            result["stability_ari"] = _stability(run, other)
        result["seconds"] = round(time.perf_counter() - started, 1)
        results.append(result)
        write_text_atomic(workdir / "validation.json", json.dumps(results, indent=2) + "\n")
    return results


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _rp(score: dict[str, Any]) -> str:
    """Recall / precision, and how many planted failures the audit said it could not tell ("ct")."""

    def f(v: float | None) -> str:
        return "–" if v is None else f"{v:.2f}"

    told = score.get("n_cannot_tell", 0)
    return f"{f(score['recall'])} / {f(score['precision'])}" + (f" ({told} ct)" if told else "")


def validation_table(results: list[dict[str, Any]]) -> str:
    """One Markdown row per set: each kind's recall / precision (planted failures the audit could not tell, "ct"),
    suspicion against cleanlab's best, proposals, clusters vs truth and stability."""
    lines = [
        "| set | glitches (mcs/ms) | merge R / P | split R / P | novel R / P | continuum R / P | cannot tell | "
        "suspicion AUC ours / cleanlab best | proposals name the true shape (altered / nameable) | ARI vs truth | stability ARI |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, settings = r["suspicion"], r["settings"]
        best = s["cleanlab"]
        stable = f"{r['stability_ari']:.2f}" if "stability_ari" in r else "–"
        cells = [
            r["set"],
            f"{r['glitches']} ({settings['min_cluster_size']}/{settings['min_samples']})",
            *(_rp(r[kind]) for kind in ("merge", "split", "novel", "continuum")),
            str(r["cannot_tell"]["n_entries"]),
            f"{s['ours']['roc_auc']:.3f} / {best['roc_auc']:.3f} ({best['input']}, {best['method']})",
            f"{_pct(s['proposals_true_morphology_altered'])} / {_pct(s['proposals_true_morphology_nameable'])}",
            f"{r['clusters_vs_morphology']['ari']:.2f}",
            stable,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_section(doc: Path, section: str, table: str) -> None:
    """Replace the text between ``<!-- validate:SECTION -->`` and ``<!-- /validate:SECTION -->`` in ``doc``."""
    text = doc.read_text(encoding="utf-8")
    begin, end = f"<!-- validate:{section} -->", f"<!-- /validate:{section} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise PrecomputeError(f"{doc} has no {begin} ... {end} markers; add them where the table should go")
    write_text_atomic(doc, pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text))
