"""A tensor's memory as PyTorch exposes it: ``as_strided`` views of the memory a tensor
shares with its base (PyTorch's storage), DLPack exchange, and the complex-number
methods of a real tensor (``real``, ``conj``, ...), which are the tensor itself.

Loaded when first used (``tensor.py``'s ``_Later`` stand-ins, ``__init__``'s lazy names)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .tensor import Function, Tensor, _owner, as_leaf, strided_places, tensor_of


def _storage(data: np.ndarray) -> tuple[np.ndarray, int]:
    """The memory ``data`` shares with its base, as one flat array of its dtype (PyTorch's
    storage), and where ``data``'s first entry lies in it."""
    owner = _owner(data)
    if not (owner.flags.c_contiguous or owner.flags.f_contiguous) or owner.dtype != data.dtype:
        raise RuntimeError("as_strided: the tensor's memory is not one block of its dtype "
                           "(a view of another dtype, or of memory laid out with gaps)")
    size = owner.nbytes // data.itemsize
    flat = np.lib.stride_tricks.as_strided(owner, (size,), (data.itemsize,))
    start = (data.__array_interface__["data"][0] - owner.__array_interface__["data"][0])
    return flat, start // data.itemsize


class AsStrided(Function):
    """The view of ``a``'s storage of ``size`` and ``stride`` (in entries) from
    ``storage_offset``; its gradient is summed where entries share a place in the storage,
    and goes to ``a``'s entries from theirs."""

    views = True  # (its result shares its input's memory: see tensor._as_it_was)

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, size: tuple[int, ...], stride: tuple[int, ...],
                storage_offset: int | None) -> np.ndarray:
        flat, start = _storage(a)
        offset = start if storage_offset is None else storage_offset
        needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) \
            else 0
        if offset < 0 or needed > flat.size:
            raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, "
                               f"storage offset {offset} need {needed} entries of storage, "
                               f"and it holds {flat.size}")
        ctx.storage, ctx.offset, ctx.size, ctx.stride = flat.size, offset, size, stride
        ctx.input_places = strided_places(a.shape, [s // a.itemsize for s in a.strides], start)
        return np.lib.stride_tricks.as_strided(
            flat[offset:], size, tuple(s * a.itemsize for s in stride),
            writeable=a.flags.writeable)

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple:
        storage = np.zeros(ctx.storage, grad.dtype)
        np.add.at(storage, strided_places(ctx.size, ctx.stride, ctx.offset), grad)
        return storage[ctx.input_places], None, None, None


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """A view of ``input``'s memory (the memory it shares with the tensor it is a view of)
    of shape ``size``, with ``stride`` entries between neighbours along each dimension,
    starting ``storage_offset`` entries into that memory (by default where ``input``
    starts), as PyTorch's::

        tg.arange(9.0).as_strided((3, 3), (1, 3))    # the transpose of a 3x3 view
    """
    x = tensor_of(input)
    size, stride = tuple(int(n) for n in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(size)} sizes, "
                           f"{len(stride)} strides")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError("as_strided: negative sizes and strides are not supported")
    return AsStrided.apply(x, size, stride, storage_offset)


# ---- DLPack -----------------------------------------------------------------------------------


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing the memory of a DLPack-capable array (a NumPy array, a PyTorch CPU
    tensor, ...), as PyTorch's."""
    if isinstance(ext_tensor, Tensor):
        return as_leaf(ext_tensor._data)
    return as_leaf(np.from_dlpack(ext_tensor))


def _dlpack(self: Tensor, **kwargs: Any) -> Any:
    if self._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    return self._data.__dlpack__(**kwargs)


def _dlpack_device(self: Tensor) -> tuple[int, int]:
    return self._data.__dlpack_device__()


# ---- a real tensor's complex-number methods: the tensor itself, as PyTorch's ---------------


def real(input: Tensor) -> Tensor:
    """The real part: a real tensor itself."""
    return tensor_of(input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part, which a real tensor has not (RuntimeError, as PyTorch's)."""
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def conj(input: Tensor) -> Tensor:
    """The complex conjugate: a real tensor itself."""
    return tensor_of(input)


def is_conj(input: Tensor) -> bool:
    return False


def is_neg(input: Tensor) -> bool:
    return False


conj_physical = resolve_conj = resolve_neg = conj

TENSOR_METHODS: dict[str, Any] = {
    "as_strided": as_strided, "__dlpack__": _dlpack, "__dlpack_device__": _dlpack_device,
    "real": property(real, doc="The real part: a real tensor itself."),
    "imag": property(imag, doc="A real tensor has no imaginary part (RuntimeError)."),
    "conj": conj, "conj_physical": conj_physical, "resolve_conj": resolve_conj,
    "resolve_neg": resolve_neg, "is_conj": is_conj, "is_neg": is_neg,
}
