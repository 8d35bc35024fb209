"""LBFGS held against PyTorch's, step by step: the parameters, the losses, and the counts of
iterations and of closure calls, with and without the line search, a short history, another
lr, a model's parameters of several shapes, and float32. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")


def _rosenbrock(lib, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _run(lib, loss_of, arrays, steps, **settings):
    params = [lib.tensor(a, requires_grad=True) for a in arrays]
    optimizer = lib.optim.LBFGS(params, **settings)
    losses = []
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = loss_of(lib, *params)
            loss.backward()
            return loss

        losses.append(optimizer.step(closure).item())
    state = optimizer.state[params[0]]
    return params, losses, (state["func_evals"], state["n_iter"])


SETTINGS = {
    "plain": {},
    "strong Wolfe": {"line_search_fn": "strong_wolfe"},
    "short history, smaller lr": {"history_size": 3, "lr": 0.5, "max_iter": 7},
    "short history, line search": {"history_size": 2, "max_iter": 9,
                                   "line_search_fn": "strong_wolfe"},
    "few evaluations": {"max_eval": 6, "line_search_fn": "strong_wolfe"},
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_rosenbrock_steps_as_torchs(torch_float64_default, name):
    start = [np.array([-1.5, 1.2, 0.3, -0.7])]
    ours = _run(tensorgrad, _rosenbrock, start, 3, **SETTINGS[name])
    theirs = _run(torch, _rosenbrock, start, 3, **SETTINGS[name])
    assert_same(ours[0][0], theirs[0][0], name, rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-10)
    assert ours[2] == theirs[2]


def _regression(lib, w, b):
    x = lib.tensor(np.linspace(-1, 1, 24).reshape(8, 3), dtype=w.dtype)
    y = lib.tensor(np.sin(np.arange(8.0)), dtype=w.dtype)
    return ((lib.tanh(x @ w) @ b - y) ** 2).mean()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_a_models_parameters_step_as_torchs(torch_float64_default, dtype, line_search):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    settings = {"max_iter": 4, "line_search_fn": line_search}
    ours = _run(tensorgrad, _regression, arrays, 2, **settings)
    theirs = _run(torch, _regression, arrays, 2, **settings)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for mine, yours in zip(ours[0], theirs[0]):
        assert_same(mine, yours, "parameter", rtol=rtol)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=rtol)
    assert ours[2] == theirs[2]



def _steep(c):
    """exp(c0 x) - c1 x: steep one way, flat the other; with a large lr the line search's
    bracket shrinks with steps that land near its ends (its 'insufficient progress' rule)."""
    def loss(lib, x):
        return (c[0] * x).exp().sum() - (c[1] * x).sum() + (x ** 2).sum() * 0.01
    return loss


@pytest.mark.parametrize("c, start, lr", [([-1.165, -1.722], [-2.18, 0.4], 100.0),
                                          ([0.682, 1.976], [-0.01, 1.16], 100.0)])
def test_a_steep_function_steps_as_torchs(torch_float64_default, c, start, lr):
    settings = {"lr": lr, "max_iter": 10, "line_search_fn": "strong_wolfe"}
    ours = _run(tensorgrad, _steep(c), [np.array(start)], 2, **settings)
    theirs = _run(torch, _steep(c), [np.array(start)], 2, **settings)
    assert_same(ours[0][0], theirs[0][0], "x", rtol=1e-9)
    assert ours[2] == theirs[2]


def test_a_physics_informed_network_trains_as_torchs(torch_float64_default):
    """u'' = -sin(x) on [0, pi] with u(0) = u(pi) = 0, by a small tanh network whose second
    derivative comes from gradients of gradients, and LBFGS: the two libraries' runs agree."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((1, 8)) * 0.5, np.zeros(8), rng.standard_normal((8, 1)) * 0.5,
              np.zeros(1)]
    points = np.linspace(0, np.pi, 9).reshape(-1, 1)

    def residual(lib, w1, b1, w2, b2):
        x = lib.tensor(points, requires_grad=True)
        u = lib.tanh(x @ w1 + b1) @ w2 + b2
        (du,) = lib.autograd.grad(u.sum(), x, create_graph=True)
        (d2u,) = lib.autograd.grad(du.sum(), x, create_graph=True)
        ends = lib.tanh(lib.tensor([[0.0], [np.pi]]) @ w1 + b1) @ w2 + b2
        return ((d2u + lib.sin(x)) ** 2).mean() + (ends ** 2).mean()

    settings = {"max_iter": 8, "line_search_fn": "strong_wolfe"}
    ours = _run(tensorgrad, residual, arrays, 2, **settings)
    theirs = _run(torch, residual, arrays, 2, **settings)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8)
    for mine, yours in zip(ours[0], theirs[0]):
        assert_same(mine, yours, "parameter", rtol=1e-7)
    assert ours[2] == theirs[2]
