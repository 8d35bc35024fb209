"""Padding by reflection, replication and wrapping, adaptive pooling to any size, pixel
shuffle, channel dropout, Bilinear and the rest of ``nn.init``, without torch: the forwards
against NumPy written out, every gradient by ``gradcheck``, the draws by their
distributions and properties (``test_nn_layers_more_torch.py`` holds them against PyTorch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

rng = np.random.default_rng(0)


def leaf(*shape: int) -> tensorgrad.Tensor:
    return tensorgrad.tensor(rng.standard_normal(shape), requires_grad=True)


# ---- padding ---------------------------------------------------------------------------------

NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(2, 1), (0, 3, 2, 2), (1, 0, 0, 1, 2, 1)], ids=str)
def test_pad_modes_are_numpys_and_their_gradients_check(mode, pad):
    n = len(pad) // 2
    x = leaf(*(2, 3)[n == 2:], *(5, 4, 6)[:n])  # batched but for 2 dimensions
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]
    widths = [(0, 0)] * (x.data.ndim - len(pairs)) + pairs
    y = F.pad(x, pad, mode=mode)
    np.testing.assert_array_equal(y.data, np.pad(x.data, widths, mode=NUMPY_MODE[mode]))
    assert tensorgrad.gradcheck(lambda x: F.pad(x, pad, mode=mode), x, reference="scalar")


def test_negative_widths_crop_and_the_rest_pads_as_pytorchs_does():
    x = tensorgrad.tensor([[0.0, 1, 2, 3, 4, 5, 6]])
    assert F.pad(x, (3, -5), mode="reflect").tolist() == [[3, 2, 1, 0, 1]]
    assert F.pad(x, (-5, 3), mode="reflect").tolist() == [[5, 6, 5, 4, 3]]
    assert F.pad(x, (-2, 3), mode="replicate").tolist() == [[2, 3, 4, 5, 6, 6, 6, 6]]
    assert F.pad(x, (-1, 3), mode="circular").tolist() == [[1, 2, 3, 4, 5, 6, 1, 2, 3]]
    assert F.pad(x, (2, -2), mode="circular").tolist() == [[3, 4, 0, 1, 2, 3, 4]]
    x = leaf(2, 7)
    assert tensorgrad.gradcheck(lambda x: F.pad(x, (-3, 5), mode="reflect"), x,
                                reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.pad(x, (4, -2), mode="circular"), x,
                                reference="scalar")


def test_pad_modes_take_views_and_float32_and_refuse_what_pytorch_refuses():
    x = leaf(3, 6, 5)
    view = x.permute(0, 2, 1)[:, ::2, 1:]  # (3, 3, 5), strided
    np.testing.assert_array_equal(F.pad(view, (2, 2, 1, 1), mode="reflect").data,
                                  np.pad(view.data, [(0, 0), (1, 1), (2, 2)], mode="reflect"))
    assert tensorgrad.gradcheck(
        lambda x: F.pad(x.permute(0, 2, 1)[:, ::2, 1:], (2, 2, 1, 1), mode="circular"), x,
        reference="scalar")
    assert F.pad(x.float(), (1, 1), mode="replicate").dtype == tensorgrad.float32
    assert F.pad(tensorgrad.zeros(0, 2, 4), (1, 1), mode="reflect").shape == (0, 2, 6)
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(x, (5, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(x, (6, 0), mode="circular")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D"):
        F.pad(x[0, 0], (1, 1), mode="reflect")
    with pytest.raises(NotImplementedError, match="Padding size 4 is not supported for 2D"):
        F.pad(x[0], (1, 1, 1, 1), mode="replicate")
    with pytest.raises(RuntimeError, match="doesn't take in value"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode"):
        F.pad(x, (1, 1), mode="mirror")
    with pytest.raises(RuntimeError, match="non-zero dimensions"):
        F.pad(tensorgrad.zeros(2, 0, 4), (1, 1), mode="reflect")


def test_padding_layers_pad_as_their_modes_and_print_as_pytorch():
    x = tensorgrad.tensor([[[1.0, 2.0, 3.0]]])
    assert nn.ReflectionPad1d(2)(x).tolist() == [[[3, 2, 1, 2, 3, 2, 1]]]
    assert nn.ReplicationPad1d((1, 2))(x).tolist() == [[[1, 1, 2, 3, 3, 3]]]
    assert nn.CircularPad1d(2)(x).tolist() == [[[2, 3, 1, 2, 3, 1, 2]]]
    assert nn.ConstantPad1d((0, 1), 3.5)(x).tolist() == [[[1, 2, 3, 3.5]]]
    assert nn.ZeroPad1d(1)(x).tolist() == [[[0, 1, 2, 3, 0]]]
    image = leaf(2, 5, 4)
    for layer, mode in ((nn.ReflectionPad2d((1, 2, 0, 3)), "reflect"),
                        (nn.ReplicationPad2d((1, 2, 0, 3)), "edge"),
                        (nn.CircularPad2d((1, 2, 0, 3)), "wrap")):
        np.testing.assert_array_equal(layer(image).data,
                                      np.pad(image.data, [(0, 0), (0, 3), (1, 2)], mode=mode))
    np.testing.assert_array_equal(nn.ZeroPad2d((1, 0, 0, 2))(image).data,
                                  np.pad(image.data, [(0, 0), (0, 2), (1, 0)]))
    assert nn.ConstantPad2d(1, -1.0)(image).shape == (2, 7, 6)
    assert repr(nn.ReflectionPad2d((1, 2, 3, 4))) == "ReflectionPad2d((1, 2, 3, 4))"
    assert repr(nn.ZeroPad1d(2)) == "ZeroPad1d((2, 2))"
    assert repr(nn.ConstantPad2d(1, 0.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=0.5)"
    assert repr(nn.CircularPad1d(1)) == "CircularPad1d((1, 1))"
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.CircularPad1d(1)(tensorgrad.zeros(1, 2, 3, 4))


# ---- adaptive pooling --------------------------------------------------------------------------


def tiles(size, out):
    """PyTorch's tiles, written out: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out)) for i in range(out)]


