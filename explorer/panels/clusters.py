"""The clusters panel: the cluster table of the current clustering, and one chosen cluster up close.

Choosing a row outlines the cluster on the map (the map panel's highlight) and
shows its label shares, a contact sheet (top labels, examples of each), its
members by intensity, and the deep dive along its main embedding axis
(`precompute.audit.deep_dive`, the audit's own code, on the live cut).
"""

from __future__ import annotations

import json
from typing import Any

import dash_ag_grid as dag
import numpy as np
import pandas as pd
from dash import Input, Output, dcc, html

from precompute.audit.deep_dive import deep_dive

from .. import ids
from ..colors import label_colour
from ..components import GRID_COLUMN_DEFAULTS, Thumbnails, graph, swatch
from ..data import ClusterView, ExplorerData
from ..figures import share_bars
from .review import bulk_bar

__all__ = ["FLAGS_PENDING", "TAB_ID", "TAB_LABEL", "cluster_rows", "layout", "register", "render_cluster"]

TAB_LABEL = "Clusters"
TAB_ID = ids.TAB_CLUSTERS
#: Rows (top labels) of the contact sheet, and examples per row.
CONTACT_ROWS, CONTACT_PER_LABEL = 4, 6
#: Members shown in the intensity strip, evenly spread from loudest to faintest.
STRIP_LENGTH = 12

_COLUMNS = [
    {"field": "cluster", "width": 104, "filter": "agNumberColumnFilter", "headerTooltip": "cluster id (noise is -1)"},
    {"field": "size", "width": 86, "filter": "agNumberColumnFilter", "headerTooltip": "glitches in the cluster"},
    {"field": "top_label", "headerName": "top label", "filter": True, "flex": 1, "minWidth": 120,
     "headerTooltip": "the label most of its glitches carry"},
    {"field": "purity", "width": 88, "valueFormatter": {"function": "d3.format('.0%')(params.value)"},
     "headerTooltip": "share of the cluster carrying its top label"},
    {"field": "ambiguity", "width": 120, "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
     "headerTooltip": "ambiguity = size x (1 - purity): glitches not carrying the top label"},
    {"field": "entropy_bits", "headerName": "label entropy (bits)", "width": 96,
     "valueFormatter": {"function": "d3.format('.2f')(params.value)"},
     "headerTooltip": "label entropy H(label | cluster) in bits"},
    {"field": "n_labels", "headerName": "labels", "width": 88, "headerTooltip": "distinct labels in the cluster"},
    {"field": "flags", "filter": True, "width": 96, "tooltipField": "flags", "headerTooltip": "what the audit says"},
]  # fmt: skip


def layout(data: ExplorerData) -> list[Any]:
    """The tab's content: the sortable, filterable cluster grid, and the chosen cluster's panel under it."""
    grid = dag.AgGrid(
        id=ids.CLUSTER_GRID,
        columnDefs=_COLUMNS,
        rowData=[],
        getRowId="params.data.row_id",
        defaultColDef=GRID_COLUMN_DEFAULTS,
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "animateRows": False,
            "rowHeight": 30,
            "tooltipShowDelay": 300,
        },
        style={"height": "300px", "width": "100%"},
        className="ag-theme-alpine",
    )
    return [grid, dcc.Store(id=ids.CLUSTER_FLAGS), html.Div(id=ids.CLUSTER_PANEL, className="mt-2")]


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
                    thumbs.row(members[labels == label][:CONTACT_PER_LABEL], caption=False),
                ]
            )
            for label, count in counts.head(CONTACT_ROWS).items()
        ]
    )


def _intensity_strip(data: ExplorerData, thumbs: Thumbnails, members: np.ndarray) -> html.Div:
    """Members ordered by plot-area energy, loudest first, evenly spread over the cluster."""
    ordered = members[np.argsort(-data.points["intensity"].to_numpy()[members], kind="stable")]
    return thumbs.row(ordered[np.linspace(0, len(ordered) - 1, min(STRIP_LENGTH, len(ordered))).astype(int)])


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
        return html.Div("Choose a cluster in the table to see its members.", className="text-muted small")
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
        Output(ids.CLUSTER_GRID, "rowData"), Input(ids.CLUSTER_PARAMS, "data"), Input(ids.LABEL_SOURCE, "value")
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
    )
    def cluster_panel(cluster, raw, source):
        return render_cluster(data, thumbs, data.view_for(raw, source), cluster)
