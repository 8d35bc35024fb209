"""The ``torch.*`` functions made of other ops (composite.py), held against PyTorch's: values
and gradients in both float dtypes, NaN where PyTorch gives NaN, and PyTorch's errors."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import run_both

import tensorgrad as tg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(11)


def _r(*shape):
    return RNG.standard_normal(shape)


# name -> (the arrays, a function of one library's module and those tensors)
CASES = {
    "addmm": ([_r(4), _r(3, 5), _r(5, 4)], lambda m, a, b, c: m.addmm(a, b, c)),
    "addmm beta alpha": ([_r(3, 4), _r(3, 5), _r(5, 4)],
                         lambda m, a, b, c: m.addmm(a, b, c, beta=0.5, alpha=2.0)),
    "addmm method": ([_r(3, 4), _r(3, 5), _r(5, 4)], lambda m, a, b, c: a.addmm(b, c)),
    "baddbmm": ([_r(2, 3, 4), _r(2, 3, 5), _r(2, 5, 4)],
                lambda m, a, b, c: m.baddbmm(a, b, c, alpha=0.5)),
    "dot": ([_r(5), _r(5)], lambda m, a, b: m.dot(a, b)),
    "mv": ([_r(3, 5), _r(5)], lambda m, a, b: a.mv(b)),
    "tensordot 2": ([_r(2, 3, 4), _r(3, 4, 5)], lambda m, a, b: m.tensordot(a, b)),
    "tensordot lists": ([_r(2, 3, 4), _r(4, 2, 5)],
                        lambda m, a, b: m.tensordot(a, b, dims=([0, 2], [1, 0]))),
    "cdist": ([_r(2, 4, 3), _r(2, 5, 3)], lambda m, a, b: m.cdist(a, b)),
    "cdist p=1": ([_r(4, 3), _r(5, 3)], lambda m, a, b: m.cdist(a, b, p=1.0)),
    "clamp_min": ([_r(3, 4)], lambda m, a: a.clamp_min(0.1)),
    "clamp_max": ([_r(3, 4)], lambda m, a: m.clamp_max(a, -0.1)),
    "nansum": ([np.where(_r(3, 4) > 1, np.nan, _r(3, 4))], lambda m, a: m.nansum(a, dim=1)),
    "nanmean": ([np.where(_r(3, 4) > 1, np.nan, _r(3, 4))], lambda m, a: a.nanmean()),
    "median": ([_r(7)], lambda m, a: m.median(a)),
    "median of ties": ([np.array([1.0, 2.0, 2.0, 3.0, 2.0, 3.0])], lambda m, a: m.median(a)),
    "median even": ([_r(3, 6)], lambda m, a: a.median(dim=1).values),
    "median keepdim": ([_r(5, 4)], lambda m, a: m.median(a, 0, keepdim=True)[0]),
    "diff": ([_r(3, 6)], lambda m, a: a.diff()),
    "diff twice, dim 0": ([_r(5, 2)], lambda m, a: m.diff(a, n=2, dim=0)),
    "diff prepend": ([_r(3, 4), _r(3, 1)], lambda m, a, b: m.diff(a, prepend=b)),
    "take_along_dim": ([_r(3, 4)], lambda m, a: m.take_along_dim(
        a, a.detach().argsort(dim=1), dim=1)),
    "take_along_dim flat": ([_r(3, 4)], lambda m, a: a.take_along_dim(m.tensor([0, 5, 11]))),
    "std_mean": ([_r(3, 4)], lambda m, a: m.std_mean(a, dim=1)[0] + m.std_mean(a, dim=1)[1]),
    "var_mean": ([_r(3, 4)], lambda m, a: m.var_mean(a, correction=0)[0]),
    "select": ([_r(3, 4, 2)], lambda m, a: a.select(1, -1)),
    "negative, absolute": ([_r(3)], lambda m, a: m.negative(a) * m.absolute(a)),
    "true divide": ([_r(3), _r(3) + 3], lambda m, a, b: m.true_divide(a, b)),
    "linalg.vector_norm": ([_r(3, 4)], lambda m, a: m.linalg.vector_norm(a, dim=-1)),
    "linalg.vector_norm inf": ([_r(3, 4)], lambda m, a: m.linalg.vector_norm(a, float("inf"))),
    "linalg.vector_norm 1": ([_r(3, 4)], lambda m, a: m.linalg.vector_norm(a, 1, dim=0,
                                                                          keepdim=True)),
    "linalg.norm of a vector": ([_r(5)], lambda m, a: m.linalg.norm(a)),
    "linalg.norm of a matrix": ([_r(3, 4)], lambda m, a: m.linalg.norm(a)),
    "linalg.matrix_norm": ([_r(2, 3, 4)], lambda m, a: m.linalg.matrix_norm(a)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_composites_give_pytorchs_values_and_gradients(name, dtype):
    arrays, call = CASES[name]
    run_both(torch, lambda *t: call(tg, *t), lambda *t: call(torch, *t), arrays, dtype)


def test_median_with_nan_and_floor_divide_as_pytorchs():
    rows = [[1.0, np.nan, 2.0], [3.0, 1.0, 2.0], [np.nan, 0.0, np.nan]]
    for m in (tg, torch):
        assert np.isnan(m.median(m.tensor([1.0, np.nan, 2.0])).item())
        assert m.median(m.tensor([3.0, 1.0, 2.0, 4.0])).item() == 2.0  # the lower middle
    ours, theirs = tg.tensor(rows).median(dim=1), torch.tensor(rows).median(dim=1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert ours.indices.tolist() == theirs.indices.tolist() == [1, 2, 0]
    assert tg.floor_divide(tg.tensor([7.0, -7.0]), 2).tolist() == \
        torch.floor_divide(torch.tensor([7.0, -7.0]), 2).tolist()


ERRORS = {
    "dot of matrices": lambda m: m.dot(m.ones(2, 2), m.ones(2, 2)),
    "addmm of vectors": lambda m: m.addmm(m.ones(2), m.ones(2), m.ones(2)),
    "diff of a 0-d tensor": lambda m: m.tensor(1.0).diff(),
    "take_along_dim, ranks differ": lambda m: m.take_along_dim(m.ones(2, 3), m.tensor([0]), 1),
    "vector_norm of integers": lambda m: m.linalg.vector_norm(m.tensor([1, 2])),
    "matrix_norm of a vector": lambda m: m.linalg.matrix_norm(m.ones(3)),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_composites_refuse_what_pytorch_refuses(name):
    with pytest.raises(RuntimeError) as theirs:
        ERRORS[name](torch)
    with pytest.raises(theirs.type):
        ERRORS[name](tg)


def test_the_rest_of_the_surface():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 3.0 in x and 5.0 not in x
    assert x.data_ptr() == x[0].data_ptr() != x[1].data_ptr()  # a view shares the address
    assert (x.half().dtype, x.byte().dtype, x.short().dtype, x.char().dtype) == (
        np.float16, np.uint8, np.int16, np.int8)
    assert x.new_empty(2, 5).shape == (2, 5) and not x.is_complex() and x.itemsize == 8
    y = x.clone()
    assert y.relu_() is y and y.sigmoid_() is y and y.tanh_() is y
    np.testing.assert_allclose(y.numpy(), np.tanh(1 / (1 + np.exp(-x.numpy()))))
    with pytest.raises(RuntimeError, match="leaf"):
        tg.ones(2, requires_grad=True).relu_()
