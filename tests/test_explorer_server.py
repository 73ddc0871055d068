"""The dashboard's server side without a browser: run loading, re-clustering, routes, headers, callbacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from explorer import create_app
from explorer.client import callback_body
from explorer.data import ClusterView, ExplorerData
from explorer.events import point_of, points_of
from explorer.panels.clusters import FLAGS_PENDING, cluster_rows
from precompute.audit.findings import findings_as_dict
from precompute.audit.findings.merge import Merge
from precompute.audit.findings.split import Split
from precompute.cluster import ClusterParams
from precompute.rundir import RunError, load_run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def data(small_run, tmp_path) -> ExplorerData:
    return ExplorerData(small_run, cache_dir=tmp_path / "cache")


@pytest.fixture
def client(small_run, tmp_path):
    app = create_app(small_run, cache_dir=tmp_path / "cache")
    return app, app.server.test_client()


def test_the_run_clustering_is_the_pipelines(data, small_run):
    run = load_run(small_run)
    view = data.view(data.run_params)
    np.testing.assert_array_equal(view.labels, run.points["cluster"].to_numpy())
    assert view.n_clusters == run.manifest["n_clusters"]
    assert set(view.table["cluster"]) == set(range(view.n_clusters))


def test_the_findings_at_the_runs_parameters_are_the_audits(data, small_run):
    """One idea, one place: the dashboard's findings (splits from the run-wide Omicron groups included) are the
    audit's own, computed by the same functions."""
    audit = json.loads((small_run / "audit" / "summary.json").read_text())["findings"]
    view = data.view(data.run_params)
    assert json.loads(json.dumps(findings_as_dict(data.findings(view)))) == audit
    assert data.label_groups is not None  # the run has Omicron parameters and the audit's agreement


#: min_cluster_size values far enough apart that a 64-glitch map of four shapes is cut differently by some of them,
#: whatever its layout (the largest exceeds a shape's 16 glitches)
_SIZES = (2, 6, 12, 24, 40)


def _cuts(data: ExplorerData) -> dict[int, ClusterView]:
    return {size: data.view(ClusterParams(size, data.run_params.min_samples)) for size in _SIZES}


def test_min_cluster_size_changes_the_clustering(data):
    cuts = _cuts(data)
    for size, view in cuts.items():
        assert (view.table["size"] >= size).all(), f"a cluster smaller than min_cluster_size {size}"
    assert len({view.labels.tobytes() for view in cuts.values()}) > 1, "every min_cluster_size gave the same cut"


def test_a_tree_built_by_one_worker_is_found_by_another(small_run, tmp_path):
    first = ExplorerData(small_run, cache_dir=tmp_path / "shared")
    assert not first.has_tree(4)
    with pytest.raises(ValueError, match="no tree for min_samples=4"):
        first.view(ClusterParams(3, 4))
    first.tree(4, build=True)
    built = first.view(ClusterParams(3, 4))
    second = ExplorerData(small_run, cache_dir=tmp_path / "shared")
    assert second.has_tree(4)
    np.testing.assert_array_equal(second.view(ClusterParams(3, 4)).labels, built.labels)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ({"min_cluster_size": 1}, "min_cluster_size must be at least 2"),
        ({"min_cluster_size": 10_000}, "at most the number of points"),
        ({"min_cluster_size": 10**9}, "at most 100000"),
        ({"min_samples": 0}, "min_samples must be at least 1"),
        ({"min_samples": 64}, "smaller than the number of points"),
        ({"min_cluster_size": "5"}, "whole number"),
        ({"min_cluster_size": True}, "whole number"),
        ({"min_cluster_size": 5.5}, "whole number"),
        ({"epsilon": float("nan")}, "finite number"),
        ({"epsilon": -1.0}, "finite number"),
        ({"selection_method": "kmeans"}, "selection_method"),
        ([1, 2], "must be an object"),
    ],
)
def test_bad_parameters_are_refused_with_the_field_named(data, raw, match):
    with pytest.raises(ValueError, match=match):
        data.params_from(raw)


def test_good_parameters_are_accepted_and_absent_ones_are_the_runs(data):
    assert data.params_from(None) == data.run_params
    params = data.params_from({"min_cluster_size": 4.0, "epsilon": 0, "ignored": "x"})
    assert params.min_cluster_size == 4
    assert params.epsilon == 0.0
    assert params.min_samples == data.run_params.min_samples


