"""Convolutions, pooling and batch norm held against PyTorch's: outputs and the gradients of
input, weight and bias, in float32 and float64, and the modules' state dicts both ways.
Skipped without torch (``test_conv.py`` checks them without it)."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import RTOL, assert_same, run_both, trains_then_evaluates_alike

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
# PyTorch's note that 'same' with an even kernel pads a copy of the input: so does this
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


CONV2D = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 3), padding=(1, 2)),
    dict(padding=2, dilation=2),
    dict(stride=(1, 2), padding=(0, 1), dilation=(2, 1)),
    dict(padding="same"),
    dict(padding="same", dilation=(1, 2)),
    dict(padding="valid", stride=3),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2, padding="valid"),  # depthwise
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", [(3, 3), (2, 4), (1, 1)])
@pytest.mark.parametrize("settings", CONV2D, ids=str)
def test_conv2d_as_torch(settings, kernel, dtype):
    rng = np.random.default_rng(0)
    groups = settings.get("groups", 1)
    x, w, b = (rng.standard_normal((2, 4, 7, 9)), rng.standard_normal((8, 4 // groups, *kernel)),
               rng.standard_normal(8))
    run_both(torch, F.conv2d, TF.conv2d, [x, w, b], dtype, **settings)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("settings", [dict(), dict(stride=2, padding=3, dilation=2),
                                      dict(padding="same", groups=3), dict(groups=3, stride=3)],
                         ids=str)
@pytest.mark.parametrize("kernel", [1, 4, 5])
def test_conv1d_as_torch_with_and_without_bias(settings, kernel, dtype):
    rng = np.random.default_rng(1)
    groups = settings.get("groups", 1)
    x, w = rng.standard_normal((3, 6, 13)), rng.standard_normal((9, 6 // groups, kernel))
    run_both(torch, F.conv1d, TF.conv1d, [x, w, None], dtype, **settings)
    run_both(torch, F.conv1d, TF.conv1d, [x, w, rng.standard_normal(9)], dtype, **settings)


def test_unbatched_non_contiguous_and_size_one_inputs_as_torch():
    rng = np.random.default_rng(2)
    w, b = rng.standard_normal((5, 3, 2, 3)), rng.standard_normal(5)
    run_both(torch, F.conv2d, TF.conv2d, [rng.standard_normal((3, 6, 5)), w, b], np.float64,
             padding=1)
    run_both(torch, F.conv1d, TF.conv1d, [rng.standard_normal((3, 6)), w[:, :, 0], b], np.float64)
    run_both(torch, F.conv2d, TF.conv2d, [rng.standard_normal((1, 3, 2, 3)), w, b], np.float64)
    base = rng.standard_normal((4, 3, 9, 2))
    x, their_x = tensorgrad.tensor(base), torch.tensor(base)
    for view, their_view in ((x.transpose(2, 3), their_x.transpose(2, 3)),
                             (x[:, :, ::2], their_x[:, :, ::2]),
                             (x.transpose(0, 1)[:3, :, 1:].transpose(0, 1),
                              their_x.transpose(0, 1)[:3, :, 1:].transpose(0, 1))):
        assert_same(F.conv2d(view, tensorgrad.tensor(w), tensorgrad.tensor(b), padding=(1, 2)),
                    TF.conv2d(their_view, torch.tensor(w), torch.tensor(b), padding=(1, 2)),
                    "non-contiguous input")


POOLS = [
    ("max_pool2d", dict(kernel_size=2)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0), dilation=(2, 1))),
    ("avg_pool2d", dict(kernel_size=2)),
    ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", dict(kernel_size=(3, 2), stride=1, padding=(1, 1), count_include_pad=False)),
    ("avg_pool2d", dict(kernel_size=3, padding=1, divisor_override=4)),
    ("max_pool1d", dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ("avg_pool1d", dict(kernel_size=4, stride=3, padding=2, count_include_pad=False)),
    ("max_pool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", dict(kernel_size=2, stride=(3, 2), ceil_mode=True, count_include_pad=False)),
    ("max_pool1d", dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),
    ("avg_pool1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("adaptive_avg_pool2d", dict(output_size=(3, 1))),
    ("adaptive_avg_pool2d", dict(output_size=(None, 2))),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, settings", POOLS, ids=str)
def test_pooling_as_torch(name, settings, dtype):
    rng = np.random.default_rng(3)
    shape = (2, 3, 6, 8) if name.endswith("2d") else (2, 3, 11)
    run_both(torch, getattr(F, name), getattr(TF, name), [rng.standard_normal(shape)], dtype,
             **settings)
    run_both(torch, getattr(F, name), getattr(TF, name), [rng.standard_normal(shape[1:])], dtype,
             **settings)  # unbatched


def test_max_pool_gives_ties_and_nan_as_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 3, 3] = np.nan
    run_both(torch, F.max_pool2d, TF.max_pool2d, [x], np.float64, kernel_size=2, stride=1)


@pytest.fixture
def torch_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("kind, shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (4, 3, 2, 3))])
def test_batch_norm_trains_and_evaluates_as_torch(kind, shape, momentum, torch_float64):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, momentum=momentum)
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 1.5)
        theirs.bias.uniform_(-1, 1)
    ours = getattr(nn, kind)(3, momentum=momentum)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    trains_then_evaluates_alike(torch, ours, theirs, shape)
    their_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        their_params[name].grad = None
        assert_same(p, their_params[name], name)


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_batch_norm_without_affine_or_running_stats_as_torch(affine, track, torch_float64):
    theirs = torch.nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    ours = nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(6).standard_normal((3, 2, 2, 2))
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        run_both(torch, ours, theirs, [x], np.float64)


def test_state_dicts_load_both_ways(torch_float64):
    torch.manual_seed(1)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1, groups=2),
                                 torch.nn.BatchNorm2d(4), torch.nn.Conv1d(4, 4, 1, bias=False))
    tensorgrad.manual_seed(1)
    ours = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, groups=2), nn.BatchNorm2d(4),
                         nn.Conv1d(4, 4, 1, bias=False))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours[1](tensorgrad.randn(3, 4, 2, 2))  # running statistics and a batch counted
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    assert theirs[1].num_batches_tracked.item() == 1
    theirs[1](torch.randn(3, 4, 2, 2))
    assert not ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}) \
        .missing_keys
    assert ours[1].num_batches_tracked.item() == 2
    assert_same(ours[1].running_var, theirs[1].running_var, "running_var")


def test_default_init_draws_as_torchs_bounds():
    # the same bounds (kaiming_uniform_ with a = sqrt(5), bias +-1/sqrt(fan_in)), from
    # tensorgrad's generator: compare the bounds each reaches over many draws
    ours, theirs = nn.Conv2d(6, 42, (3, 2), groups=3), torch.nn.Conv2d(6, 42, (3, 2), groups=3)
    for name in ("weight", "bias"):
        mine, their = getattr(ours, name).data, getattr(theirs, name).detach().numpy()
        assert mine.shape == their.shape
        assert abs(np.abs(mine).max() - np.abs(their).max()) < 0.05


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("settings", [dict(padding=1), dict(padding=(1, 2), stride=2),
                                      dict(padding="same", dilation=2), dict(padding="valid")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_padding_modes_as_torch(mode, settings, dtype):
    ours = nn.Conv2d(2, 3, (3, 4), padding_mode=mode, dtype=dtype, **settings)
    theirs = torch.nn.Conv2d(2, 3, (3, 4), padding_mode=mode, dtype=torch.float64 if dtype is
                             np.float64 else torch.float32, **settings)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(4).standard_normal((2, 2, 7, 8)).astype(dtype)
    run_both(torch, ours, theirs, [x], dtype)
    run_both(torch, ours, theirs, [x[0]], dtype)  # unbatched
    for ours_p, their_p in zip(ours.parameters(), theirs.parameters()):  # (summed over both)
        assert_same(ours_p.grad, their_p.grad, "a parameter's gradient", RTOL[np.dtype(dtype)])
    c1, t1 = nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode), \
        torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode).double()
    t1.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in c1.state_dict().items()})
    run_both(torch, c1, t1, [np.random.default_rng(5).standard_normal((2, 2, 9))], np.float64)
