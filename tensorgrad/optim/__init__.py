"""torch.optim's optimizers: ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``,
``Adamax``, ``NAdam``, ``RAdam``, ``Adadelta``, ``Rprop``, ``ASGD`` and ``LBFGS``, with
parameter groups.

As PyTorch's: ``param_groups`` is a list of dicts, each with its ``params`` and its own
settings (``lr``, ``weight_decay``, ...), which a schedule may change between steps; a
parameter without a gradient is left alone (moments too); each parameter counts its own
steps; ``state_dict()`` has PyTorch's layout (``state`` by parameter number,
``param_groups`` with numbers for ``params``), with NumPy arrays for the tensors.

Adam and AdamW keep the values of each group's parameters of one dtype end to end in one
flat buffer (each ``p._data`` becomes a view of it), so that an update is a dozen NumPy
calls however many tensors there are (speed: benchmarks/SPEED.md, "Second round", and
"Issue #16" for the chunks).

``lr_scheduler`` (torch.optim.lr_scheduler's schedulers), ``per_parameter`` (the optimizers
that update one parameter at a time: ``RMSprop`` to ``ASGD``) and ``lbfgs`` are imported when
first used.
"""

from __future__ import annotations

import functools
import importlib
import types
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..grad_mode import enable_grad
from ..tensor import RemovableHandle, Tensor, clear_grads, note_in_place_write, quiet
from ..threads import run_each

