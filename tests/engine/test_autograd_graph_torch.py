"""tensorgrad.autograd.graph against torch.autograd.graph: the saved tensors' hooks (what pack
gets, how often pack and unpack run, that backward uses what unpack returns), multi-grad
hooks' calls, the graph's nodes and the errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch_compare import assert_same  # noqa: E402

import tensorgrad as tg  # noqa: E402
import tensorgrad.autograd.graph as graph  # noqa: E402

BOTH = [(tg, graph), (torch, torch.autograd.graph)]

# ops that save the same tensors in both engines, on one argument or two
UNARY = {"tanh": lambda x: x.tanh(), "exp": lambda x: x.exp(),
         "sigmoid": lambda x: x.sigmoid(), "square": lambda x: x * x,
         "sin": lambda x: x.sin(), "log": lambda x: x.abs().log()}
BINARY = {"mul": lambda x, y: x * y, "matmul": lambda x, y: x @ y.T}


def _hooked_run(lib: Any, module: Any, op: Any, arrays: list[np.ndarray], scale: float
                ) -> tuple[list[tuple[Any, ...]], int, list[Any]]:
    """The op under hooks whose unpack scales what it returns: what pack got (shape, dtype,
    whether it is one of the inputs), how many unpacks, and the inputs' gradients."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    packed: list[tuple[Any, ...]] = []
    unpacked: list[int] = []

    def pack(t: Any) -> Any:
        packed.append((tuple(t.shape), str(t.dtype).split(".")[-1],
                       [i for i, x in enumerate(inputs) if t is x]))
        return t

    def unpack(t: Any) -> Any:
        unpacked.append(1)
        return t * scale

    with module.saved_tensors_hooks(pack, unpack):
        out = op(*inputs)
    assert not unpacked  # (not before backward)
    (out * lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)).astype(
        arrays[0].dtype))).sum().backward()
    return packed, len(unpacked), [x.grad for x in inputs]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_pack_and_unpack_as_torchs(name: str, dtype: Any) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    ours = _hooked_run(tg, graph, UNARY[name], [x], 0.5)
    theirs = _hooked_run(torch, torch.autograd.graph, UNARY[name], [x], 0.5)
    assert ours[:2] == theirs[:2]
    assert_same(ours[2][0], theirs[2][0], f"{name}: gradient", 1e-5)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_pack_and_unpack_as_torchs(name: str) -> None:
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))]
    ours = _hooked_run(tg, graph, BINARY[name], arrays, 2.0)
    theirs = _hooked_run(torch, torch.autograd.graph, BINARY[name], arrays, 2.0)
    assert sorted(ours[0]) == sorted(theirs[0]) and ours[1] == theirs[1]
    for mine, their in zip(ours[2], theirs[2]):
        assert_same(mine, their, f"{name}: gradient")


@pytest.mark.parametrize("lib,module", BOTH)
def test_an_unpack_of_zeros_zeroes_the_gradient_of_a_square(lib: Any, module: Any) -> None:
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with module.saved_tensors_hooks(lambda t: t, lambda t: t * 0):
        y = (x * x).sum()
    y.backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def _mlp(lib: Any, hooks: Any) -> tuple[int, int, list[np.ndarray]]:
    """A small MLP's loss and backward under ``hooks`` (None: none): how many packs and
    unpacks, and the parameters' gradients."""
    rng = np.random.default_rng(3)
    params = [lib.tensor(rng.standard_normal(shape), requires_grad=True)
              for shape in ((8, 5), (8,), (3, 8), (3,))]
    x, target = lib.tensor(rng.standard_normal((6, 5))), lib.tensor(rng.standard_normal((6, 3)))
    F = lib.nn.functional
    calls = {"pack": 0, "unpack": 0}

    def pack(t: Any) -> Any:
        assert isinstance(t, lib.Tensor)
        calls["pack"] += 1
        return t

    def unpack(t: Any) -> Any:
        calls["unpack"] += 1
        return t

    def forward() -> Any:
        h = F.relu(F.linear(x, params[0], params[1]))
        out = F.linear(h, params[2], params[3])
        return F.mse_loss(out, target) + out.tanh().sum() + (h * h).sum()

    if hooks is None:
        loss = forward()
    else:
        with hooks(pack, unpack) if hooks is not lib.autograd.graph.save_on_cpu else hooks():
            loss = forward()
    loss.backward()
    return calls["pack"], calls["unpack"], [p.grad.numpy() for p in params]


