"""Linear algebra (linalg.py), statistics and selection (statistics.py) and the scatter and index
writes of scatter_ops.py, held against PyTorch: values and gradients in both float dtypes, in
batches, through transposed, sliced and Fortran-ordered inputs, and PyTorch's results and
errors at singular, empty, 0-d and NaN inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from torch_compare import assert_same, outcome, run_both

import tensorgrad as tg

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(17)
NAN = float("nan")


def _r(*shape):
    return RNG.standard_normal(shape)


def _spd(*shape):
    """Symmetric positive-definite matrices, well conditioned."""
    a = _r(*shape)
    return a @ a.swapaxes(-1, -2) + shape[-1] * np.eye(shape[-1])


def _with_nan(*shape):
    return np.where(RNG.random(shape) < 0.3, np.nan, _r(*shape))


def _sym(v):
    """A function of eigen- or singular vectors that their signs do not change."""
    return v * v[..., :1, :]


def _svd_used(m, a, full):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]  # (PyTorch ignores the gradient of the extra columns of full U and Vh)
    return (_sym(u[..., :k]).sum(-2) * s + _sym(vh[..., :k, :].mT).sum(-2)) * s


# name -> (the arrays, a function of one library's module and those tensors)
CASES = {
    "det batched": ([_r(3, 4, 4)], lambda m, a: m.linalg.det(a)),
    "det of a transposed view": ([_r(4, 4)], lambda m, a: m.det(a.mT)),
    "det method, Fortran order": ([np.asfortranarray(_r(3, 3))], lambda m, a: a.det()),
    "slogdet": ([_r(2, 3, 3)], lambda m, a: m.linalg.slogdet(a).logabsdet),
    "slogdet sign": ([_r(2, 3, 3)], lambda m, a: m.slogdet(a)[0] * m.slogdet(a)[1]),
    "logdet": ([_spd(2, 3, 3)], lambda m, a: m.logdet(a)),
    "logdet, a negative determinant": ([np.diag([-1.0, 2.0])], lambda m, a: a.logdet()),
    "inv": ([_r(2, 3, 3)], lambda m, a: m.linalg.inv(a)),
    "inverse of a slice": ([_r(4, 6)], lambda m, a: m.inverse(a[:, ::2].mT[:, 1:])),
    "inverse method": ([_r(3, 3)], lambda m, a: a.inverse()),
    "solve": ([_r(2, 3, 3), _r(2, 3, 2)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve, batch broadcast": ([_r(3, 3), _r(4, 3, 2)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve a batch of vectors": ([_r(2, 3, 3), _r(2, 3)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve a vector": ([_r(2, 3, 3), _r(3)], lambda m, a, b: m.linalg.solve(a, b)),
    "solve left=False": ([_r(3, 3), _r(2, 4, 3)],
                         lambda m, a, b: m.linalg.solve(a.mT, b, left=False)),
    "cholesky": ([_spd(2, 3, 3)], lambda m, a: m.linalg.cholesky(a)),
    "cholesky upper": ([_spd(3, 3)], lambda m, a: m.linalg.cholesky(a, upper=True)),
    "cholesky method, upper": ([_spd(3, 3)], lambda m, a: a.cholesky(True)),
    "cholesky reads the lower triangle": ([_spd(3, 3) + np.triu(_r(3, 3), 1)],
                                          lambda m, a: m.linalg.cholesky(a)),
    "matrix_power 0": ([_r(2, 3, 3)], lambda m, a: m.linalg.matrix_power(a, 0)),
    "matrix_power 1": ([_r(3, 3)], lambda m, a: m.matrix_power(a, 1)),
    "matrix_power 5": ([_r(2, 3, 3) / 2], lambda m, a: m.linalg.matrix_power(a, 5)),
    "matrix_power -2": ([_r(3, 3) + 3 * np.eye(3)], lambda m, a: a.matrix_power(-2)),
    "eigh": ([_r(2, 4, 4)], lambda m, a: (lambda r: r[0][..., None, :] * _sym(r[1]))(
        m.linalg.eigh(a))),
    "eigh upper": ([_r(4, 4)], lambda m, a: _sym(m.linalg.eigh(a.mT, UPLO="U").eigenvectors)),
    "eigvalsh": ([_r(2, 4, 4)], lambda m, a: m.linalg.eigvalsh(a)),
    "svdvals tall": ([_r(2, 5, 3)], lambda m, a: m.linalg.svdvals(a)),
    "svdvals wide": ([_r(3, 5)], lambda m, a: m.linalg.svdvals(a)),
    "svd tall, full": ([_r(5, 3)], lambda m, a: _svd_used(m, a, True)),
    "svd wide, reduced": ([_r(2, 3, 5)], lambda m, a: _svd_used(m, a, False)),
    "svd square": ([_r(4, 4)], lambda m, a: _svd_used(m, a, True)),
    "quantile linear": ([_r(3, 7)], lambda m, a: m.quantile(a, 0.3, dim=1)),
    "quantile of a transposed view": ([_r(7, 3)], lambda m, a: a.mT.quantile(0.8, dim=-1)),
    "quantile q tensor, keepdim": ([_r(5, 3)], lambda m, a: a.quantile(
        m.tensor([0.0, 0.25, 0.5, 1.0], dtype=a.dtype), dim=0, keepdim=True)),
    "quantile of all": ([_r(2, 3, 4)], lambda m, a: m.quantile(
        a, m.tensor([0.1, 0.9], dtype=a.dtype), keepdim=True)),
    "quantile lower": ([_r(4, 6)], lambda m, a: m.quantile(a, 0.45, 1, interpolation="lower")),
    "quantile higher": ([_r(4, 6)], lambda m, a: m.quantile(a, 0.45, 0, interpolation="higher")),
    "quantile nearest": ([_r(4, 5)], lambda m, a: m.quantile(
        a, m.tensor([0.125, 0.375, 0.5], dtype=a.dtype), -1, interpolation="nearest")),
    "quantile midpoint": ([_r(4, 6)], lambda m, a: m.quantile(a, 0.3, 1,
                                                              interpolation="midpoint")),
    "quantile with NaN": ([_with_nan(6, 5)], lambda m, a: m.quantile(a, 0.6, dim=-1)),
    "nanquantile": ([_with_nan(8, 5)], lambda m, a: m.nanquantile(
        a, m.tensor([0.1, 0.5, 0.9], dtype=a.dtype), dim=-1)),
    "nanquantile midpoint": ([_with_nan(8, 4)], lambda m, a: a.nanquantile(
        0.5, dim=1, interpolation="midpoint")),
    "kthvalue": ([_r(5, 3)], lambda m, a: m.kthvalue(a, 3, dim=0).values),
    "kthvalue keepdim": ([_r(2, 3, 4)], lambda m, a: a.kthvalue(2, keepdim=True)[0]),
    "mode": ([np.round(_r(4, 9))], lambda m, a: m.mode(a, 1).values),
    "nanmedian shares among ties": ([np.array([1.0, 2.0, 2.0, NAN, 2.0, 3.0])],
                                    lambda m, a: m.nanmedian(a)),
    "nanmedian of NaN only": ([np.array([NAN, NAN])], lambda m, a: a.nanmedian()),
    "median of nothing": ([np.zeros((2, 0))], lambda m, a: a.median()),
    "nanmedian of nothing": ([np.zeros(0)], lambda m, a: a.nanmedian()),
    "nanmedian along a dim": ([_with_nan(6, 5)], lambda m, a: m.nanmedian(a, 1).values),
    "cov": ([_r(3, 6)], lambda m, a: m.cov(a)),
    "cov of one variable": ([_r(6)], lambda m, a: a.cov(correction=0)),
    "cov fweights": ([_r(3, 6)], lambda m, a: m.cov(a, fweights=m.tensor([1, 2, 0, 3, 1, 1]))),
    "cov aweights": ([_r(3, 6), _r(6)], lambda m, a, w: m.cov(a, aweights=w.abs())),
    "cov both weights": ([_r(6, 3), _r(6)], lambda m, a, w: m.cov(
        a.mT, correction=2, fweights=m.tensor([1, 2, 0, 3, 1, 1]), aweights=w.abs())),
    "corrcoef": ([_r(3, 6)], lambda m, a: m.corrcoef(a)),
    "corrcoef method": ([_r(6, 2)], lambda m, a: a.mT.corrcoef()),
    "unfold": ([_r(2, 8, 3)], lambda m, a: a.unfold(1, 3, 2)),
    "unfold overlapping": ([_r(3, 6)], lambda m, a: a.unfold(-1, 4, 1)),
    "unfold of a view": ([_r(6, 4)], lambda m, a: a.mT[:, 1::2].unfold(1, 2, 1)),
    "index_copy": ([_r(2, 5), _r(2, 2)], lambda m, a, s: a.index_copy(1, m.tensor([3, 0]), s)),
    "index_copy function": ([_r(4, 2), _r(3, 2)],
                            lambda m, a, s: m.index_copy(a, 0, m.tensor([3, 0, 1]), s)),
    "index_put": ([_r(2, 5), _r(3)], lambda m, a, s: a.index_put(
        (m.tensor([0, 1, 0]), m.tensor([2, 2, 2])), s)),
    "index_put accumulate": ([_r(2, 5), _r(5)], lambda m, a, s: m.index_put(
        a, (m.tensor([0, 1, 0]),), s, accumulate=True)),
    "index_put mask": ([_r(2, 5), np.array(0.7)],
                       lambda m, a, s: a.index_put((a.detach() > 0,), s)),
}
for reduce in ("sum", "mean", "amax", "amin"):
    for include_self in (True, False):
        CASES[f"scatter_reduce {reduce}, include_self={include_self}"] = (
            [_r(2, 5), _r(2, 4)],
            lambda m, a, s, r=reduce, i=include_self: a.scatter_reduce(
                1, m.tensor([[0, 1, 0, 3], [2, 2, 2, 0]]), s, r, include_self=i))
        # tied extremes: the gradient shared as PyTorch shares it
        CASES[f"scatter_reduce {reduce} ties, include_self={include_self}"] = (
            [np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.5, 1.0])],
            lambda m, a, s, r=reduce, i=include_self: m.scatter_reduce(
                a, 0, m.tensor([0, 1, 0, 0]), s, r, include_self=i))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_are_pytorchs(name, dtype):
    arrays, call = CASES[name]
    rtol = 1e-8 if dtype == np.float64 else 5e-4  # (the solvers' rounding, in another LAPACK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_both(torch, lambda *t: call(tg, *t), lambda *t: call(torch, *t), arrays, dtype,
                 rtol=rtol)


def _t(m, x, **kwargs):
    return m.tensor(x, **kwargs)


# name -> a function of one library's module: its result (the first of a tuple), or its error
SPECIAL = {
    "det of an empty batch": lambda m: m.linalg.det(m.zeros(0, 3, 3)),
    "det of 0x0 matrices": lambda m: m.linalg.det(m.zeros(2, 0, 0)),
    "det of integers": lambda m: m.linalg.det(_t(m, [[1, 2], [3, 4]])),
    "det of a vector": lambda m: m.linalg.det(m.ones(3)),
    "det of a non-square matrix": lambda m: m.linalg.det(m.ones(2, 3)),
    "det with NaN": lambda m: m.linalg.det(_t(m, [[NAN, 1.0], [1.0, 1.0]])),
    "det in float32": lambda m: m.det(_t(m, [[1.0, 2.0], [3.0, 4.0]], dtype=m.float32)),
    "slogdet of a singular matrix": lambda m: m.linalg.slogdet(_t(m, [[1.0, 2.0], [2.0, 4.0]])),
    "slogdet's sign, singular": lambda m: m.slogdet(_t(m, [[1.0, 2.0], [2.0, 4.0]])).sign,
    "slogdet's sign with NaN": lambda m: m.slogdet(_t(m, [[NAN, 0.0], [0.0, 1.0]])).sign,
    "slogdet with NaN": lambda m: m.slogdet(_t(m, [[NAN, 0.0], [0.0, 1.0]])).logabsdet,
    "slogdet of 0x0": lambda m: m.linalg.slogdet(m.zeros(0, 0)).logabsdet,
    "logdet, negative": lambda m: m.logdet(_t(m, [[0.0, 1.0], [1.0, 0.0]])),
    "logdet, singular": lambda m: m.logdet(_t(m, [[1.0, 2.0], [2.0, 4.0]])),
    "inv, singular in a batch": lambda m: m.linalg.inv(m.zeros(3, 2, 2)),
    "inv, singular": lambda m: m.linalg.inv(m.zeros(2, 2)),
    "inv with NaN": lambda m: m.linalg.inv(_t(m, [[1.0, 1.0], [1.0, NAN]])),
    "inv of an empty batch": lambda m: m.linalg.inv(m.zeros(0, 3, 3)),
    "inv of 0x0": lambda m: m.linalg.inv(m.zeros(0, 0)),
    "inverse of integers": lambda m: m.inverse(_t(m, [[1, 2], [3, 4]])),
    "solve, singular": lambda m: m.linalg.solve(m.zeros(2, 2), m.ones(2)),
    "solve, shapes": lambda m: m.linalg.solve(m.eye(2), m.ones(3)),
    "solve, dtypes": lambda m: m.linalg.solve(m.eye(2), m.ones(2, dtype=m.float32)),
    "solve left=False, a vector": lambda m: m.linalg.solve(m.eye(2).expand(3, 2, 2),
                                                           m.ones(3, 2), left=False),
    "solve an empty batch": lambda m: m.linalg.solve(m.zeros(0, 2, 2), m.zeros(0, 2)),
    "solve with NaN": lambda m: m.linalg.solve(_t(m, [[1.0, 1.0], [1.0, NAN]]), m.ones(2)),
    "cholesky, not positive-definite": lambda m: m.linalg.cholesky(_t(m, [[1.0, 2.0],
                                                                         [2.0, 1.0]])),
    "cholesky with NaN": lambda m: m.linalg.cholesky(_t(m, [[4.0, 0.0], [NAN, 1.0]])),
    "cholesky of 0x0": lambda m: m.linalg.cholesky(m.zeros(0, 0)),
    "cholesky of an empty batch": lambda m: m.linalg.cholesky(m.zeros(0, 3, 3)),
    "cholesky of integers": lambda m: m.linalg.cholesky(_t(m, [[1, 0], [0, 1]])),
    "matrix_power of integers": lambda m: m.linalg.matrix_power(_t(m, [[1, 2], [3, 4]]), 3),
    "matrix_power 0 of integers": lambda m: m.linalg.matrix_power(_t(m, [[1, 2], [3, 4]]), 0),
    "matrix_power -1 of integers": lambda m: m.matrix_power(_t(m, [[1, 2], [3, 4]]), -1),
    "matrix_power of an empty batch": lambda m: m.matrix_power(m.zeros(0, 2, 2), -2),
    "matrix_power of a vector": lambda m: m.matrix_power(m.ones(2), 2),
    "matrix_power, non-square": lambda m: m.matrix_power(m.ones(2, 3), 2),
    "eigh of an empty batch": lambda m: m.linalg.eigh(m.zeros(0, 3, 3)).eigenvalues,
    "eigh of 0x0": lambda m: m.linalg.eigh(m.zeros(2, 0, 0)).eigenvectors,
    "eigh, non-square": lambda m: m.linalg.eigh(m.zeros(2, 3)),
    "eigh, UPLO": lambda m: m.linalg.eigh(m.eye(2), UPLO="X"),
    "eigvalsh in float32": lambda m: m.linalg.eigvalsh(_t(m, [[2.0, 1.0], [1.0, 2.0]],
                                                          dtype=m.float32)),
    "svd of empty matrices": lambda m: m.linalg.svd(m.zeros(2, 0, 3)).Vh,
    "svd of empty matrices, U": lambda m: m.linalg.svd(m.zeros(2, 0, 3)).U,
    "svdvals of empty matrices": lambda m: m.linalg.svdvals(m.zeros(2, 0, 3)),
    "svdvals with NaN": lambda m: m.linalg.svdvals(_t(m, [[1.0, NAN], [0.0, 1.0]])),
    "svd of integers": lambda m: m.linalg.svd(_t(m, [[1, 0], [0, 1]])),
    "svdvals of a vector": lambda m: m.linalg.svdvals(m.ones(3)),
    "quantile of nothing": lambda m: m.quantile(m.zeros(0), 0.5),
    "quantile of integers": lambda m: m.quantile(_t(m, [1, 2]), 0.5),
    "quantile, q > 1": lambda m: m.quantile(_t(m, [1.0, 2.0]), 1.5),
    "quantile, q's dtype": lambda m: m.quantile(_t(m, [1.0, 2.0]), _t(m, [0.5],
                                                                      dtype=m.float32)),
    "quantile, 2-D q": lambda m: m.quantile(_t(m, [1.0, 2.0]), _t(m, [[0.5]])),
    "quantile, interpolation": lambda m: m.quantile(_t(m, [1.0, 2.0]), 0.5,
                                                    interpolation="cubic"),
    "quantile of 0-d, keepdim": lambda m: m.quantile(_t(m, 3.0), _t(m, [0.2, 0.5]), dim=0,
                                                     keepdim=True),
    "quantile of 0-d": lambda m: m.quantile(_t(m, 3.0), 0.2),
    "quantile, 0-d q": lambda m: m.quantile(m.arange(5.0), _t(m, 0.3)),
    "quantile, dim -2": lambda m: m.quantile(m.arange(24.0).reshape(2, 3, 4),
                                             _t(m, [0.2, 0.5]), dim=-2, keepdim=True),
    "quantile, dim out of range": lambda m: m.quantile(m.arange(4.0), 0.5, dim=1),
    "nanquantile, a row of NaN": lambda m: m.nanquantile(_t(m, [[NAN, NAN], [1.0, NAN]]), 0.5,
                                                         dim=1),
    "kthvalue, k 0": lambda m: m.kthvalue(_t(m, [3.0, 1.0, 2.0]), 0),
    "kthvalue, k too large": lambda m: m.kthvalue(_t(m, [3.0, 1.0, 2.0]), 4),
    "kthvalue, NaN largest": lambda m: m.kthvalue(_t(m, [3.0, 1.0, NAN, 2.0]), 4),
    "kthvalue's index of NaN": lambda m: m.kthvalue(_t(m, [3.0, 1.0, NAN, 2.0]), 4).indices,
    "kthvalue of 0-d": lambda m: m.kthvalue(_t(m, 3.0), 1),
    "kthvalue of an empty batch": lambda m: m.kthvalue(m.zeros(0, 3), 1, dim=1),
    "kthvalue of integers": lambda m: m.kthvalue(_t(m, [3, 1, 2]), 2),
    "kthvalue's index": lambda m: m.kthvalue(_t(m, [[3, 1, 2], [0, 5, 4]]), 2).indices,
    "mode's index": lambda m: m.mode(_t(m, [3.0, 1.0, 1.0, 3.0, 2.0])).indices,
    "mode of integers, index": lambda m: m.mode(_t(m, [[1, 2, 2], [5, 5, 4]]), 1).indices,
    "mode of integers": lambda m: m.mode(_t(m, [[1, 2, 2], [5, 5, 4]]), 1),
    "mode, all distinct": lambda m: m.mode(_t(m, [3.0, 1.0, 2.0])).indices,
    "mode of 0-d": lambda m: m.mode(_t(m, 3.0)),
    "mode of an empty batch": lambda m: m.mode(m.zeros(0, 3), 1),
    "mode along an empty dim": lambda m: m.mode(m.zeros(2, 0), 1),
    "mode keepdim": lambda m: m.mode(_t(m, [[1, 2, 2], [5, 5, 4]]), 0, keepdim=True).indices,
    "nanmedian of NaN only": lambda m: m.nanmedian(_t(m, [NAN, NAN])),
    "nanmedian's index, a row of NaN": lambda m: m.nanmedian(_t(m, [[NAN, NAN], [1.0, NAN]]),
                                                             1).indices,
    "nanmedian's index": lambda m: m.nanmedian(_t(m, [[NAN, NAN, 2.0, 1.0],
                                                      [1.0, NAN, 3.0, 4.0]]), 1).indices,
    "nanmedian of nothing": lambda m: m.nanmedian(m.zeros(0)),
    "nanmedian along an empty dim": lambda m: m.nanmedian(m.zeros(2, 0), 1),
    "nanmedian of integers": lambda m: m.nanmedian(_t(m, [1, 2, 3, 4])),
    "nanmedian of 0-d along 0": lambda m: m.nanmedian(_t(m, 2.0), 0),
    "cov of integers": lambda m: m.cov(_t(m, [[1, 2, 4], [3, 1, 0]])),
    "cov of 0-d": lambda m: m.cov(_t(m, 3.0)),
    "cov of 3-D": lambda m: m.cov(m.zeros(2, 3, 4)),
    "cov, float fweights": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]),
                                           fweights=_t(m, [1.0, 2.0, 1.0])),
    "cov, negative fweights": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]),
                                              fweights=_t(m, [1, -2, 1])),
    "cov, fweights' count": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]), fweights=_t(m, [1, 2])),
    "cov, negative aweights": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]),
                                              aweights=_t(m, [1, -2, 1.0])),
    "cov, integer aweights": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]), aweights=_t(m, [1, 2, 1])),
    "cov, no degrees of freedom": lambda m: m.cov(_t(m, [1.0, 2.0, 4.0]), correction=4),
    "cov of no observations": lambda m: m.cov(m.zeros(2, 0)),
    "cov of no variables": lambda m: m.cov(m.zeros(0, 3)),
    "cov, float32 and float64 weights": lambda m: m.cov(
        _t(m, [1.0, 2.0, 4.0], dtype=m.float32), aweights=_t(m, [1.0, 2.0, 1.0])),
    "cov of one row": lambda m: m.cov(_t(m, [[1.0, 2.0, 4.0]])),
    "corrcoef of a vector": lambda m: m.corrcoef(_t(m, [1.0, 2.0, 4.0])),
    "corrcoef, a constant variable": lambda m: m.corrcoef(_t(m, [[1.0, 1, 1], [3, 1, 0]])),
    "corrcoef of 0-d": lambda m: m.corrcoef(_t(m, 2.0)),
    "histc": lambda m: m.histc(_t(m, [1.0, 2.0, 1.0, 3.0, 5.0, -1.0]), bins=4, min=0, max=3),
    "histc of integers": lambda m: m.histc(_t(m, [1, 2, 1]), bins=4),
    "histc, one value": lambda m: m.histc(_t(m, [1.0, 1.0]), bins=4),
    "histc, NaN": lambda m: m.histc(_t(m, [1.0, NAN]), bins=4),
    "histc, NaN in a range": lambda m: m.histc(_t(m, [1.0, NAN]), bins=4, min=0, max=2),
    "histc, inf": lambda m: m.histc(_t(m, [1.0, float("inf")]), bins=4),
    "histc of nothing": lambda m: m.histc(m.zeros(0), bins=4),
    "histc, no bins": lambda m: m.histc(_t(m, [1.0]), bins=0),
    "histc, min > max": lambda m: m.histc(_t(m, [1.0]), bins=4, min=3, max=1),
    "histc of a matrix, float32": lambda m: m.histc(_t(m, [[1.0, 2.0], [3.0, 4.0]],
                                                       dtype=m.float32), bins=4),
    "histc of 0-d": lambda m: m.histc(_t(m, 2.0), bins=3),
    "histc, float32": lambda m: m.histc(_t(m, np.random.default_rng(3).standard_normal(
        10_000).astype(np.float32)), bins=37, min=-2, max=2.5),
    "histc at the edges": lambda m: m.histc(_t(m, np.linspace(-1, 1, 1001)), bins=7, min=-1,
                                            max=1),
    "histc at the edges, float32": lambda m: m.histc(
        _t(m, np.linspace(-1, 1, 1001, dtype=np.float32)), bins=13, min=-1, max=1),
    "unfold, too large": lambda m: m.arange(6.0).unfold(0, 7, 1),
    "unfold, step 0": lambda m: m.arange(6.0).unfold(0, 2, 0),
    "unfold, size 0": lambda m: m.arange(6.0).unfold(0, 0, 1),
    "unfold, dim out of range": lambda m: m.arange(6.0).unfold(1, 2, 1),
    "unfold of 0-d": lambda m: _t(m, 3.0).unfold(0, 1, 1),
    "unfold of 0-d, too large": lambda m: _t(m, 3.0).unfold(0, 2, 1),
    "unfold of 0-d, size 0": lambda m: _t(m, 3.0).unfold(0, 0, 1),
    "unfold of an empty dim": lambda m: m.zeros(2, 0, 3).unfold(1, 0, 2),
    "unfold, negative dim": lambda m: m.arange(30.0).reshape(2, 5, 3).unfold(-2, 2, 2),
    "scatter_reduce, unknown": lambda m: m.zeros(3).scatter_reduce(0, _t(m, [0]), _t(m, [1.0]),
                                                                   "median"),
    "scatter_reduce, mean of integers": lambda m: m.full((3,), 5).scatter_reduce(
        0, _t(m, [0, 1, 0, 1]), _t(m, [-1, -2, -3, -4]), "mean"),
    "scatter_reduce, amax of integers": lambda m: m.full((3,), 5).scatter_reduce(
        0, _t(m, [0, 1, 0, 1]), _t(m, [-1, -2, -3, -4]), "amax", include_self=False),
    "scatter_reduce, prod": lambda m: m.full((3,), 5.0).scatter_reduce(
        0, _t(m, [0, 1, 0, 1]), _t(m, [-1.0, -2, -3, -4]), "prod", include_self=False),
    "scatter_reduce, dtypes": lambda m: m.zeros(3).scatter_reduce(0, _t(m, [0]), _t(m, [1]),
                                                                  "sum"),
    "scatter_reduce, NaN": lambda m: m.zeros(3).scatter_reduce(
        0, _t(m, [0, 1, 0, 1]), _t(m, [NAN, 1.0, 2.0, 3.0]), "amax"),
    "scatter_reduce, out of bounds": lambda m: m.zeros(3).scatter_reduce(0, _t(m, [5]),
                                                                         _t(m, [1.0]), "sum"),
    "scatter_reduce of 0-d": lambda m: _t(m, 2.0).scatter_reduce(0, _t(m, 0), _t(m, 5.0), "sum"),
    "scatter_reduce of nothing": lambda m: m.zeros(3).scatter_reduce(
        0, m.zeros(0, dtype=m.int64), m.zeros(0), "mean"),
    "scatter_reduce_": lambda m: m.zeros(3).scatter_reduce_(0, _t(m, [1, 1]), _t(m, [2.0, 3.0]),
                                                            "amax", include_self=False),
    "index_copy, shapes": lambda m: m.zeros(3, 2).index_copy(0, _t(m, [0, 2]), m.ones(2, 3)),
    "index_copy, count": lambda m: m.zeros(3, 2).index_copy(0, _t(m, [0, 2]), m.ones(3, 2)),
    "index_copy, dtypes": lambda m: m.zeros(3, 2).index_copy(0, _t(m, [0, 2]),
                                                             m.ones(2, 2, dtype=m.float32)),
    "index_copy, out of bounds": lambda m: m.zeros(3, 2).index_copy(0, _t(m, [0, 5]),
                                                                    m.ones(2, 2)),
    "index_copy, a float index": lambda m: m.zeros(3, 2).index_copy(0, _t(m, [0.0, 1]),
                                                                    m.ones(2, 2)),
    "index_copy, a 0-d index": lambda m: m.zeros(3).index_copy(0, _t(m, 1), _t(m, 5.0)),
    "index_copy of 0-d": lambda m: _t(m, 1.0).index_copy(0, _t(m, [0]), _t(m, [5.0])),
    "index_copy_": lambda m: m.zeros(3).index_copy_(0, _t(m, [1]), _t(m, [2.0])),
    "index_put, shapes": lambda m: m.zeros(3, 2).index_put((_t(m, [0, 2]),), m.ones(2, 3)),
    "index_put, broadcast": lambda m: m.zeros(3, 2).index_put((_t(m, [0, 2]),),
                                                              _t(m, [1.0, 2.0])),
    "index_put, dtypes": lambda m: m.zeros(3, 2).index_put((_t(m, [0, 0]),),
                                                           _t(m, 1.0, dtype=m.float32)),
    "index_put, out of bounds": lambda m: m.zeros(3, 2).index_put((_t(m, [5]),), _t(m, 1.0)),
    "index_put, a list": lambda m: m.zeros(3, 2).index_put([_t(m, [1])], _t(m, 1.0)),
    "index_put_ accumulate": lambda m: m.zeros(3, 2).index_put_(
        (_t(m, [0, 0]), _t(m, [1, 1])), _t(m, [1.0, 2.0]), accumulate=True),
}


def _outcome(m, call):
    out = outcome(m, call)
    if isinstance(out, str):  # an error's kind
        return out
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_inputs_and_errors_are_pytorchs(name, torch_float64_default):
    ours, theirs = _outcome(tg, SPECIAL[name]), _outcome(torch, SPECIAL[name])
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
    else:
        assert_same(ours, theirs, name, 1e-6 if ours.dtype == np.float32 else 1e-12)


def test_the_errors_are_pytorchs_kinds():
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)
    with pytest.raises(tg.linalg.LinAlgError, match="singular"):
        tg.linalg.inv(tg.zeros(2, 2))
    with pytest.raises(RuntimeError, match="positive-definite"):
        tg.linalg.cholesky(-tg.eye(2))


def test_gradients_at_singular_matrices():
    """det's gradient is 0 there, as PyTorch's; slogdet's is not finite (PyTorch's is +-inf,
    NaN here)."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    ours, theirs = tg.tensor(singular, requires_grad=True), torch.tensor(singular,
                                                                        requires_grad=True)
    tg.det(ours).backward()
    torch.det(theirs).backward()
    assert_same(ours.grad, theirs.grad, "det's gradient")
    ours.grad = None
    tg.linalg.slogdet(ours).logabsdet.backward()
    assert not np.isfinite(ours.grad.numpy()).any()


