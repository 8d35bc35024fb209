"""A held-out validation split and the model's loss on it.

The split is taken after microgpt.py's shuffle: the *last* ``ceil(fraction * num_docs)``
documents of the shuffled list are held out, the others are trained on. Taking them
from the end keeps the training documents in their original order, so step k still
trains on the same document as without a split (until the shorter list wraps around).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tensorgrad import Tensor, no_grad
from tensorgrad import functional as F

from . import gpt_tensor
from .model import GPTConfig, pad_batch

EVAL_BATCH = 256  # documents per forward pass: big enough to amortise, small in memory


def num_validation_docs(fraction: float, num_docs: int) -> int:
    """How many documents ``fraction`` holds out: ``ceil(fraction * num_docs)``.

    The product is taken on the decimal the float prints as (0.3 is 3/10, not the binary
    0.29999...), so ``0.3`` of 10 documents is 3, as anyone would expect, not 4.
    """
    if not fraction:  # the default: no split, and no import of fractions at start-up
        return 0
    from fractions import Fraction

    return math.ceil(Fraction(repr(float(fraction))) * num_docs)


def split(docs: Sequence[str], fraction: float) -> tuple[list[str], list[str]]:
    """(training docs, validation docs): the last ``num_validation_docs`` are held out.

    ``fraction`` must be in [0, 1) and leave at least one training document.
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"the validation fraction must be in [0, 1), not {fraction}")
    held_out = num_validation_docs(fraction, len(docs))
    if held_out >= len(docs):
        raise ValueError(f"a validation fraction of {fraction} holds out all {len(docs)} "
                         "documents; leave at least one to train on")
    cut = len(docs) - held_out
    return list(docs[:cut]), list(docs[cut:])


def validation_loss(params: dict[str, Tensor], config: GPTConfig,
                    documents: Sequence[Sequence[int]], batch_size: int = EVAL_BATCH) -> float:
    """Mean per-token loss over ``documents`` (token lists): total NLL / total tokens.

    Every document counts its first block_size predictions, as in training, but a
    document weighs by its number of tokens (unlike the training loss, a mean of
    per-document means). Batches are padded after each document's end; causal attention
    keeps the padding from the real positions, and the mask drops its losses.
    """
    if not documents:
        raise ValueError("validation_loss needs at least one document")
    total, count = 0.0, 0.0
    with no_grad():
        for start in range(0, len(documents), batch_size):
            inputs, targets, mask = pad_batch(documents[start:start + batch_size],
                                              config.block_size)
            logits = gpt_tensor.gpt(params, config, inputs, 0)  # (B, n, vocab)
            losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").data
            # where, not a product: a padded position's loss may be anything, even inf.
            total += float(np.where(mask > 0, losses, 0.0).sum(dtype=np.float64))
            count += float(mask.sum())
    return total / count