def test_an_mlp_under_hooks_packs_as_often_as_torchs_and_gets_its_gradients() -> None:
    ours = _mlp(tg, graph.saved_tensors_hooks)
    theirs = _mlp(torch, torch.autograd.graph.saved_tensors_hooks)
    assert ours[0] > 0 and ours[0] == ours[1] and theirs[0] == theirs[1]
    # which op saves what differs (a linear layer saves its weight, PyTorch's the
    # transposed weight); the counts agree within a few
    assert abs(ours[0] - theirs[0]) <= 4
    plain = _mlp(torch, None)
    for mine, their in zip(ours[2], plain[2]):
        assert_same(mine, their, "gradient")


@pytest.mark.parametrize("lib,module", BOTH)
def test_save_on_cpu_changes_no_gradient(lib: Any, module: Any) -> None:
    on_cpu, plain = _mlp(lib, module.save_on_cpu), _mlp(lib, None)
    for mine, theirs in zip(on_cpu[2], plain[2]):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("lib,module", BOTH)
def test_the_innermost_hooks_are_used_when_the_op_saves(lib: Any, module: Any) -> None:
    calls: list[str] = []

    def hooks(name: str) -> Any:
        return module.saved_tensors_hooks(lambda t: calls.append(f"{name} pack") or t,
                                          lambda t: calls.append(f"{name} unpack") or t)

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with hooks("outer"):
        a = x.exp()
        with hooks("inner"):
            b = x.tanh()
        c = x.sin()
    with hooks("late"):
        (a + b + c).sum().backward()
    assert calls == ["outer pack", "inner pack", "outer pack", "outer unpack", "inner unpack",
                     "outer unpack"]


def _error(call: Any) -> tuple[type, str]:
    try:
        call()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error), str(error)
    return type(None), ""


def test_disable_saved_tensors_hooks_raises_as_torchs() -> None:
    def hooks_inside(module: Any) -> Any:
        def run() -> None:
            with module.disable_saved_tensors_hooks("no hooks here"), \
                    module.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
        return run

    def disabled_inside(module: Any) -> Any:
        def run() -> None:
            with module.saved_tensors_hooks(lambda t: t, lambda t: t), \
                    module.disable_saved_tensors_hooks("hooks are on"):
                pass
        return run

    def nested(module: Any) -> Any:
        def run() -> None:
            with module.disable_saved_tensors_hooks("outer"):
                with module.disable_saved_tensors_hooks("inner"):
                    pass
                with module.saved_tensors_hooks(lambda t: t, lambda t: t):
                    pass
        return run

    for case in (hooks_inside, disabled_inside, nested):
        assert _error(case(graph)) == _error(case(torch.autograd.graph)), case.__name__


def test_an_unpack_that_returns_no_tensor_raises_torchs_error_type() -> None:
    def run(lib: Any, module: Any) -> None:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with module.saved_tensors_hooks(lambda t: t, lambda t: 3):
            y = (x * x).sum()
        y.backward()

    assert _error(lambda: run(tg, graph))[0] is _error(lambda: run(torch,
                                                                   torch.autograd.graph))[0]


def test_a_function_saves_through_the_hooks_as_in_torch() -> None:
    def run(lib: Any, module: Any) -> tuple[list[Any], list[float]]:
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx: Any, x: Any) -> Any:
                ctx.save_for_backward(x)
                return x * x * x

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                (x,) = ctx.saved_tensors
                return 3 * x * x * grad

        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        calls: list[Any] = []
        with module.saved_tensors_hooks(lambda t: calls.append(t is x) or t,
                                        lambda t: calls.append("unpack") or t + 1):
            y = Cube.apply(x)
            with lib.no_grad():
                Cube.apply(x)
        y.sum().backward()
        return calls, x.grad.tolist()

    assert run(tg, graph) == run(torch, torch.autograd.graph)


