"""Docstring claims the code did not keep, found by an exploratory pass reading them as a newcomer; each test failed
before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, optim


def test_closure_that_calls_backward_is_a_value_error_not_a_doubled_gradient() -> None:
    """optim module docstring: "The **closure** recomputes the cost ... (forward only: it must not call ``backward``;
    a closure that does, as PyTorch's do, is a ValueError, not a gradient counted twice)".

    A closure that calls ``backward()`` on its cost and returns a fresh one (``return loss * 1.0``, or the cost
    computed again) slips past the check on the returned cost's ``grad``: the step then uses 2∇C.  For
    f(x) = x² at x = 3 the gradient is 6, so a step of η = 0.1 must not land at 3 − 0.1·12 = 1.8."""
    x = Value([3.0])
    opt = optim.GradientDescent([x], learning_rate=0.1)

    def closure() -> Value:
        cost = (x * x).sum()
        cost.backward()
        return cost * 1.0

    with pytest.raises(ValueError, match="backward"):
        opt.step(closure)
    np.testing.assert_array_equal(x.data, [3.0])  # unchanged


def test_value_label_that_is_not_a_string_is_a_type_error_naming_value() -> None:
    """engine.Value: ``def __init__(self, data, requires_grad: bool = True, label: str | None = None)``, and its
    docstring: ``Value(data, requires_grad=True, label=None)``; requires_grad is checked (a TypeError naming Value),
    as Layer checks its ``name`` ("Layer: name must be a string or None").

    ``Value(2.0, label=["w"])`` is accepted instead, and the mistake surfaces later, far from its cause:
    ``viz.draw_graph(w * w)`` raises a bare ``TypeError: unhashable type: 'list'`` naming neither."""
    with pytest.raises(TypeError, match=r"^Value: label must be a string \(or a number, shown as text\) or None, "
                                        r"got list"):
        Value(2.0, label=["w"])
    assert Value(2.0, label=3).label == 3  # a number is a label too (test_engine_edges: shown as text)
