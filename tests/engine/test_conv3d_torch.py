"""The 3-d convolutions, pools, norms, dropout and paddings, and the lazy convolutions and
norms, held against PyTorch's: values and the gradients of every input over inputs laid out
in C and Fortran order, transposed and sliced, in float32 and float64; batches of 0; the
errors; the modules' state dict keys, reprs and initial draws; and a small 3-d CNN trained
three SGD steps on both from the same weights. Skipped without torch
(``test_conv3d.py`` checks them without it)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from strategies import LaidOut, Layout
from torch_compare import RTOL, against_torch, assert_same, run_both, trains_then_evaluates_alike

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
# PyTorch's note that 'same' with an even kernel pads a copy of the input: so does this
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

DTYPES = [np.float32, np.float64]
LAYOUTS = ["C", "F", "transposed", "sliced"]


def laid(values: np.ndarray, kind: str) -> LaidOut:
    """``values`` reached as a view of this kind: the leaf's other entries are NaN, so an
    op that reads past its view gives NaN."""
    ndim = values.ndim
    identity = tuple(range(ndim))
    layout = {"C": Layout("C", "C", identity, (1,) * ndim),
              "F": Layout("F", "F", identity, (1,) * ndim),
              "transposed": Layout("transposed", "C", identity[::-1], (1,) * ndim),
              "sliced": Layout("sliced", "C", identity, (1,) * (ndim - 2) + (2, -2))}[kind]
    return LaidOut(values, layout, layout.leaf_for(values, np.nan))


def normal(*shape: int, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


CONV3D = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1, 3), padding=(1, 2, 0)),
    dict(padding=2, dilation=2),
    dict(padding=(0, 1, 1), dilation=(2, 1, 2), stride=(1, 2, 1)),
    dict(padding="same"),
    dict(padding="same", dilation=(1, 2, 1)),
    dict(padding="valid", stride=2),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2, padding="valid"),  # depthwise
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", CONV3D, ids=str)
def test_conv3d_as_torch(settings, dtype, layout):
    groups = settings.get("groups", 1)
    x, w = normal(2, 4, 5, 6, 7, dtype=dtype), normal(6 if groups == 2 else 8, 4 // groups,
                                                      3, 2, 3, seed=1, dtype=dtype)
    b = normal(w.shape[0], seed=2, dtype=dtype)
    against_torch(torch, lambda x, w, b: F.conv3d(x, w, b, **settings),
                  lambda x, w, b: TF.conv3d(x, w, b, **settings), laid(x, layout),
                  laid(w, layout), b)
    against_torch(torch, lambda x, w: tensorgrad.conv3d(x, w, **settings),
                  lambda x, w: torch.conv3d(x, w, **settings), laid(x[1], layout), w)


CONV_TRANSPOSE3D = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(1, 2, 3), padding=(0, 1, 1), output_padding=(0, 1, 2)),
    dict(dilation=(2, 1, 2), padding=1),
    dict(groups=2, stride=(2, 1, 1), output_padding=(1, 0, 0)),
    dict(groups=4, dilation=2, stride=3, output_padding=2),
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("settings", CONV_TRANSPOSE3D, ids=str)
def test_conv_transpose3d_as_torch(settings, dtype, layout):
    groups = settings.get("groups", 1)
    x, w = normal(2, 4, 3, 4, 5, dtype=dtype), normal(4, 8 // groups, 2, 3, 2, seed=1,
                                                      dtype=dtype)
    b = normal(8, seed=2, dtype=dtype)
    against_torch(torch, lambda x, w, b: F.conv_transpose3d(x, w, b, **settings),
                  lambda x, w, b: TF.conv_transpose3d(x, w, b, **settings), laid(x, layout),
                  laid(w, layout), b)
    against_torch(torch, lambda x, w: tensorgrad.conv_transpose3d(x, w, **settings),
                  lambda x, w: torch.conv_transpose3d(x, w, **settings), laid(x[0], layout), w)


POOLS = [
    ("max_pool3d", dict(kernel_size=2)),
    ("max_pool3d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool3d", dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 0, 1),
                        dilation=(2, 1, 1))),
    ("max_pool3d", dict(kernel_size=2, stride=1, return_indices=True)),
    ("max_pool3d_with_indices", dict(kernel_size=(3, 2, 2), padding=1, dilation=(1, 2, 1))),
    ("avg_pool3d", dict(kernel_size=2)),
    ("avg_pool3d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool3d", dict(kernel_size=(3, 2, 3), stride=1, padding=(1, 1, 0),
                        count_include_pad=False)),
    ("avg_pool3d", dict(kernel_size=3, padding=1, divisor_override=4)),
    ("max_pool3d", dict(kernel_size=2, stride=(2, 2, 3), ceil_mode=True, return_indices=True)),
    ("avg_pool3d", dict(kernel_size=(3, 2, 2), stride=2, padding=1, ceil_mode=True)),
    ("avg_pool3d", dict(kernel_size=2, stride=(2, 3, 2), ceil_mode=True,
                        count_include_pad=False)),
    ("adaptive_avg_pool3d", dict(output_size=(3, 1, 2))),
    ("adaptive_avg_pool3d", dict(output_size=(None, 4, None))),
    ("adaptive_avg_pool3d", dict(output_size=1)),
    ("adaptive_max_pool3d", dict(output_size=(3, 4, 5))),
    ("adaptive_max_pool3d", dict(output_size=(2, None, 3), return_indices=True)),
    ("adaptive_max_pool3d_with_indices", dict(output_size=2)),
]


def _first(pool):
    """The pool's values, its indices checked apart (they take no gradient)."""
    def pooled(x, **settings):
        y = pool(x, **settings)
        return y[0] if isinstance(y, tuple) else y
    return pooled


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, settings", POOLS, ids=str)
def test_pools_as_torch(name, settings, dtype, layout):
    x = normal(2, 3, 5, 6, 7, dtype=dtype)
    ours, theirs = getattr(F, name), getattr(TF, name)
    for values in (x, x[1]):  # batched and unbatched
        against_torch(torch, lambda t: _first(ours)(t, **settings),
                      lambda t: _first(theirs)(t, **settings), laid(values, layout))
        y, their_y = ours(tensorgrad.tensor(values), **settings), theirs(torch.tensor(values),
                                                                         **settings)
        assert isinstance(y, tuple) == isinstance(their_y, tuple)
        if isinstance(y, tuple):
            assert_same(y[1], their_y[1], "indices")
    if name == "max_pool3d":
        run_both(torch, tensorgrad.max_pool3d, torch.max_pool3d, [x], dtype,
                 **{k: v for k, v in settings.items() if k != "return_indices"})


