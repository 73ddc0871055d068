"""Load: concurrent simulated users hovering and re-clustering against gunicorn, as deployed (issue 7).

Serves a run with ``gunicorn app:server`` and ``gunicorn.conf.py`` on loopback
(the server and these users share the machine's cores), then runs N user
threads for a fixed time; it stops by itself. Each user, with its own random
generator:

- hovers: the tooltip callback, then the four window thumbnails it shows
  (what a mouse moving over the map costs), every 50-250 ms;
- re-clusters now and then (1 action in 8): the cluster-table callback with
  its own min_cluster_size, one of six per user. Every answer must equal the
  one a single user got for the same parameters before the load began: users
  never see each other's clusterings.

Beside them, R reviewers decide on labels through the Glitch tab's decision
callback (accept where there is a proposal, else reject or "candidate new
class"), each under their own name, every 100-400 ms, many on the same glitches.
A decision is acknowledged when the answer advances the page's review tick.
At the end the review database (SQLite, a fresh file) must hold exactly the
acknowledged decisions and pass SQLite's integrity check.

It reports requests, errors, p50/p95/max latency per kind, and the server's
memory (RSS of the gunicorn master and workers, sampled every second): after
start-up, peak, at the end, and the growth between the first and the last
10 s of the run. It exits non-zero on any error or a growth above
``--max-growth-mb``.

    python benchmarks/bench_load.py [--run data/runs/demo | --points 34000] [--users 20] [--reviewers 20]
        [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from explorer.client import callback_body, gunicorn_server
from precompute.rundir import load_run

ROOT = Path(__file__).resolve().parent.parent
FACTORS = (0.6, 0.8, 1.0, 1.25, 1.6, 2.0)


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/_dash-update-component", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


class Callbacks:
    """The two callbacks users fire, as the renderer finds them (from ``/_dash-dependencies``)."""

    def __init__(self, url: str, gravityspy_ids: list[str]):
        self.url = url
        self.gravityspy_ids = gravityspy_ids  #: each point's glitch: what the note it sends was typed for
        deps = json.loads(_get(f"{url}/_dash-dependencies"))
        self.table = next(d for d in deps if "cluster-grid.rowData" in d["output"])
        self.hover = next(
            d for d in deps if any(i["id"] == "map" and i["property"] == "hoverData" for i in d["inputs"])
        )
        self.decision = next(d for d in deps if any(i["id"] == "decide-accept" for i in d["inputs"]))

    def clusters(self, params: dict) -> list:
        store = [
            {"id": "cluster-params", "property": "data", "value": params},
            {"id": "label-source", "property": "value", "value": "label"},
        ]
        response = _post(self.url, callback_body(self.table["output"], store))
        return response["response"]["cluster-grid"]["rowData"]

    def hover_on(self, point: int, params: dict) -> dict:
        event = {"points": [{"curveNumber": 0, "pointNumber": point, "customdata": point, "bbox": {"x0": 1, "x1": 2, "y0": 1, "y1": 2}}]}  # fmt: skip
        inputs = [{"id": "map", "property": "hoverData", "value": event}]
        state = [{"id": s["id"], "property": s["property"], "value": params} for s in self.hover["state"]]
        return _post(self.url, callback_body(self.hover["output"], inputs, state))

    def decide(self, point: int, action: str, reviewer: str, params: dict) -> bool:
        """Post one decision as the Glitch tab's button does; whether the server acknowledged storing it."""
        button = {"accept": "decide-accept", "reject": "decide-reject", "new_class": "decide-new-class"}[action]
        values = {"selected-point": point, button: 1, "reviewer": reviewer, "cluster-params": params,
                  "decision-note": f"load test: {action}", "decision-inputs-for": self.gravityspy_ids[point],
                  "review-tick": 0}  # fmt: skip
        inputs = [{**i, "value": values.get(i["id"])} for i in self.decision["inputs"]]
        state = [{**s, "value": values.get(s["id"])} for s in self.decision["state"]]
        body = callback_body(self.decision["output"], inputs, state)
        body["changedPropIds"] = [f"{button}.n_clicks"]
        return "review-tick" in _post(self.url, body)["response"]


