"""The three-source audit measured on a synthetic archive: do the spectrogram neighbours pick the right side?

Every step is the real command a curator runs: ``synth --archive --images N``
(rendered from each glitch's true class), the images served over loopback
HTTP, ``fetch --consensus`` (only the imaged glitches), ``run`` (ResNet-18;
``--weights random`` on our machines, where ImageNet's cannot be downloaded), and
``archive-audit --run --truth``. The verdict's settings (K = 15 neighbours,
a sign test at 0.05) were fixed in precompute/audit/sources.py before this
was first run. Prints the table of docs/validation.md ("Three label sources").

    python benchmarks/validate_sources.py [--glitches 100000] [--images 1600] [--seed 7] [--weights W] [--work DIR]

Takes about 40 minutes on our 2 cores at the defaults (rendering ~1.7 glitches/s,
embedding ~23 images/s); a ``--work`` folder resumes every step.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from benchmarks._machine import machine_line  # noqa: E402
from precompute.synth.archive import CONSENSUS_FILE, IMAGES_FOLDER  # noqa: E402

PORT = 8766


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _precompute(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "precompute", *args], cwd=ROOT, check=True)


def _steps(work: Path, args: argparse.Namespace) -> Path:
    """Every step up to the audit (each resumes); returns the audit folder."""
    archive = work / "archive"
    (archive / IMAGES_FOLDER).mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", PORT), functools.partial(_Quiet, directory=str(archive / IMAGES_FOLDER)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _precompute("synth", "--archive", "--out", str(archive), "--glitches", str(args.glitches), "--images",
                    str(args.images), "--seed", str(args.seed), "--url-base", f"http://127.0.0.1:{PORT}")  # fmt: skip
        truth = pd.read_parquet(archive / "truth" / "archive_truth.parquet")
        ids = truth.loc[truth["imaged"], "gravityspy_id"].tolist()
        _precompute("--quiet", "fetch", "--catalog", str(archive), "--consensus", str(archive / CONSENSUS_FILE),
                    "--out", str(work / "data"), "--where", f"gravityspy_id in {ids!r}", "--rate", "1000")  # fmt: skip
    finally:
        server.shutdown()
    _precompute("run", "--data", str(work / "data"), "--out", str(work / "run"), "--cache-dir", str(work / "cache"),
                "--weights", args.weights)  # fmt: skip
    _precompute("--quiet", "archive-audit", "--archive", str(archive), "--consensus", str(archive / CONSENSUS_FILE),
                "--out", str(work / "audit"), "--run", str(work / "run"), "--truth", str(archive / "truth"))  # fmt: skip
    return work / "audit"


def _cell(rule: dict) -> str:
    return "—" if rule["right"] is None else f"{rule['right']:.1%} of {rule['glitches']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glitches", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--weights", default="imagenet", help="as precompute run's (random where ImageNet's are absent)"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "validate-sources")
    args = parser.parse_args()
    summary = json.loads((_steps(args.work, args) / "summary.json").read_text())
    scored = summary["morphology_against_truth"]
    manifest = json.loads((args.work / "run" / "manifest.json").read_text())
    print(f"# {machine_line()}")
    print(f"# archive {args.glitches:,} glitches (seed {args.seed}), {args.images} imaged; "
          f"weights {manifest['embedding']['weights_used']}")  # fmt: skip
    print(f"# {scored['disagreements']} imaged disagreements: the machine right on {scored['machine_right']}, "
          f"the volunteers on {scored['volunteers_right']}, neither on {scored['neither_right']}")  # fmt: skip
    print("| rule (on the imaged disagreements) | right |")
    print("|---|---|")
    print(f"| neighbours side with the machine | {_cell(scored['sides_with_machine'])} |")
    print(f"| neighbours side with the volunteers | {_cell(scored['sides_with_volunteers'])} |")
    print(f"| all verdicts (coverage {scored['coverage']:.0%}; {scored['no_verdict']} without one) | "
          f"{_cell(scored['verdicts'])} |")  # fmt: skip
    print(
        f"| always the machine, same glitches as the verdicts | {_cell(scored['rule_always_machine_where_decided'])} |"
    )
    print(f"| cleanlab, same glitches as the verdicts | {_cell(scored['rule_cleanlab_where_decided'])} |")
    print(f"| always the machine, every disagreement | {_cell(scored['rule_always_machine'])} |")
    print(f"| cleanlab (the machine where it flags the volunteer label) | {_cell(scored['rule_cleanlab'])} |")


if __name__ == "__main__":
    main()
