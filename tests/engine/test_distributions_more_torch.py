"""The distributions beyond the first few (transforms and TransformedDistribution, LogNormal,
MultivariateNormal, the gamma family, the discrete and relaxed ones, mixtures) held against
torch.distributions: log_prob, entropy, mean, mode, variance, stddev, cdf, icdf,
log_abs_det_jacobian and kl_divergence, and their gradients to every parameter, in float64
and float32, batched, broadcast, size-0 and at edge values; rsample's with the same noise
fed to both; and a small SAC actor update run on both libraries. Skipped without torch
(test_distributions_more.py checks the draws' statistics and the errors)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from test_distributions_torch import DTYPES, RTOL, compare
from torch_compare import assert_same

import tensorgrad
import tensorgrad.distributions as ours
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
import torch.distributions as theirs  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
rng = np.random.default_rng(1)


def positive(*shape: int, low: float = 0.3, high: float = 3.0) -> np.ndarray:
    return rng.uniform(low, high, shape)


# ---- transforms ----

def transform_results(D: Any, x: Any, loc: Any, scale: Any, expo: Any) -> dict[str, Any]:
    T = D.transforms
    out: dict[str, Any] = {}
    named = {"exp": T.ExpTransform(), "sigmoid": T.SigmoidTransform(),
             "tanh": T.TanhTransform(), "affine": T.AffineTransform(loc, scale),
             "affine, numbers": T.AffineTransform(0.5, -2.0),
             "compose": T.ComposeTransform([T.AffineTransform(loc, scale), T.TanhTransform(),
                                            T.AffineTransform(1.0, 3.0)]),
             "exp.inv.inv": T.ExpTransform().inv.inv}
    for name, t in named.items():
        y = t(x)
        out[f"{name}: y"] = y
        if name != "compose":  # (atanh of a saturated tanh: rounding, not semantics)
            out[f"{name}: inv"] = t.inv(y)
        out[f"{name}: ladj"] = t.log_abs_det_jacobian(x, y)
        out[f"{name}: inverse ladj"] = t.inv.log_abs_det_jacobian(y, x)
    power = T.PowerTransform(expo)
    px = x.abs() + 0.1
    out["power: y"] = power(px)
    out["power: inv"] = power.inv(power(px))
    out["power: ladj"] = power.log_abs_det_jacobian(px, power(px))
    out["abs"] = T.AbsTransform()(x)
    soft = T.SoftmaxTransform()
    out["softmax"] = soft(x)
    out["softmax inv"] = soft.inv(soft(x))
    out["affine event_dim 1 ladj"] = T.AffineTransform(loc, scale, event_dim=1
                                                       ).log_abs_det_jacobian(x, x)
    out["identity"] = T.identity_transform.log_abs_det_jacobian(x, x)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_transforms(dtype):
    x = rng.standard_normal((2, 3)) * 2
    x[0, :] = [-40.0, 0.0, 25.0]  # tanh and sigmoid round to their bounds there
    compare(transform_results, [x, rng.standard_normal(3), positive(3), positive(2, 3)], dtype)


def test_transform_attributes():
    for name in ("ExpTransform", "SigmoidTransform", "TanhTransform", "AbsTransform",
                 "SoftmaxTransform"):
        mine, their = getattr(ours, name)(), getattr(theirs, name)()
        assert mine.bijective == their.bijective, name
        assert repr(mine.domain) == repr(their.domain), name
        assert repr(mine.codomain) == repr(their.codomain), name
        assert mine.domain.event_dim == their.domain.event_dim, name
        assert mine.codomain.event_dim == their.codomain.event_dim, name
        assert mine == getattr(ours, name)() and mine != ours.AffineTransform(0.0, 1.0)
    compose = [ours.AffineTransform(0.0, 1.0), ours.SoftmaxTransform()]
    their_compose = [theirs.AffineTransform(0.0, 1.0), theirs.SoftmaxTransform()]
    c, tc = ours.ComposeTransform(compose), theirs.ComposeTransform(their_compose)
    assert c.domain.event_dim == tc.domain.event_dim == 1
    assert c.codomain.event_dim == tc.codomain.event_dim == 1
    assert ours.ExpTransform().inv.inv == ours.ExpTransform()
    assert ours.AffineTransform(0.0, -2.0).sign == -1
    t = ours.TanhTransform(cache_size=1)
    x = tensorgrad.tensor([30.0])
    assert t.inv(t(x)) is x  # kept: atanh of the rounded 1.0 would be inf
    with pytest.raises(ValueError):
        ours.ExpTransform(cache_size=2)


# ---- TransformedDistribution and LogNormal ----

@pytest.mark.parametrize("dtype", DTYPES)
def test_transformed_distribution(dtype):
    def results(D: Any, loc: Any, scale: Any, value: Any, p: Any) -> dict[str, Any]:
        squashed = D.TransformedDistribution(D.Normal(loc, scale), [D.TanhTransform()])
        affine = D.TransformedDistribution(
            D.Normal(loc, scale), [D.AffineTransform(1.0, -2.0), D.ExpTransform()])
        vector = D.TransformedDistribution(D.Normal(loc, scale),
                                           D.AffineTransform(0.0, scale, event_dim=1))
        return {"tanh: log_prob": squashed.log_prob(value.tanh()),
                "affine-exp: log_prob": affine.log_prob(value.exp()),
                "affine-exp: cdf": affine.cdf(value.exp()),
                "affine-exp: icdf": affine.icdf(p),
                "event_dim 1: log_prob": vector.log_prob(value),
                "kl, same transforms": D.kl_divergence(affine, D.TransformedDistribution(
                    D.Normal(loc * 2, scale), [D.AffineTransform(1.0, -2.0),
                                               D.ExpTransform()]))}

    compare(results, [rng.standard_normal((4, 3)), positive(3), rng.standard_normal((2, 4, 3)),
                      rng.uniform(0.01, 0.99, (4, 3))], dtype)
    for lib in (ours, theirs):
        d = lib.TransformedDistribution(lib.Normal(lib.__name__ and _zeros(lib, 4, 3), 1.0),
                                        lib.AffineTransform(0.0, 1.0, event_dim=1))
        assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((4,), (3,))
        e = d.expand((2, 4))
        assert tuple(e.batch_shape) == (2, 4) and tuple(e.sample().shape) == (2, 4, 3)


def _zeros(lib: Any, *shape: int) -> Any:
    return tensorgrad.zeros(*shape) if lib is ours else torch.zeros(*shape,
                                                                    dtype=torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_normal(dtype):
    def results(D: Any, loc: Any, scale: Any, value: Any, p: Any) -> dict[str, Any]:
        d = D.LogNormal(loc, scale)
        return {"log_prob": d.log_prob(value), "entropy": d.entropy(), "mean": d.mean,
                "mode": d.mode, "variance": d.variance, "stddev": d.stddev,
                "cdf": d.cdf(value), "icdf": d.icdf(p),
                "kl": D.kl_divergence(d, D.LogNormal(loc + 1, scale * 2))}

    compare(results, [rng.standard_normal((4, 3)), positive(3), positive(2, 4, 3, low=0.01),
                      rng.uniform(0.01, 0.99, (4, 3))], dtype)
    compare(results, [np.zeros((0, 3)), positive(3), positive(0, 3), positive(0, 3, high=1)],
            dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_squashed_diagonal_gaussian_either_way_round(dtype):
    # SAC's policies: Independent inside or outside the TransformedDistribution
    def results(D: Any, mu: Any, std: Any, a: Any) -> dict[str, Any]:
        inside = D.TransformedDistribution(D.Independent(D.Normal(mu, std), 1),
                                           [D.TanhTransform()])
        outside = D.Independent(D.TransformedDistribution(D.Normal(mu, std),
                                                          [D.TanhTransform()]), 1)
        return {"inside": inside.log_prob(a), "outside": outside.log_prob(a)}

    compare(results, [rng.standard_normal((4, 2)), positive(4, 2),
                      np.tanh(rng.standard_normal((3, 4, 2)))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_normal(dtype):
    def results(D: Any, loc: Any, scale: Any, value: Any) -> dict[str, Any]:
        d = D.LogisticNormal(loc, scale)
        return {"log_prob": d.log_prob(value), "loc": d.loc,
                "expanded": d.expand((2, 4)).log_prob(value)}

    compare(results, [rng.standard_normal((4, 2)), positive(2), rng.dirichlet(np.ones(3), 4)],
            dtype, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rsample_through_transforms_with_the_same_noise(dtype, monkeypatch):
    eps = rng.standard_normal((5, 2, 3)).astype(dtype)
    monkeypatch.setattr(theirs.normal, "_standard_normal",
                        lambda shape, dtype, device: torch.tensor(eps))
    monkeypatch.setattr(ours.normal, "_standard_normal", lambda shape, dtype: Tensor(eps))

    def results(D: Any, loc: Any, scale: Any) -> dict[str, Any]:
        squashed = D.TransformedDistribution(D.Normal(loc, scale),
                                             [D.TanhTransform(cache_size=1)])
        action = squashed.rsample((5,))
        return {"rsample": action, "log_prob of it": squashed.log_prob(action),
                "lognormal rsample": D.LogNormal(loc, scale).rsample((5,))}

    compare(results, [rng.standard_normal((2, 3)), positive(2, 3)], dtype)


# ---- MultivariateNormal ----

def _spd(*batch: int, n: int = 3) -> np.ndarray:
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multivariate_normal(dtype):
    def results(D: Any, loc: Any, cov: Any, value: Any) -> dict[str, Any]:
        tril = torch.linalg.cholesky(cov) if D is theirs else tensorgrad.linalg.cholesky(cov)
        by_cov = D.MultivariateNormal(loc, covariance_matrix=cov)
        by_tril = D.MultivariateNormal(loc, scale_tril=tril)
        by_precision = D.MultivariateNormal(loc, precision_matrix=by_cov.precision_matrix)
        return {"cov: log_prob": by_cov.log_prob(value), "cov: entropy": by_cov.entropy(),
                "cov: variance": by_cov.variance, "cov: scale_tril": by_cov.scale_tril,
                "cov: precision": by_cov.precision_matrix, "mean": by_cov.mean,
                "tril: log_prob": by_tril.log_prob(value),
                "tril: covariance": by_tril.covariance_matrix,
                "precision: log_prob": by_precision.log_prob(value),
                "kl": D.kl_divergence(by_tril, D.MultivariateNormal(loc * 0.5 + 1,
                                                                     covariance_matrix=cov[:1]
                                                                     * 2)),
                "expand": by_tril.expand((3, 2)).log_prob(value[0])}

    compare(results, [rng.standard_normal((2, 3)), _spd(2), rng.standard_normal((4, 2, 3))],
            dtype, rtol=RTOL[dtype] * 100)
    compare(results, [rng.standard_normal(3), _spd(2), rng.standard_normal((4, 1, 3))], dtype,
            rtol=RTOL[dtype] * 100)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multivariate_normal_rsample_with_the_same_noise(dtype, monkeypatch):
    eps = rng.standard_normal((5, 2, 3)).astype(dtype)
    monkeypatch.setattr(theirs.multivariate_normal, "_standard_normal",
                        lambda shape, dtype, device: torch.tensor(eps))
    monkeypatch.setattr(ours.multivariate_normal, "_standard_normal",
                        lambda shape, dtype: Tensor(eps))

    def results(D: Any, loc: Any, cov: Any) -> dict[str, Any]:
        return {"rsample": D.MultivariateNormal(loc, covariance_matrix=cov).rsample((5,))}

    compare(results, [rng.standard_normal((2, 3)), _spd(2)], dtype, rtol=RTOL[dtype] * 100)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lowrank_multivariate_normal(dtype):
    def results(D: Any, loc: Any, factor: Any, diag: Any, value: Any) -> dict[str, Any]:
        d = D.LowRankMultivariateNormal(loc, factor, diag)
        full = D.MultivariateNormal(loc, covariance_matrix=d.covariance_matrix)
        return {"log_prob": d.log_prob(value), "entropy": d.entropy(),
                "variance": d.variance, "covariance": d.covariance_matrix,
                "scale_tril": d.scale_tril, "precision": d.precision_matrix,
                "kl": D.kl_divergence(d, D.LowRankMultivariateNormal(loc + 1, factor * 2,
                                                                      diag)),
                "kl to full": D.kl_divergence(d, full),
                "kl from full": D.kl_divergence(full, d)}

    compare(results, [rng.standard_normal((2, 4)), rng.standard_normal((2, 4, 2)),
                      positive(4), rng.standard_normal((3, 2, 4))], dtype,
            rtol=RTOL[dtype] * 100)


# ---- continuous families ----

CONTINUOUS = {
    "Exponential": (lambda D, a, b: D.Exponential(a), lambda: (positive(2, 3), positive(3))),
    "Laplace": (lambda D, a, b: D.Laplace(a, b),
                lambda: (rng.standard_normal((2, 3)), positive(3))),
    "Cauchy": (lambda D, a, b: D.Cauchy(a, b),
               lambda: (rng.standard_normal((2, 3)), positive(3))),
    "Gumbel": (lambda D, a, b: D.Gumbel(a, b + 1),  # (float32's cdf underflows below)
               lambda: (rng.standard_normal((2, 3)), positive(3))),
    "HalfNormal": (lambda D, a, b: D.HalfNormal(a), lambda: (positive(2, 3), positive(3))),
    "Gamma": (lambda D, a, b: D.Gamma(a, b), lambda: (positive(2, 3), positive(3))),
    "Chi2": (lambda D, a, b: D.Chi2(a), lambda: (positive(2, 3), positive(3))),
    "Beta": (lambda D, a, b: D.Beta(a, b), lambda: (positive(2, 3), positive(3))),
    "StudentT": (lambda D, a, b: D.StudentT(a, b, b * 2),
                 lambda: (positive(2, 3, low=0.5, high=5), positive(3))),
    "Kumaraswamy": (lambda D, a, b: D.Kumaraswamy(a, b), lambda: (positive(2, 3), positive(3))),
    "Pareto": (lambda D, a, b: D.Pareto(a * 0.01, b + 2), lambda: (positive(2, 3), positive(3))),
    "Weibull": (lambda D, a, b: D.Weibull(a, b), lambda: (positive(2, 3), positive(3))),
    "HalfCauchy": (lambda D, a, b: D.HalfCauchy(a), lambda: (positive(2, 3), positive(3))),
    "InverseGamma": (lambda D, a, b: D.InverseGamma(a + 2, b),
                     lambda: (positive(2, 3), positive(3))),
}
HAS_CDF = {"Exponential", "Laplace", "Cauchy", "Gumbel", "HalfNormal", "Pareto", "Weibull",
           "HalfCauchy"}
# PyTorch's trigamma (digamma's derivative) is off by up to ~1e-9 relative (at 1.5 it gives
# 0.93480220097, pi^2/2 - 4 = 0.93480220054); tensorgrad's is exact: gradients through digamma
# are held to 1e-8
DIGAMMA_RTOL = {np.float64: 1e-8, np.float32: 3e-4}
HAS_KL = {"Exponential", "Laplace", "Cauchy", "Gumbel", "HalfNormal", "Gamma", "Beta",
          "Pareto"}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_continuous_families(name, dtype):
    make, params = CONTINUOUS[name]
    a, b = params()
    unit = name in ("Beta", "Kumaraswamy")
    nonnegative = name in ("Exponential", "HalfNormal", "Gamma", "Chi2", "Pareto", "Weibull",
                           "HalfCauchy", "InverseGamma")
    value = (rng.uniform(0.02, 0.98, (4, 2, 3)) if unit else positive(4, 2, 3, low=0.05)
             if nonnegative else rng.standard_normal((4, 2, 3)) * 2)

    def results(D: Any, a: Any, b: Any, v: Any, p: Any) -> dict[str, Any]:
        d = make(D, a, b)
        out = {"log_prob": d.log_prob(v), "entropy": d.entropy(), "mean": d.mean,
               "mode": d.mode, "variance": d.variance, "stddev": d.stddev}
        if name in HAS_CDF:
            out["cdf"] = d.cdf(v)
            out["icdf"] = d.icdf(p)
        if name in HAS_KL:
            out["kl"] = D.kl_divergence(d, make(D, a * 1.5, b * 0.7))
        out["expanded log_prob"] = d.expand((5,) + tuple(d.batch_shape)).log_prob(v[:1])
        return out

    rtol = DIGAMMA_RTOL[dtype] if name in ("Beta", "Gamma", "Chi2", "StudentT",
                                           "InverseGamma", "Kumaraswamy") else RTOL[
        dtype] * 10
    compare(results, [a, b, value, rng.uniform(0.01, 0.99, (2, 3))], dtype, rtol=rtol)
    # size-0 batches (PyTorch's Beta cannot check them: the two-entry Dirichlet's
    # independent constraint reshapes 0 entries with -1)
    if name != "Beta":
        compare(results, [a[:0], b, value[:, :0], np.zeros((0, 3))], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_continuous_with_numbers_and_edges(dtype):
    def results(D: Any, v: Any, p: Any) -> dict[str, Any]:
        return {"exponential": D.Exponential(2.0).log_prob(v.abs()),
                "exponential icdf": D.Exponential(2.0).icdf(p),
                "laplace icdf": D.Laplace(0.0, 2.0).icdf(p),
                "laplace cdf": D.Laplace(1.0, 2.0).cdf(v),
                "cauchy icdf": D.Cauchy(0.0, 2.0).icdf(p),
                "halfnormal icdf": D.HalfNormal(2.0).icdf(p),
                "gumbel icdf": D.Gumbel(0.0, 2.0, validate_args=False).icdf(p),
                "gumbel cdf": D.Gumbel(0.0, 2.0, validate_args=False).cdf(v),
                "halfnormal below 0": D.HalfNormal(1.0, validate_args=False).log_prob(v),
                "gamma at 0": D.Gamma(1.0, 2.0).log_prob(p * 0),
                "gamma of concentration < 1 at 0": D.Gamma(0.5, 2.0).log_prob(p * 0),
                "beta at 0 and 1": D.Beta(1.0, 1.0).log_prob(p.round()),
                "studentT df 2 and 1.5 (variance)": D.StudentT(
                    p * 0 + 2).variance + D.StudentT(p * 0 + 1.5).variance}

    v = np.array([-3.0, -0.5, 0.0, 0.2, 4.0, np.inf, -np.inf])
    p = np.array([0.0, 1e-6, 0.3, 0.5, 0.9, 1 - 1e-6, 1.0])
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # numbers make tensors of it, as here
    try:
        compare(results, [v, p], dtype, rtol=RTOL[dtype] * 10)
    finally:
        torch.set_default_dtype(previous)
    means = [lib.StudentT(lib_tensor(lib, [0.5, 1.0, 1.5, 3.0])).mean for lib in (ours, theirs)]
    assert_same(means[0], means[1], "studentT mean", 1e-12)


def lib_tensor(lib: Any, values: Any) -> Any:
    return tensorgrad.tensor(values) if lib is ours else torch.tensor(values,
                                                                      dtype=torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gamma_cdf(dtype):
    # PyTorch's gammainc is off by up to ~2e-9 relative (mpmath says ours is within 1e-12);
    # it has no gradient to the concentration, so that one is held to finite differences
    def results(D: Any, a: Any, rate: Any, v: Any) -> dict[str, Any]:
        return {"cdf": D.Gamma(a.detach(), rate).cdf(v),
                "chi2 cdf": D.Chi2(a.detach() * 2).cdf(v)}

    a = np.exp(rng.uniform(-3, 4, (2, 3)))
    v = np.exp(rng.uniform(-4, 4, (4, 2, 3))) * a
    v[0, 0] = [0.0, np.inf, 1e-300]
    compare(results, [a, positive(3), v], dtype, rtol={np.float64: 1e-8, np.float32: 1e-4}[dtype])
    a64 = tensorgrad.tensor(a, requires_grad=True)
    cdf = ours.Gamma(a64, 1.5).cdf(tensorgrad.tensor(v[1]))
    cdf.sum().backward()
    h = 1e-6
    slope = (ours.Gamma(tensorgrad.tensor(a + h), 1.5).cdf(tensorgrad.tensor(v[1]))
             - ours.Gamma(tensorgrad.tensor(a - h), 1.5).cdf(tensorgrad.tensor(v[1]))) / (2 * h)
    np.testing.assert_allclose(a64.grad.numpy(), slope.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dirichlet(dtype):
    def results(D: Any, c: Any, v: Any) -> dict[str, Any]:
        d = D.Dirichlet(c)
        return {"log_prob": d.log_prob(v), "entropy": d.entropy(), "mean": d.mean,
                "mode": d.mode, "variance": d.variance,
                "kl": D.kl_divergence(d, D.Dirichlet(c.flip(-1) * 2))}

    c = positive(2, 4)
    c[1] = [0.5, 0.2, 0.9, 0.3]  # all below 1: the mode is a corner
    v = rng.dirichlet(np.ones(4), (3, 2))
    compare(results, [c, v], dtype, rtol=DIGAMMA_RTOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_gamma_gradient_is_pytorchs_implicit_one(dtype):
    # PyTorch's is an approximation (to about 1e-3); ours sums the series of F
    from tensorgrad.distributions.gamma import _standard_gamma_grad_array

    for alpha in [0.01, 0.3, 1.0, 4.5, 30.0, 500.0]:
        x = np.maximum(rng.standard_gamma(alpha, 300), 1e-30).astype(dtype)
        mine = _standard_gamma_grad_array(x, np.full(x.shape, alpha))
        theirs_ = torch._standard_gamma_grad(torch.full(x.shape, alpha, dtype=torch.float64),
                                             torch.tensor(x, dtype=torch.float64)).numpy()
        np.testing.assert_allclose(mine, theirs_, rtol=3e-3, atol=1e-12)


# ---- discrete families ----

@pytest.mark.parametrize("dtype", DTYPES)
def test_poisson_geometric_binomial(dtype):
    def results(D: Any, rate: Any, p: Any, logits: Any, k: Any) -> dict[str, Any]:
        poisson = D.Poisson(rate)
        geometric, by_logits = D.Geometric(probs=p), D.Geometric(logits=logits)
        binomial = D.Binomial(5, probs=p)
        binomial_logits = D.Binomial(k.new_full(logits.shape, 5.0) if hasattr(
            k, "new_full") else 5, logits=logits)
        return {"poisson: log_prob": poisson.log_prob(k), "poisson: mean": poisson.mean,
                "poisson: mode": poisson.mode, "poisson: variance": poisson.variance,
                "poisson: kl": D.kl_divergence(poisson, D.Poisson(rate * 2)),
                "geometric: log_prob": geometric.log_prob(k),
                "geometric: entropy": geometric.entropy(), "geometric: mean": geometric.mean,
                "geometric: variance": geometric.variance,
                "geometric logits: log_prob": by_logits.log_prob(k),
                "geometric: kl": D.kl_divergence(geometric, by_logits),
                "binomial: log_prob": binomial.log_prob(k.clamp(max=5)),
                "binomial: entropy": binomial.entropy(), "binomial: mean": binomial.mean,
                "binomial: mode": binomial.mode, "binomial: variance": binomial.variance,
                "binomial logits: log_prob": binomial_logits.log_prob(k.clamp(max=5)),
                "binomial: kl": D.kl_divergence(binomial, binomial_logits),
                "binomial: enumerate_support": binomial.enumerate_support(),
                "negative binomial: log_prob": D.NegativeBinomial(rate, logits=logits
                                                                  ).log_prob(k),
                "negative binomial probs: log_prob": D.NegativeBinomial(
                    rate, probs=p.clamp(max=0.9)).log_prob(k),
                "negative binomial: mean": D.NegativeBinomial(rate, logits=logits).mean,
                "negative binomial: variance": D.NegativeBinomial(rate, logits=logits).variance,
                "negative binomial: mode": D.NegativeBinomial(rate, logits=logits).mode}

    p = rng.uniform(0.05, 0.95, (2, 3))
    p[0, 0] = 1.0  # a certain success
    k = rng.integers(0, 8, (4, 2, 3)).astype(float)
    k[:, 0, 0] = 0
    compare(results, [positive(2, 3), p, rng.standard_normal((2, 3)) * 3, k], dtype,
            rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multinomial(dtype):
    def results(D: Any, probs: Any, logits: Any, counts: Any) -> dict[str, Any]:
        d, e = D.Multinomial(6, probs=probs), D.Multinomial(6, logits=logits)
        return {"log_prob": d.log_prob(counts), "logits: log_prob": e.log_prob(counts),
                "entropy": d.entropy(), "mean": d.mean, "variance": d.variance,
                "logits: entropy": e.entropy()}

    probs = rng.uniform(0.1, 1, (2, 4))
    probs[1, 2] = 0.0  # a category never drawn
    counts = rng.multinomial(6, [0.25] * 4, (3, 2)).astype(float)
    counts[:, 1, 2] = 0
    counts[:, 1, :] = rng.multinomial(6, [1 / 3] * 3, 3)[:, [0, 1, 1, 2]] * [1, 1, 0, 1]
    counts[:, 1, 0] += 6 - counts[:, 1].sum(-1)
    # PyTorch's entropy takes lgamma(total_count + 1) of an integer tensor, in the default
    # dtype: float64 here, as tensorgrad's default (in float32 it is 8e-8 off)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        compare(results, [probs, rng.standard_normal((2, 4)), counts], dtype,
                rtol=RTOL[dtype] * 10)
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relaxed_and_mixture(dtype):
    def results(D: Any, t: Any, probs: Any, logits: Any, x: Any, y: Any, loc: Any,
                scale: Any) -> dict[str, Any]:
        rb = D.RelaxedBernoulli(t, probs=probs)
        rc = D.RelaxedOneHotCategorical(t, logits=logits)
        mix = D.MixtureSameFamily(D.Categorical(logits=logits), D.Normal(loc, scale))
        vector_mix = D.MixtureSameFamily(
            D.Categorical(logits=logits),
            D.Independent(D.Normal(loc.unsqueeze(-1).expand(2, 3, 2), scale.unsqueeze(-1)), 1))
        return {"relaxed bernoulli: log_prob": rb.log_prob(x),
                "relaxed one-hot: log_prob": rc.log_prob(y),
                "mixture: log_prob": mix.log_prob(x.unsqueeze(-1).expand(4, 2) * 3 - 1),
                "mixture: mean": mix.mean, "mixture: variance": mix.variance,
                "mixture: cdf": mix.cdf(x[:2] * 2), "vector mixture: mean": vector_mix.mean,
                "vector mixture: log_prob": vector_mix.log_prob(x[:2].unsqueeze(-1) * 1.0
                                                                + x[2:].unsqueeze(0))}

    y = rng.dirichlet(np.ones(3), (4, 2))
    compare(results, [np.array(0.7), rng.uniform(0.1, 0.9, 4), rng.standard_normal((2, 3)),
                      rng.uniform(0.05, 0.95, 4), y, rng.standard_normal((2, 3)), positive(3)],
            dtype, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relaxed_rsample_with_the_same_noise(dtype, monkeypatch):
    u = rng.uniform(0, 1, (5, 2, 3)).astype(dtype)
    monkeypatch.setattr(torch, "rand", lambda *shape, **kw: torch.tensor(u))
    monkeypatch.setattr(ours.relaxed_bernoulli, "rand", lambda *shape, **kw: Tensor(u))
    monkeypatch.setattr(ours.relaxed_categorical, "rand", lambda *shape, **kw: Tensor(u))

    def results(D: Any, t: Any, logits: Any) -> dict[str, Any]:
        return {"relaxed bernoulli": D.RelaxedBernoulli(t, logits=logits).rsample((5,)),
                "relaxed one-hot": D.RelaxedOneHotCategorical(t, logits=logits).rsample((5,))}

    compare(results, [np.array(0.4), rng.standard_normal((2, 3))], dtype)


def test_straight_through_gradient_is_the_probabilities():
    for lib, make in ((ours, tensorgrad.tensor), (theirs, torch.tensor)):
        logits = make([[0.3, -1.0, 2.0]], requires_grad=True)
        weights = make([[1.0, 2.0, 3.0]])
        d = lib.OneHotCategoricalStraightThrough(logits=logits)
        sample = d.rsample((4,))
        assert tuple(sample.shape) == (4, 1, 3) and d.has_rsample
        (sample * weights).sum().backward()
        if lib is ours:
            mine = logits.grad.numpy()
        else:
            np.testing.assert_allclose(mine, logits.grad.numpy(), rtol=1e-6)


def test_shapes_and_supports_agree():
    def made(lib: Any) -> dict[str, Any]:
        z = (lambda *s: tensorgrad.zeros(*s)) if lib is ours else (
            lambda *s: torch.zeros(*s, dtype=torch.float64))
        o = (lambda *s: tensorgrad.ones(*s)) if lib is ours else (
            lambda *s: torch.ones(*s, dtype=torch.float64))
        return {
            "LogNormal": lib.LogNormal(z(2, 1), o(3)), "Exponential": lib.Exponential(o(2)),
            "Gamma": lib.Gamma(o(2, 3), 1.0), "Beta": lib.Beta(o(3), o(2, 1)),
            "Dirichlet": lib.Dirichlet(o(2, 4)), "Laplace": lib.Laplace(0.0, o(3)),
            "Cauchy": lib.Cauchy(z(3), 1.0), "StudentT": lib.StudentT(o(3)),
            "Gumbel": lib.Gumbel(z(2, 3), o(3)), "HalfNormal": lib.HalfNormal(o(2)),
            "Poisson": lib.Poisson(o(3)), "Binomial": lib.Binomial(4, o(2) / 2),
            "Multinomial": lib.Multinomial(3, o(2, 4)), "Geometric": lib.Geometric(o(3) / 2),
            "Chi2": lib.Chi2(o(3)),
            "MultivariateNormal": lib.MultivariateNormal(z(2, 3), scale_tril=o(3).diag_embed()),
            "LowRankMultivariateNormal": lib.LowRankMultivariateNormal(z(3), o(3, 1), o(3)),
            "RelaxedBernoulli": lib.RelaxedBernoulli(o(()), probs=o(3) / 2),
            "RelaxedOneHotCategorical": lib.RelaxedOneHotCategorical(o(()), probs=o(2, 3)),
            "MixtureSameFamily": lib.MixtureSameFamily(lib.Categorical(o(2, 3)),
                                                       lib.Normal(z(2, 3), 1.0)),
            "OneHotCategoricalStraightThrough": lib.OneHotCategoricalStraightThrough(o(3)),
            "Pareto": lib.Pareto(o(3), 2.0), "Weibull": lib.Weibull(o(2, 1), o(3)),
            "HalfCauchy": lib.HalfCauchy(o(3)), "InverseGamma": lib.InverseGamma(o(3), 2.0),
            "NegativeBinomial": lib.NegativeBinomial(o(3) * 2, o(3) / 3),
            "Kumaraswamy": lib.Kumaraswamy(o(3), 2.0),
            "LogisticNormal": lib.LogisticNormal(z(2, 3), o(3)),
        }

    mine, their = made(ours), made(theirs)
    for name in mine:
        m, t = mine[name], their[name]
        assert tuple(m.batch_shape) == tuple(t.batch_shape), name
        assert tuple(m.event_shape) == tuple(t.event_shape), name
        assert m.has_rsample == t.has_rsample, name
        assert type(m.support).__name__ == type(t.support).__name__, name
        if name not in ("Binomial", "Pareto"):  # (tensor bounds print as Tensor([...]))
            assert repr(m.support) == repr(t.support), name
        assert m.support.event_dim == t.support.event_dim, name
        assert m.support.is_discrete == t.support.is_discrete, name
        assert sorted(m.arg_constraints) == sorted(t.arg_constraints), name
        assert tuple(m.sample((2,)).shape) == tuple(t.sample((2,)).shape), name
        e, te = m.expand((5,) + tuple(m.batch_shape)), t.expand((5,) + tuple(t.batch_shape))
        assert tuple(e.batch_shape) == tuple(te.batch_shape), name
        assert tuple(e.sample().shape) == tuple(te.sample().shape), name


@pytest.mark.parametrize("make", [
    lambda D, z: D.Exponential(z - 1), lambda D, z: D.Laplace(z, z),
    lambda D, z: D.Gamma(z + 1, z - 1), lambda D, z: D.Beta(z, z + 1),
    lambda D, z: D.Dirichlet((z - 1).unsqueeze(0)), lambda D, z: D.Poisson(z - 1),
    lambda D, z: D.Geometric(z), lambda D, z: D.Geometric(z + 2),
    lambda D, z: D.Binomial(z - 1, probs=z + 0.5), lambda D, z: D.StudentT(z),
    lambda D, z: D.HalfNormal(z), lambda D, z: D.LogNormal(z, z),
    lambda D, z: D.MultivariateNormal(z.new_zeros(2), scale_tril=-z.new_ones(2).diag_embed()),
    lambda D, z: D.MultivariateNormal(z.new_zeros(2), covariance_matrix=z.new_ones(2, 2)),
])
def test_invalid_parameters_raise_value_error_on_both(make):
    for D, z in ((ours, tensorgrad.zeros(2)), (theirs, torch.zeros(2, dtype=torch.float64))):
        with pytest.raises(ValueError):
            make(D, z)


@pytest.mark.parametrize("make, value", [
    (lambda D, o: D.Exponential(o), -1.0), (lambda D, o: D.Gamma(o, o), -0.5),
    (lambda D, o: D.Beta(o, o), 1.5), (lambda D, o: D.Poisson(o), 0.5),
    (lambda D, o: D.Binomial(3, probs=o / 2), 4.0), (lambda D, o: D.LogNormal(o, o), -1.0),
    (lambda D, o: D.TransformedDistribution(D.Normal(o, o), D.TanhTransform()), 1.5),
])
def test_values_out_of_support_raise_value_error_on_both(make, value):
    for D, o, tensor in ((ours, tensorgrad.ones(2), tensorgrad.tensor),
                         (theirs, torch.ones(2, dtype=torch.float64), torch.tensor)):
        with pytest.raises(ValueError):
            make(D, o).log_prob(tensor([value, value], dtype=o.dtype))


# ---- a SAC actor step ----

def _sac_actor_losses(lib: Any, tg: Any, weights: list[np.ndarray], states: np.ndarray,
                      noise: np.ndarray, steps: int = 5) -> list[float]:
    """A Gaussian policy squashed by tanh, trained for a few Adam steps on
    alpha * log_prob(a) - Q(s, a) with Q a fixed quadratic; the noise passed in (the same
    at each step, so that the loss must fall)."""
    w1, b1, wm, ws = (tg.tensor(w.copy(), requires_grad=True) for w in weights)
    opt = tg.optim.Adam([w1, b1, wm, ws], lr=1e-2)
    s = tg.tensor(states)
    losses = []
    for _ in range(steps):
        h = (s @ w1 + b1).relu()
        mu, log_std = h @ wm, (h @ ws).clamp(-5, 2)
        base = lib.Normal(mu, log_std.exp())
        policy = lib.TransformedDistribution(base, [lib.TanhTransform(cache_size=1)])
        eps = tg.tensor(noise)
        pre = mu + log_std.exp() * eps  # rsample with this noise
        action = policy.transforms[0](pre)
        log_prob = policy.log_prob(action).sum(-1)
        q = -((action - 0.3) ** 2).sum(-1)
        entropy_term = 0.2 * base.entropy().sum(-1).mean()
        loss = (0.2 * log_prob - q).mean() - 0.01 * entropy_term
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_sac_actor_update_agrees_with_pytorchs():
    r = np.random.default_rng(5)
    weights = [r.standard_normal((4, 8)) * 0.5, np.zeros(8), r.standard_normal((8, 2)) * 0.5,
               r.standard_normal((8, 2)) * 0.1]
    states, noise = r.standard_normal((16, 4)), r.standard_normal((16, 2))
    mine = _sac_actor_losses(ours, tensorgrad, weights, states, noise)
    torch_tg = type("T", (), {"tensor": staticmethod(
        lambda a, requires_grad=False: torch.tensor(a, dtype=torch.float64,
                                                    requires_grad=requires_grad)),
        "optim": torch.optim})
    their = _sac_actor_losses(theirs, torch_tg, weights, states, noise)
    np.testing.assert_allclose(mine, their, rtol=1e-10)
    assert mine[-1] < mine[0]


def test_register_kl_for_new_pairs():
    class MyExp(ours.Exponential):
        pass

    @ours.register_kl(MyExp, ours.Gamma)
    def _kl(p: Any, q: Any) -> Any:
        return p.rate * 0 + 42.0

    assert float(ours.kl_divergence(MyExp(1.0), ours.Gamma(1.0, 1.0))) == 42.0
    # a subclass without its own pair uses its parent's
    assert float(ours.kl_divergence(MyExp(1.0), ours.Exponential(2.0))) == pytest.approx(
        float(theirs.kl_divergence(theirs.Exponential(1.0), theirs.Exponential(2.0))))
    assert math.isfinite(float(ours.kl_divergence(ours.Gamma(2.0, 1.0), ours.Chi2(3.0))))


def test_gamma_cdf_gradient_of_gradient_in_the_value():
    a, v = positive(4, low=0.5), positive(4)
    grads = []
    for lib, make, autograd in ((ours, tensorgrad.tensor, tensorgrad.autograd),
                                (theirs, torch.tensor, torch.autograd)):
        value = make(v, requires_grad=True)
        rate = make(np.full(4, 1.3), requires_grad=True)
        cdf = lib.Gamma(make(a), rate).cdf(value)
        (slope,) = autograd.grad(cdf.sum(), value, create_graph=True)
        second = autograd.grad(slope.sum(), [value, rate])
        grads.append([slope.detach().numpy()] + [g.numpy() for g in second])
    for mine, their in zip(*grads):
        np.testing.assert_allclose(mine, their, rtol=1e-10)
    with pytest.raises(NotImplementedError):
        a_leaf = tensorgrad.tensor(a, requires_grad=True)
        cdf = ours.Gamma(a_leaf, 1.0).cdf(tensorgrad.tensor(v))
        (g,) = tensorgrad.autograd.grad(cdf.sum(), a_leaf, create_graph=True)


def more_transform_results(D: Any, x: Any, m: Any) -> dict[str, Any]:
    T = D.transforms
    out: dict[str, Any] = {}
    named = {"softplus": T.SoftplusTransform(), "stick-breaking": T.StickBreakingTransform(),
             "independent": T.IndependentTransform(T.SigmoidTransform(), 1),
             "reshape": T.ReshapeTransform((3,), (3, 1)),
             "cdf": T.CumulativeDistributionTransform(D.Normal(x.new_zeros(()) + 0.5, 2.0))}
    for name, t in named.items():
        y = t(x)
        out[f"{name}: y"] = y
        out[f"{name}: inv"] = t.inv(y)
        out[f"{name}: ladj"] = t.log_abs_det_jacobian(x, y)
    lower = T.LowerCholeskyTransform()
    out["lower cholesky"] = lower(m)
    out["lower cholesky inv"] = lower.inv(lower(m))
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_more_transforms(dtype):
    x = rng.standard_normal((2, 3)) * 2
    compare(more_transform_results, [x, rng.standard_normal((2, 3, 3))], dtype)


def test_biject_to_and_transform_to_pick_pytorchs_transforms():
    pairs = [("real", ()), ("positive", ()), ("nonnegative", ()), ("unit_interval", ()),
             ("simplex", (3,)), ("real_vector", (3,)), ("lower_cholesky", (3, 3))]
    made = [("greater_than", (1.5,)), ("less_than", (-2.0,)), ("interval", (-1.0, 3.0)),
            ("half_open_interval", (0.0, 2.0)), ("greater_than_eq", (0.5,))]
    x = rng.standard_normal((2, 3))
    cases = [(getattr(ours.constraints, n), getattr(theirs.constraints, n), s) for n, s in pairs]
    cases += [(getattr(ours.constraints, n)(*a), getattr(theirs.constraints, n)(*a), ())
              for n, a in made]
    for mine, their, shape in cases:
        for ours_registry, theirs_registry in ((ours.biject_to, theirs.biject_to),
                                               (ours.transform_to, theirs.transform_to)):
            try:
                t_their = theirs_registry(their)
            except NotImplementedError:
                with pytest.raises(NotImplementedError):
                    ours_registry(mine)
                continue
            t_mine = ours_registry(mine)
            assert type(t_mine).__name__ == type(t_their).__name__, repr(their)
            value = x[..., :3, None] * x[..., None, :3] if shape == (3, 3) else x
            y, ty = t_mine(tensorgrad.tensor(value)), t_their(torch.tensor(value))
            assert_same(y, ty, repr(their), 1e-12)
            assert bool(mine.check(y).all()), repr(their)


@pytest.mark.parametrize("dtype", DTYPES)
def test_size_zero_multivariate_normal_and_nan_values(dtype):
    # (PyTorch's checks of a size-0 batch against an independent constraint raise in a
    # reshape, as tensorgrad's do: validation off here)
    def results(D: Any, loc: Any, tril: Any, value: Any) -> dict[str, Any]:
        d = D.MultivariateNormal(loc, scale_tril=tril, validate_args=False)
        return {"log_prob": d.log_prob(value), "entropy": d.entropy(),
                "covariance": d.covariance_matrix, "kl": D.kl_divergence(d, d)}

    compare(results, [np.zeros((0, 3)), np.eye(3) * 2, np.zeros((2, 0, 3))], dtype)

    def nan_results(D: Any, v: Any) -> dict[str, Any]:
        one = v.new_ones(())
        made = [D.Laplace(0 * one, one, validate_args=False),
                D.Cauchy(0 * one, one, validate_args=False),
                D.Exponential(one, validate_args=False),
                D.Gamma(2 * one, one, validate_args=False),
                D.LogNormal(0 * one, one, validate_args=False),
                D.StudentT(3 * one, validate_args=False)]
        return {f"{type(d).__name__}": d.log_prob(v) for d in made}

    compare(nan_results, [np.array([np.nan, 0.5, np.inf])], dtype)
