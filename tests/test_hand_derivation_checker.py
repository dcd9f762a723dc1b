"""A student derives backpropagation by hand for a 2-3-1 sigmoid network in the seed's notation (z = W·α + b,
α = σ(z), C = (α^L − y′)², δ = ∂C/∂z) and compares every intermediate number with what the package shows: the
``.grad`` of the intermediates, the player's steps and the dependency tree of the seed's section 6.3."""

import html
import math
import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number

X = np.array([0.5, -0.3])
Y = np.array([0.8])


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _two_three_one() -> tuple[nn.Network, Value]:
    net = nn.Network(nn.Layer(2, 3, "sigmoid", rng=0), nn.Layer(3, 1, "sigmoid", rng=1))
    return net, squared_error(net(X), Y)


def _by_hand(net: nn.Network, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """The seed's forward pass and the δ's of backpropagation, in closed form (W of shape (in, out), as nn.Layer)."""
    (w1, b1), (w2, b2) = [(layer.weights.data, layer.biases.data) for layer in net.layers]
    z1 = x @ w1 + b1
    a1 = _sigmoid(z1)
    z2 = a1 @ w2 + b2
    a2 = _sigmoid(z2)
    dc_da2 = 2 * (a2 - y)                      # ∂C/∂α^L = 2(α^L − y′)
    delta2 = dc_da2 * a2 * (1 - a2)            # δ^L = ∂C/∂z^L = ∂C/∂α^L · σ′(z^L)
    dc_da1 = w2 @ delta2                       # ∂C/∂α^(L−1) = W^L δ^L
    delta1 = dc_da1 * a1 * (1 - a1)            # δ^1 = ∂C/∂z^1
    return {"z^1": z1, "α^1": a1, "z^2": z2, "α^2": a2, "∂C/∂α^2": dc_da2, "δ^2": delta2, "∂C/∂α^1": dc_da1,
            "δ^1": delta1, "W^2": np.outer(a1, delta2), "b^2": delta2, "W^1": np.outer(x, delta1), "b^1": delta1}


def _labelled(cost: Value) -> dict[str, Value]:
    found, stack, seen = {}, [cost], {id(cost)}
    while stack:
        node = stack.pop()
        if node.label:
            found[node.label] = node
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return found


def _text(step_html: str) -> str:
    text = re.sub(r"<wbr>", "", step_html)
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"</(tr|p|li)>", "\n", text)))


# --- guards -------------------------------------------------------------------------------------------------------
def test_every_intermediate_of_the_hand_derivation_is_the_grad_backward_stores():
    net, cost = _two_three_one()
    cost.backward()
    hand = _by_hand(net, X, Y)
    values = _labelled(cost)
    for name in ("z^1", "α^1", "z^2", "α^2"):
        np.testing.assert_allclose(values[name].data, hand[name], rtol=1e-12)
    np.testing.assert_allclose(values["α^2"].grad, hand["∂C/∂α^2"], rtol=1e-12)
    np.testing.assert_allclose(values["z^2"].grad, hand["δ^2"], rtol=1e-12)
    np.testing.assert_allclose(values["α^1"].grad, hand["∂C/∂α^1"], rtol=1e-12)
    np.testing.assert_allclose(values["z^1"].grad, hand["δ^1"], rtol=1e-12)
    for name in ("W^1", "b^1", "W^2", "b^2"):
        np.testing.assert_allclose(values[name].grad, hand[name], rtol=1e-12)
    # and the closed forms themselves against a central difference of the cost
    w1 = net.layers[0].weights
    eps, saved = 1e-6, w1.data[1, 2]
    w1.data[1, 2] = saved + eps
    up = squared_error(net(X), Y).item()
    w1.data[1, 2] = saved - eps
    down = squared_error(net(X), Y).item()
    w1.data[1, 2] = saved
    assert math.isclose((up - down) / (2 * eps), hand["W^1"][1, 2], rel_tol=1e-6)


def test_the_players_steps_show_the_hand_derivations_factors_to_their_printed_digits():
    net, cost = _two_three_one()
    cost.backward()
    hand = _by_hand(net, X, Y)
    steps = {step.title: _text(step.html) for step in viz.backprop_player(cost, layout="graph").steps}
    a2, z2 = hand["α^2"].item(), hand["z^2"].item()
    at_alpha = next(text for title, text in steps.items() if title.endswith("∂C/∂α²"))
    assert f"∂C/∂α² = 2(α² − 0.8) = {format_number(2 * (a2 - 0.8))}" in at_alpha
    at_z = next(text for title, text in steps.items() if title.endswith("∂C/∂z²"))
    assert f"σ′(z²) = σ(z²)(1 − σ(z²)) = {format_number(a2 * (1 - a2))}" in at_z
    assert f"∂C/∂z² = {format_number(hand['δ^2'].item())}" in at_z
    at_b2 = next(text for title, text in steps.items() if title.endswith("∂C/∂b²"))
    assert f"∂C/∂b² = {format_number(hand['b^2'].item())}" in at_b2
    assert format_number(_sigmoid(z2) * (1 - _sigmoid(z2))) in at_z
    result = steps["Every gradient, as .grad holds it"]
    assert result.count("= .grad") == 4 and "≠" not in result


