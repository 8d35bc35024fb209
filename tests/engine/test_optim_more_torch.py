"""RMSprop, Adagrad, Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD held against PyTorch's step by
step: the parameters and each parameter's state after every step (float64 to 1e-12, float32 to
float32's rounding), the state dicts' layout, a run resumed from a state dict (ours or
PyTorch's) equal to one straight through, a learning-rate schedule, and PyTorch's errors.
Skipped without torch (test_optim_more.py checks RMSprop and Adagrad by hand)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad
from tensorgrad import Tensor, optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 2), (4,), ()]
RTOL = {np.float64: 1e-12, np.float32: 1e-5}

# (optimizer, settings): the defaults, then each flag on
CASES: list[tuple[str, dict[str, Any]]] = [
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.05, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"momentum": 0.8}),
    ("RMSprop", {"centered": True}),
    ("RMSprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.3}),
    ("Adagrad", {"initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"weight_decay": 0.2, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"betas": (0.5, 0.8), "eps": 1e-3, "weight_decay": 0.1}),
    ("Adamax", {"maximize": True}),
    ("NAdam", {}),
    ("NAdam", {"momentum_decay": 0.1, "betas": (0.8, 0.9)}),
    ("NAdam", {"weight_decay": 0.1}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("RAdam", {}),
    # beta2 small enough for the rectified update from the 2nd step (rho_t > 5)
    ("RAdam", {"betas": (0.9, 0.6), "lr": 0.01}),
    ("RAdam", {"betas": (0.9, 0.6), "weight_decay": 0.1}),
    ("RAdam", {"betas": (0.9, 0.6), "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3}),
    ("Adadelta", {"weight_decay": 0.1, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.1, "etas": (0.3, 1.5), "step_sizes": (0.01, 0.2)}),
    ("Rprop", {"maximize": True}),
    ("ASGD", {}),
    ("ASGD", {"lr": 0.1, "lambd": 0.05, "alpha": 0.5, "weight_decay": 0.1}),
    ("ASGD", {"t0": 1, "maximize": True}),  # (averaging from the second step on)
]


def _ids(case: tuple[str, dict[str, Any]]) -> str:
    name, settings = case
    return f"{name}({', '.join(f'{k}={v}' for k, v in settings.items())})"


def _set_default_dtypes(dtype: Any) -> Any:
    """Give both libraries the default dtype ``dtype`` (NAdam's mu_product takes it: float64
    or float32); yield, then put theirs back."""
    theirs, ours = torch.get_default_dtype(), tensorgrad.get_default_dtype()
    torch.set_default_dtype(torch.float64 if dtype == np.float64 else torch.float32)
    tensorgrad.set_default_dtype(np.dtype(dtype))
    yield dtype
    torch.set_default_dtype(theirs)
    tensorgrad.set_default_dtype(ours)


@pytest.fixture(params=[np.float64, np.float32], ids=["float64", "float32"])
def dtype(request: pytest.FixtureRequest) -> Any:
    """The parameters' dtype, and both libraries' default dtype."""
    yield from _set_default_dtypes(request.param)


@pytest.fixture
def float64_defaults() -> Any:
    """Both libraries' default dtype float64 (PyTorch's is float32: ours is float64)."""
    yield from _set_default_dtypes(np.float64)


@pytest.fixture(params=[np.float64, np.float32], ids=["default float64", "default float32"])
def defaults(request: pytest.FixtureRequest) -> Any:
    """Both libraries' default dtype, either (float64 parameters under a float32 default:
    NAdam's mu_product is float32 until loaded, then float64, as PyTorch's)."""
    yield from _set_default_dtypes(request.param)


def _arrays(dtype: Any, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(dtype) for shape in SHAPES]


def _grads(step: int, dtype: Any) -> list[np.ndarray | None]:
    """Step ``step``'s gradients; the second parameter has none at step 2 (left alone)."""
    grads: list[np.ndarray | None] = list(_arrays(dtype, seed=100 + step))
    if step == 2:
        grads[1] = None
    return grads


