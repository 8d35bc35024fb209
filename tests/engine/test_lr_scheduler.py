"""optim.lr_scheduler: known values of each schedule and state_dict round trips (no torch
needed), then every scheduler held against PyTorch's step by step, to the last bit: the
rates (and OneCycleLR's momentum or betas), the state dicts, schedules resumed, jumps to an
epoch, ReduceLROnPlateau on one metric sequence, PyTorch's errors and warnings (skipped
without torch)."""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgrad
from tensorgrad import Tensor, optim
from tensorgrad.optim import lr_scheduler as ours
from tests.paths import REPO

# an unexpected warning (a step out of order, say) fails the test
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def sgd(*lrs: float, momentum: float = 0.9) -> optim.SGD:
    """An SGD with one group (of one parameter) per rate."""
    return optim.SGD([{"params": [Tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs],
                     lr=0.5, momentum=momentum)


def first_rates(scheduler: Any, steps: int) -> list[float]:
    """The first group's rate after __init__ and after each step (the optimizer's first)."""
    seen = [scheduler.optimizer.param_groups[0]["lr"]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        seen.append(scheduler.optimizer.param_groups[0]["lr"])
    return seen


# ---- one schedule, as PyTorch code builds it: L is either lr_scheduler module ----------------

def _per_group(o: Any, *values: Any) -> list[Any]:
    return list(values[:len(o.param_groups)])


CASES: dict[str, Callable[..., Any]] = {
    "LambdaLR": lambda L, o, **kw: L.LambdaLR(o, lambda e: 0.95**e, **kw),
    "LambdaLR, one per group": lambda L, o, **kw: L.LambdaLR(
        o, _per_group(o, lambda e: 0.9**e, lambda e: 1 / (e + 1)), **kw),
    "MultiplicativeLR": lambda L, o, **kw: L.MultiplicativeLR(o, lambda e: 0.9, **kw),
    "MultiplicativeLR, one per group": lambda L, o, **kw: L.MultiplicativeLR(
        o, _per_group(o, lambda e: 0.97, lambda e: 1 - 0.01 * (e % 3)), **kw),
    "StepLR": lambda L, o, **kw: L.StepLR(o, step_size=3, gamma=0.5, **kw),
    "StepLR, default gamma": lambda L, o, **kw: L.StepLR(o, 7, **kw),
    "MultiStepLR": lambda L, o, **kw: L.MultiStepLR(o, [2, 5, 5, 9], gamma=0.5, **kw),
    "ConstantLR, defaults": lambda L, o, **kw: L.ConstantLR(o, **kw),
    "ConstantLR": lambda L, o, **kw: L.ConstantLR(o, factor=0.4, total_iters=9, **kw),
    "LinearLR, defaults": lambda L, o, **kw: L.LinearLR(o, **kw),
    "LinearLR": lambda L, o, **kw: L.LinearLR(o, 0.25, 0.75, total_iters=7, **kw),
    "LinearLR, decaying": lambda L, o, **kw: L.LinearLR(o, 1.0, 0.1, total_iters=20, **kw),
    "ExponentialLR": lambda L, o, **kw: L.ExponentialLR(o, gamma=0.9, **kw),
    "CosineAnnealingLR": lambda L, o, **kw: L.CosineAnnealingLR(o, T_max=7, eta_min=0.001, **kw),
    "CosineAnnealingLR, eta_min 0": lambda L, o, **kw: L.CosineAnnealingLR(o, 10, **kw),
    "CosineAnnealingWarmRestarts": lambda L, o, **kw: L.CosineAnnealingWarmRestarts(o, T_0=3,
                                                                                    **kw),
    "CosineAnnealingWarmRestarts, T_mult": lambda L, o, **kw: L.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=3, eta_min=0.01, **kw),
    "OneCycleLR": lambda L, o, **kw: L.OneCycleLR(o, max_lr=1.0, total_steps=40, **kw),
    "OneCycleLR, per group, three phases, linear": lambda L, o, **kw: L.OneCycleLR(
        o, _per_group(o, 1.0, 0.4), epochs=4, steps_per_epoch=10, pct_start=0.25,
        anneal_strategy="linear", base_momentum=_per_group(o, 0.8, 0.85),
        max_momentum=tuple(_per_group(o, 0.9, 0.99)), div_factor=10.0, final_div_factor=100.0,
        three_phase=True, **kw),
    "OneCycleLR, momentum left alone": lambda L, o, **kw: L.OneCycleLR(
        o, 0.5, total_steps=45, cycle_momentum=False, **kw),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, total_iters=5), L.CosineAnnealingLR(o, T_max=20)],
        milestones=[5]),
    "SequentialLR of three": lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5, total_iters=4), L.ExponentialLR(o, 0.9), L.StepLR(o, 2)],
        milestones=[3, 8]),
    "two schedulers on one optimizer": lambda L, o: [L.LinearLR(o, 0.1, total_iters=5),
                                                     L.CosineAnnealingLR(o, T_max=15)],
    "two multiplying schedulers": lambda L, o: [L.ExponentialLR(o, 0.9),
                                                L.MultiStepLR(o, [3, 6], gamma=0.5)],
}
ONE = [name for name in CASES if "SequentialLR" not in name and "two " not in name]
STEPS = 40
# ReduceLROnPlateau's: a random walk around 1 with plateaus (values repeated 1 to 3 times)
METRICS = [float(x) for x in np.repeat(
    1 + np.cumsum(np.random.default_rng(0).normal(0.0, 0.05, 40)),
    np.random.default_rng(1).integers(1, 4, 40))]


