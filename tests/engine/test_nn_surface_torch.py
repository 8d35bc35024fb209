"""torch.nn's surface that model code reaches for, held against PyTorch: ``nn.parameter``
(``Buffer``, ``UninitializedParameter``), ``LazyLinear``, weight and spectral norm (hooks and
parametrizations, ``parametrize``), ``F.unfold``/``F.fold``, the in-place functional
activations and the small layers (``Softmax2d``, ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``, ``ChannelShuffle``): values, gradients, state dicts, errors, in
float32 and float64. The tests that need PyTorch skip without it."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import laid_out, upstream_layouts
from torch_compare import RTOL, against_torch, assert_same, run_both

import tensorgrad as tg
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

DTYPES = [np.float32, np.float64]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def _torch_dtype(torch, dtype):
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def _copy_into(target, source):
    """``target`` (ours or PyTorch's module) given ``source``'s state (values, as they are)."""
    values = {k: np.array(v.detach().numpy()) for k, v in source.state_dict().items()}
    if isinstance(target, nn.Module):
        target.load_state_dict(values)
    else:
        import torch

        target.load_state_dict({k: torch.tensor(v) for k, v in values.items()})


# ---- nn.parameter and nn.Buffer ---------------------------------------------------------------

ALIASED = '''
import sys
import tensorgrad
sys.modules["torch"] = tensorgrad
import torch.nn.parameter
from torch.nn.parameter import Buffer, Parameter, UninitializedParameter, is_lazy
from torch.nn.modules.fold import Fold
from torch.nn.utils.parametrizations import weight_norm
from torch.nn.utils import parametrize
assert Parameter is tensorgrad.nn.Parameter and Buffer is tensorgrad.nn.Buffer
assert torch.nn.parameter is tensorgrad.nn.parameter and Fold is tensorgrad.nn.Fold
assert is_lazy(torch.nn.LazyLinear(2).weight) and not is_lazy(Parameter(torch.ones(1)))
assert not [n for n, m in sys.modules.items() if getattr(m, "__name__", "").startswith("torch.")]
print("ok")
'''


def test_parameter_module_imports_under_pytorchs_name():
    done = subprocess.run([sys.executable, "-c", ALIASED], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(tg.__file__).parents[1])},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def _buffer_model(nn_, t):
    class M(nn_.Module):
        def __init__(self):
            super().__init__()
            self.w = nn_.Parameter(t.ones(2))
            self.kept = nn_.Buffer(t.zeros(3))
            self.mask = nn_.Buffer(t.ones(2), persistent=False)
            self.plain = t.ones(4)  # a tensor, not a Buffer: a plain attribute

    return M()


def test_buffer_registers_as_torch(torch):
    ours, theirs = _buffer_model(nn, tg), _buffer_model(torch.nn, torch)
    for m in (ours, theirs):
        m.mask = m.mask * 2  # a plain tensor into a buffer keeps its persistence
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["w", "kept"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] \
        == ["kept", "mask"]
    assert "plain" not in ours._buffers and ours.mask.tolist() == [2.0, 2.0]
    b = nn.Buffer(tg.ones(2))
    assert isinstance(b, nn.Buffer) and isinstance(b, tg.Tensor) and type(b) is tg.Tensor
    assert not isinstance(tg.ones(2), nn.Buffer) and not isinstance(b, nn.Parameter)
    assert isinstance(nn.Buffer(), tg.Tensor) and nn.Buffer().shape == (0,)
    assert isinstance(b, nn.parameter.Buffer)


def test_buffer_shares_values_and_leaves_the_graph_as_torch(torch):
    for t, nn_ in ((tg, nn), (torch, torch.nn)):
        x = t.ones(3, requires_grad=True)
        y = x * 2
        b = nn_.Buffer(y)
        assert b.requires_grad and b.grad_fn is None and b.is_leaf
        with t.no_grad():
            y[0] = 5.0
        assert b[0].item() == 5.0  # the same values
        m = nn_.Module()
        m.p = nn_.Parameter(t.ones(1))
        with pytest.raises(TypeError, match="cannot assign"):
            m.p = nn_.Buffer(t.zeros(1))  # not where a parameter is
        m.register_buffer("b", t.ones(1))
        m.b = nn_.Parameter(t.ones(1))  # a parameter where a buffer was
        assert not m._buffers and list(m._parameters) == ["p", "b"]


# ---- LazyLinear and UninitializedParameter ----------------------------------------------------


def test_lazy_linear_as_torch(torch):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    assert repr(ours) == repr(theirs) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    for layer in (ours, theirs):
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
            layer.weight.shape  # noqa: B018
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            layer.weight.numel()
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            layer.weight + 1
    assert repr(ours.weight) == "<UninitializedParameter>"
    assert nn.parameter.is_lazy(ours.weight) and ours.has_uninitialized_params()
    weight, bias = ours.weight, ours.bias
    seen = []  # a pre-hook of the user's runs after the layer has its shapes, as PyTorch's
    for layer in (ours, theirs):
        layer.register_forward_pre_hook(lambda m, args: seen.append(tuple(m.weight.shape)))
    optimizer = tg.optim.SGD(ours.parameters(), lr=0.5)  # before the first call, as PyTorch's
    x = np.random.default_rng(0).standard_normal((2, 5))
    y = ours(tg.tensor(x))
    theirs(torch.tensor(x, dtype=torch.float32))
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
    assert seen == [(3, 5), (3, 5)]
    assert repr(ours) == repr(theirs) == "Linear(in_features=5, out_features=3, bias=True)"
    assert ours.weight is weight and type(weight) is nn.Parameter and ours.bias is bias
    assert tuple(weight.shape) == (3, 5) and weight.dtype == np.float64
    assert float(weight.detach().abs().max()) <= 1 / np.sqrt(5)  # Linear's initialization
    y.sum().backward()
    before = weight.detach().clone()
    optimizer.step()
    np.testing.assert_allclose(weight.detach().numpy(),
                               before.numpy() - 0.5 * x.sum(0)[None, :].repeat(3, 0))
    ours(tg.ones(1, 5))
    assert len(ours.__dict__.get("_forward_hooks").before) == 1  # the user's: the layer's went


def test_lazy_linear_loads_a_state_dict_and_follows_dtype_as_torch(torch):
    dense = torch.nn.Linear(4, 2)
    ours, theirs = nn.LazyLinear(2), torch.nn.LazyLinear(2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in dense.state_dict().items()})
    theirs.load_state_dict(dense.state_dict())
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    ours.float()
    assert_same(ours(tg.tensor(x)), theirs(torch.tensor(x)), "loaded", RTOL[np.dtype("f4")])
    assert repr(ours) == repr(theirs)
    double = nn.LazyLinear(2, bias=False).double()
    assert double.bias is None and double(tg.ones(1, 3, dtype=tg.float64)).dtype == np.float64
    for layer in (nn.LazyLinear(2), torch.nn.LazyLinear(2)):
        with pytest.raises(IndexError):
            layer(tg.ones(()) if isinstance(layer, nn.Module) else torch.ones(()))
    assert tuple(nn.LazyLinear(3)(tg.ones(5)).shape) == (3,)


@pytest.mark.parametrize("optimizer, settings", [("Adam", {}), ("AdamW", {"amsgrad": True}),
                                                 ("RMSprop", {})], ids=str)
def test_an_optimizer_made_before_the_first_call_steps_as_torch(torch, optimizer, settings):
    ours, theirs = nn.LazyLinear(3), torch.nn.LazyLinear(3).double()
    ours_opt = getattr(tg.optim, optimizer)(ours.parameters(), lr=0.1, **settings)
    their_opt = getattr(torch.optim, optimizer)(theirs.parameters(), lr=0.1, **settings)
    x = np.random.default_rng(15).standard_normal((2, 5))
    ours(tg.tensor(x))
    theirs(torch.tensor(x))
    _copy_into(theirs, ours)
    for _ in range(3):
        for model, opt, t in ((ours, ours_opt, tg), (theirs, their_opt, torch)):
            opt.zero_grad()
            (model(t.tensor(x)) ** 2).sum().backward()
            opt.step()
    assert_same(ours.weight, theirs.weight, f"{optimizer} after 3 steps", 1e-10)
    assert ours_opt.state[ours.weight]["step"] == 3


def test_a_lazy_state_dict_loads_into_a_lazy_module_as_torch(torch):
    for nn_, t in ((nn, tg), (torch.nn, torch)):
        state = nn_.LazyLinear(3).state_dict()
        assert repr(state["weight"]) == "<UninitializedParameter>"
        layer = nn_.LazyLinear(3)
        layer.load_state_dict(state)
        assert layer.has_uninitialized_params()  # still lazy: its first call decides
        assert tuple(layer(t.ones(2, 4)).shape) == (2, 3)
        with pytest.raises(RuntimeError):
            nn_.Linear(2, 3).load_state_dict(state)


def test_uninitialized_parameter_materializes_in_place():
    p = nn.parameter.UninitializedParameter(dtype=tg.float32)
    assert p.requires_grad and p.dtype == np.float32
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3) and p.requires_grad
    b = nn.parameter.UninitializedBuffer()
    b.materialize(4)
    assert type(b) is tg.Tensor and tuple(b.shape) == (4,)


# ---- the in-place functional activations ------------------------------------------------------

IN_PLACE = [("relu_", ()), ("elu_", (0.7,)), ("leaky_relu_", (0.2,)), ("hardtanh_", (-0.5, 0.8)),
            ("threshold_", (0.1, -2.0)), ("selu_", ()), ("celu_", (1.3,))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args", IN_PLACE, ids=[n for n, _ in IN_PLACE])
def test_in_place_activations_as_torch(torch, name, args, dtype):
    base = np.random.default_rng(2).standard_normal((3, 4)).astype(dtype)
    base[0, 0] = np.inf
    if name != "hardtanh_":  # (PyTorch's gradient at NaN is 1 or 0 by the tensor's size)
        base[0, 1] = np.nan
    x, their_x = tg.tensor(base, requires_grad=True), torch.tensor(base, requires_grad=True)
    h, their_h = x * 1.5, their_x * 1.5
    y, their_y = getattr(F, name)(h, *args), getattr(torch.nn.functional, name)(their_h, *args)
    assert y is h and their_y is their_h
    assert_same(h, their_h, name, RTOL[np.dtype(dtype)])
    weights = np.random.default_rng(3).standard_normal(base.shape).astype(dtype)
    (h * tg.tensor(weights)).sum().backward()
    (their_h * torch.tensor(weights)).sum().backward()
    # (PyTorch's celu gradient is off by ~4e-8 in float64: exp(x / alpha) is exact here)
    rtol = 1e-7 if name == "celu_" else RTOL[np.dtype(dtype)]
    assert_same(x.grad, their_x.grad, f"{name} gradient", rtol)
    plain = tg.tensor(base[1:].T.copy()).T  # outside the graph, a transposed view: written
    getattr(F, name)(plain, *args)
    expected = getattr(torch.nn.functional, name)(torch.tensor(base[1:]), *args)
    assert_same(plain, expected, f"{name} of a view", RTOL[np.dtype(dtype)])
    for leaf, fn in ((tg.tensor(base, requires_grad=True), getattr(F, name)),
                     (torch.tensor(base, requires_grad=True),
                      getattr(torch.nn.functional, name))):
        with pytest.raises(RuntimeError, match="leaf"):
            fn(leaf, *args)


# ---- small layers -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 4), (0, 3, 2, 2)], ids=str)
def test_softmax2d_as_torch(torch, shape, dtype):
    x = np.random.default_rng(4).standard_normal(shape)
    run_both(torch, nn.Softmax2d(), torch.nn.Softmax2d(), [x], dtype)
    for bad in ((3,), (1, 1, 2, 3, 4)):
        for layer, t in ((nn.Softmax2d(), tg), (torch.nn.Softmax2d(), torch)):
            with pytest.raises(ValueError, match=f"got {len(bad)}D instead"):
                layer(t.ones(bad))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer, settings", [
    ("UpsamplingNearest2d", {"scale_factor": 2}), ("UpsamplingNearest2d", {"size": (5, 7)}),
    ("UpsamplingBilinear2d", {"scale_factor": 2}), ("UpsamplingBilinear2d", {"size": (3, 8)}),
    ("UpsamplingBilinear2d", {"scale_factor": (1.5, 3)}),
], ids=str)
def test_upsampling_layers_as_torch(torch, layer, settings, dtype):
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    ours, theirs = getattr(nn, layer)(**settings), getattr(torch.nn, layer)(**settings)
    assert repr(ours) == repr(theirs)
    run_both(torch, ours, theirs, [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, groups", [((2, 6, 3), 3), ((2, 6, 2, 3), 2), ((1, 4, 5), 1),
                                           ((2, 0, 3), 2), ((3, 6, 1, 2, 2), 6)], ids=str)
def test_channel_shuffle_as_torch(torch, shape, groups, dtype):
    x = np.random.default_rng(6).standard_normal(shape)
    if 0 in shape:  # (PyTorch's backward refuses no channels: the forward alone)
        assert_same(F.channel_shuffle(tg.tensor(x), groups),
                    torch.nn.functional.channel_shuffle(torch.tensor(x), groups), "empty")
        return
    run_both(torch, nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups), [x], dtype)
    run_both(torch, F.channel_shuffle, torch.nn.functional.channel_shuffle, [x], dtype, groups)
    assert repr(nn.ChannelShuffle(groups)) == repr(torch.nn.ChannelShuffle(groups))


@pytest.mark.parametrize("shape, groups", [((2, 6), 3), ((2, 6, 4), 4), ((2, 6, 4), 0),
                                           ((2, 6, 4), -1), ((6,), 2)], ids=str)
def test_channel_shuffle_refusals_as_torch(torch, shape, groups):
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.channel_shuffle(torch.ones(shape), groups)
    with pytest.raises(RuntimeError) as ours:
        F.channel_shuffle(tg.ones(shape), groups)
    assert str(ours.value) == str(theirs.value)


# ---- unfold and fold --------------------------------------------------------------------------

FOLDS = [((2, 3, 5, 6), 2, 1, 0, 1), ((2, 3, 7, 6), (2, 3), (2, 1), (1, 0), (2, 3)),
         ((3, 5, 5), 3, 1, 1, 2), ((0, 2, 4, 4), 2, 1, 0, 1), ((1, 1, 4, 4), 4, 1, 0, 1),
         ((2, 2, 6, 5), (3, 1), 2, 2, (1, 2)), ((1, 2, 3, 3), 1, 1, 0, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, kernel, dilation, padding, stride", FOLDS, ids=str)
def test_unfold_and_fold_as_torch(torch, shape, kernel, dilation, padding, stride, dtype):
    rng = np.random.default_rng(7)
    TF = torch.nn.functional
    settings = {"dilation": dilation, "padding": padding, "stride": stride}
    x = rng.standard_normal(shape)
    run_both(torch, F.unfold, TF.unfold, [x], dtype, kernel, **settings)
    run_both(torch, nn.Unfold(kernel, **settings), torch.nn.Unfold(kernel, **settings), [x],
             dtype)
    cols = rng.standard_normal(TF.unfold(torch.tensor(x), kernel, **settings).shape)
    run_both(torch, F.fold, TF.fold, [cols], dtype, shape[-2:], kernel, **settings)
    run_both(torch, nn.Fold(shape[-2:], kernel, **settings),
             torch.nn.Fold(shape[-2:], kernel, **settings), [cols], dtype)
    assert repr(nn.Fold(shape[-2:], kernel, **settings)) == \
        repr(torch.nn.Fold(shape[-2:], kernel, **settings))
    assert repr(nn.Unfold(kernel, **settings)) == repr(torch.nn.Unfold(kernel, **settings))


@st.composite
def _fold_case(draw):
    """Settings of unfold with at least one window, and the input's shape."""
    pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))
    kernel, dilation, stride = draw(pairs), draw(pairs), draw(pairs)
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    spatial = tuple(draw(st.integers(low := max(1, d * (k - 1) + 1 - 2 * p), low + 4))
                    for k, d, p in zip(kernel, dilation, padding))
    batch = draw(st.sampled_from([(), (0,), (1,), (2,)]))
    channels = draw(st.integers(1, 3))
    return (*batch, channels, *spatial), kernel, dilation, padding, stride


