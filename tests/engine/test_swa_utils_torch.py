"""torch.optim.swa_utils held against PyTorch: an SWA run (SGD, a cosine schedule, then SWALR
and AveragedModel, update_bn at the end) and EMA runs (get_ema_multi_avg_fn with buffers,
get_ema_avg_fn, a user's avg_fn), step by step: the averaged parameters and buffers, the
count, the learning rates, the averaged model's output; SWALR's schedules and refusals.
Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest
from torch_compare import assert_same

import tensorgrad

torch = pytest.importorskip("torch")


def _model(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))


def _same_start(ours, theirs):
    with tensorgrad.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            p.copy_(tensorgrad.tensor(q.detach().numpy()))


def _batches(lib):
    rng = np.random.default_rng(0)
    return [(lib.tensor(rng.standard_normal((6, 3))), lib.tensor(rng.standard_normal((6, 2))))
            for _ in range(4)]


def _swa_run(lib, model, averaging):
    optim = lib.optim
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedule = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=6)
    averaged = optim.swa_utils.AveragedModel(model, **averaging)
    swa_schedule = optim.swa_utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=2)
    rates, counts = [], []
    for epoch in range(6):
        for x, y in _batches(lib):
            optimizer.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            optimizer.step()
        if epoch >= 2:
            averaged.update_parameters(model)
            swa_schedule.step()
        else:
            schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
        counts.append(int(averaged.n_averaged))
    return averaged, rates, counts


AVERAGING = {
    "swa": lambda lib: {},
    "ema of parameters and buffers": lambda lib: {
        "multi_avg_fn": lib.optim.swa_utils.get_ema_multi_avg_fn(0.9), "use_buffers": True},
    "ema, one tensor at a time": lambda lib: {
        "avg_fn": lib.optim.swa_utils.get_ema_avg_fn(0.8)},
    "a user's average": lambda lib: {"avg_fn": lambda a, c, n: 0.25 * a + 0.75 * c},
}


@pytest.mark.parametrize("name", list(AVERAGING))
def test_averaged_models_follow_torchs(torch_float64_default, name):
    torch.manual_seed(0)
    theirs = _model(torch)
    ours = _model(tensorgrad)
    _same_start(ours, theirs)
    mine = _swa_run(tensorgrad, ours, AVERAGING[name](tensorgrad))
    yours = _swa_run(torch, theirs, AVERAGING[name](torch))
    assert mine[1:] == yours[1:] or np.allclose(mine[1], yours[1], rtol=1e-12)
    assert mine[2] == yours[2]
    for lib, averaged in ((tensorgrad, mine[0]), (torch, yours[0])):
        lib.optim.swa_utils.update_bn([x for x, _ in _batches(lib)], averaged)
    state, their_state = mine[0].state_dict(), yours[0].state_dict()
    assert list(state) == list(their_state)
    for key in state:
        assert_same(state[key], their_state[key], key, rtol=1e-10)
    x = _batches(tensorgrad)[0][0]
    mine[0].eval()
    yours[0].eval()
    assert_same(mine[0](x), yours[0](torch.tensor(x.numpy())), "the averaged model's output")


@pytest.mark.parametrize("settings", [{"anneal_epochs": 0}, {"anneal_strategy": "linear"},
                                      {"swa_lr": [0.01, 0.2], "anneal_epochs": 3}])
def test_swalr_schedules_as_torchs(settings):
    rates = []
    for lib in (tensorgrad, torch):
        params = [lib.zeros(1, requires_grad=True), lib.zeros(1, requires_grad=True)]
        optimizer = lib.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 1.0}],
                                  lr=0.5)
        scheduler = lib.optim.swa_utils.SWALR(optimizer, **{"swa_lr": 0.05, **settings})
        found = [scheduler.get_last_lr()]
        for _ in range(6):
            optimizer.step()
            scheduler.step()
            found.append(scheduler.get_last_lr())
        rates.append(found)
    np.testing.assert_allclose(rates[0], rates[1], rtol=1e-14)


def test_swa_refusals_as_torchs():
    for lib in (tensorgrad, torch):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError, match="anneal_strategy must be one of"):
            lib.optim.swa_utils.SWALR(optimizer, 0.05, anneal_strategy="exp")
        with pytest.raises(ValueError, match="anneal_epochs must be equal or greater than 0"):
            lib.optim.swa_utils.SWALR(optimizer, 0.05, anneal_epochs=-1)
        with pytest.raises(ValueError, match="Invalid decay value"):
            lib.optim.swa_utils.get_ema_multi_avg_fn(1.5)
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn"):
            lib.optim.swa_utils.AveragedModel(lib.nn.Linear(1, 1), avg_fn=lambda *a: a[0],
                                              multi_avg_fn=lambda *a: None)
