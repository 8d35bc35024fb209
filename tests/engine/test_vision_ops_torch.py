"""The vision ops of ``tensorgrad/sampling.py`` and their layers (``nn/vision.py``) held
against PyTorch's: ``affine_grid`` and ``grid_sample`` in every mode, padding and corner
alignment, on inputs in C, Fortran, transposed, sliced and reversed layouts, float32 and
float64, with NaN and the infinities and size-0 batches; the deprecated ``upsample`` names
and their warnings; ``local_response_norm``; ``max_unpool1d/2d/3d``; ``lp_pool1d/2d/3d``;
gradients of gradients; misuse errors; and a small Spatial Transformer Network trained three
Adam steps on both libraries from the same weights. Skipped without torch
(``test_vision_ops.py`` checks them without it)."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest
from strategies import LaidOut, Layout
from torch_compare import RTOL, against_torch, assert_same

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

LAYOUTS = ("C", "F", "transposed", "sliced", "reversed")


def laid(values: np.ndarray, kind: str) -> LaidOut:
    """``values`` seen through a view of ``kind``; the leaf's other entries are NaN, so that
    an op reading past the view shows it."""
    n = values.ndim
    same, ones = tuple(range(n)), (1,) * n
    layout = {"C": Layout("C", "C", same, ones), "F": Layout("F", "F", same, ones),
              "transposed": Layout("transposed", "C", same[::-1], ones),
              "sliced": Layout("sliced", "C", same, (2,) + ones[1:-1] + (2,)),
              "reversed": Layout("reversed", "C", same, (-1,) * n)}[kind]
    return LaidOut(values, layout, layout.leaf_for(values, np.nan))


def _grid(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """Grid values mostly in [-1, 1] and some beyond (each padding mode has work), with
    corners and the centre exactly."""
    g = rng.uniform(-1.6, 1.6, shape)
    points = g.reshape(shape[0], -1, shape[-1])  # (a view: writes reach g)
    if points.shape[1]:
        points[0, 0] = [(-1.0) ** i for i in range(shape[-1])]
        points[0, -1] = [(-1.0) ** (i + 1) for i in range(shape[-1])]
        points[-1, 0] = 0.0
    return g.astype(dtype)


SHAPES = {2: ((2, 3, 5, 4), (2, 3, 6, 2)), 3: ((2, 3, 4, 3, 5), (2, 3, 2, 4, 3))}


SAMPLING = list(itertools.product(["bilinear", "nearest", "bicubic"],
                                  ["zeros", "border", "reflection"], [False, True]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode, padding_mode, align_corners", SAMPLING, ids=str)
@pytest.mark.parametrize("n", [2, 3])
def test_grid_sample_as_torch_in_every_layout(n, mode, padding_mode, align_corners, dtype):
    if n == 3 and mode == "bicubic":
        pytest.skip("bicubic reads 4-D inputs only (as PyTorch's)")
    rng = np.random.default_rng(0)
    for i, kind in enumerate(LAYOUTS):
        x = rng.standard_normal(SHAPES[n][0]).astype(dtype)
        g = _grid(rng, SHAPES[n][1], dtype)
        settings = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        against_torch(torch, lambda a, b, settings=settings: F.grid_sample(a, b, **settings),
                      lambda a, b, settings=settings: TF.grid_sample(a, b, **settings),
                      laid(x, kind), laid(g, LAYOUTS[(i + 2) % len(LAYOUTS)]),
                      upstream=("C", "F", "reversed", "strided")[i % 4])


@pytest.mark.parametrize("mode, padding_mode, align_corners", SAMPLING, ids=str)
@pytest.mark.parametrize("n", [2, 3])
def test_grid_sample_with_nan_and_infinities_as_torch(n, mode, padding_mode, align_corners):
    if n == 3 and mode == "bicubic":
        pytest.skip("bicubic reads 4-D inputs only (as PyTorch's)")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(SHAPES[n][0])
    pixels = x.reshape(2, 3, -1)  # (a view)
    pixels[0, 0, 5], pixels[1, 1, 11], pixels[0, 1, 0] = np.nan, np.inf, -np.inf
    if mode == "bicubic":  # (the grid's gradient there sums infinities in another order,
        # and can be NaN where PyTorch's is infinite)
        pixels[1, 1, 11] = pixels[0, 1, 0] = np.nan
    g = _grid(rng, SHAPES[n][1], np.float64)
    settings = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    # NaN and infinities in the input: values and both gradients
    against_torch(torch, lambda a, b: F.grid_sample(a, b, **settings),
                  lambda a, b: TF.grid_sample(a, b, **settings), x, g)
    # ... and in the grid: values (PyTorch's 2-d backward reads past the input there)
    points = g.reshape(2, -1, n)
    points[0, 0, 0], points[0, 4, 1], points[1, 2, 0] = np.nan, np.inf, -np.inf
    ours = F.grid_sample(tensorgrad.tensor(x), tensorgrad.tensor(g), **settings)
    assert_same(ours, TF.grid_sample(torch.tensor(x), torch.tensor(g), **settings), "NaN grid")


@pytest.mark.parametrize("shapes", [((0, 3, 4, 5), (0, 2, 3, 2)), ((2, 0, 4, 5), (2, 2, 3, 2)),
                                    ((2, 3, 4, 5), (2, 0, 3, 2)), ((2, 3, 1, 1), (2, 2, 2, 2)),
                                    ((0, 2, 3, 2, 2), (0, 1, 2, 2, 3)),
                                    ((2, 2, 1, 1, 1), (2, 1, 2, 2, 3))],
                         ids=str)
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_of_empty_batches_and_single_pixels_as_torch(shapes, mode):
    if len(shapes[0]) == 5 and mode == "bicubic":
        pytest.skip("bicubic reads 4-D inputs only (as PyTorch's)")
    rng = np.random.default_rng(2)
    for padding_mode, align in itertools.product(["zeros", "border", "reflection"],
                                                 [False, True]):
        settings = dict(mode=mode, padding_mode=padding_mode, align_corners=align)
        against_torch(torch, lambda a, b, settings=settings: F.grid_sample(a, b, **settings),
                      lambda a, b, settings=settings: TF.grid_sample(a, b, **settings),
                      rng.standard_normal(shapes[0]),
                      _grid(rng, (2, 3, 3, 3)[:len(shapes[0]) - 1] + (len(shapes[0]) - 2,),
                            np.float64)[tuple(slice(k) for k in shapes[1][:-1])])


def _second_order(ours_fn, theirs_fn, arrays, rng):
    """The gradient of one random weighting of the first gradients of one random weighting
    of the output, with respect to every argument: ours and PyTorch's, compared."""
    mine = [tensorgrad.tensor(a, requires_grad=True) for a in arrays]
    their = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, their_y = ours_fn(*mine), theirs_fn(*their)
    w = rng.standard_normal(tuple(their_y.shape))
    first = tensorgrad.autograd.grad((y * tensorgrad.tensor(w)).sum(), mine, create_graph=True)
    their_first = torch.autograd.grad((their_y * torch.tensor(w)).sum(), their,
                                      create_graph=True)
    for i, (a, b) in enumerate(zip(first, their_first)):
        assert_same(a, b, f"first gradient {i}")
        assert a.requires_grad == b.requires_grad, f"first gradient {i} in the graph"
    vs = [rng.standard_normal(a.shape) for a in arrays]
    total = sum((g * tensorgrad.tensor(v)).sum() for g, v in zip(first, vs))
    their_total = sum((g * torch.tensor(v)).sum() for g, v in zip(their_first, vs))
    second = tensorgrad.autograd.grad(total, mine, allow_unused=True)
    their_second = torch.autograd.grad(their_total, their, allow_unused=True)
    for i, (a, b) in enumerate(zip(second, their_second)):
        a = np.zeros(arrays[i].shape) if a is None else a
        b = torch.zeros(arrays[i].shape, dtype=torch.float64) if b is None else b
        assert_same(a, b, f"second gradient {i}")


