"""Transposed convolutions and interpolation held against PyTorch's: outputs and the
gradients of input, weight and bias, in float32 and float64, the modules' output sizes,
state dicts both ways and error messages. Skipped without torch (``test_conv_transpose.py``
checks them without it)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from torch_compare import RTOL, assert_same, run_both

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


TRANSPOSED_2D = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(2, 3), padding=(1, 2), output_padding=(1, 2)),
    dict(padding=2, dilation=2, output_padding=1),  # output_padding below the dilation
    dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1), output_padding=(1, 0)),
    dict(stride=3, padding=4),  # more padding than the stride reaches: a smaller output
    dict(groups=2, padding=1, stride=2),
    dict(groups=4, stride=2, output_padding=1),  # depthwise
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 1)])
@pytest.mark.parametrize("settings", TRANSPOSED_2D, ids=str)
def test_conv_transpose2d_as_torch(settings, kernel, dtype):
    rng = np.random.default_rng(0)
    groups = settings.get("groups", 1)
    x, w, b = (rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((4, 8 // groups, *kernel)),
               rng.standard_normal(8))
    run_both(torch, F.conv_transpose2d, TF.conv_transpose2d, [x, w, b], dtype, **settings)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("settings", [dict(), dict(stride=2, padding=3, dilation=2),
                                      dict(stride=3, output_padding=2, groups=3),
                                      dict(dilation=3, output_padding=2, padding=1)],
                         ids=str)
@pytest.mark.parametrize("kernel", [1, 4, 5])
def test_conv_transpose1d_as_torch_with_and_without_bias(settings, kernel, dtype):
    rng = np.random.default_rng(1)
    groups = settings.get("groups", 1)
    x, w = rng.standard_normal((3, 6, 7)), rng.standard_normal((6, 9 // groups, kernel))
    run_both(torch, F.conv_transpose1d, TF.conv_transpose1d, [x, w, None], dtype, **settings)
    run_both(torch, F.conv_transpose1d, TF.conv_transpose1d, [x, w, rng.standard_normal(9)], dtype,
             **settings)


def test_unbatched_empty_and_non_contiguous_inputs_as_torch():
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((3, 5, 2, 3)), rng.standard_normal(5)
    run_both(torch, F.conv_transpose2d, TF.conv_transpose2d,
             [rng.standard_normal((3, 6, 5)), w, b], np.float64, stride=2, padding=1)
    run_both(torch, F.conv_transpose1d, TF.conv_transpose1d,
             [rng.standard_normal((3, 6)), w[:, :, 0], b], np.float64, stride=3)
    run_both(torch, F.conv_transpose2d, TF.conv_transpose2d,
             [rng.standard_normal((0, 3, 4, 4)), w, b], np.float64, stride=2)
    base = rng.standard_normal((4, 3, 9, 2))
    x, their_x = tensorgrad.tensor(base), torch.tensor(base)
    fortran = np.asfortranarray(base)
    for view, their_view in ((x.transpose(2, 3), their_x.transpose(2, 3)),
                             (x[:, :, ::2], their_x[:, :, ::2]),
                             (x.transpose(0, 1)[:3, :, 1:].transpose(0, 1),
                              their_x.transpose(0, 1)[:3, :, 1:].transpose(0, 1)),
                             (tensorgrad.tensor(fortran), torch.from_numpy(fortran))):
        assert_same(F.conv_transpose2d(view, tensorgrad.tensor(w), tensorgrad.tensor(b),
                                       stride=(2, 1), padding=(1, 0)),
                    TF.conv_transpose2d(their_view, torch.tensor(w), torch.tensor(b),
                                        stride=(2, 1), padding=(1, 0)), "non-contiguous input")


@pytest.fixture
def torch_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("n, settings, sizes", [
    (2, dict(stride=2, padding=1, groups=2), [None, (10, 9), (2, 6, 10, 10)]),
    (2, dict(stride=(3, 2), dilation=(1, 2), bias=False), [None, (15, 13), (17, 14)]),
    (1, dict(stride=4, padding=2, output_padding=1), [None, (16,), (2, 6, 18)]),
])
def test_modules_with_output_sizes_as_torch(n, settings, sizes, torch_float64):
    kind = f"ConvTranspose{n}d"
    theirs = getattr(torch.nn, kind)(4, 6, 3, **settings)
    ours = getattr(nn, kind)(4, 6, 3, **settings)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 4, 5, 5)[:n + 2])
    for size in sizes:
        spatial = None if size is None else size[-n:]
        for batch, wanted in ((x, size), (x[0], spatial)):  # (and unbatched)
            run_both(torch, lambda x, wanted=wanted: ours(x, output_size=wanted),
                     lambda x, wanted=wanted: theirs(x, output_size=wanted), [batch], np.float64)
    for name, p in ours.named_parameters():
        assert_same(p.grad, dict(theirs.named_parameters())[name].grad, f"gradient of {name}")


def test_state_dicts_load_both_ways(torch_float64):
    theirs = torch.nn.Sequential(torch.nn.ConvTranspose2d(2, 4, 3, stride=2, groups=2),
                                 torch.nn.ConvTranspose1d(4, 3, 2, bias=False),
                                 torch.nn.Upsample(scale_factor=2))
    tensorgrad.manual_seed(1)
    ours = nn.Sequential(nn.ConvTranspose2d(2, 4, 3, stride=2, groups=2),
                         nn.ConvTranspose1d(4, 3, 2, bias=False), nn.Upsample(scale_factor=2))
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    torch.manual_seed(2)
    theirs = torch.nn.ConvTranspose2d(2, 4, 3, stride=2, groups=2)
    ours[0].load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(4).standard_normal((3, 2, 4, 4))
    run_both(torch, ours[0], theirs, [x], np.float64)


def test_default_init_draws_as_torchs_bounds():
    # kaiming_uniform_ with a = sqrt(5) on the (in, out / groups, *kernel) weight, the bias
    # within 1/sqrt(fan_in): compare the bounds each reaches over many draws
    ours = nn.ConvTranspose2d(6, 42, (3, 2), groups=3)
    theirs = torch.nn.ConvTranspose2d(6, 42, (3, 2), groups=3)
    for name in ("weight", "bias"):
        mine, their = getattr(ours, name).data, getattr(theirs, name).detach().numpy()
        assert mine.shape == their.shape
        assert abs(np.abs(mine).max() - np.abs(their).max()) < 0.02


def same_error(ours, theirs) -> None:
    """Both raise, the same type with the same message (a shape printed as a tuple, where
    PyTorch prints a ``torch.Size``)."""
    with pytest.raises(Exception) as their_error:
        theirs()
    with pytest.raises(Exception) as our_error:
        ours()
    assert type(our_error.value) is type(their_error.value)
    expected = re.sub(r"torch\.Size\(\[(\d+)\]\)", r"(\1,)", str(their_error.value))
    expected = re.sub(r"torch\.Size\(\[([\d, ]+)\]\)", r"(\1)", expected)
    assert str(our_error.value) == expected


@pytest.mark.parametrize("settings, shapes", [
    (dict(stride=2, output_padding=2), None),
    (dict(dilation=2, output_padding=2), None),
    (dict(padding=4), None),
    (dict(padding=-1), None),
    (dict(stride=0), None),
    (dict(output_padding=-1), None),
    (dict(groups=3), None),
    (dict(groups=0), None),
    (dict(stride=(1, 2)), None),
    (dict(), ((2, 5, 5), (4, 3, 3))),
    (dict(), ((5, 5), (4, 3, 3))),
    (dict(), ((5,), (4, 3, 3))),
], ids=str)
def test_bad_arguments_raise_as_torch(settings, shapes):
    x, w = shapes or ((2, 4, 5), (4, 3, 3))
    # (in float64: PyTorch's float32 path reports some of these from its oneDNN kernels)
    same_error(lambda: F.conv_transpose1d(tensorgrad.zeros(*x), tensorgrad.zeros(*w),
                                          **settings),
               lambda: TF.conv_transpose1d(torch.zeros(*x, dtype=torch.float64),
                                           torch.zeros(*w, dtype=torch.float64), **settings))


def test_bad_module_arguments_raise_as_torch():
    same_error(lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="circular"),
               lambda: torch.nn.ConvTranspose2d(4, 6, 3, padding_mode="circular"))
    same_error(lambda: nn.ConvTranspose2d(4, 6, 3, groups=4),
               lambda: torch.nn.ConvTranspose2d(4, 6, 3, groups=4))
    ours, theirs = nn.ConvTranspose2d(4, 6, 3, stride=2), torch.nn.ConvTranspose2d(4, 6, 3, 2)
    for size in ((13, 11), (10, 11), (11,), (1, 1, 11, 11, 1)):
        same_error(lambda size=size: ours(tensorgrad.zeros(1, 4, 5, 5), output_size=size),
                   lambda size=size: theirs(torch.zeros(1, 4, 5, 5), output_size=size))
    bias = torch.zeros(4)
    same_error(lambda: F.conv_transpose1d(tensorgrad.zeros(2, 4, 5), tensorgrad.zeros(4, 3, 3),
                                          tensorgrad.zeros(4)),
               lambda: TF.conv_transpose1d(torch.zeros(2, 4, 5), torch.zeros(4, 3, 3), bias))


# ---- interpolation -----------------------------------------------------------------------------

INTERPOLATIONS = [
    ((2, 3, 5), dict(size=8)),
    ((2, 3, 5), dict(size=3)),
    ((2, 3, 5), dict(size=10)),
    ((2, 3, 7), dict(scale_factor=0.6)),
    ((2, 3, 7), dict(scale_factor=2.4, recompute_scale_factor=True)),
    ((2, 3, 5), dict(size=13, mode="nearest-exact")),
    ((2, 3, 5), dict(scale_factor=1.7, mode="nearest-exact")),
    ((2, 3, 4, 6), dict(size=(7, 4))),
    ((2, 3, 4, 6), dict(scale_factor=(2, 0.5))),
    ((2, 3, 4, 6), dict(size=(7, 3), mode="nearest-exact")),
    ((1, 2, 3, 4, 5), dict(size=(4, 4, 9))),
    ((1, 2, 3, 4, 5), dict(scale_factor=(1.5, 0.5, 2.2), mode="nearest-exact")),
    *[(shape, dict(align_corners=corners, **settings)) for corners in (False, True)
      for shape, settings in [
          ((2, 3, 5), dict(size=8, mode="linear")),
          ((2, 3, 5), dict(size=1, mode="linear")),
          ((2, 3, 5), dict(size=5, mode="linear")),
          ((2, 3, 9), dict(size=4, mode="linear")),
          ((2, 3, 5), dict(scale_factor=1.7, mode="linear")),
          ((2, 3, 5), dict(scale_factor=1.7, mode="linear", recompute_scale_factor=True)),
          ((2, 3, 4, 6), dict(size=(7, 4), mode="bilinear")),
          ((2, 3, 4, 6), dict(size=(4, 11), mode="bilinear")),
          ((2, 3, 4, 6), dict(scale_factor=(2.5, 0.7), mode="bilinear")),
          ((1, 2, 3, 4, 5), dict(size=(5, 2, 8), mode="trilinear")),
          ((1, 2, 3, 4, 5), dict(scale_factor=1.5, mode="trilinear")),
          ((2, 3, 4, 6), dict(size=(7, 9), mode="bicubic")),  # (a ViT's positions resized)
          ((2, 3, 6, 5), dict(size=(3, 2), mode="bicubic")),
          ((1, 2, 1, 3), dict(size=(4, 1), mode="bicubic")),
          ((1, 2, 4, 4), dict(size=(4, 4), mode="bicubic")),
          ((2, 3, 4, 6), dict(scale_factor=(1.7, 0.6), mode="bicubic"))]],
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, settings", INTERPOLATIONS, ids=str)
def test_interpolate_as_torch(shape, settings, dtype):
    x = np.random.default_rng(6).standard_normal(shape)
    run_both(torch, F.interpolate, TF.interpolate, [x], dtype, **settings)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_picks_torchs_positions_at_every_size(mode, dtype):
    # the positions' rounding decides between neighbours: every size pair up to 12 to 25,
    # and scale factors that give no exact spacing
    rng = np.random.default_rng(7)
    for size, out in itertools.product(range(1, 13), range(1, 26)):
        x = rng.standard_normal((1, 2, size)).astype(dtype)
        assert_same(F.interpolate(tensorgrad.tensor(x), size=out, mode=mode),
                    TF.interpolate(torch.tensor(x), size=out, mode=mode), f"{size} to {out}",
                    RTOL[np.dtype(dtype)])
    for size, out in ((2, 98), (3, 147), (6, 94), (8, 196)):  # whole in reals, not in floats
        x = rng.standard_normal((1, 2, size)).astype(dtype)
        assert_same(F.interpolate(tensorgrad.tensor(x), size=out, mode=mode),
                    TF.interpolate(torch.tensor(x), size=out, mode=mode), f"{size} to {out}",
                    RTOL[np.dtype(dtype)])
    for size, factor in itertools.product(range(1, 10), (0.3, 0.7, 1.1, 1.7, 2.05, 2.3, 3.3)):
        if int(size * factor) > 0:
            x = rng.standard_normal((1, 2, size)).astype(dtype)
            assert_same(F.interpolate(tensorgrad.tensor(x), scale_factor=factor, mode=mode),
                        TF.interpolate(torch.tensor(x), scale_factor=factor, mode=mode),
                        f"{size} by {factor}", RTOL[np.dtype(dtype)])


def test_nearest_gradient_follows_torchs_forward_where_torchs_backward_does_not():
    # PyTorch's nearest backward takes out == in (and out == 2 * in) as a copy (and a
    # doubling) even when a scale factor gave another spacing, which its forward uses: 5 by
    # 1.1 reads [0, 0, 1, 2, 3]. Ours is the gradient of the forward: held to the matrix
    # PyTorch's forward applies (its outputs for each unit input)
    for size, factor in ((5, 1.1), (4, 2.05), (3, 2.3)):
        matrix = TF.interpolate(torch.eye(size, dtype=torch.float64)[:, None], scale_factor=factor
                                )[:, 0].numpy()  # (in, out)
        x = tensorgrad.tensor(np.random.default_rng(8).standard_normal((1, 1, size)),
                              requires_grad=True)
        y = F.interpolate(x, scale_factor=factor)
        np.testing.assert_array_equal(y.data[0, 0], x.data[0, 0] @ matrix)
        weights = np.arange(1.0, matrix.shape[1] + 1)
        (y * tensorgrad.tensor(weights)).sum().backward()
        np.testing.assert_array_equal(x.grad[0, 0], matrix @ weights)


def test_interpolate_lets_nan_and_inf_through_as_torch():
    x = np.array([[[0.0, 1.0, np.nan, 3.0, np.inf, 5.0]]])
    for settings in (dict(size=6, mode="linear"), dict(size=11, mode="linear", align_corners=True),
                     dict(size=4, mode="linear"), dict(size=9), dict(scale_factor=1.1)):
        assert_same(F.interpolate(tensorgrad.tensor(x), **settings),
                    TF.interpolate(torch.tensor(x), **settings), str(settings))
    x2 = np.tile(x[:, :, None], (1, 1, 3, 1))
    assert_same(F.interpolate(tensorgrad.tensor(x2), size=(5, 6), mode="bilinear"),
                TF.interpolate(torch.tensor(x2), size=(5, 6), mode="bilinear"), "bilinear")


@pytest.mark.parametrize("shape, settings", [
    ((2, 3, 5), dict(size=8, align_corners=True)),
    ((2, 3, 5), dict(size=8, scale_factor=2)),
    ((2, 3, 5), dict()),
    ((2, 3, 5), dict(size=(8, 8))),
    ((2, 3, 5), dict(scale_factor=(2, 2))),
    ((2, 3, 5), dict(size=8, mode="bilinear")),
    ((2, 3, 4, 5), dict(size=8, mode="linear")),
    ((2, 3, 4, 5), dict(size=8, mode="trilinear")),
    ((2, 3, 4, 5), dict(size=8, mode="foo")),
    ((3, 5), dict(size=8)),
    ((2, 3, 5), dict(size=0)),
    ((2, 3, 4, 5), dict(scale_factor=0.2)),
    ((2, 3, 5), dict(size=4, recompute_scale_factor=True)),
    ((2, 3, 5), dict(size=4, antialias=True)),
    ((2, 3, 4, 5), dict(size=(4, 5.0))),
], ids=str)
def test_interpolate_bad_arguments_raise_as_torch(shape, settings):
    same_error(lambda: F.interpolate(tensorgrad.zeros(*shape), **settings),
               lambda: TF.interpolate(torch.zeros(*shape), **settings))


@pytest.mark.parametrize("settings", [dict(scale_factor=2), dict(size=(5, 7), mode="bilinear"),
                                      dict(scale_factor=(1.5, 2.0), mode="bilinear",
                                           align_corners=True),
                                      dict(size=(3, 4), mode="nearest-exact")], ids=str)
def test_upsample_as_torch(settings):
    ours, theirs = nn.Upsample(**settings), torch.nn.Upsample(**settings)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(9).standard_normal((2, 3, 4, 4))
    run_both(torch, ours, theirs, [x], np.float32)
    run_both(torch, ours, theirs, [x], np.float64)