def _multi_grad_calls(lib: Any, module: Any) -> list[Any]:
    """Several passes through tensors with a multi-grad hook of each mode: what it got."""
    a, b, c = (lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
    calls: list[Any] = []

    def grads(gs: Any) -> None:
        calls.append([None if g is None else g.tolist() for g in gs])

    handle = module.register_multi_grad_hook((a, b, c), grads)
    (a * 2 + b * 3).sum().backward()
    (a * 2).sum().backward()
    (a * 2 + b + c).sum().backward(inputs=[a])
    (c * 4).sum().backward()
    handle.remove()
    (a * 2).sum().backward()
    calls.append("removed")
    with module.register_multi_grad_hook((a, b), lambda g: calls.append(g.tolist()),
                                         mode="any"):
        (a * 2 + b * 3).sum().backward()
        (b * 5).sum().backward()
    (a * 2).sum().backward()
    x, y = a * 1, b * 1
    module.register_multi_grad_hook((x, y), grads)
    (x * 2 + y).sum().backward(retain_graph=True)
    (x * 7).sum().backward()
    module.register_multi_grad_hook((a, a), grads)
    (a * 2).sum().backward()
    return calls


def test_multi_grad_hooks_fire_as_torchs() -> None:
    assert _multi_grad_calls(tg, graph) == _multi_grad_calls(torch, torch.autograd.graph)


def test_multi_grad_hooks_refuse_as_torch() -> None:
    def bad_mode(lib: Any, module: Any) -> Any:
        return lambda: module.register_multi_grad_hook(
            (lib.tensor([1.0], requires_grad=True),), print, mode="some")

    def no_grad_tensor(lib: Any, module: Any) -> Any:
        return lambda: module.register_multi_grad_hook(
            (lib.tensor([1.0], requires_grad=True), lib.tensor([1.0])), print)

    for case in (bad_mode, no_grad_tensor):
        ours, theirs = _error(case(tg, graph)), _error(case(torch, torch.autograd.graph))
        assert ours[0] is theirs[0], case.__name__
    assert _error(bad_mode(tg, graph)) == _error(bad_mode(torch, torch.autograd.graph))


def _node_calls(lib: Any, module: Any) -> tuple[list[Any], list[float], list[float]]:
    """Node hooks on a product's node: what they saw, and the gradients they made."""
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    y = a * lib.tensor(2.0)
    node = y.grad_fn
    assert isinstance(node, module.Node) and isinstance(node.next_functions[0][0], module.Node)
    calls: list[Any] = []
    node.register_prehook(lambda go: calls.append(("pre", [g.tolist() for g in go])))
    node.register_hook(lambda gi, go: calls.append(
        ("post", [None if g is None else g.tolist() for g in gi], [g.tolist() for g in go])))
    node.metadata["mine"] = 1
    assert node.metadata == {"mine": 1}
    y.sum().backward()
    b = lib.tensor([1.0, 2.0], requires_grad=True)
    z = b * lib.tensor(1.0)
    z.grad_fn.register_prehook(lambda go: (go[0] * 10,))
    handle = z.grad_fn.register_hook(lambda gi, go: (gi[0] * 5, None))
    z.sum().backward(retain_graph=True)
    first = b.grad.tolist()
    handle.remove()
    z.sum().backward()
    return calls, first, b.grad.tolist()


def test_node_hooks_as_torchs() -> None:
    assert _node_calls(tg, graph) == _node_calls(torch, torch.autograd.graph)


def test_a_node_hook_returning_the_wrong_count_raises_as_torch() -> None:
    def run(lib: Any) -> None:
        z = lib.tensor([1.0, 2.0], requires_grad=True) * lib.tensor(1.0)
        z.grad_fn.register_hook(lambda gi, go: (gi[0],))
        z.sum().backward()

    assert _error(lambda: run(tg))[0] is _error(lambda: run(torch))[0] is RuntimeError


def test_gradient_edges_as_torchs() -> None:
    for lib, module in BOTH:
        a = lib.tensor([1.0], requires_grad=True)
        y = a * 2
        assert module.get_gradient_edge(y).node is y.grad_fn
        assert module.get_gradient_edge(y).output_nr == 0
        leaf = module.get_gradient_edge(a)
        assert leaf.node.name() == "torch::autograd::AccumulateGrad" and leaf.output_nr == 0
        assert isinstance(leaf, tuple) and leaf.node.variable is a
    assert _error(lambda: graph.get_gradient_edge(tg.tensor([1.0])))[0] is _error(
        lambda: torch.autograd.graph.get_gradient_edge(torch.tensor([1.0])))[0]


def _leaf_node_calls(lib: Any) -> tuple[list[Any], list[float], dict[str, int]]:
    """Hooks on a leaf's AccumulateGrad node: what they saw, the .grad they made, and the
    node's metadata as seen through another path to it."""
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    y = a * 2
    node = y.grad_fn.next_functions[0][0]
    calls: list[Any] = []
    a.register_hook(lambda g: calls.append(("tensor", g.tolist())))
    node.register_prehook(lambda go: calls.append(("pre", [g.tolist() for g in go])))
    scale = node.register_prehook(lambda go: (go[0] * 10,))
    # (tensorgrad's post hook sees the gradient as the hooks registered before it leave it)
    node.register_hook(lambda gi, go: calls.append(("post", gi, [g.tolist() for g in go],
                                                    a.grad.tolist())))
    y.sum().backward()
    scale.remove()
    (a * 3).sum().backward()
    node.metadata["seen"] = 1
    return calls, a.grad.tolist(), dict(y.grad_fn.next_functions[0][0].metadata)


def test_accumulate_grad_nodes_as_torchs() -> None:
    assert _leaf_node_calls(tg) == _leaf_node_calls(torch)


def _function_node_calls(lib: Any) -> tuple[list[Any], list[float]]:
    """A post hook on a Function's node (a tensor argument and a number)."""
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, k: float) -> Any:
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * k

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return 2 * x * grad * ctx.k, None

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = Square.apply(x, 3.0)
    calls: list[Any] = []
    y.grad_fn.register_hook(lambda gi, go: calls.append(
        (len(gi), gi[0].tolist(), go[0].tolist())) or (gi[0] + 1,))
    y.sum().backward()
    return calls, x.grad.tolist()