def build(case: str, L: Any, o: Any, **kw: Any) -> list[Any]:
    made = CASES[case](L, o, **kw)
    return made if isinstance(made, list) else [made]


def record(o: Any, schedulers: list[Any]) -> list[Any]:
    """What a step leaves: each group's rate, momentum and betas, each scheduler's view."""
    groups = [(g["lr"], g.get("momentum"), tuple(g.get("betas", ()))) for g in o.param_groups]
    return [groups, [s.get_last_lr() for s in schedulers], [s.last_epoch for s in schedulers]]


def run(o: Any, schedulers: list[Any], steps: int) -> list[Any]:
    seen = []
    for _ in range(steps):
        o.step()
        for s in schedulers:
            s.step()
        seen.append(record(o, schedulers))
    return seen


# ---- known values (no torch) --------------------------------------------------------------------


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    assert first_rates(ours.StepLR(sgd(1.0), step_size=2, gamma=0.5), 6) == \
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    assert first_rates(ours.StepLR(sgd(1.0), step_size=2), 4) == \
        pytest.approx([1.0, 1.0, 0.1, 0.1, 0.01], rel=1e-15)  # gamma's default: 0.1


def test_multi_step_lr_multiplies_at_each_milestone_once_per_mention():
    assert first_rates(ours.MultiStepLR(sgd(1.0), milestones=[1, 3, 3], gamma=0.5), 4) == \
        [1.0, 0.5, 0.5, 0.125, 0.125]


def test_constant_and_linear_lr_scale_the_first_epochs():
    assert first_rates(ours.ConstantLR(sgd(1.0), factor=0.5, total_iters=2), 3) == \
        [0.5, 0.5, 1.0, 1.0]
    assert first_rates(ours.ConstantLR(sgd(0.3)), 6) == \
        pytest.approx([0.1] * 5 + [0.3, 0.3], rel=1e-15)  # defaults: 1/3, 5 epochs
    assert first_rates(ours.LinearLR(sgd(1.0), start_factor=0.5, total_iters=4), 5) == \
        pytest.approx([0.5, 0.625, 0.75, 0.875, 1.0, 1.0], rel=1e-15)


def test_exponential_multiplicative_and_lambda_lr():
    assert first_rates(ours.ExponentialLR(sgd(1.0), gamma=0.5), 3) == [1.0, 0.5, 0.25, 0.125]
    assert first_rates(ours.MultiplicativeLR(sgd(1.0), lambda e: 0.5), 2) == [1.0, 0.5, 0.25]
    two = sgd(1.0, 0.5)
    scheduler = ours.LambdaLR(two, [lambda e: e + 1, lambda e: 2.0**-e])
    two.param_groups[0]["lr"] = 7.0  # overwritten: LambdaLR starts from the base rates
    for _ in range(3):
        two.step()
        scheduler.step()
    assert [g["lr"] for g in two.param_groups] == [4.0, 0.5 / 8]


def test_cosine_annealing_reaches_eta_min_at_t_max_and_climbs_back():
    seen = first_rates(ours.CosineAnnealingLR(sgd(1.0), T_max=4, eta_min=0.1), 8)
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    assert seen == pytest.approx(expected, rel=1e-13)
    assert (seen[2], seen[4], seen[8]) == pytest.approx((0.55, 0.1, 1.0), rel=1e-13)