__all__ = ["ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "lr_scheduler", "swa_utils"]

if TYPE_CHECKING:
    from . import lr_scheduler as lr_scheduler  # (the alias: a re-export, for type checkers)

# speed: values updated at a time, and the chunks a thread takes at least: fewer calls hand
# the GIL over less often between threads (benchmarks/SPEED.md, "Both cores")
_CHUNK = 1 << 17
_CHUNKS_PER_THREAD = 2
# PyTorch's kernel choices that ask for more than the update itself (state on a device, a
# step that autograd records): refused. ``foreach`` and ``fused`` only ask for the same update
# computed another way: accepted, as PyTorch's CPU optimizers accept them
_REFUSED_KERNELS = ("capturable", "differentiable")


def _type_name(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def check_kernels(name: str, settings: dict[str, Any]) -> None:
    """PyTorch's kernel choices are accepted where they ask for what is done here anyway."""
    if settings.get("fused") and settings.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    for key in _REFUSED_KERNELS:
        if settings.get(key):
            raise ValueError(f"{name}: {key}=True is not supported (tensorgrad has one CPU "
                             f"implementation); leave it False or None")


def _loss_of(closure: Callable[[], Any] | None) -> Any:
    """What ``step(closure)`` returns: the loss the closure recomputes, with gradients."""
    if closure is None:
        return None
    with enable_grad():
        return closure()

class Optimizer:
    """The base of the optimizers: parameter groups, ``zero_grad``, ``state_dict``.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each with
    ``"params"`` and any settings of its own; settings a group leaves out come from
    ``defaults``. ``state`` maps each parameter to its own state (a dict).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_type_name(params)}")
        self.defaults = defaults
        # a defaultdict as PyTorch's: a subclass's step() may start with `self.state[p]`
        self._state: dict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with settings of its own (the rest: the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{_type_name(p)}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor (optimizer parameters must "
                                 "be leaf tensors)")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer got the same parameter twice in one group")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**param_group, "params": params}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)
        self._group_added(group)

    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """Each parameter's state (a dict: its step count, moments, ...) by parameter."""
        return self._state

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise for settings this optimizer cannot run with (each subclass its own)."""

    def _group_added(self, group: dict[str, Any]) -> None:
        """Set up what a new group needs (each subclass its own)."""

    @property
    def lr(self) -> float:
        """The first group's learning rate; setting it sets every group's (a schedule's
        shorthand for ``for g in opt.param_groups: g["lr"] = value``)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for group in self.param_groups:
            group["lr"] = value

    @property
    def params(self) -> list[Tensor]:
        """Every group's parameters, in order."""
        return [p for group in self.param_groups for p in group["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every ``.grad`` to None, or with ``set_to_none=False`` fill it with zeros."""
        for group in self.param_groups:
            if set_to_none:
                clear_grads(group["params"])
                continue
            for p in group["params"]:
                if p._grad is not None:  # in place, seen by what saved it (as PyTorch's zero_)
                    p._grad[...] = 0
                    note_in_place_write(p._grad)

    @quiet  # an inf or NaN gradient updates to inf or NaN without a warning, as in PyTorch
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure``, if given,
        recomputes the loss (with gradients) first and its result is returned."""
        loss = _loss_of(closure)
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} defines no step()")

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step()``, ``args`` beginning
        with the optimizer as PyTorch's; it may return new ``(args, kwargs)`` for the step.
        ``remove()`` on the handle returned unregisters it."""
        self._hook_steps()
        return _registered(self.__dict__.setdefault("_step_pre_hooks", []), hook)

    def register_step_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step()``."""
        self._hook_steps()
        return _registered(self.__dict__.setdefault("_step_post_hooks", []), hook)

    def _hook_steps(self) -> None:
        """Run this optimizer's steps through its hooks from now on (speed: an optimizer
        without hooks steps without the detour)."""
        if "_step_hooked" not in self.__dict__:
            self.__dict__["step"] = _with_step_hooks(self, self.step)
            self.__dict__["_step_hooked"] = True

    # ---- state_dict ---------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: ``state`` by parameter number (numbered through the groups in
        order; copies of the arrays) and ``param_groups`` (settings, ``params`` numbers)."""
        numbers: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            start = len(numbers)
            numbers.update((id(p), start + i) for i, p in enumerate(group["params"]))
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(start, len(numbers)))})
        state = {numbers[id(p)]: {k: v.copy() if isinstance(v, np.ndarray) else v
                                  for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in numbers}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state and the groups' settings of ``state_dict()``'s layout (PyTorch's
        too: tensors are read as arrays). Without ``param_groups`` the settings stay."""
        params = self.params
        saved_groups = state_dict.get("param_groups")
        if saved_groups is not None:
            if len(saved_groups) != len(self.param_groups):
                raise ValueError("loaded state dict has a different number of parameter groups")
            if any(len(g["params"]) != len(s["params"])
                   for g, s in zip(self.param_groups, saved_groups)):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            order = [i for s in saved_groups for i in s["params"]]
        else:
            order = list(range(len(params)))
        by_number = dict(zip(order, params))
        state = state_dict["state"]
        unknown = sorted(set(state) - set(by_number))
        if unknown:
            raise ValueError(f"optimizer state for parameters {unknown}, but this optimizer's "
                             f"are numbered {sorted(by_number)}")
        loaded = {}
        for number, saved in state.items():
            p = by_number[number]
            loaded[p] = {key: self._state_value(key, value, p) for key, value in saved.items()}
        if saved_groups is not None:
            for group, saved in zip(self.param_groups, saved_groups):
                settings = {k: v for k, v in saved.items() if k != "params"}
                check_kernels(type(self).__name__, settings)
                self._check_group({**group, **settings})
                group.update(settings)
        self._set_state(loaded)

    @staticmethod
    def _state_value(key: str, value: Any, p: Tensor) -> Any:
        if key == "step":
            step = float(np.asarray(value))
            if step < 0 or step != int(step):
                raise ValueError(f"optimizer state: a step count of {step}")
            return int(step)
        if value is None:
            return None
        # a copy: the optimizer updates its state in place, the caller's arrays stay theirs
        array = np.asarray(value._data if isinstance(value, Tensor) else value).astype(
            p._data.dtype, copy=True)
        if array.shape != p._data.shape:
            raise ValueError(f"optimizer state: {key} of shape {array.shape} for a parameter "
                             f"of shape {p._data.shape}")
        return array

    def _set_state(self, loaded: dict[Tensor, dict[str, Any]]) -> None:
        """Replace the state by ``loaded`` (parameters not in it start afresh)."""
        self._state = defaultdict(dict, loaded)

    def __getstate__(self) -> dict[str, Any]:
        # A scheduler wraps this optimizer's step (lr_scheduler: to warn of a step out of
        # order) with a function tied to this object: a copy or a pickle goes without it, as
        # PyTorch's, and steps itself.
        # (the step hooks neither: PyTorch's copy has none)
        return {key: value for key, value in self.__dict__.items()
                if key not in ("step", "_lr_sched_stepped", "_step_pre_hooks",
                               "_step_post_hooks", "_step_hooked")}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def checked_grad(optimizer: str, p: Tensor) -> np.ndarray:
    """``p.grad``, if it still has ``p``'s shape and dtype: the ``grad`` setter checks them,
    but an array's shape and dtype can be changed in place (``p.grad.shape = ...``)."""
    g: np.ndarray = p._grad  # type: ignore[assignment]  # (the caller checked it is not None)
    data = p._data
    # speed: dtypes by identity first (benchmarks/SPEED.md, "Function.apply")
    if g.shape != data.shape or (g.dtype is not data.dtype and g.dtype != data.dtype):
        raise RuntimeError(f"{optimizer}: a parameter of shape {p._data.shape} and dtype "
                           f"{p._data.dtype} has a gradient of shape {g.shape} and dtype "
                           f"{g.dtype}; a gradient has its parameter's shape and dtype")
    return g


def check_number(what: str, value: Any, low: float = 0.0) -> None:
    if not value >= low:
        raise ValueError(f"Invalid {what}: {value}")


# ---- SGD ----------------------------------------------------------------------------------------


def _registered(hooks: list[Any], hook: Callable[..., Any]) -> RemovableHandle:
    entry = _StepHook(hook)
    hooks.append(entry)
    return RemovableHandle(hooks, entry)


class _StepHook:
    """One registered step hook (its own object: a function registered twice is two)."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function


def _with_step_hooks(optimizer: Optimizer, step: Callable[..., Any]) -> Callable[..., Any]:
    """``optimizer``'s ``step`` running its step hooks around it; the hooks get the optimizer
    first in ``args``, as PyTorch's, and a pre-hook's new ``args`` keep it. The optimizer is
    held weakly: it holds this function."""
    owner, unbound = weakref.ref(optimizer), unbound_step(step)

    @functools.wraps(step)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        stepping = owner()
        full = (stepping, *args)
        for entry in list(stepping.__dict__.get("_step_pre_hooks", ())):
            result = entry.function(stepping, full, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer_pre_hook must return None or a tuple of "
                                       f"(new_args, new_kwargs), but got {result}.")
                full, kwargs = result
        out = unbound(stepping, *full[1:], **kwargs)
        for entry in list(stepping.__dict__.get("_step_post_hooks", ())):
            entry.function(stepping, full, kwargs)
        return out
    return hooked


def unbound_step(step: Callable[..., Any]) -> Callable[..., Any]:
    """An optimizer's ``step`` as a function that takes the optimizer first: a method's own
    function, or a wrapper put in its place before (a schedule's, the hooks'), which finds
    its optimizer itself."""
    if isinstance(step, types.MethodType):
        return step.__func__
    return lambda _optimizer, *args, **kwargs: step(*args, **kwargs)


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum (Nesterov's too) and weight decay::

        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    As PyTorch's: g = grad + weight_decay * p; with momentum, buf = momentum * buf +
    (1 - dampening) * g (buf = g at first) and g = buf (Nesterov: g + momentum * buf);
    p -= lr * g (``maximize``: +=).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None):
        check_kernels("SGD", {"foreach": foreach, "differentiable": differentiable,
                               "fused": fused})
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": nesterov,
                                  "maximize": maximize, "foreach": foreach,
                                  "differentiable": differentiable, "fused": fused})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("momentum value", group["momentum"])
        check_number("weight_decay value", group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _step_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        for p in group["params"]:
            if p._grad is None:
                continue
            g = checked_grad("SGD", p)
            if group["maximize"]:
                g = -g
            if weight_decay:
                g = g + weight_decay * p._data
            if momentum:
                state = self._state.setdefault(p, {})
                buffer = state.get("momentum_buffer")
                if buffer is None:
                    buffer = g.copy()
                else:
                    buffer *= momentum
                    buffer += (1 - dampening) * g
                state["momentum_buffer"] = buffer
                g = g + momentum * buffer if group["nesterov"] else buffer
            p._data -= lr * g
            note_in_place_write(p._data)  # a graph that saved p before the step is out of date


# ---- Adam and AdamW -----------------------------------------------------------------------------


class _Params(list):
    """A group's ``params``: a list that counts its changes, so that Adam sees in one
    comparison per step whether its flat buffers still hold the group's parameters."""

    changes = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # a copy (copy.deepcopy, pickle) with the count as it stands: list's own way would
        # append the items one by one and count each
        return _Params, (list(self),), {"changes": self.changes}


def _counting(name: str) -> Callable[..., Any]:
    plain = getattr(list, name)

    def changing(self: _Params, *args: Any, **kwargs: Any) -> Any:
        self.changes += 1
        return plain(self, *args, **kwargs)

    return changing


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend",
              "insert", "pop", "remove", "clear", "sort", "reverse"):
    setattr(_Params, _name, _counting(_name))


