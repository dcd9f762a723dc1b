"""tinygrad_edu.dependency_tree: the chain lines of deep chains, and networks whose activation is the identity."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers_player import two_uses

from tinygrad_edu import Value, nn
from tinygrad_edu.demo import chain_cost
from tinygrad_edu.dependency_tree import dependency_tree, network_input
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number
from tinygrad_edu.player import tree_steps
from tinygrad_edu.viz import backprop_player, draw_dependency_tree


def _factors_and_total(lines: list[str], joiner: str = " · ") -> tuple[list[str], str]:
    """The factors (or terms) and the total of a chain's lines, read back as one text."""
    assert lines[0].startswith("chain: ")
    factors, total = re.split(" [=≈] ", " ".join(lines)[len("chain: "):])  # ≈: the factors as printed round off
    return factors.split(joiner), total


def _number(text: str) -> float:
    return float(text.strip("()"))


def test_a_deep_chain_keeps_every_factor_and_its_total_within_the_width():
    """A 12-layer chain was one line cut at 120 characters, the total ∂C/∂W¹ lost: now it goes on over lines."""
    tree = dependency_tree(chain_cost(layers=12))
    path = tree.path("W^1")
    assert len(path) == 25  # ∂z¹/∂W¹, then ∂α/∂z and ∂z/∂α of every layer, then ∂C/∂α¹²
    lines = tree.chain_lines("W^1")
    assert len(lines) > 1 and all(len(line) <= 80 for line in lines)
    assert all(line.startswith("· ") for line in lines[1:])  # each line after the first says it goes on
    factors, total = _factors_and_total(lines)
    assert [_number(f) for f in factors] == pytest.approx([e.number for e in path], rel=5e-4)
    grad = tree.nodes["W^1"].grad
    assert total == format_number(grad) and lines[-1].endswith(f"≈ {format_number(grad)}")  # 25 rounded factors
    assert math.prod(_number(f) for f in factors) == pytest.approx(grad, rel=1e-2)
    narrow = tree.chain_lines("W^1", precision=2, width=30)
    assert all(len(line) <= 30 for line in narrow) and narrow[-1].endswith(f"≈ {format_number(grad, 2)}")


def test_a_short_chain_stays_one_line_as_before():
    tree = dependency_tree(chain_cost(layers=3))
    path = tree.path("W^1")
    number = lambda x: f"({format_number(x)})" if x < 0 else format_number(x)  # noqa: E731
    expected = f"chain: {' · '.join(number(e.number) for e in path)} = {format_number(tree.nodes['W^1'].grad)}"
    assert tree.chain_lines("W^1") == [expected]
    assert tree.chain_lines("C") == [] and tree.chain_lines("α^2") == []  # no chain to multiply out
    with pytest.raises(KeyError, match="no node named 'W'"):
        tree.chain_lines("W")


def test_the_sum_over_several_uses_goes_on_over_lines_with_its_total():
    """∂C/∂w = ∂C/∂m·∂m/∂w + ∂C/∂t·∂t/∂w."""
    tree = dependency_tree(two_uses())
    u = 0.7 * 2.0 + math.tanh(0.7)
    products = sorted([2 * u * 2.0, 2 * u * (1 - math.tanh(0.7) ** 2)])
    for width, count in ((80, 1), (20, 3)):
        lines = tree.chain_lines("w", width=width)
        assert len(lines) == count and all(len(line) <= width for line in lines)
        terms, total = _factors_and_total(lines, joiner=" + ")
        assert sorted(math.prod(_number(f) for f in term.split("·")) for term in terms) == pytest.approx(products,
                                                                                                        rel=2e-3)
        assert _number(total) == pytest.approx(sum(products), rel=5e-4)


def test_a_tree_node_with_two_uses_says_so_in_the_plural():
    cost = two_uses()
    step = next(s for s in tree_steps(cost, dependency_tree(cost)) if s.title.endswith("∂C/∂w"))
    assert "w feeds 2 nodes of the tree" in step.html and "add up" in step.html


