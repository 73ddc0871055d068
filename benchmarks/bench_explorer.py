"""The dashboard at scale: page payload, time until the scatter is drawn, re-cluster and hover latency.

Targets (issue 5), on our 2-core machine: the re-cluster callback after a
min_cluster_size change <= 0.3 s of server time at 34k points; no sampling of
the map up to 100k points.

It writes synthetic run directories of N points (blobs on a 2-D map, 64-d
embeddings, every point's four windows sharing one real WebP preview), serves
each with the real ``app.py`` in its own process, and measures:

- payload: bytes of the page, its layout and the initial callbacks (what a
  browser downloads before the map is usable);
- drawn: seconds from navigation until the WebGL canvas has pixels, in
  headless Chromium (software GL here: a real GPU draws faster); then zoom:
  the median time of five zooms in and out (Plotly.relayout until the next
  frame), which says whether panning and zooming stay fluid;
- re-cluster: server time of the callbacks a min_cluster_size change fires:
  the cut's cluster table + recolour, first cut (cold) and repeated (cached
  cut); and every callback of the change, the findings included (the table's
  flags, the failure modes), which follow the table in their own callbacks;
- recolour patch: bytes of a recolouring by cluster (categories) and by
  suspicion (a continuous scale);
- hover: the tooltip callback's server time and a thumbnail fetch, p50/p95.

    python benchmarks/bench_explorer.py [--sizes 34000,100000] [--no-browser]

With ``--run RUN`` it measures what a newcomer meets on a real run directory instead (the demo's, by
default): bytes the browser transferred on first load (Chrome's performance log), seconds until the map
is drawn (plain and from a shared link), and choosing a cluster and a box selection, each as the
server's time for the callbacks it fires and as seconds until the browser shows the result.

    python benchmarks/bench_explorer.py --run data/runs/demo
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from explorer.client import callback_body, free_port
from precompute.audit.neighbours import nearest_neighbours
from precompute.audit.tables import NEIGHBOURS_KEPT
from precompute.cluster import ClusterParams, ClusterTree
from precompute.rundir import MANIFEST_VERSION, write_run

ROOT = Path(__file__).resolve().parent.parent
LABELS = ["Blip", "Koi_Fish", "Whistle", "Scattered_Light", "Low_Frequency_Burst", "Tomte", "Power_Line"]


def make_run(n: int, out: Path, preview: Path, *, neighbours: bool = True) -> Path:
    """A run directory of ``n`` points whose numbers look like a real run's, for the dashboard only.

    ``neighbours``: search and keep the neighbour table an audited run has (minutes at 700k).
    """
    rng = np.random.default_rng(0)
    centres = rng.uniform(-15, 15, size=(40, 2))
    which = rng.integers(0, 40, size=n)
    coords = centres[which] + rng.normal(scale=0.5, size=(n, 2))
    labels = np.array(LABELS)[(which + (rng.random(n) < 0.1) * rng.integers(1, 7, size=n)) % len(LABELS)]
    params = ClusterParams(50, 10)
    tree = ClusterTree.build(coords, params.min_samples)
    result = tree.cut(params)
    ids = [f"g{i:07d}" for i in range(n)]
    points = pd.DataFrame(
        {
            "point_id": np.arange(n),
            "gravityspy_id": ids,
            "window": "fused",
            "ifo": np.where(rng.random(n) < 0.6, "H1", "L1"),
            "label": labels,
            "event_time": 1.2e9 + rng.uniform(0, 1e7, n),
            "snr": np.exp(rng.normal(3, 0.6, n)),
            "peak_frequency": np.exp(rng.normal(5, 1, n)),
            "duration": rng.uniform(0.05, 3, n),
            "n_windows": 4,
            "x": coords[:, 0],
            "y": coords[:, 1],
            "cluster": result.labels,
            "probability": result.probabilities,
            "outlier_score": result.outlier_scores,
            "intensity": rng.uniform(0.05, 0.5, n),
        }
    )
    key = "0" * 40
    images = pd.DataFrame(
        {
            "gravityspy_id": np.repeat(ids, 4),
            "window": np.tile(["0.5", "1.0", "2.0", "4.0"], n),
            "kind": "figure",
            "source": "synthetic",
            "key": key,
        }
    )
    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "created_utc": "2026-01-01T00:00:00+00:00",
        "command": ["bench_explorer.py"],
        "data": {"path": "synthetic", "format": "benchmark", "n_glitches": n, "windows": ["0.5", "1.0", "2.0", "4.0"]},
        "parameters": {"unit": "glitch", "fusion": "mean"},
        "cluster_params_used": params.as_dict(),
        "embedding": {"weights_used": "none (benchmark)", "device": "none"},
        "n_points": n,
        "n_clusters": result.n_clusters,
        "noise_fraction": result.noise_fraction,
        "seed": 0,
        "warnings": ["Benchmark run: synthetic map, no images behind the points."],
        "skipped": [],
    }

    # embeddings that cluster where the map does, and the neighbour table an audited run carries (searched
    # by the audit's own code), so the nearest-neighbour and review panels read it as they do on a real run
    vectors = (rng.normal(size=(40, 64))[which] + rng.normal(scale=0.7, size=(n, 64))).astype(np.float32)
    table = nearest_neighbours(vectors, NEIGHBOURS_KEPT) if neighbours else None

    def add(staging: Path) -> None:
        (staging / "previews").mkdir()
        for size in ("thumb", "detail"):
            shutil.copyfile(preview, staging / "previews" / f"{key}-{size}.webp")
        if table is not None:
            (staging / "audit").mkdir()
            np.save(staging / "audit" / "neighbours.npy", table)

    return write_run(
        out, manifest=manifest, points=points, images=images, embeddings=vectors, trees=[tree], add_files=add
    )


@contextlib.contextmanager
def _serving(run: Path, env: dict[str, str]):
    """``python app.py --run RUN`` on a free port with ``env`` added, until its health check answers; its URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "app.py", "--run", str(run), "--port", str(port)], cwd=ROOT,
                              env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                _get(f"{url}/healthz")
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _get(url: str, data: bytes | None = None) -> tuple[bytes, float]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    return body, time.perf_counter() - start


