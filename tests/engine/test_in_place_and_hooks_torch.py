"""In-place Tensor methods, scatter/index_add/index_fill and gradient hooks held against
PyTorch's: values, dtypes, gradients (float32 and float64), and the errors with their types
and messages. Skipped without torch (``test_in_place_and_hooks.py`` checks them without it)."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import RTOL, assert_same, run_both

import tensorgrad
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
# PyTorch's note that scatter's reduce= is deprecated (for scatter_reduce, not here)
pytestmark = pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")

DTYPES = [np.float32, np.float64]


def _both(values, dtype=None):
    """A tensorgrad tensor and a torch tensor of the same values (no grad)."""
    values = np.asarray(values) if dtype is None else np.asarray(values, dtype)
    return Tensor(values), torch.tensor(values)


def _layouts(values):
    """``values`` seen through a C, a Fortran, a transposed and a sliced array."""
    return {"C": values.copy(), "F": np.asfortranarray(values), "transposed": values.T.copy().T,
            "sliced": np.repeat(values, 2, axis=-1)[..., ::2]}


# ---- in-place arithmetic ------------------------------------------------------------------


IN_PLACE = {
    "add_": (lambda x, y: x.add_(y), 2),
    "add_ alpha": (lambda x, y: x.add_(y, alpha=-0.5), 2),
    "sub_ alpha": (lambda x, y: x.sub_(y, alpha=3), 2),
    "mul_": (lambda x, y: x.mul_(y), 2),
    "div_": (lambda x, y: x.div_(y), 2),
    "pow_": (lambda x, y: x.abs_().pow_(y), 2),
    "pow_ number": (lambda x: x.pow_(2), 1),
    "clamp_": (lambda x: x.clamp_(-0.5, 0.25), 1),
    "clamp_ min": (lambda x: x.clamp_(min=0.1), 1),
    "clamp_ max tensor": (lambda x, y: x.clamp_(max=y), 2),
    "addcmul_": (lambda x, y, z: x.addcmul_(y, z, value=0.5), 3),
    "addcdiv_": (lambda x, y, z: x.addcdiv_(y, z, value=-2), 3),
    "lerp_ number": (lambda x, y: x.lerp_(y, 0.3), 2),
    "lerp_ tensor": (lambda x, y, z: x.lerp_(y, z), 3),
    "neg_": (lambda x: x.neg_(), 1),
    "abs_": (lambda x: x.abs_(), 1),
    "exp_": (lambda x: x.exp_(), 1),
    "sqrt_": (lambda x: x.sqrt_(), 1),  # NaN for the negative entries, as PyTorch's
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced"])
@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_arithmetic_as_torch(name, layout, dtype):
    op, count = IN_PLACE[name]
    rng = np.random.default_rng(0)
    values = [_layouts(rng.standard_normal((3, 4)).astype(dtype))[layout]]
    values += [rng.standard_normal(shape).astype(dtype) for shape in [(4,), (3, 4)][:count - 1]]
    ours = [Tensor(v) for v in values]
    theirs = [torch.tensor(np.array(v)) for v in values]
    ours[0].data = values[0]  # (the layout itself: Tensor() copies into C order)
    with np.errstate(invalid="ignore"):  # (sqrt_ of the negative entries: NaN)
        result = op(*ours)
    expected = op(*theirs)
    assert result is ours[0], "an in-place method returns its tensor"
    assert_same(ours[0], expected, name, RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced"])
@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_on_a_result_in_the_graph_as_torch(name, layout, dtype):
    # y = x * 1 is a result of an op: the in-place op is recorded (the values as they were
    # are its input), and the gradients reach x and the other arguments as in PyTorch
    op, count = IN_PLACE[name]
    rng = np.random.default_rng(1)
    values = [_layouts(rng.standard_normal((3, 4)).astype(dtype))[layout]]
    values += [rng.standard_normal(shape).astype(dtype) for shape in [(4,), (3, 4)][:count - 1]]
    weights = rng.standard_normal((3, 4)).astype(dtype)
    runs = []
    for make in (Tensor, torch.tensor):
        leaves = [make(np.array(v), requires_grad=True) for v in values]
        y = leaves[0] * 1
        assert op(y, *leaves[1:]) is y, "an in-place method returns its tensor"
        (y * make(weights)).sum().backward()
        runs.append((y, [leaf.grad for leaf in leaves]))
    (y, grads), (ty, tgrads) = runs
    rtol = RTOL[np.dtype(dtype)]
    assert_same(y, ty, name, rtol)
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        assert_same(g, tg, f"{name}: gradient of argument {i}", rtol)


def _graphs_as_torch(program, dtype=np.float64, rtol=None):
    """``program(lib, x, w)`` on both libraries from the same leaves x (3, 4) and w (4,):
    the same result and the same gradients of x and w."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)
    runs = []
    for lib, make in ((tensorgrad, Tensor), (torch, torch.tensor)):
        leaves = make(x, requires_grad=True), make(w, requires_grad=True)
        out = program(lib, *leaves)
        (out * out).sum().backward()
        runs.append((out, leaves))
    (out, (x_, w_)), (tout, (tx, tw)) = runs
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    assert_same(out, tout, "result", rtol)
    for ours, theirs, name in ((x_.grad, tx.grad, "x"), (w_.grad, tw.grad, "w")):
        assert (ours is None) == (theirs is None), name
        if ours is not None:
            assert_same(ours, theirs, f"gradient of {name}", rtol)


