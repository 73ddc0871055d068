"""Small pieces the panels share. `graph` is the only way the dashboard makes a `dcc.Graph`.

Every figure goes through `graph`, which applies `PRIVATE_CONFIG`: Plotly's
mode bar offers no way to send a figure off the machine. plotly.js 4 adds a
"Share chart…" button (``sendChartToCloud``) by default, which opens Plotly
Cloud in a new window and hands it the figure; Gravity Spy data is often not
yet public. ``tests/test_no_outside_origin.py`` holds the guarantee in a real
browser, and a test fails if any module makes a `dcc.Graph` another way.
"""

from __future__ import annotations

from typing import Any

from dash import dcc

__all__ = ["PRIVATE_CONFIG", "graph"]

#: Plotly config keys that keep a figure on the machine; `graph` applies them over anything a caller asks for.
#: Keys plotly.js does not know are ignored by it, so the Chart Studio-era ones guard an older or newer bundle.
PRIVATE_CONFIG: dict[str, Any] = {
    "showSendToCloud": False,  # "Share chart…": uploads the figure to Plotly Cloud (on by default in plotly.js 4)
    "plotlyServerURL": "",  # where that button would send it: nowhere, even if a button came back
    "showEditInChartStudio": False,  # "Edit in Chart Studio" (plotly.js 1-2)
    "showLink": False,  # the "Edit chart" link-out (plotly.js 1)
    "sendData": False,
    "displaylogo": False,  # the Plotly logo links to plotly.com
}
#: Mode-bar buttons that send a figure elsewhere, removed by name as well.
_SENDING_BUTTONS = ("sendChartToCloud", "sendDataToCloud", "editInChartStudio")


def graph(figure: Any, *, config: dict[str, Any] | None = None, **props: Any) -> dcc.Graph:
    """A `dcc.Graph` of ``figure`` whose mode bar cannot send it anywhere.

    ``config`` adds Plotly options (``scrollZoom``, buttons to remove, ...); the
    keys of `PRIVATE_CONFIG` always win. Other keyword arguments go to `dcc.Graph`.
    """
    merged = {**(config or {}), **PRIVATE_CONFIG}
    removed = [*merged.get("modeBarButtonsToRemove", []), *_SENDING_BUTTONS]
    merged["modeBarButtonsToRemove"] = list(dict.fromkeys(removed))
    return dcc.Graph(figure=figure, config=merged, **props)