def test_warm_restarts_start_over_after_periods_growing_by_t_mult():
    seen = first_rates(ours.CosineAnnealingWarmRestarts(sgd(1.0), T_0=2, T_mult=2), 7)
    quarter, eighth = ((1 + math.cos(math.pi / n)) / 2 for n in (4, 8))
    # periods of 2, 4, 8 epochs
    assert seen == pytest.approx([1.0, 0.5, 1.0, quarter, 0.5, 1 - quarter, 1.0, eighth],
                                 rel=1e-13)


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1),
                                  lambda ps: optim.Adam(ps, betas=(0.9, 0.99))],
                         ids=["SGD", "Adam"])
def test_one_cycle_rises_to_max_lr_and_falls_with_momentum_the_other_way(make):
    opt = make([Tensor([1.0], requires_grad=True)])
    scheduler = ours.OneCycleLR(opt, max_lr=1.0, total_steps=10)  # peak at step 3 - 1
    lrs, momenta = [opt.param_groups[0]["lr"]], []
    key = "betas" if isinstance(opt, optim.Adam) else "momentum"

    def momentum():
        value = opt.param_groups[0][key]
        return value[0] if key == "betas" else value

    momenta.append(momentum())
    for _ in range(9):
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(momentum())
    assert (lrs[0], lrs[2], lrs[9]) == pytest.approx((1 / 25, 1.0, 1 / 25 / 1e4), rel=1e-13)
    assert max(lrs) == lrs[2] and lrs[3:] == sorted(lrs[3:], reverse=True)
    assert (momenta[0], momenta[2], momenta[9]) == pytest.approx((0.95, 0.85, 0.95), rel=1e-13)
    if key == "betas":
        assert opt.param_groups[0]["betas"][1] == 0.99  # the second beta is left alone
    opt.step()
    scheduler.step()  # step 10 (total_steps) still is allowed
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        scheduler.step()


def test_sequential_lr_hands_over_at_its_milestones():
    opt = sgd(1.0)
    scheduler = ours.SequentialLR(opt, [ours.ConstantLR(opt, factor=0.1, total_iters=10),
                                        ours.ExponentialLR(opt, gamma=0.5)], milestones=[2])
    assert first_rates(scheduler, 4) == pytest.approx([0.1, 0.1, 1.0, 0.5, 0.25], rel=1e-15)
    assert scheduler.last_epoch == 4


def test_two_schedulers_on_one_optimizer_compose():
    opt = sgd(1.0)
    decay, drop = ours.ExponentialLR(opt, gamma=0.5), ours.StepLR(opt, step_size=2, gamma=0.1)
    seen = [opt.lr]
    for _ in range(3):
        opt.step()
        decay.step()
        drop.step()
        seen.append(opt.lr)
    assert seen == pytest.approx([1.0, 0.5, 0.025, 0.0125], rel=1e-15)
    # a warmup and a cosine: each multiplies in the change of its own factor
    opt = sgd(1.0)
    warmup, cosine = ours.LinearLR(opt, 0.5, total_iters=4), ours.CosineAnnealingLR(opt, 8)
    seen = [opt.lr]
    for _ in range(8):
        opt.step()
        warmup.step()
        cosine.step()
        seen.append(opt.lr)
    expected = [min(1.0, 0.5 + t / 8) * (1 + math.cos(math.pi * t / 8)) / 2 for t in range(9)]
    assert seen == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_reduce_on_plateau_waits_patience_then_reduces_down_to_min_lr():
    opt = sgd(1.0, 0.3)
    scheduler = ours.ReduceLROnPlateau(opt, factor=0.5, patience=1, min_lr=[0.3, 0.2])
    seen = []
    for metric in [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]:
        scheduler.step(metric)
        seen.append(scheduler.get_last_lr())
    assert [lr for lr, _ in seen] == [1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]
    assert [lr for _, lr in seen] == [0.3] * 2 + [0.2] * 6


