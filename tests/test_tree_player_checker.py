"""A teacher checking the dependency tree and the backpropagation player against the chain rule worked by hand with
numpy: the seed's 1-1-1 chain (sigmoid, squared error), its 2-2-1 network, a ReLU at its kink, a weight shared by two
neurons, a sigmoid saturated to 0.999999998, a regularised weight, and a second backward pass run by mistake."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.notation import format_number, pretty, summary
from tinygrad_edu.player import tree_steps

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _chain(activation: str = "sigmoid", w1: float = 0.6, b1: float = 0.3, w2: float = 0.5, b2: float = 0.9,
           x: float = 0.5, y: float = 0.25) -> tuple[nn.Network, Value]:
    """The seed's chain network 1-1-1 with weights set by hand, and its squared error for one sample."""
    net = nn.Network(nn.Layer(1, 1, activation, rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    for layer, (w, b) in zip(net.layers, ((w1, b1), (w2, b2))):
        layer.weights.data[...] = w
        layer.biases.data[...] = b
    return net, losses.squared_error(net(np.array([x])), np.array([y]))


def _by_hand(activation: str, w1: float, b1: float, w2: float, b2: float, x: float, y: float) -> dict[str, float]:
    """∂C/∂(every node) of the 1-1-1 chain by the chain rule, written out (ReLU′(0) = 0, as PyTorch has it)."""
    z1 = w1 * x + b1
    a1, slope1 = (_sigmoid(z1), _sigmoid(z1) * (1 - _sigmoid(z1))) if activation == "sigmoid" else \
        (max(z1, 0.0), 1.0 if z1 > 0 else 0.0)
    z2 = w2 * a1 + b2
    a2 = _sigmoid(z2)
    d_a2 = 2 * (a2 - y)
    d_z2 = d_a2 * a2 * (1 - a2)
    d_a1 = d_z2 * w2
    d_z1 = d_a1 * slope1
    return {"C": 1.0, "α²": d_a2, "z²": d_z2, "W²": d_z2 * a1, "b²": d_z2, "α¹": d_a1, "z¹": d_z1,
            "W¹": d_z1 * x, "b¹": d_z1}


def _results(steps) -> dict[str, str]:
    """Each backward step's ∂C/∂(node) as the page prints it, by node name."""
    found = {}
    for step in steps:
        if step.phase == "backward":
            match = re.search(r"∂C/∂(\S+) = (\S+)$", _text(step.html))
            found[match.group(1)] = match.group(2)
    return found


# ---- defects ---------------------------------------------------------------------------------------------------------

@needs_dot
@pytest.mark.parametrize("drawing", ["tree", "graph"])
def test_a_saturated_sigmoid_is_not_drawn_as_exactly_1(drawing):
    net, cost = _chain(w2=30.0, b2=1.0, y=1.0)
    alpha = float(net(np.array([0.5])).data[0])
    assert alpha != 1.0 and round(alpha, 4) == 1.0  # σ(20.3): not 1, but 1 to 4 digits
    source = viz.draw_dependency_tree(cost).source if drawing == "tree" else viz.draw_graph(cost).source
    label = next(line for line in source.splitlines() if "α²" in line and "label=" in line and "->" not in line)
    shown = re.search(r"(?:= |data )([-0-9.e+]+)", label).group(1)
    assert float(shown) != 1.0 and math.isclose(float(shown), alpha, rel_tol=1e-8)


@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_the_players_forward_step_does_not_round_a_saturated_sigmoid_to_1(layout):
    _, cost = _chain(w2=30.0, b2=1.0, y=1.0)
    steps = viz.backprop_player(cost, layout=layout).steps
    forward = next(step for step in steps if step.phase == "forward" and step.title.endswith("α²"))
    shown = re.search(r"α² = (?:shape \([^)]*\): )?(\S+)$", _text(forward.html)).group(1)  # (graph: a (1,) array)
    assert float(shown) != 1.0


def test_a_second_backward_pass_still_plays_the_tree_with_this_passs_gradients():
    _, cost = _chain()
    cost.backward()
    cost.backward()  # a cell run twice: every .grad doubled
    player = viz.backprop_player(cost)
    titles = [step.title for step in player.steps]
    assert "Forward 1 of 5: z¹" in titles and not any("matmul" in title for title in titles)
    hand = _by_hand("sigmoid", 0.6, 0.3, 0.5, 0.9, 0.5, 0.25)
    assert {name: float(shown) for name, shown in _results(player.steps).items()} == \
        pytest.approx({name: float(format_number(hand[name])) for name in _results(player.steps)})
    assert "≠ .grad (it holds other backward passes too: zero_grad() first)" in _text(player.steps[-1].html)


def test_a_direct_edge_to_the_cost_is_not_written_as_the_weights_whole_gradient():
    net, cost = _chain()
    cost = cost + 0.1 * (net.layers[1].weights ** 2).sum()
    tree = dependency_tree(cost)
    total = tree.nodes["W^2"].grad
    hand = _by_hand("sigmoid", 0.6, 0.3, 0.5, 0.9, 0.5, 0.25)["W²"] + 0.2 * 0.5
    assert total == pytest.approx(hand, rel=1e-12)
    direct = next(edge for edge in tree.edges if edge.parent == "W^2" and edge.child == "C")
    assert direct.number == pytest.approx(0.1, rel=1e-12) and direct.symbol != "∂C/∂W²"
    step = next(s for s in viz.backprop_player(cost, layout="tree").steps if s.title.endswith("∂C/∂W²"))
    shown = re.findall(r"∂C/∂W² = (\S+)", _text(step.html))
    assert shown == [format_number(total)]  # only the whole gradient is called ∂C/∂W²


def test_the_graph_players_direct_use_by_the_cost_is_not_written_as_the_whole_gradient():
    w = Value(0.5, label="w")
    cost = (w * 3.0 - 1.0) ** 2 + w
    step = viz.backprop_player(cost).steps[-2]
    assert step.title.endswith("∂C/∂w")
    assert re.findall(r"∂C/∂w = (\S+)", _text(step.html)) == [format_number(2 * (3 * 0.5 - 1) * 3 + 1)]


# ---- guards ----------------------------------------------------------------------------------------------------------

@given(st.floats(-2, 2), st.floats(-1, 1), st.floats(-2, 2), st.floats(-1, 1), st.floats(-1, 1), st.floats(0, 1),
       st.sampled_from(["sigmoid", "relu"]))
def test_guard_every_backward_step_of_the_chain_is_the_chain_rule_by_hand(w1, b1, w2, b2, x, y, activation):
    _, cost = _chain(activation, w1, b1, w2, b2, x, y)
    tree = dependency_tree(cost)
    steps = tree_steps(cost, tree)
    hand = _by_hand(activation, w1, b1, w2, b2, x, y)
    results = _results(steps)
    assert set(results) == set(hand)  # a step for every node that needs a gradient, none missed
    for name, shown in results.items():  # 4 significant digits: within half a unit of the last
        assert shown == format_number(hand[name]) or math.isclose(float(shown), hand[name], rel_tol=5e-4), \
            (name, shown, hand[name])
    backward = [step.title.split("∂C/∂")[1] for step in steps if step.phase == "backward"]
    for edge in tree.edges:  # reverse topological: a node's step after the step of every node it feeds
        if edge.parent != "α^0":  # (the input: a constant, no step)
            assert backward.index(pretty(edge.parent)) > backward.index(pretty(edge.child))


def test_guard_a_relu_at_its_kink_passes_no_gradient_down_and_says_so():
    _, cost = _chain("relu", w1=2.0, b1=-1.0)  # z¹ = 2 · 0.5 − 1 = 0 exactly
    steps = viz.backprop_player(cost).steps
    step = next(s for s in steps if s.title.endswith("∂C/∂z¹"))
    assert "∂α¹/∂z¹ = ReLU′(z¹) = 0" in _text(step.html)
    assert _results(steps)["W¹"] == _results(steps)["b¹"] == "0"
    assert _results(steps)["W²"] == "0"  # α¹ = 0 multiplies W²'s only path


def test_guard_a_weight_shared_by_two_neurons_adds_both_paths_and_matches_finite_differences():
    x1, x2, y = 0.5, -0.3, 0.25

    def cost_of(w_value: float) -> tuple[Value, Value]:
        w = Value(w_value, label="w_1")
        others = {name: Value(v, label=name) for name, v in
                  (("w_2", -0.4), ("w_3", 0.3), ("w_5", 0.9), ("w_6", -1.1), ("b_1", 0.1), ("b_2", -0.2),
                   ("b_3", 0.05))}
        z1 = w * x1 + others["w_2"] * x2 + others["b_1"]
        z1.label = "z_1^1"
        z2 = w * x2 + others["w_3"] * x1 + others["b_2"]  # w again: one weight, two neurons
        z2.label = "z_2^1"
        a1, a2 = z1.sigmoid(), z2.sigmoid()
        a1.label, a2.label = "α_1^1", "α_2^1"
        z3 = others["w_5"] * a1 + others["w_6"] * a2 + others["b_3"]
        z3.label = "z^2"
        out = z3.sigmoid()
        out.label = "α^2"
        return w, (out - y) ** 2

    w, cost = cost_of(0.7)
    h = 1e-6
    numeric = (float(cost_of(0.7 + h)[1].data) - float(cost_of(0.7 - h)[1].data)) / (2 * h)
    step = next(s for s in viz.backprop_player(cost).steps if s.title.endswith("∂C/∂w₁"))  # (as drawn: w₁)
    text = _text(step.html)
    assert "w₁ feeds 2 nodes of the tree" in text
    terms = re.search(r"add up: (\S+) \+ (\S+) [=≈] (\S+)", text).groups()
    assert float(terms[2]) == pytest.approx(numeric, rel=1e-3)
    assert float(terms[0]) + float(terms[1]) == pytest.approx(numeric, rel=1e-3)
    assert float(w.grad) == pytest.approx(numeric, rel=1e-6)


def test_guard_the_2_2_1_networks_last_step_matches_the_gradients_by_hand():
    net = nn.Network(nn.Layer(2, 2, "sigmoid", rng=0), nn.Layer(2, 1, "sigmoid", rng=1))
    x, y = np.array([0.5, -0.3]), np.array([0.25])
    cost = losses.squared_error(net(x), y)
    player = viz.backprop_player(cost)
    w1, b1 = net.layers[0].weights.data, net.layers[0].biases.data
    w2, b2 = net.layers[1].weights.data, net.layers[1].biases.data
    a1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
    a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
    d2 = 2 * (a2 - y) * a2 * (1 - a2)
    d1 = (w2 @ d2) * a1 * (1 - a1)
    hand = {"W²": np.outer(a1, d2), "b²": d2, "W¹": np.outer(x, d1), "b¹": d1}
    rows = dict(re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", player.steps[-1].html))
    assert {name: rows[name] for name in hand} == {name: summary(grad) for name, grad in hand.items()}


@needs_dot
def test_guard_stepping_the_saved_tree_page_reveals_each_gradient_by_hand_in_order(browser, tmp_path):
    """In Chromium from file://: each backward step lights the node whose ∂C/∂ the panel states, that node's drawn
    line turns from "= ?" to the hand value, and the nodes not reached yet still say "?"."""
    _, cost = _chain()
    hand = _by_hand("sigmoid", 0.6, 0.3, 0.5, 0.9, 0.5, 0.25)
    player = viz.backprop_player(cost)
    browser.get("about:blank")
    browser.get(player.save(tmp_path / "chain.html").resolve().as_uri())
    script = """return Array.prototype.map.call(document.querySelectorAll('.drawing g.node' + arguments[0]),
                  function (g) { return Array.prototype.map.call(g.querySelectorAll('text'),
                                                                function (t) { return t.textContent; }); });"""
    seen = []
    for step in player.steps:
        if step.phase == "backward":
            name = step.title.split("∂C/∂")[1]
            (current,) = browser.execute_script(script, ".current")
            assert current[0] == name and current[-1] == f"∂C/∂{name} = {format_number(hand[name])}"
            seen.append(name)
            waiting = [lines[0] for lines in browser.execute_script(script, "") if lines[-1].endswith("= ?")]
            assert sorted(waiting) == sorted(set(hand) - set(seen))
        browser.find_element("css selector", "[data-go=next]").click()
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
