"""``microgpt sample``: names from a saved checkpoint, optionally continuing a prefix, and
with ``--attention`` the attention maps of the first name drawn."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from ..api import load
from ..tools import attention_maps, plot
from .api_errors import api_errors
from .errors import UsageError
from .output import print_samples
from .targets import check_not_read, is_the_output, keeping_outputs


def cmd_sample(args: argparse.Namespace) -> int:
    """Sample names from a checkpoint, optionally continuing --prefix, from the --top-k."""
    maps_path = None
    if args.attention is not None:
        maps_path = plot.check(args.attention, "--attention")
        if is_the_output(maps_path):
            raise UsageError(f"--attention {args.attention} is where the output goes; writing "
                             "there would replace it")
        check_not_read(maps_path, args.load, "--attention", "the checkpoint")
    model = load(args.load)
    drawn: list[str] = []
    with api_errors():
        names = model.samples(args.samples, args.temperature, prefix=args.prefix or "",
                              top_k=args.top_k, seed=args.seed)  # checked here, drawn below
        maps = model.config.n_layer * model.config.n_head
        if maps_path is not None and maps > attention_maps.MAX_MAPS:
            raise UsageError(f"--attention draws a map per layer and head: this model has "
                             f"{maps}, more than the {attention_maps.MAX_MAPS} one picture can "
                             "show")
        print_samples(_kept(names, drawn))
    if maps_path is not None:
        name, tokenizer = drawn[0], model.tokenizer
        tokens = [tokenizer.bos, *tokenizer.encode(name)]  # what the model read to draw it
        labels = ["BOS", *name][:model.config.block_size]
        weights = attention_maps.attention_weights(model.params, model.config, tokens)
        with keeping_outputs(("the checkpoint", args.load)):
            attention_maps.save_attention_maps(maps_path, weights, labels,
                                               f"attention while drawing {name!r}")
        print(f"attention maps of sample 1, {name!r}, drawn to {maps_path}")
    return 0


def _kept(names: Iterator[str], drawn: list[str]) -> Iterator[str]:
    """``names``, each also appended to ``drawn`` as it is drawn."""
    for name in names:
        drawn.append(name)
        yield name
