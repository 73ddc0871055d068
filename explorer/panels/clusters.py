"""The clusters panel: the cluster table of the current clustering, and one chosen cluster up close.

Choosing a row outlines the cluster on the map (the map panel's highlight) and
shows its label shares, a contact sheet (top labels, examples of each), its
members by intensity, and the deep dive along its main embedding axis
(`precompute.audit.deep_dive`, the audit's own code, on the live cut).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from dash import Input, Output, dcc, html

from precompute.audit.deep_dive import deep_dive

from .. import ids
from ..colors import label_colour
from ..components import Thumbnails, graph, paged_grid, swatch
from ..data import ClusterView, ExplorerData
from ..figures import share_bars
from ..help import GLOSSARY
from .bulk import bulk_bar

__all__ = ["FLAGS_PENDING", "TAB_ID", "TAB_LABEL", "cluster_rows", "layout", "register", "render_cluster"]

TAB_LABEL = "Clusters"
TAB_ID = ids.TAB_CLUSTERS
#: Rows (top labels) of the contact sheet, and examples per row.
CONTACT_ROWS, CONTACT_PER_LABEL = 4, 6
#: What the cluster panel says until a row is chosen.
_CHOOSE = "Choose a cluster in the table to see its members."
#: Members shown in the intensity strip, evenly spread from loudest to faintest.
STRIP_LENGTH = 12

#: The table's columns: narrow enough for the right column at 1400 px (headers wrap; full texts on hover).
_COLUMNS = [
    {"field": "cluster", "minWidth": 70, "maxWidth": 84, "headerTooltip": GLOSSARY["cluster"]},
    {"field": "size", "minWidth": 54, "maxWidth": 76, "headerTooltip": GLOSSARY["size"]},
    {"field": "top_label", "headerName": "top label", "filter": True, "minWidth": 110, "flex": 2,
     "tooltipField": "top_label", "headerTooltip": GLOSSARY["top_label"]},
    {"field": "purity", "minWidth": 64, "maxWidth": 90, "valueFormatter": {"function": "d3.format('.0%')(params.value)"},
     "headerTooltip": GLOSSARY["purity"]},
    {"field": "entropy_bits", "headerName": "entropy", "minWidth": 70, "maxWidth": 96,
     "valueFormatter": {"function": "d3.format('.2f')(params.value)"}, "headerTooltip": GLOSSARY["entropy_bits"]},
    {"field": "ambiguity", "minWidth": 88, "maxWidth": 110, "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
     "headerTooltip": GLOSSARY["ambiguity"]},
    {"field": "n_labels", "headerName": "labels", "minWidth": 60, "maxWidth": 84, "hide": True,
     "headerTooltip": GLOSSARY["n_labels"]},
    {"field": "flags", "filter": True, "minWidth": 84, "flex": 1, "tooltipField": "flags",
     "valueFormatter": {"function": "params.value ? params.value.replaceAll('_', ' ') : ''"},
     "headerTooltip": GLOSSARY["flags"]},
]  # fmt: skip
#: Rows per page of the table: it sizes itself to them (no scrollbar of its own inside the tab's).
PAGE_ROWS = 12


def layout(data: ExplorerData) -> list[Any]:
    """The tab's content: the sortable, filterable cluster grid, and the chosen cluster's panel under it."""
    grid = paged_grid(ids.CLUSTER_GRID, _COLUMNS, _first_rows(data), PAGE_ROWS, getRowId="params.data.row_id")
    return [
        grid,
        dcc.Store(id=ids.CLUSTER_FLAGS),
        html.Div(html.Div(_CHOOSE, className="text-muted small"), id=ids.CLUSTER_PANEL, className="mt-2"),
    ]


def _first_rows(data: ExplorerData) -> list[dict[str, Any]]:
    """The table the page opens with: the run's own clustering, its flags if already computed (`flag_rows` fills
    them in otherwise), so the first screen needs no round trip for it."""
    view = data.view(data.run_params)
    return cluster_rows(view, data.flags(view) if data.findings_ready(view) else None)


#: What the flags column shows while the cut's findings are still being computed.
FLAGS_PENDING = "…"


#: The clientside callback that applies `CLUSTER_FLAGS` to the grid as a row update.
_FILL_FLAGS = """
function (flagged, rows) {
    const none = window.dash_clientside.no_update;
    if (!flagged || !rows) { return none; }
    const waiting = new Set(rows.filter(r => r.flags === PENDING).map(r => r.row_id));
    const update = flagged.filter(r => waiting.has(r.row_id));
    return update.length ? {update: update} : none;
}
""".replace("PENDING", json.dumps(FLAGS_PENDING))


def cluster_rows(view: ClusterView, flags: dict[int, str] | None = None) -> list[dict[str, Any]]:
    """The grid's rows: the cluster table, one row per cluster, with each cluster's finding flags.

    ``flags`` None: not computed yet (`FLAGS_PENDING`). Row ids carry the cut
    (`ClusterView.cut_id`), so flags computed for an earlier cut that arrive
    late match no row of the grid.
    """
    table = view.table.drop(columns=["label_shares"], errors="ignore")
    table["row_id"] = view.cut_id + ":" + table["cluster"].astype(str)
    table["flags"] = [FLAGS_PENDING if flags is None else flags.get(int(c), "") for c in table["cluster"]]
    return table.to_dict("records")


def _contact_sheet(thumbs: Thumbnails, members: np.ndarray, labels: np.ndarray, counts: pd.Series) -> html.Div:
    """The cluster's top labels as rows, a few examples of each."""
    return html.Div(
        [
            html.Div(
                [
                    html.Div([swatch(label_colour(label)), f"{label} ({count})"], className="contact-label"),
                    thumbs.row(members[labels == label][:CONTACT_PER_LABEL], place=f"contact-{label}", caption=False),
                ]
            )
            for label, count in counts.head(CONTACT_ROWS).items()
        ]
    )


