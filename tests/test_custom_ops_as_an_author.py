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


def _wrong_shape_rule() -> Op:
    """x·w row by row, whose first vjp multiplies by a matrix of the wrong size: numpy refuses it inside the rule."""
    return Op("scale_rows", lambda x, w: x * w, (lambda g, out, x, w: g @ np.ones((3, 3)), lambda g, out, x, w: g * x))


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_error_inside_a_vjp_names_the_op_and_the_input(create_graph: bool) -> None:
    x, w = Value(np.ones((3, 2))), Value(np.ones(2))
    cost = _wrong_shape_rule()(x, w).sum()
    with pytest.raises(ValueError, match=r"^scale_rows: its vjp for input 0 raised ValueError: matmul"):
        cost.backward(create_graph=create_graph)
    assert x.grad is None and w.grad is None  # a failed walk changes no gradient


def test_local_gradients_names_the_op_whose_vjp_failed() -> None:
    from tinygrad_edu.engine import local_gradients

    node = _wrong_shape_rule()(Value(np.ones((3, 2))), Value(np.ones(2)))
    with pytest.raises(ValueError, match=r"^scale_rows: its vjp for input 0 raised ValueError"):
        local_gradients(node, np.ones((3, 2)))


def test_a_vjp_that_explains_itself_is_not_named_twice_and_a_type_error_stays_one() -> None:
    def refuse(g, out, x):
        raise ValueError("clip_norm: the norm is 0, so the direction is undefined")

    explained = Op("clip_norm", lambda x: x, refuse)
    with pytest.raises(ValueError, match=r"^clip_norm: the norm is 0, so the direction is undefined$"):
        explained(Value([0.0])).sum().backward()
    typo = Op("typo", lambda x: x, lambda g, out, x: g + "1")
    with pytest.raises(TypeError, match=r"^typo: its vjp raised \w*TypeError: ufunc 'add'"):
        typo(Value([1.0])).sum().backward()


def test_a_saving_ops_vjp_that_needs_saved_is_told_it_gets_none_in_a_recorded_pass() -> None:
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x, saved=None: g * saved, saving=lambda x: (x ** 3, 3 * x ** 2))
    x = Value(2.0)
    cube(x).backward()
    assert x.grad == 12.0  # 3x², from what the forward saved
    with pytest.raises(TypeError, match=r"^cube: its vjp cannot be differentiated: create_graph=True runs it on "
                                        r"Values with saved=None \(it computes what its saving forward kept"):
        cube(Value(2.0)).backward(create_graph=True)
