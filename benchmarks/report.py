"""The report, from the results alone (the JSON file): Markdown tables and the plot.

Every benchmark is one engine at one point, its runs tagged with their round; its metadata
say which point (``point``, ``table``, the sizes, ``flops_per_step``), and the metadata common
to all (the machine, ``matmul_peak_gflops``, ``bench_command``) say the rest.
"""

from __future__ import annotations

import importlib
import io
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microgpt.storage.atomic import atomic_write

from .engines import REFERENCE
from .workloads import SWEEPS

if TYPE_CHECKING:
    import pyperf

DASH = "—"
HEADINGS = {"default": "Default run", "training": "Training-scale sizes",
            "config": "Configurations", **{name: f"Sweep: {key}" for name, (key, *_) in
                                           SWEEPS.items()}}
ENGINE_STYLE = {  # a fixed colour and marker per engine, across panels and runs
    "scalar": ("tab:red", "o"), "tensor": ("tab:blue", "s"), "tensor-1t": ("tab:cyan", "s"),
    "numpy": ("tab:green", "^"),
    "torch-1t": ("tab:purple", "v"), "torch": ("tab:orange", "D"),
}


def round_values(bench: pyperf.Benchmark) -> dict[int, list[float]]:
    """The benchmark's values (seconds per step) by round."""
    rounds: dict[int, list[float]] = {}
    for run in bench.get_runs():
        if run.values:  # not a calibration run
            rounds.setdefault(run.get_metadata()["round"], []).extend(run.values)
    return rounds


def ratio(bench: pyperf.Benchmark, reference: pyperf.Benchmark) -> float:
    """The median over rounds of (bench's median / reference's median in the same round)."""
    mine, theirs = round_values(bench), round_values(reference)
    return statistics.median(statistics.median(mine[r]) / statistics.median(theirs[r])
                             for r in mine if r in theirs)


def by_point(suite: pyperf.BenchmarkSuite) -> dict[str, list[pyperf.Benchmark]]:
    """The benchmarks grouped by point, in the order they ran."""
    points: dict[str, list[pyperf.Benchmark]] = {}
    for bench in suite.get_benchmarks():
        points.setdefault(bench.get_metadata()["point"], []).append(bench)
    return points


def fmt(value: float) -> str:
    """About three significant digits, without exponent notation."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def model(about: dict[str, Any]) -> str:
    return ", ".join(f"{key} {about[key]}" for key in
                     ("n_embd", "n_head", "n_layer", "block_size", "batch", "vocab"))


def rows(benches: Sequence[pyperf.Benchmark], peak: float) -> list[list[str]]:
    """One row per engine at a point (without the first column)."""
    reference = next((b for b in benches if b.get_metadata()["engine"] == REFERENCE), None)
    found = []
    for bench in benches:
        about, seconds = bench.get_metadata(), bench.median()
        gflops = about["flops_per_step"] / seconds / 1e9
        spread = fmt(1e3 * bench.stdev()) if len(bench.get_values()) > 1 else DASH
        found.append([about["engine"], fmt(1e3 * seconds), spread,
                      f"{fmt(ratio(bench, reference))}x" if reference else DASH,
                      fmt(gflops), f"{100 * gflops / peak:.2g}%", f"{about['graph_nodes']:,}"])
    return found


def section(table: str, points: dict[str, list[pyperf.Benchmark]], peak: float) -> list[str]:
    """The heading, the points' table and the notes of one table of the report."""
    first = [benches[0].get_metadata() for benches in points.values()]
    key = SWEEPS[table][0] if table in SWEEPS else "model"
    lines = [f"## {HEADINGS[table]}", ""]
    if table in SWEEPS:
        lines.append(f"Other sizes as in the base model (the n_embd sweep's first row): "
                     f"{model({**first[0], key: 'varied'})}.")
    elif table == "default":
        lines.append(f"Model: {model(first[0])}.")
    worst = max(about["agreement_max_diff"] for about in first)
    documents = ", ".join(dict.fromkeys(about["documents"] for about in first))
    lines += [f"Documents: {documents}. Agreement checked before timing: every "
              f"engine's losses at steps 0-2 equal the {REFERENCE} engine's within "
              f"{first[0]['agreement_tolerance']:g}, relative to the loss where it exceeds 1 "
              f"(largest difference {worst:.2g}).", "",
              "| " + " | ".join([key, "engine", "ms/step", "±", f"vs {REFERENCE}", "GFLOP/s",
                                 "MFU", "graph nodes"]) + " |",
              "| --- | --- |" + " ---: |" * 6]
    for about, benches in zip(first, points.values()):
        label = str(about[key]) if key != "model" else table if table == "default" else model(
            about)
        lines += ["| " + " | ".join([label, *row]) + " |" for row in rows(benches, peak)]
    skipped = [f"{about['point']}: {about['skipped']}" for about in first if "skipped" in about]
    return lines + ([""] + [f"Skipped at {line}." for line in skipped] if skipped else [])


