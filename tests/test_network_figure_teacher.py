"""A teacher's lessons with ``viz.draw_network`` (the seed's Figure 1): 2-3-1, 1-12-12-1 and 64-32-10 networks,
custom activations, a frozen layer, the same network before and after training.

The drawings are read from Graphviz's own layout (``pipe(format="json")``): the positions and widths of the texts as
Graphviz placed them, the edges with their attributes, the key at the bottom.
"""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _layout(graph: viz.Drawing) -> dict:
    return json.loads(graph.pipe(format="json"))


def _texts(layout: dict, name: str) -> list[dict]:
    """The text operations (position, width, alignment, text) Graphviz drew for the node ``name``."""
    node = next(o for o in layout["objects"] if o.get("name") == name)
    return [op for op in node.get("_ldraw_", []) if op["op"] == "T"]


def _key(graph: viz.Drawing) -> str:
    """The key at the bottom of the drawing, as written in its source."""
    return graph.graph_attr["label"]


def _tooltips(graph: viz.Drawing) -> dict[tuple[str, str], float]:
    """(tail, head) → the weight an edge's tooltip says."""
    found = re.findall(r'(L\d+_\d+) -> (L\d+_\d+) \[[^\]]*tooltip="w = ([^"]+)"', graph.source)
    return {(tail, head): float(number) for tail, head, number in found}


# --- guards: what a lesson relies on that no other test pins ---------------------------------------------------------
def test_an_edge_from_input_i_to_neuron_j_carries_weights_i_j_in_every_layer_of_a_1_12_12_1_network():
    """The seed's w_{i;j} joins α^(l−1)_i to α^l_j: W[i, j] of the layer's (in_size, out_size) matrix, not W[j, i]
    (a square 12 × 12 layer would draw either without complaint)."""
    net = nn.MLP([1, 12, 12, 1], init="xavier", rng=7)
    edges = _tooltips(viz.draw_network(net))
    assert len(edges) == 12 + 12 * 12 + 12
    for column, layer in enumerate(net.layers, start=1):
        w = layer.weights.data
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                assert edges[(f"L{column - 1}_{i}", f"L{column}_{j}")] == pytest.approx(w[i, j], rel=1e-3, abs=1e-12)


def test_the_digits_network_keeps_all_ten_outputs_and_names_the_first_and_last_pixels():
    """64-32-10: the ten output neurons are all drawn (a lesson reads the digit off them); the 64 inputs show α⁰₀ and
    α⁰₆₃, the 53 left out counted, and no edge leaves a neuron that is not drawn."""
    net = nn.MLP([64, 32, 10], activation="relu", init="he", rng=0)
    graph = viz.draw_network(net)
    names = set(re.findall(r"^\s*(L\d+_\w+) \[", graph.source, flags=re.M))
    assert {f"L2_{k}" for k in range(10)} <= names
    assert "L0_0" in names and "L0_63" in names and "L0_6" not in names
    assert re.search(r"L0_more \[label=<⋮ 53<BR/>more>", graph.source)
    assert re.search(r"L1_more \[label=<⋮ 21<BR/>more>", graph.source)
    drawn = {name for name in names if not name.endswith("more")}
    assert all(tail in drawn and head in drawn for tail, head in _tooltips(graph))
    assert re.search(r"α⁰₆₃", graph.source) and "output layer α² (relu)" in graph.source


def test_each_neuron_shows_its_own_bias_and_the_input_neurons_none():
    net = nn.MLP([2, 3, 1], rng=0)
    net.layers[0].biases.data[:] = [0.25, -1.5, 3.0]
    source = viz.draw_network(net).source
    assert re.search(r"L1_0 \[label=<α¹₀<BR/>b=0\.25>", source)
    assert re.search(r"L1_1 \[label=<α¹₁<BR/>b=-1\.5>", source)
    assert re.search(r"L1_2 \[label=<α¹₂<BR/>b=3>", source)
    assert re.search(r"L0_0 \[label=<α⁰₀>", source)  # the seed's α^0_0: an input, no bias


# --- defects ---------------------------------------------------------------------------------------------------------
def _activation_named(name: str):
    def activation(z):
        return z.tanh()

    activation.__name__ = name
    return activation


@needs_dot
def test_column_titles_of_custom_activations_do_not_overprint_each_other():
    net = nn.Network(nn.Layer(2, 3, _activation_named("leaky_relu_with_a_small_slope"), rng=0),
                     nn.Layer(3, 3, _activation_named("scaled_exponential_linear_unit"), rng=1),
                     nn.Layer(3, 1, "identity", rng=2))
    layout = _layout(viz.draw_network(net))
    spans = []
    for column in range(4):
        (title, count) = _texts(layout, f"title{column}")
        assert count["text"] == f"{3 if column in (1, 2) else 2 if column == 0 else 1} neuron" + "s" * (column != 3)
        left = title["pt"][0] - {"l": 0.0, "c": 0.5, "r": 1.0}[title["align"]] * title["width"]
        spans.append((left, left + title["width"]))
    assert "leaky_relu_with_a_small_slope" in _texts(layout, "title1")[0]["text"]
    for (_, right), (left, _) in zip(spans, spans[1:]):
        assert right < left, spans


def test_the_key_says_which_weight_the_thickest_line_stands_for():
    net = nn.MLP([1, 4, 1], activation="tanh", init="xavier", rng=0)
    before = viz.draw_network(net)
    for layer in net.layers:
        layer.weights.data *= 3.0  # "after training": every weight three times larger, the same widths
    after = viz.draw_network(net)
    largest = max(float(np.abs(layer.weights.data).max()) for layer in net.layers)
    widths = [re.findall(r"penwidth=([\d.]+)", graph.source) for graph in (before, after)]
    assert widths[0] == widths[1]  # (the widths alone cannot tell the two apart)
    numbers = [re.search(r"\|w\| = ([\d.e+-]+)", _key(graph)) for graph in (before, after)]
    assert numbers[0] and numbers[1], [_key(graph) for graph in (before, after)]
    assert float(numbers[1].group(1)) == pytest.approx(largest, rel=0.01)
    assert float(numbers[0].group(1)) == pytest.approx(largest / 3.0, rel=0.01)


def test_a_summarised_layer_says_its_left_out_neurons_weights_are_not_drawn_and_how_to_see_them():
    graph = viz.draw_network(nn.MLP([64, 32, 10], activation="relu", init="he", rng=0))
    key = _key(graph)
    assert re.search(r"⋮.*left out.*weights", key) and "max_neurons" in key, key
    assert "max_neurons" not in _key(viz.draw_network(nn.MLP([2, 3, 1], rng=0)))  # nothing left out: no such line


def test_a_frozen_layer_says_so_in_its_title():
    net = nn.MLP([2, 3, 3, 1], rng=0)
    net.layers[0].requires_grad_(False)
    net.layers[1].biases.requires_grad = False
    titles = dict(re.findall(r'(title\d) \[label=<([^>]*(?:>[^>]*)*?)> fixedsize', viz.draw_network(net).source))
    assert "frozen" not in titles["title0"] and "frozen" not in titles["title3"]
    assert re.search(r"\bfrozen\b", titles["title1"]) and "biases" not in titles["title1"], titles
    assert re.search(r"biases frozen", titles["title2"]) and "weights" not in titles["title2"], titles


def test_the_docstring_documents_each_keyword_and_says_what_the_key_says():
    doc = viz.draw_network.__doc__ or ""
    assert "``precision``" in doc and "``max_neurons``" in doc
    assert "≥ 0" in doc and "≥ 0" in _key(viz.draw_network(nn.MLP([2, 3, 1], rng=0)))
