"""The vision ops of ``tensorgrad/sampling.py`` and their layers without PyTorch: shapes,
values worked out by hand, gradients against central finite differences (first and second
order), the deprecation warnings, and misuse. ``test_vision_ops_torch.py`` holds them
against PyTorch."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad import Tensor, gradcheck
from tensorgrad.nn import functional as F
from tests.paths import REPO

SQUARE = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)


def _at(*points: tuple[float, float]) -> Tensor:
    """A (1, 1, P, 2) grid of (x, y) points."""
    return tensorgrad.tensor(np.array(points, dtype=np.float64).reshape(1, 1, -1, 2))


def _sample(*points: tuple[float, float], **settings) -> list[float]:
    out = F.grid_sample(tensorgrad.tensor(SQUARE), _at(*points), **settings)
    assert out.shape == (1, 1, 1, len(points))
    return out.reshape(-1).tolist()


def test_grid_sample_by_hand():
    # the centre is the mean of the four pixels, however the corners align
    assert _sample((0, 0), align_corners=True) == [2.5]
    assert _sample((0, 0), align_corners=False) == [2.5]
    # aligned corners: -1 and 1 are the corner pixels' centres
    assert _sample((-1, -1), (1, -1), (-1, 1), (1, 1), align_corners=True) == [1, 2, 3, 4]
    # unaligned: -1 is the outer edge, half a pixel beyond the centre: a quarter of the
    # corner pixel with zeros around it, the pixel itself at the border, or its reflection
    assert _sample((-1, -1), align_corners=False) == [0.25]
    assert _sample((-1, -1), align_corners=False, padding_mode="border") == [1.0]
    assert _sample((-1, -1), align_corners=False, padding_mode="reflection") == [1.0]
    # beyond the input: 0, the border, or the reflection (x = 2 is 1 past the right border
    # with aligned corners: it reflects onto x = 0, the left column)
    assert _sample((3, 1), align_corners=True) == [0.0]
    assert _sample((3, 1), align_corners=True, padding_mode="border") == [4.0]
    assert _sample((3, 1), align_corners=True, padding_mode="reflection") == [3.0]
    assert _sample((0.5, -1), align_corners=True) == [1.75]
    # nearest: the pixel whose centre is nearest, ties to even
    assert _sample((-0.6, 0.6), (0, 0), mode="nearest", align_corners=True) == [3.0, 1.0]


def test_affine_grid_by_hand_and_identity_resampling():
    identity = tensorgrad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    grid = F.affine_grid(identity, (1, 1, 2, 3), align_corners=True)
    assert grid.shape == (1, 2, 3, 2)
    assert grid[0, :, :, 0].tolist() == [[-1.0, 0.0, 1.0]] * 2
    assert grid[0, :, :, 1].tolist() == [[-1.0] * 3, [1.0] * 3]
    grid = F.affine_grid(identity, (1, 1, 2, 3), align_corners=False)  # the pixel centres
    np.testing.assert_allclose(grid[0, 0, :, 0].numpy(), [-2 / 3, 0, 2 / 3], atol=1e-15)
    np.testing.assert_allclose(grid[0, :, 0, 1].numpy(), [-0.5, 0.5])
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    theta = identity.expand(2, 2, 3)
    for align in (False, True):
        grid = F.affine_grid(theta, (2, 3, 4, 5), align_corners=align)
        for padding_mode in ("zeros", "border", "reflection"):
            out = F.grid_sample(tensorgrad.tensor(x), grid, padding_mode=padding_mode,
                                align_corners=align)
            np.testing.assert_allclose(out.numpy(), x, atol=1e-12)
    # a shift by one pixel (2 / (W - 1) with aligned corners) moves the image left
    shift = tensorgrad.tensor([[[1.0, 0.0, 2 / 4], [0.0, 1.0, 0.0]]])
    out = F.grid_sample(tensorgrad.tensor(x[:1]), F.affine_grid(shift, (1, 3, 4, 5), True),
                        align_corners=True)
    np.testing.assert_allclose(out.numpy()[..., :-1], x[:1, ..., 1:], atol=1e-12)
    assert not out.numpy()[..., -1].any()
    # 3-D: (N, D, H, W, 3), and the identity resampling of a volume
    theta3 = tensorgrad.tensor(np.eye(3, 4)[None])
    grid = F.affine_grid(theta3, (1, 1, 2, 3, 4), align_corners=True)
    assert grid.shape == (1, 2, 3, 4, 3)
    assert grid[0, :, 0, 0, 2].tolist() == [-1.0, 1.0]
    volume = np.random.default_rng(10).standard_normal((1, 2, 2, 3, 4))
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(tensorgrad.tensor(volume), grid, mode=mode, align_corners=True)
        np.testing.assert_allclose(out.numpy(), volume, atol=1e-12)


def _points(rng: np.random.Generator, shape: tuple[int, ...], size: int) -> np.ndarray:
    """Grid values whose positions in an input of ``size`` (either alignment) stay clear of
    whole and half pixels, where the slopes jump: finite differences need smooth ground."""
    whole = rng.integers(-2, size + 1, shape)
    return (whole + rng.uniform(0.15, 0.35, shape)) * 2 / (size + 1) - 1


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_gradients_against_finite_differences(padding_mode, align_corners):
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 2, 4, 4)), requires_grad=True)
    g = Tensor(_points(rng, (2, 3, 2, 2), 4), requires_grad=True)

    def sample(a, b):
        return F.grid_sample(a, b, padding_mode=padding_mode, align_corners=align_corners)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (that the check used finite differences)
        assert gradcheck(sample, x, g, reference="finite-difference")

    def first(a, b):  # one weighting of the first gradients: its gradient is second order
        ga, gb = tensorgrad.autograd.grad((sample(a, b) ** 2).sum(), [a, b], create_graph=True)
        return (ga * ga).sum() + (gb * gb).sum()

    second = tensorgrad.autograd.grad(first(x, g), [x, g])
    for got, leaf in zip(second, (x, g)):
        assert np.allclose(got.numpy(), _differences(first, (x, g), leaf), rtol=1e-5,
                           atol=1e-6)


def _differences(f, inputs, leaf, eps=1e-6):
    """Central finite differences of the scalar ``f(*inputs)`` along each entry of ``leaf``."""
    grad = np.zeros(leaf.shape)
    for index in np.ndindex(*leaf.shape):
        values = []
        for step in (eps, -eps):
            shifted = [Tensor(t.numpy(force=True).copy(), requires_grad=True) for t in inputs]
            shifted[[t is leaf for t in inputs].index(True)].data[index] += step
            values.append(f(*shifted).item())
        grad[index] = (values[0] - values[1]) / (2 * eps)
    return grad


def test_trilinear_gradients_against_finite_differences():
    rng = np.random.default_rng(11)
    x = Tensor(rng.standard_normal((1, 2, 3, 2, 3)), requires_grad=True)
    g = Tensor(_points(rng, (1, 2, 2, 1, 3), 3), requires_grad=True)
    for padding_mode in ("zeros", "border", "reflection"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (that the check used finite differences)
            assert gradcheck(lambda a, b, pm=padding_mode: F.grid_sample(
                a, b, padding_mode=pm, align_corners=False), x, g,
                reference="finite-difference")


def test_bicubic_by_hand_and_against_finite_differences():
    x = np.random.default_rng(12).standard_normal((1, 2, 4, 5))
    identity = F.affine_grid(tensorgrad.tensor(np.eye(2, 3)[None]), (1, 2, 4, 5), True)
    for padding_mode in ("zeros", "border", "reflection"):
        # at the pixels' centres the cubic weights are (0, 1, 0, 0): the pixels themselves
        out = F.grid_sample(tensorgrad.tensor(x), identity, mode="bicubic",
                            padding_mode=padding_mode, align_corners=True)
        np.testing.assert_allclose(out.numpy(), x, atol=1e-12)
        a = Tensor(x, requires_grad=True)
        g = Tensor(_points(np.random.default_rng(13), (1, 3, 2, 2), 5), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (that the check used finite differences)
            assert gradcheck(lambda a, b, pm=padding_mode: F.grid_sample(
                a, b, mode="bicubic", padding_mode=pm, align_corners=False), a, g,
                reference="finite-difference")
    # halfway between two pixels: -3/32, 19/32, 19/32, -3/32 of the four around (a = -0.75)
    row = tensorgrad.tensor([[[[0.0, 0.0, 16.0, 0.0, 0.0]]]])
    at = _at((-0.25, 0.0))  # x = 1.5 with aligned corners
    assert F.grid_sample(row, at, mode="bicubic", align_corners=True).item() == 16 * 19 / 32


def test_grid_sample_nearest_gives_the_grid_zeros_and_the_input_its_share():
    x = Tensor(SQUARE, requires_grad=True)
    g = Tensor(np.array([[[[-0.6, 0.6], [-0.7, 0.4]]]]), requires_grad=True)
    out = F.grid_sample(x, g, mode="nearest", align_corners=True)
    assert out.tolist() == [[[[3.0, 3.0]]]]
    out.sum().backward()
    assert g.grad.tolist() == [[[[0.0, 0.0], [0.0, 0.0]]]]
    assert x.grad.tolist() == [[[[0.0, 0.0], [2.0, 0.0]]]]


def test_grid_sample_of_empty_batches_keeps_the_shapes():
    for x_shape, g_shape, out_shape in (((0, 2, 3, 3), (0, 4, 5, 2), (0, 2, 4, 5)),
                                        ((2, 0, 3, 3), (2, 4, 5, 2), (2, 0, 4, 5)),
                                        ((2, 3, 3, 3), (2, 0, 5, 2), (2, 3, 0, 5))):
        x, g = tensorgrad.zeros(*x_shape, requires_grad=True), tensorgrad.zeros(*g_shape,
                                                                                 requires_grad=True)
        out = F.grid_sample(x, g, align_corners=False)
        assert out.shape == out_shape
        out.sum().backward()
        assert x.grad.shape == x_shape and g.grad.shape == g_shape


def test_align_corners_left_out_warns_as_pytorch():
    x, g = tensorgrad.zeros(1, 1, 2, 2), tensorgrad.zeros(1, 1, 1, 2)
    theta = tensorgrad.tensor(np.eye(2, 3)[None])
    for call in (lambda: F.grid_sample(x, g), lambda: F.affine_grid(theta, (1, 1, 2, 2))):
        with pytest.warns(UserWarning, match="align_corners=False since 1.3.0") as record:
            call()
        assert record[0].filename == __file__
    with pytest.warns(UserWarning, match="unit-size grids"):
        F.affine_grid(theta, (1, 1, 1, 2), align_corners=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda x, g: F.grid_sample(x, g, mode="area", align_corners=False), ValueError, "mode"),
    (lambda x, g: F.grid_sample(x, g, padding_mode="same", align_corners=False), ValueError,
     "padding_mode"),
    (lambda x, g: F.grid_sample(x, g[:1], align_corners=False), RuntimeError, "batch size"),
    (lambda x, g: F.grid_sample(x, g[..., :1], align_corners=False), RuntimeError,
     "size 2 in last"),
    (lambda x, g: F.grid_sample(x[:, :, :0], g, align_corners=False), RuntimeError,
     "non-empty spatial"),
    (lambda x, g: F.grid_sample(x, g.float(), align_corners=False), RuntimeError,
     "expected scalar type Double but found Float"),
    (lambda x, g: F.grid_sample(x.long(), g, align_corners=False), NotImplementedError, "Long"),
    (lambda x, g: F.grid_sample(x, g, align_corners=1), TypeError, "must be bool"),
    (lambda x, g: F.affine_grid(x[:, 0, :2, :3], (2, 3, 4), align_corners=False),
     NotImplementedError, "4D and 5D sizes"),
    (lambda x, g: F.affine_grid(x[:, 0, :1, :3], (2, 3, 4, 5), align_corners=False),
     ValueError, "Nx2x3"),
    (lambda x, g: F.affine_grid(x[:, 0, :2, :3], (2, 3, 0, 5), align_corners=False),
     ValueError, "positive output size"),
    (lambda x, g: F.affine_grid(x[:, 0, :2, :3].long(), (2, 3, 4, 5), align_corners=False),
     ValueError, "floating point type, but got torch.int64"),
])
def test_grid_misuse_raises_as_pytorch(call, error, match):
    x, g = tensorgrad.zeros(2, 3, 4, 5, dtype=tensorgrad.float64), tensorgrad.zeros(2, 6, 7, 2)
    with pytest.raises(error, match=match):
        call(x, g)


def test_upsample_names_are_interpolate_with_a_deprecation_warning():
    x = tensorgrad.tensor(np.random.default_rng(2).standard_normal((1, 2, 3, 4)))
    for name, settings, same in (
            ("upsample", dict(scale_factor=2, mode="bilinear"), dict(mode="bilinear")),
            ("upsample_nearest", dict(scale_factor=2), dict(mode="nearest")),
            ("upsample_bilinear", dict(scale_factor=2), dict(mode="bilinear",
                                                             align_corners=True))):
        with pytest.warns(UserWarning, match=f"`nn.functional.{name}` is deprecated"):
            out = getattr(F, name)(x, **settings)
        assert tensorgrad.equal(out, F.interpolate(x, scale_factor=2, **same))


def test_local_response_norm_by_hand():
    x = np.random.default_rng(3).standard_normal((2, 3, 4))
    # one channel: x / (k + alpha x^2)^beta
    out = F.local_response_norm(tensorgrad.tensor(x), 1, alpha=0.5, beta=0.75, k=2.0)
    np.testing.assert_allclose(out.numpy(), x / (2.0 + 0.5 * x * x) ** 0.75, rtol=1e-14)
    # three channels: the middle one's neighbours are all three, the first's two of three
    out = F.local_response_norm(tensorgrad.tensor(x), 3, alpha=0.3, beta=0.5, k=1.0)
    squares = x * x
    first = x[:, 0] / np.sqrt(1.0 + 0.3 * (squares[:, 0] + squares[:, 1]) / 3)
    middle = x[:, 1] / np.sqrt(1.0 + 0.3 * squares.sum(1) / 3)
    np.testing.assert_allclose(out.numpy()[:, 0], first, rtol=1e-14)
    np.testing.assert_allclose(out.numpy()[:, 1], middle, rtol=1e-14)
    layer = nn.LocalResponseNorm(3, alpha=0.3, beta=0.5)
    assert repr(layer) == "LocalResponseNorm(3, alpha=0.3, beta=0.5, k=1.0)"
    assert tensorgrad.equal(layer(tensorgrad.tensor(x)), out)
    four = Tensor(np.random.default_rng(4).standard_normal((2, 4, 2, 3)), requires_grad=True)
    assert gradcheck(lambda a: F.local_response_norm(a, 2), four, reference="finite-difference")
    with pytest.raises(ValueError, match="3D or higher"):
        F.local_response_norm(tensorgrad.zeros(2, 3), 2)


def test_max_unpool_puts_each_maximum_back():
    x = Tensor(np.random.default_rng(5).standard_normal((2, 3, 4, 6)), requires_grad=True)
    pooled, where = F.max_pool2d(x, 2, return_indices=True)
    out = F.max_unpool2d(pooled, where, 2).detach().numpy()
    kept = out != 0
    assert out.shape == x.shape and kept.sum() == pooled.numel()
    np.testing.assert_array_equal(out[kept], x.detach().numpy()[kept])
    # its gradient reads back at the indices
    weights = np.random.default_rng(6).standard_normal(x.shape)
    p = Tensor(pooled.detach().numpy(), requires_grad=True)
    (F.max_unpool2d(p, where, 2) * Tensor(weights)).sum().backward()
    picked = np.take_along_axis(weights.reshape(2, 3, -1), where.numpy().reshape(2, 3, -1), -1)
    np.testing.assert_array_equal(p.grad.numpy(), picked.reshape(p.shape))
    # 1-d, an output_size, unbatched, 3-d
    y, at = F.max_pool1d(x[0, :, 0], 2, return_indices=True)
    assert F.max_unpool1d(y, at, 2, output_size=[7]).shape == (3, 7)
    assert nn.MaxUnpool1d(2)(y, at).shape == (3, 6)
    assert F.max_unpool3d(x.detach()[:, :, None, :2, :2], tensorgrad.zeros(2, 3, 1, 2, 2,
                                                                 dtype=tensorgrad.int64),
                          (1, 2, 2)).shape == (2, 3, 1, 4, 4)
    assert repr(nn.MaxUnpool2d(2)) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), " \
        "padding=(0, 0))"
    with pytest.raises(RuntimeError, match="invalid max index"):
        F.max_unpool2d(pooled, where + 100, 2)
    with pytest.raises(RuntimeError, match="should be type int64"):
        F.max_unpool2d(pooled, where.float(), 2)
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(pooled, where, 2, output_size=(9, 6))


def test_lp_pool_by_hand():
    x = np.abs(np.random.default_rng(7).standard_normal((2, 3, 8))) + 0.1
    windows = x.reshape(2, 3, 4, 2)
    for p, expected in ((1, windows.sum(-1)), (2, np.sqrt((windows ** 2).sum(-1))),
                        (float("inf"), windows.max(-1))):
        out = F.lp_pool1d(tensorgrad.tensor(x), p, 2)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-13)
    sq = np.abs(np.random.default_rng(8).standard_normal((1, 2, 4, 4))) + 0.1
    out = F.lp_pool2d(tensorgrad.tensor(sq), 3, 2)
    cubes = (sq ** 3).reshape(1, 2, 2, 2, 2, 2).sum((3, 5)) ** (1 / 3)
    np.testing.assert_allclose(out.numpy(), cubes, rtol=1e-13)
    cube = np.abs(np.random.default_rng(9).standard_normal((1, 1, 2, 2, 4))) + 0.1
    out = F.lp_pool3d(tensorgrad.tensor(cube), 2, (2, 2, 2))
    np.testing.assert_allclose(out.numpy().ravel(),
                               np.sqrt((cube ** 2).reshape(2, 2, 2, 2).sum((0, 1, 3))),
                               rtol=1e-13)
    t = Tensor(x, requires_grad=True)
    assert gradcheck(lambda a: F.lp_pool1d(a, 2, 3, stride=2), t, reference="finite-difference")
    assert repr(nn.LPPool2d(2, 3)) == "LPPool2d(norm_type=2, kernel_size=3, stride=None, " \
        "ceil_mode=False)"
    out = F.lp_pool3d(tensorgrad.tensor(-cube), float("inf"), (2, 2, 2))  # the largest |x|
    np.testing.assert_array_equal(out.numpy().ravel(),
                                  cube.reshape(2, 2, 2, 2).max((0, 1, 3)))


def test_adaptive_max_pool_with_indices_returns_both():
    x = tensorgrad.tensor([[[1.0, 5.0, 2.0, 7.0]]])
    values, where = F.adaptive_max_pool1d_with_indices(x, 2)
    assert values.tolist() == [[[5.0, 7.0]]] and where.tolist() == [[[1, 3]]]
    values, where = F.adaptive_max_pool2d_with_indices(x[None], (1, 1))
    assert values.tolist() == [[[[7.0]]]] and where.tolist() == [[[[3]]]]


def test_the_vision_ops_load_when_first_used():
    code = ("import sys, tensorgrad, tensorgrad.nn as nn\n"
            "before = 'tensorgrad.sampling' in sys.modules\n"
            "nn.LPPool2d(2, 2)\n"
            "from tensorgrad.nn import functional as F\n"
            "F.grid_sample\n"
            "print([before, 'tensorgrad.sampling' in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert result.stdout.strip() == "[False, True]"