def markdown(suite: pyperf.BenchmarkSuite) -> str:
    """The whole report."""
    common = suite.get_metadata()
    peak = common["matmul_peak_gflops"]
    torch = (f"PyTorch {common['torch_version']} ({common['torch_threads']} threads by default)"
             if "torch_version" in common else "no PyTorch")
    # (older --json files lack the count)
    threads = (f"tensorgrad on {common['tensorgrad_threads']} threads; "
               if "tensorgrad_threads" in common else "")
    loads = [run.get_metadata().get("load_avg_1min", 0.0) for bench in suite.get_benchmarks()
             for run in bench.get_runs()]
    order = ("in turns, engine after engine" if common["timing_order"] == "interleaved"
             else "one engine's after another's")
    parts = [
        "# microgpt engine benchmark", "",
        f"{common.get('cpu_model_name', 'unknown CPU')}, {common['cpu_count']} cores; Python "
        f"{common['python_version']}; NumPy {common['numpy_version']} ({common['blas']}); "
        f"{threads}{torch}; {suite.get_dates()[0]:%Y-%m-%d %H:%M}; load average (1 min) "
        f"{min(loads):g} to {max(loads):g}.",
        f"Command: `{common['bench_command']}`",
        f"Every engine computes in {common['dtype']}. MFU is GFLOP/s over the matmul peak, "
        f"{peak:.1f} GFLOP/s (the best of 10 np.matmul of two {common['matmul_size']}-square "
        f"{common['dtype']} matrices before the timing and 10 after); GFLOP/s count the step's "
        f"matrix products (benchmarks/flops.py).",
        f"Timing by pyperf {common['perf_version']}: worker processes per engine and point: "
        f"{common['processes']}, started {order}; warm-ups and values per process: "
        f"{common['warmups']} and {common['values']}, of "
        f"{steps(common.get('steps_per_value', 0))} (the "
        f"scalar engine: 1 and 1, of one step). ms/step is the median of all values, ± their "
        f"standard deviation; 'vs {REFERENCE}' the median over rounds of the engine's median "
        f"over {REFERENCE}'s. The workers' allocator thresholds: "
        f"{common.get('malloc_thresholds', 'not recorded')}.",
    ]
    if "notices" in common:
        parts.append(f"Notices: {common['notices']}.")
    tables: dict[str, dict[str, list[pyperf.Benchmark]]] = {}
    for label, benches in by_point(suite).items():
        tables.setdefault(benches[0].get_metadata()["table"], {})[label] = benches
    for table, points in tables.items():
        parts += ["", *section(table, points, peak)]
    return "\n".join(parts) + "\n"


def plotted(suite: pyperf.BenchmarkSuite) -> list[str]:
    """The tables the plot draws: the sweeps and the training-scale sizes."""
    tables = [bench.get_metadata()["table"] for bench in suite.get_benchmarks()]
    return [t for t in dict.fromkeys(tables) if t in SWEEPS or t == "training"]


def write_plot(path: Path, suite: pyperf.BenchmarkSuite) -> None:
    """ms/step against size per engine, log-log, one panel per sweep. Needs matplotlib."""
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")  # files only, never a window
    plt = importlib.import_module("matplotlib.pyplot")
    tables = plotted(suite)
    fig, axes = plt.subplots(1, len(tables), figsize=(4.2 * len(tables), 3.8), squeeze=False)
    for ax, table in zip(axes[0], tables):
        key = SWEEPS[table][0] if table in SWEEPS else "n_embd"
        lines: dict[str, tuple[list[int], list[float]]] = {}
        for bench in suite.get_benchmarks():
            about = bench.get_metadata()
            if about["table"] == table:
                xs, ys = lines.setdefault(about["engine"], ([], []))
                xs.append(about[key])
                ys.append(1e3 * bench.median())
        for engine, (xs, ys) in lines.items():
            colour, marker = ENGINE_STYLE.get(engine, (None, "x"))
            ax.plot(xs, ys, marker=marker, color=colour, label=engine)
        ticks = sorted({x for xs, _ in lines.values() for x in xs})
        ax.set_xscale("log", base=2)  # the sizes double: no minor ticks between them
        ax.set(yscale="log", xlabel=key, ylabel="ms per training step", title=HEADINGS[table])
        ax.set_xticks(ticks, [str(x) for x in ticks])
        ax.tick_params(axis="x", which="minor", bottom=False)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(f"microgpt engines — {suite.get_metadata().get('cpu_model_name', '')}",
                 fontsize="medium")
    fig.tight_layout()
    with atomic_write(path) as out:
        fig.savefig(out, format="png", dpi=120)
    plt.close(fig)


def write_json(path: Path, suite: pyperf.BenchmarkSuite) -> None:
    """The suite as pyperf's JSON (``python -m pyperf show`` and ``compare_to`` read it)."""
    text = io.StringIO()
    suite.dump(text, compact=False)
    with atomic_write(path) as out:
        out.write(text.getvalue().encode("utf-8"))


def steps(loops: int) -> str:
    """How many steps a value times: ``--loops``, or 0 for pyperf's calibration."""
    return f"{loops} steps" if loops else "a calibrated number of steps"
