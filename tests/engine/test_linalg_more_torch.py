"""The rest of torch.linalg (linalg.py's second half) held against PyTorch: values, dtypes,
shapes and gradients in both float dtypes, batched, through C, Fortran, transposed and sliced
inputs; gradients of gradients; and PyTorch's results and errors at singular,
ill-conditioned, empty, integer and NaN inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from strategies import Layout
from torch_compare import assert_same, outcome

import tensorgrad as tg
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(31)
NAN = float("nan")
INF = float("inf")


def _r(*shape):
    return RNG.standard_normal(shape)


def _well(*shape):
    """Square matrices far from singular."""
    return _r(*shape) + 3 * np.eye(shape[-1])


def _layout(kind: str, ndim: int) -> Layout:
    identity, ones = tuple(range(ndim)), (1,) * ndim
    if kind == "transposed":  # (the last two dims swapped in memory)
        return Layout(kind, "C", (*identity[:-2], ndim - 1, ndim - 2), ones)
    if kind == "sliced":  # every other entry of the last dim, every other matrix
        return Layout(kind, "C", identity, (2,) * (ndim - 2) + (1, 2))
    return Layout(kind, kind, identity, ones)


def _lu_used(m, a):
    p, low, up = m.linalg.lu(a)
    return low.sum(-1, keepdim=True) * up.sum(-2, keepdim=True) + p.sum()


def _qr_used(m, a, mode="reduced"):
    q, r = m.linalg.qr(a, mode=mode)
    return q.sum(-1, keepdim=True) * r.sum(-2, keepdim=True)


# name -> (the arrays, a function of one library's module and those tensors)
CASES = {
    "solve_triangular upper": ([_well(2, 4, 4), _r(2, 4, 3)],
                               lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True)),
    "solve_triangular lower, broadcast": ([_well(4, 4), _r(2, 4, 3)],
                                          lambda m, a, b: m.linalg.solve_triangular(
                                              a, b, upper=False)),
    "solve_triangular left=False, unit": ([_r(2, 3, 3), _r(2, 4, 3)],
                                          lambda m, a, b: m.linalg.solve_triangular(
                                              a, b, upper=True, left=False, unitriangular=True)),
    "lu square": ([_r(2, 4, 4)], _lu_used),
    "lu wide": ([_r(2, 3, 5)], _lu_used),
    "lu tall": ([_r(5, 3)], _lu_used),
    "lu_factor": ([_r(2, 4, 4)], lambda m, a: m.linalg.lu_factor(a).LU),
    "lu_factor_ex tall": ([_r(5, 3)], lambda m, a: m.linalg.lu_factor_ex(a).LU),
    "lu_solve": ([_well(2, 4, 4), _r(2, 4, 3)],
                 lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b)),
    "lu_solve adjoint": ([_well(4, 4), _r(2, 4, 3)],
                         lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b,
                                                           adjoint=True)),
    "lu_solve left=False": ([_well(2, 4, 4), _r(2, 3, 4)],
                            lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b,
                                                              left=False)),
    "lu_solve left=False, adjoint": ([_well(2, 4, 4), _r(2, 3, 4)],
                                     lambda m, a, b: m.linalg.lu_solve(
                                         *m.linalg.lu_factor(a), b, left=False, adjoint=True)),
    "qr tall": ([_r(2, 5, 3)], _qr_used),
    "qr square": ([_r(4, 4)], _qr_used),
    "qr wide": ([_r(2, 3, 5)], _qr_used),
    "qr complete, wide": ([_r(3, 5)], lambda m, a: _qr_used(m, a, "complete")),
    "qr complete, square": ([_r(3, 3)], lambda m, a: _qr_used(m, a, "complete")),
    "pinv tall": ([_r(2, 5, 3)], lambda m, a: m.linalg.pinv(a)),
    "pinv wide": ([_r(3, 5)], lambda m, a: m.linalg.pinv(a)),
    "pinv hermitian": ([_r(2, 4, 4)], lambda m, a: m.linalg.pinv(a, hermitian=True)),
    "pinv rtol": ([_r(4, 3)], lambda m, a: m.linalg.pinv(a, rtol=0.5)),
    "pinv atol": ([_r(4, 3)], lambda m, a: m.linalg.pinv(a, atol=1.0)),
    "lstsq": ([_r(2, 5, 3), _r(2, 5, 2)], lambda m, a, b: m.linalg.lstsq(a, b).solution),
    "lstsq wide": ([_r(3, 5), _r(3, 2)], lambda m, a, b: m.linalg.lstsq(a, b).solution),
    "lstsq gelsd, residuals": ([_r(2, 5, 3), _r(2, 5, 2)],
                               lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd").residuals),
    "lstsq gelss, a vector": ([_r(5, 3), _r(5)],
                              lambda m, a, b: m.linalg.lstsq(a, b, driver="gelss").solution),
    "cond": ([_r(2, 3, 3)], lambda m, a: m.linalg.cond(a)),
    "cond -2, not square": ([_r(4, 3)], lambda m, a: m.linalg.cond(a, -2)),
    "matrix_exp": ([_r(2, 4, 4)], lambda m, a: m.linalg.matrix_exp(a)),
    "matrix_exp, a large norm": ([4 * _r(3, 3)], lambda m, a: m.linalg.matrix_exp(a)),
    "inv_ex": ([_well(2, 3, 3)], lambda m, a: m.linalg.inv_ex(a).inverse),
    "solve_ex": ([_well(2, 3, 3), _r(2, 3)], lambda m, a, b: m.linalg.solve_ex(a, b).result),
    "cholesky_ex": ([_r(2, 3, 3)], lambda m, a: m.linalg.cholesky_ex(
        a @ a.mT + 3 * m.eye(3, dtype=a.dtype)).L),
    "householder_product": ([_r(2, 5, 3), _r(2, 3)],
                            lambda m, a, t: m.linalg.householder_product(a, t)),
    "householder_product, fewer reflectors": ([_r(4, 4), _r(2)],
                                              lambda m, a, t: m.linalg.householder_product(a, t)),
    "multi_dot": ([_r(3), _r(3, 4), _r(4, 2), _r(2)],
                  lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d])),
    "multi_dot of matrices": ([_r(2, 3), _r(3, 4), _r(4, 2)],
                              lambda m, a, b, c: m.linalg.multi_dot([a, b, c])),
    "vecdot": ([_r(2, 3), _r(3)], lambda m, a, b: m.linalg.vecdot(a, b)),
    "vecdot dim 0": ([_r(3, 2), _r(3, 2)], lambda m, a, b: m.linalg.vecdot(a, b, dim=0)),
    "cross": ([_r(2, 3), _r(1, 3)], lambda m, a, b: m.linalg.cross(a, b)),
    "cross dim 0": ([_r(3, 2), _r(3, 2)], lambda m, a, b: m.linalg.cross(a, b, dim=0)),
    "matmul": ([_r(2, 3, 4), _r(4, 2)], lambda m, a, b: m.linalg.matmul(a, b)),
    "diagonal": ([_r(2, 3, 4)], lambda m, a: m.linalg.diagonal(a, offset=1)),
    "vander": ([np.array([[0.0, 1.5, -2.0], [3.0, 0.5, 1.0]])],
               lambda m, a: m.linalg.vander(a, N=4)),
    "tensorinv": ([_r(4, 6, 8, 3)], lambda m, a: m.linalg.tensorinv(a, 2)),
    "tensorsolve": ([_r(2, 3, 6), _r(2, 3)], lambda m, a, b: m.linalg.tensorsolve(a, b)),
    "tensorsolve dims": ([_r(6, 2, 3), _r(2, 3)],
                         lambda m, a, b: m.linalg.tensorsolve(a, b, dims=(0,))),
}


def _run(m, call, tensors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(m, *tensors)


@pytest.mark.parametrize("layout", ["C", "F", "transposed", "sliced"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_are_pytorchs(name, dtype, layout):
    arrays, call = CASES[name]
    rtol = 1e-8 if dtype == np.float64 else 1e-3  # (another LAPACK's rounding)
    arrays = [a.astype(dtype) for a in arrays]
    layouts = [_layout(layout if a.ndim >= 2 else "C", a.ndim) for a in arrays]
    leaves = [Tensor(lay.leaf_for(a, 7.0), requires_grad=True) for lay, a in zip(layouts, arrays)]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = _run(tg, call, [lay.view(x) for lay, x in zip(layouts, leaves)])
    expected = _run(torch, call, theirs)
    assert_same(out, expected, f"{name}: output", rtol)
    weights = np.random.default_rng(5).standard_normal(tuple(expected.shape)).astype(dtype)
    (out * Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i, (lay, leaf, their) in enumerate(zip(layouts, leaves, theirs)):
        wanted = np.zeros_like(leaf.detach().numpy())  # (entries outside the view: none)
        lay.view(wanted)[...] = 0 if their.grad is None else their.grad.numpy()
        assert_same(leaf.grad, wanted, f"{name}: gradient of argument {i}", rtol)


# name -> (the arrays, a function): gradients of gradients held against PyTorch's
TWICE = {
    "solve_triangular": ([_well(3, 3), _r(3, 2)],
                         lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True)),
    "lu": ([_r(3, 3)], _lu_used),
    "lu wide": ([_r(3, 5)], _lu_used),
    "lu tall": ([_r(5, 3)], _lu_used),
    "lu_solve": ([_well(3, 3), _r(3, 2)],
                 lambda m, a, b: m.linalg.lu_solve(*m.linalg.lu_factor(a), b)),
    "qr": ([_r(5, 3)], _qr_used),
    "qr wide": ([_r(3, 5)], _qr_used),
    "pinv": ([_r(5, 3)], lambda m, a: m.linalg.pinv(a)),
    "lstsq": ([_r(5, 3), _r(5, 2)], lambda m, a, b: m.linalg.lstsq(a, b).solution),
    "matrix_exp": ([_r(3, 3)], lambda m, a: m.linalg.matrix_exp(a)),
    "inv_ex": ([_well(3, 3)], lambda m, a: m.linalg.inv_ex(a).inverse),
    "vander": ([_r(4)], lambda m, a: m.linalg.vander(a)),
    "householder_product": ([_r(4, 3), _r(2)], lambda m, a, t: m.linalg.householder_product(a, t)),
}


@pytest.mark.parametrize("name", list(TWICE))
def test_gradients_of_gradients_are_pytorchs(name):
    arrays, call = TWICE[name]
    found = []
    for m in (tg, torch):
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        out = call(m, *xs)
        weights = m.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        grads = m.autograd.grad((out * weights).sum(), xs, create_graph=True)
        total = sum((g * g).sum() for g in grads)
        found.append(m.autograd.grad(total, xs))
    for i, (ours, theirs) in enumerate(zip(*found)):
        assert_same(ours, theirs, f"{name}: second gradient of argument {i}", 1e-7)


def _t(m, x, **kwargs):
    return m.tensor(x, **kwargs)


SINGULAR = [[1.0, 2.0], [2.0, 4.0]]
HILBERT = [[1.0 / (i + j + 1) for j in range(6)] for i in range(6)]  # cond ~ 1.5e7


def _pair(m):
    return m.stack([m.eye(2), _t(m, SINGULAR)])


# name -> a function of one library's module: its results, or its error
SPECIAL = {
    "lu_factor, singular": lambda m: m.linalg.lu_factor(_t(m, SINGULAR)),
    "lu_factor, singular in a batch": lambda m: m.linalg.lu_factor(_pair(m)),
    "lu_factor_ex, singular": lambda m: m.linalg.lu_factor_ex(_t(m, SINGULAR)),
    "lu_factor_ex, zeros": lambda m: m.linalg.lu_factor_ex(m.zeros(2, 3, 3)),
    "lu_factor_ex, check_errors": lambda m: m.linalg.lu_factor_ex(_t(m, SINGULAR),
                                                                  check_errors=True),
    "lu, singular": lambda m: m.linalg.lu(_t(m, SINGULAR)),
    "lu, rank 1, tall": lambda m: m.linalg.lu(m.ones(4, 2)),
    "lu without pivoting": lambda m: m.linalg.lu(m.eye(2), pivot=False),
    "lu_factor without pivoting": lambda m: m.linalg.lu_factor(m.eye(2), pivot=False),
    "lu of an empty batch": lambda m: m.linalg.lu(m.zeros(0, 3, 3)),
    "lu of 0 rows": lambda m: m.linalg.lu(m.zeros(0, 3)),
    "lu of 0 columns": lambda m: m.linalg.lu(m.zeros(3, 0)),
    "lu_factor of 0x0": lambda m: m.linalg.lu_factor(m.zeros(2, 0, 0)),
    "lu of integers": lambda m: m.linalg.lu(_t(m, [[1, 2], [3, 4]])),
    "lu of a vector": lambda m: m.linalg.lu(m.ones(3)),
    "lu with NaN": lambda m: m.linalg.lu(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "lu of the Hilbert matrix": lambda m: m.linalg.lu(_t(m, HILBERT)),
    "lu in float32": lambda m: m.linalg.lu(_t(m, HILBERT, dtype=m.float32)),
    "lu_solve, shapes": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(2)), m.ones(3, 1)),
    "lu_solve, a vector": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(2)), m.ones(2)),
    "lu_solve, int64 pivots": lambda m: m.linalg.lu_solve(m.eye(2), m.ones(2, dtype=m.int64),
                                                          m.ones(2, 1)),
    "lu_solve with NaN": lambda m: m.linalg.lu_solve(*m.linalg.lu_factor(m.eye(2)),
                                                     _t(m, [[NAN], [1.0]])),
    "lu_solve, broadcast": lambda m: m.linalg.lu_solve(
        *m.linalg.lu_factor(m.eye(2) + m.ones(3, 2, 2)), m.ones(2, 1)),
    "inv_ex, singular": lambda m: m.linalg.inv_ex(_t(m, SINGULAR)),
    "inv_ex, zeros": lambda m: m.linalg.inv_ex(m.zeros(2, 2)),
    "inv_ex, check_errors": lambda m: m.linalg.inv_ex(_t(m, SINGULAR), check_errors=True),
    "inv_ex, check_errors in a batch": lambda m: m.linalg.inv_ex(_pair(m), check_errors=True),
    "inv_ex of an empty batch": lambda m: m.linalg.inv_ex(m.zeros(0, 2, 2)),
    "inv_ex with NaN": lambda m: m.linalg.inv_ex(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "solve_ex, singular": lambda m: m.linalg.solve_ex(_t(m, SINGULAR), m.ones(2)),
    "solve_ex, check_errors": lambda m: m.linalg.solve_ex(_t(m, SINGULAR), m.ones(2),
                                                          check_errors=True),
    "solve_ex, singular in a batch": lambda m: m.linalg.solve_ex(_pair(m), m.ones(2, 2, 3)),
    "cholesky_ex, not positive-definite": lambda m: m.linalg.cholesky_ex(
        _t(m, [[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])),
    "cholesky_ex, upper": lambda m: m.linalg.cholesky_ex(
        _t(m, [[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), upper=True),
    "cholesky_ex, negative": lambda m: m.linalg.cholesky_ex(-m.eye(3)),
    "cholesky_ex, failing late": lambda m: m.linalg.cholesky_ex(
        _t(m, np.diag([4.0, 3.0, 2.0, 1.0, -1.0, 2.0, 3.0]) + 0.1)),
    "cholesky_ex, check_errors": lambda m: m.linalg.cholesky_ex(-m.eye(3), check_errors=True),
    "cholesky_ex in a batch": lambda m: m.linalg.cholesky_ex(m.stack([m.eye(2), -m.eye(2)])),
    "cholesky_ex with NaN": lambda m: m.linalg.cholesky_ex(_t(m, [[4.0, 0.0], [NAN, 1.0]])),
    "cholesky_ex of an empty batch": lambda m: m.linalg.cholesky_ex(m.zeros(0, 2, 2)),
    "qr of 0 rows": lambda m: m.linalg.qr(m.zeros(0, 3)),
    "qr complete of 0 columns": lambda m: m.linalg.qr(m.zeros(2, 3, 0), mode="complete"),
    "qr of an empty batch": lambda m: m.linalg.qr(m.zeros(0, 3, 2)),
    "qr, mode": lambda m: m.linalg.qr(m.eye(2), mode="full"),
    "qr with NaN": lambda m: m.linalg.qr(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "qr of integers": lambda m: m.linalg.qr(_t(m, [[1, 2], [3, 4]])),
    "qr, singular": lambda m: m.linalg.qr(_t(m, SINGULAR)),
    "qr of the Hilbert matrix": lambda m: m.linalg.qr(_t(m, HILBERT)),
    "qr mode r": lambda m: m.linalg.qr(_t(m, HILBERT), mode="r"),
    "qr in float32": lambda m: m.linalg.qr(_t(m, HILBERT, dtype=m.float32)),
    "pinv, singular": lambda m: m.linalg.pinv(_t(m, SINGULAR)),
    "pinv of zeros": lambda m: m.linalg.pinv(m.zeros(2, 3)),
    "pinv of 0 rows": lambda m: m.linalg.pinv(m.zeros(0, 3)),
    "pinv of an empty batch": lambda m: m.linalg.pinv(m.zeros(0, 3, 2)),
    "pinv with NaN": lambda m: m.linalg.pinv(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "pinv, atol": lambda m: m.linalg.pinv(_t(m, [[3.0, 0.0], [0.0, 0.5]]), atol=1.0),
    "pinv, rtol": lambda m: m.linalg.pinv(_t(m, [[3.0, 0.0], [0.0, 0.5]]), rtol=0.2),
    "pinv, atol per matrix": lambda m: m.linalg.pinv(m.stack([m.eye(2), 2 * m.eye(2)]),
                                                     atol=_t(m, [0.5, 3.0])),
    "pinv hermitian, negative": lambda m: m.linalg.pinv(_t(m, [[-3.0, 0.0], [0.0, 0.5]]),
                                                        hermitian=True),
    "pinv of integers": lambda m: m.linalg.pinv(_t(m, [[1, 2], [3, 4]])),
    "pinv of a vector": lambda m: m.linalg.pinv(m.ones(3)),
    "pinv of the Hilbert matrix": lambda m: m.linalg.pinv(_t(m, HILBERT)),
    "matrix_rank of 0 rows": lambda m: m.linalg.matrix_rank(m.zeros(2, 0, 3)),
    "matrix_rank with NaN": lambda m: m.linalg.matrix_rank(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "matrix_rank of zeros": lambda m: m.linalg.matrix_rank(m.zeros(3, 3)),
    "matrix_rank, singular": lambda m: m.linalg.matrix_rank(_t(m, SINGULAR)),
    "matrix_rank, tol": lambda m: m.linalg.matrix_rank(_t(m, [[3.0, 0.0], [0.0, 0.5]]), tol=1.0),
    "matrix_rank, hermitian rtol": lambda m: m.linalg.matrix_rank(
        _t(m, [[3.0, 0.0], [0.0, -0.5]]), rtol=0.1, hermitian=True),
    "matrix_rank of integers": lambda m: m.linalg.matrix_rank(_t(m, [[1, 2], [3, 4]])),
    "matrix_rank of the Hilbert matrix": lambda m: m.linalg.matrix_rank(_t(m, HILBERT)),
    "matrix_rank, float32 Hilbert": lambda m: m.linalg.matrix_rank(_t(m, HILBERT,
                                                                      dtype=m.float32)),
    "lstsq, rank-deficient": lambda m: m.linalg.lstsq(_t(m, [[1.0, 2.0], [2.0, 4.0],
                                                             [3.0, 6.0]]), m.ones(3, 1)),
    "lstsq gelsd, rank-deficient": lambda m: m.linalg.lstsq(
        _t(m, [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), m.ones(3, 1), driver="gelsd"),
    "lstsq gels": lambda m: m.linalg.lstsq(_t(m, HILBERT)[:, :4], m.ones(6, 2), driver="gels"),
    "lstsq gelss": lambda m: m.linalg.lstsq(_t(m, HILBERT)[:, :4], m.ones(6, 2),
                                            driver="gelss"),
    "lstsq, driver": lambda m: m.linalg.lstsq(m.eye(2), m.ones(2, 1), driver="gelsx"),
    "lstsq, dtypes": lambda m: m.linalg.lstsq(m.eye(2), m.ones(2, 1, dtype=m.float32)),
    "lstsq, shapes": lambda m: m.linalg.lstsq(m.eye(2), m.ones(3, 1)),
    "lstsq of an empty batch": lambda m: m.linalg.lstsq(m.zeros(0, 3, 2), m.zeros(0, 3, 1)),
    "lstsq, rcond": lambda m: m.linalg.lstsq(_t(m, [[3.0, 0.0], [0.0, 0.01], [0.0, 0.0]]),
                                             m.ones(3, 1), rcond=0.1, driver="gelsd"),
    "lstsq, broadcast": lambda m: m.linalg.lstsq(m.ones(2, 1, 3, 2) + m.eye(3, 2),
                                                 m.ones(4, 3, 1)),
    "lstsq gelss, broadcast": lambda m: m.linalg.lstsq(m.ones(2, 1, 3, 2) + m.eye(3, 2),
                                                       m.ones(4, 3, 1), driver="gelss"),
    "cond fro, singular": lambda m: m.linalg.cond(_t(m, SINGULAR), "fro"),
    "cond nuc, singular": lambda m: m.linalg.cond(m.diag(_t(m, [1.0, 0.0])), "nuc"),
    "cond nuc of zeros": lambda m: m.linalg.cond(m.zeros(2, 2), "nuc"),
    "cond nuc of the Hilbert matrix": lambda m: m.linalg.cond(_t(m, HILBERT), "nuc"),
    "cond inf, singular in a batch": lambda m: m.linalg.cond(_pair(m), INF),
    "cond -2 of zeros": lambda m: m.linalg.cond(m.zeros(2, 2), -2),
    "cond, an order": lambda m: m.linalg.cond(m.eye(2), 3),
    "cond 1, not square": lambda m: m.linalg.cond(m.ones(2, 3), 1),
    "cond of 0x0": lambda m: m.linalg.cond(m.zeros(0, 0)),
    "cond fro of 0x0": lambda m: m.linalg.cond(m.zeros(2, 0, 0), "fro"),
    "cond of an empty batch": lambda m: m.linalg.cond(m.zeros(0, 2, 2), "fro"),
    "cond 1 with NaN": lambda m: m.linalg.cond(_t(m, [[1.0, NAN], [2.0, 4.0]]), 1),
    "cond with NaN": lambda m: m.linalg.cond(_t(m, [[1.0, NAN], [2.0, 4.0]])),
    "cond of integers": lambda m: m.linalg.cond(_t(m, [[1, 2], [3, 4]])),
    "cond of the Hilbert matrix": lambda m: m.linalg.cond(_t(m, HILBERT)),
    "cond -inf of the Hilbert matrix": lambda m: m.linalg.cond(_t(m, HILBERT), -INF),
    "solve_triangular, a vector": lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(2),
                                                                      upper=True),
    "solve_triangular, shapes": lambda m: m.linalg.solve_triangular(m.eye(2), m.ones(3, 1),
                                                                    upper=True),
    "solve_triangular, dtypes promote": lambda m: m.linalg.solve_triangular(
        m.eye(2), m.ones(2, 1, dtype=m.float32), upper=True),
    "solve_triangular of an empty batch": lambda m: m.linalg.solve_triangular(
        m.zeros(0, 2, 2), m.zeros(0, 2, 1), upper=True),
    "solve_triangular, NaN off the triangle": lambda m: m.linalg.solve_triangular(
        _t(m, [[1.0, 3.0], [NAN, 2.0]]), m.ones(2, 1), upper=True),
    "solve_triangular, NaN in it": lambda m: m.linalg.solve_triangular(
        _t(m, [[1.0, NAN], [0.0, 2.0]]), m.ones(2, 1), upper=True),
    "solve_triangular, NaN in B": lambda m: m.linalg.solve_triangular(
        _t(m, [[1.0, 3.0], [0.0, 2.0]]), _t(m, [[NAN, 1.0], [1.0, 1.0]]), upper=True),
    "solve_triangular of integers": lambda m: m.linalg.solve_triangular(
        _t(m, [[1, 3], [0, 2]]), _t(m, [[1], [1]]), upper=True),
    "matrix_exp with NaN": lambda m: m.linalg.matrix_exp(_t(m, [[NAN, 1.0], [0.0, 1.0]])),
    "matrix_exp with inf": lambda m: m.linalg.matrix_exp(_t(m, [[INF, 1.0], [0.0, 1.0]])),
    "matrix_exp of an empty batch": lambda m: m.linalg.matrix_exp(m.zeros(0, 2, 2)),
    "matrix_exp of 0x0": lambda m: m.linalg.matrix_exp(m.zeros(0, 0)),
    "matrix_exp of integers": lambda m: m.linalg.matrix_exp(_t(m, [[1, 2], [3, 4]])),
    "matrix_exp, not square": lambda m: m.linalg.matrix_exp(m.ones(2, 3)),
    "matrix_exp in float32": lambda m: m.linalg.matrix_exp(_t(m, [[1.0, 2.0], [3.0, 4.0]],
                                                              dtype=m.float32)),
    "matrix_exp, stiff": lambda m: m.linalg.matrix_exp(_t(m, [[10.0, 2.0], [3.0, -20.0]])),
    "matrix_exp of 1x1": lambda m: m.linalg.matrix_exp(_t(m, [[2.0]])),
    "multi_dot of one": lambda m: m.linalg.multi_dot([m.eye(2)]),
    "multi_dot of 3-D": lambda m: m.linalg.multi_dot([m.eye(2), m.ones(2, 2, 2)]),
    "multi_dot, a vector inside": lambda m: m.linalg.multi_dot([m.eye(2), m.ones(2), m.eye(2)]),
    "multi_dot, shapes": lambda m: m.linalg.multi_dot([m.eye(2), m.ones(3, 2)]),
    "multi_dot of two vectors": lambda m: m.linalg.multi_dot([m.ones(2), m.ones(2)]),
    "multi_dot, dtypes": lambda m: m.linalg.multi_dot([m.ones(2), m.ones(2, dtype=m.float32)]),
    "multi_dot of integers": lambda m: m.linalg.multi_dot([m.ones(2, 2, dtype=m.int64),
                                                           m.ones(2, 2, dtype=m.int64)]),
    "multi_dot, empty": lambda m: m.linalg.multi_dot([m.ones(2, 0), m.ones(0, 2)]),
    "multi_dot with NaN": lambda m: m.linalg.multi_dot([_t(m, [NAN, 1.0]), m.eye(2)]),
    "vecdot, dtypes": lambda m: m.linalg.vecdot(m.ones(2), m.ones(2, dtype=m.float32)),
    "vecdot of integers": lambda m: m.linalg.vecdot(_t(m, [1, 2]), _t(m, [3, 4])),
    "vecdot with NaN": lambda m: m.linalg.vecdot(_t(m, [NAN, 1.0]), _t(m, [0.0, 1.0])),
    "vecdot of empty vectors": lambda m: m.linalg.vecdot(m.zeros(2, 0), m.zeros(2, 0)),
    "cross of 2-vectors": lambda m: m.linalg.cross(m.ones(2), m.ones(2)),
    "cross, dims": lambda m: m.linalg.cross(m.ones(3), m.ones(2, 3)),
    "cross of integers": lambda m: m.linalg.cross(_t(m, [1, 2, 3]), _t(m, [4, 5, 7])),
    "cross with NaN": lambda m: m.linalg.cross(_t(m, [NAN, 2.0, 3.0]), _t(m, [4.0, 5.0, 7.0])),
    "vander of integers": lambda m: m.linalg.vander(_t(m, [1, 2, 3])),
    "vander, N 1": lambda m: m.linalg.vander(_t(m, [1.0, 2.0, 3.0]), N=1),
    "vander of 0-d": lambda m: m.linalg.vander(_t(m, 2.0)),
    "vander of 0-d, N 3": lambda m: m.linalg.vander(_t(m, 2.0), N=3),
    "lu_solve of an empty batch": lambda m: m.linalg.lu_solve(
        *m.linalg.lu_factor(m.zeros(0, 2, 2)), m.zeros(0, 2, 1)),
    "vander of booleans": lambda m: m.linalg.vander(_t(m, [True, False])),
    "vander in float32": lambda m: m.linalg.vander(_t(m, [1.0, 2.0], dtype=m.float32), N=3),
    "vander with NaN": lambda m: m.linalg.vander(_t(m, [1.0, NAN]), N=3),
    "tensorinv, shapes": lambda m: m.linalg.tensorinv(m.ones(2, 3), 1),
    "tensorinv, ind 0": lambda m: m.linalg.tensorinv(m.ones(2, 2), 0),
    "tensorinv, singular": lambda m: m.linalg.tensorinv(m.zeros(2, 2, 4), 1),
    "tensorsolve, shapes": lambda m: m.linalg.tensorsolve(m.ones(2, 3, 4), m.ones(2)),
    "householder_product, wide": lambda m: m.linalg.householder_product(m.ones(2, 3), m.ones(2)),
    "householder_product, tau too long": lambda m: m.linalg.householder_product(m.ones(3, 2),
                                                                                 m.ones(3)),
    "householder_product, batches": lambda m: m.linalg.householder_product(m.ones(2, 3, 2),
                                                                           m.ones(3, 2)),
    "householder_product, 0-d tau": lambda m: m.linalg.householder_product(m.ones(3, 2),
                                                                           _t(m, 1.0)),
    "householder_product, no reflector": lambda m: m.linalg.householder_product(m.ones(3, 2),
                                                                                m.ones(0)),
    "householder_product of an empty batch": lambda m: m.linalg.householder_product(
        m.ones(0, 3, 2), m.ones(0, 2)),
    "householder_product with NaN": lambda m: m.linalg.householder_product(
        _t(m, [[1.0, 2.0], [NAN, 1.0], [3.0, 4.0]]), _t(m, [0.5, 1.0])),
}


def _outcome(m, call):
    out = outcome(m, call)
    if isinstance(out, str):  # an error's kind
        return out
    return tuple(out) if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_inputs_and_errors_are_pytorchs(name, torch_float64_default):
    ours, theirs = _outcome(tg, SPECIAL[name]), _outcome(torch, SPECIAL[name])
    if isinstance(theirs, str) or isinstance(ours, str):
        assert ours == theirs
        return
    assert len(ours) == len(theirs)
    for i, (mine, yours) in enumerate(zip(ours, theirs)):
        rtol = 1e-3 if mine.dtype == np.float32 else 1e-7  # (ill-conditioned: loose)
        assert_same(mine, yours, f"{name}, result {i}", rtol)


def test_the_error_messages_are_pytorchs(torch_float64_default):
    """Where a message says which matrix and why, it is PyTorch's, word for word."""
    calls = [lambda m: m.linalg.lu_factor(_pair(m)),
             lambda m: m.linalg.inv(_pair(m)),
             lambda m: m.linalg.inv(m.zeros(2, 2)),
             lambda m: m.linalg.solve(_pair(m), m.ones(2, 2)),
             lambda m: m.linalg.solve_ex(_pair(m), m.ones(2, 2), check_errors=True),
             lambda m: m.linalg.cholesky_ex(m.stack([m.eye(2), -m.eye(2)]), check_errors=True),
             lambda m: m.linalg.lu_factor_ex(_pair(m), check_errors=True),
             lambda m: m.linalg.lu_solve(m.eye(2), m.ones(2, dtype=m.int64), m.ones(2, 1)),
             lambda m: m.linalg.lu_solve(m.eye(2), m.ones(3, dtype=m.int32), m.ones(2, 1)),
             lambda m: m.linalg.lu_solve(m.eye(2).expand(3, 2, 2), m.ones(1, 2, dtype=m.int32),
                                         m.ones(2, 1)),
             lambda m: m.linalg.multi_dot([m.eye(2), m.ones(3, 2)]),
             lambda m: m.linalg.householder_product(m.ones(3, 2), m.ones(2, dtype=m.float32)),
             lambda m: m.linalg.inv_ex(_pair(m), check_errors=True),
             lambda m: m.linalg.cholesky_ex(_t(m, [[1.0, 2.0], [2.0, 1.0]]), check_errors=True),
             lambda m: m.linalg.lu(m.eye(2), pivot=False),
             lambda m: m.linalg.qr(m.eye(2), mode="full")]
    for call in calls:
        messages = []
        for m in (tg, torch):
            with pytest.raises(RuntimeError) as caught:
                call(m)
            messages.append(str(caught.value))
        assert messages[0] == messages[1]


