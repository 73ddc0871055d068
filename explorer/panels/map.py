"""The map panel: the UMAP scatter of every glitch, its colour modes and label filter, the hover preview, Find.

Recolouring and highlighting send a `dash.Patch` of the figure (colour codes,
a few highlighted points), never the coordinates again. The patches address
the traces by their role (`explorer.ids.MapTrace`), the order
`explorer.figures.map_figure` builds them in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, Patch, State, ctx, dcc, html, no_update

from .. import ids
from ..colors import label_colour
from ..components import Thumbnails, graph, swatch
from ..data import ExplorerData
from ..density import density_above, density_image, point_rgb, view_from
from ..events import point_of
from ..figures import REVIEW_MODES, Colouring, colouring, framed_range, map_figure, outside_frame, typed_array
from ..ids import MapTrace
from ..review import decisions_in_force, with_review

__all__ = [
    "emphasis_patch", "highlight_patch", "layout", "point_opacity", "recolour_patch", "register", "render_frame_note",
    "render_legend", "render_tooltip",
]  # fmt: skip

#: How the mode bar's camera saves the map: a PNG drawn by plotly.js in the browser, at twice the screen's pixels.
SAVED_PICTURE = {"format": "png", "filename": "gravityspy-map", "scale": 2}
#: Opacity of every point with nothing chosen; of points the label filter keeps and of those it hides;
#: of points outside a chosen cluster (greyed, still there for context).
_ALL, _SHOWN, _DIMMED, _CONTEXT = 0.8, 0.85, 0.04, 0.2


def layout(data: ExplorerData) -> dbc.Card:
    """The map card: colour mode, label filter and Find above the scatter; tooltip and legend."""
    initial = colouring("cluster", data.points, data.points["cluster"].to_numpy())
    controls = html.Div(
        [
            dbc.InputGroup(
                [
                    dbc.InputGroupText("Colour by"),
                    dbc.Select(
                        id=ids.COLOUR_BY,
                        options=[{"label": text, "value": mode} for mode, text in data.colour_modes.items()],
                        value="cluster",
                    ),
                ],
                size="sm",
                className="colour-by",
            ),
            dcc.Dropdown(
                id=ids.LABEL_FILTER,
                options=data.labels,
                multi=True,
                placeholder="Show only labels…",
                className="small label-filter",
            ),
            dbc.InputGroup(
                [
                    dbc.Input(id=ids.FIND_ID, placeholder="gravityspy_id", debounce=True),
                    dbc.Button("Find", id=ids.FIND_BUTTON, color="secondary"),
                ],
                size="sm",
                className="find-id",
            ),
        ],
        className="map-controls",
    )
    figure = map_figure(data.points, initial)
    view = first_view(data)
    if data.n_points > density_above():  # drawn as density from the start, never as 700,000 points first
        visible, images = density_state(data, lambda: initial, view)
        figure.update_traces(visible=visible, selector=MapTrace.POINTS)
        figure.update_layout(images=images)
    body = [
        dcc.Store(id=ids.MAP_VIEW, data=view),
        graph(
            figure,
            id=ids.MAP,
            clear_on_unhover=True,
            responsive=True,
            style={"minHeight": "300px"},
            # the camera saves the map as a PNG in the browser itself: nothing leaves the machine
            config={"scrollZoom": True, "toImageButtonOptions": SAVED_PICTURE},
        ),
        dcc.Tooltip(id=ids.MAP_TOOLTIP, direction="right", loading_text="loading…", zindex=2000),
        html.Div(render_legend(initial), id=ids.MAP_LEGEND, className="legend small"),
        html.Div(render_frame_note(data), id=ids.MAP_FRAME, className="small text-muted"),
        html.Div(id=ids.FIND_STATUS, className="small text-danger"),
    ]
    return dbc.Card([dbc.CardHeader(controls), dbc.CardBody(body, className="p-1")], className="h-100")


def first_view(data: ExplorerData) -> dict[str, list[float]]:
    """The map's first view: the framed ranges `map_figure` opens on."""
    return {"x": list(framed_range(data.points["x"].to_numpy())), "y": list(framed_range(data.points["y"].to_numpy()))}


