"""The distributions beyond the first few, without PyTorch: draws of the right shapes and
dtypes whose means and variances are the distributions' (fixed seeds, tolerances of several
standard errors), reparameterized gradients that are what they must be (Gamma's implicit
one: d E[x] / d concentration, over many draws), transforms inverting each other with the
right log-Jacobians (against finite differences), and the errors PyTorch raises.
test_distributions_more_torch.py holds the values against PyTorch's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import tensorgrad
from tensorgrad import Tensor
from tensorgrad.distributions import (
    AffineTransform,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    Chi2,
    ComposeTransform,
    Dirichlet,
    Exponential,
    ExpTransform,
    Gamma,
    Geometric,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    InverseGamma,
    Kumaraswamy,
    Laplace,
    LogNormal,
    LowRankMultivariateNormal,
    MixtureSameFamily,
    Multinomial,
    MultivariateNormal,
    NegativeBinomial,
    Normal,
    OneHotCategoricalStraightThrough,
    Pareto,
    Poisson,
    PowerTransform,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    SigmoidTransform,
    SoftmaxTransform,
    StudentT,
    TanhTransform,
    TransformedDistribution,
    Weibull,
    constraints,
    identity_transform,
    kl_divergence,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")
N = 40_000


def t(values: Any, dtype: Any = tensorgrad.float64, requires_grad: bool = False) -> Tensor:
    return tensorgrad.tensor(values, dtype=dtype, requires_grad=requires_grad)


# each: a distribution with a batch of 2, its mean and variance (None: not finite)
FAMILIES = {
    "LogNormal": (lambda: LogNormal(t([0.0, 0.5]), t([0.3, 0.5])), None),
    "Exponential": (lambda: Exponential(t([0.5, 2.0])), None),
    "Laplace": (lambda: Laplace(t([0.0, 1.0]), t([1.0, 0.5])), None),
    "Gumbel": (lambda: Gumbel(t([0.0, 1.0]), t([1.0, 2.0])), None),
    "HalfNormal": (lambda: HalfNormal(t([1.0, 0.5])), None),
    "Gamma": (lambda: Gamma(t([0.3, 5.0]), t([1.0, 2.0])), None),
    "Chi2": (lambda: Chi2(t([1.0, 4.0])), None),
    "Beta": (lambda: Beta(t([0.5, 2.0]), t([0.5, 3.0])), None),
    "StudentT": (lambda: StudentT(t([5.0, 8.0]), t([0.0, 1.0]), t([1.0, 2.0])), None),
    "Poisson": (lambda: Poisson(t([0.5, 7.0])), None),
    "Binomial": (lambda: Binomial(t([3.0, 10.0]), t([0.2, 0.7])), None),
    "Geometric": (lambda: Geometric(t([0.3, 0.8])), None),
    "NegativeBinomial": (lambda: NegativeBinomial(t([2.0, 5.5]), t([0.3, 0.6])), None),
    "Kumaraswamy": (lambda: Kumaraswamy(t([2.0, 0.7]), t([3.0, 1.5])), None),
    "Pareto": (lambda: Pareto(t([1.0, 0.5]), t([8.0, 10.0])), None),
    "Weibull": (lambda: Weibull(t([1.0, 2.0]), t([0.8, 3.0])), None),
    "InverseGamma": (lambda: InverseGamma(t([9.0, 12.0]), t([1.0, 3.0])), None),
    "MixtureSameFamily": (lambda: MixtureSameFamily(
        Categorical(t([[0.3, 0.7], [0.5, 0.5]])), Normal(t([[-1.0, 2.0], [0.0, 3.0]]), 0.5)),
        None),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_draws_have_the_mean_and_variance(name):
    tensorgrad.manual_seed(0)
    d = FAMILIES[name][0]()
    draws = d.sample((N,))
    assert tuple(draws.shape) == (N, 2) and draws.dtype == tensorgrad.float64
    values = draws.numpy()
    assert bool(d.support.check(draws).all())
    mean, variance = d.mean.detach().numpy(), d.variance.detach().numpy()
    # the sample mean within 5 standard errors; the variance within 10% (fourth moments
    # of these are moderate)
    np.testing.assert_array_less(np.abs(values.mean(0) - mean), 5 * np.sqrt(variance / N))
    np.testing.assert_allclose(values.var(0), variance, rtol=0.1)


def test_cauchy_draws_have_its_quartiles():
    tensorgrad.manual_seed(0)
    d = Cauchy(t([0.0, 2.0]), t([1.0, 3.0]))
    values = d.sample((N,)).numpy()
    quartiles = np.quantile(values, [0.25, 0.5, 0.75], axis=0)
    expected = np.stack([d.icdf(t(q)).detach().numpy() for q in (0.25, 0.5, 0.75)])
    np.testing.assert_allclose(quartiles, expected, atol=0.05 * 3)


@pytest.mark.parametrize("dtype", [tensorgrad.float32, tensorgrad.float64])
def test_samples_keep_dtype_and_shape(dtype):
    tensorgrad.manual_seed(1)
    one = t([1.0, 2.0], dtype)
    made = [LogNormal(one, one), Exponential(one), Laplace(one, one), Cauchy(one, one),
            Gumbel(one, one), HalfNormal(one), Gamma(one, one), Chi2(one), Beta(one, one),
            StudentT(one), Poisson(one), Binomial(5, probs=one / 4), Geometric(one / 4),
            RelaxedBernoulli(t(0.5, dtype), probs=one / 4), Pareto(one, one), Weibull(one, one),
            HalfCauchy(one), InverseGamma(one, one)]
    for d in made:
        for shape in [(), (3,), (0,), (2, 3)]:
            x = d.sample(shape)
            assert tuple(x.shape) == shape + (2,), type(d).__name__
            assert x.dtype == dtype, type(d).__name__
    vector = [Dirichlet(t([[1.0, 2.0, 3.0]], dtype)), Multinomial(4, t([0.2, 0.3, 0.5], dtype)),
              RelaxedOneHotCategorical(t(0.5, dtype), probs=t([0.2, 0.8], dtype)),
              MultivariateNormal(t([0.0, 1.0], dtype), scale_tril=t([[1.0, 0], [0.5, 2]],
                                                                   dtype)),
              LowRankMultivariateNormal(t([0.0, 1.0], dtype), t([[1.0], [0.5]], dtype),
                                        t([1.0, 2.0], dtype))]
    for d in vector:
        x = d.sample((4,))
        assert tuple(x.shape) == (4,) + tuple(d.batch_shape) + tuple(d.event_shape)
        assert x.dtype == dtype, type(d).__name__


def test_vector_draws_have_their_moments():
    tensorgrad.manual_seed(2)
    concentration = t([1.0, 2.0, 5.0])
    d = Dirichlet(concentration)
    x = d.sample((N,)).numpy()
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(x.mean(0), d.mean.numpy(), atol=5 * np.sqrt(0.05 / N))
    np.testing.assert_allclose(x.var(0), d.variance.numpy(), rtol=0.1)
    m = Multinomial(10, probs=t([0.2, 0.3, 0.5]))
    counts = m.sample((N,)).numpy()
    assert (counts.sum(-1) == 10).all()
    np.testing.assert_allclose(counts.mean(0), m.mean.numpy(), atol=0.05)
    np.testing.assert_allclose(counts.var(0), m.variance.numpy(), rtol=0.1)
    covariance = t([[2.0, 0.6], [0.6, 1.0]])
    g = MultivariateNormal(t([1.0, -1.0]), covariance_matrix=covariance)
    y = g.sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(y.T), covariance.numpy(), atol=0.05)
    low = LowRankMultivariateNormal(t([0.0, 0.0]), t([[1.0], [0.5]]), t([0.5, 0.5]))
    z = low.sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(z.T), low.covariance_matrix.numpy(), atol=0.05)


def test_relaxed_draws_approach_the_discrete_ones_as_the_temperature_falls():
    tensorgrad.manual_seed(3)
    hot = RelaxedOneHotCategorical(t(0.01), probs=t([0.2, 0.8])).sample((N,)).numpy()
    np.testing.assert_allclose(hot.sum(-1), 1.0, rtol=1e-9)
    np.testing.assert_allclose((hot.argmax(-1) == 1).mean(), 0.8, atol=0.02)
    assert (hot.max(-1) > 0.99).mean() > 0.95
    soft = RelaxedBernoulli(t(0.01), probs=t([0.3])).sample((N,)).numpy()
    np.testing.assert_allclose((soft > 0.5).mean(), 0.3, atol=0.02)


# ---- reparameterized gradients ----

def test_rsample_gradients_are_the_reparameterizations():
    tensorgrad.manual_seed(4)
    rate = t([0.5, 2.0], requires_grad=True)
    x = Exponential(rate).rsample((5,))
    x.sum().backward()
    # x = e / rate: dx/drate = -x / rate
    np.testing.assert_allclose(rate.grad.numpy(), (-x.detach() / rate.detach()).sum(0).numpy())
    loc, scale = t([0.0, 1.0], requires_grad=True), t([1.0, 2.0], requires_grad=True)
    y = Laplace(loc, scale).rsample((5,))
    y.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [5.0, 5.0])
    np.testing.assert_allclose(scale.grad.numpy(),
                               ((y.detach() - loc.detach()) / scale.detach()).sum(0).numpy())
    loc.grad = scale.grad = None
    c = Cauchy(loc, scale).rsample((5,))
    c.sum().backward()
    np.testing.assert_allclose(scale.grad.numpy(),
                               ((c.detach() - loc.detach()) / scale.detach()).sum(0).numpy())
    loc.grad = scale.grad = None
    z = LogNormal(loc, scale).rsample((5,))
    z.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), z.detach().sum(0).numpy())


def test_gamma_implicit_gradient_has_the_mean_gradient():
    # E[x] = a / b and E[x^2] = a (a + 1) / b^2, so their gradients to a are the means of
    # dx/da and of 2 x dx/da over draws
    tensorgrad.manual_seed(5)
    a = t([0.2, 1.0, 4.0, 50.0], requires_grad=True)
    x = Gamma(a, 2.0).rsample((N,))
    x.sum().backward()
    np.testing.assert_allclose(a.grad.numpy() / N, 0.5, rtol=0.03)
    a.grad = None
    x = Gamma(a, 2.0).rsample((N,))
    x.pow(2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy() / N, (2 * a.detach().numpy() + 1) / 4, rtol=0.05)
    # Beta and Dirichlet through it: E[x_0] = a0 / sum(a)
    c = t([2.0, 3.0], requires_grad=True)
    Dirichlet(c).rsample((N,))[..., 0].sum().backward()
    np.testing.assert_allclose(c.grad.numpy() / N, [3 / 25, -2 / 25], atol=0.01)
    a1 = t(2.0, requires_grad=True)
    Beta(a1, 3.0).rsample((N,)).sum().backward()
    np.testing.assert_allclose(a1.grad.numpy() / N, 3 / 25, atol=0.01)


def test_straight_through_and_relaxed_rsample_carry_gradients():
    tensorgrad.manual_seed(6)
    logits = t([0.5, -0.5, 1.0], requires_grad=True)
    d = OneHotCategoricalStraightThrough(logits=logits)
    sample = d.rsample((3,))
    assert bool(constraints.one_hot.check(sample).all())
    sample.sum().backward()  # the probabilities sum to 1: no gradient
    np.testing.assert_allclose(logits.grad.numpy(), 0.0, atol=1e-12)
    temperature = t(0.5, requires_grad=True)
    RelaxedBernoulli(temperature, logits=logits).rsample().sum().backward()
    assert temperature.grad is not None


# ---- transforms ----

def test_transforms_invert_and_their_log_jacobians_are_the_slopes():
    x = t([-3.0, -0.5, 0.1, 2.0])
    h = 1e-6
    for transform in [ExpTransform(), SigmoidTransform(), TanhTransform(),
                      AffineTransform(1.0, -3.0), AffineTransform(t([1.0]), t([0.5])),
                      ComposeTransform([AffineTransform(0.0, 0.5), TanhTransform()]),
                      ExpTransform().inv.inv, identity_transform]:
        y = transform(x)
        np.testing.assert_allclose(transform.inv(y).numpy(), x.numpy(), rtol=1e-9)
        slope = (transform(x + h) - transform(x - h)) / (2 * h)
        np.testing.assert_allclose(transform.log_abs_det_jacobian(x, y).numpy(),
                                   slope.abs().log().numpy(), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(transform.inv.log_abs_det_jacobian(y, x).numpy(),
                                   -slope.abs().log().numpy(), rtol=1e-6, atol=1e-6)
    positive = x.abs()
    power = PowerTransform(t(3.0))
    np.testing.assert_allclose(power.inv(power(positive)).numpy(), positive.numpy())
    soft = SoftmaxTransform()
    np.testing.assert_allclose(soft(x).sum().item(), 1.0)


def test_tanh_log_jacobian_stays_finite_where_tanh_rounds_to_one():
    x = t([-50.0, 20.0, 400.0], requires_grad=True)
    ladj = TanhTransform().log_abs_det_jacobian(x, x.tanh())
    assert np.isfinite(ladj.detach().numpy()).all()
    np.testing.assert_allclose(ladj.detach().numpy(), 2 * (math.log(2) - np.abs([50, 20, 400])),
                               rtol=1e-12)


def test_squashed_gaussian_log_prob_is_the_change_of_variables():
    tensorgrad.manual_seed(7)
    base = Normal(t([0.2, -0.4]), t([0.5, 1.5]))
    d = TransformedDistribution(base, [TanhTransform(cache_size=1)])
    assert d.has_rsample and d.support.check(d.sample((10,))).all()
    action = d.rsample((10,))
    pre = d.transforms[0].inv(action)
    expected = base.log_prob(pre) - (1 - action.pow(2)).log()
    np.testing.assert_allclose(d.log_prob(action).detach().numpy(),
                               expected.detach().numpy(), rtol=1e-6)


# ---- KL divergences ----

def test_kl_divergences_are_zero_to_themselves_and_positive_otherwise():
    pairs = [
        (lambda s: Gamma(t([1.0, 2.0]) * s, 3.0)),
        (lambda s: Beta(t([1.0, 2.0]) * s, 3.0)),
        (lambda s: Dirichlet(t([1.0, 2.0, 3.0]) * s)),
        (lambda s: Exponential(t([1.0, 2.0]) * s)),
        (lambda s: Laplace(t([0.0, 1.0]) * s, s)),
        (lambda s: Poisson(t([1.0, 2.0]) * s)),
        (lambda s: Geometric(t([0.1, 0.4]) * s)),
        (lambda s: Gumbel(t([0.0, 1.0]) * s, s)),
        (lambda s: Cauchy(t([0.0, 1.0]) * s, s)),
        (lambda s: HalfNormal(t([1.0, 2.0]) * s)),
        (lambda s: LogNormal(t([0.0, 1.0]) * s, s)),
        (lambda s: MultivariateNormal(t([0.0, 1.0]) * s, covariance_matrix=t([[2.0, 0.3],
                                                                              [0.3, 1.0]]) * s)),
        (lambda s: Binomial(5, probs=t([0.1, 0.4]) * s)),
    ]
    for make in pairs:
        same = kl_divergence(make(1.0), make(1.0)).numpy()
        np.testing.assert_allclose(same, 0.0, atol=1e-10)
        assert (kl_divergence(make(1.0), make(1.5)).numpy() > 0).all()


def test_kl_of_more_trials_is_infinite_and_fewer_raises():
    assert float(kl_divergence(Binomial(5, probs=t(0.3)), Binomial(3, probs=t(0.3)))) == math.inf
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        kl_divergence(Binomial(3, probs=t(0.3)), Binomial(5, probs=t(0.3)))
    with pytest.raises(NotImplementedError):  # different transforms
        kl_divergence(TransformedDistribution(Normal(0.0, 1.0), ExpTransform()),
                      TransformedDistribution(Normal(0.0, 1.0), TanhTransform()))
    with pytest.raises(ValueError, match="different event shapes"):
        kl_divergence(MultivariateNormal(t([0.0]), scale_tril=t([[1.0]])),
                      MultivariateNormal(t([0.0, 0.0]), scale_tril=t([[1.0, 0], [0, 1]])))


# ---- errors ----

def test_errors_are_pytorchs():
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        MultivariateNormal(t([0.0]))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        MultivariateNormal(t(0.0), scale_tril=t([[1.0]]))
    with pytest.raises(ValueError, match="concentration` parameter must be at least one"):
        Dirichlet(t(1.0))
    with pytest.raises(ValueError, match="to be positive"):
        Geometric(t([0.0, 0.5]))
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        Multinomial(t(3.0), probs=t([0.5, 0.5]))
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        Binomial(t([2.0, 3.0]), probs=t([0.5, 0.5])).entropy()
    with pytest.raises(ValueError, match="Categorical"):
        MixtureSameFamily(Normal(0.0, 1.0), Normal(t([0.0]), 1.0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not equal"):
        MixtureSameFamily(Categorical(t([0.5, 0.5])), Normal(t([0.0, 1.0, 2.0]), 1.0))
    with pytest.raises(ValueError, match="transforms must be a Transform"):
        TransformedDistribution(Normal(0.0, 1.0), [ExpTransform(), "exp"])
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        Gamma(t([-1.0]), 1.0)
    with pytest.raises(ValueError, match="within the support"):
        Beta(t([2.0]), 2.0).log_prob(t([1.5]))
    assert float(Beta(t([2.0]), 2.0, validate_args=False).log_prob(t([1.5])).item()) != 0
    assert not MixtureSameFamily(Categorical(t([0.5, 0.5])), Normal(t([0.0, 1.0]), 1.0)
                                 ).has_rsample
    with pytest.raises(NotImplementedError):
        Poisson(t([1.0])).rsample()
