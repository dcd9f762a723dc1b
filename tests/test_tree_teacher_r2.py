"""Section 6.3 as a teacher would show it: the dependency tree, its paths, numbers and notation.

The gradients are checked against central finite differences in float64; the tree's products against ``.grad``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.viz import backprop_player, draw_dependency_tree

X, Y = np.array([0.5]), np.array([0.25])


def _central(cost_of, parameter: Value, h: float = 1e-6) -> float:
    """∂C/∂parameter by central differences, the parameter a single float64 number."""
    old = parameter.data.copy()
    parameter.data[...] = old + h
    up = float(np.asarray(cost_of().data).reshape(()))
    parameter.data[...] = old - h
    down = float(np.asarray(cost_of().data).reshape(()))
    parameter.data[...] = old
    return (up - down) / (2 * h)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# --- guards: what is right today and must stay so -----------------------------------------------------------------
@pytest.mark.parametrize(("activation", "formula"), [("sigmoid", "σ′(z{})"), ("relu", "ReLU′(z{})"),
                                                     ("tanh", "1 − tanh²(z{})")])
def test_the_seeds_chain_multiplies_along_its_path_to_the_finite_difference(activation, formula):
    """∂C/∂w = ∂z/∂w · ∂α/∂z · ∂C/∂α, one factor per edge on the way up, for every parameter of three layers."""
    net = nn.Network(*(nn.Layer(1, 1, activation, rng=seed) for seed in (0, 1, 2)))
    cost_of = lambda: squared_error(net(X), Y)  # noqa: E731
    tree = dependency_tree(cost_of())
    supers = "¹²³"
    for i, layer in enumerate(net.layers, start=1):
        for symbol, parameter in (("W", layer.weights), ("b", layer.biases)):
            path = tree.path(f"{symbol}^{i}")
            assert [edge.child for edge in path][:2] == [f"z^{i}", f"α^{i}"] and path[-1].child == "C"
            assert path[1].formula == formula.format(supers[i - 1])
            product = math.prod(edge.number for edge in path)
            assert math.isclose(product, _central(cost_of, parameter), rel_tol=1e-6, abs_tol=1e-10)
            assert math.isclose(product, float(parameter.grad.reshape(())), rel_tol=1e-12)


def test_a_weight_used_twice_gets_the_sum_over_its_two_paths():
    """w in both layers: ∂C/∂w = ∂C/∂z²·α¹ + ∂C/∂z¹·α⁰, equal to the finite difference, in the tree and the player."""
    w = Value(0.7, label="w")
    x = Value(0.5, requires_grad=False)

    def cost_of() -> Value:
        z1 = w * x
        z1.label = "z^1"
        a1 = z1.sigmoid()
        a1.label = "α^1"
        z2 = w * a1
        z2.label = "z^2"
        a2 = z2.sigmoid()
        a2.label = "α^2"
        return (a2 - 0.25) ** 2

    cost = cost_of()
    tree = dependency_tree(cost)
    into = {edge.child: edge for edge in tree.edges if edge.parent == "w"}
    assert set(into) == {"z^1", "z^2"} and into["z^2"].formula == "α¹" and into["z^1"].formula == "α⁰"
    paths = sum(tree.chain_rule(child) * edge.number for child, edge in into.items())
    assert math.isclose(paths, tree.chain_rule("w"), rel_tol=1e-12)
    assert math.isclose(tree.chain_rule("w"), _central(cost_of, w), rel_tol=1e-6)
    steps = backprop_player(cost, layout="tree").steps
    assert "w feeds 2 nodes of the tree" in steps[-2].html and "add up" in steps[-2].html


def test_squared_error_and_the_written_out_square_give_the_same_tree():
    """losses.squared_error and (α − y)**2 written out: the same edges, formulas and numbers."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "tanh", rng=1))
    by_loss = dependency_tree(squared_error(net(X), Y))
    net.zero_grad()
    by_hand = dependency_tree(((net(X) - Y) ** 2).sum())
    assert [(e.parent, e.child, e.formula) for e in by_loss.edges] == [(e.parent, e.child, e.formula)
                                                                       for e in by_hand.edges]
    for loss_edge, hand_edge in zip(by_loss.edges, by_hand.edges):
        assert math.isclose(loss_edge.number, hand_edge.number, rel_tol=1e-12)
    a2 = by_loss.nodes["α^2"].data
    assert math.isclose(by_loss.edges[0].number, 2 * (a2 - 0.25), rel_tol=1e-12)


