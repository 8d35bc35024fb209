"""Where a distribution's parameters and values may lie, as ``torch.distributions.constraints``:
each constraint's ``check(value)`` is a boolean tensor, one entry per event, that validation
(``validate_args``) requires to be all true::

    >>> constraints.positive.check(tensorgrad.tensor([1.0, -1.0]))
    Tensor([ True, False])

Only the constraints the distributions here use: ``real``, ``real_vector``, ``positive``,
``greater_than``, ``less_than``, ``interval``, ``half_open_interval``, ``unit_interval``,
``boolean``, ``integer_interval``, ``simplex``, ``one_hot``, ``independent``, ``dependent``,
``greater_than_eq``, ``nonnegative``, ``nonnegative_integer``, ``positive_integer``,
``multinomial``, ``lower_cholesky``, ``corr_cholesky`` and ``positive_definite``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..tensor import Tensor


class Constraint:
    """A region of values; ``check`` says which events of a tensor lie in it.

    ``event_dim`` is how many rightmost dimensions make one event (``check`` reduces them),
    ``is_discrete`` whether the region is countable."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Tensor) -> Tensor:
        """Return whether each event of ``value`` lies in the region, as booleans."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__.lstrip("_") + "()"


class _Dependent(Constraint):
    """A constraint that depends on other parameters, so that it cannot be checked alone:
    validation skips it."""

    def __init__(self, *, is_discrete: bool = False, event_dim: int = 0) -> None:
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete: bool = False, event_dim: int = 0) -> _Dependent:
        return _Dependent(is_discrete=is_discrete, event_dim=event_dim)

    def check(self, value: Tensor) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: object) -> bool:
    """Return whether ``constraint`` cannot be checked on its own (validation skips it)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property computing a constraint from the instance (``Uniform``'s support is its
    ``[low, high]``), that reads as a dependent constraint on the class."""

    def __init__(self, fn: Callable[[Any], Any] | None = None, *, is_discrete: bool = False,
                 event_dim: int = 0) -> None:
        property.__init__(self, fn)
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, fn: Callable[[Any], Any]) -> _DependentProperty:  # type: ignore[override]
        # as a decorator with arguments: @dependent_property(is_discrete=True)
        return _DependentProperty(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


class _IndependentConstraint(Constraint):
    """``base`` on each entry, with the last ``reinterpreted_batch_ndims`` dimensions read as
    part of the event: an event holds when all of its entries do."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def check(self, value: Tensor) -> Tensor:
        result = self.base_constraint.check(value)
        n = self.reinterpreted_batch_ndims
        if result.dim() < n:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}")
        if n == 0:
            return result
        return result.reshape(tuple(result.shape[:result.dim() - n]) + (-1,)).all(-1)

    def __repr__(self) -> str:
        return (f"IndependentConstraint({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class MixtureSameFamilyConstraint(Constraint):
    """A mixture's support: the components' constraint checked on the value against every
    component (their dimension put back before the event), holding where it holds for
    all of them."""

    def __init__(self, base_constraint: Constraint) -> None:
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def check(self, value: Tensor) -> Tensor:
        if value.dim() < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {value.dim()}")
        result = self.base_constraint.check(value.unsqueeze(-1 - self.event_dim))
        keep = value.dim() - self.event_dim
        return result.reshape(tuple(result.shape[:keep]) + (-1,)).all(-1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_constraint!r})"


class _Real(Constraint):
    def check(self, value: Tensor) -> Tensor:
        return value == value  # false only for NaN


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value: Tensor) -> Tensor:
        return (value == 0) | (value == 1)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value: Tensor) -> Tensor:
        zeros_and_ones = ((value == 0) | (value == 1)).all(-1)
        return zeros_and_ones & (value.sum(-1) == 1)


class _Bounded(Constraint):
    """The common form of the constraints with bounds: their repr names them."""

    def _bounds(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)}" for name in ("lower_bound", "upper_bound")
                         if hasattr(self, name))

    def __repr__(self) -> str:
        return f"{type(self).__name__.lstrip('_')}({self._bounds()})"


class _IntegerInterval(_Bounded):
    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)


class _GreaterThan(_Bounded):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value > self.lower_bound


class _LessThan(_Bounded):
    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Tensor) -> Tensor:
        return value < self.upper_bound


class _Interval(_Bounded):
    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value <= self.upper_bound)


class _HalfOpenInterval(_Interval):
    def check(self, value: Tensor) -> Tensor:
        return (value >= self.lower_bound) & (value < self.upper_bound)


class _GreaterThanEq(_Bounded):
    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Tensor) -> Tensor:
        return value >= self.lower_bound


class _IntegerGreaterThan(_Bounded):
    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Tensor) -> Tensor:
        return (value % 1 == 0) & (value >= self.lower_bound)


class _Multinomial(Constraint):
    """Vectors of counts that sum to at most ``upper_bound``."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Tensor) -> Tensor:
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class _LowerCholesky(Constraint):
    """Lower-triangular square matrices with a positive diagonal."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        lower = (value.tril() == value).flatten(-2).all(-1)
        positive_diagonal = (value.diagonal(dim1=-2, dim2=-1) > 0).all(-1)
        return lower & positive_diagonal


class _CorrCholesky(Constraint):
    """Lower Cholesky factors of correlation matrices: lower-triangular, a positive
    diagonal, rows of norm 1 (to within 10 n eps of the dtype)."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        import numpy as np

        tolerance = float(np.finfo(value.dtype).eps) * value.shape[-1] * 10
        row_norms = value.detach().norm(dim=-1)
        unit_rows = ((row_norms - 1.0).abs() <= tolerance).all(-1)
        return _LowerCholesky().check(value) & unit_rows


class _PositiveDefinite(Constraint):
    """Symmetric square matrices whose Cholesky factorization succeeds."""

    event_dim = 2

    def check(self, value: Tensor) -> Tensor:
        import numpy as np

        from ..tensor import Tensor as _Tensor

        matrices = value.detach().numpy()
        symmetric = np.all(np.isclose(matrices, np.swapaxes(matrices, -1, -2), atol=1e-6),
                           axis=(-2, -1))
        flat = matrices.reshape((-1,) + matrices.shape[-2:])
        ok = np.empty(len(flat), bool)
        for i, matrix in enumerate(flat):
            try:
                np.linalg.cholesky(matrix)
                ok[i] = np.isfinite(matrix).all()
            except np.linalg.LinAlgError:
                ok[i] = False
        return _Tensor(symmetric & ok.reshape(matrices.shape[:-2]))


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value: Tensor) -> Tensor:
        # a sum off 1 by float32's rounding is still on the simplex
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
greater_than = _GreaterThan
less_than = _LessThan
interval = _Interval
half_open_interval = _HalfOpenInterval
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
integer_interval = _IntegerInterval
simplex = _Simplex()
one_hot = _OneHot()
greater_than_eq = _GreaterThanEq
nonnegative = _GreaterThanEq(0.0)
integer_greater_than = _IntegerGreaterThan
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
multinomial = _Multinomial
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
positive_definite = _PositiveDefinite()

__all__ = ["Constraint", "MixtureSameFamilyConstraint", "boolean", "corr_cholesky", "dependent",
           "dependent_property", "greater_than",
           "greater_than_eq", "half_open_interval", "independent", "integer_greater_than",
           "integer_interval", "interval", "is_dependent", "less_than", "lower_cholesky",
           "multinomial", "nonnegative", "nonnegative_integer", "one_hot", "positive",
           "positive_definite", "positive_integer", "real", "real_vector", "simplex",
           "unit_interval"]
