"""Catalogue H1-H8 (docs/bad-input.md): hostile requests against the real server (gunicorn, as deployed).

Paths are sent raw (http.client), so no client-side normalisation hides a
traversal. Every answer must be a 4xx or a safe refusal, never a 500, never a
traceback, never a byte from outside what the dashboard serves.
"""

from __future__ import annotations

import http.client
import json
import shutil
import urllib.parse

import pytest

from explorer.client import callback_body, gunicorn_server
from precompute.rundir import load_run

pytestmark = pytest.mark.slow

SECRETS = (b"root:x:0", b"manifest_version", b"PAR1", b"\x93NUMPY", b"def main(", b"Traceback")


@pytest.fixture(scope="module")
def served(small_run, tmp_path_factory):
    """A private copy of the small run, with a planted file that is not one of its previews, served by gunicorn."""
    run = tmp_path_factory.mktemp("hostile") / "run"
    shutil.copytree(small_run, run)
    (run / "previews" / f"{'b' * 40}-thumb.webp").write_bytes(b"RIFF planted, not one of this run's images")
    base = tmp_path_factory.mktemp("hostile-cache")
    with gunicorn_server(run, base / "cache", workers=2, threads=2, log=base / "gunicorn.log") as server:
        yield server, run, base / "gunicorn.log"


def _request(server, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    parsed = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _post_json(server, payload) -> tuple[int, dict, bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return _request(server, "POST", "/_dash-update-component", body, {"Content-Type": "application/json"})


def _output_of(server, input_id: str, output_part: str = "") -> tuple[str, dict]:
    """The first callback fed by ``input_id`` whose outputs contain ``output_part``: its output key and itself."""
    status, _, body = _request(server, "GET", "/_dash-dependencies")
    assert status == 200
    callback = next(
        c for c in json.loads(body) if any(i["id"] == input_id for i in c["inputs"]) and output_part in c["output"]
    )
    return callback["output"], callback


TRAVERSALS = [
    "/previews/thumb/..%2f..%2fmanifest.json",
    "/previews/thumb/%2e%2e%2f%2e%2e%2fmanifest.json",
    "/previews/thumb/%252e%252e%252fmanifest.json",
    "/previews/../manifest.json",
    "/previews/thumb//etc/passwd",
    "/previews/thumb/%2fetc%2fpasswd",
    "/assets/../app.py",
    "/assets/..%2fapp.py",
    "/assets/%2e%2e/%2e%2e/etc/passwd",
    "/assets/%252e%252e%252fapp.py",
    "/assets//etc/passwd",
    "/_dash-component-suites/dash/../../../../etc/passwd",
    "/_dash-component-suites/dash/..%2f..%2f..%2fapp.py",
    "/_dash-component-suites/dash/%252e%252e%252fapp.py",
    "/_dash-component-suites/os/path.py",
    "/_dash-component-suites/dash/__init__.py",
    "/manifest.json",
    "/points.parquet",
    "/embeddings.npy",
    "/../manifest.json",
    "//etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_h1_traversal_and_absolute_paths_reach_nothing(served, path):
    server, _, _ = served
    status, headers, body = _request(server, "GET", path)
    assert status in (200, 404), (path, status)  # Dash answers unknown page paths with its own page
    assert not any(secret in body for secret in SECRETS), path
    if status == 200:
        assert b"Gravity Spy Glitch Explorer" in body  # the page itself, nothing else
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_h2_files_that_are_not_this_runs_previews_are_not_served(served):
    server, run, _ = served
    key = load_run(run).images["key"].iat[0]
    assert _request(server, "GET", f"/previews/thumb/{key}.webp")[0] == 200
    for path in (f"/previews/thumb/{'b' * 40}.webp", f"/previews/thumb/{'c' * 40}.webp", f"/previews/{key}-thumb.webp"):
        status, _, body = _request(server, "GET", path)
        assert status == 404, path
        assert b"planted" not in body


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"{not json", "must be a JSON object"),
        (b"[1, 2, 3]", "must be a JSON object"),
        ({"inputs": []}, "'output' does not name a callback"),
        ({"output": "..nope.children..", "outputs": {}, "inputs": []}, "'output' does not name a callback"),
    ],
)
def test_h3_malformed_callback_payloads_are_400(served, payload, problem):
    server, _, _ = served
    status, headers, body = _post_json(server, payload)
    assert status == 400
    assert headers["Content-Type"].startswith("application/json")
    assert problem in json.loads(body)["error"]


