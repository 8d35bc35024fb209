"""No NumPy floating-point warnings where PyTorch has none.

PyTorch computes log(0), x / 0, inf - inf, inf * 0, sqrt(-1), exp(1000) and their gradients
without a word; NumPy warns (divide by zero, invalid value, overflow), and a user's suite run
with warnings as errors would fail on tensorgrad where it passes on PyTorch. Each op here runs
forward and backward on 0, -0, negatives, the infinities, NaN, huge and tiny values, in both
float dtypes, with every warning an error; against PyTorch (where installed) the values and
gradients must be PyTorch's, NaN where PyTorch's are NaN, and PyTorch must warn no more.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import broadcastable_shapes, layouts
from torch_compare import RTOL, assert_same

import tensorgrad as tg

INF, NAN = math.inf, math.nan
# 1e-310 is a float64 denormal (0 in float32); 1e300 overflows float32 (inf) and its square
# float64; 80 and 1000 overflow exp in float32 and float64
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, INF, -INF, NAN, 1e300, -1e300, 1e-310, 80.0,
           1000.0]
DTYPES = ["float32", "float64"]


def _F(m):
    return m.nn.functional


def _rows(x):
    return x.reshape(3, 5)


# name -> a function of one library's module and a tensor of SPECIAL (15 entries)
CASES = {
    # unary elementwise
    "log": lambda m, x: m.log(x), "log2": lambda m, x: m.log2(x),
    "log10": lambda m, x: m.log10(x), "log1p": lambda m, x: m.log1p(x),
    "exp": lambda m, x: m.exp(x), "exp2": lambda m, x: m.exp2(x),
    "expm1": lambda m, x: m.expm1(x), "sqrt": lambda m, x: m.sqrt(x),
    "rsqrt": lambda m, x: m.rsqrt(x), "reciprocal": lambda m, x: m.reciprocal(x),
    "square": lambda m, x: m.square(x), "abs": lambda m, x: m.abs(x), "neg": lambda m, x: -x,
    "sin": lambda m, x: m.sin(x), "cos": lambda m, x: m.cos(x), "tan": lambda m, x: m.tan(x),
    "asin": lambda m, x: m.asin(x), "acos": lambda m, x: m.acos(x),
    "atan": lambda m, x: m.atan(x), "sinh": lambda m, x: m.sinh(x),
    "cosh": lambda m, x: m.cosh(x), "tanh": lambda m, x: m.tanh(x),
    "asinh": lambda m, x: m.asinh(x), "acosh": lambda m, x: m.acosh(x),
    "atanh": lambda m, x: m.atanh(x), "sigmoid": lambda m, x: m.sigmoid(x),
    "erf": lambda m, x: m.erf(x), "erfc": lambda m, x: m.erfc(x),
    "sign": lambda m, x: m.sign(x), "floor": lambda m, x: m.floor(x),
    "round": lambda m, x: m.round(x), "round decimals": lambda m, x: m.round(x, decimals=3),
    "trunc": lambda m, x: m.trunc(x), "frac": lambda m, x: m.frac(x),
    "relu": lambda m, x: m.relu(x), "clamp": lambda m, x: m.clamp(x, -1, 1),
    "nan_to_num": lambda m, x: m.nan_to_num(x), "sinc": lambda m, x: m.sinc(x),
    "logit": lambda m, x: m.logit(x), "deg2rad": lambda m, x: m.deg2rad(x),
    "sgn": lambda m, x: m.sgn(x),
    # powers
    "x ** -1": lambda m, x: x ** -1, "x ** -0.5": lambda m, x: x ** -0.5,
    "x ** 0.5": lambda m, x: x ** 0.5, "x ** 2": lambda m, x: x ** 2,
    "x ** 3": lambda m, x: x ** 3, "x ** 0": lambda m, x: x ** 0,
    "x ** 1.5": lambda m, x: x ** 1.5, "2 ** x": lambda m, x: 2.0 ** x,
    "0 ** x": lambda m, x: 0.0 ** x, "x ** x": lambda m, x: x ** x.flip(0),
    "float_power": lambda m, x: m.float_power(x, 2),
    # two operands, each entry against another (and itself)
    "x + y": lambda m, x: x + x.flip(0), "x - x": lambda m, x: x - x,
    "x * x": lambda m, x: x * x, "x * 0": lambda m, x: x * 0,
    "x / x": lambda m, x: x / x, "x / 0": lambda m, x: x / 0, "1 / x": lambda m, x: 1 / x,
    "x / y": lambda m, x: x / x.flip(0),
    "remainder": lambda m, x: m.remainder(x, x.flip(0)),
    "fmod": lambda m, x: m.fmod(x, x.flip(0)),
    "x // y": lambda m, x: (x // x.flip(0)).detach(),  # (PyTorch's has no backward)
    "div floor": lambda m, x: m.div(x, x.flip(0), rounding_mode="floor"),
    "div trunc": lambda m, x: m.div(x, x.flip(0), rounding_mode="trunc"),
    "atan2": lambda m, x: m.atan2(x, x.flip(0)), "hypot": lambda m, x: m.hypot(x, x),
    "logaddexp": lambda m, x: m.logaddexp(x, x), "xlogy": lambda m, x: m.xlogy(x, x.flip(0)),
    "maximum": lambda m, x: m.maximum(x, -x), "fmax": lambda m, x: m.fmax(x, -x),
    "lerp": lambda m, x: m.lerp(x, -x, 0.3), "copysign": lambda m, x: m.copysign(x, -x),
    "addcmul": lambda m, x: m.addcmul(x, x, x), "addcdiv": lambda m, x: m.addcdiv(x, x, x),
    "where": lambda m, x: m.where(x > 0, m.log(x), x),
    "broadcast x - y": lambda m, x: x[:, None] - x[None, :],
    "broadcast x / y": lambda m, x: x[:, None] / x[None, :],
    "broadcast x ** y": lambda m, x: x[:, None] ** x[None, :],
    # reductions and scans
    "sum": lambda m, x: x.sum(), "mean": lambda m, x: x.mean(), "prod": lambda m, x: x.prod(),
    "prod dim": lambda m, x: _rows(x).prod(1), "var": lambda m, x: x.var(),
    "std": lambda m, x: x.std(), "var dim": lambda m, x: _rows(x).var(1),
    "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "logsumexp dim": lambda m, x: m.logsumexp(_rows(x), 1),
    "cumsum": lambda m, x: m.cumsum(x, 0), "cumprod": lambda m, x: m.cumprod(x, 0),
    "logcumsumexp": lambda m, x: m.logcumsumexp(x, 0), "amax": lambda m, x: x.amax(),
    "nansum": lambda m, x: m.nansum(x), "trace": lambda m, x: m.trace(_rows(x)),
    "diff": lambda m, x: m.diff(x),
    # norms and distances
    "norm": lambda m, x: x.norm(), "norm 1": lambda m, x: x.norm(p=1),
    "norm inf": lambda m, x: x.norm(p=INF), "norm 3": lambda m, x: x.norm(p=3),
    "vector_norm": lambda m, x: m.linalg.vector_norm(x),
    "matrix_norm": lambda m, x: m.linalg.matrix_norm(_rows(x)),
    "dist": lambda m, x: m.dist(x, x * 0), "cdist": lambda m, x: m.cdist(_rows(x), _rows(x) * 0),
    "normalize": lambda m, x: _F(m).normalize(_rows(x), dim=1),
    "cosine_similarity": lambda m, x: _F(m).cosine_similarity(_rows(x), _rows(x).flip(0)),
    "pairwise_distance": lambda m, x: _F(m).pairwise_distance(_rows(x), _rows(x) * 0),
    # products of matrices
    "matmul": lambda m, x: _rows(x) @ _rows(x).T, "outer": lambda m, x: m.outer(x, x),
    "einsum": lambda m, x: m.einsum("i,i->", x, x),
    "linear": lambda m, x: _F(m).linear(_rows(x), _rows(x)),
    "cov": lambda m, x: m.cov(_rows(x)), "corrcoef": lambda m, x: m.corrcoef(_rows(x)),
    # activations
    "softmax": lambda m, x: m.softmax(_rows(x), 1),
    "log_softmax": lambda m, x: m.log_softmax(_rows(x), 1),
    "softplus": lambda m, x: _F(m).softplus(x), "gelu": lambda m, x: _F(m).gelu(x),
    "gelu tanh": lambda m, x: _F(m).gelu(x, approximate="tanh"),
    "silu": lambda m, x: _F(m).silu(x), "elu": lambda m, x: _F(m).elu(x),
    "selu": lambda m, x: _F(m).selu(x), "celu": lambda m, x: _F(m).celu(x),
    "mish": lambda m, x: _F(m).mish(x), "logsigmoid": lambda m, x: _F(m).logsigmoid(x),
    "leaky_relu": lambda m, x: _F(m).leaky_relu(x), "hardswish": lambda m, x: _F(m).hardswish(x),
    "hardsigmoid": lambda m, x: _F(m).hardsigmoid(x), "hardtanh": lambda m, x: _F(m).hardtanh(x),
    "softsign": lambda m, x: _F(m).softsign(x), "tanhshrink": lambda m, x: _F(m).tanhshrink(x),
    "glu": lambda m, x: _F(m).glu(m.cat([x, x.flip(0)]), 0),
    # normalization
    "layer_norm": lambda m, x: _F(m).layer_norm(_rows(x), (5,)),
    "rms_norm": lambda m, x: _F(m).rms_norm(_rows(x), (5,)),
    "batch_norm": lambda m, x: _F(m).batch_norm(_rows(x), None, None, training=True),
    "group_norm": lambda m, x: _F(m).group_norm(x.reshape(1, 3, 5), 1),
    # losses
    "mse_loss": lambda m, x: _F(m).mse_loss(x, x.flip(0)),
    "l1_loss": lambda m, x: _F(m).l1_loss(x, x.flip(0)),
    "smooth_l1_loss": lambda m, x: _F(m).smooth_l1_loss(x, x.flip(0)),
    "huber_loss": lambda m, x: _F(m).huber_loss(x, x.flip(0)),
    "bce_with_logits": lambda m, x: _F(m).binary_cross_entropy_with_logits(
        x, m.full_like(x, 0.5)),
    "kl_div": lambda m, x: _F(m).kl_div(x, m.full_like(x, 0.5), reduction="sum"),
    "kl_div target": lambda m, x: _F(m).kl_div(m.zeros_like(x), x.abs(), reduction="sum"),
    "poisson_nll_loss": lambda m, x: _F(m).poisson_nll_loss(x, x.abs()),
    "gaussian_nll_loss": lambda m, x: _F(m).gaussian_nll_loss(x, m.zeros_like(x), x.abs()),
    "cross_entropy": lambda m, x: _F(m).cross_entropy(_rows(x), m.tensor([0, 1, 2])),
    "cross_entropy smoothed": lambda m, x: _F(m).cross_entropy(
        _rows(x), m.tensor([0, 1, 2]), label_smoothing=0.1),
    "nll_loss": lambda m, x: _F(m).nll_loss(_rows(x), m.tensor([0, 1, 2])),
    # attention
    "attention": lambda m, x: _F(m).scaled_dot_product_attention(
        x.reshape(1, 3, 5), x.reshape(1, 3, 5).flip(1), x.reshape(1, 3, 5), is_causal=True),
}

# Where our value or gradient at a special point is not PyTorch's (each a known, reported
# difference, not a warning): name -> why.
DIFFERENT = {
    "cov": "1e300 entries in float64: the sums cancel differently (both far off)",
    "fmod": "fmod(1, 1e-310), a denormal divisor: PyTorch's NaN, NumPy's the exact remainder",
    "remainder": "remainder(1, 1e-310), a denormal divisor: PyTorch's NaN, NumPy's exact one",
    "gelu": "gelu(inf) in float32: PyTorch's NaN (its float64 one is inf, as ours)",
    "hardsigmoid": "PyTorch's float64 slope is 1/6 rounded to float32",
    "logit": "the slope at -0.0: PyTorch's +inf, ours -inf",
    "sinc": "the slope at 1e-310, a denormal: PyTorch's 0, ours NaN",
}


def _run(m, name: str, dtype: str):
    """CASES[name] forward and backward (an upstream gradient of ones) on SPECIAL, with every
    warning an error; the result and the gradient (None where none) as NumPy arrays."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = m.tensor(SPECIAL, dtype=getattr(m, dtype), requires_grad=True)
        y = CASES[name](m, x)
        if y.requires_grad:
            y.backward(m.ones_like(y))
    grad = None if x.grad is None else x.grad.detach().numpy(force=True)  # (PyTorch's zeros)
    return y.detach().numpy(), grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_no_warning_forward_or_backward(name, dtype):
    y, grad = _run(tg, name, dtype)
    assert y.dtype.kind == "f" and (grad is None or grad.dtype == np.dtype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_as_torch(name, dtype):
    torch = pytest.importorskip("torch")
    if name in DIFFERENT:
        pytest.skip(DIFFERENT[name])
    theirs, their_grad = _run(torch, name, dtype)  # (PyTorch warns no more than we do)
    ours, grad = _run(tg, name, dtype)
    rtol = RTOL[np.dtype(dtype)]
    assert_same(ours, theirs, f"{name}: forward", rtol)
    assert (grad is None) == (their_grad is None)
    if grad is not None:
        assert_same(grad, their_grad, f"{name}: gradient", rtol)


# ---- layouts, broadcasting, 0-d and size-0 shapes --------------------------------------------

BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
          "/": lambda a, b: a / b, "**": lambda a, b: a ** b,
          "atan2": lambda a, b: tg.atan2(a, b), "fmod": lambda a, b: tg.fmod(a, b)}
