"""ContinuousBernoulli, VonMises, Wishart and LKJCholesky held against torch.distributions:
log_prob, entropy, mean, mode, variance, stddev, cdf and icdf and their gradients to every
parameter (and to the value scored), float64 and float32, batched and broadcast, numbers
among the parameters, the unstable region of ContinuousBernoulli; rsample's with the same
noise fed to both; shapes, supports, constraints and the error types. Skipped without torch
(test_distributions_rest.py checks the draws' statistics)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from test_distributions_torch import DTYPES, RTOL, compare

import tensorgrad
import tensorgrad.distributions as ours
from tensorgrad import Tensor

torch = pytest.importorskip("torch")
import torch.distributions as theirs  # noqa: E402

# numbers among the parameters make tensors of the default dtype: float64 in both; one
# thread, as PyTorch's small linear algebra waits on a second one on a busy machine
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Singular sample detected"),
              pytest.mark.usefixtures("torch_float64_one_thread")]
rng = np.random.default_rng(7)


def _spd(*batch: int, n: int = 3) -> np.ndarray:
    a = rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _wishart_draws(*shape: int, n: int = 3, df: int = 6) -> np.ndarray:
    x = rng.standard_normal(shape + (df, n))
    return np.swapaxes(x, -1, -2) @ x


def _corr_cholesky(*shape: int, n: int = 3) -> np.ndarray:
    lower = np.tril(rng.standard_normal(shape + (n, n)))
    idx = np.arange(n)
    lower[..., idx, idx] = np.abs(lower[..., idx, idx]) + 0.5
    return lower / np.linalg.norm(lower, axis=-1, keepdims=True)


# ---- ContinuousBernoulli ----

def _cb_results(D: Any, probs: Any, logits: Any, value: Any, u: Any) -> dict[str, Any]:
    by_probs, by_logits = D.ContinuousBernoulli(probs), D.ContinuousBernoulli(logits=logits)
    out: dict[str, Any] = {}
    for name, d in (("probs", by_probs), ("logits", by_logits)):
        out.update({f"{name}: log_prob": d.log_prob(value), f"{name}: entropy": d.entropy(),
                    f"{name}: mean": d.mean, f"{name}: variance": d.variance,
                    f"{name}: stddev": d.stddev, f"{name}: cdf": d.cdf(value),
                    f"{name}: icdf": d.icdf(u)})
    out["logits of probs"] = by_probs.logits
    out["probs of logits"] = by_logits.probs
    out["expand"] = by_probs.expand((2, 7)).log_prob(value[0])
    out["kl"] = D.kl_divergence(by_probs, by_logits)
    return out


@pytest.mark.parametrize("dtype", DTYPES)
def test_continuous_bernoulli(dtype):
    # inside the unstable region (0.499, 0.501], at its edges, near 0 and 1, and away
    probs = np.array([0.02, 0.3, 0.499, 0.4995, 0.5, 0.501, 0.98])
    if dtype == np.float32:  # (the closed forms' rounding near the region: their slopes
        probs[2] = 0.45     # there are as far from PyTorch's as from the true ones)
    logits = np.array([-4.0, -0.5, -0.003, 0.0, 0.002, 1.5, 6.0])
    value = rng.uniform(0, 1, (3, 7))
    value[0, :3] = [0.0, 1.0, 0.5]
    u = rng.uniform(0, 1, (3, 7))
    compare(_cb_results, [probs, logits, value, u], dtype, rtol=RTOL[dtype] * 100)


@pytest.mark.parametrize("dtype", DTYPES)
def test_continuous_bernoulli_numbers_and_lims(dtype):
    def results(D: Any, value: Any) -> dict[str, Any]:
        d = D.ContinuousBernoulli(0.3)
        wide = D.ContinuousBernoulli(logits=value * 0 + 0.1, lims=(0.4, 0.6))
        return {"number: log_prob": d.log_prob(value), "number: mean": d.mean,
                "lims: mean": wide.mean, "lims: entropy": wide.entropy(),
                "lims: log_prob": wide.log_prob(value)}

    compare(results, [rng.uniform(0, 1, (4,))], dtype, rtol=RTOL[dtype] * 100)


@pytest.mark.parametrize("dtype", DTYPES)
def test_continuous_bernoulli_rsample_with_the_same_noise(dtype, monkeypatch):
    u = rng.uniform(0, 1, (5, 4)).astype(dtype)
    monkeypatch.setattr(torch, "rand", lambda *a, **k: torch.tensor(u))
    monkeypatch.setattr(ours.continuous_bernoulli, "rand", lambda *a, **k: Tensor(u))

    def results(D: Any, probs: Any) -> dict[str, Any]:
        return {"rsample": D.ContinuousBernoulli(probs).rsample((5,))}

    compare(results, [np.array([0.1, 0.4999, 0.6, 0.95])], dtype, rtol=RTOL[dtype] * 100)


# ---- VonMises ----

@pytest.mark.parametrize("dtype", DTYPES)
def test_von_mises(dtype):
    def results(D: Any, loc: Any, concentration: Any, value: Any) -> dict[str, Any]:
        d = D.VonMises(loc, concentration)
        return {"log_prob": d.log_prob(value), "mean": d.mean, "mode": d.mode,
                "variance": d.variance, "stddev": d.stddev,
                "expand": d.expand(value.shape).log_prob(value),
                "numbers": D.VonMises(0.5, 2.0).log_prob(value)}

    # concentrations on both sides of 3.75, where the Bessel approximations change
    concentration = np.array([0.05, 1.0, 3.7, 3.8, 12.0, 80.0])[[0, 1, 2, 3]]
    compare(results, [rng.uniform(-3, 3, (3, 1)), concentration,
                      rng.uniform(-np.pi, np.pi, (2, 3, 4))], dtype, rtol=RTOL[dtype] * 100)
    compare(results, [rng.uniform(-3, 3, (2,)), np.array([5.0, 80.0]),
                      rng.uniform(-np.pi, np.pi, (3, 2))], dtype, rtol=RTOL[dtype] * 100)


# ---- Wishart ----

def _wishart_results(D: Any, df: Any, cov: Any, value: Any) -> dict[str, Any]:
    linalg = torch.linalg if D is theirs else tensorgrad.linalg
    tril = linalg.cholesky(cov)
    by_cov = D.Wishart(df, covariance_matrix=cov)
    by_tril = D.Wishart(df, scale_tril=tril)
    by_precision = D.Wishart(df, precision_matrix=linalg.inv(cov))
    return {"cov: log_prob": by_cov.log_prob(value), "cov: entropy": by_cov.entropy(),
            "mean": by_cov.mean, "mode": by_cov.mode, "variance": by_cov.variance,
            "cov: scale_tril": by_cov.scale_tril, "cov: precision": by_cov.precision_matrix,
            "tril: log_prob": by_tril.log_prob(value), "tril: entropy": by_tril.entropy(),
            "tril: covariance": by_tril.covariance_matrix,
            "precision: log_prob": by_precision.log_prob(value),
            "precision: entropy": by_precision.entropy(),
            "expand": by_tril.expand(value.shape[:-2]).log_prob(value),
            "number df": D.Wishart(7.5, covariance_matrix=cov).log_prob(value)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_wishart(dtype):
    rtol = RTOL[dtype] * 300
    compare(_wishart_results, [np.array([4.5, 9.0]), _spd(2), _wishart_draws(4, 2)], dtype,
            rtol=rtol)
    # df broadcast against one covariance; values of a batch of one
    compare(_wishart_results, [np.array([[3.0], [12.0]]), _spd(), _wishart_draws(2, 1)],
            dtype, rtol=rtol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_wishart_rsample_with_the_same_noise(dtype, monkeypatch):
    # (no sample shape: PyTorch 2.13's rsample then fails in backward, its redrawing of
    # "singular" draws writing in place into a mask its graph saved)
    sample_shape, batch, n = (), (2,), 3
    scaled = rng.uniform(0.3, 2.0, sample_shape + batch + (n,)).astype(dtype)
    below = rng.standard_normal(sample_shape + batch + (n * (n - 1) // 2,)).astype(dtype)
    full = np.zeros(sample_shape + batch + (n, n), dtype)
    rows, columns = np.tril_indices(n, -1)
    full[..., rows, columns] = below
    # chi-squared draws as df times fixed factors (a gradient to df), the same normals
    monkeypatch.setattr(theirs.Chi2, "rsample",
                        lambda self, shape=(): self.df * torch.tensor(scaled))
    monkeypatch.setattr(ours.Chi2, "rsample", lambda self, shape=(): self.df * Tensor(scaled))
    # (PyTorch 2.13 draws each sample twice, the second time of shape (1,) + batch)
    monkeypatch.setattr(torch, "randn", lambda shape, **k: torch.tensor(
        np.broadcast_to(below, tuple(shape)).copy()))
    monkeypatch.setattr(ours.wishart, "_standard_normal", lambda shape, dtype: Tensor(full))

    def results(D: Any, df: Any, cov: Any) -> dict[str, Any]:
        return {"rsample": D.Wishart(df, covariance_matrix=cov).rsample(sample_shape)}

    compare(results, [np.array([4.0, 6.5]), _spd(2)], dtype, rtol=RTOL[dtype] * 100)


# ---- LKJCholesky ----

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [2, 3, 5])
def test_lkj_cholesky(dim, dtype):
    def results(D: Any, concentration: Any, value: Any) -> dict[str, Any]:
        d = D.LKJCholesky(dim, concentration)
        return {"log_prob": d.log_prob(value),
                "expand": d.expand((2, 3)).log_prob(value[0]),
                "number": D.LKJCholesky(dim, 1.5).log_prob(value)}

    compare(results, [np.array([0.3, 1.0, 4.0]), _corr_cholesky(2, 3, n=dim)], dtype,
            rtol=RTOL[dtype] * 100)


# ---- shapes, constraints, errors ----

def _made(lib: Any, dtype: Any = torch.float64) -> dict[str, Any]:
    if lib is ours:
        def t(x):
            return tensorgrad.tensor(np.asarray(x, np.float64))
    else:
        def t(x):
            return torch.tensor(np.asarray(x, np.float64), dtype=dtype)
    return {
        "ContinuousBernoulli": lib.ContinuousBernoulli(t([0.2, 0.5, 0.9])),
        "ContinuousBernoulli logits": lib.ContinuousBernoulli(logits=t([[0.2], [3.0]])),
        "ContinuousBernoulli number": lib.ContinuousBernoulli(0.3),
        "VonMises": lib.VonMises(t([0.0, 1.0]), t([[2.0], [0.5], [9.0]])),
        "VonMises numbers": lib.VonMises(0.0, 1.0),
        "Wishart": lib.Wishart(t([4.0, 5.0]), covariance_matrix=t(np.eye(3))),
        "Wishart number": lib.Wishart(3.0, scale_tril=t(np.eye(2))),
        "LKJCholesky": lib.LKJCholesky(3, t([0.5, 2.0])),
        "LKJCholesky number": lib.LKJCholesky(4),
    }


def test_shapes_and_supports_agree():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, their = _made(ours), _made(theirs)
        for name in mine:
            m, t = mine[name], their[name]
            assert tuple(m.batch_shape) == tuple(t.batch_shape), name
            assert tuple(m.event_shape) == tuple(t.event_shape), name
            assert m.has_rsample == t.has_rsample, name
            assert repr(m.support) == repr(t.support), name
            assert m.support.event_dim == t.support.event_dim, name
            assert sorted(m.arg_constraints) == sorted(t.arg_constraints), name
            assert {k: repr(c) for k, c in m.arg_constraints.items()} == \
                {k: repr(c) for k, c in t.arg_constraints.items()}, name
            assert tuple(m.sample((2,)).shape) == tuple(t.sample((2,)).shape), name
            assert m.sample().dtype == np.float64, name
            e, te = m.expand((5,) + tuple(m.batch_shape)), t.expand((5,) + tuple(t.batch_shape))
            assert tuple(e.batch_shape) == tuple(te.batch_shape), name
            assert tuple(e.sample().shape) == tuple(te.sample().shape), name
            for prop in ("mean", "mode", "variance"):
                try:
                    getattr(t, prop)
                except NotImplementedError:
                    with pytest.raises(NotImplementedError):
                        getattr(m, prop)
            try:
                t.entropy()
            except NotImplementedError:
                with pytest.raises(NotImplementedError):
                    m.entropy()


def test_float32_parameters_give_float32_as_pytorchs():
    def made(lib: Any, t: Any) -> dict[str, Any]:
        return {"VonMises": lib.VonMises(t([0.0, 1.0]), 2.0),
                "Wishart": lib.Wishart(t(4.0), covariance_matrix=t(np.eye(2))),
                "LKJCholesky": lib.LKJCholesky(3, t([1.0])),
                "ContinuousBernoulli": lib.ContinuousBernoulli(t([0.3]))}

    mine = made(ours, lambda x: tensorgrad.tensor(np.asarray(x, np.float32)))
    their = made(theirs, lambda x: torch.tensor(np.asarray(x, np.float32)))
    for name, d in mine.items():
        assert str(their[name].sample().dtype) == "torch.float32", name
        assert d.sample().dtype == np.float32, name
        if d.has_rsample:
            assert d.rsample().dtype == np.float32, name


def _both(make: Any) -> None:
    """``make(D, t)`` raises the same error type on both libraries."""
    with pytest.raises(Exception) as their_error:  # noqa: B017 (the type is the check)
        make(theirs, lambda x: torch.tensor(x, dtype=torch.float64))
    with pytest.raises(type(their_error.value)):
        make(ours, lambda x: tensorgrad.tensor(np.asarray(x, np.float64)))


@pytest.mark.parametrize("make", [
    lambda D, t: D.ContinuousBernoulli(t([1.5]), validate_args=True),
    lambda D, t: D.ContinuousBernoulli(),
    lambda D, t: D.ContinuousBernoulli(t([0.5]), logits=t([0.0])),
    lambda D, t: D.ContinuousBernoulli(t([0.5])).log_prob(t([1.5])),
    lambda D, t: D.ContinuousBernoulli(logits=t([float("nan")])),
    lambda D, t: D.VonMises(t([0.0]), t([-1.0])),
    lambda D, t: D.VonMises(t([float("nan")]), t([1.0])),
    lambda D, t: D.Wishart(t(2.0), covariance_matrix=t(np.eye(3))),
    lambda D, t: D.Wishart(t(4.0), covariance_matrix=t(np.ones((2, 2)))),
    lambda D, t: D.Wishart(t(4.0), scale_tril=t(-np.eye(2))),
    lambda D, t: D.Wishart(t(4.0)),
    lambda D, t: D.Wishart(t(4.0), covariance_matrix=t(np.eye(2)), scale_tril=t(np.eye(2))),
    lambda D, t: D.Wishart(t(4.0), covariance_matrix=t([1.0, 2.0])),
    lambda D, t: D.Wishart(t(4.0), covariance_matrix=t(np.eye(2))).log_prob(t(-np.eye(2))),
    lambda D, t: D.LKJCholesky(1),
    lambda D, t: D.LKJCholesky(3, t([-1.0])),
    lambda D, t: D.LKJCholesky(2).log_prob(t([[1.0, 0.0], [0.5, 0.5]])),
    lambda D, t: D.LKJCholesky(2).log_prob(t([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])),
])
def test_errors_of_pytorchs_types(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(make)


def test_low_df_warns_as_pytorch():
    with pytest.warns(UserWarning, match="Low df"):
        ours.Wishart(tensorgrad.tensor(2.5), covariance_matrix=tensorgrad.eye(3))
    with pytest.warns(UserWarning, match="Low df"):
        theirs.Wishart(torch.tensor(2.5), covariance_matrix=torch.eye(3))


def test_corr_cholesky_constraint():
    values = np.stack([_corr_cholesky(n=3), np.eye(3), np.tril(np.ones((3, 3)))])
    values[0, 0, 1] = 0.0
    assert np.array_equal(ours.constraints.corr_cholesky.check(Tensor(values)).numpy(),
                          theirs.constraints.corr_cholesky.check(torch.tensor(values)).numpy())
