"""Deciding for a whole cluster or selection at once: first a question, then one batch that one undo takes back.

A bulk button (the cluster panel's, the selection panel's) stores nothing. It
asks, in the notice above the tabs (`explorer.panels.notice`): how many
glitches the action covers, how many of them already carry a decision in force
and whose, and whether to leave those as they are (the default) or replace
them. Only the answer stores anything, and only if the glitches are still the
ones asked about: a selection changed in between, or another cut, is refused
with a word. A curator's careful relabel is never replaced unasked.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

import dash_bootstrap_components as dbc
import numpy as np
from dash import ALL, Input, Output, State, ctx, html, no_update

from .. import ids
from ..data import ExplorerData
from ..events import points_of
from ..review import ReviewError, ReviewOff, ReviewTrouble, decisions_in_force
from .notice import notice
from .review import PAST, new_decision

__all__ = ["BulkRequest", "bulk_bar", "bulk_decide", "bulk_request", "register", "render_question"]

#: What each bulk action says it does, in the question.
_DOES = {"accept": "Accept the proposals", "reject": "Reject the proposals",
         "new_class": "Flag as a candidate new class"}  # fmt: skip
#: Decisions named in the question, at most.
_NAMED = 3


def bulk_bar(data: ExplorerData, scope: str, points: np.ndarray) -> html.Div:
    """Buttons deciding for every glitch of a cluster or a selection at once (each asks first: `bulk_request`)."""
    proposed = int(_proposed(data, points).sum())
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


def _proposed(data: ExplorerData, points: np.ndarray) -> np.ndarray:
    """Which of ``points`` carry a proposal (a proposed label other than their own)."""
    return data.points["proposed_label"].to_numpy()[points] != data.points["label"].to_numpy()[points]


def _targets(data: ExplorerData, points: np.ndarray, action: str) -> np.ndarray:
    """The glitches an action applies to: those with a proposal for accept and reject, all for new_class."""
    points = np.asarray(points, dtype=int)
    return points[_proposed(data, points)] if action in ("accept", "reject") else points


def _digest(data: ExplorerData, points: np.ndarray) -> str:
    """A short name of a set of glitches, to tell whether an answer is about the glitches asked about."""
    gids = np.sort(data.points["gravityspy_id"].astype(str).to_numpy()[points])
    return hashlib.sha256("\n".join(gids).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BulkRequest:
    """A bulk action asked for and not yet answered (kept in the browser's ``BULK_PENDING`` store)."""

    scope: str  #: "cluster" or "selection"
    action: str
    where: str  #: "cluster 4" or "the selection", for the question and the answer
    cluster: int | None
    params: dict | None  #: the clustering the cluster was chosen in
    n: int  #: glitches the action applies to
    n_decided: int  #: of those, with a decision in force
    decided_by: str  #: who decided what, a few named
    digest: str  #: `_digest` of the glitches


def bulk_request(data: ExplorerData, scope: str, action: str, points: np.ndarray, *, cluster: int | None = None,
                 params: dict | None = None) -> BulkRequest:  # fmt: skip
    """The question a bulk button asks: how many glitches, how many already decided and by whom."""
    targets = _targets(data, points, action)
    gids = data.points["gravityspy_id"].astype(str).to_numpy()[targets]
    current, _ = decisions_in_force(data.review)
    decided = current[current["gravityspy_id"].isin(gids)] if current is not None else None
    named = [] if decided is None else [
        f"{row.reviewer}: {PAST[row.action]}{f' → {row.new_label}' if row.action in ('accept', 'relabel') else ''}"
        f" on {row.gravityspy_id}"
        for row in decided.head(_NAMED).itertuples()
    ]  # fmt: skip
    n_decided = 0 if decided is None else len(decided)
    if n_decided > _NAMED:
        named.append(f"and {n_decided - _NAMED} more")
    return BulkRequest(
        scope=scope, action=action, where=f"cluster {cluster}" if scope == "cluster" else "the selection",
        cluster=cluster, params=params, n=len(targets), n_decided=n_decided, decided_by="; ".join(named),
        digest=_digest(data, targets),
    )  # fmt: skip


def render_question(request: BulkRequest) -> tuple[str, str, str, dict]:
    """(question, skip button's text, replace button's text, the replace button's style) for ``request``."""
    question = f"{_DOES[request.action]}: {request.n} glitches of {request.where}. "
    if request.n_decided:
        has = "has" if request.n_decided == 1 else "have"
        question += f"{request.n_decided} already {has} a decision in force ({request.decided_by})."
        skip = f"Decide the {request.n - request.n_decided} without one"
        return question, skip, f"Replace all {request.n}", {}
    return question + "None has a decision yet.", f"Decide all {request.n}", "", {"display": "none"}


def bulk_decide(data: ExplorerData, points: np.ndarray, action: str, reviewer: str | None, raw: dict | None, *,
                decided: Literal["skip", "replace"]) -> tuple[str, bool]:  # fmt: skip
    """Decide ``action`` for ``points`` in one batch (accept and reject: those with a proposal); glitches with a
    decision in force are left as they are (``decided="skip"``) or replaced. Say what happened; whether stored."""
    if isinstance(data.review, ReviewOff):
        return data.review.reason, False
    view = data.view_for(raw)
    targets = _targets(data, points, action)
    skipped = 0
    if decided == "skip":
        current, trouble = decisions_in_force(data.review)
        if current is None:
            return trouble, False
        keep = ~np.isin(data.points["gravityspy_id"].astype(str).to_numpy()[targets], current["gravityspy_id"])
        targets, skipped = targets[keep], int((~keep).sum())
    proposed = data.points["proposed_label"].to_numpy()
    decisions = [
        new_decision(data, view, int(p), action, str(proposed[p]) if action == "accept" else None, reviewer)
        for p in targets
    ]
    try:
        data.review.decide(decisions)
    except (ReviewError, ReviewTrouble) as exc:
        return str(exc), False
    left = f"; {skipped} already decided left as they were" if skipped else ""
    return (
        f"{PAST[action].capitalize()}: {len(decisions)} glitches in one batch{left} (Undo my last takes it back).",
        bool(decisions),
    )


def _members(data: ExplorerData, scope: str, *, cluster: int | None, params: dict | None, selected: Any) -> np.ndarray:
    """The glitches a bulk action covers now: the cluster in the clustering of ``params``, or the map's selection."""
    if scope == "cluster":
        return np.flatnonzero(data.view_for(params).labels == int(cluster))
    return np.asarray(points_of(selected, data.n_points), dtype=int)


def register(app: Any, data: ExplorerData) -> None:
    """A bulk button asks (`bulk_request`); the answer decides (`bulk_decide`) or cancels."""

    @app.callback(
        Output(ids.BULK_PENDING, "data"),
        Output(ids.NOTICE, "data", allow_duplicate=True),
        Input({"type": ids.BULK, "scope": ALL, "action": ALL}, "n_clicks"),
        State(ids.SELECTED_CLUSTER, "data"),
        State(ids.MAP, "selectedData"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def ask(_clicks, cluster, selected, raw):
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update
        scope = trigger["scope"]
        if scope == "cluster" and cluster is None:
            return no_update, no_update
        cluster = int(cluster) if scope == "cluster" else None
        points = _members(data, scope, cluster=cluster, params=raw, selected=selected)
        request = bulk_request(data, scope, trigger["action"], points, cluster=cluster, params=raw)
        return asdict(request), None  # the question replaces any earlier message

    @app.callback(
        Output(ids.BULK_PROMPT, "style"),
        Output(ids.BULK_QUESTION, "children"),
        Output(ids.BULK_SKIP_DECIDED, "children"),
        Output(ids.BULK_REPLACE, "children"),
        Output(ids.BULK_REPLACE, "style"),
        Input(ids.BULK_PENDING, "data"),
        prevent_initial_call=True,
    )
    def show_question(pending):
        if not pending:
            return {"display": "none"}, "", "", "", {"display": "none"}
        question, skip, replace, replace_style = render_question(BulkRequest(**pending))
        return {}, question, skip, replace, replace_style

    @app.callback(
        Output(ids.BULK_PENDING, "data", allow_duplicate=True),
        Output(ids.NOTICE, "data", allow_duplicate=True),
        Output(ids.REVIEW_TICK, "data", allow_duplicate=True),
        Input(ids.BULK_SKIP_DECIDED, "n_clicks"),
        Input(ids.BULK_REPLACE, "n_clicks"),
        Input(ids.BULK_CANCEL, "n_clicks"),
        State(ids.BULK_PENDING, "data"),
        State(ids.MAP, "selectedData"),
        State(ids.REVIEWER, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def answer(_skip, _replace, _cancel, pending, selected, reviewer, raw, tick):
        if not pending or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update, no_update
        request = BulkRequest(**pending)
        if ctx.triggered_id == ids.BULK_CANCEL:
            return None, notice(f"Nothing decided for {request.where}.", "info"), no_update
        points = _members(data, request.scope, cluster=request.cluster, params=request.params, selected=selected)
        if _digest(data, _targets(data, points, request.action)) != request.digest:
            return None, notice(
                f"Nothing stored: the glitches of {request.where} changed since the question. Press the button again.",
                "danger",
            ), no_update  # fmt: skip
        decided = "replace" if ctx.triggered_id == ids.BULK_REPLACE else "skip"
        message, stored = bulk_decide(data, points, request.action, reviewer, request.params or raw, decided=decided)
        return None, notice(message, "success" if stored else "danger"), (tick or 0) + 1 if stored else no_update
