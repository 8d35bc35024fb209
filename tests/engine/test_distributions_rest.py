"""ContinuousBernoulli, VonMises, Wishart and LKJCholesky on their own: the draws' moments
against the properties over many samples, draws within the support, reparameterized
gradients against the gradients of the mean, densities that integrate to 1, entropies
against -E[log_prob], and the errors (test_distributions_rest_torch.py holds the values
against PyTorch's)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tensorgrad
from tensorgrad.distributions import (
    ContinuousBernoulli,
    LKJCholesky,
    VonMises,
    Wishart,
    constraints,
    kl_divergence,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
N = 20_000


@pytest.fixture(autouse=True)
def _seeded():
    tensorgrad.manual_seed(3)


def _t(values, dtype=np.float64, grad=False):
    return tensorgrad.tensor(np.asarray(values, dtype), requires_grad=grad)


# ---- ContinuousBernoulli ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_continuous_bernoulli_moments_support_and_entropy(dtype):
    d = ContinuousBernoulli(_t([0.05, 0.3, 0.5, 0.5005, 0.9], dtype))
    x = d.sample((N,))
    assert x.dtype == np.dtype(dtype) and tuple(x.shape) == (N, 5)
    assert bool(d.support.check(x).all())
    values = x.numpy().astype(np.float64)
    np.testing.assert_allclose(values.mean(0), d.mean.numpy(), atol=0.01)
    np.testing.assert_allclose(values.var(0), d.variance.numpy(), atol=0.01)
    # entropy is -E[log p(x)]
    np.testing.assert_allclose(-d.log_prob(x).numpy().mean(0), d.entropy().numpy(), atol=0.02)


def test_continuous_bernoulli_density_integrates_to_one_and_cdf_inverts():
    for p in (0.02, 0.3, 0.4995, 0.5, 0.8):
        d = ContinuousBernoulli(_t([p]))
        grid = np.linspace(0, 1, 20_001)[:, None]
        density = d.log_prob(_t(grid)).exp().numpy()[:, 0]
        assert abs(np.trapezoid(density, grid[:, 0]) - 1) < 1e-6, p
        u = _t(np.linspace(0.01, 0.99, 9)[:, None])
        np.testing.assert_allclose(d.cdf(d.icdf(u)).numpy(), u.numpy(), atol=1e-9)
        cdf = d.cdf(_t(grid)).numpy()[:, 0]
        assert cdf[0] == 0 and cdf[-1] == 1 and np.all(np.diff(cdf) >= 0)


def test_continuous_bernoulli_rsample_gradient_is_that_of_the_mean():
    probs = _t([0.2, 0.7], grad=True)
    ContinuousBernoulli(probs).rsample((N,)).mean(0).sum().backward()
    estimated = probs.grad.numpy().copy()
    probs.grad = None
    ContinuousBernoulli(probs).mean.sum().backward()
    np.testing.assert_allclose(estimated, probs.grad.numpy(), rtol=0.05)


def test_continuous_bernoulli_kl_is_the_expected_log_ratio():
    p, q = ContinuousBernoulli(_t([0.2, 0.7, 0.5])), ContinuousBernoulli(_t([0.6, 0.3, 0.1]))
    x = p.sample((N,))
    np.testing.assert_allclose(kl_divergence(p, q).numpy(),
                               (p.log_prob(x) - q.log_prob(x)).numpy().mean(0), atol=0.01)
    assert float(kl_divergence(p, p).abs().max()) < 1e-12


def test_continuous_bernoulli_logits_and_scalars():
    d = ContinuousBernoulli(logits=0.0)
    assert tuple(d.batch_shape) == () and float(d.probs) == 0.5 and float(d.mean) == 0.5
    with pytest.raises(ValueError, match="Either"):
        ContinuousBernoulli()
    with pytest.raises(ValueError, match="invalid values"):
        ContinuousBernoulli(_t([1.2]), validate_args=True)
    # without an explicit validate_args, probs are clamped into (0, 1) first, as PyTorch's
    assert float(ContinuousBernoulli(_t([1.2])).probs[0]) < 1
    with pytest.raises(ValueError):
        ContinuousBernoulli(_t([0.3])).log_prob(_t([1.5]))
    with pytest.raises(NotImplementedError):
        _ = ContinuousBernoulli(_t([0.3])).mode


# ---- VonMises ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_von_mises_circular_moments(dtype):
    loc, kappa = [0.5, -2.5, 3.0], [0.3, 2.0, 30.0]
    d = VonMises(_t(loc, dtype), _t(kappa, dtype))
    x = d.sample((N,))
    assert x.dtype == np.dtype(dtype) and tuple(x.shape) == (N, 3)
    angles = x.numpy().astype(np.float64)
    assert np.all((angles >= -math.pi) & (angles <= math.pi))
    resultant = np.exp(1j * angles).mean(0)
    np.testing.assert_allclose(np.angle(resultant[1:]), loc[1:], atol=0.05)
    np.testing.assert_allclose(1 - np.abs(resultant), d.variance.numpy(), atol=0.02)
    assert not d.has_rsample


def test_von_mises_density_integrates_to_one():
    kappa = np.array([0.01, 1.0, 3.7, 3.8, 50.0])
    d = VonMises(_t(np.zeros(5)), _t(kappa))
    grid = np.linspace(-math.pi, math.pi, 20_001)[:, None]
    density = d.log_prob(_t(grid)).exp().numpy()
    # (the Bessel function's approximation is good to about 1e-7)
    np.testing.assert_allclose(np.trapezoid(density, grid[:, 0], axis=0), 1, atol=1e-6)


def test_von_mises_gradients_and_errors():
    loc, kappa = _t([0.3], grad=True), _t([2.0], grad=True)
    value = _t([1.0])
    VonMises(loc, kappa).log_prob(value).sum().backward()
    # d/dloc = kappa sin(x - loc); d/dkappa = cos(x - loc) - I1/I0(kappa)
    np.testing.assert_allclose(loc.grad.numpy(), 2.0 * np.sin(0.7), rtol=1e-12)
    ratio = 1 - float(VonMises(0.0, 2.0).variance)
    np.testing.assert_allclose(kappa.grad.numpy(), np.cos(0.7) - ratio, rtol=1e-6)
    with pytest.raises(ValueError):
        VonMises(_t([0.0]), _t([0.0]))
    with pytest.raises(NotImplementedError):
        VonMises(0.0, 1.0).rsample()
    with pytest.raises(NotImplementedError):
        VonMises(0.0, 1.0).entropy()


# ---- Wishart ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wishart_moments_and_support(dtype):
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    d = Wishart(_t([4.5, 8.0], dtype), covariance_matrix=_t(cov, dtype))
    x = d.rsample((N,))
    assert x.dtype == np.dtype(dtype) and tuple(x.shape) == (N, 2, 3, 3)
    assert bool(constraints.positive_definite.check(x).all())
    values = x.numpy().astype(np.float64)
    mean, variance = d.mean.numpy(), d.variance.numpy()
    np.testing.assert_allclose(values.mean(0), mean, atol=0.05 * np.abs(mean).max())
    np.testing.assert_allclose(values.var(0), variance, atol=0.08 * variance.max())
    np.testing.assert_allclose(-d.log_prob(x).numpy().mean(0), d.entropy().numpy(),
                               rtol=0.02)


def test_wishart_rsample_gradient_is_that_of_the_mean():
    df = _t(5.0, grad=True)
    lower = _t([[1.0, 0.0], [0.5, 0.8]], grad=True)
    Wishart(df, scale_tril=lower).rsample((N,)).mean(0).sum().backward()
    estimated = df.grad.numpy().copy(), lower.grad.numpy().copy()
    df.grad = lower.grad = None
    Wishart(df, scale_tril=lower).mean.sum().backward()
    np.testing.assert_allclose(estimated[0], df.grad.numpy(), rtol=0.05)
    np.testing.assert_allclose(estimated[1], lower.grad.numpy(), rtol=0.05, atol=0.05)


def test_wishart_parameterizations_agree_and_errors():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    value = _t([[3.0, 1.0], [1.0, 2.0]])
    by_cov = Wishart(4.0, covariance_matrix=_t(cov))
    by_precision = Wishart(4.0, precision_matrix=_t(np.linalg.inv(cov)))
    by_tril = Wishart(4.0, scale_tril=_t(np.linalg.cholesky(cov)))
    for other in (by_precision, by_tril):
        np.testing.assert_allclose(other.log_prob(value).numpy(), by_cov.log_prob(value).numpy())
        np.testing.assert_allclose(other.covariance_matrix.numpy(), cov)
    with pytest.raises(ValueError, match="greater than ndim - 1"):
        Wishart(1.0, covariance_matrix=_t(cov))
    with pytest.warns(UserWarning, match="Low df"):
        Wishart(1.5, covariance_matrix=_t(cov))
    with pytest.raises(AssertionError):
        Wishart(4.0)
    with pytest.raises(ValueError):
        Wishart(4.0, covariance_matrix=_t([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError):
        by_cov.log_prob(_t([[1.0, 2.0], [2.0, 1.0]]))
    assert repr(by_cov.arg_constraints["df"]) == "GreaterThan(lower_bound=1)"


def test_wishart_redraws_singular_samples_with_a_warning(monkeypatch):
    d = Wishart(_t(4.0), covariance_matrix=_t(np.eye(2)))
    draws = iter([np.zeros((3, 2, 2)), np.tile(np.eye(2), (3, 1, 1))])
    monkeypatch.setattr(d, "_bartlett_sampling", lambda shape: _t(next(draws)))
    with pytest.warns(UserWarning, match="Singular sample"):
        x = d.rsample((3,))
    np.testing.assert_array_equal(x.numpy(), np.tile(np.eye(2), (3, 1, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Wishart(_t(4.0), covariance_matrix=_t(np.eye(2))).rsample((3,))  # (no warning)


# ---- LKJCholesky ----

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [2, 4])
def test_lkj_cholesky_draws(dim, dtype):
    concentration = [0.5, 1.0, 4.0]
    d = LKJCholesky(dim, _t(concentration, dtype))
    lower = d.sample((N // 4,))
    assert lower.dtype == np.dtype(dtype) and tuple(lower.shape) == (N // 4, 3, dim, dim)
    assert bool(d.support.check(lower).all())
    corr = lower.numpy().astype(np.float64) @ np.swapaxes(lower.numpy(), -1, -2)
    # each correlation: (r + 1) / 2 ~ Beta(b, b), b = eta - 1 + dim / 2, so E r = 0 and
    # Var r = 1 / (2 eta + dim - 1)
    r = corr[..., 1, 0]
    np.testing.assert_allclose(r.mean(0), 0, atol=0.04)
    expected = 1 / (2 * np.array(concentration) + dim - 1)
    np.testing.assert_allclose(r.var(0), expected, rtol=0.08)
    assert not d.has_rsample


def test_lkj_cholesky_density_integrates_to_one():
    # dim 2: L = [[1, 0], [r, sqrt(1 - r^2)]], the density over r in (-1, 1)
    r = np.linspace(-1, 1, 200_001)[1:-1]
    lower = np.zeros((len(r), 2, 2))
    lower[:, 0, 0], lower[:, 1, 0], lower[:, 1, 1] = 1, r, np.sqrt(1 - r**2)
    for eta in (0.7, 1.0, 3.0):
        density = LKJCholesky(2, eta).log_prob(_t(lower)).exp().numpy()
        assert abs(np.trapezoid(density, r) - 1) < 1e-3, eta


def test_lkj_cholesky_gradient_and_errors():
    eta = _t([2.0], grad=True)
    d = LKJCholesky(3, eta)
    d.log_prob(d.sample((4,))).sum().backward()
    assert eta.grad is not None and np.isfinite(eta.grad.numpy()).all()
    with pytest.raises(ValueError, match="greater than or equal to 2"):
        LKJCholesky(1)
    with pytest.raises(ValueError):
        LKJCholesky(3, _t([0.0]))
    with pytest.raises(ValueError):
        LKJCholesky(2).log_prob(_t([[1.0, 0.0], [0.5, 0.5]]))
    with pytest.raises(NotImplementedError):
        _ = LKJCholesky(2).mean
    e = LKJCholesky(3, _t([1.0, 2.0])).expand((4, 2))
    assert tuple(e.batch_shape) == (4, 2) and tuple(e.sample().shape) == (4, 2, 3, 3)
