"""Helpers the distributions share, under ``torch.distributions.utils``'s names: parameters
broadcast together, probabilities and logits turned into each other, properties computed
once."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from ..creation import tensor
from ..dtypes import finfo, get_default_dtype
from ..functional import softmax
from ..grad_mode import enable_grad
from ..size import Size
from ..tensor import Tensor
from ..torch_functions import broadcast_tensors

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Return ``values`` broadcast to one shape; numbers become tensors of the first tensor's
    dtype (of the default dtype when all are numbers).

    >>> loc, scale = broadcast_all(tensorgrad.zeros(3), 1.0)  # scale: Tensor([1., 1., 1.])
    """
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, "
                         "torch.Tensor or objects implementing __torch_function__.")
    dtype = next((v.dtype for v in values if isinstance(v, Tensor)), get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype) for v in values]
    return tuple(broadcast_tensors(*tensors))


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Return the probabilities of ``logits``: their sigmoid (log-odds, ``is_binary``) or
    their softmax over the last dimension (log-probabilities of the categories)."""
    return logits.sigmoid() if is_binary else softmax(logits, -1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Return ``probs`` clamped into [eps, 1 - eps] (eps: the dtype's machine epsilon), so
    that their logarithms and log-odds stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Return the logits of ``probs``: log-odds (``is_binary``), else log-probabilities,
    finite (the probabilities are clamped first).

    >>> probs_to_logits(tensorgrad.tensor([0.5]), is_binary=True)  # Tensor([0.])
    """
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """Return ``value`` summed over its ``dim`` last dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.dim() - dim]) + (-1,)).sum(-1)


def _standard_normal(shape: Sequence[int], dtype: Any) -> Tensor:
    """Return draws from N(0, 1) of ``shape``, from tensorgrad's generator."""
    from ..creation import empty

    return empty(tuple(shape), dtype=dtype).normal_()


def _is_number(value: object) -> bool:
    return isinstance(value, (numbers.Number, np.number)) and not isinstance(value, Tensor)


T = TypeVar("T")
R = TypeVar("R")


class lazy_property(Generic[T, R]):  # noqa: N801 (PyTorch's name)
    """A property computed at its first reading and then kept on the instance (a
    distribution given ``probs`` computes its ``logits`` only if asked). Computed with
    gradients on, so that the kept tensor carries them even if first read under
    ``no_grad``."""

    def __init__(self, wrapped: Callable[[T], R]) -> None:
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance: T | None, owner: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)  # found on the instance from now on
        return value


def _set_probs_or_logits(dist: Any, probs: Any, logits: Any, *others: Any) -> tuple[Tensor, ...]:
    """Keep on ``dist`` whichever of ``probs`` and ``logits`` is given (the other stays
    lazy), also as ``dist._param``, broadcast with ``others``; return ``others`` broadcast
    and cast to its dtype."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    name, given = ("probs", probs) if probs is not None else ("logits", logits)
    *rest, param = broadcast_all(*others, given)
    setattr(dist, name, param)
    dist._param = param
    return tuple(value.type_as(param) for value in rest)


def _expand_probs_or_logits(dist: Any, new: Any, batch_shape: Any) -> None:
    """Give ``new`` (``dist`` expanded) ``dist``'s probs and logits, those computed so
    far, expanded to ``batch_shape``; the other stays lazy."""
    for name in ("probs", "logits"):
        if name in dist.__dict__:
            setattr(new, name, dist.__dict__[name].expand(batch_shape))
            new._param = new.__dict__[name]


class _BinaryProbsOrLogits:
    """The probability of 1 (or of a success) and its log-odds, each computed from the
    other when first read: for the distributions given one of ``probs`` and ``logits``."""

    _param: Tensor  # the one given (see ``_set_probs_or_logits``)

    @lazy_property
    def logits(self) -> Tensor:
        """The log-odds (finite: probabilities 0 and 1 are clamped by eps first)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        """The probability of 1 (of a success)."""
        return logits_to_probs(self.logits, is_binary=True)


class _ParamsOfCategorical:
    """``logits``, ``probs`` and ``param_shape`` of the ``Categorical`` a distribution
    wraps (as ``_categorical``)."""

    _categorical: Any

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape


class _ParamsOfRelaxedBase:
    """``temperature``, ``logits`` and ``probs`` of the ``base_dist`` a relaxed
    distribution transforms."""

    base_dist: Any

    @property
    def temperature(self) -> Tensor:
        return self.base_dist.temperature

    @property
    def logits(self) -> Tensor:
        return self.base_dist.logits

    @property
    def probs(self) -> Tensor:
        return self.base_dist.probs


__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs",
           "probs_to_logits"]
