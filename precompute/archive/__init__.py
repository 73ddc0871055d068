"""The Gravity Spy archive: the classifier's labels for ~614k O1–O3b glitches, and the volunteers' consensus.

Two public releases, read here without their images:

- `classifications` — Zenodo 5649212 (Glanzer et al. 2023): one CSV per
  detector and observing run (``H1_O1.csv`` … ``L1_O3b.csv``), each row a
  glitch with its Omicron trigger columns, the classifier's score for every
  class, ``ml_label``, ``ml_confidence`` and the four windows' image URLs.
- `consensus` — Zenodo 5911227: ``retired_fulldata_min2_max50_ret0p9.hdf5``,
  a pandas table under key ``image_db`` with the volunteers' ``final_label``,
  ``final_score``, ``Nclassifications`` and ``retired``, joined to the
  classifications on ``gravityspy_id``.

`runs` holds the facts both need: the observing runs' GPS spans, and the
classes the classifier scored in each. docs/data-formats.md documents the
formats; `precompute.synth.archive` writes a synthetic archive of the same
shape, with planted classifier and volunteer confusions to validate against.
"""
