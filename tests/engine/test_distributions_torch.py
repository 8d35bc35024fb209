"""tensorgrad.distributions held against torch.distributions: the values of log_prob, entropy,
mean, mode, variance, stddev, cdf, icdf and kl_divergence, and their gradients with respect
to every parameter (and to the value scored), in float64 and float32, with batched and
broadcast parameters, numbers among them, and edge values (probabilities 0 and 1, large
logits); rsample's with the same noise fed to both. Skipped without torch
(test_distributions.py checks the draws and the errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad
import tensorgrad.distributions as ours
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
import torch.distributions as theirs  # noqa: E402

# At the edge values NumPy warns of the infinities and NaNs (log 0, inf * 0) that PyTorch
# yields silently; the values themselves are compared.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

RTOL = {np.float64: 1e-12, np.float32: 3e-5}
DTYPES = [np.float64, np.float32]
rng = np.random.default_rng(0)


def _outputs(build: Callable[..., dict[str, Any]], lib: Any, leaves: list[Any]) -> dict:
    return build(lib, *leaves)


def compare(build: Callable[..., dict[str, Any]], arrays: list[Any], dtype: Any,
            rtol: float | None = None) -> None:
    """``build(D, *params)`` on both libraries (D either distributions module, params
    tensors made from ``arrays``, numbers passed as they are) returns {name: result}: each
    result must agree in dtype, shape and values, and so must the gradients of the
    parameters for one random weighting of it, None where PyTorch's is None."""
    rtol = RTOL[dtype] if rtol is None else rtol
    arrays = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in arrays]

    def leaves(make: Callable[[np.ndarray], Any]) -> list[Any]:
        return [make(a) if isinstance(a, np.ndarray) else a for a in arrays]

    names = list(_outputs(build, theirs, leaves(torch.tensor)))
    for name in names:
        mine = leaves(lambda a: Tensor(a.copy(), requires_grad=a.dtype.kind == "f"))
        their = leaves(lambda a: torch.tensor(a.copy(), requires_grad=a.dtype.kind == "f"))
        y, their_y = build(ours, *mine)[name], build(theirs, *their)[name]
        assert_same(y, their_y, name, rtol)
        if not their_y.requires_grad:
            continue
        weights = rng.standard_normal(tuple(their_y.shape)).astype(their_y.numpy(
            force=True).dtype) if their_y.is_floating_point() else None
        # infinite results (log-probabilities of impossible values) take no gradient
        weights = np.where(np.isfinite(their_y.detach().numpy()), weights, 0)
        (y * Tensor(weights)).sum().backward()
        (their_y * torch.tensor(weights)).sum().backward()
        for i, (m, t) in enumerate(zip(mine, their)):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                if t.grad is None:
                    assert m.grad is None or not np.any(m.grad.numpy()), f"{name}: {i}"
                else:
                    assert m.grad is not None, f"{name}: no gradient of parameter {i}"
                    assert_same(m.grad, t.grad, f"{name}: gradient of parameter {i}", rtol)


