"""The image fetcher against a real HTTP server on loopback that injects faults, as the archive's server may."""

from __future__ import annotations

import errno
import io
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
from PIL import Image

from precompute.archive import fetch as fetching
from precompute.archive.classifications import read_classifications
from precompute.archive.fetch import FAILURES_FILE, FetchConfig, fetch_images, select
from precompute.errors import DataError
from precompute.io import read_dataset
from precompute.synth.archive import generate_archive

ROOT = Path(__file__).resolve().parent.parent


def _figure_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (68, 1, 84)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = _figure_png()


class _Faults(BaseHTTPRequestHandler):
    """``/img/<behaviour>/<name>``: ok, gone, flaky (two 500s), truncated (once), slow (once), html, offsite, corrupt."""

    hits: ClassVar[Counter] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, kind: str = "image/png", length: int | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the fetcher gave up on a slow answer and hung up: as a real client does

    def do_GET(self) -> None:
        with self.lock:
            self.hits[self.path] += 1
            hit = self.hits[self.path]
        behaviour = self.path.split("/")[2]
        if behaviour == "gone":
            self._send(404, b"not found", "text/plain")
        elif behaviour == "flaky" and hit <= 2:
            self._send(500, b"busy", "text/plain")
        elif behaviour == "truncated" and hit == 1:
            self._send(200, PNG[: len(PNG) // 2], length=len(PNG))  # the connection ends early
        elif behaviour == "slow" and hit == 1:
            time.sleep(1.5)
            self._send(200, PNG)
        elif behaviour == "html":
            self._send(200, b"<html>log in first</html>", "text/html")
        elif behaviour == "offsite":
            self.send_response(302)
            self.send_header("Location", "http://elsewhere.invalid/leak.png")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif behaviour == "corrupt":
            self._send(200, b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
        else:
            self._send(200, PNG)


BEHAVIOURS = ("ok", "gone", "flaky", "truncated", "slow", "html", "offsite", "corrupt")
FAST = FetchConfig(windows=("0.5", "1.0"), concurrency=4, rate=500, retries=3, timeout_s=0.5, backoff_s=0.01)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Faults)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def catalogue(server, tmp_path_factory) -> Path:
    """A synthetic archive whose first eight glitches' URLs each hit one behaviour of the server."""
    root = generate_archive(
        tmp_path_factory.mktemp("fetch") / "archive", glitches=200, seed=8, url_base=f"{server}/img/ok"
    )
    path = root / "L1_O3a.csv"
    table = pd.read_csv(path, dtype={"gravityspy_id": str})
    for i, behaviour in enumerate(BEHAVIOURS):
        gid = table.at[i, "gravityspy_id"]
        for n, window in enumerate(("0.5", "1.0", "2.0", "4.0"), start=1):
            table.at[i, f"url{n}"] = f"{server}/img/{behaviour}/{gid}_{window}.png"
    table.to_csv(path, index=False)
    return path


def _chosen(catalogue: Path) -> pd.DataFrame:
    return read_classifications(catalogue).glitches.head(len(BEHAVIOURS))


def test_faults_are_retried_given_up_or_refused_and_every_kept_image_is_valid(catalogue, tmp_path):
    out = tmp_path / "out"
    summary = fetch_images(_chosen(catalogue), out, FAST, show_progress=False)
    reasons = {f["url"].split("/")[4]: f["reason"] for f in summary.failures}
    assert summary.fetched == 8  # ok, flaky, truncated and slow: two windows each
    assert set(reasons) == {"gone", "html", "offsite", "corrupt"}
    assert reasons["gone"] == "gone (HTTP 404)"
    assert reasons["html"] == "wrong content type text/html, after 4 tries"
    assert reasons["offsite"].startswith("redirected off-site to http://elsewhere.invalid/leak.png")
    assert reasons["corrupt"].startswith("invalid image (")
    pngs = sorted(out.rglob("*.png"))
    assert len(pngs) == 8
    assert not list(out.rglob("*.tmp"))  # nothing half-written left behind
    dataset = read_dataset(out, verify=True, show_progress=False)  # the training-set reader takes it as it is
    assert len(dataset.images) == 8
    fetched = _chosen(catalogue).iloc[[BEHAVIOURS.index(b) for b in ("ok", "flaky", "truncated", "slow")]]
    assert dict(zip(dataset.glitches["gravityspy_id"], dataset.glitches["label"], strict=True)) == dict(
        zip(fetched["gravityspy_id"], fetched["ml_label"], strict=True)
    )  # the machine label, as the training-set reader reads it
    failures = pd.read_csv(out / FAILURES_FILE)
    assert len(failures) == len(summary.failures)


def test_a_second_run_resumes_skips_the_gone_and_refetches_a_damaged_image(catalogue, tmp_path):
    out = tmp_path / "out"
    fetch_images(_chosen(catalogue), out, FAST, show_progress=False)
    gone_hits = sum(n for path, n in _Faults.hits.items() if "/gone/" in path)
    damaged = next(out.rglob("*_0.5.png"))
    damaged.write_bytes(damaged.read_bytes()[:500])  # an earlier download cut short
    summary = fetch_images(_chosen(catalogue), out, FAST, show_progress=False)
    assert summary.already_there == 7
    assert summary.fetched == 1  # only the damaged one
    assert sum(n for path, n in _Faults.hits.items() if "/gone/" in path) == gone_hits  # not asked again
    again = fetch_images(
        _chosen(catalogue), out, FetchConfig(**{**FAST.__dict__, "retry_gone": True}), show_progress=False
    )
    assert any(f["reason"] == "gone (HTTP 404)" for f in again.failures)


def test_a_full_disk_stops_the_fetch_and_keeps_what_was_fetched(catalogue, tmp_path, monkeypatch):
    stored, real = [], fetching._store

    def filling(body: bytes, dest: Path) -> None:
        if len(stored) >= 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(body, dest)
        stored.append(dest)

    monkeypatch.setattr(fetching, "_store", filling)
    config = FetchConfig(**{**FAST.__dict__, "concurrency": 1})
    with pytest.raises(DataError, match=r"is full: 2 images were fetched and kept; free some space"):
        fetch_images(_chosen(catalogue), tmp_path / "out", config, show_progress=False)
    assert sorted(p.name for p in (tmp_path / "out").rglob("*.png")) == sorted(p.name for p in stored)


def test_bad_options_and_filters_are_refused_with_the_fix(catalogue):
    with pytest.raises(DataError, match=r"--windows must be some of 0\.5, 1\.0, 2\.0, 4\.0, got 3\.0"):
        FetchConfig(windows=("3.0",))
    with pytest.raises(DataError, match=r"--rate must be in \(0, 1000\]"):
        FetchConfig(rate=0)
    archive = read_classifications(catalogue)
    with pytest.raises(DataError, match=r"--where 'snr >>> 3' is not a usable filter .*columns are event_time"):
        select(archive, where="snr >>> 3")
    blips = select(archive, where='ml_label == "Blip"', limit=3)
    assert len(blips) == 3
    assert set(blips["ml_label"]) == {"Blip"}
    assert len(select(archive, where="snr > 20")) == int((archive.glitches["snr"] > 20).sum())


def test_the_command_prints_what_failed_and_why(catalogue, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "precompute", "-q", "fetch", "--catalog", str(catalogue), "--out", str(tmp_path / "o"),
         "--limit", "8", "--windows", "0.5", "--retries", "1", "--timeout", "0.5", "--rate", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "fetched 4, already there 0, failed 4" in result.stdout
    assert "× gone (HTTP 404)" in result.stdout
    assert "× redirected off-site" in result.stdout