def _residual_block(lib, x, w):
    # torchvision's BasicBlock, in small: relu in place, then out += identity
    out = lib.nn.functional.linear(x, w.expand(4, 4) * 0.5)
    out.relu_()
    out = out * w
    out += x
    return out.relu_()


GRAPH_PROGRAMS = {
    "a residual block": _residual_block,
    "masked assignment": lambda lib, x, w: _set(x * 2, lambda y: y < 0.5, -1.0),
    "rows of parameters into a buffer": lambda lib, x, w: _buffer(lib, x, w),
    "slices, an index list and a mask, from values in the graph": lambda lib, x, w: _slices(
        lib, x, w),
    "masked_fill_ with a 0-d value in the graph": lambda lib, x, w: (x * 1).masked_fill_(
        x > 0, w[1]),
    "zero_ then add_": lambda lib, x, w: (x * 1).zero_().add_(w),
    "fill_ with a value in the graph": lambda lib, x, w: (x * 1).fill_(w[2]) * x,
    "copy_ broadcast, into a tensor outside the graph": lambda lib, x, w: lib.zeros(
        3, 4, dtype=x.dtype).copy_(w * 3) - x,
    "a float64 value into a float32 buffer": lambda lib, x, w: _cast(lib, x, w),
    "the operators": lambda lib, x, w: _operators(x * 1, w),
    "functional activations in place": lambda lib, x, w: _activations(lib.nn.functional,
                                                                      x * 1, w),
}


def _activations(F, y, w):
    for activation in (lambda t: F.leaky_relu(t, 0.1, inplace=True),
                       lambda t: F.elu(t, inplace=True), lambda t: F.selu(t, inplace=True),
                       lambda t: F.silu(t, inplace=True), lambda t: F.hardswish(t, inplace=True),
                       lambda t: F.relu(t, inplace=True)):
        assert activation(y) is y
        y = y * w
    return y


def _set(y, where, value):
    y[where(y)] = value
    return y


def _buffer(lib, x, w):
    buf = lib.zeros(3, 4, dtype=x.dtype)
    buf[0] = w
    buf[1:] = x[1:] * w
    return buf


def _slices(lib, x, w):
    y = x * 1
    y[:, 1] = w[:3]
    y[[0, 2], 2:] = w[2:] * 2
    y[y > 1] = w[0]
    return y


def _cast(lib, x, w):
    buf = lib.zeros(4, dtype=lib.float32)
    buf += w
    buf[1] = x[0, 0]
    return buf.double() * w


def _operators(y, w):
    y += w
    y -= 0.5
    y *= w
    y /= 2
    return y


@pytest.mark.parametrize("name", GRAPH_PROGRAMS)
def test_in_place_programs_in_the_graph_as_torch(name):
    _graphs_as_torch(GRAPH_PROGRAMS[name])


def test_in_place_in_the_graph_refuses_what_it_cannot_record_as_torch_would_not():
    # PyTorch records this too (it gives buf a history); tensorgrad refuses it rather than
    # send a gradient astray: buf's slice was made outside the graph, and names no base
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="on a view made outside it"):
        buf = tensorgrad.zeros(4, 3)
        buf[1:3].copy_(x)


