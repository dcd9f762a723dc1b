"""Edge cases of the graph walks, the dependency tree and the player's steps that the other tests left open: shared
Values, zero factors, sums and plural words, the edges a step lights, and the formulas of unusual shapes."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from helpers_player import player_steps

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge, TreeNode, dependency_tree, network_input
from tinygrad_edu.graph import ancestors, nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number
from tinygrad_edu.player import display_names, forward_formula, local_formula, tree_steps


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _chain(x: float = 0.5, target: float = 0.25, label: str = "C"):
    """The seed's two-layer chain, and its α¹, α² worked out in floats (independent of the engine)."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    cost = squared_error(net(np.array([x])), np.array([target]))
    cost.label = label
    (w1, b1), (w2, b2) = [(float(layer.weights.data[0, 0]), float(layer.biases.data[0])) for layer in net.layers]
    a1 = _sigmoid(w1 * x + b1)
    return net, cost, a1, _sigmoid(w2 * a1 + b2)


# --- graph.py --------------------------------------------------------------------------------------------------
def _diamond():
    """y = x + x·x: x is used three times by two operations, but it is one Value (and reached twice from x·x
    before it is taken off the walk's stack)."""
    x = Value(2.0, label="x")
    product = x * x
    return x, product, x + product


def test_a_shared_value_is_walked_and_counted_once():
    x, product, y = _diamond()
    kept, total = nearest_values(y)
    assert total == 3 and len(kept) == 3  # y, x·x, x: counted by hand
    assert len({id(v) for v in kept}) == 3
    everything = {id(v) for v in kept}
    found = ancestors(y, everything, set())
    assert len(found) == 3 and {id(v) for v in found} == everything


def test_ancestors_neither_start_in_nor_enter_what_is_stopped_or_not_allowed():
    x, product, y = _diamond()
    everything = {id(v) for v in (x, product, y)}
    assert ancestors(y, everything, {id(y)}) == []  # a start in stop is not taken
    # product is not allowed: the walk stays out of it, though x (allowed) is still reached through y itself
    assert {id(v) for v in ancestors(y, {id(y), id(x)}, set())} == {id(y), id(x)}
    assert ancestors(product, {id(product)}, set()) == [product]  # x is not allowed: not entered


# --- dependency_tree.py ------------------------------------------------------------------------------------------
def test_a_labelled_value_with_two_uses_passes_on_its_whole_gradient_once():
    """h = 3w feeds m = tanh h and t = 2h: ∂C/∂w = 3·(1 − tanh²h + 2), each edge once."""
    w = Value(0.4, label="w")
    h = w * 3.0
    m, t = h.tanh(), h * 2.0
    h.label, m.label, t.label = "h", "m", "t"
    cost = m + t
    cost.label = "C"
    tree = dependency_tree(cost)
    assert sorted((e.parent, e.child) for e in tree.edges) == [("h", "m"), ("h", "t"), ("m", "C"), ("t", "C"),
                                                              ("w", "h")]
    assert tree.chain_rule("w") == pytest.approx(3 * (1 - math.tanh(1.2) ** 2 + 2), rel=1e-12)


@pytest.mark.parametrize("cost_label", [None, "C"])
def test_a_cost_named_as_a_value_it_depends_on_is_refused_before_any_backward_pass(cost_label):
    """A data term labelled C plus a penalty is a natural cost.  Unlabelled, the cost is called C too; the two nodes
    merged, and the tree was refused as "w.grad is 3 but the chain rule gives 18: other backward passes"."""
    w = Value(0.5, label="w")
    data = w * 3.0
    data.label = "C"
    cost = data + 1.0
    cost.label = cost_label
    with pytest.raises(ValueError, match=r"^dependency_tree: the cost (has no label, so it is called|is labelled) "
                                         r"'C', and so is a Value it depends on; .*cost\.label = 'L'"):
        dependency_tree(cost)
    assert w.grad is None  # refused before backpropagating
    cost.label = "L"
    assert dependency_tree(cost).chain_rule("w") == pytest.approx(3.0)  # ∂(3w + 1)/∂w


