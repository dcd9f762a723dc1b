"""A teacher's pass over the dependency tree and its player steps: the forward step of a tree node lists every
labelled constant its formula uses, the formula keeps σ(w · a + b) as the seed writes it, a cut graph's last step
says where the parameters went instead of an empty table, and a labelled operation left out of a cut graph is called
by its label."""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
from helpers_player import text_of
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, viz
from tinygrad_edu import dependency_tree as dependency_tree_module
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge, TreeNode, dependency_tree
from tinygrad_edu.losses import squared_error


def _seed_neuron() -> tuple[Value, Value, Value, Value]:
    """The seed's y = σ(w·a + b), a = 1.5 a labelled constant (folded into the tree's edges)."""
    w, b = Value(0.8, label="w"), Value(-0.3, label="b")
    a = Value(1.5, label="a", requires_grad=False)
    y = (w * a + b).sigmoid()
    y.label = "y"
    return y, w, a, b


def _forward_text(player: viz.BackpropPlayer) -> str:
    (step,) = [step for step in player.steps if step.phase == "forward"]
    return text_of(step.html)


def test_the_trees_forward_step_lists_a_labelled_constant_folded_into_an_edge():
    y, w, a, b = _seed_neuron()
    text = _forward_text(viz.backprop_player(y, layout="tree"))
    listed = text.split(" from ", 1)[1]
    assert "w = 0.8" in listed and "b = -0.3" in listed
    assert "a = 1.5" in listed  # the formula uses a: the step names its number too
    # the number the step gives is the forward pass's own
    expected = 1 / (1 + np.exp(-(0.8 * 1.5 - 0.3)))
    assert f"y = {expected:.4g}" in listed


def test_the_trees_forward_formula_has_no_brackets_around_a_product_in_a_sum():
    y, *_ = _seed_neuron()
    text = _forward_text(viz.backprop_player(y, layout="tree"))
    assert "y = σ(w · a + b)" in text, text


def test_brackets_stay_where_a_sum_is_multiplied():
    w, b = Value(0.8, label="w"), Value(-0.3, label="b")
    a = Value(1.5, label="a", requires_grad=False)
    y = ((w + b) * a).sigmoid()
    y.label = "y"
    assert "y = σ((w + b) · a)" in _forward_text(viz.backprop_player(y, layout="tree"))


def test_a_cut_graph_without_its_parameters_says_so_in_the_last_step():
    y, w, a, b = _seed_neuron()
    y.backward()
    for max_nodes in (1, 2):
        player = viz.backprop_player(y, layout="graph", max_nodes=max_nodes)
        text = text_of(player.steps[-1].html)
        assert "max_nodes" in text and "2 parameters" in text, text
        # it still gives each parameter's gradient, which a central difference confirms
        for p, at in ((w, lambda v: (v, -0.3)), (b, lambda v: (0.8, v))):
            h, y_at = 1e-6, lambda wb: 1 / (1 + np.exp(-(wb[0] * 1.5 + wb[1])))
            slope = (y_at(at(float(p.data) + h)) - y_at(at(float(p.data) - h))) / (2 * h)
            assert abs(float(p.grad) - slope) < 1e-8
            assert f"{p.label} {float(p.grad):.4g}" in text, text


def test_a_labelled_operation_left_out_of_a_cut_graph_is_called_by_its_label():
    x = Value(2.0, label="x")
    k = Value(0.5, label="k", requires_grad=False)
    s = x * k
    s.label = "s"
    t = (s * 2).tanh()
    t.label = "t"
    cost = x * t
    cost.label = "C"
    player = viz.backprop_player(cost, layout="graph", max_nodes=3)  # C, x and t drawn; s, a user of x, is not
    (step,) = [step for step in player.steps if step.title.endswith("∂C/∂x")]
    text = text_of(step.html)
    assert "not drawn" not in text, text
    assert "s (mul)" in text and "∂s/∂x = k = 0.5" in text, text
    # x's gradient as the step sums it: tanh(2xk) + x·(1 − tanh²(2xk))·2k, by the closed form
    closed = np.tanh(2.0) + 2.0 * (1 - np.tanh(2.0) ** 2) * 1.0
    assert f"∂C/∂x = {closed:.4g}" in text


# --- the deep chain's drawing: each edge's number printed once, the walk kept until an edge changes ----------------
def _chain_cost(layers: int, dtype=None) -> Value:
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    x = np.array([0.5]) if dtype is None else np.array([0.5], dtype=dtype)
    if dtype is not None:
        for p in net.parameters():
            p.data = p.data.astype(dtype)
    cost = squared_error(net(x), np.array([0.25], dtype=x.dtype))
    cost.backward()
    return cost


