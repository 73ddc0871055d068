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
from dash import Input, Output, State, dcc, html, no_update

from precompute.audit.findings import Finding, Findings, kinds

from .. import ids
from ..components import Thumbnails, graph
from ..data import ClusterView, ExplorerData
from ..figures import share_bars

__all__ = [
    "TAB_ID", "TAB_LABEL", "cluster_options", "layout", "register", "render_compare", "render_findings", "render_summary",
]  # fmt: skip

TAB_LABEL = "Failure modes"
TAB_ID = ids.TAB_FAILURES
#: Below this many glitches the validation's learning curve decided few structural questions (docs/validation.md).
SMALL_SET = 1000
#: Example glitches drawn per row of a finding.
EXAMPLES_PER_ROW = 4


def layout(data: ExplorerData) -> html.Div:
    """The tab's content: what the audit found (filled per clustering), then two clusters compared."""
    compare = html.Details(
        [
            html.Summary("Compare the label entropy of two clusters", className="small fw-bold"),
            dbc.Row(
                [
                    dbc.Col(dcc.Dropdown(id=ids.COMPARE_A, placeholder="cluster A", className="small")),
                    dbc.Col(dcc.Dropdown(id=ids.COMPARE_B, placeholder="cluster B", className="small")),
                ],
                className="g-1 mt-1",
            ),
            html.Div(id=ids.COMPARE_OUT),
        ],
        className="mt-3",
    )
    return html.Div([html.Div(id=ids.FINDINGS), compare], id=ids.FAILURE_PANEL)


def cluster_options(view: ClusterView) -> list[dict[str, Any]]:
    """The cluster pickers' options: "id: top label (size)"."""
    table = view.table
    return [
        {"label": f"{c}: {t} ({n})", "value": int(c)}
        for c, t, n in zip(table["cluster"], table["top_label"], table["size"], strict=True)
    ]


def _finding(data: ExplorerData, thumbs: Thumbnails, finding: Finding, place: str) -> html.Li:
    """One finding as its kind describes it: headline, evidence lines, rows of clickable examples."""
    shown = finding.view()
    rows = []
    for i, (caption, gids) in enumerate(shown.examples):
        points = [data.point_of_id[g] for g in gids[:EXAMPLES_PER_ROW] if g in data.point_of_id]
        row = thumbs.row(points, place=f"{place}-{i}")
        rows.append(html.Div([html.Span(caption, className="small"), row]) if caption else row)
    details = [html.Div(line, className="small") for line in shown.details]
    return html.Li([html.Div(shown.headline, className="small fw-bold"), *details, *rows])


#: Kinds with a verdict (not "cannot tell"), by their names in a sentence.
_NAMES = {"merge": ("merge", "merges"), "continuum": ("continuum", "continua"), "overlap": ("overlap", "overlaps"),
          "split": ("split", "splits"), "novel": ("new class", "new classes")}  # fmt: skip


def _listed(items: list[str], last: str = "and") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}" if items else ""


def _counted(n: int, kind: str) -> str:
    one, many = _NAMES.get(kind, (kind, kind))
    return f"{n} {one if n == 1 else many}"


def render_summary(data: ExplorerData, view: ClusterView, findings: Findings) -> html.Div:
    """What the audit decided at these parameters, what it could not tell, and what each kind of finding needs:
    the first thing the tab says, so that "nothing found" is never mistaken for "nothing there"."""
    p, params = data.finding_params, view.params
    decided = {kind: len(items) for kind, items in findings.items() if kind != "cannot_tell" and items}
    undecided = findings.get("cannot_tell", [])
    found = [_counted(n, kind) for kind, n in decided.items()]
    missing = [one for kind, (one, _) in _NAMES.items() if kind not in decided]
    said = "; ".join(part for part in (_listed(found), f"no {_listed(missing, 'or')}" if missing else "") if part)
    lines = [
        html.Li([html.Strong("Decided: "), f"{said}."]),
        html.Li(
            [
                html.Strong("Could not tell: "),
                f"{len(undecided)} question{'s' if len(undecided) != 1 else ''}"
                + (": each below says what would decide it." if undecided else "."),
            ]
        ),
        html.Li(
            [
                html.Strong("What a finding needs: "),
                f"a merge, continuum or overlap at least {p.smallest_side} glitches of each label in the clusters they "
                f"share; a split two groups of {p.smallest_side} glitches of one label; a new class a cluster surely "
                f"at least {p.novel_purity:.0%} one catch-all label (None_of_the_Above), {p.min_count} or more of them.",
            ]
        ),
    ]
    if data.n_points < SMALL_SET:  # docs/validation.md's learning curve: merges and new shapes need about this many
        lines.append(html.Li(f"A set of {data.n_points:,} glitches leaves most questions open (the validation found "
                             f"verdicts from about {SMALL_SET:,}): read the Label audit's proposals meanwhile."))  # fmt: skip
    head = (f"At these parameters ({data.n_points:,} glitches, min_cluster_size {params.min_cluster_size}, "
            f"{view.n_clusters} clusters):")  # fmt: skip
    return html.Div([html.Div(head, className="small fw-bold"), html.Ul(lines, className="small")],
                    className="failure-summary", id=ids.FAILURE_SUMMARY)  # fmt: skip


def render_findings(data: ExplorerData, thumbs: Thumbnails, view: ClusterView) -> list[html.Div]:
    """The summary (`render_summary`), then each kind that found something, then what could not be told."""
    findings = data.findings(view)
    sections: list = [render_summary(data, view, findings)]
    for kind in kinds():
        items = [_finding(data, thumbs, f, f"{kind.kind}-{i}") for i, f in enumerate(findings.get(kind.kind, []))]
        if not items:
            continue
        title = "Could not tell" if kind.kind == "cannot_tell" else kind.title
        sections.append(
            html.Div([html.Div(f"{title} ({len(items)})", className="finding-kind"),
                      html.Ul(items, className="cannot-tell" if kind.kind == "cannot_tell" else None)])
        )  # fmt: skip
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
        Input(ids.TABS, "active_tab"),
        prevent_initial_call=True,
    )
    def failure_modes(raw, tab):
        if tab != TAB_ID:  # drawn when the tab opens, not with the page: the first screen waits for less
            return no_update, no_update, no_update
        view = data.view_for(raw)
        options = cluster_options(view)
        return render_findings(data, thumbs, view), options, options

    @app.callback(
        Output(ids.COMPARE_OUT, "children"),
        Input(ids.COMPARE_A, "value"),
        Input(ids.COMPARE_B, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def compare(a, b, raw):
        return render_compare(data.view_for(raw), a, b)
