"""Deciding on a glitch's label: the decision bar of the Glitch tab, the keyboard queue, undo, and the export.

A curator names themself once (the header's "Reviewer" field, kept in the
browser), then accepts the proposed label, rejects it, sets another, or flags
a candidate new class, with an optional note. Each decision goes to the review
store (`explorer.review`, SQLite) with the evidence shown at that moment and
the clustering it was made under; "Undo my last" takes back the reviewer's
latest batch, says what it undid and shows the glitch. Where deciding is off (no
writable database) the bar says why and its buttons are disabled; browsing is
unaffected.

The note and the label belong to the glitch they were typed for: both empty
when another glitch is shown, and the server refuses a decision whose inputs
were typed for a glitch other than the one it is asked to decide on
(``DECISION_INPUTS_FOR``), so a note is never stored on the wrong glitch.

The queue is the Label audit table's order (most suspicious first). Its keys
(``assets/review-keys.js``): j/k next and previous, a accept, r reject, 1-9
set the glitch's n-th most common neighbour label, u undo; a decision moves on
to the next glitch, and the Glitch tab follows.
"""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update

from precompute.classes import KNOWN_LABELS

from .. import ids
from ..data import ClusterView, ExplorerData
from ..review import NewDecision, ReviewError, ReviewOff, ReviewTrouble
from .label_audit import corrections_table
from .notice import notice

__all__ = ["PAST", "bar", "choices", "decide", "decision_of", "new_decision", "queue", "register", "render_status", "step",
           "undo"]  # fmt: skip

log = logging.getLogger(__name__)


#: Buttons of the decision bar → the action each records.
_ACTIONS = {
    ids.DECIDE_ACCEPT: "accept",
    ids.DECIDE_REJECT: "reject",
    ids.DECIDE_RELABEL: "relabel",
    ids.DECIDE_NEW_CLASS: "new_class",
}
PAST = {"accept": "accepted", "reject": "rejected", "relabel": "relabelled", "new_class": "flagged as a new class"}


def bar(data: ExplorerData) -> html.Div:
    """The decision bar above the glitch: which glitch it decides on, four actions, a label to set, a note, undo.

    The actions start disabled: they come on when a glitch is shown (`follow_glitch`), and stay off, with the
    reason, where deciding is off.
    """
    off = data.review.reason if isinstance(data.review, ReviewOff) else None
    choices = sorted(set(KNOWN_LABELS) | set(data.labels))
    buttons = [
        dbc.Button("Accept proposal", id=ids.DECIDE_ACCEPT, color="success", size="sm", disabled=True,
                   title="store the proposed label as this glitch's label"),
        dbc.Button("Reject (label is right)", id=ids.DECIDE_REJECT, color="secondary", size="sm", disabled=True,
                   title="keep the current label: the neighbours are wrong about this one"),
        dbc.Button("Candidate new class", id=ids.DECIDE_NEW_CLASS, color="warning", size="sm", disabled=True,
                   title="a shape the taxonomy has no name for"),
        dbc.Button("Undo my last", id=ids.UNDO_DECISION, color="link", size="sm", disabled=bool(off),
                   title="take back your latest decision or batch (it stays in the history)"),
    ]  # fmt: skip
    relabel = dbc.InputGroup(
        [
            dbc.Select(id=ids.RELABEL_TO, options=[{"label": c, "value": c} for c in choices], placeholder="label…"),
            dbc.Button("Set label", id=ids.DECIDE_RELABEL, color="primary", disabled=True),
        ],
        size="sm",
        className="relabel-group",
    )
    note = dbc.Input(id=ids.DECISION_NOTE, placeholder="note (optional)", size="sm", maxLength=2000)
    return html.Div(
        [
            dcc.Store(id=ids.DECISION_INPUTS_FOR),
            html.Div(off or _CHOOSE_FIRST, id=ids.DECISION_FOR, className="small fw-bold mb-1"),
            html.Div([*buttons[:3], relabel, buttons[3]], className="decision-buttons"),
            note,
            html.Div(id=ids.DECISION_STATUS, className="small mt-1"),
            html.Div(id=ids.QUEUE_STATUS, className="small text-muted"),
        ],
        id=ids.DECISION_BAR,
        className="decision-bar",
    )


#: What the bar says while no glitch is shown.
_CHOOSE_FIRST = "Choose a glitch to decide on: click the map, a row of the Label audit, or press j."


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
    labels = [str(data.points["label"].iat[i]) for i, _ in data.neighbours(point, k=data.finding_params.k)]
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