def _net_cost(*activations, x: float = 0.8, target: float = 0.3) -> tuple[nn.Network, Value]:
    net = nn.Network(*[nn.Layer(1, 1, act, rng=i) for i, act in enumerate(activations)])
    cost = squared_error(net(np.array([x])), np.array([target]))
    cost.label = "C"
    return net, cost


@pytest.mark.parametrize("activations", [("identity", "identity"), ("identity", "sigmoid"), ("identity",)])
def test_an_identity_first_layer_has_alpha_0_and_every_edge_its_formula(activations):
    """The identity returns z itself, so nn.Layer's α^1 label replaces z^1: the tree had no α⁰ and the edge
    ∂α¹/∂W¹ no formula.  Now it is the tree of a sigmoid network without the z nodes, α = z."""
    net, cost = _net_cost(*activations)
    tree = dependency_tree(cost)
    first = net.layers[0]
    assert tree.nodes["α^0"].data == pytest.approx(0.8) and tree.nodes["α^0"].kind == "input"
    assert "z^1" not in tree.nodes
    edges = {(e.child, e.parent): e for e in tree.edges}
    assert {parent for child, parent in edges if child == "α^1"} == {"W^1", "α^0", "b^1"}
    assert (edges[("α^1", "W^1")].formula, edges[("α^1", "W^1")].number) == ("α⁰", pytest.approx(0.8))
    assert (edges[("α^1", "α^0")].formula, edges[("α^1", "α^0")].number) == ("W¹", pytest.approx(
        float(first.weights.data[0, 0])))
    assert edges[("α^1", "b^1")].formula == "1"
    assert all(edge.formula for edge in tree.edges), [e.symbol for e in tree.edges if not e.formula]
    assert tree.chain_rule("W^1") == pytest.approx(float(first.weights.grad.item()), rel=1e-12)
    source = draw_dependency_tree(cost).source
    assert "∂α¹/∂W¹ = α⁰" in source and "through" not in source  # no edge folds operations without a formula


def test_a_lone_identity_layer_has_alpha_0_and_a_constant_in_an_activation_is_not_taken_for_it():
    layer = nn.Layer(1, 1, "identity", rng=0)  # not in a network: W, b, α (z's label replaced)
    cost = squared_error(layer(np.array([0.8])), np.array([0.3]))
    tree = dependency_tree(cost)
    assert {e.parent: e.formula for e in tree.edges if e.child == "α"} == {"W": "α⁰", "α^0": "W", "b": "1"}
    _, doubled = _net_cost(lambda z: z * 2.0)  # α¹ = 2·z¹: the 2 is multiplied by z¹, not by a weight
    tree = dependency_tree(doubled)
    assert [e.parent for e in tree.edges if e.child == "α^1"] == ["z^1"]
    assert tree.nodes["α^0"].data == pytest.approx(0.8)


def test_network_input_of_an_identity_first_layer_is_not_a_constant_times_the_weights_elsewhere():
    """Without z^1, network_input searched every operation and took the 0.01 of a penalty 0.01·W¹·W¹ for α⁰."""
    net = nn.MLP([2, 3, 1], activation="identity", output_activation="identity", rng=0)
    w1 = net.layers[0].weights
    x = np.array([[0.5, -1.0]])
    cost = (0.01 * w1 * w1).sum() + squared_error(net(x), np.array([[0.25]]))
    kept, _ = nearest_values(cost, 150)
    found = network_input(kept)
    assert found is not None and np.array_equal(found.data, x)


def test_the_drawn_tree_shows_a_deep_chain_whole_with_its_total():
    """The drawing cut the chain line at 120 characters: a 12-layer W¹ box lost its total."""
    cost = chain_cost(layers=12)
    tree = dependency_tree(cost)
    source = draw_dependency_tree(cost).source
    for line in tree.chain_lines("W^1"):
        assert line in source  # (numbers and dots need no HTML escaping)
    assert re.search(f" [=≈] {format_number(tree.chain_rule('W^1'))}$", tree.chain_lines("W^1")[-1])


