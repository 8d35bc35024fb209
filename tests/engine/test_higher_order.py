"""Gradients of gradients (create_graph=True): for every op that has one, the recorded
gradient is the engine's gradient, and the gradient of a penalty made of it agrees with
finite differences of that penalty; the Hessian functions on functions whose derivatives are
known; and how a recorded pass behaves (``.grad`` in the graph, hooks, refusals)."""

from __future__ import annotations

import numpy as np
import pytest
from higher_order_cases import CASES, penalty, values, weights

import tensorgrad as tg
from tensorgrad import Function, Tensor


def _gradient(case: str, x: Tensor, create_graph: bool) -> Tensor:
    y = CASES[case](tg, x)
    (g,) = tg.autograd.grad((y * tg.tensor(weights(tuple(y.shape)).astype(x.dtype))).sum(), x,
                            create_graph=create_graph)
    return g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CASES))
def test_a_recorded_gradient_is_the_engines(case, dtype):
    x = tg.tensor(values().astype(dtype), requires_grad=True)
    recorded = _gradient(case, x, create_graph=True)
    plain = _gradient(case, x, create_graph=False)
    assert recorded.dtype == plain.dtype
    np.testing.assert_allclose(recorded.detach().numpy(), plain.numpy(),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_the_gradient_of_a_gradient_is_that_of_finite_differences(case):
    x0 = values()

    def penalized(data: np.ndarray) -> float:  # the penalty of the plain gradient at data
        return penalty(_gradient(case, tg.tensor(data, requires_grad=True), False)).item()

    x = tg.tensor(x0, requires_grad=True)
    g = _gradient(case, x, create_graph=True)
    (found,) = tg.autograd.grad(penalty(g), x, allow_unused=True, materialize_grads=True)
    step = 1e-6
    expected = np.zeros_like(x0)
    for i in np.ndindex(x0.shape):
        up, down = x0.copy(), x0.copy()
        up[i] += step
        down[i] -= step
        expected[i] = (penalized(up) - penalized(down)) / (2 * step)
    np.testing.assert_allclose(found.numpy(), expected, rtol=1e-5, atol=1e-5)


# ---- the Hessian functions, on functions whose derivatives are known ------------------------


def test_hessian_hvp_vhp_and_jvp_of_a_quadratic_form_and_a_cubic():
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    A = tg.tensor(a)
    AF = tg.autograd.functional

    def form(x: Tensor) -> Tensor:  # x^T A x + b.x: its Hessian is A + A^T
        return x @ A @ x + (x * tg.tensor(b)).sum()

    x = tg.tensor(rng.standard_normal(3))
    np.testing.assert_allclose(AF.hessian(form, x).numpy(), a + a.T, rtol=1e-12)
    np.testing.assert_allclose(AF.hvp(form, x, tg.tensor(v))[1].numpy(), (a + a.T) @ v,
                               rtol=1e-12)
    np.testing.assert_allclose(AF.vhp(form, x, tg.tensor(v))[1].numpy(), v @ (a + a.T),
                               rtol=1e-12)
    # the Jacobian of x -> x^3 * x[0] times v, against the Jacobian itself
    cube = lambda x: x ** 3 * x[0]  # noqa: E731
    jacobian = AF.jacobian(cube, x).numpy()
    np.testing.assert_allclose(AF.jvp(cube, x, tg.tensor(v))[1].numpy(), jacobian @ v,
                               rtol=1e-12)
    h = AF.hessian(lambda x: (x ** 3).sum(), x).numpy()  # diag(6 x)
    np.testing.assert_allclose(h, np.diag(6 * x.numpy()), rtol=1e-12, atol=1e-15)


def test_derivatives_of_any_order_nest():
    x = tg.tensor(0.7, requires_grad=True)
    y = x ** 5
    orders = []
    for _ in range(4):
        (y,) = tg.autograd.grad(y, x, create_graph=True)
        orders.append(y.item())
    np.testing.assert_allclose(orders, [5 * 0.7 ** 4, 20 * 0.7 ** 3, 60 * 0.7 ** 2, 120 * 0.7])
    grad = tg.func.grad
    np.testing.assert_allclose(grad(grad(grad(tg.sin)))(tg.tensor(0.3)).item(), -np.cos(0.3))


# ---- how a recorded pass behaves -------------------------------------------------------------


def test_backward_with_create_graph_leaves_a_grad_in_the_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    np.testing.assert_array_equal(x.grad.detach().numpy(), [3.0, 12.0])
    first = x.grad
    (x ** 3).sum().backward(create_graph=True)  # accumulates, out of place as PyTorch's
    np.testing.assert_array_equal(x.grad.detach().numpy(), [6.0, 24.0])
    np.testing.assert_array_equal(first.detach().numpy(), [3.0, 12.0])
    w = tg.tensor([1.0, 1.0], requires_grad=True)
    (x.grad * w).sum().backward()  # through the gradient: d/dw, and d/dx (12 x) added
    np.testing.assert_array_equal(w.grad.numpy(), [6.0, 24.0])
    np.testing.assert_array_equal(x.grad.detach().numpy(), [18.0, 48.0])


def test_an_optimizer_steps_on_gradients_in_the_graph():
    w = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    optimizer = tg.optim.SGD([w], lr=0.1)
    (w ** 2).sum().backward(create_graph=True)
    optimizer.step()
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6])
    optimizer.zero_grad()
    assert w.grad is None