UNARY = {"log": tg.log, "sqrt": tg.sqrt, "rsqrt": tg.rsqrt, "exp": tg.exp,
         "reciprocal": tg.reciprocal, "log1p": tg.log1p, "atanh": tg.atanh,
         "sum": lambda a: a.sum(), "mean": lambda a: a.mean(), "norm": lambda a: a.norm(),
         "softmax": lambda a: a.softmax(-1) if a.ndim else a.exp(),
         "logsumexp": lambda a: a.logsumexp(-1) if a.ndim else a.exp()}


@st.composite
def _special(draw, shape, dtype):
    """SPECIAL values of ``shape`` in a drawn layout (a view of a leaf that requires grad)."""
    drawn = draw(st.lists(st.sampled_from(SPECIAL), min_size=math.prod(shape),
                          max_size=math.prod(shape)))
    with np.errstate(over="ignore"):  # (1e300 in float32: inf)
        values = np.array(drawn, dtype).reshape(shape)
    layout = draw(layouts(len(shape)))
    leaf = tg.tensor(layout.leaf_for(values, NAN), requires_grad=True)
    return leaf, layout.view(leaf)


@given(data=st.data(), shapes=broadcastable_shapes(2, size_zero=True),
       dtype=st.sampled_from(DTYPES), binary=st.sampled_from(sorted(BINARY)),
       unary=st.sampled_from(sorted(UNARY)))
