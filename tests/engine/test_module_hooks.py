"""A module's forward hooks, as PyTorch's: pre-hooks that may replace the arguments, hooks that
may replace the output, in order (``prepend``), with keyword arguments, removable, and run
when ``forward`` raises if asked (``always_call``)."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgrad as tg


class Scale:
    """A module that multiplies by a keyword ``factor`` (2 by default), in either library."""

    @staticmethod
    def make(m):
        class Scaled(m.nn.Module):
            def forward(self, x, factor=2.0):
                return x * factor

        return Scaled()


def _story(m):
    """What a sequence of hooks sees and does, as plain numbers."""
    seen = []
    layer = Scale.make(m)
    x = m.tensor([1.0, 2.0])
    values = lambda t: t.detach().tolist()  # noqa: E731
    h1 = layer.register_forward_hook(lambda mod, args, out: seen.append(("after", values(out))))
    h2 = layer.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # a single value
    seen.append(("out", values(layer(x))))
    h3 = layer.register_forward_hook(lambda mod, args, out: out * 10, prepend=True)
    seen.append(("out", values(layer(x))))
    h4 = layer.register_forward_pre_hook(
        lambda mod, args, kwargs: (args, {**kwargs, "factor": 3.0}), with_kwargs=True)
    h5 = layer.register_forward_hook(
        lambda mod, args, kwargs, out: seen.append(("kwargs", kwargs)), with_kwargs=True)
    seen.append(("out", values(layer(x, factor=5.0))))
    for handle in (h2, h3, h4, h5):
        handle.remove()
    handle.remove()  # again: nothing
    with layer.register_forward_pre_hook(lambda mod, args: (args[0] * 0,)):
        seen.append(("in block", values(layer(x))))
    seen.append(("out", values(layer(x))))
    h1.remove()
    return seen


def test_forward_hooks_run_as_pytorchs():
    ours = _story(tg)
    assert ours[:2] == [("after", [4.0, 6.0]), ("out", [4.0, 6.0])]
    torch = pytest.importorskip("torch")
    assert ours == _story(torch)


def test_a_hook_sees_each_layer_of_a_model_and_forward_errors_when_asked():
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.ReLU(), tg.nn.Linear(4, 2))
    features = {}
    for name, layer in model.named_children():
        layer.register_forward_hook(
            lambda mod, args, out, name=name: features.__setitem__(name, out.shape))
    model(tg.randn(5, 3))
    assert features == {"0": (5, 4), "1": (5, 4), "2": (5, 2)}
    called = []
    bad = model[0]
    bad.register_forward_hook(lambda mod, args, out: called.append(out), always_call=True)
    with pytest.raises(RuntimeError):
        bad(tg.randn(5, 7))  # the wrong width: forward raises, the hook still runs
    assert called == [None]
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        bad.register_forward_pre_hook(lambda mod, args, kwargs: 1, with_kwargs=True)
        bad(tg.randn(5, 3))


def test_modules_without_hooks_and_the_rest_of_the_surface():
    layer = tg.nn.Linear(2, 2)
    assert layer.half().weight.dtype == np.float16 and layer.share_memory() is layer
    with pytest.raises(AssertionError, match="CPU only"):
        layer.cuda()
