"""PolynomialLR, CyclicLR and ChainedScheduler held against PyTorch's step by step, to the
last bit: the rates (and CyclicLR's momentum or betas), the state dicts, state dicts loaded
across libraries, schedules resumed with ``last_epoch``, jumps to an epoch and PyTorch's
errors. Skipped without torch (test_lr_scheduler_more.py checks the formulas)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tensorgrad import Tensor, optim
from tensorgrad.optim import lr_scheduler as ours

torch = pytest.importorskip("torch")

# an unexpected warning (a step out of order, say) fails the test
pytestmark = pytest.mark.filterwarnings("error")


class Halving:
    """A scale_fn with state (the same class for both libraries)."""

    def __init__(self) -> None:
        self.base = 2.0

    def __call__(self, x: float) -> float:
        return 1 / self.base ** (x - 1)


def _per_group(o: Any, *values: Any) -> list[Any]:
    return list(values[:len(o.param_groups)])


# one schedule, as PyTorch code builds it: L is either lr_scheduler module
CASES: dict[str, Callable[..., Any]] = {
    "PolynomialLR, defaults": lambda L, o, **kw: L.PolynomialLR(o, **kw),
    "PolynomialLR": lambda L, o, **kw: L.PolynomialLR(o, total_iters=17, power=0.9, **kw),
    "PolynomialLR, power 2": lambda L, o, **kw: L.PolynomialLR(o, 30, 2.0, **kw),
    "CyclicLR": lambda L, o, **kw: L.CyclicLR(o, 0.01, 0.1, step_size_up=4, **kw),
    "CyclicLR, per group, up and down": lambda L, o, **kw: L.CyclicLR(
        o, _per_group(o, 0.01, 0.002), _per_group(o, 0.1, 0.05), step_size_up=3,
        step_size_down=7, base_momentum=_per_group(o, 0.7, 0.8),
        max_momentum=tuple(_per_group(o, 0.9, 0.95)), **kw),
    "CyclicLR, triangular2": lambda L, o, **kw: L.CyclicLR(o, 0.01, 0.1, 3, mode="triangular2",
                                                           **kw),
    "CyclicLR, exp_range": lambda L, o, **kw: L.CyclicLR(o, 0.01, 0.1, 5, 2, mode="exp_range",
                                                         gamma=0.95, **kw),
    "CyclicLR, scale_fn of the step": lambda L, o, **kw: L.CyclicLR(
        o, 0.01, 0.1, 3, scale_fn=lambda x: 0.99**x, scale_mode="iterations", **kw),
    "CyclicLR, scale_fn object": lambda L, o, **kw: L.CyclicLR(o, 0.01, 0.1, 2,
                                                               scale_fn=Halving(), **kw),
    "CyclicLR, momentum left alone": lambda L, o, **kw: L.CyclicLR(
        o, 0.01, 0.1, 3, cycle_momentum=False, **kw),
    "CyclicLR made after another scheduler": lambda L, o, **kw: (
        L.StepLR(o, 5, **kw), L.CyclicLR(o, 0.01, 0.1, 3, **kw))[1],
    "ChainedScheduler": lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.1, total_iters=8), L.ExponentialLR(o, gamma=0.9)],
        optimizer=o),
    "ChainedScheduler, polynomial after a warmup": lambda L, o: L.ChainedScheduler(
        [L.LinearLR(o, 0.1, total_iters=5), L.PolynomialLR(o, total_iters=25, power=1.5)]),
    "ChainedScheduler of a cycle and a decay": lambda L, o: L.ChainedScheduler(
        [L.CyclicLR(o, 0.01, 0.1, 3), L.MultiplicativeLR(o, lambda e: 0.97)]),
}
ONE = [name for name in CASES if "Chained" not in name]
STEPS = 40


def their_optimizer(kind: str, lrs: list[float]) -> Any:
    groups = [{"params": [torch.nn.Parameter(torch.ones(1, dtype=torch.float64))], "lr": lr}
              for lr in lrs]
    return torch.optim.SGD(groups, lr=0.5, momentum=0.9) if kind == "SGD" else \
        torch.optim.Adam(groups)


def our_optimizer(kind: str, lrs: list[float]) -> Any:
    groups = [{"params": [Tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=0.5, momentum=0.9) if kind == "SGD" else optim.Adam(groups)


def both(kind: str, lrs: list[float]) -> list[tuple[Any, Any]]:
    """(lr_scheduler module, optimizer): ours, then PyTorch's."""
    return [(ours, our_optimizer(kind, lrs)),
            (torch.optim.lr_scheduler, their_optimizer(kind, lrs))]


def record(o: Any, scheduler: Any) -> list[Any]:
    """What a step leaves: each group's rate, momentum and betas, the scheduler's view."""
    groups = [(g["lr"], g.get("momentum"), tuple(g.get("betas", ()))) for g in o.param_groups]
    return [groups, scheduler.get_last_lr(), getattr(scheduler, "last_epoch", None)]


def run(o: Any, scheduler: Any, steps: int) -> list[Any]:
    seen = []
    for _ in range(steps):
        o.step()
        scheduler.step()
        seen.append(record(o, scheduler))
    return seen


