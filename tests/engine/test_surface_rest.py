"""The rest of the surface without PyTorch: the special functions' identities and edges, the
windows' shapes, histograms that count, integration and differences exact on polynomials,
copies that are copies, the legacy linear algebra's identities, and the switches."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest

import tensorgrad as tg

RNG = np.random.default_rng(7)


def test_the_new_modules_load_when_first_used():
    code = ("import sys, tensorgrad\n"
            "lazy = ('special_more', 'windows', 'legacy', 'surface_rest')\n"
            "print([m for m in lazy if 'tensorgrad.' + m in sys.modules])\n"
            "tensorgrad.hann_window(3); tensorgrad.special.ndtr(tensorgrad.zeros(1))\n"
            "print([m for m in lazy if 'tensorgrad.' + m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "['special_more', 'windows']"


def test_special_identities():
    x = tg.tensor(RNG.uniform(-6, 6, 50))
    ndtr = tg.special.ndtr(x).numpy()
    np.testing.assert_allclose(ndtr + tg.special.ndtr(-x).numpy(), 1.0, rtol=1e-15)
    # (log of ndtr near 1 loses digits that log_ndtr keeps: held to an absolute tolerance)
    np.testing.assert_allclose(tg.special.log_ndtr(x).numpy(), np.log(ndtr), rtol=1e-13,
                               atol=1e-15)
    left = -x.abs()  # (where ndtr is near 1 its value no longer tells x to float64)
    np.testing.assert_allclose(tg.special.ndtri(tg.special.ndtr(left)).numpy(), left.numpy(),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tg.special.erfcx(x).numpy(),
                               np.exp(x.numpy() ** 2) * tg.erfc(x).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.special.i0e(x).numpy(),
                               np.exp(-np.abs(x.numpy())) * tg.i0(x).numpy(), rtol=1e-14)
    np.testing.assert_allclose(tg.special.modified_bessel_i1(x).numpy(),
                               tg.special.i1(x).numpy(), rtol=1e-14)
    p = tg.special.gammainc(tg.tensor(2.5), x.abs()).numpy()
    q = tg.special.gammaincc(tg.tensor(2.5), x.abs()).numpy()
    np.testing.assert_allclose(p + q, 1.0, rtol=1e-14)
    # P(1, x) = 1 - exp(-x); zeta(2, 1) = pi**2 / 6; Wronskian J1 Y0 - J0 Y1 = 2 / (pi x)
    np.testing.assert_allclose(tg.special.gammainc(tg.tensor(1.0), x.abs()).numpy(),
                               -np.expm1(-np.abs(x.numpy())), rtol=1e-13)
    assert math.isclose(tg.special.zeta(tg.tensor(2.0), tg.tensor(1.0)).item(), math.pi ** 2 / 6,
                        rel_tol=1e-15)
    s = tg.tensor(RNG.uniform(0.1, 40, 50))
    j0, j1 = tg.special.bessel_j0(s).numpy(), tg.special.bessel_j1(s).numpy()
    y0, y1 = tg.special.bessel_y0(s).numpy(), tg.special.bessel_y1(s).numpy()
    np.testing.assert_allclose(j1 * y0 - j0 * y1, 2 / (math.pi * s.numpy()), rtol=1e-11)
    k0 = tg.special.modified_bessel_k0(s).numpy()
    np.testing.assert_allclose(tg.special.scaled_modified_bessel_k0(s).numpy(),
                               np.exp(s.numpy()) * k0, rtol=1e-13)
    np.testing.assert_allclose(tg.special.spherical_bessel_j0(s).numpy(),
                               np.sin(s.numpy()) / s.numpy(), rtol=1e-15)


def test_special_edges():
    edges = tg.tensor([0.0, -1.0, np.inf, -np.inf, np.nan])
    assert tg.special.ndtri(tg.tensor([0.0, 1.0, 0.5])).tolist() == [-np.inf, np.inf, 0.0]
    assert tg.special.entr(edges).numpy()[:2].tolist() == [0.0, -np.inf]
    k0 = tg.special.modified_bessel_k0(edges).numpy()
    assert k0[0] == np.inf and np.isnan(k0[1]) and k0[2] == 0.0
    assert tg.special.bessel_y0(tg.tensor(0.0)).item() == -np.inf
    assert np.isnan(tg.special.log_ndtr(tg.tensor(np.nan)).item())
    assert tg.special.xlog1py(tg.tensor([0.0]), tg.tensor([-1.0])).item() == 0.0
    assert tg.special.zeta(tg.tensor(1.0), tg.tensor(2.0)).item() == np.inf


def test_special_dtypes_and_errors():
    assert tg.special.ndtr(tg.tensor([1, 2])).dtype == tg.get_default_dtype()
    assert tg.special.bessel_j0(tg.tensor([1.0], dtype=tg.float32)).dtype == tg.float32
    with pytest.raises(TypeError):
        tg.special.ndtr(1.0)
    with pytest.raises(TypeError):
        tg.special.zeta(2.0, 1.0)
    a = tg.tensor([2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="igamma"):
        tg.special.gammainc(a, tg.tensor([1.0])).sum().backward()
    assert tg.special.bessel_j0(a).requires_grad is False


def test_special_out_argument():
    out = tg.empty(3)
    result = tg.special.ndtr(tg.tensor([0.0, 1.0, -1.0]), out=out)
    assert result is out and out[0].item() == 0.5


def test_polynomials_are_the_textbook_ones():
    x = tg.tensor(RNG.uniform(-1, 1, 20))
    data = x.numpy()
    np.testing.assert_allclose(tg.special.chebyshev_polynomial_t(x, 5).numpy(),
                               np.cos(5 * np.arccos(data)), atol=1e-13)
    np.testing.assert_allclose(tg.special.legendre_polynomial_p(x, 2).numpy(),
                               (3 * data ** 2 - 1) / 2, atol=1e-14)
    np.testing.assert_allclose(tg.special.hermite_polynomial_h(x, 3).numpy(),
                               8 * data ** 3 - 12 * data, atol=1e-13)
    np.testing.assert_allclose(tg.special.laguerre_polynomial_l(x, 2).numpy(),
                               (data ** 2 - 4 * data + 2) / 2, atol=1e-14)
    assert tg.special.hermite_polynomial_he(x, -1).numpy().tolist() == [0.0] * 20


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
def test_windows_are_symmetric_and_periodic(name):
    make = getattr(tg, name)
    symmetric = make(9, periodic=False).numpy()
    np.testing.assert_allclose(symmetric, symmetric[::-1], atol=1e-15)
    np.testing.assert_allclose(make(8).numpy(), symmetric[:8], atol=1e-15)
    assert make(0).shape == (0,) and make(1).tolist() == [1.0]
    assert make(4, dtype=tg.float32).dtype == tg.float32
    with pytest.raises(RuntimeError):
        make(-1)
    with pytest.raises(RuntimeError):
        make(3, dtype=tg.int64)


def test_histograms_count_every_value_once():
    data = RNG.standard_normal(200)
    hist, edges = tg.histogram(tg.tensor(data), 9)
    assert hist.sum().item() == 200 and edges.shape == (10,)
    assert edges[0].item() == data.min() and edges[-1].item() == data.max()
    density = tg.histogram(tg.tensor(data), 9, density=True).hist.numpy()
    assert math.isclose(float((density * np.diff(edges.numpy())).sum()), 1.0, rel_tol=1e-12)
    points = RNG.standard_normal((100, 3))
    result = tg.histogramdd(tg.tensor(points), bins=[2, 3, 4])
    assert result.hist.shape == (2, 3, 4) and result.hist.sum().item() == 100
    assert [e.shape[0] for e in result.bin_edges] == [3, 4, 5]
    with pytest.raises(RuntimeError):
        tg.histogram(tg.tensor([1.0, np.inf]), 3)
    with pytest.raises(NotImplementedError):
        tg.histogram(tg.tensor([1, 2]), 3)


def test_integration_and_differences_are_exact_on_polynomials():
    x = np.sort(RNG.uniform(0, 3, 9))
    line = 2 * x + 1
    assert math.isclose(tg.trapezoid(tg.tensor(line), tg.tensor(x)).item(),
                        (x[-1] ** 2 + x[-1]) - (x[0] ** 2 + x[0]), rel_tol=1e-13)
    running = tg.cumulative_trapezoid(tg.tensor(line), tg.tensor(x)).numpy()
    np.testing.assert_allclose(running, (x[1:] ** 2 + x[1:]) - (x[0] ** 2 + x[0]), rtol=1e-13)
    square = x ** 2  # second order differences get a quadratic's slope exactly
    (slope,) = tg.gradient(tg.tensor(square), spacing=(tg.tensor(x),), edge_order=2)
    np.testing.assert_allclose(slope.numpy(), 2 * x, rtol=1e-10, atol=1e-11)
    y = tg.tensor(RNG.standard_normal((3, 5)), requires_grad=True)
    tg.trapezoid(y, dx=0.5).sum().backward()
    assert np.allclose(y.grad.numpy(), [0.25, 0.5, 0.5, 0.5, 0.25])


def test_copy_forms_copy():
    x = tg.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    for out in (tg.transpose_copy(x, 0, 1), tg.select_copy(x, 0, 1), tg.view_copy(x, (12,)),
                tg.t_copy(x), *tg.unbind_copy(x), tg.expand_copy(x[:1], (2, 4))):
        assert out.requires_grad
        assert not np.shares_memory(out.detach().numpy(), x.detach().numpy())
    tg.diagonal_copy(x).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.eye(3, 4))


def test_creation_forms():
    assert tg.empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    assert tg.empty_permuted((2, 3, 4), (2, 0, 1)).stride() == (3, 1, 6)
    with pytest.warns(UserWarning, match="deprecated"):
        assert tg.range(1, 4).tolist() == [1.0, 2.0, 3.0, 4.0]
    tg.manual_seed(3)
    first = tg.binomial(tg.full((5,), 20.0), tg.full((5,), 0.3))
    tg.manual_seed(3)
    assert first.tolist() == tg.binomial(tg.full((5,), 20.0), tg.full((5,), 0.3)).tolist()
    drawn = tg.randint_like(tg.zeros(100, dtype=tg.int64), 3, 6)
    assert drawn.dtype == tg.int64 and set(drawn.tolist()) <= {3, 4, 5}
    assert tg.unravel_index(tg.tensor(5), (2, 3))[1].item() == 2
    with pytest.raises(TypeError):
        tg.unravel_index(tg.tensor([1.0]), (2, 3))


def test_feature_dropout_drops_whole_channels():
    x = tg.ones(4, 6, 5)
    out = tg.feature_dropout(x, 0.5, True).numpy()
    per_channel = out.reshape(24, 5)
    assert all(len(set(row.tolist())) == 1 for row in per_channel)
    assert set(np.unique(out).tolist()) <= {0.0, 2.0}
    assert tg.feature_dropout(x, 0.5, False).tolist() == x.tolist()


def test_legacy_linear_algebra_identities():
    A = RNG.standard_normal((4, 4)) + 4 * np.eye(4)
    spd = A @ A.T
    L = tg.linalg.cholesky(tg.tensor(spd))
    np.testing.assert_allclose(tg.cholesky_inverse(L).numpy(), np.linalg.inv(spd), rtol=1e-10)
    B = RNG.standard_normal((4, 2))
    np.testing.assert_allclose(tg.cholesky_solve(tg.tensor(B), L).numpy(),
                               np.linalg.solve(spd, B), rtol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        M = RNG.standard_normal((4, 4))
        M[0, 0] = 0.0  # (a zero pivot: rows are swapped)
        P, lower, upper = tg.lu_unpack(*tg.lu(tg.tensor(M)))
        assert not np.array_equal(P.numpy(), np.eye(4))
        np.testing.assert_allclose((P @ lower @ upper).numpy(), M, atol=1e-12)
        LU, pivots = tg.lu(tg.tensor(A))
        np.testing.assert_allclose(tg.lu_solve(tg.tensor(B), LU, pivots).numpy(),
                                   np.linalg.solve(A, B), rtol=1e-10)
    U, S, V = tg.svd(tg.tensor(A))
    np.testing.assert_allclose((U * S) @ V.t(), A, atol=1e-12)
    for name in ("matrix_rank", "lstsq", "solve", "eig", "symeig"):
        with pytest.raises(RuntimeError, match="linalg"):
            getattr(tg, name)(tg.tensor(A))


def test_switches():
    previous = tg.is_warn_always_enabled()
    tg.set_warn_always(True)
    assert tg.is_warn_always_enabled()
    tg.set_warn_always(previous)
    tg.set_num_interop_threads(3)
    assert tg.get_num_interop_threads() == 3
    tg.set_anomaly_enabled(True)
    assert tg.is_anomaly_enabled() and tg.is_anomaly_check_nan_enabled()
    tg.set_anomaly_enabled(False)
    assert not tg.is_anomaly_enabled()
    tg.set_deterministic_debug_mode("error")
    assert tg.get_deterministic_debug_mode() == 2
    tg.set_deterministic_debug_mode(0)
    assert tg.get_device(tg.zeros(1)) == -1
    assert tg.vmap(lambda v: v * 2)(tg.ones(3, 2)).shape == (3, 2)
    before = tg.get_default_dtype()
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            tg.set_default_tensor_type("torch.FloatTensor")
        assert tg.get_default_dtype() == tg.float32
        with pytest.warns(UserWarning):
            tg.set_default_tensor_type(tg.DoubleTensor)
        assert tg.get_default_dtype() == tg.float64
    finally:
        tg.set_default_dtype(before)


def test_zeta_of_a_huge_order_returns_at_once():
    s, q = tg.tensor([300.0, 1e300, 250.0]), tg.tensor([1.0, 2.0, 1.5])
    values = tg.special.zeta(s, q).tolist()
    assert values[0] == 1.0 and values[1] == 0.0
    assert math.isclose(values[2], 1.5 ** -250, rel_tol=1e-12)
