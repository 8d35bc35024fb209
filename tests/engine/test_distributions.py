"""tensorgrad.distributions without torch: what many seeded draws average to, the shapes and
dtypes of samples, manual_seed repeating them, gradients against finite differences, closed
forms, and PyTorch's errors (test_distributions_torch.py holds the values and gradients
against PyTorch's)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import tensorgrad
from tensorgrad import Tensor
from tensorgrad.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Independent,
    Normal,
    OneHotCategorical,
    Uniform,
    constraints,
    kl_divergence,
)

N = 20_000  # draws per statistic: a mean of unit variance within 4/sqrt(N) = 0.03


def test_reachable_as_torch_distributions_is():
    from tensorgrad.distributions.categorical import Categorical as Imported
    from tensorgrad.distributions.kl import kl_divergence as imported_kl
    from tensorgrad.distributions.normal import Normal as ImportedNormal

    assert tensorgrad.distributions.Categorical is Imported is Categorical
    assert ImportedNormal is Normal and imported_kl is kl_divergence
    assert tensorgrad.distributions.kl.kl_divergence is kl_divergence
    assert "distributions" in dir(tensorgrad)


def test_normal_draws_have_its_mean_and_spread():
    tensorgrad.manual_seed(0)
    loc, scale = tensorgrad.tensor([-1.0, 0.0, 3.0]), tensorgrad.tensor([0.5, 1.0, 2.0])
    x = Normal(loc, scale).sample((N,)).numpy()
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.mean(0), loc.numpy(), atol=4 * 2 / math.sqrt(N))
    np.testing.assert_allclose(x.std(0), scale.numpy(), rtol=0.03)


def test_uniform_draws_fill_the_interval():
    tensorgrad.manual_seed(1)
    x = Uniform(tensorgrad.tensor([-2.0, 1.0]), 3.0).sample((N,)).numpy()
    assert x.min(0).tolist() >= [-2.0, 1.0] and (x < 3.0).all()
    np.testing.assert_allclose(x.mean(0), [0.5, 2.0], atol=0.05)
    np.testing.assert_allclose(x.var(0), [25 / 12, 4 / 12], rtol=0.05)


def test_categorical_draws_have_its_frequencies():
    tensorgrad.manual_seed(2)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])
    draws = Categorical(tensorgrad.tensor(probs * 4)).sample((N,))  # weights, not normalized
    assert draws.dtype == tensorgrad.int64 and tuple(draws.shape) == (N, 2)
    counts = np.stack([np.bincount(draws.numpy()[:, i], minlength=3) for i in range(2)])
    np.testing.assert_allclose(counts / N, probs, atol=0.015)
    assert counts[1, 1] == 0  # never a category of probability 0
    with np.errstate(divide="ignore"):  # log 0 = -inf: a category never drawn
        logits = np.log(probs)
    one_hot = OneHotCategorical(logits=tensorgrad.tensor(logits)).sample((N,))
    assert one_hot.dtype == tensorgrad.float64 and tuple(one_hot.shape) == (N, 2, 3)
    np.testing.assert_allclose(one_hot.numpy().mean(0), probs, atol=0.015)
    assert (one_hot.numpy().sum(-1) == 1).all()


def test_bernoulli_draws_have_its_frequencies():
    tensorgrad.manual_seed(3)
    probs = tensorgrad.tensor([0.0, 0.25, 0.9, 1.0], dtype=tensorgrad.float32)
    x = Bernoulli(probs).sample((N,))
    assert x.dtype == tensorgrad.float32 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    np.testing.assert_allclose(x.numpy().mean(0), probs.numpy(), atol=0.015)
    assert x.numpy()[:, 0].sum() == 0 and x.numpy()[:, 3].all()
    y = Bernoulli(logits=tensorgrad.tensor([0.0])).sample((N,))
    assert abs(y.numpy().mean() - 0.5) < 0.015


@pytest.mark.parametrize("make", [
    lambda: Normal(tensorgrad.zeros(2, 3, requires_grad=True), 1.0),
    lambda: Uniform(0.0, tensorgrad.ones(2, 3, requires_grad=True)),
    lambda: Categorical(logits=tensorgrad.zeros(2, 3, 4, requires_grad=True)),
    lambda: OneHotCategorical(probs=tensorgrad.ones(2, 3, 4, requires_grad=True)),
    lambda: Bernoulli(logits=tensorgrad.zeros(2, 3, requires_grad=True)),
    lambda: Independent(Normal(tensorgrad.zeros(2, 3, 5, requires_grad=True), 1.0), 1),
], ids=["Normal", "Uniform", "Categorical", "OneHotCategorical", "Bernoulli", "Independent"])
def test_samples_are_sample_shape_then_batch_then_event_and_repeat_with_the_seed(make):
    d = make()
    assert tuple(d.batch_shape) == (2, 3)
    for sample_shape in [(), (4,), (4, 1)]:
        tensorgrad.manual_seed(7)
        first = d.sample(sample_shape)
        tensorgrad.manual_seed(7)
        again = d.sample(sample_shape)
        expected = tuple(sample_shape) + (2, 3) + tuple(d.event_shape)
        assert tuple(first.shape) == expected == tuple(d._extended_shape(sample_shape))
        assert not first.requires_grad  # sample() draws outside the graph
        np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert not np.array_equal(d.sample((50,)).numpy(), d.sample((50,)).numpy())
    if d.has_rsample:
        assert d.rsample((4,)).requires_grad


def test_scalar_parameters_make_a_scalar_distribution_of_the_default_dtype():
    d = Normal(0.0, 1.0)
    assert d.batch_shape == () and d.event_shape == () and d.sample().shape == ()
    assert d.sample().dtype == tensorgrad.float64 and d.loc.dtype == tensorgrad.float64
    assert Bernoulli(0.3).batch_shape == ()
    # a 0-d tensor is not a number: its shape, () too, is the batch shape
    half = tensorgrad.tensor(0.5, dtype=tensorgrad.float32)
    assert Normal(half, 2).scale.dtype == tensorgrad.float32
    assert Uniform(half, 1).sample((3,)).dtype == tensorgrad.float32
    assert Normal(tensorgrad.zeros(3, dtype=tensorgrad.float32), 1.0).rsample().dtype == \
        tensorgrad.float32


def test_rsample_carries_gradients_to_the_parameters():
    tensorgrad.manual_seed(4)
    loc = tensorgrad.tensor([0.5, -1.0], requires_grad=True)
    scale = tensorgrad.tensor([2.0, 0.5], requires_grad=True)
    x = Normal(loc, scale).rsample((10,))
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [10.0, 10.0])
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0))
    low = tensorgrad.tensor(1.0, requires_grad=True)
    high = tensorgrad.tensor(3.0, requires_grad=True)
    u = Uniform(low, high).rsample((6,))
    u.sum().backward()
    fraction = (u.detach().numpy() - 1.0) / 2.0
    np.testing.assert_allclose([low.grad.item(), high.grad.item()],
                               [(1 - fraction).sum(), fraction.sum()])


def check(fn, *inputs):
    """gradcheck against central differences: the scalar engine has no distributions."""
    return tensorgrad.gradcheck(fn, *inputs, reference="finite-difference")


def test_log_probs_entropies_and_divergences_match_finite_differences():
    rng = np.random.default_rng(5)

    def leaf(*shape: int, positive: bool = False) -> Tensor:
        a = rng.uniform(0.5, 2.0, shape) if positive else rng.standard_normal(shape)
        return Tensor(a, requires_grad=True)

    loc, scale, value = leaf(3), leaf(3, positive=True), leaf(2, 3)
    assert check(lambda m, s, v: Normal(m, s).log_prob(v), loc, scale, value)
    assert check(lambda m, s, v: Normal(m, s).cdf(v), loc, scale, value)
    p = Tensor(rng.uniform(0.05, 0.95, 3), requires_grad=True)
    assert check(lambda m, s, q: Normal(m, s).icdf(q), loc, scale, p)
    logits, other = leaf(2, 4), leaf(4)
    assert check(lambda a, b: kl_divergence(Categorical(logits=a), Categorical(logits=b)),
                 logits, other)
    assert check(lambda a: Categorical(logits=a).entropy(), logits)
    assert check(lambda a: Categorical(probs=a.exp()).log_prob(tensorgrad.tensor([1, 3])),
                 logits)
    assert check(lambda a: Bernoulli(logits=a).entropy(), other)
    assert check(lambda a, b: kl_divergence(Bernoulli(logits=a), Bernoulli(logits=b)),
                 other, leaf(4))
    assert check(lambda m, s: kl_divergence(Normal(m, s), Normal(0.3, 1.5)), loc, scale)


def test_closed_forms():
    uniform = Categorical(logits=tensorgrad.zeros(5))
    assert math.isclose(uniform.entropy().item(), math.log(5), rel_tol=1e-15)
    assert math.isclose(uniform.log_prob(tensorgrad.tensor(3)).item(), -math.log(5),
                        rel_tol=1e-15)
    assert kl_divergence(uniform, Categorical(probs=tensorgrad.ones(5))).item() == 0
    standard = Normal(0.0, 1.0)
    assert math.isclose(standard.log_prob(tensorgrad.tensor(1.0)).item(),
                        -0.5 - 0.5 * math.log(2 * math.pi), rel_tol=1e-15)
    assert math.isclose(standard.cdf(tensorgrad.tensor(1.96)).item(), 0.9750021048517795,
                        rel_tol=1e-14)
    assert math.isclose(standard.icdf(tensorgrad.tensor(0.975)).item(), 1.959963984540054,
                        rel_tol=1e-14)
    np.testing.assert_array_equal(standard.icdf(tensorgrad.tensor([0.0, 0.5, 1.0])).numpy(),
                                  [-math.inf, 0.0, math.inf])
    kl = kl_divergence(Normal(1.0, 2.0), Normal(0.0, 1.0)).item()
    assert math.isclose(kl, math.log(0.5) + (4 + 1) / 2 - 0.5, rel_tol=1e-15)
    assert kl_divergence(Bernoulli(0.3), Bernoulli(0.0)).item() == math.inf
    assert kl_divergence(Bernoulli(0.0), Bernoulli(0.3)).item() == pytest.approx(
        -math.log(0.7))
    assert Uniform(0.0, 4.0).log_prob(tensorgrad.tensor([4.0])).item() == -math.inf
    assert kl_divergence(Uniform(0.0, 1.0), Uniform(0.5, 2.0)).item() == math.inf
    # two batch shapes broadcast (PyTorch's raises IndexError for Bernoulli's)
    kl = kl_divergence(Bernoulli(tensorgrad.full((2, 3), 0.3)), Bernoulli(tensorgrad.zeros(3)))
    assert tuple(kl.shape) == (2, 3) and (kl.numpy() == math.inf).all()
    np.testing.assert_array_equal(Bernoulli(tensorgrad.tensor([0.2, 0.5, 0.7])).mode.numpy(),
                                  [0.0, np.nan, 1.0])
    assert Categorical(tensorgrad.tensor([[0.2, 0.8], [0.6, 0.4]])).mode.tolist() == [1, 0]
    support = Categorical(logits=tensorgrad.zeros(2, 3)).enumerate_support()
    assert support.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert tuple(Bernoulli(tensorgrad.zeros(2)).enumerate_support(expand=False).shape) == \
        (2, 1)
    d = Independent(Normal(tensorgrad.zeros(4, 3), 2.0), 1)
    assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((4,), (3,))
    np.testing.assert_allclose(d.entropy().numpy(), 3 * Normal(0.0, 2.0).entropy().item())
    assert d.perplexity().shape == (4,)


def test_probs_or_logits_not_both_and_not_neither():
    message = "Either `probs` or `logits` must be specified, but not both."
    for cls in (Categorical, Bernoulli, OneHotCategorical):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            cls()
        with pytest.raises(ValueError, match="must be specified"):
            cls(tensorgrad.ones(2), tensorgrad.ones(2))
    with pytest.raises(ValueError, match="`probs` parameter must be at least one-dimensional."):
        Categorical(tensorgrad.tensor(1.0))
    with pytest.raises(ValueError, match="`logits` parameter must be at least one-dim"):
        Categorical(logits=tensorgrad.tensor(1.0))


@pytest.mark.parametrize("make, constraint", [
    (lambda: Normal(0.0, tensorgrad.tensor([1.0, 0.0])), "GreaterThan(lower_bound=0.0)"),
    (lambda: Normal(math.nan, 1.0), "Real()"),
    (lambda: Bernoulli(tensorgrad.tensor([0.5, 1.5])), "Interval(lower_bound=0.0, "),
    (lambda: Categorical(tensorgrad.tensor([0.5, -0.1, 0.6])), "Simplex()"),
    (lambda: Categorical(logits=tensorgrad.tensor([0.0, math.nan])),
     "IndependentConstraint(Real(), 1)"),
    (lambda: Uniform(tensorgrad.tensor([0.0, 2.0]), 1.0), "LessThan"),
    (lambda: Uniform(1.0, 1.0), "LessThan"),
], ids=["scale 0", "NaN loc", "probs above 1", "negative probs", "NaN logits",
        "low above high", "low equal to high"])
def test_invalid_parameters_raise_under_validation(make, constraint):
    with pytest.raises(ValueError, match="Expected parameter .* to satisfy the constraint "
                                         + re.escape(constraint)):
        make()
    Distribution.set_default_validate_args(False)
    try:
        make()  # not checked
    finally:
        Distribution.set_default_validate_args(True)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_validate_args_false_skips_the_checks():
    d = Normal(0.0, -1.0, validate_args=False)
    assert math.isnan(d.log_prob(tensorgrad.tensor(0.0)).item())
    assert Categorical(logits=tensorgrad.zeros(3), validate_args=False).log_prob(
        tensorgrad.tensor(1)).item() == pytest.approx(-math.log(3))
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args("yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("d, value", [
    (Categorical(logits=tensorgrad.zeros(3)), tensorgrad.tensor([0, 3])),
    (Categorical(logits=tensorgrad.zeros(3)), tensorgrad.tensor(0.5)),
    (Bernoulli(0.3), tensorgrad.tensor(0.5)),
    (Uniform(0.0, 2.0), tensorgrad.tensor([1.0, 2.5])),
    (Normal(0.0, 1.0), tensorgrad.tensor(math.nan)),
    (OneHotCategorical(logits=tensorgrad.zeros(3)), tensorgrad.tensor([1.0, 1.0, 0.0])),
], ids=["category 3 of 3", "fractional category", "Bernoulli 0.5", "above high", "NaN",
        "two hot"])
def test_values_out_of_the_support_raise_under_validation(d, value):
    with pytest.raises(ValueError, match=r"Expected value argument .* to be within the "
                                         r"support .* of the distribution"):
        d.log_prob(value)


def test_values_of_the_wrong_kind_or_shape_raise():
    d = Normal(tensorgrad.zeros(3), 1.0)
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        d.log_prob(0.5)
    with pytest.raises(ValueError, match=r"Value is not broadcastable with "
                                         r"batch_shape\+event_shape"):
        d.log_prob(tensorgrad.zeros(2))
    with pytest.raises(ValueError, match="The right-most size of value must match event_shape"):
        OneHotCategorical(logits=tensorgrad.zeros(3)).log_prob(tensorgrad.zeros(2))
    assert Normal(0.0, 1.0, validate_args=False).log_prob(0.0).item() == pytest.approx(
        -0.5 * math.log(2 * math.pi))


def test_what_is_not_there_raises_as_pytorchs():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for "
                                                  "p type Normal and q type Categorical"):
        kl_divergence(Normal(0.0, 1.0), Categorical(logits=tensorgrad.zeros(2)))
    with pytest.raises(NotImplementedError):
        Categorical(logits=tensorgrad.zeros(2)).rsample()
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        Distribution(validate_args=False).mode  # noqa: B018
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= "):
        Independent(Normal(tensorgrad.zeros(3), 1.0), 2)
    with pytest.raises(NotImplementedError, match="cartesian product"):
        Independent(Bernoulli(tensorgrad.zeros(3)), 1).enumerate_support()
    assert np.isnan(Categorical(logits=tensorgrad.zeros(2, 3)).mean.numpy()).all()


def test_constraints_check_and_read_as_pytorchs():
    x = tensorgrad.tensor([-1.0, 0.0, 0.5, 1.0])
    assert constraints.positive.check(x).tolist() == [False, False, True, True]
    assert constraints.unit_interval.check(x).tolist() == [False, True, True, True]
    assert constraints.half_open_interval(0, 1).check(x).tolist() == [False, True, True, False]
    assert constraints.boolean.check(x).tolist() == [False, True, False, True]
    assert constraints.integer_interval(0, 1).check(x).tolist() == [False, True, False, True]
    assert constraints.simplex.check(tensorgrad.tensor([[0.5, 0.5], [0.5, 0.6]])).tolist() == \
        [True, False]
    assert repr(constraints.integer_interval(0, 2)) == \
        "IntegerInterval(lower_bound=0, upper_bound=2)"
    assert constraints.is_dependent(Uniform.support)
    assert repr(Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
    assert Categorical.support.is_discrete and not Normal.support.is_discrete


def test_expand_shares_the_parameters_and_keeps_validation():
    loc = tensorgrad.zeros(3, requires_grad=True)
    d = Normal(loc, 1.0).expand((4, 3))
    assert tuple(d.batch_shape) == (4, 3) and tuple(d.sample().shape) == (4, 3)
    d.log_prob(tensorgrad.ones(4, 3)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0, 4.0])
    with pytest.raises(ValueError, match="support"):
        Categorical(logits=tensorgrad.zeros(3)).expand((2,)).log_prob(tensorgrad.tensor(3))
