"""``microgpt sample``: names from a saved checkpoint, optionally continuing a prefix."""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator

from .. import checkpoint, gpt_tensor
from ..train import cast
from .errors import UsageError
from .output import print_samples


def cmd_sample(args: argparse.Namespace) -> int:
    """Sample names from a checkpoint, optionally continuing --prefix, from the --top-k."""
    saved = checkpoint.load(args.load)
    try:
        prefix = saved.tokenizer.encode(args.prefix or "")
    except ValueError as exc:  # names the characters
        raise UsageError(f"--prefix {args.prefix!r} has {exc}") from exc
    block_size = saved.config.block_size
    if len(prefix) > block_size - 1:
        raise UsageError(f"--prefix {args.prefix!r} is {len(prefix)} characters; this model's "
                         f"names are at most {block_size} long, so at most {block_size - 1} "
                         "leave room to continue it")
    params = gpt_tensor.from_state_dict(cast(saved.state, saved.dtype))  # as it was trained
    rng = random.Random(args.seed)

    def names() -> Iterator[str]:
        for _ in range(args.samples):
            yield saved.tokenizer.decode(gpt_tensor.generate(
                params, saved.config, saved.tokenizer.bos, rng, args.temperature,
                prefix=prefix, top_k=args.top_k))

    print_samples(names())
    return 0
