"""Kinds of numbers, for command-line options (``microgpt`` and ``benchmarks``) and checkpoints.

Each is an argparse ``type``: called on the option's text, it returns the parsed number or
raises ``argparse.ArgumentTypeError`` with a message that says what was expected. The
checkpoint loader holds the numbers it reads to the same kinds with ``check``, so a file
cannot carry a value that the command line would refuse.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Generic, TypeVar

from .limits import MAX_N_LAYER, MAX_STEPS

Kind = TypeVar("Kind", int, float)


class Number(Generic[Kind]):
    """Finite numbers of ``kind`` (int or float) for which ``accept`` holds, ``noun`` in words."""

    def __init__(self, kind: type[Kind], noun: str, accept: Callable[[float], bool]) -> None:
        self.kind: type[Kind] = kind
        self.noun, self.accept = noun, accept

    def __call__(self, text: str) -> Kind:
        try:
            return self.check(self.kind(text), "")
        except ValueError:  # not a number of this kind, or refused
            raise argparse.ArgumentTypeError(f"must be {self.noun}, not {text!r}") from None

    def check(self, value: object, name: str) -> Kind:
        """``value`` (from JSON: an int, or for floats an int or a float) if accepted.

        Raises ``ValueError`` naming ``name`` otherwise. ``bool`` is not a number here,
        though Python counts it as an int.
        """
        kinds = (int,) if self.kind is int else (int, float)
        if (not isinstance(value, (int, float)) or type(value) not in kinds
                or not math.isfinite(value) or not self.accept(value)):
            raise ValueError(f"{name} must be {self.noun}, not {value!r}")
        return self.kind(value)


positive_int = Number(int, "a positive integer", lambda x: x > 0)
non_negative_int = Number(int, "an integer >= 0", lambda x: x >= 0)
positive_float = Number(float, "a positive number", lambda x: x > 0)
non_negative_float = Number(float, "a number >= 0", lambda x: x >= 0)
fraction = Number(float, "a number in [0, 1)", lambda x: 0 <= x < 1)
# A seed is stored in checkpoints as JSON; 64 bits are more than Random(seed) needs.
seed = Number(int, "an integer in [0, 2**64)", lambda x: 0 <= x < 2**64)
steps = Number(int, f"an integer in 1..{MAX_STEPS:,}", lambda x: 1 <= x <= MAX_STEPS)
# A day: more than a dataset's download needs, and a timer's delay the platform can hold.
download_seconds = Number(float, "a number of seconds in (0, 86,400]", lambda x: 0 < x <= 86_400)
n_layer = Number(int, f"an integer in 1..{MAX_N_LAYER}", lambda x: 1 <= x <= MAX_N_LAYER)
