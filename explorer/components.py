"""Small pieces the panels share: graphs, thumbnails, colour swatches, CSV exports.

`graph` is the only way the dashboard makes a `dcc.Graph`. It applies
`PRIVATE_CONFIG`, so that Plotly's mode bar offers no way to send a figure off
the machine: plotly.js 4 adds a "Share chart…" button (``sendChartToCloud``) by
default, which opens Plotly Cloud in a new window and hands it the figure, and
Gravity Spy data is often not yet public. ``tests/test_no_outside_origin.py``
holds the guarantee in a real browser, and fails if any module makes a
`dcc.Graph` another way.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from dash import dcc, html

from precompute.plotarea import FREQUENCY_RANGE_HZ

from . import ids
from .colors import label_colour

if TYPE_CHECKING:
    from .data import ClusterView, ExplorerData

__all__ = [
    "GRID_COLUMN_DEFAULTS", "PRIVATE_CONFIG", "Thumbnails", "csv_download", "graph", "paged_grid", "spectrogram_axes",
    "swatch", "with_params",
]  # fmt: skip

#: Every table's column defaults. Headers wrap onto two lines instead of being cut to "Pur…", so each name
#: stays readable at 1440 px; the header menu is left out (sorting and filters are on the header itself).
GRID_COLUMN_DEFAULTS: dict[str, object] = {
    "sortable": True, "resizable": True, "suppressHeaderMenuButton": True, "wrapHeaderText": True,
    "autoHeaderHeight": True,
}  # fmt: skip

def paged_grid(grid_id: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]], page_rows: int,
               **props: Any) -> Any:  # fmt: skip
    """A sortable table, one row chosen at a time, that sizes itself to a page of ``page_rows`` rows and to its
    column's width: it never scrolls inside the tab that holds it (one scrollbar per region)."""
    import dash_ag_grid as dag

    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        defaultColDef=GRID_COLUMN_DEFAULTS,
        columnSize="responsiveSizeToFit",
        dashGridOptions={
            "rowSelection": {"mode": "singleRow", "checkboxes": False, "enableClickSelection": True},
            "animateRows": False,
            "rowHeight": 28,
            "tooltipShowDelay": 300,
            "domLayout": "autoHeight",
            "pagination": True,
            "paginationPageSize": page_rows,
            "paginationPageSizeSelector": False,
        },
        style={"width": "100%"},
        className="ag-theme-alpine compact-grid",
        **props,
    )


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


def swatch(colour: str) -> html.Span:
    """A small square of ``colour``, before a label's or a cluster's name."""
    return html.Span(className="swatch", style={"background": colour})


#: Frequencies labelled on a preview's axis (Hz): Gravity Spy's octaves.
FREQUENCY_TICKS_HZ = (16, 32, 64, 128, 256, 512, 1024)
#: Image kinds whose previews are exactly Gravity Spy's plot area (`precompute.io.dataset.IMAGE_KINDS`), so that
#: axes can be drawn round them; a generic image folder's pictures have unknown axes.
KINDS_WITH_AXES = frozenset({"figure", "hdf5"})


def spectrogram_axes(image: Any, window: str, *, ticks_s: int = 3) -> html.Div:
    """A preview of Gravity Spy's plot area with its axes drawn round it, as Gravity Spy draws them: frequency in Hz
    on a log2 scale (10-2048 Hz, `precompute.plotarea.FREQUENCY_RANGE_HZ`) on the left, time in seconds about the
    glitch (``window`` wide) below, ``ticks_s`` labels on it."""
    low, high = (math.log2(f) for f in FREQUENCY_RANGE_HZ)
    seconds = float(window)
    frequency = [
        html.Span(f"{f:g}", className="tick", style={"top": f"{(high - math.log2(f)) / (high - low):.1%}"})
        for f in FREQUENCY_TICKS_HZ
    ]
    stops = [i / (ticks_s - 1) for i in range(ticks_s)]
    time = [
        html.Span(
            f"{seconds * (at - 0.5):g}" + (" s" if at == 1 else ""),
            className="tick",
            # the end labels stay over the image (left- and right-aligned), so nothing spills out of its column
            style={"left": f"{at:.1%}", "transform": f"translateX({-100 * at:.0f}%)"},
        )
        for at in stops
    ]
    return html.Div(
        [
            html.Div(frequency, className="y-axis", title="frequency (Hz, log scale)"),
            image,
            html.Div(time, className="x-axis", title="time from the glitch (s)"),
        ],
        className="spectrogram",
    )


