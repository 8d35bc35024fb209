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


def _identities(t: Tensor) -> Tensor:
    """Identity matrices of ``t``'s shape and dtype, a leaf: put in for the singular
    matrices of a batch so that an op runs on the others."""
    return as_leaf(np.broadcast_to(np.eye(t.shape[-1], dtype=t.dtype), t.shape))


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
        # PyTorch's words: the first matrix whose LU has a zero pivot, and where
        info = _lu_factored(safe)[2].reshape(-1)
        failed = np.flatnonzero(info)
        first = int(failed[0]) if failed.size else _first_singular(safe)
        where = f"(Batch element {first}): " if a.ndim > 2 else ""
        if b is not None:
            what = "The solver failed because the input matrix is singular."
        else:
            element = f"The diagonal element {info[first]} is zero, the" if failed.size else \
                "The"
            what = f"{element} inversion could not be completed because the input matrix " \
                f"is singular."
        raise LinAlgError(f"{name}: {where}{what}") from None
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
    """Identity matrices (ones on the diagonal of each, m by n) of ``a``'s shape and dtype,
    joined to its graph with gradient 0 (as PyTorch's ``matrix_power(A, 0)``)."""

    @staticmethod
    def forward(ctx, a):
        return np.broadcast_to(np.eye(*a.shape[-2:], dtype=a.dtype), a.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return np.zeros_like(grad)

    @staticmethod
    def recorded_backward(ctx, grad):
        return as_leaf(np.zeros(tuple(grad.shape), grad.dtype))


def _flat(parts: Sequence[np.ndarray], batch: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([p.reshape(*batch, math.prod(p.shape[len(batch):])) for p in parts],
                          axis=-1)


def _cut(flat: Any, shapes: Sequence[tuple[int, ...]]) -> list[Any]:
    """``_flat``'s inverse: the pieces of ``flat`` (..., total), an array or a tensor, in
    their shapes (views)."""
    batch, out, start = tuple(flat.shape[:-1]), [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(flat[..., start:start + size].reshape((*batch, *shape)))
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


# ---- triangular solves, LU, QR, pseudo-inverses, least squares and the matrix exponential -----
# The gradients of these are written once, in tensor ops (``_*_grad``): ``backward`` runs that
# formula on the saved arrays outside the graph, ``recorded_backward`` runs it on the op run
# again on its inputs, inside the graph, so that gradients of gradients come from the same lines.


def _outside(formula: Any, *arrays: Any) -> Any:
    """``formula`` run on arrays as tensors with no history, without recording: its results'
    arrays (None stays None)."""
    from .grad_mode import no_grad

    with no_grad():
        out = formula(*(None if a is None else as_leaf(np.asarray(a)) for a in arrays))
    if isinstance(out, tuple):
        return tuple(None if t is None else t._data for t in out)
    return out._data


def _triangular_solved(a: np.ndarray, b: np.ndarray, upper: bool, unit: bool) -> np.ndarray:
    """X with T X = B, T the ``upper`` (else lower) triangle of ``a`` (with ones on its
    diagonal if ``unit``), by substitution row by row over broadcast batches. A zero on the
    diagonal gives infinities and NaN, as LAPACK's trsm (no error)."""
    n = a.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    x = np.zeros((*batch, *b.shape[-2:]), np.result_type(a, b))
    with np.errstate(all="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            known = slice(i + 1, n) if upper else slice(0, i)
            row = b[..., i, :] - (a[..., i:i + 1, known] @ x[..., known, :])[..., 0, :]
            x[..., i, :] = row if unit else row / a[..., i, i][..., None]
    return x


def _triangle(x: Tensor, upper: bool, unit: bool) -> Tensor:
    """The part of ``x`` a triangular solve reads: its upper or lower triangle, without the
    diagonal when ``unit``."""
    shift = int(unit)
    return x.triu(shift) if upper else x.tril(-shift)


def _triangular_grad(a: Tensor, x: Tensor, grad: Tensor, upper: bool, unit: bool
                     ) -> tuple[Tensor, Tensor]:
    """The gradients of T and B for X = T^-1 B: B's is T^-T grad, T's minus that times X^T,
    kept to the triangle T is read from."""
    grad_b = SolveTriangular.apply(a.mT, grad, not upper, unit)
    return _triangle(-(grad_b @ x.mT), upper, unit), grad_b


class SolveTriangular(Function):
    """X with T X = B for a triangular T (batches of one shape). Gradients as
    ``_triangular_grad``."""

    @staticmethod
    @quiet
    def forward(ctx, a, b, upper, unit):
        x = _triangular_solved(a, b, upper, unit)
        ctx.save_for_backward(a, x)
        ctx.settings = upper, unit
        return x

    @staticmethod
    def backward(ctx, grad):
        a, x = ctx.saved_tensors
        return (*_outside(lambda *t: _triangular_grad(*t, *ctx.settings), a, x, grad), None,
                None)

    @staticmethod
    def recorded_backward(ctx, grad):
        a, b, upper, unit = ctx.inputs
        x = SolveTriangular.apply(a, b, upper, unit)
        return (*_triangular_grad(a, x, grad, upper, unit), None, None)


def _same_dtype(a: Tensor, b: Tensor, name: str) -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {a.dtype} and B of type {b.dtype} instead")


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (``left=False``: X A = B) for triangular A, read from its upper
    (``upper``) or lower triangle, its diagonal taken as ones with ``unitriangular``; batch
    dims broadcast. A zero on the diagonal gives infinities or NaN, not an error (as
    PyTorch's)."""
    a, b = tensor_of(A), tensor_of(B)
    if b.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    common = np.result_type(a.dtype, b.dtype)  # (PyTorch promotes the two)
    a, b = a.to(common), b.to(common)
    _floating_only(a, "triangular_solve_cpu")
    a = _matrices(a, "linalg.solve_triangular")
    n = a.shape[-1]
    if b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX' if left else 'XA'} = B ({n}x{n} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    if not left:  # X A = B is A^T X^T = B^T, A^T's triangle the other one
        a, b, upper = a.mT, b.mT, not upper
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    x = SolveTriangular.apply(a.expand(*batch, *a.shape[-2:]), b.expand(*batch, *b.shape[-2:]),
                              bool(upper), bool(unitriangular))
    return x if left else x.mT


# ---- LU -----------------------------------------------------------------------------------------


def _lu_factored(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LAPACK getrf's partial pivoting over a batch: the packed LU (L's strict lower triangle,
    U's upper), the 1-based row each step swapped in (int32) and info, the 1-based place of
    the first zero pivot (0: none). A zero pivot leaves its column as it is (all zeros below
    it), so the factorization goes on past it, as LAPACK's does."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = np.array(a, dtype=a.dtype).reshape(math.prod(batch), m, n)
    count = lu.shape[0]
    pivots = np.zeros((count, k), np.int32)
    info = np.zeros(count, np.int32)
    every = np.arange(count)
    with np.errstate(all="ignore"):
        for j in range(k):
            p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
            pivots[:, j] = p + 1
            row = lu[every, j].copy()
            lu[every, j] = lu[every, p]
            lu[every, p] = row
            pivot = lu[:, j, j]
            zero = pivot == 0
            info[(info == 0) & zero] = j + 1
            lu[:, j + 1:, j] /= np.where(zero, 1, pivot)[:, None]
            lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(*batch, k), info.reshape(batch)


def _permutation(pivots: np.ndarray, m: int) -> np.ndarray:
    """The rows of A in the order the swaps ``pivots`` (1-based, LAPACK's) leave them: P^T A
    is A[..., perm, :], and P[..., perm[i], i] = 1."""
    perm = np.broadcast_to(np.arange(m), (*pivots.shape[:-1], m)).copy()
    count = math.prod(pivots.shape[:-1])
    flat = perm.reshape(count, m)
    swaps = pivots.reshape(count, pivots.shape[-1]).astype(np.int64) - 1
    every = np.arange(flat.shape[0])
    for j in range(swaps.shape[1]):
        here = flat[:, j].copy()
        flat[:, j] = flat[every, swaps[:, j]]
        flat[every, swaps[:, j]] = here
    return perm


def _permutation_matrix(perm: np.ndarray, dtype: Any) -> np.ndarray:
    m = perm.shape[-1]
    p = np.zeros((*perm.shape, m), dtype)
    np.put_along_axis(p, perm[..., None], 1, axis=-1)  # row perm[i] of P^T ... is P's column i
    return _mT(p)


def _split_lu(lu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = lu.shape[-2:]
    k = min(m, n)
    low = np.tril(lu[..., :, :k], -1) + np.eye(m, k, dtype=lu.dtype)
    return low, np.triu(lu[..., :k, :])


def _lu_square_grad(low: Tensor, up: Tensor, grad_l: Tensor, grad_u: Tensor) -> Tensor:
    """The gradient of B = L U (square) from those of L (unit lower) and U (upper):
    L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T."""
    inner = (low.mT @ grad_l).tril(-1) + (grad_u @ up.mT).triu()
    inner = SolveTriangular.apply(up, inner.mT, True, False).mT  # ... U^-T
    return SolveTriangular.apply(low.mT, inner, True, True)


def _lu_grad(perm: Tensor, low: Tensor, up: Tensor, grad_l: Tensor, grad_u: Tensor) -> Tensor:
    """The gradient of A = P L U. Wide (m < n): U = [U1 U2] with U2 = L^-1 P^T A2, so A2's
    gradient is P L^-T gU2 and gU2 adds -L^-T gU2 U2^T to L's. Tall (m > n): L = [L1; L2]
    with L2 = (P^T A)2 U^-1, so that part's gradient is P gL2 U^-T, adding -L2^T gL2 U^-T to
    U's."""
    from .ops import cat

    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    if m < n:
        low_t_inv_gu2 = SolveTriangular.apply(low.mT, grad_u[..., k:], True, True)
        square = _lu_square_grad(low, up[..., :k], grad_l - low_t_inv_gu2 @ up[..., k:].mT,
                                 grad_u[..., :k])
        rows = cat([square, low_t_inv_gu2], -1)
    elif m > n:
        gl2_u_t_inv = SolveTriangular.apply(up, grad_l[..., k:, :].mT, True, False).mT
        square = _lu_square_grad(low[..., :k, :], up, grad_l[..., :k, :],
                                 grad_u - low[..., k:, :].mT @ gl2_u_t_inv)
        rows = cat([square, gl2_u_t_inv], -2)
    else:
        rows = _lu_square_grad(low, up, grad_l, grad_u)
    return perm @ rows  # (P: a constant 0/1 matrix of the rows' order)


class LU(Function):
    """The partial-pivoting LU of each matrix: L, U, P, the pivots and info side by side
    (the last three as floats, without gradient: one op, so that a captured step replays
    it whole); L and U's gradient to A as ``_lu_grad``."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        lu, pivots, info = _lu_factored(a)
        low, up = _split_lu(lu)
        p = _permutation_matrix(_permutation(pivots, a.shape[-2]), a.dtype)
        ctx.save_for_backward(low, up, p)
        ctx.shapes = low.shape[-2:], up.shape[-2:], p.shape[-2:], pivots.shape[-1:], ()
        return _flat((low, up, p, pivots.astype(a.dtype), info.astype(a.dtype)), a.shape[:-2])

    @staticmethod
    def backward(ctx, grad):
        low, up, p = ctx.saved_tensors
        grad_l, grad_u = _cut(grad, ctx.shapes)[:2]
        return _outside(_lu_grad, p, low, up, grad_l, grad_u)

    @staticmethod
    def recorded_backward(ctx, grad):
        low, up, p = _cut(LU.apply(ctx.inputs[0]), ctx.shapes)[:3]
        grad_l, grad_u = _cut(grad, ctx.shapes)[:2]
        return _lu_grad(p.detach(), low, up, grad_l, grad_u)


class LUResult(NamedTuple):
    P: Tensor
    L: Tensor
    U: Tensor


class LUFactorResult(NamedTuple):
    LU: Tensor
    pivots: Tensor


class LUFactorExResult(NamedTuple):
    LU: Tensor
    pivots: Tensor
    info: Tensor


def _lu_parts(A: Any, name: str, pivot: bool) -> tuple[Tensor, Tensor, Tensor, np.ndarray,
                                                         np.ndarray]:
    """L and U in the graph, P (a constant), and the pivots and info as arrays."""
    _floating_only(A, "lu_cpu")
    t = _matrices(A, name, square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")
    m, n = t.shape[-2:]
    k = min(m, n)
    low, up, p, pivots, info = _cut(LU.apply(t), ((m, k), (k, n), (m, m), (k,), ()))
    return (low, up, p.detach(), pivots.detach()._data.astype(np.int32),
            info.detach()._data.astype(np.int32))


def _floating_only(A: Any, kernel: str) -> None:
    """PyTorch's NotImplementedError for an integer tensor given to a LAPACK kernel."""
    from .dtypes import short_name

    t = tensor_of(A)
    if t.dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{short_name(t.dtype)}\'')


def lu(A: Tensor, *, pivot: bool = True) -> LUResult:
    """The named tuple ``(P, L, U)`` with A = P L U: P a permutation matrix (from partial
    pivoting, as LAPACK's getrf), L unit lower-triangular (m, k), U upper-triangular (k, n),
    k = min(m, n), for any (batches of) matrices; singular ones too."""
    low, up, p, _, _ = _lu_parts(A, "linalg.lu", pivot)
    return LUResult(p, low, up)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False
                 ) -> LUFactorExResult:
    """``(LU, pivots, info)``: L and U packed in one matrix (L's unit diagonal left out),
    the 1-based rows swapped in at each step (int32) and info (int32: 0, or the 1-based place
    of the first zero on U's diagonal, as LAPACK's)."""
    low, up, _, pivots, info = _lu_parts(A, "linalg.lu_factor_ex", pivot)
    if check_errors:
        _raise_if_singular(info, "torch.linalg.lu_factor_ex", _lu_zero_message,
                           LinAlgError=False)
    return LUFactorExResult(_packed(low, up), as_leaf(pivots), as_leaf(info))


def lu_factor(A: Tensor, *, pivot: bool = True) -> LUFactorResult:
    """``(LU, pivots)`` of ``lu_factor_ex``; RuntimeError if U has a zero on its diagonal (a
    singular matrix: ``lu_solve`` would divide by it)."""
    low, up, _, pivots, info = _lu_parts(A, "torch.linalg.lu_factor", pivot)
    _raise_if_singular(info, "torch.linalg.lu_factor", _lu_zero_message, LinAlgError=False)
    return LUFactorResult(_packed(low, up), as_leaf(pivots))


def _packed(low: Tensor, up: Tensor) -> Tensor:
    m, n = low.shape[-2], up.shape[-1]
    k = min(m, n)
    if m >= n:  # (L is m by k = n: U fits inside it)
        return low.tril(-1) + _padded(up, m - k, 0)
    return _padded(low.tril(-1), 0, n - k) + up


def _padded(x: Tensor, rows: int, columns: int) -> Tensor:
    from .functional import pad

    return pad(x, (0, columns, 0, rows)) if rows or columns else x


def _lu_zero_message(place: int) -> str:
    return (f"U[{place},{place}] is zero and using it on lu_solve would result in a division "
            f"by zero. If you still want to perform the factorization, consider calling "
            f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def _raise_if_singular(info: np.ndarray, name: str, message: Any,
                       LinAlgError: bool = True) -> None:  # noqa: N803
    """PyTorch's error for the first matrix whose ``info`` is not 0, naming its place in the
    batch."""
    failed = np.flatnonzero(np.asarray(info).reshape(-1))
    if not failed.size:
        return
    first = int(failed[0])
    where = f"(Batch element {first}): " if np.ndim(info) else ""
    kind = _LinAlgError if LinAlgError else RuntimeError
    raise kind(f"{name}: {where}{message(int(np.asarray(info).reshape(-1)[first]))}")


_LinAlgError = LinAlgError


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True,  # noqa: N803
             adjoint: bool = False) -> Tensor:
    """X with A X = B from ``lu_factor``'s ``(LU, pivots)`` of A (``adjoint``: A^T X = B;
    ``left=False``: X A = B, or X A^T = B); batch dims broadcast. Gradients to LU and B."""
    from .composite import take_along_dim

    packed, b = _matrices(LU, "linalg.lu_solve"), tensor_of(B)
    _same_dtype(packed, b, "linalg.lu_solve")
    n = packed.shape[-1]
    if b.ndim < 2 or b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{'AX' if left else 'XA'} = B ({n}x{n} and "
                           f"{'x'.join(map(str, b.shape[-2:]))})")
    piv = tensor_of(pivots)
    if piv.dtype != np.int32:
        raise RuntimeError("linalg.lu_solve: pivots should be a Tensor of scalar type "
                           "torch.int32")
    if piv.ndim == 0 or piv.shape[-1] != n:
        raise RuntimeError("linalg.lu_solve: Number of pivots per batch should be same as the "
                           "dimension of the matrix")
    if tuple(piv.shape[:-1]) != tuple(packed.shape[:-2]):
        raise RuntimeError("linalg.lu_solve: Expected LU.shape[:-1] and pivots.shape to be the "
                           f"same, but got pivots with shape {list(piv.shape)} instead")
    if not left:  # X A = B is A^T X^T = B^T (and X A^T = B is A X^T = B^T)
        b, adjoint = b.mT, not adjoint
    perm = as_leaf(_permutation(piv._data, n).astype(np.int64))
    low, up = packed.tril(-1) + as_leaf(np.eye(n, dtype=packed.dtype)), packed.triu()
    batch = tuple(np.broadcast_shapes(packed.shape[:-2], b.shape[:-2]))
    low, up = (t.expand(*batch, n, n) for t in (low, up))
    b = b.expand(*batch, *b.shape[-2:])
    perm = perm.expand(*batch, n).unsqueeze(-1)
    if not adjoint:  # A = P L U: X = U^-1 L^-1 P^T B, P^T B being B's rows in perm's order
        rows = take_along_dim(b, perm, -2)
        x = SolveTriangular.apply(up, SolveTriangular.apply(low, rows, False, True), True, False)
    else:  # A^T = U^T L^T P^T: X = P L^-T U^-T B, P Y putting Y's row i at perm[i]
        y = SolveTriangular.apply(low.mT, SolveTriangular.apply(up.mT, b, False, False), True,
                                  True)
        back = as_leaf(np.argsort(perm._data, axis=-2))
        x = take_along_dim(y, back, -2)
    return x if left else x.mT


# ---- the _ex forms: an info tensor instead of an error ------------------------------------------


class InvExResult(NamedTuple):
    inverse: Tensor
    info: Tensor


class SolveExResult(NamedTuple):
    result: Tensor
    info: Tensor


class CholeskyExResult(NamedTuple):
    L: Tensor
    info: Tensor


def _inverse_zero_message(place: int) -> str:
    return (f"The diagonal element {place} is zero, the inversion could not be completed "
            f"because the input matrix is singular.")


def _solve_zero_message(place: int) -> str:
    return ("The solver failed because the input matrix is singular.")


def _substituted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A^-1 B through A's LU, infinities and NaN where U has a zero on its diagonal (what
    LAPACK leaves there)."""
    lu, pivots, _ = _lu_factored(a)
    perm = _permutation(pivots, a.shape[-1])
    rows = np.take_along_axis(b, perm[..., None], -2)
    return _triangular_solved(lu, _triangular_solved(lu, rows, False, True), True, False)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``(inverse, info)``: info (int32) 0, or the 1-based place of the first zero on the
    diagonal of A's U (a singular matrix, whose 'inverse' then holds infinities or NaN, as
    LAPACK leaves it); with ``check_errors`` such a matrix raises LinAlgError."""
    t = _matrices(A, "linalg.inv_ex")
    _, _, info = _lu_factored(t._data)
    if check_errors:
        _raise_if_singular(info, "linalg.inv_ex", _inverse_zero_message)
    singular = info != 0
    if not singular.any():
        return InvExResult(Inverse.apply(t), as_leaf(info))
    eye = _identities(t)
    failed = as_leaf(_substituted(t._data, eye._data))
    mask = as_leaf(singular[..., None, None])
    good = Inverse.apply(where(mask, eye, t))
    return InvExResult(where(mask, failed, good), as_leaf(info))


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False
             ) -> SolveExResult:
    """``(result, info)`` of ``solve`` (info as ``inv_ex``'s; with ``check_errors`` a
    singular matrix raises LinAlgError)."""
    a = _matrices(A, "linalg.solve_ex")
    _, _, info = _lu_factored(a._data)
    if check_errors:
        _raise_if_singular(info, "torch.linalg.solve_ex", _solve_zero_message)
    singular = info != 0
    if not singular.any():
        return SolveExResult(solve(a, B, left=left), as_leaf(info))
    mask = as_leaf(singular[..., None, None])
    good = solve(where(mask, _identities(a), a), B, left=left)
    b = tensor_of(B)
    vector = good.ndim == a.ndim - 1 and b.ndim == good.ndim
    columns = (b.unsqueeze(-1) if vector else b)._data
    am, bm = (a._data, columns) if left else (_mT(a._data), _mT(columns))
    batch = np.broadcast_shapes(am.shape[:-2], bm.shape[:-2])
    failed = _substituted(np.broadcast_to(am, (*batch, *am.shape[-2:])), bm)
    failed = failed if left else _mT(failed)
    failed = failed[..., 0] if vector else failed
    mask_out = singular.reshape(singular.shape + (1,) * (good.ndim - singular.ndim))
    return SolveExResult(where(as_leaf(mask_out), as_leaf(failed), good), as_leaf(info))


def _potrf(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Cholesky of one matrix's lower triangle column by column (left-looking, as the LAPACK
    PyTorch runs on the CPU): the factor as far as it got, the failing diagonal entry holding
    its non-positive value and the columns after it as they were, and info (the 1-based
    column that failed, 0 if none)."""
    for j in range(a.shape[0]):
        value = a[j, j] - a[j, :j] @ a[j, :j]
        if not value > 0:  # (NaN fails too)
            a[j, j] = value
            return a, j + 1
        a[j, j] = root = np.sqrt(value)
        a[j + 1:, j] = (a[j + 1:, j] - a[j + 1:, :j] @ a[j, :j]) / root
    return a, 0


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False
                ) -> CholeskyExResult:
    """``(L, info)`` of ``cholesky``: info (int32) 0, or the order of the first leading minor
    that is not positive-definite, where L is left as LAPACK leaves it (no gradient there);
    with ``check_errors`` that raises LinAlgError."""
    t = _matrices(A, "linalg.cholesky_ex")
    flat = t._data.reshape(-1, *t.shape[-2:])
    infos, partial = np.zeros(flat.shape[0], np.int32), np.zeros_like(flat)
    for i, m in enumerate(flat):
        try:
            bad = bool(np.isnan(np.linalg.cholesky(m)).any())
        except np.linalg.LinAlgError:
            bad = True
        if bad:
            with np.errstate(all="ignore"):
                got, infos[i] = _potrf(np.tril(m).copy())
            partial[i] = np.tril(got)
    info = infos.reshape(t.shape[:-2])
    if check_errors and info.any():
        _raise_if_singular(info, "linalg.cholesky_ex", lambda k: (
            f"The factorization could not be completed because the input is not "
            f"positive-definite (the leading minor of order {k} is not positive-definite)."))
    if not info.any():
        low = Cholesky.apply(t)
    else:
        mask = as_leaf((info != 0)[..., None, None])
        low = where(mask, as_leaf(partial.reshape(t.shape)),
                    Cholesky.apply(where(mask, _identities(t), t)))
    return CholeskyExResult(low.mT if upper else low, as_leaf(info))


# ---- QR -----------------------------------------------------------------------------------------


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


def _qr_square_grad(q: Tensor, r: Tensor, grad_q: Tensor, grad_r: Tensor) -> Tensor:
    """The gradient of A = Q R for m >= n, Q (m, n) with orthonormal columns, R (n, n) upper:
    (gQ + Q sym(M)) R^-T with M = R gR^T - gQ^T Q and sym(M) the symmetric matrix with M's
    lower triangle."""
    inner = r @ grad_r.mT - grad_q.mT @ q
    lower = inner.tril(-1)
    total = grad_q + q @ (lower + lower.mT + inner.tril().triu())
    return SolveTriangular.apply(r, total.mT, True, False).mT


def _qr_grad(q: Tensor, r: Tensor, grad_q: Tensor, grad_r: Tensor) -> Tensor:
    """Wide A = [X Y] (m < n): X = Q R1 square and R2 = Q^T Y, so Y's gradient is Q gR2 and
    gR2 adds Y gR2^T to Q's."""
    from .ops import cat

    m, n = q.shape[-2], r.shape[-1]
    if m >= n:
        return _qr_square_grad(q, r, grad_q, grad_r)
    r1, r2 = r[..., :m], r[..., m:]
    y = q @ r2
    x_grad = _qr_square_grad(q, r1, grad_q + y @ grad_r[..., m:].mT, grad_r[..., :m])
    return cat([x_grad, q @ grad_r[..., m:]], -1)


def _qr_arrays(a: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    m, n = a.shape[-2:]
    k = min(m, n)
    if a.size:
        return np.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
    columns = m if mode == "complete" else k  # (NumPy refuses some empty matrices)
    q = np.broadcast_to(np.eye(m, columns, dtype=a.dtype), (*a.shape[:-2], m, columns)).copy()
    return q, np.zeros((*a.shape[:-2], columns, n), a.dtype)


class QR(Function):
    """Q and R of each matrix, side by side (Householder, LAPACK's signs). The gradient is
    ``_qr_grad``'s; undefined (RuntimeError, as PyTorch's) for mode 'r', and for 'complete'
    when m > n."""

    @staticmethod
    @quiet
    def forward(ctx, a, mode):
        q, r = _qr_arrays(a, mode)
        ctx.save_for_backward(q, r)
        ctx.shapes = q.shape[-2:], r.shape[-2:]
        return _flat((q, r), a.shape[:-2])

    @staticmethod
    def _check(ctx):
        (m, columns), (_, n) = ctx.shapes
        mode = ctx.inputs[1]
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are "
                               "going to differentiate through linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' "
                               "and nrows > ncols.")

    @staticmethod
    def backward(ctx, grad):
        QR._check(ctx)
        q, r = ctx.saved_tensors
        return _outside(_qr_grad, q, r, *_cut(grad, ctx.shapes)), None

    @staticmethod
    def recorded_backward(ctx, grad):
        QR._check(ctx)
        a, mode = ctx.inputs
        q, r = _cut(QR.apply(a, mode), ctx.shapes)
        return _qr_grad(q, r, *_cut(grad, ctx.shapes)), None


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """The named tuple ``(Q, R)`` with A = Q R, Q with orthonormal columns, R upper-triangular:
    ``mode`` "reduced" (Q m by k, R k by n, k = min(m, n)), "complete" (Q m by m, R m by n)
    or "r" (R only, Q an empty tensor). The signs are LAPACK's (R's diagonal may be
    negative), as PyTorch's on the CPU."""
    t = _matrices(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    m, n = t.shape[-2:]
    k = min(m, n)
    columns = m if mode == "complete" else k
    q, r = _cut(QR.apply(t, mode), ((m, columns), (columns, n)))
    if mode == "r":
        q = as_leaf(np.zeros(0, t.dtype))
    return QRResult(q, r)


# ---- pseudo-inverse, rank, least squares, condition numbers -------------------------------------


def _tolerance(s_max: np.ndarray, m: int, n: int, dtype: Any, atol: Any, rtol: Any) -> np.ndarray:
    """PyTorch's cut-off below which a singular value counts as zero: max(atol, rtol * the
    largest), rtol eps * max(m, n) when neither is given, 0 when only atol (> 0) is."""
    if rtol is None:
        rtol = np.finfo(dtype).eps * max(m, n) if atol is None or np.all(_value(atol) <= 0) \
            else 0.0
    atol = 0.0 if atol is None else atol
    return np.maximum(_value(atol), _value(rtol) * s_max)


def _value(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _pinv_array(a: np.ndarray, atol: Any, rtol: Any, hermitian: bool) -> np.ndarray:
    m, n = a.shape[-2:]
    if hermitian:
        w, v = np.linalg.eigh(a) if a.size else (np.zeros(a.shape[:-1], a.dtype), a)
        cut = _tolerance(np.abs(w).max(-1, initial=0.0), m, n, a.dtype, atol, rtol)
        kept = np.abs(w) > cut[..., None]
        inv_w = np.where(kept, 1 / np.where(kept, w, 1), 0).astype(a.dtype)
        return (v * inv_w[..., None, :]) @ _mT(v)
    if not a.size:
        return np.zeros((*a.shape[:-2], n, m), a.dtype)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    cut = _tolerance(s.max(-1, initial=0.0), m, n, a.dtype, atol, rtol)
    kept = s > cut[..., None]
    inv_s = np.where(kept, 1 / np.where(kept, s, 1), 0).astype(a.dtype)
    return (_mT(vh) * inv_s[..., None, :]) @ _mT(u)


def _pinv_grad(a: Tensor, p: Tensor, grad: Tensor) -> Tensor:
    """The gradient of P = pinv(A) where A's rank does not change (Golub and Pereyra's
    derivative): -P^T g P^T + (I - A P) g^T P P^T + P^T P g^T (I - P A)."""
    pt = p.mT
    out = -(pt @ grad @ pt)
    out = out + (grad.mT - a @ (p @ grad.mT)) @ (p @ pt)
    return out + (pt @ p) @ (grad.mT - (grad.mT @ p) @ a)


class Pinv(Function):
    """The pseudo-inverse of each matrix (singular values at or below the tolerance counted
    as zeros); gradient ``_pinv_grad``'s, as PyTorch's."""

    @staticmethod
    @quiet
    def forward(ctx, a, atol, rtol, hermitian):
        p = _pinv_array(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        return _outside(_pinv_grad, a, p, grad), None, None, None

    @staticmethod
    def recorded_backward(ctx, grad):
        a, atol, rtol, hermitian = ctx.inputs
        return _pinv_grad(a, Pinv.apply(a, atol, rtol, hermitian), grad), None, None, None


def _finite_or_raise(t: Tensor, name: str) -> None:
    if not np.isfinite(t._data).all():
        raise LinAlgError(f"{name}: The algorithm failed to converge because the input matrix "
                          f"contained non-finite values.")


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False,
         rcond: Any = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, by SVD (``hermitian``: by ``eigh``
    of the lower triangle), singular values at or below max(atol, rtol * the largest)
    taken as zeros (by default rtol = eps * max(m, n)); ``rcond`` is rtol's old name.
    ``atol`` and ``rtol`` may be tensors over the batch."""
    t = _matrices(A, "linalg.pinv", square=hermitian)
    if rcond is not None:
        rtol = rcond
    _finite_or_raise(t, "linalg.pinv" if not hermitian else "linalg.eigh")
    # (hermitian: the values from A's lower triangle, as eigh's; the gradient, as PyTorch's,
    # from the formula at A itself)
    return Pinv.apply(t, atol, rtol, bool(hermitian))


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False,
                tol: Any = None) -> Tensor:
    """The number of singular values (``hermitian``: of eigenvalues' sizes) above max(atol,
    rtol * the largest) of each matrix, int64 (``tol`` is atol's old name)."""
    t = _matrices(A, "linalg.matrix_rank", square=hermitian)
    if tol is not None:
        atol = tol
    a = t._data
    m, n = a.shape[-2:]
    if not a.size:
        return as_leaf(np.zeros(a.shape[:-2], np.int64))
    _finite_or_raise(t, "linalg.svd" if not hermitian else "linalg.eigh")
    s = np.abs(np.linalg.eigvalsh(a)) if hermitian else np.linalg.svd(a, compute_uv=False)
    cut = _tolerance(s.max(-1), m, n, a.dtype, atol, rtol)
    return as_leaf((s > cut[..., None]).sum(-1).astype(np.int64))


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None
          ) -> LstsqResult:
    """The least-squares solution X of A X = B (the one of least norm when A lacks full
    rank), batch dims broadcast; B (..., m) is a batch of vectors when its dims are one
    fewer than A's. The named tuple's other fields are filled as PyTorch fills them for each
    ``driver`` on the CPU: ``rank`` for 'gelsy' (the default), 'gelsd' and 'gelss',
    ``singular_values`` for 'gelsd' and 'gelss', ``residuals`` (the squared residuals of
    each column) for drivers other than 'gelsy' when m > n and every matrix has full rank;
    empty tensors otherwise. Values and gradient through ``pinv`` (as PyTorch's gradient);
    a matrix's rank is found from its singular values with rcond (default eps * max(m,
    n)), where LAPACK's gelsy estimates it from a pivoted QR."""
    a, b = _matrices(A, "torch.linalg.lstsq", square=False), tensor_of(B)
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, "
                           "gelsy, gelsd, gelss)")
    if a.dtype != b.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {a.dtype} and other's dtype "
                           f"{b.dtype}")
    vector = b.ndim == a.ndim - 1
    if vector:
        b = b.unsqueeze(-1)
    m, n = a.shape[-2:]
    if b.ndim < 2 or b.shape[-2] != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    a, b = a.expand(*batch, m, n), b.expand(*batch, *b.shape[-2:])
    _finite_or_raise(a, "torch.linalg.lstsq")
    x = Pinv.apply(a, None, None if driver == "gels" else rcond, False) @ b
    data = a._data
    s = np.linalg.svd(data, compute_uv=False) if data.size else \
        np.zeros((*batch, min(m, n)), a.dtype)
    cut = (np.finfo(a.dtype).eps * max(m, n) if rcond is None or rcond < 0 else rcond) * \
        s.max(-1, initial=0.0)
    rank = (s > cut[..., None]).sum(-1).astype(np.int64)
    empty = as_leaf(np.zeros(0, a.dtype))
    residuals = empty
    if driver != "gelsy" and m > n and (rank == n).all():
        residuals = ((a @ x - b) ** 2).sum(-2)  # (in the graph, as PyTorch's)
    return LstsqResult(x.squeeze(-1) if vector else x, residuals,
                       as_leaf(rank) if driver != "gels" else as_leaf(np.zeros(0, np.int64)),
                       as_leaf(s) if driver in ("gelsd", "gelss") else empty)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number of each matrix for the norm ``p``: for None, 2 and -2 the ratio
    of its largest and smallest singular value (any shape); for "fro", inf, -inf, 1 and -1
    norm(A) * norm(inv(A)) of square matrices, inf where A is singular (LU finds a zero
    pivot) or has NaN; for "nuc" sum(s) * sum(1 / s) of its singular values s."""
    t = _matrices(A, f"linalg.cond(ord={p})" if p is not None else "linalg.cond",
                  square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(t)
        if not s.shape[-1]:
            return as_leaf(np.zeros(s.shape[:-1], t.dtype))
        largest, smallest = s[..., 0], s[..., -1]
        return largest / smallest if p != -2 else smallest / largest
    if p not in ("fro", "nuc", math.inf, -math.inf, 1, -1):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if not t.shape[-1]:
        return as_leaf(np.zeros(t.shape[:-2], t.dtype))
    if p == "nuc":  # (from the singular values, as PyTorch's: large, not inf, when singular)
        s = svdvals(t)
        return s.sum(-1) * (1 / s).sum(-1)
    _, _, info = _lu_factored(t._data)
    singular = as_leaf(info != 0)
    safe = where(singular[..., None, None], _identities(t), t)
    value = matrix_norm(safe, p) * matrix_norm(Inverse.apply(safe), p)
    value = where(singular, as_leaf(np.asarray(np.inf, t.dtype)), value)
    return where(value.isnan(), as_leaf(np.asarray(np.inf, t.dtype)), value)  # (as PyTorch's)


# ---- the matrix exponential ---------------------------------------------------------------------

# Higham's (2005) degree-13 Pade approximant of exp, with scaling and squaring: its coefficients
# and the 1-norm up to which it is accurate to float64's rounding without scaling
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(a: np.ndarray) -> np.ndarray:
    """exp of each matrix in float64 then back to ``a``'s dtype; NaN for a matrix with a
    non-finite entry."""
    x = a.astype(np.float64)
    n = x.shape[-1]
    bad = np.asarray(~np.isfinite(x).all(axis=(-2, -1)))
    x = np.where(bad[..., None, None], 0.0, x)
    norms = np.abs(x).sum(-2).max(-1, initial=0.0)
    with np.errstate(divide="ignore"):
        squarings = np.maximum(0, np.ceil(np.log2(norms / _THETA13))).astype(np.int64)
    x = x / (2.0 ** squarings)[..., None, None]
    b = _PADE13
    eye = np.eye(n)
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    u = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2
             + b[1] * eye)
    v = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + \
        b[0] * eye
    out = np.linalg.solve(v - u, v + u) if x.size else v + u
    for step in range(int(squarings.max(initial=0))):
        out = np.where((squarings > step)[..., None, None], out @ out, out)
    out[bad] = np.nan
    return out.astype(a.dtype)


def _matrix_exp_grad(a: Tensor, grad: Tensor) -> Tensor:
    """exp's gradient: the top right block of exp([[A^T, G], [0, A^T]])."""
    from .ops import cat

    n = a.shape[-1]
    top = cat([a.mT, grad], -1)
    zeros = as_leaf(np.zeros(tuple(a.shape), a.dtype))
    bottom = cat([zeros, a.mT], -1)
    return MatrixExp.apply(cat([top, bottom], -2))[..., :n, n:]


class MatrixExp(Function):
    """exp of each matrix; gradient ``_matrix_exp_grad``'s."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return _outside(_matrix_exp_grad, a, grad)

    @staticmethod
    def recorded_backward(ctx, grad):
        return _matrix_exp_grad(ctx.inputs[0], grad)


def matrix_exp(A: Tensor) -> Tensor:
    """The exponential of each square matrix, sum A^k / k!: Pade approximation with scaling
    and squaring (computed in float64); NaN for a matrix with a non-finite entry."""
    return MatrixExp.apply(_matrices(A, "linalg.matrix_exp"))


# ---- made of other ops --------------------------------------------------------------------------


def matmul(input: Tensor, other: Tensor) -> Tensor:  # noqa: A002 (PyTorch's name)
    """``torch.matmul``."""
    return tensor_of(input) @ tensor_of(other)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """``torch.diagonal`` with the last two dims by default."""
    return tensor_of(A).diagonal(offset, dim1, dim2)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot products of the vectors along ``dim`` (the two broadcast)."""
    a, b = tensor_of(x), tensor_of(y)
    if a.dtype.kind != "f":
        from .dtypes import short_name

        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as "
                           f"input. Got {short_name(a.dtype)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {a.dtype} and y of type {b.dtype} instead")
    return (a * b).sum(dim)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The cross products of the 3-vectors along ``dim`` (the two broadcast)."""
    from .composite import cross as cross_product

    a, b = tensor_of(input), tensor_of(other)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{a.shape[dim]} and {b.shape[dim]}")
    shape = tuple(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)))
    return cross_product(a.expand(*shape), b.expand(*shape), dim)


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of the matrices in order (the first may be a row vector, the last a
    column vector: 1-D, left out of the result's shape), multiplied left to right (PyTorch
    picks the cheapest order: the same values up to rounding)."""
    ts = [tensor_of(t) for t in tensors]
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first, last = ts[0].ndim == 1, ts[-1].ndim == 1
    for i, t in enumerate(ts):
        wanted = (1, 2) if i in (0, len(ts) - 1) else (2,)
        if t.ndim not in wanted:
            where_ = "first" if i == 0 else "last" if i == len(ts) - 1 else None
            raise RuntimeError(
                f"multi_dot(): the {where_} tensor must be 1D or 2D but got {t.ndim}D" if where_
                else f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    if len({t.dtype for t in ts}) > 1:
        raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 "
                           f"is {ts[0].dtype} and tensor "
                           f"{next(i for i, t in enumerate(ts) if t.dtype != ts[0].dtype)} is "
                           f"{next(t.dtype for t in ts if t.dtype != ts[0].dtype)}")
    ms = [ts[0].unsqueeze(0) if first else ts[0], *ts[1:-1],
          ts[-1].unsqueeze(-1) if last else ts[-1]]
    for i in range(len(ms) - 1):
        if ms[i].shape[-1] != ms[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(ts[i].shape)} and {list(ts[i + 1].shape)} cannot be "
                               f"multiplied")
    out = ms[0]
    for m in ms[1:]:
        out = out @ m
    if first:
        out = out.squeeze(0)
    return out.squeeze(-1) if last else out


def vander(x: Tensor, *, N: int | None = None) -> Tensor:  # noqa: N803 (PyTorch's name)
    """The Vandermonde matrices of the vectors in the last dim: (..., n, N) of their powers
    0, 1, ..., N - 1 (N = n by default), increasing; products, so the gradient is finite
    at 0."""
    from .ops import cat

    t = tensor_of(x)
    if t.ndim == 0:  # (a vector of one, as PyTorch reads it)
        t = t.reshape(1)
    count = t.shape[-1] if N is None else N
    if count <= 1:
        raise RuntimeError("N must be greater than 1.")
    if t.dtype == np.bool_:
        raise RuntimeError("linalg.vander supports floating point, complex, and integer "
                           "tensors, but got Bool")
    ones = as_leaf(np.ones((*t.shape, 1), t.dtype))
    powers = t.unsqueeze(-1).expand(*t.shape, count - 1).cumprod(-1)
    return cat([ones, powers], -1)


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """The tensor X with tensordot(A, X, ind) the identity: A's first ``ind`` dims as the
    rows of a square matrix, the rest as its columns, inverted and reshaped to
    shape[ind:] + shape[:ind]."""
    t = tensor_of(A)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, columns = math.prod(t.shape[:ind]), math.prod(t.shape[ind:])
    if rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {columns} != {rows}")
    out = inv(t.reshape(rows, columns))
    return out.reshape(*t.shape[ind:], *t.shape[:ind])


def tensorsolve(A: Tensor, B: Tensor, dims: Sequence[int] | None = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B: X's shape is A's after B's dims (``dims``: A's
    dims moved to the end first)."""
    a, b = tensor_of(A), tensor_of(B)
    if dims is not None:
        a = a.movedim(tuple(dims), tuple(range(a.ndim - len(dims), a.ndim)))
    rest = tuple(a.shape[b.ndim:])
    rows, columns = b.numel(), math.prod(rest)
    if math.prod(a.shape) != rows * columns or rows != columns:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]"
                           f") == prod(self.shape[:other.ndim]), but got {columns} != "
                           f"{math.prod(a.shape[:b.ndim])}")
    return solve(a.reshape(rows, columns), b.reshape(rows)).reshape(*rest)


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i the i-th column
    of A below its diagonal and 1 on it (LAPACK's orgqr: Q from geqrf's reflectors); made of
    matrix products, so its gradients are theirs."""
    from .dtypes import short_name
    from .ops import cat

    a, t = _matrices(A, "torch.linalg.householder_product", square=False), tensor_of(tau)
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    m, n = a.shape[-2:]
    k = t.shape[-1]
    if m < n:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-2] must be greater "
                           "than or equal to input.shape[-1]")
    if n < k:
        raise RuntimeError("torch.linalg.householder_product: input.shape[-1] must be greater "
                           "than or equal to tau.shape[-1]")
    if t.ndim != a.ndim - 1 or tuple(t.shape[:-1]) != tuple(a.shape[:-2]):
        raise RuntimeError(f"torch.linalg.householder_product: Expected batch dimensions of "
                           f"tau to be equal to input.shape[:-2], but got {list(t.shape[:-1])}")
    if a.dtype != t.dtype:
        raise RuntimeError(f"torch.linalg.householder_product: tau dtype "
                           f"{short_name(t.dtype)} does not match input dtype "
                           f"{short_name(a.dtype)}")
    q = _IdentityLike.apply(a)  # (in the graph, with gradient 0, as PyTorch's for k = 0)
    one = as_leaf(np.ones((*a.shape[:-2], 1, 1), a.dtype))
    for i in reversed(range(k)):  # Q = H_i Q, the last reflector first
        v = cat([one, a[..., i + 1:, i:i + 1]], -2)  # (..., m - i, 1)
        # H_i changes rows i: of columns i: only; column i is still e_i there, so it becomes
        # e_i - tau_i v directly (as LAPACK's orgqr: a NaN in v reaches no other column)
        scale = t[..., i:i + 1, None]
        rest = q[..., i:, i + 1:]
        rest = rest - scale * (v @ (v.mT @ rest))
        column = cat([one, as_leaf(np.zeros((*a.shape[:-2], m - i - 1, 1), a.dtype))], -2) - \
            scale * v
        block = cat([q[..., i:, :i], column, rest], -1)
        q = cat([q[..., :i, :], block], -2) if i else block
    return q
