"""FLOPs utilisation: a training step's floating-point operations, and the machine's matmul peak.

A step's operations are counted from the model's shapes: every matrix product, forward and
backward, at 2 FLOPs per multiply-add. For a document of ``n`` positions, with ``C = n_embd``,
``L = n_layer`` and ``V`` the vocabulary, the forward pass computes per position

* per layer, the q, k, v and output projections (``4 C^2`` multiply-adds) and the MLP's two
  products (``8 C^2``): ``24 C^2`` FLOPs;
* per layer, attention's two products of every head: scores against the document's ``n`` keys
  and the weighted sum of its ``n`` values, ``n * C`` multiply-adds each (``n_head`` heads of
  ``C / n_head``): ``4 n C`` FLOPs. All ``n`` keys, as dense products compute them, though
  causal masking discards the half above the diagonal;
* the output projection to the vocabulary: ``2 C V`` FLOPs.

The backward pass computes two products for each of these (the gradients of both operands), so
a step is 3 times the forward: ``3 n (L (24 C^2 + 4 n C) + 2 C V)`` per document, that is
``6 N + 12 L C n`` per position with ``N = 12 L C^2 + C V`` the weights in matrix products.
Left out: the elementwise work (RMSNorm, softmax, ReLU, residual additions, the loss), the
embedding lookup and its gradient, and Adam: a few operations per activation or weight, where a
product costs ``2 C`` per activation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import numpy as np

from microgpt.model import GPTConfig


def step_flops(config: GPTConfig, positions: Iterable[int]) -> float:
    """The FLOPs of training on documents of ``positions`` positions each (see the module)."""
    c, layers = config.n_embd, config.n_layer
    return float(sum(3 * n * (layers * (24 * c * c + 4 * n * c) + 2 * c * config.vocab_size)
                     for n in positions))


def matmul_peak(dtype: str, size: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of the best of ``repeats`` ``np.matmul`` of two ``size`` x ``size`` matrices
    (after one untimed product that wakes the BLAS threads)."""
    a = np.random.default_rng(0).standard_normal((size, size)).astype(dtype)
    out = np.matmul(a, a)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, a, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
