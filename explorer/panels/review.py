"""Deciding on a glitch's label: the decision bar of the Glitch tab, the keyboard queue, undo, and the export.

A curator names themself once (the header's "Reviewer" field, kept in the
browser), then accepts the proposed label, rejects it, sets another, or flags
a candidate new class, with an optional note. Each decision goes to the review
store (`explorer.review`, SQLite) with the evidence shown at that moment and
the clustering it was made under; "Undo my last" takes back the reviewer's
latest batch. Where deciding is off (no writable database) the bar says why and
its buttons are disabled; browsing is unaffected.

The queue is the Label audit table's order (most suspicious first). Its keys
(``assets/review-keys.js``): j/k next and previous, a accept, r reject, 1-9
set the glitch's n-th most common neighbour label, u undo; a decision moves on
to the next glitch, and the Glitch tab follows.
"""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from precompute.classes import KNOWN_LABELS

from .. import ids
from ..data import ClusterView, ExplorerData
from ..events import points_of
from ..review import NewDecision, ReviewError, ReviewOff, ReviewTrouble
from .label_audit import corrections_table

__all__ = ["bar", "bulk_bar", "bulk_decide", "choices", "decision_of", "queue", "register", "render_status", "step"]

log = logging.getLogger(__name__)

#: Neighbours whose labels make a glitch's numbered choices (keys 1-9).
CHOICE_NEIGHBOURS = 10

#: Buttons of the decision bar → the action each records.
_ACTIONS = {
    ids.DECIDE_ACCEPT: "accept",
    ids.DECIDE_REJECT: "reject",
    ids.DECIDE_RELABEL: "relabel",
    ids.DECIDE_NEW_CLASS: "new_class",
}
_PAST = {"accept": "accepted", "reject": "rejected", "relabel": "relabelled", "new_class": "flagged as a new class"}


def bar(data: ExplorerData) -> html.Div:
    """The decision bar above the glitch: four actions, a label to set, a note, undo and the status line."""
    off = data.review.reason if isinstance(data.review, ReviewOff) else None
    choices = sorted(set(KNOWN_LABELS) | set(data.labels))
    buttons = [
        dbc.Button("Accept proposal", id=ids.DECIDE_ACCEPT, color="success", size="sm", disabled=bool(off)),
        dbc.Button("Reject (label is right)", id=ids.DECIDE_REJECT, color="secondary", size="sm", disabled=bool(off)),
        dbc.Button("Candidate new class", id=ids.DECIDE_NEW_CLASS, color="warning", size="sm", disabled=bool(off)),
        dbc.Button("Undo my last", id=ids.UNDO_DECISION, color="link", size="sm", disabled=bool(off)),
    ]
    relabel = dbc.InputGroup(
        [
            dbc.Select(id=ids.RELABEL_TO, options=[{"label": c, "value": c} for c in choices], placeholder="label…"),
            dbc.Button("Set label", id=ids.DECIDE_RELABEL, color="primary", disabled=bool(off)),
        ],
        size="sm",
        className="relabel-group",
    )
    note = dbc.Input(id=ids.DECISION_NOTE, placeholder="note (optional)", size="sm", maxLength=2000)
    return html.Div(
        [
            html.Div([*buttons[:3], relabel, buttons[3]], className="decision-buttons"),
            note,
            html.Div(off or "", id=ids.DECISION_STATUS, className="small mt-1"),
            html.Div(id=ids.QUEUE_STATUS, className="small text-muted"),
        ],
        id=ids.DECISION_BAR,
        className="decision-bar",
    )


def decision_of(data: ExplorerData, gravityspy_id: str) -> pd.Series | None:
    """The decision in force on one glitch, or None (also when deciding is off)."""
    if isinstance(data.review, ReviewOff):
        return None
    history = data.review.history(gravityspy_id)
    current = history[history["undone_at"].isna()]
    return current.iloc[-1] if len(current) else None


