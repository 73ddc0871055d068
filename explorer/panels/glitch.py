"""The glitch panel: one glitch up close, chosen from the map, Find, a thumbnail, or the label-audit table.

Shows its four windows at full crop size, its Omicron facts, its current and
proposed label with the evidence, and its nearest neighbours in the embedding
space (cosine, not the 2-D map); clicking a neighbour moves to it.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, ctx, html, no_update

from precompute.audit.sources import has_both_labels

from .. import ids
from ..colors import label_colour
from ..components import Thumbnails, swatch
from ..data import ClusterView, ExplorerData
from ..events import point_of
from ..help import explained
from .review import bar as decision_bar

__all__ = ["TAB_ID", "TAB_LABEL", "layout", "register", "render_detail"]

TAB_LABEL = "Glitch"
TAB_ID = ids.TAB_GLITCH


def layout(data: ExplorerData) -> list[html.Div]:
    """The decision bar (`explorer.panels.review`), then the glitch up close."""
    return [
        decision_bar(data),
        html.Div(id=ids.DETAIL_PANEL, children=html.Div("Click a point on the map.", className="text-muted small p-3")),
    ]


def _known(value: Any, spec: str, unit: str = "") -> str:
    """``value`` formatted with ``spec`` and its unit, or a dash where the metadata has none."""
    return "—" if value is None or pd.isna(value) else f"{value:{spec}}{unit}"


def _facts(row: pd.Series, cluster: int) -> html.Table:
    """The glitch's trigger facts and where it sits, as a small table."""
    facts = [
        ("id", row["gravityspy_id"]),
        ("detector", row["ifo"]),
        ("GPS time", _known(row.get("event_time"), ".3f")),
        ("SNR", _known(row.get("snr"), ".1f")),
        ("peak frequency", _known(row.get("peak_frequency"), ".0f", " Hz")),
        ("duration", _known(row.get("duration"), ".3g", " s")),
        ("cluster", cluster if cluster >= 0 else "noise"),
        ("intensity", _known(row.get("intensity"), ".3f")),
    ]
    return html.Table(
        [html.Tr([html.Th(name), html.Td(str(value))]) for name, value in facts], className="table table-sm small mb-1"
    )


def _proposal(row: pd.Series, evidence: str) -> Any:
    """The proposed relabelling with its evidence (in the clustering on screen), or a line saying the label agrees
    with its neighbours."""
    if row["proposed_label"] == row["label"]:
        return html.Div(f"Label agrees with its neighbours: {evidence}", className="small text-success my-1")
    return dbc.Alert(
        [
            html.Strong(f"Proposed: {row['label']} → {row['proposed_label']}"),
            html.Div(evidence, className="small"),
        ],
        color="danger",
        className="py-1 my-1",
    )


def _sources(row: pd.Series) -> Any:
    """The archive's three label sources for this glitch: machine, volunteers, and the side its neighbours take."""
    if not has_both_labels(row.index):
        return None
    confidence = f" ({float(row['ml_confidence']):.0%})" if pd.notna(row.get("ml_confidence")) else ""
    volunteers = "no consensus" if pd.isna(row["volunteer_label"]) else str(row["volunteer_label"])
    if pd.notna(row.get("volunteer_score")) and volunteers != "no consensus":
        volunteers += f" (score {float(row['volunteer_score']):.2f}, {int(row['n_votes'])} votes)"
    parts = [html.Span(f"Machine: {row['ml_label']}{confidence}"), html.Span(f" · Volunteers: {volunteers}")]
    verdict = str(row.get("sides_with", ""))
    if verdict in ("machine", "volunteers", "undecided", "neither"):
        parts.append(
            html.Span(
                f" · Neighbours: {int(row['for_machine'])} side with the machine, {int(row['for_volunteers'])} with "
                f"the volunteers (sign test p = {float(row['sides_p']):.3g}: "
                + ("the " + verdict if verdict in ("machine", "volunteers") else verdict)
                + ")"
            )
        )
    return html.Div(parts, className="small my-1", id=ids.SOURCES_LINE)