def test_no_warning_in_any_layout_or_shape(data, shapes, dtype, binary, unary):
    (a_leaf, a), (b_leaf, b) = (data.draw(_special(s, dtype)) for s in shapes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = UNARY[unary](BINARY[binary](a, b))
        out.backward(tg.full_like(out, NAN if data.draw(st.booleans()) else 1e30))
    assert a_leaf.grad.shape == a_leaf.shape and b_leaf.grad.shape == b_leaf.shape


# ---- in place, optimizers, gradient clipping, a captured step, creation -----------------------


def _quietly(run):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return run()


@pytest.mark.parametrize("dtype", DTYPES)
def test_in_place_ops_are_quiet(dtype):
    x = tg.tensor(SPECIAL, dtype=getattr(tg, dtype))

    def run():
        x.mul_(x.flip(0))
        x.div_(0)
        x.sub_(x.flip(0))
        x.add_(1e300)
        x.mul_(0)
        x.pow_(-1)
        with tg.no_grad():
            p = tg.tensor(SPECIAL, dtype=getattr(tg, dtype), requires_grad=True)
            p -= 1e300 * p
        return x

    assert np.isnan(_quietly(run).numpy()).any()


OPTIMIZERS = {
    "SGD": lambda m, p: m.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True),
    "Adam": lambda m, p: m.optim.Adam(p, lr=0.1, weight_decay=0.1),
    "Adam amsgrad": lambda m, p: m.optim.Adam(p, lr=0.1, amsgrad=True),
    "AdamW": lambda m, p: m.optim.AdamW(p, lr=0.1),
    "RMSprop": lambda m, p: m.optim.RMSprop(p, lr=0.1, momentum=0.5, centered=True),
    "Adagrad": lambda m, p: m.optim.Adagrad(p, lr=0.1),
    "Adadelta": lambda m, p: m.optim.Adadelta(p),
    "Adamax": lambda m, p: m.optim.Adamax(p),
    "NAdam": lambda m, p: m.optim.NAdam(p),
    "RAdam": lambda m, p: m.optim.RAdam(p),
}


