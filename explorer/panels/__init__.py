"""The dashboard's panels, one module per panel, each with its piece of the layout, its callbacks and pure renderers.

Every panel module has ``layout(data)`` (its components; no I/O),
``register(app, data)`` (its callbacks, thin: they read `ExplorerData` and
call the panel's ``render_*`` functions) and ``render_*`` functions that
return components and can be tested without a server. Panels talk to each
other only through the browser's stores and the ids in `explorer.ids` (the one
exception: the Glitch tab places the review panel's decision bar).

==================  =========================================================
`map`               the UMAP scatter, colour modes, label filter, hover, Find
`parameters`        HDBSCAN's knobs, background tree rebuilds, agreement metrics
`clusters`          the cluster table and one cluster up close (tab)
`glitch`            one glitch up close, its neighbours (tab)
`selection`         a lasso or box selection and its export (tab)
`failure_modes`     every finding of the clustering, two clusters compared (tab)
`label_audit`       the correction table by suspicion and its download (tab)
`review`            deciding on labels: the Glitch tab's decision bar, the keyboard queue, undo, export
`bulk`              deciding for a cluster or selection at once: a question first, then one batch
`notice`            what a decision, batch or undo just did, and the bulk question, above the tabs
`tabs`              each tab opens at its top
`links`             the address bar carries the view: shareable links, Back and Forward
==================  =========================================================
"""

from __future__ import annotations

from typing import Any

from ..data import ExplorerData
from . import (
    bulk,
    clusters,
    failure_modes,
    glitch,
    label_audit,
    links,
    map,
    notice,
    parameters,
    review,
    selection,
    tabs,
)

__all__ = ["PANELS", "TABS", "register_all"]

#: Every panel, in the order they register.
PANELS = (map, parameters, clusters, glitch, selection, failure_modes, label_audit, review, bulk, notice, tabs, links)
#: The panels shown as tabs beside the map, in tab order.
TABS = (clusters, glitch, selection, failure_modes, label_audit)


def register_all(app: Any, data: ExplorerData) -> None:
    """Register every panel's callbacks on ``app``."""
    for panel in PANELS:
        panel.register(app, data)
