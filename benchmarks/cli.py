"""``python -m benchmarks``: time microgpt's training step on every engine.

Trains the same GPT (same initial state dict, same documents) with the scalar engine, the
tensor engine, the hand-written NumPy baseline and PyTorch, and prints Markdown tables: the
default run with every figure (ms/step, full-run time, peak memory, graph size, losses), then
one table of ms/step per sweep (n_embd, sequence length, n_layer, batch size).

Exit status: 0 on success, 1 if the engines disagree (a correctness bug) or one fails, 2 for bad
arguments, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from microgpt.data import DataError
from microgpt.options import non_negative_float, non_negative_int, positive_int
from microgpt.train import DTYPES, Hyperparameters

from .engines import ENGINES, restore_torch_threads, torch_threads, torch_unavailable
from .harness import Harness, Plan, run_suite
from .isolation import WorkerError
from .machine import load_average, machine_info
from .output import matplotlib_unavailable, write_json, write_plot
from .progress import Progress
from .report import markdown
from .timing import EngineDisagreement
from .workloads import SWEEPS, default_workload

SIZES = ("default", *SWEEPS)
# How far the engines' losses may differ in the agreement check: float64's rounding, or
# float32's, which the first Adam updates amplify (up to 1.6e-3 at n_embd 256, measured).
TOLERANCES = {"float64": 1e-9, "float32": 1e-2}

# option -> (full run, --quick); an option given explicitly always wins.
# Windows of a hundred steps: in short ones each engine starts with caches the other engines
# just filled, which costs most the engine with the most code per step and is not what a
# training run, one engine step after step, sees.
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "steps": (100, 5),
    "scalar_steps": (1, 1),
    "repeats": (5, 3),
    "warmup": (2, 1),
    "window_seconds": (1.0, 0.2),
    "scalar_budget": (15.0, 3.0),
    "run_budget": (60.0, 5.0),
}


def _choices(allowed: Sequence[str], what: str):
    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        if names == ["all"]:
            return list(allowed)
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            problem = f"unknown {what} {', '.join(map(repr, unknown))}" if unknown else f"no {what}"
            raise argparse.ArgumentTypeError(f"{problem} (choose from {','.join(allowed)}, or all)")
        return list(dict.fromkeys(names))
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time microgpt's training step (forward, backward, Adam) on each engine: "
                    "scalar Value, tensorgrad Tensor, hand-written NumPy, PyTorch.",
    )
    pick = parser.add_argument_group("what to run")
    pick.add_argument("--engines", type=_choices(list(ENGINES), "engine"), default=list(ENGINES),
                      metavar="LIST", help=f"comma-separated engines (default all: "
                      f"{','.join(ENGINES)})")
    pick.add_argument("--sizes", type=_choices(SIZES, "size"), default=list(SIZES),
                      metavar="LIST", help=f"the default run and which sweeps (default all: "
                      f"{','.join(SIZES)})")
    pick.add_argument("--quick", action="store_true",
                      help="fewer sizes, windows and steps: finishes in under a minute")
    pick.add_argument("--tiny", action="store_true",
                      help="tiny models everywhere (n_embd 8, block 8): a smoke test")
    pick.add_argument("--data", type=Path, metavar="PATH",
                      help="train the default run on this dataset (one document per line) "
                           "instead of synthetic names")
    pick.add_argument("--seed", type=int, default=42, help="seed of weights and documents")
    pick.add_argument("--dtype", choices=DTYPES, default="float64",
                      help="what every engine computes in (float32: tensor and torch only; "
                           "default: float64, microgpt's)")
    pick.add_argument("--in-process", action="store_true",
                      help="run every engine in this process, not each in a process of its own: "
                           "starts faster, but the engines then share the memory allocator and "
                           "thread pools, which moves some timings")

    how = parser.add_argument_group("how much to measure (defaults: full run / --quick)")
    how.add_argument("--steps", type=positive_int, metavar="N",
                     help="training steps per timed window (100 / 5)")
    how.add_argument("--scalar-steps", type=positive_int, metavar="N",
                     help="steps per timed window of the slow scalar engine (1 / 1)")
    how.add_argument("--repeats", type=positive_int, metavar="N",
                     help="timed windows per engine and configuration (5 / 3)")
    how.add_argument("--warmup", type=non_negative_int, metavar="N",
                     help="untimed steps before the windows, after the agreement check (2 / 1)")
    how.add_argument("--window-seconds", type=non_negative_float, metavar="SECONDS",
                     help="end a timed window early, after at least one step, once it has run "
                          "this long (1 / 0.2)")
    how.add_argument("--scalar-budget", type=non_negative_float, metavar="SECONDS",
                     help="run the scalar engine at a sweep point only if its steps there "
                          "should take at most this long (15 / 3)")
    how.add_argument("--run-steps", type=positive_int, default=Hyperparameters.steps,
                     metavar="N", help="length of the full training run (default %(default)s)")
    how.add_argument("--run-budget", type=non_negative_float, metavar="SECONDS",
                     help="measure an engine's full run only if it should take at most this "
                          "long, else extrapolate it (60 / 5)")

    out = parser.add_argument_group("output")
    out.add_argument("--json", type=Path, metavar="PATH", help="write every figure to PATH")
    out.add_argument("--plot", type=Path, metavar="PATH.png",
                     help="draw ms/step against size, one panel per sweep (needs matplotlib)")
    out.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return parser


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Plan]:
    """Parse and check the arguments (exits with status 2 on a bad one)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, (full, quick) in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None and not path.parent.resolve().is_dir():
            parser.error(f"{option}: directory {str(path.parent)!r} does not exist")
        if path is not None and path.is_dir():
            parser.error(f"{option}: {str(path)!r} is a directory")
    if args.data is not None and not args.data.is_file():
        parser.error(f"--data: no such file: {str(args.data)!r}")
    if args.data is not None and "default" not in args.sizes:
        parser.error("--data applies to the default run: add 'default' to --sizes")
    plan = Plan(steps=args.steps, scalar_steps=args.scalar_steps, repeats=args.repeats,
                warmup=args.warmup, window_seconds=args.window_seconds,
                scalar_budget=args.scalar_budget, run_steps=args.run_steps,
                run_budget=args.run_budget, isolate=not args.in_process,
                tolerance=TOLERANCES[args.dtype],
                hp=Hyperparameters(steps=args.run_steps, dtype=args.dtype))
    return args, plan


