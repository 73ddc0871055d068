"""Serve the Gravity Spy Glitch Explorer on one run directory.

    python app.py --run data/runs/demo [--host 127.0.0.1] [--port 8050] [--debug]
    gunicorn app:server                  # the run from $GSX_RUN (default: the demo run)

Without ``--run`` (and without ``$GSX_RUN``) it serves the demo run, building
it first when it is missing (``make demo-run``; a few minutes on a laptop).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from explorer import create_app
from explorer.cache import CacheSettingError
from explorer.client import WORKER_READY
from explorer.density import SettingError
from precompute.rundir import RunError

ROOT = Path(__file__).resolve().parent
DEMO_RUN = ROOT / "data" / "runs" / "demo"


def _run_path(requested: str | None) -> Path:
    """The run to serve: the one asked for, else $GSX_RUN, else the demo run (built if missing)."""
    path = Path(requested or os.environ.get("GSX_RUN") or DEMO_RUN)
    if path.resolve() == DEMO_RUN.resolve() and not (path / "manifest.json").is_file():
        print(f"No demo run at {path}: building it now with `make demo-run` (a few minutes)...", file=sys.stderr)
        subprocess.run(["make", "-C", str(ROOT), "demo-run"], check=True)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", help="run directory to serve (default: $GSX_RUN or data/runs/demo)")
    parser.add_argument("--host", default=os.environ.get("GSX_HOST", "127.0.0.1"), help="default: 127.0.0.1 (loopback)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GSX_PORT", "8050")), help="default: 8050")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (never on a shared server)")
    args = parser.parse_args(argv)
    try:
        app = create_app(_run_path(args.run))
    except (RunError, SettingError, CacheSettingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Serving {app.server.config['GSX_DATA'].root} on http://{args.host}:{args.port}/", file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
else:  # imported by a WSGI server: `gunicorn app:server`
    _loading = time.monotonic()
    server = create_app(_run_path(None)).server
    #: with GSX_CACHE_URL=redis://…, the Celery app whose workers build trees: `celery -A app:celery_app worker`
    celery_app = server.config["GSX_CELERY"]
    # one line per worker, once it has loaded and warmed the run: the operator's (and the tests') sign it serves
    print(f"{WORKER_READY} pid {os.getpid()}: {server.config['GSX_DATA'].n_points} points of "
          f"{server.config['GSX_DATA'].root} in {time.monotonic() - _loading:.1f} s", file=sys.stderr, flush=True)  # fmt: skip