def test_reduce_on_plateau_modes_thresholds_and_cooldown():
    def reductions(metrics, **settings):
        opt = sgd(1.0)
        scheduler = ours.ReduceLROnPlateau(opt, factor=0.5, patience=0, **settings)
        for metric in metrics:
            scheduler.step(metric)
        return round(math.log2(1 / opt.lr))

    rising = [1.0, 2.0, 3.0, 4.0]
    assert reductions(rising) == 3 and reductions(rising, mode="max") == 0
    small = [1.0, 0.99, 0.98, 0.97]  # steps of 0.01: rel and abs 0.05 want more
    assert reductions(small, threshold=0.005) == 0
    assert reductions(small, threshold=0.05) == 3
    assert reductions(small, threshold=0.05, threshold_mode="abs") == 3
    assert reductions(small, threshold=0.02, threshold_mode="abs") == 2  # 0.97 beats 1 - 0.02
    assert reductions([1.0] * 7, cooldown=2) == 2  # at epochs 2 and 5; 3, 4, 6, 7 cool down
    assert reductions([1.0, Tensor(2.0)]) == 1  # a one-element tensor as the metric


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = Tensor([0.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scheduler = ours.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = np.array([1.0])
        opt.step()
        scheduler.step()
    assert p.item() == -(1.0 + 0.5 + 0.25)


def test_an_optimizer_with_a_scheduler_copies_and_pickles_as_itself():
    p = Tensor([0.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    ours.StepLR(opt, step_size=1, gamma=0.5)
    for twin in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        twin.params[0].grad = np.array([1.0])
        twin.step()
        assert twin.params[0].item() == -1.0 and p.item() == 0.0  # the twin's, not opt's
        assert not hasattr(opt, "_lr_sched_stepped")


def test_initial_lr_base_lrs_and_last_epoch():
    opt = sgd(0.1, 0.2)
    first = ours.StepLR(opt, step_size=1, gamma=0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == first.base_lrs == [0.1, 0.2]
    assert first.last_epoch == 0
    opt.step()
    first.step()
    assert first.last_epoch == 1 and first.get_last_lr() == [0.05, 0.1]
    second = ours.ExponentialLR(opt, gamma=0.9)  # a group's initial_lr, once written, stays
    assert second.base_lrs == [0.1, 0.2] and second.get_last_lr() == [0.05, 0.1]


def test_resuming_needs_initial_lr_in_the_groups():
    opt = sgd(0.1)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"
                                       r" when resuming scheduler with last_epoch >= 0"):
        ours.StepLR(opt, step_size=2, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 1.0
    scheduler = ours.StepLR(opt, step_size=2, gamma=0.5, last_epoch=4)  # steps to epoch 5
    assert scheduler.base_lrs == [1.0] and scheduler.last_epoch == 5 and opt.lr == 0.1
    assert first_rates(scheduler, 3)[1:] == [0.05, 0.05, 0.025]  # halved at epochs 6 and 8


def test_not_an_optimizer_is_refused():
    for make in (lambda: ours.StepLR(object(), 2), lambda: ours.LambdaLR(object(), abs),
                 lambda: ours.OneCycleLR(object(), 1.0, 10),
                 lambda: ours.ReduceLROnPlateau(object())):
        with pytest.raises(TypeError, match="object is not an Optimizer"):
            make()


def test_the_state_dict_holds_the_attributes_but_the_optimizer():
    scheduler = ours.StepLR(sgd(0.1), step_size=3)
    assert set(scheduler.state_dict()) == {"step_size", "gamma", "base_lrs", "last_epoch",
                                           "_step_count", "_is_initial",
                                           "_get_lr_called_within_step", "_last_lr"}
    assert issubclass(ours._LRScheduler, ours.LRScheduler)
    assert ours._LRScheduler.__name__ == "_LRScheduler"


def test_lambdas_state_is_a_callable_objects_attributes():
    class Warmup:
        def __init__(self, length):
            self.length = length

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.length)

    opt = sgd(1.0, 1.0)
    scheduler = ours.LambdaLR(opt, [Warmup(4), lambda e: 1.0])
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"length": 4}, None]
    again = ours.LambdaLR(sgd(1.0, 1.0), [Warmup(10), lambda e: 1.0])
    again.load_state_dict(state)
    assert again.lr_lambdas[0].length == 4 and "lr_lambdas" in state


@pytest.mark.parametrize("case", CASES)
def test_a_schedule_saved_mid_way_and_loaded_goes_on_as_if_never_stopped(case):
    opt = sgd(0.1, 0.03)
    whole = run(opt, build(case, ours, opt), 30)
    opt = sgd(0.1, 0.03)
    schedulers = build(case, ours, opt)
    run(opt, schedulers, 12)
    saved = opt.state_dict(), [s.state_dict() for s in schedulers]
    resumed = sgd(0.7, 0.7)  # other rates: the loaded ones replace them
    schedulers = build(case, ours, resumed)
    resumed.load_state_dict(saved[0])
    for scheduler, state in zip(schedulers, saved[1]):
        scheduler.load_state_dict(state)
    assert run(resumed, schedulers, 18) == whole[12:]


def test_reduce_on_plateau_saved_and_loaded_goes_on_as_if_never_stopped():
    metrics = [1.0, 0.9, 0.9, 0.9, 0.95, 0.95, 0.95, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7]

    def make(opt):
        return ours.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1, min_lr=0.01)

    def feed(scheduler, values):
        out = []
        for value in values:
            scheduler.step(value)
            out.append(scheduler.get_last_lr())
        return out

    whole = feed(make(sgd(1.0)), metrics)
    opt = sgd(1.0)
    scheduler = make(opt)
    feed(scheduler, metrics[:5])
    resumed = sgd(1.0)
    again = make(resumed)
    resumed.load_state_dict(opt.state_dict())
    again.load_state_dict(scheduler.state_dict())
    assert feed(again, metrics[5:]) == whole[5:]


def test_lr_scheduler_is_imported_when_first_used():
    code = ("import sys, tensorgrad\n"
            "assert 'tensorgrad.optim.lr_scheduler' not in sys.modules\n"
            "import tensorgrad as torch\n"
            "assert torch.optim.lr_scheduler.StepLR.__name__ == 'StepLR'\n"
            "from tensorgrad.optim.lr_scheduler import OneCycleLR\n"
            "from tensorgrad.optim import lr_scheduler\n"
            "assert lr_scheduler.OneCycleLR is OneCycleLR\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=REPO)


# ---- against PyTorch -----------------------------------------------------------------------------


def their_optimizer(torch: types.ModuleType, kind: str, lrs: list[float]) -> Any:
    groups = [{"params": [torch.nn.Parameter(torch.ones(1, dtype=torch.float64))], "lr": lr}
              for lr in lrs]
    return torch.optim.SGD(groups, lr=0.5, momentum=0.9) if kind == "SGD" else \
        torch.optim.Adam(groups)


def our_optimizer(kind: str, lrs: list[float]) -> Any:
    groups = [{"params": [Tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=0.5, momentum=0.9) if kind == "SGD" else optim.Adam(groups)


def both(torch: types.ModuleType, kind: str, lrs: list[float]) -> list[tuple[Any, Any]]:
    """(lr_scheduler module, optimizer): ours, then PyTorch's."""
    return [(ours, our_optimizer(kind, lrs)),
            (torch.optim.lr_scheduler, their_optimizer(torch, kind, lrs))]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("lrs", [[0.1], [0.1, 0.03]], ids=["one group", "two groups"])
@pytest.mark.parametrize("case", CASES)
def test_each_schedule_is_pytorchs_step_by_step(torch, case, lrs, kind):
    traces, states = [], []
    for L, o in both(torch, kind, lrs):
        schedulers = build(case, L, o)
        traces.append([record(o, schedulers), *run(o, schedulers, STEPS)])
        states.append([s.state_dict() for s in schedulers])
    assert traces[0] == traces[1]
    assert states[0] == states[1]  # the same attributes, names and values


@pytest.mark.parametrize("case", CASES)
def test_pytorchs_state_dicts_load_here_and_ours_there(torch, case):
    for source, target in ((1, 0), (0, 1)):
        pairs = both(torch, "SGD", [0.1, 0.03])
        L, o = pairs[source]
        schedulers = build(case, L, o)
        run(o, schedulers, 13)
        saved = o.state_dict(), [s.state_dict() for s in schedulers]
        expected = run(o, schedulers, 20)
        L, o = both(torch, "SGD", [0.5, 0.5])[target]
        schedulers = build(case, L, o)
        o.load_state_dict(saved[0])
        for scheduler, state in zip(schedulers, saved[1]):
            scheduler.load_state_dict(state)
        assert run(o, schedulers, 20) == expected


def test_pytorchs_reduce_on_plateau_state_dict_loads_here(torch):
    def make(L, o):
        return L.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=2, cooldown=1,
                                   min_lr=[0.01, 0.001])

    (_, resumed), (L, o) = both(torch, "SGD", [0.1, 0.03])
    theirs = make(L, o)
    for metric in METRICS[:20]:  # the next is no better than the best
        theirs.step(metric)
    saved_lrs = theirs.get_last_lr()
    again = make(ours, resumed)
    resumed.load_state_dict(o.state_dict())
    again.load_state_dict(theirs.state_dict())
    for metric in METRICS[20:]:
        theirs.step(metric)
        again.step(metric)
        assert again.get_last_lr() == theirs.get_last_lr()
    assert again.state_dict() == theirs.state_dict()
    assert again.get_last_lr()[0] < saved_lrs[0]


@pytest.mark.parametrize("case", ONE)
def test_a_schedule_made_with_last_epoch_resumes_as_pytorchs(torch, case):
    """The optimizer's state (with "initial_lr") loaded, then a new scheduler at last_epoch."""
    traces = []
    for (L, o), (_, resumed) in zip(both(torch, "SGD", [0.1, 0.03]),
                                    both(torch, "SGD", [0.5, 0.5])):
        run(o, build(case, L, o), 11)
        resumed.load_state_dict(o.state_dict())
        schedulers = build(case, L, resumed, last_epoch=11)
        traces.append([record(resumed, schedulers), *run(resumed, schedulers, 15)])
    assert traces[0] == traces[1]


@pytest.mark.parametrize("case", [name for name in ONE if "WarmRestarts" not in name])
def test_a_step_to_an_epoch_warns_and_lands_where_pytorchs_does(torch, case):
    traces = []
    for L, o in both(torch, "SGD", [0.1, 0.03]):
        [scheduler] = build(case, L, o)
        seen = []
        for epoch in [3, 4, 9, 2, 2, 17, 0, 30, None, None, 5, None]:
            o.step()
            if epoch is None:
                scheduler.step()
            else:
                with pytest.warns(UserWarning, match=r"^The epoch parameter in "
                                                     r"`scheduler\.step\(\)` was not necessary"):
                    scheduler.step(epoch)
            seen.append(record(o, [scheduler]))
        traces.append(seen)
    assert traces[0] == traces[1]


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_take_fractional_epochs_without_a_warning(torch, t_mult):
    traces = []
    for L, o in both(torch, "SGD", [0.1, 0.03]):
        scheduler = L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=t_mult, eta_min=0.001)
        seen = []
        for epoch in [0.5, 1.0, 2.75, 7.25, None, 3, 15, None, None, 40.2, 0, None, 100]:
            o.step()
            scheduler.step(epoch)
            seen.append([record(o, [scheduler]), scheduler.T_cur, scheduler.T_i])
        traces.append(seen)
    assert traces[0] == traces[1]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode, threshold", [("rel", 1e-4), ("rel", 0.03),
                                                       ("abs", 0.02)])