@pytest.mark.parametrize("padding_mode, align_corners",
                         list(itertools.product(["zeros", "border", "reflection"],
                                                [False, True])), ids=str)
@pytest.mark.parametrize("n, mode", [(2, "bilinear"), (2, "bicubic"), (3, "bilinear"),
                                     (2, "nearest"), (3, "nearest")])
def test_grid_sample_gradients_of_gradients_as_torch(n, mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    settings = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    shapes = {2: ((2, 2, 4, 3), (2, 3, 2, 2)), 3: ((2, 2, 3, 2, 3), (2, 2, 1, 2, 3))}[n]
    _second_order(lambda a, b: F.grid_sample(a, b, **settings),
                  lambda a, b: TF.grid_sample(a, b, **settings),
                  [rng.standard_normal(shapes[0]), _grid(rng, shapes[1], np.float64)], rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 7), (2, 1, 3, 1), (2, 1, 6, 2, 3),
                                  (2, 1, 1, 1, 1), (2, 3, 7, 9)], ids=str)
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_as_torch(size, align_corners, dtype):
    n = len(size) - 2
    theta = np.random.default_rng(4).standard_normal((2, n, n + 1)).astype(dtype)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        out = against_torch(torch, lambda t: F.affine_grid(t, size, align_corners),
                            lambda t: TF.affine_grid(t, size, align_corners),
                            laid(theta, ("transposed", "F")[n - 2]))
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        TF.affine_grid(torch.tensor(theta), size, align_corners)
    # (against_torch ran both: each warned once)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs] * 2
    assert out.shape == (2, *size[2:], n)


