"""The failure-modes panel: every finding of the current clustering, by kind, and two clusters side by side.

Each kind of finding says what to show of itself (`Finding.view`: headline,
evidence, rows of example glitches) and its section title; this panel draws
them all alike, in the kinds' order, so a new kind appears here without a
change to the dashboard. The findings are the audit's own, recomputed for the
current parameters (`ExplorerData.view`).
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from precompute.audit.findings import Finding, kinds

from .. import ids
from ..components import Thumbnails, graph
from ..data import ClusterView, ExplorerData
from ..figures import share_bars

__all__ = ["TAB_ID", "TAB_LABEL", "cluster_options", "layout", "register", "render_compare", "render_findings"]

TAB_LABEL = "Failure modes"
TAB_ID = ids.TAB_FAILURES
#: Example glitches drawn per row of a finding.
EXAMPLES_PER_ROW = 4


def layout(data: ExplorerData) -> html.Div:
    """The tab's content: two cluster pickers and their comparison, then the findings."""
    return html.Div(
        [
            html.H6("Compare the label entropy of two clusters", className="mt-2"),
            dbc.Row(
                [
                    dbc.Col(dcc.Dropdown(id=ids.COMPARE_A, placeholder="cluster A", className="small")),
                    dbc.Col(dcc.Dropdown(id=ids.COMPARE_B, placeholder="cluster B", className="small")),
                ],
                className="g-1",
            ),
            html.Div(id=ids.COMPARE_OUT),
            html.Div(id=ids.FINDINGS),
        ],
        id=ids.FAILURE_PANEL,
    )


def cluster_options(view: ClusterView) -> list[dict[str, Any]]:
    """The cluster pickers' options: "id: top label (size)"."""
    table = view.table
    return [
        {"label": f"{c}: {t} ({n})", "value": int(c)}
        for c, t, n in zip(table["cluster"], table["top_label"], table["size"], strict=True)
    ]


def _finding(data: ExplorerData, thumbs: Thumbnails, finding: Finding) -> html.Li:
    """One finding as its kind describes it: headline, evidence lines, rows of clickable examples."""
    shown = finding.view()
    rows = []
    for caption, gids in shown.examples:
        points = [data.point_of_id[g] for g in gids[:EXAMPLES_PER_ROW] if g in data.point_of_id]
        row = thumbs.row(points)
        rows.append(html.Div([html.Span(caption, className="small"), row]) if caption else row)
    details = [html.Div(line, className="small text-muted") for line in shown.details]
    return html.Li([html.Div(shown.headline, className="small fw-bold"), *details, *rows])


def render_findings(data: ExplorerData, thumbs: Thumbnails, view: ClusterView) -> list[html.Div]:
    """A section per kind of finding (title and count), its findings listed, or "none at these parameters"."""
    findings = data.findings(view)
    sections = []
    for kind in kinds():
        items = [_finding(data, thumbs, f) for f in findings.get(kind.kind, [])]
        body = html.Ul(items) if items else html.Div("none at these parameters", className="small text-muted")
        sections.append(html.Div([html.H6(f"{kind.title} ({len(items)})", className="mt-2"), body]))
    return sections


def render_compare(view: ClusterView, a: int | None, b: int | None) -> dbc.Row:
    """Label shares and entropy of two clusters side by side."""
    table = view.table.set_index("cluster")
    cols = []
    for cluster in (a, b):
        if cluster is None or int(cluster) not in table.index:
            cols.append(dbc.Col(html.Div("choose a cluster", className="small text-muted")))
            continue
        row = table.loc[int(cluster)]
        title = f"cluster {cluster}: H = {row['entropy_bits']:.2f} bits, purity {row['purity']:.0%}"
        cols.append(dbc.Col(graph(share_bars(row["label_shares"], title), config={"displayModeBar": False})))
    return dbc.Row(cols, className="g-1")


def register(app: Any, data: ExplorerData) -> None:
    """The failure modes' callbacks: the findings and the pickers for the current clustering; the comparison."""
    thumbs = Thumbnails(data, app.get_relative_path)

    @app.callback(
        Output(ids.FINDINGS, "children"),
        Output(ids.COMPARE_A, "options"),
        Output(ids.COMPARE_B, "options"),
        Input(ids.CLUSTER_PARAMS, "data"),
    )
    def failure_modes(raw):
        view = data.view_for(raw)
        options = cluster_options(view)
        return render_findings(data, thumbs, view), options, options

    @app.callback(
        Output(ids.COMPARE_OUT, "children"),
        Input(ids.COMPARE_A, "value"),
        Input(ids.COMPARE_B, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
    )
    def compare(a, b, raw):
        return render_compare(data.view_for(raw), a, b)
