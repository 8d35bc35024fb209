"""Indices that mix ints with integer or boolean arrays, read as PyTorch reads them: the ints
first, then the arrays on what is left (NumPy counts the ints with the arrays, and puts the
arrays' dimensions first when anything stands between them). The shapes here are PyTorch's
own; test_indexing_torch.py holds every kind of index against torch itself."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg

X = np.arange(5 * 3 * 4, dtype=np.float64).reshape(5, 3, 4)
MASK = [True, False, True, True]

# (index, PyTorch's result as the ints applied first, its shape)
CASES = {
    "an int and a list apart": ((1, slice(None), [2]), X[1][:, [2]], (3, 1)),
    "a 0-d tensor as an int": ((tg.tensor(1), slice(None), [2]), X[1][:, [2]], (3, 1)),
    "None, an int, a step and a mask": ((None, -1, slice(None, None, 2), MASK),
                                        X[-1][None, ::2, MASK], (1, 2, 3)),
    "lists either side of a ... of no dimension": ((slice(None), [0, 1, 2], ..., [0, 1, 2]),
                                                   X[:, [0, 1, 2], [0, 1, 2]], (5, 3)),
    "an int between lists": (([0, 4], 2, [1, 3]), X[:, 2][[0, 4], [1, 3]], (2,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_mixed_index_reads_as_in_torch(name):
    index, expected, shape = CASES[name]
    x = tg.tensor(X, requires_grad=True)
    y = x[index]
    assert y.shape == shape
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    weights = np.arange(1.0, expected.size + 1).reshape(shape)
    (y * tg.tensor(weights)).sum().backward()
    # X holds each entry's position: the gradient is each weight at the position it picked
    gradient = np.zeros(X.size)
    gradient[expected.ravel().astype(int)] = weights.ravel()
    np.testing.assert_array_equal(x.grad.numpy(), gradient.reshape(X.shape))


@pytest.mark.parametrize("name", list(CASES))
def test_a_mixed_index_writes_where_it_reads(name):
    index, expected, shape = CASES[name]
    x = tg.tensor(X.copy())
    x[index] = tg.tensor(-np.arange(1.0, expected.size + 1).reshape(shape))
    # X holds each entry's position: the values land at the positions a read picks
    wanted = X.ravel().copy()
    wanted[expected.ravel().astype(int)] = -np.arange(1.0, expected.size + 1)
    np.testing.assert_array_equal(x.numpy(), wanted.reshape(X.shape))


def test_a_mask_must_cover_its_dimensions_even_in_an_empty_tensor():
    x = tg.zeros(0, 4, 0)
    with pytest.raises(IndexError, match=r"boolean index of shape \(0,\) does not match the "
                                         r"lengths \(4,\) .* from dimension 1"):
        x[..., tg.tensor([], dtype=tg.bool), 0:1]
    with pytest.raises(IndexError, match="boolean index"):
        x[..., tg.tensor([], dtype=tg.bool), 0:1] = 1.0