@given(data=st.data())
def test_unfold_and_fold_in_drawn_layouts_as_torch(torch, data):
    shape, kernel, dilation, padding, stride = data.draw(_fold_case(), label="case")
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    settings = {"dilation": dilation, "padding": padding, "stride": stride}
    TF = torch.nn.functional
    x = data.draw(laid_out(shape, dtype), label="input")
    against_torch(torch, lambda t: F.unfold(t, kernel, **settings),
                  lambda t: TF.unfold(t, kernel, **settings), x,
                  upstream=data.draw(upstream_layouts))
    cols_shape = tuple(TF.unfold(torch.zeros(shape), kernel, **settings).shape)
    cols = data.draw(laid_out(cols_shape, dtype), label="columns")
    against_torch(torch, lambda t: F.fold(t, shape[-2:], kernel, **settings),
                  lambda t: TF.fold(t, shape[-2:], kernel, **settings), cols,
                  upstream=data.draw(upstream_layouts))


@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_and_fold_of_views_nan_and_inf_as_torch(torch, dtype):
    base = np.random.default_rng(8).standard_normal((5, 2, 8, 3))
    base[1, 0, 2, 1], base[2, 1, 0, 0] = np.nan, np.inf
    TF = torch.nn.functional
    for view in (lambda a: a.permute(1, 3, 0, 2), lambda a: a[:, :, ::2].permute(1, 0, 2, 3)):
        x, their_x = tg.tensor(base.astype(dtype), requires_grad=True), \
            torch.tensor(base.astype(dtype), requires_grad=True)
        y, their_y = F.unfold(view(x), 2, padding=1), TF.unfold(view(their_x), 2, padding=1)
        assert_same(y, their_y, "unfold of a view", RTOL[np.dtype(dtype)])
        z = F.fold(y, tuple(view(x).shape[-2:]), 2, padding=1)
        their_z = TF.fold(their_y, tuple(view(their_x).shape[-2:]), 2, padding=1)
        assert_same(z, their_z, "fold of unfold", RTOL[np.dtype(dtype)])
        weights = np.random.default_rng(9).standard_normal(z.shape).astype(dtype)
        (z * tg.tensor(weights)).sum().backward()
        (their_z * torch.tensor(weights)).sum().backward()
        assert_same(x.grad, their_x.grad, "gradient through a view", RTOL[np.dtype(dtype)])


