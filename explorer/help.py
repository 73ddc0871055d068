"""What every metric, parameter and column of the dashboard means, in one place, shown on hover.

Each term's text says what the number is and which way is good, in a sentence a
scientist new to clustering can use; the parameters say what a larger value
does. The panels label their metrics and knobs with `explained`, the tables
take their header tooltips from `GLOSSARY`.
"""

from __future__ import annotations

from typing import Any

from dash import html

__all__ = ["GLOSSARY", "explained"]

GLOSSARY: dict[str, str] = {
    # -- the clustering's knobs ------------------------------------------------------------------------------
    "min_cluster_size": "HDBSCAN's smallest cluster: fewer glitches than this are noise or part of a larger "
    "cluster. Larger: fewer, bigger clusters. Slide, or type a number and press Enter.",
    "min_samples": "How dense a glitch's neighbourhood must be to count as a cluster core. Larger: more noise, "
    "more compact clusters. A new value builds a new tree: type it, press Enter or Rebuild.",
    "eom": "Excess of mass: keep the clusters that persist longest as the tree is cut (fewer, larger clusters).",
    "leaf": "Keep the tree's leaves: many small, homogeneous clusters.",
    "epsilon": "cluster_selection_epsilon: clusters closer than this on the map are merged (0: off). Applies on Enter.",
    "label_source": "Which labels the cluster table and metrics compare the clusters with.",
    # -- the clustering against the labels ---------------------------------------------------------------------
    "noise": "Glitches HDBSCAN puts in no cluster (cluster -1).",
    "nmi": "Normalised mutual information of clusters and labels: 1 when each cluster is one label and each label "
    "one cluster, 0 when they are unrelated.",
    "ari": "Adjusted Rand index: how often clusters and labels agree on which pairs of glitches belong together, "
    "corrected for chance (1: perfectly, 0: as by chance).",
    "homogeneity": "1 when every cluster holds a single label; lower when clusters mix labels.",
    "completeness": "1 when all glitches of a label sit in one cluster; lower when a label is spread over clusters.",
    # -- the cluster table ----------------------------------------------------------------------------------
    "cluster": "Cluster id in the current clustering (noise is -1). Ids change when the clustering does.",
    "size": "Glitches in the cluster.",
    "top_label": "The label most of the cluster's glitches carry.",
    "purity": "Share of the cluster carrying its top label: 100% is one label only.",
    "ambiguity": "Glitches not carrying the top label: size x (1 - purity).",
    "entropy_bits": "Label entropy H(label | cluster) in bits: 0 for one label, 1 for two labels half and half.",
    "n_labels": "Distinct labels in the cluster.",
    "flags": "The kinds of finding the audit reports on this cluster (the Failure modes tab says which).",
    # -- glitches --------------------------------------------------------------------------------------------
    "suspicion": "How much a glitch's nearest neighbours (in the embedding, not the map) disagree with its label: "
    "0 when they all carry it, 1 when none does. Rank-weighted over its 20 nearest.",
    "proposed_label": "The label most of its 10 nearest neighbours carry, when at least half of them do and it is "
    "not its own.",
    "evidence": "Why: how many of its 10 nearest neighbours share its label, the most common other label, and "
    "what its cluster holds in the current clustering.",
    "decision": "The decision in force on the glitch (empty while nobody has decided).",
    "gravityspy_id": "The glitch's Gravity Spy id.",
    # -- deciding --------------------------------------------------------------------------------------------
    "reviewer": "Your name, stored with each decision you make (kept in this browser).",
}


def explained(child: Any, term: str) -> html.Span:
    """``child`` (text or a component) with its glossary entry shown on hover, underlined as help when text."""
    return html.Span(child, title=GLOSSARY[term], className="explained" if isinstance(child, str) else None)
