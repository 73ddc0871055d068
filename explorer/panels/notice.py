"""The notice above the tabs: what a decision, a batch or an undo just did, and a bulk action's question.

Every panel that decides writes one message to the ``NOTICE`` store (`notice`);
this panel draws it, whatever tab is open, and closes it when it no longer
applies: a message about one glitch when another is shown, any message when
the next one arrives, a success after a few seconds. The bulk panel's question
(`explorer.panels.bulk`) sits here too, so the answer buttons are where the
curator looks.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, ctx, dcc, html, no_update

from .. import ids
from ..data import ExplorerData

__all__ = ["layout", "notice", "register"]

#: How long a success stays up (ms); an error or a question stays until answered or replaced.
SUCCESS_MS = 12_000


def notice(text: str, colour: str = "success", point: int | None = None) -> dict[str, Any]:
    """A message for the curator (``colour``: success, info, danger), about ``point`` if it concerns one glitch."""
    return {"text": text, "colour": colour, "point": point}


def layout(data: ExplorerData) -> html.Div:
    """The message, and the bulk panel's question with its three answers (hidden until asked)."""
    prompt = html.Div(
        [
            html.Span(id=ids.BULK_QUESTION),
            html.Div(
                [
                    dbc.Button(id=ids.BULK_SKIP_DECIDED, color="primary", size="sm"),
                    dbc.Button(id=ids.BULK_REPLACE, color="danger", outline=True, size="sm"),
                    dbc.Button("Cancel", id=ids.BULK_CANCEL, color="link", size="sm"),
                ],
                className="d-flex flex-wrap gap-1 mt-1",
            ),
        ],
        id=ids.BULK_PROMPT,
        className="bulk-prompt small",
        style={"display": "none"},
    )
    message = dbc.Alert(id=ids.REVIEW_MESSAGE, is_open=False, dismissable=True, className="py-1 px-2 mb-1 small")
    return html.Div([dcc.Store(id=ids.NOTICE), dcc.Store(id=ids.BULK_PENDING), message, prompt], id=ids.REVIEW_NOTICE)


def register(app: Any, data: ExplorerData) -> None:
    """Draw the notice; close it when the glitch it concerns is no longer shown."""

    @app.callback(
        Output(ids.REVIEW_MESSAGE, "children"),
        Output(ids.REVIEW_MESSAGE, "color"),
        Output(ids.REVIEW_MESSAGE, "is_open"),
        Output(ids.REVIEW_MESSAGE, "duration"),
        Input(ids.NOTICE, "data"),
        Input(ids.SELECTED_POINT, "data"),
        prevent_initial_call=True,
    )
    def show_notice(message, point):
        if not message:
            return no_update, no_update, False, None
        if f"{ids.NOTICE}.data" not in ctx.triggered_prop_ids:  # another glitch shown, no new message: a message
            # about one glitch no longer applies (an undo shows its glitch and says so at once: both change)
            about = message.get("point")
            return (no_update, no_update, False, None) if about is not None and about != point else (no_update,) * 4
        colour = message.get("colour", "info")
        return message.get("text", ""), colour, True, SUCCESS_MS if colour == "success" else None