def test_unfold_and_fold_gradients_against_the_scalar_engine():
    x = tg.tensor(np.random.default_rng(10).standard_normal((1, 2, 4, 3)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.unfold(t, (2, 2), padding=1, stride=(2, 1)), x,
                        reference="finite-difference")
    cols = tg.tensor(np.random.default_rng(11).standard_normal((1, 8, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: F.fold(t, (3, 4), 2, dilation=(1, 2)), cols,
                        reference="finite-difference")


@pytest.mark.parametrize("call", [
    "unfold(ones(1, 1, 3, 5, 5), 2)", "unfold(ones(2, 3, 5, 5), 0)",
    "unfold(ones(2, 3, 5, 5), 2, stride=0)", "unfold(ones(2, 3, 5, 5), 2, dilation=0)",
    "unfold(ones(2, 3, 5, 5), 2, padding=-1)", "unfold(ones(2, 3, 5, 5), 6)",
    "unfold(ones(2, 3, 5, 5), (2, 2, 2))", "unfold(ones(2, 0, 5, 5), 2)",
    "fold(ones(2, 12, 15), (5, 5), 2)", "fold(ones(2, 13, 16), (5, 5), 2)",
    "fold(ones(1, 2, 12, 16), (5, 5), 2)", "fold(ones(2, 12, 16), (5, 5), 0)",
    "fold(ones(2, 12, 0), (1, 1), 2)", "fold(ones(2, 0, 16), (5, 5), 2)",
    "fold(ones(2, 12, 16), (5, 5), 2, padding=-1)",
])
def test_unfold_and_fold_refusals_as_torch(torch, call):
    with pytest.raises(RuntimeError) as theirs:
        eval(call, {"ones": torch.ones, **vars(torch.nn.functional)})
    with pytest.raises(RuntimeError) as ours:
        eval(call, {"ones": tg.ones, "unfold": F.unfold, "fold": F.fold})
    assert str(ours.value) == str(theirs.value)


def test_unfold_of_integers_is_refused_as_torch(torch):
    with pytest.raises(NotImplementedError):
        torch.nn.functional.unfold(torch.ones(1, 1, 3, 3, dtype=torch.int64), 2)
    with pytest.raises(NotImplementedError):
        F.unfold(tg.ones(1, 1, 3, 3, dtype=tg.int64), 2)


# ---- weight norm ------------------------------------------------------------------------------


def _pair(torch, kind, dtype):
    """A layer of ours and PyTorch's with PyTorch's weights, in ``dtype``."""
    torch.manual_seed(0)
    make = {"linear": lambda n: n.Linear(3, 4), "conv": lambda n: n.Conv2d(2, 3, (2, 3)),
            "conv_t": lambda n: n.ConvTranspose2d(2, 3, 2)}[kind]
    theirs = make(torch.nn).to(_torch_dtype(torch, dtype))
    ours = make(nn).to(dtype)
    _copy_into(ours, theirs)
    return ours, theirs


def _input(torch, kind, dtype):
    shape = (2, 3) if kind == "linear" else (2, 2, 4, 5)
    x = np.random.default_rng(12).standard_normal(shape).astype(dtype)
    return tg.tensor(x), torch.tensor(x)


def _step_both(ours, theirs, x, their_x, rtol, what):
    """One call and backward of each: the same output and parameter gradients."""
    y, their_y = ours(x), theirs(their_x)
    assert_same(y, their_y, f"{what}: output", rtol)
    weights = np.random.default_rng(13).standard_normal(tuple(y.shape)).astype(y.dtype)
    (y * tg.tensor(weights)).sum().backward()
    (their_y * torch_tensor(their_y, weights)).sum().backward()
    named = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(named)
    for name, p in ours.named_parameters():
        assert_same(p.grad, named[name].grad, f"{what}: gradient of {name}", rtol)


def torch_tensor(like, values):
    import torch

    return torch.tensor(values, dtype=like.dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, dim", [("linear", 0), ("linear", 1), ("linear", None),
                                       ("linear", -2), ("conv", 0), ("conv", 2),
                                       ("conv_t", 1)], ids=str)
def test_weight_norm_hook_as_torch(torch, kind, dim, dtype):
    ours, theirs = _pair(torch, kind, dtype)
    rtol = RTOL[np.dtype(dtype)]
    with pytest.warns(FutureWarning, match="deprecated"):
        assert nn.utils.weight_norm(ours, dim=dim) is ours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_same(ours.state_dict()[key], value, key, rtol)
    x, their_x = _input(torch, kind, dtype)
    _step_both(ours, theirs, x, their_x, rtol, "weight_norm")
    with torch.no_grad():
        theirs.weight_g.mul_(1.5)  # a step on g: the next call's weight follows
    with tg.no_grad():
        ours.weight_g.mul_(1.5)
    assert_same(ours(x), theirs(their_x), "after a step", rtol)
    with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"), \
            pytest.warns(FutureWarning):
        nn.utils.weight_norm(ours, dim=dim)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight, "removed", rtol)
    assert type(ours.weight) is nn.Parameter
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
        nn.utils.remove_weight_norm(ours)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, dim", [("linear", 0), ("linear", None), ("conv", 1),
                                       ("conv_t", 0)], ids=str)
