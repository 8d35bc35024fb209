"""The keyword forms PyTorch users write, as tensorgrad takes them (no torch needed): the
``unbiased`` overloads of var/std and their ``_mean`` pairs, the degrees-of-freedom warning,
``dtype=`` of nansum/nanmean/norm, keyword names of permute, tensor_split, max/min, where,
arange, randint, concatenate and cdist, and IndexError for a reduction over a named empty
dim."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg

X = tg.tensor([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])


def test_a_bool_first_argument_of_var_and_std_is_unbiased():
    values = X.numpy()
    assert np.isclose(tg.var(X, False).item(), values.var())
    assert np.isclose(X.std(False).item(), values.std())
    assert np.isclose(X.var(True).item(), values.var(ddof=1))
    std, mean = tg.std_mean(X, False)
    assert np.isclose(std.item(), values.std()) and np.isclose(mean.item(), values.mean())
    var, _ = tg.var_mean(X, 1, unbiased=False, keepdim=True)
    assert var.shape == (2, 1) and np.allclose(var.numpy()[:, 0], values.var(axis=1))
    var, _ = tg.var_mean(X, dim=1, correction=0)
    assert np.allclose(var.numpy(), values.var(axis=1))


@pytest.mark.parametrize(
    "make",
    [
        lambda: tg.tensor(1.5).var(),
        lambda: tg.zeros(0, 3).std(1),
        lambda: tg.var(X, 0, correction=2),
    ],
)
def test_no_degrees_of_freedom_warns(make):
    with pytest.warns(UserWarning, match="degrees of freedom"):
        make()


def test_enough_degrees_of_freedom_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X.var(0)
        X.std(unbiased=False)


def test_dtype_of_nansum_nanmean_and_norm():
    assert tg.nansum(X, dtype=tg.float32).dtype == np.float32
    assert X.nanmean(0, dtype=tg.float32).dtype == np.float32
    assert tg.nansum(tg.tensor([1, 2]), dtype=tg.float64).item() == 3.0
    assert X.norm(dtype=tg.float32).dtype == np.float32
    with pytest.raises(RuntimeError):
        tg.nanmean(tg.tensor([1, 2]), dtype=tg.float64)  # of integers, even with a dtype
    written = tg.zeros(2)
    assert tg.norm(X, 2, 1, out=written) is written  # out=, as PyTorch's
    np.testing.assert_allclose(written.numpy(), X.norm(2, 1).numpy())


def test_keyword_names_as_pytorch():
    assert X.permute(dims=[1, 0]).shape == (3, 2)
    assert [p.shape[1] for p in tg.tensor_split(X, sections=2, dim=1)] == [2, 1]
    assert [p.shape[1] for p in X.tensor_split(indices=[1], dim=1)] == [1, 2]
    with pytest.raises(TypeError):
        tg.tensor_split(X, 2, sections=2)
    assert tg.min(X, other=tg.zeros(3)).tolist() == [[0.0, 0.0, 0.0], [0.0, -1.0, 0.0]]
    assert tg.max(X, other=tg.zeros(3)).tolist() == [[1.0, 2.0, 4.0], [0.5, 0.0, 3.0]]
    assert tg.where(condition=X > 1, input=X, other=0.0).tolist() == [[0, 2, 4], [0, 0, 3]]
    assert tg.arange(end=3).tolist() == [0, 1, 2]
    assert tg.arange(1, end=3).tolist() == [1, 2]
    with pytest.raises(TypeError):
        tg.arange()
    drawn = tg.randint(low=2, high=4, size=(50,))
    assert drawn.shape == (50,) and set(drawn.tolist()) <= {2, 3}
    assert tg.randint(high=3, size=[2]).dtype == np.int64
    assert tg.concatenate([X, X], axis=1).shape == (2, 6)
    assert np.allclose(
        tg.cdist(X, X, compute_mode="use_mm_for_euclid_dist").numpy(), tg.cdist(X, X).numpy()
    )


def test_permute_of_the_wrong_number_of_dims_is_a_runtime_error():
    with pytest.raises(RuntimeError):
        X.permute(0, 1, 2)
    with pytest.raises(RuntimeError):
        tg.tensor(1.0).permute(1, 0)


@pytest.mark.parametrize(
    "reduce",
    [
        lambda x: x.amax(0),
        lambda x: x.amin(dim=(0, 1)),
        lambda x: x.argmax(),
        lambda x: x.argmin(0),
        lambda x: x.max(0),
        lambda x: tg.min(x, 0, True),
        lambda x: x.kthvalue(1, 0),
    ],
)
def test_a_reduction_over_a_named_empty_dim_is_an_index_error(reduce):
    with pytest.raises(IndexError):
        reduce(tg.zeros(0, 3))


def test_a_full_reduction_of_an_empty_tensor_is_a_runtime_error():
    for reduce in (lambda x: x.amax(), lambda x: x.amin(dim=()), lambda x: x.max()):
        with pytest.raises(RuntimeError):
            reduce(tg.zeros(0, 3))
