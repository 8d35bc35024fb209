"""The machine a benchmark ran on: CPU, cores, Python, NumPy and its BLAS, PyTorch, date, load."""

from __future__ import annotations

import contextlib
import datetime
import importlib
import io
import os
import platform
import sys
from typing import Any

import numpy as np


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what ``platform`` knows."""
    with (contextlib.suppress(OSError),
          open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo):
        for line in cpuinfo:
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Hardware", "cpu model"):
                return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int | None:
    """Cores this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def blas_info() -> dict[str, Any]:
    """NumPy's BLAS: threadpoolctl's view of the loaded library if installed, else the build's."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        pass
    else:
        pools = [pool for pool in threadpoolctl.threadpool_info() if pool.get("user_api") == "blas"]
        if pools:
            pool = pools[0]
            return {"source": "threadpoolctl", "name": pool.get("internal_api"),
                    "version": pool.get("version"), "threads": pool.get("num_threads"),
                    "architecture": pool.get("architecture")}
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # older NumPy prints as well
            config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        return {"source": "unknown"}
    return {"source": "numpy.show_config", "name": blas.get("name"),
            "version": blas.get("version"), "configuration": blas.get("openblas configuration")}


def torch_info() -> dict[str, Any] | None:
    """PyTorch's version and default thread count, or None if it is not importable."""
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    return {"version": torch.__version__, "default_threads": torch.get_num_threads()}


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how busy the machine was (None if unknown)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict[str, Any]:
    """Everything a reader needs to compare these figures with their own."""
    now = datetime.datetime.now(datetime.timezone.utc).astimezone()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "numpy": np.__version__,
        "blas": blas_info(),
        "torch": torch_info(),
        "date": now.isoformat(timespec="seconds"),
        "load_average_at_start": load_average(),
    }
