"""Transposed convolutions and interpolation without torch: the forwards against plain
NumPy loops (each input entry scattered through the kernel; each output read at its source
positions), every gradient by ``gradcheck``, and PyTorch's names, shapes and refusals
(``test_conv_transpose_torch.py`` holds them against PyTorch itself)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

rng = np.random.default_rng(0)


def leaf(*shape: int) -> tensorgrad.Tensor:
    return tensorgrad.tensor(rng.standard_normal(shape), requires_grad=True)


def pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def scatter_conv_transpose2d(x, w, b, stride=1, padding=0, output_padding=0, groups=1,
                             dilation=1):
    """The definition: each input entry adds its value times its channel's kernel slice to
    the output, ``stride`` apart; then ``padding`` cut from each side."""
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = map(pair, (stride, padding, output_padding,
                                                        dilation))
    n, c, h, wd = x.shape
    _, og, kh, kw = w.shape
    full = np.zeros((n, og * groups, (h - 1) * sh + dh * (kh - 1) + 1 + oh,
                     (wd - 1) * sw + dw * (kw - 1) + 1 + ow))
    cg = c // groups
    for i, ch, r, q, a, e in itertools.product(range(n), range(c), range(h), range(wd),
                                               range(kh), range(kw)):
        g = ch // cg  # input channel ch feeds its group's output channels
        full[i, g * og:(g + 1) * og, r * sh + a * dh, q * sw + e * dw] += x[i, ch, r, q] * \
            w[ch, :, a, e]
    out = full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw]
    return out if b is None else out + b.reshape(-1, 1, 1)


TRANSPOSED = [dict(), dict(stride=2), dict(stride=2, padding=1, output_padding=1),
              dict(stride=(1, 3), padding=(2, 0), output_padding=(0, 2), dilation=(2, 1)),
              dict(dilation=2, output_padding=1, padding=1),  # output_padding < dilation
              dict(groups=2, stride=2, padding=(0, 1)), dict(groups=4, padding=1)]


@pytest.mark.parametrize("settings", TRANSPOSED, ids=str)
def test_conv_transpose2d_is_its_definition_and_its_gradients_check(settings):
    groups = settings.get("groups", 1)
    x, w, b = leaf(2, 4, 3, 4), leaf(4, 8 // groups, 3, 2), leaf(8)
    y = F.conv_transpose2d(x, w, b, **settings)
    np.testing.assert_allclose(y.data, scatter_conv_transpose2d(x.data, w.data, b.data,
                                                                **settings),
                               rtol=1e-12, atol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **settings),
                                x, w, b, reference="scalar")


def test_without_bias_the_output_padding_is_zeros_and_the_gradients_check():
    x, w = leaf(1, 2, 3, 3), leaf(2, 3, 2, 2)
    y = F.conv_transpose2d(x, w, stride=3, output_padding=2)
    assert y.shape == (1, 3, 10, 10)
    assert not y.data[:, :, 8:].any() and not y.data[:, :, :, 8:].any()
    # (the zeros added are no Values, so the exact reference cannot run)
    assert tensorgrad.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=3,
                                                                output_padding=(2, 1)),
                                x, w, reference="finite-difference")


def test_it_is_the_adjoint_of_the_convolution():
    # <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>: the transpose the name promises
    for settings in (dict(stride=2, padding=1), dict(stride=(3, 1), dilation=(1, 2), groups=2)):
        x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 3))
        if settings.get("groups", 1) == 1:
            w = rng.standard_normal((6, 4, 3, 3))
        forward = F.conv2d(tensorgrad.tensor(x), tensorgrad.tensor(w), **settings).numpy()
        y = rng.standard_normal(forward.shape)
        # the output padding that gives back x's size (the stride's remainder)
        stride, dilation = pair(settings["stride"]), pair(settings.get("dilation", 1))
        padding = pair(settings.get("padding", 0))
        extra = [size + 2 * p - (s * (o - 1) + d * 2 + 1)
                 for size, p, s, o, d in zip(x.shape[2:], padding, stride, forward.shape[2:],
                                             dilation)]
        back = F.conv_transpose2d(tensorgrad.tensor(y), tensorgrad.tensor(w),
                                  output_padding=extra, **settings).numpy()
        assert back.shape == x.shape
        np.testing.assert_allclose(np.sum(forward * y), np.sum(x * back), rtol=1e-12)


def test_conv_transpose1d_is_conv_transpose2d_of_one_row_and_checks():
    x, w, b = leaf(2, 3, 5), leaf(3, 2, 4), leaf(6)
    settings = dict(stride=3, padding=2, output_padding=1, dilation=2, groups=3)
    y = F.conv_transpose1d(x, w, b, **settings)
    as_2d = F.conv_transpose2d(x.unsqueeze(2), w.unsqueeze(2), b, stride=(1, 3),
                               padding=(0, 2), output_padding=(0, 1), dilation=(1, 2), groups=3)
    assert y.shape == (2, 6, 16)  # (5 - 1) * 3 - 2 * 2 + 2 * (4 - 1) + 1 + 1
    np.testing.assert_allclose(y.data, as_2d.data[:, :, 0], rtol=1e-12)
    unbatched = F.conv_transpose1d(x[1], w, b, **settings)
    np.testing.assert_allclose(unbatched.data, y.data[1], rtol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w, b: F.conv_transpose1d(x, w, b, **settings),
                                x[0].detach().requires_grad_(), w, b, reference="scalar")


def test_layouts_give_what_their_copies_give():
    x, w = leaf(2, 7, 3, 5), leaf(3, 2, 2, 3)
    views = {"sliced": lambda x: x.permute(0, 2, 1, 3)[:, :, ::2, 1:],
             "transposed": lambda x: x.permute(0, 2, 1, 3)[:, :, :3].transpose(2, 3),
             "fortran": lambda x: tensorgrad.tensor(np.asfortranarray(
                 x.detach().numpy().transpose(0, 2, 1, 3)[:, :, :3]))}
    for name, view in views.items():
        v = view(x)
        copy = tensorgrad.tensor(np.ascontiguousarray(v.data))
        np.testing.assert_allclose(F.conv_transpose2d(v, w, stride=2).data,
                                   F.conv_transpose2d(copy, w, stride=2).data, rtol=1e-12,
                                   err_msg=name)
    assert tensorgrad.gradcheck(lambda x, w: F.conv_transpose2d(views["sliced"](x), w,
                                                                stride=(2, 1)),
                                x, w, reference="scalar")


def test_an_empty_batch_gives_an_empty_output_and_zero_gradients():
    x, w, b = tensorgrad.zeros(0, 2, 3, 3, requires_grad=True), leaf(2, 3, 2, 2), leaf(3)
    y = F.conv_transpose2d(x, w, b, stride=2)
    assert y.shape == (0, 3, 6, 6)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 3, 3)
    assert not w.grad.any() and not b.grad.any()


def test_modules_hold_pytorchs_weights_and_take_an_output_size():
    tensorgrad.manual_seed(0)
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, groups=2)
    assert [(k, v.shape) for k, v in up.state_dict().items()] == \
        [("weight", (4, 3, 3, 3)), ("bias", (6,))]
    assert repr(up) == "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), " \
        "padding=(1, 1), groups=2)"
    assert up.transposed and up.output_padding == (0, 0)
    x = tensorgrad.randn(2, 4, 5, 5)
    assert up(x).shape == (2, 6, 9, 9)
    wanted = up(x, output_size=(10, 9))
    assert wanted.shape == (2, 6, 10, 9)
    np.testing.assert_allclose(wanted.data, F.conv_transpose2d(
        x, up.weight, up.bias, 2, 1, output_padding=(1, 0), groups=2).data, rtol=1e-12)
    assert up(x, output_size=[2, 6, 10, 10]).shape == (2, 6, 10, 10)
    assert up(x[0], output_size=[6, 10, 10]).shape == (6, 10, 10)  # unbatched
    # kaiming_uniform_(a=sqrt(5)): weights and bias within 1/sqrt(fan_in), fan_in = 3 * 3 * 3
    bound = 1 / math.sqrt(27)
    assert np.abs(up.weight.data).max() <= bound and np.abs(up.bias.data).max() <= bound
    assert np.abs(up.weight.data).max() > 0.8 * bound
    one = nn.ConvTranspose1d(2, 4, 3, stride=3, output_padding=2, bias=False, dtype=np.float32)
    assert repr(one) == "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(3,), " \
        "output_padding=(2,), bias=False)"
    assert one.weight.dtype == np.float32 and one.bias is None
    assert one(tensorgrad.randn(2, 5).float()).shape == (4, 17)


def test_interpolate_nearest_is_its_definition_and_its_gradient_checks():
    x = leaf(2, 3, 5, 4)
    y = F.interpolate(x, size=(7, 9))
    rows, cols = np.arange(7) * 5 // 7, np.arange(9) * 4 // 9  # floor(i * in / out)
    np.testing.assert_array_equal(y.data, x.data[:, :, rows][:, :, :, cols])
    for size, out in ((2, 98), (3, 147), (6, 94)):  # i * size / out whole, but not in floats
        y = F.interpolate(tensorgrad.arange(size, dtype=tensorgrad.float64)[None, None],
                          size=out)
        np.testing.assert_array_equal(y.data[0, 0], np.arange(out) * size // out)
    # a scale factor given sets the spacing, 1 / 1.5, however many outputs there are
    y = F.interpolate(x[:, :, 0], scale_factor=1.5)
    np.testing.assert_array_equal(y.data, x.data[:, :, 0, [0, 0, 1, 2, 2, 3]])
    exact = F.interpolate(x, size=(3, 7), mode="nearest-exact")  # floor((i + 0.5) * in / out)
    rows, cols = (np.floor((np.arange(3) + 0.5) * 5 / 3).astype(int),
                  np.floor((np.arange(7) + 0.5) * 4 / 7).astype(int))
    np.testing.assert_array_equal(exact.data, x.data[:, :, rows][:, :, :, cols])
    for settings in (dict(size=(7, 3)), dict(scale_factor=(2, 0.6)),
                     dict(scale_factor=1.7, mode="nearest-exact")):
        assert tensorgrad.gradcheck(lambda x, settings=settings: F.interpolate(x, **settings), x,
                                    reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.interpolate(x, size=(2, 3, 5)), leaf(1, 2, 2, 3, 4),
                                reference="scalar")


def linear_1d(x, out, align_corners, scale=None):
    """Linear interpolation along the last dimension, one output at a time, in float64."""
    size = x.shape[-1]
    y = np.empty(x.shape[:-1] + (out,))
    for i in range(out):
        if out == size:
            source = float(i)
        elif align_corners:
            source = i * (size - 1) / (out - 1) if out > 1 else 0.0
        else:  # pixel centres: i + 0.5 out there is (i + 0.5) * spacing in here
            spacing = 1 / scale if scale else size / out
            source = max((i + 0.5) * spacing - 0.5, 0.0)
        low = min(int(source), size - 1)
        high = min(low + 1, size - 1)
        share = min(source - low, 1.0)
        y[..., i] = x[..., low] * (1 - share) + x[..., high] * share
    return y


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_linear_modes_are_their_definition_and_their_gradients_check(align_corners):
    x = leaf(2, 3, 4, 6)
    for out in (1, 4, 9, 13):
        np.testing.assert_allclose(F.interpolate(x[:, :, 0], size=out, mode="linear",
                                                 align_corners=align_corners).data,
                                   linear_1d(x.data[:, :, 0], out, align_corners), rtol=1e-12)
    y = F.interpolate(x, scale_factor=(1.5, 0.7), mode="bilinear", align_corners=align_corners)
    along_w = linear_1d(x.data, 4, align_corners, scale=0.7)
    along_h = linear_1d(along_w.swapaxes(2, 3), 6, align_corners, scale=1.5).swapaxes(2, 3)
    np.testing.assert_allclose(y.data, along_h, rtol=1e-12, atol=1e-15)
    for fn in (lambda x: F.interpolate(x, size=(7, 4), mode="bilinear",
                                       align_corners=align_corners),
               lambda x: F.interpolate(x[:, 0], scale_factor=2.5, mode="linear",
                                       align_corners=align_corners),
               lambda x: F.interpolate(x[:, None], size=(3, 5, 8), mode="trilinear",
                                       align_corners=align_corners)):
        assert tensorgrad.gradcheck(fn, x, reference="scalar")


def test_interpolate_lets_nan_and_inf_through_as_its_sums_do():
    x = tensorgrad.tensor([[[0.0, np.nan, 2.0, np.inf]]])
    same = F.interpolate(x, size=4, mode="linear").data[0, 0]  # x * 1 + x * 0 still
    np.testing.assert_array_equal(same, [0.0, np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(F.interpolate(x, size=4).data[0, 0], [0, np.nan, 2, np.inf])
    x = tensorgrad.tensor([[[0.0, 1.0, np.nan, 3.0]]])
    up = F.interpolate(x, size=7, mode="linear", align_corners=True).data[0, 0]
    # the output on position 1 exactly is 1 * x[1] + 0 * x[2]: NaN
    np.testing.assert_array_equal(up, [0.0, 0.5, np.nan, np.nan, np.nan, np.nan, 3.0])


def test_interpolate_keeps_dtype_layouts_and_empty_batches():
    x = leaf(2, 6, 5, 3)
    for view in (x.transpose(2, 3), x[:, ::2, 1:], x.permute(0, 3, 1, 2)):
        copy = tensorgrad.tensor(np.ascontiguousarray(view.data))
        np.testing.assert_array_equal(F.interpolate(view, size=(4, 7), mode="bilinear").data,
                                      F.interpolate(copy, size=(4, 7), mode="bilinear").data)
    assert tensorgrad.gradcheck(lambda x: F.interpolate(x.transpose(2, 3)[:, ::2], size=(4, 7),
                                                        mode="bilinear"),
                                x, reference="scalar")
    assert F.interpolate(x.float(), scale_factor=2, mode="bilinear").dtype == np.float32
    empty = tensorgrad.zeros(0, 2, 3, requires_grad=True)
    y = F.interpolate(empty, size=5, mode="linear")
    assert y.shape == (0, 2, 5)
    y.sum().backward()
    assert empty.grad.shape == (0, 2, 3)


def test_upsample_is_interpolate_as_a_module():
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
    assert repr(up) == "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.Upsample(size=(3, 4))) == "Upsample(size=(3, 4), mode='nearest')"
    assert list(up.state_dict()) == []
    x = leaf(1, 2, 3, 3)
    np.testing.assert_array_equal(up(x).data, F.interpolate(x, scale_factor=2, mode="bilinear",
                                                            align_corners=True).data)
    assert up(x).shape == (1, 2, 6, 6)


def test_a_captured_step_replays_them_bit_for_bit():
    tensorgrad.manual_seed(0)
    up = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)

    def loss(x):
        return (F.interpolate(up(x), scale_factor=1.5, mode="bilinear") ** 2).sum()

    step = tensorgrad.capture(loss)
    x = rng.standard_normal((2, 2, 4, 4))
    for shift in range(3):  # two recordings, then a replay
        up.zero_grad()
        replayed = step(tensorgrad.tensor(x + shift))
    grads = [p.grad.numpy().copy() for p in up.parameters()]
    up.zero_grad()
    eager = loss(tensorgrad.tensor(x + 2))
    eager.backward()
    assert replayed.item() == eager.item()
    for mine, theirs in zip(grads, (p.grad for p in up.parameters())):
        np.testing.assert_array_equal(mine, theirs)


def raises(error: type[Exception], message: str, fn, *args, **kwargs) -> None:
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message


def test_bad_arguments_get_pytorchs_errors():
    x, w = tensorgrad.zeros(2, 4, 5), tensorgrad.zeros(4, 3, 3)
    raises(RuntimeError, "output padding must be smaller than either stride or dilation, but "
           "got output_padding_height: 0 output_padding_width: 2 stride_height: 1 "
           "stride_width: 2 dilation_height: 1 dilation_width: 1",
           F.conv_transpose1d, x, w, stride=2, output_padding=2)
    raises(RuntimeError, "Given input size per channel: (1 x 5). Calculated output size per "
           "channel: (1 x -1). Output size is too small", F.conv_transpose1d, x, w, padding=4)
    raises(RuntimeError, "Given transposed=1, weight of size [4, 3, 3], expected input[2, 5, 5] "
           "to have 4 channels, but got 5 channels instead",
           F.conv_transpose1d, tensorgrad.zeros(2, 5, 5), w)
    raises(RuntimeError, "Given transposed=1, weight of size [4, 3, 3], expected bias to be "
           "1-dimensional with 3 elements, but got bias of size [4] instead",
           F.conv_transpose1d, x, w, tensorgrad.zeros(4))
    raises(RuntimeError, "Given groups=3, expected weight to be divisible by 3 at dimension 0, "
           "but got weight of size [[4, 3, 3]] instead", F.conv_transpose1d, x, w, groups=3)
    raises(RuntimeError, "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, "
           "but got input of size: [5]", F.conv_transpose1d, x[0, 0], w)
    raises(RuntimeError, "dilation should be greater than zero, but got dilation_height: 1, "
           "dilation_width: 0", F.conv_transpose1d, x, w, dilation=0)
    raises(RuntimeError, "negative output_padding is not supported",
           F.conv_transpose1d, x, w, output_padding=-1)
    raises(RuntimeError, "expected stride to be a single integer value or a list of 1 values to "
           "match the convolution dimensions, but got stride=[1, 2]",
           F.conv_transpose1d, x, w, stride=(1, 2))
    with pytest.raises(TypeError, match="no 'same'"):
        F.conv_transpose2d(x[None], w[..., None], padding="same")
    raises(ValueError, 'Only "zeros" padding mode is supported for ConvTranspose2d',
           nn.ConvTranspose2d, 4, 6, 3, padding_mode="reflect")
    raises(ValueError, "out_channels must be divisible by groups", nn.ConvTranspose2d, 4, 6, 3,
           groups=4)
    up = nn.ConvTranspose2d(4, 6, 3, stride=2)
    raises(ValueError, "requested an output size of (13, 11), but valid sizes range from "
           "[11, 11] to [12, 12] (for an input of (5, 5))",
           up, tensorgrad.zeros(1, 4, 5, 5), output_size=(13, 11))
    raises(ValueError, "ConvTranspose2D: for 4D input, output_size must have 2 or 4 elements "
           "(got 3)", up, tensorgrad.zeros(1, 4, 5, 5), output_size=(1, 13, 11))

    raises(ValueError, "align_corners option can only be set with the interpolating modes: "
           "linear | bilinear | bicubic | trilinear", F.interpolate, x, size=8,
           align_corners=False)
    raises(ValueError, "only one of size or scale_factor should be defined",
           F.interpolate, x, size=8, scale_factor=2)
    raises(ValueError, "either size or scale_factor should be defined", F.interpolate, x)
    raises(NotImplementedError, "Got 3D input, but bilinear mode needs 4D input",
           F.interpolate, x, size=8, mode="bilinear")
    raises(RuntimeError, "Input and output sizes should be greater than 0, but got input "
           "(W: 5) and output (W: 0)", F.interpolate, x, scale_factor=0.1)
    raises(ValueError, "recompute_scale_factor is not meaningful with an explicit size.",
           F.interpolate, x, size=4, recompute_scale_factor=True)
    with pytest.raises(ValueError, match="must have the same number of spatial dimensions"):
        F.interpolate(x, size=(8, 8))
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input"):
        F.interpolate(x[0], size=8)
    with pytest.raises(TypeError, match="expected size to be one of int"):
        F.interpolate(x, size=8.0)
    # what is not here is refused, not approximated
    raises(NotImplementedError, "interpolate: mode='area' is not supported (only 'nearest', "
           "'nearest-exact', 'linear', 'bilinear', 'bicubic' and 'trilinear')",
           F.interpolate, x[None], size=8, mode="area")
    raises(NotImplementedError, "Got 3D input, but bicubic mode needs 4D input",
           F.interpolate, x, size=8, mode="bicubic")
    raises(NotImplementedError, "interpolate: antialias=True is not supported",
           F.interpolate, x[None], size=8, mode="bilinear", antialias=True)
    with pytest.raises(NotImplementedError, match="needs a floating tensor"):
        F.interpolate(tensorgrad.zeros(1, 2, 3, dtype=tensorgrad.long), size=5)


def test_names_are_reached_from_every_functional_place():
    import tensorgrad.functional as functional
    from tensorgrad.nn.functional import conv_transpose2d, interpolate

    assert conv_transpose2d is F.conv_transpose2d is functional.conv_transpose2d
    assert interpolate is functional.interpolate and F.conv_transpose1d