def test_weight_norm_parametrization_as_torch(torch, kind, dim, dtype):
    ours, theirs = _pair(torch, kind, dtype)
    rtol = RTOL[np.dtype(dtype)]
    P, their_P = nn.utils.parametrize, torch.nn.utils.parametrize
    nn.utils.parametrizations.weight_norm(ours, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(theirs, dim=dim)
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert_same(ours.state_dict()[key], value, key, rtol)
    assert P.is_parametrized(ours) and P.is_parametrized(ours, "weight")
    assert not P.is_parametrized(ours, "bias")
    assert P.type_before_parametrizations(ours) is type(ours).__bases__[0]
    x, their_x = _input(torch, kind, dtype)
    _step_both(ours, theirs, x, their_x, rtol, "parametrizations.weight_norm")
    new = np.random.default_rng(14).standard_normal(tuple(theirs.weight.shape)).astype(dtype)
    ours.weight = tg.tensor(new)  # through right_inverse: g and v anew
    theirs.weight = torch.tensor(new)
    for key, value in theirs.state_dict().items():
        assert_same(ours.state_dict()[key], value, f"assigned: {key}", rtol)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    P.remove_parametrizations(ours, "weight")
    their_P.remove_parametrizations(theirs, "weight")
    assert type(ours) is P.type_before_parametrizations(ours) and repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight, "removed", rtol)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(ours, "weight")