def test_hooks_see_and_replace_tensors_in_a_recorded_pass():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g) or g * 3)
    (g,) = tg.autograd.grad(h.sum(), x, create_graph=True)
    assert isinstance(seen[0], Tensor)
    np.testing.assert_array_equal(g.detach().numpy(), [6.0, 12.0])
    (second,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(second.numpy(), [6.0, 6.0])


def test_a_gradient_through_a_mask_is_in_the_graph_with_a_zero_gradient():
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad(x.relu().sum(), x, create_graph=True)
    assert g.requires_grad  # (PyTorch's too: its backward reads x)
    np.testing.assert_array_equal(tg.autograd.grad(g.sum(), x)[0].numpy(), [0.0, 0.0])
    (g,) = tg.autograd.grad((x * 2).sum(), x, create_graph=True)
    assert not g.requires_grad  # a constant: nothing to differentiate


class _Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class _SquareWithRule(_Square):
    @staticmethod
    def recorded_backward(ctx, grad):
        (x,) = ctx.inputs
        return 2 * x * grad


def test_an_op_without_a_rule_is_refused_by_name_and_a_users_rule_is_used():
    x = tg.tensor([1.0, 3.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="_Square: tensorgrad has no gradient of its "
                                                  "gradient"):
        tg.autograd.grad(_Square.apply(x).sum(), x, create_graph=True)
    with pytest.raises(NotImplementedError, match="Scatter"):
        tg.autograd.grad(x.scatter(0, tg.tensor([1]), x[:1] * 2).sum(), x, create_graph=True)
    (g,) = tg.autograd.grad(_SquareWithRule.apply(x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(tg.autograd.grad(g.sum(), x)[0].numpy(), [2.0, 2.0])


def test_a_users_function_on_tensors_that_saved_its_result_is_refused():
    class Exp(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    x = tg.tensor([0.5], requires_grad=True)
    with pytest.raises(NotImplementedError, match="saved a tensor other than its inputs"):
        tg.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (g,) = tg.autograd.grad(Exp.apply(x).sum(), x)  # (without create_graph: as before)
    np.testing.assert_allclose(g.numpy(), np.exp([0.5]))


def test_a_freed_graph_and_a_value_changed_in_place_are_refused():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time|let them go"):
        y.backward(create_graph=True)
    h = x * 1.0
    z = (h.exp()).sum()
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation|in-place"):
        tg.autograd.grad(z, x, create_graph=True)


def test_create_graph_is_refused_in_a_captured_step():
    x = tg.tensor([1.0, 2.0], requires_grad=True)

    def step() -> None:
        tg.autograd.grad((x ** 3).sum(), x, create_graph=True)

    with pytest.raises(RuntimeError, match="captured step"):
        tg.capture(step)()


def test_func_grad_of_a_function_closing_over_a_parameter_stays_in_its_graph():
    w, x = tg.tensor([0.5, -1.0], requires_grad=True), tg.tensor([1.0, 2.0])
    g = tg.func.grad(lambda x: (w * x).sin().sum())(x)  # w cos(w x), in w's graph
    assert g.requires_grad
    (g ** 2).sum().backward()
    wv, xv = w.detach().numpy(), x.numpy()
    expected = 2 * wv * np.cos(wv * xv) * (np.cos(wv * xv) - wv * xv * np.sin(wv * xv))
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)
    assert not tg.func.grad(lambda x: (x ** 3).sum())(x).requires_grad  # (nothing to keep)
