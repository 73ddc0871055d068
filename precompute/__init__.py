"""Offline stages of the Gravity Spy Glitch Explorer: synthesise, read, embed, reduce, cluster, audit, write.

``python -m precompute run`` runs the stages of `precompute.pipeline.STAGES`
(read → hash → embed → fuse → reduce → cluster → previews → audit → write) into
a run directory that the dashboard (`explorer`) serves; ``synth`` makes a
synthetic data set in the real layout, ``audit`` and ``evaluate`` re-run and
score a run's audit (`precompute.audit`), ``apply-decisions`` writes a
corrected metadata CSV from curators' decisions (`precompute.decisions`),
``inspect`` reports on a data set or a run. docs/architecture.md maps the modules.

Importing this package is cheap: heavy dependencies (GWpy, h5py, torch, umap)
are imported inside the functions that need them. Only `precompute.embed`
imports torch and only `precompute.reduce` imports umap (tests/test_architecture.py).
"""

__version__ = "0.1.0"
