"""``torch.linalg``: the norms, which model code reaches for (``linalg.vector_norm(x, dim=-1)``),
made of ``Tensor.norm``; determinants, inverses, solvers and decompositions (``det``,
``slogdet``, ``inv``, ``solve``, ``cholesky``, ``matrix_power``, ``eigh``, ``svd``), each with
PyTorch's gradient, over batches of matrices in the last two dims."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .ops import where
from .tensor import Function, Tensor, as_leaf, quiet, tensor_of


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
    """The norm of the matrices over ``dim``, as PyTorch's: ``ord`` "fro" (Frobenius),
    "nuc" (the sum of the singular values), 2 and -2 (the largest and the smallest singular
    value), 1 and -1 (the largest and smallest sum of a column's sizes), inf and -inf (of a
    row's)."""
    t = tensor_of(A)
    if t.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord == "fro":
        return vector_norm(t, 2, dim, keepdim, dtype=dtype)
    if ord not in ("nuc", 2, -2, 1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    rows, columns = (d % t.ndim for d in dim)
    if rows == columns:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if dtype is not None:
        t = t.to(dtype)
    matrices = t.movedim((rows, columns), (-2, -1))
    if ord in ("nuc", 2, -2):
        values = svdvals(matrices)
        out = values.sum(-1) if ord == "nuc" else values.amax(-1) if ord == 2 else \
            values.amin(-1)
    else:  # the sums of the sizes down each column (1, -1) or along each row (inf, -inf)
        sums = matrices.abs().sum(-2 if ord in (1, -1) else -1)
        out = sums.amax(-1) if ord > 0 else sums.amin(-1)
    if keepdim:
        for d in sorted((rows, columns)):
            out = out.unsqueeze(d)
    return out


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



# ---- decompositions, solvers, determinants and inverses -----------------------------------------
# Each is a Function over batches of matrices (the last two dims), or made of them. A Function
# with several results (eigh, svd) returns them flattened side by side along one last axis, and
# the public function cuts that array into views: the pieces' gradients meet again in one array.


class LinAlgError(RuntimeError):
    """A matrix the operation cannot be done on: singular for ``inv`` and ``solve``, not
    positive-definite for ``cholesky`` (PyTorch's ``torch.linalg.LinAlgError``)."""


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def _matrices(A: Any, name: str, square: bool = True) -> Tensor:
    """``A`` as a tensor of floating (batches of) matrices, square unless not ``square``:
    RuntimeError otherwise, in PyTorch's words."""
    t = tensor_of(A)
    if t.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {t.dtype}")
    if t.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{t.shape[-2]} by {t.shape[-1]} matrices")
    return t


def _mT(a: np.ndarray) -> np.ndarray:  # noqa: N802 (PyTorch's name for it)
    return a.swapaxes(-1, -2)


def _eye_where(mask: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``a`` with the matrices that ``mask`` (over the batch) marks replaced by identities."""
    if not mask.any():
        return a
    return np.where(mask[..., None, None], np.eye(a.shape[-1], dtype=a.dtype), a)


def _first_singular(a: np.ndarray) -> int:
    """The flat batch index of the first matrix NumPy cannot invert (called after it failed)."""
    for i, m in enumerate(a.reshape(-1, *a.shape[-2:])):
        try:
            np.linalg.inv(m)
        except np.linalg.LinAlgError:
            return i
    return 0


def _solved(a: np.ndarray, b: np.ndarray | None, name: str) -> np.ndarray:
    """inv(a) (``b`` None) or solve(a, b) matrix by matrix, batches of one shape. A matrix
    with a NaN entry gives NaN (as LAPACK does in PyTorch; NumPy would refuse it); an exactly
    singular one raises LinAlgError."""
    nan = np.isnan(a).any(axis=(-2, -1))
    safe = _eye_where(nan, a)
    try:
        out = np.linalg.inv(safe) if b is None else np.linalg.solve(safe, b)
    except np.linalg.LinAlgError:
        where = f"(Batch element {_first_singular(safe)}): " if a.ndim > 2 else ""
        raise LinAlgError(f"{name}: {where}The matrix is singular: "
                          f"{'it has no inverse' if b is None else 'the solver failed'}."
                          ) from None
    if nan.any():
        out[nan] = np.nan
    return out


class Det(Function):
    """The determinant of each matrix. Its gradient is grad * det * inv(A)^T; at a singular
    matrix (det exactly 0) it is 0, as PyTorch's (outside create_graph)."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        d = np.asarray(np.linalg.det(a), a.dtype)
        d[np.isnan(a).any(axis=(-2, -1))] = np.nan  # (NumPy may give 0, LAPACK gives NaN)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        a, d = ctx.saved_tensors
        singular = d == 0  # replaced by identities: their weight grad * d is 0 anyway
        inverse = _solved(_eye_where(singular, a), None, "det")
        return (grad * d)[..., None, None] * _mT(inverse)

    @staticmethod
    def recorded_backward(ctx, grad):
        (a,) = ctx.inputs
        if (ctx.saved_tensors[1] == 0).any():
            raise NotImplementedError("det of a singular matrix: tensorgrad has no gradient of "
                                      "its gradient there")
        return ((grad * Det.apply(a)).unsqueeze(-1).unsqueeze(-1)
                * Inverse.apply(a).transpose(-1, -2))


class LogAbsDet(Function):
    """log |det A| of each matrix; its gradient grad * inv(A)^T, not finite (NaN here, PyTorch
    has infinities) at a singular matrix."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        _, logabs = np.linalg.slogdet(a)
        logabs = np.asarray(logabs, a.dtype)
        ctx.save_for_backward(a, logabs)
        return logabs

    @staticmethod
    def backward(ctx, grad):
        a, logabs = ctx.saved_tensors
        singular = logabs == -np.inf
        inverse = _solved(_eye_where(singular, a), None, "slogdet")
        if singular.any():
            inverse[singular] = np.nan
        return grad[..., None, None] * _mT(inverse)

    @staticmethod
    def recorded_backward(ctx, grad):
        (a,) = ctx.inputs
        return grad.unsqueeze(-1).unsqueeze(-1) * Inverse.apply(a).transpose(-1, -2)


class Inverse(Function):
    """The inverse of each matrix (LinAlgError if one is singular); gradient
    -inv^T @ grad @ inv^T."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        out = _solved(a, None, "linalg.inv")
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return -(_mT(out) @ grad @ _mT(out))

    @staticmethod
    def recorded_backward(ctx, grad):
        inverse = Inverse.apply(ctx.inputs[0]).transpose(-1, -2)
        return -(inverse @ grad @ inverse)


class Solve(Function):
    """X with A X = B, for batches of one shape, B (..., n, k). Gradients: B's is
    solve(A^T, grad), A's minus that times X^T."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        x = _solved(a, b, "torch.linalg.solve")
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        grad_b = _solved(_mT(a), grad, "torch.linalg.solve")
        return -(grad_b @ _mT(x)), grad_b

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b = ctx.inputs
        grad_b = Solve.apply(a.transpose(-1, -2), grad)
        return -(grad_b @ Solve.apply(a, b).transpose(-1, -2)), grad_b


class Cholesky(Function):
    """The lower-triangular L with L L^T = A, from A's lower triangle (LinAlgError where A is
    not positive-definite). The gradient is symmetric, as PyTorch's: with P the lower triangle
    of L^T grad, its diagonal halved, it is L^-T (P + P^T)/2 L^-1."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        try:
            low = np.linalg.cholesky(a)
            failed = np.isnan(low).any()  # NaN entries: NumPy goes on, LAPACK stops
        except np.linalg.LinAlgError:
            failed = True
        if failed:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite.")
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        p = np.tril(_mT(low) @ grad)
        p = (p + _mT(np.tril(p, -1))) / 2  # symmetric, diagonal halved once
        left = np.linalg.solve(_mT(low), p)  # L^-T P
        return _mT(np.linalg.solve(_mT(low), _mT(left)))  # (L^-T (L^-T P)^T)^T = L^-T P L^-1


class _IdentityLike(Function):
    """Identity matrices of ``a``'s shape and dtype, joined to its graph with gradient 0 (as
    PyTorch's ``matrix_power(A, 0)``)."""

    @staticmethod
    def forward(ctx, a):
        return np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)


def _flat(parts: Sequence[np.ndarray], batch: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([p.reshape(*batch, math.prod(p.shape[len(batch):])) for p in parts],
                          axis=-1)


def _cut(flat: Any, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """``_flat``'s inverse: the pieces of ``flat`` (..., total), an array or a tensor, in
    their shapes (views)."""
    batch, out, start = tuple(flat.shape[:-1]), [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[..., start:start + size].reshape(*batch, *shape))
        start += size
    return out


def _skew(x: np.ndarray) -> np.ndarray:
    return x - _mT(x)


def _reciprocal_gaps(values: np.ndarray) -> np.ndarray:
    """1 / (values_j - values_i) off the diagonal, 0 on it (inf for equal values)."""
    gaps = values[..., None, :] - values[..., :, None]
    with np.errstate(divide="ignore"):
        out = 1 / gaps
    diagonal = np.arange(values.shape[-1])
    out[..., diagonal, diagonal] = 0
    return out


class Eigh(Function):
    """The eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices, read
    from the ``uplo`` triangle, side by side. Gradient: V (diag(gw) + (V^T gV - gV^T V) / 2
    / gaps) V^T, finite for distinct eigenvalues (the second term is skipped when no
    eigenvector takes part)."""

    @staticmethod
    @quiet
    def forward(ctx, a, uplo):
        w, v = np.linalg.eigh(a, UPLO=uplo)
        ctx.save_for_backward(w, v)
        return _flat((w, v), a.shape[:-2])

    @staticmethod
    def backward(ctx, grad):
        w, v = ctx.saved_tensors
        n = w.shape[-1]
        grad_w, grad_v = _cut(grad, ((n,), (n, n)))
        inner = np.zeros_like(v)
        if grad_v.any():
            inner = _skew(_mT(v) @ grad_v) / 2 * _reciprocal_gaps(w)
        diagonal = np.arange(n)
        inner[..., diagonal, diagonal] = grad_w
        return v @ inner @ _mT(v), None


class SVD(Function):
    """U, S and Vh of each matrix (U and Vh square with ``full``), side by side. The gradient
    takes the first min(m, n) columns of U and rows of Vh (PyTorch ignores the others too);
    it is finite for distinct non-zero singular values, and U diag(gS) Vh when only S takes
    part."""

    @staticmethod
    @quiet
    def forward(ctx, a, full):
        m, n = a.shape[-2:]
        if a.size:
            u, s, vh = np.linalg.svd(a, full_matrices=full)
        else:  # (NumPy refuses empty matrices)
            k = min(m, n)
            u = np.broadcast_to(np.eye(m, m if full else k, dtype=a.dtype), (*a.shape[:-2], m,
                                m if full else k))
            s = np.zeros((*a.shape[:-2], k), a.dtype)
            vh = np.broadcast_to(np.eye(n if full else k, n, dtype=a.dtype),
                                 (*a.shape[:-2], n if full else k, n))
        ctx.save_for_backward(u, s, vh)
        ctx.shapes = u.shape[-2:], s.shape[-1:], vh.shape[-2:]
        return _flat((u, s, vh), a.shape[:-2])

    @staticmethod
    def backward(ctx, grad):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        grad_u, grad_s, grad_vh = _cut(grad, ctx.shapes)
        u, grad_u, vh, grad_vh = u[..., :k], grad_u[..., :k], vh[..., :k, :], grad_vh[..., :k, :]
        v, grad_v = _mT(vh), _mT(grad_vh)
        inner = np.zeros(u.shape[:-2] + (k, k), u.dtype)
        diagonal = np.arange(k)
        inner[..., diagonal, diagonal] = grad_s
        out = u @ inner @ vh
        if not (grad_u.any() or grad_v.any()):
            return out, None
        gaps = _reciprocal_gaps(s * s)
        between = (gaps * _skew(_mT(u) @ grad_u)) * s[..., None, :] + \
            s[..., :, None] * (gaps * _skew(_mT(v) @ grad_v))
        out = out + u @ between @ vh
        over_s = 1 / s
        m, n = u.shape[-2], v.shape[-2]
        if m > k:  # the part of grad_u outside U's columns
            rest = grad_u - u @ (_mT(u) @ grad_u)
            out = out + (rest * over_s[..., None, :]) @ vh
        if n > k:
            rest = grad_v - v @ (_mT(v) @ grad_v)
            out = out + (u * over_s[..., None, :]) @ _mT(rest)
        return out, None


# ---- the functions ------------------------------------------------------------------------------


def det(A: Tensor) -> Tensor:
    """The determinant of each matrix in the last two dims::

        tg.linalg.det(tg.tensor([[2.0, 1.0], [1.0, 3.0]]))  # tensor(5.)
    """
    return Det.apply(_matrices(A, "linalg.det"))


def slogdet(A: Tensor) -> SlogdetResult:
    """The named tuple ``(sign, logabsdet)`` of each determinant: its sign (0 for a singular
    matrix, which has logabsdet -inf) and log of its absolute value, which has the gradient."""
    t = _matrices(A, "linalg.slogdet")
    with np.errstate(all="ignore"):
        sign, logabs = np.linalg.slogdet(t._data)
    sign = np.where(np.isnan(logabs), 0, sign).astype(t.dtype)  # (PyTorch's sign of NaN)
    return SlogdetResult(as_leaf(sign), LogAbsDet.apply(t))


def logdet(A: Tensor) -> Tensor:
    """log det A: NaN where the determinant is negative, -inf where it is 0
    (``torch.logdet``)."""
    t = _matrices(A, "linalg.slogdet")
    sign, logabs = slogdet(t)
    return where(sign < 0, np.nan, logabs)


def inv(A: Tensor) -> Tensor:
    """The inverse of each matrix; ``LinAlgError`` (a RuntimeError) if one is singular::

        tg.linalg.inv(tg.tensor([[2.0, 0.0], [0.0, 4.0]]))  # [[0.5, 0.], [0., 0.25]]
    """
    return Inverse.apply(_matrices(A, "linalg.inv"))


def inverse(A: Tensor) -> Tensor:
    """``inv`` under ``torch.inverse``'s name."""
    return inv(A)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=False``: X A = B), batch dims broadcast; B (..., n) is a batch of
    vectors when its shape is A's without the last dim (or B is 1-D)::

        tg.linalg.solve(tg.tensor([[2.0, 0.0], [0.0, 4.0]]), tg.tensor([2.0, 2.0]))  # [1., .5]
    """
    a, b = _matrices(A, "linalg.solve"), tensor_of(B)
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {a.dtype} and B of type {b.dtype} instead")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    if vector:
        b = b.unsqueeze(-1)
    n = a.shape[-1]
    if b.ndim < 2 or b.shape[-2 if left else -1] != n:
        rows, columns = (b.shape[-2], b.shape[-1]) if b.ndim >= 2 else (b.shape[-1], 1)
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and {rows}x{columns})")
    if not left:
        a, b = a.mT, b.mT
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    x = Solve.apply(a.expand(*batch, *a.shape[-2:]), b.expand(*batch, *b.shape[-2:]))
    if not left:
        x = x.mT
    return x.squeeze(-1) if vector else x


def cholesky(A: Tensor, upper: bool = False) -> Tensor:
    """L with L @ L^T = A, lower-triangular (``upper``: its transpose U, U^T @ U = A), from A's
    lower triangle; ``LinAlgError`` where A is not positive-definite."""
    low = Cholesky.apply(_matrices(A, "linalg.cholesky"))
    return low.mT if upper else low


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A multiplied by itself ``n`` times (by repeated squaring), the identity for 0 and
    powers of ``inv(A)`` for negative ``n``; integer matrices take n >= 0."""
    t = tensor_of(A)
    if t.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 "
                           "dimensions.")
    if t.shape[-1] != t.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but "
                           f"they are {t.shape[-2]} by {t.shape[-1]} matrices")
    n = operator.index(n)
    if n == 0:
        return _IdentityLike.apply(t)
    if n < 0:
        t, n = inv(t), -n
    result: Tensor | None = None
    square = t
    while True:
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if not n:
            break
        square = square @ square
    assert result is not None  # (n > 0: its lowest set bit multiplied one in)
    return result.clone() if result is t else result


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:  # noqa: N803 (PyTorch's name)
    """The named tuple ``(eigenvalues, eigenvectors)`` of symmetric matrices, read from the
    lower (``UPLO="U"``: upper) triangle: eigenvalues ascending, eigenvectors as columns. The
    gradient needs distinct eigenvalues where eigenvectors take part (each is defined up to
    its sign: use them in a way the sign does not change)."""
    t = _matrices(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = t.shape[-1]
    w, v = _cut(Eigh.apply(t, UPLO), ((n,), (n, n)))
    return EighResult(w, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803 (PyTorch's name)
    """The eigenvalues of symmetric matrices, ascending (see ``eigh``)."""
    return eigh(A, UPLO).eigenvalues


def svd(A: Tensor, full_matrices: bool = True) -> SVDResult:
    """The named tuple ``(U, S, Vh)`` with A = U diag(S) Vh, S descending; U and Vh square with
    ``full_matrices``, else with min(m, n) columns and rows. Singular vectors are defined up
    to sign: use them in a way the sign does not change."""
    t = _matrices(A, "linalg.svd", square=False)
    m, n = t.shape[-2:]
    k = min(m, n)
    if np.isnan(t._data).any() or np.isinf(t._data).any():
        raise LinAlgError("linalg.svd: The algorithm failed to converge because the input "
                          "matrix contained non-finite values.")
    shapes = ((m, m if full_matrices else k), (k,), (n if full_matrices else k, n))
    u, s, vh = _cut(SVD.apply(t, full_matrices), shapes)
    return SVDResult(u, s, vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix, descending."""
    return svd(A, full_matrices=False).S


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The matrix exponential of each square matrix of a batch (surface.py's ``matrix_exp``)."""
    from .surface import matrix_exp as exp

    return exp(A)


def qr(A: Tensor, mode: str = "reduced") -> Any:  # noqa: N803 (PyTorch's name)
    """The QR decomposition of each matrix of a batch, ``(Q, R)`` (surface.py's ``linalg_qr``)."""
    from .surface import linalg_qr

    return linalg_qr(A, mode)