class Results:
    """Latencies and errors by kind of request, shared by the user threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def timed(self, kind: str, call, *args):
        start = time.perf_counter()
        try:
            value = call(*args)
        except (OSError, ValueError, KeyError) as exc:  # HTTPError is an OSError
            with self.lock:
                self.errors[kind].append(f"{type(exc).__name__}: {exc}")
            return None
        with self.lock:
            self.latency[kind].append(time.perf_counter() - start)
        return value

    def error(self, kind: str, message: str) -> None:
        with self.lock:
            self.errors[kind].append(message)


def user(number: int, calls: Callbacks, params: list[dict], expected: list[list], keys: list[list[str]],
         stop: float, results: Results) -> None:  # fmt: skip
    """One simulated scientist: hovers over random points, re-clusters with their own settings now and then."""
    rng = random.Random(number)
    mine = params[number % len(params)]
    truth = expected[number % len(params)]
    current = mine
    while time.monotonic() < stop:
        if rng.random() < 1 / 8:
            current = mine if current is not mine else params[0]
            rows = results.timed("re-cluster", calls.clusters, current)
            want = truth if current is mine else expected[0]
            if rows is not None and rows != want:
                results.error("re-cluster", f"user {number} got another clustering than {current}")
        else:
            point = rng.randrange(len(keys))
            if results.timed("hover callback", calls.hover_on, point, current) is not None:
                for key in keys[point]:
                    results.timed("thumbnail", _get, f"{calls.url}/previews/thumb/{key}.webp")
        time.sleep(rng.uniform(0.05, 0.25))


def reviewer(number: int, calls: Callbacks, params: dict, proposals: np.ndarray, stop: float,
             results: Results, acknowledged: list[int]) -> None:  # fmt: skip
    """One curator deciding quickly; the glitches are drawn from a small pool, so reviewers often collide."""
    rng = random.Random(1000 + number)
    name = f"reviewer {number:02d}"
    while time.monotonic() < stop:
        point = rng.randrange(min(len(proposals), 40))
        action = "accept" if proposals[point] and rng.random() < 0.7 else rng.choice(["reject", "new_class"])
        stored = results.timed("decision", calls.decide, point, action, name, params)
        if stored:
            with results.lock:
                acknowledged[0] += 1
        elif stored is not None:
            results.error("decision", f"{name}: the server did not store a decision on point {point}")
        time.sleep(rng.uniform(0.1, 0.4))


def _has_proposal(run: Path, points) -> np.ndarray:
    """Which points the audit proposes another label for (``audit/glitches.csv``; none without an audit)."""
    import pandas as pd

    glitches = run / "audit" / "glitches.csv"
    if not glitches.is_file():
        return np.zeros(len(points), dtype=bool)
    audit = pd.read_csv(glitches, dtype={"gravityspy_id": str})
    return (audit["proposed_label"].astype(str) != points["label"].astype(str).to_numpy()).to_numpy()


def stored_decisions(path: Path) -> tuple[int, str]:
    """Rows in the review database, and SQLite's integrity verdict on it."""
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]), db.execute(
            "PRAGMA integrity_check"
        ).fetchone()[0]


def server_rss_mb(master: int) -> float:
    """Resident memory of the gunicorn master and its workers, MB."""
    try:
        process = psutil.Process(master)
        return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 1e6
    except psutil.Error:
        return float("nan")