@pytest.mark.parametrize("settings", [
    {}, {"patience": 2, "cooldown": 3, "factor": 0.5},
    {"patience": 0, "factor": 0.7, "min_lr": [0.02, 0.01]},
    {"patience": 1, "cooldown": 1, "factor": 0.9, "min_lr": 0.005, "eps": 0.002},
], ids=["defaults", "cooldown", "min_lr per group", "min_lr and eps"])
def test_reduce_on_plateau_is_pytorchs_on_one_metric_sequence(torch, mode, threshold_mode,
                                                              threshold, settings):
    traces, states = [], []
    for L, o in both(torch, "SGD", [0.1, 0.03]):
        scheduler = L.ReduceLROnPlateau(o, mode=mode, threshold=threshold,
                                        threshold_mode=threshold_mode, **settings)
        seen = []
        for i, metric in enumerate(METRICS):
            o.step()
            tensor = tensorgrad.tensor if L is ours else torch.tensor
            scheduler.step(tensor(metric, dtype=tensorgrad.float64 if L is ours else
                                  torch.float64) if i % 3 == 0 else metric)
            seen.append([record(o, [scheduler]), scheduler.best, scheduler.num_bad_epochs,
                         scheduler.cooldown_counter, scheduler.in_cooldown])
        traces.append(seen)
        states.append(scheduler.state_dict())
        assert o.param_groups[0]["lr"] < 0.1  # it reduced
    assert traces[0] == traces[1]
    assert states[0] == states[1]


