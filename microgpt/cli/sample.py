"""``microgpt sample``: names from a saved checkpoint, optionally continuing a prefix, and
with ``--attention`` the attention maps of the first name drawn."""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator

from .. import gpt_tensor
from ..storage import checkpoint
from ..tools import attention_maps, plot
from ..train import cast
from .errors import UsageError
from .output import print_samples
from .targets import check_not_read, is_the_output


def cmd_sample(args: argparse.Namespace) -> int:
    """Sample names from a checkpoint, optionally continuing --prefix, from the --top-k."""
    maps_path = None
    if args.attention is not None:
        maps_path = plot.check(args.attention, "--attention")
        if is_the_output(maps_path):
            raise UsageError(f"--attention {args.attention} is where the output goes; writing "
                             "there would replace it")
        check_not_read(maps_path, args.load, "--attention", "the checkpoint")
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
    maps = saved.config.n_layer * saved.config.n_head
    if maps_path is not None and maps > attention_maps.MAX_MAPS:
        raise UsageError(f"--attention draws a map per layer and head: this model has {maps}, "
                         f"more than the {attention_maps.MAX_MAPS} one picture can show")
    params = gpt_tensor.from_state_dict(cast(saved.state, saved.dtype))  # as it was trained
    rng = random.Random(args.seed)
    drawn = []

    def names() -> Iterator[str]:
        for _ in range(args.samples):
            drawn.append(gpt_tensor.generate(params, saved.config, saved.tokenizer.bos, rng,
                                             args.temperature, prefix=prefix, top_k=args.top_k))
            yield saved.tokenizer.decode(drawn[-1])

    print_samples(names())
    if maps_path is not None:
        tokens = [saved.tokenizer.bos, *drawn[0]]  # what the model read to draw the first name
        name = saved.tokenizer.decode(drawn[0])
        labels = ["BOS", *name][:saved.config.block_size]
        weights = attention_maps.attention_weights(params, saved.config, tokens)
        attention_maps.save_attention_maps(maps_path, weights, labels,
                                           f"attention while drawing {name!r}")
        print(f"attention maps of sample 1, {name!r}, drawn to {maps_path}")
    return 0