def test_the_identity_grid_is_torchs_bit_for_bit():
    # the base grid alone (linspace's rounding, from both ends towards the middle)
    for dtype, size, align in itertools.product([np.float32, np.float64],
                                                [(1, 1, 7, 9), (1, 1, 2, 3, 11)],
                                                [False, True]):
        n = len(size) - 2
        theta = np.eye(n, n + 1, dtype=dtype)[None]
        ours = F.affine_grid(tensorgrad.tensor(theta), size, align).numpy()
        np.testing.assert_array_equal(ours, TF.affine_grid(torch.tensor(theta), size,
                                                           align).numpy())


def test_affine_grid_takes_sizes_as_torch_does():
    theta = np.random.default_rng(5).standard_normal((2, 2, 3))
    for size in ((2, 3, 4, 5), [2, 3, 4, 5], torch.Size([2, 3, 4, 5]),
                 tensorgrad.Size([2, 3, 4, 5])):
        assert_same(F.affine_grid(tensorgrad.tensor(theta), size, align_corners=False),
                    TF.affine_grid(torch.tensor(theta), (2, 3, 4, 5), align_corners=False),
                    str(size))


def test_the_align_corners_warning_as_torchs():
    x, g = np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 1, 2))
    theta = np.eye(2, 3)[None]
    cases = [(lambda: F.grid_sample(tensorgrad.tensor(x), tensorgrad.tensor(g)),
              lambda: TF.grid_sample(torch.tensor(x), torch.tensor(g))),
             (lambda: F.affine_grid(tensorgrad.tensor(theta), (1, 1, 2, 2)),
              lambda: TF.affine_grid(torch.tensor(theta), (1, 1, 2, 2)))]
    for ours, theirs in cases:
        for align in (None, False, True):
            with warnings.catch_warnings(record=True) as got:
                warnings.simplefilter("always")
                ours() if align is None else None
                theirs() if align is None else None
            if align is None:
                assert len(got) == 2 and got[0].category is got[1].category is UserWarning
                assert str(got[0].message) == str(got[1].message)
                assert got[0].filename == __file__  # the caller's line, as PyTorch's
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an explicit align_corners says nothing
        F.grid_sample(tensorgrad.tensor(x), tensorgrad.tensor(g), align_corners=False)
        F.affine_grid(tensorgrad.tensor(theta), (1, 1, 2, 2), align_corners=True)


