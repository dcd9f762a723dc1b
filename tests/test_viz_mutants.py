"""Edges found by mutation testing of ``viz.py`` (second pass): each test pins a behaviour that a hand-made mutant
(a flipped comparison, a dropped check, an off-by-one, a wrong label, colour, default or message, a dropped escape)
changed while the other tests passed.

111 mutants of ``tinygrad_edu/viz.py``; 82 killed before these tests, 107 after.  No defect found.  (Screened
with tests/test_viz.py, test_viz_edges.py, test_dependency_tree.py, test_display.py, test_player.py (its Chromium tests
deselected), test_player_mutants.py and test_drawing_steps_edges.py; 11 of the survivors were also run against
test_public_names, test_api_misuse, test_cli, test_readme, test_calculus and test_layering, which killed one:
``__dir__`` listing ``globals()``.)

Equivalent mutants, left without a test:

- ``_text`` escaping with ``quote=False``: quotes are plain text inside Graphviz's HTML-like labels; the SVG is the
  same byte for byte.
- ``_layer_clusters`` putting a parameter already in an earlier box into a later one too (``members =
  list(params)``, e.g. a weight tied across two layers): Graphviz keeps a node in the first cluster that declares it
  and drops it from the later cluster's rank group; the SVG is the same byte for byte.
- ``draw_network`` with ``or 0.5`` instead of ``or 1.0`` for the largest |w|: it is used only when every weight is 0,
  and 0 divided by either is 0.
- ``draw_network`` taking ``layers[-1]``'s activation for column 0 too: the input column's title never shows one.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from helpers_drawings import bold_text, dot_clusters, dot_edges, dot_json, dot_nodes

from tinygrad_edu import Value, nn
from tinygrad_edu.losses import squared_error
from tinygrad_edu.viz import (
    COLORS,
    backprop_player,
    dependency_tree,
    draw_dependency_tree,
    draw_graph,
    draw_network,
    render,
    tree_drawing,
)

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


# --------------------------------------------------------------------------------------------------- inline display


def test_the_inline_advice_without_dot_is_escaped_in_html(tmp_path, monkeypatch):
    """The advice names ``render(<the drawing>, "graph.dot")``: as HTML the brackets must be entities, or the
    browser takes ``<the drawing>`` for a tag and shows ``render(, "graph.dot")``."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    bundle = draw_graph(Value(2.0, label="x") * 3.0)._repr_mimebundle_()
    assert "render(<the drawing>, " in bundle["text/plain"]
    assert "render(&lt;the drawing&gt;, " in bundle["text/html"] and "<the drawing>" not in bundle["text/html"]


# -------------------------------------------------------------------------------------------------------- operations


def test_an_operation_over_all_axes_is_named_without_axis_none():
    """``x.sum()`` records axis=None: the oval says ``sum``, as it was called, not ``sum(axis=None)``."""
    x = Value(np.ones((2, 3)), label="x")
    ovals = sorted(n["label"] for n in dot_nodes(draw_graph(x.sum() + x.mean())).values() if n.get("shape") == "oval")
    assert ovals == ["add", "mean", "sum"]


def test_a_long_operation_is_cut_to_forty_characters_and_ovals_are_white():
    """An operation's oval is cut shorter than a Value's box (40 characters against 60): a reshape to ten axes,
    ``reshape(shape=(2, 3, 4, 5, 1, 1, 1, 1, 1, 1))`` (45 characters), is shown as its first 39 and "…"; the
    ovals are filled with COLORS["op"]."""
    x = Value(np.ones(120), label="x")
    (oval,) = [n for n in dot_nodes(draw_graph(x.reshape((2, 3, 4, 5, 1, 1, 1, 1, 1, 1)))).values()
               if n.get("shape") == "oval"]
    assert oval["label"] == "reshape(shape=(2, 3, 4, 5, 1, 1, 1, 1, " + "…"
    assert len(oval["label"]) == 40 and oval["fillcolor"] == COLORS["op"]


# ------------------------------------------------------------------------------------------------------ graph layout