def _steps(m, name, dtype):
    """Two steps of an optimizer on SPECIAL with SPECIAL reversed as the gradient, with every
    warning an error; the parameters after them."""
    def run():
        p = m.tensor(SPECIAL, dtype=getattr(m, dtype), requires_grad=True)
        optimizer = OPTIMIZERS[name](m, [p])
        for _ in range(2):
            p.grad = m.tensor(SPECIAL[::-1], dtype=getattr(m, dtype))
            optimizer.step()
        return p.detach().numpy()
    return _quietly(run)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_on_inf_and_nan_are_quiet(name, dtype):
    ours = _steps(tg, name, dtype)
    torch = pytest.importorskip("torch")
    if name == "RMSprop" and dtype == "float64":
        pytest.skip("square_avg - grad_avg ** 2 at inf - 1e596: PyTorch's addcmul fuses it "
                    "(inf), NumPy rounds the square to inf first (NaN)")
    assert_same(ours, _steps(torch, name, dtype), f"{name} parameters", RTOL[np.dtype(dtype)])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, INF])
@pytest.mark.parametrize("grads", [SPECIAL, [1e300, 1e300], [0.0, 0.0], [INF, 1.0]])
def test_clip_grad_norm_is_quiet(grads, norm_type):
    def run(m):
        p = m.tensor(grads, dtype=m.float64, requires_grad=True)
        p.grad = m.tensor(grads, dtype=m.float64)
        total = m.nn.utils.clip_grad_norm_([p], 1.0, norm_type=norm_type)
        return total.numpy(), p.grad.numpy()

    ours = _quietly(lambda: run(tg))
    torch = pytest.importorskip("torch")
    theirs = _quietly(lambda: run(torch))
    for mine, their, what in zip(ours, theirs, ("norm", "gradient")):
        assert_same(mine, their, what)