@pytest.mark.parametrize("n", [1, 2, 3])
def test_adaptive_max_pools_with_indices_in_each_dimension_as_torch(n):
    name = f"adaptive_max_pool{n}d_with_indices"
    x = normal(2, 3, *(5, 6, 7)[:n])
    run_both(torch, _first(getattr(F, name)), _first(getattr(TF, name)), [x], np.float64,
             output_size=(3, 4, 2)[:n])
    y, where = getattr(F, name)(tensorgrad.tensor(x[0]), 2)
    their_y, their_where = getattr(TF, name)(torch.tensor(x[0]), 2)
    assert_same(y, their_y, name)
    assert_same(where, their_where, name)


def test_max_pools_take_ties_and_nan_as_torch():
    x = np.zeros((1, 1, 3, 4, 4))
    x[0, 0, 2, 3, 3] = np.nan
    for name, settings in (("max_pool3d", dict(kernel_size=2, stride=1, return_indices=True)),
                           ("adaptive_max_pool3d", dict(output_size=(2, 3, 3),
                                                        return_indices=True))):
        y, where = getattr(F, name)(tensorgrad.tensor(x), **settings)
        their_y, their_where = getattr(TF, name)(torch.tensor(x), **settings)
        assert_same(y, their_y, name)
        assert_same(where, their_where, name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_batch_of_zero_as_torch(dtype):
    x = normal(0, 4, 5, 5, 5, dtype=dtype)
    w, wt = normal(6, 2, 2, 2, 2, seed=1, dtype=dtype), normal(4, 3, 2, 2, 2, seed=2, dtype=dtype)
    for ours, theirs, args, settings in (
            (F.conv3d, TF.conv3d, [x, w], dict(groups=2, padding=1)),
            (F.conv_transpose3d, TF.conv_transpose3d, [x, wt], dict(stride=2)),
            (F.max_pool3d, TF.max_pool3d, [x], dict(kernel_size=2)),
            (F.avg_pool3d, TF.avg_pool3d, [x], dict(kernel_size=3, padding=1)),
            (F.adaptive_avg_pool3d, TF.adaptive_avg_pool3d, [x], dict(output_size=3)),
            (F.adaptive_max_pool3d, TF.adaptive_max_pool3d, [x], dict(output_size=3))):
        run_both(torch, ours, theirs, args, dtype, **settings)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_pad_in_three_dimensions_as_torch(mode, layout):
    x = normal(2, 3, 4, 5, 6)
    for widths in ((1, 2, 0, 1, 2, 1), (3, 0, 2, 2, 0, 3), (-1, 2, 1, -2, 0, 1)):
        if mode == "reflect" and max(widths) > 3:
            continue
        for values in (x, x[0]):
            against_torch(torch, lambda t, widths=widths: F.pad(t, widths, mode=mode),
                          lambda t, widths=widths: TF.pad(t, widths, mode=mode),
                          laid(values, layout))


@pytest.mark.parametrize("name, args", [
    ("ConstantPad3d", (2, 1.5)), ("ConstantPad3d", ((1, 0, 2, 0, 0, 3), -1.0)),
    ("ZeroPad3d", (1,)), ("ZeroPad3d", ((0, 1, 2, 3, 1, 0),)), ("ReflectionPad3d", (2,)),
    ("ReflectionPad3d", ((1, 0, 2, 3, 0, 1),)), ("ReplicationPad3d", (3,)),
    ("ReplicationPad3d", ((0, 2, 1, 1, 3, 0),)), ("CircularPad3d", (2,)),
    ("CircularPad3d", ((1, 2, 0, 3, 2, 1),))])
def test_padding_layers_as_torch(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = normal(2, 3, 4, 5, 6)
    run_both(torch, ours, theirs, [x], np.float64)
    run_both(torch, ours, theirs, [x[0]], np.float64)  # unbatched


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("settings", [dict(padding=1), dict(padding=(1, 2, 0), stride=2),
                                      dict(padding="same", dilation=(2, 1, 1)),
                                      dict(padding="valid", groups=2)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv3d_module_with_each_padding_mode_as_torch(mode, settings, dtype):
    ours = nn.Conv3d(2, 4, (3, 2, 3), padding_mode=mode, dtype=dtype, **settings)
    theirs = torch.nn.Conv3d(2, 4, (3, 2, 3), padding_mode=mode,
                             dtype=torch.float64 if dtype is np.float64 else torch.float32,
                             **settings)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = normal(2, 2, 5, 6, 7, dtype=dtype)
    run_both(torch, ours, theirs, [x], dtype)
    run_both(torch, ours, theirs, [x[0]], dtype)  # unbatched
    for ours_p, their_p in zip(ours.parameters(), theirs.parameters()):  # (summed over both)
        assert_same(ours_p.grad, their_p.grad, "a parameter's gradient", RTOL[np.dtype(dtype)])


def test_conv_transpose3d_module_with_an_output_size_as_torch(torch_float64_default):
    ours = nn.ConvTranspose3d(4, 2, (3, 2, 3), stride=(2, 3, 2), padding=1, groups=2)
    theirs = torch.nn.ConvTranspose3d(4, 2, (3, 2, 3), stride=(2, 3, 2), padding=1, groups=2)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = normal(2, 4, 3, 3, 3)
    for size in (None, (6, 6, 6), (2, 4, 6, 7, 6)):
        run_both(torch, lambda t, size=size: ours(t, output_size=size),
                 lambda t, size=size: theirs(t, output_size=size), [x], np.float64)


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False)])
def test_batch_norm3d_trains_and_evaluates_as_torch(momentum, affine, track,
                                                    torch_float64_default):
    theirs = torch.nn.BatchNorm3d(3, momentum=momentum, affine=affine,
                                  track_running_stats=track)
    ours = nn.BatchNorm3d(3, momentum=momentum, affine=affine, track_running_stats=track)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    trains_then_evaluates_alike(torch, ours, theirs, (3, 3, 2, 3, 2))


@pytest.mark.parametrize("affine, track", [(False, False), (True, False), (True, True)])
def test_instance_norm3d_as_torch(affine, track, torch_float64_default):
    theirs = torch.nn.InstanceNorm3d(3, affine=affine, track_running_stats=track)
    ours = nn.InstanceNorm3d(3, affine=affine, track_running_stats=track)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and repr(ours) == repr(theirs)
    x = normal(2, 3, 3, 4, 2)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        run_both(torch, ours, theirs, [x], np.float64)
        run_both(torch, ours, theirs, [x[1] * 2 + 1], np.float64)  # unbatched
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)


