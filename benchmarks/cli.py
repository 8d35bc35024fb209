"""``python -m benchmarks``: time microgpt's training step on every engine, with pyperf.

Checks that the engines agree, times them (``benchmarks.measure``) and prints Markdown tables
(``benchmarks.report``). Exit status: 0 on success, 1 if the engines disagree (a correctness
bug) or a worker process fails, 2 for bad arguments, 130 when interrupted (1 while pyperf is
timing: it exits so itself).
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

import tensorgrad
from microgpt.cli.allocator import environment as keep_freed_memory_environment
from microgpt.storage.atomic import UnwritableError, write_target
from microgpt.storage.datasets import DataError, load_docs
from microgpt.storage.options import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from microgpt.train import DTYPES

from . import report
from .engines import ENGINES, unavailable
from .flops import matmul_peak
from .plan import Plan, assign_engines
from .workloads import BASE, QUICK_SIZES, SIZE_KEYS, SIZES, Point, config_of, points, spell

PROG = "python -m benchmarks"
# How far the engines' losses may differ in the agreement check (relative to a loss above 1):
# float64's rounding, or float32's, which the first Adam updates amplify (benchmarks/SPEED.md,
# "Issue #26").
TOLERANCES = {"float64": 1e-9, "float32": 1e-2}
# option -> (full run, --quick); an option given explicitly always wins. --quick is a smoke
# run of about half a minute: one process per engine, a fixed number of steps (no calibration
# process) and one value each, a small matmul peak.
DEFAULTS = {"processes": (5, 1), "values": (3, 1), "warmups": (3, 1), "loops": (0, 20),
            "min_time": (0.1, 0.05), "scalar_budget": (15.0, 3.0), "peak_size": (2048, 512)}


def names(allowed: Sequence[str], what: str):
    """An argparse type: a comma-separated list of ``allowed`` names, or "all"."""
    def parse(text: str) -> list[str]:
        found = [name.strip() for name in text.split(",") if name.strip()]
        if found == ["all"]:
            return list(allowed)
        unknown = [name for name in found if name not in allowed]
        if unknown or not found:
            problem = f"unknown {what} {', '.join(map(repr, unknown))}" if unknown else f"no {what}"
            raise argparse.ArgumentTypeError(f"{problem} (choose from {','.join(allowed)}, or all)")
        return list(dict.fromkeys(found))
    return parse


def dtype(text: str) -> str:
    if text not in DTYPES:
        raise argparse.ArgumentTypeError(f"must be {' or '.join(DTYPES)}, not {text!r}")
    return text


CONFIG_KEYS = {**dict.fromkeys(SIZE_KEYS, positive_int), "dtype": dtype}


def model_sizes(text: str) -> dict[str, Any]:
    """An argparse type, ``--config``'s: ``key=value`` pairs over the base model's sizes."""
    sizes: dict[str, Any] = dict(BASE)
    for item in text.split(","):
        key, equals, value = (part.strip() for part in item.partition("="))
        if key not in CONFIG_KEYS or not equals:
            raise argparse.ArgumentTypeError(f"{item.strip()!r} is not key=value with a key "
                                             f"among {', '.join(CONFIG_KEYS)}")
        try:
            sizes[key] = CONFIG_KEYS[key](value)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{key} {exc}") from None
    if sizes["vocab"] < 2:
        raise argparse.ArgumentTypeError("vocab must be at least 2 (a token and BOS)")
    try:
        config_of(sizes)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Time microgpt's training step "
                                     "(forward, backward, Adam) on each engine.")
    add = parser.add_argument
    default_engines = [name for name, engine in ENGINES.items() if engine.by_default]
    add("--engines", type=names(list(ENGINES), "engine"), default=default_engines,
        metavar="LIST", help=f"comma-separated, of {','.join(ENGINES)} (default "
                             f"{','.join(default_engines)})")
    add("--sizes", type=names(SIZES, "size"), metavar="LIST",
        help=f"among {','.join(SIZES)} (default: all but training)")
    add("--config", type=model_sizes, action="append", metavar="KEY=N,...",
        help=f"time this model instead (repeatable): {spell(BASE)} by default, and dtype=")
    add("--quick", action="store_true",
        help=f"a smoke run: sizes {','.join(QUICK_SIZES)} (one point each) unless --sizes, "
             "one process per engine, fixed steps, one value")
    add("--data", metavar="PATH", help="the default run's documents (default: synthetic names)")
    add("--seed", type=int, default=42, help="of weights and documents (%(default)s)")
    add("--dtype", choices=DTYPES, help="of every engine (default float64)")
    add("--processes", type=positive_int, metavar="N",
        help="pyperf worker processes per engine and point (5; --quick 1)")
    add("--values", type=positive_int, metavar="N", help="timed, per process (3; --quick 1)")
    add("--warmups", type=non_negative_int, metavar="N",
        help="untimed values first, per process (3: at microgpt's size some thousand steps, "
             "in which tensorgrad records the graph of every document length it replays; "
             "--quick 1)")
    add("--min-time", type=positive_float, metavar="SECONDS",
        help="steps per value are calibrated to last this long (0.1; --quick 0.05)")
    add("--loops", type=non_negative_int, metavar="N",
        help="steps per value instead (0: calibrate; --quick 20)")
    add("--sequential", action="store_true",
        help="start each engine's processes in a row (pyperf's order), not in turns")
    add("--glibc-malloc", action="store_true",
        help="leave glibc's allocator thresholds at their defaults in the workers (by default "
             "every engine's workers run with those microgpt's command line sets, which keep "
             "freed memory for the next step)")
    add("--scalar-budget", type=non_negative_float, metavar="SECONDS",
        help="skip the scalar engine where its steps should take longer (15; --quick 3)")
    add("--peak-size", type=positive_int, metavar="N",
        help="the matmul peak's matrices are N x N (2048; --quick 512)")
    add("--json", metavar="PATH", help="write the results (pyperf's JSON)")
    add("--plot", metavar="PATH.png", help="ms/step against size (needs matplotlib)")
    add("--report", metavar="JSON", help="report a --json file's results; measure nothing")
    add("--quiet", action="store_true", help="less progress on stderr")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse and check the arguments (exits with status 2 on a bad one)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, (full, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    for option in ("json", "plot"):
        if path := getattr(args, option):
            try:
                write_target(path)
            except UnwritableError as problem:
                parser.error(f"--{option}: cannot write {path!r}: {problem}")
    if args.config and args.sizes:
        parser.error("--config replaces --sizes: give one of them")
    dtypes = {sizes.pop("dtype") for sizes in args.config or () if "dtype" in sizes}
    dtypes |= {args.dtype} - {None}
    if len(dtypes) > 1:
        parser.error("one dtype per run: --dtype and the configs' dtype= differ")
    args.dtype = dtypes.pop() if dtypes else "float64"
    args.sizes = args.sizes or (list(QUICK_SIZES) if args.quick else
                                [size for size in SIZES if size != "training"])
    if args.data is not None:
        if args.config or "default" not in args.sizes:
            parser.error("--data applies to the default run: add 'default' to --sizes")
        try:
            load_docs(args.data)
        except DataError as exc:
            parser.error(f"--data: {exc}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--worker" in arguments:  # pyperf starts its workers as `python -m benchmarks --worker`
        from .measure import serve

        return serve(arguments)
    args = parse_args(arguments)
    if reason := unavailable("pyperf"):
        return fail(f"pyperf is not importable ({reason}): pip install '.[bench]'", 2)
    import pyperf  # the bench extra's, imported once known to be there

    from . import measure

    notices: list[str] = []

    def say(message: str, notice: bool = False) -> None:
        if notice:
            notices.append(message)
        if notice or not args.quiet:
            print(f"notice: {message}" if notice else message, file=sys.stderr, flush=True)

    plot = args.plot
    if plot and (reason := unavailable("matplotlib")):
        say(f"matplotlib is not importable ({reason}); skipping --plot", notice=True)
        plot = None
    if args.report:
        try:
            suite = pyperf.BenchmarkSuite.load(args.report)
            text = report.markdown(suite)
        except (OSError, ValueError, KeyError) as exc:
            return fail(f"--report: {args.report} is not a benchmark's JSON file ({exc})", 2)
        return finish(suite, text, None, plot)

    skip = [name for name in args.engines if args.dtype not in ENGINES[name].dtypes]
    if skip:
        say(f"--dtype {args.dtype}: skipping {', '.join(skip)} (float64 only)", notice=True)
    torch_engines = [name for name in args.engines if ENGINES[name].needs_torch]
    if torch_engines and (reason := unavailable("torch")):
        say(f"PyTorch is not importable ({reason}); skipping {', '.join(torch_engines)}",
            notice=True)
        skip += torch_engines
    measured = ([Point(spell(sizes), "config", sizes) for sizes in args.config] if args.config
                else points(args.sizes, args.quick))
    assign_engines(measured, [name for name in args.engines if name not in skip],
                   args.scalar_budget, args.processes)
    for point in measured:
        if not point.engines:
            why = "; ".join(f"{name}: {reason}" for name, reason in point.skipped.items())
            say(f"skipping {point.label}: no engine runs there ({why})", notice=True)
    measured = [point for point in measured if point.engines]
    if not measured:
        return fail("no engine left to run", 2)

    allocator = ("glibc's defaults" if args.glibc_malloc
                 else "microgpt's (microgpt/cli/allocator.py)")
    if not args.glibc_malloc:  # the workers inherit the environment (--copy-env below)
        os.environ.update(keep_freed_memory_environment())
    plan = Plan(measured, args.dtype, args.seed, args.data,
                rounds=1 if args.sequential else args.processes)
    runner = measure.make_runner(plan)
    runner.parse_args(["--processes", str(args.processes if args.sequential else 1),
                       "--values", str(args.values), "--warmups", str(args.warmups),
                       "--loops", str(args.loops), "--min-time", str(args.min_time),
                       "--copy-env", *(["--quiet"] if args.quiet else [])])
    common = {"bench_command": command_line(argv), "dtype": args.dtype,
              "matmul_size": args.peak_size, "processes": args.processes,
              "values": args.values, "warmups": args.warmups, "steps_per_value": args.loops,
              "timing_order": "sequential" if args.sequential else "interleaved",
              "malloc_thresholds": allocator,
              "numpy_version": np.__version__, "blas": blas(),
              "tensorgrad_threads": tensorgrad.get_num_threads()}
    if any(ENGINES[name].needs_torch for point in measured for name in point.engines):
        torch = importlib.import_module("torch")  # before torch-1t's check changes its threads
        common |= {"torch_version": torch.__version__, "torch_threads": torch.get_num_threads()}
    say(f"measuring the matmul peak ({args.peak_size} x {args.peak_size}, {args.dtype})")
    peak = matmul_peak(args.dtype, args.peak_size)
    try:
        benchmarks = measure.measure(plan, runner, TOLERANCES[args.dtype], say)
    except measure.EngineDisagreement as exc:
        return fail(f"the engines disagree: {exc}", 1)
    except RuntimeError as exc:  # pyperf: a worker process failed (its error is above)
        return fail(f"a worker process failed: {exc}", 1)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    # Again after the timing, the better of the two: a moment's load (a process that has not
    # quite ended) only lowers a peak, which would raise every MFU (once 137 for 193 GFLOP/s)
    say("measuring the matmul peak again")
    common["matmul_peak_gflops"] = max(peak, matmul_peak(args.dtype, args.peak_size))
    if notices:
        common["notices"] = "; ".join(notices)
    for bench in benchmarks:
        bench.update_metadata(common)
    suite = pyperf.BenchmarkSuite(benchmarks)
    return finish(suite, report.markdown(suite), args.json, plot)


def finish(suite: Any, text: str, json_path: str | None, plot: str | None) -> int:
    """Print the report; write the JSON file and the plot if asked for."""
    print(text, end="", flush=True)
    if json_path:
        report.write_json(json_path, suite)
    if plot and report.plotted(suite):
        report.write_plot(plot, suite)
    elif plot:
        print("notice: no sweep measured, nothing to plot; skipping --plot", file=sys.stderr)
    return 0


def command_line(argv: Sequence[str] | None) -> str:
    """The command as typed when run as a program; reconstructed when called from Python."""
    if argv is None and getattr(sys, "orig_argv", None):
        return shlex.join(sys.orig_argv)
    return shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])


def blas() -> str:
    """NumPy's BLAS library and version, as its build configuration names them."""
    try:
        found = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        return "BLAS unknown"
    return f"{found.get('name')} {found.get('version')}"


def fail(message: str, status: int) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status
