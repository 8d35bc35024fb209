"""Errors named in the API contract: the right exception type, and a useful message."""

from __future__ import annotations

import re

import numpy as np
import pytest
from reference import BINARY_OPS

import tensorgrad
import tensorgrad.functional as F
from tensorgrad import Tensor, no_grad, optim


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
    with pytest.raises(ValueError, match=rf"{re.escape(str(shape_a))} and "
                                         rf"{re.escape(str(shape_b))}"):
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
    with pytest.raises(IndexError, match=r"out of range for a tensor of shape \(3, 3\)"):
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


@pytest.mark.parametrize(("shape", "rows"), [((2, 3), "2x3"), ((4, 2, 3), "8x3"), ((3,), "1x3")])
def test_linear_rejects_an_input_whose_features_do_not_match_the_weight(shape, rows):
    message = f"mat1 and mat2 shapes cannot be multiplied ({rows} and 5x4)"  # PyTorch's
    with pytest.raises(RuntimeError, match=re.escape(message)):
        F.linear(Tensor(np.ones(shape)), Tensor(np.ones((4, 5))))
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        torch.nn.functional.linear(torch.ones(shape), torch.ones(4, 5))


def test_multi_head_attention_rejects_a_tensor_without_positions():
    with pytest.raises(ValueError, match=r"not \(\.\.\., L, 3E\)"):
        F.multi_head_attention(Tensor(np.ones(6)), 1)


# ---- each bad input names what is wrong, in the engine's words (not NumPy's from deep inside)

