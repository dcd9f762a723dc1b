"""The drawings' and the player's loose ends: brackets in sums of sums, the order of many inputs, frozen weights,
a regularised cost's ∂C/∂α, and the names of Values left out of a cut drawing or drawn without a label.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_drawings import dot_nodes
from helpers_player import text_of

from tinygrad_edu import Value, nn, viz
from tinygrad_edu import dependency_tree as trees
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import tree_steps


def _tree_cost(inner):
    """C = (σ(inner(a, b, c)) − 0.3)² of three labelled parameters a, b, c."""
    a, b, c = Value(0.5, label="a"), Value(0.2, label="b"), Value(-0.1, label="c")
    y = inner(a, b, c).sigmoid()
    y.label = "y"
    cost = (y - 0.3) ** 2
    cost.label = "C"
    cost.backward()
    return cost, (a, b, c)


def _forward_formulas(cost):
    tree = dependency_tree(cost)
    return [text_of(step.html).split(" from ")[0] for step in tree_steps(cost, tree) if step.phase == "forward"]


@pytest.mark.parametrize("inner, written", [
    (lambda a, b, c: a + b + c, "y = σ(a + b + c)"),          # was σ((a + b) + c)
    (lambda a, b, c: a - b + c, "y = σ(a − b + c)"),          # was σ((a − b) + c)
    (lambda a, b, c: a + (b - c), "y = σ(a + b − c)"),
    (lambda a, b, c: a - (b + c), "y = σ(a − (b + c))"),      # brackets where they matter
    (lambda a, b, c: (a + b) * c, "y = σ((a + b) · c)"),
    (lambda a, b, c: a * b + c, "y = σ(a · b + c)"),
])
def test_sums_inside_sums_are_written_without_brackets_that_change_nothing(inner, written):
    cost, _ = _tree_cost(inner)
    assert _forward_formulas(cost)[0] == written


def test_a_node_with_many_inputs_lists_them_first_to_last():
    terms = [Value(float(i) / 10, label=f"t{i}") for i in range(6)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    total.label = "S"
    y = total.sigmoid()
    y.label = "y"
    cost = (y - 0.3) ** 2
    cost.label = "C"
    tree = dependency_tree(cost)
    assert [edge.parent for edge in tree.edges if edge.child == "S"] == [f"t{i}" for i in range(6)]
    forward = [text_of(step.html) for step in tree_steps(cost, tree) if step.title.endswith(": S")][0]
    assert forward.index("t0 =") < forward.index("t1 =") < forward.index("t5 =")


def _chain(frozen_layer, layers=3, cost_extra=None):
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", init="uniform", rng=i) for i in range(layers)])
    net.layers[frozen_layer].weights.requires_grad = False
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.label = "C"
    cost.backward()
    return net, cost


def test_a_frozen_weight_is_drawn_as_a_constant_and_said_not_trained():
    _, cost = _chain(frozen_layer=1)
    nodes = dot_nodes(viz.draw_dependency_tree(cost))
    frozen = next(attrs for attrs in nodes.values() if "W²" in attrs.get("label", ""))
    trained = next(attrs for attrs in nodes.values() if "W³" in attrs.get("label", ""))
    assert trained["fillcolor"] == viz.COLORS["parameter"]
    assert frozen["fillcolor"] == viz.COLORS["constant"]
    assert "not trained" in frozen["label"]


def test_a_frozen_first_layer_forward_step_says_where_its_constant_comes_from():
    net, cost = _chain(frozen_layer=0)
    tree = dependency_tree(cost)
    assert "W^1" not in tree.nodes and "α^0" not in tree.nodes  # the engine records no W¹·α⁰: nothing needs it
    product = float(net.layers[0].weights.data.reshape(())) * 0.5
    note = trees.unrecorded_product(tree, "z^1")
    assert note and f"{product:.4g}" in note[0] and "W¹·α⁰" in note[0]
    step = next(text_of(s.html) for s in tree_steps(cost, tree) if s.title.endswith(": z¹"))
    assert "W¹·α⁰" in step and "frozen" in step
    # the number the note names is what z¹ adds to b¹
    z1 = tree.nodes["z^1"].value
    assert float(z1.data.reshape(())) == pytest.approx(product + float(tree.nodes["b^1"].value.data.reshape(())))
    assert trees.unrecorded_product(tree, "z^2") == []


def test_a_regularised_cost_keeps_the_squared_errors_local_derivative():
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", init="uniform", rng=i) for i in range(2)])
    weights = net.layers[0].weights
    cost = squared_error(net(np.array([0.5])), np.array([0.25])) + 0.01 * (weights ** 2).sum()
    cost.label = "C"
    cost.backward()
    tree = dependency_tree(cost)
    edge = next(e for e in tree.edges if e.child == "C" and e.parent == "α^2")
    assert edge.formula == "2(α² − 0.25)"
    alpha = float(tree.nodes["α^2"].value.data.reshape(()))
    assert edge.number == pytest.approx(2 * (alpha - 0.25), rel=1e-12)  # the closed form the formula writes
    for make, formula in ((lambda y, w: (y - 0.25) ** 2 + 0.01 * w ** 2, "2(y − 0.25)"),
                          (lambda y, w: 0.5 * (y - 0.25) ** 2 + w, "")):  # not 2(y − 0.25): a ½ is on the way
        w = Value(0.8, label="w")
        y = (w * Value(1.5, requires_grad=False, label="a")).sigmoid()
        y.label = "y"
        by_hand = make(y, w)
        by_hand.label = "C"
        edge = next(e for e in dependency_tree(by_hand).edges if e.child == "C" and e.parent == "y")
        assert edge.formula == formula
        assert edge.number == pytest.approx((2 if formula else 1) * (float(y.data) - 0.25), rel=1e-12)


def _unlabelled():
    w, a, b = Value(0.8), Value(1.5, requires_grad=False), Value(-0.3)
    cost = ((w * a + b).sigmoid() - 0.25) ** 2
    cost.backward()
    return cost, w, b


def test_given_names_of_values_left_out_of_a_cut_player_name_them():
    cost, w, b = _unlabelled()
    player = viz.backprop_player(cost, layout="graph", names={"w": w, "b": b}, max_nodes=3)
    last = text_of(player.steps[-1].html)
    assert "a parameter not drawn" not in last
    assert f"b {b.grad.item():.4g}" in last and f"w {w.grad.item():.4g}" in last


def test_an_unlabelled_parameter_is_not_named_by_its_number():
    cost, w, b = _unlabelled()
    for max_nodes in (8, 150):
        player = viz.backprop_player(cost, layout="graph", max_nodes=max_nodes)
        text = " ".join(text_of(step.html) for step in player.steps)
        assert "∂C/∂-0.3" not in text and "∂C/∂0.8" not in text
        assert "∂C/∂θ" in text
    last = text_of(player.steps[-1].html)
    assert f"θ₁ {w.grad.item():.4g}" in last and f"θ₂ {b.grad.item():.4g}" in last
    assert "θ₁" in player.drawing_svg