def test_a_functions_node_hooks_as_torchs() -> None:
    assert _function_node_calls(tg) == _function_node_calls(torch)


def _double_backward_through_a_function(lib: Any, module: Any) -> tuple[Any, ...]:
    """create_graph=True through a Function whose saved input went through the hooks."""
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, grad: Any) -> Any:
            (x,) = ctx.saved_tensors
            return 3 * x * x * grad

    x = lib.tensor([1.0, -2.0], requires_grad=True)
    unpacks: list[int] = []
    with module.saved_tensors_hooks(lambda t: t, lambda t: unpacks.append(1) or t):
        y = Cube.apply(x).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    (g2,) = lib.autograd.grad(g.sum(), x)
    return g.tolist(), g2.tolist(), len(unpacks)


def test_double_backward_through_a_hooked_function_as_torchs() -> None:
    assert _double_backward_through_a_function(tg, graph) == \
        _double_backward_through_a_function(torch, torch.autograd.graph)


def _several_results(lib: Any, module: Any) -> tuple[Any, ...]:
    """A Function of two results that saves an input and a result, under hooks."""
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            s, c = x.sin(), x.cos()
            ctx.save_for_backward(s, c)
            return s, c

        @staticmethod
        def backward(ctx: Any, gs: Any, gc: Any) -> Any:
            s, c = ctx.saved_tensors
            return gs * c - gc * s

    x = lib.tensor(np.array([0.5, 1.0]), requires_grad=True)
    packs: list[tuple[int, ...]] = []
    with module.saved_tensors_hooks(lambda t: packs.append(tuple(t.shape)) or t * 1,
                                    lambda t: t):
        s, c = SinCos.apply(x)
    (s * 2 + c).sum().backward()
    return packs, x.grad.tolist()


def test_a_function_of_several_results_under_hooks_as_torchs() -> None:
    ours, theirs = _several_results(tg, graph), _several_results(torch, torch.autograd.graph)
    assert ours[0] == theirs[0]
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
