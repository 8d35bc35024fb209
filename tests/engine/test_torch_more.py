"""The everyday torch.* functions and Tensor methods added last, without PyTorch: values
against Python's ``math`` and results worked out by hand, gradients with ``gradcheck``
(central differences for the functions the scalar engine has no form of), the gradients at
ties, NaN and the edges of the domains written out, dtypes, and the errors.
``test_torch_more_torch.py`` holds the same functions against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor

# name: (Python's function of one number, its derivative, numbers inside the domain)
UNARY = {
    "sin": (math.sin, math.cos, [-2.0, -0.3, 0.0, 1.2, 3.0]),
    "cos": (math.cos, lambda x: -math.sin(x), [-2.0, -0.3, 0.0, 1.2, 3.0]),
    "tan": (math.tan, lambda x: 1 / math.cos(x) ** 2, [-1.2, -0.3, 0.0, 0.7, 1.4]),
    "asin": (math.asin, lambda x: 1 / math.sqrt(1 - x * x), [-0.9, -0.2, 0.0, 0.5, 0.95]),
    "acos": (math.acos, lambda x: -1 / math.sqrt(1 - x * x), [-0.9, -0.2, 0.0, 0.5, 0.95]),
    "atan": (math.atan, lambda x: 1 / (1 + x * x), [-5.0, -0.3, 0.0, 1.2, 30.0]),
    "sinh": (math.sinh, math.cosh, [-2.0, -0.3, 0.0, 1.2, 3.0]),
    "cosh": (math.cosh, math.sinh, [-2.0, -0.3, 0.0, 1.2, 3.0]),
    "asinh": (math.asinh, lambda x: 1 / math.sqrt(x * x + 1), [-5.0, -0.3, 0.0, 1.2, 30.0]),
    "acosh": (math.acosh, lambda x: 1 / math.sqrt(x * x - 1), [1.01, 1.5, 2.0, 7.0, 30.0]),
    "atanh": (math.atanh, lambda x: 1 / (1 - x * x), [-0.9, -0.2, 0.0, 0.5, 0.95]),
    "log2": (math.log2, lambda x: 1 / (x * math.log(2)), [0.01, 0.5, 1.0, 8.0, 1000.0]),
    "log10": (math.log10, lambda x: 1 / (x * math.log(10)), [0.01, 0.5, 1.0, 8.0, 1000.0]),
    "exp2": (lambda x: 2.0**x, lambda x: 2.0**x * math.log(2), [-3.0, -0.5, 0.0, 1.0, 10.0]),
    "square": (lambda x: x * x, lambda x: 2 * x, [-3.0, -0.5, 0.0, 1.0, 10.0]),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_values_and_gradients_are_pythons(name):
    value, slope, points = UNARY[name]
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-6)):
        x = Tensor(np.array(points, dtype), requires_grad=True)
        y = getattr(tg, name)(x)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.data, [value(p) for p in points], rtol=rtol, atol=1e-7)
        np.testing.assert_allclose(getattr(x, name)().data, y.data, rtol=0)
        y.backward(np.arange(1.0, 6.0).astype(dtype))
        expected = [slope(p) * (i + 1) for i, p in enumerate(points)]
        np.testing.assert_allclose(x.grad, expected, rtol=rtol * 10, atol=1e-7)
    x = Tensor(np.array(points[1:4]).reshape(3, 1)[::-1].T, requires_grad=True)  # a view
    assert tg.gradcheck(getattr(tg, name), x, reference="finite-difference")


@pytest.mark.parametrize("name", [n for n in UNARY if n != "square"])
def test_integers_and_booleans_become_floating(name):
    assert getattr(tg, name)(Tensor([1, 2])).dtype == np.float64
    assert getattr(tg, name)(Tensor([True])).dtype == np.float64
    assert getattr(tg, name)(Tensor(np.array([1], np.uint8))).dtype == np.float64
    assert tg.square(Tensor([1, 2])).dtype == np.int64  # (square keeps integers, as PyTorch)


def test_the_edges_of_the_domains_give_infinities_and_nan():
    with np.errstate(all="raise"):  # and no NumPy warnings on the way
        x = Tensor([-1.0, 1.0, 2.0, np.nan], requires_grad=True)
        y = tg.asin(x)
        np.testing.assert_array_equal(y.data, [-math.pi / 2, math.pi / 2, np.nan, np.nan])
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, [np.inf, np.inf, np.nan, np.nan])
        x = Tensor([-1.0, 1.0, 0.5], requires_grad=True)
        tg.atanh(x).backward(np.ones(3))
        np.testing.assert_array_equal(tg.atanh(x).data[:2], [-np.inf, np.inf])
        np.testing.assert_array_equal(x.grad[:2], [np.inf, np.inf])
        x = Tensor([1.0, -1.0, 0.5], requires_grad=True)
        y = tg.acosh(x)
        np.testing.assert_array_equal(y.data, [0.0, np.nan, np.nan])
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, [np.inf, np.inf, np.nan])  # PyTorch's formula
        x = Tensor([0.0, -1.0, np.inf], requires_grad=True)
        y = tg.log2(x)
        np.testing.assert_array_equal(y.data, [-np.inf, np.nan, np.inf])
        y.sum().backward()
        np.testing.assert_array_equal(x.grad, [np.inf, -1 / math.log(2), 0.0])
        np.testing.assert_array_equal(tg.exp2(Tensor([-np.inf, np.inf])).data, [0.0, np.inf])


@pytest.mark.parametrize("name", list(UNARY)[:-1])  # (square is a product: tested elsewhere)
def test_nan_and_infinities_pass_without_numpys_warnings(name):
    special = np.array([np.nan, np.inf, -np.inf, -1.0, 0.0, 1.0, 2.0, 1e200, -1e200])
    with np.errstate(all="raise"):
        x = Tensor(special, requires_grad=True)
        y = getattr(tg, name)(x)
        y.backward(np.full(y.shape, np.inf))
        a, b = Tensor(special, requires_grad=True), Tensor(special[::-1].copy(),
                                                           requires_grad=True)
        for op in (tg.atan2, tg.fmax, tg.fmin):
            op(a, b).backward(np.ones(len(special)))


def test_atan2_values_gradients_and_promotion():
    y = Tensor([[1.0], [-1.0], [0.0]], requires_grad=True)
    x = Tensor([1.0, -1.0, 0.0, -0.0], requires_grad=True)
    out = tg.atan2(y, x)
    expected = [[math.atan2(a, b) for b in (1.0, -1.0, 0.0, -0.0)] for a in (1.0, -1.0, 0.0)]
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    # d/dy = x / (x² + y²), d/dx = -y / (x² + y²), and 0 at the origin (PyTorch's)
    np.testing.assert_allclose(y.grad, [[0.0], [0.0], [0.0]], atol=1e-15)
    np.testing.assert_allclose(x.grad, [-0.5 + 0.5, 0.0, 0.0, 0.0], atol=1e-15)
    a = Tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    b = Tensor(np.random.default_rng(1).standard_normal(3), requires_grad=True)
    assert tg.gradcheck(tg.atan2, a, b, reference="finite-difference")
    assert a.atan2(Tensor([1, 2, 3])).dtype == np.float64
    assert tg.atan2(Tensor([1]), Tensor([2])).dtype == np.float64
    assert tg.atan2(Tensor([1.0], dtype=tg.float32), Tensor(2.0)).dtype == np.float32
    with pytest.raises(TypeError):
        tg.atan2(a, 2.0)


def test_fmax_and_fmin_ignore_nan_and_give_ties_to_the_first():
    a = Tensor([1.0, 2.0, np.nan, 3.0, 1.0, np.nan], requires_grad=True)
    b = Tensor([1.0, np.nan, np.nan, 2.0, 5.0, 4.0], requires_grad=True)
    out = tg.fmax(a, b)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, np.nan, 3.0, 5.0, 4.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(b.grad, [0, 0, 0, 0, 1, 1])
    a.grad = b.grad = None
    out = a.fmin(b)
    np.testing.assert_array_equal(out.data, [1.0, 2.0, np.nan, 2.0, 1.0, 4.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 1, 1, 0, 1, 0])
    np.testing.assert_array_equal(b.grad, [0, 0, 0, 1, 0, 1])
    x = Tensor([[0.5, -2.0, 3.0]], requires_grad=True)
    y = Tensor([[1.0], [-1.0]], requires_grad=True)
    assert tg.gradcheck(tg.fmax, x, y, reference="finite-difference")
    assert tg.gradcheck(tg.fmin, x, y, reference="finite-difference")
    assert tg.fmax(Tensor([1, 5]), Tensor([3, 2])).tolist() == [3, 5]
    with pytest.raises(TypeError):
        tg.fmin(x, 1.0)


def test_float_power_computes_in_float64():
    x = Tensor(np.array([2.0, 0.5], np.float32), requires_grad=True)
    y = tg.float_power(x, 3)
    assert y.dtype == np.float64 and y.tolist() == [8.0, 0.125]
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [12.0, 0.75]
    assert tg.float_power(Tensor([2, 3]), 2).tolist() == [4.0, 9.0]
    assert tg.float_power(Tensor([2, 3]), 2).dtype == np.float64
    assert tg.float_power(2, Tensor([1, 3])).tolist() == [2.0, 8.0]
    assert x.float_power(Tensor([1, 2])).dtype == np.float64
    a, b = (Tensor([0.5, 1.5], requires_grad=True), Tensor([[2.0], [-0.5]], requires_grad=True))
    assert tg.gradcheck(tg.float_power, a, b, reference="finite-difference")


def test_comparisons_and_logical_ops_by_name():
    a, b = Tensor([1.0, 2.0, np.nan, 0.0]), Tensor([1, 3, 1, 0])
    assert a.eq(b).tolist() == [True, False, False, True] == tg.eq(a, b).tolist()
    assert a.ne(b).tolist() == [False, True, True, False] == tg.ne(a, b).tolist()
    assert a.lt(b).tolist() == [False, True, False, False] == tg.lt(a, b).tolist()
    assert a.le(2).tolist() == [True, True, False, True] == tg.le(a, 2).tolist()
    assert a.gt(0.5).tolist() == [True, True, False, False] == tg.gt(a, 0.5).tolist()
    assert a.ge(b).tolist() == [True, False, False, True] == tg.ge(a, b).tolist()
    assert tg.logical_and(a, b).tolist() == [True, True, True, False]  # NaN is true
    assert a.logical_or(Tensor([0, 0, 0, 0])).tolist() == [True, True, True, False]
    assert tg.logical_xor(a, b).tolist() == [False, False, False, False]
    assert tg.logical_not(a).tolist() == [False, False, False, True] == a.logical_not().tolist()
    assert tg.logical_and(Tensor([[True], [False]]), Tensor([True, False])).tolist() == [
        [True, False], [False, False]]
    x = Tensor([1.0], requires_grad=True)
    assert not x.eq(1).requires_grad and not x.logical_not().requires_grad
    with pytest.raises(TypeError):
        a.eq(None)
    with pytest.raises(TypeError):
        tg.logical_and(a, 1)
    with pytest.raises(RuntimeError, match="must match the size"):
        tg.logical_or(Tensor([1, 2]), Tensor([1, 2, 3]))


def test_nonzero_count_nonzero_unique_and_bincount_by_hand():
    x = Tensor([[0.0, 1.5, np.nan], [-0.0, 2.0, 0.0]])
    assert tg.nonzero(x).tolist() == [[0, 1], [0, 2], [1, 1]]
    rows, cols = x.nonzero(as_tuple=True)
    assert rows.tolist() == [0, 0, 1] and cols.tolist() == [1, 2, 1]
    assert tg.nonzero(Tensor(3.0)).shape == (1, 0)
    assert [t.tolist() for t in tg.nonzero(Tensor(0.0), as_tuple=True)] == [[]]
    assert tg.count_nonzero(x).tolist() == 3 and tg.count_nonzero(x).dtype == np.int64
    assert x.count_nonzero(0).tolist() == [0, 2, 1]
    assert x.count_nonzero((0, 1)).tolist() == 3
    values, inverse, counts = tg.unique(Tensor([3, 1, 3, 2, 1, 3]), return_inverse=True,
                                        return_counts=True)
    assert values.tolist() == [1, 2, 3]
    assert inverse.tolist() == [2, 0, 2, 1, 0, 2] and counts.tolist() == [2, 1, 3]
    values, inverse = Tensor([[2.0, np.nan], [np.nan, 2.0]]).unique(return_inverse=True)
    assert np.isnan(values.data[1:]).all() and len(values.data) == 3  # each NaN its own
    assert inverse.shape == (2, 2)
    assert tg.unique(Tensor(5.0)).shape == (1,)
    assert tg.bincount(Tensor([0, 1, 1, 4])).tolist() == [1, 2, 0, 0, 1]
    assert tg.bincount(Tensor([1]), minlength=3).tolist() == [0, 1, 0]
    w = Tensor(np.array([0.5, 1.0, 2.0], np.float32))
    counted = Tensor([2, 0, 2]).bincount(w)
    assert counted.tolist() == [1.0, 0.0, 2.5] and counted.dtype == np.float32
    assert tg.bincount(Tensor([2, 0]), Tensor([1, 2])).dtype == np.float64


def test_what_has_no_derivative_says_so_at_backward():
    x = Tensor([1.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError):
        tg.unique(x).sum().backward()
    with pytest.raises(RuntimeError, match="derivative of bincount"):
        tg.bincount(Tensor([0, 1, 1]), x).sum().backward()
    with pytest.raises(NotImplementedError):
        tg.unique(x, dim=0).sum().backward()
    for bad in (Tensor([[1]]), Tensor([-1, 2])):
        with pytest.raises(RuntimeError):
            tg.bincount(bad)
    with pytest.raises(NotImplementedError):
        tg.bincount(Tensor([1.0]))


def test_masked_select_diagonal_and_trace_by_hand_and_by_gradcheck():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    mask = Tensor([True, False, True])
    picked = tg.masked_select(x, mask)
    assert picked.tolist() == [0.0, 2.0, 3.0, 5.0]
    picked.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    assert x.grad.tolist() == [[1.0, 0.0, 2.0], [3.0, 0.0, 4.0]]
    row = Tensor([1.0, -2.0], requires_grad=True)  # the mask broadcasts the input
    assert tg.gradcheck(lambda r: r.reshape(2, 1).masked_select(Tensor([[True, False, True],
                                                                        [True, True, False]])),
                        row)
    with pytest.raises(RuntimeError, match="BoolTensor"):
        x.masked_select(Tensor([1, 0, 1]))
    cube = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert tg.diagonal(cube, 1, 0, 2).tolist() == [[1.0, 14.0], [5.0, 18.0], [9.0, 22.0]]
    assert x.diagonal().tolist() == [0.0, 4.0] and x.diagonal(-1).tolist() == [3.0]
    assert x.diagonal(5).shape == (0,)
    written = Tensor(np.eye(2)).diagonal()  # (a copy, not PyTorch's view: writable, alone)
    written[0] = 5.0
    assert written.tolist() == [5.0, 1.0]
    for offset, dim1, dim2 in ((0, 0, 1), (1, 0, 2), (-1, 2, 1), (2, -1, 0)):
        assert tg.gradcheck(lambda c, k=offset, a=dim1, b=dim2: c.diagonal(k, a, b), cube)
    with pytest.raises(RuntimeError):
        cube.diagonal(0, 1, -2)
    assert tg.trace(x).item() == 4.0
    assert tg.gradcheck(tg.trace, Tensor(np.ones((3, 2)), requires_grad=True))
    assert tg.trace(Tensor(np.array([[2, 1], [1, 3]], np.int32))).dtype == np.int64


def test_broadcasting_and_joining():
    a, b = Tensor([[1.0], [2.0]], requires_grad=True), Tensor([3.0, 4.0, 5.0])
    assert tg.broadcast_to(a, (2, 3)).tolist() == [[1.0] * 3, [2.0] * 3]
    wide, tall = tg.broadcast_tensors(a, b)
    assert wide.shape == tall.shape == (2, 3)
    (wide * tall).sum().backward()
    assert a.grad.tolist() == [[12.0], [12.0]]
    with pytest.raises(RuntimeError, match="must match the size"):
        tg.broadcast_tensors(b, Tensor([1.0, 2.0]))
    assert tg.concat([b, b]).shape == (6,) and tg.concatenate([a, a], dim=1).shape == (2, 2)
    assert tg.hstack([Tensor(1.0), b]).tolist() == [1.0, 3.0, 4.0, 5.0]
    assert tg.hstack([a, a]).shape == (2, 2)
    assert tg.vstack([b, b]).shape == (2, 3)
    assert tg.vstack([tg.tensor(1), tg.tensor(2)]).tolist() == [[1], [2]]
    assert tg.vstack([Tensor(np.zeros(0)), Tensor(np.zeros((2, 0)))]).shape == (3, 0)
    assert tg.gradcheck(lambda x: tg.vstack([x, x * 2]), Tensor([1.0, 2.0], requires_grad=True),
                        reference="finite-difference")


def test_finfo_and_iinfo():
    f32, f64 = tg.finfo(tg.float32), tg.finfo(tg.float64)
    assert (f32.bits, f32.eps, f32.max, f32.tiny) == (32, 2.0**-23, 3.4028234663852886e38,
                                                      2.0**-126)
    assert f32.min == -f32.max and f32.smallest_normal == f32.tiny and f32.resolution == 1e-6
    assert (f64.bits, f64.eps, f64.resolution, f64.dtype) == (64, 2.0**-52, 1e-15, "float64")
    assert tg.finfo(tg.float16).max == 65504.0 and tg.finfo().dtype == "float64"
    assert repr(tg.finfo(tg.float16)) == (
        "finfo(resolution=0.001, min=-65504, max=65504, eps=0.000976562, "
        "smallest_normal=6.10352e-05, tiny=6.10352e-05, dtype=float16)")
    u8, i64 = tg.iinfo(tg.uint8), tg.iinfo(tg.int64)
    assert (u8.bits, u8.min, u8.max, u8.dtype) == (8, 0, 255, "uint8")
    assert (i64.min, i64.max) == (-(2**63), 2**63 - 1)
    assert repr(tg.iinfo(tg.int32)) == "iinfo(min=-2.14748e+09, max=2.14748e+09, dtype=int32)"
    for bad in ((tg.finfo, tg.int32), (tg.iinfo, tg.float32), (tg.iinfo, tg.bool)):
        with pytest.raises(TypeError):
            bad[0](bad[1])


@pytest.fixture
def restore_default_dtype():
    previous = tg.get_default_dtype()
    yield
    tg.set_default_dtype(previous)


def test_layers_made_under_another_default_dtype_hold_it(restore_default_dtype):
    """As PyTorch's: a layer's parameters (and buffers) are of the default dtype."""
    import tensorgrad.nn as nn

    tg.set_default_dtype(tg.float32)
    layers = [nn.Linear(2, 3), nn.LayerNorm(3), nn.Conv2d(1, 2, 3), nn.Embedding(4, 2),
              nn.LSTM(2, 3), nn.BatchNorm1d(2), nn.MultiheadAttention(4, 2)]
    for layer in layers:
        for name, tensor in [*layer.named_parameters(), *layer.named_buffers()]:
            if tensor.data.dtype.kind == "f":
                assert tensor.dtype == tg.float32, (type(layer).__name__, name)
    assert nn.Linear(2, 3)(tg.randn(4, 2)).dtype == tg.float32


def test_set_default_dtype_changes_python_floats_factories_and_promotion(restore_default_dtype):
    tg.set_default_dtype(tg.float32)
    assert tg.get_default_dtype() == np.float32
    assert tg.tensor(1.5).dtype == tg.tensor([1, 2.5]).dtype == Tensor([0.5]).dtype == np.float32
    assert tg.zeros(2).dtype == tg.randn(2).dtype == tg.arange(0.0, 1.0).dtype == np.float32
    assert tg.tensor(np.array([1.5])).dtype == np.float64  # an array keeps its dtype
    assert tg.tensor([1, 2]).dtype == np.int64
    assert (tg.tensor([1, 2]) * 0.5).dtype == np.float32
    assert tg.exp(tg.tensor([1])).dtype == tg.sin(tg.tensor([True])).dtype == np.float32
    assert (tg.tensor([1]) / tg.tensor([2])).dtype == np.float32
    assert tg.finfo().dtype == "float32"
    tg.set_default_dtype(tg.float64)
    assert tg.tensor(1.5).dtype == tg.exp(tg.tensor([1])).dtype == np.float64
    for bad in (tg.int64, tg.bool):
        with pytest.raises(TypeError):
            tg.set_default_dtype(bad)


def test_strides_contiguity_and_sizes():
    x = tg.zeros(3, 4, 5)
    assert x.stride() == (20, 5, 1) and x.stride(0) == 20 and x.stride(-1) == 1
    assert x.transpose(0, 2).stride() == (1, 5, 20)
    assert x[:, 1:3, ::2].stride() == (20, 5, 2)
    assert x[:, :1].expand(3, 6, 5).stride() == (20, 0, 1)
    assert x.is_contiguous() and not x.transpose(0, 1).is_contiguous()
    assert x[1].is_contiguous() and not x[:, ::2].is_contiguous()
    assert x.ndimension() == 3 and x.element_size() == 8 and x.nbytes == 480
    assert tg.ones(2, dtype=tg.float32).element_size() == 4 and Tensor(True).nbytes == 1
    assert tg.is_floating_point(x) and not Tensor([1]).is_floating_point()
    with pytest.raises(TypeError):
        tg.is_floating_point(1.5)
    with pytest.raises(IndexError):
        x.stride(3)
    with pytest.raises(TypeError, match="memory_format"):  # (a name, not the format)
        x.is_contiguous(memory_format="channels_last")