def _intensity_strip(data: ExplorerData, thumbs: Thumbnails, members: np.ndarray) -> html.Div:
    """Members ordered by plot-area energy, loudest first, evenly spread over the cluster."""
    ordered = members[np.argsort(-data.points["intensity"].to_numpy()[members], kind="stable")]
    return thumbs.row(
        ordered[np.linspace(0, len(ordered) - 1, min(STRIP_LENGTH, len(ordered))).astype(int)], place="strip"
    )


def _deep_dive(data: ExplorerData, view: ClusterView, cluster: int) -> list[Any]:
    """The cluster's members along its main embedding axis, in segments with canonical labels."""
    dive = deep_dive(data.points, data.embeddings, cluster, clusters=view.labels)
    rows = [
        html.Tr(
            [
                html.Td(int(s["segment"]) + 1),
                html.Td(int(s["size"])),
                html.Td([swatch(label_colour(s["canonical_label"])), s["canonical_label"]]),
                html.Td(f"{s['disagreement']:.0%}"),
            ]
        )
        for s in dive.segments.to_dict("records")
    ]
    proposals = int((dive.members["proposed_label"] != dive.members["label"]).sum())
    header = html.Tr([html.Th("segment"), html.Th("size"), html.Th("canonical label"), html.Th("disagreement")])
    return [
        html.Div(
            f"Deep dive: members along the cluster's main axis ({dive.explained_variance:.0%} of its variance), "
            f"in {len(dive.segments)} segments; {proposals} relabelling proposal(s)",
            className="small fw-bold mt-2",
        ),
        html.Table([header, *rows], className="table table-sm small", id=ids.SEGMENT_TABLE),
    ]


def render_cluster(data: ExplorerData, thumbs: Thumbnails, view: ClusterView, cluster: int | None) -> html.Div:
    """One cluster up close: title and metrics, label shares, contact sheet, intensity strip, deep dive."""
    if cluster is None:
        return html.Div(_CHOOSE, className="text-muted small")
    members = np.flatnonzero(view.labels == int(cluster))
    if not len(members):
        return html.Div(f"Cluster {cluster} does not exist with these parameters.", className="text-muted small")
    row = view.table.set_index("cluster").loc[int(cluster)]
    labels = data.labels_for(view.source)[members]
    counts = pd.Series(labels).value_counts()
    return html.Div(
        [
            html.H6(
                f"Cluster {cluster}: {int(row['size'])} glitches · purity {row['purity']:.0%} · "
                f"H {row['entropy_bits']:.2f} bits · {row['effective_labels']:.1f} effective labels",
                id=ids.CLUSTER_TITLE,
            ),
            bulk_bar(data, "cluster", members),
            graph(
                share_bars(dict(counts / counts.sum()), "Label shares", height=150), config={"displayModeBar": False}
            ),
            html.Div("Contact sheet: top labels, examples of each", className="small fw-bold"),
            _contact_sheet(thumbs, members, labels, counts),
            html.Div("Members ordered by intensity (plot-area energy), loudest first", className="small fw-bold mt-2"),
            _intensity_strip(data, thumbs, members),
            *_deep_dive(data, view, int(cluster)),
        ]
    )


def register(app: Any, data: ExplorerData) -> None:
    """The clusters' callbacks: fill the grid for the current clustering, choose a cluster, show it."""
    thumbs = Thumbnails(data, app.get_relative_path)

    @app.callback(
        Output(ids.CLUSTER_GRID, "rowData"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.LABEL_SOURCE, "value"),
        prevent_initial_call=True,  # the page opens with the run's own table (`_first_rows`)
    )
    def rows(raw, source):
        view = data.view_for(raw, source)  # the cut alone: the findings follow in `flag_rows`
        return cluster_rows(view, data.flags(view) if data.findings_ready(view) else None)

    @app.callback(
        Output(ids.CLUSTER_FLAGS, "data"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.LABEL_SOURCE, "value"),
    )
    def flag_rows(raw, source):
        view = data.view_for(raw, source)
        return cluster_rows(view, data.flags(view))

    # in the browser: fill in the flags of the rows the grid shows as pending, whichever of the two arrives last;
    # rows of another cut (a late answer for earlier parameters) have other ids and are left alone
    app.clientside_callback(
        _FILL_FLAGS, Output(ids.CLUSTER_GRID, "rowTransaction"), Input(ids.CLUSTER_FLAGS, "data"),
        Input(ids.CLUSTER_GRID, "rowData"),
    )  # fmt: skip

    @app.callback(
        Output(ids.SELECTED_CLUSTER, "data"), Input(ids.CLUSTER_GRID, "selectedRows"), prevent_initial_call=True
    )
    def choose_cluster(selected):
        return int(selected[0]["cluster"]) if selected else None

    @app.callback(
        Output(ids.CLUSTER_PANEL, "children"),
        Input(ids.SELECTED_CLUSTER, "data"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.LABEL_SOURCE, "value"),
        prevent_initial_call=True,  # the page opens with the hint to choose one
    )
    def cluster_panel(cluster, raw, source):
        return render_cluster(data, thumbs, data.view_for(raw, source), cluster)