def test_affine_grid_then_grid_sample_gradients_of_gradients_as_torch():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 5, 4))

    def transformer(module):
        def run(image, theta):
            grid = module.affine_grid(theta, (2, 2, 3, 4), align_corners=False)
            return module.grid_sample(image, grid, padding_mode="border", align_corners=False)
        return run

    theta = np.array([[[0.9, 0.2, 0.1], [-0.1, 1.1, 0.05]], [[1.2, -0.3, 0.2], [0.25, 0.8, -0.1]]])
    _second_order(transformer(F), transformer(TF), [x, theta], rng)

    def volume(module):  # the same in 3-d
        def run(image, theta):
            grid = module.affine_grid(theta, (2, 2, 2, 3, 2), align_corners=True)
            return module.grid_sample(image, grid, padding_mode="reflection", align_corners=True)
        return run

    theta3 = np.eye(3, 4)[None].repeat(2, 0) + rng.uniform(-0.2, 0.2, (2, 3, 4))
    _second_order(volume(F), volume(TF), [rng.standard_normal((2, 2, 3, 2, 4)), theta3], rng)


MISUSE = [
    ("mode", lambda m, x, g: m.grid_sample(x, g, mode="cubic", align_corners=False)),
    ("padding", lambda m, x, g: m.grid_sample(x, g, padding_mode="wrap", align_corners=False)),
    ("batch", lambda m, x, g: m.grid_sample(x, g[:1], align_corners=False)),
    ("last dim", lambda m, x, g: m.grid_sample(x, g[..., :1], align_corners=False)),
    ("unbatched", lambda m, x, g: m.grid_sample(x[0], g[0], align_corners=False)),
    ("empty H", lambda m, x, g: m.grid_sample(x[:, :, :0], g, align_corners=False)),
    ("dtypes", lambda m, x, g: m.grid_sample(x.float(), g, align_corners=False)),
    ("long input", lambda m, x, g: m.grid_sample(x.long(), g.long(), align_corners=False)),
    ("long grid", lambda m, x, g: m.grid_sample(x, g.long(), align_corners=False)),
    ("bicubic 5-D", lambda m, x, g: m.grid_sample(x[None], m.zeros(1, 2, 2, 2, 3,
                                                                   dtype=x.dtype),
                                                  mode="bicubic", align_corners=False)),
    ("3-D theta", lambda m, x, g: m.affine_grid(m.zeros(2, 2, 3, dtype=x.dtype), (2, 3, 4),
                                                align_corners=False)),
    ("theta shape", lambda m, x, g: m.affine_grid(m.zeros(2, 1, 3, dtype=x.dtype),
                                                  (2, 3, 4, 5), align_corners=False)),
    ("integer theta", lambda m, x, g: m.affine_grid(m.zeros(2, 2, 3, dtype=m.int64),
                                                    (2, 3, 4, 5), align_corners=False)),
    ("empty size", lambda m, x, g: m.affine_grid(m.zeros(2, 2, 3, dtype=x.dtype),
                                                 (2, 0, 4, 5), align_corners=False)),
    ("batch of theta", lambda m, x, g: m.affine_grid(m.zeros(2, 2, 3, dtype=x.dtype),
                                                     (3, 3, 4, 5), align_corners=False)),
]


class _Both:
    """``name`` on tensorgrad (``F.name`` or ``tensorgrad.name``), as torch's modules."""

    def __init__(self, functional, top):
        self.functional, self.top = functional, top

    def __getattr__(self, name):
        return getattr(self.functional, name, None) or getattr(self.top, name)


@pytest.mark.parametrize("name, misuse", MISUSE, ids=[name for name, _ in MISUSE])
def test_misuse_raises_as_torch(name, misuse):
    x, g = np.zeros((2, 3, 4, 5)), np.zeros((2, 6, 7, 2))
    with pytest.raises(Exception) as theirs:
        misuse(_Both(TF, torch), torch.tensor(x), torch.tensor(g))
    with pytest.raises(theirs.type) as ours:
        misuse(_Both(F, tensorgrad), tensorgrad.tensor(x), tensorgrad.tensor(g))
    if theirs.type is not NotImplementedError:
        assert str(ours.value) == str(theirs.value)


