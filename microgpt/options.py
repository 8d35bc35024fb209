"""Number types for command-line options, shared by ``microgpt`` and ``benchmarks``.

Each is an argparse ``type``: it returns the parsed number or raises
``argparse.ArgumentTypeError`` with a message that says what was expected.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def number(kind: type[int] | type[float], noun: str, accept: Callable[[float], bool]
           ) -> Callable[[str], int | float]:
    """An argparse ``type`` accepting finite numbers of ``kind`` for which ``accept`` holds."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"must be {noun}, not {text!r}")
        return value

    return parse


positive_int = number(int, "a positive integer", lambda x: x > 0)
non_negative_int = number(int, "an integer >= 0", lambda x: x >= 0)
positive_float = number(float, "a positive number", lambda x: x > 0)
non_negative_float = number(float, "a number >= 0", lambda x: x >= 0)
fraction = number(float, "a number in [0, 1)", lambda x: 0 <= x < 1)
