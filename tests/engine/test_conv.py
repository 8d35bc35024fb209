"""Convolutions, pooling and batch norm without torch: every op's gradients by
``gradcheck``, the forwards against plain NumPy loops, BatchNorm's running statistics
against their formula, and PyTorch's names, shapes and refusals
(``test_conv_torch.py`` holds them against PyTorch itself)."""

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


def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output at a time."""
    x = np.pad(x, [(0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2])
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh = (h - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i, j, k, p in itertools.product(range(n), range(o), range(oh), range(ow)):
        g = j // (o // groups)  # the group of output channel j reads its group's inputs
        top, left = k * stride[0], p * stride[1]
        patch = x[i, g * cg:(g + 1) * cg, top:top + dilation[0] * (kh - 1) + 1:dilation[0],
                  left:left + dilation[1] * (kw - 1) + 1:dilation[1]]
        out[i, j, k, p] = (patch * w[j]).sum() + (0 if b is None else b[j])
    return out


CONVS = [dict(), dict(stride=2, padding=1), dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
         dict(groups=2, padding="same"), dict(groups=4, padding=1), dict(padding="valid")]


@pytest.mark.parametrize("settings", CONVS, ids=str)
def test_conv2d_is_its_definition_and_its_gradients_check(settings):
    groups = settings.get("groups", 1)
    x, w, b = leaf(2, 4, 6, 5), leaf(4, 4 // groups, 3, 2), leaf(4)
    y = F.conv2d(x, w, b, **settings)
    stride = settings.get("stride", 1)
    stride = (stride,) * 2 if isinstance(stride, int) else stride
    dilation = settings.get("dilation", (1, 1))
    padding = settings.get("padding", 0)
    if padding == "same":  # kernel (3, 2): 2 rows padded, 1 column (after, as PyTorch)
        expected = naive_conv2d(np.pad(x.data, [(0, 0), (0, 0), (0, 0), (0, 1)]), w.data,
                                b.data, stride, (1, 0), dilation, groups)
    else:
        padding = (0, 0) if padding == "valid" else \
            (padding,) * 2 if isinstance(padding, int) else padding
        expected = naive_conv2d(x.data, w.data, b.data, stride, padding, dilation, groups)
    np.testing.assert_allclose(y.data, expected, rtol=1e-12, atol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **settings), x, w, b,
                                reference="scalar")


def test_conv1d_and_unbatched_inputs_are_conv2d_of_one_row_and_check():
    x, w, b = leaf(2, 3, 9), leaf(6, 1, 4), leaf(6)
    y = F.conv1d(x, w, b, stride=2, padding=3, dilation=2, groups=3)
    as_2d = F.conv2d(x.unsqueeze(2), w.unsqueeze(2), b, stride=(1, 2), padding=(0, 3),
                     dilation=(1, 2), groups=3)
    np.testing.assert_allclose(y.data, as_2d.data[:, :, 0], rtol=1e-12)
    unbatched = F.conv1d(x[1], w, b, stride=2, padding=3, dilation=2, groups=3)
    np.testing.assert_allclose(unbatched.data, y.data[1], rtol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w: F.conv1d(x, w, None, padding="same", groups=3),
                                x[0].detach().requires_grad_(), w, reference="scalar")


def test_non_contiguous_inputs_give_what_their_copies_give():
    x, w = leaf(2, 7, 3, 5), leaf(3, 3, 2, 2)
    view = x.permute(0, 2, 1, 3)[:, :, ::2, 1:]  # (2, 3, 4, 4), strided both ways
    copy = tensorgrad.tensor(view.detach().numpy().copy())
    np.testing.assert_allclose(F.conv2d(view, w, stride=(2, 1)).data,
                               F.conv2d(copy, w, stride=(2, 1)).data, rtol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w: F.conv2d(x.permute(0, 2, 1, 3)[:, :, ::2, 1:], w),
                                x, w, reference="scalar")


def test_pooling_is_its_definition_and_its_gradients_check():
    x = leaf(2, 3, 6, 5)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, x.detach().numpy()[:, :, :6, :4].reshape(2, 3, 3, 2, 2, 2)
                                  .max(axis=(3, 5)))
    avg = F.avg_pool2d(x, (3, 2), stride=1)
    np.testing.assert_allclose(avg.data[:, :, 1, 2], x.data[:, :, 1:4, 2:4].mean(axis=(2, 3)))
    counted = F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    np.testing.assert_allclose(counted.data[:, :, 0, 0], x.data[:, :, :2, :2].mean(axis=(2, 3)))
    for pool in (lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
                 lambda x: F.max_pool2d(x, (2, 3), stride=(1, 2), padding=1, dilation=2),
                 lambda x: F.max_pool1d(x[0], 2)):
        assert tensorgrad.gradcheck(pool, x, reference="finite-difference")
    for pool in (lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
                 lambda x: F.avg_pool2d(x, (2, 3), divisor_override=4),
                 lambda x: F.avg_pool1d(x[0], 3, 2, 1),
                 lambda x: F.adaptive_avg_pool2d(x, (3, 1))):
        assert tensorgrad.gradcheck(pool, x, reference="scalar")


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_check(training):
    x, w, b = leaf(4, 3, 2, 2), leaf(3), leaf(3)
    mean, var = tensorgrad.tensor(rng.standard_normal(3)), tensorgrad.tensor(rng.random(3) + 1)
    assert tensorgrad.gradcheck(
        lambda x, w, b: F.batch_norm(x, mean.clone(), var.clone(), w, b, training=training),
        x, w, b, reference="finite-difference")
    assert tensorgrad.gradcheck(lambda x: F.batch_norm(x, None, None, training=True),
                                leaf(5, 2), reference="finite-difference")


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_running_statistics_follow_their_formula(momentum):
    tensorgrad.manual_seed(0)
    bn = nn.BatchNorm2d(3, momentum=momentum)
    mean, var = np.zeros(3), np.ones(3)
    for step in range(1, 4):
        x = rng.standard_normal((4, 3, 2, 5)) * step + step
        y = bn(tensorgrad.tensor(x))
        factor = 1 / step if momentum is None else momentum
        batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        mean = (1 - factor) * mean + factor * batch_mean
        var = (1 - factor) * var + factor * x.var(axis=(0, 2, 3), ddof=1)  # unbiased
        normed = (x - batch_mean[:, None, None]) / np.sqrt(batch_var[:, None, None] + 1e-5)
        np.testing.assert_allclose(y.data, normed, rtol=1e-12, atol=1e-12)  # biased
        np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12)
        assert bn.num_batches_tracked.item() == step
    bn.eval()
    x = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(bn(tensorgrad.tensor(x)).data,
                               (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5),
                               rtol=1e-12)
    assert bn.num_batches_tracked.item() == 3  # not counted in evaluation


def test_the_running_statistics_record_no_gradient_and_untracked_uses_the_batch():
    bn = nn.BatchNorm1d(2)
    x = leaf(5, 2)
    bn(x).sum().backward()
    assert not bn.running_mean.requires_grad and bn.running_mean.grad_fn is None
    untracked = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert untracked.running_mean is None and list(untracked.state_dict()) == []
    y = untracked(x).data
    values = x.detach().numpy()
    np.testing.assert_allclose(y, (values - values.mean(0)) / np.sqrt(values.var(0) + 1e-5))


def test_modules_have_pytorchs_parameters_buffers_and_reprs():
    tensorgrad.manual_seed(0)
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2)
    assert [(k, tuple(v.shape)) for k, v in conv.state_dict().items()] == \
        [("weight", (6, 2, 3, 2)), ("bias", (6,))]
    bound = 1 / math.sqrt(2 * 3 * 2)  # fan_in = in_channels / groups * kernel: both bounds
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound
    assert repr(conv) == "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), " \
        "groups=2)"
    assert repr(nn.Conv1d(3, 6, 3, padding="same", bias=False)) == \
        "Conv1d(3, 6, kernel_size=(3,), stride=(1,), padding=same, bias=False)"
    assert conv(tensorgrad.randn(2, 4, 7, 5)).shape == (2, 6, 4, 3)
    assert conv(tensorgrad.randn(4, 7, 5)).shape == (6, 4, 3)  # unbatched
    bn = nn.BatchNorm2d(3)
    assert [(k, v.dtype) for k, v in bn.state_dict().items()] == \
        [("weight", np.float64), ("bias", np.float64), ("running_mean", np.float64),
         ("running_var", np.float64), ("num_batches_tracked", np.int64)]
    assert repr(bn) == ("BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")
    assert [p.shape for p in nn.BatchNorm1d(3, affine=False).parameters()] == []
    assert repr(nn.MaxPool2d(2)) == \
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
                        nn.AvgPool2d(1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    assert net(tensorgrad.randn(3, 1, 6, 6)).shape == (3, 2)
    net.float()
    assert net[1].running_var.dtype == np.float32 and net[1].num_batches_tracked.dtype == np.int64


def raises(error: type[Exception], message: str, fn, *args, **kwargs) -> None:
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message


def test_bad_arguments_get_pytorchs_errors():
    x, w = tensorgrad.zeros(2, 3, 8, 8), tensorgrad.zeros(4, 3, 3, 3)
    raises(RuntimeError, "padding='same' is not supported for strided convolutions",
           F.conv2d, x, w, stride=2, padding="same")
    raises(RuntimeError, "Invalid padding string: 'full'", F.conv2d, x, w, padding="full")
    raises(RuntimeError, "Given groups=1, weight of size [4, 3, 3, 3], expected "
           "input[2, 5, 8, 8] to have 3 channels, but got 5 channels instead",
           F.conv2d, tensorgrad.zeros(2, 5, 8, 8), w)
    raises(RuntimeError, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got "
           "input of size: [2, 3]", F.conv2d, tensorgrad.zeros(2, 3), w)
    raises(RuntimeError, "Calculated padded input size per channel: (2 x 2). Kernel size: "
           "(3 x 3). Kernel size can't be greater than actual input size",
           F.conv2d, tensorgrad.zeros(2, 3, 2, 2), w)
    raises(RuntimeError, "negative padding is not supported", F.conv2d, x, w, padding=-1)
    raises(RuntimeError, "non-positive stride is not supported", F.conv2d, x, w, stride=0)
    raises(RuntimeError, "Given weight of size [4, 3, 3, 3], expected bias to be "
           "1-dimensional with 4 elements, but got bias of size [3] instead",
           F.conv2d, x, w, tensorgrad.zeros(3))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.conv2d(x.float(), w)
    raises(ValueError, "padding='same' is not supported for strided convolutions",
           nn.Conv2d, 3, 3, 3, stride=2, padding="same")
    raises(ValueError, "in_channels must be divisible by groups", nn.Conv2d, 3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of .*, but got "
                                         "padding_mode='mirror'"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    raises(RuntimeError, "pad should be at most half of effective kernel size, but got pad=2, "
           "kernel_size=3 and dilation=1", F.max_pool2d, x, 3, padding=2)
    # ceil_mode: a last window that runs past the input (not one that starts past it)
    assert F.max_pool2d(tensorgrad.ones(1, 5, 5), 2, ceil_mode=True).shape == (1, 3, 3)
    assert F.max_pool2d(tensorgrad.ones(1, 5, 5), 2, 2, 1, ceil_mode=True).shape == (1, 3, 3)
    np.testing.assert_array_equal(  # the last window's mean over the two entries it covers
        F.avg_pool1d(tensorgrad.tensor([[1.0, 2.0, 3.0, 4.0, 5.0]]), 2, ceil_mode=True).numpy(),
        [[1.5, 3.5, 5.0]])
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)  # (held against torch elsewhere)
    assert values.tolist() == F.max_pool2d(x, 2).tolist()
    assert indices.tolist() == F.max_pool2d(x, 2, return_indices=True)[1].tolist()
    with pytest.raises(RuntimeError, match="greater than or equal to 0"):
        F.adaptive_avg_pool2d(x, -1)
    raises(ValueError, "expected 4D input (got 3D input)", nn.BatchNorm2d(3), x[0])
    raises(ValueError, "expected 2D or 3D input (got 4D input)", nn.BatchNorm1d(3), x)
    raises(ValueError, "Expected more than 1 value per channel when training, got input size "
           "(1, 3)", nn.BatchNorm1d(3), tensorgrad.zeros(1, 3))
    raises(RuntimeError, "running_mean must be defined in evaluation mode",
           F.batch_norm, x, None, None)


def test_names_are_reached_from_every_functional_place():
    import tensorgrad.functional as functional
    from tensorgrad.nn.functional import conv2d

    assert conv2d is F.conv2d is functional.conv2d
    with pytest.raises(AttributeError):
        functional.conv4d  # noqa: B018


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("settings", [dict(padding=1), dict(padding=(1, 2), stride=2),
                                      dict(padding="same", dilation=2), dict(padding="valid")])
def test_a_padding_mode_pads_the_input_with_it_then_convolves_unpadded(mode, settings):
    """As PyTorch's: F.pad in that mode ('same' puts an odd total's extra entry after),
    then the convolution without padding; the gradients flow through both."""
    conv = nn.Conv2d(2, 3, (3, 4), padding_mode=mode, **settings)
    x = tensorgrad.tensor(np.random.default_rng(3).standard_normal((2, 2, 7, 8)),
                          requires_grad=True)
    widths = {1: (1, 1, 1, 1), (1, 2): (2, 2, 1, 1), "same": (3, 3, 2, 2), "valid": (0,) * 4}
    padded = F.pad(x, widths[settings["padding"]], mode=mode)
    expected = F.conv2d(padded, conv.weight, conv.bias, stride=settings.get("stride", 1),
                        dilation=settings.get("dilation", 1))
    got = conv(x)
    np.testing.assert_array_equal(got.data, expected.data)
    got.sum().backward()
    grad = x.grad.numpy().copy()
    x.grad = None
    expected.sum().backward()
    np.testing.assert_array_equal(grad, x.grad)
    assert repr(conv).endswith(f"padding_mode={mode})")
    assert conv(x[0]).shape == got.shape[1:]  # unbatched