# ---- upsample ------------------------------------------------------------------------------------


UPSAMPLES = [("upsample", dict(scale_factor=2)), ("upsample", dict(size=(5, 7), mode="bilinear")),
             ("upsample", dict(scale_factor=1.5, mode="bilinear", align_corners=True)),
             ("upsample_nearest", dict(size=5)), ("upsample_nearest", dict(scale_factor=3)),
             ("upsample_bilinear", dict(scale_factor=2)), ("upsample_bilinear", dict(size=(3, 9)))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, settings", UPSAMPLES, ids=str)
def test_the_deprecated_upsample_functions_as_torch(name, settings, dtype):
    x = np.random.default_rng(7).standard_normal((2, 3, 4, 5)).astype(dtype)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        against_torch(torch, lambda a: getattr(F, name)(a, **settings),
                      lambda a: getattr(TF, name)(a, **settings), laid(x, "transposed"))
    messages = [str(w.message) for w in got]
    assert messages == [f"`nn.functional.{name}` is deprecated. Use "
                        "`nn.functional.interpolate` instead."] * 2
    assert got[0].filename == got[1].filename == __file__


def test_the_upsampling_layers_as_torchs():
    x = np.random.default_rng(8).standard_normal((1, 2, 3, 4))
    for ours, theirs in ((nn.UpsamplingBilinear2d(scale_factor=2),
                          torch.nn.UpsamplingBilinear2d(scale_factor=2)),
                         (nn.UpsamplingNearest2d(size=(5, 6)),
                          torch.nn.UpsamplingNearest2d(size=(5, 6))),
                         (nn.Upsample(scale_factor=2, mode="bilinear"),
                          torch.nn.Upsample(scale_factor=2, mode="bilinear"))):
        assert repr(ours) == repr(theirs)
        assert_same(ours(tensorgrad.tensor(x)), theirs(torch.tensor(x)), repr(ours))


# ---- local response norm -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(2, 5, 7), (2, 6, 3, 4), (1, 3, 2, 3, 2), (0, 4, 3, 3)],
                         ids=str)
@pytest.mark.parametrize("size", [1, 2, 3, 8])
def test_local_response_norm_as_torch(shape, size, dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype(dtype)
    settings = dict(alpha=0.5, beta=0.6, k=1.5)
    kind = LAYOUTS[size % len(LAYOUTS)]
    against_torch(torch, lambda a: F.local_response_norm(a, size, **settings),
                  lambda a: TF.local_response_norm(a, size, **settings), laid(x, kind))
    ours, theirs = nn.LocalResponseNorm(size, **settings), torch.nn.LocalResponseNorm(size,
                                                                                    **settings)
    assert repr(ours) == repr(theirs)
    assert_same(ours(tensorgrad.tensor(x)), theirs(torch.tensor(x)), "layer", RTOL[x.dtype])


def test_local_response_norm_with_nan_and_second_order_as_torch():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 3))
    x[0, 1, 2], x[1, 3, 0] = np.nan, np.inf
    against_torch(torch, lambda a: F.local_response_norm(a, 3),
                  lambda a: TF.local_response_norm(a, 3), x)
    _second_order(lambda a: F.local_response_norm(a, 3, alpha=0.3),
                  lambda a: TF.local_response_norm(a, 3, alpha=0.3),
                  [rng.standard_normal((2, 4, 3))], rng)
    for bad in (np.zeros(3), np.zeros((2, 3))):
        with pytest.raises(ValueError) as theirs:
            TF.local_response_norm(torch.tensor(bad), 2)
        with pytest.raises(ValueError) as ours:
            F.local_response_norm(tensorgrad.tensor(bad), 2)
        assert str(ours.value) == str(theirs.value)


