"""Figures as pure functions: data in, `plotly.graph_objects.Figure` (or the marker settings of a Patch) out.

The map is one WebGL trace holding every point, plus two highlight traces, in
the order `explorer.ids.MapTrace` names. Its colours are numeric codes into a
colour scale, so a recolouring (`dash.Patch`) sends one small integer per point
and a few colour stops, never coordinates. The legend is HTML beside the map
(`Colouring.legend`, drawn by the map panel), so it can change without
touching the figure.

A colour mode is a function ``(points, clusters) -> Colouring`` listed in
`COLOUR_MODES` with its menu text: adding one is adding a function and a line.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .colors import NOISE_COLOUR, cluster_colour, label_colour
from .ids import MapTrace

__all__ = [
    "COLOUR_MODES",
    "CONTINUOUS_LEVELS",
    "RAMPS",
    "REVIEW_MODES",
    "ColourScale",
    "Colouring",
    "colour_modes",
    "colouring",
    "map_figure",
    "share_bars",
]

_IFO_COLOURS = {"H1": "#E66100", "L1": "#5D3A9B"}
_AGREES = "agrees with its neighbours"


#: plotly.js's names of the typed arrays it decodes from base64 (``{"dtype", "bdata"}``), by numpy dtype.
_TYPED = {np.dtype(np.uint8): "u1", np.dtype(np.int16): "i2", np.dtype(np.float32): "f4"}


def typed_array(values: np.ndarray) -> dict[str, str] | np.ndarray:
    """``values`` as plotly.js's base64 typed-array spec, for a figure `dash.Patch`.

    A whole figure goes through plotly's encoder, which does this itself; a
    Patch goes through Dash's JSON, which writes a numpy array as a list of
    numbers: 700,000 cluster codes took 1.8 MB that way, and take 0.93 MB as
    one base64 byte each. Other dtypes come back unchanged.
    """
    kind = _TYPED.get(values.dtype) if isinstance(values, np.ndarray) else None
    if kind is None:
        return values
    data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    return {"dtype": kind, "bdata": base64.b64encode(data.tobytes()).decode("ascii")}


@dataclass(frozen=True)
class ColourScale:
    """A continuous colouring's legend: its title, its colours from low to high, and labelled ticks."""

    title: str
    colours: tuple[str, ...]  #: evenly spaced from the lowest value to the highest
    ticks: tuple[tuple[float, str], ...]  #: (position in [0, 1], value as text)
    missing: str = ""  #: what a glitch without a value is drawn as, if any has none


@dataclass(frozen=True)
class Colouring:
    """Marker colour settings for the map's main trace, and the legend that explains them.

    Every mode's legend is drawn beside the map in HTML (one convention for all modes): swatches for
    categories, a colour ramp with ticks for a continuous value (``scale``).
    """

    marker: dict  #: color (codes or values), colorscale, cmin, cmax
    legend: list[tuple[str, str, int]]  #: (name, colour, count); empty for continuous scales
    scale: ColourScale | None = None  #: the ramp of a continuous colouring


def _discrete(codes: np.ndarray, colours: list[str], names: list[str]) -> Colouring:
    k = max(len(colours), 1)
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / k, colour], [(i + 1) / k, colour]]
    counts = np.bincount(codes, minlength=k)
    return Colouring(
        marker={
            # one byte a point where the categories fit (0.9 MB at 700k points, base64), else two
            "color": codes.astype(np.uint8 if k <= 256 else np.int16),
            "colorscale": scale or [[0, NOISE_COLOUR], [1, NOISE_COLOUR]],
            "cmin": -0.5,
            "cmax": k - 0.5,
            "showscale": False,
        },
        legend=[(n, c, int(counts[i])) for i, (n, c) in enumerate(zip(names, colours, strict=True))],
    )


#: Levels of a continuous colour, one byte a point: as many as a matplotlib colour map's lookup table holds,
#: finer than an eye tells apart on a colour scale. Sent as floats, 700,000 values took 3.7 MB.
CONTINUOUS_LEVELS = 256
#: Labelled ticks on a continuous colour bar.
_TICKS = 5