def render_status(decision: pd.Series | None, options: list[tuple[str, float]] = ()) -> list[Any]:
    """The status line: the decision in force on the glitch (who, what, when), and the keys' choices.

    What just happened (an error, an undo) is the notice's (`explorer.panels.notice`), seen from every tab.
    """
    parts: list[Any] = []
    if decision is None:
        parts.append(html.Span("No decision on this glitch yet.", className="text-muted"))
    else:
        label = f" → {decision['new_label']}" if decision["action"] in ("accept", "relabel") else ""
        parts.append(
            html.Span(
                [
                    html.Strong(f"{PAST[decision['action']]}{label}"),
                    f" by {decision['reviewer']} at {str(decision['decided_at'])[:19].replace('T', ' ')} UTC",
                ],
                className="decision-current",
            )
        )
    if options:
        keys = " · ".join(f"{n} {label} ({share:.0%})" for n, (label, share) in enumerate(options, start=1))
        parts.append(html.Div(f"Keys: j/k next/previous · a accept · r reject · u undo · {keys}",
                              className="text-muted queue-keys"))  # fmt: skip
    return parts


def _evidence(data: ExplorerData, view: ClusterView, point: int) -> dict[str, Any]:
    """What the curator saw when deciding: the proposal, its evidence and the glitch's place in the clustering."""
    row = data.points.iloc[point]
    return {
        "proposed_label": str(row["proposed_label"]),
        "suspicion": None if pd.isna(row["suspicion"]) else round(float(row["suspicion"]), 4),
        "evidence": data.evidence([point], view)[0],
        "cluster": int(view.labels[point]),
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
        data.review.decide([new_decision(data, view, point, action, new_label, reviewer, note)])
    except (ReviewError, ReviewTrouble) as exc:
        return str(exc)
    return ""


def new_decision(data: ExplorerData, view: ClusterView, point: int, action: str, new_label: str | None,
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
        evidence=_evidence(data, view, point),
        note=note or "",
    )


def undo(data: ExplorerData, reviewer: str | None) -> tuple[dict[str, Any], int | None]:
    """Undo the reviewer's latest batch: the notice saying what was undone, and the glitch to show (one glitch
    undone: that one; a batch: None). Nothing undone, or an error: the notice says why."""
    if isinstance(data.review, ReviewOff):
        return notice(data.review.reason, "danger"), None
    try:
        undone = data.review.undo_last_batch(reviewer or "")
    except (ReviewError, ReviewTrouble) as exc:
        return notice(str(exc), "danger"), None
    if undone.empty:
        return notice("Nothing of yours to undo.", "info"), None
    first = undone.iloc[0]
    if len(undone) > 1:
        return notice(f"Undone: {len(undone)} decisions of your batch ({PAST[first['action']]}).", "success"), None
    gid = str(first["gravityspy_id"])
    label = f" → {first['new_label']}" if first["action"] in ("accept", "relabel") else ""
    point = data.point_of_id.get(gid)
    now = decision_of(data, gid)
    in_force = "no decision" if now is None else f"{PAST[now['action']]} by {now['reviewer']}"
    text = f"Undone: your {first['action'].replace('_', ' ')} of {gid}{label}. In force on it now: {in_force}."
    return notice(text, "success", point), point


def register(app: Any, data: ExplorerData) -> None:
    """The bar's callbacks (follow the glitch shown, decide, undo) and the decisions' downloads."""

    @app.callback(
        Output(ids.DECISION_NOTE, "value"),
        Output(ids.RELABEL_TO, "value"),
        Output(ids.DECISION_INPUTS_FOR, "data"),
        Output(ids.DECISION_FOR, "children"),
        *(Output(button, "disabled") for button in _ACTIONS),
        Input(ids.SELECTED_POINT, "data"),
        prevent_initial_call=True,  # the bar opens disabled, saying how to choose a glitch
    )
    def follow_glitch(point):
        """A new glitch shown: empty note and label (they are typed for one glitch), and say which it is."""
        point = _valid(data, point)
        off = data.review.reason if isinstance(data.review, ReviewOff) else None
        if point is None or off:
            return "", None, None, off or _CHOOSE_FIRST, *(True for _ in _ACTIONS)
        row = data.points.iloc[point]
        no_proposal = row["proposed_label"] == row["label"]
        disabled = [no_proposal if action == "accept" else False for action in _ACTIONS.values()]
        return "", None, str(row["gravityspy_id"]), f"Deciding on {row['gravityspy_id']} ({row['label']})", *disabled

    @app.callback(
        Output(ids.DECISION_STATUS, "children"),
        Output(ids.REVIEW_TICK, "data"),
        Output(ids.NOTICE, "data", allow_duplicate=True),
        Input(ids.SELECTED_POINT, "data"),
        *(Input(button, "n_clicks") for button in _ACTIONS),
        State(ids.REVIEWER, "value"),
        State(ids.DECISION_NOTE, "value"),
        State(ids.RELABEL_TO, "value"),
        State(ids.DECISION_INPUTS_FOR, "data"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def on_decision(point, *args):
        reviewer, note, new_label, inputs_for, raw, tick = args[-6:]
        point, trigger = _valid(data, point), ctx.triggered_id
        if point is None or isinstance(data.review, ReviewOff):
            return no_update, no_update, no_update
        gid = str(data.points["gravityspy_id"].iat[point])
        tick, message = no_update, no_update
        if trigger in _ACTIONS:
            if inputs_for != gid:  # the note and label on screen were typed for another glitch
                message = notice(
                    f"Not stored: the note and label were typed for glitch {inputs_for}, and the glitch shown is "
                    f"{gid}. Check them and press again.", "danger", point,
                )  # fmt: skip
            elif error := decide(data, point, _ACTIONS[trigger], reviewer, note=note, new_label=new_label,
                                 raw_params=raw):  # fmt: skip
                message = notice(error, "danger", point)
            else:
                tick, message = (args[-1] or 0) + 1, None  # stored: an earlier message no longer applies
        try:
            decision = decision_of(data, gid)
        except ReviewTrouble as exc:
            return str(exc), tick, message
        return render_status(decision, choices(data, point)), tick, message

    register_undo(app, data)
    register_queue(app, data)

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


def register_undo(app: Any, data: ExplorerData) -> None:
    """Undo my last: say what was undone and show the glitch (`undo`); a bulk question asked before is void."""

    @app.callback(
        Output(ids.NOTICE, "data", allow_duplicate=True),
        Output(ids.REVIEW_TICK, "data", allow_duplicate=True),
        Output(ids.SELECTED_POINT, "data", allow_duplicate=True),
        Output(ids.BULK_PENDING, "data", allow_duplicate=True),
        Input(ids.UNDO_DECISION, "n_clicks"),
        State(ids.REVIEWER, "value"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def on_undo(clicks, reviewer, tick):
        if not clicks:
            return no_update, no_update, no_update, no_update
        message, point = undo(data, reviewer)
        undone = message["colour"] == "success"
        return message, (tick or 0) + 1 if undone else no_update, point if point is not None else no_update, None


def _valid(data: ExplorerData, point: Any) -> int | None:
    """A point from the browser's store as a row of the run's points, or None."""
    try:
        point = int(point)
    except (TypeError, ValueError):
        return None
    return point if 0 <= point < data.n_points else None


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
    """The keyboard queue: a key pressed anywhere but in a field moves along the queue, decides or undoes."""

    @app.callback(
        Output(ids.SELECTED_POINT, "data", allow_duplicate=True),
        Output(ids.TABS, "active_tab", allow_duplicate=True),
        Output(ids.REVIEW_TICK, "data", allow_duplicate=True),
        Output(ids.QUEUE_STATUS, "children"),
        Output(ids.NOTICE, "data", allow_duplicate=True),
        Input(ids.REVIEW_KEY, "data"),
        State(ids.SELECTED_POINT, "data"),
        State(ids.REVIEWER, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        State(ids.DECISION_NOTE, "value"),
        State(ids.DECISION_INPUTS_FOR, "data"),
        prevent_initial_call=True,
    )
    def on_key(pressed, point, reviewer, raw, tick, note, inputs_for):
        key = (pressed or {}).get("key")
        order = queue(data, data.view_for(raw))
        current = _valid(data, point)
        if key in ("j", "k"):
            target = step(order, current, 1 if key == "j" else -1)
            return target, ids.TAB_GLITCH, no_update, _where(order, target), no_update
        if key == "u":
            message, undone = undo(data, reviewer)
            shown = undone if undone is not None else current
            ticked = (tick or 0) + 1 if message["colour"] == "success" else no_update
            tab = ids.TAB_GLITCH if undone is not None else no_update
            return undone if undone is not None else no_update, tab, ticked, _where(order, shown), message
        if current is None:
            return no_update, no_update, no_update, "Choose a glitch first: press j.", no_update
        gid = str(data.points["gravityspy_id"].iat[current])
        action, label = _key_action(data, current, key)
        typed = note if inputs_for == gid else ""  # a note typed for this glitch goes with it, never another's
        error = decide(data, current, action, reviewer, note=typed, new_label=label, raw_params=raw)
        if error:
            return no_update, no_update, no_update, _where(order, current), notice(error, "danger", current)
        target = step(order, current, 1)
        return target, ids.TAB_GLITCH, (tick or 0) + 1, _where(order, target), None


def _where(order: list[int], point: int | None) -> str:
    return f"queue: glitch {order.index(point) + 1} of {len(order)}" if point in order else ""