# ---- max_unpool ----------------------------------------------------------------------------------


UNPOOLS = [(1, (2, 4, 9), dict(kernel_size=2)), (1, (2, 4, 9), dict(kernel_size=3, stride=2,
                                                                   padding=1)),
           (1, (3, 8), dict(kernel_size=3, stride=1)),  # overlapping windows, unbatched
           (2, (2, 3, 6, 7), dict(kernel_size=2)), (2, (2, 3, 6, 7), dict(kernel_size=(3, 2),
                                                                         stride=(2, 1),
                                                                         padding=(1, 0))),
           (2, (3, 5, 5), dict(kernel_size=2, stride=1)), (2, (0, 3, 4, 4), dict(kernel_size=2)),
           (3, (1, 2, 4, 5, 6), dict(kernel_size=2)),
           (3, (2, 4, 6, 5), dict(kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=(1, 1, 0)))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n, shape, settings", UNPOOLS, ids=str)
def test_max_unpool_as_torch(n, shape, settings, dtype):
    x = torch.tensor(np.random.default_rng(11).standard_normal(shape).astype(dtype))
    pooled, indices = getattr(TF, f"max_pool{n}d")(x, return_indices=True, **settings)
    unpool, their_unpool = getattr(F, f"max_unpool{n}d"), getattr(TF, f"max_unpool{n}d")
    default = [(p - 1) * s + k - 2 * q for p, s, k, q in zip(
        pooled.shape[-n:], *(np.broadcast_to(settings.get(name, fallback), n) for name, fallback
                              in (("stride", settings["kernel_size"]), ("kernel_size", 0),
                                  ("padding", 0))))]
    # the input's own size; the default where it is that; the whole shape where batched
    sizes = [list(x.shape[-n:])] + [None] * (default == list(x.shape[-n:])) + \
        [x.shape] * (x.ndim == n + 2)
    for i, output_size in enumerate(sizes):
        out = against_torch(
            torch, lambda a, at, size=output_size: unpool(a, at, output_size=size, **settings),
            lambda a, at, size=output_size: their_unpool(a, at, output_size=size, **settings),
            laid(pooled.numpy(), LAYOUTS[i]), indices.numpy())
        layer = getattr(nn, f"MaxUnpool{n}d")(**settings)
        their_layer = getattr(torch.nn, f"MaxUnpool{n}d")(**settings)
        assert repr(layer) == repr(their_layer)
        assert_same(layer(tensorgrad.tensor(pooled.numpy()), tensorgrad.tensor(indices.numpy()),
                          output_size), out, "layer")


def test_max_unpool_gradients_of_gradients_and_misuse_as_torch():
    rng = np.random.default_rng(12)
    x = torch.tensor(rng.standard_normal((2, 3, 4, 4)))
    pooled, where = TF.max_pool2d(x, 2, return_indices=True)
    index = where.numpy()
    _second_order(lambda a: F.max_unpool2d(a, tensorgrad.tensor(index), 2) ** 2,
                  lambda a: TF.max_unpool2d(a, where, 2) ** 2, [pooled.numpy()], rng)
    y = pooled.numpy()
    cases = [lambda m, t, i: m.max_unpool2d(t, i.float(), 2),
             lambda m, t, i: m.max_unpool2d(t, i.int(), 2),
             lambda m, t, i: m.max_unpool2d(t, i[..., :1], 2),
             lambda m, t, i: m.max_unpool2d(t, i + 100, 2),
             lambda m, t, i: m.max_unpool2d(t, i - 100, 2),
             lambda m, t, i: m.max_unpool2d(t, i, 2, output_size=(6, 5)),
             lambda m, t, i: m.max_unpool2d(t, i, 2, output_size=(5,)),
             lambda m, t, i: m.max_unpool2d(t[0, 0], i[0, 0], 2),
             lambda m, t, i: m.max_unpool2d(t.long(), i, 2),
             lambda m, t, i: m.max_unpool2d(t, i, 2, padding=1),
             lambda m, t, i: m.max_unpool1d(t[:, :, 0], i[:, :, 0], 2),
             lambda m, t, i: m.max_unpool1d(t[0], i[0, :, 0], 2)]
    for k, misuse in enumerate(cases):
        with pytest.raises(Exception) as theirs:
            misuse(TF, torch.tensor(y), where)
        with pytest.raises(theirs.type) as ours:
            misuse(F, tensorgrad.tensor(y), tensorgrad.tensor(index))
        if theirs.type is not NotImplementedError:  # (which bad index PyTorch names first
            # depends on its threads)
            assert re.sub(r"index: -?\d+", "", str(ours.value)) == \
                re.sub(r"index: -?\d+", "", str(theirs.value)), k


# ---- lp_pool -------------------------------------------------------------------------------------


LP_POOLS = [(1, (2, 3, 9), dict(kernel_size=3)), (1, (3, 8), dict(kernel_size=2, stride=3)),
            (2, (2, 3, 6, 7), dict(kernel_size=2)), (2, (2, 3, 6, 7), dict(kernel_size=(3, 2),
                                                                          stride=(1, 2))),
            # (not a batch of 0, which PyTorch allows: tensorgrad's avg_pool2d and max_pool2d
            # refuse it)
            (3, (1, 2, 4, 5, 6), dict(kernel_size=2)),
            (3, (2, 4, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 1)))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [1, 2, 3, 1.5, float("inf"), -float("inf")], ids=str)
