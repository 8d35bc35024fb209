"""The scalar reference engine: every number is a node, every op a handful of lines.

Each op states its forward value and the local derivative of that value with
respect to each child, side by side. ``backward()`` orders the graph
topologically and applies the chain rule once per edge. This engine is the
ground truth that every ``Tensor`` gradient is tested against, so it stays
small, obvious and exactly as precise as Python floats.
"""

from __future__ import annotations

import math


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back."""

    __slots__ = ("data", "grad", "children", "local_grads")

    def __init__(self, data: float, children: tuple = (), local_grads: tuple = ()):
        self.data = float(data)
        self.grad = 0.0
        self.children = children
        self.local_grads = local_grads  # d(self)/d(child), one per child

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent: float) -> Value:
        assert isinstance(exponent, (int, float)), "Value ** supports number exponents only"
        return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),))

    def log(self) -> Value:
        return Value(math.log(self.data), (self,), (1.0 / self.data,))

    def exp(self) -> Value:
        out = math.exp(self.data)
        return Value(out, (self,), (out,))

    def relu(self) -> Value:
        return Value(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        return other + (-self)

    def __rmul__(self, other: float) -> Value:
        return self * other

    # Division as multiplication by a power, as microgpt.py does, so this engine
    # rounds exactly as the original script and prints the same numbers.
    def __truediv__(self, other: Value | float) -> Value:
        return self * other**-1

    def __rtruediv__(self, other: float) -> Value:
        return other * self**-1

    def backward(self) -> None:
        """Accumulate d(self)/d(node) into ``node.grad`` for every node of the graph."""
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            for child, local_grad in zip(node.children, node.local_grads):
                child.grad += local_grad * node.grad

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"


def topological_order(root: Value) -> list[Value]:
    """The nodes of ``root``'s graph, each after its children."""
    # Iterative depth-first post-order, so deep graphs cannot hit the recursion limit.
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node.children)
    return order
