"""The lines every command prints as microgpt.py prints them: the run's header, the samples."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from ..model import GPTConfig, num_params
from .errors import CommandError


def print_header(num_docs: int, config: GPTConfig) -> None:
    """microgpt.py's first lines, flushed: an output that cannot be written fails now."""
    print(f"num docs: {num_docs}")
    print(f"vocab size: {config.vocab_size}")
    print(f"num params: {num_params(config)}")
    sys.stdout.flush()


def print_samples(names: Iterator[str]) -> None:
    """Print each name as it is drawn, as microgpt.py does."""
    try:
        for i, name in enumerate(names, 1):
            print(f"sample {i:2d}: {name}")
    except ValueError as exc:  # random.choices: the logits / temperature overflowed to inf
        raise CommandError(f"sampling failed ({exc}); try a larger --temperature") from exc
