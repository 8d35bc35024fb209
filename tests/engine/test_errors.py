"""Errors named in the API contract: the right exception type, and a useful message."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest
from reference import BINARY_OPS

import tensorgrad
import tensorgrad.functional as F
from tensorgrad import Tensor, no_grad, optim


def _message(call):
    with pytest.raises(RuntimeError) as error:
        call()
    return str(error.value)


@pytest.mark.parametrize("name", list(BINARY_OPS))
@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (4,)), ((3, 1, 2), (4, 3)), ((5,), (2, 4))])
def test_shapes_that_do_not_broadcast_raise_pytorchs_error(name, shape_a, shape_b):
    a, b = Tensor(np.ones(shape_a), requires_grad=True), Tensor(np.ones(shape_b))
    op = BINARY_OPS[name]
    ours = [_message(functools.partial(op, a, b)), _message(functools.partial(op, b, a))]
    assert all("must match the size of tensor b" in m for m in ours)
    torch = pytest.importorskip("torch")
    x, y = torch.ones(shape_a, dtype=torch.float64), torch.ones(shape_b, dtype=torch.float64)
    assert ours == [_message(functools.partial(op, x, y)), _message(functools.partial(op, y, x))]


@pytest.mark.parametrize("name", list(BINARY_OPS))
def test_ndarray_that_does_not_broadcast_raises_pytorchs_error(name):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) .* tensor b \(4\) .* dimension 1"):
        BINARY_OPS[name](a, np.ones(4))
    with pytest.raises(RuntimeError, match=r"tensor a \(4\) .* tensor b \(3\) .* dimension 1"):
        BINARY_OPS[name](np.ones(4), a)


# each: the call in either library (m: tensorgrad or torch), the error PyTorch raises
SHAPE_ERRORS = {
    "where": lambda m: m.where(m.ones(2, 3) > 0, m.ones(3), m.ones(4)),
    "masked_fill": lambda m: m.ones(2, 3).masked_fill(m.ones(4) > 0, 0.0),
    "matmul of matrices": lambda m: m.ones(2, 3) @ m.ones(2, 3),
    "matmul of vectors": lambda m: m.ones(3) @ m.ones(4),
    "matmul, batched": lambda m: m.ones(2, 2, 3) @ m.ones(2, 4, 2),
    "matmul, batches that do not broadcast": lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 2),
    "matmul of a 0-d tensor": lambda m: m.tensor(2.0) @ m.ones(1),
    "cat of shapes that differ": lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 4)]),
    "cat of 0-d tensors": lambda m: m.cat([m.tensor(1.0), m.tensor(2.0)]),
    "cat of different ranks": lambda m: m.cat([m.zeros(2, 3), m.zeros(2, 3, 1)]),
    "stack of shapes that differ": lambda m: m.stack([m.zeros(2), m.zeros(3)]),
    "stack of nothing": lambda m: m.stack([]),
    "expand to a shape that does not fit": lambda m: m.zeros(2, 3).expand(4, 3),
    "expand to fewer dimensions": lambda m: m.zeros(2, 3).expand(3),
    "item of two numbers": lambda m: m.ones(2).item(),
    "in place, a shape that does not fit": lambda m: m.ones(2).add_(m.ones(3)),
    "in place, to a larger shape": lambda m: m.ones(3).add_(m.ones(2, 3)),
    "in place, a mask that does not fit": lambda m: m.ones(2, 3).masked_fill_(m.ones(4) > 0, 0.0),
    "flatten with start after end": lambda m: m.zeros(2, 3, 4).flatten(2, 1),
    "permute of too few dims": lambda m: m.zeros(2, 3).permute(0),
    "a dim twice": lambda m: m.zeros(2, 3).sum(dim=(0, 0)),
    "the mean of integers": lambda m: m.tensor([1, 2]).mean(),
    "bool minus bool": lambda m: m.tensor([True]) - m.tensor([True]),
    "minus a bool": lambda m: -m.tensor([True]),
    "linear, a bias that does not fit": lambda m: m.nn.functional.linear(
        m.ones(2, 3), m.ones(4, 3), m.ones(5)),
}
# where PyTorch's words are ours too
SAME_WORDS = {"where", "masked_fill", "matmul of matrices", "matmul of vectors",
              "cat of shapes that differ", "cat of 0-d tensors", "stack of shapes that differ",
              "stack of nothing", "expand to a shape that does not fit", "item of two numbers",
              "bool minus bool", "minus a bool", "linear, a bias that does not fit",
              "matmul of a 0-d tensor", "in place, a shape that does not fit",
              "in place, to a larger shape", "in place, a mask that does not fit"}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_shape_and_type_errors_are_pytorchs(name):
    ours = _message(lambda: SHAPE_ERRORS[name](tensorgrad))
    torch = pytest.importorskip("torch")
    theirs = _message(lambda: SHAPE_ERRORS[name](torch))
    if name in SAME_WORDS:
        assert ours == theirs


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
    with pytest.raises(RuntimeError, match="does not end the shape"):
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
        RuntimeError, "condition must be boolean, not int64"),
    "masked_fill with an int mask": (
        lambda: Tensor([1.0, 2.0]).masked_fill(np.array([1, 0]), 0.0),
        RuntimeError, "mask must be boolean, not int64"),
    "masked_fill with a mask that does not fit": (
        lambda: Tensor(np.ones((2, 3))).masked_fill(np.ones(4, bool), 0.0),
        RuntimeError, r"tensor a \(4\) must match the size of tensor b \(3\)"),
    "a float tensor as an index": (
        lambda: Tensor([1.0, 2.0])[Tensor([0.0])], IndexError, "integer or boolean, not float64"),
    "a boolean index of the wrong length": (
        lambda: Tensor(np.zeros((2, 3)))[np.array([True, False, True])],
        IndexError, r"tensor of shape \(2, 3\)"),
    "float targets for cross_entropy": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0.0, 1.0])),
        RuntimeError, "targets must be integer classes, not float64"),
    "targets of the wrong shape for cross_entropy": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1, 2])),
        ValueError, r"Expected input batch_size \(2\) to match target batch_size \(3\)"),
    "an unknown reduction": (
        lambda: F.cross_entropy(Tensor(np.zeros((2, 3))), np.array([0, 1]), reduction="avg"),
        ValueError, "reduction must be"),
    "requires_grad on an int tensor": (
        lambda: Tensor([1, 2], requires_grad=True),
        RuntimeError,
        r"Only Tensors of floating point and complex dtype can require gradients \(not int64\)"),
    "numpy() of a tensor that requires grad": (
        lambda: Tensor([1.0], requires_grad=True).numpy(), RuntimeError, r"detach\(\)\.numpy"),
    "item() of two elements": (lambda: Tensor([1.0, 2.0]).item(), RuntimeError, "2 elements"),
    "bool() of two elements": (lambda: bool(Tensor([1.0, 2.0])), RuntimeError, "ambiguous"),
    "a backward gradient of the wrong shape": (
        lambda: (Tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.ones(3)),
        RuntimeError, r"gradient of shape \(3,\) for a result of shape \(2,\)"),
    "reshape to another size": (
        lambda: Tensor(np.zeros(6)).reshape(4, 2), RuntimeError, r"\(4, 2\) is invalid .* \(6,\)"),
    "view of a layout that needs a copy": (
        lambda: Tensor(np.ones((2, 3))).T.view(6), RuntimeError, r"use reshape\(\)"),
    "permute naming a dim twice": (
        lambda: Tensor(np.zeros((2, 3))).permute(0, 0), RuntimeError, r"permute\(0, 0\)"),
    "a dim out of range": (
        lambda: Tensor(np.zeros((2, 3))).transpose(0, 2), IndexError, "dimension 2 is out of"),
    "a reduction naming a dim twice": (
        lambda: Tensor(np.zeros((2, 3))).sum(dim=(0, -2)), RuntimeError,
        "names a dimension twice"),
    "expand to a shape that does not fit": (
        lambda: Tensor(np.zeros((2, 3))).expand(4, 3), RuntimeError, r"expanded size"),
    "cat of 0-d tensors": (
        lambda: tensorgrad.cat([Tensor(1.0), Tensor(2.0)]), RuntimeError, "zero-dimensional"),
    "cat of shapes that differ": (
        lambda: tensorgrad.cat([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))]),
        RuntimeError, "Sizes of tensors must match"),
    "an int attention mask": (
        lambda: F.scaled_dot_product_attention(*(Tensor(np.zeros((2, 3))),) * 3,
                                               attn_mask=np.ones((2, 2), int)),
        RuntimeError, r"attn_mask must be boolean or floating of the query's dtype \(float64\), "
        "not int64"),
    "attention shapes that do not fit": (
        lambda: F.scaled_dot_product_attention(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4))),
                                               Tensor(np.zeros((2, 3)))),
        RuntimeError, r"query \(2, 3\), key \(2, 4\) and value \(2, 3\)"),
    "an attention mask that does not fit the scores": (
        lambda: F.scaled_dot_product_attention(*(Tensor(np.zeros((2, 3))),) * 3,
                                               attn_mask=np.ones((3, 3), bool)),
        RuntimeError, r"attn_mask of shape \(3, 3\) for scores of shape \(\.\.\., 2, 2\)"),
    "linear of a 0-d input": (
        lambda: F.linear(Tensor(2.0), Tensor(np.ones((2, 1)))), RuntimeError, "0-d input"),
    "an in-place op on a tensor that requires grad": (
        lambda: Tensor([1.0], requires_grad=True).__iadd__(1), RuntimeError, "no_grad"),
    "an in-place op that would change the dtype": (
        lambda: Tensor([1, 2]).__iadd__(2.5), TypeError, "turn int64 data into float64"),
    "an in-place op of a shape that does not fit": (
        lambda: Tensor([1.0, 2.0]).__iadd__(np.ones(3)), RuntimeError,
        r"tensor a \(2\) must match the size of tensor b \(3\)"),
    "an in-place op to a larger shape": (
        lambda: Tensor([1.0, 2.0, 3.0]).__iadd__(np.ones((2, 3))), RuntimeError,
        r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    "a tensor of strings": (lambda: Tensor(["a"]), TypeError, "numbers or booleans"),
    "the mean of integers": (lambda: Tensor([1, 2]).mean(), RuntimeError, "floating dtype"),
    "matmul of a 0-d tensor": (
        lambda: Tensor(2.0) @ Tensor([1.0]), RuntimeError, "at least 1D"),
    "an op on a list": (lambda: Tensor([1.0]) + [1.0], TypeError, "not list"),
    "logic on floats": (
        lambda: Tensor([1.0]) & Tensor([1.0]), NotImplementedError,
        "boolean or integer tensors"),
    "inversion of floats": (lambda: ~Tensor([1.0]), TypeError, "boolean or integer tensors"),
    "clamp without bounds": (lambda: Tensor([1.0]).clamp(), RuntimeError, "At least one of"),
    "the softmax of integers": (
        lambda: F.softmax(Tensor([1, 2]), 0), NotImplementedError, "floating tensor"),
    "the softmin of integers": (
        lambda: F.softmin(Tensor([1, 2]), 0), NotImplementedError, "floating tensor"),
    "rms_norm with a weight of the wrong shape": (
        lambda: F.rms_norm(Tensor(np.ones((2, 3))), 3, Tensor(np.ones(2))),
        RuntimeError, r"weight of shape \(2,\) for normalized_shape \(3,\)"),
    "flatten with start after end": (
        lambda: Tensor(np.zeros((2, 3, 4))).flatten(2, 1), RuntimeError, "cannot come after"),
    "argmax of an empty tensor": (
        lambda: Tensor(np.zeros(0)).argmax(), IndexError, "length 0"),
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
