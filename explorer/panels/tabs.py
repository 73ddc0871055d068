"""The tabs beside the map: each opens at its top.

The right column has one scroll region, the open tab's content (``assets/explorer.css``), shared by every tab;
without this, a tab opened after scrolling another would open half-way down.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output

from .. import ids
from ..data import ExplorerData

__all__ = ["register"]

#: In the browser: scroll the tabs' content to its top whenever another tab opens (by a click or a callback).
_TO_TOP = """
function (active) {
    const content = document.querySelector('.side-tabs .tab-content');
    if (content) { content.scrollTop = 0; }
    return window.dash_clientside.no_update;
}
"""


def register(app: Any, data: ExplorerData) -> None:
    app.clientside_callback(_TO_TOP, Output(ids.TAB_SCROLL, "data"), Input(ids.TABS, "active_tab"))