def test_h3_callback_payloads_of_the_wrong_shape_are_400(served):
    server, _, _ = served
    output, callback = _output_of(server, "mcs-input", "cluster-params.data")
    ports = {part: [{"id": p["id"], "property": p["property"], "value": None} for p in callback[part]]
             for part in ("inputs", "state")}  # fmt: skip
    good = callback_body(output, ports["inputs"], ports["state"])
    assert _post_json(server, good)[0] == 200
    for broken, problem in (
        ({**good, "inputs": good["inputs"][:-1]}, f"'inputs' has {len(good['inputs']) - 1} entries"),
        ({**good, "inputs": "x"}, "'inputs' must be a list"),
        ({**good, "inputs": [1] * len(good["inputs"])}, "'inputs' must be a list"),
        ({**good, "state": [{"id": "x", "property": "y"}] * 9}, "'state' has 9 entries"),
        ({**good, "changedPropIds": [1]}, "'changedPropIds' must be a list of strings"),
        ({**good, "outputs": 5}, "'outputs' must be an object or a list"),
    ):
        status, _, body = _post_json(server, broken)
        assert status == 400, problem
        assert problem in json.loads(body)["error"]


def test_h4_oversized_bodies_are_413_before_they_are_read(served):
    """A 40 MB body is refused from its Content-Length: the answer comes before the body is sent."""
    server, _, _ = served
    parsed = urllib.parse.urlsplit(server.url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    try:
        connection.putrequest("POST", "/_dash-update-component")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(40 * 1024 * 1024))
        connection.endheaders(b'{"output": "' + b"x" * 1024)
        response = connection.getresponse()
        status, headers, body = response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
    assert status == 413
    assert b"Traceback" not in body
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("field", "value", "refusal"),
    [
        ("mcs-input", -5, "min_cluster_size must be at least 2"),
        ("mcs-input", 10**9, "min_cluster_size must be at most 100000"),
        ("mcs-input", "ten", "min_cluster_size must be a whole number"),
        ("epsilon", "NaN", "epsilon must be a finite number >= 0"),
        ("epsilon", -1, "epsilon must be a finite number >= 0"),
        ("method", "best", "selection_method must be one of"),
    ],
)
def test_h5_out_of_range_nan_and_wrong_type_parameters_are_refused(served, field, value, refusal):
    server, _, _ = served
    output, callback = _output_of(server, "mcs-input", "cluster-params.data")
    values = {"mcs-input": 5, "method": "eom", "epsilon": 0, field: value}
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in callback["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": {}} for s in callback["state"]]
    status, _, body = _post_json(server, callback_body(output, inputs, state))
    assert status == 200
    assert f"Not applied: {refusal}" in json.dumps(json.loads(body), ensure_ascii=False)


def test_h6_security_headers_and_no_debug_on_every_kind_of_response(served):
    server, run, log = served
    key = load_run(run).images["key"].iat[0]
    for method, path in (("GET", "/"), ("GET", "/healthz"), ("GET", f"/previews/thumb/{key}.webp"),
                         ("GET", "/previews/thumb/x"), ("GET", "/_dash-layout"), ("GET", "/assets/explorer.css")):  # fmt: skip
        _status, headers, body = _request(server, method, path)
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert b"Traceback" not in body
    assert _request(server, "GET", "/_reload-hash")[0] in (200, 404)  # hot reload is off: no file list
    assert b'"hot_reload": true' not in _request(server, "GET", "/")[2]
    assert "Traceback" not in log.read_text()  # nothing above made the server fail
