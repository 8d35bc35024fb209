"""How big a run may be: the bounds that the command line and the checkpoint loader share.

A run that fits them starts within seconds and fits in a few GiB of memory; anything
bigger is refused with a message before any time is spent. The checkpoint loader checks
a file against exactly these bounds, so a configuration the command line cannot build
cannot be loaded either (and a crafted file cannot make ``microgpt`` allocate more).

* ``MAX_PARAMETERS``: the initial weights are drawn one at a time in Python, in
  microgpt.py's order, and the weights, their gradients and Adam's two moments take 32
  bytes per parameter.
* ``MAX_N_LAYER``: it also bounds the number of tensors a checkpoint holds.
* ``MAX_STEP_VALUES``: an estimate of the numbers one training step keeps for its
  backward pass (``step_values``); 2**27 of them are 1 GiB in float64.
* ``MAX_SCALAR_NODES``: the scalar engine makes a Python object (a ``Value``) of every
  number of a step, and keeps them all for the backward pass (``scalar_step_nodes``).
* ``MAX_STEPS``: every step's loss is kept, for the checkpoint and the loss curve.
* ``MAX_DATASET_BYTES``: the dataset is read whole into memory, and split into documents.

What runs at the bounds cost, as measured: docs/robustness-notes.md, "The size limits".
"""

from __future__ import annotations

from ..model import GPTConfig, num_params
from .naming import name

MAX_PARAMETERS = 10_000_000
MAX_N_LAYER = 128
MAX_STEP_VALUES = 2**27
MAX_SCALAR_NODES = 2_000_000
MAX_STEPS = 10_000_000
MAX_DATASET_BYTES = 32 * 2**20
# Graphviz's layout time grows faster than the graph: `microgpt graph` draws at most this many
# nodes (it writes the DOT source of any graph).
MAX_DRAWN_NODES = 5_000
# Every document is at least one character, and all but the last end with a newline.
MAX_DOCUMENTS = (MAX_DATASET_BYTES + 1) // 2


def step_values(config: GPTConfig, batch_size: int) -> int:
    """An estimate of the numbers a training step of ``batch_size`` documents keeps.

    Per position of a document of block_size tokens: per layer, about 19 vectors of
    n_embd (the norms, the projections, the MLP's 4 x n_embd hidden layer and its
    activation, the residual sums) and n_head attention weights per earlier position;
    then the logits and their softmax, 2 x vocab_size.
    """
    c, n = config.n_embd, config.block_size
    per_position = config.n_layer * (19 * c + config.n_head * n) + 3 * c + 2 * config.vocab_size
    return batch_size * n * per_position


def check_size(config: GPTConfig, batch_size: int = 1) -> None:
    """Raise ``ValueError`` if a run of ``config`` and ``batch_size`` exceeds the bounds.

    ``MAX_N_LAYER`` is the n-layer option's own bound (``options.n_layer``).
    """
    params = num_params(config)
    if params > MAX_PARAMETERS:
        raise ValueError(
            f"a model of {params:,} parameters is more than the {MAX_PARAMETERS:,} microgpt "
            "allows (its weights are drawn one at a time in Python, in microgpt.py's order); "
            f"use a smaller {name('n_embd')}, {name('n_layer')} or "
            f"{name('block_size')}")
    values = step_values(config, batch_size)
    if values > MAX_STEP_VALUES:
        raise ValueError(
            f"a training step of this size would keep about {values:,} numbers for its "
            f"backward pass, more than the {MAX_STEP_VALUES:,} (1 GiB in float64) microgpt "
            f"allows; use a smaller {name('batch_size')}, {name('block_size')}, "
            f"{name('n_embd')} or {name('n_layer')}")


def scalar_step_nodes(config: GPTConfig, positions: int) -> int:
    """The ``Value``s a training step of the scalar engine holds, on a document of
    ``positions`` positions: the parameters, and every other node of the loss's graph.

    Counted from ``gpt_scalar``, where ``a + b`` makes one node, ``a * 2.0`` two (the
    constant is one), ``sum`` of k nodes k + 1 and ``x / y`` two. At the position with t keys
    cached: the embeddings' sum and its norm; per layer, the norms, the projections (2k + 1
    nodes per row of k inputs), the attention of each head over the t keys, the MLP and the
    residual sums; the logits and the target's probability, log and sign. Then the mean.
    """
    c, h, v, n = config.n_embd, config.n_head, config.vocab_size, positions
    per_layer = 24 * c * c + 22 * c + 12 + h  # all but the attention over the cache
    per_position = 4 * c + 12 + config.n_layer * per_layer + 2 * c * v + 5 * v
    over_the_cache = config.n_layer * (4 * c + 9 * h) * n * (n + 1) // 2  # t = 1 .. n
    return num_params(config) + n * per_position + over_the_cache + n + 3


def check_scalar_size(config: GPTConfig, positions: int) -> None:
    """Raise ``ValueError`` if a scalar-engine step on ``positions`` positions would hold
    more than ``MAX_SCALAR_NODES`` Values."""
    nodes = scalar_step_nodes(config, positions)
    if nodes > MAX_SCALAR_NODES:
        raise ValueError(
            f"the scalar engine would build about {nodes / 1e6:,.1f} million Values for one "
            f"step, more than the {MAX_SCALAR_NODES / 1e6:.0f} million microgpt allows (it "
            "makes a Python object of every number of the step, one at a time); use a smaller "
            f"{name('n_embd')}, {name('n_layer')} or {name('block_size')}")
