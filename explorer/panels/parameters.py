"""The parameters panel: HDBSCAN's knobs, the background tree rebuild, and the clustering's agreement with the labels.

A ``min_cluster_size``, method or epsilon change re-cuts the cached tree
within the request (`ExplorerData.view`); a ``min_samples`` change needs a new
tree, built in a background callback (`explorer.jobs`: a local process, or a
Celery worker when the cache is Redis) while the page stays usable. The
chosen parameters live in the browser (``CLUSTER_PARAMS``) and every other
panel follows them.
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, ctx, dcc, html, no_update

from .. import ids
from ..data import ClusterView, ExplorerData
from ..help import explained

__all__ = ["layout", "register", "render_metrics"]

#: The slider's top: half the points, at most 500 (larger values are typed into the box).
_SLIDER_MAX = 500
#: Marks on the slider, where they fall in its range.
_MARKS = (2, 5, 10, 20, 50, 100, 200, 500)


def slider_position(size: float) -> float:
    """Where a min_cluster_size sits on the slider: its log10, so each doubling is as long as the last."""
    return round(math.log10(max(float(size), 1.0)), 4)


def size_at(position: float) -> int:
    """The min_cluster_size at a slider position (`slider_position`'s inverse, to the nearest whole number)."""
    return max(2, round(10 ** float(position)))


def layout(data: ExplorerData) -> dbc.Card:
    """The re-cluster card: min_cluster_size (a log-scale slider and a box), eom/leaf, epsilon, min_samples with
    Rebuild, and the clustering's agreement with the labels. Every typed value applies on Enter."""
    p = data.run_params
    max_size = max(2, min(_SLIDER_MAX, data.n_points // 2))
    heading = html.Div(
        [
            html.Strong("Re-cluster (HDBSCAN on the map)"),
            dbc.Button("Reset to run's", id=ids.RESET_PARAMS, size="sm", color="link", className="py-0"),
        ],
        className="d-flex justify-content-between align-items-center",
    )
    size = html.Div(
        [
            dbc.Label(
                explained("min_cluster_size", "min_cluster_size"), html_for=ids.MCS_INPUT, className="small mb-0"
            ),
            html.Div(
                dcc.Slider(
                    id=ids.MCS_SLIDER,
                    min=slider_position(2),
                    max=slider_position(max_size),
                    step=0.001,
                    value=slider_position(min(p.min_cluster_size, max_size)),
                    marks={slider_position(m): str(m) for m in _MARKS if m <= max_size},
                    updatemode="mouseup",
                    allow_direct_input=False,
                ),
                className="mcs-slider",
            ),
            explained(
                dbc.Input(
                    id=ids.MCS_INPUT,
                    type="number",
                    min=2,
                    step=1,
                    value=p.min_cluster_size,
                    debounce=True,
                    size="sm",
                    className="mcs-input",
                ),
                "min_cluster_size",
            ),
        ],
        className="mcs-row",
    )
    method = dbc.RadioItems(
        id=ids.METHOD,
        options=[{"label": explained(m, m), "value": m} for m in ("eom", "leaf")],
        value=p.selection_method,
        inline=True,
        className="small",
    )
    epsilon = dbc.InputGroup(
        [
            dbc.InputGroupText(explained("epsilon", "epsilon")),
            dbc.Input(id=ids.EPSILON, type="number", min=0, step=0.05, value=p.epsilon, debounce=True),
        ],
        size="sm",
    )
    samples = dbc.InputGroup(
        [
            dbc.InputGroupText(explained("min_samples", "min_samples")),
            dbc.Input(id=ids.MIN_SAMPLES, type="number", min=1, step=1, value=p.min_samples),
            dbc.Button("Rebuild tree", id=ids.REBUILD, color="primary"),
        ],
        size="sm",
    )
    knobs = html.Div([method, epsilon, samples], className="knobs-row")
    status = [
        _source_switch(data),
        html.Div(id=ids.TREE_PROGRESS, className="small text-primary mt-1"),
        html.Div(id=ids.TREE_STATUS, className="small text-muted"),
        html.Div(render_metrics(data.view(data.run_params)), id=ids.CLUSTER_METRICS, className="small mt-1"),
    ]
    return dbc.Card(dbc.CardBody([heading, size, knobs, *status], className="py-2"), className="mb-2")


def _source_switch(data: ExplorerData) -> html.Div:
    """Which labels the cluster table and metrics compare with; shown only when the run has more than one source."""
    sources = data.label_sources
    return html.Div(
        [
            html.Span(explained("Compare clusters with", "label_source"), className="small me-2"),
            dbc.RadioItems(
                id=ids.LABEL_SOURCE,
                options=[{"label": text, "value": column} for column, text in sources.items()],
                value="label",
                inline=True,
                className="small d-inline-block",
            ),
        ],
        className="mt-1",
        style=None if len(sources) > 1 else {"display": "none"},
    )


def _fmt(value: float | None) -> str:
    """Two decimals, or a dash where a metric is undefined (e.g. everything is noise)."""
    return "—" if value is None or not np.isfinite(value) else f"{value:.2f}"


def render_metrics(view: ClusterView) -> list[Any]:
    """Badges (clusters, noise) and the clustering's agreement with the human labels, with its parameters."""
    metrics, p = view.metrics, view.params
    against = {"ml_label": "machine labels", "volunteer_label": "volunteer labels"}.get(view.source, "human labels")
    scores = [("NMI", "nmi", metrics.nmi), ("ARI", "ari", metrics.ari), ("homogeneity", "homogeneity",
              metrics.homogeneity), ("completeness", "completeness", metrics.completeness)]  # fmt: skip
    agreement: list[Any] = [f"vs {against}: "]
    for i, (name, term, value) in enumerate(scores):
        agreement += [" · " if i else "", explained(name, term), f" {_fmt(value)}"]
    return [
        dbc.Badge(f"{view.n_clusters} clusters", color="primary", className="me-1"),
        explained(dbc.Badge(f"{view.noise_fraction:.1%} noise", color="secondary", className="me-1"), "noise"),
        html.Span(agreement, className="me-2"),
        html.Span(
            f"[mcs {p.min_cluster_size}, ms {p.min_samples}, {p.selection_method}, eps {p.epsilon:g}]",
            className="text-muted",
            id=ids.CURRENT_PARAMS,
        ),
    ]


#: How Dash prefixes the message of an error raised in (or reported for) a background callback
_BACKGROUND_ERROR = "An error occurred inside a background callback: "


def _rebuild_failed(exc: Exception) -> tuple[Any, str]:
    """The rebuild's answer when its job failed or was lost (`explorer.jobs`): the reason, and the button back."""
    message = str(exc).removeprefix(_BACKGROUND_ERROR).strip()
    return no_update, f"Not rebuilt: {message}"


def register(app: Any, data: ExplorerData) -> None:
    """The parameters' callbacks: apply a re-cut, reset, rebuild a tree in the background, show the metrics."""

    @app.callback(
        Output(ids.MCS_INPUT, "value", allow_duplicate=True),
        Output(ids.MCS_SLIDER, "value"),
        Input(ids.MCS_SLIDER, "value"),
        Input(ids.MCS_INPUT, "value"),
        prevent_initial_call=True,
    )
    def follow_size(position, typed):
        """The slider and the box show one min_cluster_size: the box's (whole numbers, any size) is applied."""
        if ctx.triggered_id == ids.MCS_SLIDER and position is not None:
            return size_at(position), no_update
        try:
            return no_update, slider_position(min(max(float(typed), 2), _SLIDER_MAX))
        except (TypeError, ValueError):
            return no_update, no_update

    @app.callback(
        Output(ids.CLUSTER_PARAMS, "data", allow_duplicate=True),
        Output(ids.TREE_STATUS, "children", allow_duplicate=True),
        Input(ids.MCS_INPUT, "value"),
        Input(ids.METHOD, "value"),
        Input(ids.EPSILON, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        prevent_initial_call=True,
    )
    def set_cut_params(mcs, method, epsilon, current):
        raw = {**(current or {}), "min_cluster_size": mcs, "selection_method": method, "epsilon": epsilon or 0.0}
        try:
            params = data.params_from(raw)
        except ValueError as exc:
            return no_update, f"Not applied: {exc}"
        if not data.has_tree(params.min_samples):
            return no_update, f"No tree for min_samples={params.min_samples} yet: press Rebuild"
        return params.as_dict(), ""

    @app.callback(
        Output(ids.CLUSTER_PARAMS, "data", allow_duplicate=True),
        Output(ids.MCS_INPUT, "value", allow_duplicate=True),
        Output(ids.METHOD, "value"),
        Output(ids.EPSILON, "value"),
        Output(ids.MIN_SAMPLES, "value"),
        Input(ids.RESET_PARAMS, "n_clicks"),
        prevent_initial_call=True,
    )
    def reset_params(_):
        p = data.run_params
        return p.as_dict(), p.min_cluster_size, p.selection_method, p.epsilon, p.min_samples

    @app.callback(
        Output(ids.CLUSTER_PARAMS, "data", allow_duplicate=True),
        Output(ids.TREE_STATUS, "children", allow_duplicate=True),
        Input(ids.REBUILD, "n_clicks"),
        Input(ids.MIN_SAMPLES, "n_submit"),  # Enter in the box rebuilds too
        State(ids.MIN_SAMPLES, "value"),
        State(ids.CLUSTER_PARAMS, "data"),
        background=True,
        running=[
            (Output(ids.REBUILD, "disabled"), True, False),
            (Output(ids.TREE_PROGRESS, "children"), "Building the tree (a few seconds per 10k points)…", ""),
        ],
        prevent_initial_call=True,
        on_error=_rebuild_failed,
    )
    def rebuild_tree(_clicks, _submitted, min_samples, current):
        try:
            params = data.params_from({**(current or {}), "min_samples": min_samples})
        except ValueError as exc:
            return no_update, f"Not rebuilt: {exc}"
        data.tree(params.min_samples, build=True)
        return params.as_dict(), f"Tree for min_samples={params.min_samples} ready."

    @app.callback(
        Output(ids.CLUSTER_METRICS, "children"),
        Input(ids.CLUSTER_PARAMS, "data"),
        Input(ids.LABEL_SOURCE, "value"),
        prevent_initial_call=True,  # the page opens with the run's own metrics
    )
    def metrics(raw, source):
        return render_metrics(data.view_for(raw, source))