# --- defects ------------------------------------------------------------------------------------------------------
def _seed_figure(weight: str, bias: str) -> tuple[Value, Value, Value, Value]:
    """The seed's own figure: C = (α^L − y′)², α^L = σ(z^L), z^L = w·α^(L−1) + b, labelled as the seed writes it."""
    a_prev = Value(0.6, label="α^(L-1)")  # an activation: it has a gradient
    w, b = Value(0.8, label=weight), Value(0.1, label=bias)
    z = w * a_prev + b
    z.label = "z^L"
    a = z.sigmoid()
    a.label = "α^L"
    return (a - 0.25) ** 2, w, b, a_prev


@pytest.mark.parametrize(("weight", "bias", "w_shown"), [("w^L", "b^L", "wᴸ"), ("w_3", "b_3", "w_3")])
def test_the_seeds_own_labels_get_the_seeds_formulas(weight, bias, w_shown):
    cost, w, _, _ = _seed_figure(weight, bias)
    tree = dependency_tree(cost)
    edges = {(e.parent, e.child): e for e in tree.edges}
    z = 0.8 * 0.6 + 0.1
    assert edges[("z^L", "α^L")].formula == "σ′(zᴸ)"
    assert math.isclose(edges[("z^L", "α^L")].number, _sigmoid(z) * (1 - _sigmoid(z)), rel_tol=1e-12)
    assert edges[(weight, "z^L")].formula == "αᴸ⁻¹" and edges[(weight, "z^L")].number == 0.6
    assert edges[("α^(L-1)", "z^L")].formula == w_shown and edges[(bias, "z^L")].formula == "1"
    kinds = {name: node.kind for name, node in tree.nodes.items()}
    assert kinds == {"C": "cost", "α^L": "activation", "z^L": "pre-activation", weight: "weight", bias: "bias",
                     "α^(L-1)": "activation"}
    assert [e.parent for e in tree.edges if e.child == "z^L"] == [weight, "α^(L-1)", bias]  # σ(w·α + b)
    a = _sigmoid(z)  # the seed's ∂C/∂w = ∂z/∂w · ∂α/∂z · ∂C/∂α, in closed form
    assert math.isclose(tree.chain_rule(weight), 0.6 * a * (1 - a) * 2 * (a - 0.25), rel_tol=1e-12)
    assert math.isclose(tree.chain_rule(weight), float(w.grad), rel_tol=1e-12)
    assert "σ′(zᴸ)" in draw_dependency_tree(_seed_figure(weight, bias)[0]).source


def _two_two_one() -> Value:
    net = nn.Network(nn.Layer(2, 2, "sigmoid", rng=0), nn.Layer(2, 1, "sigmoid", rng=1))
    return squared_error(net(np.array([0.5, 0.2])), Y)


def _batch_of_three() -> Value:
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    return squared_error(net(np.array([[0.5], [0.1], [-0.3]])), np.array([[0.25], [0.0], [0.1]]))


@pytest.mark.parametrize(("cost_of", "value", "shape"), [(_two_two_one, "'W^2'", r"\(2, 1\)"),
                                                         (_batch_of_three, "'α^2'", r"\(3, 1\)")])
def test_a_tree_that_cannot_be_drawn_names_the_value_and_its_shape(cost_of, value, shape):
    for draw in (dependency_tree, draw_dependency_tree):
        with pytest.raises(ValueError, match=rf"{re.escape(value)} \(an input of '[zC][^']*'\) has shape "
                                             rf"{shape}.*one neuron per layer.*draw_graph"):
            draw(cost_of())
