"""The page: a header saying what the tool is and what the run carries, the map on the left, the parameters and
tabs on the right.

Structure only, no I/O: each panel builds its own piece (`explorer.panels`). The page fills the window and
never scrolls as a whole: the map fills its column, and on the right only the open tab's content scrolls, one
scrollbar per region (``assets/explorer.css``).
"""

from __future__ import annotations

import re

import dash_bootstrap_components as dbc
from dash import dcc, html

from . import ids
from .data import ExplorerData
from .help import explained
from .panels import TABS, links, map, notice, parameters

__all__ = ["create_layout", "plain_warning"]

#: A raw exception quoted inside a warning: "(URLError: <urlopen error [Errno -2] ...>)".
_RAW_ERROR = re.compile(r"\s*\(([A-Z]\w*(?:Error|Exception|Warning|Timeout)\b:[^()]*)\)")


def plain_warning(text: str) -> tuple[str, str]:
    """A run warning as (plain words, technical detail): the raw exception it quotes, if any, goes to the detail."""
    found = _RAW_ERROR.search(text)
    if not found:
        return text, ""
    return (text[: found.start()] + text[found.end() :]).strip(), found.group(1)


def _intro(data: ExplorerData) -> html.Div:
    """One line for a newcomer: what this is, and where to start."""
    n = data.manifest["data"]["n_glitches"]
    return html.Div(
        [
            f"Audits the human labels of {n:,} glitches against their spectrograms. Start with ",
            html.Strong("Failure modes"),
            " (where the taxonomy fails) or ",
            html.Strong("Label audit"),
            " (labels the neighbours dispute); hover the map to see a glitch, click to decide.",
        ],
        className="intro small px-3 py-1",
    )


def _warnings(warnings: list[str]) -> dbc.Alert:
    """The run's warnings in plain words; what an exception said, under a Details toggle (and in the log)."""
    plain = [plain_warning(w) for w in warnings]
    details = [d for _, d in plain if d]
    head = html.Strong(f"{len(warnings)} warnings from this run: " if len(warnings) > 1 else "Warning: ")
    texts = [text for text, _ in plain]
    body: list = [head, texts[0]] if len(texts) == 1 else [head, html.Ul([html.Li(t) for t in texts])]
    if details:
        body.append(html.Details([html.Summary("details"), *(html.Pre(d, className="mb-0") for d in details)]))
    return dbc.Alert(body, color="warning", id=ids.RUN_WARNINGS, className="run-warnings mx-2 my-1 py-1",
                     is_open=bool(warnings))  # fmt: skip


def _header(data: ExplorerData) -> html.Div:
    """What the run is (data, embedder, map, clustering, seed), what the tool does, and every warning it carries."""
    m = data.manifest
    params = data.run_params
    emb = m["embedding"]
    facts = [
        f"{m['data']['format']} · {m['data']['n_glitches']:,} glitches → {m['n_points']:,} points "
        f"({m['parameters']['unit']}, {m['parameters']['fusion']} of windows {', '.join(m['data']['windows'])})",
        f"ResNet-18, weights {emb['weights_used']} on {emb['device']} · UMAP + HDBSCAN (min_cluster_size "
        f"{params.min_cluster_size}, min_samples {params.min_samples}, {params.selection_method}) · seed {m['seed']}",
    ]
    brand = html.Div(
        [
            html.Span("Gravity Spy Glitch Explorer", className="navbar-brand mb-0 h1"),
            html.Span(f"run: {data.root.name}", className="text-light opacity-75 small text-nowrap"),
            explained(
                dbc.Input(
                    id=ids.REVIEWER,
                    placeholder="Reviewer: your name",
                    size="sm",
                    maxLength=64,
                    persistence=True,
                    persistence_type="local",
                    className="reviewer-name ms-3",
                ),
                "reviewer",
            ),
        ],
        className="d-flex align-items-center",
    )
    return html.Div(
        [
            dbc.Navbar(
                dbc.Container(
                    [brand, html.Div([html.Div(f) for f in facts], className="run-facts", id=ids.RUN_FACTS)],
                    fluid=True,
                ),
                color="dark",
                dark=True,
                className="py-1",
            ),
            _intro(data),
            _warnings(m.get("warnings", [])),
        ],
        className="page-header",
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
            dcc.Store(id=ids.TAB_SCROLL),
            _header(data),
            links.layout(data),
            html.Div(
                [
                    html.Div(map.layout(data), className="map-column"),
                    html.Div(
                        [parameters.layout(data), notice.layout(data), html.Div(tabs, className="side-tabs")],
                        className="side-column",
                    ),
                ],
                className="page-main",
            ),
        ],
        className="page",
    )