#: Sequential ramps, light to dark: the higher a value, the more it stands out on the map's pale background. Each
#: is ColorBrewer's or viridis's (colour-blind safe), its palest stops left out so low values stay visible.
RAMPS: dict[str, tuple[str, ...]] = {
    "suspicion": ("#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),  # YlOrRd
    "snr": ("#d0e11c", "#73d056", "#2db27d", "#21918c", "#2e6f8e", "#3b518b", "#482576", "#440154"),  # viridis
    "confidence": ("#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),  # Blues
}


def _continuous(values: np.ndarray, ramp: str, title: str, *, log: bool = False) -> Colouring:
    """Colours along the ramp ``RAMPS[ramp]`` for ``values`` (NaN at the low end), quantised to
    `CONTINUOUS_LEVELS` codes; its legend a ramp labelled in values."""
    colours = RAMPS[ramp]
    values = np.asarray(values, dtype=float)
    if log:
        values = np.log10(np.clip(values, 1e-3, None))
    finite = np.isfinite(values)
    lo, hi = (float(values[finite].min()), float(values[finite].max())) if finite.any() else (0.0, 1.0)
    span, top = (hi - lo) or 1.0, CONTINUOUS_LEVELS - 1
    codes = np.rint((np.where(finite, values, lo) - lo) / span * top).astype(np.uint8)
    stops = np.linspace(0, 1, len(colours))
    ticks = tuple((float(t), f"{lo + t * span:.3g}") for t in np.linspace(0, 1, _TICKS))
    missing = f"{int((~finite).sum())} without a value drawn as the lowest" if not finite.all() else ""
    return Colouring(
        marker={
            "color": codes,
            "colorscale": [[float(at), colour] for at, colour in zip(stops, colours, strict=True)],
            "cmin": 0,
            "cmax": top,
            "showscale": False,
        },
        legend=[],
        scale=ColourScale(title, colours, ticks, missing),
    )


def _by_cluster(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    unique, codes = np.unique(clusters, return_inverse=True)  # vectorised: this runs on every re-cut
    ids = [int(c) for c in unique]
    names = ["noise" if c < 0 else f"cluster {c}" for c in ids]
    return _discrete(codes, [cluster_colour(c) for c in ids], names)


def _by_category(values: np.ndarray, colour_of: Callable[[str], str], first: str | None = None) -> Colouring:
    """Discrete colours for string ``values``, legend sorted by name (``first``, if present, at the top)."""
    unique, inverse = np.unique(values, return_inverse=True)
    names = sorted(unique.tolist(), key=lambda v: (v != first, v))
    codes = np.array([names.index(u) for u in unique], dtype=np.int64)[inverse]
    return _discrete(codes, [colour_of(n) for n in names], names)


def _by_label(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _by_category(points["label"].astype(str).to_numpy(), label_colour)


def _by_proposal(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    labels = points["label"].astype(str).to_numpy()
    proposed = points["proposed_label"].astype(str).to_numpy()
    found = _by_category(
        np.where(proposed == labels, _AGREES, proposed),
        lambda n: NOISE_COLOUR if n == _AGREES else label_colour(n),
        first=_AGREES,
    )
    legend = [(n if n == _AGREES else f"→ {n}", c, k) for n, c, k in found.legend]
    return Colouring(marker=found.marker, legend=legend)


def _by_detector(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _by_category(points["ifo"].astype(str).to_numpy(), lambda n: _IFO_COLOURS.get(n, NOISE_COLOUR))


def _by_suspicion(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _continuous(points["suspicion"].to_numpy(), "suspicion", "suspicion (dark: neighbours disagree)")


#: Review states (`explorer.review`) in legend order, with their colours.
_REVIEW_STATES = {
    "pending": "#D00000",  # a proposal nobody has decided on yet: the work left
    "accepted": "#1A9850",
    "relabelled": "#2166AC",
    "rejected": "#7F7F7F",
    "new class": "#E6AB02",
    "no proposal": "#DDDDDD",
}
_STATE_OF_ACTION = {"accept": "accepted", "relabel": "relabelled", "reject": "rejected", "new_class": "new class"}


def _by_review(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    """Reviewed (by the decision in force) or pending; needs the ``decision`` column of `explorer.review.with_review`."""
    decision = points["decision"].astype(str)
    proposed = points["proposed_label"].astype(str) != points["label"].astype(str)
    state = decision.map(_STATE_OF_ACTION).fillna("")
    state = state.where(state != "", np.where(proposed, "pending", "no proposal"))
    names = list(_REVIEW_STATES)
    codes = pd.Categorical(state, categories=names).codes.astype(np.int64)
    return _discrete(codes, list(_REVIEW_STATES.values()), names)


def _by_decided(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    """The label each glitch carries after the decisions in force (``decided_label``, `explorer.review.with_review`)."""
    return _by_category(points["decided_label"].astype(str).to_numpy(), label_colour)


def _by_machine_label(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _by_category(points["ml_label"].astype(str).to_numpy(), label_colour)


def _by_machine_confidence(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _continuous(points["ml_confidence"].to_numpy(), "confidence", "machine confidence")


#: Machine against volunteers, and where they disagree, the side the neighbours take (precompute.audit.sources).
_SIDES = {
    "agree": ("machine and volunteers agree", "#D9D9D9"),
    "machine": ("disagree: neighbours side with the machine", "#D55E00"),
    "volunteers": ("disagree: neighbours side with the volunteers", "#0072B2"),
    "undecided": ("disagree: neighbours undecided", "#E69F00"),
    "neither": ("disagree: neighbours name neither", "#7F7F7F"),
    "no consensus": ("no volunteer consensus", "#F2F2F2"),
}


def _by_volunteer_agreement(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    """Agree / disagree by the side the neighbours take / no consensus; needs ``ml_label`` and ``volunteer_label``."""
    volunteer, machine = points["volunteer_label"], points["ml_label"].astype(str)
    sides = points["sides_with"].astype(str) if "sides_with" in points else pd.Series("undecided", points.index)
    state = np.where(volunteer.isna(), "no consensus", np.where(volunteer.astype(str) == machine, "agree", sides))
    names = list(_SIDES)
    codes = pd.Categorical(state, categories=names).codes.astype(np.int64)
    codes[codes < 0] = names.index("undecided")  # an audit older than the verdicts
    return _discrete(codes, [c for _, c in _SIDES.values()], [n for n, _ in _SIDES.values()])


def _by_snr(points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    return _continuous(points["snr"].to_numpy(), "snr", "log10 SNR", log=True)


#: What the map can be coloured by: value -> (menu text, colouring of (points, current clusters)), in menu order.
COLOUR_MODES: dict[str, tuple[str, Callable[[pd.DataFrame, np.ndarray], Colouring]]] = {
    "cluster": ("Cluster", _by_cluster),
    "label": ("Human label", _by_label),
    "proposed": ("Proposed vs current label", _by_proposal),
    "suspicion": ("Suspicion", _by_suspicion),
    "snr": ("SNR", _by_snr),
    "ifo": ("Detector", _by_detector),
    "review": ("Reviewed / pending", _by_review),
    "decided": ("Decided label", _by_decided),
    "machine": ("Machine label", _by_machine_label),
    "confidence": ("Machine confidence", _by_machine_confidence),
    "volunteers": ("Volunteer agreement", _by_volunteer_agreement),
}
#: Modes that read the curators' decisions (the map adds them to the points first).
REVIEW_MODES = frozenset({"review", "decided"})
#: Modes that need columns only some runs have (the archive's): mode -> those columns.
_NEEDS = {"machine": ("ml_label",), "confidence": ("ml_confidence",), "volunteers": ("ml_label", "volunteer_label")}


def colour_modes(points: pd.DataFrame) -> dict[str, str]:
    """The colour modes this run's points can show: value -> menu text, in menu order."""
    return {
        mode: text
        for mode, (text, _) in COLOUR_MODES.items()
        if all(column in points for column in _NEEDS.get(mode, ()))
    }


def colouring(mode: str, points: pd.DataFrame, clusters: np.ndarray) -> Colouring:
    """Colours of every point for a colour mode (`COLOUR_MODES`); ``clusters`` is the current cut."""
    if mode not in COLOUR_MODES:
        raise ValueError(f"unknown colour mode {mode!r}; choose one of {', '.join(COLOUR_MODES)}")
    return COLOUR_MODES[mode][1](points, clusters)


#: The map's axes: UMAP coordinates have no units, so no ticks, titles or grid.
_BARE_AXIS = {"showticklabels": False, "title": None, "zeroline": False, "showgrid": False}
#: Stragglers trimmed from each end of an axis before framing the first view.
FRAME_QUANTILES = (0.005, 0.995)
#: A far island of at most this share of the points, at either end of an axis, is left out of the first view...
FRAME_ISLAND_SHARE = 0.05
#: ...when a gap wider than this fraction of the central 90 % of the points separates it from the rest.
FRAME_ISLAND_GAP = 0.5


def framed_range(values: np.ndarray, *, pad: float = 0.04) -> tuple[float, float]:
    """The first view's range on one axis: the bulk of the points, not a far island that shrinks it into a corner.

    UMAP may place a small cluster far from the rest; autoscaling then draws the
    bulk in a corner. The range drops the outer 0.5 % of each end and any island
    of at most 5 % of the points beyond a wide gap; those points stay in the
    figure, a zoom-out (the mode bar's Autoscale) away.
    """
    v = np.sort(np.asarray(values, dtype=float))
    n = len(v)
    if n < 20:
        lo, hi = (float(v[0]), float(v[-1])) if n else (0.0, 1.0)
    else:
        lo_i, hi_i = int(np.floor(FRAME_QUANTILES[0] * (n - 1))), int(np.ceil(FRAME_QUANTILES[1] * (n - 1)))
        core = np.quantile(v, 0.95) - np.quantile(v, 0.05)
        tail = int(FRAME_ISLAND_SHARE * n)
        low_gaps, high_gaps = np.diff(v[: tail + 1]), np.diff(v[n - 1 - tail :])
        if tail and low_gaps.max() > FRAME_ISLAND_GAP * core:
            lo_i = max(lo_i, int(np.argmax(low_gaps)) + 1)
        if tail and high_gaps.max() > FRAME_ISLAND_GAP * core:
            hi_i = min(hi_i, n - 1 - tail + int(np.argmax(high_gaps)))
        lo, hi = float(v[lo_i]), float(v[hi_i])
    span = (hi - lo) or 1.0
    return lo - pad * span, hi + pad * span


def outside_frame(points: pd.DataFrame) -> int:
    """How many points the first view (`framed_range` on both axes) leaves out."""
    (x0, x1), (y0, y1) = framed_range(points["x"].to_numpy()), framed_range(points["y"].to_numpy())
    inside = points["x"].between(x0, x1) & points["y"].between(y0, y1)
    return int((~inside).sum())


def map_figure(points: pd.DataFrame, colours: Colouring) -> go.Figure:
    """The morphology map: every point in one Scattergl trace, plus two empty highlight traces (`MapTrace`).

    The first view frames the bulk of the points (`framed_range`).
    """
    marker = {"size": 5, "opacity": 0.8, **colours.marker}
    traces = {
        MapTrace.POINTS: go.Scattergl(
            x=points["x"].to_numpy(dtype=np.float32),
            y=points["y"].to_numpy(dtype=np.float32),
            mode="markers",
            marker=marker,  # no customdata: a point's index is its row, and events carry it (pointIndex)
            hoverinfo="none",
            name="glitches",
            unselected={"marker": {"opacity": 0.15}},
        ),
        MapTrace.CLUSTER: go.Scattergl(
            x=[],
            y=[],
            mode="markers",
            hoverinfo="skip",
            name="cluster",
            marker={"size": 9, "color": "rgba(0,0,0,0)", "line": {"width": 1.5, "color": "#111"}},
        ),
        MapTrace.GLITCH: go.Scattergl(
            x=[],
            y=[],
            mode="markers",
            hoverinfo="skip",
            name="glitch",
            marker={"size": 16, "symbol": "circle-open", "color": "#D00000", "line": {"width": 3}},
        ),
    }
    figure = go.Figure([traces[role] for role in MapTrace])  # the order the map panel's patches address
    figure.update_layout(
        autosize=True,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        showlegend=False,
        dragmode="pan",
        plot_bgcolor="#FAFAFA",
        xaxis={**_BARE_AXIS, "range": framed_range(points["x"].to_numpy())},
        yaxis={**_BARE_AXIS, "scaleanchor": "x", "range": framed_range(points["y"].to_numpy())},
        uirevision="map",
        clickmode="event",
    )
    return figure


def share_bars(shares: dict[str, float], title: str, *, height: int = 220) -> go.Figure:
    """Horizontal bars of label shares, each bar in its label's colour."""
    items = sorted(shares.items(), key=lambda kv: kv[1])
    figure = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[k for k, _ in items],
            orientation="h",
            marker={"color": [label_colour(k) for k, _ in items]},
            text=[f"{v:.0%}" for _, v in items],
            textposition="auto",
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_layout(
        title={"text": title, "font": {"size": 13}},
        height=max(height, 40 + 22 * len(items)),
        margin={"l": 10, "r": 10, "t": 34, "b": 20},
        xaxis={"range": [0, 1], "tickformat": ".0%"},
        yaxis={"automargin": True},
        plot_bgcolor="#FFF",
    )
    return figure
