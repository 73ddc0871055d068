"""``python -m precompute audit --run RUN``: the audit of a run, written into it.

Writes into ``RUN/audit/`` (each file atomically):

``clusters.csv``     per-cluster metrics (docs/audit.md)
``labels.csv``       per-label metrics
``glitches.csv``     per point: neighbour agreement, suspicion, proposed label, evidence;
                     for a data set with machine and volunteer labels (the archive's
                     ``ml_label`` and ``volunteer_label``), which side the point's
                     neighbours take where they disagree (precompute.audit.sources)
``corrections.csv``  the points whose proposed label differs: gravityspy_id, ifo,
                     current_label, proposed_label, cluster, suspicion, evidence,
                     params_hash
``segments.csv``     deep dive of every cluster: segments along its main axis,
                     canonical label, disagreement rate (precompute.deep_dive)
``deep_dive.csv``    every clustered point's position and segment on that axis,
                     intensity, and the label its segment proposes
``summary.json``     global metrics, confound checks, the findings (every kind of
                     `precompute.audit.findings`) and every threshold used

``run`` does the same before its run directory is moved into place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_path, json_default, write_text_atomic
from .deep_dive import deep_dive_all
from .findings import Findings, all_findings, findings_as_dict
from .groups import label_groups
from .metrics import CONFOUND_NMI_THRESHOLD, GlobalMetrics, cluster_table, global_metrics, label_table
from .neighbours import nearest_neighbours
from .params import FindingParams
from .sources import ALPHA, REACH, VERDICTS, K, has_both_labels, side_support
from .suspicion import glitch_suspicion

__all__ = ["AuditTables", "audit_points", "params_hash", "write_audit"]

#: Share of a label's members that makes a cluster worth listing in the label table.
LABEL_MIN_SHARE = 0.1


@dataclass(frozen=True)
class AuditTables:
    """Everything the audit computed for one clustering."""

    clusters: pd.DataFrame
    labels: pd.DataFrame
    summary: GlobalMetrics
    glitches: pd.DataFrame
    corrections: pd.DataFrame
    findings: Findings = field(default_factory=dict)
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    deep_dive: pd.DataFrame = field(default_factory=pd.DataFrame)
    params: FindingParams = field(default_factory=FindingParams)
    params_hash: str = ""
    #: (n, ≤ NEIGHBOURS_KEPT) each point's nearest neighbours, nearest first: the dashboard's neighbour panel
    neighbours: np.ndarray | None = None


#: Columns of the neighbour search kept in ``audit/neighbours.npy`` (the dashboard shows 8)
NEIGHBOURS_KEPT = 20


def params_hash(run_parameters: dict[str, Any], params: FindingParams) -> str:
    """Short hash of the run's parameters and the finding thresholds: ties a correction to what produced it."""
    text = json.dumps({"run": run_parameters, "findings": params.as_dict()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def audit_points(
    points: pd.DataFrame,
    embeddings: np.ndarray,
    *,
    persistence: np.ndarray | None = None,
    params: FindingParams | None = None,
    run_parameters: dict[str, Any] | None = None,
) -> AuditTables:
    """Audit a points table (``gravityspy_id``, ``cluster``, ``label``, ``x``, ``y``, ...) and its embeddings."""
    params = params or FindingParams()
    clusters = points["cluster"].to_numpy()
    labels = points["label"].astype(str).to_numpy()
    digest = params_hash(run_parameters or {}, params)
    sources = has_both_labels(points.columns)  # the archive's three label sources
    # one neighbour search for every user of it: exact or approximate by size (precompute.audit.neighbours)
    neighbours = nearest_neighbours(embeddings, max(params.k, params.suspicion_k, REACH if sources else 0))
    glitches = glitch_suspicion(points, embeddings, params, neighbours)
    glitches.insert(1, "cluster", clusters)
    glitches.insert(1, "current_label", labels)
    glitches.insert(1, "ifo", points["ifo"].astype(str).to_numpy() if "ifo" in points else "")
    if sources:
        sides = side_support(embeddings, points["ml_label"], points["volunteer_label"], neighbours=neighbours)
        glitches = pd.concat([glitches, sides.set_axis(glitches.index)], axis=1)
    corrections = (
        glitches[glitches["proposed_label"] != glitches["current_label"]]
        .sort_values("suspicion", ascending=False, kind="stable")
        .assign(params_hash=digest)[
            [
                "gravityspy_id",
                "ifo",
                "current_label",
                "proposed_label",
                "cluster",
                "suspicion",
                "evidence",
                "params_hash",
            ]
        ]
        .reset_index(drop=True)
    )
    dive_members, segments = deep_dive_all(points, embeddings)
    return AuditTables(
        clusters=cluster_table(
            clusters, labels, probabilities=points["probability"].to_numpy(), persistence=persistence
        ),
        labels=label_table(clusters, labels, min_share=LABEL_MIN_SHARE),
        summary=global_metrics(
            clusters,
            labels,
            windows=points["window"].to_numpy() if "window" in points else None,
            detectors=points["ifo"].astype(str).to_numpy() if "ifo" in points else None,
        ),
        glitches=glitches,
        corrections=corrections,
        findings=all_findings(
            points, params, embeddings, label_groups(points, embeddings, params, glitches["agreement"].to_numpy())
        ),
        segments=segments,
        deep_dive=dive_members,
        params=params,
        params_hash=digest,
        neighbours=neighbours[:, :NEIGHBOURS_KEPT].astype(np.int32),
    )


def _sides_summary(glitches: pd.DataFrame) -> dict[str, Any]:
    """How many points each side-taking verdict got (precompute.audit.sources), when the data set has both labels."""
    if "sides_with" not in glitches:
        return {}
    counts = glitches["sides_with"].value_counts()
    return {
        "sides_with": {verdict: int(counts.get(verdict, 0)) for verdict in VERDICTS},
        "sides_k": K,
        "sides_reach": REACH,
        "sides_alpha": ALPHA,
    }


def write_audit(folder: Path, tables: AuditTables) -> None:
    """Write the audit into ``folder`` (each file atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("clusters", tables.clusters),
        ("labels", tables.labels),
        ("glitches", tables.glitches),
        ("corrections", tables.corrections),
        ("segments", tables.segments),
        ("deep_dive", tables.deep_dive),
    ):
        out = table.copy()
        for column in ("label_shares", "clusters_with_share"):
            if column in out:
                out[column] = out[column].map(json.dumps)
        with atomic_path(folder / f"{name}.csv", suffix=".csv") as tmp:
            out.to_csv(tmp, index=False)
    summary = {
        "global": tables.summary.as_dict(),
        "findings": findings_as_dict(tables.findings),
        "n_corrections": len(tables.corrections),
        "params_hash": tables.params_hash,
        **_sides_summary(tables.glitches),
        "thresholds": {
            "confound_nmi": CONFOUND_NMI_THRESHOLD,
            "label_min_share": LABEL_MIN_SHARE,
            **tables.params.as_dict(),
        },
    }
    if tables.neighbours is not None:
        with atomic_path(folder / "neighbours.npy", suffix=".npy") as tmp, open(tmp, "wb") as handle:
            np.save(handle, tables.neighbours)
    write_text_atomic(folder / "summary.json", json.dumps(summary, indent=2, default=json_default) + "\n")