def test_a_deep_chains_drawing_prints_each_local_derivative_once_not_once_per_weight_below_it(monkeypatch):
    tree = dependency_tree(_chain_cost(40))
    printed = []
    original = dependency_tree_module.format_number

    def counted(number, *args, **kwargs):
        printed.append(number)
        return original(number, *args, **kwargs)

    monkeypatch.setattr(dependency_tree_module, "format_number", counted)
    source = viz.tree_drawing(tree).source
    # the chain lines print a factor per edge on every weight's path: 40 layers, 160 edges, 3,300 factors drawn
    assert len(printed) <= 3 * len(tree.edges), len(printed)
    # and the chains still multiply out to each weight's .grad
    for name in ("W^1", "b^1", "W^40"):
        line = " ".join(tree.chain_lines(name, precision=4, width=10**6))
        assert line.count("·") == len(tree.path(name)) - 1
        assert np.isclose(tree.chain_rule(name), tree.nodes[name].grad, rtol=1e-9)
    assert source.count("chain:") == 80


def test_a_copied_tree_walks_its_own_edges_when_they_change():
    w, b = Value(0.8, label="w"), Value(-0.3, label="b")
    tree = DependencyTree("C", {n: TreeNode(n, v, 1.0, None, "weight") for n, v in (("C", w), ("w", w), ("b", b))},
                          [TreeEdge("w", "b", 2.0), TreeEdge("b", "C", 3.0)])
    assert tree.chain_rule("w") == 6.0 and tree.chain_lines("w") == ["chain: 2 · 3 = 6"]
    for copied in (copy.deepcopy(tree), pickle.loads(pickle.dumps(tree))):
        copied.edges[0].number = 5.0
        assert copied.chain_rule("w") == 15.0 and copied.chain_lines("w") == ["chain: 5 · 3 = 15"]
        assert tree.chain_rule("w") == 6.0 and tree.chain_lines("w") == ["chain: 2 · 3 = 6"]
    tree.edges[1].number = -1.0  # (in the tree itself, after its walk was kept)
    assert tree.chain_rule("w") == -2.0 and tree.chain_lines("w") == ["chain: 2 · (-1) = -2"]


# --- the tree's forward formula, read back as Python, computes the node's own number --------------------------------
_LEAVES = {"w": 0.7, "a": 1.5, "c": -0.4, "k": 2.5}


def _expressions():
    leaf = st.sampled_from(sorted(_LEAVES))
    return st.recursive(leaf, lambda inner: st.tuples(st.sampled_from(["+", "-", "*", "/"]), inner, inner),
                        max_leaves=4).filter(_each_leaf_once)


def _each_leaf_once(expression) -> bool:
    """w in it, and no leaf twice (the tree refuses a Value two folded operations use; a − a divides by 0)."""
    leaves = re.findall(r"'(\w)'", str(expression))
    return "w" in leaves and len(set(leaves)) == len(leaves)


def _built(expression, values):
    if isinstance(expression, str):
        return values[expression]
    op, left, right = expression
    x, y = _built(left, values), _built(right, values)
    return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op]


@given(_expressions())
def test_the_trees_forward_formula_read_back_computes_the_nodes_number(expression):
    """However sums and products nest, the brackets the step writes give the number the step says (w the tree's
    only parameter, used once; a, c, k labelled constants folded into its edge, the numbers of operations on them
    alone written as numbers: the engine records no such operation)."""
    values = {"w": Value(_LEAVES["w"], label="w")}
    values.update({name: Value(number, label=name, requires_grad=False) for name, number in _LEAVES.items()
                   if name != "w"})
    cost = _built(expression, values).tanh()
    cost.label = "C"
    text = _forward_text(viz.backprop_player(cost, layout="tree", precision=15))
    formula = text.split(" from ", 1)[0].removeprefix("C = ")
    python = formula.replace("·", "*").replace("−", "-").replace("tanh", "np.tanh")
    assert np.isclose(eval(python, {"np": np}, dict(_LEAVES)), float(cost.data), rtol=1e-12), formula  # noqa: S307
    for name in ("a", "c", "k"):  # each constant the formula uses is listed with its number
        if re.search(rf"\b{name}\b", formula.replace("tanh", "")):
            assert f"{name} = {_LEAVES[name]:g}" in text.split(" from ", 1)[1], text