class _Flat:
    """Parameters of one group and dtype with their values end to end in one buffer, the
    moments beside it, and each parameter's step count."""

    def __init__(self, params: list[Tensor], amsgrad: bool):
        self.params = params
        self.values = np.concatenate([p._data.ravel() for p in params])
        bounds = np.cumsum([0, *(p._data.size for p in params)]).tolist()
        self.slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        self.views = [self.values[s].reshape(p._data.shape) for p, s in zip(params, self.slices)]
        for p, view in zip(params, self.views):
            p._data = view
        self.m = np.zeros_like(self.values)  # first moments
        self.v = np.zeros_like(self.values)  # second moments
        self.v_max = np.zeros_like(self.values) if amsgrad else None
        self.grad = np.empty_like(self.values)  # scratch: the gradients, gathered
        self.scratch = np.empty_like(self.values)
        self.chunks = [slice(start, start + _CHUNK) for start in range(0, self.values.size,
                                                                       _CHUNK)]
        # The step count of every parameter while they agree (the usual case: one number
        # to count); None once they differ, and then ``steps`` holds each one's.
        self.common_step: int | None = 0
        self.steps = [0] * len(params)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A copy's arrays come apart: its views are copies of their own, and so is each
        # parameter's data that was one of them (the same array: copies are memoized). Views
        # of the copied values take their places, so that the copy updates its parameters.
        self.__dict__.update(state)
        views = [self.values[s].reshape(view.shape) for s, view in zip(self.slices, self.views)]
        for p, copied, view in zip(self.params, self.views, views):
            if p._data is copied:  # (else p._data was replaced: the next step takes it in)
                p._data = view
        self.views = views

    def raveled(self, grads: list[Any]) -> list[np.ndarray]:
        """The parameters' gradients (arrays, none missing), flat, if each has its parameter's
        shape and dtype (``checked_grad``'s test in one call for all: speed, benchmarks/
        SPEED.md, "Function.apply")."""
        dtype = self.values.dtype
        for p, g, view in zip(self.params, grads, self.views):
            if g.shape != view.shape or (g.dtype is not dtype and g.dtype != dtype):
                checked_grad("Adam", p)  # raises, saying what does not fit
        return [g.ravel() for g in grads]

    def usual_grads(self) -> list[np.ndarray] | None:
        """The gradients, flat, if every parameter holds its view still and has a gradient
        of its shape and dtype (the usual step, known in one pass: speed, benchmarks/
        SPEED.md, "Round seven"); None if any does not, for ``raveled`` to look closer."""
        dtype, grads = self.values.dtype, []
        for p, view in zip(self.params, self.views):
            g = p._grad
            if p._data is not view or g is None or g.dtype is not dtype or g.shape != view.shape:
                return None
            grads.append(g.ravel())
        return grads

    def step_of(self, i: int) -> int:
        return self.steps[i] if self.common_step is None else self.common_step

    def set_steps(self, steps: list[int]) -> None:
        self.steps = steps
        self.common_step = steps[0] if len(set(steps)) == 1 else None

    def state_of(self, i: int) -> dict[str, Any]:
        """Parameter ``i``'s state as PyTorch's Adam keeps it: its step count and views of
        its moments."""
        part, shape = self.slices[i], self.params[i]._data.shape
        state = {"step": self.step_of(i), "exp_avg": self.m[part].reshape(shape),
                 "exp_avg_sq": self.v[part].reshape(shape)}
        if self.v_max is not None:
            state["max_exp_avg_sq"] = self.v_max[part].reshape(shape)
        return state

    def follow_replaced_data(self) -> None:
        """Take in the values of any ``p._data`` that was replaced since the last step."""
        for p, view in zip(self.params, self.views):
            if p._data is not view:
                data = np.asarray(p._data)
                if data.shape != view.shape:
                    raise ValueError(f"Adam: a parameter of shape {view.shape} was given data "
                                     f"of shape {data.shape}")
                if data.dtype != view.dtype:  # (its moments and buffer are of the old one)
                    raise ValueError(f"Adam: a {view.dtype} parameter was given {data.dtype} "
                                     "data; convert a model (.to(dtype)) before making its "
                                     "optimizer")
                view[...] = data
                note_in_place_write(view)
                p._data = view