@dataclass(frozen=True)
class Thumbnails:
    """Preview images of a run's glitches, with URLs relative to wherever the app is mounted.

    ``relative_path`` is the app's ``get_relative_path`` (``"/previews/..."`` →
    ``"/prefix/previews/..."``); tests pass a plain function and need no server.
    """

    data: ExplorerData
    relative_path: Callable[[str], str]

    def url(self, key: str, size: str = "thumb") -> str:
        """The URL of one preview (``size`` thumb or detail), served by `explorer.server`."""
        return self.relative_path(f"/previews/{size}/{key}.webp")

    def windows(self, point: int) -> list[tuple[str, str]]:
        """(window, preview key) of every time window of ``point``'s glitch, in window order."""
        return self.data.image_keys(point)

    def image(self, key: str, *, title: str = "", size: str = "thumb", cls: str = "thumb") -> html.Img:
        return html.Img(src=self.url(key, size), title=title, className=cls)

    def window(self, window: str, key: str, *, size: str = "thumb", cls: str = "thumb", ticks_s: int = 3) -> Any:
        """One window's preview with its time and frequency axes, where the run's images are Gravity Spy's plot
        area (`KINDS_WITH_AXES`); the bare image otherwise."""
        image = self.image(key, title=f"{window} s", size=size, cls=cls)
        return spectrogram_axes(image, window, ticks_s=ticks_s) if self.data.image_kinds <= KINDS_WITH_AXES else image

    def glitch(self, point: int, *, caption: bool = True, place: str | None = None) -> html.Div:
        """One glitch as its 1 s window (or its first), with its label under it; a click opens it when it has a
        ``place`` (where on the page it is: `explorer.ids.goto_point`)."""
        row = self.data.points.iloc[point]
        windows = self.windows(point)
        key = next((k for w, k in windows if w == "1.0"), windows[0][1] if windows else "")
        body: list[Any] = [self.image(key, title=f"{row['gravityspy_id']} · {row['label']}")]
        if caption:
            body.append(
                html.Div(
                    row["label"],
                    className="thumb-caption",
                    style={"borderTop": f"3px solid {label_colour(row['label'])}"},
                )
            )
        props: dict[str, Any] = {"className": "thumb-box"}
        if place is not None:
            props.update(id=ids.goto_point(point, place), n_clicks=0, role="button")
        return html.Div(body, **props)

    def row(self, points: Any, *, place: str, caption: bool = True, cls: str = "thumb-row") -> html.Div:
        """Clickable thumbnails of ``points`` side by side, at ``place`` on the page (one name per row)."""
        return html.Div([self.glitch(int(p), caption=caption, place=place) for p in points], className=cls)


def with_params(table: pd.DataFrame, view: ClusterView) -> pd.DataFrame:
    """Add the clustering parameters as columns, so an export says what produced it."""
    p = view.params
    return table.assign(
        min_cluster_size=p.min_cluster_size,
        min_samples=p.min_samples,
        selection_method=p.selection_method,
        epsilon=p.epsilon,
    )


def csv_download(table: pd.DataFrame, filename: str) -> dict[str, Any]:
    """A `dcc.Download` payload of ``table`` as CSV."""
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    return dcc.send_string(buffer.getvalue(), filename, type="text/csv")