def naive_adaptive(x, outs, reduce):
    """Each output of batched ``x`` over its tile, one at a time."""
    x = np.asarray(x)
    spatial = x.shape[2:]
    y = np.empty((*x.shape[:2], *outs))
    for cell in np.ndindex(*outs):
        bounds = tuple(slice(*tiles(size, out)[i]) for size, out, i in zip(spatial, outs, cell))
        tile = x[(slice(None), slice(None)) + bounds]
        y[(slice(None), slice(None)) + cell] = reduce(tile.reshape(*x.shape[:2], -1), axis=-1)
    return y


@pytest.mark.parametrize("outs", [(3, 2), (4, 5), (7, 3), (1, 1), (9, 6)], ids=str)
def test_adaptive_pool2d_is_its_tiles_and_its_gradients_check(outs):
    x = leaf(2, 3, 7, 5)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, outs).data,
                               naive_adaptive(x.data, outs, np.mean), rtol=1e-13)
    np.testing.assert_array_equal(F.adaptive_max_pool2d(x, outs).data,
                                  naive_adaptive(x.data, outs, np.max))
    assert tensorgrad.gradcheck(lambda x: F.adaptive_avg_pool2d(x, outs), x, reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.adaptive_max_pool2d(x, outs), x,
                                reference="finite-difference")


def test_adaptive_pool1d_unbatched_none_views_and_indices():
    x = leaf(3, 7)  # unbatched (C, L)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).data,
                               naive_adaptive(x.data[None], (3,), np.mean)[0], rtol=1e-13)
    y, where = F.adaptive_max_pool1d(x, 4, return_indices=True)
    assert where.dtype == tensorgrad.int64
    np.testing.assert_array_equal(y.data, np.take_along_axis(x.data, where.data, axis=-1))
    assert tensorgrad.gradcheck(lambda x: F.adaptive_avg_pool1d(x, 5), x, reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.adaptive_max_pool1d(x, 5), x,
                                reference="finite-difference")
    image = leaf(2, 6, 3, 4)
    view = image.permute(0, 2, 3, 1)[..., 1::2]  # (2, 3, 4, 3), strided
    y, where = F.adaptive_max_pool2d(view, (2, None), return_indices=True)
    assert y.shape == where.shape == (2, 3, 2, 3)
    flat = view.data.reshape(2, 3, -1)
    np.testing.assert_array_equal(y.data.reshape(2, 3, -1),
                                  np.take_along_axis(flat, where.data.reshape(2, 3, -1), -1))
    assert F.adaptive_avg_pool2d(view, (None, 2)).shape == (2, 3, 4, 2)
    assert F.adaptive_avg_pool2d(leaf(0, 2, 3, 3), 2).shape == (0, 2, 2, 2)
    assert F.adaptive_max_pool1d(leaf(2, 3, 4), 0).shape == (2, 3, 0)
    assert F.adaptive_avg_pool1d(x.float(), 2).dtype == tensorgrad.float32