def test_a_value_used_twice_by_one_operation_gets_the_sum_on_its_edge():
    w = Value(0.7, label="w")
    cost = w * w
    cost.label = "C"
    (edge,) = dependency_tree(cost).edges
    assert edge.number == pytest.approx(2 * 0.7, rel=1e-12)  # d(w²)/dw = 2w


def test_a_zero_factor_is_written_without_parentheses_and_bias_chains_are_multiplied_out():
    w = Value(-1.0, label="w^1")
    z = w * Value(0.5, requires_grad=False)
    z.label = "z^1"
    alpha = z.relu()  # z = −0.5: ReLU′ = 0
    alpha.label = "α^1"
    tree = dependency_tree((alpha - 0.25) ** 2)
    assert tree.chain_lines("w^1")[0].startswith("chain: 0.5 · 0 · (-0.5) = ")  # 2(0 − 0.25) = −0.5
    net, cost, a1, a2 = _chain()
    tree = dependency_tree(cost)
    w2 = float(net.layers[1].weights.data[0, 0])
    factors = [1.0, a1 * (1 - a1), w2, a2 * (1 - a2), 2 * (a2 - 0.25)]  # ∂z¹/∂b¹ … ∂C/∂α²
    (line,) = tree.chain_lines("b^1")
    shown, total = re.split(" [=≈] ", line[len("chain: "):])
    assert [float(f.strip("()")) for f in shown.split(" · ")] == pytest.approx(factors, rel=5e-4)
    assert float(total) == pytest.approx(math.prod(factors), rel=5e-4)


def test_a_line_exactly_as_wide_as_the_width_is_not_broken():
    tree = dependency_tree(_chain()[1])
    (line,) = tree.chain_lines("W^1")
    assert tree.chain_lines("W^1", width=len(line)) == [line]
    assert len(tree.chain_lines("W^1", width=len(line) - 1)) == 2


def test_a_path_from_a_node_that_feeds_nothing_is_refused_by_name():
    leaf = Value(1.0)
    tree = DependencyTree("C", {name: TreeNode(name, leaf, 1.0, None, "weight") for name in ("C", "w", "v")},
                          [TreeEdge("w", "C", 2.0)])
    assert [e.parent for e in tree.path("w")] == ["w"]
    with pytest.raises(ValueError, match="'v' feeds 0 nodes"):
        tree.path("v")


def test_a_cost_of_several_numbers_or_of_constants_is_refused_with_its_reason():
    with pytest.raises(ValueError, match=r"the cost must be a single number, got shape \(2,\)"):
        dependency_tree(Value([1.0, 2.0], label="v") * 2.0)
    with pytest.raises(ValueError, match="the cost does not depend on anything that needs a gradient"):
        dependency_tree(Value(2.0, requires_grad=False, label="a") * 3.0)


def test_a_bias_gradient_from_another_backward_pass_is_refused():
    net, cost, _, _ = _chain()
    cost.backward()
    (net.layers[0].biases * 1.0).sum().backward()  # only b¹.grad gets another pass's 1
    with pytest.raises(ValueError, match=r"b\^1\.grad is .* other backward passes"):
        dependency_tree(cost)


