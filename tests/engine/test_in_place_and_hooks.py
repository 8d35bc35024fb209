"""In-place Tensor methods, scatter/index_add/index_fill and gradient hooks, without torch:
values against NumPy written out, gradients against ``tensorgrad.gradcheck``, and the engine's
rules for in-place writes (where they are allowed, and that backward() sees them)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor

DTYPES = [np.float32, np.float64]


def _shared(values):
    """A tensor whose array is ``values`` itself (no copy): what it writes, ``values`` shows."""
    return tg.from_numpy(values)


# ---- in-place arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "transposed view", "sliced view"])
def test_in_place_methods_write_the_results_into_the_tensors_own_array(layout, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4)).astype(dtype)
    b, c = rng.standard_normal(4).astype(dtype), rng.uniform(1, 2, (3, 4)).astype(dtype)
    memory = {"C": a.copy(), "F": np.asfortranarray(a), "transposed view": a.T.copy().T,
              "sliced view": np.repeat(a, 2, axis=1)}
    values = memory[layout][:, ::2] if layout == "sliced view" else memory[layout]
    x, expected = _shared(values), a.copy()
    steps = [
        (lambda: x.add_(Tensor(b), alpha=-2), lambda e: e - 2 * b),
        (lambda: x.sub_(0.5, alpha=3), lambda e: e - 1.5),
        (lambda: x.mul_(Tensor(c)), lambda e: e * c),
        (lambda: x.div_(Tensor(c)), lambda e: e / c),
        (lambda: x.clamp_(-0.5, 0.75), lambda e: np.clip(e, -0.5, 0.75)),
        (lambda: x.abs_(), np.abs),
        (lambda: x.pow_(Tensor(c)), lambda e: e**c),
        (lambda: x.neg_(), np.negative),
        (lambda: x.exp_(), np.exp),
        (lambda: x.sqrt_(), np.sqrt),
        (lambda: x.addcmul_(Tensor(b), Tensor(c), value=0.5), lambda e: e + 0.5 * b * c),
        (lambda: x.addcdiv_(Tensor(b), Tensor(c), value=-2), lambda e: e - 2 * b / c),
        (lambda: x.lerp_(Tensor(c), 0.25), lambda e: e + 0.25 * (c - e)),
        (lambda: x.lerp_(Tensor(b), Tensor(c) - 1), lambda e: e + (c - 1) * (b - e)),
        (lambda: x.copy_(Tensor(b.astype(np.float64))), lambda e: np.broadcast_to(b, e.shape)),
    ]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for step, numpy_step in steps:
        assert step() is x
        expected = numpy_step(expected).astype(dtype)
        assert np.shares_memory(x.data, values) and x.dtype == dtype
        np.testing.assert_allclose(values, expected, rtol=rtol, atol=rtol)


def test_in_place_on_integers_casts_within_a_kind_and_refuses_a_float_result():
    x = Tensor([1, -2, 3])
    x.mul_(3).add_(Tensor(np.array([1, 1, 1], np.int32)), alpha=2).neg_().abs_().clamp_(max=6)
    np.testing.assert_array_equal(x.data, [5, 4, 6])
    assert x.dtype == np.int64
    for op in (lambda: x.div_(2), lambda: x.add_(0.5), lambda: x.exp_(), lambda: x.sqrt_(),
               lambda: x.pow_(0.5), lambda: x.clamp_(0.5)):
        with pytest.raises(RuntimeError, match="result type float64 can't be cast to the "
                           "desired output type int64"):
            op()
    np.testing.assert_array_equal(x.data, [5, 4, 6])  # (a refused op writes nothing)
    x.copy_(Tensor([1.7, -2.7, 0.2]))  # copy_ casts anything, truncating as PyTorch
    np.testing.assert_array_equal(x.data, [1, -2, 0])


def test_in_place_refuses_a_shape_that_is_not_the_tensors():
    x = Tensor(np.zeros(3))
    for op in (lambda: x.add_(Tensor(np.ones((2, 3)))), lambda: x.copy_(Tensor(np.ones((2, 3)))),
               lambda: x.copy_(Tensor(np.ones(2)))):
        with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match"):
            op()
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        x.clamp_()


def test_in_place_on_a_leaf_that_requires_grad_is_refused_but_under_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.copy_(Tensor([0.0, 0.0])),
               lambda: w.normal_(), lambda: w.uniform_(), lambda: w.bernoulli_(),
               lambda: w.scatter_(0, Tensor([0]), 5.0), lambda: w.index_fill_(0, Tensor([0]), 1.0),
               lambda: w.zero_(), lambda: w.__iadd__(1)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                           "used in an in-place operation."):
            op()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    with tg.no_grad():
        assert w.mul_(3).add_(1) is w
    np.testing.assert_array_equal(w.data, [4.0, 7.0])
    assert w.requires_grad and w.is_leaf


def test_in_place_on_a_result_that_requires_grad_is_an_op_of_the_graph():
    # y = 2x, then y += 1, y.exp_(): d(sum exp(2x + 1))/dx = 2 exp(2x + 1), as PyTorch records it
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for op in (lambda: y.__iadd__(1), lambda: y.exp_()):
        assert op() is y
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), np.exp([3.0, 5.0]))
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([3.0, 5.0]))


def test_in_place_from_a_tensor_that_requires_grad_joins_the_graph_outside_no_grad():
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0], requires_grad=True)
    x.add_(w)  # x = x + w, recorded: x now requires grad
    assert x.requires_grad and not x.is_leaf
    (x * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [8.0, 12.0])
    x = Tensor([1.0, 2.0])
    with tg.no_grad():
        x.add_(w)
    np.testing.assert_array_equal(x.data, [4.0, 6.0])
    assert not x.requires_grad


def test_a_write_under_no_grad_makes_backward_through_a_saved_array_refuse():
    w = Tensor([1.0, 2.0], requires_grad=True)
    x = Tensor([3.0, 4.0])
    y = (w * x).sum()  # Mul saved x
    x.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    z = w.exp()  # Exp saved its result, which is z's array
    loss = (z * 2).sum()
    with tg.no_grad():
        z.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    loss = (w * Tensor([5.0, 6.0])).sum()  # written before the op ran: fine
    loss.backward()
    np.testing.assert_array_equal(w.grad, [5.0, 6.0])


def test_in_place_is_refused_inside_a_captured_function():
    w = Tensor([1.0, 2.0], requires_grad=True)

    def loss_fn(x):
        x.mul_(2)
        return (w * x).sum()

    with pytest.raises(RuntimeError, match="in-place op inside a captured function"):
        tg.capture(loss_fn)(Tensor([1.0, 1.0]))


# ---- random fills -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_fills_follow_the_seed_and_keep_the_dtype(dtype):
    def draws():
        x = Tensor(np.zeros(2000, dtype))
        return [x.normal_(3.0, 0.5).numpy(force=True), x.uniform_(-1, 2).numpy(force=True),
                x.bernoulli_(0.25).detach().numpy().copy(),
                x.normal_(generator=tg.Generator().manual_seed(7)).detach().numpy().copy()]

    tg.manual_seed(11)
    first = draws()
    tg.manual_seed(11)
    again = draws()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == dtype
    normal, uniform, bernoulli, own = first
    assert abs(normal.mean() - 3.0) < 0.1 and abs(normal.std() - 0.5) < 0.05
    assert uniform.min() >= -1 and uniform.max() < 2 and abs(uniform.mean() - 0.5) < 0.1
    assert set(np.unique(bernoulli)) == {0.0, 1.0} and abs(bernoulli.mean() - 0.25) < 0.05
    expected = tg.Generator().manual_seed(7).rng.standard_normal(2000)  # the same draws
    np.testing.assert_array_equal(own, expected.astype(dtype))


def test_random_fill_arguments_are_checked():
    x = Tensor(np.zeros(3))
    for op, error, message in [
            (lambda: x.normal_(0, -1), RuntimeError, "normal expects std >= 0.0"),
            (lambda: x.uniform_(2, 1), RuntimeError, r"uniform_ expects to return a \[from, to\)"),
            (lambda: x.bernoulli_(1.5), RuntimeError, r"bernoulli_ expects p to be in \[0, 1\]"),
            (lambda: Tensor([1, 2]).normal_(), NotImplementedError, "not implemented for int64"),
            (lambda: Tensor([1, 2]).uniform_(), NotImplementedError, "not implemented for"),
            (lambda: x.normal_(generator=np.random.default_rng()), TypeError, "Generator")]:
        with pytest.raises(error, match=message):
            op()
    y = Tensor([5, 5, 5]).bernoulli_(Tensor([0.0, 1.0, 0.0]))  # integers may hold 0 and 1
    np.testing.assert_array_equal(y.data, [0, 1, 0])


# ---- scatter, scatter_add, index_add, index_fill ------------------------------------------


def _scatter_by_loops(a, dim, index, src, add):
    """scatter (or scatter_add) of 2-d arrays, entry by entry."""
    out = a.copy()
    for i in range(index.shape[0]):
        for j in range(index.shape[1]):
            place = (index[i, j], j) if dim == 0 else (i, index[i, j])
            out[place] = out[place] + src[i, j] if add else src[i, j]
    return out


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_and_scatter_add_values_against_loops(dim):
    rng = np.random.default_rng(1)
    a, src = rng.standard_normal((4, 5)), rng.standard_normal((5, 6))  # src larger than index
    index = np.array([[3, 0, 1, 2], [1, 2, 3, 0]]) if dim == 0 else np.array([[4, 1], [0, 2],
                                                                             [3, 3]])
    unique = index if dim == 0 else np.array([[4, 1], [0, 2], [3, 0]])
    np.testing.assert_array_equal(
        Tensor(a).scatter(dim, Tensor(unique), Tensor(src)).data,
        _scatter_by_loops(a, dim, unique, src, add=False))
    np.testing.assert_allclose(
        tg.scatter_add(Tensor(a), dim, Tensor(index), Tensor(src)).data,
        _scatter_by_loops(a, dim, index, src, add=True), rtol=1e-15)
    np.testing.assert_array_equal(
        Tensor(a).scatter(dim, Tensor(unique), 2.5).data,
        _scatter_by_loops(a, dim, unique, np.full(src.shape, 2.5), add=False))
    multiplied = _scatter_by_loops(a, dim, index, np.zeros(src.shape), add=True)
    for i, j in np.ndindex(index.shape):
        place = (index[i, j], j) if dim == 0 else (i, index[i, j])
        multiplied[place] *= -2.0
    np.testing.assert_allclose(Tensor(a).scatter(dim, Tensor(index), -2.0, reduce="multiply").data,
                               multiplied, rtol=1e-15)


def test_index_add_and_index_fill_values_against_loops():
    rng = np.random.default_rng(2)
    a, source = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 5, 2))
    index = np.array([3, 0, 3, 1, 3])
    expected = a.copy()
    for i, k in enumerate(index):
        expected[:, k] += 0.5 * source[:, i]
    np.testing.assert_allclose(tg.index_add(Tensor(a), 1, Tensor(index), Tensor(source),
                                            alpha=0.5).data, expected, rtol=1e-14)
    expected = a.copy()
    expected[:, :, 1] = -7.0
    np.testing.assert_array_equal(Tensor(a).index_fill(-1, Tensor([1, 1]), -7.0).data, expected)
    filled = Tensor(a).index_fill(2, tg.tensor(1), Tensor(-7.0))
    np.testing.assert_array_equal(filled.data, expected)


def test_scatter_family_in_place_forms_write_into_the_tensor():
    values = np.zeros((2, 3))
    x = _shared(values)
    assert x.scatter_(1, Tensor([[2], [0]]), Tensor([[1.0], [2.0]])) is x
    assert x.scatter_add_(0, Tensor([[1, 1, 1]]), Tensor([[1.0, 1.0, 1.0]])) is x
    assert x.index_add_(1, Tensor([0, 0]), Tensor([[1.0, 2.0], [3.0, 4.0]]), alpha=10) is x
    assert x.index_fill_(0, Tensor([0]), 9.0) is x
    assert x.scatter_(1, Tensor([[1], [1]]), 3.0, reduce="add") is x
    np.testing.assert_array_equal(values, [[9, 12, 9], [73, 4, 1]])


def test_scatter_family_on_0_d_and_empty_tensors_and_integers():
    np.testing.assert_array_equal(Tensor(1.0).scatter(0, tg.tensor(0), Tensor(3.0)).data, 3.0)
    np.testing.assert_array_equal(Tensor(1.0).index_add(0, Tensor([0]), Tensor(3.0)).data, 4.0)
    np.testing.assert_array_equal(Tensor(1.0).index_fill(-1, Tensor([0]), 3.0).data, 3.0)
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    out = empty.scatter_add(1, Tensor(np.zeros((0, 2), np.int64)), Tensor(np.zeros((0, 2))))
    assert out.shape == (0, 3)
    out.sum().backward()
    assert empty.grad.shape == (0, 3)
    ints = Tensor([1, 2, 3]).index_add(0, Tensor([0, 0]), Tensor([5, 6]), alpha=2.9)
    np.testing.assert_array_equal(ints.data, [23, 2, 3])  # alpha truncated to 2, as PyTorch
    assert ints.dtype == np.int64


def _grads(fn, *arrays):
    """gradcheck's verdict on ``fn`` of float64 tensors of ``arrays``, that all require grad."""
    return tg.gradcheck(fn, *(Tensor(a, requires_grad=True) for a in arrays),
                        reference="finite-difference")


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_scatter_family_gradients_by_gradcheck(dim):
    rng = np.random.default_rng(3)
    a, src = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    index = Tensor([[2, 0, 1], [1, 2, 0]] if dim == 0 else [[3, 1], [0, 2], [2, 2]])
    unique = Tensor([[2, 0, 1], [1, 2, 0]] if dim == 0 else [[3, 1], [0, 2], [2, 0]])
    weights = Tensor(rng.standard_normal((3, 4)))
    assert _grads(lambda x, s: (x.scatter(dim, unique, s) * weights).sum(), a, src)
    assert _grads(lambda x: (x.scatter(dim, unique, 1.5) * weights).sum(), a)
    assert _grads(lambda x, s: (x.scatter_add(dim, index, s) * weights).sum(), a, src)
    source = rng.standard_normal((3, 4)[:dim % 2] + (5,) + (3, 4)[dim % 2 + 1:])
    picks = Tensor([2, 0, 2, 1, 0][: 5])
    assert _grads(lambda x, s: (x.index_add(dim, picks, s, alpha=-1.5) * weights).sum(),
                  a, source)
    assert _grads(lambda x, v: (x.index_fill(dim, Tensor([2, 0, 2]), v) * weights).sum(),
                  a, np.array(0.5))


