"""Files the benchmark writes: the JSON results and the plot, each atomically
(``microgpt.atomic``), so a reader or an interrupted run never sees half a file.
"""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path
from typing import Any

from microgpt.atomic import atomic_write

ENGINE_STYLE = {  # a fixed colour and marker per engine, across panels and runs
    "scalar": ("tab:red", "o"),
    "tensor": ("tab:blue", "s"),
    "numpy": ("tab:green", "^"),
    "torch-1t": ("tab:purple", "v"),
    "torch": ("tab:orange", "D"),
}


def write_json(path: Path, results: dict[str, Any]) -> None:
    """The results as indented JSON (non-finite numbers become null)."""
    text = json.dumps(_finite(results), indent=2, allow_nan=False) + "\n"
    with atomic_write(path) as out:
        out.write(text.encode("utf-8"))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def matplotlib_unavailable() -> str | None:
    """Why matplotlib cannot be used (a short reason), or None if it can."""
    try:
        importlib.import_module("matplotlib")
    except ImportError as exc:
        return str(exc) or type(exc).__name__
    return None


def write_plot(path: Path, results: dict[str, Any]) -> None:
    """ms/step against size per engine, log-log, one panel per sweep. Needs matplotlib."""
    matplotlib = importlib.import_module("matplotlib")
    matplotlib.use("Agg")  # files only, never a window
    plt = importlib.import_module("matplotlib.pyplot")

    sweeps = results["sweeps"]
    fig, axes = plt.subplots(1, len(sweeps), figsize=(4.2 * len(sweeps), 3.8), squeeze=False)
    for ax, (name, sweep) in zip(axes[0], sweeps.items()):
        values = [point["value"] for point in sweep["points"]]
        engines = list(sweep["points"][0]["engines"]) if sweep["points"] else []
        for engine in engines:
            xs, ys = [], []
            for value, point in zip(values, sweep["points"]):
                result = point["engines"][engine]
                if "skipped" not in result:
                    xs.append(value)
                    ys.append(result["ms_per_step"]["median"])
            if xs:
                colour, marker = ENGINE_STYLE.get(engine, (None, "x"))
                ax.plot(xs, ys, marker=marker, color=colour, label=engine)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(values, [str(v) for v in values])
        ax.tick_params(axis="x", which="minor", bottom=False)
        ax.set_xlabel(sweep["parameter"])
        ax.set_ylabel("ms per training step")
        ax.set_title(f"sweep: {name}")
        ax.grid(True, which="major", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize="small")
    fig.suptitle(f"microgpt engines — {results['machine']['cpu']}", fontsize="medium")
    fig.tight_layout()
    with atomic_write(path) as out:
        fig.savefig(out, format="png", dpi=120)
    plt.close(fig)