def test_dropout3d_draws_a_channel_whole_and_warns_as_torch():
    for ours, theirs in ((F.dropout3d, TF.dropout3d),
                         (nn.Dropout3d(0.5), torch.nn.Dropout3d(0.5))):
        for shape in ((4, 6, 2, 3, 2), (6, 2, 3, 2)):
            kept = ours(tensorgrad.ones(*shape)).numpy().reshape(shape[0], -1)
            their_kept = theirs(torch.ones(*shape)).numpy().reshape(shape[0], -1)
            for mask in (kept, their_kept):  # per channel: all 0 or all 2 in both
                per_channel = mask.reshape(*shape[:len(shape) - 3], -1)
                assert (per_channel.min(-1) == per_channel.max(-1)).all()
                assert set(np.unique(mask)) <= {0.0, 2.0}
    for shape in ((2, 3, 4), (2, 3, 4, 5, 6, 2)):
        for lib, dropout in ((tensorgrad, F.dropout3d), (torch, TF.dropout3d)):
            with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout3d"):
                assert tuple(dropout(lib.ones(*shape), 0.5).shape) == shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib, dropout in ((tensorgrad, F.dropout3d), (torch, TF.dropout3d)):
            with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 "
                                                   "dimensions in the input"):
                dropout(lib.tensor(1.0), 0.5)
            assert dropout(lib.tensor(1.0), 0.5, training=False).item() == 1.0
            with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
                dropout(lib.ones(2, 3, 4, 4, 4), 1.5)


