"""optim.lr_scheduler's PolynomialLR, CyclicLR and ChainedScheduler without PyTorch: each
schedule against its formula written out here, CyclicLR's momentum (SGD's and Adam's),
state_dict round trips and the arguments refused.
test_lr_scheduler_more_torch.py holds them against PyTorch's to the last bit.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from tensorgrad import Tensor, optim
from tensorgrad.optim import lr_scheduler as L

# an unexpected warning (a step out of order, say) fails the test
pytestmark = pytest.mark.filterwarnings("error")


def sgd(*lrs: float, momentum: float = 0.9) -> optim.SGD:
    """An SGD with one group (of one parameter) per rate."""
    return optim.SGD([{"params": [Tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs],
                     lr=0.5, momentum=momentum)


def rates(scheduler: Any, steps: int, key: str = "lr") -> list[Any]:
    """The first group's ``key`` after __init__ and after each of ``steps`` steps."""
    return [groups[0] for groups in every_group(scheduler, steps, key)]


def every_group(scheduler: Any, steps: int, key: str = "lr") -> list[list[Any]]:
    """Each group's ``key`` after __init__ and after each of ``steps`` steps."""
    o = scheduler.optimizer
    seen = [[g[key] for g in o.param_groups]]
    for _ in range(steps):
        o.step()
        scheduler.step()
        seen.append([g[key] for g in o.param_groups])
    return seen


# ---- PolynomialLR -----------------------------------------------------------------------------


@pytest.mark.parametrize("total_iters, power", [(5, 1.0), (8, 0.9), (3, 2.0)])
def test_polynomial_lr_decays_to_zero_at_total_iters_and_stays(total_iters, power):
    o = sgd(0.1, 0.04)
    seen = every_group(L.PolynomialLR(o, total_iters=total_iters, power=power), 11)
    for group, base in ((0, 0.1), (1, 0.04)):
        expected = [base * (1 - min(k, total_iters) / total_iters) ** power for k in range(12)]
        assert [lrs[group] for lrs in seen] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert seen[-1] == [0.0, 0.0]


def test_polynomial_lr_defaults_and_a_jump_to_an_epoch():
    o = sgd(0.2)
    scheduler = L.PolynomialLR(o)  # total_iters=5, power=1
    assert rates(scheduler, 2) == pytest.approx([0.2, 0.16, 0.12], rel=1e-12)
    o.step()
    with pytest.warns(UserWarning, match="The epoch parameter"):
        scheduler.step(4)
    assert o.param_groups[0]["lr"] == pytest.approx(0.2 * (1 - 4 / 5), rel=1e-12)


# ---- CyclicLR ---------------------------------------------------------------------------------


def triangle(k: int, up: int, down: int) -> float:
    """How far up the cycle step ``k`` is, 0 to 1: up in ``up`` steps, down in ``down``."""
    position = k % (up + down)
    return position / up if position <= up else (up + down - position) / down


def cycle_of(k: int, up: int, down: int) -> int:
    return k // (up + down) + 1


@pytest.mark.parametrize("up, down", [(3, None), (2, 5), (4, 1)])
def test_triangular_goes_up_and_down_between_base_lr_and_max_lr(up, down):
    o = sgd(0.5, 0.5)
    scheduler = L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=up,
                           step_size_down=down)
    down = up if down is None else down
    seen = every_group(scheduler, 24)
    for group, base in ((0, 0.01), (1, 0.02)):
        expected = [base + (0.1 - base) * triangle(k, up, down) for k in range(25)]
        assert [lrs[group] for lrs in seen] == pytest.approx(expected, rel=1e-12)
    assert scheduler.base_lrs == [0.01, 0.02]


def test_the_base_rates_are_base_lr_whatever_initial_lr_the_groups_hold():
    o = sgd(0.5)
    L.StepLR(o, 5)  # writes "initial_lr": 0.5
    scheduler = L.CyclicLR(o, 0.01, 0.09, step_size_up=2)
    assert scheduler.base_lrs == [0.01] and o.param_groups[0]["initial_lr"] == 0.5
    # (as PyTorch: the first rate is scaled from "initial_lr", the next from base_lr)
    assert rates(scheduler, 2) == pytest.approx([0.5, 0.05, 0.09], rel=1e-12)


