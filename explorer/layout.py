"""The page: a header with the run and its warnings, the map on the left, the panels on the right."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import dcc, html

from .components import graph
from .data import ExplorerData
from .figures import COLOUR_MODES, colouring, map_figure

__all__ = ["create_layout", "preview_url"]

GRID_STYLE = {"height": "300px", "width": "100%"}


def preview_url(app, key: str, size: str = "thumb") -> str:
    """The URL of one preview, relative to wherever the app is mounted."""
    return app.get_relative_path(f"/previews/{size}/{key}.webp")


def _header(data: ExplorerData) -> html.Div:
    m = data.manifest
    params = data.run_params
    emb = m["embedding"]
    facts = [
        f"{m['data']['format']} · {m['data']['n_glitches']:,} glitches → {m['n_points']:,} points "
        f"({m['parameters']['unit']}, {m['parameters']['fusion']} of windows {', '.join(m['data']['windows'])})",
        f"ResNet-18, weights {emb['weights_used']} on {emb['device']}",
        f"UMAP + HDBSCAN (min_cluster_size {params.min_cluster_size}, min_samples {params.min_samples}, "
        f"{params.selection_method}) · seed {m['seed']}",
    ]
    warnings = m.get("warnings", [])
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        html.Div(
                            [
                                html.Span("Gravity Spy Glitch Explorer", className="navbar-brand mb-0 h1"),
                                html.Span(f"run {data.root.name}", className="text-light opacity-75 small"),
                            ]
                        ),
                        html.Div(
                            [html.Div(f, className="small") for f in facts],
                            className="text-light text-end",
                            id="run-facts",
                        ),
                    ],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="py-1",
            ),
            dbc.Alert(
                [
                    html.Strong(f"{len(warnings)} warning(s) from this run: "),
                    html.Ul([html.Li(w) for w in warnings], className="mb-0 small"),
                ],
                color="warning",
                id="run-warnings",
                className="m-2 py-1",
                is_open=bool(warnings),
            ),
        ]
    )


def _map_card(data: ExplorerData, app) -> dbc.Card:
    initial = colouring("cluster", data.points, data.points["cluster"].to_numpy())
    return dbc.Card(
        [
            dbc.CardHeader(
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.InputGroupText("Colour by"),
                                    dbc.Select(
                                        id="colour-by",
                                        options=[{"label": v, "value": k} for k, v in COLOUR_MODES.items()],
                                        value="cluster",
                                    ),
                                ],
                                size="sm",
                            ),
                            width=4,
                        ),
                        dbc.Col(
                            dcc.Dropdown(
                                id="label-filter",
                                options=data.labels,
                                multi=True,
                                placeholder="Show only labels…",
                                className="small",
                            ),
                            width=5,
                        ),
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.Input(id="find-id", placeholder="gravityspy_id", debounce=True),
                                    dbc.Button("Find", id="find-button", color="secondary"),
                                ],
                                size="sm",
                            ),
                            width=3,
                        ),
                    ],
                    className="g-2",
                )
            ),
            dbc.CardBody(
                [
                    graph(
                        map_figure(data.points, initial),
                        id="map",
                        clear_on_unhover=True,
                        responsive=True,
                        style={"height": "calc(100vh - 235px)", "minHeight": "420px"},
                        config={"scrollZoom": True, "modeBarButtonsToRemove": ["toImage"]},
                    ),
                    dcc.Tooltip(id="map-tooltip", direction="right", loading_text="loading…", zindex=2000),
                    html.Div(id="map-legend", className="legend small"),
                    html.Div(id="find-status", className="small text-danger"),
                ],
                className="p-1",
            ),
        ],
        className="h-100",
    )


def _cluster_controls(data: ExplorerData) -> dbc.Card:
    p = data.run_params
    max_size = max(2, min(500, data.n_points // 2))
    return dbc.Card(
        dbc.CardBody(
            [
                html.Div(
                    [
                        html.Strong("Re-cluster (HDBSCAN on the map)"),
                        dbc.Button("Reset to run's", id="reset-params", size="sm", color="link", className="py-0"),
                    ],
                    className="d-flex justify-content-between align-items-center",
                ),
                dbc.Row(
                    [
                        dbc.Col(dbc.Label("min_cluster_size", html_for="mcs-slider", className="small mb-0"), width=4),
                        dbc.Col(
                            dcc.Slider(
                                id="mcs-slider",
                                min=2,
                                max=max_size,
                                step=1,
                                value=min(p.min_cluster_size, max_size),
                                marks=None,
                                updatemode="mouseup",
                            ),
                            width=8,
                        ),
                    ],
                    className="align-items-center",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            dbc.RadioItems(
                                id="method",
                                options=[{"label": "eom", "value": "eom"}, {"label": "leaf", "value": "leaf"}],
                                value=p.selection_method,
                                inline=True,
                                className="small",
                            ),
                            width=3,
                            className="d-flex align-items-center",
                        ),
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.InputGroupText("epsilon"),
                                    dbc.Input(
                                        id="epsilon", type="number", min=0, step=0.05, value=p.epsilon, debounce=True
                                    ),
                                ],
                                size="sm",
                            ),
                            width=3,
                        ),
                        dbc.Col(
                            dbc.InputGroup(
                                [
                                    dbc.InputGroupText("min_samples"),
                                    dbc.Input(id="min-samples", type="number", min=1, step=1, value=p.min_samples),
                                    dbc.Button("Rebuild tree", id="rebuild", color="primary"),
                                ],
                                size="sm",
                            ),
                            width=6,
                        ),
                    ],
                    className="g-1 mt-1",
                ),
                html.Div(id="tree-progress", className="small text-primary mt-1"),
                html.Div(id="tree-status", className="small text-muted"),
                html.Div(id="cluster-metrics", className="small mt-1"),
            ],
            className="py-2",
        ),
        className="mb-2",
    )


def _tabs(data: ExplorerData) -> dbc.Tabs:
    cluster_columns = [
        {"field": "cluster", "headerName": "#", "width": 58, "filter": "agNumberColumnFilter"},
        {"field": "size", "width": 66, "filter": "agNumberColumnFilter"},
        {"field": "top_label", "headerName": "top label", "filter": True, "flex": 1, "minWidth": 120},
        {"field": "purity", "width": 72, "valueFormatter": {"function": "d3.format('.0%')(params.value)"}},
        {"field": "ambiguity", "headerName": "ambig.", "width": 70, "valueFormatter": {"function": "d3.format('.1f')(params.value)"},
         "headerTooltip": "ambiguity = size x (1 - purity)"},
        {"field": "entropy_bits", "headerName": "H bits", "width": 66, "valueFormatter": {"function": "d3.format('.2f')(params.value)"},
         "headerTooltip": "label entropy H(label | cluster) in bits"},
        {"field": "n_labels", "headerName": "labels", "width": 64},
        {"field": "flags", "filter": True, "width": 96, "tooltipField": "flags"},
    ]  # fmt: skip
    audit_columns = [
        {"field": "gravityspy_id", "headerName": "id", "width": 100, "filter": True},
        {"field": "current_label", "headerName": "current", "width": 125, "filter": True, "tooltipField": "current_label"},
        {"field": "proposed_label", "headerName": "proposed", "width": 125, "filter": True, "tooltipField": "proposed_label"},
        {"field": "suspicion", "headerName": "susp.", "width": 72, "sort": "desc",
         "valueFormatter": {"function": "d3.format('.2f')(params.value)"}},
        {"field": "cluster", "headerName": "cl.", "width": 58},
        {"field": "evidence", "flex": 1, "minWidth": 300, "tooltipField": "evidence"},
    ]  # fmt: skip
    return dbc.Tabs(
        [
            dbc.Tab(
                [
                    dag.AgGrid(
                        id="cluster-grid",
                        columnDefs=cluster_columns,
                        rowData=[],
                        getRowId="params.data.row_id",
                        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
                        dashGridOptions={
                            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                            "animateRows": False,
                            "rowHeight": 30,
                            "headerHeight": 32,
                            "tooltipShowDelay": 300,
                        },
                        style=GRID_STYLE,
                        className="ag-theme-alpine",
                    ),
                    html.Div(id="cluster-panel", className="mt-2"),
                ],
                label="Clusters",
                tab_id="tab-clusters",
            ),
            dbc.Tab(
                html.Div(id="detail-panel", children=_hint("Click a point on the map.")),
                label="Glitch",
                tab_id="tab-detail",
            ),
            dbc.Tab(
                html.Div(id="selection-panel", children=_hint("Lasso or box-select points on the map.")),
                label="Selection",
                tab_id="tab-selection",
            ),
            dbc.Tab(
                html.Div(
                    [
                        html.H6("Compare the label entropy of two clusters", className="mt-2"),
                        dbc.Row(
                            [
                                dbc.Col(dcc.Dropdown(id="compare-a", placeholder="cluster A", className="small")),
                                dbc.Col(dcc.Dropdown(id="compare-b", placeholder="cluster B", className="small")),
                            ],
                            className="g-1",
                        ),
                        html.Div(id="compare-out"),
                        html.Div(id="findings"),
                    ],
                    id="failure-panel",
                ),
                label="Failure modes",
                tab_id="tab-failures",
            ),
            dbc.Tab(
                [
                    html.Div(
                        [
                            html.Span(id="audit-count", className="small"),
                            dbc.Button(
                                "Download correction table (CSV)", id="download-corrections", size="sm", color="primary"
                            ),
                        ],
                        className="d-flex justify-content-between align-items-center mb-1",
                    ),
                    dag.AgGrid(
                        id="audit-grid",
                        columnDefs=audit_columns,
                        rowData=[],
                        defaultColDef={"sortable": True, "resizable": True, "suppressHeaderMenuButton": True},
                        dashGridOptions={
                            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
                            "rowHeight": 30,
                            "tooltipShowDelay": 300,
                            "pagination": True,
                            "paginationPageSize": 50,
                        },
                        style={"height": "560px", "width": "100%"},
                        className="ag-theme-alpine",
                    ),
                    dcc.Download(id="corrections-download"),
                ],
                label="Label audit",
                tab_id="tab-audit",
            ),
        ],
        id="tabs",
        active_tab="tab-clusters",
    )


def _hint(text: str) -> html.Div:
    return html.Div(text, className="text-muted small p-3")


def create_layout(data: ExplorerData, app) -> html.Div:
    """The whole page. Per-user state lives in the ``dcc.Store``s, never in the server."""
    return html.Div(
        [
            dcc.Store(id="cluster-params", data=data.run_params.as_dict()),
            dcc.Store(id="selected-point"),
            dcc.Store(id="selected-cluster"),
            _header(data),
            dbc.Container(
                dbc.Row(
                    [
                        dbc.Col(_map_card(data, app), width=7),
                        dbc.Col([_cluster_controls(data), html.Div(_tabs(data), className="side-tabs")], width=5),
                    ],
                    className="g-2",
                ),
                fluid=True,
            ),
        ]
    )
