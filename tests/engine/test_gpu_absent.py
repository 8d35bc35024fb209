"""What PyTorch code asks of a GPU, answered as PyTorch answers without one: ``tg.cuda``,
``tg.backends``; and ``tg.amp.GradScaler``, which scales on the CPU as PyTorch's does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tensorgrad as tg


def test_there_is_no_gpu_and_code_that_checks_runs_on_the_cpu():
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    assert device == "cpu" and tg.cuda.device_count() == 0 and not tg.cuda.is_bf16_supported()
    tg.cuda.manual_seed(1)  # nothing to seed, as PyTorch's without a GPU
    tg.cuda.manual_seed_all(1)
    tg.cuda.empty_cache()
    with pytest.raises(AssertionError, match="CPU only"):
        tg.cuda.synchronize()
    assert not tg.backends.mps.is_available() and not tg.backends.cudnn.is_available()
    tg.backends.cudnn.benchmark = True  # settable, as PyTorch's
    tg.backends.cuda.matmul.allow_tf32 = True


def _losses(m, scaler, steps=6, poison=(2,)):
    """Steps of a tiny model through ``scaler``; at the steps in ``poison`` one gradient is
    inf. Returns the scales, what step() returned, and the weights."""
    layer = m.nn.Linear(3, 2).float()
    with m.no_grad():
        layer.weight.copy_(m.tensor([[0.5, -1.0, 0.25], [1.5, 0.0, -0.5]]))
        layer.bias.copy_(m.tensor([0.1, -0.2]))
    opt = m.optim.SGD(layer.parameters(), lr=0.1)
    x = m.tensor(np.linspace(-1, 1, 12).reshape(4, 3), dtype=m.float32)
    scales, results = [], []
    for k in range(steps):
        opt.zero_grad()
        scaler.scale(layer(x).square().mean()).backward()
        if k in poison:
            layer.bias.grad[0] = float("inf")
        results.append(scaler.step(opt))
        scaler.update()
        scales.append(scaler.get_scale())
    return scales, results, layer.weight.detach().numpy().copy(), scaler.state_dict()


def test_grad_scaler_on_the_cpu_scales_skips_and_adapts_as_pytorchs():
    kwargs = {"init_scale": 8.0, "growth_interval": 2}
    scales, results, weight, state = _losses(tg, tg.amp.GradScaler("cpu", **kwargs))
    assert scales == [8.0, 16.0, 8.0, 8.0, 16.0, 16.0]  # doubled after 2 good, halved at inf
    assert results == [None] * 6  # SGD's step returns None; the third was skipped
    torch = pytest.importorskip("torch")
    theirs = _losses(torch, torch.amp.GradScaler("cpu", **kwargs))
    assert scales == theirs[0] and state == {k: (v.item() if hasattr(v, "item") else v)
                                             for k, v in theirs[3].items()}
    np.testing.assert_allclose(weight, theirs[2], rtol=1e-6)


def test_grad_scaler_for_a_gpu_disables_itself_and_passes_through():
    with pytest.warns(UserWarning, match="CPU only: disabling it"):
        scaler = tg.cuda.amp.GradScaler()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        off = tg.amp.GradScaler("cpu", enabled=False)
    for s in (scaler, off):
        assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
        loss = tg.tensor(2.0, requires_grad=True) * 3
        assert s.scale(loss) is loss
    scales, _, weight, _ = _losses(tg, off, poison=())
    plain = _losses(tg, tg.amp.GradScaler("cpu"), poison=())
    np.testing.assert_allclose(weight, plain[2], rtol=1e-6)  # scaling changes no step


def test_grad_scaler_refuses_what_pytorchs_refuses():
    scaler = tg.amp.GradScaler("cpu")
    layer = tg.nn.Linear(2, 1)
    opt = tg.optim.SGD(layer.parameters(), lr=0.1)
    scaler.scale(layer(tg.ones(1, 2)).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    with pytest.raises(RuntimeError, match="state dict is empty"):
        scaler.load_state_dict({})
    with pytest.raises(ValueError, match="growth factor"):
        tg.amp.GradScaler("cpu", growth_factor=1.0)