def test_scatter_gradients_written_out():
    x, src = Tensor(np.zeros((2, 3)), requires_grad=True), Tensor(np.ones((2, 4)),
                                                                    requires_grad=True)
    weights = np.arange(6.0).reshape(2, 3)
    (x.scatter(1, Tensor([[2], [0]]), src) * Tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 4, 5]])  # none where written
    np.testing.assert_array_equal(src.grad, [[2, 0, 0, 0], [3, 0, 0, 0]])  # gathered there
    v = Tensor(0.0, requires_grad=True)
    (x.index_fill(1, Tensor([1, 1]), v) * Tensor(weights)).sum().backward()
    assert v.grad == 1 + 4  # each slice once, however often it is named


def test_scatter_with_reduce_refuses_backward():
    x = Tensor(np.zeros(3), requires_grad=True)
    for y in (x.scatter(0, Tensor([1]), 2.0, reduce="add"),
              x.scatter(0, Tensor([1]), Tensor([2.0]), reduce="multiply")):
        with pytest.raises(RuntimeError, match="derivative of scatter with reduce="):
            y.sum().backward()


@pytest.mark.parametrize("op, error, message", [
    (lambda x: x.scatter(0, Tensor([0, 1]), Tensor(np.ones((3, 4)))), RuntimeError,
     "Index tensor must have the same number of dimensions as self tensor"),
    (lambda x: x.scatter(0, Tensor([[0]]), Tensor(np.ones(4))), RuntimeError,
     "Index tensor must have the same number of dimensions as src tensor"),
    (lambda x: x.scatter(1, Tensor([[4]]), 1.0), RuntimeError,
     "index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.scatter(1, Tensor(np.zeros((4, 1), np.int64)), 1.0), RuntimeError,
     r"Expected index \[4, 1\] to be no larger than self \[3, 4\] apart from dimension 1"),
    (lambda x: x.scatter(0, Tensor([[0.0]]), 1.0), RuntimeError, "Expected dtype int64"),
    (lambda x: x.scatter(0, Tensor([[0]]), Tensor(np.ones((1, 1), np.float32))), RuntimeError,
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.scatter(0, Tensor([[0]]), 1.0, reduce="max"), RuntimeError,
     "reduce argument must be either add or multiply."),
    (lambda x: x.scatter(0, Tensor([[0]])), TypeError, "one of src"),
    (lambda x: x.scatter(0, Tensor([[0]]), value=Tensor(1.0)), TypeError, "value is a number"),
    (lambda x: x.scatter(0, [[0]], 1.0), TypeError, "must be a tensor"),
    (lambda x: x.scatter(2, Tensor([[0]]), 1.0), IndexError, "out of range"),
    (lambda x: x.scatter_add(0, Tensor([[0]]), 2.0), TypeError, "src must be a tensor"),
    (lambda x: x.index_add(0, Tensor([[0]]), Tensor(np.ones((1, 4)))), IndexError,
     "Index is supposed to be a vector"),
    (lambda x: x.index_add(0, Tensor([0, 1]), Tensor(np.ones((1, 4)))), RuntimeError,
     "source tensor shape must match self tensor shape"),
    (lambda x: x.index_add(0, Tensor([-1]), Tensor(np.ones((1, 4)))), RuntimeError,
     "index -1 is out of bounds"),
    (lambda x: x.index_fill(0, Tensor([0]), Tensor([1.0])), RuntimeError,
     "only supports a 0-dimensional value tensor"),
    (lambda x: x.index_fill(0, Tensor([[0]]), 1.0), RuntimeError, "vector/scalar"),
])
def test_scatter_family_errors(op, error, message):
    with pytest.raises(error, match=message):
        op(Tensor(np.zeros((3, 4))))