def normal_results(D: Any, loc: Any, scale: Any, value: Any, p: Any) -> dict[str, Any]:
    d = D.Normal(loc, scale)
    return {"log_prob": d.log_prob(value), "entropy": d.entropy(), "mean": d.mean,
            "mode": d.mode, "variance": d.variance, "stddev": d.stddev, "cdf": d.cdf(value),
            "icdf": d.icdf(p), "perplexity": d.perplexity()}


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_batched_and_broadcast(dtype):
    loc = rng.standard_normal((4, 3))
    scale = rng.uniform(0.3, 3.0, (3,))
    value = rng.standard_normal((2, 1, 3)) * 2
    p = rng.uniform(0.01, 0.99, (4, 3))
    compare(normal_results, [loc, scale, value, p], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_with_numbers_takes_the_tensors_dtype(dtype):
    value = rng.standard_normal(5)
    p = np.array([0.0, 1e-10, 0.3, 0.5, 1 - 1e-7, 1.0])
    compare(lambda D, loc, v, q: normal_results(D, loc, 2.0, v, q),
            [rng.standard_normal(5), value, rng.uniform(0.1, 0.9, 5)], dtype)
    compare(lambda D, scale, v, q: normal_results(D, 0.5, scale, v, q),
            [np.array(1.5), value, p], dtype)


def test_normal_of_numbers_alone_is_of_the_default_dtype():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # tensorgrad's default
    try:
        compare(lambda D, v: normal_results(D, -1.0, 0.5, v, v.sigmoid()),
                [rng.standard_normal((3, 2))], np.float64)
        assert ours.Normal(0.0, 1.0).batch_shape == ()
    finally:
        torch.set_default_dtype(previous)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_icdf_in_the_tails(dtype):
    p = np.concatenate([np.logspace(-12, -1, 12), 1 - np.logspace(-12, -1, 12)])
    if dtype == np.float32:
        p = p[(p > 1e-6) & (p < 1 - 1e-6)]  # float32 cannot tell 1 - 1e-7 from 1
    compare(lambda D, loc, q: {"icdf": D.Normal(loc, 1.5).icdf(q)},
            [np.zeros(1), p], dtype, rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_rsample_with_the_same_noise(dtype, monkeypatch):
    loc, scale = rng.standard_normal((2, 3)), rng.uniform(0.5, 2, (2, 3))
    eps = rng.standard_normal((5, 2, 3)).astype(dtype)
    monkeypatch.setattr(theirs.normal, "_standard_normal",
                        lambda shape, dtype, device: torch.tensor(eps))
    monkeypatch.setattr(ours.normal, "_standard_normal", lambda shape, dtype: Tensor(eps))
    compare(lambda D, m, s: {"rsample": D.Normal(m, s).rsample((5,))}, [loc, scale], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform(dtype, monkeypatch):
    low = rng.uniform(-2, 0, (3, 1))
    high = rng.uniform(0.5, 3, (4,))
    value = np.array([-3.0, -0.5, 0.1, 0.3, 3.5])[:, None, None] * np.ones((1, 1, 4))
    u = rng.uniform(0, 1, (2, 3, 4)).astype(dtype)
    monkeypatch.setattr(torch, "rand", lambda *shape, **kw: torch.tensor(u))
    monkeypatch.setattr(ours.uniform, "rand", lambda *shape, **kw: Tensor(u))

    def results(D: Any, lo: Any, hi: Any, v: Any, p: Any) -> dict[str, Any]:
        d = D.Uniform(lo, hi, validate_args=False)  # values outside [low, high) too
        return {"log_prob": d.log_prob(v), "entropy": d.entropy(), "mean": d.mean,
                "log_prob at low": d.log_prob(lo), "log_prob at high": d.log_prob(hi),
                "variance": d.variance, "stddev": d.stddev, "cdf": d.cdf(v),
                "icdf": d.icdf(p), "mode": d.mode, "rsample": d.rsample((2,))}

    compare(results, [low, high, value, rng.uniform(0, 1, (3, 4))], dtype)
    compare(lambda D, hi: {"entropy": D.Uniform(0.0, hi).entropy()}, [high], dtype)


def categorical_results(D: Any, logits: Any, probs: Any, value: Any) -> dict[str, Any]:
    by_logits, by_probs = D.Categorical(logits=logits), D.Categorical(probs=probs)
    return {"logits: log_prob": by_logits.log_prob(value),
            "logits: entropy": by_logits.entropy(), "logits: probs": by_logits.probs,
            "logits: logits": by_logits.logits, "logits: mode": by_logits.mode,
            "logits: mean": by_logits.mean, "logits: variance": by_logits.variance,
            "probs: log_prob": by_probs.log_prob(value), "probs: entropy": by_probs.entropy(),
            "probs: logits": by_probs.logits, "probs: probs": by_probs.probs,
            "enumerate_support": by_probs.enumerate_support(),
            "enumerate_support, not expanded": by_probs.enumerate_support(False),
            "kl": D.kl_divergence(by_logits, by_probs),
            "kl, other way": D.kl_divergence(by_probs, by_logits),
            "kl, one-hot": D.kl_divergence(D.OneHotCategorical(logits=logits),
                                           D.OneHotCategorical(probs=probs)),
            "one-hot: log_prob": D.OneHotCategorical(logits=logits).log_prob(
                D.OneHotCategorical(probs=probs).mode),
            "one-hot: entropy": D.OneHotCategorical(probs=probs).entropy(),
            "one-hot: mean": D.OneHotCategorical(probs=probs).mean,
            "one-hot: variance": D.OneHotCategorical(logits=logits).variance,
            "one-hot: enumerate_support": D.OneHotCategorical(probs=probs).enumerate_support()}


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_batched(dtype):
    logits = rng.standard_normal((2, 3, 5)) * 3
    probs = rng.uniform(0.05, 2.0, (3, 5))  # unnormalized weights, broadcast in kl
    value = rng.integers(0, 5, (4, 2, 3))
    compare(categorical_results, [logits, probs, value], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_edges(dtype):
    # probabilities 0 (log(eps) logits, infinite kl one way), very large and very
    # negative logits, a category of certainty
    logits = np.array([[0.0, 800.0, -800.0, 1.0], [50.0, -50.0, 0.0, 0.0],
                       [0.0, 0.0, 0.0, 0.0]])
    probs = np.array([[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]])
    value = np.array([[0, 1, 2], [3, 1, 0]])
    compare(categorical_results, [logits, probs, value], dtype)
    compare(lambda D, lg: {"entropy": D.Categorical(logits=lg).entropy()},
            [np.array([[0.0, -np.inf, 1.0]])], dtype)


def bernoulli_results(D: Any, logits: Any, probs: Any, value: Any) -> dict[str, Any]:
    by_logits, by_probs = D.Bernoulli(logits=logits), D.Bernoulli(probs=probs)
    return {"logits: log_prob": by_logits.log_prob(value),
            "logits: entropy": by_logits.entropy(), "logits: probs": by_logits.probs,
            "logits: mean": by_logits.mean, "logits: variance": by_logits.variance,
            "logits: mode": by_logits.mode, "logits: stddev": by_logits.stddev,
            "probs: log_prob": by_probs.log_prob(value), "probs: entropy": by_probs.entropy(),
            "probs: logits": by_probs.logits, "probs: mode": by_probs.mode,
            "enumerate_support": by_probs.enumerate_support(),
            "kl": D.kl_divergence(by_logits, by_probs),
            "kl, other way": D.kl_divergence(by_probs, by_logits),
            "kl, probs": D.kl_divergence(by_probs, D.Bernoulli(probs=probs.flip(-1)))}


@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli(dtype):
    logits = rng.standard_normal(6) * 3  # PyTorch's kl cannot broadcast Bernoulli's
    probs = np.array([0.0, 1.0, 0.5, 0.2, 0.9, 1e-3])
    value = rng.integers(0, 2, (3, 1, 6)).astype(dtype)
    compare(bernoulli_results, [logits, probs, value], dtype)
    edges = np.array([60.0, -60.0, 0.0, 1e3, -1e3, 2.0])
    compare(bernoulli_results, [edges, probs, value], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bernoulli_with_a_number(dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # tensorgrad's default
    try:
        compare(lambda D, v: {"log_prob": D.Bernoulli(probs=0.3).log_prob(v),
                              "entropy": D.Bernoulli(logits=-1.5).entropy()},
                [np.array([0.0, 1.0, 1.0])], np.float64)
    finally:
        torch.set_default_dtype(previous)
    compare(lambda D, p, v: {"log_prob": D.Bernoulli(p).log_prob(v)},
            [np.array(0.3), np.array([0.0, 1.0])], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_kl_normal_normal_and_uniform_uniform(dtype):
    def results(D: Any, m1: Any, s1: Any, m2: Any, s2: Any) -> dict[str, Any]:
        return {"normal": D.kl_divergence(D.Normal(m1, s1), D.Normal(m2, s2)),
                "normal, with a number": D.kl.kl_divergence(D.Normal(m1, 0.7),
                                                            D.Normal(0.0, s2)),
                "uniform": D.kl_divergence(D.Uniform(m1 - s1, m1 + s1),
                                           D.Uniform(m2 - 2 * s2, m2 + 2 * s2)),
                "independent": D.kl_divergence(D.Independent(D.Normal(m1, s1), 1),
                                               D.Independent(D.Normal(m2, s2), 1))}

    compare(results, [rng.standard_normal((4, 3)), rng.uniform(0.2, 2, (4, 3)),
                      rng.standard_normal(3), rng.uniform(0.2, 2, 3)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_independent_and_expand(dtype):
    def results(D: Any, loc: Any, scale: Any, value: Any) -> dict[str, Any]:
        d = D.Independent(D.Normal(loc, scale), 2)
        e = D.Normal(loc[0], scale[0]).expand((3, 2, 4))
        c = D.Categorical(logits=loc).expand((5, 3, 2))
        return {"log_prob": d.log_prob(value), "entropy": d.entropy(), "mean": d.mean,
                "variance": d.variance, "expanded log_prob": e.log_prob(value),
                "expanded categorical entropy": c.entropy(),
                "expanded bernoulli": D.Bernoulli(logits=loc).expand((2, 3, 2, 4)).entropy()}

    compare(results, [rng.standard_normal((3, 2, 4)), rng.uniform(0.5, 2, (3, 2, 4)),
                      rng.standard_normal((5, 3, 2, 4))], dtype)
    for D in (ours, theirs):
        d = D.Independent(D.Normal(torch.zeros(3, 2) if D is theirs else tensorgrad.zeros(3, 2),
                                   1.0), 1)
        assert (tuple(d.batch_shape), tuple(d.event_shape)) == ((3,), (2,))
        assert tuple(d.expand((5, 3)).batch_shape) == (5, 3)


def test_reprs_and_constraints_read_as_pytorch():
    for D, lib in ((ours, tensorgrad), (theirs, torch)):
        dists = [D.Normal(lib.zeros(2), 1.0), D.Normal(lib.tensor(0.5), 2.0),
                 D.Categorical(probs=lib.ones(3)), D.Bernoulli(logits=lib.zeros(2, 2)),
                 D.Uniform(0.0, 1.0), D.Independent(D.Normal(lib.zeros(2, 3), 1.0), 1)]
        text = [repr(d).replace("tensorgrad.", "torch.") for d in dists]
        text += [repr(d.support) for d in dists]
        if D is ours:
            mine = text
    assert mine == text