class Run:
    """One optimizer of either library over its own copies of the parameters, in two
    groups (the last parameter with a learning rate of its own)."""

    def __init__(self, lib: Any, name: str, settings: dict[str, Any], values: list[np.ndarray],
                 schedule: bool = False):
        self.lib = lib
        self.params = [lib.tensor(v.copy(), requires_grad=True) for v in values]
        lr = settings.get("lr", 0.01) / 2
        self.opt = getattr(lib.optim, name)(
            [{"params": self.params[:2]}, {"params": self.params[2:], "lr": lr}], **settings)
        self.scheduler = lib.optim.lr_scheduler.ExponentialLR(self.opt, 0.7) if schedule else None

    def step(self, grads: list[np.ndarray | None]) -> None:
        for p, g in zip(self.params, grads):
            p.grad = None if g is None else self.lib.tensor(g.copy())
        self.opt.step()
        if self.scheduler is not None:
            self.scheduler.step()

    def values(self) -> list[np.ndarray]:
        return [np.array(p.detach().numpy()) for p in self.params]


def _check(ours: Run, theirs: Run, what: str, rtol: float) -> None:
    """The same parameters, state (keys in order, values) and groups' settings."""
    for i, (a, b) in enumerate(zip(ours.params, theirs.params)):
        assert_same(a.detach(), b, f"{what}: parameter {i}", rtol)
    mine, their = ours.opt.state_dict(), theirs.opt.state_dict()
    assert sorted(mine["state"]) == sorted(their["state"]), what
    for number, state in their["state"].items():
        assert list(mine["state"][number]) == list(state), f"{what}: state {number}'s keys"
        for key, value in state.items():
            if key == "step":
                assert mine["state"][number][key] == float(value), f"{what}: step of {number}"
            else:
                assert_same(mine["state"][number][key], value, f"{what}: {key} of {number}",
                            rtol)
    assert mine["param_groups"] == their["param_groups"], what


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_steps_state_and_settings_match_torch(case: tuple[str, dict[str, Any]], dtype: Any):
    name, settings = case
    values = _arrays(dtype)
    ours, theirs = Run(tensorgrad, name, settings, values), Run(torch, name, settings, values)
    _check(ours, theirs, f"{name} made", RTOL[dtype])
    for step in range(5):
        grads = _grads(step, dtype)
        ours.step(grads)
        theirs.step(grads)
        _check(ours, theirs, f"{name} step {step}", RTOL[dtype])


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_a_run_resumed_from_a_state_dict_is_held_against_torch(
        case: tuple[str, dict[str, Any]], defaults: Any):
    name, settings = case
    values = _arrays(np.float64)
    straight, theirs = Run(tensorgrad, name, settings, values), Run(torch, name, settings, values)
    for step in range(3):
        straight.step(_grads(step, np.float64))
        theirs.step(_grads(step, np.float64))
    # into fresh optimizers (their settings are the state dict's): ours from our state dict
    # and from PyTorch's, PyTorch's from its own
    resumed = Run(tensorgrad, name, {**settings, "lr": 0.123}, straight.values())
    resumed.opt.load_state_dict(straight.opt.state_dict())
    crossed = Run(tensorgrad, name, {**settings, "lr": 0.123}, theirs.values())
    crossed.opt.load_state_dict(theirs.opt.state_dict())
    their_resumed = Run(torch, name, {**settings, "lr": 0.123}, theirs.values())
    # (a copy: PyTorch's optimizers would share the state tensors, each updating them)
    their_resumed.opt.load_state_dict(copy.deepcopy(theirs.opt.state_dict()))
    runs = (straight, theirs, resumed, crossed, their_resumed)
    for step in range(3, 6):
        for run in runs:
            run.step(_grads(step, np.float64))
    _check(straight, theirs, f"{name} straight through", 1e-12)
    _check(resumed, their_resumed, f"{name} resumed", 1e-12)
    _check(crossed, their_resumed, f"{name} resumed from PyTorch's", 1e-12)
    if name == "NAdam" and defaults == np.float32:
        # PyTorch's own quirk, kept: a loaded mu_product takes the parameter's dtype, so
        # the resumed run multiplies it in float64 where the first multiplied in float32
        return
    for a, b in zip(resumed.values(), straight.values()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam",
                                  "Adadelta"])
