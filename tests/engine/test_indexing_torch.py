"""Indexing held against PyTorch: any mix of ints, slices (steps, out of range), ``None``,
``...``, integer lists and tensors, 0-d integer tensors and boolean masks, read
(``x[index]`` and its gradient) and written (``x[index] = value`` and the gradient of the
tensor written into and of the value), over shapes with 0-length dimensions and every memory
layout. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import laid_out
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")


def _part(draw, kind: str, n: int):
    """One part of an index for a dimension of length ``n``."""
    if kind == "slice":
        bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
        return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3])))
    if kind == "mask":
        return ("mask", draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    if kind == "ints":
        return ("ints", draw(st.lists(st.integers(-n, n - 1), max_size=3)))
    return (kind, draw(st.integers(-n, n - 1)))  # "int" or "0-d"


@st.composite
def indices(draw, shape: tuple[int, ...]) -> list:
    """One index for ``shape``, as parts for ``build``: ("int", i), ("0-d", i), ("ints", [..]),
    ("mask", [..]), a slice, None or ``...``; it may stop before the last dimension."""
    parts: list = []
    dim, ellipsis = 0, False
    while dim < len(shape):
        n = shape[dim]
        kinds = ["slice", "none", "stop", "mask"] + (["ellipsis"] if not ellipsis else []) + (
            ["int", "0-d", "ints"] if n else [])
        kind = draw(st.sampled_from(kinds))
        if kind == "stop":
            break
        if kind == "none":
            parts.append(None)
        elif kind == "ellipsis":
            parts.append(...)
            ellipsis = True
            dim = len(shape) - draw(st.integers(0, len(shape) - dim))  # dimensions left after
        else:
            parts.append(_part(draw, kind, n))
            dim += 1
    return parts


def build(parts: list, lib) -> tuple:
    """The index in ``lib`` (tensorgrad or torch)."""
    made = {"int": lambda v: v, "0-d": lambda v: lib.tensor(v),
            "ints": lambda v: lib.tensor(v, dtype=lib.int64),
            "mask": lambda v: lib.tensor(v, dtype=lib.bool)}
    return tuple(made[p[0]](p[1]) if isinstance(p, tuple) else p for p in parts)


def outcome(lib, values: np.ndarray, parts: list, write: str | None) -> tuple:
    """The result and the gradients (of the tensor, and of the value written), or the type
    of what was raised."""
    x = lib.tensor(values, requires_grad=True)
    try:
        if write is None:
            y = x[build(parts, lib)]
            grads = [x]
        else:
            y = x * 1.0
            shape = tuple(y[build(parts, lib)].shape)
            value = lib.tensor(np.linspace(-1, 1, int(np.prod(shape[1:]))).reshape(shape[1:])
                               if write == "tensor" else 2.5, dtype=x.dtype, requires_grad=True)
            y[build(parts, lib)] = value
            grads = [x, value]
        weights = np.arange(1, y.numel() + 1, dtype=values.dtype).reshape(tuple(y.shape))
        (y * lib.tensor(weights)).sum().backward()
    except (IndexError, RuntimeError, ValueError, TypeError) as error:
        return (type(error),)
    return (y,) + tuple(t.grad for t in grads)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64]),
       write=st.sampled_from([None, "number", "tensor"]))
def test_any_index_reads_and_writes_as_torch(data, dtype, write):
    shape = tuple(data.draw(st.lists(st.integers(0, 4), max_size=3), label="shape"))
    x = data.draw(laid_out(shape, dtype), label="x")
    parts = data.draw(indices(shape), label="index")
    ours = outcome(tensorgrad, x.array(), parts, write)
    theirs = outcome(torch, x.values, parts, write)
    assert len(ours) == len(theirs), (ours, theirs)
    if len(theirs) == 1:  # both raised: the same type
        assert ours == theirs
        return
    for what, mine, yours in zip(["result", "gradient", "value's gradient"], ours, theirs):
        assert_same(mine, yours, what)