BAD_INPUTS = {  # name: (the call, the exception, a pattern its message must match)
    "where with an int condition": (
        lambda: tensorgrad.where(np.array([1, 0]), Tensor([1.0, 2.0]), 0.0),
        TypeError, "condition must be boolean, not int64"),
    "masked_fill with an int mask": (
        lambda: Tensor([1.0, 2.0]).masked_fill(np.array([1, 0]), 0.0),
        TypeError, "mask must be boolean, not int64"),
    "masked_fill with a mask that does not fit": (
        lambda: Tensor(np.ones((2, 3))).masked_fill(np.ones(4, bool), 0.0),
        ValueError, r"mask of shape \(4,\) does not fit a tensor of shape \(2, 3\)"),
    "a float tensor as an index": (
        lambda: Tensor([1.0, 2.0])[Tensor([0.0])], IndexError, "integer or boolean, not float64"),
    "a boolean index of the wrong length": (
        lambda: Tensor(np.zeros((2, 3)))[np.array([True, False, True])],
        IndexError, r"tensor of shape \(2, 3\)"),
    "float targets for cross_entropy": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0])),
        TypeError, "targets must be integer classes, not float64"),
    "targets of the wrong shape for cross_entropy": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1, 2])),
        ValueError, r"Expected input batch_size \(2\) to match target batch_size \(3\)"),
    "an unknown reduction": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), reduction="avg"),
        ValueError, "reduction must be"),
    "requires_grad on an int tensor": (
        lambda: Tensor([1, 2], requires_grad=True),
        RuntimeError, "only floating tensors can require grad, not int64"),
    "numpy() of a tensor that requires grad": (
        lambda: Tensor([1.0], requires_grad=True).numpy(), RuntimeError, r"detach\(\)\.numpy"),
    "item() of two elements": (lambda: Tensor([1.0, 2.0]).item(), ValueError, "2 elements"),
    "bool() of two elements": (lambda: bool(Tensor([1.0, 2.0])), RuntimeError, "ambiguous"),
    "a backward gradient of the wrong shape": (
        lambda: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3)),
        RuntimeError, r"gradient of shape \(3,\) for a result of shape \(2,\)"),
    "reshape to another size": (
        lambda: Tensor(np.zeros(6)).reshape(4, 2), RuntimeError, r"\(4, 2\) is invalid .* \(6,\)"),
    "view of a layout that needs a copy": (
        lambda: Tensor(np.ones((2, 3))).T.view(6), RuntimeError, r"use reshape\(\)"),
    "permute naming a dim twice": (
        lambda: Tensor(np.zeros((2, 3))).permute(0, 0), ValueError, r"permute\(0, 0\)"),
    "a dim out of range": (
        lambda: Tensor(np.zeros((2, 3))).transpose(0, 2), IndexError, "dimension 2 is out of"),
    "a reduction naming a dim twice": (
        lambda: Tensor(np.zeros((2, 3))).sum(dim=(0, -2)), ValueError, "names a dimension twice"),
    "expand to a shape that does not fit": (
        lambda: Tensor(np.zeros((2, 3))).expand(4, 3), ValueError, r"\(2, 3\) cannot be expanded"),
    "cat of 0-d tensors": (
        lambda: tensorgrad.cat([Tensor(1.0), Tensor(2.0)]), ValueError, "use stack"),
    "cat of shapes that differ": (
        lambda: tensorgrad.cat([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))]),
        ValueError, "cat: "),
    "an int attention mask": (
        lambda: F.scaled_dot_product_attention(*(Tensor(np.zeros((2, 3))),) * 3,
                                               attn_mask=np.ones((2, 2), int)),
        TypeError, "attn_mask must be boolean or floating, not int64"),
    "attention shapes that do not fit": (
        lambda: F.scaled_dot_product_attention(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4))),
                                               Tensor(np.zeros((2, 3)))),
        ValueError, r"query \(2, 3\), key \(2, 4\) and value \(2, 3\)"),
    "an attention mask that does not fit the scores": (
        lambda: F.scaled_dot_product_attention(*(Tensor(np.zeros((2, 3))),) * 3,
                                               attn_mask=np.ones((3, 3), bool)),
        ValueError, r"attn_mask of shape \(3, 3\) for scores of shape \(\.\.\., 2, 2\)"),
    "linear of a 0-d input": (
        lambda: F.linear(Tensor(2.0), Tensor(np.ones((2, 1)))), ValueError, "0-d input"),
    "an in-place op on a tensor that requires grad": (
        lambda: Tensor([1.0], requires_grad=True).__iadd__(1), RuntimeError, "no_grad"),
    "an in-place op that would change the dtype": (
        lambda: Tensor([1, 2]).__iadd__(2.5), TypeError, "turn int64 data into float64"),
    "an in-place op of a shape that does not fit": (
        lambda: Tensor([1.0, 2.0]).__iadd__(np.ones(3)), ValueError, r"\(3,\) cannot update"),
    "a tensor of strings": (lambda: Tensor(["a"]), TypeError, "numbers or booleans"),
    "the mean of integers": (lambda: Tensor([1, 2]).mean(), TypeError, "floating dtype"),
    "matmul of a 0-d tensor": (
        lambda: Tensor(2.0) @ Tensor([1.0]), ValueError, "at least one dimension"),
    "an op on a list": (lambda: Tensor([1.0]) + [1.0], TypeError, "not list"),
    "logic on floats": (
        lambda: Tensor([1.0]) & Tensor([1.0]), TypeError, "boolean or integer tensors"),
    "rms_norm with a weight of the wrong shape": (
        lambda: F.rms_norm(Tensor(np.ones((2, 3))), 3, Tensor(np.ones(2))),
        ValueError, r"weight of shape \(2,\) for normalized_shape \(3,\)"),
    "flatten with start after end": (
        lambda: Tensor(np.zeros((2, 3, 4))).flatten(2, 1), ValueError, "comes after"),
    "argmax of an empty tensor": (
        lambda: Tensor(np.zeros(0)).argmax(), RuntimeError, "length 0"),
    "Adam without parameters": (lambda: optim.Adam([]), ValueError, "empty parameter list"),
    "Adam given a result of an op": (
        lambda: optim.Adam([Tensor([1.0], requires_grad=True) * 2]), ValueError, "leaf tensors"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_error(name):
    call, exception, pattern = BAD_INPUTS[name]
    with pytest.raises(exception, match=pattern):
        call()


def test_integers_to_a_negative_integer_number_raise_as_in_pytorch():
    with pytest.raises(RuntimeError, match="^Integers to negative integer powers are not "
                       "allowed.$"):
        Tensor([2]) ** -1
    # a tensor of exponents follows integer rules instead, as PyTorch's
    assert (Tensor([2, -1, 1, 0, 3]) ** Tensor([-1, -1, -3, -2, 2])).tolist() == [0, -1, 1, 0, 9]
