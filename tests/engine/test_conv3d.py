"""The 3-d convolutions, pools, norms, dropout and paddings, and the lazy convolutions and
norms, without torch: the forwards against their definitions (NumPy loops), every gradient
against finite differences or the scalar engine, the transposed convolution as the
convolution's adjoint, shapes, and refusals (``test_conv3d_torch.py`` holds them against
PyTorch itself)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

rng = np.random.default_rng(30)


def leaf(*shape: int) -> tensorgrad.Tensor:
    return tensorgrad.tensor(rng.standard_normal(shape), requires_grad=True)


def arr(t: tensorgrad.Tensor) -> np.ndarray:
    return t.detach().numpy()


def triple(value):
    return (value,) * 3 if isinstance(value, int) else tuple(value)


def naive_conv3d(x, w, b, stride, padding, dilation, groups):
    """The definition, one output at a time."""
    stride, padding, dilation = triple(stride), triple(padding), triple(dilation)
    x = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)])
    n, _, *size = x.shape
    o, cg, *kernel = w.shape
    out_size = [(s - d * (k - 1) - 1) // st + 1
                for s, k, d, st in zip(size, kernel, dilation, stride)]
    out = np.zeros((n, o, *out_size))
    for i, j, *at in itertools.product(range(n), range(o), *map(range, out_size)):
        g = j // (o // groups)  # the group of output channel j reads its group's inputs
        window = tuple(slice(a * st, a * st + d * (k - 1) + 1, d)
                       for a, st, k, d in zip(at, stride, kernel, dilation))
        patch = x[(i, slice(g * cg, (g + 1) * cg)) + window]
        out[(i, j, *at)] = (patch * w[j]).sum() + (0 if b is None else b[j])
    return out


CONVS = [dict(), dict(stride=2, padding=1), dict(stride=(1, 2, 1), padding=(1, 0, 2),
                                                 dilation=(2, 1, 1)),
         dict(groups=2, padding=(0, 1, 1)), dict(groups=4, stride=(2, 1, 1))]


@pytest.mark.parametrize("settings", CONVS, ids=str)
def test_conv3d_is_its_definition_and_its_gradients_check(settings):
    groups = settings.get("groups", 1)
    x, w, b = leaf(2, 4, 5, 4, 5), leaf(4, 4 // groups, 2, 3, 2), leaf(4)
    y = F.conv3d(x, w, b, **settings)
    expected = naive_conv3d(arr(x), arr(w), arr(b), settings.get("stride", 1),
                            settings.get("padding", 0), settings.get("dilation", 1), groups)
    np.testing.assert_allclose(arr(y), expected, rtol=1e-12, atol=1e-12)
    small = x[:1, :, :3, :3, :4].detach().requires_grad_()
    assert tensorgrad.gradcheck(lambda x, w, b: F.conv3d(x, w, b, **settings), small, w, b,
                                reference="finite-difference")


def test_same_padding_valid_padding_and_unbatched_inputs():
    x, w, b = leaf(2, 3, 4, 5, 6), leaf(5, 3, 2, 3, 4), leaf(5)
    same = F.conv3d(x, w, b, padding="same", dilation=(1, 2, 1))
    assert same.shape == (2, 5, 4, 5, 6)
    # the total padding d * (k - 1), an odd total's extra entry after, as PyTorch's
    padded = np.pad(arr(x), [(0, 0), (0, 0), (0, 1), (2, 2), (1, 2)])
    np.testing.assert_allclose(arr(same), naive_conv3d(padded, arr(w), arr(b), 1, 0,
                                                       (1, 2, 1), 1), rtol=1e-12, atol=1e-12)
    assert F.conv3d(x, w, padding="valid").shape == (2, 5, 3, 3, 3)
    np.testing.assert_allclose(F.conv3d(x[1], w, b, stride=2).detach().numpy(),
                               F.conv3d(x, w, b, stride=2).detach().numpy()[1], rtol=1e-12)


def test_a_kernel_of_depth_one_over_a_volume_of_depth_one_is_conv2d():
    x, w, b = leaf(2, 4, 1, 6, 5), leaf(6, 2, 1, 3, 2), leaf(6)
    y3 = F.conv3d(x, w, b, stride=(1, 2, 1), padding=(0, 1, 2), dilation=(1, 1, 2), groups=2)
    y2 = F.conv2d(x[:, :, 0], w[:, :, 0], b, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                  groups=2)
    np.testing.assert_allclose(arr(y3)[:, :, 0], arr(y2), rtol=1e-12)


@pytest.mark.parametrize("settings", [dict(), dict(stride=2, padding=1, output_padding=1),
                                      dict(stride=(1, 2, 3), dilation=(2, 1, 1),
                                           output_padding=(0, 1, 2)),
                                      dict(groups=2, padding=(1, 0, 0))], ids=str)
def test_conv_transpose3d_is_the_adjoint_of_conv3d_and_its_gradients_check(settings):
    """<conv3d(x, w), y> = <x, conv_transpose3d(y, w)> wherever the shapes meet."""
    groups = settings.get("groups", 1)
    y, w, b = leaf(2, 4, 3, 2, 3), leaf(4, 6 // groups, 2, 3, 2), leaf(6)
    out = F.conv_transpose3d(y, w, None, **settings)
    conv_settings = {k: v for k, v in settings.items() if k != "output_padding"}
    x = rng.standard_normal(out.shape)
    forward = F.conv3d(tensorgrad.tensor(x), w.detach(), None, **conv_settings)
    assert forward.shape == y.shape
    np.testing.assert_allclose((arr(forward) * arr(y)).sum(), (x * arr(out)).sum(), rtol=1e-10)
    assert tensorgrad.gradcheck(lambda y, w, b: F.conv_transpose3d(y, w, b, **settings),
                                y[:1, :, :2, :2, :2].detach().requires_grad_(), w, b,
                                reference="finite-difference")


def naive_pool(x, kernel, stride, padding, dilation, reduce, fill):
    n, c, *size = x.shape
    x = np.pad(x, [(0, 0), (0, 0), *((p, p) for p in padding)], constant_values=fill)
    out_size = [(s + 2 * p - d * (k - 1) - 1) // st + 1
                for s, p, k, d, st in zip(size, padding, kernel, dilation, stride)]
    out = np.zeros((n, c, *out_size))
    for at in itertools.product(*map(range, out_size)):
        window = tuple(slice(a * st, a * st + d * (k - 1) + 1, d)
                       for a, st, k, d in zip(at, stride, kernel, dilation))
        out[(slice(None), slice(None), *at)] = reduce(x[(slice(None), slice(None)) + window],
                                                      axis=(2, 3, 4))
    return out


def test_pools_are_their_definitions_and_their_gradients_check():
    x = leaf(2, 3, 5, 6, 4)
    maxed = F.max_pool3d(x, (2, 3, 2), stride=(1, 2, 2), padding=1, dilation=(2, 1, 1))
    np.testing.assert_array_equal(arr(maxed), naive_pool(arr(x), (2, 3, 2), (1, 2, 2),
                                                         (1, 1, 1), (2, 1, 1), np.max, -np.inf))
    averaged = F.avg_pool3d(x, 3, stride=2, padding=1)
    np.testing.assert_allclose(arr(averaged), naive_pool(arr(x), (3,) * 3, (2,) * 3, (1,) * 3,
                                                         (1,) * 3, np.mean, 0.0), rtol=1e-12)
    # count_include_pad=False: each window's sum over its real entries
    counts = naive_pool(np.ones((1, 1, 5, 6, 4)), (3,) * 3, (2,) * 3, (1,) * 3, (1,) * 3,
                        np.sum, 0.0)
    np.testing.assert_allclose(F.avg_pool3d(x, 3, 2, 1, count_include_pad=False).detach().numpy(),
                               arr(averaged) * 27 / counts, rtol=1e-12)
    np.testing.assert_allclose(F.avg_pool3d(x, 3, 2, 1, divisor_override=5).detach().numpy(),
                               arr(averaged) * 27 / 5, rtol=1e-12)
    small = x[:1, :2, :4, :4, :3].detach().requires_grad_()
    for pool in (lambda x: F.max_pool3d(x, 2, 1, padding=1),
                 lambda x: F.avg_pool3d(x, (2, 3, 2), 1, padding=1, count_include_pad=False),
                 lambda x: F.adaptive_avg_pool3d(x, (3, None, 2)),
                 lambda x: F.adaptive_max_pool3d(x, (3, 3, 2))):
        assert tensorgrad.gradcheck(pool, small, reference="finite-difference")


def test_adaptive_pools_tile_each_dimension_as_pytorch():
    x = leaf(1, 2, 5, 3, 4)
    y = F.adaptive_avg_pool3d(x, (2, 3, 1))
    # tile i of a dimension of size s into o: floor(i * s / o) to ceil((i + 1) * s / o)
    tiles = {5: [(0, 3), (2, 5)], 3: [(0, 1), (1, 2), (2, 3)], 4: [(0, 4)]}
    for (i, (a, b)), (j, (c, d)) in itertools.product(enumerate(tiles[5]), enumerate(tiles[3])):
        np.testing.assert_allclose(arr(y)[:, :, i, j, 0], arr(x)[:, :, a:b, c:d].mean((2, 3, 4)))
    maxed, where = F.adaptive_max_pool3d(x, (2, 3, 1), return_indices=True)
    flat = arr(x).reshape(1, 2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, arr(where).reshape(1, 2, -1), -1),
                                  arr(maxed).reshape(1, 2, -1))
    assert F.adaptive_avg_pool3d(x, 1).shape == (1, 2, 1, 1, 1)
    assert F.adaptive_max_pool3d_with_indices(x[0], 2)[1].dtype == tensorgrad.int64


def test_ceil_mode_keeps_a_last_window_that_runs_past_the_input():
    x = leaf(1, 2, 5, 4, 7)
    maxed = F.max_pool3d(x, 2, ceil_mode=True)
    assert maxed.shape == (1, 2, 3, 2, 4)
    # the last window along D and W covers one entry of each: D 4 and W 6
    np.testing.assert_array_equal(arr(maxed)[..., 2, :, 3],
                                  arr(x)[..., 4, :, 6].reshape(1, 2, 2, 2).max(-1))
    # the mean of a window cut short: over the entries it covers (padding too, if counted)
    averaged = F.avg_pool3d(x, 2, ceil_mode=True)
    np.testing.assert_allclose(arr(averaged)[:, :, 2, 1, 3], arr(x)[:, :, 4, 2:, 6].mean(-1))
    assert nn.AvgPool3d(3, 2, 1, ceil_mode=True)(x).shape == (1, 2, 3, 3, 4)
    assert tensorgrad.gradcheck(lambda x: F.avg_pool3d(x, 2, 2, 1, ceil_mode=True,
                                                       count_include_pad=False),
                                x[:, :, :3, :3, :3].detach().requires_grad_(),
                                reference="finite-difference")


def test_max_pool3d_indices_point_into_each_volume():
    x = leaf(2, 3, 4, 5, 6)
    y, where = F.max_pool3d(x, 2, return_indices=True)
    assert where.dtype == tensorgrad.int64 and where.shape == y.shape == (2, 3, 2, 2, 3)
    flat = arr(x).reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, arr(where).reshape(2, 3, -1), -1),
                                  arr(y).reshape(2, 3, -1))
    pooled, same = F.max_pool3d_with_indices(x, 2)
    np.testing.assert_array_equal(arr(same), arr(where))
    assert tensorgrad.max_pool3d(x, 2).shape == y.shape


def test_a_batch_of_zero_passes_through_with_empty_gradients():
    x = tensorgrad.zeros(0, 2, 4, 4, 4, requires_grad=True)
    outs = [F.conv3d(x, tensorgrad.ones(3, 2, 2, 2, 2)), F.max_pool3d(x, 2),
            F.avg_pool3d(x, 2), F.adaptive_avg_pool3d(x, 3), F.adaptive_max_pool3d(x, 3),
            F.conv_transpose3d(x, tensorgrad.ones(2, 3, 2, 2, 2))]
    assert [tuple(y.shape) for y in outs] == [(0, 3, 3, 3, 3), (0, 2, 2, 2, 2), (0, 2, 2, 2, 2),
                                              (0, 2, 3, 3, 3), (0, 2, 3, 3, 3), (0, 3, 5, 5, 5)]
    sum(y.sum() for y in outs).backward()
    assert x.grad.shape == x.shape


def test_dropout3d_zeroes_whole_volumes():
    tensorgrad.manual_seed(0)
    x = tensorgrad.ones(4, 8, 2, 3, 2, requires_grad=True)
    y = F.dropout3d(x, 0.5)
    per_volume = arr(y).reshape(4, 8, -1)
    assert set(np.unique(per_volume)) <= {0.0, 2.0}
    assert (per_volume.min(-1) == per_volume.max(-1)).all()  # each volume all kept or not
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, arr(y))
    unbatched = F.dropout3d(tensorgrad.ones(8, 2, 3, 2), 0.5).detach().numpy().reshape(8, -1)
    assert (unbatched.min(-1) == unbatched.max(-1)).all()
    assert F.dropout3d(x, 0.5, training=False) is x
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(tensorgrad.ones(2, 3, 4), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout3d(x, 1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="at least 2 dimensions"):
            F.dropout3d(tensorgrad.tensor(1.0), 0.5)
    module = nn.Dropout3d(0.25)
    module.eval()
    assert module(x) is x


def test_the_layers_shapes_and_parameters():
    x = tensorgrad.randn(2, 3, 6, 5, 4)
    assert nn.Conv3d(3, 8, 3, padding=1)(x).shape == (2, 8, 6, 5, 4)
    assert nn.Conv3d(3, 6, (1, 3, 3), groups=3, bias=False).weight.shape == (6, 1, 1, 3, 3)
    up = nn.ConvTranspose3d(3, 4, 2, stride=2)
    assert up.weight.shape == (3, 4, 2, 2, 2) and up(x).shape == (2, 4, 12, 10, 8)
    assert up(x, output_size=(13, 11, 9)).shape == (2, 4, 13, 11, 9)
    for mode in ("reflect", "replicate", "circular"):
        assert nn.Conv3d(3, 2, 3, padding=1, padding_mode=mode)(x).shape == (2, 2, 6, 5, 4)
    assert nn.MaxPool3d(2)(x).shape == nn.AvgPool3d(2)(x).shape == (2, 3, 3, 2, 2)
    assert nn.AdaptiveAvgPool3d((1, None, 2))(x).shape == (2, 3, 1, 5, 2)
    assert [t.shape for t in nn.AdaptiveMaxPool3d(2, return_indices=True)(x)] == \
        [(2, 3, 2, 2, 2)] * 2
    bn = nn.BatchNorm3d(3)
    assert bn(x).shape == x.shape and bn.num_batches_tracked.item() == 1
    assert nn.InstanceNorm3d(3, affine=True)(x[0]).shape == x.shape[1:]
    for layer, grown in ((nn.ConstantPad3d(1, 2.0), (8, 7, 6)), (nn.ZeroPad3d((1, 0, 0, 2, 3, 0)),
                                                                 (9, 7, 5)),
                         (nn.ReflectionPad3d(2), (10, 9, 8)), (nn.ReplicationPad3d(1), (8, 7, 6)),
                         (nn.CircularPad3d((0, 1, 1, 0, 2, 2)), (10, 6, 5))):
        assert layer(x).shape == (2, 3, *grown), layer
    assert nn.ConstantPad3d(1, 2.0)(x).detach().numpy()[0, 0, 0, 0, 0] == 2.0


def test_lazy_layers_take_their_sizes_from_the_first_input():
    conv = nn.LazyConv3d(4, 2, groups=2)
    params = list(conv.parameters())
    optimizer = tensorgrad.optim.SGD(params, lr=0.1)  # made before the shapes are known
    y = conv(tensorgrad.randn(1, 6, 3, 3, 3))
    assert type(conv) is nn.Conv3d and conv.in_channels == 6
    assert conv.weight.shape == (4, 3, 2, 2, 2) and y.shape == (1, 4, 2, 2, 2)
    assert all(a is b for a, b in zip(params, conv.parameters()))
    y.sum().backward()
    optimizer.step()
    up = nn.LazyConvTranspose2d(5, 3, bias=False)
    up(tensorgrad.randn(2, 7, 4))  # unbatched: its channels are dimension 0
    assert type(up) is nn.ConvTranspose2d and up.weight.shape == (2, 5, 3, 3) and up.bias is None
    for lazy, kind, shape in ((nn.LazyBatchNorm1d(), nn.BatchNorm1d, (4, 6)),
                              (nn.LazyBatchNorm3d(), nn.BatchNorm3d, (2, 6, 2, 2, 2)),
                              (nn.LazyInstanceNorm2d(), nn.InstanceNorm2d, (2, 6, 3, 3))):
        lazy(tensorgrad.randn(*shape))
        assert type(lazy) is kind and lazy.num_features == 6
        assert [tuple(t.shape) for t in lazy.state_dict().values()] == [(6,)] * 4 + [()]
    with pytest.raises(RuntimeError, match=r"Expected 4D \(unbatched\) or 5D \(batched\) input "
                                           "to LazyConv3d"):
        nn.LazyConv3d(4, 2)(tensorgrad.randn(3, 3, 3))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.LazyConv1d(4, 2, groups=2)(tensorgrad.randn(1, 3, 5))
    loaded = nn.LazyConv3d(4, 2)
    loaded.load_state_dict(nn.Conv3d(5, 4, 2).state_dict())
    assert loaded.in_channels == 5 and loaded.weight.shape == (4, 5, 2, 2, 2)
    loaded = nn.LazyConvTranspose3d(4, 2, groups=2)
    loaded.load_state_dict(nn.ConvTranspose3d(6, 4, 2, groups=2).state_dict())
    assert loaded.in_channels == 6 and loaded.weight.shape == (6, 2, 2, 2, 2)
    assert type(loaded(tensorgrad.randn(6, 2, 2, 2))) is tensorgrad.Tensor
    assert repr(loaded) == ("ConvTranspose3d(6, 4, kernel_size=(2, 2, 2), stride=(1, 1, 1), "
                            "groups=2)")


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.conv3d(tensorgrad.zeros(3, 4, 4), tensorgrad.zeros(2, 3, 2, 2, 2)),
     RuntimeError, r"Expected 4D \(unbatched\) or 5D \(batched\) input to conv3d"),
    (lambda: F.conv3d(tensorgrad.zeros(1, 3, 4, 4, 4), tensorgrad.zeros(2, 3, 2, 2, 2),
                      dilation=0), RuntimeError,
     r"dilation should be greater than zero, but got \[0, 0, 0\]"),
    (lambda: F.conv3d(tensorgrad.zeros(1, 3, 4, 4, 4), tensorgrad.zeros(2, 3, 2, 2, 2),
                      stride=(1, 2)), RuntimeError, "a list of 3 values"),
    (lambda: F.conv_transpose3d(tensorgrad.zeros(1, 3, 4, 4, 4),
                                tensorgrad.zeros(3, 2, 2, 2, 2), output_padding=2, stride=2),
     RuntimeError, "output_padding_depth: 2 output_padding_height: 2"),
    (lambda: F.max_pool3d(tensorgrad.zeros(3, 4, 4), 2), RuntimeError,
     r"non-empty 4D or 5D \(batch mode\) tensor expected"),
    (lambda: F.max_pool3d(tensorgrad.zeros(2, 0, 4, 4, 4), 2), RuntimeError,
     "non-batch dimension 0 has length zero"),
    (lambda: F.max_pool3d(tensorgrad.zeros(1, 1, 4, 4, 4), 2, dilation=0), RuntimeError,
     "dilationT: 0 dilationH: 0 dilationW: 0"),
    (lambda: F.max_pool3d(tensorgrad.zeros(1, 1, 4, 4, 4), (2, 2)), RuntimeError,
     "max_pool3d: kernel_size must either be a single int, or a tuple of three ints"),
    (lambda: F.avg_pool3d(tensorgrad.zeros(1, 1, 1, 4, 4), 2, padding=1), RuntimeError,
     r"input image \(T: 1 H: 4 W: 4\) smaller than kernel size \(kT: 2 kH: 2 kW: 2\)"),
    (lambda: F.avg_pool3d(tensorgrad.zeros(1, 1, 4, 4, 4), 0), RuntimeError,
     "stride should not be zero"),
    (lambda: F.adaptive_avg_pool3d(tensorgrad.zeros(1, 1, 4, 4, 4), (2, 2)), RuntimeError,
     "adaptive_avg_pool3d: output_size must be 3"),
    (lambda: F.adaptive_max_pool3d(tensorgrad.zeros(3, 4, 4), 2), RuntimeError,
     r"Expected 4D or 5D tensor, but got: \[3, 4, 4\]"),
    (lambda: F.adaptive_avg_pool3d(tensorgrad.zeros(2, 0, 4, 4, 4), 2), RuntimeError,
     "with dimension 1 being empty"),
    (lambda: nn.BatchNorm3d(3)(tensorgrad.zeros(2, 3, 4, 4)), ValueError,
     r"expected 5D input \(got 4D input\)"),
    (lambda: nn.InstanceNorm3d(3)(tensorgrad.zeros(2, 3, 4)), ValueError,
     r"expected 4D or 5D input \(got 3D input\)"),
    (lambda: nn.CircularPad3d(1)(tensorgrad.zeros(2, 3, 4)), ValueError,
     r"expected 4D or 5D input \(got 3D input\)"),
], ids=itertools.count())
def test_bad_arguments_get_pytorchs_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
