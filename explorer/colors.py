"""One colour per label and per cluster, the same in every view.

Labels take their colour from their place in the Gravity Spy taxonomy
(`precompute.classes.CLASSES`), not from their order in a data set, so
"Blip" is the same colour on every run; labels outside the taxonomy get a
colour from a hash of their name. Clusters cycle through a second palette;
noise is always light grey.
"""

from __future__ import annotations

import hashlib

from precompute.classes import CLASSES

__all__ = ["NOISE_COLOUR", "cluster_colour", "label_colour"]

#: Kelly's colours of maximum contrast (white, black and grey, too close to noise, left out), plus three: 22 labels.
_PALETTE = (
    "#F3C300", "#875692", "#F38400", "#A1CAF1", "#BE0032", "#C2B280", "#66C2A5", "#008856", "#E68FAC",
    "#0067A5", "#F99379", "#604E97", "#F6A600", "#B3446C", "#DCD300", "#882D17", "#8DB600", "#654522",
    "#E25822", "#2B3D26", "#2ED9FF", "#FC1CBF",
)  # fmt: skip
#: Palette for clusters (Plotly's "Dark24"): distinct from most label colours.
_CLUSTER_PALETTE = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#222A2A", "#B68100", "#750D86", "#EB663B",
    "#511CFB", "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1",
    "#620042", "#1616A7", "#DA60CA", "#6C4516", "#0D2A63", "#AF0038",
)  # fmt: skip
NOISE_COLOUR = "#D3D3D3"
_KNOWN = {name: i for i, name in enumerate(CLASSES)}


def label_colour(label: str) -> str:
    """The colour of a label, stable across runs."""
    index = _KNOWN.get(label)
    if index is None:
        index = int(hashlib.sha256(label.encode()).hexdigest(), 16) % len(_PALETTE)
    return _PALETTE[index % len(_PALETTE)]


def cluster_colour(cluster: int) -> str:
    """The colour of a cluster id (noise, -1, is grey)."""
    return NOISE_COLOUR if cluster < 0 else _CLUSTER_PALETTE[cluster % len(_CLUSTER_PALETTE)]
