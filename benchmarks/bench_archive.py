"""The synthetic archive and its readers at the archive's size: write, read the catalogue, read and join the consensus.

Target (issue 17): the metadata of 700,000 glitches written in <= 2 minutes on our 2 cores.

    python benchmarks/bench_archive.py [--sizes 10000,100000,700000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._machine import machine_line
from precompute.archive.classifications import read_classifications
from precompute.archive.consensus import join_consensus, read_consensus
from precompute.synth.archive import CONSENSUS_FILE, generate_archive


def _timed(call, *args, **kwargs):
    start = time.perf_counter()
    value = call(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,700000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("# synthetic archive: 8 catalogue CSVs (H1/L1 x O1..O3b), consensus HDF5 for 40 % of the glitches")
    print(f"# {machine_line()}")
    print("| glitches | write (s) | on disk (MB) | read catalogue (s) | read + join consensus (s) | rows/s written |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root, write_s = _timed(generate_archive, Path(tmp) / "archive", glitches=n, seed=0)
            size_mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
            read, read_s = _timed(read_classifications, root)
            start = time.perf_counter()
            join_consensus(read, read_consensus(root / CONSENSUS_FILE))
            join_s = time.perf_counter() - start
        print(f"| {n:,} | {write_s:.1f} | {size_mb:.0f} | {read_s:.1f} | {join_s:.1f} | {n / write_s:,.0f} |")


if __name__ == "__main__":
    main()
