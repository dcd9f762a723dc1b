"""A bare tape, an engine that records a node per operation and nothing else, and the pieces the floors share.

Each operation appends a node (its numbers, its inputs and a closure for its vector-Jacobian product) to a list;
``backward`` walks the list in reverse and calls the closures.  It has none of the engine's checks, dtype rules or
general graph walk, and it knows only the operations of the x² network, each with the cheapest numpy calls that give
the engine's numbers bit for bit (``bench_xsquared_update.py`` checks this in every run), so its time is about what
a general engine of this kind pays for that update, with every intermediate's gradient kept as the drawings need.
The floors in ``bench_engine.py`` go further for their one workload each (dispatch by a number instead of closures,
or the backward pass written out), since a floor must be the least that can be done.

    >>> tape = Tape()
    >>> w = Node(np.array([[2.0]]))
    >>> cost = tape.squared_error(tape.matmul(np.array([[3.0]]), w), np.array([[0.0]]))   # (3w)²
    >>> tape.backward(cost)
    >>> w.grad                                                                             # 18w
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


_SIGN_BIT = np.int64(-2 ** 63)


def sigmoid_and_slope(z: np.ndarray, out: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """σ(z) and σ'(z) of a float64 array, bit for bit as the engine computes them (``ops.sigmoid``,
    ``ops.sigmoid_slope``), from one exponential e = e^−|z|: σ = max(e, [z ≥ 0]) / (1 + e) and σ' = e / (1 + e)².
    −|z| is z with its sign bit set, one pass where abs and negation take two.  ``out``: four arrays of z's shape to
    compute into, σ, σ' and two scratch arrays ((1 + e)² and the bools [z ≥ 0]), so that a step can reuse them.  (The
    engine's recorded σ computes σ' from the same e too, in fresh arrays: ``ops._sigmoid_and_slope``.)"""
    if out is None:
        out = np.empty_like(z), np.empty_like(z), np.empty_like(z), np.empty(z.shape, bool)
    sigma, e, denominator, nonnegative = out
    np.bitwise_or(z.view(np.int64), _SIGN_BIT, out=e.view(np.int64))
    np.exp(e, out=e)
    np.add(e, 1.0, out=denominator)
    np.greater_equal(z, 0, out=nonnegative)
    np.divide(np.maximum(e, nonnegative, out=sigma), denominator, out=sigma)
    np.multiply(denominator, denominator, out=denominator)
    return sigma, np.divide(e, denominator, out=e)


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
