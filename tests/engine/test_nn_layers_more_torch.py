"""Padding modes, adaptive pooling, pixel shuffle, channel dropout and Bilinear held against
PyTorch's: outputs and every gradient in float32 and float64, the indices, NaN and
infinities, the errors, the layers' reprs and state dicts, and the init functions'
shapes. Skipped without torch (``test_nn_layers_more.py`` checks them without it)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from torch_compare import assert_same, run_both

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", [
    ((2, 3, 7), (2, 3)), ((3, 7), (0, 6)), ((3, 7), (-2, 4)), ((2, 3, 7), (3, -3)),
    ((2, 3, 5, 6), (1, 2, 4, 0)), ((3, 5, 6), (2, -1, -1, 3)),
    ((1, 2, 4, 5, 3), (1, 1, 2, 0, 3, 3)), ((2, 4, 5, 3), (2, 0, -1, 1, 1, 2)),
    ((0, 2, 5), (1, 2)),
], ids=str)
def test_pad_modes_as_torch(shape, pad, mode, dtype):
    if mode == "reflect" and max(pad) >= min(shape[-len(pad) // 2:]):
        pytest.skip("wider than the input: PyTorch refuses it (test_refusals_as_torch)")
    x = np.random.default_rng(0).standard_normal(shape)
    run_both(torch, F.pad, TF.pad, [x], dtype, pad, mode=mode)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("outs", [3, (2, 4), (5, None), (None, 1), (7, 11), (1, 1), 0],
                         ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 7, 5), (3, 6, 9)], ids=str)
def test_adaptive_pool2d_as_torch(shape, outs, dtype):
    x = np.random.default_rng(1).standard_normal(shape)
    for ours, theirs in ((F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d),
                         (F.adaptive_max_pool2d, TF.adaptive_max_pool2d)):
        if outs == 0:  # PyTorch's backward refuses an empty output: the forward alone
            assert_same(ours(tensorgrad.tensor(x), 0), theirs(torch.tensor(x), 0), "empty")
        else:
            run_both(torch, ours, theirs, [x], dtype, outs)
    ours, _ = F.adaptive_max_pool2d(tensorgrad.tensor(x), outs, return_indices=True)
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), outs, return_indices=True)
    assert_same(ours, theirs[0], "values")
    assert_same(F.adaptive_max_pool2d(tensorgrad.tensor(x), outs, True)[1], theirs[1],
                "indices")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("outs", [1, 3, 4, 6, 13, (5,)], ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 13), (4, 6)], ids=str)
def test_adaptive_pool1d_as_torch(shape, outs, dtype):
    x = np.random.default_rng(2).standard_normal(shape)
    run_both(torch, F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d, [x], dtype, outs)
    run_both(torch, F.adaptive_max_pool1d, TF.adaptive_max_pool1d, [x], dtype, outs)
    assert_same(F.adaptive_max_pool1d(tensorgrad.tensor(x), outs, True)[1],
                TF.adaptive_max_pool1d(torch.tensor(x), outs, True)[1], "indices")


def test_adaptive_pools_of_views_nan_and_inf_as_torch():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((2, 7, 4, 6))
    base[0, 1, 2, 3], base[1, 2, 0, 0], base[1, 3, 1, 1] = math.nan, math.inf, -math.inf
    for ours, theirs in ((F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d),
                         (F.adaptive_max_pool2d, TF.adaptive_max_pool2d)):
        x, their_x = tensorgrad.tensor(base, requires_grad=True), \
            torch.tensor(base, requires_grad=True)
        y = ours(x.permute(0, 2, 1, 3)[:, :, 1::2], (3, 2))  # a strided view
        their_y = theirs(their_x.permute(0, 2, 1, 3)[:, :, 1::2], (3, 2))
        assert_same(y, their_y, "output")
        y.sum().backward()
        their_y.sum().backward()
        assert_same(x.grad, their_x.grad, "gradient")


@pytest.mark.parametrize("dtype", DTYPES)
def test_pixel_shuffle_as_torch(dtype):
    rng = np.random.default_rng(4)
    run_both(torch, F.pixel_shuffle, TF.pixel_shuffle, [rng.standard_normal((2, 18, 3, 4))],
             dtype, 3)
    run_both(torch, F.pixel_shuffle, TF.pixel_shuffle, [rng.standard_normal((8, 2, 5))],
             dtype, 2)
    run_both(torch, F.pixel_unshuffle, TF.pixel_unshuffle,
             [rng.standard_normal((2, 3, 2, 6, 4))], dtype, 2)
    empty = rng.standard_normal((0, 4, 2, 2))  # (PyTorch's backward refuses it)
    assert_same(F.pixel_shuffle(tensorgrad.tensor(empty), 2),
                TF.pixel_shuffle(torch.tensor(empty), 2), "empty")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_as_torch(dtype):
    rng = np.random.default_rng(5)
    x1, x2, w, b = (rng.standard_normal(s) for s in ((4, 2, 3), (4, 2, 5), (6, 3, 5), (6,)))
    run_both(torch, F.bilinear, TF.bilinear, [x1, x2, w, b], dtype)
    run_both(torch, F.bilinear, TF.bilinear, [x1[0, 0], x2[0, 0], w, None], dtype)
    run_both(torch, F.bilinear, TF.bilinear, [x1[:0, 0], x2[:0, 0], w, b], dtype)


def test_channel_dropout_in_evaluation_and_its_scale_as_torch():
    x = np.random.default_rng(6).random((4, 8, 5, 5)) + 1
    for ours, theirs in ((F.dropout2d, TF.dropout2d), (F.dropout1d, TF.dropout1d)):
        shaped = x[..., 0] if ours is F.dropout1d else x
        assert_same(ours(tensorgrad.tensor(shaped), 0.3, training=False),
                    theirs(torch.tensor(shaped), 0.3, training=False), "evaluation")
        y = ours(tensorgrad.tensor(shaped), 0.25).data
        their_y = theirs(torch.tensor(shaped), 0.25).numpy()
        for a in (y, their_y):  # each channel: zeros, or the input over 0.75
            ratio = (a / shaped).reshape(*shaped.shape[:2], -1)
            np.testing.assert_allclose(ratio, np.broadcast_to(ratio[..., :1], ratio.shape),
                                       rtol=1e-6)
            assert np.isclose(ratio[..., 0], 0).any() and \
                np.isclose(ratio[..., 0], 1 / 0.75, rtol=1e-6).any()
            assert (np.isclose(ratio, 0) | np.isclose(ratio, 1 / 0.75, rtol=1e-6)).all()


def errors(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 (the type and message are what is compared)
        return type(error), str(error)
    return None


@pytest.mark.parametrize("case", [
    lambda F, t: F.pad(t(2, 3, 5), (5, 0), mode="reflect"),
    lambda F, t: F.pad(t(2, 3, 5), (6, 0), mode="circular"),
    lambda F, t: F.pad(t(5), (1, 1), mode="reflect"),
    lambda F, t: F.pad(t(3, 5), (1, 1, 1, 1), mode="replicate"),
    lambda F, t: F.pad(t(2, 3, 5), (1, 1), mode="reflect", value=1.0),
    lambda F, t: F.pad(t(2, 3, 5), (1, 1), mode="wrap"),
    lambda F, t: F.pad(t(2, 0, 5), (1, 1), mode="replicate"),
    lambda F, t: F.adaptive_avg_pool1d(t(7), 3),
    lambda F, t: F.adaptive_max_pool1d(t(2, 7), (3, 2)),
    lambda F, t: F.adaptive_avg_pool1d(t(2, 7), -1),
    lambda F, t: F.adaptive_max_pool1d(t(2, 7), -1),
    lambda F, t: F.adaptive_max_pool2d(t(2, 3, 7, 5), (2, -1)),
    lambda F, t: F.adaptive_avg_pool2d(t(2, 3, 7, 5), (-2, -1)),
    lambda F, t: F.adaptive_max_pool2d(t(7, 5), 2),
    lambda F, t: F.adaptive_avg_pool2d(t(7, 5), 2),
    lambda F, t: F.adaptive_avg_pool2d(t(7), (2, 2)),
    lambda F, t: F.adaptive_avg_pool2d(t(2, 7, 5), (1, 2, 3)),
    lambda F, t: F.adaptive_max_pool2d(t(2, 2, 7, 5), (1, 2, 3)),
    lambda F, t: F.adaptive_avg_pool2d(t(2, 2, 7, 5), (3,)),
    lambda F, t: F.adaptive_max_pool2d(t(2, 0, 7, 5), 2),
    lambda F, t: F.adaptive_max_pool1d(t(2, 7), None),
    lambda F, t: F.adaptive_max_pool2d(t(2, 3, 0, 5), 2),
    lambda F, t: F.adaptive_max_pool1d(t(2, 3, 0), 2),
    lambda F, t: F.pixel_shuffle(t(1, 3, 2, 2), 2),
    lambda F, t: F.pixel_shuffle(t(4, 4), 2),
    lambda F, t: F.pixel_shuffle(t(4, 4, 4), 0),
    lambda F, t: F.pixel_unshuffle(t(1, 3, 5, 4), 2),
    lambda F, t: F.pixel_unshuffle(t(1, 3, 4, 5), 2),
    lambda F, t: F.dropout1d(t(2, 3, 4, 5)),
    lambda F, t: F.dropout1d(t(3, 4), 1.5),
    lambda F, t: F.dropout2d(t(3)),
    lambda F, t: F.bilinear(t(2, 3), t(2, 4), t(5, 3, 3)),
    lambda F, t: F.bilinear(t(2, 3), t(3, 4), t(5, 3, 4)),
    lambda F, t: F.bilinear(t(2, 3), t(2, 4), t(5, 3, 4), t(4)),
], ids=lambda case: str(case.__code__.co_firstlineno))
@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")  # (both warn before refusing)
def test_refusals_as_torch(case):
    ours = errors(lambda: case(F, lambda *s: tensorgrad.zeros(*s)))
    theirs = errors(lambda: case(TF, lambda *s: torch.zeros(*s)))
    assert theirs is not None and ours == theirs


def test_layers_print_and_keep_their_state_as_torch():
    pairs = [(nn.ZeroPad1d(2), torch.nn.ZeroPad1d(2)),
             (nn.ZeroPad2d((1, 2, 3, 4)), torch.nn.ZeroPad2d((1, 2, 3, 4))),
             (nn.ConstantPad1d(2, 3.5), torch.nn.ConstantPad1d(2, 3.5)),
             (nn.ConstantPad2d((0, 1, 2, 3), 1), torch.nn.ConstantPad2d((0, 1, 2, 3), 1)),
             (nn.ReflectionPad1d(2), torch.nn.ReflectionPad1d(2)),
             (nn.ReflectionPad2d((1, 0, 2, 1)), torch.nn.ReflectionPad2d((1, 0, 2, 1))),
             (nn.ReplicationPad1d((3, 1)), torch.nn.ReplicationPad1d((3, 1))),
             (nn.ReplicationPad2d(1), torch.nn.ReplicationPad2d(1)),
             (nn.CircularPad1d(1), torch.nn.CircularPad1d(1)),
             (nn.CircularPad2d((1, 2, 2, 1)), torch.nn.CircularPad2d((1, 2, 2, 1))),
             (nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3)),
             (nn.AdaptiveAvgPool2d((3, None)), torch.nn.AdaptiveAvgPool2d((3, None))),
             (nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4)),
             (nn.AdaptiveMaxPool2d((2, 3)), torch.nn.AdaptiveMaxPool2d((2, 3))),
             (nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
             (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)),
             (nn.Dropout1d(0.2), torch.nn.Dropout1d(0.2)),
             (nn.Dropout2d(inplace=True), torch.nn.Dropout2d(inplace=True)),
             (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)),
             (nn.Bilinear(2, 3, 4, bias=False), torch.nn.Bilinear(2, 3, 4, bias=False))]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
            {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    x = np.random.default_rng(7).standard_normal((2, 4, 6, 6))
    for ours, theirs in pairs[:10]:
        shaped = x[:, :, 0] if "1d" in type(ours).__name__ else x
        assert_same(ours(tensorgrad.tensor(shaped)), theirs(torch.tensor(shaped)), repr(ours))


@pytest.mark.parametrize("dtype", DTYPES)
def test_bilinear_layer_from_torch_state_dict(dtype):
    theirs = torch.nn.Bilinear(3, 4, 2).to(torch.float64 if dtype == np.float64 else
                                           torch.float32)
    ours = nn.Bilinear(3, 4, 2, dtype=dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((5, 4)).astype(dtype)
    a, b = tensorgrad.tensor(x1, requires_grad=True), torch.tensor(x1, requires_grad=True)
    y, their_y = ours(a, tensorgrad.tensor(x2)), theirs(b, torch.tensor(x2))
    rtol = 2e-5 if dtype == np.float32 else 1e-10
    assert_same(y, their_y, "output", rtol)
    y.sum().backward()
    their_y.sum().backward()
    assert_same(a.grad, b.grad, "input gradient", rtol)
    assert_same(ours.weight.grad, theirs.weight.grad, "weight gradient", rtol)
    assert_same(ours.bias.grad, theirs.bias.grad, "bias gradient", rtol)


@pytest.mark.parametrize("name, args", [
    ("trunc_normal_", dict(mean=0.5, std=0.2, a=0.0, b=1.0)), ("orthogonal_", dict(gain=2.0)),
    ("eye_", {}), ("dirac_", {}), ("sparse_", dict(sparsity=0.3))], ids=str)
def test_init_functions_take_torchs_arguments_and_give_its_shapes_and_exact_values(name, args):
    shape = (4, 3, 3) if name == "dirac_" else (5, 4)
    ours = getattr(nn.init, name)(tensorgrad.empty(*shape), **args)
    theirs = getattr(torch.nn.init, name)(torch.empty(*shape, dtype=torch.float64), **args)
    assert ours.shape == tuple(theirs.shape)
    if name in ("eye_", "dirac_"):  # not random: the same values
        assert_same(ours, theirs, name)
    if name == "sparse_":
        assert ((ours.data == 0).sum(0) == (theirs.numpy() == 0).sum(0)).all()