def test_triangular2_halves_the_height_every_cycle():
    scheduler = L.CyclicLR(sgd(0.5), 0.01, 0.09, step_size_up=2, mode="triangular2")
    expected = [0.01 + 0.08 * triangle(k, 2, 2) / 2 ** (cycle_of(k, 2, 2) - 1)
                for k in range(17)]
    assert rates(scheduler, 16) == pytest.approx(expected, rel=1e-12)
    assert scheduler.scale_mode == "cycle"


def test_exp_range_scales_the_height_by_gamma_to_the_step():
    scheduler = L.CyclicLR(sgd(0.5), 0.01, 0.09, step_size_up=3, mode="exp_range", gamma=0.9)
    expected = [0.01 + 0.08 * triangle(k, 3, 3) * 0.9**k for k in range(20)]
    assert rates(scheduler, 19) == pytest.approx(expected, rel=1e-12)
    assert scheduler.scale_mode == "iterations"


@pytest.mark.parametrize("scale_mode", ["cycle", "iterations"])
def test_a_scale_fn_of_the_cycle_or_of_the_step(scale_mode):
    scheduler = L.CyclicLR(sgd(0.5), 0.01, 0.09, step_size_up=2, mode="no such mode",
                           scale_fn=lambda x: 1 / (1 + x), scale_mode=scale_mode)
    expected = [0.01 + 0.08 * triangle(k, 2, 2)
                / (1 + (cycle_of(k, 2, 2) if scale_mode == "cycle" else k)) for k in range(13)]
    assert rates(scheduler, 12) == pytest.approx(expected, rel=1e-12)


def test_sgds_momentum_moves_against_the_rate():
    o = sgd(0.5, momentum=0.5)
    scheduler = L.CyclicLR(o, 0.01, 0.09, step_size_up=2, base_momentum=0.7, max_momentum=0.95)
    group = o.param_groups[0]
    assert (group["max_momentum"], group["base_momentum"]) == (0.95, 0.7)
    expected = [0.95 - 0.25 * triangle(k, 2, 2) for k in range(9)]
    assert rates(scheduler, 8, key="momentum") == pytest.approx(expected, rel=1e-12)


def test_adams_first_beta_moves_against_the_rate_and_the_second_stays():
    o = optim.Adam([Tensor([1.0], requires_grad=True)], lr=0.5, betas=(0.5, 0.99))
    scheduler = L.CyclicLR(o, 0.01, 0.09, step_size_up=3)  # momenta 0.8 to 0.9
    betas = rates(scheduler, 8, key="betas")
    assert [b[0] for b in betas] == pytest.approx([0.9 - 0.1 * triangle(k, 3, 3)
                                                   for k in range(9)], rel=1e-12)
    assert {b[1] for b in betas} == {0.99}


def test_without_cycle_momentum_the_momentum_is_left_alone():
    o = sgd(0.5, momentum=0.3)
    scheduler = L.CyclicLR(o, 0.01, 0.09, step_size_up=2, cycle_momentum=False)
    assert set(rates(scheduler, 6, key="momentum")) == {0.3}
    assert "max_momentum" not in o.param_groups[0]


class Halving:
    """A scale_fn with state, which a state_dict saves."""

    def __init__(self) -> None:
        self.base = 2.0

    def __call__(self, x: float) -> float:
        return 1 / self.base ** (x - 1)


