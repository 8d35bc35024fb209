"""The rest of torch.linalg (linalg.py's second half) without PyTorch: the identities that
define each result (Q R = A, P L U = A, pinv's four Penrose equations, exp(A) exp(-A) = I,
...), in both float dtypes and in C, Fortran, transposed and sliced layouts, and gradients
and gradients of gradients against central finite differences (``gradcheck``)."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor, gradcheck
from tests.strategies import MATRIX_LAYOUTS, matrices_laid_out

RNG = np.random.default_rng(29)
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-4}


def _r(*shape):
    return RNG.standard_normal(shape)


def _close(got, wanted, tol):
    got = got.numpy() if isinstance(got, Tensor) else got
    wanted = wanted.numpy() if isinstance(wanted, Tensor) else wanted
    np.testing.assert_allclose(got, np.broadcast_to(wanted, got.shape), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
@pytest.mark.parametrize("shape", [(2, 4, 4), (5, 3), (2, 3, 5)])
def test_qr_and_lu_rebuild_their_matrix(dtype, layout, shape):
    tol = TOLERANCE[dtype] * 10
    a = matrices_laid_out(_r(*shape).astype(dtype), layout)
    m, n = shape[-2:]
    k = min(m, n)
    for mode in ("reduced", "complete"):
        q, r = tg.linalg.qr(a, mode=mode)
        columns = m if mode == "complete" else k
        assert q.shape == (*shape[:-2], m, columns) and r.shape == (*shape[:-2], columns, n)
        assert q.dtype == r.dtype == dtype
        _close(q @ r, a, tol)
        _close(q.mT @ q, np.eye(columns), tol)
        assert (np.tril(r.numpy(), -1) == 0).all()
    q, r_only = tg.linalg.qr(a, mode="r")
    assert q.shape == (0,)
    _close(r_only, tg.linalg.qr(a).R, tol)
    p, low, up = tg.linalg.lu(a)
    assert low.shape == (*shape[:-2], m, k) and up.shape == (*shape[:-2], k, n)
    _close(p @ low @ up, a, tol)
    assert (np.triu(low.numpy(), 1) == 0).all() and (np.tril(up.numpy(), -1) == 0).all()
    _close(low.diagonal(dim1=-2, dim2=-1), 1.0, 0)
    assert (np.abs(low.numpy()) <= 1 + tol).all()  # partial pivoting: no entry above 1
    packed, pivots, info = tg.linalg.lu_factor_ex(a)
    assert pivots.dtype == info.dtype == np.int32 and (info.numpy() == 0).all()
    assert pivots.shape == (*shape[:-2], k) and packed.shape == a.shape
    _close(packed.tril(-1)[..., :, :k], low.tril(-1), 0)
    _close(packed.triu()[..., :k, :], up, 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_the_solvers_solve(dtype, layout):
    tol = TOLERANCE[dtype] * 100
    a = matrices_laid_out((_r(2, 4, 4) + 4 * np.eye(4)).astype(dtype), layout)
    b = Tensor(_r(2, 4, 3).astype(dtype))
    for upper in (True, False):
        for unit in (True, False):
            t = a.triu() if upper else a.tril()
            if unit:
                t = t - t.diagonal(dim1=-2, dim2=-1).diag_embed() + tg.eye(4, dtype=dtype)
            x = tg.linalg.solve_triangular(a, b, upper=upper, unitriangular=unit)
            _close(t @ x, b, tol)
            y = tg.linalg.solve_triangular(a, b.mT, upper=upper, left=False,
                                           unitriangular=unit)
            _close(y @ t, b.mT, tol)
    factors = tg.linalg.lu_factor(a)
    _close(a @ tg.linalg.lu_solve(*factors, b), b, tol)
    _close(a.mT @ tg.linalg.lu_solve(*factors, b, adjoint=True), b, tol)
    _close(tg.linalg.lu_solve(*factors, b.mT, left=False) @ a, b.mT, tol)
    _close(tg.linalg.lu_solve(*factors, b.mT, left=False, adjoint=True) @ a.mT, b.mT, tol)
    inverse, info = tg.linalg.inv_ex(a)
    _close(inverse @ a, np.eye(4), tol)
    assert info.dtype == np.int32 and info.shape == (2,) and not info.numpy().any()
    x, info = tg.linalg.solve_ex(a, b)
    _close(a @ x, b, tol)
    spd = a @ a.mT + tg.eye(4, dtype=dtype)
    low, info = tg.linalg.cholesky_ex(spd)
    _close(low @ low.mT, spd, tol)
    _close(tg.linalg.cholesky_ex(spd, upper=True).L, low.mT, 0)
    _close(tg.linalg.tensorsolve(a[0].reshape(2, 2, 4), b[0, :, 0].reshape(2, 2)),
           tg.linalg.solve(a[0], b[0, :, 0]), tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_pinv_lstsq_rank_and_cond(dtype, layout):
    tol = TOLERANCE[dtype] * 100
    full = matrices_laid_out(_r(2, 5, 3).astype(dtype), layout)
    low_rank = Tensor((_r(5, 2) @ _r(2, 4)).astype(dtype))
    for a in (full, low_rank, full.mT):
        p = tg.linalg.pinv(a)
        assert p.shape == (*a.shape[:-2], a.shape[-1], a.shape[-2])
        _close(a @ p @ a, a, tol)  # Penrose's four equations
        _close(p @ a @ p, p, tol)
        _close((a @ p).mT, a @ p, tol)
        _close((p @ a).mT, p @ a, tol)
    assert tg.linalg.matrix_rank(low_rank).item() == 2
    assert tg.linalg.matrix_rank(full).tolist() == [3, 3]
    assert tg.linalg.matrix_rank(full, atol=1e9).tolist() == [0, 0]
    symmetric = full.mT @ full
    _close(tg.linalg.pinv(symmetric, hermitian=True), tg.linalg.inv(symmetric), tol * 10)
    b = Tensor(_r(2, 5, 2).astype(dtype))
    solution, residuals, rank, values = tg.linalg.lstsq(full, b)
    _close(solution, tg.linalg.pinv(full) @ b, tol)
    _close(full.mT @ (full @ solution - b), 0.0, tol)  # the normal equations
    assert residuals.shape == values.shape == (0,) and rank.tolist() == [3, 3]
    got = tg.linalg.lstsq(full, b, driver="gelsd")
    _close(got.residuals, ((full @ got.solution - b) ** 2).sum(-2), tol)
    _close(got.singular_values, tg.linalg.svdvals(full), tol)
    square = matrices_laid_out((_r(3, 3) + 3 * np.eye(3)).astype(dtype), layout)
    s = tg.linalg.svdvals(square)
    _close(tg.linalg.cond(square), s[0] / s[-1], tol)
    _close(tg.linalg.cond(square, 1), tg.linalg.matrix_norm(square, 1)
           * tg.linalg.matrix_norm(tg.linalg.inv(square), 1), tol)
    assert tg.linalg.cond(tg.zeros(2, 2, dtype=dtype), "fro").item() == np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_matrix_exp(dtype, layout):
    tol = TOLERANCE[dtype] * 100
    a = matrices_laid_out(_r(2, 4, 4).astype(dtype), layout)
    e = tg.linalg.matrix_exp(a)
    assert e.dtype == dtype
    _close(e @ tg.linalg.matrix_exp(-a), np.eye(4), tol)
    _close(tg.linalg.matrix_exp(a / 2) @ tg.linalg.matrix_exp(a / 2), e, tol)
    diagonal = np.diag([1.0, -2.0, 30.0]).astype(dtype)
    _close(tg.linalg.matrix_exp(Tensor(diagonal)), np.diag(np.exp([1.0, -2.0, 30.0])), tol)
    nilpotent = Tensor(np.array([[0.0, 1.0], [0.0, 0.0]], dtype))
    _close(tg.linalg.matrix_exp(nilpotent), [[1.0, 1.0], [0.0, 1.0]], tol)
    assert np.isnan(tg.linalg.matrix_exp(Tensor(np.array([[np.nan, 0.0], [0.0, 1.0]],
                                                         dtype))).numpy()).all()


def test_the_composed_ones():
    x, y = Tensor(_r(2, 3)), Tensor(_r(3))
    _close(tg.linalg.vecdot(x, y), (x * y).sum(-1), 1e-12)
    _close(tg.linalg.cross(x, y.unsqueeze(0)), np.cross(x.numpy(), y.numpy()), 1e-12)
    _close(tg.linalg.matmul(x, y), x @ y, 0)
    m = _r(2, 3, 4)
    _close(tg.linalg.diagonal(Tensor(m), offset=1), np.diagonal(m, 1, -2, -1), 0)
    v = tg.linalg.vander(tg.tensor([2.0, 3.0, 0.0]))
    assert v.tolist() == [[1.0, 2.0, 4.0], [1.0, 3.0, 9.0], [1.0, 0.0, 0.0]]
    assert tg.linalg.vander(tg.tensor([2, 3]), N=3).tolist() == [[1, 2, 4], [1, 3, 9]]
    a, b, c = Tensor(_r(3)), Tensor(_r(3, 4)), Tensor(_r(4, 2))
    _close(tg.linalg.multi_dot([a, b, c]), a @ b @ c, 1e-12)
    a = _r(5, 3)  # reflectors with tau = 2 / |v|^2 make an orthonormal Q
    v = np.tril(a, -1) + np.eye(5, 3)
    q = tg.linalg.householder_product(Tensor(a), Tensor(2 / (v * v).sum(0)))
    _close(q.mT @ q, np.eye(3), 1e-12)
    t = Tensor(_r(4, 6, 8, 3) + 0)
    _close(tg.tensordot(t, tg.linalg.tensorinv(t, 2), 2).reshape(24, 24), np.eye(24), 1e-8)


def test_errors_and_special_matrices():
    singular = tg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(RuntimeError, match="U\\[2,2\\] is zero"):
        tg.linalg.lu_factor(singular)
    packed, pivots, info = tg.linalg.lu_factor_ex(singular)
    assert info.item() == 2 and pivots.tolist() == [2, 2]
    with pytest.raises(tg.linalg.LinAlgError, match="diagonal element 2 is zero"):
        tg.linalg.inv_ex(singular, check_errors=True)
    assert tg.linalg.inv_ex(tg.zeros(2, 2)).info.item() == 1
    with pytest.raises(tg.linalg.LinAlgError, match="Batch element 1"):
        tg.linalg.solve_ex(tg.stack([tg.eye(2), singular]), tg.ones(2, 2), check_errors=True)
    low, info = tg.linalg.cholesky_ex(tg.tensor([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0],
                                                [0.0, 0.0, 1.0]]))
    assert info.item() == 2 and low.tolist() == [[2.0, 0, 0], [1.0, 0, 0], [0, 0, 1.0]]
    with pytest.raises(tg.linalg.LinAlgError, match="leading minor of order 2"):
        tg.linalg.cholesky_ex(tg.tensor([[1.0, 2.0], [2.0, 1.0]]), check_errors=True)
    with pytest.raises(RuntimeError, match="not implemented on the CPU"):
        tg.linalg.lu(tg.eye(2), pivot=False)
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        tg.linalg.qr(tg.eye(2), mode="full")
    with pytest.raises(RuntimeError, match="driver"):
        tg.linalg.lstsq(tg.eye(2), tg.ones(2, 1), driver="gelsx")
    with pytest.raises(RuntimeError, match="at least 2 tensors"):
        tg.linalg.multi_dot([tg.eye(2)])
    for empty in (tg.zeros(0, 3, 3), tg.zeros(2, 0, 0)):
        assert tg.linalg.lu(empty).U.shape == empty.shape
        assert tg.linalg.qr(empty).Q.shape == empty.shape
        assert tg.linalg.pinv(empty).shape == empty.shape
        assert tg.linalg.matrix_exp(empty).shape == empty.shape


def _check(fn, *inputs):
    """The gradients ``fn`` gives float64 inputs, against central finite differences."""
    leaves = [Tensor(np.asarray(x, np.float64), requires_grad=True) for x in inputs]
    assert gradcheck(fn, *leaves, reference="finite-difference", rtol=1e-5, atol=1e-6)


def _check_twice(fn, *inputs):
    """The gradient of ``fn``'s gradient (recorded, ``create_graph=True``) against finite
    differences of that gradient."""
    weights = Tensor(np.random.default_rng(2).standard_normal(
        tuple(fn(*[Tensor(x) for x in inputs]).shape)))

    def gradient(*xs):  # (finite differences call it on tensors that require no grad)
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        with tg.enable_grad():
            return tg.autograd.grad((fn(*xs) * weights).sum(), xs, create_graph=True)[0]
    _check(gradient, *inputs)


def test_gradients_against_finite_differences():
    a, b = _r(2, 3, 3) + 3 * np.eye(3), _r(2, 3, 2)
    for upper in (True, False):
        _check(lambda x, y, u=upper: tg.linalg.solve_triangular(x, y, upper=u), a, b)
        _check(lambda x, y, u=upper: tg.linalg.solve_triangular(
            x, y.mT, upper=u, left=False, unitriangular=True), a, b)
    for shape in ((3, 3), (2, 4), (4, 2)):
        _check(lambda x: (lambda p, low, up: low.sum(-1, keepdim=True) * up.sum(-2))(
            *tg.linalg.lu(x)), _r(*shape))
        _check(lambda x: (lambda q, r: q.sum(-1, keepdim=True) * r.sum(-2))(*tg.linalg.qr(x)),
               _r(*shape))
        _check(tg.linalg.pinv, _r(*shape))
    _check(lambda x: tg.linalg.lu_factor(x).LU, a)
    _check(lambda x, y: tg.linalg.lu_solve(*tg.linalg.lu_factor(x), y, adjoint=True), a, b)
    _check(lambda x, y: tg.linalg.lstsq(x, y).solution, _r(5, 3), _r(5, 2))
    _check(lambda x, y: tg.linalg.lstsq(x, y, driver="gelsd").residuals, _r(5, 3), _r(5, 2))
    _check(tg.linalg.matrix_exp, _r(2, 3, 3))
    _check(lambda x: tg.linalg.cond(x, "fro"), a)
    _check(tg.linalg.cond, a)
    _check(lambda x: tg.linalg.vander(x, N=4), np.array([0.0, 1.5, -2.0]))
    _check(lambda x: tg.linalg.tensorinv(x, 1), _r(4, 2, 2) + np.eye(4).reshape(4, 2, 2))
    _check(lambda x: tg.linalg.inv_ex(x).inverse, a)
    _check(lambda x: tg.linalg.pinv(x @ x.mT, hermitian=True), _r(3, 3))
    _check(tg.linalg.householder_product, _r(2, 4, 3), _r(2, 2))


def test_gradients_of_gradients_against_finite_differences():
    a, b = _r(3, 3) + 3 * np.eye(3), _r(3, 2)
    _check_twice(lambda x, y: tg.linalg.solve_triangular(x, y, upper=True), a, b)
    _check_twice(lambda x: tg.linalg.lu(x).U, _r(3, 4))
    _check_twice(lambda x: tg.linalg.lu(x).L, _r(4, 3))
    _check_twice(lambda x: tg.linalg.qr(x).Q, _r(4, 3))
    _check_twice(lambda x: tg.linalg.qr(x).R, _r(3, 4))
    _check_twice(tg.linalg.pinv, _r(4, 3))
    _check_twice(tg.linalg.matrix_exp, _r(3, 3))


def test_what_has_no_gradient_says_so():
    x = tg.tensor(_r(4, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="mode='r'"):
        tg.linalg.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match="complete"):
        tg.linalg.qr(x, mode="complete").Q.sum().backward()


def test_a_captured_step_replays_the_decompositions():
    """Each decomposition is one op that factors its input itself (LU's pivots included), so
    that ``tg.capture`` replays it on new values with the eager results (LU's P, which
    requires no grad, is a constant there: a step using it is refused)."""
    w = Tensor(_r(3, 3), requires_grad=True)

    def loss(x):
        a = w * x
        _, low, up = tg.linalg.lu(a)
        q, r = tg.linalg.qr(a)
        solved = tg.linalg.solve_triangular(up + 3 * tg.eye(3), q, upper=True)
        return (low @ up).sum() + (r * solved).sum() + tg.linalg.pinv(a).sum() + \
            tg.linalg.matrix_exp(a / 3).sum()

    step = tg.capture(loss)
    rng = np.random.default_rng(4)
    for _ in range(4):
        x = Tensor(rng.standard_normal((3, 3)))
        w.grad = None
        replayed = step(x)
        replayed_grad = w.grad.numpy().copy()
        w.grad = None
        eager = loss(x)
        eager.backward()
        np.testing.assert_allclose(replayed.numpy(), eager.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(replayed_grad, w.grad.numpy(), rtol=1e-10, atol=1e-12)