def choices(data: ExplorerData, point: int) -> list[tuple[str, float]]:
    """Labels other than its own among the glitch's nearest neighbours, most common first (at most 9): keys 1-9."""
    own = data.points["label"].iat[point]
    labels = [str(data.points["label"].iat[i]) for i, _ in data.neighbours(point, k=CHOICE_NEIGHBOURS)]
    shares = pd.Series(labels).value_counts(sort=False).sort_values(ascending=False, kind="stable") / len(labels)
    return [(label, float(share)) for label, share in shares.items() if label != own][:9]


def queue(data: ExplorerData, view: ClusterView) -> list[int]:
    """The review queue: points with a proposal, most suspicious first (the Label audit table's order)."""
    return [data.point_of_id[g] for g in corrections_table(data, view)["gravityspy_id"]]


def step(order: list[int], current: int | None, delta: int) -> int | None:
    """The point ``delta`` places from ``current`` in ``order`` (its first, if ``current`` is not in it)."""
    if not order:
        return None
    if current not in order:
        return order[0] if delta >= 0 else order[-1]
    return order[max(0, min(len(order) - 1, order.index(current) + delta))]


def render_status(decision: pd.Series | None, message: str = "", options: list[tuple[str, float]] = ()) -> list[Any]:
    """The status line: the decision in force on the glitch (who, what, when), what just happened, the key choices."""
    parts: list[Any] = []
    if decision is None:
        parts.append(html.Span("No decision on this glitch yet.", className="text-muted"))
    else:
        label = f" → {decision['new_label']}" if decision["action"] in ("accept", "relabel") else ""
        parts.append(
            html.Span(
                [
                    html.Strong(f"{_PAST[decision['action']]}{label}"),
                    f" by {decision['reviewer']} at {str(decision['decided_at'])[:19].replace('T', ' ')} UTC",
                ],
                className="decision-current",
            )
        )
    if message:
        parts.append(html.Div(message, className="text-danger decision-message"))
    if options:
        keys = " · ".join(f"{n} {label} ({share:.0%})" for n, (label, share) in enumerate(options, start=1))
        parts.append(html.Div(f"Keys: j/k next/previous · a accept · r reject · u undo · {keys}",
                              className="text-muted queue-keys"))  # fmt: skip
    return parts


def _evidence(data: ExplorerData, point: int, cluster: int) -> dict[str, Any]:
    """What the curator saw when deciding: the proposal, its evidence and the glitch's place in the clustering."""
    row = data.points.iloc[point]
    return {
        "proposed_label": str(row["proposed_label"]),
        "suspicion": None if pd.isna(row["suspicion"]) else round(float(row["suspicion"]), 4),
        "evidence": str(row["evidence"]),
        "cluster": int(cluster),
    }


def decide(data: ExplorerData, point: int, action: str, reviewer: str, *, note: str, new_label: str | None,
           raw_params: dict | None) -> str:  # fmt: skip
    """Record one decision on ``point``; return an error message for the curator, or "" when stored."""
    if isinstance(data.review, ReviewOff):
        return data.review.reason
    row = data.points.iloc[point]
    view = data.view_for(raw_params)
    if action == "accept":
        if row["proposed_label"] == row["label"]:
            return "There is no proposal to accept: the neighbours agree with the label. Use Reject to confirm it."
        new_label = str(row["proposed_label"])
    elif action == "relabel" and not new_label:
        return "Choose the label to set first."
    try:
        data.review.decide([_new_decision(data, view, point, action, new_label, reviewer, note)])
    except (ReviewError, ReviewTrouble) as exc:
        return str(exc)
    return ""


def _new_decision(data: ExplorerData, view: ClusterView, point: int, action: str, new_label: str | None,
                  reviewer: str | None, note: str | None = "") -> NewDecision:  # fmt: skip
    """A decision on ``point`` under ``view``: the label it keeps unless it relabels, and the evidence on screen."""
    row = data.points.iloc[point]
    return NewDecision(
        gravityspy_id=str(row["gravityspy_id"]),
        action=action,
        old_label=str(row["label"]),
        new_label=new_label if action in ("accept", "relabel") and new_label else str(row["label"]),
        reviewer=reviewer or "",
        run_id=data.run_id,
        cluster_params=view.params.as_dict(),
        evidence=_evidence(data, point, int(view.labels[point])),
        note=note or "",
    )