def test_edges_of_shapes_without_a_seed_formula_have_none_but_the_right_number():
    """A formula is written only where it is the number: (a − 0.25)³ is no square, (a − 0.25)·b no square, e^(2z)
    no activation of z, w·w + b no w·α."""
    a, b = Value(0.75, label="a"), Value(3.0, label="b")
    cube = (a - 0.25) ** 3
    cube.label = "C"
    assert [(e.number, e.formula) for e in dependency_tree(cube).edges] == [(pytest.approx(3 * 0.5 ** 2), "")]
    a, b = Value(0.75, label="a"), Value(3.0, label="b")  # fresh: the tree above backpropagated into a
    product = (a - 0.25) * b
    product.label = "C"
    assert {e.parent: (e.number, e.formula) for e in dependency_tree(product).edges} == {
        "a": (pytest.approx(3.0), ""), "b": (pytest.approx(0.5), "")}
    z = Value(0.3, label="z^2")
    alpha = (z * 2.0).exp()
    alpha.label = "α^2"
    edges = {(e.child, e.parent): e for e in dependency_tree((alpha - 0.25) ** 2).edges}
    assert edges[("α^2", "z^2")].number == pytest.approx(2 * math.exp(0.6), rel=1e-12)
    assert edges[("α^2", "z^2")].formula == ""
    w, bias = Value(0.7, label="w"), Value(0.1, label="b")
    z = w * w + bias
    z.label = "z"
    edges = {e.parent: e for e in dependency_tree(z.sigmoid()).edges}
    assert (edges["w"].number, edges["w"].formula) == (pytest.approx(1.4), "")
    assert (edges["b"].number, edges["b"].formula) == (pytest.approx(1.0), "1")


def test_unlabelled_parameters_are_numbered_apart():
    p, q = Value(0.8), Value(0.1)
    u = p * 0.5 + q
    u.label = "u"
    tree = dependency_tree(u.tanh())
    assert set(tree.nodes) == {"C", "u", "θ1", "θ2"}
    assert sorted(e.number for e in tree.edges if e.child == "u") == pytest.approx([0.5, 1.0])  # ∂u/∂p, ∂u/∂q


def test_the_network_input_is_neither_a_labelled_terms_constant_nor_a_parameter():
    weight, x, bias = Value(0.5, label="W^1"), Value(0.8, requires_grad=False), Value(0.1, label="b^1")
    penalty = 0.01 * weight
    penalty.label = "r"  # a labelled term under z¹ is not part of W¹·α⁰ + b¹
    z = penalty + weight * x
    z.label = "z^1"
    assert network_input(nearest_values(z)[0]) is x
    learnt = Value(0.2)  # a parameter times W¹ is no input
    z = weight * learnt + bias
    z.label = "z^1"
    assert network_input(nearest_values(z)[0]) is None


# --- player.py: names and formulas -------------------------------------------------------------------------------
def test_unlabelled_results_are_numbered_oldest_first_and_a_label_beats_a_given_name():
    p = Value(0.5, label="p")
    first = p * 2.0
    second = first * 3.0
    cost = second * 4.0
    kept, _ = nearest_values(cost)
    names = display_names(kept)
    assert (names[id(first)], names[id(second)], names[id(cost)]) == ("mul₁", "mul₂", "C")
    cost.label = "L"
    assert display_names(kept, {id(cost): "given"})[id(cost)] == "L"


def test_the_squared_errors_formulas_divide_by_the_samples_of_a_batch_only():
    """C = (1/n) Σ (a − y)²: ∂C/∂a = 2(a − y)/n, ∂C/∂y = −2(a − y)/n; no /1 for one sample."""
    single = squared_error(Value([0.5]), np.array([0.0]))
    batch = squared_error(Value([[0.5], [1.0]]), np.array([[0.0], [0.0]]))
    assert forward_formula(single, ["a", "y"]) == "Σ(a − y)²"
    assert forward_formula(batch, ["a", "y"]) == "Σ(a − y)²/2"
    assert [local_formula(single, i, ["a", "y"]) for i in (0, 1)] == ["2(a − y)", "−2(a − y)"]
    assert [local_formula(batch, i, ["a", "y"]) for i in (0, 1)] == ["2(a − y)/2", "−2(a − y)/2"]


def test_local_formulas_of_a_difference_a_product_by_a_matrix_and_a_first_power():
    a, b = Value(1.0), Value(2.0)
    assert [local_formula(a - b, i, ["a", "b"]) for i in (0, 1)] == ["1", "−1"]
    x, weights = Value(np.ones(2), requires_grad=False), Value(np.ones((2, 3)))
    assert local_formula(x @ weights, 0, ["x", "W"]) == "Wᵀ"  # vector x @ matrix W: ∂/∂x takes Wᵀ
    assert local_formula(Value(1.7) ** 1.0, 0, ["x", "1"]) == "1"  # d(x¹)/dx = 1


