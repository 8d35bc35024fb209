"""tensorgrad.autograd, as torch.autograd: grad returns the gradients and leaves every .grad
alone; backward of several tensors; Function is the user's op of tensorgrad.Function."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor


def test_grad_returns_gradients_of_leaves_and_results_and_touches_no_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    gh, gx = tg.autograd.grad((h * h).sum(), [h, x])
    np.testing.assert_array_equal(gh.data, 2 * h.data)
    np.testing.assert_array_equal(gx.data, 18 * x.data)
    assert x.grad is None and not gx.requires_grad


def test_grad_sums_over_outputs_weighted_by_grad_outputs():
    a = Tensor([1.0, -2.0], requires_grad=True)
    (g,) = tg.autograd.grad([(a * 2).sum(), a * 3], a, grad_outputs=[None, Tensor([5.0, 7.0])])
    np.testing.assert_array_equal(g.data, [17.0, 23.0])


def test_grad_runs_the_inputs_hooks_and_frees_the_graph_unless_retained():
    x = Tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 10)
    y = (x * x).sum()
    (g,) = tg.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_array_equal(g.data, [20.0, 40.0])
    handle.remove()
    np.testing.assert_array_equal(tg.autograd.grad(y, x)[0].data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="second time"):
        tg.autograd.grad(y, x)


def test_an_unused_input_raises_unless_allowed():
    a, b = Tensor([1.0], requires_grad=True), Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="index 1 appears to not have been used"):
        tg.autograd.grad((a * 2).sum(), [a, b], retain_graph=True)
    assert tg.autograd.grad((a * 2).sum(), [a, b], allow_unused=True)[1] is None
    zeros = tg.autograd.grad((a * 2).sum(), [a, b], materialize_grads=True)[1]
    np.testing.assert_array_equal(zeros.data, [0.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.autograd.grad((a * 2).sum(), Tensor([1.0]))


def test_backward_of_several_tensors_adds_their_gradients():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    tg.autograd.backward([h.sum(), (h * 2).sum()])
    np.testing.assert_array_equal(x.grad, 6 * x.data)
    assert issubclass(tg.autograd.Function, tg.Function) and tg.autograd.no_grad is tg.no_grad


def test_grad_as_torchs():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(8).standard_normal((3, 4))
    ours, theirs = Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    results = []
    for lib, x in ((tg, ours), (torch, theirs)):
        h = x.tanh() * 2
        outputs = [(h * h).sum(), h.exp().mean(dim=0)]
        weights = [None, lib.tensor(np.arange(4.0))]
        results.append(lib.autograd.grad(outputs, [x, h], grad_outputs=weights))
    for a, b in zip(*results):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12)
    assert ours.grad is None and theirs.grad is None


def test_next_functions_walk_the_graph_back_to_the_leaves():
    x, c = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])
    y = (x * c + 1.0) * x
    (add, _), (leaf, _) = y.grad_fn.next_functions
    assert add.name() == "Add" and leaf.variable is x and leaf.next_functions == ()
    ((mul, _),) = add.next_functions  # (the number 1.0 is no tensor: no entry)
    (first, _), (constant, _) = mul.next_functions
    assert first.variable is x and constant is None  # c requires no grad
    assert repr(first) == "<AccumulateGrad>"