def _callback(url: str, app_map: dict, output_part: str, inputs: list[dict], state: list[dict] | None = None):
    """POST one callback (the one whose registered outputs contain ``output_part``) as the browser does."""
    output = next(k for k in app_map if output_part in k)
    body = callback_body(output, inputs, state)
    return _get(f"{url}/_dash-update-component", json.dumps(body).encode())


def _callback_map(run: Path) -> dict:
    """The app's callback registry (inputs per output), from an app built in this process."""
    from explorer import create_app

    with tempfile.TemporaryDirectory() as cache:
        app = create_app(run, cache_dir=Path(cache), warm=False)  # only its callback registry is needed
        return {k: {"inputs": v["inputs"], "state": v.get("state", [])} for k, v in app.callback_map.items()}


def _time_to_draw(url: str) -> tuple[float, float]:
    """Seconds from navigation until the map's canvas has pixels; then the median ms of five zooms."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless", "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--window-size=1400,900", "--no-sandbox"):  # fmt: skip
        options.add_argument(arg)
    options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    js = (
        "const c=[...document.querySelectorAll('#map canvas')];let n=0;for(const x of c){"
        "const g=x.getContext('webgl',{preserveDrawingBuffer:true});if(!g||!x.width)continue;"
        "const p=new Uint8Array(x.width*x.height*4);g.readPixels(0,0,x.width,x.height,g.RGBA,g.UNSIGNED_BYTE,p);"
        "for(let i=3;i<p.length;i+=4)if(p[i]>0){n++;break;}}"
        # a map drawn as density (explorer/density.py): its image is in the page's SVG, not on the canvas
        "if(!n){const i=document.querySelector('#map .imagelayer image');"
        "if(i&&i.getAttribute('href')&&i.getBoundingClientRect().width>0)n=1;}return n;"
    )
    try:
        start = time.perf_counter()
        driver.get(url)
        drawn = float("nan")
        while time.perf_counter() - start < 300:
            if driver.execute_script(js):
                drawn = time.perf_counter() - start
                break
            time.sleep(0.05)
        if drawn != drawn:
            return drawn, float("nan")
        time.sleep(2)  # let the first callbacks' patches land
        driver.set_script_timeout(300)
        zooms = [driver.execute_async_script(_ZOOM_JS, factor) for factor in (0.5, 0.7, 2.0, 0.7, 2.0)]
        return drawn, statistics.median(zooms)
    finally:
        driver.quit()


#: One zoom of the map (Plotly.relayout to a range ``factor`` times the current one, same centre): ms until
#: drawn. When the map shows the density layer, until the server's new image (or the points) has landed.
_ZOOM_JS = """
const [factor, done] = arguments;
const gd = document.querySelector('#map .js-plotly-plot');
const images = () => (gd._fullLayout.images || []).map(i => i.source).join();
const before = images();
const [x0, x1] = gd._fullLayout.xaxis.range, [y0, y1] = gd._fullLayout.yaxis.range;
const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, hx = (x1 - x0) * factor / 2, hy = (y1 - y0) * factor / 2;
const start = performance.now();
const landed = () => {
  if (!before || images() !== before) { requestAnimationFrame(() => done(performance.now() - start)); }
  else { setTimeout(landed, 10); }
};
Plotly.relayout(gd, {'xaxis.range': [cx - hx, cx + hx], 'yaxis.range': [cy - hy, cy + hy]}).then(landed);
"""


def measure(n: int, workdir: Path, preview: Path, browser: bool) -> dict[str, float]:
    run = make_run(n, workdir / f"run-{n}", preview)
    app_map = _callback_map(run)
    with _serving(run, {"GSX_CACHE_DIR": str(workdir / f"cache-{n}")}) as url:
        page, _ = _get(url + "/")
        layout, _ = _get(url + "/_dash-layout")
        store = {"id": "cluster-params", "property": "data"}
        source = {"id": "label-source", "property": "value", "value": "label"}  # which labels the tables compare with
        base = ClusterParams(50, 10).as_dict()
        colour = [store, {"id": "colour-by", "property": "value", "value": "cluster"}, {"id": "review-tick", "property": "data", "value": 0}]  # fmt: skip

        def fire(params: dict) -> tuple[float, float, int, int]:
            """Every callback a parameter change fires: (table + recolour s, all s, table bytes, patch bytes)."""
            tables, t_tables = _callback(url, app_map, "cluster-grid.rowData", [{**store, "value": params}, source])
            patch, t_colours = _callback(url, app_map, "..map.figure..", [{**colour[0], "value": params}, *colour[1:]])
            _, t_metrics = _callback(url, app_map, "cluster-metrics.children", [{**store, "value": params}, source])
            _, t_flags = _callback(url, app_map, "cluster-flags.data", [{**store, "value": params}, source])
            # the failure modes and the label audit are computed while their tab is open (otherwise when it opens)
            tab = {"id": "tabs", "property": "active_tab"}
            _, t_findings = _callback(
                url, app_map, "findings.children", [{**store, "value": params}, {**tab, "value": "tab-failures"}]
            )
            _, t_audit = _callback(
                url,
                app_map,
                "audit-grid.rowData",
                [{**store, "value": params}, colour[2], {**tab, "value": "tab-audit"}],
            )
            every = t_tables + t_colours + t_metrics + t_flags + t_findings + t_audit
            return t_tables + t_colours, every, len(tables), len(patch)

        _, _, table_bytes, patch_bytes = fire(base)
        payload = len(page) + len(layout) + table_bytes + patch_bytes
        by_value = [{**colour[0], "value": base}, {**colour[1], "value": "suspicion"}, colour[2]]
        continuous, _ = _callback(url, app_map, "..map.figure..", by_value)  # a colour scale, not categories
        cold, warm, every = [], [], []
        for size in (60, 80, 120):
            params = {**base, "min_cluster_size": size}
            first, total, _, _ = fire(params)  # cuts the tree
            cold.append(first)
            every.append(total)
            warm.append(fire(params)[0])  # finds the cut cached
        hover_cb, thumbs = [], []
        for i in range(0, n, max(1, n // 100)):
            event = {"points": [{"curveNumber": 0, "pointNumber": i, "customdata": i, "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}]}  # fmt: skip
            _, t = _callback(url, app_map, "map-tooltip.show", [{"id": "map", "property": "hoverData", "value": event}], [{**store, "value": base}])  # fmt: skip
            hover_cb.append(t)
            _, t = _get(f"{url}/previews/thumb/{'0' * 40}.webp")
            thumbs.append(t)
        drawn, zoom_ms = _time_to_draw(url) if browser else (float("nan"), float("nan"))
    q = lambda xs, p: float(np.percentile(xs, p))  # noqa: E731
    return {
        "n": n,
        "payload_mb": payload / 1e6,
        "patch_mb": patch_bytes / 1e6,
        "patch_continuous_mb": len(continuous) / 1e6,
        "drawn_s": drawn,
        "zoom_ms": zoom_ms,
        "recluster_cold_s": statistics.median(cold),
        "recluster_warm_s": statistics.median(warm),
        "recluster_all_s": statistics.median(every),
        "hover_p50_ms": q(hover_cb, 50) * 1e3,
        "hover_p95_ms": q(hover_cb, 95) * 1e3,
        "thumb_p50_ms": q(thumbs, 50) * 1e3,
        "thumb_p95_ms": q(thumbs, 95) * 1e3,
    }


#: Bytes over the wire of every response the page received so far, from Chrome's performance log.
def _transferred(driver) -> int:
    total = 0
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.loadingFinished":
            total += int(message["params"].get("encodedDataLength", 0))
    return total


_DRAWN_JS = (
    "const c=[...document.querySelectorAll('#map canvas')];for(const x of c){"
    "const g=x.getContext('webgl',{preserveDrawingBuffer:true});if(!g||!x.width)continue;"
    "const p=new Uint8Array(x.width*x.height*4);g.readPixels(0,0,x.width,x.height,g.RGBA,g.UNSIGNED_BYTE,p);"
    "for(let i=3;i<p.length;i+=4)if(p[i]>0)return true;}return false;"
)
_IDLE_JS = (
    "if(!window.store)return false;const c=Object.assign({},window.store.getState().callbacks);"
    "delete c.stored;delete c.completed;return Object.values(c).every(l=>!l.length);"
)


def _until(driver, script: str, start: float, limit: float = 120) -> float:
    while time.perf_counter() - start < limit:
        if driver.execute_script(script):
            return time.perf_counter() - start
        time.sleep(0.02)
    return float("nan")


def _first_screen_browser(url: str, gid: str) -> dict[str, float]:
    """In headless Chromium (software GL): first load's bytes and time to the drawn map; a shared link's time;
    choosing the cluster table's first row until its panel shows; a box selection until its panel shows."""
    from selenium import webdriver
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    def browser():
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
        for arg in ("--headless=new", "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--window-size=1400,900",
                    "--no-sandbox", "--disable-background-networking", "--disable-component-update"):  # fmt: skip
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        return webdriver.Chrome(options=options)

    out: dict[str, float] = {}
    driver = browser()
    try:
        start = time.perf_counter()
        driver.get(url)
        out["drawn_s"] = _until(driver, _DRAWN_JS, start)
        _until(driver, _IDLE_JS, start)
        out["first_load_mb"] = _transferred(driver) / 1e6
        time.sleep(1)
        row = driver.find_element(By.CSS_SELECTOR, "#cluster-grid .ag-center-cols-container .ag-row .ag-cell")
        start = time.perf_counter()
        row.click()
        out["cluster_shown_s"] = _until(driver, "return !!document.querySelector('#cluster-title');", start)
        _until(driver, _IDLE_JS, start)
        out["cluster_settled_s"] = time.perf_counter() - start
        driver.find_element(By.CSS_SELECTOR, "#map .modebar-btn[data-val='select']").click()
        layer = driver.find_element(By.CSS_SELECTOR, "#map .nsewdrag")
        width, height = layer.size["width"], layer.size["height"]
        start = time.perf_counter()
        ActionChains(driver).move_to_element_with_offset(layer, 2, 2).click_and_hold().move_by_offset(
            int(width * 0.5), int(height * 0.9)
        ).release().perform()
        out["selection_shown_s"] = _until(
            driver, "return (document.querySelector('#selection-panel')||{}).textContent.includes('selected');", start
        )
    finally:
        driver.quit()
    driver = browser()
    try:
        start = time.perf_counter()
        driver.get(f"{url}/?glitch={gid}&colour=suspicion")
        out["link_drawn_s"] = _until(driver, _DRAWN_JS, start)
        out["link_detail_s"] = _until(driver, "return !!document.querySelector('#detail-content');", start)
    finally:
        driver.quit()
    return out