def test_the_averaged_cost_and_its_written_local_derivative_divide_by_the_number_of_samples():
    net = nn.Network(nn.Layer(2, 3, "sigmoid", rng=0), nn.Layer(3, 1, "sigmoid", rng=1))
    xs = np.array([[0.5, -0.3], [0.1, 0.2], [-1.0, 0.4], [0.3, 0.3]])
    ys = np.array([[0.8], [0.1], [0.5], [0.2]])
    cost = squared_error(net(xs), ys)
    cost.backward()
    per_sample = [_by_hand(net, x, y) for x, y in zip(xs, ys)]
    for layer, name in ((0, "W^1"), (1, "W^2")):  # the seed's 7.1: the average of the samples' gradients
        np.testing.assert_allclose(net.layers[layer].weights.grad, np.mean([h[name] for h in per_sample], axis=0),
                                   rtol=1e-12)
    texts = [_text(step.html) for step in viz.backprop_player(cost).steps]
    assert any("C = Σ(α² − constant[4, 1])²/4" in text for text in texts)
    assert any("∂C/∂α² = 2(α² − constant[4, 1])/4" in text for text in texts)


# --- defects ------------------------------------------------------------------------------------------------------
def _seed_last_layer(previous: object, weight: str = "w_3", bias: str = "b_3") -> tuple[Value, Value]:
    """The seed's section 6.3 as written there: z^L = w_3·α^(L−1) + b_3 with α^(L−1) "just a number right now"
    (after the forward pass), α^L = σ(z^L), C = (α^L − y′)²."""
    w, b = Value(0.7, label=weight), Value(-0.2, label=bias)
    z = w * previous + b
    z.label = "z^L"
    a = z.sigmoid()
    a.label = "α^L"
    return (a - 0.9) ** 2, w


@pytest.mark.parametrize("previous", [0.6, Value(0.6, requires_grad=False)], ids=["float", "constant Value"])
def test_the_seeds_last_layer_with_a_numeric_previous_activation_gets_the_seeds_formula(previous):
    cost, w = _seed_last_layer(previous)
    tree = dependency_tree(cost)
    edges = {(e.parent, e.child): e for e in tree.edges}
    assert "α^(L-1)" in tree.nodes
    assert edges[("w_3", "z^L")].formula == "αᴸ⁻¹" and edges[("w_3", "z^L")].number == 0.6
    assert edges[("α^(L-1)", "z^L")].formula == "w_3" and edges[("α^(L-1)", "z^L")].number == 0.7
    a = _sigmoid(0.7 * 0.6 - 0.2)  # ∂C/∂w_3 = ∂z/∂w_3 · ∂α/∂z · ∂C/∂α, in closed form
    assert math.isclose(tree.chain_rule("w_3"), 0.6 * a * (1 - a) * 2 * (a - 0.9), rel_tol=1e-12)
    assert math.isclose(tree.chain_rule("w_3"), float(w.grad), rel_tol=1e-12)
    drawn = viz.draw_dependency_tree(cost).source
    assert "∂zᴸ/∂w₃ = αᴸ⁻¹" in drawn and "through mul" not in drawn


def test_a_chain_labelled_from_the_output_names_its_input_after_the_first_layer():
    w1, b1 = Value(0.3, label="w_2"), Value(0.1, label="b_2")
    z1 = w1 * 0.5 + b1
    z1.label = "z^(L-1)"
    a1 = z1.sigmoid()
    a1.label = "α^(L-1)"
    cost, _ = _seed_last_layer(a1)
    tree = dependency_tree(cost)
    edges = {(e.parent, e.child): e for e in tree.edges}
    assert edges[("w_2", "z^(L-1)")].formula == "αᴸ⁻²" and edges[("w_2", "z^(L-1)")].number == 0.5
    assert edges[("w_3", "z^L")].formula == "αᴸ⁻¹"
    assert tree.nodes["α^(L-2)"].data == 0.5 and not tree.nodes["α^(L-2)"].value.requires_grad
    forward = [_text(step.html) for step in viz.backprop_player(cost).steps if step.phase == "forward"]
    assert any("zᴸ⁻¹ = w₂ · αᴸ⁻² + b₂" in text for text in forward)  # (the seed's w_2 as the tree draws it)


def test_a_labelled_value_keeps_its_name_where_the_input_would_be_named():
    """A Value the student labelled α^(L-1) elsewhere is not given a second node of that name."""
    other = Value(0.6, label="α^(L-1)")
    w, b = Value(0.7, label="w_3"), Value(-0.2, label="b_3")
    z = w * 0.6 + b + other * 0.0
    z.label = "z^L"
    cost = (z.sigmoid() - 0.9) ** 2
    tree = dependency_tree(cost)
    assert [node.value for name, node in tree.nodes.items() if name == "α^(L-1)"] == [other]
    assert math.isclose(tree.chain_rule("w_3"), float(w.grad), rel_tol=1e-12)
