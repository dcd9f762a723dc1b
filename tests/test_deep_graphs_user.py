"""An engineer stress-testing graph depth and size: chains of 10^4 to 10^5 operations, deep networks of one
neuron per layer, and wide graphs (many labelled Values summed).  The xfail tests are the defects found: drawings of
the dependency tree that grew without bound (an edge label of one line per two folded operations, a player whose tree
layout ignored ``max_nodes``) and a tree search that took time n² on a wide graph instead of refusing it; the other
tests pin what a deep graph relies on (closed forms and finite differences computed here with numpy)."""

from __future__ import annotations

import gc
import re
import shutil
import tracemalloc

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, nn
from tinygrad_edu.demo import chain_cost
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.viz import backprop_player, draw_dependency_tree, draw_graph

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _tanh_chain(x: Value, steps: int) -> Value:
    """y ← tanh(0.999·y), ``steps`` times: 2·steps unlabelled operations."""
    y = x
    for _ in range(steps):
        y = (y * 0.999).tanh()
    return y


def _edge_label(source: str) -> str:
    """The one edge label of a two-node tree drawing (Graphviz source), its lines without the padded cell's tags."""
    labels = re.findall(r"v0 -> v1 \[label=<<TABLE[^>]*><TR><TD>(.*)</TD></TR></TABLE>>", source)
    assert len(labels) == 1, source[:500]
    return labels[0]


def test_a_deep_unlabelled_chain_folds_into_an_edge_label_of_a_few_lines_saying_how_many_operations():
    x = Value(0.5, label="x")
    source = draw_dependency_tree(_tanh_chain(x, 1000)).source
    lines = _edge_label(source).split("<BR/>")
    assert len(lines) <= 12  # ∂C/∂x, its number, and a few lines of operations
    assert "through mul → tanh" in lines[2] and any("2000 operations" in line for line in lines)


def test_a_short_unlabelled_chain_still_lists_every_operation_it_folds():
    x = Value(0.5, label="x")
    lines = _edge_label(draw_dependency_tree(_tanh_chain(x, 3)).source).split("<BR/>")
    assert [re.sub("</?I>", "", line) for line in lines[2:]] == ["through mul → tanh", "→ mul → tanh",
                                                                 "→ mul → tanh"]


def _wide_labelled_sum(count: int) -> tuple[Value, list[Value]]:
    weights = [Value(float(i + 1), label=f"w{i}") for i in range(count)]
    cost = sum(w ** 2 for w in weights)
    assert isinstance(cost, Value)
    cost.label = "C"
    return cost, weights


def test_the_tree_of_a_wide_sum_of_labelled_values_is_refused_naming_what_draws_it():
    cost, weights = _wide_labelled_sum(1001)
    with pytest.raises(ValueError, match=r"dependency_tree: 'C' depends on 1001 .*draw_graph"):
        dependency_tree(cost)
    assert all(w.grad is None for w in weights)  # refused before any backward pass


def test_the_tree_of_a_small_labelled_sum_is_drawn_with_each_gradient():
    cost, _ = _wide_labelled_sum(5)
    tree = dependency_tree(cost)
    for i in range(5):
        assert tree.nodes[f"w{i}"].grad == pytest.approx(2.0 * (i + 1))  # ∂(Σ w²)/∂w_i = 2·w_i


def _deep_network_cost(layers: int) -> Value:
    net = nn.MLP([1] + [1] * layers, activation="tanh", rng=0)
    return ((net(np.array([[0.3]])) - 0.5) ** 2).sum()


@needs_dot  # the player's drawing
def test_the_player_of_a_deep_chain_network_keeps_max_nodes_as_the_graph_layout_does():
    cost = _deep_network_cost(200)
    player = backprop_player(cost, max_nodes=40)
    assert len(player.steps) <= 2 * 40 + 2  # a start, ≤ 40 forward and ≤ 40 backward steps, the result
    assert player.drawing_svg is not None and "left out" in player.drawing_svg.replace("\n", " ")


def test_the_tree_layout_of_a_deep_chain_network_beyond_max_nodes_is_refused_naming_max_nodes():
    cost = _deep_network_cost(200)
    with pytest.raises(ValueError, match=r"backprop_player: .*more than max_nodes=40.*layout='graph'"):
        backprop_player(cost, layout="tree", max_nodes=40)


@needs_dot  # the player's drawing
def test_the_player_of_a_small_chain_network_still_shows_its_tree():
    player = backprop_player(chain_cost(layers=3))
    assert player.drawing_svg is not None and "<title>dependency_tree</title>" in player.drawing_svg


def test_backward_through_a_chain_of_100_000_operations_matches_the_closed_form_and_accumulates():
    n = 50_000
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y * 1.00001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.00001 ** n, rel=1e-9)
    y.backward()
    assert x.grad == pytest.approx(2 * 1.00001 ** n, rel=1e-9)


def _numpy_chain(x: float, steps: int) -> tuple[float, float]:
    """f(x) = 2·tanh(y/2) applied ``steps`` times, and its derivative: the product of the steps' 1 − tanh²(y/2)."""
    slope = 1.0
    for _ in range(steps):
        t = np.tanh(x / 2)
        slope *= 1 - t * t
        x = 2 * t
    return x, slope


def test_a_second_derivative_through_a_10_000_deep_chain_matches_finite_differences():
    steps, x0, h = 10_000, 0.3, 1e-4
    x = Value(x0)
    y = x
    for _ in range(steps):
        y = (y * 0.5).tanh() * 2.0
    y.backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    assert first.item() == pytest.approx(_numpy_chain(x0, steps)[1], rel=1e-9)
    x.grad = None
    first.backward()
    central = (_numpy_chain(x0 + h, steps)[1] - _numpy_chain(x0 - h, steps)[1]) / (2 * h)
    assert x.grad == pytest.approx(central, rel=1e-5)
    hessian = autodiff.hessian(lambda v: ((v * 0.5).tanh() * 2.0))(Value(x0))  # one step: f'' = −tanh·(1 − tanh²)
    assert hessian.item() == pytest.approx(-np.tanh(x0 / 2) * (1 - np.tanh(x0 / 2) ** 2), rel=1e-9)


def test_a_deep_graph_with_recorded_gradients_is_freed_once_dropped():
    """backward(create_graph=True) makes the gradients' graph refer back to the Values: the collector frees it."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        x = Value(np.ones(8))
        y = _tanh_chain(x, 5_000).sum()
        y.backward(create_graph=True)
        held = tracemalloc.get_traced_memory()[0] - before
        del x, y
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held > 2_000_000  # (the graph was really there: 20,000 Values and their gradients' graph)
    assert left < held / 50


def test_draw_graph_of_a_150_000_value_chain_keeps_max_nodes_and_says_how_many_it_left_out():
    y = _tanh_chain(Value(0.5, label="x"), 50_000)  # each step: the constant 0.999, the mul and the tanh; and x
    source = draw_graph(y, max_nodes=30).source
    assert len(re.findall(r"^\s*v\d+ \[", source, flags=re.M)) == 30
    assert re.search(r"149,?971 more Values left out", source)  # 150,001 Values, 30 drawn
