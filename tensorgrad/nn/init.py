"""torch.nn.init: fill a tensor in place with starting values, as PyTorch's functions do.

Random values are drawn from tensorgrad's one generator (``tensorgrad.manual_seed``);
each function writes into the tensor's own array (so an optimizer holding it sees the
new values), outside the graph, and returns the tensor::

    nn.init.normal_(layer.weight, mean=0.0, std=0.02)
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import random
from ..random import Generator, rng
from ..special import erfc
from ..tensor import Tensor, note_in_place_write


def _fill(tensor: Tensor, values: Any) -> Tensor:
    tensor._data[...] = values
    note_in_place_write(tensor._data)  # as PyTorch's init_ functions: in place, seen by backward
    return tensor


def _random_fill(tensor: Tensor, name: str) -> None:
    """PyTorch draws random starting values into floating tensors only: an integer or
    boolean one (not empty) is refused, where NumPy would round the draws into it."""
    if tensor._data.dtype.kind not in "fc" and tensor._data.size:
        raise NotImplementedError(f"nn.init.{name}: not implemented for {tensor._data.dtype} "
                                  f"tensors (a floating one only)")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Values drawn uniformly from [a, b)."""
    _random_fill(tensor, "uniform_")
    return _fill(tensor, random.uniform(tensor._data.shape, a, b, generator))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Values drawn from the normal distribution N(mean, std**2)."""
    _random_fill(tensor, "normal_")
    return _fill(tensor, random.normal(tensor._data.shape, mean, std, generator))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def _fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) as PyTorch counts them: dims 1 and 0, times the rest's size."""
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which a nonlinearity's outputs should be scaled up, as PyTorch's."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
                    ) -> Tensor:
    """Uniform in +-gain * sqrt(6 / (fan_in + fan_out)) (Glorot and Bengio)."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
                   ) -> Tensor:
    """Normal with std gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        return 0.0
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Generator | None = None
                     ) -> Tensor:
    """Uniform in +-sqrt(3) * gain / sqrt(fan) (He et al.); ``nn.Linear``'s start, with
    a = sqrt(5)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Generator | None = None
                    ) -> Tensor:
    """Normal with std gain / sqrt(fan)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Values drawn from N(mean, std**2) truncated to [a, b]: draws outside are drawn
    again (so [a, b] must hold a fair share of the distribution)::

        nn.init.trunc_normal_(layer.weight, std=0.02, a=-0.04, b=0.04)
    """
    _random_fill(tensor, "trunc_normal_")
    if a > b:
        raise RuntimeError(f"trunc_normal_: a={a} > b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    # the share of N(mean, std**2) in [a, b] (std 0 divides by zero, as PyTorch's does)
    low, high = erfc(np.array([(a - mean) / std, (b - mean) / std]) / math.sqrt(2))
    share = float(low - high) / 2
    if share < 1e-4:
        raise NotImplementedError(f"trunc_normal_: [{a}, {b}] holds {share:.3g} of "
                                  f"N({mean}, {std}**2); under 1e-4 is not supported")
    draws = rng(generator)
    values = mean + std * draws.standard_normal(tensor._data.shape)
    outside = (values < a) | (values > b)
    while outside.any():  # each round keeps a share ``share`` of what it redraws
        values[outside] = mean + std * draws.standard_normal(int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: Generator | None = None
                ) -> Tensor:
    """An orthogonal matrix times ``gain`` (for 3 or more dimensions, of dimension 0 by the
    rest flattened): orthonormal rows, or columns where there are fewer: Q of the QR of a
    normal draw, each column's sign that of R's diagonal entry (Saxe et al.)::

        nn.init.orthogonal_(rnn.weight_hh_l0)
    """
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if not tensor._data.size:
        return tensor
    _random_fill(tensor, "orthogonal_")
    rows = shape[0]
    cols = tensor._data.size // rows
    drawn = rng(generator).standard_normal((rows, cols))
    tall = drawn if rows >= cols else drawn.T
    q, r = np.linalg.qr(tall)
    q *= np.sign(np.diag(r))  # a unique Q: R's diagonal made positive
    return _fill(tensor, gain * (q if rows >= cols else q.T).reshape(shape))


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the diagonal of a 2-D tensor, of any shape)::

        nn.init.eye_(layer.weight)  # Linear(n, n) passes its input through
    """
    if tensor._data.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor._data.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta for a 3-, 4- or 5-D convolution weight: a one at the kernel's centre
    from each input channel to the output channel of the same number (in each of
    ``groups``), so that the convolution passes its input through::

        nn.init.dirac_(conv.weight)  # Conv2d(c, c, 3, padding=1): the identity
    """
    shape = tensor._data.shape
    if len(shape) not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if shape[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = shape[0] // groups
    values = np.zeros(shape)
    centre = tuple(size // 2 for size in shape[2:])
    for group in range(groups):
        for channel in range(min(per_group, shape[1])):
            values[(group * per_group + channel, channel) + centre] = 1
    return _fill(tensor, values)


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Generator | None = None) -> Tensor:
    """A 2-D tensor drawn from N(0, std**2), then ceil(``sparsity`` * rows) entries of each
    column, picked at random, set to zero (Martens)::

        nn.init.sparse_(layer.weight, sparsity=0.1)
    """
    if tensor._data.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    _random_fill(tensor, "sparse_")
    rows, cols = tensor._data.shape
    zeros = int(math.ceil(sparsity * rows))
    draws = rng(generator)
    values = std * draws.standard_normal((rows, cols))
    for col in range(cols):
        values[draws.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)


# ---- PyTorch's old names, without the underscore: deprecated, with its warning ----------------


def _deprecated(function: Any) -> Any:
    """``function`` under its old name (``normal`` for ``normal_``), warning as PyTorch's."""
    new_name = function.__name__
    old_name = new_name[:-1]

    def old(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
                      FutureWarning, stacklevel=2)
        return function(*args, **kwargs)

    old.__name__ = old.__qualname__ = old_name
    old.__doc__ = f"Deprecated: ``{new_name}``."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
