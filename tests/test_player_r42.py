"""A student and a teacher stepping through the backprop player (round 42): the seed's single neuron σ(w·a + b) and a
2-layer network on a batch checked against central differences (guards), and three defects, each test failing before
its fix: an output of several numbers played as if it were a cost, a cut graph's formulas written with "a Value not
drawn" inside powers, and a float32 tree's row showing a float64 product that was not the gradient it passes down."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers_player import text_of

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import backprop_steps, display_names, pass_gradients


# --- defects -------------------------------------------------------------------------------------------------------
def test_the_steps_of_an_output_of_several_numbers_are_refused_as_backward_refuses_it():
    """backprop_steps and pass_gradients seeded an output of shape (2,) with ones and called the result ∂C/∂C = 1 and
    ∂C/∂v = 2 (the gradient of its sum, silently); backward() refuses such an output, and so do they now."""
    v = Value(np.array([1.0, 2.0]), label="v")
    out = v * 2.0
    with pytest.raises(ValueError, match=r"^backward: an output of shape \(2,\)"):
        out.backward()
    kept, total = nearest_values(out)
    with pytest.raises(ValueError, match=r"^backprop_steps: the output must be a single number \(a cost\), got "
                                         r"a Value of shape \(2,\)"):
        backprop_steps(out, kept, total, display_names(kept))
    with pytest.raises(ValueError, match=r"^pass_gradients: the output must be a single number \(a cost\), got "
                                         r"a Value of shape \(2,\)"):
        pass_gradients(out)
    # a single number in any shape is still a cost: (1, 1) as the seed's column of one output
    cost = (v * 2.0).sum().reshape(1, 1)
    kept, total = nearest_values(cost)
    steps = backprop_steps(cost, kept, total, display_names(kept))
    assert "∂C/∂v = min 2 · mean 2 · max 2" in text_of(steps[-2].html)
    assert pass_gradients(cost)[id(v)] == pytest.approx([2.0, 2.0])


# --- guards: the seed's examples, every number the engine's --------------------------------------------------------
def _central_difference(cost_of, parameters: list[Value], h: float = 1e-6) -> list[np.ndarray]:
    found = []
    for p in parameters:
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.data.shape):
            old = p.data[i]
            p.data[i] = old + h
            up = float(cost_of().data)
            p.data[i] = old - h
            down = float(cost_of().data)
            p.data[i] = old
            numeric[i] = (up - down) / (2 * h)
        found.append(numeric)
    return found


def _shown(text: str, symbol: str) -> float:
    return float(re.search(re.escape(symbol) + r" = (\S+)$", text).group(1))


def test_guard_the_single_neurons_steps_are_the_chain_rule_and_central_differences():
    """C = (σ(w·a + b) − 0.8)², a = 1.5 a constant: each backward step's result is the engine's, the product of the
    arriving gradient and σ′(z) = σ(z)(1 − σ(z)), and the parameters' agree with central differences."""
    w, b, a = Value(0.5, label="w"), Value(-0.2, label="b"), Value(1.5, requires_grad=False, label="a")

    def cost_of() -> Value:
        y = (w * a + b).sigmoid()
        y.label = "y"
        cost = (y - 0.8) ** 2
        cost.label = "C"
        return cost

    player = viz.backprop_player(cost_of())
    y = 1 / (1 + np.exp(-(0.5 * 1.5 - 0.2)))
    by_hand = {"y": 2 * (y - 0.8), "w": 2 * (y - 0.8) * y * (1 - y) * 1.5, "b": 2 * (y - 0.8) * y * (1 - y)}
    numeric = _central_difference(cost_of, [w, b])
    assert [by_hand["w"], by_hand["b"]] == pytest.approx([float(n) for n in numeric], abs=1e-8)
    for name, expected in by_hand.items():
        step = next(s for s in player.steps if s.title.endswith(f"∂C/∂{name}"))
        assert _shown(text_of(step.html).removesuffix(
            " A parameter: its gradient is final (backward() stores it in its .grad)."), f"∂C/∂{name}") == \
            pytest.approx(expected, rel=1e-3)
    assert w.grad == pytest.approx(by_hand["w"]) and b.grad == pytest.approx(by_hand["b"])