# ---- hooks and retain_grad --------------------------------------------------------------


def test_hooks_run_in_order_may_replace_the_gradient_and_can_be_removed():
    seen = []
    w = Tensor([1.0, -2.0], requires_grad=True)
    h = w * 3
    h.register_hook(lambda g: seen.append(("h1", g.tolist())) or g * 10)
    h.register_hook(lambda g: seen.append(("h2", g.tolist())))
    removed = h.register_hook(lambda g: g * 1000)
    removed.remove()
    removed.remove()
    w.register_hook(lambda g: seen.append(("w", g.tolist())) or g + 1)
    (h * Tensor([1.0, 2.0])).sum().backward()
    assert seen == [("h1", [1.0, 2.0]), ("h2", [10.0, 20.0]), ("w", [30.0, 60.0])]
    np.testing.assert_array_equal(w.grad, [31.0, 61.0])


def test_a_hook_sees_the_whole_gradient_and_the_root_and_a_leaf_root_too():
    seen = []
    w = Tensor([2.0], requires_grad=True)
    y = w * w
    y.register_hook(lambda g: seen.append(g.item()))  # used twice below: the sum arrives
    loss = y * 3 + y * 4
    loss.register_hook(lambda g: seen.append(("root", g.item())))
    loss.backward()
    assert seen == [("root", 1.0), 7.0]
    np.testing.assert_array_equal(w.grad, [28.0])
    w.register_hook(lambda g: g * 0)
    w.backward(Tensor([5.0]))  # a leaf as the root: its hook too
    np.testing.assert_array_equal(w.grad, [28.0])