@pytest.mark.parametrize("n, shape, settings", LP_POOLS, ids=str)
def test_lp_pool_as_torch(n, shape, settings, norm_type, dtype):
    rng = np.random.default_rng(13)
    x = rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape)
    if norm_type in (1.5,):  # a fractional power of a negative number: NaN, as PyTorch's
        x[..., 0] = np.abs(x[..., 0])
    x = x.astype(dtype)
    pool, their_pool = getattr(F, f"lp_pool{n}d"), getattr(TF, f"lp_pool{n}d")
    against_torch(torch, lambda a: pool(a, norm_type, **settings),
                  lambda a: their_pool(a, norm_type, **settings),
                  laid(x, LAYOUTS[len(shape) % len(LAYOUTS)]))
    layer = getattr(nn, f"LPPool{n}d")(norm_type, **settings)
    their_layer = getattr(torch.nn, f"LPPool{n}d")(norm_type, **settings)
    assert repr(layer) == repr(their_layer)
    assert_same(layer(tensorgrad.tensor(x)), their_layer(torch.tensor(x)), "layer",
                RTOL[x.dtype])


def test_lp_pool_of_zero_windows_and_nan_as_torch():
    x = np.random.default_rng(17).uniform(0.5, 2.0, (2, 3, 8))
    x[0, 0, :2] = 0.0  # a window of zeros: the root's slope is infinite there
    x[1, 2, 4] = np.nan
    for p in (1, 2, 3, 1.5):
        against_torch(torch, lambda a, p=p: F.lp_pool1d(a, p, 2),
                      lambda a, p=p: TF.lp_pool1d(a, p, 2), x)


def test_lp_pool_gradients_of_gradients_as_torch():
    rng = np.random.default_rng(14)
    x = rng.uniform(0.5, 2.0, (2, 2, 4, 6))
    for p in (2, 3):
        _second_order(lambda a, p=p: F.lp_pool2d(a, p, 2),
                      lambda a, p=p: TF.lp_pool2d(a, p, 2), [x], rng)
        _second_order(lambda a, p=p: F.lp_pool1d(a[0], p, 3),
                      lambda a, p=p: TF.lp_pool1d(a[0], p, 3), [x], rng)


# ---- adaptive max pooling with indices -----------------------------------------------------------


@pytest.mark.parametrize("n, shape, output_size", [(1, (2, 3, 9), 4), (1, (3, 7), 3),
                                                   (2, (2, 3, 6, 7), (4, 3)),
                                                   (2, (3, 5, 5), (2, None))], ids=str)
