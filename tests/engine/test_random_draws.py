"""Draws shaped by tensors (``bernoulli``, ``normal``, ``poisson``), the in-place fills of
other distributions (``exponential_``, ``random_``, ...), and the CPU-only answers
(``is_cpu``, ``get_device``, ``pin_memory``), as PyTorch's: dtypes, shapes, errors, and the
draws' statistics."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg


def test_draws_follow_their_distributions_and_repeat_under_a_seed():
    tg.manual_seed(3)
    first = tg.bernoulli(tg.full((20_000,), 0.25))
    tg.manual_seed(3)
    assert tg.equal(first, tg.bernoulli(tg.full((20_000,), 0.25)))
    assert abs(first.mean().item() - 0.25) < 0.015 and first.dtype == np.float64
    assert abs(tg.ones(20_000).bernoulli(0.7).mean().item() - 0.7) < 0.015
    drawn = tg.normal(tg.tensor([0.0, 10.0]).expand(10_000, 2), tg.tensor([1.0, 0.1]))
    np.testing.assert_allclose(drawn.mean(0).numpy(), [0.0, 10.0], atol=0.03)
    np.testing.assert_allclose(drawn.std(0).numpy(), [1.0, 0.1], rtol=0.03)
    assert tg.normal(2.0, 0.0, (3,)).tolist() == [2.0, 2.0, 2.0]
    assert tg.normal(0.0, 1.0, (2, 3), dtype=tg.float32).dtype == np.float32
    assert abs(tg.poisson(tg.full((20_000,), 3.0)).mean().item() - 3.0) < 0.05
    assert abs(tg.zeros(20_000).exponential_(2.0).mean().item() - 0.5) < 0.02
    assert abs(tg.zeros(20_000).geometric_(0.5).mean().item() - 2.0) < 0.05
    assert abs(np.median(tg.zeros(20_001).cauchy_(1.0).numpy()) - 1.0) < 0.05
    assert abs(np.log(tg.zeros(20_000).log_normal_(0.0, 0.5).numpy()).std() - 0.5) < 0.02
    ints = tg.zeros(1000, dtype=tg.int64).random_(2, 5)
    assert ints.dtype == np.int64 and set(ints.tolist()) == {2, 3, 4}
    assert set(tg.zeros(1000).random_(3).tolist()) == {0.0, 1.0, 2.0}


def test_draws_refuse_what_pytorchs_refuse():
    cases = [
        (lambda m: m.bernoulli(m.tensor([1.5])), RuntimeError),
        (lambda m: m.bernoulli(m.tensor([1, 0])), NotImplementedError),
        (lambda m: m.normal(m.zeros(2), -1.0), RuntimeError),
        (lambda m: m.poisson(m.tensor([-1.0])), RuntimeError),
        (lambda m: m.zeros(2).exponential_(0.0), RuntimeError),
        (lambda m: m.zeros(2).random_(3, 3), RuntimeError),
        (lambda m: m.ones(2).pin_memory(), RuntimeError),
    ]
    try:
        import torch
        libraries = [tg, torch]
    except ImportError:  # (tensorgrad alone, then)
        libraries = [tg]
    for m in libraries:
        for make, error in cases:
            with pytest.raises(error):
                make(m)
        x = m.ones(2)
        assert x.is_cpu and x.get_device() == -1 and not x.is_pinned()
        y = m.ones(2, requires_grad=True) * 2
        assert y.detach_() is y and not y.requires_grad and y.is_leaf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_of_tensors_in_the_graph_gives_them_zero_gradients_as_pytorchs(dtype):
    torch = pytest.importorskip("torch")
    seen = {}
    for name, lib in (("ours", tg), ("theirs", torch)):
        kind = getattr(lib, np.dtype(dtype).name)
        mean = lib.zeros(3, 1, dtype=kind, requires_grad=True)
        std = lib.ones(4, dtype=kind, requires_grad=True)
        both, one = lib.normal(mean, std), lib.normal(mean, 0.5)
        ((both * 2).sum() + one.sum()).backward()
        with lib.no_grad():
            off = lib.normal(mean, std)
        seen[name] = (tuple(both.shape), tuple(one.shape), str(both.dtype).split(".")[-1],
                      both.requires_grad, off.requires_grad, mean.grad.tolist(),
                      std.grad.tolist())
    assert seen["ours"] == seen["theirs"]
