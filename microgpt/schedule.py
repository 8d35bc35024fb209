"""Learning-rate schedules: the rate each training step uses.

microgpt.py decays the rate linearly to zero: step k (0-based) of ``steps`` uses
``lr * (1 - k / steps)``. The other schedules, and the warm-up, follow the convention of
Hugging Face's ``get_*_schedule_with_warmup``:

* warm-up (``warmup`` = W > 0): step k < W uses ``lr * k / W``, rising linearly from 0;
* then the schedule runs over the remaining S = steps - W steps, j = k - W of them done:
  ``linear``   ``lr * (1 - j / S)``             (W = 0: exactly microgpt.py's),
  ``cosine``   ``lr * (1 + cos(pi * j / S)) / 2`` (from lr down towards 0),
  ``constant`` ``lr``.
"""

from __future__ import annotations

import math

SCHEDULES = ("linear", "cosine", "constant")


def learning_rate(step: int, steps: int, lr: float, schedule: str = "linear",
                  warmup: int = 0) -> float:
    """The rate of step ``step`` (0-based) of a ``steps``-step run (see the module docstring)."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}")
    if not 0 <= warmup < steps:
        raise ValueError(f"warmup must be in 0..{steps - 1} for {steps} steps, not {warmup}")
    if not 0 <= step < steps:
        raise ValueError(f"step must be in 0..{steps - 1}, not {step}")
    if step < warmup:
        return lr * step / warmup
    done, remaining = step - warmup, steps - warmup
    if schedule == "linear":
        # Written as microgpt.py writes it, so that with no warm-up it rounds identically.
        return lr * (1 - done / remaining)
    if schedule == "cosine":
        return lr * (1 + math.cos(math.pi * done / remaining)) / 2
    return lr