@pytest.mark.parametrize("kind", ["SGD", "Adam", "AdamW"])
def test_one_cycle_trains_as_pytorchs(torch, kind):
    """The optimizers read the momentum or betas OneCycleLR writes, at every step."""
    rng = np.random.default_rng(3)
    start, grads = rng.normal(size=(2, 3)), [rng.normal(size=(2, 3)) for _ in range(30)]
    settings = {"lr": 0.1, "momentum": 0.9} if kind == "SGD" else {"lr": 0.1}
    p = Tensor(start.copy(), requires_grad=True)
    q = torch.nn.Parameter(torch.tensor(start))
    for library, param in ((optim, p), (torch.optim, q)):
        opt = getattr(library, kind)([param], **settings)
        L = ours if library is optim else torch.optim.lr_scheduler
        scheduler = L.OneCycleLR(opt, max_lr=0.5, total_steps=30)
        for g in grads:
            param.grad = g if library is optim else torch.tensor(g)
            opt.step()
            scheduler.step()
    np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


class Lib:
    """One side's schedulers, optimizers and parameters, for building a bad call on both."""

    def __init__(self, L: Any, optimizer: Callable[[int], Any], param: Callable[[], Any],
                 without_momentum: Callable[[], Any]):
        self.L, self.optimizer, self.param = L, optimizer, param
        self.without_momentum = without_momentum


