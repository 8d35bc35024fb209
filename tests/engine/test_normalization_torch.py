"""Group and instance norm held against PyTorch's: outputs and the gradients of input, weight
and bias in float32 and float64, instance norm's running statistics in training and their
use in evaluation, the modules' state dicts both ways, size-0 batches, NaN and inf, and the
errors for bad arguments. Skipped without torch (``test_normalization.py`` checks them
without it)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from torch_compare import RTOL, assert_same, run_both

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def group_norm(x, w, b, groups, eps=1e-5):
    return F.group_norm(x, groups, w, b, eps)


def their_group_norm(x, w, b, groups, eps=1e-5):
    if w is None and b is not None:  # PyTorch's backward fails for a bias alone: weight 1
        w = torch.ones(x.shape[1], dtype=x.dtype)
    return TF.group_norm(x, groups, w, b, eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, groups", [((4, 6), 3), ((3, 6, 7), 2), ((2, 6, 4, 5), 3),
                                           ((2, 6, 4, 5), 6), ((2, 4, 3, 2, 3), 1),
                                           ((1, 6, 1, 1), 3)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_group_norm_as_torch(shape, groups, affine, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    w = rng.standard_normal(shape[1]) if affine in ("both", "weight") else None
    b = rng.standard_normal(shape[1]) if affine in ("both", "bias") else None
    run_both(torch, group_norm, their_group_norm, [x, w, b], dtype, groups)
    run_both(torch, group_norm, their_group_norm, [x, w, b], dtype, groups, eps=0.5)


def instance_norm(x, w, b, mean=None, var=None, **settings):
    return F.instance_norm(x, mean, var, w, b, **settings)


def their_instance_norm(x, w, b, mean=None, var=None, **settings):
    return TF.instance_norm(x, mean, var, w, b, **settings)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4, 6), (2, 4, 3, 5), (2, 4, 2, 2, 3), (1, 4, 2)])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_by_the_samples_statistics_as_torch(shape, affine, dtype):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 2 - 1
    w, b = (rng.standard_normal(4), rng.standard_normal(4)) if affine else (None, None)
    run_both(torch, instance_norm, their_instance_norm, [x, w, b], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("running_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum", [0.1, 0.6])
def test_instance_norm_running_statistics_as_torch(momentum, running_dtype, dtype):
    rng = np.random.default_rng(2)
    mean = rng.standard_normal(4).astype(running_dtype)
    var = (rng.random(4) + 0.5).astype(running_dtype)
    mine = [tensorgrad.tensor(mean), tensorgrad.tensor(var)]
    their = [torch.tensor(mean), torch.tensor(var)]
    # with float32 running statistics PyTorch normalizes a float64 input to float32's precision
    rtol = RTOL[np.dtype(np.float32 if np.float32 in (dtype, running_dtype) else np.float64)]
    for step in range(3):
        x, w, b = rng.standard_normal((3, 4, 5)) * (step + 1), rng.standard_normal(4), None
        run_both(torch, lambda x, w, b: instance_norm(x, w, b, *mine, momentum=momentum),
                 lambda x, w, b: their_instance_norm(x, w, b, *their, momentum=momentum),
                 [x, w, b], dtype, rtol=rtol)
        for m, t, name in zip(mine, their, ("running_mean", "running_var")):
            assert_same(m, t, f"{name}, step {step}", rtol)
    x, w, b = rng.standard_normal((2, 4, 3)), rng.standard_normal(4), rng.standard_normal(4)
    run_both(torch, lambda x, w, b: instance_norm(x, w, b, *mine, use_input_stats=False),
             lambda x, w, b: their_instance_norm(x, w, b, *their, use_input_stats=False),
             [x, w, b], dtype, rtol=rtol)
    run_both(torch, lambda x: instance_norm(x, None, None, *mine, use_input_stats=False),
             lambda x: their_instance_norm(x, None, None, *their, use_input_stats=False),
             [rng.standard_normal((2, 4, 1))], dtype, rtol=rtol)  # fine by running statistics


def test_views_and_layouts_as_torch():
    base = np.random.default_rng(3).standard_normal((5, 4, 6, 3))
    x, their_x = tensorgrad.tensor(base), torch.tensor(base)
    fortran = np.asfortranarray(base)
    for view, their_view in ((x.transpose(2, 3), their_x.transpose(2, 3)),
                             (x[::2, :, 1:], their_x[::2, :, 1:]),
                             (x.permute(0, 3, 1, 2)[:, :2], their_x.permute(0, 3, 1, 2)[:, :2]),
                             (tensorgrad.tensor(fortran), torch.from_numpy(fortran))):
        assert_same(F.group_norm(view, 2), TF.group_norm(their_view, 2), "group norm of a view")
        assert_same(F.instance_norm(view), TF.instance_norm(their_view), "instance norm")


@pytest.fixture
def torch_float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def train_both(ours, theirs, shape, steps, seed=4):
    """Both modules through ``steps`` batches in training, then one in evaluation: outputs,
    input and parameter gradients and every state dict entry after each step."""
    rng = np.random.default_rng(seed)
    their_params = dict(theirs.named_parameters())
    for step in range(steps + 1):
        if step == steps:
            ours.eval()
            theirs.eval()
        run_both(torch, ours, theirs, [rng.standard_normal(shape) * (step + 1) + step], np.float64)
        for name, t in theirs.state_dict().items():
            assert_same(ours.state_dict()[name], t, f"{name}, step {step}")
        for name, p in ours.named_parameters():
            assert_same(p.grad, their_params[name].grad, f"gradient of {name}, step {step}")
            p.grad, their_params[name].grad = None, None


def randomize(theirs):
    """Weights other than ones and zeros, so that their gradients tell."""
    with torch.no_grad():
        for p in theirs.parameters():
            p.uniform_(-1.5, 1.5)


@pytest.mark.parametrize("kind, shape", [("InstanceNorm1d", (4, 3, 5)),
                                         ("InstanceNorm1d", (3, 5)),  # unbatched
                                         ("InstanceNorm2d", (2, 3, 4, 3)),
                                         ("InstanceNorm2d", (3, 2, 4))])
@pytest.mark.parametrize("momentum", [0.1, None, 0.5])
@pytest.mark.parametrize("affine, track", [(True, True), (False, True), (True, False),
                                           (False, False)])
def test_instance_norm_modules_train_and_evaluate_as_torch(kind, shape, momentum, affine,
                                                           track, torch_float64):
    theirs = getattr(torch.nn, kind)(3, momentum=momentum, affine=affine,
                                     track_running_stats=track)
    randomize(theirs)
    ours = getattr(nn, kind)(3, momentum=momentum, affine=affine, track_running_stats=track)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    train_both(ours, theirs, shape, 3)


@pytest.mark.parametrize("shape, groups", [((4, 6, 5), 2), ((2, 6, 3, 3), 6), ((3, 6), 1)])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, True)])
def test_group_norm_module_as_torch(shape, groups, affine, bias, torch_float64):
    theirs = torch.nn.GroupNorm(groups, 6, eps=1e-3, affine=affine, bias=bias)
    randomize(theirs)
    ours = nn.GroupNorm(groups, 6, eps=1e-3, affine=affine, bias=bias)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    train_both(ours, theirs, shape, 1)


def test_state_dicts_load_both_ways(torch_float64):
    def model(library):
        return library.nn.Sequential(library.nn.GroupNorm(2, 4),
                                     library.nn.InstanceNorm2d(4, affine=True,
                                                               track_running_stats=True),
                                     library.nn.Flatten(2), library.nn.InstanceNorm1d(4))

    theirs, ours = model(torch), model(tensorgrad)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    randomize(theirs)
    theirs[1](torch.randn(3, 4, 2, 2))  # running statistics moved
    assert not ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}) \
        .missing_keys
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    ours[1](tensorgrad.randn(3, 4, 2, 2))
    with torch.no_grad():
        for p in ours.parameters():
            p.data[...] *= 2
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    for name, t in theirs.state_dict().items():
        assert_same(ours.state_dict()[name], t, name)
    ours.eval()
    theirs.eval()
    run_both(torch, ours, theirs, [np.random.default_rng(6).standard_normal((2, 4, 3, 3))],
             np.float64)


def instance_norm_both(shape, w, b, use_input_stats):
    """``run_both`` of instance norm with running statistics, which must agree after it."""
    mine = [tensorgrad.zeros(4), tensorgrad.ones(4)]
    their = [torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)]
    run_both(torch, lambda x, w, b: instance_norm(x, w, b, *mine, use_input_stats=use_input_stats),
             lambda x, w, b: their_instance_norm(x, w, b, *their,
                                                 use_input_stats=use_input_stats),
             [np.random.default_rng(7).standard_normal(shape), w, b], np.float64)
    for m, t in zip(mine, their):
        assert_same(m, t, f"running statistics after {shape}, {use_input_stats}")


def test_size_zero_batches_as_torch():
    rng = np.random.default_rng(7)
    for shape in ((0, 4, 3), (2, 4, 0), (2, 0, 3)):
        run_both(torch, group_norm, their_group_norm, [rng.standard_normal(shape), None, None],
                 np.float64, 2)
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    run_both(torch, group_norm, their_group_norm, [rng.standard_normal((0, 4, 3)), w, b],
             np.float64, 2)
    for use_input_stats in (True, False):
        # (PyTorch's instance norm of no samples fails with a weight and a bias: none there)
        instance_norm_both((0, 4, 3), None, None, use_input_stats)
        instance_norm_both((2, 4, 0), w, b, use_input_stats)


def test_nan_and_inf_as_torch():
    x = np.random.default_rng(8).standard_normal((2, 4, 3))
    x[0, 0, 0], x[1, 3, 2], x[1, 1, 1] = np.nan, np.inf, -np.inf
    run_both(torch, group_norm, their_group_norm, [x, None, None], np.float64, 2)
    run_both(torch, instance_norm, their_instance_norm, [x, None, None], np.float64)
    run_both(torch, group_norm, their_group_norm, [np.ones((2, 4, 3)), None, None], np.float64, 2,
             eps=0.0)  # a constant group and no eps: 0 / 0


def outcome(call):
    """What ``call`` raised (its type and message) or warned, or None."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except Exception as error:
            message = re.sub(r"torch\.Size\(\[(.*?)\]\)",  # PyTorch's shapes as tuples
                             lambda m: str(tuple(int(n) for n in m[1].split(",") if n)),
                             str(error))
            return type(error).__name__, message
    return [str(w.message) for w in caught] or None


