"""LBFGS: it finds the minimum of a quadratic and of Rosenbrock's function, with and without
the strong-Wolfe line search, keeps its history as PyTorch's, and refuses what PyTorch's
refuses. test_lbfgs_torch.py holds its steps against torch."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg


def _minimize(loss_of, start, steps=1, **settings):
    x = tg.tensor(np.asarray(start, dtype=np.float64), requires_grad=True)
    optimizer = tg.optim.LBFGS([x], **settings)

    def closure():
        optimizer.zero_grad()
        loss = loss_of(x)
        loss.backward()
        return loss

    for _ in range(steps):
        optimizer.step(closure)
    return x, optimizer


def test_a_quadratic_is_minimized():
    rng = np.random.default_rng(0)
    m = rng.standard_normal((5, 5))
    a, b = m @ m.T + 5 * np.eye(5), rng.standard_normal(5)
    A, B = tg.tensor(a), tg.tensor(b)
    for line_search in (None, "strong_wolfe"):
        x, _ = _minimize(lambda x: 0.5 * x @ A @ x - B @ x, np.zeros(5), max_iter=50,
                         tolerance_grad=1e-12, tolerance_change=1e-15,
                         line_search_fn=line_search)
        np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(a, b), atol=1e-7)


def test_rosenbrocks_valley_is_followed_to_its_minimum():
    def rosenbrock(x):
        return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2

    x, optimizer = _minimize(rosenbrock, [-1.5, 2.0], steps=5, max_iter=100,
                             line_search_fn="strong_wolfe")
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-5)
    state = optimizer.state[x]
    assert state["n_iter"] > 10 and state["func_evals"] >= state["n_iter"]
    assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) <= 100


def test_the_history_keeps_at_most_history_size_pairs():
    x, optimizer = _minimize(lambda x: (x ** 4).sum() + (x[0] * x[1]), [1.0, -2.0, 0.5],
                             max_iter=12, history_size=3)
    assert len(optimizer.state[x]["old_dirs"]) == 3


def test_a_step_returns_the_first_loss_and_stops_at_a_minimum():
    x = tg.tensor([0.0, 0.0], requires_grad=True)
    optimizer = tg.optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        optimizer.zero_grad()
        loss = (x ** 2).sum() + 3.0
        loss.backward()
        return loss

    assert optimizer.step(closure).item() == 3.0
    assert len(calls) == 1  # the gradient is 0 already: nothing more to do
    assert x.tolist() == [0.0, 0.0]


def test_what_pytorch_refuses_is_refused():
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        tg.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        tg.optim.LBFGS([a], lr=-1)
    optimizer = tg.optim.LBFGS([a], line_search_fn="armijo")

    def closure():
        optimizer.zero_grad()
        loss = (a ** 2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optimizer.step(closure)
    with pytest.raises(TypeError):
        tg.optim.LBFGS([a]).step()  # the closure is required
