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


# ---- backward hooks -------------------------------------------------------------------------


def _backward_story(m):
    """What a module's backward hooks see and do: a pre-hook that doubles one output's
    gradient, a hook that drops one input's and triples another's; then a layer whose input
    needs no gradient; then the hooks removed."""
    seen = []
    values = lambda ts: [None if t is None else t.detach().tolist() for t in ts]  # noqa: E731

    class Two(m.nn.Module):
        def forward(self, a, k, b):
            return a * b * k, (a + b).sum(-1)

    rng = np.random.default_rng(0)
    a = m.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = m.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    two = Two()
    pre = two.register_full_backward_pre_hook(
        lambda mod, go: seen.append(("pre", values(go))) or (go[0] * 2, go[1]))
    full = two.register_full_backward_hook(
        lambda mod, gi, go: seen.append(("full", values(gi), values(go))) or
        (gi[0], None, gi[2] * 3))
    x, s = two(a, 3.0, b)
    (x.sum() + (s * s).sum()).backward()
    seen.append(("grads", values([a.grad, b.grad])))
    layer = m.nn.Linear(2, 1, bias=False).double()
    with m.no_grad():
        layer.weight.copy_(m.tensor([[0.5, -1.0]], dtype=m.float64))
    layer.register_full_backward_hook(lambda mod, gi, go: seen.append(("no input grad",
                                                                      values(gi), values(go))))
    with pytest.warns(UserWarning, match="backward hook"):  # (its weight's gradient only)
        (layer(m.tensor([[1.0, 2.0]], dtype=m.float64)) ** 2).sum().backward()
    with m.no_grad():
        layer(m.tensor([[1.0, 2.0]], dtype=m.float64))  # no graph: no call
    pre.remove()
    full.remove()
    a.grad = b.grad = None
    x, s = two(a, 3.0, b)
    x.sum().backward()
    seen.append(("removed", values([a.grad])))
    return seen


def test_backward_hooks_run_as_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = _backward_story(tg), _backward_story(torch)
    assert [entry[0] for entry in ours] == [entry[0] for entry in theirs]
    for mine, their in zip(ours, theirs):
        for got, expected in zip(mine[1:], their[1:]):
            for g, e in zip(got, expected):
                if e is None:
                    assert g is None, mine[0]
                else:
                    np.testing.assert_allclose(g, e, rtol=1e-12, err_msg=mine[0])


def test_backward_hooks_see_and_replace_the_gradients():
    seen = _backward_story(tg)
    pre, full, grads = seen[0], seen[1], seen[2]
    assert pre[0] == "pre" and full[0] == "full"
    # the pre-hook doubled x's gradient (ones): the module's inputs got twice b * 3
    np.testing.assert_allclose(full[2][0], 2 * np.ones((2, 3)))
    assert full[1][1] is None  # k is a number
    np.testing.assert_allclose(grads[1][1], 3 * np.asarray(full[1][2]))  # b's tripled
    np.testing.assert_allclose(grads[1][0], full[1][0])  # a's as computed

    class Add(tg.nn.Module):
        def forward(self, a, b):
            return a + b

    x = tg.tensor([1.0], requires_grad=True)
    for returned, message in [(lambda gi: gi[:1], "returned 1 gradients where it was given 2"),
                              (lambda gi: (gi[0], 1), "returned int where a gradient of shape")]:
        add = Add()
        add.register_full_backward_hook(lambda mod, gi, go, returned=returned: returned(gi))
        with pytest.raises(RuntimeError, match=message):
            add(x, x * 2).sum().backward()


def test_backward_hooks_refuse_a_capture():
    layer = tg.nn.Linear(2, 1)
    layer.register_full_backward_hook(lambda mod, gi, go: None)
    step = tg.capture(lambda x: layer(x).sum())
    with pytest.raises(RuntimeError, match="backward hooks inside a captured function"):
        step(np.ones((3, 2)))


def test_the_older_backward_hook_is_the_full_one_and_says_so():
    layer, seen = tg.nn.Linear(2, 1), []
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        layer.register_backward_hook(lambda mod, gi, go: seen.append(gi[0].shape))
    layer(tg.ones(3, 2, requires_grad=True)).sum().backward()
    assert seen == [(3, 2)]
