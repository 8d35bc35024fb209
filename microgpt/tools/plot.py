"""The loss curve: training and validation loss against step, as a PNG (``--plot``).

matplotlib is an optional extra (``pip install 'microgpt-tensorgrad[plot]'``), imported
only here and only when a plot is asked for; ``check`` finds out before training starts.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..storage.atomic import atomic_write, write_target
from ..storage.files import kind_of, problem

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "pip install 'microgpt-tensorgrad[plot]'"
# matplotlib's own settings file is ~40 KB; one much larger is not a settings file.
MAX_SETTINGS_BYTES = 2**20


class PlotError(Exception):
    """A plot that cannot be made or written; the message is one self-contained line."""


def check(path: str | Path, option: str = "--plot") -> Path:
    """Fail now, before any work, if the picture ``option`` asks for surely cannot be drawn
    or written."""
    if Path(path).suffix.lower() != ".png":
        raise PlotError(f"{option} writes a PNG image: give a path ending in .png, not {path}")
    try:
        write_target(path)  # as given: Path() would drop a trailing "/"
    except OSError as exc:
        raise PlotError(f"cannot write {option} {path}: {problem(exc)}") from exc
    if "matplotlib" not in sys.modules:  # once imported, it has read its settings
        _check_settings_file(option)
    try:
        import matplotlib  # noqa: F401  (only checking that it is there)
    except ImportError as exc:
        raise PlotError(f"{option} needs matplotlib, which is not installed ({INSTALL_HINT})"
                        ) from exc
    except MemoryError:
        raise
    except Exception as exc:  # it refuses its settings: MPLBACKEND=bogus, a bad matplotlibrc
        raise PlotError(f"{option} needs matplotlib, which fails to load: "
                        f"{' '.join(str(exc).split())}") from exc
    return Path(path)


def _check_settings_file(option: str) -> None:
    """Refuse the settings file (matplotlibrc) that importing matplotlib would read if that
    read could hang or be huge: a device, a FIFO (it waits for a writer), a file far too
    large."""
    for candidate, source in _settings_candidates():
        # matplotlib reads the first that exists and is not a directory (matplotlib_fname)
        if not os.path.exists(candidate) or os.path.isdir(candidate):
            continue
        try:  # stat, unlike open, does not wait on a FIFO
            info = os.stat(os.path.expanduser(candidate))  # as matplotlib opens it
        except OSError:
            return  # gone meanwhile, or not ours to look at: matplotlib's error, if any
        start = f"{option} needs matplotlib, whose settings file {candidate} ({source}) is"
        if not stat.S_ISREG(info.st_mode):
            raise PlotError(f"{start} {kind_of(info.st_mode)}, not a regular file")
        if info.st_size > MAX_SETTINGS_BYTES:
            raise PlotError(f"{start} larger than the {MAX_SETTINGS_BYTES // 2**20} MiB a "
                            "settings file may be")
        return


def _settings_candidates() -> Iterator[tuple[str, str]]:
    """The settings files matplotlib looks for, in its order (``matplotlib_fname``), each
    with where it comes from; its own, in its package, comes last and is left out."""
    yield "matplotlibrc", "in the current directory"
    matplotlibrc = os.environ.get("MATPLOTLIBRC")
    if matplotlibrc is not None:
        yield matplotlibrc, "from MATPLOTLIBRC"
        yield os.path.join(matplotlibrc, "matplotlibrc"), "from MATPLOTLIBRC"
    configdir = _config_dir()
    if configdir is not None:
        yield os.path.join(configdir, "matplotlibrc"), (
            "from MPLCONFIGDIR" if os.environ.get("MPLCONFIGDIR") else
            "in matplotlib's configuration directory")


def _config_dir() -> str | None:
    """The directory ``matplotlib.get_configdir`` picks, if it holds settings: one that is
    not a writable directory is replaced by a new, empty, temporary one."""
    try:
        if os.environ.get("MPLCONFIGDIR"):
            configdir = Path(os.environ["MPLCONFIGDIR"])
        elif sys.platform.startswith(("linux", "freebsd")):
            configdir = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config",
                             "matplotlib")
        elif sys.platform == "win32":
            configdir = Path.home() / ".matplotlib"
            if not configdir.is_dir() and os.environ.get("LOCALAPPDATA"):
                configdir = Path(os.environ["LOCALAPPDATA"], "matplotlib")
        else:
            configdir = Path.home() / ".matplotlib"
        configdir = configdir.resolve()
    except (RuntimeError, OSError):  # no home directory: matplotlib makes a temporary one
        return None
    return str(configdir) if configdir.is_dir() and os.access(configdir, os.W_OK) else None


def save_loss_curve(path: str | Path, losses: Sequence[float],
                    val_history: Sequence[tuple[int, float]]) -> Path:
    """Draw ``losses`` (step k's at k = 1, 2, ...) and the (step, loss) ``val_history``.

    The training loss of one step is noisy (one document's), so a running mean over
    ~2% of the run is drawn over it. The file is written atomically.
    """
    # The Figure API, not pyplot: no global state and no GUI backend, just an image.
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(1, len(losses) + 1)
    window = max(1, len(losses) // 50)
    ax.plot(steps, losses, color="tab:blue", alpha=0.3 if window > 1 else 1.0, linewidth=0.8,
            label="training loss")
    if window > 1:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], smooth, color="tab:blue",
                label=f"training loss, mean of {window} steps")
    if val_history:
        val_steps, val_losses = zip(*val_history)
        ax.plot(val_steps, val_losses, "o-", color="tab:orange", label="validation loss")
    ax.set(xlabel="step", ylabel="loss (nats)", title="microgpt loss curve")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_png(fig, path, "the plot")


def save_png(fig: Figure, path: str | Path, what: str) -> Path:
    """Write ``fig`` to ``path`` as a PNG, whole or not at all (PlotError naming ``what``)."""
    try:
        with atomic_write(path) as out:
            fig.savefig(out, format="png", dpi=100)
    except OSError as exc:
        raise PlotError(f"cannot write {what} to {path}: {problem(exc)}") from exc
    return Path(path)