def test_the_gradients_pytorch_refuses_are_refused():
    for m in (tg, torch):
        x = m.tensor(_r(4, 3), requires_grad=True)
        with pytest.raises(RuntimeError, match="mode='r'"):
            m.linalg.qr(x, mode="r").R.sum().backward()
        with pytest.raises(RuntimeError, match="mode='complete' and nrows > ncols"):
            m.linalg.qr(x, mode="complete").Q.sum().backward()


def test_the_named_tuples_are_pytorchs():
    a = _well(3, 3)
    pairs = [("lu", lambda m, x: m.linalg.lu(x)),
             ("lu_factor", lambda m, x: m.linalg.lu_factor(x)),
             ("lu_factor_ex", lambda m, x: m.linalg.lu_factor_ex(x)),
             ("qr", lambda m, x: m.linalg.qr(x)), ("inv_ex", lambda m, x: m.linalg.inv_ex(x)),
             ("solve_ex", lambda m, x: m.linalg.solve_ex(x, x)),
             ("cholesky_ex", lambda m, x: m.linalg.cholesky_ex(x @ x.mT)),
             ("lstsq", lambda m, x: m.linalg.lstsq(x, x))]
    for name, call in pairs:
        ours, theirs = call(tg, tg.tensor(a)), call(torch, torch.tensor(a))
        assert ours._fields == type(theirs).__match_args__, name