def test_an_older_weight_norm_state_dict_loads_into_the_parametrization_as_torch(torch):
    older, _ = _pair(torch, "conv", np.float64)
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(older)
    with tg.no_grad():
        older.weight_g.mul_(2.0)
    state = {k: v.numpy() for k, v in older.state_dict().items()}
    assert list(state) == ["bias", "weight_g", "weight_v"]
    ours = nn.utils.parametrizations.weight_norm(nn.Conv2d(2, 3, (2, 3)))
    theirs = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv2d(2, 3, (2, 3)).double())
    assert repr(ours.load_state_dict(state)) == repr(theirs.load_state_dict(
        {k: torch.tensor(v) for k, v in state.items()})) == "<All keys matched successfully>"
    assert_same(ours.weight, theirs.weight, "loaded", 1e-12)
    x, their_x = _input(torch, "conv", np.float64)
    assert_same(ours(x), older(x), "the same layer", 1e-12)


@pytest.mark.parametrize("dim", [2, -3])
def test_weight_norm_refuses_a_dim_out_of_range_as_torch(torch, dim):
    for nn_ in (nn, torch.nn):
        for apply in (nn_.utils.weight_norm, nn_.utils.parametrizations.weight_norm):
            with pytest.raises(IndexError, match="Dimension out of range"), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                apply(nn_.Linear(3, 4), dim=dim)


