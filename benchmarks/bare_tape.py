"""A bare tape: the least an engine that records a node per operation can do, for the benchmarks to compare with.

Each operation appends a node (its numbers, its inputs and a closure for its vector-Jacobian product) to a list;
``backward`` walks the list in reverse and calls the closures.  It has none of the engine's checks, dtype rules or
general graph walk, and it knows only the operations the benchmarks use, each with the cheapest numpy calls that
give the engine's numbers bit for bit (the benchmarks check this in every run), keeping from the forward pass what
the backward pass can use (σ').  So its time is what any engine that records these operations must pay at the
least, with every intermediate's gradient kept as the drawings need.

    >>> tape = Tape()
    >>> w = Node(np.array([[2.0]]))
    >>> cost = tape.mean(tape.square(tape.matmul(np.array([[3.0]]), w)))   # (3w)²
    >>> tape.backward(cost)
    >>> w.grad                                                               # 18w
    array([[36.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class Node:
    __slots__ = ("data", "grad", "parents", "backward")

    def __init__(self, data: np.ndarray, parents: tuple[Any, ...] = (), backward: Callable | None = None) -> None:
        self.data, self.parents, self.backward = data, parents, backward
        self.grad: Any = None


def sigmoid_and_slope(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and σ'(z) bit for bit as the engine computes them (``ops.sigmoid``, ``ops.sigmoid_slope``), from one
    exponential e = e^−|z|: σ = max(e, [z ≥ 0]) / (1 + e) and σ' = e / (1 + e)².  The engine computes e again in the
    backward pass; an engine that kept it from the forward pass would pay only this."""
    e = np.exp(-np.abs(z))
    denominator = e + 1.0
    sigma = np.maximum(e, z >= 0) / denominator
    denominator *= denominator
    return sigma, np.divide(e, denominator, out=denominator)


def _data(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Node) else x


class Tape(list):
    """The recorded nodes, oldest first.  A constant input is a plain array; its gradient is not computed."""

    def record(self, data: np.ndarray, parents: tuple[Any, ...], backward: Callable) -> Node:
        node = Node(data, parents, backward)
        self.append(node)
        return node

    def matmul(self, x: Any, w: Node) -> Node:
        data = _data(x)
        return self.record(data @ w.data, (x, w),
                           lambda g: (g @ w.data.T if isinstance(x, Node) else None, data.T @ g))

    def add_bias(self, z: Node, b: Node) -> Node:
        return self.record(z.data + b.data, (z, b), lambda g: (g, np.add.reduce(g, axis=0)))

    def leaky_relu(self, z: Node) -> Node:
        return self.record(np.maximum(z.data, z.data * 0.01), (z,), lambda g: (g * np.fmax(np.sign(z.data), 0.01),))

    def sigmoid(self, z: Node) -> Node:  # the engine's exact σ and σ', σ' kept from the forward pass
        sigma, slope = sigmoid_and_slope(z.data)
        return self.record(sigma, (z,), lambda g: (g * slope,))

    def sub(self, a: Node, constant: np.ndarray) -> Node:
        return self.record(a.data - constant, (a,), lambda g: (g,))

    def square(self, a: Node) -> Node:
        return self.record(a.data ** 2, (a,), lambda g: (g * 2.0 * a.data,))

    def sum_rows(self, a: Node) -> Node:  # Σ over axis 1
        shape = a.data.shape
        return self.record(np.add.reduce(a.data, axis=1), (a,), lambda g: (np.broadcast_to(g[:, None], shape),))

    def mean(self, a: Node) -> Node:
        shape, n = a.data.shape, a.data.size
        return self.record(np.add.reduce(a.data, axis=None) / n, (a,), lambda g: (np.broadcast_to(g / n, shape),))

    def squared_error(self, prediction: Node, target: np.ndarray) -> Node:  # losses.squared_error
        error = prediction.data - target
        n = len(error)
        return self.record(np.add.reduce(error * error, axis=None) / n, (prediction,),
                           lambda g: (error * (2.0 / n) * g,))

    def backward(self, output: Node) -> None:
        """Every node's gradient, newest first; then the tape is emptied (parameters keep theirs)."""
        output.grad = np.ones(())
        for node in reversed(self):
            for parent, g in zip(node.parents, node.backward(node.grad)):
                if isinstance(parent, Node):
                    parent.grad = g if parent.grad is None else parent.grad + g
        self.clear()
