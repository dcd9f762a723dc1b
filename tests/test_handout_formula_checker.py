"""A teacher printing the dependency tree's formulas on handouts checks each one by evaluating it.

Every formula an edge writes (``σ′(z²)``, ``2(α² − 0.25)``, ``α¹``, ``1 − tanh²(z¹)``, ``−2(y − α)``) is parsed
here, its names replaced by the tree nodes' numbers, and computed independently; it must equal the edge's number,
and the product of the evaluated formulas along a parameter's path must equal ∂C/∂(parameter) as central finite
differences of the forward pass measure it.

Defects: a layer's frozen weight or bias (``requires_grad = False``, as when fine-tuning the last layer only) was
left out of the tree although labelled ``W^i``/``b^i``: the edge into ``z^i`` lost its formula (``∂z²/∂α¹`` with no
``= W²``, "through matmul → add") and the player's forward step switched notation (``z² = (α¹ @ W²) + b²`` beside
``z¹ = W¹ · α⁰ + b¹``), naming a b² the tree did not draw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.dependency_tree import DependencyTree, dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import pretty


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_FUNCTIONS = {
    "sp": lambda x: _sigmoid(x) * (1 - _sigmoid(x)),  # σ′
    "sig": _sigmoid,  # σ (softplus′)
    "rp": lambda x: 1.0 if x > 0 else 0.0,  # ReLU′
    "lp": lambda x, slope: 1.0 if x > 0 else slope,  # LeakyReLU′, with the slope its formula writes
    "tanh": math.tanh,
}


def _evaluate(formula: str, tree: DependencyTree, **others: float) -> float:
    """The number of a formula as printed, computed here: names become the nodes' numbers (and ``others``'), the
    seed's symbols Python's."""
    values = {**{pretty(name): node.data for name, node in tree.nodes.items()}, **others}
    text = re.sub(r"LeakyReLU′\(([^()]*)\): 1 where [^,]*, else (\S+)$", r"lp(\1, \2)", formula)
    for symbol, python in (("LeakyReLU′(", "lp("), ("ReLU′(", "rp("), ("σ′(", "sp("), ("σ(", "sig(")):
        text = text.replace(symbol, python)
    text = re.sub(r"tanh²\(([^()]*)\)", r"tanh(\1)**2", text)
    for i, name in enumerate(sorted(values, key=len, reverse=True)):  # (α¹⁰ before α¹)
        text = text.replace(name, f"n{i}")
    names = {f"n{i}": values[name] for i, name in enumerate(sorted(values, key=len, reverse=True))}
    text = text.replace("−", "-").replace("·", "*")
    text = re.sub(r"(\d)\(", r"\1*(", text)  # 2(α − y) is 2·(α − y)
    assert re.fullmatch(r"[\w\s.,*+\-/()]*", text), (formula, text)  # (a comma: lp(z, slope))
    return float(eval(text, {"__builtins__": {}}, {**_FUNCTIONS, **names}))  # noqa: S307 (the test's own text)


def _finite_difference(cost_of, parameter: Value, h: float = 1e-6) -> float:
    """∂cost/∂parameter by central differences of the forward pass alone (no backward)."""
    original = parameter.data.copy()
    try:
        parameter.data = original + h
        up = float(cost_of().data)
        parameter.data = original - h
        down = float(cost_of().data)
    finally:
        parameter.data = original
    return (up - down) / (2 * h)


def _path_product(tree: DependencyTree, name: str) -> float:
    return math.prod(_evaluate(edge.formula, tree) for edge in tree.path(name))


@given(st.sampled_from(["sigmoid", "tanh", "softplus", "relu", "leaky_relu", "identity"]),
       st.sampled_from(["sigmoid", "tanh", "softplus", "identity"]),
       st.integers(0, 1000), st.floats(-2, 2), st.integers(-100, 100))
def test_every_edge_formula_evaluates_to_its_number_and_the_paths_to_the_gradient(first, second, seed, x, hundredths):
    """Each printed formula, computed from the printed names' numbers, is the edge's number, and the product along a
    parameter's path is ∂C/∂(parameter) as finite differences measure it.  (The target has at most 3 digits: the
    formula prints it with 4, ``2(α² − 0.25)``.)"""
    y = hundredths / 100
    net = nn.Network(nn.Layer(1, 1, first, rng=seed), nn.Layer(1, 1, second, rng=seed + 1))
    cost_of = lambda: squared_error(net(np.array([x])), np.array([y]))  # noqa: E731
    tree = dependency_tree(cost_of())
    for edge in tree.edges:
        assert edge.formula, edge  # a chain network's edges all have the seed's formula
        if first in ("relu", "leaky_relu") and edge.child == "α^1" and abs(tree.nodes["z^1"].data) < 1e-9:
            continue  # (ReLU′ at its kink)
        assert math.isclose(_evaluate(edge.formula, tree), edge.number, rel_tol=1e-9, abs_tol=1e-12), edge
    for i, layer in enumerate(net.layers, start=1):
        for name, parameter in ((f"W^{i}", layer.weights), (f"b^{i}", layer.biases)):
            if first in ("relu", "leaky_relu") and abs(tree.nodes["z^1"].data) < 1e-4:
                continue
            measured = _finite_difference(cost_of, parameter)
            assert math.isclose(_path_product(tree, name), measured, rel_tol=1e-5, abs_tol=1e-7), name


def test_the_seeds_own_labels_give_formulas_whose_product_is_the_gradient() -> None:
    """The seed's section 6.3 as labelled there (w_3, b_3, α^(L−1) a number, the target y′): ∂C/∂w_3 =
    ∂z^L/∂w_3 · ∂α^L/∂z^L · ∂C/∂α^L, each factor computed from its printed formula, against finite differences."""
    w3, b3 = Value(0.8, label="w_3"), Value(-0.3, label="b_3")
    previous, target = Value(0.6, requires_grad=False), Value(0.9, label="y′", requires_grad=False)

    def cost_of() -> Value:
        z = w3 * previous + b3
        z.label = "z^L"
        a = z.sigmoid()
        a.label = "α^L"
        return (a - target) ** 2

    tree = dependency_tree(cost_of())
    assert [edge.formula for edge in tree.path("w_3")] == ["αᴸ⁻¹", "σ′(zᴸ)", "2(αᴸ − y′)"]
    for name, parameter in (("w_3", w3), ("b_3", b3)):
        assert math.isclose(_path_product(tree, name), _finite_difference(cost_of, parameter), rel_tol=1e-6)
    a = _sigmoid(0.8 * 0.6 - 0.3)  # closed form
    assert math.isclose(_path_product(tree, "w_3"), 0.6 * a * (1 - a) * 2 * (a - 0.9), rel_tol=1e-12)


def test_a_cost_written_target_minus_output_gets_the_minus_sign() -> None:
    """C = (y − α)²: ∂C/∂α = −2(y − α), which evaluates to the edge's number (a sign slip would flip it)."""
    w, b = Value(0.7, label="w"), Value(0.1, label="b")
    z = w * Value(0.3, requires_grad=False) + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    tree = dependency_tree((Value(0.25, label="y", requires_grad=False) - a) ** 2)
    edge = next(edge for edge in tree.edges if edge.parent == "α")
    assert edge.formula == "−2(0.25 − α)"  # (y is not drawn: its number, round 38's tidy pass)
    assert math.isclose(_evaluate(edge.formula, tree), -2 * (0.25 - a.data.item()), rel_tol=1e-12)
    assert math.isclose(edge.number, -2 * (0.25 - a.data.item()), rel_tol=1e-12)


