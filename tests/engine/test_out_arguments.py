"""PyTorch's ``out=`` of the ``torch.*`` functions, without torch: the result is written into
the tensor given and that tensor returned; resized (with a warning if it held entries);
refused where autograd would need to follow it or its dtype cannot hold the result.
``test_keyword_forms_torch.py`` holds the same calls against PyTorch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg


def test_the_result_is_written_into_out_which_is_returned():
    out = tg.zeros(3)
    assert tg.add(tg.ones(3), 2.0, out=out) is out
    assert out.tolist() == [3.0, 3.0, 3.0]
    assert tg.matmul(tg.eye(2), tg.tensor([[1.0], [2.0]]), out=(m := tg.zeros(2, 1))) is m
    assert m.tolist() == [[1.0], [2.0]]


def test_an_out_of_another_shape_is_resized_warning_only_if_it_held_entries():
    empty = tg.zeros(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.mul(tg.ones(2, 2), 3.0, out=empty)
        tg.zeros(4, out=tg.ones(2))  # (the factories resize without a word)
    assert empty.shape == (2, 2) and empty.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    with pytest.warns(UserWarning, match="resized"):
        tg.sum(tg.ones(2, 3), 1, out=tg.zeros(5))


def test_functions_of_two_results_take_a_pair():
    values, indices = tg.zeros(0), tg.zeros(0, dtype=tg.int64)
    result = tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), 1, out=(values, indices))
    assert result.values is values and result.indices is indices
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    with pytest.raises(TypeError, match="tuple"):
        tg.sort(tg.ones(3), out=tg.zeros(3))
    assert tg.max(tg.ones(2), tg.zeros(2), out=(o := tg.zeros(2))) is o  # (elementwise)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_is_refused_where_autograd_would_have_to_follow_it(dtype):
    x = tg.ones(2, dtype=dtype, requires_grad=True)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        tg.exp(x, out=tg.zeros(2, dtype=dtype))
    with tg.no_grad():
        assert tg.exp(x, out=tg.zeros(2, dtype=dtype)).dtype == dtype


def test_out_of_a_dtype_that_cannot_hold_the_result_is_refused_and_the_rest_cast():
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg.add(tg.ones(2), 0.5, out=tg.zeros(2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="long"):
        tg.argmax(tg.ones(2, 2), 1, out=tg.zeros(2))
    with pytest.raises(RuntimeError, match="bool"):
        tg.all(tg.ones(2, 2), 1, out=tg.zeros(2))
    widened = tg.zeros(2, dtype=tg.float64)
    tg.add(tg.ones(2, dtype=tg.float32), 1, out=widened)
    assert widened.dtype == np.float64 and widened.tolist() == [2.0, 2.0]
    assert tg.sum(tg.tensor([True, True]), out=tg.zeros((), dtype=tg.bool)).item() is True
