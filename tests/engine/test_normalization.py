"""Group and instance norm without torch: the forwards against NumPy written out, every
gradient by ``gradcheck`` against the scalar engine, instance norm's running statistics
against their formula, and PyTorch's names, shapes, edge cases and refusals
(``test_normalization_torch.py`` holds them against PyTorch itself)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad
import tensorgrad.nn as nn
from tensorgrad.nn import functional as F

rng = np.random.default_rng(0)


def leaf(*shape: int) -> tensorgrad.Tensor:
    return tensorgrad.tensor(rng.standard_normal(shape), requires_grad=True)


def naive_group_norm(x, groups, weight=None, bias=None, eps=1e-5):
    """The definition, one group of one sample at a time."""
    x, weight, bias = (None if a is None else np.asarray(a) for a in (x, weight, bias))
    out = np.empty_like(x)
    size = x.shape[1] // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            part = x[n, g * size:(g + 1) * size]
            mean = part.sum() / part.size
            var = ((part - mean) ** 2).sum() / part.size  # biased
            out[n, g * size:(g + 1) * size] = (part - mean) / np.sqrt(var + eps)
    shape = (-1,) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


@pytest.mark.parametrize("shape, groups", [((3, 6), 2), ((2, 6, 5), 3), ((2, 4, 3, 5), 4),
                                           ((2, 4, 3, 2, 2), 1), ((1, 6, 2), 6)])
def test_group_norm_is_its_definition_and_its_gradients_check(shape, groups):
    x, w, b = leaf(*shape), leaf(shape[1]), leaf(shape[1])
    np.testing.assert_allclose(F.group_norm(x, groups, w, b, eps=1e-3).data,
                               naive_group_norm(x.data, groups, w.data, b.data, 1e-3),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.group_norm(x, groups).data, naive_group_norm(x.data, groups),
                               rtol=1e-12, atol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), x, w, b,
                                reference="scalar")
    assert tensorgrad.gradcheck(lambda x, w: F.group_norm(x, groups, w), x, w,
                                reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.group_norm(x, groups), x, reference="scalar")


def test_group_norm_of_views_gives_what_their_copies_give_and_checks():
    x, w = leaf(5, 3, 4, 6), leaf(4)
    view = x.permute(0, 2, 1, 3)[::2, :, :, 1:]  # (3, 4, 3, 5), strided every way
    copy = tensorgrad.tensor(view.detach().numpy().copy())
    np.testing.assert_allclose(F.group_norm(view, 2, w).data, F.group_norm(copy, 2, w).data,
                               rtol=1e-12, atol=1e-12)
    fortran = tensorgrad.tensor(np.asfortranarray(x.data))
    np.testing.assert_allclose(F.group_norm(fortran, 3).data, F.group_norm(x, 3).data,
                               rtol=1e-12, atol=1e-12)
    assert tensorgrad.gradcheck(
        lambda x, w: F.group_norm(x.permute(0, 2, 1, 3)[::2, :, :, 1:], 2, w), x, w,
        reference="scalar")


def test_float32_stays_float32():
    x = tensorgrad.randn(2, 4, 3).float()
    w = tensorgrad.ones(4).float()
    assert F.group_norm(x, 2, w, w).dtype == np.float32
    assert F.instance_norm(x, weight=w, bias=w).dtype == np.float32
    running = tensorgrad.zeros(4), tensorgrad.ones(4)  # running statistics of another dtype
    assert F.instance_norm(x, *running, use_input_stats=False).dtype == np.float32
    nn_layer = nn.GroupNorm(2, 4, dtype=np.float32)
    assert nn_layer.weight.dtype == np.float32 and nn_layer(x).dtype == np.float32


def test_instance_norm_is_group_norm_of_one_channel_a_group_and_checks():
    x, w, b = leaf(3, 4, 5), leaf(4), leaf(4)
    np.testing.assert_allclose(F.instance_norm(x, weight=w, bias=b, eps=1e-3).data,
                               naive_group_norm(x.data, 4, w.data, b.data, 1e-3),
                               rtol=1e-12, atol=1e-12)
    image = leaf(2, 3, 4, 3)
    np.testing.assert_allclose(F.instance_norm(image).data, naive_group_norm(image.data, 3),
                               rtol=1e-12, atol=1e-12)
    assert tensorgrad.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, b,
                                reference="scalar")
    assert tensorgrad.gradcheck(lambda x: F.instance_norm(x.transpose(2, 3)), image,
                                reference="scalar")


def test_instance_norm_by_running_statistics_is_their_formula_and_checks():
    x, w, b = leaf(3, 4, 5), leaf(4), leaf(4)
    mean, var = rng.standard_normal(4), rng.random(4) + 0.5
    y = F.instance_norm(x, tensorgrad.tensor(mean), tensorgrad.tensor(var), w, b,
                        use_input_stats=False, eps=1e-3)
    shape = (4, 1)
    np.testing.assert_allclose(
        y.data, (x.data - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + 1e-3)
        * w.data.reshape(shape) + b.data.reshape(shape), rtol=1e-12)
    assert tensorgrad.gradcheck(
        lambda x, w, b: F.instance_norm(x, tensorgrad.tensor(mean), tensorgrad.tensor(var), w,
                                        b, use_input_stats=False), x, w, b, reference="scalar")


@pytest.mark.parametrize("momentum", [0.1, 0.7, None])
def test_instance_norm_running_statistics_follow_their_formula(momentum):
    norm = nn.InstanceNorm1d(3, momentum=momentum, track_running_stats=True, affine=True)
    mean, var = np.zeros(3), np.ones(3)
    factor = 0.0 if momentum is None else momentum  # None: PyTorch's 0, not an average
    for step in range(1, 4):
        x = rng.standard_normal((4, 3, 6)) * step + step
        y = norm(tensorgrad.tensor(x))
        mean = (1 - factor) * mean + factor * x.mean(axis=2).mean(axis=0)
        var = (1 - factor) * var + factor * x.var(axis=2, ddof=1).mean(axis=0)  # unbiased
        np.testing.assert_allclose(y.data, naive_group_norm(x, 3), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(norm.running_mean.data, mean, rtol=1e-12)
        np.testing.assert_allclose(norm.running_var.data, var, rtol=1e-12)
        assert norm.num_batches_tracked.item() == 0  # instance norm counts no batches
    norm.eval()
    x = rng.standard_normal((2, 3, 6))
    np.testing.assert_allclose(norm(tensorgrad.tensor(x)).data,
                               (x - mean[:, None]) / np.sqrt(var[:, None] + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(norm.running_mean.data, mean, rtol=1e-12)  # not moved in eval
    untracked = nn.InstanceNorm1d(3).eval()  # no statistics: the sample's, in eval too
    np.testing.assert_allclose(untracked(tensorgrad.tensor(x)).data, naive_group_norm(x, 3),
                               rtol=1e-12, atol=1e-12)


def test_the_running_statistics_record_no_gradient_and_reset():
    norm = nn.InstanceNorm2d(2, track_running_stats=True)
    x = leaf(3, 2, 2, 2)
    norm(x).sum().backward()
    assert not norm.running_mean.requires_grad and norm.running_mean.grad_fn is None
    assert x.grad.shape == x.shape
    assert norm.running_var.data[0] != 1
    norm.reset_parameters()
    np.testing.assert_array_equal(norm.running_var.data, [1, 1])


def test_unbatched_inputs_are_batches_of_one():
    norm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    with tensorgrad.no_grad():
        norm.weight.data[...] = rng.standard_normal(3)
    x = leaf(3, 4, 2)
    y = norm(x)
    assert y.shape == (3, 4, 2)
    np.testing.assert_allclose(y.data, norm(x.unsqueeze(0)).data[0], rtol=1e-12)
    assert tensorgrad.gradcheck(lambda x: nn.InstanceNorm1d(5)(x), leaf(5, 4),
                                reference="scalar")


def test_size_zero_inputs_as_pytorch():
    x, w = leaf(0, 4, 3), leaf(4)
    y = F.group_norm(x, 2, w, w)
    assert y.shape == (0, 4, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 4, 3)
    np.testing.assert_array_equal(w.grad, np.zeros(4))
    assert F.group_norm(tensorgrad.zeros(2, 4, 0), 2).shape == (2, 4, 0)
    assert F.group_norm(tensorgrad.zeros(2, 0, 3), 2).shape == (2, 0, 3)
    mean, var = tensorgrad.zeros(4), tensorgrad.ones(4)
    F.instance_norm(tensorgrad.zeros(2, 4, 0), mean, var)  # no entries: left as they were
    np.testing.assert_array_equal(var.data, np.ones(4))
    F.instance_norm(tensorgrad.zeros(0, 4, 3), mean, var, use_input_stats=False)
    np.testing.assert_array_equal(var.data, np.ones(4))
    F.instance_norm(tensorgrad.zeros(0, 4, 3), mean, var)  # no samples: NaN, as PyTorch's
    assert np.isnan(mean.data).all() and np.isnan(var.data).all()


def test_nan_and_inf_spoil_their_own_group_only():
    x = rng.standard_normal((2, 4, 3))
    x[0, 0, 0], x[1, 3, 2] = np.nan, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and quietly
        y = F.group_norm(tensorgrad.tensor(x), 2).numpy()
        z = F.instance_norm(tensorgrad.tensor(x)).numpy()
    assert np.isnan(y[0, :2]).all() and np.isnan(y[1, 2:]).all()
    assert np.isfinite(y[0, 2:]).all() and np.isfinite(y[1, :2]).all()
    assert np.isnan(z[0, 0]).all() and np.isnan(z[1, 3]).all()
    assert np.isfinite(z).sum() == z.size - 6


def test_modules_have_pytorchs_parameters_buffers_and_reprs():
    gn = nn.GroupNorm(2, 6)
    assert [(k, v.dtype, tuple(v.shape)) for k, v in gn.state_dict().items()] == \
        [("weight", np.float64, (6,)), ("bias", np.float64, (6,))]
    np.testing.assert_array_equal(gn.weight.data, np.ones(6))
    np.testing.assert_array_equal(gn.bias.data, np.zeros(6))
    assert repr(gn) == "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)"
    assert list(nn.GroupNorm(2, 6, affine=False).state_dict()) == []
    assert list(nn.GroupNorm(2, 6, bias=False).state_dict()) == ["weight"]
    assert gn(tensorgrad.randn(3, 6, 2, 2, 2)).shape == (3, 6, 2, 2, 2)
    inorm = nn.InstanceNorm2d(3)
    assert list(inorm.state_dict()) == [] and inorm.running_mean is None
    assert repr(inorm) == ("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, "
                           "bias=False, track_running_stats=False)")
    tracked = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
    assert [(k, v.dtype) for k, v in tracked.state_dict().items()] == \
        [("weight", np.float64), ("bias", np.float64), ("running_mean", np.float64),
         ("running_var", np.float64), ("num_batches_tracked", np.int64)]
    tracked.float()
    assert tracked.running_var.dtype == np.float32
    assert tracked.num_batches_tracked.dtype == np.int64
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.GroupNorm(2, 4), nn.InstanceNorm2d(4),
                        nn.Flatten())
    assert net(tensorgrad.randn(2, 1, 5, 5)).shape == (2, 36)


def raises(error: type[Exception], message: str, fn, *args, **kwargs) -> None:
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert str(info.value) == message


def test_bad_arguments_get_pytorchs_errors():
    x = tensorgrad.zeros(2, 6, 3)
    raises(RuntimeError, "Expected number of channels in input to be divisible by num_groups, "
           "but got input of shape [2, 6, 3] and num_groups=4", F.group_norm, x, 4)
    raises(RuntimeError, "Expected num groups to be greater than 0, got -2",
           F.group_norm, x, -2)
    with pytest.raises(ZeroDivisionError):
        F.group_norm(x, 0)
    raises(TypeError, "group_norm(): argument 'num_groups' (position 2) must be int, not "
           "float", F.group_norm, x, 3.0)
    raises(RuntimeError, "Expected at least 2 dimensions for input tensor but received 1",
           F.group_norm, tensorgrad.zeros(6), 2)
    raises(ValueError, "Expected more than 1 value per channel when training, got input "
           "size [1, 6, 1]", F.group_norm, tensorgrad.zeros(1, 6, 1), 6)
    raises(RuntimeError, "Expected weight to be a vector of size equal to the number of "
           "channels in input, but got weight of shape [5] and input of shape [2, 6, 3]",
           F.group_norm, x, 3, tensorgrad.ones(5))
    # (PyTorch 2.13's message shows the weight's shape here, a slip: this one the bias's)
    raises(RuntimeError, "Expected bias to be a vector of size equal to the number of "
           "channels in input, but got bias of shape [7] and input of shape [2, 6, 3]",
           F.group_norm, x, 3, tensorgrad.ones(6), tensorgrad.ones(7))
    raises(RuntimeError, "mixed dtype (CPU): expect parameter to have scalar type of Float",
           F.group_norm, x.float(), 3, tensorgrad.ones(6))
    raises(RuntimeError, "mixed dtype (CPU): all inputs must share same datatype.",
           F.group_norm, x, 3, None, tensorgrad.ones(6).float())
    raises(RuntimeError, "expected scalar type Float but found Double",
           F.group_norm, x.float(), 3, tensorgrad.ones(6).float(), tensorgrad.ones(6))
    with pytest.raises(NotImplementedError, match="floating"):
        F.group_norm(x.long(), 3)
    raises(ValueError, "num_channels (6) must be divisible by num_groups (4)",
           nn.GroupNorm, 4, 6)
    raises(ValueError, "Expected more than 1 spatial element when training, got input size "
           "(2, 6, 1)", F.instance_norm, tensorgrad.zeros(2, 6, 1))
    raises(RuntimeError, "Expected running_mean and running_var to be defined when "
           "use_input_stats is false", F.instance_norm, x, use_input_stats=False)
    raises(ValueError, "running_mean and running_var must either both be None or neither be "
           "None", F.instance_norm, x, tensorgrad.zeros(6))
    raises(RuntimeError, "running_var should contain 12 elements not 10",
           F.instance_norm, x, tensorgrad.zeros(6), tensorgrad.ones(5))
    raises(RuntimeError, "bias should contain 12 elements not 8",
           F.instance_norm, x, None, None, tensorgrad.ones(6), tensorgrad.ones(4))
    with pytest.raises(NotImplementedError, match="running_mean of int64 data"):
        F.instance_norm(x, tensorgrad.zeros(6).long(), tensorgrad.ones(6))
    raises(ValueError, "expected 3D or 4D input (got 2D input)", nn.InstanceNorm2d(6), x[0])
    raises(ValueError, "expected 2D or 3D input (got 4D input)", nn.InstanceNorm1d(6),
           x[None])
    raises(ValueError, "expected input's size at dim=1 to match num_features (4), but got: 6.",
           nn.InstanceNorm1d(4, affine=True), x)
    with pytest.warns(UserWarning, match="input's size at dim=0 does not match num_features"):
        nn.InstanceNorm1d(4)(x[0])


def test_names_are_reached_from_every_functional_place():
    import tensorgrad.functional as functional
    from tensorgrad.nn.functional import group_norm, instance_norm

    assert group_norm is F.group_norm is functional.group_norm
    assert instance_norm is functional.instance_norm
    assert nn.GroupNorm is tensorgrad.nn.normalization.GroupNorm