def test_hooks_do_not_change_arrays_that_others_hold():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    z = y + 0.0
    z.register_hook(lambda g: g.mul_(100))  # (in place into its own copy)
    seed = np.array([1.0, 1.0])
    z.backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [100.0, 100.0])


def test_retain_grad_keeps_a_results_gradient_summed_over_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    assert not y.retains_grad and not x.retains_grad
    y.retain_grad()
    x.retain_grad()  # a leaf keeps its own anyway: nothing
    assert y.retains_grad and not x.retains_grad
    y.register_hook(lambda g: g * 2)  # retain_grad keeps what the hooks made, as PyTorch
    loss = (y * Tensor([3.0, 4.0])).sum()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(y.grad, [6.0, 8.0])
    loss.backward()
    np.testing.assert_array_equal(y.grad, [12.0, 16.0])
    np.testing.assert_array_equal(x.grad, [24.0, 64.0])


def test_backward_with_inputs_runs_only_the_hooks_of_the_leaves_it_fills():
    called = []
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    a.register_hook(lambda g: called.append("a"))
    b.register_hook(lambda g: called.append("b"))
    (a * b).sum().backward(inputs=[a])
    assert called == ["a"] and b.grad is None


@pytest.mark.parametrize("returned, error, message", [
    (lambda g: g[:1], RuntimeError, "hook '<lambda>' has changed the size of value"),
    (lambda g: 5, TypeError, "expected Variable, but hook returned 'int'"),
    (lambda g: g.float(), RuntimeError, "hook '<lambda>' has changed the type of value"),
])
def test_a_hook_that_returns_the_wrong_thing_raises(returned, error, message):
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    y.register_hook(returned)
    with pytest.raises(error, match=message):
        y.sum().backward()


