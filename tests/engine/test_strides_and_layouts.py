"""``as_strided``, memory formats, DLPack, a real tensor's complex-number methods and the
device as a context manager, without torch (``test_strides_and_layouts_torch.py`` holds
them against PyTorch)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import tensorgrad as tg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sliding_windows_by_as_strided_count_each_entry_once_a_window(dtype):
    x = tg.tensor(np.arange(6, dtype=dtype), requires_grad=True)
    windows = x.as_strided((4, 3), (1, 1))  # [0 1 2], [1 2 3], [2 3 4], [3 4 5]
    np.testing.assert_array_equal(windows.detach().numpy(),
                                  [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]])
    windows.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3, 3, 2, 1])
    assert x.grad.dtype == dtype


def test_as_strided_of_a_view_starts_where_the_view_does_and_shares_its_memory():
    base = tg.arange(12.0).reshape(3, 4)
    view = base[1:, 1:]
    strided = view.as_strided((2,), (4,))  # down the view's first column
    assert strided.tolist() == [5.0, 9.0]
    assert view.as_strided((2,), (1,), 0).tolist() == [0.0, 1.0]  # from the memory's start
    strided.mul_(10)  # outside the graph: a plain write, through to the base
    assert base[1:, 1].tolist() == [50.0, 90.0]
    with pytest.raises(RuntimeError, match="storage"):
        view.as_strided((3,), (4,), 8)


def test_memory_formats_are_one_object_each_and_refuse_other_values():
    assert copy.deepcopy(tg.channels_last) is tg.channels_last
    assert pickle.loads(pickle.dumps(tg.contiguous_format)) is tg.contiguous_format
    assert isinstance(tg.channels_last, tg.memory_format) and tg.zeros(1).layout is tg.strided
    with pytest.raises(TypeError, match="memory_format"):
        tg.zeros(1, 2, 3, 4).contiguous(memory_format="channels_last")


def test_channels_last_keeps_values_and_gradients_and_a_module_lays_out_its_4d_tensors():
    x = tg.tensor(np.arange(24.0).reshape(1, 2, 3, 4), requires_grad=True)
    y = x.to(memory_format=tg.channels_last)
    assert y.stride() == (24, 1, 8, 2) and y.tolist() == x.tolist()
    assert y.contiguous(memory_format=tg.channels_last) is y
    assert y.contiguous().stride() == (24, 12, 4, 1)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.detach().numpy())
    net = tg.nn.Sequential(tg.nn.Conv2d(2, 3, 2), tg.nn.Linear(3, 3))
    net.to(memory_format=tg.channels_last)
    assert net[0].weight.is_contiguous(memory_format=tg.channels_last)
    assert net[1].weight.is_contiguous()  # (2-d: as it was)


def test_dlpack_shares_memory_with_numpy():
    x = tg.arange(3.0)
    shared = np.from_dlpack(x)
    shared[1] = 7.0
    assert x.tolist() == [0.0, 7.0, 2.0]
    back = tg.from_dlpack(shared)
    assert np.shares_memory(back.numpy(), shared)
    with pytest.raises(BufferError):
        tg.ones(1, requires_grad=True).__dlpack__()


def test_a_real_tensor_is_its_own_real_part_and_conjugate_and_has_no_imaginary_part():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    assert x.real is x and x.conj() is x and tg.resolve_neg(x) is x and not tg.is_conj(x)
    with pytest.raises(RuntimeError, match="imag"):
        tg.imag(x)


def test_the_device_is_a_context_manager():
    with tg.device("cpu") as where:
        assert tg.zeros(1).device == where

