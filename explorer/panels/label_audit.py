"""The label-audit panel: every glitch whose neighbours propose another label, by suspicion, and its download.

Choosing a row opens the glitch in the Glitch tab (the glitch panel listens to
this table). The table is the run's per-glitch audit with each glitch's cluster
in the current clustering; the download carries the clustering parameters.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from .. import ids
from ..components import csv_download, paged_grid, with_params
from ..data import ClusterView, ExplorerData
from ..help import GLOSSARY
from ..review import decisions_in_force, with_review

__all__ = [
    "OPTIONAL_COLUMNS", "TAB_ID", "TAB_LABEL", "columns", "corrections_table", "layout", "register", "with_decisions",
]  # fmt: skip

TAB_LABEL = "Label audit"
TAB_ID = ids.TAB_AUDIT

#: The table's columns. Those shown by default fit the right column at 1400 px; the chooser adds the rest
#: (`OPTIONAL_COLUMNS`). Full ids, labels and evidence on hover.
_COLUMNS = [
    {"field": "gravityspy_id", "headerName": "glitch id", "minWidth": 100, "flex": 1, "filter": True,
     "tooltipField": "gravityspy_id", "headerTooltip": GLOSSARY["gravityspy_id"]},
    {"field": "current_label", "headerName": "current label", "minWidth": 110, "flex": 1.4, "filter": True,
     "tooltipField": "current_label"},
    {"field": "proposed_label", "headerName": "proposed label", "minWidth": 110, "flex": 1.4, "filter": True,
     "tooltipField": "proposed_label", "headerTooltip": GLOSSARY["proposed_label"]},
    {"field": "suspicion", "minWidth": 110, "maxWidth": 124, "sort": "desc",
     "valueFormatter": {"function": "d3.format('.2f')(params.value)"}, "headerTooltip": GLOSSARY["suspicion"]},
    {"field": "decision", "minWidth": 90, "flex": 1.2, "filter": True, "tooltipField": "decision",
     "headerTooltip": GLOSSARY["decision"]},
    {"field": "cluster", "minWidth": 64, "maxWidth": 84, "hide": True, "headerTooltip": GLOSSARY["cluster"]},
    {"field": "ifo", "headerName": "detector", "minWidth": 70, "maxWidth": 90, "hide": True},
    {"field": "evidence", "minWidth": 240, "flex": 4, "hide": True, "tooltipField": "evidence",
     "headerTooltip": GLOSSARY["evidence"]},
]  # fmt: skip
#: Columns the chooser shows or hides: field -> its name there.
OPTIONAL_COLUMNS = {"cluster": "cluster", "ifo": "detector", "evidence": "evidence"}
#: Rows per page: the table sizes itself to them (no scrollbar of its own inside the tab's).
PAGE_ROWS = 20


def columns(shown: list[str] | None) -> list[dict[str, Any]]:
    """The table's columns with the optional ones in ``shown`` visible and the others hidden."""
    shown = set(shown or ())
    return [{**c, "hide": c["field"] not in shown} if c["field"] in OPTIONAL_COLUMNS else c for c in _COLUMNS]


def layout(data: ExplorerData) -> list[Any]:
    """The tab's content: the count and downloads, the column chooser, then the table, a page at a time."""
    grid = paged_grid(ids.AUDIT_GRID, columns(None), [], PAGE_ROWS)
    downloads = html.Div(
        [
            dbc.Button("Correction table (CSV)", id=ids.DOWNLOAD_CORRECTIONS, size="sm", color="primary"),
            dbc.Button("Decisions (CSV)", id=ids.EXPORT_DECISIONS_CSV, size="sm", color="secondary"),
            dbc.Button("Decisions (JSON)", id=ids.EXPORT_DECISIONS_JSON, size="sm", color="secondary"),
        ],
        className="d-flex flex-wrap gap-1",
    )
    chooser = dbc.Checklist(
        id=ids.AUDIT_COLUMNS,
        options=[{"label": f"show {name}", "value": field} for field, name in OPTIONAL_COLUMNS.items()],
        value=[],
        inline=True,
        className="column-chooser",
    )
    return [
        html.Div(id=ids.AUDIT_COUNT, className="small mt-1"),
        html.Div(
            [downloads, chooser], className="d-flex flex-wrap justify-content-between align-items-center gap-1 my-1"
        ),
        grid,
        dcc.Download(id=ids.CORRECTIONS_DOWNLOAD),
        dcc.Download(id=ids.DECISIONS_DOWNLOAD),
    ]


def corrections_table(data: ExplorerData, view: ClusterView) -> pd.DataFrame:
    """The run's correction table with each glitch's cluster and evidence in the current clustering, most
    suspicious first."""
    points = data.points
    rows = np.flatnonzero((points["proposed_label"].astype(str) != points["label"]).to_numpy())
    chosen = points.iloc[rows]
    table = pd.DataFrame(
        {
            "gravityspy_id": chosen["gravityspy_id"].astype(str).to_numpy(),
            "ifo": chosen["ifo"].astype(str).to_numpy(),
            "current_label": chosen["label"].to_numpy(),
            "proposed_label": chosen["proposed_label"].astype(str).to_numpy(),
            "cluster": view.labels[rows],
            "suspicion": chosen["suspicion"].round(4).to_numpy(),
            "evidence": data.evidence(rows, view),  # this cut's clusters, not the run's
            "params_hash": data.audit_summary.get("params_hash", ""),
        }
    )
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
        Input(ids.TABS, "active_tab"),
        prevent_initial_call=True,
    )
    def audit_rows(raw, _tick, tab):
        if tab != TAB_ID:  # filled when the tab opens, not with the page: the first screen waits for less
            return no_update, no_update
        current, trouble = decisions_in_force(data.review)  # one read of the database per request
        table = _marked(corrections_table(data, data.view_for(raw)), current)
        reviewed = int((table["decision"] != "").sum())
        count = f"{len(table)} glitches whose neighbours propose another label · reviewed {reviewed} of {len(table)}"
        return table.to_dict("records"), [count, html.Div(trouble, className="text-danger")] if trouble else count

    @app.callback(Output(ids.AUDIT_GRID, "columnDefs"), Input(ids.AUDIT_COLUMNS, "value"), prevent_initial_call=True)
    def choose_columns(shown):
        return columns(shown)

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
