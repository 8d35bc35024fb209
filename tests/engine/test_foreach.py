"""``tensorgrad._foreach_*``: one operation over lists of tensors, each through the tensor's
own method (so autograd and ``no_grad`` behave as one tensor at a time)."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad


def test_in_place_forms_change_and_return_their_first_list():
    a = [tensorgrad.zeros(2), tensorgrad.ones(3)]
    assert tensorgrad._foreach_add_(a, [1.0, 2.0]) is a
    assert [t.tolist() for t in a] == [[1.0, 1.0], [3.0, 3.0, 3.0]]
    tensorgrad._foreach_mul_(a, tensorgrad.tensor(2.0))
    tensorgrad._foreach_sub_(a, [tensorgrad.ones(2), tensorgrad.ones(3)], alpha=2)
    tensorgrad._foreach_div_(a, 2)
    assert [t.tolist() for t in a] == [[0.0, 0.0], [2.0, 2.0, 2.0]]
    tensorgrad._foreach_lerp_(a, [tensorgrad.full((2,), 4.0), tensorgrad.zeros(3)], 0.25)
    assert [t.tolist() for t in a] == [[1.0, 1.0], [1.5, 1.5, 1.5]]
    tensorgrad._foreach_copy_(a, [tensorgrad.full((2,), 7.0), tensorgrad.full((3,), 8.0)])
    assert [t.tolist() for t in a] == [[7.0, 7.0], [8.0, 8.0, 8.0]]
    tensorgrad._foreach_zero_(a)
    assert not any(t.numpy().any() for t in a)


def test_out_of_place_forms_are_differentiable_and_return_tuples():
    x = tensorgrad.tensor([1.0, -2.0], requires_grad=True)
    y = tensorgrad.tensor([3.0, 4.0, 0.0], requires_grad=True)
    summed = tensorgrad._foreach_add([x, y], [tensorgrad.ones(2), tensorgrad.ones(3)], alpha=2)
    scaled = tensorgrad._foreach_mul([x, y], [3.0, 0.5])
    norms = tensorgrad._foreach_norm([x, y])
    assert isinstance(summed, tuple) and isinstance(norms, tuple)
    (summed[0].sum() + scaled[1].sum() + norms[1]).backward()
    assert x.grad.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(y.grad.numpy(), [0.5 + 0.6, 0.5 + 0.8, 0.5])


def test_an_ema_under_no_grad_leaves_no_graph():
    weights = [tensorgrad.ones(2, requires_grad=True)]
    ema = [tensorgrad.zeros(2)]
    with tensorgrad.no_grad():
        tensorgrad._foreach_lerp_(ema, weights, 0.1)
    assert ema[0].tolist() == [0.1, 0.1] and ema[0].grad_fn is None


def test_mismatched_or_empty_lists_raise_runtime_error():
    a = [tensorgrad.zeros(2), tensorgrad.zeros(3)]
    with pytest.raises(RuntimeError, match="same number of tensors, got 2 and 1"):
        tensorgrad._foreach_add_(a, [tensorgrad.zeros(2)])
    with pytest.raises(RuntimeError, match="same number"):
        tensorgrad._foreach_mul_(a, [1.0])
    with pytest.raises(RuntimeError, match="at least one tensor"):
        tensorgrad._foreach_add_([], [])
    with pytest.raises(RuntimeError, match="0-d"):
        tensorgrad._foreach_mul_(a, tensorgrad.ones(2))