def test_neighbours_are_the_closest_in_embedding_space(data):
    vectors = data.embeddings
    found = data.neighbours(5, k=6)
    assert len(found) == 6
    assert 5 not in [i for i, _ in found]
    similarity = vectors @ vectors[5]
    similarity[5] = -np.inf
    assert [i for i, _ in found] == list(np.argsort(-similarity, kind="stable")[:6])


def test_the_neighbour_panel_reads_the_audits_own_search_and_searches_itself_without_it(data, small_run, tmp_path):
    table = np.load(small_run / "audit" / "neighbours.npy")
    assert table.shape == (data.n_points, min(20, data.n_points - 1))
    assert data.neighbour_table is not None
    assert [i for i, _ in data.neighbours(7, k=8)] == list(table[7, :8])  # the same neighbours the audit used
    copy = tmp_path / "run"
    shutil.copytree(small_run, copy, symlinks=True)
    (copy / "audit" / "neighbours.npy").unlink()
    older = ExplorerData(copy, cache_dir=tmp_path / "cache2")
    assert older.neighbour_table is None
    searched, read = older.neighbours(7, k=8), data.neighbours(7, k=8)
    assert [i for i, _ in searched] == [i for i, _ in read]
    assert [s for _, s in searched] == pytest.approx([s for _, s in read], abs=1e-5)


def test_only_this_runs_previews_are_served(client):
    app, http = client
    data = app.server.config["GSX_DATA"]
    key = data.images["key"].iat[0]
    ok = http.get(f"/previews/detail/{key}.webp")
    assert ok.status_code == 200
    assert ok.headers["Content-Type"] == "image/webp"
    assert ok.data[:4] == b"RIFF"
    for bad in (
        f"/previews/thumb/{'a' * 40}.webp",  # well-formed, not this run's
        f"/previews/huge/{key}.webp",
        f"/previews/thumb/{key}.png",
        "/previews/thumb/..%2f..%2fmanifest.json",
        "/previews/thumb/%2e%2e%2fmanifest.json",
        "/previews/thumb/%252e%252e%252fmanifest.json",
        "/previews/thumb//etc/passwd",
        "/previews/../../manifest.json",
    ):
        response = http.get(bad)
        assert response.status_code == 404, bad
        assert b"manifest_version" not in response.data
        assert b"root:" not in response.data


def test_health_and_security_headers(client):
    app, http = client
    health = http.get("/healthz")
    assert health.status_code == 200
    assert health.json["status"] == "ok"
    assert health.json["points"] == app.server.config["GSX_DATA"].n_points
    page = http.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert b"Gravity Spy Glitch Explorer" in page.data


def _callback(http, output: str, inputs: list[dict], state: list[dict] | None = None):
    """POST to Dash's callback endpoint as the renderer does (``output`` as registered in ``app.callback_map``)."""
    body = callback_body(output, inputs, state)
    return http.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


#: The cluster table's second input: which labels it compares with (the run's own here).
SOURCE = {"id": "label-source", "property": "value", "value": "label"}


def test_a_parameter_change_posted_to_the_callback_updates_the_table(client):
    app, http = client
    data = app.server.config["GSX_DATA"]
    output = "cluster-grid.rowData"
    store = {"id": "cluster-params", "property": "data"}
    for mcs in (2, 12):
        params = {**data.run_params.as_dict(), "min_cluster_size": mcs}
        response = _callback(http, output, [{**store, "value": params}, SOURCE])
        assert response.status_code == 200
        rows = response.json["response"]["cluster-grid"]["rowData"]
        assert len(rows) == data.view(ClusterParams(mcs, data.run_params.min_samples)).n_clusters


def test_the_table_comes_before_the_findings_and_its_flags_follow(small_run, tmp_path):
    """A cut's rows never wait for its findings (seconds at 700,000 points): their flags arrive after, with
    row ids that carry the cut, so a late answer for an earlier cut matches no row (the browser applies only
    matching rows: tests/test_explorer_browser.py)."""
    app = create_app(small_run, cache_dir=tmp_path / "cache", warm=False)  # nothing computed yet
    http, data = app.server.test_client(), app.server.config["GSX_DATA"]
    store = {"id": "cluster-params", "property": "data"}
    params = data.run_params.as_dict()  # the run's own cut, which has findings
    view = data.view(data.params_from(params))
    assert not data.findings_ready(view)
    rows = _callback(http, "cluster-grid.rowData", [{**store, "value": params}, SOURCE]).json["response"]
    assert {r["flags"] for r in rows["cluster-grid"]["rowData"]} == {FLAGS_PENDING}
    assert not data.findings_ready(view)  # the table's callback computed no findings
    update = _callback(http, "cluster-flags.data", [{**store, "value": params}, SOURCE]).json["response"]
    flagged = {r["row_id"]: r["flags"] for r in update["cluster-flags"]["data"]}
    assert set(flagged) == {r["row_id"] for r in rows["cluster-grid"]["rowData"]}
    assert FLAGS_PENDING not in flagged.values()
    assert data.findings_ready(view)
    assert flagged == {f"{view.cut_id}:{c}": data.flags(view).get(int(c), "") for c in view.table["cluster"]}
    again = _callback(http, "cluster-grid.rowData", [{**store, "value": params}, SOURCE]).json["response"]
    assert {r["row_id"]: r["flags"] for r in again["cluster-grid"]["rowData"]} == flagged  # ready: flags at once
    other = data.view(data.params_from({**params, "min_cluster_size": 6}))
    assert not set(flagged) & {r["row_id"] for r in cluster_rows(other)}