def test_a_captured_step_is_quiet():
    w = tg.tensor([0.0, 1.0, -1.0], requires_grad=True)
    step = tg.capture(lambda x: ((x.log() * w).exp() / 0 - x.sqrt()).sum())
    eager = []
    for _ in range(3):  # records, then replays
        w.grad = None
        _quietly(lambda: eager.append(step(tg.tensor([0.0, -1.0, 1e30]))))
    assert np.isnan(w.grad.numpy()).any()


def test_creation_out_of_range_as_torch():
    values = _quietly(lambda: [tg.tensor([1e300], dtype=tg.float32),
                               tg.tensor([1e300]).float(),
                               tg.tensor([1e300], dtype=tg.float64).to(tg.float32),
                               tg.arange(0, 1e300, 1e299, dtype=tg.float32)])
    assert all(np.isinf(v.numpy()[-1]) for v in values)
    with pytest.raises(RuntimeError, match="without overflow"):  # PyTorch refuses these
        tg.linspace(-1e300, 1e300, 5, dtype=tg.float32)


def test_assert_close_on_infinities_is_quiet():
    x = tg.tensor([0.0, INF, -INF, NAN, 1e30])
    _quietly(lambda: tg.testing.assert_close(x, x.clone(), equal_nan=True))
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 5"):  # PyTorch's count
        _quietly(lambda: tg.testing.assert_close(x, x * 2, equal_nan=True))


# ---- what stays as it was ----------------------------------------------------------------------


def test_the_users_numpy_still_warns():
    before = np.geterr()
    x = tg.tensor([0.0, -1.0], requires_grad=True)
    (x.log() / 0).sum().backward()  # under tensorgrad's errstate, which it leaves
    assert np.geterr() == before
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        np.log(np.zeros(1))


def test_other_warnings_still_show():
    with pytest.warns(UserWarning, match="degrees of freedom"):  # as PyTorch's
        tg.cov(tg.ones(2, 3), correction=3)


def test_microgpt_trains_with_warnings_as_errors():
    out = subprocess.run([sys.executable, "-W", "error", "-m", "microgpt", "train",
                          "--steps", "3"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "loss" in out.stdout