def bulk_bar(data: ExplorerData, scope: str, points: np.ndarray) -> html.Div:
    """Buttons deciding for every glitch of a cluster or a selection at once (one batch: one undo)."""
    proposed = int((data.points["proposed_label"].to_numpy()[points] != data.points["label"].to_numpy()[points]).sum())
    off = isinstance(data.review, ReviewOff)
    return html.Div(
        [
            html.Span(f"Decide for all {len(points)}: ", className="small"),
            *(
                dbc.Button(
                    text,
                    id=ids.bulk_button(scope, action),
                    size="sm",
                    color=colour,
                    outline=True,
                    disabled=off or (needs_proposal and not proposed),
                )
                for action, text, colour, needs_proposal in (
                    ("accept", f"Accept the {proposed} proposals", "success", True),
                    ("reject", f"Reject the {proposed} proposals", "secondary", True),
                    ("new_class", "Flag all as a candidate new class", "warning", False),
                )
            ),
        ],
        className="d-flex flex-wrap gap-1 align-items-center my-1 bulk-bar",
    )


def bulk_decide(
    data: ExplorerData, points: np.ndarray, action: str, reviewer: str | None, raw: dict | None
) -> tuple[str, bool]:
    """Decide ``action`` for ``points`` in one batch (accept and reject: those with a proposal); say what happened."""
    if isinstance(data.review, ReviewOff):
        return data.review.reason, False
    view = data.view_for(raw)
    if action in ("accept", "reject"):
        points = points[(data.points["proposed_label"].to_numpy()[points] != data.points["label"].to_numpy()[points])]
    proposed = data.points["proposed_label"].to_numpy()
    decisions = [
        _new_decision(data, view, int(p), action, str(proposed[p]) if action == "accept" else None, reviewer)
        for p in points
    ]
    try:
        data.review.decide(decisions)
    except (ReviewError, ReviewTrouble) as exc:
        return str(exc), False
    return f"{_PAST[action].capitalize()}: {len(decisions)} glitches in one batch (Undo my last takes it back).", True


def undo(data: ExplorerData, reviewer: str | None) -> str:
    """Undo the reviewer's latest batch; return a message for the curator, or "" when done."""
    if isinstance(data.review, ReviewOff):
        return data.review.reason
    try:
        return "" if data.review.undo_last(reviewer or "") else "Nothing of yours to undo."
    except (ReviewError, ReviewTrouble) as exc:
        return str(exc)