def test_draw_graph_takes_bottom_to_top():
    """'BT' is one of the four rankdirs the message offers, and it reaches Graphviz: the output is drawn at the
    top, its operation below it (Graphviz's y grows upwards)."""
    w = Value(0.5, label="w")
    out = w * 2.0
    out.label = "out"
    graph = draw_graph(out, rankdir="BT")
    assert dot_json(graph)["rankdir"] == "BT"
    nodes = {bold_text(n.get("label")) or name: n for name, n in dot_nodes(graph).items()}
    assert float(nodes["out"]["pos"].split(",")[1]) > float(nodes["w"]["pos"].split(",")[1])


def test_the_colour_key_is_under_the_graph():
    """The key (green: parameter · …) is written below the drawing, not above the output."""
    graph = draw_graph(Value(0.5, label="w") * 2.0)
    data = dot_json(graph)
    assert data["label"].strip().startswith("green: parameter")
    key_y = float(data["lp"].split(",")[1])
    assert all(key_y < float(n["pos"].split(",")[1]) for n in dot_nodes(graph).values())


def test_a_layer_name_with_markup_characters_is_shown_as_written():
    """A Layer named ``<in & out>`` titles its box with those characters (escaped for Graphviz's HTML labels, which
    would otherwise refuse the source)."""
    net = nn.Network(nn.Layer(2, 1, name="<in & out>", rng=0))
    cost = squared_error(net(np.array([0.5, -1.0])), np.array([0.25]))
    assert list(dot_clusters(draw_graph(cost, model=net))) == ["&lt;in &amp; out&gt;"]  # json0 keeps the entities


# ------------------------------------------------------------------------------------------------------- value boxes


def test_an_empty_label_gives_way_to_a_name_from_names():
    """An empty label is no label (docstring: the label, else the name in ``names``): the given name is shown."""
    x = Value(2.0, label="")
    names = {bold_text(n.get("label")) for n in dot_nodes(draw_graph(x * 3.0, names={"x": x})).values()}
    assert "x" in names


def test_a_one_element_vector_still_shows_its_shape():
    """Shape (1,) is a tensor, not a number: its box says ``shape (1,)``; the 0-d sum says no shape."""
    v = Value(np.array([4.0]), label="v")
    labels = {bold_text(n.get("label")): n["label"] for n in dot_nodes(draw_graph(v.sum())).values()}
    assert "shape (1,)" in labels["v"]
    assert "shape" not in labels[None]


def _times_two_thirds():
    """C = a·b with a = 0.3 and b = 2/3: ∂C/∂a = b = 0.666…, ∂C/∂b = a = 0.3."""
    a, b = Value(0.3, label="a"), Value(2 / 3, label="b")
    cost = a * b
    cost.label = "C"
    return cost


def test_draw_graph_writes_gradients_at_the_precision_asked():
    """With precision=2, a's grad 2/3 is written 0.67 (not the default's 0.6667), like b's data."""
    cost = _times_two_thirds()
    cost.backward()
    labels = {bold_text(n.get("label")): n["label"] for n in dot_nodes(draw_graph(cost, precision=2)).values()}
    assert "grad 0.67<" in labels["a"] and "data 0.67<" in labels["b"]


def test_a_leaf_drawn_alone_is_the_gold_output():
    """The output is gold even when it is a parameter with no operation behind it."""
    (node,) = dot_nodes(draw_graph(Value(0.5, label="w"))).values()
    assert node["fillcolor"] == COLORS["output"]


# ------------------------------------------------------------------------------------------------------------ render


def test_render_reads_an_upper_case_suffix(tmp_path):
    """``G.SVG`` is an SVG file like ``g.svg``: the suffix is read whatever its case."""
    path = render(draw_graph(Value(0.5, label="w") * 2.0), tmp_path / "G.SVG")
    assert path.read_bytes().lstrip().startswith(b"<?xml") and b"<svg" in path.read_bytes()


# --------------------------------------------------------------------------------------------------- dependency tree


def _one_neuron():
    """C = (σ(w·x + b) − y)², one sigmoid neuron of nn.Layer with x = 0.8 and the target y = 0.3 constant."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0))
    y = Value(np.array([0.3]), requires_grad=False, label="y")
    cost = ((net(np.array([0.8])) - y) ** 2).sum()
    cost.label = "C"
    return cost


def _by_name(graph) -> dict[str, dict]:
    """A tree drawing's nodes by their bold name."""
    return {bold_text(n["label"]): n for n in dot_nodes(graph).values()}


