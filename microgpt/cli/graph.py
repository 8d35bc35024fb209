"""``microgpt graph``: the autograd graph of one training step's loss, as DOT or drawn.

The step is the first one of training: the loss on the first document at the initial
weights, forward and backward, so the parameters (and on the scalar engine every node)
show their gradients. ``.dot`` is ``tensorgrad.to_dot``'s text; ``.svg`` and ``.png`` are
drawn by Graphviz's ``dot`` program, which must be installed (the ``graphviz`` system
package), for graphs of at most ``MAX_DRAWN_NODES`` nodes: Graphviz's layout time grows
faster than the graph, and would not finish on the scalar engine's graph at microgpt's size
(docs/robustness-notes.md, "Drawing graphs").
"""

from __future__ import annotations

import argparse
import shutil
import subprocess

from tensorgrad import Tensor, Value, to_dot
from tensorgrad.value import topological_order

from ..api import Plan, TrainSettings, check_scalar_size, load_dataset, plan
from ..storage.atomic import atomic_write
from ..storage.files import problem
from ..storage.limits import MAX_DRAWN_NODES
from ..tools import by_op
from ..train import ENGINES, document_tokens, initialise
from .api_errors import api_errors
from .errors import CommandError
from .prepare import MODEL_OPTIONS
from .targets import check_not_read, check_target, keeping_outputs

FORMATS = (".dot", ".svg", ".png")
SMALL_MODEL = "--n-embd 4 --n-head 1 --block-size 4"
GRAPHVIZ_HINT = ("install the graphviz system package (apt-get install graphviz, brew install "
                 "graphviz, ...), or write the DOT source (--out ending in .dot)")


def cmd_graph(args: argparse.Namespace) -> int:
    """Write the graph of the first training step's loss on the ``--engine`` asked for."""
    out = check_target(args.out, "--out", FORMATS)
    drawn = out.suffix.lower() != ".dot"
    if drawn and shutil.which("dot") is None:
        raise CommandError(f"drawing {out.suffix.lower()} needs Graphviz's dot program, which "
                           f"is not installed: {GRAPHVIZ_HINT}")
    with api_errors():
        planned = _plan(args)
    check_not_read(out, planned.dataset.path, "--out", "the dataset")
    run = initialise(planned.dataset.docs, planned.tokenizer, planned.config, args.seed)
    engine = ENGINES[args.engine]
    params = engine.from_state_dict(run.state)
    tokens = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    loss = engine.document_loss(params, run.config, tokens)
    if isinstance(loss, Tensor):
        loss.backward(retain_graph=True)  # the picture shows each result as it was
    else:
        loss.backward()
    nodes = _size(loss)
    if drawn and nodes > MAX_DRAWN_NODES:
        raise CommandError(f"the {args.engine} engine's graph of this step has {nodes:,} nodes, "
                           f"more than the {MAX_DRAWN_NODES:,} Graphviz lays out in a minute; "
                           f"draw a smaller model ({SMALL_MODEL}), or write the DOT source "
                           "(--out ending in .dot)")
    source = to_dot(loss, params, local_grads=False)
    content = _draw(source, out.suffix.lower()[1:]) if drawn else source.encode()
    try:
        with keeping_outputs(("the dataset", planned.dataset.path)), atomic_write(out) as file:
            file.write(content)
    except OSError as exc:
        raise CommandError(f"cannot write --out {out}: {problem(exc)}") from exc
    print(f"wrote the {args.engine} engine's graph of one training step ({nodes:,} nodes: the "
          f"loss on {run.docs[0]!r}, and its backward pass) to {out}")
    return 0


def _plan(args: argparse.Namespace) -> Plan:
    """The model of the options, checked, then the dataset read and checked against it (and
    against what the scalar engine can build, for its graph)."""
    settings = TrainSettings(seed=args.seed, **{name: getattr(args, name)
                                                for name in MODEL_OPTIONS})
    dataset = load_dataset(args.data, args.data_sha256, redownload=args.redownload,
                           download_timeout=args.download_timeout)
    planned = plan(dataset, settings)
    if args.engine == "scalar":
        check_scalar_size(planned.config, planned.dataset.docs, " (or --engine tensor)")
    return planned


def _size(loss: Tensor | Value) -> int:
    if isinstance(loss, Value):
        return len(topological_order(loss))
    ops, leaves = by_op.tensor_graph(loss)
    return len(ops) + len(leaves)


def _draw(source: str, image_format: str) -> bytes:
    """``source`` drawn by Graphviz's dot as ``image_format`` (svg, png)."""
    try:
        result = subprocess.run(["dot", f"-T{image_format}"], input=source.encode(),
                                capture_output=True, check=False)
    except OSError as exc:  # it went away since it was found, or cannot run
        raise CommandError(f"cannot run Graphviz's dot: {problem(exc)}") from exc
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise CommandError(f"Graphviz's dot failed (exit status {result.returncode}): "
                           f"{lines[0] if lines else 'no message'}")
    return result.stdout