def _fine_tuned(frozen: str) -> tuple[nn.Network, Callable[[], Value]]:
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "tanh", rng=1))
    getattr(net.layers[1], frozen).requires_grad = False  # only the rest is trained
    return net, lambda: squared_error(net(np.array([0.5])), np.array([0.25]))


def test_a_frozen_bias_is_drawn_as_a_constant_with_its_formula() -> None:
    net, cost_of = _fine_tuned("biases")
    cost = cost_of()
    tree = dependency_tree(cost)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert ("b^2", "z^2") in edges, sorted(edges)
    assert edges[("b^2", "z^2")].formula == "1" and edges[("b^2", "z^2")].number == 1.0
    assert tree.nodes["b^2"].grad is None and tree.chain_lines("b^2") == []  # a constant: no gradient to chain
    source = viz.tree_drawing(tree).source
    assert "∂z²/∂b² = 1" in source and "(a constant: needs no gradient)" in source
    forward = [step.html for step in viz.backprop_player(cost).steps if step.phase == "forward"]
    assert any("z¹ = W¹ · α⁰ + b¹" in text for text in forward)
    assert any("z² = W² · α¹ + b²" in text for text in forward), forward


def test_a_frozen_weight_keeps_the_formulas_of_its_layer() -> None:
    net, cost_of = _fine_tuned("weights")
    tree = dependency_tree(cost_of())
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("α^1", "z^2")].formula == "W²", edges[("α^1", "z^2")]
    assert edges[("W^2", "z^2")].formula == "α¹"
    for edge in edges.values():
        assert math.isclose(_evaluate(edge.formula, tree), edge.number, rel_tol=1e-9), edge
    layer = net.layers[0]
    for name, parameter in (("W^1", layer.weights), ("b^1", layer.biases)):
        assert math.isclose(_path_product(tree, name), _finite_difference(cost_of, parameter), rel_tol=1e-6)
