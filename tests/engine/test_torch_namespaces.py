"""The small namespaces PyTorch code reaches for: ``jit`` (no compiler: the code itself),
``testing.assert_close`` (PyTorch's tolerances), ``utils.checkpoint`` (the function as it
is) and ``cuda.amp.autocast`` (nothing cast)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad.utils.checkpoint import checkpoint, checkpoint_sequential


def test_jit_gives_back_what_it_is_given_and_its_decorators_change_nothing():
    layer = tg.nn.Linear(2, 1)
    assert tg.jit.script(layer) is layer and tg.jit.trace(layer, tg.ones(1, 2)) is layer

    @tg.jit.ignore(drop=True)
    def f(x):
        return x + 1

    assert tg.jit.unused(f) is f and tg.jit.ignore(f) is f and f(1) == 2
    assert not tg.jit.is_scripting() and not tg.jit.is_tracing()
    with pytest.raises(RuntimeError, match="state_dict"):
        tg.jit.save(layer, "model.pt")


def test_compiler_reports_no_compiling_and_its_decorators_change_nothing():
    assert not tg.compiler.is_compiling() and not tg.compiler.is_dynamo_compiling()
    assert not tg.compiler.is_exporting() and tg.compiler.reset() is None

    def f(x):
        return x + 1

    assert tg.compiler.disable(f) is f and tg.compiler.disable(recursive=False)(f) is f
    assert tg.compiler.allow_in_graph(f) is f and tg.compiler.assume_constant_result(f) is f
    layer = tg.nn.Linear(2, 1)
    assert layer.compile(mode="max-autotune") is None and layer(tg.ones(1, 2)).shape == (1, 1)


CLOSE_CASES = [  # (actual, expected, passes)
    (lambda m: m.tensor([1.0, 2.0], dtype=m.float64), lambda m: m.tensor([1.0, 2.0 + 1e-8],
                                                                         dtype=m.float64), True),
    (lambda m: m.tensor([1.0, 2.0], dtype=m.float64), lambda m: m.tensor([1.0, 2.0 + 1e-5],
                                                                         dtype=m.float64), False),
    (lambda m: m.tensor([1.0], dtype=m.float32), lambda m: m.tensor([1.0 + 1e-6],
                                                                    dtype=m.float32), True),
    (lambda m: m.tensor([1.0], dtype=m.float32), lambda m: m.tensor([1.0], dtype=m.float64),
     False),
    (lambda m: m.tensor([1, 2]), lambda m: m.tensor([1, 3]), False),
    (lambda m: m.tensor([[1.0]]), lambda m: m.tensor([1.0]), False),
    (lambda m: m.tensor([float("nan")]), lambda m: m.tensor([float("nan")]), False),
    (lambda m: {"a": m.tensor([1.0])}, lambda m: {"a": m.tensor([1.0])}, True),
    (lambda m: [m.tensor([1.0]), m.tensor([2.0])], lambda m: [m.tensor([1.0]),
                                                              m.tensor([2.5])], False),
]


def _libraries():
    try:
        import torch
    except ImportError:  # (tensorgrad alone, then)
        return [tg]
    return [tg, torch]


@pytest.mark.parametrize("case", range(len(CLOSE_CASES)))
def test_assert_close_passes_and_fails_as_pytorchs(case):
    actual, expected, passes = CLOSE_CASES[case]
    for m in _libraries():
        if passes:
            m.testing.assert_close(actual(m), expected(m))
        else:
            with pytest.raises(AssertionError):
                m.testing.assert_close(actual(m), expected(m))
    tg.testing.assert_close(tg.tensor([float("nan")]), tg.tensor([float("nan")]), equal_nan=True)
    with pytest.raises(ValueError, match="rtol"):
        tg.testing.assert_close(tg.ones(1), tg.ones(1), atol=1.0)


def test_make_tensor_draws_in_its_range_and_dtype():
    x = tg.testing.make_tensor(3, 4, dtype=tg.float32, low=-1, high=1, noncontiguous=True)
    assert x.shape == (3, 4) and x.dtype == np.float32 and not x.is_contiguous()
    assert float(x.abs().max()) <= 1
    assert tg.testing.make_tensor((2,), dtype=tg.int64).dtype == np.int64


def test_checkpoint_gives_the_values_and_gradients_of_the_function():
    w = tg.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    block = tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.Tanh(), tg.nn.Linear(2, 2))
    grads = []
    for run in (lambda x: block(x), lambda x: checkpoint(block, x, use_reentrant=False),
                lambda x: checkpoint_sequential(block, 2, x)):
        w.grad = None
        out = run(w * 2)
        out.sum().backward()
        grads.append((out.detach().numpy(), w.grad.numpy()))
    for values, grad in grads[1:]:
        np.testing.assert_array_equal(values, grads[0][0])
        np.testing.assert_array_equal(grad, grads[0][1])


def test_cuda_amp_autocast_casts_nothing():
    with tg.cuda.amp.autocast(enabled=False):
        assert (tg.ones(2, dtype=tg.float64) * 2).dtype == np.float64


ALIASED = '''
import sys
import tensorgrad
sys.modules["torch"] = tensorgrad
import torch.nn as nn
import torch.nn.functional as F
import torch.optim.lr_scheduler
import torch.onnx
import torch.backends.cudnn as cudnn
from torch.nn.modules.conv import _ConvNd
from torch.distributions import Categorical
from torch.utils.data import DataLoader
assert nn is tensorgrad.nn and F is tensorgrad.nn.functional and DataLoader is \\
    tensorgrad.utils.data.DataLoader and torch.onnx is tensorgrad.onnx and \\
    cudnn is tensorgrad.backends.cudnn and isinstance(nn.Conv2d(1, 1, 1), _ConvNd) and \\
    torch.nn.modules.rnn.LSTM is nn.LSTM
assert not [name for name, module in sys.modules.items()
            if getattr(module, "__name__", "").startswith("torch.")]  # no second copies
x = tensorgrad.randn(5, 4, requires_grad=True)
nn.Linear(4, 2)(x).sum().backward()
print(tuple(Categorical(logits=x).sample().shape), tuple(x.grad.shape))
'''


def test_submodules_under_pytorchs_name_are_tensorgrads_own():
    # (a child process: this one may hold the real torch under its name)
    done = subprocess.run([sys.executable, "-c", ALIASED], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(Path(tg.__file__).parents[1])},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "(5,) (5, 4)"


def test_nn_modules_names_each_class_where_pytorch_defines_it():
    """``torch.nn.modules.<file>.<Class>`` (pytorch/examples' word language model lists them
    to allow when loading): tensorgrad's own class under each of PyTorch's paths."""
    from tensorgrad.nn.modules.batchnorm import _BatchNorm

    modules = tg.nn.modules
    assert modules.dropout.Dropout is tg.nn.Dropout and modules.Linear is tg.nn.Linear
    assert isinstance(tg.nn.BatchNorm1d(2), _BatchNorm)
    paths = {(name, cls) for name in modules._LAYOUT for cls in modules._LAYOUT[name]}
    for name, cls in paths:
        ours = getattr(getattr(modules, name), cls)
        assert ours.__name__ == cls and (cls in modules._PRIVATE or getattr(tg.nn, cls) is ours)
    torch = pytest.importorskip("torch")
    for name, cls in paths:
        theirs = getattr(getattr(torch.nn.modules, name), cls)
        assert theirs.__module__ == f"torch.nn.modules.{name}", (name, cls)
        if cls not in modules._PRIVATE:
            assert getattr(torch.nn.modules, cls) is theirs


def test_sdpa_kernel_runs_the_block_and_checks_its_backends():
    from tensorgrad.nn.attention import SDPBackend, sdpa_kernel

    q = tg.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)))
    plain = tg.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        inside = tg.nn.functional.scaled_dot_product_attention(q, q, q, is_causal=True)
    np.testing.assert_array_equal(inside.numpy(), plain.numpy())
    assert int(SDPBackend.MATH) == 0 and int(SDPBackend.ERROR) == -1
    with pytest.raises(AssertionError, match="instance of SDPBackend"), sdpa_kernel("math"):
        pass


def test_amp_custom_fwd_and_bwd_leave_a_function_as_written():
    class Double(tg.autograd.Function):
        @staticmethod
        @tg.amp.custom_fwd(device_type="cpu", cast_inputs=tg.float32)
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @tg.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            return grad * 2

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = Double.apply(x)
    y.sum().backward()
    assert y.dtype == tg.float64 and x.grad.tolist() == [2.0, 2.0]
    assert tg.amp.is_autocast_available("cpu")
    with pytest.raises(RuntimeError, match="device type at start of device string: gpu"):
        tg.amp.is_autocast_available("gpu")
    with pytest.raises(TypeError, match="device_type"):
        tg.amp.custom_fwd(lambda ctx, x: x)
    with pytest.warns(FutureWarning, match="torch.cuda.amp.custom_fwd"):
        forward = tg.cuda.amp.custom_fwd(lambda ctx, x: x)
    assert forward(None, 3) == 3


def test_removable_handle_is_what_hooks_return():
    from tensorgrad.utils.hooks import RemovableHandle

    handle = tg.nn.Linear(1, 1).register_forward_hook(lambda *args: None)
    assert isinstance(handle, RemovableHandle)


def test_set_printoptions_changes_how_tensors_print_not_arrays():
    x = tg.tensor([1 / 3, 2 / 3])
    before, array_before = repr(x), repr(np.array([1 / 3]))
    try:
        tg.set_printoptions(precision=2)
        assert repr(x) == "Tensor([0.33, 0.67])"
        tg.set_printoptions(sci_mode=True)
        assert repr(x) == "Tensor([3.33e-01, 6.67e-01])"
        tg.set_printoptions(profile="short")
        assert repr(x) == "Tensor([0.33, 0.67])"
        tg.set_printoptions(profile="full")
        assert "..." not in repr(tg.zeros(5000))
        with pytest.raises(ValueError, match="Invalid profile"):
            tg.set_printoptions(profile="long")
        assert repr(np.array([1 / 3])) == array_before
    finally:
        from tensorgrad.tensor import print_options

        print_options.clear()
    assert repr(x) == before


def test_the_namespaces_of_devices_tensorgrad_has_not():
    assert tg.version.cuda is None and tg.version.__version__ == tg.__version__
    assert not tg.mps.is_available() and not tg.xpu.is_available()
    assert tg.cuda.memory_allocated() == tg.cuda.max_memory_reserved() == 0
    assert not tg.backends.openmp.is_available() and not tg.backends.mkldnn.is_available()
    assert tg.set_flush_denormal(True) is False
    tg.backends.cuda.enable_flash_sdp(False)
    assert not tg.backends.cuda.flash_sdp_enabled()
    with pytest.warns(FutureWarning, match="sdpa_kernel"), \
            tg.backends.cuda.sdp_kernel(enable_flash=True, enable_math=False):
        assert tg.backends.cuda.flash_sdp_enabled() and not tg.backends.cuda.math_sdp_enabled()
    assert not tg.backends.cuda.flash_sdp_enabled() and tg.backends.cuda.math_sdp_enabled()
    tg.backends.cuda.enable_flash_sdp(True)
    import multiprocessing

    assert tg.multiprocessing.Process is multiprocessing.Process
