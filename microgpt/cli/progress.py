"""Reporting training steps: a progress bar on a terminal, microgpt.py's lines otherwise.

When stdout is a terminal and tqdm is installed (the optional extra ``progress``), one
bar shows the steps done, steps/s, the current loss and the time left. Otherwise, and
always when the output goes to a pipe or a file, each step is a plain line exactly as
microgpt.py prints it: ``step    1 / 1000 | loss 3.3660``. Validation losses are lines
in both modes (above the bar on a terminal): ``step  200 / 1000 | loss 2.4567 | val loss
2.5012``.
"""

from __future__ import annotations

import sys
from typing import TextIO

from .errors import CommandError


def step_line(step: int, steps: int, loss: float, val_loss: float | None = None) -> str:
    """microgpt.py's line for a step (1-based), with the validation loss when there is one."""
    line = f"step {step:4d} / {steps:4d} | loss {loss:.4f}"
    return line if val_loss is None else f"{line} | val loss {val_loss:.4f}"


class Progress:
    """Reports steps ``start + 1 .. stop`` of a ``steps``-step run.

    Plain lines show every ``log_every``-th step, the last one (``stop``, or any step
    ``update`` is told is the last) and every step with a validation loss. The bar
    refreshes on the same steps. ``bar=None`` picks the bar when ``stream`` is a
    terminal and tqdm can be imported.
    """

    def __init__(self, steps: int, start: int = 0, stop: int | None = None, log_every: int = 1,
                 bar: bool | None = None, stream: TextIO | None = None):
        self.steps, self.stop, self.log_every = steps, steps if stop is None else stop, log_every
        self.stream = sys.stdout if stream is None else stream
        self._bar = None
        self._shown = start  # steps the bar has been advanced by
        self._postfix: dict[str, str] = {}  # the bar's latest loss and validation loss
        if bar is None:
            bar = self.stream.isatty()
        if bar:
            try:
                from tqdm import tqdm

                # The command line's output escapes control characters: not the bar's own.
                self._file = getattr(self.stream, "unescaped", self.stream)
                self._bar = tqdm(total=steps, initial=start, unit="step", file=self._file,
                                 dynamic_ncols=True, desc="training")
            except ImportError:  # the optional extra is missing: plain lines do the job
                return
            except MemoryError:
                raise
            except Exception as exc:  # its defaults come from TQDM_* variables, unchecked
                raise CommandError(f"the progress bar (tqdm) refuses its settings: "
                                   f"{type(exc).__name__}: {exc}; check the TQDM_* environment "
                                   "variables") from exc

    @property
    def bar(self) -> bool:
        """Whether a progress bar (rather than plain lines) is shown."""
        return self._bar is not None

    def update(self, step: int, loss: float, val_loss: float | None = None,
               last: bool = False) -> None:
        """Report step ``step`` (1-based), with its loss (and validation loss).

        ``last``: the run ends at this step although it is not ``stop`` (it diverged).
        """
        due = step % self.log_every == 0 or step == self.stop or last
        if self._bar is None:
            if due or val_loss is not None:
                # speed: one write, not print's two (benchmarks/SPEED.md, "The scripting API")
                self.stream.write(step_line(step, self.steps, loss, val_loss) + "\n")
            return
        if val_loss is not None:
            self._bar.write(step_line(step, self.steps, loss, val_loss), file=self._file)
        if due or val_loss is not None:
            self._postfix["loss"] = f"{loss:.4f}"
            if val_loss is not None:
                self._postfix["val loss"] = f"{val_loss:.4f}"
            self._bar.set_postfix(self._postfix, refresh=False)
            self._bar.update(step - self._shown)
            self._shown = step

    def close(self) -> None:
        """Leave the bar (if any) as it last was, and move below it."""
        if self._bar is not None:
            self._bar.close()
