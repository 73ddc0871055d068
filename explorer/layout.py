"""The page: a header with the run and its warnings, the map on the left, the parameters and tabs on the right.

Structure only, no I/O: each panel builds its own piece (`explorer.panels`).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import ids
from .data import ExplorerData
from .panels import TABS, links, map, parameters

__all__ = ["create_layout"]


def _header(data: ExplorerData) -> html.Div:
    """What the run is (data, embedder, map, clustering, seed) and every warning it carries."""
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
    brand = html.Div(
        [
            html.Span("Gravity Spy Glitch Explorer", className="navbar-brand mb-0 h1"),
            html.Span(f"run {data.root.name}", className="text-light opacity-75 small"),
            dbc.Input(
                id=ids.REVIEWER,
                placeholder="Reviewer: your name",
                size="sm",
                maxLength=64,
                persistence=True,
                persistence_type="local",
                className="reviewer-name ms-3",
            ),
        ],
        className="d-flex align-items-center",
    )
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [
                        brand,
                        html.Div(
                            [html.Div(f, className="small") for f in facts],
                            className="text-light text-end",
                            id=ids.RUN_FACTS,
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
                id=ids.RUN_WARNINGS,
                className="m-2 py-1",
                is_open=bool(warnings),
            ),
        ]
    )


def create_layout(data: ExplorerData) -> html.Div:
    """The whole page. Per-user state lives in the ``dcc.Store``s, never in the server."""
    tabs = dbc.Tabs(
        [dbc.Tab(panel.layout(data), label=panel.TAB_LABEL, tab_id=panel.TAB_ID) for panel in TABS],
        id=ids.TABS,
        active_tab=ids.TAB_CLUSTERS,
    )
    return html.Div(
        [
            dcc.Store(id=ids.CLUSTER_PARAMS, data=data.run_params.as_dict()),
            dcc.Store(id=ids.SELECTED_POINT),
            dcc.Store(id=ids.SELECTED_CLUSTER),
            dcc.Store(id=ids.REVIEW_TICK, data=0),
            dcc.Store(id=ids.REVIEW_KEY),
            _header(data),
            links.layout(data),
            dbc.Container(
                dbc.Row(
                    [
                        dbc.Col(map.layout(data), width=7),
                        dbc.Col(
                            [
                                parameters.layout(data),
                                html.Div(id=ids.BULK_STATUS, className="small text-success px-1"),
                                html.Div(tabs, className="side-tabs"),
                            ],
                            width=5,
                        ),
                    ],
                    className="g-2",
                ),
                fluid=True,
            ),
        ]
    )
