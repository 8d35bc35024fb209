"""Errors named in the API contract: the right exception type, and a useful message."""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import BINARY_OPS

import tensorgrad
import tensorgrad.functional as F
from tensorgrad import Tensor, no_grad


@pytest.mark.parametrize("name", list(BINARY_OPS))
@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4,)), ((3, 1, 2), (4, 3)), ((5,), (2, 4))])
def test_shapes_that_do_not_broadcast_raise_value_error_naming_both(name, shape_a, shape_b):
    a, b = Tensor(np.ones(shape_a), requires_grad=True), Tensor(np.ones(shape_b))
    op = BINARY_OPS[name]
    for left, right in [(a, b), (b, a)]:
        with pytest.raises(ValueError) as error:
            op(left, right)
        assert str(shape_a) in str(error.value) and str(shape_b) in str(error.value)


@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_ndarray_that_does_not_broadcast_raises_value_error(name):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        BINARY_OPS[name](a, np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        BINARY_OPS[name](np.ones(4), a)


def test_where_with_shapes_that_do_not_broadcast_raises_value_error():
    with pytest.raises(ValueError):
        tensorgrad.where(np.ones((2, 3), bool), Tensor(np.ones(3)), Tensor(np.ones(4)))


def test_masked_fill_with_a_mask_that_does_not_fit_raises_value_error():
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 3))).masked_fill(np.ones(4, bool), 0.0)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((2, 3), (4, 2)), ((3,), (4,)), ((3,), (2, 5)), ((2, 5), (3,)), ((2, 2, 3), (2, 4, 2))],
)
def test_matmul_inner_dimension_mismatch_raises_value_error(shape_a, shape_b):
    a, b = Tensor(np.ones(shape_a), requires_grad=True), Tensor(np.ones(shape_b))
    with pytest.raises(ValueError):
        a @ b


def test_matmul_with_batch_dims_that_do_not_broadcast_raises_value_error():
    with pytest.raises(ValueError):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 2)))


@pytest.mark.parametrize(
    "index",
    [5, -4, (0, 7), np.array([0, 3]), np.array([[1], [-4]]), (slice(None), np.array([2, 9]))],
    ids=["int", "negative int", "tuple", "int array", "2-d int array", "slice and array"],
)
def test_out_of_range_index_raises_index_error(index):
    t = Tensor(np.ones((3, 3)), requires_grad=True)
    with pytest.raises(IndexError):
        t[index]


# In the flattened logits a target of C would land on the next row's first class and -1 on
# the previous row's last: each must be caught, not quietly read from the wrong row.
@pytest.mark.parametrize("targets", [[0, 3], [3, 0], [-1, 0], [0, -1]])
def test_cross_entropy_target_outside_the_classes_raises_index_error(targets):
    with pytest.raises(IndexError, match=r"outside 0\.\.2"):
        F.cross_entropy(Tensor(np.zeros((2, 3)), requires_grad=True), np.array(targets))


def test_backward_on_tensor_without_requires_grad_raises_runtime_error():
    with pytest.raises(RuntimeError):
        Tensor(np.ones(())).backward()
    with pytest.raises(RuntimeError):
        (Tensor([1.0, 2.0]) * 3).sum().backward()


def test_backward_on_a_result_computed_under_no_grad_raises_runtime_error():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * x).sum()
    with pytest.raises(RuntimeError):
        y.backward()


@pytest.mark.parametrize("shape", [(3,), (2, 2), (1, 2)])
def test_backward_without_grad_on_non_scalar_raises_runtime_error(shape):
    x = Tensor(np.ones(shape), requires_grad=True)
    with pytest.raises(RuntimeError):
        (x * 2).backward()


@pytest.mark.parametrize("normalized_shape", [4, (4,), (1, 3), ()])
def test_rms_norm_rejects_a_normalized_shape_that_does_not_end_the_shape(normalized_shape):
    with pytest.raises(ValueError, match="does not end the shape"):
        F.rms_norm(Tensor(np.ones((2, 3))), normalized_shape)


@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (3,)])
def test_linear_rejects_an_input_whose_features_do_not_match_the_weight(shape):
    with pytest.raises(ValueError, match=rf"linear: input of shape {re.escape(str(shape))} "
                                         r"for a weight of shape \(4, 5\)"):
        F.linear(Tensor(np.ones(shape)), Tensor(np.ones((4, 5))))


def test_multi_head_attention_rejects_a_tensor_without_positions():
    with pytest.raises(ValueError, match=r"not \(\.\.\., L, 3E\)"):
        F.multi_head_attention(Tensor(np.ones(6)), 1)
