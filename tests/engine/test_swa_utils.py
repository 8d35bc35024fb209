"""torch.optim.swa_utils: an AveragedModel's parameters are the equal average of the
snapshots it was given (or their exponential moving average), its buffers follow the model's;
update_bn recomputes batch norm's statistics as a cumulative average and puts the momentum
and the mode back; SWALR reaches its rate after its annealing epochs and stays there.
test_swa_utils_torch.py holds them against PyTorch."""

from __future__ import annotations

import numpy as np

import tensorgrad as tg
from tensorgrad.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn, update_bn


def _snapshots(model, values):
    """Set the model's single weight to each value in turn, yielding the model."""
    for value in values:
        with tg.no_grad():
            model.weight.fill_(value)
        yield model


def test_the_average_is_the_mean_of_the_snapshots_and_ema_their_moving_average():
    model = tg.nn.Linear(1, 1, bias=False)
    swa, ema = AveragedModel(model), AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    for snapshot in _snapshots(model, [1.0, 2.0, 6.0]):
        swa.update_parameters(snapshot)
        ema.update_parameters(snapshot)
    assert swa.module.weight.item() == 3.0 and int(swa.n_averaged) == 3
    assert ema.module.weight.item() == (1.0 * 0.5 + 2.0 * 0.5) * 0.5 + 6.0 * 0.5
    assert model.weight.item() == 6.0  # (the model is its own, not the copy)
    assert list(swa.state_dict()) == ["n_averaged", "module.weight"]


def test_update_bn_recomputes_the_statistics_as_a_cumulative_average():
    model = tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.BatchNorm1d(2, momentum=0.3))
    model.eval()
    batches = [tg.tensor(np.random.default_rng(i).standard_normal((4, 2))) for i in range(3)]
    update_bn([(b, None) for b in batches], model)
    with tg.no_grad():
        outputs = [model[0](b) for b in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(),
                               np.mean([o.numpy().mean(0) for o in outputs], axis=0))
    assert model[1].momentum == 0.3 and not model.training


def test_swalr_reaches_its_rate_after_its_annealing_epochs():
    optimizer = tg.optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = SWALR(optimizer, swa_lr=0.1, anneal_epochs=3, anneal_strategy="linear")
    rates = []
    for _ in range(5):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(rates, [0.7, 0.4, 0.1, 0.1, 0.1])