def _update(p: np.ndarray, m: np.ndarray, v: np.ndarray, g: np.ndarray, tmp: np.ndarray,
            step: int, lr: float, beta1: float, beta2: float, eps: float,
            v_max: np.ndarray | None = None) -> None:
    """Adam's update, p -= lr * m_hat / (sqrt(v_hat) + eps), in place; ``g`` and ``tmp`` are
    scratch; with ``v_max`` (amsgrad), the largest second moments so far divide instead.

    The bias corrections c1 = 1 - beta1**t and c2 = 1 - beta2**t are folded into scalars,
    using sqrt(v_hat) + eps = (sqrt(v) + eps * sqrt(c2)) / sqrt(c2): one array division
    where microgpt.py's order of operations takes three (the results may differ from its
    in the last bits).
    """
    m_correction = 1 / (1 - beta1**step)
    v_correction = 1 / (1 - beta2**step)
    m *= beta1
    m += np.multiply(g, 1 - beta1, out=tmp)
    g *= g
    g *= 1 - beta2
    v *= beta2
    v += g
    if v_max is not None:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    np.sqrt(v, out=tmp)
    tmp += eps / v_correction**0.5
    np.divide(m, tmp, out=g)
    g *= lr * m_correction / v_correction**0.5
    p -= g


def _update_chunk(flat: _Flat, step: int, lr: float, beta1: float, beta2: float, eps: float,
                  part: slice) -> None:
    _update(flat.values[part], flat.m[part], flat.v[part], flat.grad[part], flat.scratch[part],
            step, lr, beta1, beta2, eps)


