"""Screenshots of the dashboard as a user sees it: every tab, at a laptop's and a desktop's window size.

Serves a run with ``python app.py`` (its own cache and review database, so nothing of yours is touched),
opens it in headless Chromium, chooses the first cluster and the most suspicious glitch so that every tab
has something in it, and saves one PNG per tab and size. For docs/explorer.md, and for looking at the app
before and after a change to it (nothing truncated, one scrollbar per region).

    python scripts/screenshots.py --run data/runs/demo --out docs/images/tabs [--sizes 1400x900,1920x1080]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from explorer.client import free_port  # noqa: E402

#: The label-audit table's first row (the most suspicious glitch).
FIRST_AUDIT_ROW = "#audit-grid .ag-center-cols-container .ag-row .ag-cell"
#: The tabs, by their label, and the file stem each is saved under.
TABS = {"Clusters": "clusters", "Glitch": "glitch", "Selection": "selection", "Failure modes": "failures",
        "Label audit": "audit"}  # fmt: skip


def _driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("DASH_TEST_CHROMEPATH", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
                     f"--window-size={width},{height}", "--hide-scrollbars=false"):  # fmt: skip
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise TimeoutError("the page did not get there in time")


def _idle(driver) -> bool:
    return driver.execute_script(
        "if (!window.store) return false; const c = Object.assign({}, window.store.getState().callbacks);"
        "delete c.stored; delete c.completed; return Object.values(c).every(l => !l.length);"
    )


def shoot(url: str, out: Path, width: int, height: int) -> list[Path]:
    from selenium.webdriver.common.by import By

    driver = _driver(width, height)
    saved = []
    try:
        driver.get(url)
        _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#cluster-grid .ag-row"))
        _wait(lambda: _idle(driver))
        time.sleep(1.5)  # the scatter's WebGL frame
        tabs = {link.text: link for link in driver.find_elements(By.CSS_SELECTOR, "#tabs .nav-link")}
        driver.find_element(By.CSS_SELECTOR, "#cluster-grid .ag-center-cols-container .ag-row .ag-cell").click()
        _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#cluster-title"))
        for label, stem in TABS.items():
            if label not in tabs:
                continue
            tabs[label].click()
            if label == "Label audit":
                _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#audit-grid .ag-row"))
            if label == "Glitch" and not driver.find_elements(By.CSS_SELECTOR, "#detail-content"):
                tabs["Label audit"].click()  # its first row: the most suspicious glitch
                _wait(lambda: driver.find_element(By.CSS_SELECTOR, FIRST_AUDIT_ROW).is_displayed())
                driver.find_element(By.CSS_SELECTOR, FIRST_AUDIT_ROW).click()
                _wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#detail-content"))
            _wait(lambda: _idle(driver))
            time.sleep(1.0)  # images
            path = out / f"{stem}-{width}x{height}.png"
            driver.save_screenshot(str(path))
            saved.append(path)
    finally:
        driver.quit()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "data" / "runs" / "demo")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "screenshots")
    parser.add_argument("--sizes", default="1400x900,1920x1080", help="window sizes, WIDTHxHEIGHT, comma-separated")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "GSX_CACHE_DIR": f"{scratch}/cache", "GSX_REVIEW_DB": f"{scratch}/decisions.sqlite"}
        server = subprocess.Popen(
            [sys.executable, "app.py", "--run", str(args.run), "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(lambda: urllib.request.urlopen(f"{url}/healthz", timeout=2).status == 200, timeout=180)
            for size in args.sizes.split(","):
                width, height = (int(v) for v in size.lower().split("x"))
                for path in shoot(url, args.out, width, height):
                    print(path)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
