"""RMSprop and Adagrad against steps worked out by hand, and what the six optimizers added
with them (Adamax, NAdam, RAdam, Adadelta too) share: state, state dicts, skipped
parameters, refused settings, a schedule. test_optim_more_torch.py holds them all against
PyTorch's."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import numpy as np
import pytest

from tensorgrad import Tensor, optim

NAMES = ["RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta"]


def _param(value: float = 1.0) -> Tensor:
    return Tensor(np.array([value]), requires_grad=True)


def _step(opt: optim.Optimizer, p: Tensor, grad: float) -> float:
    p.grad = Tensor(np.array([grad]))
    opt.step()
    return float(p.detach().numpy()[0])


def test_rmsprop_by_hand():
    # alpha 0.75, g = 2: v = 0.25 * 4 = 1; eps after the root: p = 1 - 0.1 * 2 / (1 + 1)
    p = _param()
    opt = optim.RMSprop([p], lr=0.1, alpha=0.75, eps=1.0)
    assert _step(opt, p, 2.0) == pytest.approx(0.9, abs=1e-15)
    # then g = 0: v = 0.75, and no move
    assert _step(opt, p, 0.0) == pytest.approx(0.9, abs=1e-15)
    assert opt.state[p]["square_avg"] == pytest.approx(0.75)
    assert list(opt.state[p]) == ["step", "square_avg"]


def test_rmsprop_with_momentum_by_hand():
    # b = 0.5 * b + g / (sqrt(v) + eps): 2 / 2 = 1, p = 1 - 0.1 * 1; then g = 0: b = 0.5,
    # p = 0.9 - 0.1 * 0.5
    p = _param()
    opt = optim.RMSprop([p], lr=0.1, alpha=0.75, eps=1.0, momentum=0.5)
    assert _step(opt, p, 2.0) == pytest.approx(0.9, abs=1e-15)
    assert _step(opt, p, 0.0) == pytest.approx(0.85, abs=1e-15)
    assert opt.state[p]["momentum_buffer"] == pytest.approx(0.5)
    assert opt.state[p]["step"] == 2


def test_centered_rmsprop_by_hand():
    # alpha 0.5, g = 2: v = 2, m = 1, v - m**2 = 1: p = 1 - 0.1 * 2 / 1
    p = _param()
    opt = optim.RMSprop([p], lr=0.1, alpha=0.5, eps=0.0, centered=True)
    assert _step(opt, p, 2.0) == pytest.approx(0.8, abs=1e-15)
    assert list(opt.state[p]) == ["step", "square_avg", "grad_avg"]
    assert opt.state[p]["grad_avg"] == pytest.approx(1.0)


def test_adagrad_by_hand():
    # g = 3: s = 9, p = 1 - 0.5 * 3 / 3; g = 4 with lr_decay 1: lr 0.5 / 2, s = 25,
    # p = 0.5 - 0.25 * 4 / 5
    p = _param()
    opt = optim.Adagrad([p], lr=0.5, lr_decay=1.0, eps=0.0)
    assert _step(opt, p, 3.0) == pytest.approx(0.5, abs=1e-15)
    assert _step(opt, p, 4.0) == pytest.approx(0.3, abs=1e-15)
    assert opt.state[p]["sum"] == pytest.approx(25.0)


@pytest.mark.parametrize("settings, expected", [
    ({"initial_accumulator_value": 16.0}, 1 - 0.5 * 3 / 5),  # s = 16 + 9
    ({"weight_decay": 1.0}, 1 - 0.5 * 4 / 4),  # g = 3 + 1 * p
    ({"maximize": True}, 1 + 0.5 * 3 / 3),
    ({"eps": 1.0}, 1 - 0.5 * 3 / (3 + 1)),  # eps after the root
])
def test_adagrad_settings_by_hand(settings: dict[str, Any], expected: float):
    p = _param()
    opt = optim.Adagrad([p], lr=0.5, **{"eps": 0.0, **settings})
    assert _step(opt, p, 3.0) == pytest.approx(expected, abs=1e-15)


def test_adagrad_has_its_state_from_the_start_and_a_later_group_at_its_first_step():
    p, q = _param(), _param()
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    assert opt.state_dict()["state"] == {0: {"step": 0, "sum": np.array([0.5])}}
    # the constructor's initial value, not the group's (as PyTorch)
    opt.add_param_group({"params": [q], "initial_accumulator_value": 2.0})
    assert q not in opt.state
    _step(opt, q, 1.0)
    assert opt.state[q]["sum"] == pytest.approx(1.5)
    assert opt.state[p]["step"] == 0


@pytest.mark.parametrize("name", NAMES)
def test_each_optimizer_brings_a_quadratic_down(name: str):
    target = np.array([1.0, -2.0, 3.0])
    p = Tensor(np.zeros(3), requires_grad=True)
    # (Adadelta's steps start at about lr * sqrt(eps): a large rate)
    opt = getattr(optim, name)([p], lr=100.0 if name == "Adadelta" else 0.5)

    def loss_now() -> float:
        return float(((p.detach().numpy() - target) ** 2).sum())

    before = loss_now()
    for _ in range(20):
        opt.zero_grad()
        ((p - Tensor(target)) ** 2).sum().backward()
        opt.step()
    assert loss_now() < before / 2


@pytest.mark.parametrize("name", NAMES)
def test_a_parameter_without_a_gradient_is_left_alone(name: str):
    p, q = _param(), _param(2.0)
    opt = getattr(optim, name)([p, q], lr=0.1)
    state_of_q = copy.deepcopy(opt.state_dict()["state"].get(1))
    _step(opt, p, 1.0)
    assert float(q.detach().numpy()[0]) == 2.0
    assert opt.state_dict()["state"].get(1) == state_of_q
    assert opt.state[p]["step"] == 1


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_copy_and_pickle(name: str):
    p = _param()
    opt = getattr(optim, name)([p], lr=0.1)
    for g in (1.0, -0.5):
        _step(opt, p, g)
    saved = opt.state_dict()
    fresh_p = _param(float(p.detach().numpy()[0]))
    fresh = getattr(optim, name)([fresh_p], lr=0.7)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == 0.1
    twin = pickle.loads(pickle.dumps((opt, p)))
    copied = copy.deepcopy((opt, p))
    results = [_step(o, q, 0.25) for o, q in ((opt, p), (fresh, fresh_p), twin, copied)]
    assert results[1:] == results[:1] * 3
    # the loaded state is the optimizer's own: stepping it left the saved arrays alone
    assert saved["state"][0]["step"] == 2


@pytest.mark.parametrize("name", NAMES)
def test_refused_settings(name: str):
    p = _param()
    with pytest.raises(ValueError, match="Invalid learning rate: -1.0"):
        getattr(optim, name)([p], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1.0"):
        getattr(optim, name)([p], eps=-1.0)
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        getattr(optim, name)([p], differentiable=True)
    opt = getattr(optim, name)([p], foreach=False)
    with pytest.raises(ValueError, match="Invalid weight_decay value: -1"):
        opt.add_param_group({"params": [_param()], "weight_decay": -1})


@pytest.mark.parametrize("name", NAMES)
def test_a_schedule_sets_the_rate(name: str):
    p = _param()
    opt = getattr(optim, name)([p], lr=0.1)
    schedule = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(2):
        _step(opt, p, 1.0)
        schedule.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)