def command_line(argv: Sequence[str] | None) -> str:
    """The command as typed when run as a program; reconstructed when called from Python."""
    if argv is None and getattr(sys, "orig_argv", None):
        return shlex.join(sys.orig_argv)
    return shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args, plan = parse_args(argv)
    progress = Progress(enabled=not args.no_progress)
    notices: list[str] = []

    def notice(message: str) -> None:
        notices.append(message)
        progress.notice(message)

    engines = list(args.engines)
    float64_only = [name for name in engines if args.dtype not in ENGINES[name].dtypes]
    if float64_only:
        notice(f"--dtype {args.dtype}: skipping {', '.join(float64_only)} (float64 only)")
        engines = [name for name in engines if name not in float64_only]
    torch_engines = [name for name in engines if ENGINES[name].needs_torch]
    if torch_engines and (reason := torch_unavailable()):
        notice(f"PyTorch is not importable ({reason}); skipping {', '.join(torch_engines)}")
        engines = [name for name in engines if name not in torch_engines]
    if not engines:
        print("python -m benchmarks: error: no engine left to run", file=sys.stderr)
        return 2
    plot = args.plot
    if plot is not None and (reason := matplotlib_unavailable()):
        notice(f"matplotlib is not importable ({reason}); skipping --plot")
        plot = None
    sweeps = [size for size in args.sizes if size != "default"]
    if plot is not None and not sweeps:
        notice("no sweep in --sizes, nothing to plot; skipping --plot")
        plot = None

    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    try:
        default = (default_workload(args.data, args.seed, tiny=args.tiny)
                   if "default" in args.sizes else None)
    except DataError as exc:
        print(f"python -m benchmarks: error: {exc}", file=sys.stderr)
        return 2
    machine = machine_info()
    harness = Harness(engines, plan, progress)
    try:
        suite = run_suite(harness, default, sweeps, mode, args.seed)
        if any(ENGINES[name].needs_torch for name in engines):
            restore_torch_threads()
    except EngineDisagreement as exc:
        progress.clear()
        print(f"python -m benchmarks: error: the engines disagree: {exc}", file=sys.stderr)
        return 1
    except WorkerError as exc:
        progress.clear()
        print(f"python -m benchmarks: error: an engine failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.clear()
        print("python -m benchmarks: interrupted", file=sys.stderr)
        return 130
    if machine["torch"] is not None and torch_threads() is not None:
        machine["torch"]["default_threads"] = torch_threads()

    results = {
        "command": command_line(argv),
        "argv": list(sys.argv[1:] if argv is None else argv),
        "machine": machine,
        "settings": {**asdict(plan), "mode": mode, "seed": args.seed, "sizes": args.sizes,
                     "engines": engines, "data": None if args.data is None else str(args.data)},
        "engines": {name: ENGINES[name].description for name in engines},
        "notices": notices,
        **suite,
    }
    results["machine"]["load_average_at_end"] = load_average()
    progress.clear()
    print(markdown(results), end="", flush=True)
    results["runtime_seconds"] = time.perf_counter() - started
    if args.json is not None:
        write_json(args.json, results)
    if plot is not None:
        write_plot(plot, results)
    progress.clear()
    if progress.enabled:
        print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0
