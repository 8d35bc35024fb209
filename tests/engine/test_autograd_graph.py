"""tensorgrad.autograd.graph: hooks on what ops save (what the hooks get and when they run,
that backward uses what unpack returns, nesting, threads, errors, captured steps),
multi-grad hooks, and the graph's nodes and edges."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref
from typing import Any

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.autograd.graph as graph
from tensorgrad import Tensor
from tests.paths import REPO


class _Calls:
    """Hooks that log what they get and pass it on (unpack scaled by ``scale``)."""

    def __init__(self, scale: float = 1.0) -> None:
        self.packed: list[Any] = []
        self.unpacked: list[Any] = []
        self.scale = scale

    def pack(self, t: Tensor) -> Any:
        assert isinstance(t, Tensor) and not tg.is_grad_enabled()
        self.packed.append(t)
        return ("kept", t)

    def unpack(self, kept: Any) -> Tensor:
        assert not tg.is_grad_enabled()
        self.unpacked.append(kept)
        return kept[1] * self.scale

    def hooks(self) -> graph.saved_tensors_hooks:
        return graph.saved_tensors_hooks(self.pack, self.unpack)


def test_import_tensorgrad_does_not_import_the_module() -> None:
    code = ("import sys, tensorgrad\n"
            "print('tensorgrad.autograd.graph' in sys.modules)\n"
            "tensorgrad.autograd.graph.saved_tensors_hooks\n"
            "print('tensorgrad.autograd.graph' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=60, check=True)
    assert result.stdout.split() == ["False", "True"]


def _inputs(dtype: Any, shape: tuple[int, ...], layout: str) -> Tensor:
    """A leaf of ``shape`` (transposed or sliced from a larger one, for those layouts)."""
    values = np.linspace(-1.5, 2.0, int(np.prod(shape)) or 1)[:int(np.prod(shape))]
    values = values.reshape(shape).astype(dtype)
    if layout == "transposed" and values.ndim == 2:
        values = np.ascontiguousarray(values.T).T
    elif layout == "sliced" and values.ndim >= 1:
        values = np.repeat(values, 2, axis=0)[::2]
    return tg.tensor(values, requires_grad=True) if layout == "plain" else \
        tg.Tensor(values, requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3)])
@pytest.mark.parametrize("layout", ["plain", "transposed", "sliced"])
def test_pack_gets_the_saved_tensors_and_backward_uses_what_unpack_returns(
        dtype: Any, shape: tuple[int, ...], layout: str) -> None:
    x = _inputs(dtype, shape, layout)
    calls = _Calls(scale=0.0)
    with calls.hooks():
        y = (x * x).sum()
    # a product saves both of its arguments: here x twice, handed over as x itself
    assert len(calls.packed) == 2 and all(t is x for t in calls.packed)
    assert calls.unpacked == []  # (until backward)
    y.backward()
    assert len(calls.unpacked) == 2
    assert x.grad.dtype == x.dtype and x.grad.shape == x.shape
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape, dtype))


def test_an_ops_result_is_packed_as_a_tensor_of_its_values() -> None:
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    calls = _Calls()
    with calls.hooks():
        y = x.tanh()
    (saved,) = calls.packed
    np.testing.assert_array_equal(saved.numpy(), y.detach().numpy())


def test_no_pack_where_no_graph_is_recorded() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    calls = _Calls()
    with calls.hooks():
        with tg.no_grad():
            x * x
        tg.tensor([1.0, 2.0]).exp()
        (x > 0).float() * 2  # (nothing saved by a comparison)
    assert calls.packed == []


def test_the_hooks_of_the_save_are_used_not_those_of_the_backward() -> None:
    early, late = _Calls(), _Calls()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with early.hooks():
        y = x.exp().sum()
    with late.hooks():
        y.backward()
    assert len(early.packed) == len(early.unpacked) == 1 and late.unpacked == []
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]))


def test_nested_hooks_use_the_innermost() -> None:
    outer, inner = _Calls(), _Calls()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with outer.hooks():
        a = x.exp()
        with inner.hooks():
            b = x.sin()
        c = x.cos()
    (a + b + c).sum().backward()
    assert len(outer.packed) == 2 and len(inner.packed) == 1
    assert len(outer.unpacked) == 2 and len(inner.unpacked) == 1
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) + np.cos([1.0, 2.0])
                               - np.sin([1.0, 2.0]))


def test_a_retained_graph_unpacks_at_each_backward_and_then_refuses() -> None:
    calls = _Calls()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with calls.hooks():
        y = x.tanh().sum()
    y.backward(retain_graph=True)
    y.backward()
    assert len(calls.packed) == 1 and len(calls.unpacked) == 2
    with pytest.raises(RuntimeError):
        y.backward()


class _Box:
    def __init__(self, t: Tensor) -> None:
        self.t = t


def test_backward_lets_go_of_what_pack_returned() -> None:
    boxes: list[weakref.ref[_Box]] = []

    def pack(t: Tensor) -> _Box:
        box = _Box(t)
        boxes.append(weakref.ref(box))
        return box

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(pack, lambda box: box.t):
        y = x.exp().sum()
    y.backward(retain_graph=True)
    assert boxes[0]() is not None
    y.backward()
    gc.collect()
    assert boxes[0]() is None  # (y and its graph still alive)


def test_an_unpack_that_returns_no_tensor_raises_type_error() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook"):
        y.backward()


def test_hooks_are_the_threads_own() -> None:
    calls = _Calls()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with calls.hooks():
        thread = threading.Thread(target=lambda: x * x)
        thread.start()
        thread.join()
    assert calls.packed == []


def test_create_graph_through_packed_values() -> None:
    calls = _Calls()
    values = np.array([0.5, 1.0, 2.0])
    x = tg.tensor(values, requires_grad=True)
    with calls.hooks():
        y = (x.tanh() * x).sum()
    (g,) = tg.autograd.grad(y, x, create_graph=True)
    (g2,) = tg.autograd.grad(g.sum(), x)
    t = np.tanh(values)
    np.testing.assert_allclose(g.detach().numpy(), t + values * (1 - t * t))
    np.testing.assert_allclose(g2.numpy(), 2 * (1 - t * t) - 2 * values * t * (1 - t * t))
    assert len(calls.unpacked) >= len(calls.packed) == 3


def test_a_function_packs_the_tensors_it_saves_and_its_backward_gets_the_unpacked() -> None:
    class Scale(tg.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Tensor, factor: float) -> Tensor:
            ctx.save_for_backward(x)
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx: Any, grad: Tensor) -> Any:
            (x,) = ctx.saved_tensors
            seen.append(x)
            return grad * ctx.factor + x, None

    seen: list[Tensor] = []
    calls = _Calls(scale=2.0)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with calls.hooks():
        Scale.apply(x, 3.0).sum().backward()
    assert len(calls.packed) == 1 and calls.packed[0] is x
    assert isinstance(seen[0], Tensor)
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 + 2.0, 3.0 + 4.0])


def test_save_on_cpu_keeps_copies_and_changes_no_gradient() -> None:
    x = tg.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    w = tg.tensor([[1.0, 2.0], [-0.5, 3.0]], requires_grad=True)

    def loss() -> Tensor:
        return ((x @ w).tanh() * x).sum()

    loss().backward()
    expected = x.grad.numpy().copy(), w.grad.numpy().copy()
    x.grad = w.grad = None
    with graph.save_on_cpu(pin_memory=True):
        y = loss()
    ctx = y.grad_fn
    y.backward()
    assert ctx is not None
    np.testing.assert_array_equal(x.grad.numpy(), expected[0])
    np.testing.assert_array_equal(w.grad.numpy(), expected[1])


def test_disable_saved_tensors_hooks() -> None:
    def enter_hooks() -> None:
        graph.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()

    with graph.disable_saved_tensors_hooks("not here"):
        with pytest.raises(RuntimeError, match="not here"):
            enter_hooks()
        with graph.disable_saved_tensors_hooks("nor here"), \
                pytest.raises(RuntimeError, match="nor here"):
            enter_hooks()
        with pytest.raises(RuntimeError, match="not here"):  # (the outer block's again)
            enter_hooks()
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t), \
            pytest.raises(RuntimeError, match="hooks on"), \
            graph.disable_saved_tensors_hooks("hooks on"):
        pass

    @graph.disable_saved_tensors_hooks("in a function")
    def use_hooks() -> None:
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            pass

    with pytest.raises(RuntimeError, match="in a function"):
        use_hooks()


def test_a_captured_step_refuses_hooks() -> None:
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    x = tg.tensor([0.5, 0.25])
    step = tg.capture(lambda x: (w * x).tanh().sum())
    for _ in range(3):
        step(x)
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t), \
            pytest.raises(tg.CaptureError, match="saved_tensors_hooks"):
        step(x)

    def hooked(x: Tensor) -> Tensor:
        with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            return (w * x).tanh().sum()

    with pytest.raises(tg.CaptureError, match="saved_tensors_hooks"):
        tg.capture(hooked)(x)
    step(x)  # (and works again after)


# ---- multi-grad hooks ------------------------------------------------------------------------


def test_mode_all_calls_once_with_every_gradient_the_pass_computes() -> None:
    a, b, c = (tg.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    calls: list[list[Any]] = []
    handle = graph.register_multi_grad_hook(
        (a, b, c), lambda gs: calls.append([None if g is None else g.tolist() for g in gs]))
    (a * 2 + b * 3).sum().backward()
    (c * 4).sum().backward()
    (a + b + c).sum().backward(inputs=[b])
    handle.remove()
    handle.remove()
    (a * 2).sum().backward()
    assert calls == [[[2.0, 2.0], [3.0, 3.0], None], [None, None, [4.0, 4.0]],
                     [None, [1.0, 1.0], None]]


def test_mode_all_on_results_of_ops() -> None:
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    x, y = a * 1, a * 2
    calls: list[Any] = []
    graph.register_multi_grad_hook((x, y), lambda gs: calls.append(
        [None if g is None else g.tolist() for g in gs]))
    (x * 3 + y).sum().backward(retain_graph=True)
    (y * 5).sum().backward()
    assert calls == [[[3.0, 3.0], [1.0, 1.0]], [None, [5.0, 5.0]]]


def test_mode_any_calls_once_a_pass() -> None:
    a, b = (tg.tensor([1.0], requires_grad=True) for _ in range(2))
    calls: list[Any] = []
    with graph.register_multi_grad_hook((a, b, tg.tensor([1.0])),
                                        lambda g: calls.append(g.tolist()), mode="any"):
        (a * 2 + b * 3).sum().backward()
        (a * 4).sum().backward()
    (a * 5).sum().backward()
    assert len(calls) == 2 and calls[1] == [4.0]


def test_multi_grad_hooks_refuse() -> None:
    a = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="mode"):
        graph.register_multi_grad_hook((a,), print, mode="some")
    with pytest.raises(AssertionError):
        graph.register_multi_grad_hook((a, tg.tensor([1.0])), print)


# ---- the graph's nodes -----------------------------------------------------------------------


def test_every_node_is_a_node() -> None:
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (a * 2).exp()
    assert isinstance(y.grad_fn, graph.Node)
    assert issubclass(type(y.grad_fn), graph.Node)
    (mul, _), = y.grad_fn.next_functions
    assert isinstance(mul, graph.Node) and isinstance(mul.next_functions[0][0], graph.Node)
    assert not isinstance(a, graph.Node) and not isinstance(None, graph.Node)
    with pytest.raises(TypeError):
        graph.Node()  # type: ignore[abstract]


def test_metadata_is_kept_on_the_node() -> None:
    y = tg.tensor([1.0], requires_grad=True) * 2
    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["name"] = "double"
    assert y.grad_fn.metadata == {"name": "double"}


def test_node_hooks_run_around_the_backward_and_replace_gradients() -> None:
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    y = a * tg.tensor(3.0)
    node = y.grad_fn
    name = node.name()
    order: list[str] = []
    node.register_prehook(lambda go: order.append("pre") or (go[0] * 2,))
    handle = node.register_hook(lambda gi, go: order.append("post") or (gi[0] + 1, None))
    assert node.name() == name
    y.sum().backward(retain_graph=True)
    assert order == ["pre", "post"] and a.grad.tolist() == [7.0, 7.0]
    handle.remove()
    a.grad = None
    y.sum().backward()
    assert a.grad.tolist() == [6.0, 6.0]


def test_node_hooks_that_return_the_wrong_count_raise() -> None:
    y = tg.tensor([1.0], requires_grad=True) * 1
    y.grad_fn.register_prehook(lambda go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="incorrect number"):
        y.sum().backward()


def test_gradient_edges() -> None:
    a = tg.tensor([1.0], requires_grad=True)
    y = a.exp()
    assert graph.get_gradient_edge(y) == (y.grad_fn, 0, None)
    edge = graph.get_gradient_edge(a)
    assert edge.node.variable is a and edge.output_nr == 0
    with pytest.raises(RuntimeError, match="does not require gradients"):
        graph.get_gradient_edge(tg.tensor([1.0]))


def test_a_leaf_has_one_accumulate_grad_node_while_it_is_held() -> None:
    a = tg.tensor([1.0], requires_grad=True)
    y = a * 2
    node = y.grad_fn.next_functions[0][0]
    assert graph.get_gradient_edge(a).node is node and node.variable is a
    node.metadata["k"] = "v"
    assert (a.exp()).grad_fn.next_functions[0][0].metadata == {"k": "v"}
    assert tg.tensor([1.0], requires_grad=True) is not a
    other = graph.get_gradient_edge(tg.tensor([1.0], requires_grad=True)).node
    assert other is not node


def test_a_subclass_may_name_its_hooks_pack_and_unpack() -> None:
    class Counting(graph.saved_tensors_hooks):
        def __init__(self) -> None:
            self.count = 0
            super().__init__(self.pack, self.unpack)

        def pack(self, t: Tensor) -> Tensor:
            self.count += 1
            return t

        def unpack(self, t: Tensor) -> Tensor:
            return t

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    hooks = Counting()
    with hooks:
        y = (x * x).sum()
    y.backward()
    assert hooks.count == 2 and x.grad.tolist() == [2.0, 4.0]
