"""``kl_divergence(p, q)``, the Kullback-Leibler divergence KL(p || q) of two distributions,
by a function registered for their pair of types (``register_kl``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..functional import softplus
from ..ops import where
from ..tensor import Tensor
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .uniform import Uniform
from .utils import _sum_rightmost

_KL_REGISTRY: dict[tuple[type, type], Callable[[Any, Any], Tensor]] = {}


def register_kl(type_p: type, type_q: type) -> Callable[[Callable[[Any, Any], Tensor]],
                                                        Callable[[Any, Any], Tensor]]:
    """Register the decorated function ``f(p, q)`` as the divergence of a ``type_p`` from a
    ``type_q`` (and of their subclasses, unless a closer pair is registered).

    >>> @register_kl(MyNormal, MyNormal)
    ... def kl_my_normals(p, q): ...
    """
    for kind in (type_p, type_q):
        if not (isinstance(kind, type) and issubclass(kind, Distribution)):
            raise TypeError(f"Expected a Distribution subclass but got {kind}")

    def decorator(function: Callable[[Any, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
        _KL_REGISTRY[type_p, type_q] = function
        return function

    return decorator


def _lookup(type_p: type, type_q: type) -> Callable[[Any, Any], Tensor] | None:
    """The function of the closest registered pair: the nearest ancestor of ``type_p`` first,
    then of ``type_q``."""
    for super_p in type_p.__mro__:
        for super_q in type_q.__mro__:
            function = _KL_REGISTRY.get((super_p, super_q))
            if function is not None:
                return function
    return None


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """Return KL(p || q), of the broadcast batch shape, differentiable in both distributions'
    parameters; NotImplementedError for a pair without a registered function.

    >>> kl_divergence(Normal(0.0, 1.0), Normal(1.0, 1.0))  # Tensor(0.5)
    """
    function = _lookup(type(p), type(q))
    if function is None:
        raise NotImplementedError(f"No KL(p || q) is implemented for p type "
                                  f"{type(p).__name__} and q type {type(q).__name__}")
    return function(p, q)


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    variance_ratio = (p.scale / q.scale).pow(2)
    mean_term = ((p.loc - q.loc) / q.scale).pow(2)
    return 0.5 * (variance_ratio + mean_term - 1 - variance_ratio.log())


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    terms = p.probs * (p.logits - q.logits)
    # a category p can draw and q cannot makes the divergence infinite; one p never draws
    # adds nothing (0 log 0 = 0), whatever q says of it
    terms = where((q.probs == 0).expand_as(terms), math.inf, terms)
    terms = where((p.probs == 0).expand_as(terms), 0.0, terms)
    return terms.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_one_hot_one_hot(p: OneHotCategorical, q: OneHotCategorical) -> Tensor:
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    # p log(p/q) + (1-p) log((1-p)/(1-q)), the logs written with softplus of the log-odds,
    # with the same rules as the categorical one for probabilities 0 and 1
    ones = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    ones = where(p.probs == 0, 0.0, where(q.probs == 0, math.inf, ones))
    zeros = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    zeros = where(p.probs == 1, 0.0, where(q.probs == 1, math.inf, zeros))
    return ones + zeros


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p: Uniform, q: Uniform) -> Tensor:
    result = ((q.high - q.low) / (p.high - p.low)).log()
    # infinite where p puts mass outside q's interval
    return where((q.low > p.low) | (q.high < p.high), math.inf, result)


@register_kl(Independent, Independent)
def _kl_independent_independent(p: Independent, q: Independent) -> Tensor:
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError
    divergence = kl_divergence(p.base_dist, q.base_dist)
    return _sum_rightmost(divergence, p.reinterpreted_batch_ndims)


__all__ = ["kl_divergence", "register_kl"]