def render_detail(data: ExplorerData, thumbs: Thumbnails, point: int, view: ClusterView) -> html.Div:
    """One glitch in the clustering ``view``: label and suspicion, proposal and evidence, its four windows with
    their axes, facts, and the nearest neighbours its evidence counts."""
    row = data.points.iloc[point]
    windows = [
        html.Figure(
            [thumbs.window(w, k, size="detail", cls="detail-img", ticks_s=5), html.Figcaption(f"{w} s window")],
            className="detail-window",
        )
        for w, k in thumbs.windows(point)
    ]
    k = data.finding_params.k  # the neighbours the evidence line counts
    neighbours = [i for i, _ in data.neighbours(point, k=k)]
    return html.Div(
        [
            html.H6(
                [
                    swatch(label_colour(row["label"])),
                    html.Span(row["label"]),
                    html.Small(
                        ["  ", explained("suspicion", "suspicion"), f" {row['suspicion']:.2f}"], className="text-muted"
                    ),
                ],
                className="mt-2",
            ),
            _proposal(row, data.evidence([point], view)[0]),
            _sources(row),
            html.Div(windows, className="detail-windows"),
            _facts(row, int(view.labels[point])),
            html.Div(
                f"Its {len(neighbours)} nearest neighbours in embedding space, whose labels the evidence counts "
                "(click to move):",
                className="small fw-bold",
            ),
            html.Div(
                [thumbs.glitch(i, place="neighbours") for i in neighbours],
                className="thumb-grid",
                id=ids.NEIGHBOUR_GRID,
            ),
        ],
        id=ids.DETAIL_CONTENT,
    )


def register(app: Any, data: ExplorerData) -> None:
    """The glitch's callbacks: choose a point (map click, Find, a thumbnail, an audit row), show it."""
    thumbs = Thumbnails(data, app.get_relative_path)

    @app.callback(
        Output(ids.SELECTED_POINT, "data"),
        Output(ids.TABS, "active_tab", allow_duplicate=True),
        Output(ids.FIND_STATUS, "children"),
        Input(ids.MAP, "clickData"),
        Input(ids.FIND_BUTTON, "n_clicks"),
        Input(ids.FIND_ID, "n_submit"),
        Input({"type": ids.GOTO_POINT, "index": ALL, "place": ALL}, "n_clicks"),
        Input(ids.AUDIT_GRID, "selectedRows"),
        State(ids.FIND_ID, "value"),
        prevent_initial_call=True,
    )
    def choose_point(click, _find, _submit, _goto, audit_rows, find_value):
        trigger = ctx.triggered_id
        if trigger == ids.MAP:
            point = point_of(click, data.n_points)
            return (point, ids.TAB_GLITCH, "") if point is not None else (no_update, no_update, "")
        if trigger in (ids.FIND_BUTTON, ids.FIND_ID):
            wanted = str(find_value or "").strip()
            point = data.point_of_id.get(wanted)
            if point is None:
                return no_update, no_update, f"No glitch with id {wanted!r} in this run."
            return point, ids.TAB_GLITCH, ""
        if trigger == ids.AUDIT_GRID:
            point = data.point_of_id.get(str(audit_rows[0].get("gravityspy_id", ""))) if audit_rows else None
            return (point, ids.TAB_GLITCH, "") if point is not None else (no_update, no_update, "")
        if isinstance(trigger, dict) and trigger.get("type") == ids.GOTO_POINT:
            if not ctx.triggered or not ctx.triggered[0]["value"]:
                return no_update, no_update, no_update
            point = int(trigger["index"])
            return (point, ids.TAB_GLITCH, "") if 0 <= point < data.n_points else (no_update, no_update, "")
        return no_update, no_update, no_update

    @app.callback(
        Output(ids.DETAIL_PANEL, "children"),
        Input(ids.SELECTED_POINT, "data"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def detail(point, raw):
        if point is None or not 0 <= int(point) < data.n_points:
            return no_update
        return render_detail(data, thumbs, int(point), data.view_for(raw))
