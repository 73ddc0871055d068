"""Shareable links: the address bar carries the view, opening a link restores it, Back steps through views.

Two `dcc.Location`s keep the callback graph free of cycles: ``LINK_WRITE`` is
only ever written (each new view pushes a history entry) and ``LINK_READ`` is
only ever read (on opening a page, on Back and Forward, and after each push,
which ``refresh="callback-nav"`` announces). Restoring a view that is already
shown changes nothing, so a push never echoes back as a second one. The query's
form is `explorer.links`.
"""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update

from .. import ids
from ..data import ExplorerData
from ..links import LinkedView, read_link, write_link

__all__ = ["layout", "register", "restore_outputs"]


def layout(data: ExplorerData) -> html.Div:
    """The two locations and the note on what of an opened link could not be used."""
    return html.Div(
        [
            dcc.Location(id=ids.LINK_READ, refresh=False),
            dcc.Location(id=ids.LINK_WRITE, refresh="callback-nav"),
            dbc.Alert(
                id=ids.LINK_ALERT,
                color="info",
                dismissable=True,
                is_open=False,
                duration=20_000,
                className="m-2 py-1 small",
            ),
        ]
    )


def _changed(new: Any, old: Any) -> Any:
    return no_update if new == old else new


def restore_outputs(view: LinkedView, shown: dict[str, Any]) -> tuple[Any, ...]:
    """What the restore callback sets: only what differs from what is ``shown`` (so restoring is idempotent).

    ``shown`` holds the page's point, cluster, params, colour and min_samples
    box. Returns (point, cluster, params, colour, mcs, method, epsilon,
    min_samples box, active tab, alert text, alert open).
    """
    params = view.params
    point, cluster = _changed(view.point, shown["point"]), _changed(view.cluster, shown["cluster"])
    params_out = _changed(params, shown["params"])
    controls: tuple[Any, ...] = (no_update,) * 3
    if params_out is not no_update:
        controls = (params["min_cluster_size"], params["selection_method"], params["epsilon"])
    box = view.min_samples_asked if view.min_samples_asked is not None else params["min_samples"]
    tab = no_update
    if point is not no_update and view.point is not None:
        tab = ids.TAB_GLITCH
    elif cluster is not no_update and view.cluster is not None:
        tab = ids.TAB_CLUSTERS
    # a link's problems stay up (20 s, or until dismissed) when the view it restored is written back
    # without them: that second, clean restore must not close the note at once
    alert = "This link's " + "; ".join(view.problems) + "." if view.problems else no_update
    return (
        point,
        cluster,
        params_out,
        _changed(view.colour, shown["colour"]),
        *controls,
        _changed(box, shown["min_samples_box"]),
        tab,
        alert,
        True if view.problems else no_update,
    )


def register(app: Any, data: ExplorerData) -> None:
    """Restore the view a link asks for; write each new view to the address bar."""

    @app.callback(
        Output(ids.SELECTED_POINT, "data", allow_duplicate=True),
        Output(ids.SELECTED_CLUSTER, "data", allow_duplicate=True),
        Output(ids.CLUSTER_PARAMS, "data", allow_duplicate=True),
        Output(ids.COLOUR_BY, "value"),
        Output(ids.MCS_INPUT, "value", allow_duplicate=True),
        Output(ids.METHOD, "value", allow_duplicate=True),
        Output(ids.EPSILON, "value", allow_duplicate=True),
        Output(ids.MIN_SAMPLES, "value", allow_duplicate=True),
        Output(ids.TABS, "active_tab", allow_duplicate=True),
        Output(ids.LINK_ALERT, "children"),
        Output(ids.LINK_ALERT, "is_open"),
        Input(ids.LINK_READ, "search"),
        State(ids.SELECTED_POINT, "data"),
        State(ids.SELECTED_CLUSTER, "data"),
        State(ids.CLUSTER_PARAMS, "data"),
        State(ids.COLOUR_BY, "value"),
        State(ids.MIN_SAMPLES, "value"),
        prevent_initial_call="initial_duplicate",
    )
    def restore(search, point, cluster, params, colour, min_samples_box):
        shown = {
            "point": point,
            "cluster": cluster,
            "params": params,
            "colour": colour,
            "min_samples_box": min_samples_box,
        }
        return restore_outputs(read_link(data, search), shown)

    @app.callback(
        Output(ids.LINK_WRITE, "search"),
        Input(ids.SELECTED_POINT, "data"),
        Input(ids.SELECTED_CLUSTER, "data"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.COLOUR_BY, "value"),
        prevent_initial_call=True,
    )
    def write(point, cluster, params, colour):
        return write_link(data, point, cluster, params, colour)
