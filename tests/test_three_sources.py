"""The archive's three label sources end to end: rendered archive images served on loopback, fetched with the
volunteers' labels, mapped by `precompute run`, and audited by `archive-audit --run` against the planted truth."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from precompute.audit.sources import VERDICTS
from precompute.synth.archive import CONSENSUS_FILE, IMAGES_FOLDER, generate_archive

ROOT = Path(__file__).resolve().parent.parent
IMAGED = 24


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _precompute(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "precompute", "--quiet", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def fetched_run(tmp_path_factory) -> dict[str, Path]:
    """A synthetic archive with 24 glitches imaged, served over HTTP, fetched (one window) with --consensus, and run."""
    base = tmp_path_factory.mktemp("three")
    archive = base / "archive"
    (archive / IMAGES_FOLDER).mkdir(parents=True)
    handler = functools.partial(_Quiet, directory=str(archive / IMAGES_FOLDER))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        generate_archive(archive, glitches=1500, seed=11, images=IMAGED, workers=2,
                         url_base=f"http://127.0.0.1:{server.server_address[1]}")  # fmt: skip
        truth = pd.read_parquet(archive / "truth" / "archive_truth.parquet")
        ids = truth.loc[truth["imaged"], "gravityspy_id"].tolist()
        _precompute("fetch", "--catalog", str(archive), "--consensus", str(archive / CONSENSUS_FILE),
                    "--out", str(base / "data"), "--where", f"gravityspy_id in {ids!r}", "--windows", "1.0",
                    "--rate", "1000")  # fmt: skip
    finally:
        server.shutdown()
    _precompute("run", "--data", str(base / "data"), "--out", str(base / "run"), "--weights", "random",
                "--cache-dir", str(base / "cache"))  # fmt: skip
    return {"archive": archive, "run": base / "run", "base": base}


def test_the_run_carries_both_labels_and_its_audit_the_side_the_neighbours_take(fetched_run):
    truth = pd.read_parquet(fetched_run["archive"] / "truth" / "archive_truth.parquet")
    points = pd.read_parquet(fetched_run["run"] / "points.parquet")
    assert sorted(points["gravityspy_id"]) == sorted(truth.loc[truth["imaged"], "gravityspy_id"])
    assert points["volunteer_label"].notna().all()  # only glitches with a consensus are imaged
    disagree = points["ml_label"] != points["volunteer_label"]
    assert 0 < disagree.sum() <= IMAGED // 2
    sides = pd.read_csv(fetched_run["run"] / "audit" / "glitches.csv")
    assert set(sides["sides_with"]) <= set(VERDICTS)
    assert (sides["sides_with"][~disagree.to_numpy()] == "agree").all()
    assert not (sides["sides_with"][disagree.to_numpy()] == "agree").any()
    decided = sides["sides_with"].isin(["machine", "volunteers"])
    assert (sides.loc[decided, "sides_p"] < 0.05).all()
    assert (sides.loc[~decided, "sides_p"] >= 0.05).all()
    summary = json.loads((fetched_run["run"] / "audit" / "summary.json").read_text())
    assert sum(summary["sides_with"].values()) == len(points)


def test_archive_audit_ranks_the_disagreements_and_scores_the_verdicts_against_the_truth(fetched_run):
    out = fetched_run["base"] / "audit"
    archive = fetched_run["archive"]
    _precompute("archive-audit", "--archive", str(archive), "--consensus", str(archive / CONSENSUS_FILE),
                "--out", str(out), "--run", str(fetched_run["run"]), "--truth", str(archive / "truth"))  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    table = pd.read_csv(out / "disagreements_by_morphology.csv")
    points = pd.read_parquet(fetched_run["run"] / "points.parquet")
    assert (
        len(table)
        == int((points["ml_label"] != points["volunteer_label"]).sum())
        == summary["morphology"]["disagreements"]
    )
    scored = summary["morphology_against_truth"]
    assert scored["machine_right"] + scored["volunteers_right"] + scored["neither_right"] == len(table)
    assert scored["rule_always_machine"]["glitches"] == len(table)
    decided = table["sides_with"].isin(["machine", "volunteers"]).to_numpy()
    first_undecided = int(np.argmax(~decided)) if (~decided).any() else len(decided)
    assert not decided[first_undecided:].any()  # the decided ones come first
    assert scored["coverage"] == pytest.approx(decided.mean(), abs=1e-4)


def test_a_run_without_both_labels_is_refused_with_the_fix(fetched_run, tmp_path):
    from precompute.archive.morphology import disagreements
    from precompute.errors import DataError

    plain = tmp_path / "plain"
    shutil.copytree(fetched_run["run"], plain)
    points = pd.read_parquet(plain / "points.parquet").drop(columns=["volunteer_label"])
    points.to_parquet(plain / "points.parquet", index=False)
    with pytest.raises(DataError, match="fetch --consensus"):
        disagreements(plain)


def test_the_dashboard_offers_the_label_sources_and_the_archive_colour_modes(fetched_run, tmp_path):
    from explorer.data import ExplorerData
    from explorer.figures import colour_modes, colouring

    data = ExplorerData(fetched_run["run"], cache_dir=tmp_path / "cache")
    assert list(data.label_sources) == ["label", "volunteer_label"]  # the run's label is the machine's
    modes = colour_modes(data.points)
    assert {"machine", "confidence", "volunteers"} <= set(modes)
    data.tree(2, build=True)
    small = {"min_cluster_size": 3, "min_samples": 2}  # 24 points: small clusters, so that the tables have rows
    by_volunteers, by_machine = data.view_for(small, "volunteer_label"), data.view_for(small, "label")
    assert by_volunteers.source == "volunteer_label"
    assert by_machine.source == "label"
    assert (by_volunteers.labels == by_machine.labels).all()  # the same clustering, compared with other labels
    assert len(by_machine.table) > 0
    assert set(by_volunteers.table["top_label"]) <= set(data.points["volunteer_label"])
    assert set(by_machine.table["top_label"]) <= set(data.points["ml_label"])
    agreement = colouring("volunteers", data.points, by_machine.labels)
    counted = {name: count for name, _, count in agreement.legend}
    disagree = int((data.points["ml_label"] != data.points["volunteer_label"]).sum())
    assert counted["machine and volunteers agree"] == data.n_points - disagree
    assert data.view_for(None, "no-such-source").source == "label"


@pytest.fixture(scope="module")
def archive_server(fetched_run, tmp_path_factory):
    """``python app.py`` serving the archive run."""
    from .conftest import serve_run

    yield from serve_run(fetched_run["run"], tmp_path_factory)


@pytest.mark.browser
def test_a_curator_colours_by_volunteer_agreement_switches_the_source_and_reads_a_disagreement(
    dash_br, archive_server, fetched_run
):
    from selenium.webdriver.support.ui import Select

    from .browser import JS_CANVAS_PIXELS, wait
    from .conftest import ARTIFACTS

    dash_br.server_url = archive_server
    dash_br.wait_for_element("#map .main-svg", timeout=30)
    wait(lambda: dash_br.driver.execute_script(JS_CANVAS_PIXELS) > 0, what="the scatter to be drawn")
    options = [o.get_attribute("value") for o in dash_br.find_elements("#colour-by option")]
    assert {"machine", "confidence", "volunteers"} <= set(options)
    Select(dash_br.find_element("#colour-by")).select_by_value("volunteers")
    wait(lambda: "agree" in dash_br.find_element("#map-legend").text, what="the agreement legend")
    legend = dash_br.find_element("#map-legend").text
    assert "machine and volunteers agree" in legend
    assert "disagree" in legend

    assert "vs human labels" in dash_br.find_element("#cluster-metrics").text
    from selenium.webdriver.common.by import By

    dash_br.driver.find_element(By.XPATH, "//*[@id='label-source']//label[contains(., 'Volunteers')]").click()
    wait(lambda: "vs volunteer labels" in dash_br.find_element("#cluster-metrics").text, what="metrics to switch")

    points = pd.read_parquet(fetched_run["run"] / "points.parquet")
    disagreement = int(np.flatnonzero((points["ml_label"] != points["volunteer_label"]).to_numpy())[0])
    dash_br.find_element("#find-id").send_keys(points["gravityspy_id"].iat[disagreement])
    dash_br.find_element("#find-button").click()
    dash_br.wait_for_element("#sources-line", timeout=20)
    line = dash_br.find_element("#sources-line").text
    assert f"Machine: {points['ml_label'].iat[disagreement]}" in line
    assert f"Volunteers: {points['volunteer_label'].iat[disagreement]}" in line
    assert "Neighbours:" in line
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "explorer-archive-sources.png"))
    assert dash_br.get_logs() == []