def test_each_clusters_flags_name_every_kind_of_finding_that_speaks_of_it(data):
    view = data.view(data.run_params)
    merge = Merge(labels=["Blip", "Tomte"], clusters=[0, 2], counts={}, axis_auc={}, examples={})
    split = Split(label="Blip", evidence="clusters", clusters=[2, 3], shares={}, examples={})
    # the findings of this cut, as `findings` keeps them (computing them on this small run flags no cluster)
    data._findings[data._key("findings", view.params, view.source)] = {"merge": [merge], "split": [split]}
    assert data.flags(view) == {0: "merge", 2: "merge, split", 3: "split"}
    rows = {r["cluster"]: r["flags"] for r in cluster_rows(view, data.flags(view))}
    assert (rows[2], rows[1]) == ("merge, split", "")


def _output_key(app, input_id: str, output_part: str = "") -> str:
    """The registered output string of the callback fed by ``input_id`` whose outputs contain ``output_part``
    (duplicate outputs carry a hash suffix)."""
    return next(
        k for k, v in app.callback_map.items() if any(i["id"] == input_id for i in v["inputs"]) and output_part in k
    )


@pytest.mark.parametrize("epsilon", ["NaN", -1, "x", None])
def test_out_of_range_parameters_posted_directly_are_refused_not_500(client, epsilon):
    app, http = client
    inputs = [
        {"id": "mcs-input", "property": "value", "value": -5},
        {"id": "method", "property": "value", "value": "eom"},
        {"id": "epsilon", "property": "value", "value": epsilon},
    ]
    state = [{"id": "cluster-params", "property": "data", "value": {}}]
    response = _callback(http, _output_key(app, "mcs-input", "cluster-params.data"), inputs, state)
    assert response.status_code == 200
    assert "Not applied: min_cluster_size must be at least 2" in json.dumps(response.json)


def test_hover_and_selection_events_are_parsed_defensively():
    assert point_of({"points": [{"curveNumber": 0, "pointIndex": 3}]}, 10) == 3
    assert point_of({"points": [{"curveNumber": 0, "pointIndex": [4]}]}, 10) == 4
    for bad in (None, {}, {"points": []}, {"points": [{"curveNumber": 1, "pointIndex": 3}]},
                {"points": [{"curveNumber": 0, "pointIndex": 99}]}, {"points": [{"curveNumber": 0, "pointIndex": "3"}]},
                {"points": [{"curveNumber": 0, "pointIndex": True}]}, {"points": ["x"]}):  # fmt: skip
        assert point_of(bad, 10) is None
    assert points_of({"points": [{"curveNumber": 0, "pointIndex": i} for i in (1, 2, 2, 50)]}, 10) == [1, 2]


def test_a_missing_run_fails_with_the_fix_named(tmp_path):
    with pytest.raises(RunError, match="python -m precompute run"):
        create_app(tmp_path / "nowhere", cache_dir=tmp_path / "cache")


