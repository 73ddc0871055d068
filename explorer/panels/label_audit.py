"""The label-audit panel: every glitch whose neighbours propose another label, by suspicion, and its download.

Choosing a row opens the glitch in the Glitch tab (the glitch panel listens to
this table). The table is the run's per-glitch audit with each glitch's cluster
in the current clustering; the download carries the clustering parameters.
"""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from .. import ids
from ..components import GRID_COLUMN_DEFAULTS, csv_download, with_params
from ..data import ClusterView, ExplorerData
from ..review import decisions_in_force, with_review

__all__ = ["TAB_ID", "TAB_LABEL", "corrections_table", "layout", "register", "with_decisions"]

TAB_LABEL = "Label audit"
TAB_ID = ids.TAB_AUDIT

_COLUMNS = [
    {"field": "gravityspy_id", "headerName": "glitch id", "width": 104, "filter": True, "headerTooltip": "gravityspy_id"},
    {"field": "current_label", "headerName": "current label", "width": 125, "filter": True, "tooltipField": "current_label"},
    {"field": "proposed_label", "headerName": "proposed label", "width": 125, "filter": True, "tooltipField": "proposed_label"},
    {"field": "suspicion", "width": 124, "sort": "desc", "valueFormatter": {"function": "d3.format('.2f')(params.value)"},
     "headerTooltip": "1 - the rank-weighted share of its 20 nearest neighbours carrying its label"},
    {"field": "cluster", "width": 92, "headerTooltip": "its cluster in the current clustering (-1: noise)"},
    {"field": "decision", "width": 130, "filter": True, "tooltipField": "decision",
     "headerTooltip": "the decision in force (explorer.review), empty while pending"},
    {"field": "evidence", "flex": 1, "minWidth": 300, "tooltipField": "evidence"},
]  # fmt: skip


def layout(data: ExplorerData) -> list[Any]:
    """The tab's content: the count and download button above the paginated table."""
    grid = dag.AgGrid(
        id=ids.AUDIT_GRID,
        columnDefs=_COLUMNS,
        rowData=[],
        defaultColDef=GRID_COLUMN_DEFAULTS,
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "rowHeight": 30,
            "tooltipShowDelay": 300,
            "pagination": True,
            "paginationPageSize": 50,
        },
        style={"height": "560px", "width": "100%"},
        className="ag-theme-alpine",
    )
    downloads = html.Div(
        [
            dbc.Button("Correction table (CSV)", id=ids.DOWNLOAD_CORRECTIONS, size="sm", color="primary"),
            dbc.Button("Decisions (CSV)", id=ids.EXPORT_DECISIONS_CSV, size="sm", color="secondary"),
            dbc.Button("Decisions (JSON)", id=ids.EXPORT_DECISIONS_JSON, size="sm", color="secondary"),
        ],
        className="d-flex gap-1",
    )
    top = html.Div(
        [html.Span(id=ids.AUDIT_COUNT, className="small"), downloads],
        className="d-flex justify-content-between align-items-center mb-1",
    )
    return [top, grid, dcc.Download(id=ids.CORRECTIONS_DOWNLOAD), dcc.Download(id=ids.DECISIONS_DOWNLOAD)]


def corrections_table(data: ExplorerData, view: ClusterView) -> pd.DataFrame:
    """The run's correction table with each glitch's cluster in the current clustering, most suspicious first."""
    points = data.points
    proposed = points["proposed_label"].astype(str) != points["label"]
    table = pd.DataFrame(
        {
            "gravityspy_id": points["gravityspy_id"].astype(str),
            "ifo": points["ifo"].astype(str),
            "current_label": points["label"],
            "proposed_label": points["proposed_label"].astype(str),
            "cluster": view.labels,
            "suspicion": points["suspicion"].round(4),
            "evidence": points["evidence"].astype(str),
            "params_hash": data.audit_summary.get("params_hash", ""),
        }
    )[proposed.to_numpy()]
    return table.sort_values("suspicion", ascending=False, kind="stable").reset_index(drop=True)


def with_decisions(table: pd.DataFrame, data: ExplorerData) -> pd.DataFrame:
    """``table`` with a ``decision`` column: the decision in force on each glitch ("" while pending)."""
    return _marked(table, decisions_in_force(data.review)[0])


def _marked(table: pd.DataFrame, current: pd.DataFrame | None) -> pd.DataFrame:
    """``table`` with the ``decision`` column for the decisions ``current`` (None: none can be read)."""
    if current is None:
        return table.assign(decision="")
    reviewed = with_review(table.rename(columns={"current_label": "label"}), current)
    relabelled = reviewed["decision"].isin(["accept", "relabel"])
    text = reviewed["decision"].where(~relabelled, reviewed["decision"] + " → " + reviewed["decided_label"])
    return table.assign(decision=text.to_numpy())


def register(app: Any, data: ExplorerData) -> None:
    """The audit's callbacks: the table for the current clustering, and its download."""

    @app.callback(
        Output(ids.AUDIT_GRID, "rowData"),
        Output(ids.AUDIT_COUNT, "children"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.REVIEW_TICK, "data"),
    )
    def audit_rows(raw, _tick):
        current, trouble = decisions_in_force(data.review)  # one read of the database per request
        table = _marked(corrections_table(data, data.view_for(raw)), current)
        reviewed = int((table["decision"] != "").sum())
        count = f"{len(table)} glitches whose neighbours propose another label · reviewed {reviewed} of {len(table)}"
        return table.to_dict("records"), [count, html.Div(trouble, className="text-danger")] if trouble else count

    @app.callback(
        Output(ids.CORRECTIONS_DOWNLOAD, "data"),
        Input(ids.DOWNLOAD_CORRECTIONS, "n_clicks"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def download_corrections(n_clicks, raw):
        if not n_clicks:
            return no_update
        view = data.view_for(raw)
        return csv_download(with_params(corrections_table(data, view), view), "corrections.csv")