def load_test(
    run: Path, *, users: int, reviewers: int, seconds: float, workers: int, threads: int, workdir: Path
) -> dict:
    loaded = load_run(run)
    by_glitch = loaded.images.groupby("gravityspy_id")["key"].apply(list)
    keys = [by_glitch.get(g, [])[:4] for g in loaded.points["gravityspy_id"]]
    base = loaded.manifest["cluster_params_used"]
    params = [base] + [
        {**base, "min_cluster_size": max(2, round(base["min_cluster_size"] * f))} for f in FACTORS if f != 1.0
    ]
    proposals = _has_proposal(run, loaded.points)
    review_db = workdir / "review" / "decisions.sqlite"
    review_db.parent.mkdir()
    acknowledged = [0]
    with gunicorn_server(
        run, workdir / "cache", workers=workers, threads=threads, log=workdir / "gunicorn.log", review_db=review_db
    ) as server:
        calls = Callbacks(server.url, loaded.points["gravityspy_id"].astype(str).tolist())
        expected = [calls.clusters(p) for p in params]  # one user alone, before the load
        results = Results()
        memory: list[tuple[float, float]] = []
        start = time.monotonic()
        stop = start + seconds
        pool = [
            threading.Thread(target=user, args=(i, calls, params, expected, keys, stop, results), daemon=True)
            for i in range(users)
        ] + [
            threading.Thread(
                target=reviewer, args=(i, calls, base, proposals, stop, results, acknowledged), daemon=True
            )
            for i in range(reviewers)
        ]
        for thread in pool:
            thread.start()
        while time.monotonic() < stop:
            memory.append((time.monotonic() - start, server_rss_mb(server.process.pid)))
            time.sleep(1.0)
        for thread in pool:
            thread.join(timeout=120)
        memory.append((time.monotonic() - start, server_rss_mb(server.process.pid)))
        log = (workdir / "gunicorn.log").read_text(errors="replace")
    if "Traceback" in log:
        results.error("server", "the server log holds a traceback")
    in_database, integrity = stored_decisions(review_db) if review_db.exists() else (0, "no database")
    if in_database != acknowledged[0]:
        results.error("decision", f"{acknowledged[0]} decisions acknowledged but {in_database} in the database")
    if integrity != "ok":
        results.error("decision", f"the review database fails SQLite's integrity check: {integrity}")
    times = np.array([t for t, _ in memory])
    rss = np.array([m for _, m in memory])
    window = min(10.0, seconds / 3)
    return {
        "points": len(loaded.points),
        "distinct_clusterings": len({json.dumps(e, sort_keys=True) for e in expected}),
        "results": results,
        "rss_start": float(rss[0]),
        "rss_peak": float(np.nanmax(rss)),
        "rss_end": float(rss[-1]),
        "rss_growth": float(np.nanmean(rss[times >= times[-1] - window]) - np.nanmean(rss[times <= window])),
        "elapsed": seconds,
        "acknowledged": acknowledged[0],
        "in_database": in_database,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=ROOT / "data" / "runs" / "demo", help="run to serve")
    parser.add_argument("--points", type=int, help="serve a synthetic run of this many points instead")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--reviewers", type=int, default=20, help="curators deciding on labels at the same time")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (GSX_WORKERS)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (GSX_THREADS)")
    parser.add_argument("--max-growth-mb", type=float, default=64.0, help="fail above this memory growth")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gsx-load-") as tmp:
        workdir = Path(tmp)
        run = args.run
        if args.points:
            from benchmarks.bench_explorer import make_run

            preview = next((ROOT / "data" / "runs" / "demo" / "previews").glob("*-thumb.webp"), None)
            if preview is None:
                print("no preview WebP to copy: run `make demo-run` first", file=sys.stderr)
                return 2
            run = make_run(args.points, workdir / "run", preview)
        elif not (run / "manifest.json").is_file():
            print(f"no run at {run}: make one with `make demo-run` or pass --run / --points", file=sys.stderr)
            return 2
        out = load_test(
            run,
            users=args.users,
            reviewers=args.reviewers,
            seconds=args.seconds,
            workers=args.workers,
            threads=args.threads,
            workdir=workdir,
        )
    results: Results = out["results"]
    print(f"# load: {args.users} users and {args.reviewers} reviewers for {args.seconds:.0f} s, gunicorn {args.workers} workers x {args.threads} threads, "
          f"{out['points']} points ({out['distinct_clusterings']} distinct clusterings in play)")  # fmt: skip
    print(f"# {machine_line()}")
    print(f"{'request':<16} {'count':>7} {'per s':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    total_errors = 0
    for kind in ("thumbnail", "hover callback", "re-cluster", "decision", "server"):
        lat = np.array(results.latency.get(kind, [])) * 1e3
        errors = len(results.errors.get(kind, []))
        total_errors += errors
        if len(lat) == 0 and not errors:
            continue
        p50, p95, top = (np.percentile(lat, 50), np.percentile(lat, 95), lat.max()) if len(lat) else (np.nan,) * 3
        print(
            f"{kind:<16} {len(lat):>7} {len(lat) / out['elapsed']:>7.1f} {errors:>7} {p50:>8.1f} {p95:>8.1f} {top:>8.1f}"
        )
    print(f"server RSS MB: start {out['rss_start']:.0f}, peak {out['rss_peak']:.0f}, end {out['rss_end']:.0f}, "
          f"growth first-to-last 10 s {out['rss_growth']:+.1f} (bound {args.max_growth_mb:.0f})")  # fmt: skip
    print(f"decisions acknowledged {out['acknowledged']}, in the review database {out['in_database']}")
    for kind, messages in results.errors.items():
        for message in messages[:5]:
            print(f"error [{kind}]: {message}", file=sys.stderr)
    ok = total_errors == 0 and out["rss_growth"] <= args.max_growth_mb
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