MODULES = [
    ("Conv3d", (4, 6, 3)), ("Conv3d", (4, 6, (1, 3, 2), 2, 1, 1, 2, False)),
    ("ConvTranspose3d", (4, 6, 3)), ("ConvTranspose3d", (6, 4, (2, 1, 3), 2, 0, 1, 2)),
    ("MaxPool3d", (2,)), ("MaxPool3d", ((2, 1, 2), None, 1, 1, True)), ("AvgPool3d", (2,)),
    ("AvgPool3d", ((2, 1, 2), 1, 1, False, False, 3)), ("AdaptiveAvgPool3d", ((1, None, 2),)),
    ("AdaptiveMaxPool3d", (2, True)), ("BatchNorm3d", (5,)), ("BatchNorm3d", (5, 1e-3, None)),
    ("InstanceNorm3d", (5,)), ("InstanceNorm3d", (5, 1e-5, 0.1, True, True)),
    ("Dropout3d", (0.3,)), ("ConstantPad3d", (1, 0.5)), ("ZeroPad3d", ((1, 2, 3, 4, 5, 6),)),
    ("ReflectionPad3d", (1,)), ("ReplicationPad3d", (2,)), ("CircularPad3d", (1,)),
    ("LazyConv1d", (4, 3)), ("LazyConv2d", (4, 3, 2, 1)), ("LazyConv3d", (4, 2)),
    ("LazyConvTranspose1d", (4, 3)), ("LazyConvTranspose2d", (4, 3, 2)),
    ("LazyConvTranspose3d", (4, 2, 1, 0, 0, 2, False)), ("LazyBatchNorm1d", ()),
    ("LazyBatchNorm2d", (1e-3, None, False)), ("LazyBatchNorm3d", ()),
    ("LazyInstanceNorm1d", ()), ("LazyInstanceNorm2d", (1e-5, 0.1, False, False)),
    ("LazyInstanceNorm3d", ()),
]


@pytest.mark.parametrize("name, args", MODULES, ids=str)
def test_modules_have_torchs_state_dict_keys_and_reprs(name, args, torch_float64_default):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]


LAZY = [("LazyConv1d", (4, 3), (2, 6, 9)), ("LazyConv2d", (4, 3, 1, 1, 1, 2), (6, 7, 8)),
        ("LazyConv3d", (4, 2), (2, 6, 4, 5, 6)), ("LazyConvTranspose1d", (4, 3), (2, 6, 9)),
        ("LazyConvTranspose2d", (4, 3, 2), (2, 6, 3, 4)),
        ("LazyConvTranspose3d", (4, 2, 1, 0, 0, 2), (6, 3, 4, 3)),
        ("LazyBatchNorm1d", (), (5, 6)), ("LazyBatchNorm2d", (), (2, 6, 3, 3)),
        ("LazyBatchNorm3d", (), (2, 6, 3, 3, 2)), ("LazyInstanceNorm1d", (), (2, 6, 5)),
        ("LazyInstanceNorm2d", (), (2, 6, 3, 3)), ("LazyInstanceNorm3d", (), (2, 6, 3, 3, 2))]