def _step_past_the_end(lib: Lib) -> None:
    o = lib.optimizer(1)
    scheduler = lib.L.OneCycleLR(o, 1.0, total_steps=3)
    for _ in range(4):
        o.step()
        scheduler.step()


def _a_group_added_with_min_lrs_per_group(lib: Lib) -> None:
    o = lib.optimizer(1)
    scheduler = lib.L.ReduceLROnPlateau(o, patience=0, min_lr=[0.0])
    o.add_param_group({"params": [lib.param()]})
    scheduler.step(1.0)
    scheduler.step(2.0)


BAD: dict[str, Callable[[Lib], Any]] = {
    "one lambda short": lambda lib: lib.L.LambdaLR(lib.optimizer(2), [lambda e: 1.0]),
    "a multiplier that is no function": lambda lib: lib.L.MultiplicativeLR(lib.optimizer(1),
                                                                          0.9),
    "ConstantLR factor above 1": lambda lib: lib.L.ConstantLR(lib.optimizer(1), factor=1.5),
    "LinearLR start_factor 0": lambda lib: lib.L.LinearLR(lib.optimizer(1), start_factor=0),
    "LinearLR end_factor above 1": lambda lib: lib.L.LinearLR(lib.optimizer(1),
                                                              end_factor=1.5),
    "T_0 of 0": lambda lib: lib.L.CosineAnnealingWarmRestarts(lib.optimizer(1), T_0=0),
    "T_0 not an int": lambda lib: lib.L.CosineAnnealingWarmRestarts(lib.optimizer(1), 2.5),
    "T_mult of 0": lambda lib: lib.L.CosineAnnealingWarmRestarts(lib.optimizer(1), 2, 0),
    "eta_min a string": lambda lib: lib.L.CosineAnnealingWarmRestarts(lib.optimizer(1), 2,
                                                                      eta_min="0"),
    "a negative epoch": lambda lib: lib.L.CosineAnnealingWarmRestarts(lib.optimizer(1),
                                                                      2).step(-1),
    "OneCycleLR of no length": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0),
    "total_steps of 0": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, total_steps=0),
    "epochs of 0": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, epochs=0,
                                                steps_per_epoch=5),
    "negative steps_per_epoch": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, epochs=2,
                                                             steps_per_epoch=-1),
    "pct_start an int": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, 10, pct_start=1),
    "pct_start above 1": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, 10,
                                                      pct_start=1.5),
    "unknown anneal_strategy": lambda lib: lib.L.OneCycleLR(lib.optimizer(1), 1.0, 10,
                                                            anneal_strategy="exp"),
    "one max_lr short": lambda lib: lib.L.OneCycleLR(lib.optimizer(2), [1.0], 10),
    "a max_momentum too many": lambda lib: lib.L.OneCycleLR(
        lib.optimizer(2), 1.0, 10, max_momentum=[0.9, 0.9, 0.9]),
    "an optimizer without momentum": lambda lib: lib.L.OneCycleLR(lib.without_momentum(), 1.0,
                                                                  10),
    "stepping past total_steps": _step_past_the_end,
    "SequentialLR of none": lambda lib: lib.L.SequentialLR(lib.optimizer(1), [], []),
    "SequentialLR of no scheduler": lambda lib: lib.L.SequentialLR(lib.optimizer(1),
                                                                   [object()], []),
    "SequentialLR with ReduceLROnPlateau": lambda lib: (lambda o: lib.L.SequentialLR(
        o, [lib.L.ReduceLROnPlateau(o)], []))(lib.optimizer(1)),
    "SequentialLR one milestone short": lambda lib: (lambda o: lib.L.SequentialLR(
        o, [lib.L.StepLR(o, 2), lib.L.StepLR(o, 3)], []))(lib.optimizer(1)),
    "ReduceLROnPlateau factor of 1": lambda lib: lib.L.ReduceLROnPlateau(lib.optimizer(1),
                                                                         factor=1.0),
    "unknown mode": lambda lib: lib.L.ReduceLROnPlateau(lib.optimizer(1), mode="avg"),
    "unknown threshold_mode": lambda lib: lib.L.ReduceLROnPlateau(lib.optimizer(1),
                                                                  threshold_mode="pct"),
    "one min_lr short": lambda lib: lib.L.ReduceLROnPlateau(lib.optimizer(2), min_lr=[0.1]),
    "a group added, min_lrs per group": _a_group_added_with_min_lrs_per_group,
    "resumed without initial_lr": lambda lib: lib.L.StepLR(lib.optimizer(1), 2, last_epoch=3),
    "not an optimizer": lambda lib: lib.L.StepLR(object(), 2),
    "OneCycleLR of no optimizer": lambda lib: lib.L.OneCycleLR(object(), 1.0, 10),
    "ReduceLROnPlateau of no optimizer": lambda lib: lib.L.ReduceLROnPlateau(object()),
}


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as error:  # (any: the test compares them)
        return error
    pytest.fail("no error")