def _fresh_gradients(net: nn.Module, x: np.ndarray, target: np.ndarray) -> list[np.ndarray]:
    """The parameters' gradients of one cost, computed from scratch (and cleared again)."""
    net.zero_grad()
    squared_error(net(x), target).backward()
    grads = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    return grads


def test_a_cost_refused_as_no_chain_networks_leaves_every_grad_as_it_was():
    """dependency_tree called cost.backward() before finding two neurons in a layer: the drawing was refused but every
    .grad was filled, so the student's own cost.backward() afterwards silently doubled the gradients."""
    net = nn.MLP([1, 2, 1], rng=0)
    x, target = np.array([0.5]), np.array([0.25])
    expected = _fresh_gradients(net, x, target)
    cost = squared_error(net(x), target)
    for attempt in (dependency_tree, draw_dependency_tree, lambda c: backprop_player(c, layout="tree")):
        with pytest.raises(ValueError, match="one neuron per layer"):
            attempt(cost)
        assert cost.grad is None and all(p.grad is None for p in net.parameters())
    cost.backward()
    assert all(np.array_equal(p.grad, g) for p, g in zip(net.parameters(), expected, strict=True))


def test_a_chain_cost_is_still_backpropagated_once_when_the_tree_is_found():
    net, cost = _net_cost("sigmoid", "tanh")
    expected = _fresh_gradients(net, np.array([0.8]), np.array([0.3]))
    tree = dependency_tree(cost)  # calls backward itself
    assert cost.grad == 1.0
    for i, layer in enumerate(net.layers, start=1):
        assert tree.nodes[f"W^{i}"].grad == float(layer.weights.grad.item())
        assert tree.nodes[f"b^{i}"].grad == float(layer.biases.grad.item())
    assert all(np.array_equal(p.grad, g) for p, g in zip(net.parameters(), expected, strict=True))


def test_two_layers_outside_a_network_are_named_as_the_reason_for_a_repeated_label():
    """Two nn.Layers in a Module of one's own both label their Values W, b, z, α: the refusal blamed a second forward
    pass only."""

    class TwoLayers(nn.Module):
        def __init__(self):
            self.first, self.second = nn.Layer(1, 1, rng=0), nn.Layer(1, 1, rng=1)

        def forward(self, x):
            return self.second(self.first(x))

    cost = squared_error(TwoLayers()(np.array([0.5])), np.array([0.25]))
    with pytest.raises(ValueError, match=r"label 'α' is on two different Values.*put them in an nn\.Network"):
        dependency_tree(cost)
    net, chain = _net_cost("sigmoid")  # one forward pass of one network twice: no word about Layers
    with pytest.raises(ValueError, match=r"label each Value once\)$"):
        dependency_tree(chain + squared_error(net(np.array([0.1])), np.array([0.3])))


def _float32_chain(seed: int):
    """The seed's two-layer chain with float32 parameters, input and target (a cost computed in float32)."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=seed), nn.Layer(1, 1, "sigmoid", rng=seed + 100))
    net.load_state_dict({name: array.astype(np.float32) for name, array in net.state_dict().items()})
    cost = squared_error(net(np.array([0.5], dtype=np.float32)), np.array([0.25], dtype=np.float32))
    return net, cost


@pytest.mark.parametrize("seed", range(5))
def test_a_float32_chain_is_drawn_not_blamed_on_other_backward_passes(seed):
    """The chain rule multiplied out in float64 differs from float32's .grad in the 8th digit: that was taken for
    other backward passes ("W^2.grad is 0.129949 but the chain rule gives 0.129949") and every float32 tree refused."""
    net, cost = _float32_chain(seed)
    assert cost.dtype == np.float32
    tree = dependency_tree(cost)
    for layer in net.layers:
        for parameter in (layer.weights, layer.biases):
            assert tree.chain_rule(parameter.label) == pytest.approx(float(parameter.grad.item()), rel=1e-5)
    assert backprop_player(cost).steps[1].title == "Forward 1 of 5: z¹"  # "auto" finds the tree, not the graph


def test_a_float32_gradient_from_two_backward_passes_is_still_refused():
    net, cost = _float32_chain(0)
    cost.backward()
    cost.backward()  # every .grad doubled: no rounding
    with pytest.raises(ValueError, match="other backward passes"):
        dependency_tree(cost)


def _scaled_sum():
    """z = (a + b)·c and zeta = (a − b)/c, labelled like a layer's z (LAYER_LABEL takes "z") and unlike it."""
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    z = (a + b) * c
    z.label = "z"
    cost = z.tanh() * 0.5
    cost.label = "L"
    return cost