def register(app: Any, data: ExplorerData) -> None:
    """The bar's callback (decide, undo, show the glitch's decision) and the decisions' downloads."""

    @app.callback(
        Output(ids.DECISION_STATUS, "children"),
        Output(ids.REVIEW_TICK, "data"),
        Input(ids.SELECTED_POINT, "data"),
        *(Input(button, "n_clicks") for button in _ACTIONS),
        Input(ids.UNDO_DECISION, "n_clicks"),
        State(ids.REVIEWER, "value"),
        State(ids.DECISION_NOTE, "value"),
        State(ids.RELABEL_TO, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def on_decision(point, *args):
        reviewer, note, new_label, raw, tick = args[-5:]
        if isinstance(data.review, ReviewOff):
            return data.review.reason, no_update
        point = int(point) if point is not None and 0 <= int(point) < data.n_points else None
        trigger, message = ctx.triggered_id, ""
        if trigger == ids.UNDO_DECISION:
            message = undo(data, reviewer)
        elif trigger in _ACTIONS and point is not None:
            message = decide(data, point, _ACTIONS[trigger], reviewer, note=note, new_label=new_label, raw_params=raw)
        elif point is None:
            return no_update, no_update
        changed = trigger != ids.SELECTED_POINT and not message
        tick = (tick or 0) + 1 if changed else no_update
        if point is None:  # an undo with no glitch open
            return message or "Undone.", tick
        gravityspy_id = str(data.points["gravityspy_id"].iat[point])
        try:
            decision = decision_of(data, gravityspy_id)
        except ReviewTrouble as exc:
            return str(exc), tick
        return render_status(decision, message, choices(data, point)), tick

    register_queue(app, data)
    register_bulk(app, data)

    @app.callback(
        Output(ids.DECISIONS_DOWNLOAD, "data"),
        Input(ids.EXPORT_DECISIONS_CSV, "n_clicks"),
        Input(ids.EXPORT_DECISIONS_JSON, "n_clicks"),
        prevent_initial_call=True,
    )
    def download_decisions(_csv, _json):
        if isinstance(data.review, ReviewOff) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        try:
            if ctx.triggered_id == ids.EXPORT_DECISIONS_JSON:
                return dcc.send_string(data.review.export_json(), "decisions.json", type="application/json")
            return dcc.send_string(data.review.export_csv(), "decisions.csv", type="text/csv")
        except ReviewTrouble as exc:
            log.warning("decisions not exported: %s", exc)
            return no_update


def _key_action(data: ExplorerData, point: int, key: str) -> tuple[str, str | None]:
    """The action and label a decision key stands for on ``point`` (1-9: the n-th choice)."""
    if key == "a":
        return "accept", None
    if key == "r":
        return "reject", None
    options = choices(data, point)
    n = int(key) - 1
    return ("relabel", options[n][0]) if n < len(options) else ("relabel", None)


def register_queue(app: Any, data: ExplorerData) -> None:
    """The keyboard queue: a key pressed anywhere but in a field moves along the queue or decides."""

    @app.callback(
        Output(ids.SELECTED_POINT, "data", allow_duplicate=True),
        Output(ids.TABS, "active_tab", allow_duplicate=True),
        Output(ids.REVIEW_TICK, "data", allow_duplicate=True),
        Output(ids.QUEUE_STATUS, "children"),
        Input(ids.REVIEW_KEY, "data"),
        State(ids.SELECTED_POINT, "data"),
        State(ids.REVIEWER, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def on_key(pressed, point, reviewer, raw, tick):
        key = (pressed or {}).get("key")
        order = queue(data, data.view_for(raw))
        current = int(point) if point is not None and 0 <= int(point) < data.n_points else None
        if key in ("j", "k"):
            target = step(order, current, 1 if key == "j" else -1)
            return target, ids.TAB_GLITCH, no_update, _where(order, target)
        if key == "u" or current is None:
            message = undo(data, reviewer) if key == "u" else ""
            if message:
                return no_update, no_update, no_update, message
            return no_update, no_update, (tick or 0) + 1, _where(order, current)
        action, label = _key_action(data, current, key)
        message = decide(data, current, action, reviewer, note="", new_label=label, raw_params=raw)
        if message:
            return no_update, no_update, no_update, message
        target = step(order, current, 1)
        return target, ids.TAB_GLITCH, (tick or 0) + 1, _where(order, target)


def _where(order: list[int], point: int | None) -> str:
    return f"queue: glitch {order.index(point) + 1} of {len(order)}" if point in order else ""


def register_bulk(app: Any, data: ExplorerData) -> None:
    """Bulk decisions from the cluster panel and the selection panel."""

    @app.callback(
        Output(ids.BULK_STATUS, "children"),
        Output(ids.REVIEW_TICK, "data", allow_duplicate=True),
        Input({"type": ids.BULK, "scope": ALL, "action": ALL}, "n_clicks"),
        State(ids.SELECTED_CLUSTER, "data"),
        State(ids.MAP, "selectedData"),
        State(ids.REVIEWER, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def on_bulk(_clicks, cluster, selected, reviewer, raw, tick):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update
        if trigger["scope"] == "cluster":
            if cluster is None:
                return no_update, no_update
            points = np.flatnonzero(data.view_for(raw).labels == int(cluster))
        else:
            points = np.asarray(points_of(selected, data.n_points), dtype=int)
        message, stored = bulk_decide(data, points, trigger["action"], reviewer, raw)
        return message, (tick or 0) + 1 if stored else no_update
