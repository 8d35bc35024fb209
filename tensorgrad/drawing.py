"""Pictures of a graph: Graphviz DOT source for the graph that ends at a ``Tensor`` or a ``Value``.

``to_dot(root)`` returns the text, a ``str``. Render it with Graphviz's ``dot`` program
(``dot -Tsvg graph.dot -o graph.svg``) or any DOT viewer; in Jupyter it shows as the picture
when ``dot`` is on PATH (its ``_repr_svg_`` runs it), and as the DOT text otherwise.

The two engines record different things, and the pictures show exactly what each records:

* A ``Tensor`` made by an op knows the op (``grad_fn.function``) and the op's arguments
  (``grad_fn.inputs``). Its node shows the op, the arguments that are not tensors (a
  dimension, an eps, the targets' shape), the shape, and the values if there are few.
* A ``Value`` knows only its number, its children and the local derivative of itself with
  respect to each child: no op. Its node shows the number, each edge the local derivative.

Both show the gradient where there is one (after ``backward()``). A ``backward()`` without
``retain_graph=True`` lets go of the values between the leaves and the root, as PyTorch's
does: draw before it, or keep them with ``retain_graph=True``. Leaves are drawn filled:
in blue the tensors that require grad and the ``Value``s given a name (a ``Value`` cannot tell
a parameter from a constant), in grey the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .tensor import Tensor, let_go
from .value import Value

SHOWN_VALUES = 6  # a tensor with at most this many entries shows them, a larger one its shape
# Graphviz lays out large graphs slowly (tens of seconds for thousands of nodes): beyond this
# many, Jupyter shows the text instead of waiting for a picture.
DRAWN_NODES = 5000
_NODE_LINE = re.compile(r"^  n\d+ \[", re.MULTILINE)
_LEAF_STYLE = 'style="rounded,filled", fillcolor="#cfe2f3"'
_CONSTANT_STYLE = 'style="rounded,filled", fillcolor="#e6e6e6"'


class DotSource(str):
    """DOT source text that Jupyter draws as a picture when Graphviz's ``dot`` is on PATH.

    It is the text itself for everything else: ``print`` it, write it to a file, compare it.
    """

    def _repr_svg_(self) -> str | None:
        """The graph drawn as SVG by ``dot``; None (Jupyter then shows the text) without ``dot``,
        for a graph of more than ``DRAWN_NODES`` nodes, or if ``dot`` fails."""
        import shutil  # here, not at the top: only Jupyter's drawing needs them, and
        import subprocess  # they add to every start-up (benchmarks/SPEED.md, "Start-up")

        dot = shutil.which("dot")
        if dot is None or len(_NODE_LINE.findall(self)) > DRAWN_NODES:
            return None
        try:
            drawn = subprocess.run([dot, "-Tsvg"], input=self.encode(), capture_output=True,
                                   timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return drawn.stdout.decode() if drawn.returncode == 0 else None

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text form: the DOT text as it reads, not a quoted one-line string."""
        printer.text(str(self))


def to_dot(root: Tensor | Value, names: Mapping[str, Any] | None = None,
           local_grads: bool = True) -> DotSource:
    """The DOT source of the graph that ends at ``root``, one node per tensor or ``Value``.

    ``names`` labels leaves: ``{"wte": tensor}`` (a ``Value`` leaf, or anything holding
    ``Value``s in nested lists, is named by its place: ``wte[3][5]``). ``local_grads=False``
    leaves a ``Value`` graph's edges unlabelled: Graphviz lays out a graph of thousands of
    nodes several times faster without edge labels. Nodes are numbered from the root, so the
    same graph always gives the same text. The result is a ``str`` (a ``DotSource``, which
    Jupyter shows as the picture).

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> print(to_dot((x * x).sum()).splitlines()[4])
      n0 [label="Sum((0,), False)\\n5."];
    """
    if not isinstance(root, (Tensor, Value)):
        raise TypeError(f"to_dot draws the graph of a Tensor or a Value, not {type(root).__name__}")
    labels = dict(_named_leaves(names or {}))
    order, numbers, edges = [root], {id(root): 0}, []
    for node in order:  # the list grows as nodes are found: a breadth-first walk
        for child, edge_label in _inputs(node, local_grads):
            if id(child) not in numbers:
                numbers[id(child)] = len(order)
                order.append(child)
            edges.append((numbers[id(child)], numbers[id(node)], edge_label))
    lines = ["digraph tensorgrad {", "  rankdir=LR;",
             '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=8, color="#555555"];']
    for number, node in enumerate(order):
        label, style = _describe(node, labels.get(id(node)))
        lines.append(f'  n{number} [label="{_escape(label)}"{", " + style if style else ""}];')
    for child_number, parent_number, edge_label in edges:
        extra = f' [label="{_escape(edge_label)}"]' if edge_label else ""
        lines.append(f"  n{child_number} -> n{parent_number}{extra};")
    lines.append("}")
    return DotSource("\n".join(lines) + "\n")