def test_matrix_power_zero_joins_the_graph_with_gradient_zero():
    a = tg.tensor(_r(2, 3, 3), requires_grad=True)
    out = tg.linalg.matrix_power(a, 0)
    assert out.requires_grad == torch.linalg.matrix_power(torch.tensor(_r(3, 3),
                                                                       requires_grad=True),
                                                          0).requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((2, 3, 3)))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0)])
@pytest.mark.parametrize("order", ["fro", "nuc", 2, -2, 1, -1, float("inf"), -float("inf")])
def test_matrix_norm_of_every_order_as_torchs(torch_float64_default, order, dim, keepdim):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    found = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        norm = lib.linalg.matrix_norm(x, ord=order, dim=dim, keepdim=keepdim)
        weights = lib.tensor(np.arange(1.0, norm.numel() + 1).reshape(tuple(norm.shape)))
        (norm * weights).sum().backward()
        found.append((norm, x.grad))
    assert_same(found[0][0], found[1][0], f"matrix_norm {order}")
    assert_same(found[0][1], found[1][1], f"its gradient, {order}")


def test_unique_slices_along_a_dim_as_torchs():
    values = np.array([[1, 2], [1, 2], [3, 4], [0, 9]])
    for dim in (0, 1, -1):
        ours = tg.unique(tg.tensor(values), dim=dim, return_inverse=True, return_counts=True)
        theirs = torch.unique(torch.tensor(values), dim=dim, return_inverse=True,
                              return_counts=True)
        for mine, yours in zip(ours, theirs):
            assert_same(mine, yours, f"unique along {dim}")
    for lib in (tg, torch):  # a dimension of length 0 that is not the one
        with pytest.raises(RuntimeError, match="0 sized dimensions"):
            lib.unique(lib.zeros(0, 2), dim=1)