def test_a_formula_on_an_edge_is_the_number_on_it():
    """∂z/∂b of z = (a + b)·c was written "1" (the formula of z = w·α + b) next to its number, 3."""
    tree = dependency_tree(_scaled_sum())
    assert {edge.parent: edge.number for edge in tree.edges if edge.child == "z"} == \
        pytest.approx({"a": 3.0, "b": 3.0, "c": 3.0})
    for edge in tree.edges:
        if edge.formula == "1":
            assert edge.number == 1.0, edge
        elif edge.formula in tree.nodes:
            assert edge.number == tree.nodes[edge.formula].data, edge
    assert [edge.formula for edge in tree.edges if edge.child == "z"] == ["", "", ""]


def test_the_player_writes_the_forward_formula_of_a_labelled_z_as_it_was_computed():
    """z = (a + b)·c was written "z = c · a + b", the seed's w·α + b for any z with three inputs."""
    player = backprop_player(_scaled_sum(), layout="tree")
    forward = next(step for step in player.steps if step.phase == "forward" and step.title.endswith(": z"))
    assert "z = (a + b) · c" in forward.html


def test_the_target_in_the_cost_edges_formula_has_the_drawings_digits():
    """At precision=8 the edge read ∂C/∂α² = 2(α² − 0.3333) = 0.89807978: the target at 4 digits beside a number
    that 2(α² − 0.3333) does not give."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.333333]))
    assert dependency_tree(cost).edges[0].formula == "2(α² − 0.3333)"  # 4 digits unless asked
    assert dependency_tree(cost, precision=8).edges[0].formula == "2(α² − 0.333333)"
    assert "∂C/∂α² = 2(α² − 0.333333)" in draw_dependency_tree(cost, precision=8).source
    step = next(s for s in backprop_player(cost, precision=8).steps if s.title.endswith("∂C/∂α²"))
    assert "∂C/∂α² = 2(α² − 0.333333)" in step.html
    with pytest.raises(ValueError, match="dependency_tree: precision"):
        dependency_tree(cost, precision=0)


def test_a_tree_shows_itself_in_one_short_line() -> None:
    """At the prompt or in Jupyter, ``dependency_tree(cost)`` printed the dataclass's repr: every node with its
    whole Value, about 2,500 characters for a chain of two neurons."""
    tree = dependency_tree(chain_cost())
    text = repr(tree)
    assert "\n" not in text and len(text) < 120
    assert text.startswith("DependencyTree(cost C; ")
    assert f"{len(tree.nodes)} nodes: C, α³, z³, W³" in text and text.endswith(f"; {len(tree.edges)} edges)")


@pytest.mark.parametrize("target, written", [(-0.5, "2(α² − (-0.5))"), (0.25, "2(α² − 0.25)")])
def test_the_costs_edge_writes_a_negative_target_in_parentheses(target, written):
    """∂C/∂α² for a target y' = −0.5 read "2(α² − -0.5)", a minus sign and a hyphen in a row, where the tree's own
    chain products write a negative factor in parentheses.  Found by an exploratory pass."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    cost = squared_error(model(np.array([0.5])), np.array([target]))
    cost.backward()
    tree = dependency_tree(cost)
    assert [edge.formula for edge in tree.edges if edge.child == "C" and edge.parent == "α^2"] == [written]
