"""Command line: ``python -m precompute <command>``.

Commands: ``synth`` (generate a synthetic Gravity Spy data set), ``run``
(embed, map, cluster and audit a data set into a run directory), ``audit``
(recompute a run's audit), ``evaluate`` (score a run's audit against a
synthetic set's truth and cleanlab), ``validate`` (generate, run, evaluate and
tabulate synthetic sets in one go), ``apply-decisions`` (a corrected copy of a
metadata CSV from the curators' decisions the dashboard exports) and
``inspect`` (read any supported data set, or a run, and report what is in it
and what is wrong).
User errors are printed as one message, without a traceback, with exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DataError, PrecomputeError

if TYPE_CHECKING:
    from .reduce import UMAPConfig

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

    run = sub.add_parser("run", help="embed, map and cluster a data set into a run directory for the dashboard")
    _add_run_arguments(run, formats=sorted(FORMATS))

    audit = sub.add_parser("audit", help="compute a run's taxonomy metrics and write them into RUN/audit/")
    audit.add_argument("--run", required=True, type=Path, help="a run directory made by 'run'")

    evaluate = sub.add_parser(
        "evaluate", help="score a run's audit against a synthetic set's truth (and against cleanlab)"
    )
    evaluate.add_argument("--run", required=True, type=Path, help="a run directory made by 'run' on a synthetic set")
    evaluate.add_argument("--truth", required=True, type=Path, help="the synthetic set's truth/ folder")

    validate = sub.add_parser(
        "validate", help="generate synthetic sets, run and evaluate them, and tabulate the results (docs/validation.md)"
    )
    validate.add_argument(
        "--plans", required=True, type=_names, help="comma-separated shipped plan names or .json paths"
    )
    validate.add_argument(
        "--glitches", required=True, type=_sizes, help="comma-separated set sizes, e.g. 300,1000,2000"
    )
    validate.add_argument("--seeds", type=_sizes, default=(1,), help="comma-separated data seeds (default: 1)")
    validate.add_argument("--workdir", type=Path, default=Path("data/validation"), help="sets, runs and results")
    validate.add_argument(
        "--stability", action="store_true", help="also cut a second map (another UMAP seed) of each set"
    )
    validate.add_argument("--doc", type=Path, default=None, help="write the table into this Markdown file too")
    validate.add_argument("--section", default="results", help="the <!-- validate:SECTION --> markers in --doc")
    validate.add_argument("--workers", type=_positive_int, default=2, help="rendering and preview processes")
    validate.add_argument("--cache-dir", type=Path, default=None, help="embedding and preview cache (as for 'run')")

    apply = sub.add_parser(
        "apply-decisions", help="write a corrected copy of a data set's metadata CSV from curators' decisions"
    )
    apply.add_argument("--data", required=True, type=Path, help="the data set folder, or its metadata CSV")
    apply.add_argument("--decisions", required=True, type=Path, help="decisions exported by the dashboard (.csv/.json)")
    apply.add_argument("--out", required=True, type=Path, help="the corrected CSV to write (never the original)")
    apply.add_argument(
        "--allow-new-labels", action="store_true", help="accept new labels outside the taxonomy and the data set"
    )

    _add_archive_commands(sub, synth)

    inspect = sub.add_parser(
        "inspect", help="report what a data set (or a run directory) holds and what is wrong with it"
    )
    target = inspect.add_mutually_exclusive_group(required=True)
    target.add_argument("--data", type=Path, help="data set folder or file")
    target.add_argument("--run", type=Path, help="a run directory made by 'run'")
    target.add_argument("--archive", type=Path, help="the archive's ML classification CSVs (a folder or one file)")
    inspect.add_argument("--consensus", type=Path, default=None, help="with --archive: the volunteers' consensus HDF5")
    inspect.add_argument("--format", choices=sorted(FORMATS), default=None, help="skip auto-detection")
    inspect.add_argument("--metadata", type=Path, default=None, help="metadata CSV, when not in the usual place")
    inspect.add_argument("--no-verify", action="store_true", help="do not decode every image")
    return parser


def _add_archive_commands(sub: argparse._SubParsersAction, synth: argparse.ArgumentParser) -> None:
    """The archive's commands (fetch its images, compare its machine and volunteer labels) and synth's archive options."""
    synth.add_argument(
        "--archive",
        action="store_true",
        help="write a synthetic Gravity Spy archive instead (catalogue CSVs per detector and run, the volunteers' "
        "consensus HDF5, planted truth; images only with --images)",
    )
    synth.add_argument("--url-base", default=None, help="with --archive: where the image URLs point")
    synth.add_argument(
        "--images", type=int, default=0, help="with --archive: render the PNGs of this many glitches with a consensus"
    )
    synth.add_argument("--votes", type=int, default=0, help="with --archive: individual votes on this many glitches")
    fetch = sub.add_parser(
        "fetch", help="download the archive's images of chosen glitches into the training-set layout (resumable)"
    )
    fetch.add_argument("--catalog", required=True, type=Path, help="ML classification CSVs (a folder or one file)")
    fetch.add_argument("--out", required=True, type=Path, help="destination folder (new, or one to resume)")
    fetch.add_argument(
        "--consensus",
        type=Path,
        default=None,
        help="the volunteers' consensus HDF5: its labels join the metadata (and --where can use volunteer_label)",
    )
    fetch.add_argument("--windows", default="0.5,1.0,2.0,4.0", help="time windows to fetch (default: all four)")
    fetch.add_argument("--limit", type=_positive_int, default=None, help="fetch the first N chosen glitches only")
    fetch.add_argument("--where", default=None, help="""a pandas query on the catalogue, e.g. 'ml_label == "Blip"'""")
    fetch.add_argument("--concurrency", type=int, default=4, help="requests at once (default: 4)")
    fetch.add_argument("--rate", type=float, default=10.0, help="requests per second in all (default: 10)")
    fetch.add_argument("--retries", type=int, default=4, help="tries after the first for a failing image (default: 4)")
    fetch.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for one response (default: 30)")
    fetch.add_argument("--retry-gone", action="store_true", help="ask again for images that were 404 last time")

    agree = sub.add_parser(
        "archive-audit", help="machine vs volunteer labels in the archive, and the volunteer labels its scores doubt"
    )
    agree.add_argument("--archive", required=True, type=Path, help="ML classification CSVs (a folder or one file)")
    agree.add_argument("--consensus", required=True, type=Path, help="the volunteers' consensus HDF5")
    agree.add_argument("--out", required=True, type=Path, help="folder for the tables and summary.json")
    agree.add_argument("--truth", type=Path, default=None, help="a synthetic archive's truth/ folder: score against it")
    agree.add_argument("--all-consensus", action="store_true", help="use unretired glitches' consensus too")
    agree.add_argument(
        "--run",
        type=Path,
        default=None,
        help="a run of fetched images (fetch --consensus): which side their neighbours take where the labels disagree",
    )
    agree.add_argument("--votes", type=Path, default=None, help="a Zooniverse classification export: run CROWDLAB")
    agree.add_argument("--vote-id-field", default=None, help="subject metadata key holding the gravityspy_id")


def _input_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH such as 140x170, got {text!r}") from None
    return height, width


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected one or more comma-separated names, got {text!r}")
    return names


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(_positive_int(part) for part in _names(text))


def _windows(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _add_run_arguments(parser: argparse.ArgumentParser, *, formats: list[str]) -> None:
    from .cluster import ClusterParams
    from .embed_cache import default_cache_dir
    from .reduce import UMAPConfig

    umap_defaults, cluster_defaults = UMAPConfig(), ClusterParams()
    io = parser.add_argument_group("input and output")
    io.add_argument("--data", required=True, type=Path, help="data set folder or file (see docs/data-formats.md)")
    io.add_argument("--out", required=True, type=Path, help="run directory to write (replaced atomically if it exists)")
    io.add_argument("--format", choices=formats, default=None, help="skip format auto-detection")
    io.add_argument("--metadata", type=Path, default=None, help="metadata CSV, when not in the usual place")
    io.add_argument(
        "--cache-dir", type=Path, default=default_cache_dir(), help="embedding and preview cache (default: %(default)s)"
    )
    io.add_argument(
        "--cache-shard-size",
        type=_positive_int,
        default=512,
        help="images per embedding-cache shard: a killed run loses at most one shard (default: 512)",
    )
    emb = parser.add_argument_group("images and embedding")
    emb.add_argument(
        "--windows", type=_windows, default=None, help="comma-separated time windows to use (default: all)"
    )
    emb.add_argument(
        "--unit",
        choices=["glitch", "image"],
        default="glitch",
        help="glitch: fuse each glitch's windows into one point (default); image: one point per PNG, as the seed study",
    )
    emb.add_argument(
        "--fusion",
        choices=["mean", "concat"],
        default="mean",
        help="how windows are fused (default: mean; see docs/pipeline.md)",
    )
    emb.add_argument(
        "--crop",
        choices=["plot-area", "none"],
        default="plot-area",
        help="none feeds whole figures, chrome included (seed's flaw; comparison only)",
    )
    emb.add_argument(
        "--colour",
        choices=["energy", "grey", "rgb"],
        default="energy",
        help="network input: energy recovered from viridis (default), grey luminance, or the rgb colours",
    )
    emb.add_argument(
        "--input-size", type=_input_size, default=(140, 170), help="network input HEIGHTxWIDTH (default: 140x170)"
    )
    emb.add_argument(
        "--weights", default="imagenet", help="imagenet | imagenet-or-random | random | PATH.pth (default: imagenet)"
    )
    emb.add_argument(
        "--device", choices=["auto", "cuda", "cpu"], default="auto", help="default: auto (CUDA when available)"
    )
    emb.add_argument("--batch-size", type=_positive_int, default=64)
    emb.add_argument("--workers", type=int, default=2, help="DataLoader and preview processes (default: 2)")
    _add_engine_arguments(parser)
    _add_map_arguments(parser, umap_defaults)
    clu = parser.add_argument_group("HDBSCAN")
    clu.add_argument("--min-cluster-size", type=int, default=cluster_defaults.min_cluster_size)
    clu.add_argument("--min-samples", type=int, default=cluster_defaults.min_samples)
    clu.add_argument("--cluster-selection", choices=["eom", "leaf"], default=cluster_defaults.selection_method)
    clu.add_argument("--cluster-epsilon", type=float, default=cluster_defaults.epsilon)
    parser.add_argument("--seed", type=int, default=42, help="seed of UMAP and of random weights (default: 42)")


def _add_map_arguments(parser: argparse.ArgumentParser, umap_defaults: UMAPConfig) -> None:
    from .reduce import BACKENDS

    red = parser.add_argument_group("UMAP")
    red.add_argument("--umap-neighbors", type=int, default=umap_defaults.n_neighbors)
    red.add_argument("--umap-min-dist", type=float, default=umap_defaults.min_dist)
    red.add_argument("--umap-metric", default=umap_defaults.metric)
    red.add_argument(
        "--umap-backend", choices=BACKENDS, default=umap_defaults.backend,
        help="who fits the map: umap-learn (CPU) or cuML's UMAP (GPU, requirements-gpu.txt); auto: cuML where it "
        "is installed and sees a GPU (default)",
    )  # fmt: skip
    red.add_argument(
        "--map-from", type=Path, default=None, metavar="RUN",
        help="place the points on RUN's map instead of fitting a new one: glitches RUN has keep their places, "
        "new ones are placed with UMAP's transform (for data sets that grow)",
    )  # fmt: skip
    red.add_argument(
        "--no-map-model", dest="keep_map_model", action="store_false",
        help="do not keep the fitted UMAP model in the cache (about 5.5 KB a point; --map-from needs it)",
    )  # fmt: skip


def _add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    from .embed_stage import ENGINES, EngineConfig

    engine = parser.add_argument_group("where embedding runs")
    engine.add_argument(
        "--engine", choices=ENGINES, default=EngineConfig().engine,
        help="where embedding runs: local (torch here, the default) or ray (Ray Data: decoding as CPU tasks, "
        "ResNet-18 in an actor pool, one GPU per actor; see docs/pipeline.md)",
    )  # fmt: skip
    engine.add_argument(
        "--ray-address", default=None,
        help="a running Ray cluster: auto, HOST:PORT or ray://HOST:10001 (default: start Ray on this machine)",
    )  # fmt: skip
    engine.add_argument(
        "--ray-actors", type=_positive_int, default=None,
        help="embedding actors on Ray (default: one per GPU in the cluster, or one without GPUs)",
    )  # fmt: skip


def _run(args: argparse.Namespace) -> int:
    from .cluster import ClusterParams
    from .pipeline import RunConfig, run_pipeline
    from .preprocess import PreprocessConfig
    from .reduce import UMAPConfig

    config = RunConfig(
        data=args.data,
        out=args.out,
        format=args.format,
        metadata=args.metadata,
        windows=args.windows,
        unit=args.unit,
        fusion=args.fusion,
        preprocess=PreprocessConfig(
            crop=args.crop, colour=args.colour, height=args.input_size[0], width=args.input_size[1]
        ),
        weights=args.weights,
        device=args.device,
        batch_size=args.batch_size,
        workers=args.workers,
        umap=UMAPConfig(
            n_neighbors=args.umap_neighbors,
            min_dist=args.umap_min_dist,
            metric=args.umap_metric,
            seed=args.seed,
            backend=args.umap_backend,
        ),
        cluster=ClusterParams(args.min_cluster_size, args.min_samples, args.cluster_selection, args.cluster_epsilon),
        cache_dir=args.cache_dir,
        shard_images=args.cache_shard_size,
        seed=args.seed,
        engine=args.engine,
        ray_address=args.ray_address,
        ray_actors=args.ray_actors,
        map_from=args.map_from,
        keep_map_model=args.keep_map_model,
    )
    summary = run_pipeline(config, argv=[sys.executable, "-m", "precompute", *sys.argv[1:]])
    print(
        f"wrote {summary.out}: {summary.n_points} points, {summary.n_clusters} clusters, "
        f"{summary.noise_fraction:.1%} noise; embedded {summary.embedded} images, {summary.cache_hits} from cache; "
        f"{len(summary.warnings)} warning(s)"
    )
    return 0


def _audit(args: argparse.Namespace) -> int:
    import numpy as np

    from .audit import audit_points, write_audit
    from .rundir import load_run

    run = load_run(args.run)
    tables = audit_points(
        run.points,
        np.asarray(run.embeddings()),
        persistence=np.asarray(run.manifest.get("cluster_persistence", [])),
        run_parameters=run.manifest.get("parameters", {}),
    )
    write_audit(run.root / "audit", tables)
    g = tables.summary
    print(
        f"{g.n_clusters} clusters over {g.n_clustered} of {g.n_points} points ({g.noise_fraction:.1%} noise): "
        f"homogeneity {g.homogeneity:.3f}, completeness {g.completeness:.3f}, V {g.v_measure:.3f}, "
        f"NMI {g.nmi:.3f}, ARI {g.ari:.3f}"
    )
    print("most ambiguous clusters:")
    for row in tables.clusters.head(5).itertuples():
        print(
            f"  cluster {row.cluster}: n={row.size}, top {row.top_label}, purity {row.purity:.2f}, H={row.entropy_bits:.2f} bits"
        )
    print("most scattered labels:")
    for row in tables.labels.head(5).itertuples():
        print(
            f"  {row.label}: n={row.size}, H(cluster|label)={row.cluster_entropy_bits:.2f} bits over {row.n_clusters} clusters"
        )
    for items in tables.findings.values():  # every kind, in its order (precompute.audit.findings)
        for finding in items:
            print(finding.cli_line())
    print(f"{len(tables.corrections)} proposed corrections (audit/corrections.csv)")
    for warning in g.warnings:
        print(f"warning: {warning}")
    print(f"tables written to {run.root / 'audit'}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .audit.evaluate import evaluate_run, format_evaluation
    from .rundir import load_run

    print(format_evaluation(evaluate_run(load_run(args.run), args.truth)))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .embed_cache import default_cache_dir
    from .validate import ValidationSet, validate, validation_table, write_section

    sets = [ValidationSet(plan, n, seed) for plan in args.plans for n in args.glitches for seed in args.seeds]
    results = validate(
        sets, args.workdir, cache_dir=default_cache_dir(), stability=args.stability, workers=args.workers
    )
    table = validation_table(results)
    print(table)
    if args.doc is not None:
        write_section(args.doc, args.section, table)
        print(f"table written into {args.doc} ({args.section})")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from .synth.generate import generate_dataset

    if args.archive:
        from .synth.archive import DEFAULT_URL_BASE, generate_archive

        root = generate_archive(
            args.out,
            glitches=args.glitches,
            seed=args.seed,
            url_base=args.url_base or DEFAULT_URL_BASE,
            votes=args.votes,
            images=args.images,
            workers=args.workers,
            show_progress=True,
        )
        print(f"wrote a synthetic archive of {args.glitches:,} glitches to {root} (truth in {root / 'truth'})")
        return 0

    result = generate_dataset(
        args.out, glitches=args.glitches, seed=args.seed, plan=args.plan, hdf5=args.hdf5, workers=args.workers
    )
    altered = int(result.truth["label_altered"].sum())
    print(
        f"wrote {len(result.metadata)} glitches ({result.rendered} rendered, {result.reused} reused) to {result.root}; "
        f"{altered} labels differ from the true morphology (see {result.root / 'truth' / 'truth.csv'})"
    )
    return 0


def _apply_decisions(args: argparse.Namespace) -> int:
    from .decisions import apply_decisions_file
    from .io.metadata import find_metadata_csv

    metadata = args.data if args.data.is_file() else find_metadata_csv(args.data)
    if metadata is None:
        raise DataError(f"no metadata CSV found in {args.data}; pass the CSV itself as --data")
    report = apply_decisions_file(metadata, args.decisions, args.out, allow_new_labels=args.allow_new_labels)
    for line in report.lines():
        print(line)
    print(f"wrote {args.out} (the original {metadata} is unchanged)")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from .archive.classifications import read_classifications
    from .archive.fetch import FetchConfig, fetch_images, select

    config = FetchConfig(
        windows=tuple(w.strip() for w in args.windows.split(",") if w.strip()),
        concurrency=args.concurrency,
        rate=args.rate,
        retries=args.retries,
        timeout_s=args.timeout,
        retry_gone=args.retry_gone,
    )
    archive = read_classifications(args.catalog)
    if args.consensus:
        from .archive.consensus import join_consensus, read_consensus

        join_consensus(archive, read_consensus(args.consensus), source=args.consensus.name)
    chosen = select(archive, where=args.where, limit=args.limit)
    summary = fetch_images(chosen, args.out, config, show_progress=not args.quiet)
    for line in summary.lines():
        print(line)
    print(f"{len(chosen)} glitches in {args.out} (read it with: python -m precompute run --data {args.out} …)")
    return 0


def _archive_audit(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from .archive.agreement import agreement, label_issues, machine_vs_volunteer, score_against_truth
    from .archive.classifications import read_classifications
    from .archive.consensus import join_consensus, read_consensus
    from .atomic import json_default, write_text_atomic

    archive = read_classifications(args.archive)
    join_consensus(archive, read_consensus(args.consensus), source=args.consensus.name)
    retired_only = not args.all_consensus
    confusion = machine_vs_volunteer(archive, retired_only=retired_only)
    issues = label_issues(archive, retired_only=retired_only)
    summary: dict[str, object] = {
        "glitches": len(archive.glitches),
        "with_consensus": int(archive.glitches["volunteer_label"].notna().sum()),
        "retired_only": retired_only,
        "volunteer_labels_scored": len(issues),
        "flagged_by_cleanlab": int(issues["issue"].sum()),
        "machine_agrees_with_volunteers": agreement(confusion),
        "report": archive.report.lines(),
    }  # fmt: skip
    tables = {"machine_vs_volunteer.csv": confusion.to_csv(), "volunteer_label_issues.csv": issues.to_csv(index=False)}
    if args.votes is not None:
        from .archive.votes import crowdlab, read_votes

        votes, vote_report = read_votes(args.votes, id_field=args.vote_id_field)
        consensus_table, volunteers = crowdlab(votes, archive)
        tables["crowdlab_glitches.csv"] = consensus_table.to_csv(index=False)
        tables["crowdlab_volunteers.csv"] = volunteers.to_csv(index=False)
        summary["votes"] = {"votes": len(votes), "glitches": len(consensus_table), "volunteers": len(volunteers),
                            "report": vote_report.lines()}  # fmt: skip
    if args.run is not None:
        from .archive.morphology import disagreements

        sides = disagreements(args.run, issues)
        tables["disagreements_by_morphology.csv"] = sides.to_csv(index=False)
        summary["morphology"] = {"run": str(args.run), "disagreements": len(sides),
                                 "sides_with": sides["sides_with"].value_counts().to_dict()}  # fmt: skip
    if args.truth is not None:
        truth = pd.read_parquet(args.truth / "archive_truth.parquet")
        summary["against_truth"] = score_against_truth(archive, issues, truth)
        if args.run is not None:
            from .archive.morphology import sides_against_truth

            summary["morphology_against_truth"] = sides_against_truth(sides, truth)
        if args.votes is not None:
            from .archive.votes import crowdlab_against_truth

            summary["crowdlab_against_truth"] = crowdlab_against_truth(consensus_table, volunteers, votes, args.truth)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        write_text_atomic(args.out / name, text)
    write_text_atomic(args.out / "summary.json", json.dumps(summary, indent=1, default=json_default))
    for key, value in summary.items():
        if key != "report":
            print(f"{key}: {value}")
    print(f"wrote {', '.join(tables)} and summary.json to {args.out}")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from .io import read_dataset

    if args.archive is not None:
        from .archive.classifications import read_classifications
        from .archive.consensus import join_consensus, read_consensus

        archive = read_classifications(args.archive)
        if args.consensus is not None:
            join_consensus(archive, read_consensus(args.consensus), source=args.consensus.name)
        print(archive.summary())
        return 0

    if args.run is not None:
        from .rundir import load_run

        print(load_run(args.run).summary())
        return 0

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
        commands = {
            "synth": _synth, "run": _run, "audit": _audit, "evaluate": _evaluate, "validate": _validate,
            "inspect": _inspect, "apply-decisions": _apply_decisions, "fetch": _fetch,
            "archive-audit": _archive_audit,
        }  # fmt: skip
        return commands[args.command](args)
    except PrecomputeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished work is kept; run the same command again to resume", file=sys.stderr)
        return 130
