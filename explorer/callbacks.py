"""Callbacks: every interaction of the page, as plain functions registered on the app.

Per-user state travels in the browser (``cluster-params``, ``selected-point``,
``selected-cluster`` stores) and comes back with each request; the server
keeps none. A ``min_cluster_size``, method or epsilon change re-cuts the
cached tree in the request; a ``min_samples`` change builds a new tree in a
background callback (`dash.DiskcacheManager`) while the page stays usable.
"""

from __future__ import annotations

import io
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update

from precompute.deep_dive import deep_dive

from .colors import label_colour
from .components import graph
from .data import ClusterView, ExplorerData
from .figures import COLOUR_MODES, colouring, share_bars
from .layout import preview_url

__all__ = ["register_callbacks"]

#: Most thumbnails drawn in one grid (selection, contact-sheet row, intensity strip).
MAX_SELECTION_THUMBS = 60
CONTACT_PER_LABEL = 6
CONTACT_ROWS = 4
STRIP_LENGTH = 12


def register_callbacks(app, data: ExplorerData, manager) -> None:
    """Attach every callback of the page to ``app``; ``manager`` runs the background tree builds."""

    def view_of(raw: dict | None) -> ClusterView:
        """The clustering a user's stored parameters ask for; the run's own if they are invalid or unbuilt."""
        try:
            return data.view(data.params_from(raw))
        except ValueError:
            return data.view(data.run_params)

    def thumb(key: str, *, title: str = "", size: str = "thumb", cls: str = "thumb") -> html.Img:
        return html.Img(src=preview_url(app, key, size), title=title, className=cls)

    def glitch_thumb(point: int, *, caption: bool = True, clickable: bool = False) -> html.Div:
        """One glitch as its 1 s window (or its first), with its label under it."""
        row = data.points.iloc[point]
        windows = data.image_keys.get(str(row["gravityspy_id"]), [])
        key = next((k for w, k in windows if w == "1.0"), windows[0][1] if windows else "")
        body = [thumb(key, title=f"{row['gravityspy_id']} · {row['label']}")]
        if caption:
            body.append(
                html.Div(
                    row["label"],
                    className="thumb-caption",
                    style={"borderTop": f"3px solid {label_colour(row['label'])}"},
                )
            )
        props: dict[str, Any] = {"className": "thumb-box"}
        if clickable:
            props.update(id={"type": "goto-point", "index": int(point)}, n_clicks=0, role="button")
        return html.Div(body, **props)

    # -- parameters ---------------------------------------------------------------

    @app.callback(
        Output("cluster-params", "data", allow_duplicate=True),
        Output("tree-status", "children", allow_duplicate=True),
        Input("mcs-slider", "value"),
        Input("method", "value"),
        Input("epsilon", "value"),
        State("cluster-params", "data"),
        prevent_initial_call=True,
    )
    def set_cut_params(mcs, method, epsilon, current):
        raw = {**(current or {}), "min_cluster_size": mcs, "selection_method": method, "epsilon": epsilon or 0.0}
        try:
            params = data.params_from(raw)
        except ValueError as exc:
            return no_update, f"Not applied: {exc}"
        if not data.has_tree(params.min_samples):
            return no_update, f"No tree for min_samples={params.min_samples} yet: press Rebuild"
        return params.as_dict(), ""

    @app.callback(
        Output("cluster-params", "data", allow_duplicate=True),
        Output("mcs-slider", "value"),
        Output("method", "value"),
        Output("epsilon", "value"),
        Output("min-samples", "value"),
        Input("reset-params", "n_clicks"),
        prevent_initial_call=True,
    )
    def reset_params(_):
        p = data.run_params
        return p.as_dict(), p.min_cluster_size, p.selection_method, p.epsilon, p.min_samples

    @app.callback(
        Output("cluster-params", "data", allow_duplicate=True),
        Output("tree-status", "children", allow_duplicate=True),
        Input("rebuild", "n_clicks"),
        State("min-samples", "value"),
        State("cluster-params", "data"),
        background=True,
        manager=manager,
        running=[
            (Output("rebuild", "disabled"), True, False),
            (Output("tree-progress", "children"), "Building the tree (a few seconds per 10k points)…", ""),
        ],
        prevent_initial_call=True,
    )
    def rebuild_tree(_, min_samples, current):
        try:
            params = data.params_from({**(current or {}), "min_samples": min_samples})
        except ValueError as exc:
            return no_update, f"Not rebuilt: {exc}"
        data.tree(params.min_samples, build=True)
        return params.as_dict(), f"Tree for min_samples={params.min_samples} ready."

    # -- the clustering's tables --------------------------------------------------

    @app.callback(
        Output("cluster-grid", "rowData"),
        Output("cluster-metrics", "children"),
        Output("compare-a", "options"),
        Output("compare-b", "options"),
        Input("cluster-params", "data"),
    )
    def update_tables(raw):
        view = view_of(raw)
        table = view.table.drop(columns=["label_shares"], errors="ignore")
        table["row_id"] = table["cluster"].astype(str)
        metrics = view.metrics
        p = view.params
        summary = [
            dbc.Badge(f"{view.n_clusters} clusters", color="primary", className="me-1"),
            dbc.Badge(f"{view.noise_fraction:.1%} noise", color="secondary", className="me-1"),
            html.Span(
                f"vs human labels: NMI {_fmt(metrics.nmi)} · ARI {_fmt(metrics.ari)} · homogeneity "
                f"{_fmt(metrics.homogeneity)} · completeness {_fmt(metrics.completeness)}",
                className="me-2",
            ),
            html.Span(
                f"[mcs {p.min_cluster_size}, ms {p.min_samples}, {p.selection_method}, eps {p.epsilon:g}]",
                className="text-muted",
                id="current-params",
            ),
        ]
        options = [
            {"label": f"{c}: {t} ({n})", "value": int(c)}
            for c, t, n in zip(view.table["cluster"], view.table["top_label"], view.table["size"], strict=True)
        ]
        return table.to_dict("records"), summary, options, options

    # -- the map --------------------------------------------------------------------

    @app.callback(
        Output("map", "figure"),
        Output("map-legend", "children"),
        Input("cluster-params", "data"),
        Input("colour-by", "value"),
        Input("label-filter", "value"),
    )
    def recolour(raw, mode, shown_labels):
        mode = mode if mode in COLOUR_MODES else "cluster"
        view = view_of(raw)
        colours = colouring(mode, data.points, view.labels)
        patch = Patch()
        for name, value in colours.marker.items():
            patch["data"][0]["marker"][name] = value
        if shown_labels:
            shown = data.points["label"].isin(shown_labels).to_numpy()
            patch["data"][0]["marker"]["opacity"] = np.where(shown, 0.85, 0.04).astype(np.float32)
        else:
            patch["data"][0]["marker"]["opacity"] = 0.8
        legend = [
            html.Span(
                [html.Span(className="swatch", style={"background": colour}), f"{name} ({count})"],
                className="legend-item",
            )
            for name, colour, count in colours.legend
        ]
        return patch, legend

    @app.callback(
        Output("map", "figure", allow_duplicate=True),
        Input("selected-cluster", "data"),
        Input("selected-point", "data"),
        State("cluster-params", "data"),
        prevent_initial_call=True,
    )
    def highlight(cluster, point, raw):
        patch = Patch()
        if cluster is not None:
            members = view_of(raw).labels == int(cluster)
            patch["data"][1]["x"] = data.points["x"].to_numpy()[members].astype(np.float32)
            patch["data"][1]["y"] = data.points["y"].to_numpy()[members].astype(np.float32)
        else:
            patch["data"][1]["x"], patch["data"][1]["y"] = [], []
        if point is not None and 0 <= int(point) < data.n_points:
            patch["data"][2]["x"] = [float(data.points["x"].iat[int(point)])]
            patch["data"][2]["y"] = [float(data.points["y"].iat[int(point)])]
        else:
            patch["data"][2]["x"], patch["data"][2]["y"] = [], []
        return patch

    @app.callback(
        Output("map-tooltip", "show"),
        Output("map-tooltip", "bbox"),
        Output("map-tooltip", "children"),
        Input("map", "hoverData"),
        State("cluster-params", "data"),
    )
    def hover(hover_data, raw):
        point = _point_of(hover_data, data.n_points)
        if point is None:
            return False, no_update, no_update
        row = data.points.iloc[point]
        cluster = int(view_of(raw).labels[point])
        windows = data.image_keys.get(str(row["gravityspy_id"]), [])
        body = html.Div(
            [
                html.Div(
                    [
                        html.Span(className="swatch", style={"background": label_colour(row["label"])}),
                        html.Strong(row["label"]),
                        html.Span(f" · {row['gravityspy_id']} · {row['ifo']}", className="text-muted"),
                    ]
                ),
                html.Div(
                    f"cluster {cluster if cluster >= 0 else 'noise'} · suspicion {row['suspicion']:.2f}"
                    + (f" · proposed {row['proposed_label']}" if row["proposed_label"] != row["label"] else ""),
                    className="small",
                ),
                html.Div(
                    [
                        html.Figure([thumb(k, title=f"{w} s"), html.Figcaption(f"{w} s")], className="tip-window")
                        for w, k in windows
                    ],
                    className="tip-windows",
                ),
            ],
            className="map-tip",
        )
        return True, hover_data["points"][0]["bbox"], body

    # -- one glitch -------------------------------------------------------------------

    @app.callback(
        Output("selected-point", "data"),
        Output("tabs", "active_tab", allow_duplicate=True),
        Output("find-status", "children"),
        Input("map", "clickData"),
        Input("find-button", "n_clicks"),
        Input("find-id", "n_submit"),
        Input({"type": "goto-point", "index": ALL}, "n_clicks"),
        Input("audit-grid", "selectedRows"),
        State("find-id", "value"),
        prevent_initial_call=True,
    )
    def choose_point(click, _find, _submit, goto_clicks, audit_rows, find_value):
        trigger = ctx.triggered_id
        if trigger == "map":
            point = _point_of(click, data.n_points)
            return (point, "tab-detail", "") if point is not None else (no_update, no_update, "")
        if trigger in ("find-button", "find-id"):
            wanted = str(find_value or "").strip()
            matches = np.flatnonzero(data.points["gravityspy_id"].astype(str).to_numpy() == wanted)
            if not len(matches):
                return no_update, no_update, f"No glitch with id {wanted!r} in this run."
            return int(matches[0]), "tab-detail", ""
        if trigger == "audit-grid":
            if not audit_rows:
                return no_update, no_update, ""
            gid = str(audit_rows[0].get("gravityspy_id", ""))
            matches = np.flatnonzero(data.points["gravityspy_id"].astype(str).to_numpy() == gid)
            return (int(matches[0]), "tab-detail", "") if len(matches) else (no_update, no_update, "")
        if isinstance(trigger, dict) and trigger.get("type") == "goto-point":
            if not ctx.triggered or not ctx.triggered[0]["value"]:
                return no_update, no_update, no_update
            point = int(trigger["index"])
            return (point, "tab-detail", "") if 0 <= point < data.n_points else (no_update, no_update, "")
        return no_update, no_update, no_update

    @app.callback(Output("detail-panel", "children"), Input("selected-point", "data"), State("cluster-params", "data"))
    def detail(point, raw):
        if point is None or not 0 <= int(point) < data.n_points:
            return no_update
        point = int(point)
        row = data.points.iloc[point]
        cluster = int(view_of(raw).labels[point])
        windows = data.image_keys.get(str(row["gravityspy_id"]), [])
        facts = [
            ("id", row["gravityspy_id"]),
            ("detector", row["ifo"]),
            ("GPS time", f"{row['event_time']:.3f}" if pd.notna(row.get("event_time")) else "—"),
            ("SNR", f"{row['snr']:.1f}" if pd.notna(row.get("snr")) else "—"),
            ("peak frequency", f"{row['peak_frequency']:.0f} Hz" if pd.notna(row.get("peak_frequency")) else "—"),
            ("duration", f"{row['duration']:.3g} s" if pd.notna(row.get("duration")) else "—"),
            ("cluster", cluster if cluster >= 0 else "noise"),
            ("intensity", f"{row['intensity']:.3f}" if pd.notna(row.get("intensity")) else "—"),
        ]
        proposal = (
            dbc.Alert(
                [
                    html.Strong(f"Proposed: {row['label']} → {row['proposed_label']}"),
                    html.Div(row["evidence"], className="small"),
                ],
                color="danger",
                className="py-1 my-1",
            )
            if row["proposed_label"] != row["label"]
            else html.Div(f"Label agrees with its neighbours: {row['evidence']}", className="small text-success my-1")
        )
        neighbours = data.neighbours(point, k=8)
        return html.Div(
            [
                html.H6(
                    [
                        html.Span(className="swatch", style={"background": label_colour(row["label"])}),
                        html.Span(row["label"]),
                        html.Small(f"  suspicion {row['suspicion']:.2f}", className="text-muted"),
                    ],
                    className="mt-2",
                ),
                proposal,
                html.Div(
                    [
                        html.Figure(
                            [thumb(k, size="detail", cls="detail-img", title=f"{w} s"), html.Figcaption(f"{w} s")],
                            className="detail-window",
                        )
                        for w, k in windows
                    ],
                    className="detail-windows",
                ),
                html.Table(
                    [html.Tr([html.Th(name), html.Td(str(value))]) for name, value in facts],
                    className="table table-sm small mb-1",
                ),
                html.Div("Nearest neighbours in embedding space (click to move):", className="small fw-bold"),
                html.Div(
                    [glitch_thumb(i, clickable=True) for i, _ in neighbours],
                    className="thumb-grid",
                    id="neighbour-grid",
                ),
            ],
            id="detail-content",
        )

    # -- a selection ------------------------------------------------------------------

    @app.callback(
        Output("selection-panel", "children"),
        Output("tabs", "active_tab", allow_duplicate=True),
        Input("map", "selectedData"),
        prevent_initial_call=True,
    )
    def selection(selected):
        points = _points_of(selected, data.n_points)
        if not points:
            return html.Div("Lasso or box-select points on the map.", className="text-muted small p-3"), no_update
        labels = data.points["label"].iloc[points].value_counts(normalize=True)
        return (
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(f"{len(points)} glitches selected", className="fw-bold small"),
                            dbc.Button("Export selection (CSV)", id="export-selection", size="sm", color="primary"),
                        ],
                        className="d-flex justify-content-between align-items-center mt-2",
                    ),
                    graph(
                        share_bars(labels.to_dict(), "Labels in the selection", height=160),
                        config={"displayModeBar": False},
                    ),
                    html.Div(
                        [glitch_thumb(i, clickable=True) for i in points[:MAX_SELECTION_THUMBS]],
                        className="thumb-grid",
                    ),
                    html.Div(
                        f"showing {MAX_SELECTION_THUMBS} of {len(points)}"
                        if len(points) > MAX_SELECTION_THUMBS
                        else "",
                        className="small text-muted",
                    ),
                    dcc.Download(id="selection-download"),
                ]
            ),
            "tab-selection",
        )

    @app.callback(
        Output("selection-download", "data"),
        Input("export-selection", "n_clicks"),
        State("map", "selectedData"),
        State("cluster-params", "data"),
        prevent_initial_call=True,
    )
    def export_selection(n_clicks, selected, raw):
        if not n_clicks:
            return no_update
        points = _points_of(selected, data.n_points)
        view = view_of(raw)
        table = data.points.iloc[points][
            [
                "gravityspy_id",
                "ifo",
                "label",
                "snr",
                "peak_frequency",
                "duration",
                "x",
                "y",
                "suspicion",
                "proposed_label",
            ]
        ].assign(cluster=view.labels[points])
        return _csv_download(_with_params(table, view), "selection.csv")

    # -- a cluster ----------------------------------------------------------------------

    @app.callback(
        Output("selected-cluster", "data"),
        Input("cluster-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def choose_cluster(rows):
        return int(rows[0]["cluster"]) if rows else None

    @app.callback(
        Output("cluster-panel", "children"),
        Input("selected-cluster", "data"),
        Input("cluster-params", "data"),
    )
    def cluster_panel(cluster, raw):
        if cluster is None:
            return html.Div("Choose a cluster in the table to see its members.", className="text-muted small")
        view = view_of(raw)
        members = np.flatnonzero(view.labels == int(cluster))
        if not len(members):
            return html.Div(f"Cluster {cluster} does not exist with these parameters.", className="text-muted small")
        row = view.table.set_index("cluster").loc[int(cluster)]
        labels = data.points["label"].to_numpy()[members]
        counts = pd.Series(labels).value_counts()
        contact = [
            html.Div(
                [
                    html.Div(
                        [
                            html.Span(className="swatch", style={"background": label_colour(label)}),
                            f"{label} ({count})",
                        ],
                        className="contact-label",
                    ),
                    html.Div(
                        [
                            glitch_thumb(i, caption=False, clickable=True)
                            for i in members[labels == label][:CONTACT_PER_LABEL]
                        ],
                        className="thumb-row",
                    ),
                ]
            )
            for label, count in counts.head(CONTACT_ROWS).items()
        ]
        by_intensity = members[np.argsort(-data.points["intensity"].to_numpy()[members], kind="stable")]
        strip = by_intensity[np.linspace(0, len(by_intensity) - 1, min(STRIP_LENGTH, len(by_intensity))).astype(int)]
        dive = deep_dive(data.points, data.embeddings, int(cluster), clusters=view.labels)
        segments = [
            html.Tr(
                [
                    html.Td(int(s["segment"]) + 1),
                    html.Td(int(s["size"])),
                    html.Td(
                        [
                            html.Span(className="swatch", style={"background": label_colour(s["canonical_label"])}),
                            s["canonical_label"],
                        ]
                    ),
                    html.Td(f"{s['disagreement']:.0%}"),
                ]
            )
            for s in dive.segments.to_dict("records")
        ]
        proposals = int((dive.members["proposed_label"] != dive.members["label"]).sum())
        return html.Div(
            [
                html.H6(
                    f"Cluster {cluster}: {int(row['size'])} glitches · purity {row['purity']:.0%} · "
                    f"H {row['entropy_bits']:.2f} bits · {row['effective_labels']:.1f} effective labels",
                    id="cluster-title",
                ),
                graph(
                    share_bars(dict(counts / counts.sum()), "Label shares", height=150),
                    config={"displayModeBar": False},
                ),
                html.Div("Contact sheet: top labels, examples of each", className="small fw-bold"),
                html.Div(contact),
                html.Div(
                    "Members ordered by intensity (plot-area energy), loudest first", className="small fw-bold mt-2"
                ),
                html.Div([glitch_thumb(i, clickable=True) for i in strip], className="thumb-row"),
                html.Div(
                    f"Deep dive: members along the cluster's main axis ({dive.explained_variance:.0%} of its variance), "
                    f"in {len(dive.segments)} segments; {proposals} relabelling proposal(s)",
                    className="small fw-bold mt-2",
                ),
                html.Table(
                    [
                        html.Tr(
                            [html.Th("segment"), html.Th("size"), html.Th("canonical label"), html.Th("disagreement")]
                        ),
                        *segments,
                    ],
                    className="table table-sm small",
                    id="segment-table",
                ),
            ]
        )

    # -- failure modes --------------------------------------------------------------------

    @app.callback(Output("findings", "children"), Input("cluster-params", "data"))
    def failure_modes(raw):
        view = view_of(raw)
        findings = view.findings
        ids = data.points["gravityspy_id"].astype(str).to_numpy()
        index = {gid: i for i, gid in enumerate(ids)}

        def examples(gids: list[str]) -> html.Div:
            return html.Div(
                [glitch_thumb(index[g], clickable=True) for g in gids[:4] if g in index], className="thumb-row"
            )

        sections = []
        titles = {
            "merge": "Merge suggestions (over-splitting): labels sharing the same morphology clusters",
            "continuum": "Continua: labels ordered along one cluster's axis (relabel at the boundary, don't merge)",
            "overlap": "Overlaps: distinct shapes sharing a cluster (their neighbours tell them apart; don't merge)",
            "split": "Split suggestions (over-compression): one label, two shapes",
            "novel": "Candidate new classes: coherent clusters of a catch-all label",
        }
        for kind, title in titles.items():
            items = []
            for f in findings[kind]:
                if kind in ("merge", "continuum", "overlap"):
                    head = f"{' + '.join(f['labels'])} in cluster(s) {', '.join(map(str, f['clusters']))}"
                    auc = "; ".join(f"{k}: axis AUC {v:.2f}" for k, v in f.get("axis_auc", {}).items())
                    mixing = "; ".join(
                        f"{k}: neighbours tell apart {v:.2f}" for k, v in f.get("label_mixing", {}).items()
                    )
                    auc = f"{auc}; {mixing}" if mixing else auc
                    body = [html.Div(auc, className="small text-muted")]
                    body += [examples(v) for v in f["examples"].values()]
                elif kind == "split":
                    head, evidence = _split_lines(f)
                    body = [html.Div(evidence, className="small text-muted")]
                    body += [
                        html.Div([html.Span(name, className="small"), examples(v)]) for name, v in f["examples"].items()
                    ]
                else:
                    head = f"cluster {f['cluster']}: {f['size']} glitches, {f['purity']:.0%} {f['label']}"
                    body = [examples(f["examples"])]
                items.append(html.Li([html.Div(head, className="small fw-bold"), *body]))
            sections.append(
                html.Div(
                    [
                        html.H6(f"{title} ({len(items)})", className="mt-2"),
                        html.Ul(items) if items else html.Div("none at these parameters", className="small text-muted"),
                    ]
                )
            )
        return sections

    @app.callback(
        Output("compare-out", "children"),
        Input("compare-a", "value"),
        Input("compare-b", "value"),
        State("cluster-params", "data"),
    )
    def compare(a, b, raw):
        view = view_of(raw)
        table = view.table.set_index("cluster")
        cols = []
        for cluster in (a, b):
            if cluster is None or int(cluster) not in table.index:
                cols.append(dbc.Col(html.Div("choose a cluster", className="small text-muted")))
                continue
            row = table.loc[int(cluster)]
            cols.append(
                dbc.Col(
                    graph(
                        share_bars(
                            row["label_shares"],
                            f"cluster {cluster}: H = {row['entropy_bits']:.2f} bits, purity {row['purity']:.0%}",
                        ),
                        config={"displayModeBar": False},
                    )
                )
            )
        return dbc.Row(cols, className="g-1")

    # -- label audit ------------------------------------------------------------------------

    @app.callback(
        Output("audit-grid", "rowData"),
        Output("audit-count", "children"),
        Input("cluster-params", "data"),
    )
    def audit_rows(raw):
        table = _corrections(data, view_of(raw))
        return table.to_dict("records"), f"{len(table)} glitches whose neighbours propose another label"

    @app.callback(
        Output("corrections-download", "data"),
        Input("download-corrections", "n_clicks"),
        State("cluster-params", "data"),
        prevent_initial_call=True,
    )
    def download_corrections(n_clicks, raw):
        if not n_clicks:
            return no_update
        view = view_of(raw)
        return _csv_download(_with_params(_corrections(data, view), view), "corrections.csv")


# -- helpers (pure) ---------------------------------------------------------------------------


def _split_lines(finding: dict[str, Any]) -> tuple[str, str]:
    """Headline and evidence line of a split finding (either kind of evidence, precompute.audit_findings)."""
    where = ", ".join(f"cluster {c}: {s:.0%}" for c, s in finding["shares"].items())
    if finding.get("evidence") != "omicron+neighbours":
        return f"{finding['label']} → {where}", "evidence: its members fall in separate clusters"
    parts = " and ".join(f"{name} ({group['size']})" for name, group in finding["groups"].items())
    return (
        f"{finding['label']} → two groups: {parts}",
        f"Omicron {finding['parameter']}: two groups beat one by ΔBIC {finding['delta_bic']:.0f}; "
        f"neighbours tell them apart {finding['label_mixing']:.2f}; label's clustered members: {where or 'none'}",
    )


def _fmt(value: float | None) -> str:
    """Two decimals, or a dash where a metric is undefined (e.g. everything is noise)."""
    return "—" if value is None or not np.isfinite(value) else f"{value:.2f}"


def _point_of(event: dict | None, n_points: int) -> int | None:
    """The main trace's point index in a hover/click event, or None."""
    if not isinstance(event, dict) or not event.get("points"):
        return None
    first = event["points"][0]
    if not isinstance(first, dict) or first.get("curveNumber") != 0:
        return None
    index = first.get("customdata", first.get("pointIndex"))
    if isinstance(index, list):
        index = index[0] if index else None
    if isinstance(index, bool) or not isinstance(index, int | float) or not 0 <= int(index) < n_points:
        return None
    return int(index)


def _points_of(selected: dict | None, n_points: int) -> list[int]:
    """Main-trace point indices in a selection event (lasso/box), without duplicates."""
    if not isinstance(selected, dict):
        return []
    out = []
    for p in selected.get("points") or []:
        point = _point_of({"points": [p]}, n_points)
        if point is not None:
            out.append(point)
    return list(dict.fromkeys(out))


def _corrections(data: ExplorerData, view: ClusterView) -> pd.DataFrame:
    """The run's correction table with each glitch's cluster in the current clustering."""
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


def _with_params(table: pd.DataFrame, view: ClusterView) -> pd.DataFrame:
    """Add the clustering parameters as columns, so an export says what produced it."""
    p = view.params
    return table.assign(
        min_cluster_size=p.min_cluster_size,
        min_samples=p.min_samples,
        selection_method=p.selection_method,
        epsilon=p.epsilon,
    )


def _csv_download(table: pd.DataFrame, filename: str) -> dict[str, Any]:
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return dcc.send_string(buffer.getvalue(), filename, type="text/csv")