def test_a_tree_arrow_points_from_each_node_to_the_one_that_uses_it():
    """The seed's ``C ← α¹ ← z¹``: C is drawn above α¹, above z¹ (Graphviz's y grows upwards), and each edge's
    arrowhead is at the top end, the node that uses the one below."""
    graph = draw_dependency_tree(_one_neuron())
    nodes = _by_name(graph)
    heights = [float(nodes[name]["pos"].split(",")[1]) for name in ("C", "α¹", "z¹", "W¹")]
    assert heights == sorted(heights, reverse=True)
    names = {name: bold_text(n["label"]) for name, n in dot_nodes(graph).items()}
    pairs = {(names[tail], names[head]): e for tail, head, e in dot_edges(graph)}
    assert ("C", "α¹") in pairs and ("α¹", "z¹") in pairs
    assert all(e.get("dir") == "back" for e in pairs.values())  # arrowhead at the tail: the upper node


def test_a_constant_in_the_tree_shows_no_gradient_line():
    """The target y needs no gradient: its box has its value but no ``∂C/∂y`` line; W¹'s box has ``∂C/∂W¹``."""
    nodes = _by_name(draw_dependency_tree(_one_neuron()))
    assert "= 0.3" in nodes["y"]["label"] and "∂" not in nodes["y"]["label"]
    assert "∂C/∂W¹ = " in nodes["W¹"]["label"]


def test_a_tree_drawn_without_chains_has_no_chain_lines():
    """``chains=False`` leaves out the ``chain: …`` lines that the default drawing shows under W¹."""
    tree = dependency_tree(_one_neuron())
    with_chains, without = _by_name(tree_drawing(tree)), _by_name(tree_drawing(tree, chains=False))
    assert "chain: " in with_chains["W¹"]["label"]
    assert not [n for n in without.values() if "chain: " in n["label"]]


def test_a_trees_edge_numbers_have_the_precision_asked():
    """The tree's edge ∂C/∂a = b = 2/3 is written ``= 0.67`` with precision=2."""
    (label,) = [e["label"] for _, _, e in dot_edges(draw_dependency_tree(_times_two_thirds(), precision=2))
                if "<TD>∂C/∂a" in e["label"]]  # (the label's lines in a padded cell)
    assert "<BR/>= 0.67<BR/>" in label


def test_a_trees_bias_is_green_like_a_weight_and_z_is_not_coloured_as_alpha():
    """Weights and biases are both parameters (COLORS' green); z¹ has a colour of its own, apart from α¹'s."""
    nodes = _by_name(draw_dependency_tree(_one_neuron()))
    assert nodes["b¹"]["fillcolor"] == nodes["W¹"]["fillcolor"] == COLORS["parameter"]
    assert nodes["z¹"]["fillcolor"] not in (nodes["α¹"]["fillcolor"], COLORS["parameter"], COLORS["output"])


# --------------------------------------------------------------------------------------------------- backprop player


def _svg_bold(svg: str) -> list[str]:
    """The bold texts of a drawing's SVG: the names in its boxes."""
    return re.findall(r'font-weight="bold"[^>]*>([^<]*)<', svg)


def test_the_player_refuses_a_cost_that_needs_no_gradient():
    """A single number computed from constants only has nothing to backpropagate: refused, saying so."""
    with pytest.raises(ValueError, match=r"^backprop_player: expected a cost.* without a gradient$"):
        backprop_player(Value(2.0, requires_grad=False) * 3.0)


def test_auto_takes_the_tree_for_a_layer_with_only_z_labelled():
    """A hand-made z¹ = W¹·x + b¹ with no α¹ is still a network's layer (a pre-activation): "auto" draws the
    dependency tree, not the computation graph."""
    x = Value(0.8, requires_grad=False, label="x")
    w, b = Value(0.5, label="W^1"), Value(0.1, label="b^1")
    z = w * x + b
    z.label = "z^1"
    cost = (z - 0.3) ** 2
    cost.label = "C"
    svg = backprop_player(cost).drawing_svg
    assert "<title>dependency_tree</title>" in svg and "<title>computation_graph</title>" not in svg