def density_state(
    data: ExplorerData, colours: Callable[[], Colouring], view: dict[str, list[float]] | None
) -> tuple[bool, list]:
    """(points trace visible, ``layout.images``) for ``view`` (None: the whole map): the points themselves
    when at most `density_above` are in view, else a density image of them (`explorer.density`) in the
    ``colours()`` of the moment (asked for only then: a zoomed-in view needs no colouring of 700,000 points)."""
    x, y = data.points["x"].to_numpy(), data.points["y"].to_numpy()
    if view is None:
        view = {"x": [float(x.min()), float(x.max())], "y": [float(y.min()), float(y.max())]}
    (x0, x1), (y0, y1) = view["x"], view["y"]
    in_view = int(np.count_nonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)))
    if in_view <= density_above():
        return True, []
    return False, [density_image(x, y, point_rgb(colours()), (x0, x1), (y0, y1))]


def current_colouring(data: ExplorerData, raw: dict | None, mode: str) -> Colouring:
    """The colours a request's clustering parameters and colour mode ask for (an unknown mode: by cluster)."""
    mode = mode if mode in data.colour_modes else "cluster"
    return colouring(mode, points_for(data, mode), data.view_for(raw).labels)


def points_for(data: ExplorerData, mode: str) -> Any:
    """The points a colour mode reads: with the decisions in force for the review modes."""
    if mode not in REVIEW_MODES:
        return data.points
    current, _ = decisions_in_force(data.review)
    return with_review(data.points, current if current is not None else data.points.iloc[:0])


def render_frame_note(data: ExplorerData) -> str:
    """What the first view leaves out (a far island, stragglers), and how to see it; how a large map is drawn.

    Empty when the first view shows every glitch, one by one.
    """
    notes = []
    left_out = outside_frame(data.points)
    if left_out:
        notes.append(
            f"The first view frames {data.n_points - left_out:,} of {data.n_points:,} glitches; "
            "the mode bar's Autoscale shows all."
        )
    limit = density_above()
    if data.n_points > limit:
        notes.append(
            f"With more than {limit:,} glitches in view the map draws their density (each pixel the "
            "mean colour of its glitches); zoom in to see, hover and select them one by one."
        )
    return " ".join(notes)


def recolour_patch(colours: Colouring) -> Patch:
    """The figure patch for new colours (and nothing else: emphasis is `emphasis_patch`'s)."""
    patch = Patch()
    marker = patch["data"][MapTrace.POINTS]["marker"]
    for name, value in colours.marker.items():
        marker[name] = typed_array(value)
    return patch


def point_opacity(shown: np.ndarray | None, members: np.ndarray | None) -> float | np.ndarray:
    """Each point's opacity: the label filter's ``shown`` mask dims the rest; a chosen cluster's ``members`` mask greys the rest.

    Both may hold at once: a point the filter hides stays dim; among those it
    keeps, the cluster's members stand out and the others stay visible as context.
    """
    if shown is None and members is None:
        return _ALL
    n = len(shown) if shown is not None else len(members)
    opacity = np.full(n, _SHOWN, dtype=np.float32)
    if members is not None:
        opacity[~members] = _CONTEXT
    if shown is not None:
        opacity[~shown] = _DIMMED
    return opacity


def emphasis_patch(shown: np.ndarray | None, members: np.ndarray | None) -> Patch:
    """The figure patch for the points' opacity (`point_opacity`)."""
    patch = Patch()
    patch["data"][MapTrace.POINTS]["marker"]["opacity"] = typed_array(point_opacity(shown, members))
    return patch


def render_legend(colours: Colouring) -> list[html.Span]:
    """The legend under the map, one convention for every mode: a swatch, name and count per category, or a
    continuous value's colour ramp labelled low to high."""
    if colours.scale is not None:
        scale = colours.scale
        ramp = f"linear-gradient(to right, {', '.join(scale.colours)})"
        return [
            html.Span(
                [
                    html.Strong(scale.title),
                    html.Span(scale.ticks[0][1]),
                    html.Span(
                        className="legend-ramp",
                        style={"background": ramp},
                        title=" · ".join(text for _, text in scale.ticks),
                    ),
                    html.Span(scale.ticks[-1][1]),
                    html.Span(scale.missing, className="text-muted") if scale.missing else None,
                ],
                className="legend-scale legend-item",
            )
        ]
    return [
        html.Span([swatch(colour), f"{name} ({count})"], className="legend-item")
        for name, colour, count in colours.legend
    ]


def highlight_patch(data: ExplorerData, members: np.ndarray | None, point: int | None) -> Patch:
    """The figure patch outlining a cluster's ``members`` (a mask, or None) and ringing one ``point`` (or None)."""
    patch = Patch()
    cluster, glitch = patch["data"][MapTrace.CLUSTER], patch["data"][MapTrace.GLITCH]
    if members is not None:
        cluster["x"] = typed_array(data.points["x"].to_numpy()[members].astype(np.float32))
        cluster["y"] = typed_array(data.points["y"].to_numpy()[members].astype(np.float32))
    else:
        cluster["x"], cluster["y"] = [], []
    if point is not None:
        glitch["x"], glitch["y"] = [float(data.points["x"].iat[point])], [float(data.points["y"].iat[point])]
    else:
        glitch["x"], glitch["y"] = [], []
    return patch


