"""``as_strided``, memory formats (``channels_last``), DLPack and a real tensor's
complex-number methods, held against PyTorch: values, strides, gradients and error types.
Skipped without torch (``test_strides_and_layouts.py`` checks them without it)."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad as tg

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]

# (the base's shape, a view of it, as_strided's size, stride, storage_offset)
STRIDED = [
    ((9,), lambda t: t, (3, 3), (1, 3), None),  # a transpose
    ((9,), lambda t: t, (2, 2), (1, 1), 1),  # overlapping windows
    ((10,), lambda t: t, (4, 3), (2, 1), 0),  # sliding windows of 3, step 2
    ((3, 4), lambda t: t[1:], (2, 2), (4, 1), None),  # from a view: its own start
    ((3, 4), lambda t: t[1:], (2, 2), (4, 1), 0),  # from the storage's start
    ((3, 4), lambda t: t.t(), (4,), (1,), 2),
    ((6,), lambda t: t, (3, 2), (0, 1), None),  # a stride of 0: one place read thrice
    ((5,), lambda t: t, (0, 3), (1, 1), None),  # no entries
    ((4,), lambda t: t, (), (), 3),  # one entry, 0-d
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", range(len(STRIDED)))
def test_as_strided_reads_the_memory_and_sends_gradients_as_torch(case, dtype):
    shape, view, size, stride, offset = STRIDED[case]
    values = np.arange(np.prod(shape), dtype=dtype).reshape(shape) - 2.5
    results = []
    for lib in (tg, torch):
        x = lib.tensor(values, requires_grad=True)
        base = x * 1.0
        y = view(base).as_strided(size, stride, offset)
        weights = lib.tensor(np.linspace(-1, 2, int(np.prod(size))).astype(dtype).reshape(size))
        (y * weights).sum().backward()
        results.append((y.detach(), x.grad, y.stride()))
    assert_same(results[0][0], results[1][0], "values")
    assert_same(results[0][1], results[1][1], "gradient")
    assert results[0][2] == results[1][2]


def test_as_strided_out_of_the_storage_and_mismatched_lengths_raise_as_torch():
    for lib in (tg, torch):
        x = lib.arange(6.0)
        with pytest.raises(RuntimeError):
            x.as_strided((3, 3), (3, 1))
        with pytest.raises(RuntimeError):
            x.as_strided((2,), (1, 1))
        with pytest.raises(RuntimeError):
            lib.as_strided(x[2:], (2,), (1,), 5)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 3, 1, 2), (2, 1, 3, 3), (0, 2, 3, 3)])
def test_channels_last_gives_torchs_strides_and_values(shape):
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    ours = tg.tensor(values).to(memory_format=tg.channels_last)
    theirs = torch.tensor(values).to(memory_format=torch.channels_last)
    assert ours.stride() == theirs.stride()
    assert_same(ours, theirs, "values")
    assert ours.is_contiguous(memory_format=tg.channels_last) == theirs.is_contiguous(
        memory_format=torch.channels_last)
    assert ours.is_contiguous() == theirs.is_contiguous()
    assert ours.contiguous().stride() == theirs.contiguous().stride()


def test_channels_last_3d_and_the_rank_errors_as_torch():
    values = np.zeros((2, 3, 2, 2, 2))
    ours = tg.tensor(values).contiguous(memory_format=tg.channels_last_3d)
    theirs = torch.tensor(values).contiguous(memory_format=torch.channels_last_3d)
    assert ours.stride() == theirs.stride()
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="rank 4"):
            lib.zeros(2, 3).to(memory_format=lib.channels_last)
        kept = lib.zeros(3, 2)
        assert kept.contiguous(memory_format=lib.preserve_format) is kept
        with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
            kept.t().contiguous(memory_format=lib.preserve_format)
        assert kept.t().clone(memory_format=lib.preserve_format).stride() == (1, 2)
    assert repr(tg.channels_last) == repr(torch.channels_last)
    assert repr(tg.zeros(1).layout) == repr(torch.zeros(1).layout)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_channels_last_conv_net_gives_torchs_outputs_and_gradients(dtype):
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU()).to(getattr(torch, np.dtype(dtype).name))
    ours = tg.nn.Sequential(tg.nn.Conv2d(3, 4, 3), tg.nn.BatchNorm2d(4), tg.nn.ReLU()).to(dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    values = np.linspace(-1, 1, 2 * 3 * 5 * 5).reshape(2, 3, 5, 5).astype(dtype)
    results = []
    for lib, net in ((tg, ours), (torch, theirs)):
        net.to(memory_format=lib.channels_last)
        assert net[0].weight.is_contiguous(memory_format=lib.channels_last)
        x = lib.tensor(values, requires_grad=True).to(memory_format=lib.channels_last)
        out = net(x)
        (out * out).sum().backward()
        results.append((out, net[0].weight.grad, net[1].bias.grad))
    for a, b, what in zip(*results, ("output", "conv weight's gradient", "bias's gradient")):
        assert_same(a, b, what, 1e-4 if dtype == np.float32 else 1e-10)


def test_dlpack_exchanges_memory_with_torch_both_ways():
    ours = tg.arange(4.0)
    theirs = torch.from_dlpack(ours)
    theirs[0] = 10.0
    assert ours.tolist() == [10.0, 1.0, 2.0, 3.0]
    back = tg.from_dlpack(torch.arange(3.0))
    assert back.tolist() == [0.0, 1.0, 2.0]
    for lib in (tg, torch):
        with pytest.raises(BufferError, match="require"):
            lib.ones(2, requires_grad=True).__dlpack__()


def test_a_real_tensors_complex_methods_are_torchs():
    for lib in (tg, torch):
        x = lib.tensor([1.0, -2.0])
        assert x.real is x and lib.real(x) is x and x.conj() is x and lib.conj(x) is x
        assert x.resolve_conj() is x and x.resolve_neg() is x
        assert not x.is_conj() and not lib.is_neg(x)
        with pytest.raises(RuntimeError, match="imag is not implemented"):
            x.imag  # noqa: B018