def test_the_players_tree_leaves_the_chain_lines_to_its_steps():
    """The drawn tree of the player has no ``chain: …`` lines (its steps show the chain rule), where
    draw_dependency_tree of the same cost has one under W¹."""
    assert "chain: " in _by_name(draw_dependency_tree(_one_neuron()))["W¹"]["label"]
    svg = backprop_player(_one_neuron()).drawing_svg
    assert "<title>dependency_tree</title>" in svg and "chain:" not in svg


def test_the_player_refuses_an_empty_layout():
    """Only 'auto', 'graph' and 'tree' are layouts; an empty string is refused like any other."""
    with pytest.raises(ValueError, match=r"^backprop_player: layout must be 'auto', 'graph' or 'tree', got ''$"):
        backprop_player(_one_neuron(), layout="")


def test_the_players_tree_has_the_precision_asked():
    """precision=2 reaches the player's tree drawing too: ∂C/∂a = 2/3 is drawn ``= 0.67``, not ``= 0.6667``."""
    svg = backprop_player(_times_two_thirds(), layout="tree", precision=2).drawing_svg
    assert "= 0.67<" in svg and "0.6667" not in svg


def test_a_constant_named_in_names_keeps_its_name_in_the_players_graph():
    """Unnamed constants are shown by their number, but one the caller named in ``names`` is drawn with that name."""
    k = Value(3.0, requires_grad=False)
    cost = Value(0.5, label="w") * k
    assert "k" in _svg_bold(backprop_player(cost, layout="graph", names={"k": k}).drawing_svg)


def test_the_player_without_dot_says_the_graph_cannot_be_drawn(tmp_path, monkeypatch):
    """Without dot the player keeps its steps and explains; its page offers no ``render(<the drawing>, …)``, which
    is advice for a drawing in a notebook, not for the player."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    player = backprop_player(Value(0.5, label="w") * 3.0, layout="graph")
    assert player.drawing_svg is None and len(player.steps) > 0
    assert "so the graph cannot be drawn here" in player.missing_drawing
    assert "apt-get install graphviz" in player.missing_drawing and "render(" not in player.missing_drawing


# ------------------------------------------------------------------------------------------------- network diagram


def test_a_network_diagram_needs_room_for_first_last_and_the_ellipsis():
    """max_neurons below 3 leaves no room for a first neuron, "…" and a last one: refused by name."""
    with pytest.raises(ValueError, match="max_neurons"):
        draw_network(nn.MLP([2, 1], rng=0), max_neurons=2)
    assert draw_network(nn.MLP([2, 5, 1], rng=0), max_neurons=3) is not None


def test_a_network_diagram_shows_twelve_neurons_a_layer_by_default():
    """max_neurons defaults to 12: a hidden layer of 12 is drawn whole, one of 13 with "…"."""
    twelve = dot_nodes(draw_network(nn.MLP([2, 12, 1], rng=0)))
    thirteen = dot_nodes(draw_network(nn.MLP([2, 13, 1], rng=0)))
    assert "L1_11" in twelve and "L1_more" not in twelve
    assert "L1_more" in thirteen


def test_network_circles_are_never_smaller_than_seven_tenths_of_an_inch():
    """Short labels (``b=0.5``, ``α¹₀``) need only about 0.52 inch (5 characters · 0.6 em · 9 pt = 0.375 inch wide,
    two 1.2-line rows = 0.27 inch tall: hypot 0.46, plus 0.06); the circles keep the documented least 0.7."""
    layer = nn.Layer(1, 1, rng=0)
    layer.biases.data[:] = 0.5
    circles = [n for n in dot_nodes(draw_network(layer, precision=1)).values() if n.get("shape") == "circle"]
    assert len(circles) == 2 and all(float(n["width"]) == pytest.approx(0.7, abs=0.01) for n in circles)


def test_a_network_with_a_nan_bias_is_refused():
    """A NaN bias (a diverged training) is refused like a NaN weight: the drawing would show ``b=nan``."""
    layer = nn.Layer(1, 2, rng=0)
    layer.biases.data[:] = [0.5, np.nan]
    with pytest.raises(ValueError, match="draw_network: layer 1 holds NaN or infinite weights or biases"):
        draw_network(layer)
