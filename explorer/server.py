"""HTTP routes beside Dash's: previews, health, the security headers on every response, cache headers on assets.

Previews are served only by content key, and only for keys of this run's
images: a request never names a path, so no encoding trick can reach a file
outside the run directory. Requests to Dash's own endpoints are checked
before Dash sees them: a body over the size limit is a 413, a callback
request that is not what Dash's renderer sends (wrong shape, unknown output,
wrong number of inputs) is a 400, and a request for a file Dash does not
serve is a 404, not the 500 Dash would give.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Flask, abort, jsonify, request, send_file

from .data import ExplorerData

__all__ = ["CONTENT_SECURITY_POLICY", "MAX_REQUEST_MB", "add_routes", "callback_request_problem"]

#: Largest request body accepted (MB; ``$GSX_MAX_REQUEST_MB``). A box selection of every point of a
#: 100k-point map posts about 12 MB of ``selectedData``; nothing the dashboard sends is larger.
MAX_REQUEST_MB = float(os.environ.get("GSX_MAX_REQUEST_MB", "32"))

_PREVIEW_RE = re.compile(r"^(thumb|detail)/[0-9a-f]{40}\.webp$")

#: What Dash and Plotly need: their own scripts plus the inline renderer bootstrap; WebGL (regl) compiles
#: shaders with ``new Function``, hence 'unsafe-eval'. Nothing from other origins, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def _is_port(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value and "property" in value


def _is_port_list(value: Any) -> bool:
    """A list of ports; a pattern-matching (ALL) input is itself a list of ports."""
    return isinstance(value, list) and all(
        _is_port(v) or (isinstance(v, list) and all(_is_port(w) for w in v)) for v in value
    )


def callback_request_problem(body: Any, callback_map: dict[str, dict[str, Any]]) -> str | None:
    """Why ``body`` is not a callback request Dash's renderer would send for this app, or None if it is.

    Checked: a JSON object naming a registered output, with as many inputs and
    states as that callback declares, each an ``{id, property, value}`` object.
    Values are not checked here: the callbacks validate their own parameters.
    """
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "'output' does not name a callback of this app"
    if not isinstance(body.get("outputs"), dict | list):
        return "'outputs' must be an object or a list"
    declared = callback_map[output]
    for part in ("inputs", "state"):
        given = body.get(part, [])
        if not _is_port_list(given):
            return f"'{part}' must be a list of {{id, property, value}} objects"
        if len(given) != len(declared.get(part, [])):
            return f"'{part}' has {len(given)} entries; this callback takes {len(declared.get(part, []))}"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    return None


def add_routes(
    server: Flask, data: ExplorerData, *, prefix: str = "/", callback_map: dict[str, dict[str, Any]] | None = None
) -> None:
    """Register ``/previews/<size>/<key>.webp`` and ``/healthz`` under ``prefix``, the request checks, the headers."""
    from dash.exceptions import DependencyException

    base = prefix.rstrip("/")
    previews = f"{base}/previews/"
    dispatch = f"{base}/_dash-update-component"
    server.config["MAX_CONTENT_LENGTH"] = int(MAX_REQUEST_MB * 1024 * 1024)

    @server.before_request
    def check_requests():
        # Dash answers any unknown path with its page; under /previews/ anything but a key is a 404
        if request.path.startswith(previews) and not _PREVIEW_RE.match(request.path[len(previews) :]):
            abort(404)
        if request.path == dispatch and request.method == "POST" and callback_map is not None:
            problem = callback_request_problem(request.get_json(silent=True), callback_map)
            if problem:
                return jsonify(error=f"not a callback request of this app: {problem}"), 400
        return None

    @server.errorhandler(DependencyException)
    def unknown_component_file(_exc):
        # /_dash-component-suites/<package>/<path> for a package or file Dash does not serve
        return jsonify(error="no such component file"), 404

    @server.route(f"{base}/previews/<size>/<name>")
    def preview(size: str, name: str):
        # the form of the URL was checked above; the key must also be one of this run's images
        path = data.preview_path(name.removesuffix(".webp"), size)
        if path is None:
            abort(404)
        return send_file(path, mimetype="image/webp", max_age=7 * 24 * 3600, conditional=True)

    @server.route(f"{base}/healthz")
    def health():
        return jsonify(status="ok", run=data.root.name, points=data.n_points, clusters=data.manifest["n_clusters"])

    versioned = (f"{base}/assets/", f"{base}/_favicon.ico")

    @server.after_request
    def headers(response):
        # the page names its assets with a version query (?m=<mtime>, ?v=<dash>) that changes with the file: a
        # browser may keep them (Dash's component suites, fingerprinted in their path, already say so)
        if request.path.startswith(versioned) and (request.args.get("m") or request.args.get("v")):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # a window this page opens on another origin gets no handle to it, so nothing can be posted across
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