def zeros(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


BAD_CALLS = [
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=4)),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=0)),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=-3)),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=3.0)),
    ("group_norm", [zeros(6)], dict(num_groups=3)),
    ("group_norm", [zeros(1, 6)], dict(num_groups=6)),
    ("group_norm", [zeros(1, 3, 1)], dict(num_groups=3)),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=3, weight=zeros(5))),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=3, weight=zeros(2, 3))),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=3, weight=zeros(6, dtype=np.float64))),
    ("group_norm", [zeros(2, 6, 3, dtype=np.float64)], dict(num_groups=3, weight=zeros(6))),
    ("group_norm", [zeros(2, 6, 3, dtype=np.float64)], dict(num_groups=3, bias=zeros(6))),
    ("group_norm", [zeros(2, 6, 3)], dict(num_groups=3, weight=zeros(6),
                                          bias=zeros(6, dtype=np.float64))),
    ("group_norm", [zeros(2, 6, 3, dtype=np.float64)],
     dict(num_groups=3, weight=zeros(6, dtype=np.float64), bias=zeros(6))),
    ("instance_norm", [zeros(2, 3, 1)], {}),
    ("instance_norm", [zeros(2, 3)], {}),
    ("instance_norm", [zeros(3)], {}),
    ("instance_norm", [zeros(2, 3, 4)], dict(use_input_stats=False)),
    ("instance_norm", [zeros(3)], dict(running_mean=zeros(3), running_var=zeros(3),
                                       use_input_stats=False)),
    ("instance_norm", [zeros(2, 3, 4)], dict(running_mean=zeros(3))),
    ("instance_norm", [zeros(2, 3, 4)], dict(running_var=zeros(4))),
    ("instance_norm", [zeros(2, 3, 4)], dict(running_mean=zeros(4), running_var=zeros(4),
                                             weight=zeros(5))),
    ("instance_norm", [zeros(2, 3, 4)], dict(running_mean=zeros(2, 3), running_var=zeros(3))),
    ("instance_norm", [zeros(2, 3, 4)], dict(weight=zeros(3), bias=zeros(2))),
    ("instance_norm", [zeros(2, 3, 4)], dict(weight=zeros(3, dtype=np.float64))),
    ("instance_norm", [zeros(2, 3, 4, dtype=np.float64)], dict(weight=zeros(3))),
]


