"""``Distribution``, the base of every distribution here, as ``torch.distributions``'s: shapes,
sampling, validation of parameters and values, and the defaults subclasses override."""

from __future__ import annotations

import warnings
from typing import Any

from ..grad_mode import no_grad
from ..size import Size
from ..tensor import Tensor
from . import constraints


class Distribution:
    """A batch of probability distributions of one family.

    ``batch_shape`` is the shape of the batch of independent distributions (of their
    parameters, broadcast together), ``event_shape`` that of one draw of one of them; a
    sample of ``sample_shape`` has the shape ``sample_shape + batch_shape + event_shape``.
    With ``validate_args`` (by default as ``set_default_validate_args`` says, on unless Python
    runs with ``-O``) the parameters are checked when made, and values when scored, raising
    ValueError.

    >>> d = Normal(tensorgrad.zeros(3), 1.0)
    >>> d.batch_shape, d.sample((5,)).shape
    (tensorgrad.Size([3]), tensorgrad.Size([5, 3]))
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__  # as an assert: on, unless Python runs with -O

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn validation of every distribution made from now on (without its own
        ``validate_args``) on or off."""
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if not self._validate_args:
            return
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set "
                          "`arg_constraints = {}` or initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=2)
        for name, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and _is_lazy(type(self), name):
                continue  # the other parameterization: checking it would compute it
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) of distribution {self!r} to satisfy "
                                 f"the constraint {constraint!r}, but found invalid values:\n"
                                 f"{value}")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """Return this distribution with its parameters expanded (not copied) to
        ``batch_shape``; the parameters are not validated again."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        """The shape of the batch of distributions."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of one draw of one distribution."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """The constraint each parameter satisfies, by name."""
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The constraint every value drawn satisfies."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        """The mean, of ``batch_shape + event_shape``."""
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        """The most likely value, of ``batch_shape + event_shape``."""
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """The variance, of ``batch_shape + event_shape``."""
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """The standard deviation, the square root of the variance."""
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draw a sample of ``sample_shape + batch_shape + event_shape``, outside the graph.

        >>> Normal(0.0, 1.0).sample((2,)).shape
        tensorgrad.Size([2])
        """
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Draw a reparameterized sample: a function of the parameters, so that gradients
        flow from it into them."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """Draw ``n`` samples (deprecated: ``sample((n,))``)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        """Return the log of the density (or mass) at ``value``."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """Return the cumulative distribution function at ``value``."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """Return the inverse of the cumulative distribution function at ``value``."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """Return every value of a discrete distribution along dimension 0, of
        ``(cardinality,) + batch_shape + event_shape`` (the batch dimensions of size 1 when
        not ``expand``)."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """Return the entropy, of ``batch_shape``."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """Return the exponential of the entropy."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Any = ()) -> Size:
        """The shape of a sample of ``sample_shape``."""
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value: Any) -> None:
        """Raise ValueError unless ``value`` is a tensor whose shape fits the event and batch
        shapes and whose values lie in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        shape, event = tuple(value.shape), tuple(self._event_shape)
        if shape[len(shape) - len(event):] != event:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.shape} vs {self._event_shape}.")
        expected = Size(tuple(self._batch_shape) + event)
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{value.shape} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample "
                          "validation. Please initialize the distribution with "
                          "`validate_args=False` to turn off validation.", stacklevel=2)
            return
        if not bool(support.check(value).all()):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape "
                             f"{tuple(value.shape)}) to be within the support ({support!r}) "
                             f"of the distribution {self!r}, but found invalid values:\n"
                             f"{value}")

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """A new, uninitialized instance for ``expand``: a subclass with its own ``__init__``
        must write its own ``expand``, since this one could not fill its attributes."""
        if _instance is None and type(self).__init__ is not cls.__init__:  # type: ignore[misc]
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return type(self).__new__(type(self)) if _instance is None else _instance

    def _expand_params(self, cls: type, batch_shape: Any, _instance: Any,
                       *names: str) -> Any:
        """``expand``'s common case: a new ``cls`` (or ``_instance``) whose tensors (or
        distributions) ``names`` are this one's expanded to ``batch_shape``, with an empty
        event shape and this one's validation. A name not yet on the instance (a lazy
        parameterization never read) is skipped: it stays lazy in the new one too."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        for name in names:
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(batch_shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def __repr__(self) -> str:
        try:
            names = [name for name in self.arg_constraints if name in self.__dict__]
        except NotImplementedError:
            names = []
        shown = []
        for name in names:
            value = self.__dict__[name]
            shown.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _is_lazy(cls: type, name: str) -> bool:
    from .utils import lazy_property

    return isinstance(getattr(cls, name, None), lazy_property)


__all__ = ["Distribution"]