def test_the_dashboard_serves_without_torch_or_umap(small_run, tmp_path):
    code = (
        "import sys; from explorer import create_app; "
        f"app = create_app({str(small_run)!r}, cache_dir={str(tmp_path / 'cache')!r}); "
        "c = app.server.test_client(); assert c.get('/').status_code == 200; "
        "assert c.get('/_dash-layout').status_code == 200; "
        "bad = [m for m in ('torch', 'torchvision', 'umap') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=300)


def test_two_users_with_different_parameters_never_see_each_others_clusters(client):
    # all clustering state arrives with each request, so interleaved users each get their own result
    app, http = client
    data = app.server.config["GSX_DATA"]
    output = "cluster-grid.rowData"
    store = {"id": "cluster-params", "property": "data"}
    cuts = _cuts(data)  # two sizes whose tables differ on this map, whatever its layout
    a, b = next((a, b) for a in cuts for b in cuts if cuts[a].table["size"].tolist() != cuts[b].table["size"].tolist())
    users = {"a": cuts[a].params.as_dict(), "b": cuts[b].params.as_dict()}
    expected = {u: data.view(data.params_from(p)).table["size"].tolist() for u, p in users.items()}
    for user in ("a", "b", "a", "b", "b", "a"):
        response = _callback(http, output, [{**store, "value": users[user]}, SOURCE])
        rows = response.json["response"]["cluster-grid"]["rowData"]
        assert [r["size"] for r in rows] == expected[user]


def _decide(app, http, point: int, button: str, typed_for: str, note: str = ""):
    """Post the Glitch tab's decision as the browser does: ``button`` pressed on ``point``, with a note typed for
    the glitch ``typed_for``."""
    key = _output_key(app, "decide-accept")
    spec = app.callback_map[key]
    values = {"selected-point": point, button: 1, "reviewer": "ada", "decision-note": note,
              "decision-inputs-for": typed_for, "cluster-params": app.server.config["GSX_DATA"].run_params.as_dict(),
              "review-tick": 0}  # fmt: skip
    inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in spec["inputs"]]
    state = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in spec["state"]]
    body = callback_body(key, inputs, state)
    body["changedPropIds"] = [f"{button}.n_clicks"]
    return http.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")


def test_the_server_refuses_a_decision_whose_note_was_typed_for_another_glitch(small_run, tmp_path, monkeypatch):
    """The browser says which glitch the note and label were typed for; a decision on another is not stored."""
    monkeypatch.setenv("GSX_REVIEW_DB", str(tmp_path / "decisions.sqlite"))
    app = create_app(small_run, cache_dir=tmp_path / "cache", warm=False)
    http, data = app.server.test_client(), app.server.config["GSX_DATA"]
    first, second = np.flatnonzero(data.points["proposed_label"] != data.points["label"])[:2]
    ids = data.points["gravityspy_id"]
    refused = _decide(app, http, int(second), "decide-accept", ids.iat[first], note="tail looks helical at 4 s")
    assert refused.status_code == 200
    assert f"the note and label were typed for glitch {ids.iat[first]}" in refused.text
    assert data.review.count() == 0
    stored = _decide(app, http, int(second), "decide-accept", ids.iat[second], note="seen")
    assert stored.status_code == 200
    assert data.review.current().set_index("gravityspy_id").at[ids.iat[second], "note"] == "seen"


def test_a_review_database_deleted_while_serving_is_reported_and_never_recreated(small_run, tmp_path, monkeypatch):
    """Someone removes the decisions file under a running server: every view still answers, deciding says why."""
    path = tmp_path / "review" / "decisions.sqlite"
    path.parent.mkdir()
    monkeypatch.setenv("GSX_REVIEW_DB", str(path))
    app = create_app(small_run, cache_dir=tmp_path / "cache")
    http, data = app.server.test_client(), app.server.config["GSX_DATA"]
    point = int(np.flatnonzero(data.points["proposed_label"] != data.points["label"])[0])

    def accept():
        return _decide(app, http, point, "decide-accept", data.points["gravityspy_id"].iat[point])

    assert accept().status_code == 200
    assert data.review.count() == 1
    for file in path.parent.glob("decisions.sqlite*"):
        file.unlink()

    response = accept()
    assert response.status_code == 200
    assert "is missing: was it deleted, moved or replaced while the server ran? Nothing was saved" in response.text
    params = {"id": "cluster-params", "property": "data", "value": data.run_params.as_dict()}
    tick = {"id": "review-tick", "property": "data", "value": 1}
    audit_key = next(k for k in app.callback_map if "audit-grid.rowData" in k)
    audit = _callback(http, audit_key, [params, tick, {"id": "tabs", "property": "active_tab", "value": "tab-audit"}])
    assert audit.status_code == 200
    assert "is missing" in audit.text  # the queue's counter says why no decision shows
    colours = [params, {"id": "colour-by", "property": "value", "value": "review"}, tick]
    recolour = next(k for k in app.callback_map if k.startswith("..map.figure...map-legend"))
    assert _callback(http, recolour, colours).status_code == 200
    assert not path.exists()  # never re-created empty behind the curators' backs

    path.write_bytes(b"")  # an empty file put in its place: no tables
    response = accept()
    assert response.status_code == 200
    assert "cannot be used (no such table: decisions)" in response.text
