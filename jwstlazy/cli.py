"""The ``jwstlazy`` command: simulate data, inspect products, run pipelines, run the demo.

Bad arguments or bad input files print one clear line and exit with status 2; a run in which some
inputs failed exits with status 1 after finishing the others.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jwstlazy.errors import JwstLazyInputError

log = logging.getLogger("jwstlazy")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors name the command and exit 2 (argparse's convention)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_step_options(extra: Sequence[str]) -> dict[str, dict[str, str]]:
    """Turn ``--steps.jump.rejection_threshold=5`` options into ``{"jump": {"rejection_threshold": "5"}}``."""
    steps: dict[str, dict[str, str]] = {}
    items = list(extra)
    while items:
        item = items.pop(0)
        if not item.startswith("--steps."):
            raise JwstLazyInputError(f"unrecognised argument {item!r}", where="command line", expected="--steps.STEP.PARAM=VALUE")
        key, sep, value = item[len("--steps."):].partition("=")
        if not sep:
            if not items:
                raise JwstLazyInputError(f"no value for {item!r}", where="command line", expected="--steps.STEP.PARAM=VALUE")
            value = items.pop(0)
        step, dot, parameter = key.partition(".")
        if not dot or not step or not parameter:
            raise JwstLazyInputError(f"cannot read {item!r}", where="command line", expected="--steps.STEP.PARAM=VALUE")
        steps.setdefault(step, {})[parameter] = value
    return steps


def _build_parser() -> argparse.ArgumentParser:
    from jwstlazy.graphs.execute import GRANULARITIES
    from jwstlazy.graphs.registry import PIPELINES

    parser = _Parser(prog="jwstlazy", description="The JWST calibration pipeline as a lazy, chunked dask graph.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    simulate = sub.add_parser("simulate", help="write simulated _uncal.fits files, reference files and truth")
    simulate.add_argument("scenario", help="scenario name (see `jwstlazy simulate list`)")
    simulate.add_argument("--out", type=Path, default=None, help="output folder (required unless scenario is 'list')")
    simulate.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simulate.add_argument("--size", default=None, help="detector size: 'full' or a subarray edge such as 256")

    info = sub.add_parser("info", help="a readable summary of any JWST product file")
    info.add_argument("files", nargs="+", type=Path)

    run = sub.add_parser(
        "run",
        help="run a pipeline on input files",
        epilog="Step parameters: --steps.STEP.PARAM=VALUE (e.g. --steps.jump.rejection_threshold=5, --steps.ipc.skip=true)",
    )
    run.add_argument("pipeline", choices=sorted(PIPELINES), help="which pipeline")
    run.add_argument("inputs", nargs="+", type=Path, help="exposure files, folders of *_uncal.fits, or association JSON files")
    run.add_argument("--output-dir", type=Path, default=Path("."), help="where products go (default: .)")
    run.add_argument("--reference-dir", type=Path, action="append", default=[], help="folder of CRDS-format reference files (repeatable)")
    run.add_argument(
        "--scheduler", default=None,
        help="sync, threads[:N] (default), processes[:N], local:W[xT], tcp://HOST:PORT, slurm[:J][,key=value...], pbs[:J][,key=value...]",
    )
    run.add_argument("--memory-limit", default=None, help="memory per worker, e.g. 4GB (default: the machine's share); sizes chunks")
    run.add_argument("--chunks", default=None, help="pixel block: 'auto' (default, from worker memory), N, YxX or y=N,x=M")
    run.add_argument("--granularity", choices=GRANULARITIES, default="auto",
                     help="a cluster's tasks: pixel blocks, whole exposures, or auto (default: exposures when there "
                          "are at least two per worker thread)")
    run.add_argument("--overwrite", action="store_true", help="redo products that already exist")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--start", default=None, metavar="STEP",
                     help="begin at this step, for inputs saved part way (e.g. _ramp.fits with --start ramp_fit)")
    run.add_argument("--save-calibrated-ramp", action="store_true",
                     help="detector1: also write the corrected ramp given to ramp fitting (_ramp.fits)")

    demo = sub.add_parser("demo", help="simulate a small program and run every stage on it")
    demo.add_argument("--out", type=Path, default=Path("jwstlazy-demo"), help="output folder (default: ./jwstlazy-demo)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--scheduler", default=None)
    demo.add_argument("--quiet", action="store_true")
    return parser


def _command_simulate(args: argparse.Namespace) -> int:
    from jwstlazy.simulate import list_scenarios, simulate_program

    if args.scenario == "list":
        for name, description in list_scenarios().items():
            print(f"{name:20s} {description}")
        return 0
    if args.out is None:
        raise JwstLazyInputError("--out is required", where="simulate", expected="an output folder")
    written = simulate_program(args.scenario, args.out, seed=args.seed, size=args.size)
    for kind, paths in written.items():
        for path in paths if isinstance(paths, list) else [paths]:
            print(f"{kind:12s} {path}")
    return 0


def _command_info(args: argparse.Namespace) -> int:
    from jwstlazy.datamodels import describe, open as open_product

    for path in args.files:
        print(describe(open_product(path)))
    return 0


def _command_run(args: argparse.Namespace, extra: Sequence[str]) -> int:
    from jwstlazy.graphs.execute import ProgramFailed, run
    from jwstlazy.graphs.registry import PIPELINES
    from jwstlazy.references import ReferenceFinder

    finder = ReferenceFinder(directories=list(args.reference_dir))
    options = {}
    if args.save_calibrated_ramp:
        if args.pipeline != "detector1":
            raise JwstLazyInputError(f"--save-calibrated-ramp is not an option of {args.pipeline}",
                                     where="command line", expected="it with the detector1 pipeline only")
        options["save_calibrated_ramp"] = True
    pipeline = PIPELINES[args.pipeline](steps=parse_step_options(extra), references=finder, **options)
    try:
        result = run(
            pipeline, args.inputs, args.output_dir, scheduler=args.scheduler, overwrite=args.overwrite,
            progress=not args.quiet, chunks=args.chunks, memory_limit=args.memory_limit, start=args.start,
            granularity=args.granularity,
        )
    except ProgramFailed as failure:
        _print_result(failure.result)
        print(f"jwstlazy: error: {failure}", file=sys.stderr)
        return 1
    _print_result(result)
    return 0


def _print_result(result: Any) -> None:
    for path in result.written:
        print(f"wrote   {path}")
    for path in result.skipped:
        print(f"exists  {path}")


def _command_demo(args: argparse.Namespace) -> int:
    from jwstlazy.graphs.demo import run_demo

    run_demo(args.out, seed=args.seed, scheduler=args.scheduler, progress=not args.quiet)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jwstlazy`` command; returns the exit status."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "simulate":
            return _command_simulate(args)
        if args.command == "info":
            return _command_info(args)
        if args.command == "run":
            return _command_run(args, extra)
        return _command_demo(args)
    except JwstLazyInputError as error:
        print(f"jwstlazy: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