def test_an_op_that_used_a_tensor_before_its_in_place_write_sends_its_gradient_as_torch():
    # PyTorch sends it to the values the op saw (views of the tensor: test_in_place_views_torch)
    grads = []
    for lib in (tensorgrad, torch):
        x = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        y = x * 2
        total = (y + 3).sum()  # used before the write, saving nothing of y
        y += 1
        y.mul_(x)
        (total + (y * y).sum()).backward()
        grads.append(x.grad)
    assert_same(*grads, "x's gradient")


def test_in_place_on_what_an_op_saved_refuses_its_backward_as_torch():
    for lib in (tensorgrad, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * y  # saved y
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in.?place operation"):
            z.sum().backward()
        y = x.exp()  # saved its result, y itself
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in.?place operation"):
            y.sum().backward()


def test_in_place_on_integers_and_mixed_dtypes_as_torch():
    x, tx = _both([1, 2, 3])
    for op in (lambda t: t.add_(2, alpha=3), lambda t: t.mul_(torch.tensor([2, 2, 2]) if
               isinstance(t, torch.Tensor) else Tensor([2, 2, 2])), lambda t: t.neg_(),
               lambda t: t.abs_(), lambda t: t.clamp_(0, 5), lambda t: t.pow_(2)):
        op(x), op(tx)
        assert_same(x, tx, "integers in place")
    # a float64 source into a float32 tensor: cast, as PyTorch's
    y, ty = _both([1.0, 2.0], np.float32)
    y.add_(Tensor(np.array([0.1, 0.2]))), ty.add_(torch.tensor([0.1, 0.2], dtype=torch.float64))
    assert_same(y, ty, "float64 into float32", 1e-7)
    # copy_ casts and broadcasts
    z, tz = _both(np.zeros((2, 3), np.int64))
    z.copy_(Tensor([1.5, -2.7, 3.2])), tz.copy_(torch.tensor([1.5, -2.7, 3.2]))
    assert_same(z, tz, "copy_")


@pytest.mark.parametrize("op", [
    lambda t: t.div_(2), lambda t: t.add_(1.5), lambda t: t.sqrt_(), lambda t: t.exp_(),
    lambda t: t.pow_(0.5), lambda t: t.clamp_(0.5)])
def test_in_place_refuses_a_float_result_in_an_integer_tensor_as_torch(op):
    x, tx = _both([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        op(tx)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        op(x)
    assert_same(x, tx, "left as it was")


def test_in_place_errors_as_torch():
    leaf, tleaf = Tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    message = "a leaf Variable that requires grad is being used in an in-place operation."
    for op in (lambda t: t.add_(1), lambda t: t.normal_(), lambda t: t.copy_(t * 0),
               lambda t: t.clamp_(0)):
        with pytest.raises(RuntimeError, match=message):
            op(tleaf)
        with pytest.raises(RuntimeError, match=message):
            op(leaf)
    for ours, theirs in [(lambda: Tensor(np.ones(3)).add_(Tensor(np.ones((2, 3)))),
                          lambda: torch.ones(3).add_(torch.ones(2, 3))),
                         (lambda: Tensor(np.ones(3)).copy_(Tensor(np.ones((2, 3)))),
                          lambda: torch.ones(3).copy_(torch.ones(2, 3)))]:
        with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                           r"broadcast shape \[2, 3\]"):
            theirs()
        with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                           r"broadcast shape \[2, 3\]"):
            ours()
    for ours, theirs, error, message in [
            (lambda: Tensor([1.0]).normal_(0, -1), lambda: torch.ones(1).normal_(0, -1),
             RuntimeError, "normal expects std >= 0.0, but found std -1"),
            (lambda: Tensor([1.0]).uniform_(2, 1), lambda: torch.ones(1).uniform_(2, 1),
             RuntimeError, r"uniform_ expects to return a \[from, to\) range"),
            (lambda: Tensor([1.0]).bernoulli_(2.0), lambda: torch.ones(1).bernoulli_(2.0),
             RuntimeError, r"bernoulli_ expects p to be in \[0, 1\]"),
            (lambda: Tensor([1]).normal_(), lambda: torch.ones(1, dtype=torch.long).normal_(),
             NotImplementedError, "not implemented for"),
            (lambda: Tensor([1.0]).clamp_(), lambda: torch.ones(1).clamp_(),
             RuntimeError, "At least one of 'min' or 'max' must not be None")]:
        with pytest.raises(error, match=message):
            theirs()
        with pytest.raises(error, match=message):
            ours()


def test_in_place_under_no_grad_then_backward_refuses_as_torch():
    x = Tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y, ty = x.exp(), tx.exp()
    with tensorgrad.no_grad():
        x.mul_(2)
        y.add_(1)
    with torch.no_grad():
        tx.mul_(2)
        ty.add_(1)
    assert_same(x, tx, "written under no_grad")
    assert_same(y, ty, "written under no_grad")
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_random_fills_keep_dtype_and_range_as_torch():
    for dtype in DTYPES:
        x, tx = _both(np.zeros((200,)), dtype)
        x.uniform_(-2, 3), tx.uniform_(-2, 3)
        assert x.dtype == tx.numpy().dtype
        assert x.data.min() >= -2 and x.data.max() < 3
        x.normal_(5, 0.5, generator=tensorgrad.Generator().manual_seed(1))
        assert x.dtype == tx.numpy().dtype and 4 < x.data.mean() < 6
        x.bernoulli_(Tensor(np.full(200, 0.5)))
        assert set(np.unique(x.data)) <= {0.0, 1.0}


# ---- scatter, scatter_add, index_add, index_fill -------------------------------------------


SCATTERS = {
    "scatter dim 0": (0, lambda x, s: x.scatter(0, INDEX[0], s),
                      lambda x, s: x.scatter(0, TINDEX[0], s)),
    "scatter dim 1": (1, lambda x, s: x.scatter(1, UNIQUE, s),
                      lambda x, s: x.scatter(1, TUNIQUE, s)),
    "scatter dim -1 function": (1, lambda x, s: tensorgrad.scatter(x, -1, UNIQUE, s),
                                lambda x, s: torch.scatter(x, -1, TUNIQUE, s)),
    "scatter value": (0, lambda x, s: x.scatter(0, INDEX[0], 2.5) * s.sum(),
                      lambda x, s: x.scatter(0, TINDEX[0], 2.5) * s.sum()),
    "scatter_add dim 0": (0, lambda x, s: x.scatter_add(0, INDEX[0], s),
                          lambda x, s: x.scatter_add(0, TINDEX[0], s)),
    "scatter_add dim 1 function": (1, lambda x, s: tensorgrad.scatter_add(x, 1, INDEX[1], s),
                                   lambda x, s: torch.scatter_add(x, 1, TINDEX[1], s)),
}
# indices smaller than the tensor along some dims; scatter_add's with repeats (they add up),
# scatter's without (PyTorch keeps one of the values, unspecified which)
INDEX = {0: Tensor([[0, 2, 2, 1], [2, 0, 0, 0]]), 1: Tensor([[3, 3, 0], [1, 2, 0], [0, 0, 0]])}
UNIQUE = Tensor([[3, 1, 0], [1, 2, 0], [0, 2, 3]])
TINDEX = {d: torch.tensor(i.detach().numpy()) for d, i in INDEX.items()}
TUNIQUE = torch.tensor(UNIQUE.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", SCATTERS)
def test_scatter_family_as_torch(name, dtype):
    dim, ours, theirs = SCATTERS[name]
    rng = np.random.default_rng(3)
    # (src of the index's shape: PyTorch 2.13's scatter backward fails on a larger one)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal(INDEX[dim].shape)
    run_both(torch, ours, theirs, [x, src], dtype)
    run_both(torch, ours, theirs, [np.asfortranarray(x), np.asfortranarray(src)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("alpha", [1, -0.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_add_as_torch(dim, alpha, dtype):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4, 2))
    index = [0, 2, 0, 1, 0] if dim == 0 else [1, 1, 0][: x.shape[dim] + 1]
    shape = list(x.shape)
    shape[dim] = len(index)
    source = rng.standard_normal(shape)
    run_both(torch, lambda a, s: tensorgrad.index_add(a, dim, Tensor(index), s, alpha=alpha),
             lambda a, s: torch.index_add(a, dim, torch.tensor(index), s, alpha=alpha),
             [x, source], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_fill_as_torch_with_a_number_and_a_tensor_value(dim, dtype):
    rng = np.random.default_rng(5)
    x, value = rng.standard_normal((3, 4)), np.array(1.5)
    run_both(torch, lambda a: a.index_fill(dim, Tensor([2, 0, 2]), -1.0),
             lambda a: a.index_fill(dim, torch.tensor([2, 0, 2]), -1.0), [x], dtype)
    run_both(torch, lambda a, v: a.index_fill(dim, Tensor([2, 0, 2]), v),
             lambda a, v: a.index_fill(dim, torch.tensor([2, 0, 2]), v), [x, value], dtype)


def test_scatter_family_in_place_0_d_empty_and_integers_as_torch():
    for make in (np.float64, np.int64):
        x, tx = _both(np.arange(6).reshape(2, 3), make)
        src = np.arange(6).reshape(2, 3).astype(make) + 10
        x.scatter_(1, Tensor([[2], [0]]), Tensor(src))
        tx.scatter_(1, torch.tensor([[2], [0]]), torch.tensor(src))
        assert_same(x, tx, "scatter_")
        x.scatter_add_(0, Tensor([[1, 1, 0]]), Tensor(src))
        tx.scatter_add_(0, torch.tensor([[1, 1, 0]]), torch.tensor(src))
        assert_same(x, tx, "scatter_add_")
        x.index_add_(1, Tensor([2, 2]), Tensor(src[:, :2]), alpha=2.7)  # (2 for integers)
        tx.index_add_(1, torch.tensor([2, 2]), torch.tensor(src[:, :2]), alpha=2.7)
        assert_same(x, tx, "index_add_")
        x.index_fill_(0, Tensor([1]), 3.7)
        tx.index_fill_(0, torch.tensor([1]), 3.7)
        assert_same(x, tx, "index_fill_ (3.7 truncated into integers)")
        x.scatter_(1, Tensor([[0, 0]]), 2, reduce="multiply")
        tx.scatter_(1, torch.tensor([[0, 0]]), 2, reduce="multiply")
        assert_same(x, tx, "scatter_ reduce='multiply'")
        x.scatter_(0, Tensor([[1]]), Tensor(src), reduce="add")
        tx.scatter_(0, torch.tensor([[1]]), torch.tensor(src), reduce="add")
        assert_same(x, tx, "scatter_ reduce='add'")
    # 0-d tensors and size-0 batches
    for ours, theirs in [
            (lambda: Tensor(1.0).index_fill(0, Tensor([0]), 3.0),
             lambda: torch.tensor(np.array(1.0)).index_fill(0, torch.tensor([0]), 3.0)),
            (lambda: Tensor(1.0).index_add(0, Tensor([0]), Tensor(3.0)),
             lambda: torch.tensor(np.array(1.0)).index_add(
                 0, torch.tensor([0]), torch.tensor(np.array(3.0)))),
            (lambda: Tensor(1.0).scatter(0, tensorgrad.tensor(0), Tensor(3.0)),
             lambda: torch.tensor(np.array(1.0)).scatter(
                 0, torch.tensor(0), torch.tensor(np.array(3.0)))),
            (lambda: Tensor(np.zeros((0, 3))).scatter(1, Tensor(np.zeros((0, 1), np.int64)),
                                                      Tensor(np.zeros((0, 3)))),
             lambda: torch.zeros(0, 3, dtype=torch.float64).scatter(
                 1, torch.zeros(0, 1, dtype=torch.long), torch.zeros(0, 3, dtype=torch.float64))),
            (lambda: Tensor(np.zeros((0, 3))).index_add(1, Tensor([2]), Tensor(np.zeros((0, 1)))),
             lambda: torch.zeros(0, 3, dtype=torch.float64).index_add(
                 1, torch.tensor([2]), torch.zeros(0, 1, dtype=torch.float64)))]:
        assert_same(ours(), theirs(), "0-d or empty")


def test_scatter_family_errors_as_torch():
    x, tx = _both(np.zeros((3, 4)))
    src, tsrc = _both(np.ones((3, 4)))
    cases = [
        (lambda t, s, i: t.scatter(0, i([0, 1]), s), RuntimeError,
         "Index tensor must have the same number of dimensions as self tensor"),
        (lambda t, s, i: t.scatter(0, i([[5]]), s), RuntimeError,
         "index 5 is out of bounds for dimension 0 with size 3"),
        (lambda t, s, i: t.scatter(0, i([[-1]]), s), RuntimeError,
         "index -1 is out of bounds for dimension 0 with size 3"),
        (lambda t, s, i: t.scatter(0, i(np.zeros((4, 1), np.int64)), s), RuntimeError,
         r"Expected index \[4, 1\] to be no larger than self \[3, 4\] apart from dimension 0 "
         r"and to be no larger size than src \[3, 4\]"),
        (lambda t, s, i: t.scatter(0, i([[0]]), s.float() if hasattr(s, "float") else s),
         RuntimeError, r"scatter\(\): Expected self.dtype to be equal to src.dtype"),
        (lambda t, s, i: t.scatter(0, i([[0]]), s, reduce="mean"), RuntimeError,
         "reduce argument must be either add or multiply."),
        (lambda t, s, i: t.index_add(0, i([[0, 0]]), s[:2]), IndexError,
         r"index_add_\(\): Index is supposed to be a vector"),
        (lambda t, s, i: t.index_add(0, i([0, 1]), s[:2, :3]), RuntimeError,
         "source tensor shape must match self tensor shape, excluding the specified dimension"),
        (lambda t, s, i: t.index_add(0, i([0, 3]), s[:2]), RuntimeError,
         "index 3 is out of bounds for dimension 0 with size 3"),
        (lambda t, s, i: t.index_fill(1, i([0]), s[0]), RuntimeError,
         "index_fill_ only supports a 0-dimensional value tensor"),
        (lambda t, s, i: t.index_fill(1, i([[0]]), 1.0), RuntimeError,
         "Index has to be a vector/scalar"),
    ]
    for op, error, message in cases:
        with pytest.raises(error, match=message):
            op(tx, tsrc, torch.tensor)
        with pytest.raises(error, match=message):
            op(x, src, Tensor)
    with pytest.raises(TypeError):
        torch.zeros(3).scatter_add(0, torch.tensor([0]), 2.0)
    with pytest.raises(TypeError):
        Tensor(np.zeros(3)).scatter_add(0, Tensor([0]), 2.0)


def test_scatter_with_reduce_has_no_gradient_as_torch():
    x = Tensor(np.zeros(3), requires_grad=True)
    tx = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    for reduce in ("add", "multiply"):
        y = x.scatter(0, Tensor([1]), 2.0, reduce=reduce)
        ty = tx.scatter(0, torch.tensor([1]), 2.0, reduce=reduce)
        assert_same(y, ty, f"reduce={reduce}")
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not "
                           "implemented"):
            ty.sum().backward()
        with pytest.raises(RuntimeError, match=f"derivative of scatter with reduce='{reduce}' "
                           "is not implemented"):
            y.sum().backward()


# ---- hooks and retain_grad --------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_hooks_and_retain_grad_as_torch(dtype):
    def run(tensor, seen):
        w = tensor(np.array([1.0, -2.0, 3.0], dtype), requires_grad=True)
        h = w * 2
        h.retain_grad()
        h.register_hook(lambda g: seen.append(("h first", g.tolist())) or g * 10)
        h.register_hook(lambda g: seen.append(("h second", g.tolist())))
        removed = h.register_hook(lambda g: g * 1000)
        removed.remove()
        removed.remove()  # (a second time: nothing)
        w.register_hook(lambda g: seen.append(("w", g.tolist())) or g.clamp(-50, 50))
        loss = (h * h.new_tensor([1.0, 2.0, 3.0])).sum()
        loss.retain_grad()
        loss.backward()
        return w.grad, h.grad, loss.grad, h.retains_grad, w.retains_grad

    seen, their_seen = [], []
    ours = run(Tensor, seen)
    theirs = run(torch.tensor, their_seen)
    assert seen == their_seen
    for i, (a, b) in enumerate(zip(ours[:3], theirs[:3])):
        assert_same(a, b, f"gradient {i}", RTOL[np.dtype(dtype)])
    assert ours[3:] == theirs[3:]


def test_hook_errors_as_torch():
    for tensor in (Tensor, torch.tensor):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that "
                           "doesn't require gradient"):
            tensor([1.0]).register_hook(lambda g: g)
        with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                           "requires_grad=False"):
            tensor([1.0]).retain_grad()
        for returned, error, message in [
                (lambda g: g[:1], RuntimeError, "hook '<lambda>' has changed the size of value"),
                (lambda g: 5, TypeError, "expected Variable, but hook returned 'int'"),
                (lambda g: g.double(), RuntimeError,
                 "hook '<lambda>' has changed the type of value")]:
            x = tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
            y = x * 2
            y.register_hook(returned)
            with pytest.raises(error, match=message):
                y.sum().backward()