@pytest.mark.parametrize("case", BAD)
def test_bad_arguments_raise_pytorchs_errors(torch, case):
    class NoMomentum(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    mine = Lib(ours, lambda n: our_optimizer("SGD", [0.1] * n),
               lambda: Tensor([1.0], requires_grad=True),
               lambda: NoMomentum([Tensor([1.0], requires_grad=True)]))
    theirs = Lib(torch.optim.lr_scheduler, lambda n: their_optimizer(torch, "SGD", [0.1] * n),
                 lambda: torch.nn.Parameter(torch.ones(1)),
                 lambda: torch.optim.Adagrad([torch.nn.Parameter(torch.ones(1))]))
    ours_error, their_error = (_raised(lambda lib=lib: BAD[case](lib)) for lib in (mine, theirs))
    assert type(ours_error) is type(their_error)
    # the first line: PyTorch's (after it, a KeyError's hint is ours)
    assert str(ours_error.args[0]).splitlines()[0] == str(their_error.args[0]).splitlines()[0]


def test_schedulers_of_different_optimizers_raise_pytorchs_error(torch):
    for (L, o), (_, elsewhere) in zip(both(torch, "SGD", [0.1]), both(torch, "SGD", [0.1])):
        with pytest.raises(ValueError, match=r"^SequentialLR expects all schedulers to belong "
                                             r"to the same optimizer, but got scheduler StepLR "
                                             r"at index 1 has"):
            L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(elsewhere, 2)], [3])


def _first_sentences(caught: list[Any]) -> list[tuple[type, str]]:
    return [(w.category, str(w.message).split(". ")[0]) for w in caught]


@pytest.mark.parametrize("misuse", ["scheduler first", "optimizer step replaced",
                                    "get_lr outside a step", "an epoch", "a plateau's epoch"])
def test_misuse_warns_as_pytorch(torch, misuse):
    caught = []
    for L, o in both(torch, "SGD", [0.1]):
        scheduler = L.ReduceLROnPlateau(o) if "plateau" in misuse else L.StepLR(o, 2)
        with pytest.warns(UserWarning) as warned:
            if misuse == "scheduler first":
                scheduler.step()
            elif misuse == "optimizer step replaced":
                o.step = lambda: None
                o.step()
                scheduler.step()
            elif misuse == "get_lr outside a step":
                scheduler.get_lr()
            elif misuse == "an epoch":
                o.step()
                scheduler.step(3)
            else:
                scheduler.step(1.0, 3)
        caught.append(_first_sentences(warned))
        if L is ours:  # pointing at the line that misused it
            assert {w.filename for w in warned} == {__file__}
    assert caught[0] == caught[1] and len(caught[0]) == 1
