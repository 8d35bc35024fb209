"""``tensorgrad.to_dot``: a DOT node per tensor or Value, an edge per input; Graphviz reads it."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys

import pytest
from paths import REPO

import tensorgrad as tg
from benchmarks.engines import graph_nodes
from microgpt import gpt_scalar, gpt_tensor
from microgpt.train import document_tokens, setup
from tensorgrad import Tensor, Value
from tensorgrad.drawing import DRAWN_NODES

NAMES = ["emma", "olivia", "ava", "mia", "zoe", "liam", "noah", "eli", "ivy", "max"]
NODE = re.compile(r'  (n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];')
EDGE = re.compile(r'  (n\d+) -> (n\d+)(?: \[label="([^"]*)"\])?;')
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed")


def parse(source: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """The nodes (name: label, attributes) and edges (child, parent, label) of ``to_dot``'s text."""
    lines = source.splitlines()
    assert lines[0] == "digraph tensorgrad {" and lines[-1] == "}"
    nodes = {m[1]: (m[2], m[3]) for m in map(NODE.fullmatch, lines) if m}
    edges = [(m[1], m[2], m[3]) for m in map(EDGE.fullmatch, lines) if m]
    assert len(nodes) + len(edges) + 5 == len(lines)  # and the header lines, nothing else
    return nodes, edges


def training_step_losses(**model: int) -> dict[str, object]:
    """The first training step's loss on each engine, backpropagated, for a tiny model."""
    run = setup(NAMES, **model)
    tokens = document_tokens(run.tokenizer, run.docs[0], run.config.block_size)
    losses = {}
    for name, engine in (("tensor", gpt_tensor), ("scalar", gpt_scalar)):
        params = engine.from_state_dict(run.state)
        losses[name] = engine.document_loss(params, run.config, tokens), params
        losses[name][0].backward()
    return losses


TINY = {"n_embd": 2, "n_head": 1, "block_size": 1}


def test_one_node_per_tensor_and_per_value_of_a_training_step():
    for name, (loss, params) in training_step_losses(**TINY).items():
        nodes, edges = parse(tg.to_dot(loss, params, local_grads=False))
        assert len(nodes) == graph_nodes(loss), name
        if name == "tensor":
            assert len(nodes) == 23
            inputs = sum(sum(isinstance(a, Tensor) for a in fn.inputs)
                         for fn in _contexts(loss))
            assert len(edges) == inputs
            labels = [label for label, _ in nodes.values()]
            assert sum(label.startswith("MultiHeadAttention(") for label in labels) == 1
            assert any(label.startswith("wte\\n(") for label in labels)  # a named leaf
        else:
            assert all(label is None for _, _, label in edges)  # local_grads=False
            check_scalar_graph(nodes, edges, params)


def check_scalar_graph(nodes, edges, params) -> None:
    """A Value graph as drawn: a dag into the root (n0), each op node with its one or two
    operands, the leaves (no operand) drawn filled; among them, by name and with its gradient,
    every parameter the loss depends on (a nonzero gradient), and no other Value named."""
    operands = {name: [] for name in nodes}
    parents = {name: [] for name in nodes}
    for child, parent, _ in edges:
        operands[parent].append(child)
        parents[child].append(parent)
    assert [name for name in nodes if not parents[name]] == ["n0"]  # all reach the root
    assert {len(children) for children in operands.values()} <= {0, 1, 2}  # Value ops' arity
    leaves = [name for name in nodes if not operands[name]]
    assert all("fillcolor" in nodes[name][1] for name in leaves)
    assert not any("fillcolor" in nodes[name][1] for name in nodes if operands[name])
    drawn = {}
    for name in leaves:
        first, *rest = nodes[name][0].split("\\n")
        if not first.startswith("data "):
            drawn[first] = rest
    values = dict(named_values(params))
    assert set(drawn) <= set(values)
    assert {name for name, v in values.items() if v.grad != 0} <= set(drawn)
    for name, rest in drawn.items():
        assert rest == [f"data {values[name].data:.4g}", f"grad {values[name].grad:.4g}"]


def named_values(item, name: str = ""):
    """(name, Value) for each Value in nested dicts and lists, named as to_dot names them."""
    if isinstance(item, Value):
        yield name, item
    elif isinstance(item, dict):
        for key, part in item.items():
            yield from named_values(part, key)
    else:
        for i, part in enumerate(item):
            yield from named_values(part, f"{name}[{i}]")


def test_a_value_graph_has_an_edge_per_operand_labelled_with_its_local_derivative():
    a, b = Value(3.0), Value(-2.0)
    out = a * b + a  # add(mul(a, b), a): d(mul)/da = b, d(mul)/db = a, d(add)/d(either) = 1
    nodes, edges = parse(tg.to_dot(out, {"a": a, "b": b}))
    by_name = {label.split("\\n")[0]: name for name, (label, _) in nodes.items()}
    assert len(nodes) == 4
    mul = next(name for name in nodes if name not in (by_name["a"], by_name["b"], "n0"))
    assert sorted(edges) == sorted([(by_name["a"], mul, "-2"), (by_name["b"], mul, "3"),
                                    (mul, "n0", "1"), (by_name["a"], "n0", "1")])