def test_a_parametrized_module_copies_deeply():
    import copy

    layer = nn.utils.parametrizations.weight_norm(nn.Linear(3, 4))
    twin = copy.deepcopy(layer)
    assert type(twin).__name__ == "ParametrizedLinear"
    assert twin.parametrizations.weight.original0 is not layer.parametrizations.weight.original0
    assert tg.equal(twin(tg.ones(2, 3)), layer(tg.ones(2, 3)))


# ---- spectral norm ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, iterations", [("linear", 1), ("conv", 2), ("conv_t", 1)],
                         ids=str)
def test_spectral_norm_hook_as_torch(torch, kind, iterations, dtype):
    ours, theirs = _pair(torch, kind, dtype)
    rtol = RTOL[np.dtype(dtype)] * 10  # (a few power steps: float32's rounding compounds)
    nn.utils.spectral_norm(ours, n_power_iterations=iterations)
    torch.nn.utils.spectral_norm(theirs, n_power_iterations=iterations)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "weight_orig", "weight_u", "weight_v"]
    assert ours.weight_u.shape == theirs.weight_u.shape
    assert ours.weight_v.shape == theirs.weight_v.shape
    _copy_into(ours, theirs)  # PyTorch's random vectors
    x, their_x = _input(torch, kind, dtype)
    for step in range(3):  # training: the vectors improve at each call
        ours.zero_grad()
        theirs.zero_grad()
        _step_both(ours, theirs, x, their_x, rtol, f"train {step}")
        assert_same(ours.weight_u, theirs.weight_u, "u", rtol)
        assert_same(ours.weight_v, theirs.weight_v, "v", rtol)
    u = ours.weight_u.detach().clone()
    ours.eval()
    theirs.eval()
    assert_same(ours(x), theirs(their_x), "eval", rtol)
    assert tg.equal(ours.weight_u, u)  # evaluation leaves the vectors be
    with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(ours)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_same(ours.weight, theirs.weight, "removed", rtol)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(ours)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["linear", "conv", "conv_t"])