def test_hooks_and_retain_grad_need_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                       "require gradient"):
        Tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                       "requires_grad=False"):
        Tensor([1.0]).retain_grad()


def test_hooks_and_captured_steps_refuse_each_other():
    w = Tensor([1.0, 2.0], requires_grad=True)

    def hooked_inside(x):
        y = w * x
        y.register_hook(lambda g: g)
        return y.sum()

    def retained_inside(x):
        y = w * x
        y.retain_grad()
        return y.sum()

    for loss_fn in (hooked_inside, retained_inside):
        with pytest.raises(RuntimeError, match="inside a captured function"):
            tg.capture(loss_fn)(Tensor([1.0, 1.0]))
    handle = w.register_hook(lambda g: g * 2)  # registered before: the recording refuses it
    step = tg.capture(lambda x: (w * x).sum())
    with pytest.raises(RuntimeError, match="a gradient hook in a captured step"):
        step(Tensor([1.0, 1.0]))
    handle.remove()
    w.grad = None
    step(Tensor([1.0, 1.0]))  # without it, the step records and runs
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_a_hook_on_a_parameter_of_a_captured_step_is_refused_at_its_replays():
    """A replay writes the parameters' gradients without calling hooks: rather than skip a
    hook silently, a step with one refuses, and runs again once it is removed."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    step = tg.capture(lambda x: (w * x).sum())
    x = np.array([3.0, 4.0])
    for _ in range(3):  # two recordings, then a replay
        w.grad = None
        step(x)
    handle = w.register_hook(lambda g: g * 2)
    with pytest.raises(tg.CaptureError, match="gradient hook"):
        step(x)
    handle.remove()
    w.grad = None
    step(x)
    np.testing.assert_array_equal(w.grad, x)


def test_reading_the_grad_of_a_result_that_keeps_none_warns_as_pytorch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="no leaf"):
        assert y.grad is None
    y.retain_grad()
    (y * y).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad.tolist() == [4.0, 8.0] and x.grad is not None