# --- player.py: the graph's steps -------------------------------------------------------------------------------
def test_a_steps_edges_are_the_drawings_and_a_single_use_is_not_summed():
    """C = 3p: kept is [C, p, 3] (v0, v1, v2); forward lights v1→op0, v2→op0, op0→v0, p's step v1→op0→v0."""
    p = Value(0.5, label="p")
    cost = p * 3.0
    cost.label = "C"
    _, steps = player_steps(cost)
    drawn = set(re.findall(r"(\w+) -> (\w+)", viz.draw_graph(cost).source))
    forward, backward_p = steps[1], steps[3]
    assert forward.edges == ["v1->op0", "v2->op0", "op0->v0"]
    assert backward_p.title.endswith("∂C/∂p") and backward_p.edges == ["v1->op0", "op0->v0"]
    assert {tuple(e.split("->")) for e in forward.edges + backward_p.edges} <= drawn
    assert "<td>∂C/∂p = 3</td>" in backward_p.html  # the formula is the number: not "= 3 = 3"
    assert "add up" not in backward_p.html and "left out" not in steps[0].html  # one use; nothing cut


def test_an_unlabelled_parameter_is_listed_among_the_inputs_a_constant_is_not():
    p = Value(0.5)  # a parameter: named θ₁ (by its number it read as a constant, like the 3), listed with it
    cost = p * 3.0
    cost.label = "C"
    _, steps = player_steps(cost)
    assert re.findall(r"<li>(.*?)</li>", steps[1].html) == ["θ₁ = 0.5"]


def test_a_label_that_closes_the_script_stays_inside_the_pages_data():
    label = "w</script><script>alert(1)</script>"
    cost = (Value(0.5, label=label) * 3.0) ** 2
    player = viz.backprop_player(cost, layout="graph")

    class Scripts(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.inside = {}, None

        def handle_starttag(self, tag, attrs):
            self.inside = dict(attrs).get("id", "code") if tag == "script" else None

        def handle_data(self, data):
            if self.inside:
                self.data[self.inside] = self.data.get(self.inside, "") + data

    parser = Scripts()
    parser.feed(player.html())
    steps = json.loads(parser.data["steps"])
    assert len(steps) == len(player) and steps[-2]["title"].endswith(label)


# --- player.py: the tree's steps ---------------------------------------------------------------------------------
def test_the_tree_steps_multiply_the_arriving_gradient_and_light_the_drawings_edges():
    net, cost, a1, a2 = _chain(label="L")
    tree = dependency_tree(cost)
    steps = tree_steps(cost, tree)
    names = list(tree.nodes)
    arriving, local = 2 * (a2 - 0.25), a2 * (1 - a2)  # ∂L/∂α², σ′(z²)
    z2 = next(s for s in steps if s.title.endswith("∂L/∂z²"))
    fmt = format_number
    assert re.search(f"{fmt(arriving)} × {fmt(local)} [=≈] {fmt(arriving * local)}", _text_of(z2.html))
    assert "feeds 1 node of" in z2.html and "add up" not in z2.html
    b2 = next(s for s in steps if s.title.endswith("∂L/∂b²"))
    assert "∂z²/∂b² = 1 " in _text_of(b2.html) and "= 1 = 1" not in _text_of(b2.html)
    forward_z2 = next(s for s in steps if s.phase == "forward" and s.title.endswith("z²"))
    v = lambda name: f"v{names.index(name)}"  # noqa: E731
    assert sorted(forward_z2.edges) == sorted(f"{v('z^2')}->{v(p)}" for p in ("W^2", "α^1", "b^2"))
    drawn = {"->".join(pair) for pair in re.findall(r"(v\d+) -> (v\d+)", viz.tree_drawing(tree).source)}
    assert all(set(s.edges) <= drawn for s in steps), [s.edges for s in steps]  # the drawing's child→parent
    assert "∂L/∂· (the steps)" in steps[-1].html  # the cost's own name, in the last step too
