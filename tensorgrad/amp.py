"""``torch.amp`` for code written for it: ``GradScaler``, ``autocast``, and the decorators of
a custom Function's forward and backward under autocast (``custom_fwd``, ``custom_bwd``).

A ``GradScaler`` multiplies the loss by a large scale before its backward, so that small
float16 gradients do not underflow, and divides the gradients by it again before the
optimizer's step. Here every tensor computes in its own dtype (there is no float16 compute
and no GPU), so scaling buys nothing; it is here so that training scripts that use it run
unchanged, and it does what PyTorch's does: for the CPU it scales and unscales, skips a step
whose gradients are not all finite and adapts the scale; for a GPU (``"cuda"``, which
``torch.cuda.amp.GradScaler`` means) it disables itself with a warning, as PyTorch's does
where there is none, and passes everything through. ``autocast`` casts nothing: every op
computes in its tensors' own dtypes (NumPy has no bfloat16), and an enabled one says so.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any

import numpy as np

from .tensor import Tensor

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Loss scaling, as PyTorch's ``torch.amp.GradScaler(device, init_scale, growth_factor,
    backoff_factor, growth_interval, enabled)``::

        scaler = tg.amp.GradScaler("cpu")
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # the gradients unscaled; skipped if one is inf or NaN
        scaler.update()  # the scale halves after a skipped step, doubles after 2000 good ones
    """

    _caller = 2  # the stack level of the code that made it, for the warning

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if enabled and device != "cpu":
            warnings.warn(f"GradScaler is enabled for {device!r}, but tensorgrad runs on the "
                          "CPU only: disabling it", UserWarning, stacklevel=self._caller)
            enabled = False
        if enabled:
            if not init_scale > 0.0:
                raise ValueError(f"The initial scale must be positive, not {init_scale}")
            if not growth_factor > 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if not 0.0 < backoff_factor < 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
            if not (isinstance(growth_interval, int) and growth_interval > 0):
                raise ValueError("growth_interval must be a positive integer.")
        self._enabled = enabled
        self._scale, self._growth_factor = float(init_scale), float(growth_factor)
        self._backoff_factor, self._growth_interval = float(backoff_factor), growth_interval
        self._growth_tracker = 0
        self._stages: dict[int, str] = {}  # by id(optimizer), since the last update()
        self._found_inf: dict[int, bool] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The scale now (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or tensors in lists and tuples) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(x) for x in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place of them; note whether one
        is inf or NaN. At most once per optimizer between two ``update()``s."""
        if not self._enabled:
            return
        key = id(optimizer)
        stage = self._stages.get(key, _READY)
        if stage == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if stage == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse, found = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                grad = p._grad * p._grad.dtype.type(inverse)
                found = found or not bool(np.isfinite(grad).all())
                p.grad = grad
        self._found_inf[key] = found
        self._stages[key] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` on the unscaled gradients, unless one of them is inf or NaN
        (then the step is skipped, and None returned)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        key = id(optimizer)
        if self._stages.get(key, _READY) == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if self._stages.get(key, _READY) == _READY:
            self.unscale_(optimizer)
        result = None if self._found_inf[key] else optimizer.step(*args, **kwargs)
        self._stages[key] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Set the scale for the next steps: ``new_scale``, or by the steps since the last
        update: times the backoff factor if one found an inf or NaN, times the growth factor
        after ``growth_interval`` steps without one."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor)
                                else new_scale)
        else:
            if not self._found_inf:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(self._found_inf.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._stages.clear()
        self._found_inf.clear()

    def state_dict(self) -> dict[str, Any]:
        """The scale and its settings (empty when disabled), as PyTorch's keys."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


class autocast:  # noqa: N801 (PyTorch's name)
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``, as a
    context manager or a decorator: the block runs as it would without it, since every op here
    computes in its tensors' own dtypes; enabled, it warns that nothing is cast."""

    def __init__(self, device_type: str = "cpu", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device_type, self.enabled = device_type, bool(enabled)

    def __enter__(self) -> None:
        if self.enabled:
            warnings.warn("autocast: tensorgrad computes every op in its tensors' own dtypes "
                          "(NumPy has no bfloat16): nothing is cast", UserWarning, stacklevel=2)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        return None

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def autocasting(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)
        return autocasting


# the device types PyTorch's device strings may name
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
                 "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast`` takes ``device_type``: every device type PyTorch names (it casts
    nothing here, on any)."""
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start "
                           f"of device string: {device_type}")
    return True


def custom_fwd(fwd: Callable[..., Any] | None = None, *, device_type: str,
               cast_inputs: Any = None) -> Any:
    """Decorate a custom ``autograd.Function``'s forward for autocast regions, as
    ``torch.amp.custom_fwd``: PyTorch casts its floating inputs to ``cast_inputs`` inside an
    enabled autocast region; autocast here casts nothing, so the forward runs as written::

        @staticmethod
        @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
        def forward(ctx, x): ...
    """
    is_autocast_available(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    return fwd


def custom_bwd(bwd: Callable[..., Any] | None = None, *, device_type: str) -> Any:
    """Decorate a custom ``autograd.Function``'s backward, as ``torch.amp.custom_bwd``: it
    runs in the forward's autocast state, which here is always no casting."""
    is_autocast_available(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
