"""The Markdown report: one table for the default run, one per sweep.

Everything here reads the results dict that ``benchmarks.harness`` produces (the same data the
JSON file holds), so the report and the JSON can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DASH = "—"


def fmt_ms(ms: float) -> str:
    """Milliseconds with about three significant digits, without exponent notation."""
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.3g}×"


def fmt_seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def fmt_bytes(size: int | None) -> str:
    if size is None:
        return "n/a"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


def fmt_count(count: int | None) -> str:
    return "n/a" if count is None else f"{count:,}"


def _table(header: Sequence[str], align: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _config_line(workload: dict[str, Any]) -> str:
    return (f"n_embd {workload['n_embd']}, n_head {workload['n_head']}, "
            f"n_layer {workload['n_layer']}, block_size {workload['block_size']}, "
            f"vocab {workload['vocab_size']}, batch {workload['batch_size']}")


def _agreement_line(points: Sequence[dict[str, Any]]) -> str:
    first = points[0]["agreement"]
    worst = max(point["agreement"]["max_abs_diff"] for point in points)
    where = "the configuration" if len(points) == 1 else f"all {len(points)} configurations"
    return (f"Agreement checked before timing: at {where}, every engine's loss at steps "
            f"0-{first['checked_steps'] - 1} (before and after the first Adam updates) equals "
            f"the {first['reference']} engine's within {first['tolerance']:g} "
            f"(largest difference {worst:.2g}).")


def default_table(point: dict[str, Any], settings: dict[str, Any]) -> str:
    """The default run: every figure per engine."""
    workload = point["workload"]
    header = ["engine", "ms/step median", "min", "max", "vs tensor",
              f"{settings['run_steps']}-step run", "peak memory/step", "graph nodes/step",
              "loss after measured steps", "max abs loss diff vs tensor"]
    rows, notes, methods = [], [], {}
    for name, result in point["engines"].items():
        if "skipped" in result:
            rows.append([name] + [DASH] * (len(header) - 1))
            notes.append(f"{name} skipped: {result['skipped']}.")
            continue
        ms, run = result["ms_per_step"], result["full_run"]
        run_cell = fmt_seconds(run["seconds"]) + (" (extrapolated)" if run["extrapolated"] else "")
        if run["extrapolated"]:
            notes.append(f"{name}'s {run['steps']}-step run is extrapolated "
                         f"({run['basis']}), not measured.")
        methods.setdefault(result["memory_method"], []).append(name)
        methods.setdefault(result["graph_method"], []).append(name)
        rows.append([
            name, fmt_ms(ms["median"]), fmt_ms(ms["min"]), fmt_ms(ms["max"]),
            fmt_ratio(result["ratio_to_tensor"]), run_cell,
            fmt_bytes(result["peak_memory_bytes"]), fmt_count(result["graph_nodes"]),
            f"{result['loss_after_measured_steps']:.12f} ({result['steps_run']} steps)",
            f"{result['max_abs_loss_diff_vs_tensor']:.2g} "
            f"({result['steps_compared_with_tensor']} steps)",
        ])
    final_losses = {name: r["full_run"]["final_loss"] for name, r in point["engines"].items()
                    if "full_run" in r and r["full_run"]["final_loss"] is not None}
    lines = [
        "## Default run",
        "",
        f"Model: {_config_line(workload)}; documents: {workload['documents']}, one per step.",
        _timing_line(settings),
        _agreement_line([point]),
        "",
        _table(header, "lrrrrrrrrr", rows),
        "",
    ]
    if final_losses:
        losses = ", ".join(f"{name} {loss:.12f}" for name, loss in final_losses.items())
        lines.append(f"Loss after the full measured {settings['run_steps']}-step runs: {losses}.")
    for method, names in methods.items():
        lines.append(f"- {', '.join(dict.fromkeys(names))}: {method}.")
    lines += [f"- {note}" for note in notes]
    windows = {n for r in point["engines"].values() if "skipped" not in r
               for n in r["window_steps"]}
    lengths = workload["document_tokens"]
    if len(windows) > 1 and lengths["min"] != lengths["max"]:
        lines.append("- The documents differ in length, so windows of few steps spread more "
                     "than long ones: compare medians.")
    return "\n".join(lines)


def _timing_line(settings: dict[str, Any]) -> str:
    where = ("each engine in a process of its own" if settings["isolate"]
             else "all engines in one process")
    return (f"Timing: {settings['repeats']} windows per engine, interleaved round-robin "
            f"(order rotating; {where}), after {_steps(settings['warmup'])} of warm-up; a "
            f"window is {_steps(settings['steps'])} ({settings['scalar_steps']} for scalar), or "
            f"fewer if it reaches {settings['window_seconds']:g} s. "
            f"'vs tensor' is the median over rounds of the engine's time / tensor's.")


def _steps(count: int) -> str:
    return f"{count} step" + ("" if count == 1 else "s")


def sweep_table(name: str, sweep: dict[str, Any], settings: dict[str, Any]) -> str:
    """ms/step per engine at each size of one sweep, with the ratio to tensor."""
    points = sweep["points"]
    engines = list(points[0]["engines"]) if points else []
    reasons: dict[str, int] = {}  # footnote text -> number
    rows = []
    for point in points:
        row = [str(point["value"])]
        if "same_as" in point:  # the base model, measured once for all sweeps
            row[0] += f" (= {point['same_as']['label']})"
        for engine in engines:
            result = point["engines"][engine]
            if "skipped" in result:
                note = f"{engine}: {result['skipped']}"
                number = reasons.setdefault(note, len(reasons) + 1)
                row.append(f"{DASH} [{number}]")
            else:
                ratio = result["ratio_to_tensor"]
                cell = fmt_ms(result["ms_per_step"]["median"])
                if ratio is not None and engine != "tensor":
                    cell += f" ({fmt_ratio(ratio)})"
                row.append(cell)
        rows.append(row)
    base = points[0]["workload"] if points else None
    lines = [
        f"## Sweep: {sweep['parameter']}",
        "",
        "ms per training step (median over windows), ratio to the tensor engine in brackets.",
    ]
    if base is not None:
        lines.append(f"Other sizes as in the first row: {_config_line(base)}; "
                     f"documents: {base['documents']}.")
        lines.append(_agreement_line(points))
    lines += ["", _table([name, *engines], "l" + "r" * len(engines), rows)]
    if reasons:
        lines.append("")
        lines += [f"[{number}] {note}." for note, number in reasons.items()]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """The whole report."""
    machine, settings = results["machine"], results["settings"]
    torch = machine["torch"]
    parts = [
        "# microgpt engine benchmark",
        "",
        f"{machine['cpu']}, {machine['cores']} cores; {machine['python']}; NumPy "
        f"{machine['numpy']} ({machine['blas'].get('name')} {machine['blas'].get('version')}); "
        + (f"PyTorch {torch['version']} ({torch['default_threads']} threads by default)"
           if torch else "no PyTorch") + f"; {machine['date']}.",
        f"Command: `{results['command']}`",
        f"Every engine computes in {settings['hp']['dtype']}.",
    ]
    start, end = machine.get("load_average_at_start"), machine.get("load_average_at_end")
    if start and end:
        parts.append(f"Load average (1 min) {start[0]:g} at the start, {end[0]:g} at the end, "
                     f"on {machine['cores']} cores: a busy machine slows multi-threaded runs "
                     f"most.")
    for notice in results["notices"]:
        parts.append(f"Notice: {notice}")
    if results["default"] is not None:
        parts += ["", default_table(results["default"], settings)]
    for name, sweep in results["sweeps"].items():
        parts += ["", sweep_table(name, sweep, settings)]
    return "\n".join(parts) + "\n"
