"""Offline stages of the Gravity Spy Glitch Explorer: read, synthesise, (later) embed, reduce, cluster, audit.

Importing this package is cheap: heavy dependencies (GWpy, h5py, torch, umap)
are imported inside the functions that need them.
"""

__version__ = "0.1.0"