def test_a_learning_rate_schedule_is_followed(name: str, float64_defaults: Any):
    values = _arrays(np.float64)
    ours = Run(tensorgrad, name, {"lr": 0.1}, values, schedule=True)
    theirs = Run(torch, name, {"lr": 0.1}, values, schedule=True)
    for step in range(4):
        ours.step(_grads(step, np.float64))
        theirs.step(_grads(step, np.float64))
        _check(ours, theirs, f"{name} step {step}", 1e-12)


ERRORS: list[tuple[str, dict[str, Any]]] = [
    ("RMSprop", {"lr": -1.0}),
    ("RMSprop", {"eps": -1e-8}),
    ("RMSprop", {"momentum": -0.5}),
    ("RMSprop", {"weight_decay": -0.1}),
    ("RMSprop", {"alpha": -0.9}),
    ("Adagrad", {"lr": -0.01}),
    ("Adagrad", {"lr_decay": -1.0}),
    ("Adagrad", {"weight_decay": -1.0}),
    ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}),
    ("Adamax", {"lr": -1.0}),
    ("Adamax", {"eps": -1.0}),
    ("Adamax", {"betas": (1.0, 0.999)}),
    ("Adamax", {"betas": (0.9, -0.1)}),
    ("Adamax", {"weight_decay": -1.0}),
    ("NAdam", {"lr": -1.0}),
    ("NAdam", {"betas": (0.9, 1.5)}),
    ("NAdam", {"momentum_decay": -1.0}),
    ("NAdam", {"weight_decay": -1.0}),
    ("RAdam", {"eps": -1.0}),
    ("RAdam", {"betas": (-0.1, 0.9)}),
    ("RAdam", {"weight_decay": -1.0}),
    ("Adadelta", {"lr": -1.0}),
    ("Adadelta", {"rho": 1.5}),
    ("Adadelta", {"rho": -0.5}),
    ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    ("Rprop", {"lr": -1.0}),
    ("Rprop", {"etas": (1.5, 1.2)}),
    ("Rprop", {"etas": (0.5, 0.9)}),
    ("ASGD", {"lr": -1.0}),
    ("ASGD", {"weight_decay": -1.0}),
]


@pytest.mark.parametrize("case", ERRORS, ids=_ids)
def test_invalid_settings_raise_torchs_errors(case: tuple[str, dict[str, Any]]):
    name, settings = case
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **settings)
    with pytest.raises(ValueError) as ours:
        getattr(optim, name)([Tensor(np.zeros(2), requires_grad=True)], **settings)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam",
                                  "Adadelta", "Rprop", "ASGD"])
def test_kernel_choices_are_taken_where_torch_takes_them(name: str):
    import inspect

    taken = inspect.signature(getattr(torch.optim, name)).parameters
    ours = inspect.signature(getattr(optim, name)).parameters
    # the same arguments, in the same order, of the same kinds and defaults
    assert [(k, v.kind, v.default) for k, v in ours.items()] == [
        (k, v.kind, v.default) for k, v in taken.items()]
    p = Tensor(np.zeros(2), requires_grad=True)
    for flag in ("differentiable", "capturable"):
        if flag in ours:
            getattr(optim, name)([p], **{flag: False})
            with pytest.raises(ValueError, match=f"{flag}=True is not supported"):
                getattr(optim, name)([p], **{flag: True})
    for flag in ("foreach", "fused"):  # the same update, as PyTorch's CPU optimizers take them
        if flag in ours:
            for value in (None, False, True):
                getattr(optim, name)([p], **{flag: value})