@pytest.mark.parametrize("name, args, shape", LAZY, ids=str)
def test_lazy_modules_become_torchs_layers_and_compute_as_them(name, args, shape,
                                                               torch_float64_default):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    params = list(ours.parameters())
    x = normal(*shape)
    ours(tensorgrad.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ and repr(ours) == repr(theirs)
    assert all(a is b for a, b in zip(params, ours.parameters()))  # (an optimizer's stay)
    assert [(k, tuple(v.shape), str(v.dtype).split(".")[-1])
            for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in theirs.state_dict().items()]
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    run_both(torch, ours, theirs, [x], np.float64)


def test_lazy_modules_refuse_what_torchs_refuse():
    for args, shape, error in (((4, 3), (6, 7), RuntimeError),
                               ((4, 3, 1, 0, 1, 4), (2, 6, 7, 7), ValueError)):
        messages = []
        for lib, module in ((tensorgrad, nn.LazyConv2d), (torch, torch.nn.LazyConv2d)):
            with pytest.raises(error) as caught:
                module(*args)(lib.zeros(shape))
            messages.append(str(caught.value).replace("tensorgrad.Size", "torch.Size"))
        assert messages[0] == messages[1]


@pytest.mark.parametrize("name, args", [
    ("Conv3d", (6, 42, (3, 2, 2))), ("Conv3d", (6, 42, 2, 1, 0, 1, 3)),
    ("ConvTranspose3d", (6, 42, (2, 3, 1))), ("ConvTranspose3d", (6, 42, 2, 1, 0, 0, 2)),
    ("LazyConv3d", (42, 2)), ("LazyConvTranspose3d", (42, (1, 2, 3)))], ids=str)
def test_default_init_draws_within_torchs_bounds_by_shape(name, args, torch_float64_default):
    """kaiming_uniform_ with a = sqrt(5) (bound 1/sqrt(fan_in)), and the bias +-1/sqrt(fan_in),
    fan_in the weight's dimension 1 times the kernel: the same bound, and spread
    (uniform: std = bound / sqrt(3)), as PyTorch's draws over many entries."""
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    if name.startswith("Lazy"):
        x = normal(1, 6, 3, 3, 3)
        ours(tensorgrad.tensor(x))
        theirs(torch.tensor(x))
    for param in ("weight", "bias"):
        mine = getattr(ours, param).detach().numpy()
        their = getattr(theirs, param).detach().numpy()
        assert mine.shape == their.shape
        fan_in = their.shape[1] * np.prod(their.shape[2:]) if param == "weight" else \
            theirs.weight.shape[1] * np.prod(theirs.weight.shape[2:])
        bound = 1 / np.sqrt(fan_in)
        for draws in (mine, their):
            assert np.abs(draws).max() <= bound
            assert abs(draws.std() - bound / np.sqrt(3)) < 0.25 * bound
        assert abs(np.abs(mine).max() - np.abs(their).max()) < 0.2 * bound


def test_errors_as_torch(torch_float64_default):
    # (in float64: PyTorch's float32 convolutions word some errors otherwise, by batch size)
    cases = [
        (F.conv3d, TF.conv3d, [(3, 4, 4), (2, 3, 2, 2, 2)], {}),
        (F.conv3d, TF.conv3d, [(2, 4, 4, 4, 4), (2, 3, 2, 2, 2)], {}),
        (F.conv3d, TF.conv3d, [(2, 3, 4, 4, 4), (2, 3, 5, 2, 2)], {}),
        (F.conv3d, TF.conv3d, [(2, 3, 4, 4, 4), (2, 3, 2, 2, 2)], dict(padding="same", stride=2)),
        (F.conv3d, TF.conv3d, [(2, 3, 4, 4, 4), (2, 3, 2, 2, 2)], dict(padding=-1)),
        (F.conv3d, TF.conv3d, [(2, 3, 4, 4, 4), (2, 3, 2, 2, 2)], dict(dilation=0)),
        (F.conv3d, TF.conv3d, [(2, 3, 4, 4, 4), (3, 1, 2, 2, 2)], dict(groups=2)),
        (F.conv_transpose3d, TF.conv_transpose3d, [(2, 4, 4, 4, 4), (3, 2, 2, 2, 2)], {}),
        (F.conv_transpose3d, TF.conv_transpose3d, [(2, 3, 4, 4, 4), (3, 2, 2, 2, 2)],
         dict(output_padding=2, stride=2)),
        (F.conv_transpose3d, TF.conv_transpose3d, [(2, 3, 4, 4, 4), (3, 2, 2, 2, 2)],
         dict(dilation=0)),
        (F.conv_transpose3d, TF.conv_transpose3d, [(2, 3, 4, 4, 4), (3, 2, 2, 2, 2)],
         dict(padding=3)),
        (F.conv_transpose3d, TF.conv_transpose3d, [(2, 3, 0, 4, 4), (3, 2, 2, 2, 2)], {}),
    ]
    for op in ("max_pool3d", "avg_pool3d"):
        ours, theirs = getattr(F, op), getattr(TF, op)
        cases += [(ours, theirs, [(2, 3, 4, 4, 4)], dict(kernel_size=k, **s)) for k, s in (
            ((2, 2), {}), (0, {}), (-1, dict(stride=1)), (2, dict(stride=-1)),
            (2, dict(stride=(1, 1))), (2, dict(padding=(1, 1))), (2, dict(padding=2)),
            (2, dict(padding=-1)))]
        cases += [(ours, theirs, [shape], dict(kernel_size=2)) for shape in (
            (2, 3, 4, 4), (2, 0, 4, 4, 4), (2, 3, 4, 0, 4), (0, 4, 4, 4), (2, 3, 1, 4, 4))]
    cases += [(F.max_pool3d, TF.max_pool3d, [(2, 3, 4, 4, 4)], dict(kernel_size=2, dilation=d))
              for d in (0, (1, 1))]
    cases += [(F.avg_pool3d, TF.avg_pool3d, [(2, 3, 4, 4, 4)],
               dict(kernel_size=2, divisor_override=0))]
    for op in ("adaptive_avg_pool3d", "adaptive_max_pool3d"):
        cases += [(getattr(F, op), getattr(TF, op), [shape], dict(output_size=size))
                  for shape, size in (((2, 3, 4, 4), 2), ((2, 3, 4, 4, 4), (2, 2)),
                                      ((2, 3, 4, 4, 4), (2, 2, -1)), ((2, 3, 4, 4, 4), None),
                                      ((2, 0, 4, 4, 4), 2), ((2, 3, 0, 4, 4), 2),
                                      ((4, 4, 4), (1, 2, 3)))]
    for ours, theirs, shapes, settings in cases:
        results = []
        for lib, op in ((tensorgrad, ours), (torch, theirs)):
            try:
                op(*(lib.zeros(shape) for shape in shapes), **settings)
                results.append("no error")
            except Exception as error:  # noqa: BLE001  (any error: its type and message)
                results.append(f"{type(error).__name__}: {error}")
        assert results[0] == results[1], (theirs.__name__, shapes, settings)


class Net3d:
    """A small 3-d CNN on either library."""

    @staticmethod
    def make(lib):
        n = lib.nn
        return n.Sequential(n.Conv3d(2, 4, 3, padding=1), n.BatchNorm3d(4), n.ReLU(),
                            n.MaxPool3d(2), n.Conv3d(4, 6, (1, 2, 2), groups=2),
                            n.AdaptiveAvgPool3d(1), n.Flatten(), n.Linear(6, 3))


def test_a_small_3d_cnn_trains_as_torchs(torch_float64_default):
    ours, theirs = Net3d.make(tensorgrad), Net3d.make(torch)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    ours_opt = tensorgrad.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    their_opt = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(7)
    for step in range(3):
        x, target = rng.standard_normal((4, 2, 6, 6, 6)), rng.integers(0, 3, 4)
        losses = []
        for lib, net, opt in ((tensorgrad, ours, ours_opt), (torch, theirs, their_opt)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(target))
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-10), f"step {step}"
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)


def test_top_level_names_are_torchs():
    for name in ("conv3d", "conv_transpose3d", "max_pool3d"):
        assert hasattr(torch, name) and callable(getattr(tensorgrad, name))
    assert not hasattr(torch, "avg_pool3d")  # (so not here either)
    assert list(itertools.filterfalse(lambda n: hasattr(F, n), (
        "conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices", "avg_pool3d",
        "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
        "dropout3d"))) == []