class Adam(Optimizer):
    """Adam with bias correction (Kingma and Ba), as PyTorch's ``optim.Adam``.

    ``weight_decay`` adds weight_decay * p to the gradient (L2), or with
    ``decoupled_weight_decay`` (``AdamW``) shrinks the weights apart from it;
    ``amsgrad`` divides by the largest second moment seen; ``maximize`` climbs::

        opt = optim.Adam(model.parameters(), lr=1e-3)
        loss.backward(); opt.step(); opt.zero_grad()

    The parameters' values move into flat buffers (each ``p._data`` becomes a view of one);
    assigning ``p._data`` later is fine: the next ``step()`` takes the new values in.
    ``state`` holds every parameter, step 0 before its first update.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False):
        name = type(self).__name__
        check_kernels(name, {"foreach": foreach, "capturable": capturable,
                              "differentiable": differentiable, "fused": fused})
        # by id of each group: its params list when flattened, the list's count of changes
        # then, and the flat buffers
        self._layouts: dict[int, tuple[_Params, int, list[_Flat]]] = {}
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": amsgrad,
                                  "maximize": maximize, "foreach": foreach,
                                  "capturable": capturable, "differentiable": differentiable,
                                  "fused": fused,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def _check_group(self, group: dict[str, Any]) -> None:
        check_number("learning rate", group["lr"])
        check_number("epsilon value", group["eps"])
        beta1, beta2 = group["betas"]
        for i, beta in enumerate((beta1, beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_number("weight_decay value", group["weight_decay"])
        check_kernels(type(self).__name__, group)

    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """Each parameter's step count and moments (views: writing into them writes the
        optimizer's), made when asked for."""
        return {p: flat.state_of(i) for group in self.param_groups
                for flat in self._flats_of(group) for i, p in enumerate(flat.params)}

    def _group_added(self, group: dict[str, Any]) -> None:
        self._flatten(group)

    def _flatten(self, group: dict[str, Any], loaded: dict[Tensor, dict[str, Any]] | None = None
                 ) -> list[_Flat]:
        """Move the group's parameters into flat buffers by dtype with the state of
        ``loaded`` (default: the state they have; parameters without one start afresh)."""
        if loaded is None:  # (a lazy module's parameter that got its shape starts afresh)
            loaded = {p: flat.state_of(i) for flat in self._layouts.get(id(group), (0, 0, ()))[2]
                      for i, p in enumerate(flat.params) if p._data.shape == flat.views[i].shape}
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for p in group["params"]:
            by_dtype.setdefault(p._data.dtype, []).append(p)
        flats = [_Flat(params, group["amsgrad"]) for params in by_dtype.values()]
        for flat in flats:
            steps = []
            for i, p in enumerate(flat.params):
                state = flat.state_of(i)
                saved = loaded.get(p, {})
                steps.append(saved.get("step", 0))
                for key, value in saved.items():
                    if key != "step" and key in state and value is not None:
                        state[key][...] = value
            flat.set_steps(steps)
        group["params"] = params = _Params(group["params"])
        # a lazy module's parameter without a shape yet (LazyLinear's, until its first call):
        # a count of changes never matched, so that each step lays the buffers out anew until
        # it has one, as PyTorch's Adam takes it then
        lazy = any(hasattr(p, "materialize") for p in params)
        self._layouts[id(group)] = params, -1 if lazy else params.changes, flats
        return flats

    def _flats_of(self, group: dict[str, Any]) -> list[_Flat]:
        """The group's flat buffers, made anew if its ``params`` list was changed."""
        held, changes, flats = self._layouts[id(group)]
        params = group["params"]
        if params is held and params.changes == changes:
            return flats
        return self._flatten(group)

    @quiet  # an inf or NaN gradient updates to inf or NaN without a warning, as in PyTorch
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure``, if given,
        recomputes the loss (with gradients) first and its result is returned."""
        loss = _loss_of(closure)
        for group in self.param_groups:
            flats = self._flats_of(group)
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            plain = not (group["weight_decay"] or group["maximize"] or group["amsgrad"])
            for flat in flats:
                # speed: the usual case (microgpt's) in the fewest calls (benchmarks/SPEED.md,
                # "Second round"); _update_any does it too, and every other case
                step = flat.common_step
                raveled = flat.usual_grads() if plain and step is not None else None
                if raveled is None:
                    flat.follow_replaced_data()
                    grads = [p._grad for p in flat.params]
                    present = [g is not None for g in grads]
                    if plain and step is not None and all(present):
                        raveled = flat.raveled(grads)
                    else:
                        if any(present):
                            self._update_any(flat, present, group)
                            note_in_place_write(flat.values)
                        continue
                assert step is not None
                flat.common_step = step = step + 1
                np.concatenate(raveled, out=flat.grad)
                # a graph that saved a parameter before the step is out of date
                note_in_place_write(flat.values)
                if len(flat.chunks) == 1:
                    _update(flat.values, flat.m, flat.v, flat.grad, flat.scratch, step, lr,
                            beta1, beta2, eps)
                    continue
                run_each(functools.partial(_update_chunk, flat, step, lr, beta1, beta2, eps),
                         flat.chunks, _CHUNKS_PER_THREAD)
        return loss

    def _update_any(self, flat: _Flat, present: list[bool], group: dict[str, Any]) -> None:
        """The update of the parameters that have gradients, each at its own step count
        (as PyTorch, a parameter without one is left alone, moments and count too), with
        any of weight decay, ``maximize`` and ``amsgrad``."""
        steps = [flat.step_of(i) + ok for i, ok in enumerate(present)]
        flat.set_steps(steps)
        by_step: dict[int, list[int]] = {}
        for i, ok in enumerate(present):
            if ok:
                by_step.setdefault(steps[i], []).append(i)
        for step, members in by_step.items():
            if len(members) == len(flat.params):  # all of them: the buffers themselves
                values, m, v, v_max = flat.values, flat.m, flat.v, flat.v_max
                g, scratch = flat.grad, flat.scratch
                np.concatenate([checked_grad("Adam", p).ravel() for p in flat.params], out=g)
                index = None
            else:  # some: copies of their parts, written back below
                index = np.concatenate([np.arange(flat.slices[i].start, flat.slices[i].stop)
                                        for i in members])
                values, m, v = flat.values[index], flat.m[index], flat.v[index]
                v_max = None if flat.v_max is None else flat.v_max[index]
                g = np.concatenate([checked_grad("Adam", flat.params[i]).ravel()
                                    for i in members])
                scratch = np.empty_like(values)
            if group["maximize"]:
                np.negative(g, out=g)
            lr, weight_decay = group["lr"], group["weight_decay"]
            if weight_decay and group["decoupled_weight_decay"]:  # AdamW: apart from the gradient
                values *= 1 - lr * weight_decay
            elif weight_decay:  # Adam: L2, through the gradient
                g += np.multiply(values, weight_decay, out=scratch)
            beta1, beta2 = group["betas"]
            _update(values, m, v, g, scratch, step, lr, beta1, beta2, group["eps"], v_max)
            if index is not None:
                flat.values[index], flat.m[index], flat.v[index] = values, m, v
                if flat.v_max is not None:
                    flat.v_max[index] = v_max

    def _set_state(self, loaded: dict[Tensor, dict[str, Any]]) -> None:
        """Write the loaded steps and moments into the flat buffers (parameters not in
        ``loaded`` start afresh)."""
        for group in self.param_groups:
            self._flatten(group, loaded)

    def __getstate__(self) -> dict[str, Any]:
        # the layouts by group, in order: a copy's groups are new dicts, with ids of their own
        state = super().__getstate__()
        state["_layouts"] = [self._layouts[id(group)] for group in self.param_groups]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        layouts = state.pop("_layouts")
        self.__dict__.update(state)
        self._layouts = {id(group): layout for group, layout in zip(self.param_groups, layouts)}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as PyTorch's
    ``optim.AdamW``: each step first multiplies the weights by 1 - lr * weight_decay.

    nanoGPT's use, two groups, the matrices decayed and the rest not::

        optim.AdamW([{"params": matrices, "weight_decay": 0.1},
                     {"params": vectors, "weight_decay": 0.0}], lr=6e-4, betas=(0.9, 0.95))
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)


# imported when first used (PEP 562): microgpt's command line imports this module for Adam and
# does not pay for the schedulers or the other optimizers at start-up
_PER_PARAMETER = ("ASGD", "Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop")


def __getattr__(name: str) -> object:
    if name in ("lr_scheduler", "swa_utils"):  # torch.optim's modules of these names
        return importlib.import_module(f".{name}", __name__)
    if name in _PER_PARAMETER:
        return getattr(importlib.import_module(".per_parameter", __name__), name)
    if name == "LBFGS":
        return importlib.import_module(".lbfgs", __name__).LBFGS
    if name == "Adafactor":
        return importlib.import_module(".adafactor", __name__).Adafactor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "lr_scheduler", "swa_utils", "LBFGS", "Adafactor",
                   *_PER_PARAMETER})
