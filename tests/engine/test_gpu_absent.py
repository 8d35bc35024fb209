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
    assert not tg.accelerator.is_available() and tg.accelerator.current_accelerator() is None
    assert tg.accelerator.device_count() == 0 and tg.get_default_device() == "cpu"
    with pytest.raises(RuntimeError, match="none is available"):
        tg.accelerator.synchronize()
    tg.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.set_default_device("cuda")
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
    with pytest.warns(UserWarning, match="CPU only: disabling it") as warned:
        scaler = tg.cuda.amp.GradScaler()
    assert warned[0].filename == __file__  # the line that made it, as PyTorch's names
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


def test_switches_scripts_set_are_kept_and_change_nothing():
    model = tg.nn.Linear(2, 1)
    assert tg.compile(model) is model and tg.compile(mode="max-autotune")(model) is model
    with pytest.raises(RuntimeError, match="a module or a function"):
        tg.compile(3)
    assert tg.get_float32_matmul_precision() == "highest"
    tg.set_float32_matmul_precision("high")
    try:
        assert tg.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="has no effect"):
            tg.set_float32_matmul_precision("low")
        assert tg.get_float32_matmul_precision() == "high"
    finally:
        tg.set_float32_matmul_precision("highest")
    tg.use_deterministic_algorithms(True, warn_only=True)
    try:
        assert tg.are_deterministic_algorithms_enabled()
        assert tg.is_deterministic_algorithms_warn_only_enabled()
    finally:
        tg.use_deterministic_algorithms(False)
    assert not tg.are_deterministic_algorithms_enabled()


def test_autocast_casts_nothing_and_says_so_when_enabled():
    x = tg.ones(2, 2, dtype=tg.float32)
    with pytest.warns(UserWarning, match="nothing is cast"), \
            tg.autocast(device_type="cpu", dtype=tg.bfloat16):
        y = x @ x
    assert y.dtype == tg.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tg.amp.autocast(device_type="cpu", enabled=False):
            assert (x @ x).dtype == tg.float32

    @tg.autocast("cpu", enabled=False)
    def double(t):
        return t * 2

    assert double(x).sum().item() == 8.0


def test_names_scripts_use_for_dtypes_and_constants():
    table = {"float32": tg.float32, "bfloat16": tg.bfloat16, "float16": tg.float16}
    assert isinstance(table["float32"], tg.dtype) and not isinstance(tg.bfloat16, tg.dtype)
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        tg.zeros(2, dtype=tg.bfloat16)
    assert (tg.pi, tg.e, tg.inf) == (np.pi, np.e, np.inf) and np.isnan(tg.nan)


def test_one_process_no_group_as_pytorch_without_one():
    assert not tg.distributed.is_available() and not tg.distributed.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        tg.distributed.get_rank()
    with pytest.raises(RuntimeError, match="one process"):
        tg.distributed.init_process_group(backend="gloo")
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        tg.nn.parallel.DistributedDataParallel(tg.nn.Linear(2, 1))


def _data_parallel(m):
    m.manual_seed(0)
    inner = m.nn.Linear(2, 3)
    model = m.nn.DataParallel(inner)
    out = model(m.ones(4, 2, dtype=m.float32) if m is not tg else m.ones(4, 2))
    return (model.module is inner, list(model.state_dict()), tuple(out.shape),
            model.device_ids, [n for n, _ in model.named_parameters()])


def test_data_parallel_calls_its_module_as_pytorchs_without_a_gpu():
    ours = _data_parallel(tg)
    assert ours == (True, ["module.weight", "module.bias"], (4, 3), [],
                    ["module.weight", "module.bias"])
    torch = pytest.importorskip("torch")
    assert ours == _data_parallel(torch)


FLAGS = ["is_cpu", "is_cuda", "is_xpu", "is_mps", "is_meta", "is_xla", "is_ipu", "is_maia",
         "is_mtia", "is_vulkan", "is_sparse", "is_sparse_csr", "is_quantized", "is_mkldnn",
         "is_nested"]


def test_a_tensors_device_and_layout_flags_are_pytorchs_for_a_dense_cpu_tensor():
    """Model code picks its path by them (pytorch/examples' DCGAN reads ``input.is_xpu``)."""
    x = tg.ones(2, requires_grad=True) * 2
    assert {f: getattr(x, f) for f in FLAGS} == {f: f == "is_cpu" for f in FLAGS}
    torch = pytest.importorskip("torch")
    y = torch.ones(2, requires_grad=True) * 2
    assert {f: getattr(x, f) for f in FLAGS} == {f: getattr(y, f) for f in FLAGS}


def test_onnx_never_exports_and_refuses_to():
    """pytorch/examples' word language model imports ``torch.onnx`` at its top (the import
    under PyTorch's name: ``test_torch_namespaces.py``)."""
    assert not tg.onnx.is_in_onnx_export()
    with pytest.raises(RuntimeError, match="cannot write ONNX"):
        tg.onnx.export(tg.nn.Linear(2, 1), (tg.ones(1, 2),), "model.onnx")


def test_the_backends_are_modules_to_import_as_pytorchs():
    """``import torch.backends.cudnn as cudnn`` (pytorch/examples' DCGAN): each backend is a
    module whose switches are set on it."""
    import importlib

    cudnn = importlib.import_module("tensorgrad.backends.cudnn")
    assert cudnn is tg.backends.cudnn and not cudnn.is_available()
    assert importlib.import_module("tensorgrad.backends.mps") is tg.backends.mps
    benchmark = cudnn.benchmark
    cudnn.benchmark = True
    try:
        assert tg.backends.cudnn.benchmark
    finally:
        cudnn.benchmark = benchmark
