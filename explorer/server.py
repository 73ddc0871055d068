"""HTTP routes beside Dash's: previews, health, and the security headers on every response.

Previews are served only by content key, and only for keys of this run's
images: a request never names a path, so no encoding trick can reach a file
outside the run directory.
"""

from __future__ import annotations

import re

from flask import Flask, abort, jsonify, request, send_file

from .data import ExplorerData

__all__ = ["CONTENT_SECURITY_POLICY", "add_routes"]

_PREVIEW_RE = re.compile(r"^(thumb|detail)/[0-9a-f]{40}\.webp$")

#: What Dash and Plotly need: their own scripts plus the inline renderer bootstrap; WebGL (regl) compiles
#: shaders with ``new Function``, hence 'unsafe-eval'. Nothing from other origins, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def add_routes(server: Flask, data: ExplorerData, *, prefix: str = "/") -> None:
    """Register ``/previews/<size>/<key>.webp`` and ``/healthz`` under ``prefix``, and the headers."""
    base = prefix.rstrip("/")
    previews = f"{base}/previews/"

    @server.before_request
    def only_known_preview_urls():
        # Dash answers any unknown path with its page; under /previews/ anything but a key is a 404
        if request.path.startswith(previews) and not _PREVIEW_RE.match(request.path[len(previews) :]):
            abort(404)

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

    @server.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