def render_tooltip(data: ExplorerData, thumbs: Thumbnails, point: int, cluster: int) -> html.Div:
    """What hovering a point shows: label, id, detector, cluster, suspicion, proposal, and its four windows."""
    row = data.points.iloc[point]
    proposal = f" · proposed {row['proposed_label']}" if row["proposed_label"] != row["label"] else ""
    windows = [
        html.Figure([thumbs.window(w, k, cls="tip-img"), html.Figcaption(f"{w} s")], className="tip-window")
        for w, k in thumbs.windows(point)
    ]
    return html.Div(
        [
            html.Div(
                [
                    swatch(label_colour(row["label"])),
                    html.Strong(row["label"]),
                    html.Span(f" · {row['gravityspy_id']} · {row['ifo']}", className="text-muted"),
                ]
            ),
            html.Div(
                f"cluster {cluster if cluster >= 0 else 'noise'} · suspicion {row['suspicion']:.2f}{proposal}",
                className="small",
            ),
            html.Div(windows, className="tip-windows"),
        ],
        className="map-tip",
    )


def register(app: Any, data: ExplorerData) -> None:
    """The map's callbacks: recolour on a new clustering, mode or filter; highlight the chosen; hover."""
    thumbs = Thumbnails(data, app.get_relative_path)

    @app.callback(
        Output(ids.MAP, "figure"),
        Output(ids.MAP_LEGEND, "children"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.COLOUR_BY, "value"),
        Input(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,  # the page opens with the figure and legend coloured by cluster already
    )
    def recolour(raw, mode, _tick):
        if ctx.triggered_id == ids.REVIEW_TICK and mode not in REVIEW_MODES:
            return no_update, no_update  # a decision changes only the review modes' colours
        colours = current_colouring(data, raw, mode)
        return recolour_patch(colours), render_legend(colours)

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input(ids.LABEL_FILTER, "value"),
        Input(ids.SELECTED_CLUSTER, "data"),
        Input(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def emphasis(shown_labels, cluster, raw):
        shown = data.points["label"].isin(shown_labels).to_numpy() if shown_labels else None
        members = data.view_for(raw).labels == int(cluster) if cluster is not None else None
        return emphasis_patch(shown, members if members is not None and members.any() else None)

    if data.n_points > density_above():
        _register_density(app, data)

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input(ids.SELECTED_CLUSTER, "data"),
        Input(ids.SELECTED_POINT, "data"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def highlight(cluster, point, raw):
        members = data.view_for(raw).labels == int(cluster) if cluster is not None else None
        point = int(point) if point is not None and 0 <= int(point) < data.n_points else None
        return highlight_patch(data, members, point)

    @app.callback(
        Output(ids.MAP_TOOLTIP, "show"),
        Output(ids.MAP_TOOLTIP, "bbox"),
        Output(ids.MAP_TOOLTIP, "children"),
        Input(ids.MAP, "hoverData"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def hover(hover_data, raw):
        point = point_of(hover_data, data.n_points)
        if point is None:
            return False, no_update, no_update
        cluster = int(data.view_for(raw).labels[point])
        return True, hover_data["points"][0]["bbox"], render_tooltip(data, thumbs, point, cluster)


def _register_density(app: Any, data: ExplorerData) -> None:
    """The density layer's callbacks (maps of more than `density_above` points): follow the view; redraw."""

    @app.callback(
        Output(ids.MAP_VIEW, "data"),
        Input(ids.MAP, "relayoutData"),
        State(ids.MAP_VIEW, "data"),
        prevent_initial_call=True,
    )
    def follow_view(relayout, view):
        moved = view_from(relayout, view)
        return no_update if moved == view else moved

    @app.callback(
        Output(ids.MAP, "figure", allow_duplicate=True),
        Input(ids.MAP_VIEW, "data"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.COLOUR_BY, "value"),
        Input(ids.REVIEW_TICK, "data"),
        prevent_initial_call=True,
    )
    def redraw(view, raw, mode, _tick):
        visible, images = density_state(data, lambda: current_colouring(data, raw, mode), view)
        patch = Patch()
        patch["data"][MapTrace.POINTS]["visible"] = visible
        patch["layout"]["images"] = images
        return patch
