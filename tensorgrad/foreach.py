"""PyTorch's ``torch._foreach_*`` functions: one operation over lists of tensors, as
exponential moving averages of weights (timm's, ema-pytorch's) and hand-written optimizers
call them. Here each is a loop over the tensors' own methods, so autograd, ``no_grad`` and
the in-place checks see what they would see one tensor at a time; the in-place forms change
the tensors of their first list and return that list, the others return a tuple.

    ema = [p.detach().clone() for p in model.parameters()]
    with torch.no_grad():
        torch._foreach_lerp_(ema, list(model.parameters()), 0.1)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .tensor import Tensor

__all__ = ["_foreach_add", "_foreach_add_", "_foreach_copy_", "_foreach_div", "_foreach_div_",
           "_foreach_lerp_", "_foreach_mul", "_foreach_mul_", "_foreach_norm", "_foreach_sub",
           "_foreach_sub_", "_foreach_zero_"]


def _operands(tensors: Sequence[Tensor], other: Any) -> list[Any]:
    """``other`` for each of ``tensors``: a list of tensors or of numbers goes one to each,
    a number or a 0-d tensor to all."""
    if not tensors:
        raise RuntimeError("_foreach: the tensor list must have at least one tensor")
    if isinstance(other, (list, tuple)):
        if len(other) != len(tensors):
            raise RuntimeError(f"_foreach: the lists must have the same number of tensors, "
                               f"got {len(tensors)} and {len(other)}")
        return list(other)
    if isinstance(other, Tensor) and other.dim() != 0:
        raise RuntimeError(f"_foreach: a tensor for all the list must be 0-d, not of shape "
                           f"{tuple(other.shape)}")
    return [other] * len(tensors)


def _scaled(tensors: Sequence[Tensor], other: Any, alpha: Any) -> tuple[list[Any], Any]:
    """``_operands``, and ``alpha`` (1 if not given), which only scales tensors."""
    operands = _operands(tensors, other)
    if alpha is None:
        return operands, 1
    if not all(isinstance(o, Tensor) for o in operands):
        raise TypeError("_foreach: alpha scales a tensor or a list of tensors, not numbers")
    return operands, alpha


def _foreach_add_(self: list[Tensor], other: Any, *, alpha: Any = None) -> list[Tensor]:
    """Add ``other`` (times ``alpha``) to each tensor of ``self``, in place."""
    operands, alpha = _scaled(self, other, alpha)
    for t, o in zip(self, operands):
        t.add_(o, alpha=alpha)
    return self


def _foreach_sub_(self: list[Tensor], other: Any, *, alpha: Any = None) -> list[Tensor]:
    """Subtract ``other`` (times ``alpha``) from each tensor of ``self``, in place."""
    operands, alpha = _scaled(self, other, alpha)
    for t, o in zip(self, operands):
        t.sub_(o, alpha=alpha)
    return self


def _foreach_mul_(self: list[Tensor], other: Any) -> list[Tensor]:
    """Multiply each tensor of ``self`` by ``other``, in place."""
    for t, o in zip(self, _operands(self, other)):
        t.mul_(o)
    return self


def _foreach_div_(self: list[Tensor], other: Any) -> list[Tensor]:
    """Divide each tensor of ``self`` by ``other``, in place."""
    for t, o in zip(self, _operands(self, other)):
        t.div_(o)
    return self


def _foreach_lerp_(self: list[Tensor], tensors: Sequence[Tensor], weight: Any) -> list[Tensor]:
    """Move each tensor of ``self`` the fraction ``weight`` of the way to its partner in
    ``tensors``, in place."""
    ends = _operands(self, list(tensors))
    for t, end, w in zip(self, ends, _operands(self, weight)):
        t.lerp_(end, w)
    return self


def _foreach_copy_(self: list[Tensor], src: Sequence[Tensor],
                   non_blocking: bool = False) -> list[Tensor]:
    """Copy each tensor of ``src`` into its partner in ``self``."""
    for t, s in zip(self, _operands(self, list(src))):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self: list[Tensor]) -> list[Tensor]:
    """Fill each tensor of ``self`` with zeros."""
    _operands(self, 0)
    for t in self:
        t.zero_()
    return self


def _foreach_add(self: Sequence[Tensor], other: Any, *,
                 alpha: Any = None) -> tuple[Tensor, ...]:
    """Each tensor of ``self`` plus ``other`` (times ``alpha``)."""
    operands, alpha = _scaled(self, other, alpha)
    return tuple(t.add(o, alpha=alpha) for t, o in zip(self, operands))


def _foreach_sub(self: Sequence[Tensor], other: Any, *,
                 alpha: Any = None) -> tuple[Tensor, ...]:
    """Each tensor of ``self`` minus ``other`` (times ``alpha``)."""
    operands, alpha = _scaled(self, other, alpha)
    return tuple(t.sub(o, alpha=alpha) for t, o in zip(self, operands))


def _foreach_mul(self: Sequence[Tensor], other: Any) -> tuple[Tensor, ...]:
    """Each tensor of ``self`` times ``other``."""
    return tuple(t.mul(o) for t, o in zip(self, _operands(self, other)))


def _foreach_div(self: Sequence[Tensor], other: Any) -> tuple[Tensor, ...]:
    """Each tensor of ``self`` divided by ``other``."""
    return tuple(t.div(o) for t, o in zip(self, _operands(self, other)))


def _foreach_norm(self: Sequence[Tensor], ord: Any = 2) -> tuple[Tensor, ...]:  # noqa: A002
    """Each tensor's vector norm of order ``ord`` (2 unless given), 0-d."""
    from .linalg import vector_norm

    _operands(self, 0)
    return tuple(vector_norm(t, ord) for t in self)
