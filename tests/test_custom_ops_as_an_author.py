"""Writing Ops of one's own: a forward returning (out, saved) without saving= is refused by name, and the drawings
write the built-in formulas only for the built-in Ops, not for an Op of one's own that shares a name.  Each test
failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Op, Value, viz


def test_a_forward_returning_a_pair_without_saving_is_refused_by_name() -> None:
    tanh_and_slope = Op("tanh2", lambda x: (np.tanh(x), 1 - np.tanh(x) ** 2), lambda g, out, x, saved=None: g * saved)
    with pytest.raises(TypeError, match=r"^tanh2: its forward returned a tuple of 2, not one array.*saving="):
        tanh_and_slope(Value([0.5, 1.0]))


def test_drawings_write_built_in_formulas_only_for_the_built_in_ops() -> None:
    from tinygrad_edu.dependency_tree import dependency_tree
    from tinygrad_edu.player import forward_formula, local_formula

    power = Op("pow", lambda x, p: x ** p, lambda g, out, x, p: g * p * x ** (p - 1))
    x = Value([1.0, 2.0], label="x")
    cost = power(x, p=3.0).sum()
    cost.label = "C"
    viz.backprop_player(cost)  # IndexError: tuple index out of range
    w = Value(0.5, label="w")
    z = w * 2.0
    z.label = "z"
    alpha = z.sigmoid()
    alpha.label = "α"
    cost = power(alpha - 1.0, p=2.0)
    cost.label = "C"
    assert dependency_tree(cost).edges[0].formula == ""  # ValueError: not enough values to unpack
    double = Op("sigmoid", lambda z: 2 * z, lambda g, out, z: 2 * g)  # a name taken, other math
    node = double(Value(1.0))
    assert forward_formula(node, ["z"]) == "sigmoid(z)" and local_formula(node, 0, ["z"]) == ""
    assert local_formula(Value(1.0).sigmoid(), 0, ["z"]) == "σ′(z) = σ(z)(1 − σ(z))"  # the built-in's, as before
