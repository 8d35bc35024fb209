"""Linear algebra (linalg.py), statistics and selection (statistics.py) and the scatter and index
writes of scatter_ops.py without PyTorch: their defining identities (inv(A) A = I, det of a
product, A = L L^T, ...), NumPy's quantiles and histograms, and gradients against central
finite differences (``gradcheck``), in both float dtypes and in any layout."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Tensor, gradcheck
from tests.paths import REPO
from tests.strategies import MATRIX_LAYOUTS, matrices_laid_out

RNG = np.random.default_rng(23)
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-4}


def _r(*shape):
    return RNG.standard_normal(shape)


def _check(fn, *inputs):
    """The gradients ``fn`` gives float64 inputs, against central finite differences."""
    leaves = [Tensor(np.asarray(x, np.float64), requires_grad=True) for x in inputs]
    assert gradcheck(fn, *leaves, reference="finite-difference", rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_the_inverse_solve_and_det_agree(dtype, layout):
    a_values = (_r(2, 4, 4) + 4 * np.eye(4)).astype(dtype)
    a = matrices_laid_out(a_values, layout)
    b = Tensor(_r(2, 4, 3).astype(dtype))
    tol = TOLERANCE[dtype]
    inverse = tg.linalg.inv(a)
    assert inverse.dtype == dtype
    np.testing.assert_allclose((inverse @ a).numpy(), np.broadcast_to(np.eye(4), (2, 4, 4)),
                               atol=tol)
    np.testing.assert_allclose(tg.linalg.solve(a, b).numpy(), (inverse @ b).numpy(),
                               rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(tg.linalg.solve(a, b[..., 0]).numpy(), (inverse @ b)[..., 0],
                               rtol=tol * 10, atol=tol * 10)
    other = Tensor(_r(4, 4).astype(dtype))
    np.testing.assert_allclose(tg.linalg.det(a @ other).numpy(),
                               (tg.linalg.det(a) * tg.det(other)).numpy(), rtol=tol * 10)
    sign, logabs = tg.linalg.slogdet(a)
    np.testing.assert_allclose((sign * logabs.exp()).numpy(), a.det().numpy(), rtol=tol * 10)
    np.testing.assert_allclose(a.matrix_power(-1).numpy(), inverse.numpy(), rtol=tol)
    np.testing.assert_allclose(a.matrix_power(3).numpy(), (a @ a @ a).numpy(), rtol=tol * 10,
                               atol=tol * 10)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_the_decompositions_rebuild_their_matrix(dtype, layout):
    tol = TOLERANCE[dtype] * 10
    x = _r(3, 4, 4)
    spd = matrices_laid_out((x @ x.swapaxes(-1, -2) + 4 * np.eye(4)).astype(dtype), layout)
    low = tg.linalg.cholesky(spd)
    np.testing.assert_allclose((low @ low.mT).numpy(), spd.numpy(), rtol=tol, atol=tol)
    assert (np.triu(low.numpy(), 1) == 0).all()
    np.testing.assert_array_equal(spd.cholesky(upper=True).numpy(), low.mT.numpy())
    w, v = tg.linalg.eigh(spd)
    assert (np.diff(w.numpy(), axis=-1) >= 0).all()
    np.testing.assert_allclose((v * w.unsqueeze(-2) @ v.mT).numpy(), spd.numpy(), rtol=tol,
                               atol=tol)
    np.testing.assert_array_equal(tg.linalg.eigvalsh(spd).numpy(), w.numpy())
    a = matrices_laid_out(_r(2, 5, 3).astype(dtype), layout)
    for full in (True, False):
        u, s, vh = tg.linalg.svd(a, full_matrices=full)
        assert u.shape == ((2, 5, 5) if full else (2, 5, 3)) and vh.shape == (2, 3, 3)
        assert (np.diff(s.numpy(), axis=-1) <= 0).all()
        np.testing.assert_allclose((u[..., :3] * s.unsqueeze(-2) @ vh).numpy(), a.numpy(),
                                   rtol=tol, atol=tol)
    np.testing.assert_allclose(tg.linalg.svdvals(a).numpy(), s.numpy(), rtol=tol)


def test_linear_algebra_errors_and_special_matrices():
    assert issubclass(tg.linalg.LinAlgError, RuntimeError)
    with pytest.raises(tg.linalg.LinAlgError, match="Batch element 1"):
        tg.linalg.inv(Tensor(np.stack([np.eye(2), np.zeros((2, 2))])))
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.solve(tg.zeros(2, 2), tg.ones(2))
    with pytest.raises(tg.linalg.LinAlgError, match="positive-definite"):
        tg.linalg.cholesky(-tg.eye(3))
    for call in (tg.det, tg.inverse, tg.logdet, tg.linalg.eigh, tg.linalg.cholesky):
        with pytest.raises(RuntimeError, match="square"):
            call(tg.ones(2, 3))
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            call(tg.ones(3))
        with pytest.raises(RuntimeError, match="floating point"):
            call(tg.tensor([[1, 0], [0, 1]]))
    assert tg.linalg.det(tg.zeros(2, 2)).item() == 0
    assert tg.det(tg.zeros(0, 0)).item() == 1  # (an empty product)
    assert tg.linalg.det(tg.zeros(0, 3, 3)).shape == (0,)
    assert np.isnan(tg.linalg.inv(tg.tensor([[1.0, np.nan], [0.0, 1.0]])).numpy()).all()
    assert np.isnan(tg.det(tg.tensor([[np.nan, 0.0], [0.0, 0.0]])).item())
    sign, logabs = tg.slogdet(tg.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert sign.item() == 0 and logabs.item() == -np.inf
    assert np.isnan(tg.logdet(tg.tensor([[0.0, 1.0], [1.0, 0.0]])).item())
    assert tg.linalg.matrix_power(tg.tensor([[1, 1], [0, 1]]), 5).tolist() == [[1, 5], [0, 1]]


def _symmetric(a: Tensor) -> Tensor:
    return a + a.mT


def test_linear_algebra_gradients_against_finite_differences():
    a, b = _r(2, 3, 3) + 3 * np.eye(3), _r(2, 3, 2)
    _check(tg.linalg.det, a)
    _check(lambda x: tg.linalg.slogdet(x).logabsdet, a)
    _check(tg.linalg.inv, a)
    _check(tg.linalg.solve, a, b)
    _check(lambda x, y: tg.linalg.solve(x, y, left=False), a, b.swapaxes(-1, -2))
    _check(lambda x: tg.linalg.matrix_power(x, 3), a / 3)
    _check(lambda x: tg.linalg.matrix_power(x, -2), a)
    # (the factorizations read one triangle: a symmetric input varies both alike)
    _check(lambda x: tg.linalg.cholesky(_symmetric(x)), a)
    _check(lambda x: tg.linalg.cholesky(_symmetric(x), upper=True), a)
    _check(lambda x: tg.linalg.eigvalsh(_symmetric(x)), _r(3, 3))
    _check(lambda x: (lambda w, v: w.unsqueeze(-2) * v * v[..., :1, :])(
        *tg.linalg.eigh(_symmetric(x))), _r(2, 4, 4))
    _check(tg.linalg.svdvals, _r(2, 4, 3))
    for shape in ((4, 3), (3, 4)):
        # (signs cancel in each term; of full U and Vh, only the first 3 columns and rows)
        _check(lambda x: (lambda u, s, vh: (u[..., :3] * u[..., :1, :3] * s).sum(-2) + (
            vh[..., :3, :1] * vh[..., :3, :]).sum(-1))(*tg.linalg.svd(x)), _r(*shape))


def test_the_gradient_of_det_at_a_singular_matrix_is_zero():
    a = tg.tensor([[1.0, 2.0], [2.0, 4.0]], requires_grad=True)
    tg.det(a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros((2, 2)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint"])
def test_quantiles_are_numpys(dtype, method):
    x = _r(5, 9).astype(dtype)
    q = np.array([0.0, 0.1, 0.5, 0.77, 1.0], dtype)
    ours = tg.quantile(Tensor(x).mT, Tensor(q), dim=0, interpolation=method)
    assert ours.dtype == dtype and ours.shape == (5, 5)
    np.testing.assert_allclose(ours.numpy(), np.quantile(x, q, axis=1, method=method),
                               rtol=TOLERANCE[dtype])
    x[1, 3] = np.nan
    ours = Tensor(x).nanquantile(0.3, dim=1, keepdim=True, interpolation=method)
    np.testing.assert_allclose(ours.numpy(), np.nanquantile(x, 0.3, axis=1, keepdims=True,
                                                            method=method),
                               rtol=TOLERANCE[dtype])
    assert np.isnan(tg.quantile(Tensor(x), 0.3, dim=1)[1].item())


def test_selection_by_hand():
    x = tg.tensor([0.0, 1.0, 2.0, 3.0])
    assert [tg.quantile(x, q, interpolation="nearest").item() for q in (0.5, 0.6, 1 / 6)] == \
        [2.0, 2.0, 0.0]  # rank 1.5 rounds to 2, as halves go to even
    values, indices = tg.kthvalue(tg.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]), 2)
    assert values.tolist() == [2.0, 4.0] and indices.tolist() == [2, 2]
    values, indices = tg.tensor([[1, 2, 2, 1, 3], [5, 5, 4, 4, 0]]).mode(1)
    assert values.tolist() == [1, 4] and indices.tolist() == [3, 3]  # the smallest, last
    values, indices = tg.nanmedian(tg.tensor([[np.nan, 3.0, 1.0, 2.0, 4.0]]), dim=1)
    assert values.tolist() == [2.0] and indices.tolist() == [3]
    with pytest.raises(RuntimeError, match="out of range"):
        tg.kthvalue(x, 5)
    with pytest.raises(IndexError, match="non-zero size"):
        tg.mode(tg.zeros(2, 0))


def test_statistics_gradients_against_finite_differences():
    x = _r(4, 7)
    for method in ("linear", "lower", "higher", "midpoint", "nearest"):
        _check(lambda t, m=method: tg.quantile(t, Tensor([0.2, 0.5, 0.9]), dim=1,
                                               interpolation=m), x)
    _check(lambda t: t.kthvalue(3, dim=0).values, x)
    _check(lambda t: tg.nanmedian(t, 1).values, x)
    _check(tg.nanmedian, x)
    _check(lambda t: tg.mode(t.round(), 1).values * t[:, :1], x)
    _check(tg.cov, x)
    _check(lambda t, w: tg.cov(t, fweights=tg.tensor([1, 2, 0, 1, 3, 1, 1]), aweights=w.abs()),
           x, _r(7))
    _check(tg.corrcoef, x)
    _check(lambda t: t.unfold(1, 3, 2), x)
    _check(lambda t: t.unfold(0, 2, 1), x)


def test_cov_and_corrcoef_are_numpys():
    x, f, a = _r(3, 8), RNG.integers(0, 4, 8), RNG.random(8)
    np.testing.assert_allclose(tg.cov(Tensor(x)).numpy(), np.cov(x))
    np.testing.assert_allclose(
        tg.cov(Tensor(x), correction=0, fweights=Tensor(f), aweights=Tensor(a)).numpy(),
        np.cov(x, ddof=0, fweights=f, aweights=a))
    np.testing.assert_allclose(tg.corrcoef(Tensor(x)).numpy(), np.corrcoef(x))
    assert tg.cov(tg.tensor([1, 2, 4])).dtype == tg.get_default_dtype()
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert tg.cov(tg.tensor([1.0, 2.0]), correction=2).item() == np.inf


def test_histc_is_numpys_histogram_and_has_no_gradient():
    x = _r(1000)
    ours = tg.histc(Tensor(x, requires_grad=True), bins=10, min=-2, max=2)
    expected, _ = np.histogram(x, bins=10, range=(-2, 2))
    assert not ours.requires_grad
    np.testing.assert_array_equal(ours.numpy(), expected)
    x32 = x.astype(np.float32)
    expected, _ = np.histogram(x32, bins=7, range=(x32.min(), x32.max()))
    np.testing.assert_array_equal(Tensor(x32).histc(7).numpy(), expected)
    assert Tensor(x32).histc(7).dtype == np.float32


@pytest.mark.parametrize("layout", MATRIX_LAYOUTS)
def test_unfold_slides_windows_in_any_layout(layout):
    values = _r(3, 7)
    x = matrices_laid_out(values, layout)
    windows = x.unfold(1, 3, 2)
    assert windows.shape == (3, 3, 3)
    np.testing.assert_array_equal(windows[:, 1].numpy(), values[:, 2:5])
    y = Tensor(values, requires_grad=True)
    y.unfold(1, 3, 1).sum().backward()  # each entry in as many windows as cover it
    np.testing.assert_array_equal(y.grad.numpy()[0], [1, 2, 3, 3, 3, 2, 1])


def test_scatter_reduce_by_hand_and_its_gradients():
    index = tg.tensor([0, 1, 0, 1])
    src = tg.tensor([1.0, 2.0, 3.0, 4.0])
    base = tg.tensor([10.0, -10.0, 5.0])
    expected = {"sum": [14.0, -4.0, 5.0], "prod": [30.0, -80.0, 5.0], "mean": [14 / 3, -4 / 3, 5],
                "amax": [10.0, 4.0, 5.0], "amin": [1.0, -10.0, 5.0]}
    for reduce, values in expected.items():
        np.testing.assert_allclose(base.scatter_reduce(0, index, src, reduce).numpy(), values)
    assert base.scatter_reduce(0, index, src, "amax", include_self=False).tolist() == \
        [3.0, 4.0, 5.0]
    assert tg.tensor([5, 5]).scatter_reduce(0, tg.tensor([0, 0]), tg.tensor([-1, -2]),
                                            "mean").tolist() == [0, 5]  # (2 / 3, rounded down)
    index2 = tg.tensor([[0, 1, 0], [2, 2, 1]])
    for reduce in ("sum", "mean", "amax", "amin"):
        for include_self in (True, False):
            _check(lambda a, s, r=reduce, i=include_self: a.scatter_reduce(
                1, index2, s, r, include_self=i), _r(2, 4), _r(2, 3))
    y = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="prod"):
        y.scatter_reduce(0, tg.tensor([0, 0]), tg.tensor([1.0, 2.0]), "prod").sum().backward()


def test_index_copy_and_index_put_out_of_place_and_in_place():
    x = tg.zeros(2, 4)
    assert x.index_copy(1, tg.tensor([3, 0]), tg.ones(2, 2)).tolist() == \
        [[1.0, 0.0, 0.0, 1.0]] * 2
    assert x.tolist() == [[0.0] * 4] * 2
    assert x.index_copy_(1, tg.tensor([1]), tg.full((2, 1), 2.0)) is x
    assert x.tolist() == [[0.0, 2.0, 0.0, 0.0]] * 2
    x.index_put_((tg.tensor([0, 0]), tg.tensor([3, 3])), tg.tensor(1.5), accumulate=True)
    assert x[0].tolist() == [0.0, 2.0, 0.0, 3.0]
    assert tg.index_put(x, (x > 1,), tg.tensor(-1.0)).tolist() == \
        [[0.0, -1.0, 0.0, -1.0], [0.0, -1.0, 0.0, 0.0]]
    with pytest.raises(RuntimeError, match="leaf"):
        tg.zeros(2, requires_grad=True).index_put_((tg.tensor([0]),), tg.tensor(1.0))
    _check(lambda a, s: a.index_copy(0, tg.tensor([2, 0]), s), _r(3, 2), _r(2, 2))
    _check(lambda a, s: a.index_put((tg.tensor([0, 2, 1]), tg.tensor([1, 1, 0])), s), _r(3, 2),
           _r(3))
    _check(lambda a, s: a.index_put((tg.tensor([0, 2, 0]),), s, accumulate=True), _r(3, 2),
           _r(2))


def test_size_zero_inputs():
    assert tg.linalg.inv(tg.zeros(0, 3, 3)).shape == (0, 3, 3)
    assert tg.linalg.solve(tg.zeros(0, 2, 2), tg.zeros(0, 2)).shape == (0, 2)
    assert tg.linalg.eigh(tg.zeros(0, 3, 3)).eigenvectors.shape == (0, 3, 3)
    assert tg.linalg.svdvals(tg.zeros(2, 0, 3)).shape == (2, 0)
    assert tg.kthvalue(tg.zeros(0, 3), 1).values.shape == (0,)
    assert tg.cov(tg.zeros(0, 3)).shape == (0, 0)
    assert tg.histc(tg.zeros(0), bins=3).tolist() == [0.0, 0.0, 0.0]
    assert tg.zeros(2, 0, 3).unfold(1, 0, 1).shape == (2, 1, 3, 0)
    with pytest.raises(RuntimeError, match="non-empty"):
        tg.quantile(tg.zeros(0), 0.5)


def test_linalg_is_not_loaded_at_start_up_but_found_when_used():
    code = ("import sys, tensorgrad\n"
            "before = 'tensorgrad.linalg' in sys.modules\n"
            "d = tensorgrad.det(tensorgrad.eye(2))\n"
            "print([before, 'tensorgrad.linalg' in sys.modules, d.item()])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert result.stdout.strip() == "[False, True, 1.0]"


def test_matrix_norms_of_every_order_are_numpys():
    a = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]])
    for order in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        np.testing.assert_allclose(tg.linalg.matrix_norm(tg.tensor(a), ord=order).item(),
                                   np.linalg.norm(a, ord=order), rtol=1e-12)
    with pytest.raises(RuntimeError, match="Order 3 not supported"):
        tg.linalg.matrix_norm(tg.tensor(a), ord=3)
