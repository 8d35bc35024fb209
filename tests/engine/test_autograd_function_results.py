"""``tensorgrad.autograd.Function`` with several results (``ctx.mark_non_differentiable``),
inputs written in place (``ctx.mark_dirty``) and ``once_differentiable``, as PyTorch's: which
results join the graph, what backward receives, the gradients, and the misuses refused.
``test_autograd_function_results_torch.py`` holds the same Functions against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from function_results_style import functions

import tensorgrad as tg
from tensorgrad import Tensor

seen: list = []
F = functions(tg, seen)


@pytest.fixture(autouse=True)
def _fresh_seen():
    seen.clear()


def test_indices_come_out_of_the_graph_and_their_gradient_is_zeros():
    x = Tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    values, index = F["SortWithIndex"].apply(x)
    assert values.requires_grad and not index.requires_grad
    assert index.dtype == np.int64 and index.tolist() == [[1, 2, 0]]
    (values * Tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[100.0, 1.0, 10.0]])
    grad_values, grad_index = seen[0]
    assert isinstance(grad_index, Tensor) and grad_index.dtype == np.int64
    np.testing.assert_array_equal(grad_index.numpy(), np.zeros((1, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_result_that_got_no_gradient_gets_zeros(dtype):
    a = Tensor(np.array([1.0, 2.0], dtype), requires_grad=True)
    b = Tensor(np.array([3.0, 5.0], dtype), requires_grad=True)
    total, difference = F["MulAdd"].apply(a, b, Tensor(np.ones(2, dtype)))
    assert total.dtype == difference.dtype == dtype
    difference.sum().backward()  # total unused
    g_total, g_difference = seen[0]
    np.testing.assert_array_equal(g_total.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(g_difference.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [-1.0, -1.0])
    assert a.grad.dtype == dtype


def test_both_results_add_their_gradients():
    a, b = Tensor([2.0], requires_grad=True), Tensor([7.0], requires_grad=True)
    c = Tensor([1.0])  # needs no gradient: backward is told so
    total, difference = F["MulAdd"].apply(a, b, c)
    (total * 10 + difference).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [10 * 7.0 + 1])
    np.testing.assert_array_equal(b.grad.numpy(), [10 * 2.0 - 1])
    assert c.grad is None


def test_a_number_result_comes_out_as_is_and_its_gradient_is_none():
    x = Tensor([1.0, -2.0], requires_grad=True)
    double, number, squares = F["WithNumber"].apply(x)
    assert number == 3 and type(number) is int
    assert squares.shape == () and squares.item() == 5.0
    (double.sum() + squares).backward()
    g_double, g_number, g_squares = seen[0]
    assert g_number is None and g_squares.shape == ()
    np.testing.assert_array_equal(x.grad.numpy(), [2 + 2 * 1.0, 2 + 2 * -2.0])


def test_results_keep_their_own_dtypes_and_so_do_their_gradients():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    single, double = F["TwoDtypes"].apply(x)
    assert single.dtype == np.float32 and double.dtype == np.float64
    (single.sum() + double.sum()).backward()
    g_single, g_double = seen[0]
    assert g_single.dtype == np.float32 and g_double.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_a_floating_result_marked_non_differentiable_needs_no_grad():
    x = Tensor([4.0], requires_grad=True)
    triple, halves = F["MarkedFloat"].apply(x)
    assert triple.requires_grad and not halves.requires_grad
    assert halves.item() == 2.0
    triple.sum().backward()
    np.testing.assert_array_equal(seen[0][1].numpy(), [0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0])


def test_under_no_grad_no_result_is_in_the_graph():
    a = Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        total, difference = F["MulAdd"].apply(a, a, a)
    assert not total.requires_grad and not difference.requires_grad
    assert total.item() == 2.0 and difference.item() == 0.0


def test_empty_and_zero_d_results():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    values, index = F["SortWithIndex"].apply(x)
    assert values.shape == index.shape == (0, 3)
    values.sum().backward()
    assert x.grad.shape == (0, 3)
    y = Tensor(2.0, requires_grad=True)
    total, difference = F["MulAdd"].apply(y, y, y)
    assert total.shape == () and difference.shape == ()
    (total + difference).backward()
    assert y.grad.item() == 2.0 * 2 + 1 - 1 + 1  # d(y*y + y)/dy + d(y - y)/dy


def test_an_input_written_in_place_is_returned_as_itself_in_the_graph():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 3
    c = F["AddOneInPlace"].apply(b)
    assert c is b and b.tolist() == [4.0, 7.0]
    (b * b).sum().backward()  # d/da (3a + 1)^2 = 6 (3a + 1)
    np.testing.assert_array_equal(a.grad.numpy(), [24.0, 42.0])


def test_an_input_written_in_place_beside_another_result():
    a = Tensor([1.0, -1.0], requires_grad=True)
    b = a + 0
    scaled, times_five = F["ScaleInPlace"].apply(b)
    assert scaled is b and b.tolist() == [2.0, -2.0] and times_five.tolist() == [10.0, -10.0]
    (scaled.sum() + times_five.sum()).backward()
    np.testing.assert_array_equal(a.grad.numpy(), [12.0, 12.0])


def test_a_leaf_that_requires_grad_may_not_be_written_in_place():
    a = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F["AddOneInPlace"].apply(a)
    with tg.no_grad():  # outside the graph: a plain write, and a stays a leaf
        F["AddOneInPlace"].apply(a)
    assert a.is_leaf and a.requires_grad


def test_what_saved_an_input_before_it_was_written_refuses_backward():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    square = b * b  # saves b's array
    F["AddOneInPlace"].apply(b)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        square.sum().backward()


def test_an_input_marked_dirty_must_be_returned():
    class Forgets(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="marked as dirty .* not returned"):
        Forgets.apply(Tensor([1.0], requires_grad=True) * 1)


def test_several_results_differentiate_twice():
    a = Tensor([2.0, 3.0], requires_grad=True)
    b = Tensor([5.0, 7.0], requires_grad=True)
    total, difference = F["MulAdd"].apply(a, b, Tensor([0.0, 0.0]))
    (ga, gb) = tg.autograd.grad((total * total).sum() + difference.sum(), (a, b),
                                create_graph=True)
    np.testing.assert_array_equal(ga.detach().numpy(),
                                  2 * a.detach().numpy() * b.detach().numpy() ** 2 + 1)
    ga.sum().backward()  # d/da 2ab^2 = 2b^2, d/db 2ab^2 = 4ab
    np.testing.assert_array_equal(a.grad.numpy(), 2 * b.detach().numpy() ** 2)
    np.testing.assert_array_equal(b.grad.numpy(), 4 * a.detach().numpy() * b.detach().numpy())


def test_saved_indices_do_not_stop_create_graph():
    x = Tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    values, _ = F["SortWithIndex"].apply(x)
    (g,) = tg.autograd.grad((values ** 2).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 2.0, 2.0]])


def test_once_differentiable_gives_gradients_that_refuse_a_second_pass():
    x = Tensor([0.5, 2.0], requires_grad=True)
    y = F["Clip"].apply(x)
    (g,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [1.0, 0.0])
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="marked with @once_differentiable"):
        g.sum().backward()
    F["Clip"].apply(x).sum().backward()  # once: as any backward
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0])


def test_a_function_inside_a_function():
    inner = F["MulAdd"]

    class Outer(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            total, difference = inner.apply(a, a, a)
            return total, difference * 2

        @staticmethod
        def backward(ctx, g_total, g_difference):
            return g_total * 7 + g_difference

    a = Tensor([1.0], requires_grad=True)
    total, twice = Outer.apply(a)
    assert total.item() == 2.0 and twice.item() == 0.0
    (total + twice).sum().backward()
    assert a.grad.item() == 8.0


def test_a_captured_step_replays_several_results():
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)

    def loss(c):
        total, difference = F["MulAdd"].apply(a, b, c)
        return (total * difference).sum()

    step = tg.capture(loss)
    eager = []
    for k in range(4):
        c = np.array([k, 2.0 * k])
        a.grad = b.grad = None
        got = step(c)
        eager.append((got.item(), a.grad.numpy().copy(), b.grad.numpy().copy()))
        a.grad = b.grad = None
        want = loss(Tensor(c))
        want.backward()
        assert got.item() == want.item()
        np.testing.assert_array_equal(eager[-1][1], a.grad.numpy())
        np.testing.assert_array_equal(eager[-1][2], b.grad.numpy())