def test_adaptive_max_pool_with_indices_as_torch(n, shape, output_size):
    x = np.random.default_rng(15).standard_normal(shape)
    name = f"adaptive_max_pool{n}d_with_indices"
    ours = getattr(F, name)(tensorgrad.tensor(x), output_size)
    theirs = getattr(TF, name)(torch.tensor(x), output_size)
    assert len(ours) == len(theirs) == 2
    assert_same(ours[0], theirs[0], "values")
    assert_same(ours[1], theirs[1], "indices")


# ---- a spatial transformer network ---------------------------------------------------------------


def _spatial_transformer(library):
    """PyTorch's spatial transformer tutorial's network, small: a localization network
    regresses theta (starting at the identity), the image is resampled by it, then a small
    classifier."""
    lib_nn, lib_f = library.nn, library.nn.functional

    class Net(lib_nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib_nn.Conv2d(1, 4, kernel_size=3)
            self.fc = lib_nn.Linear(4 * 4 * 4, 3)
            self.localization = lib_nn.Sequential(
                lib_nn.Conv2d(1, 4, kernel_size=3), lib_nn.MaxPool2d(2, stride=2),
                lib_nn.ReLU(True))
            self.fc_loc = lib_nn.Sequential(lib_nn.Linear(4 * 4 * 4, 8), lib_nn.ReLU(True),
                                            lib_nn.Linear(8, 3 * 2))
            with library.no_grad():
                self.fc_loc[2].weight.zero_()
                self.fc_loc[2].bias.copy_(library.tensor([1.0, 0, 0, 0, 1, 0]))

        def stn(self, x):
            xs = self.localization(x).view(-1, 4 * 4 * 4)
            theta = self.fc_loc(xs).view(-1, 2, 3)
            grid = lib_f.affine_grid(theta, x.size(), align_corners=False)
            return lib_f.grid_sample(x, grid, align_corners=False)

        def forward(self, x):
            x = self.stn(x)
            x = lib_f.relu(lib_f.max_pool2d(self.conv(x), 2))
            return lib_f.log_softmax(self.fc(x.view(-1, 4 * 4 * 4)), dim=1)

    return Net()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_spatial_transformer_network_trains_as_torchs(dtype):
    rng = np.random.default_rng(16)
    images, labels = rng.standard_normal((4, 1, 10, 10)).astype(dtype), rng.integers(0, 3, 4)
    torch.manual_seed(0)
    theirs = _spatial_transformer(torch).to(torch.float64 if dtype == np.float64
                                            else torch.float32)
    ours = _spatial_transformer(tensorgrad).to(tensorgrad.float64 if dtype == np.float64
                                               else tensorgrad.float32)
    ours.load_state_dict({k: tensorgrad.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    # the identity start has no gradient to the localization net: perturb it a little
    with torch.no_grad():
        theirs.fc_loc[2].weight.copy_(torch.tensor(rng.standard_normal((6, 8)) * 0.05))
    ours.fc_loc[2].weight.data = tensorgrad.tensor(theirs.fc_loc[2].weight.detach().numpy())
    optimizer = tensorgrad.optim.Adam(ours.parameters(), lr=0.01)
    their_optimizer = torch.optim.Adam(theirs.parameters(), lr=0.01)
    losses, their_losses = [], []
    for _ in range(3):
        for model, opt, lib, out in ((ours, optimizer, tensorgrad, losses),
                                     (theirs, their_optimizer, torch, their_losses)):
            opt.zero_grad()
            loss = (F if lib is tensorgrad else TF).nll_loss(model(lib.tensor(images)),
                                                             lib.tensor(labels))
            loss.backward()
            opt.step()
            out.append(loss.item())
    np.testing.assert_allclose(losses, their_losses, rtol=RTOL[np.dtype(dtype)] * 10)
    assert losses[-1] < losses[0]
    grads = [p.grad for p in ours.fc_loc.parameters()]
    assert all(g is not None and np.abs(g.numpy()).sum() > 0 for g in grads)