def test_spectral_norm_parametrization_as_torch(torch, kind, dtype):
    ours, theirs = _pair(torch, kind, dtype)
    rtol = RTOL[np.dtype(dtype)] * 10
    nn.utils.parametrizations.spectral_norm(ours)
    torch.nn.utils.parametrizations.spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _copy_into(ours, theirs)
    x, their_x = _input(torch, kind, dtype)
    for step in range(2):
        ours.zero_grad()
        theirs.zero_grad()
        _step_both(ours, theirs, x, their_x, rtol, f"train {step}")
    for key, value in theirs.state_dict().items():
        assert_same(ours.state_dict()[key], value, key, rtol)
    u = ours.parametrizations.weight[0]._u.clone()
    ours.eval()
    theirs.eval()
    assert_same(ours(x), theirs(their_x), "eval", rtol)
    assert tg.equal(ours.parametrizations.weight[0]._u, u)  # evaluation leaves it be
    with pytest.raises(IndexError, match="Dimension out of range"):
        nn.utils.parametrizations.spectral_norm(nn.Linear(2, 2), dim=2)


# ---- parametrize, on a parametrization of the user's ------------------------------------------


def _symmetric(nn_):
    class Symmetric(nn_.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

    return Symmetric()


def _scaled(nn_):
    class Scaled(nn_.Module):
        def forward(self, X):
            return X * 2

        def right_inverse(self, X):
            return X / 2

    return Scaled()


def test_parametrize_as_torch(torch):
    ours, theirs = nn.Linear(4, 4), torch.nn.Linear(4, 4).double()
    _copy_into(ours, theirs)
    P, their_P = nn.utils.parametrize, torch.nn.utils.parametrize
    for module, parametrize, nn_ in ((ours, P, nn), (theirs, their_P, torch.nn)):
        parametrize.register_parametrization(module, "weight", _symmetric(nn_))
        parametrize.register_parametrization(module, "weight", _scaled(nn_))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == \
        ["bias", "parametrizations.weight.original"]
    assert_same(ours.weight, theirs.weight, "weight", 1e-12)
    x, their_x = tg.ones(2, 4, dtype=tg.float64), torch.ones(2, 4, dtype=torch.float64)
    _step_both(ours, theirs, x, their_x, 1e-12, "parametrized")
    for module in (ours, theirs):
        with pytest.raises(RuntimeError, match="does not implement right_inverse"):
            module.weight = module.weight.detach()
    with P.cached():
        assert ours.weight is ours.weight
    assert ours.weight is not ours.weight
    for module, parametrize, t in ((ours, P, tg), (theirs, their_P, torch)):
        nn_ = nn if t is tg else torch.nn
        with pytest.raises(ValueError, match="may not change the shape"):
            parametrize.register_parametrization(module, "bias", _first_two(nn_))
        with pytest.raises(ValueError, match="does not have a parameter, a buffer"):
            parametrize.register_parametrization(module, "nothing", _scaled(nn_))
    P.remove_parametrizations(ours, "weight", leave_parametrized=False)
    their_P.remove_parametrizations(theirs, "weight", leave_parametrized=False)
    assert_same(ours.weight, theirs.weight, "original kept", 1e-12)
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear


def _first_two(nn_):
    class FirstTwo(nn_.Module):
        def forward(self, X):
            return X[:2]

    return FirstTwo()


def test_parametrized_buffer_and_adam_keep_the_same_tensors():
    m = nn.Linear(3, 3)
    m.register_buffer("scale", tg.ones(3))
    nn.utils.parametrize.register_parametrization(m, "scale", _scaled(nn))
    assert list(m.state_dict()) == ["weight", "bias", "parametrizations.scale.original"]
    assert not any(n.endswith("original") for n, _ in m.named_parameters())
    assert m.scale.tolist() == [1.0, 1.0, 1.0]  # right_inverse, then forward
    nn.utils.parametrizations.weight_norm(m)
    optimizer = tg.optim.Adam(m.parameters(), lr=0.1)
    g = m.parametrizations.weight.original0
    m(tg.ones(2, 3)).sum().backward()
    optimizer.step()
    m.weight = tg.ones(3, 3)  # new values for g and v, the same tensors: Adam keeps them
    assert m.parametrizations.weight.original0 is g
    m.zero_grad()
    m(tg.ones(2, 3)).sum().backward()
    optimizer.step()
    assert np.isfinite(m.weight.detach().numpy()).all()


# ---- where PyTorch files them -----------------------------------------------------------------


def test_new_layers_under_pytorchs_module_paths(torch):
    for path, name in [("fold", "Fold"), ("fold", "Unfold"), ("activation", "Softmax2d"),
                       ("upsampling", "UpsamplingNearest2d"),
                       ("upsampling", "UpsamplingBilinear2d"),
                       ("channelshuffle", "ChannelShuffle"), ("linear", "LazyLinear")]:
        assert hasattr(getattr(torch.nn.modules, path), name)
        assert getattr(getattr(nn.modules, path), name) is getattr(nn.modules, name)
    assert issubclass(nn.LazyLinear, nn.modules.lazy.LazyModuleMixin)
    assert hasattr(torch.nn.modules.lazy, "LazyModuleMixin")
    assert not hasattr(nn.modules, "LazyModuleMixin")  # (nor is it in PyTorch's)


def test_a_module_list_subclass_prints_its_own_name(torch):
    for nn_ in (nn, torch.nn):
        class Blocks(nn_.ModuleList):
            pass

        assert repr(Blocks([nn_.ReLU()])) == "Blocks(\n  (0): ReLU()\n)"
        assert repr(Blocks()) == "Blocks()"
