"""Command line: ``python -m precompute <command>``.

Commands: ``synth`` (generate a synthetic Gravity Spy data set) and ``inspect``
(read any supported data set and report what is in it and what is wrong).
User errors are printed as one message, without a traceback, with exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import PrecomputeError

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    from .io import FORMATS

    parser = argparse.ArgumentParser(
        prog="python -m precompute", description="Gravity Spy Glitch Explorer: offline stages."
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="generate a synthetic Gravity Spy data set with planted label failures")
    synth.add_argument(
        "--out", required=True, type=Path, help="destination folder (new, or an interrupted run to resume)"
    )
    synth.add_argument("--glitches", required=True, type=_positive_int, help="number of glitches (4 PNGs each)")
    synth.add_argument("--seed", type=int, default=0, help="seed of everything random (default: 0)")
    synth.add_argument("--plan", type=Path, default=None, help="plan JSON (default: the built-in default plan)")
    synth.add_argument("--hdf5", action="store_true", help="also write trainingsetv1d1.h5 (the HDF5 release form)")
    synth.add_argument("--workers", type=_positive_int, default=None, help="rendering processes (default: all cores)")

    inspect = sub.add_parser("inspect", help="read a data set and report its contents and problems")
    inspect.add_argument("--data", required=True, type=Path, help="data set folder or file")
    inspect.add_argument("--format", choices=sorted(FORMATS), default=None, help="skip auto-detection")
    inspect.add_argument("--metadata", type=Path, default=None, help="metadata CSV, when not in the usual place")
    inspect.add_argument("--no-verify", action="store_true", help="do not decode every image")
    return parser


def _synth(args: argparse.Namespace) -> int:
    from .synth.generate import generate_dataset

    result = generate_dataset(
        args.out, glitches=args.glitches, seed=args.seed, plan=args.plan, hdf5=args.hdf5, workers=args.workers
    )
    altered = int(result.truth["label_altered"].sum())
    print(
        f"wrote {len(result.metadata)} glitches ({result.rendered} rendered, {result.reused} reused) to {result.root}; "
        f"{altered} labels differ from the true morphology (see {result.root / 'truth' / 'truth.csv'})"
    )
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from .io import read_dataset

    dataset = read_dataset(args.data, format=args.format, metadata=args.metadata, verify=not args.no_verify)
    print(dataset.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr
    )
    try:
        return {"synth": _synth, "inspect": _inspect}[args.command](args)
    except PrecomputeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is kept; run the same command again to resume", file=sys.stderr)
        return 130