def comparable(state: dict[str, Any]) -> dict[str, Any]:
    """A state dict without the lambdas, which are each library's own objects."""
    return {k: v for k, v in state.items() if k != "lr_lambdas"} | {
        "_schedulers": [comparable(s) for s in state.get("_schedulers", [])]}


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("lrs", [[0.1], [0.1, 0.03]], ids=["one group", "two groups"])
@pytest.mark.parametrize("case", CASES)
def test_each_schedule_is_pytorchs_step_by_step(case, lrs, kind):
    traces, states = [], []
    for L, o in both(kind, lrs):
        scheduler = CASES[case](L, o)
        traces.append([record(o, scheduler), *run(o, scheduler, STEPS)])
        states.append(comparable(scheduler.state_dict()))
    assert traces[0] == traces[1]
    assert states[0] == states[1]  # the same attributes, names and values


@pytest.mark.parametrize("case", CASES)
def test_pytorchs_state_dicts_load_here_and_ours_there(case):
    for source, target in ((1, 0), (0, 1)):
        L, o = both("SGD", [0.1, 0.03])[source]
        scheduler = CASES[case](L, o)
        run(o, scheduler, 13)
        saved = o.state_dict(), scheduler.state_dict()
        expected = run(o, scheduler, 20)
        L, o = both("SGD", [0.5, 0.5])[target]
        scheduler = CASES[case](L, o)
        o.load_state_dict(saved[0])
        scheduler.load_state_dict(dict(saved[1]))  # (PyTorch's CyclicLR pops from it)
        assert run(o, scheduler, 20) == expected


@pytest.mark.parametrize("case", ONE)
def test_a_schedule_made_with_last_epoch_resumes_as_pytorchs(case):
    """The optimizer's state (with "initial_lr") loaded, then a new scheduler at last_epoch."""
    traces = []
    for (L, o), (_, resumed) in zip(both("SGD", [0.1, 0.03]), both("SGD", [0.5, 0.5])):
        run(o, CASES[case](L, o), 11)
        resumed.load_state_dict(o.state_dict())
        scheduler = CASES[case](L, resumed, last_epoch=11)
        traces.append([record(resumed, scheduler), *run(resumed, scheduler, 15)])
    assert traces[0] == traces[1]


@pytest.mark.parametrize("case", ONE)
def test_a_step_to_an_epoch_warns_and_lands_where_pytorchs_does(case):
    traces = []
    for L, o in both("SGD", [0.1, 0.03]):
        scheduler = CASES[case](L, o)
        seen = []
        for epoch in [3, 4, 9, 2, 2, 17, 0, 30, None, None, 5, None]:
            o.step()
            if epoch is None:
                scheduler.step()
            else:
                with pytest.warns(UserWarning, match=r"^The epoch parameter in "
                                                     r"`scheduler\.step\(\)` was not necessary"):
                    scheduler.step(epoch)
            seen.append(record(o, scheduler))
        traces.append(seen)
    assert traces[0] == traces[1]


class NoMomentum(optim.Optimizer):
    def __init__(self, params: Any) -> None:
        super().__init__(params, {"lr": 0.1})


BAD = {  # name: call(L, optimizer(groups), elsewhere optimizer, optimizer without momentum)
    "CyclicLR mode": lambda L, o, e, n: L.CyclicLR(o(1), 0.01, 0.1, mode="square"),
    "CyclicLR without momentum": lambda L, o, e, n: L.CyclicLR(n(), 0.01, 0.1),
    "CyclicLR base_lr short": lambda L, o, e, n: L.CyclicLR(o(2), [0.01], 0.1),
    "CyclicLR max_lr long": lambda L, o, e, n: L.CyclicLR(o(1), 0.01, [0.1, 0.2]),
    "CyclicLR base_momentum short": lambda L, o, e, n: L.CyclicLR(o(2), 0.01, 0.1,
                                                                  base_momentum=[0.8]),
    "CyclicLR of no optimizer": lambda L, o, e, n: L.CyclicLR(object(), 0.01, 0.1),
    "PolynomialLR of no optimizer": lambda L, o, e, n: L.PolynomialLR(object()),
    "PolynomialLR resumed without initial_lr": lambda L, o, e, n: L.PolynomialLR(
        o(1), last_epoch=3),
    "ChainedScheduler of none": lambda L, o, e, n: L.ChainedScheduler([]),
    "ChainedScheduler with ReduceLROnPlateau": lambda L, o, e, n: (
        lambda opt: L.ChainedScheduler([L.StepLR(opt, 2), L.ReduceLROnPlateau(opt)]))(o(1)),
    "ChainedScheduler of no scheduler": lambda L, o, e, n: (
        lambda opt: L.ChainedScheduler([L.StepLR(opt, 2), object()], opt))(o(1)),
    "ChainedScheduler of two optimizers": lambda L, o, e, n: (
        lambda opt: L.ChainedScheduler([L.StepLR(opt, 2), L.StepLR(e, 2)]))(o(1)),
}


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as error:  # (any: the test compares them)
        return error
    pytest.fail("no error")


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_errors(case):
    mine = (ours, lambda n: our_optimizer("SGD", [0.1] * n), our_optimizer("SGD", [0.1]),
            lambda: NoMomentum([Tensor([1.0], requires_grad=True)]))
    theirs = (torch.optim.lr_scheduler, lambda n: their_optimizer("SGD", [0.1] * n),
              their_optimizer("SGD", [0.1]),
              lambda: torch.optim.Adagrad([torch.nn.Parameter(torch.ones(1))]))
    ours_error, their_error = (_raised(lambda lib=lib: BAD[case](*lib)) for lib in (mine, theirs))
    assert type(ours_error) is type(their_error)
    # the first line, up to the optimizers' printouts (each library's own)
    mine_text, their_text = (str(e.args[0]).splitlines()[0].split(" has ")[0]
                             for e in (ours_error, their_error))
    assert mine_text == their_text
