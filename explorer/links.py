"""Shareable links: a view of the dashboard as a URL query, and back.

A view is what a curator points a colleague at: the chosen glitch, the chosen
cluster, the clustering parameters and the map's colour mode::

    /?glitch=H1_abc123&cluster=4&mcs=30&ms=10&method=leaf&epsilon=0.1&colour=suspicion

Only what differs from the run's own view is written, so a link stays short
and reads as "what is special here". A glitch is named by its
``gravityspy_id`` (with ``window`` when the run has one point per window),
never by a row number, so a link survives a re-run over the same data set.

Reading a link never fails: each value that does not fit this run (an unknown
id, a parameter out of range, a tree not built yet) is dropped with a sentence
saying why, and the rest of the view is restored. Pure functions, no Dash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import numpy as np

from .data import ExplorerData

__all__ = ["DEFAULT_COLOUR", "LinkedView", "read_link", "write_link"]

DEFAULT_COLOUR = "cluster"

#: Query names of the clustering parameters (short, as people type them) and the fields they set.
_PARAM_KEYS = {"mcs": "min_cluster_size", "ms": "min_samples", "method": "selection_method", "epsilon": "epsilon"}
#: Every name a link may carry; anything else is reported, not guessed at.
_KEYS = ("glitch", "window", "cluster", *_PARAM_KEYS, "colour")


@dataclass
class LinkedView:
    """The view a link asks for, as the page's stores hold it, and what of the link could not be used."""

    point: int | None = None
    cluster: int | None = None
    params: dict[str, Any] = field(default_factory=dict)  #: as `ClusterParams.as_dict`
    colour: str = DEFAULT_COLOUR
    min_samples_asked: int | None = None  #: a min_samples whose tree is not built yet (press Rebuild)
    problems: list[str] = field(default_factory=list)


def _glitch_part(data: ExplorerData, point: int | None) -> dict[str, str]:
    if point is None or not 0 <= int(point) < data.n_points:
        return {}
    row = data.points.iloc[int(point)]
    part = {"glitch": str(row["gravityspy_id"])}
    if data.point_of_id.get(part["glitch"]) != int(point) and "window" in data.points:
        part["window"] = str(row["window"])
    return part


def write_link(
    data: ExplorerData, point: int | None, cluster: int | None, raw_params: dict[str, Any] | None, colour: str | None
) -> str:
    """The query string (``?…``, or ``""`` for the run's own view) for what the page shows now."""
    query = _glitch_part(data, point)
    if cluster is not None:
        query["cluster"] = str(int(cluster))
    try:
        params = data.params_from(raw_params).as_dict()
    except ValueError:
        params = data.run_params.as_dict()
    run = data.run_params.as_dict()
    for key, name in _PARAM_KEYS.items():
        if params[name] != run[name]:
            query[key] = f"{params[name]:g}" if name == "epsilon" else str(params[name])
    if colour and colour != DEFAULT_COLOUR and colour in data.colour_modes:
        query["colour"] = colour
    return f"?{urlencode(query)}" if query else ""


def _one(values: dict[str, list[str]], key: str) -> str | None:
    found = values.get(key)
    return found[-1].strip() if found else None


def _read_point(data: ExplorerData, values: dict[str, list[str]], view: LinkedView) -> None:
    gid = _one(values, "glitch")
    if not gid:
        return
    point = data.point_of_id.get(gid)
    if point is None:
        view.problems.append(f"glitch {gid!r} is not in this run")
        return
    window = _one(values, "window")
    if window is not None and "window" in data.points:
        same = (data.points["gravityspy_id"].astype(str) == gid) & (data.points["window"].astype(str) == window)
        rows = np.flatnonzero(same.to_numpy())
        if len(rows):
            point = int(rows[0])
        else:
            view.problems.append(f"glitch {gid!r} has no {window} s window here; showing its first")
    view.point = point


def _read_params(data: ExplorerData, values: dict[str, list[str]], view: LinkedView) -> None:
    raw = data.run_params.as_dict()
    for key, name in _PARAM_KEYS.items():
        text = _one(values, key)
        if text is None:
            continue
        try:
            raw[name] = text if name == "selection_method" else (float(text) if name == "epsilon" else int(text))
        except ValueError:
            view.problems.append(f"{key}={text!r} is not a number")
    try:
        params = data.params_from(raw)
    except ValueError as exc:
        view.problems.append(f"the link's clustering was not applied ({exc})")
        params = data.run_params
    if not data.has_tree(params.min_samples):
        view.min_samples_asked = params.min_samples
        view.problems.append(f"min_samples={params.min_samples} needs its tree: press Rebuild tree")
        params = type(params)(**{**params.as_dict(), "min_samples": data.run_params.min_samples})
    view.params = params.as_dict()


def _read_cluster(data: ExplorerData, values: dict[str, list[str]], view: LinkedView) -> None:
    text = _one(values, "cluster")
    if text is None:
        return
    try:
        cluster = int(text)
    except ValueError:
        view.problems.append(f"cluster={text!r} is not a cluster number")
        return
    n_clusters = data.view_for(view.params).n_clusters
    if not 0 <= cluster < n_clusters:
        view.problems.append(f"cluster {cluster} does not exist at these parameters ({n_clusters} clusters)")
        return
    view.cluster = cluster


def read_link(data: ExplorerData, search: str | None) -> LinkedView:
    """The view a query string (``?glitch=…&mcs=…``) asks for, with a sentence for each value not used."""
    values = parse_qs((search or "").lstrip("?"), keep_blank_values=True)
    view = LinkedView(params=data.run_params.as_dict())
    unknown = sorted(set(values) - set(_KEYS))
    if unknown:
        view.problems.append(f"unknown link field(s) {', '.join(unknown)} ignored")
    _read_point(data, values, view)
    _read_params(data, values, view)
    _read_cluster(data, values, view)
    colour = _one(values, "colour")
    if colour is not None:
        modes = data.colour_modes
        if colour in modes:
            view.colour = colour
        else:
            view.problems.append(f"colour={colour!r} is not a colour mode of this run ({', '.join(modes)})")
    return view
