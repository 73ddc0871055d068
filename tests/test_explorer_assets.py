"""The dashboard's vendored front-end files: the plotly.js bundle is the version plotly.py writes figures for and
holds every trace type the dashboard draws; responses are compressed and versioned assets may be cached."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from explorer.figures import colouring, map_figure, share_bars

from .conftest import ROOT

VENDOR = ROOT / "assets" / "vendor"


def _bundle() -> Path:
    bundles = sorted(VENDOR.glob("plotly-*.min.js"))
    assert len(bundles) == 1, f"expected one plotly.js bundle in {VENDOR}, found {[b.name for b in bundles]}"
    return bundles[0]


def test_the_plotly_bundle_is_the_version_plotly_py_writes_figures_for():
    from plotly.offline import get_plotlyjs_version

    text = _bundle().read_text(encoding="utf-8")
    found = re.search(r'\.version="([0-9.]+)"', text)
    assert found, "the bundle does not say its plotly.js version"
    assert found.group(1) == get_plotlyjs_version(), "plotly was upgraded: rebuild the bundle with make plotly-bundle"
    assert "MIT" in text[:400]
    assert (VENDOR / "plotly-LICENSE").is_file()


def test_the_plotly_bundle_draws_every_trace_type_the_dashboard_makes():
    points = pd.DataFrame({"x": np.arange(5.0), "y": np.arange(5.0), "label": ["Blip"] * 5})
    figures = [map_figure(points, colouring("label", points, np.zeros(5, int))), share_bars({"Blip": 1.0}, "t")]
    used = {trace["type"] for figure in figures for trace in figure.to_dict()["data"]}
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', _bundle().read_text(encoding="utf-8")))
    assert used, "no trace type found: the check would pass whatever the bundle holds"
    assert used <= registered, f"the bundle lacks {sorted(used - registered)}: add them to scripts/plotly-bundle"


@pytest.fixture(scope="module")
def client(small_run, tmp_path_factory):
    from explorer import create_app

    return create_app(small_run, cache_dir=tmp_path_factory.mktemp("assets-cache"), warm=False).server.test_client()


def test_the_page_loads_the_vendored_bundle_not_plotlys_full_one(client):
    page = gzip.decompress(client.get("/", headers={"Accept-Encoding": "gzip"}).data).decode()
    assert f"/assets/vendor/{_bundle().name}" in page
    assert "plotly.min.js" not in page


def test_responses_are_compressed_and_versioned_assets_cached(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    script = next(s for s in re.findall(r'src="([^"]+)"', gzip.decompress(page.data).decode()) if "dash_renderer" in s)
    compressed = client.get(script, headers={"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert len(compressed.data) < len(client.get(script).data) / 2
    css = next(s for s in re.findall(r'href="([^"]+)"', gzip.decompress(page.data).decode()) if "explorer.css" in s)
    assert "?m=" in css
    assert "immutable" in client.get(css).headers["Cache-Control"]
    assert "immutable" not in client.get(css.split("?")[0]).headers.get("Cache-Control", "")  # unversioned: not kept