def test_guard_the_two_layer_batch_networks_last_step_is_each_grad_and_central_differences():
    net = nn.Network(nn.Layer(2, 3, "sigmoid", rng=0), nn.Layer(3, 1, "sigmoid", rng=1))
    x = np.array([[0.1, 0.2], [0.5, -0.3], [1.0, 0.4]])
    y = np.array([[0.3], [0.6], [0.9]])
    player = viz.backprop_player(squared_error(net(x), y), model=net)
    numeric = _central_difference(lambda: squared_error(net(x), y), net.parameters())
    for p, n in zip(net.parameters(), numeric):
        assert p.grad == pytest.approx(n, abs=1e-8)
    result = text_of(player.steps[-1].html)
    assert result.count("= .grad") == len(net.parameters()) and "≠" not in result


# --- defects (continued) -------------------------------------------------------------------------------------------
def test_a_cut_graphs_formulas_name_the_inputs_left_out_by_their_label_or_number():
    """C = (3w − 1)² with max_nodes=2 (C and 3w − 1 drawn): the forward step read "C = sub₁^a Value not drawn" and the
    backward step "∂C/∂sub₁ = a Value not drawn·sub₁^(a Value not drawn − 1)", formulas a student cannot read; the
    exponent, a number, is written as the number, and the labelled w as w, as where they are drawn."""
    w = Value(0.5, label="w")
    cost = (w * 3.0 - 1.0) ** 2
    cost.label = "C"
    player = viz.backprop_player(cost, max_nodes=2)
    forward = [text_of(s.html) for s in player.steps if s.phase == "forward"]
    assert forward[-1].startswith("C = sub₁² from sub₁ = 0.5 C = 0.25"), forward[-1]
    backward = text_of(next(s for s in player.steps if s.title.endswith("∂C/∂sub₁")).html)
    assert "∂C/∂sub₁ = 2·sub₁ = 1 1 × 1 = 1" in backward, backward  # 2(3·0.5 − 1) = 1
    # the labelled parameter a step names, cut from the drawing: w · 3 (the engine's order of its inputs)
    w2 = Value(0.5, label="w")
    cost = (w2 * 3.0) ** 2
    player = viz.backprop_player(cost, max_nodes=2)
    assert text_of(player.steps[1].html).startswith("mul₁ = w · 3 from w = 0.5 mul₁ = 1.5"), player.steps[1].html
    # an unlabelled operation left out is still "a Value not drawn": C = x + 2x, drawn C and x
    x = Value(1.0, label="x")
    player = viz.backprop_player(x + x * 2.0, max_nodes=2)
    assert "C = x + a Value not drawn" in text_of(player.steps[1].html)


def test_a_float32_trees_single_use_product_is_the_gradient_the_step_gives():
    """The float32 chain network at precision 10: the tree's row for z³ multiplied in float64 (0.7464077473 ×
    0.2348207831 ≈ 0.1752720518) under ∂C/∂z³ = 0.1752720475, the float32 number the engine's pass found; a Value used
    once passes down exactly the product, so the row now shows that gradient, as the graph's rows do."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)]).float()
    cost = squared_error(net(np.array([0.5], dtype=np.float32)), np.array([0.25], dtype=np.float32))
    cost.label = "C"
    gradients = pass_gradients(cost)
    for layout in ("tree", "graph"):
        player = viz.backprop_player(cost, precision=10, layout=layout)
        checked = 0
        for step in player.steps:
            text = text_of(step.html).removesuffix(
                " A parameter: its gradient is final (backward() stores it in its .grad).")
            if step.phase != "backward" or "Where the contributions meet" in text or step.node == 0:
                continue
            product = re.search(r" [=≈] (\S+) ∂C/∂\S+ = (\S+)$", text)
            assert product.group(1) == product.group(2), (layout, step.title, text)
            checked += 1
        assert checked >= 12, layout
    by_name = {p.label: p for p in net.parameters()}
    step = next(s for s in player.steps if s.title.endswith("∂C/∂W³"))
    assert _shown(text_of(step.html).removesuffix(
        " A parameter: its gradient is final (backward() stores it in its .grad)."), "∂C/∂W³") == \
        pytest.approx(float(gradients[id(by_name["W^3"])].item()), rel=1e-9)
