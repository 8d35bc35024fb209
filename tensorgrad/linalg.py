"""``torch.linalg``'s norms, which model code reaches for (``linalg.vector_norm(x, dim=-1)``),
made of ``Tensor.norm``; the decompositions and solvers are not here."""

from __future__ import annotations

from typing import Any

from .tensor import Tensor, tensor_of


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                *, dtype: Any = None) -> Tensor:
    """The ``ord``-norm of the entries over ``dim`` (all of them if None) as vectors; ``ord``
    a number, inf or -inf."""
    t = tensor_of(x)
    if t.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {t.dtype}")
    if dtype is not None:
        t = t.to(dtype)
    return t.norm(ord, dim, keepdim)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """The Frobenius norm of the matrices over ``dim`` (other orders are not here)."""
    t = tensor_of(A)
    if ord != "fro":
        raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r}; only 'fro' is here")
    if t.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    return vector_norm(t, 2, dim, keepdim, dtype=dtype)


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False,  # noqa: A002
         *, dtype: Any = None) -> Tensor:
    """``vector_norm`` for a vector or an int ``dim``; the Frobenius ``matrix_norm`` of a
    matrix or a pair of dims (``ord`` None or "fro")."""
    t = tensor_of(A)
    matrix = (dim is None and t.ndim == 2) or (isinstance(dim, (tuple, list)) and len(dim) == 2)
    if matrix:
        return matrix_norm(t, "fro" if ord is None else ord,
                           (-2, -1) if dim is None else tuple(dim), keepdim, dtype=dtype)
    if dim is None and t.ndim > 1 and ord is not None:
        raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                           "be 1D or 2D.")
    return vector_norm(t, 2 if ord is None else ord, dim, keepdim, dtype=dtype)