def _contexts(loss: Tensor) -> list:
    found, seen, stack = [], set(), [loss]
    while stack:
        t = stack.pop()
        if t.grad_fn is not None and id(t.grad_fn) not in seen:
            seen.add(id(t.grad_fn))
            found.append(t.grad_fn)
            stack.extend(a for a in t.grad_fn.inputs if isinstance(a, Tensor))
    return found


DOCS_SCRIPT = REPO / "docs" / "rms_norm_graphs.py"


def rms_norm_graphs() -> tuple[str, str]:
    """The DOT of docs/side-by-side.md's first pictures, from their script: (tensor, scalar)."""
    spec = importlib.util.spec_from_file_location("rms_norm_graphs", DOCS_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    sources = script.dot_sources()
    return sources["tensor"], sources["scalar"]


def test_labels_show_ops_values_gradients_and_local_derivatives():
    tensor_dot, scalar_dot = rms_norm_graphs()
    nodes, edges = parse(tensor_dot)
    labels = {label.split("\\n")[0]: (label, style) for label, style in nodes.values()}
    assert set(labels) == {"x", "w", "RMSNorm(4, 1e-05)", "Mul", "Sum((0,), False)"}
    assert "grad [" in labels["x"][0] and "fillcolor" in labels["x"][1]  # a leaf, with grad
    assert "grad" not in labels["Mul"][0] and "fillcolor" not in labels["Mul"][1]
    assert len(edges) == 4
    nodes, edges = parse(scalar_dot)
    assert len(nodes) == 35  # rmsnorm: 22, the weights 4, their products 4, sum() 5
    named = [label for label, _ in nodes.values() if label.startswith(("x[", "w["))]
    assert len(named) == 8 and "x[1]\\ndata -2\\ngrad 0.2696" in named
    constants = [style for label, style in nodes.values() if label.startswith("data 1e-05")]
    assert constants == [', style="rounded,filled", fillcolor="#e6e6e6"']  # an unnamed leaf
    # x[1] * x[1]: two edges, each labelled with the local derivative, x[1] = -2
    by_name = {label.split("\\n")[0]: name for name, (label, _) in nodes.items()}
    assert [label for child, _, label in edges if child == by_name["x[1]"]].count("-2") == 2


def quoted_name() -> str:
    x = Tensor([1.0, 2.0], requires_grad=True)
    return tg.to_dot(x * 2.0, {'a "quoted" \\ name': x})


def test_the_same_graph_gives_the_same_text_and_quotes_are_escaped():
    assert rms_norm_graphs() == rms_norm_graphs()
    source = quoted_name()
    assert 'a \\"quoted\\" \\\\ name' in source
    parse(source)


def test_only_graphs_are_drawn():
    with pytest.raises(TypeError, match="Tensor or a Value"):
        tg.to_dot([Value(1.0)])


@needs_dot
def test_graphviz_reads_both_engines_graphs():
    losses = training_step_losses(**TINY)
    sources = [tg.to_dot(loss, params, local_grads=False) for loss, params in losses.values()]
    for source in [*sources, *rms_norm_graphs(), quoted_name()]:
        drawn = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True,
                               timeout=60)
        assert drawn.returncode == 0, drawn.stderr
        assert drawn.stdout.lstrip().startswith(b"<?xml") and b"<svg" in drawn.stdout


@needs_dot
def test_the_first_pictures_of_side_by_side_are_drawn_by_their_script(tmp_path):
    result = subprocess.run([sys.executable, str(DOCS_SCRIPT), str(tmp_path)], capture_output=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    for engine in ("tensor", "scalar"):
        assert b"<svg" in (tmp_path / f"rms_norm_{engine}.svg").read_bytes()


def jupyter_shows(obj) -> dict:
    """What Jupyter receives to show ``obj`` as a cell's result: its data by MIME type."""
    formatters = pytest.importorskip("IPython.core.formatters", reason="needs IPython")
    data, _ = formatters.DisplayFormatter().format(obj)
    return data


def test_to_dot_gives_a_str_that_jupyter_shows_as_text_without_graphviz(monkeypatch, tmp_path):
    source = quoted_name()
    assert isinstance(source, str) and str(source) == source
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on it
    shown = jupyter_shows(source)
    assert "image/svg+xml" not in shown
    assert shown["text/plain"] == source  # the DOT text, not a quoted string


@needs_dot
def test_jupyter_shows_to_dots_graph_as_a_picture_with_graphviz():
    tensor_dot, scalar_dot = rms_norm_graphs()
    for source in (tensor_dot, scalar_dot):
        svg = jupyter_shows(source)["image/svg+xml"]
        assert "<svg" in svg and svg.count('class="node"') == len(parse(source)[0])


@needs_dot
def test_a_graph_too_large_to_lay_out_quickly_is_shown_as_text():
    root = Value(0.0)
    for _ in range(DRAWN_NODES // 2 + 1):  # two Values a round: just over DRAWN_NODES
        root = root + Value(1.0)
    shown = jupyter_shows(tg.to_dot(root, local_grads=False))
    assert "image/svg+xml" not in shown and shown["text/plain"].startswith("digraph")
