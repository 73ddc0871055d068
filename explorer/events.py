"""Reading Plotly's hover, click and selection events, which arrive from the browser and are not trusted."""

from __future__ import annotations

from .ids import MapTrace

__all__ = ["point_of", "points_of"]


def point_of(event: dict | None, n_points: int) -> int | None:
    """The map's point (row of the run's points) in a hover or click event, or None if there is none or it is odd."""
    if not isinstance(event, dict) or not event.get("points"):
        return None
    first = event["points"][0]
    if not isinstance(first, dict) or first.get("curveNumber") != MapTrace.POINTS:
        return None
    # the trace's row: Plotly's own index (the map sends no customdata: 2.8 MB saved at 700k points)
    index = first.get("pointIndex", first.get("pointNumber", first.get("customdata")))
    if isinstance(index, list):
        index = index[0] if index else None
    if isinstance(index, bool) or not isinstance(index, int | float) or not 0 <= int(index) < n_points:
        return None
    return int(index)


def points_of(selected: dict | None, n_points: int) -> list[int]:
    """The map's points in a selection event (lasso or box), in order, without duplicates."""
    if not isinstance(selected, dict):
        return []
    out = []
    for p in selected.get("points") or []:
        point = point_of({"points": [p]}, n_points)
        if point is not None:
            out.append(point)
    return list(dict.fromkeys(out))