def test_cyclic_lr_saved_mid_way_and_loaded_goes_on_as_if_never_stopped():
    def make(o: optim.SGD, fn: Any = None) -> L.CyclicLR:
        return L.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3, step_size_down=2,
                          scale_fn=fn or Halving())

    o = sgd(0.5, 0.5)
    scheduler = make(o)
    rates(scheduler, 7)
    saved = o.state_dict(), scheduler.state_dict()
    assert saved[1]["_scale_fn_custom"] == {"base": 2.0}
    whole = rates(scheduler, 9)[1:]
    again_o = sgd(0.5, 0.5)
    again = make(again_o, Halving())
    again._scale_fn_custom.base = 5.0
    again_o.load_state_dict(saved[0])
    again.load_state_dict(saved[1])
    assert again._scale_fn_custom.base == 2.0
    assert rates(again, 9)[1:] == whole
    lambdas = L.CyclicLR(sgd(0.5), 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert lambdas.state_dict()["_scale_fn_custom"] is None


class NoMomentum(optim.Optimizer):
    def __init__(self, params: Any) -> None:
        super().__init__(params, {"lr": 0.1})


@pytest.mark.parametrize("call, message", [
    (lambda: L.CyclicLR(sgd(0.5), 0.01, 0.1, mode="square"), "mode is invalid and scale_fn is "
                                                             "None"),
    (lambda: L.CyclicLR(NoMomentum([Tensor([1.0], requires_grad=True)]), 0.01, 0.1),
     "optimizer must support momentum or beta1"),
    (lambda: L.CyclicLR(sgd(0.5, 0.5), [0.01], 0.1), "base_lr must have the same length"),
    (lambda: L.CyclicLR(sgd(0.5), 0.01, 0.1, max_momentum=[0.9, 0.9]),
     "max_momentum must have the same length"),
], ids=["mode", "no momentum", "base_lr", "max_momentum"])
def test_cyclic_lr_refuses_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- ChainedScheduler -------------------------------------------------------------------------


def test_chained_schedulers_step_together_and_compose():
    o = sgd(0.05)
    warmup = L.ConstantLR(o, factor=0.1, total_iters=4)
    decay = L.ExponentialLR(o, gamma=0.9)
    chained = L.ChainedScheduler([warmup, decay], optimizer=o)
    expected = [0.05 * 0.9**k * (0.1 if k < 4 else 1.0) for k in range(10)]
    assert rates(chained, 9) == pytest.approx(expected, rel=1e-12)
    assert chained.get_last_lr() == [o.param_groups[0]["lr"]]
    assert L.ChainedScheduler([decay]).optimizer is o  # the first scheduler's


def test_chained_scheduler_saved_mid_way_and_loaded_goes_on_as_if_never_stopped():
    def make(o: optim.SGD) -> L.ChainedScheduler:
        return L.ChainedScheduler([L.LinearLR(o, 0.2, total_iters=6),
                                   L.PolynomialLR(o, total_iters=9, power=2.0)])

    o = sgd(0.1)
    chained = make(o)
    rates(chained, 4)
    saved = o.state_dict(), chained.state_dict()
    assert sorted(saved[1]) == ["_last_lr", "_schedulers"] and len(saved[1]["_schedulers"]) == 2
    whole = rates(chained, 8)[1:]
    again_o = sgd(0.7)
    again = make(again_o)
    again_o.load_state_dict(saved[0])
    again.load_state_dict(saved[1])
    assert rates(again, 8)[1:] == whole


def test_chained_scheduler_refuses_what_it_cannot_step():
    o, elsewhere = sgd(0.1), sgd(0.1)
    with pytest.raises(ValueError, match="expects at least one scheduler to be chained"):
        L.ChainedScheduler([])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)])
    with pytest.raises(ValueError, match="StepLR at index 1 has"):
        L.ChainedScheduler([L.StepLR(o, 2), L.StepLR(elsewhere, 2)])
    with pytest.raises(TypeError, match="at index 1 should have `optimizer`"):
        L.ChainedScheduler([L.StepLR(o, 2), object()], optimizer=o)  # type: ignore[list-item]


def test_polynomial_lr_is_exact_where_the_formula_is():
    scheduler = L.PolynomialLR(sgd(1.0), total_iters=4, power=1.0)
    assert rates(scheduler, 5) == [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert math.isclose(L.CyclicLR(sgd(0.5), 0.25, 0.75, 1).get_last_lr()[0], 0.25)