def _fired_by(url: str, app_map: dict, component: str, values: dict, *, prop: str = "data", repeat: int = 5) -> float:
    """Server seconds of every callback a change of ``component.prop`` fires, posted as the browser posts them
    (each the median of ``repeat``), summed."""
    total = 0.0
    for output, spec in app_map.items():
        if not any(i["id"] == component and i["property"] == prop for i in spec["inputs"]):
            continue
        inputs = [{**i, "value": values.get(i["id"])} for i in spec["inputs"]]
        state = [{**s, "value": values.get(s["id"])} for s in spec["state"]]
        body = json.dumps({**callback_body(output, inputs, state), "changedPropIds": [f"{component}.{prop}"]})
        total += statistics.median(_get(f"{url}/_dash-update-component", body.encode())[1] for _ in range(repeat))
    return total


def measure_run(run: Path, browser: bool) -> dict[str, float]:
    """What a newcomer meets on ``run``: server times of choosing a cluster and of a box selection (every callback
    each fires, posted as the browser posts them), then the browser's view (`_first_screen_browser`)."""
    from explorer.data import ExplorerData

    app_map = _callback_map(run)
    with tempfile.TemporaryDirectory() as scratch:
        data = ExplorerData(run, cache_dir=Path(scratch) / "expected")
        params = data.run_params.as_dict()
        cluster = int(data.view(data.run_params).table["cluster"].iat[0])
        half = [{"curveNumber": 0, "pointNumber": i, "pointIndex": i} for i in range(0, data.n_points, 2)]
        env = {"GSX_CACHE_DIR": f"{scratch}/cache", "GSX_REVIEW_DB": f"{scratch}/decisions.sqlite"}
        with _serving(run, env) as url:
            values = {"cluster-params": params, "selected-cluster": cluster, "label-source": "label",
                      "colour-by": "cluster", "review-tick": 0}  # fmt: skip
            chosen = _fired_by(url, app_map, "selected-cluster", values)
            values["map"] = {"points": half}  # selectedData: every other point
            selection = _fired_by(url, app_map, "map", values, prop="selectedData")
            out = {"cluster_server_s": chosen, "selection_server_s": selection}
            if browser:
                out.update(_first_screen_browser(url, str(data.points["gravityspy_id"].iat[0])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="34000,100000")
    parser.add_argument("--run", type=Path, default=None, help="measure this run's first screen instead of --sizes")
    parser.add_argument("--no-browser", action="store_true", help="skip the time-to-draw measurement")
    parser.add_argument("--preview", type=Path, default=None, help="a WebP to serve as every preview")
    args = parser.parse_args()
    if args.run is not None:
        print(machine_line())
        print()
        r = measure_run(args.run, not args.no_browser)
        print("| run | first load transferred | map drawn | from a shared link (map / glitch shown) | choosing a cluster: server / shown / settled | box selection: server / shown |")  # fmt: skip
        print("|---|---|---|---|---|---|")
        print(
            f"| {args.run} ({len(__import__('pandas').read_parquet(args.run / 'points.parquet')):,} points) | "
            f"{r.get('first_load_mb', float('nan')):.2f} MB | {r.get('drawn_s', float('nan')):.1f} s | "
            f"{r.get('link_drawn_s', float('nan')):.1f} s / {r.get('link_detail_s', float('nan')):.1f} s | "
            f"{r['cluster_server_s']:.3f} s / {r.get('cluster_shown_s', float('nan')):.2f} s / "
            f"{r.get('cluster_settled_s', float('nan')):.2f} s | {r['selection_server_s']:.3f} s / "
            f"{r.get('selection_shown_s', float('nan')):.2f} s |"
        )
        return
    preview = args.preview or next((ROOT / "data" / "runs" / "demo" / "previews").glob("*-thumb.webp"), None)
    if preview is None:
        sys.exit("no preview WebP: run `make demo-run` first or pass --preview FILE")
    print(machine_line())
    print()
    print("| points | initial payload | recolour patch (clusters / suspicion) | scatter drawn | zoom redrawn | re-cluster: table + colours (first cut) | (cached cut) | every callback of the change | hover callback p50/p95 | thumbnail p50/p95 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            r = measure(n, Path(tmp), preview, not args.no_browser)
            print(
                f"| {n:,} | {r['payload_mb']:.2f} MB | {r['patch_mb']:.2f} / {r['patch_continuous_mb']:.2f} MB | "
                f"{r['drawn_s']:.1f} s | {r['zoom_ms']:.0f} ms | "
                f"{r['recluster_cold_s']:.3f} s | {r['recluster_warm_s']:.3f} s | {r['recluster_all_s']:.2f} s | "
                f"{r['hover_p50_ms']:.0f}/{r['hover_p95_ms']:.0f} ms | {r['thumb_p50_ms']:.1f}/{r['thumb_p95_ms']:.1f} ms |",
                flush=True,
            )


if __name__ == "__main__":
    main()
