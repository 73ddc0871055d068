"""The selection panel: what a lasso or box selection on the map holds, and its export as CSV."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from .. import ids
from ..components import Thumbnails, csv_download, graph, with_params
from ..data import ClusterView, ExplorerData
from ..events import points_of
from ..figures import share_bars
from .bulk import bulk_bar

__all__ = ["TAB_ID", "TAB_LABEL", "layout", "register", "render_selection", "selection_table"]

TAB_LABEL = "Selection"
TAB_ID = ids.TAB_SELECTION
#: Most thumbnails drawn for one selection.
MAX_THUMBS = 60
#: The columns an export carries, before the current cluster and the clustering parameters.
EXPORT_COLUMNS = [
    "gravityspy_id", "ifo", "label", "snr", "peak_frequency", "duration", "x", "y", "suspicion", "proposed_label",
]  # fmt: skip
_HINT = "Lasso or box-select points on the map."


def layout(data: ExplorerData) -> html.Div:
    return html.Div(id=ids.SELECTION_PANEL, children=html.Div(_HINT, className="text-muted small p-3"))


def render_selection(data: ExplorerData, thumbs: Thumbnails, points: list[int]) -> html.Div:
    """The selected glitches: their number and export button, label shares, and a grid of their spectrograms."""
    if not points:
        return html.Div(_HINT, className="text-muted small p-3")
    labels = data.points["label"].iloc[points].value_counts(normalize=True)
    more = f"showing {MAX_THUMBS} of {len(points)}" if len(points) > MAX_THUMBS else ""
    return html.Div(
        [
            html.Div(
                [
                    html.Span(f"{len(points)} glitches selected", className="fw-bold small"),
                    dbc.Button("Export selection (CSV)", id=ids.EXPORT_SELECTION, size="sm", color="primary"),
                ],
                className="d-flex justify-content-between align-items-center mt-2",
            ),
            bulk_bar(data, "selection", np.asarray(points, dtype=int)),
            graph(
                share_bars(labels.to_dict(), "Labels in the selection", height=160), config={"displayModeBar": False}
            ),
            thumbs.row(points[:MAX_THUMBS], place="selection", cls="thumb-grid"),
            html.Div(more, className="small text-muted"),
            dcc.Download(id=ids.SELECTION_DOWNLOAD),
        ]
    )


def selection_table(data: ExplorerData, view: ClusterView, points: list[int]) -> pd.DataFrame:
    """The selected glitches as an export: their metadata, audit columns, current cluster and the parameters."""
    table = data.points.iloc[points][EXPORT_COLUMNS].assign(cluster=view.labels[points])
    return with_params(table, view)


def register(app: Any, data: ExplorerData) -> None:
    """The selection's callbacks: show a new selection (and switch to its tab), export it."""
    thumbs = Thumbnails(data, app.get_relative_path)

    @app.callback(
        Output(ids.SELECTION_PANEL, "children"),
        Output(ids.TABS, "active_tab", allow_duplicate=True),
        Input(ids.MAP, "selectedData"),
        prevent_initial_call=True,
    )
    def selection(selected):
        points = points_of(selected, data.n_points)
        return render_selection(data, thumbs, points), ids.TAB_SELECTION if points else no_update

    @app.callback(
        Output(ids.SELECTION_DOWNLOAD, "data"),
        Input(ids.EXPORT_SELECTION, "n_clicks"),
        State(ids.MAP, "selectedData"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def export_selection(n_clicks, selected, raw):
        if not n_clicks:
            return no_update
        points = points_of(selected, data.n_points)
        return csv_download(selection_table(data, data.view_for(raw), points), "selection.csv")