def test_adaptive_max_pool_nan_wins_and_ties_go_to_the_first():
    nan = math.nan
    y, where = F.adaptive_max_pool1d(tensorgrad.tensor([[[1.0, nan, 2.0, nan]]]), 1,
                                     return_indices=True)
    assert math.isnan(y.item()) and where.item() == 3
    x = tensorgrad.tensor([[[1.0, 3.0, 3.0, 2.0]]], requires_grad=True)
    y, where = F.adaptive_max_pool1d(x, 1, return_indices=True)
    assert where.item() == 1
    y.sum().backward()
    assert x.grad.tolist() == [[[0, 1, 0, 0]]]
    x = tensorgrad.tensor([[[1.0, 5.0, 2.0]]], requires_grad=True)
    F.adaptive_max_pool1d(x, 2).sum().backward()  # tiles [0, 2) and [1, 3) share the 5
    assert x.grad.tolist() == [[[0, 2, 0]]]


def test_adaptive_pools_refuse_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="Expected 2 to 3 dimensions"):
        F.adaptive_avg_pool1d(leaf(7), 3)
    with pytest.raises(RuntimeError, match="should contain one int"):
        F.adaptive_max_pool1d(leaf(2, 7), (3, 2))
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        F.adaptive_max_pool2d(leaf(7, 5), (2, 2))
    with pytest.raises(RuntimeError, match="Expected 3D or 4D tensor"):
        F.adaptive_avg_pool2d(leaf(7, 5), 2)
    with pytest.raises(RuntimeError, match="output_size must be 2"):
        F.adaptive_avg_pool2d(leaf(1, 1, 7, 5), (1, 2, 3))
    with pytest.raises(RuntimeError, match="greater than or equal to 0"):
        F.adaptive_avg_pool1d(leaf(2, 7), -1)
    with pytest.raises(RuntimeError, match="non-zero size for non-batch dimensions"):
        F.adaptive_max_pool2d(tensorgrad.zeros(2, 3, 0, 5), 2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.adaptive_avg_pool1d(tensorgrad.zeros(2, 3, dtype=tensorgrad.int64), 2)


def test_adaptive_pool_layers():
    x = leaf(2, 3, 7, 5)
    np.testing.assert_array_equal(nn.AdaptiveAvgPool2d((3, 2))(x).data,
                                  F.adaptive_avg_pool2d(x, (3, 2)).data)
    y, where = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    assert y.shape == where.shape == (2, 3, 2, 2)
    assert nn.AdaptiveMaxPool1d(3)(x[0]).shape == (3, 7, 3)
    assert nn.AdaptiveAvgPool1d(4)(x[0]).shape == (3, 7, 4)
    assert repr(nn.AdaptiveMaxPool2d((3, None))) == "AdaptiveMaxPool2d(output_size=(3, None))"
    assert repr(nn.AdaptiveAvgPool1d(3)) == "AdaptiveAvgPool1d(output_size=3)"


# ---- pixel shuffle -------------------------------------------------------------------------------


def test_pixel_shuffle_is_its_definition_and_pixel_unshuffle_undoes_it():
    x = leaf(2, 12, 3, 4)
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (2, 3, 6, 8)
    for c, i, j in [(0, 0, 0), (1, 3, 5), (2, 5, 7), (1, 2, 1)]:  # out[c, i, j] is in[c*4 + ...]
        np.testing.assert_array_equal(y.data[:, c, i, j],
                                      x.data[:, c * 4 + (i % 2) * 2 + j % 2, i // 2, j // 2])
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).data, x.data)
    assert tensorgrad.gradcheck(lambda x: F.pixel_shuffle(x, 2), x, reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.pixel_unshuffle(x.transpose(-1, -2), 2),
                                leaf(3, 2, 6, 4), reference="scalar")
    assert nn.PixelShuffle(3)(leaf(9, 2, 2)).shape == (1, 6, 6)
    assert nn.PixelUnshuffle(2)(leaf(1, 2, 3, 4, 6)).shape == (1, 2, 12, 2, 3)
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    with pytest.raises(RuntimeError, match="divisible by the square of upscale_factor"):
        F.pixel_shuffle(leaf(1, 3, 2, 2), 2)
    with pytest.raises(RuntimeError, match="expects width to be divisible"):
        F.pixel_unshuffle(leaf(1, 3, 4, 5), 2)
    with pytest.raises(RuntimeError, match="at least 3 dimensions"):
        F.pixel_shuffle(leaf(4, 4), 2)


# ---- channel dropout, Bilinear -------------------------------------------------------------------


@pytest.mark.parametrize("layer, shape", [(nn.Dropout1d, (40, 50, 6)), (nn.Dropout1d, (400, 6)),
                                          (nn.Dropout2d, (40, 50, 3, 2))], ids=str)
def test_channel_dropout_zeros_whole_channels_and_scales_the_rest(layer, shape):
    tensorgrad.manual_seed(0)
    x = tensorgrad.tensor(rng.random(shape) + 1, requires_grad=True)
    drop = layer(p=0.3)
    y = drop(x)
    ratio = (y.numpy(force=True) / x.numpy(force=True))
    ratio = ratio.reshape(*shape[:len(shape) - (len(shape) - 2 if len(shape) > 3 else 1)], -1)
    # one factor per channel: 0 or 1 / 0.7
    assert np.allclose(ratio, ratio[..., :1])
    assert set(np.round(np.unique(ratio), 12)) == {0, round(1 / 0.7, 12)}
    assert abs((ratio[..., 0] == 0).mean() - 0.3) < 0.05
    y.backward(tensorgrad.ones(*shape))
    np.testing.assert_allclose(x.grad.data, y.data / x.data)
    drop.eval()
    assert drop(x) is x
    assert repr(layer(0.2, True)) == f"{layer.__name__}(p=0.2, inplace=True)"


def test_channel_dropout_refuses_other_shapes_and_probabilities():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(leaf(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        assert F.dropout2d(leaf(2, 3, 4)).shape == (2, 3, 4)
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        y = F.dropout2d(tensorgrad.ones(30, 40, 2, 2, 2), 0.5).data.reshape(1200, 8)
    assert (y == y[:, :1]).all() and set(np.unique(y)) == {0, 2}  # (N, C, *) channels
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = F.dropout2d(tensorgrad.ones(40, 30), 0.5).numpy()  # each entry its own channel
    assert 0.4 < (y == 0).mean() < 0.6 and (y != 0).any(axis=1).all()
    with pytest.raises(RuntimeError, match="at least 2 dimensions"), \
            pytest.warns(UserWarning, match="Received a 1-D input"):
        F.dropout2d(leaf(5))
    assert (F.dropout2d(leaf(2, 3, 4, 4), p=1.0).data == 0).all()


def test_bilinear_is_its_sum_and_its_gradients_check():
    x1, x2, w, b = leaf(4, 3), leaf(4, 5), leaf(2, 3, 5), leaf(2)
    y = F.bilinear(x1, x2, w, b)
    for n, k in [(0, 0), (3, 1), (2, 0)]:
        expected = sum(x1[n, i].item() * w[k, i, j].item() * x2[n, j].item()
                       for i in range(3) for j in range(5)) + b[k].item()
        assert y[n, k].item() == pytest.approx(expected, rel=1e-12)
    assert tensorgrad.gradcheck(F.bilinear, x1, x2, w, b, reference="finite-difference")
    assert tensorgrad.gradcheck(lambda a, c, w: F.bilinear(a.transpose(0, 1), c[:, ::2], w),
                                leaf(3, 4), leaf(4, 10), w, reference="finite-difference")
    assert F.bilinear(x1[0], x2[0], w).shape == (2,)
    layer = nn.Bilinear(3, 5, 2)
    assert layer.weight.shape == (2, 3, 5) and layer.bias.shape == (2,)
    wide = nn.Bilinear(3, 50, 20).weight.data  # uniform in +-1/sqrt(in1_features)
    assert 0.95 / math.sqrt(3) < np.abs(wide).max() <= 1 / math.sqrt(3)
    assert layer(x1, x2).shape == (4, 2)
    assert repr(nn.Bilinear(3, 5, 2, bias=False)) == \
        "Bilinear(in1_features=3, in2_features=5, out_features=2, bias=False)"
    with pytest.raises(RuntimeError, match="input2 size does not match weight size"):
        F.bilinear(x1, x1, w)
    with pytest.raises(RuntimeError, match="batch dimensions do not match at dim 0"):
        F.bilinear(x1, x2[:3], w)


# ---- nn.init ----------------------------------------------------------------------------------


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    t = tensorgrad.empty(200, 200)
    nn.init.trunc_normal_(t, mean=1.0, std=2.0, a=0.0, b=3.0,
                          generator=tensorgrad.Generator().manual_seed(1))
    values = t.detach().numpy().ravel()
    assert values.min() >= 0.0 and values.max() <= 3.0
    # N(1, 4) on [0, 3]: alpha = -0.5, beta = 1; mean 1 + 2 * (phi(a) - phi(b)) / Z
    phi = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (-0.5, 1.0)]
    z = (math.erf(1 / math.sqrt(2)) - math.erf(-0.5 / math.sqrt(2))) / 2
    assert values.mean() == pytest.approx(1 + 2 * (phi[0] - phi[1]) / z, abs=0.01)
    assert (nn.init.trunc_normal_(tensorgrad.empty(1000)).data.__abs__() <= 2).all()
    with pytest.raises(NotImplementedError, match="under 1e-4"), \
            pytest.warns(UserWarning, match="mean is more than 2 std from"):
        nn.init.trunc_normal_(tensorgrad.empty(3), a=10, b=11)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (4, 2, 3)], ids=str)
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    t = nn.init.orthogonal_(tensorgrad.empty(*shape), gain=2.0)
    flat = t.data.reshape(shape[0], -1) / 2
    small = min(flat.shape)
    product = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(product, np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        nn.init.orthogonal_(tensorgrad.empty(3))


def test_orthogonal_is_haar_distributed_signs_corrected():
    """With R's diagonal made positive, Q is uniform on the orthogonal matrices: the
    average of many is zero (without the correction, its diagonal leans positive)."""
    g = tensorgrad.Generator().manual_seed(3)
    mean = sum(nn.init.orthogonal_(tensorgrad.empty(3, 3), generator=g).data
               for _ in range(2000)) / 2000
    assert np.abs(mean).max() < 0.06


def test_eye_dirac_and_sparse():
    assert nn.init.eye_(tensorgrad.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.eye_(tensorgrad.empty(3))
    conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = leaf(1, 4, 5, 5)
    np.testing.assert_allclose(conv(x).data, x.data, rtol=1e-12)
    grouped = nn.init.dirac_(tensorgrad.empty(4, 2, 3), groups=2).data
    expected = np.zeros((4, 2, 3))
    expected[[0, 1, 2, 3], [0, 1, 0, 1], 1] = 1
    np.testing.assert_array_equal(grouped, expected)
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        nn.init.dirac_(tensorgrad.empty(3, 3, 3), groups=2)
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        nn.init.dirac_(tensorgrad.empty(3, 3))
    t = nn.init.sparse_(tensorgrad.empty(10, 300), sparsity=0.25, std=0.5)
    assert ((t.data == 0).sum(axis=0) == 3).all()  # ceil(0.25 * 10) in every column
    assert t.data[t.data != 0].std() == pytest.approx(0.5, rel=0.05)
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(tensorgrad.empty(3, 3, 3), 0.1)
