"""The audit: where the human labels agree with what the spectrograms look like, and where they fail.

Stage 8 of the pipeline (`precompute.pipeline.STAGES`); ``python -m precompute audit``
re-runs it on a finished run. Every module here is numpy, pandas and
scikit-learn only (no torch, no umap), so the dashboard calls the same code on
every re-cut.

Modules, from the base up (each imports only those above it):

- `params`: `FindingParams`, every threshold of every rule;
- `metrics`: per-cluster, per-label and global metrics, confound checks;
- `neighbours`: label statistics over nearest neighbours in the embedding space;
- `groups`: two shapes under one label (Omicron parameters confirmed by neighbours);
- `suspicion`: per-glitch neighbour agreement, suspicion and proposed label;
- `findings`: merge, continuum, overlap, split and novel-class findings;
- `deep_dive`: any cluster's members along its main axis, in segments;
- `tables`: the whole audit of one clustering, written into ``RUN/audit/``;
- `evaluate`: the audit scored against a synthetic set's planted truth and cleanlab.
"""

from .params import FindingParams
from .tables import AuditTables, audit_points, write_audit

__all__ = ["AuditTables", "FindingParams", "audit_points", "write_audit"]