def _inputs(node: Tensor | Value, local_grads: bool) -> Iterator[tuple[Tensor | Value, str]]:
    """The nodes ``node`` was computed from, each with the label of its edge."""
    if isinstance(node, Value):
        for child, local_grad in zip(node.children, node.local_grads):
            yield child, _number(local_grad) if local_grads else ""
    elif node.grad_fn is not None:
        for argument in node.grad_fn.inputs:
            if isinstance(argument, Tensor):
                yield argument, ""


def _describe(node: Tensor | Value, name: str | None) -> tuple[str, str]:
    """A node's label and its style."""
    if isinstance(node, Value):
        lines = [name] if name else []
        lines += [f"data {_number(node.data)}", f"grad {_number(node.grad)}"]
        if node.children:
            return "\n".join(lines), ""
        return "\n".join(lines), _LEAF_STYLE if name else _CONSTANT_STYLE
    fn = node.grad_fn
    if fn is not None:
        arguments = [_argument(a) for a in fn.inputs if not isinstance(a, Tensor)]
        head = fn.name() + (f"({', '.join(arguments)})" if arguments else "")
        style = ""
    else:
        head = name or ("leaf" if node.requires_grad else "constant")
        style = _LEAF_STYLE if node.requires_grad else _CONSTANT_STYLE
    values = _array(node._data)
    if let_go(node):  # what backward() let go of, as PyTorch's does: retain_graph keeps it
        values = f"{tuple(node._data.shape)} {node._data.dtype}, let go by backward()"
    lines = [head, values]
    if node._grad is not None:
        lines.append(f"grad {_array(node._grad)}")
    return "\n".join(lines), style


def _array(a: np.ndarray) -> str:
    """Few values as they are, many as their shape and dtype."""
    if a.size <= SHOWN_VALUES:
        return np.array2string(a, precision=4, separator=", ", floatmode="maxprec")
    return f"{tuple(a.shape)} {a.dtype}"


def _argument(a: Any) -> str:
    """An op's argument that is not a tensor, in a few characters."""
    if isinstance(a, np.ndarray):
        return f"{a.dtype}{list(a.shape)}"
    if isinstance(a, slice):
        return ":".join("" if x is None else str(x) for x in (a.start, a.stop, a.step)
                        ).rstrip(":") or ":"
    if isinstance(a, float):
        return _number(a)
    if isinstance(a, tuple):
        return "(" + ", ".join(_argument(x) for x in a) + ("," if len(a) == 1 else "") + ")"
    text = repr(a)
    return text if len(text) <= 24 else text[:21] + "..."


def _number(x: float) -> str:
    return f"{x:.4g}"


def _named_leaves(names: Mapping[str, Any]) -> Iterator[tuple[int, str]]:
    """(id, name) of every named node: a tensor or Value, or Values in nested lists."""
    for name, item in names.items():
        yield from _places(item, name)


def _places(item: Any, name: str) -> Iterator[tuple[int, str]]:
    if isinstance(item, (Tensor, Value)):
        yield id(item), name
    elif isinstance(item, (list, tuple)):
        for i, part in enumerate(item):
            yield from _places(part, f"{name}[{i}]")


def _escape(text: str) -> str:
    """Text inside a DOT string: quotes and backslashes escaped, lines as ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