@pytest.mark.parametrize("name, arrays, settings", BAD_CALLS,
                         ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_as_torch(name, arrays, settings):
    def as_tensors(library):
        tensor = tensorgrad.tensor if library is tensorgrad else torch.from_numpy
        return [tensor(a) for a in arrays], {k: tensor(v) if isinstance(v, np.ndarray) else v
                                             for k, v in settings.items()}

    args, kwargs = as_tensors(tensorgrad)
    their_args, their_kwargs = as_tensors(torch)
    expected = outcome(lambda: getattr(TF, name)(*their_args, **their_kwargs))
    assert expected is not None
    assert outcome(lambda: getattr(F, name)(*args, **kwargs)) == expected


MODULE_CALLS = [
    ("InstanceNorm1d", dict(num_features=3), zeros(2, 4, 5)),
    ("InstanceNorm1d", dict(num_features=3), zeros(4, 5)),
    ("InstanceNorm1d", dict(num_features=3, affine=True), zeros(4, 5)),
    ("InstanceNorm1d", dict(num_features=3, affine=True), zeros(2, 4, 5)),
    ("InstanceNorm1d", dict(num_features=3, track_running_stats=True), zeros(2, 4, 5)),
    ("InstanceNorm1d", dict(num_features=3), zeros(2, 3, 4, 5)),
    ("InstanceNorm1d", dict(num_features=3), zeros(3, 1)),
    ("InstanceNorm2d", dict(num_features=3), zeros(2, 3)),
    ("InstanceNorm2d", dict(num_features=3), zeros(2, 3, 4, 5, 6)),
    ("InstanceNorm2d", dict(num_features=3, affine=True), zeros(4, 2, 2)),
    ("GroupNorm", dict(num_groups=4, num_channels=6), None),
    ("GroupNorm", dict(num_groups=0, num_channels=6), None),
    ("GroupNorm", dict(num_groups=3, num_channels=6), zeros(6, 4)),
    ("GroupNorm", dict(num_groups=3, num_channels=6), zeros(6)),
]


@pytest.mark.parametrize("kind, settings, array", MODULE_CALLS,
                         ids=[f"{kind}-{i}" for i, (kind, _, _) in enumerate(MODULE_CALLS)])
def test_modules_refuse_and_warn_as_torch(kind, settings, array):
    def call(library, tensor):
        module = getattr(library.nn, kind)(**settings)
        return None if array is None else module(tensor(array))

    expected = outcome(lambda: call(torch, torch.from_numpy))
    assert expected is not None
    assert outcome(lambda: call(tensorgrad, tensorgrad.tensor)) == expected
