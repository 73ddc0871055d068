"""``python -m precompute audit --run RUN``: the taxonomy metrics of a run, written into it.

Writes ``RUN/audit/clusters.csv``, ``RUN/audit/labels.csv`` and
``RUN/audit/summary.json`` (global metrics, confound checks, their warnings and
the thresholds used), each atomically. ``run`` does the same before its run
directory is moved into place. Findings (merge/split suggestions, suspicion
scores, the correction table) build on these tables: see issue 4 and
docs/audit.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .atomic import atomic_path, write_text_atomic
from .audit_metrics import CONFOUND_NMI_THRESHOLD, GlobalMetrics, cluster_table, global_metrics, label_table

__all__ = ["AuditTables", "audit_points", "write_audit"]


@dataclass(frozen=True)
class AuditTables:
    """Per-cluster and per-label tables and the global metrics of one clustering."""

    clusters: pd.DataFrame
    labels: pd.DataFrame
    summary: GlobalMetrics


def audit_points(points: pd.DataFrame, *, persistence: np.ndarray | None = None, min_share: float = 0.1) -> AuditTables:
    """Compute the metrics of a points table (``cluster``, ``label``, ``probability``, ``window``, ``ifo``)."""
    clusters = points["cluster"].to_numpy()
    labels = points["label"].astype(str).to_numpy()
    return AuditTables(
        clusters=cluster_table(
            clusters, labels, probabilities=points["probability"].to_numpy(), persistence=persistence
        ),
        labels=label_table(clusters, labels, min_share=min_share),
        summary=global_metrics(
            clusters,
            labels,
            windows=points["window"].to_numpy() if "window" in points else None,
            detectors=points["ifo"].astype(str).to_numpy() if "ifo" in points else None,
        ),
    )


def write_audit(folder: Path, tables: AuditTables, *, parameters: dict[str, object]) -> None:
    """Write the tables and a JSON summary into ``folder`` (each file atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in (("clusters", tables.clusters), ("labels", tables.labels)):
        out = table.copy()
        for column in ("label_shares", "clusters_with_share"):
            if column in out:
                out[column] = out[column].map(lambda d: json.dumps(d, sort_keys=False))
        with atomic_path(folder / f"{name}.csv", suffix=".csv") as tmp:
            out.to_csv(tmp, index=False)
    summary = {
        "global": tables.summary.as_dict(),
        "thresholds": {"confound_nmi": CONFOUND_NMI_THRESHOLD, **parameters},
    }
    write_text_atomic(folder / "summary.json", json.dumps(summary, indent=2) + "\n")
