"""tinygrad_edu.viz: pictures rendered by the real Graphviz ``dot`` and read back from the SVG."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.dependency_tree import network_input
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.viz import (
    COLORS,
    GraphvizNotFoundError,
    backprop_player,
    dependency_tree,
    draw_dependency_tree,
    draw_graph,
    draw_network,
    render,
    tree_drawing,
)

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _svg(graph: graphviz.Digraph, tmp_path, name: str = "graph.svg") -> ET.Element:
    path = render(graph, tmp_path / name)
    assert path == tmp_path / name
    return ET.parse(path).getroot()  # parses only if the SVG is well-formed


def _groups(root: ET.Element, kind: str) -> dict[str, list[str]]:
    """title → the texts of each <g class=kind> (node, edge or cluster)."""
    found = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == kind:
            title = g.find(f"{SVG}title").text
            found[title] = [t.text for t in g.iter(f"{SVG}text") if t.text is not None]
    return found


def _fill(root: ET.Element, title: str) -> str:
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node" and g.find(f"{SVG}title").text == title:
            return g.find(f"{SVG}polygon").get("fill")
    raise AssertionError(f"no node {title}")


def _node_by_name(nodes: dict[str, list[str]], name: str) -> tuple[str, list[str]]:
    matches = [(title, texts) for title, texts in nodes.items() if texts and texts[0] == name]
    assert len(matches) == 1, (name, nodes)
    return matches[0]


def _where(root: ET.Element, name: str) -> tuple[float, float]:
    """(x, y) of the first text of the node whose first text is ``name`` (y grows downwards)."""
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            text = g.find(f"{SVG}text")
            if text is not None and text.text == name:
                return float(text.get("x")), float(text.get("y"))
    raise AssertionError(name)


def _cluster_boxes(root: ET.Element) -> dict[str, tuple[str, float, float, float, float]]:
    """label → (title, left, right, top, bottom) of each cluster's outline (y grows downwards)."""
    boxes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "cluster":
            outline = next(e for e in g if e.tag in (f"{SVG}polygon", f"{SVG}path"))
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", outline.get("points") or outline.get("d"))]
            xs, ys = numbers[0::2], numbers[1::2]
            label = [t.text for t in g.iter(f"{SVG}text")][0]
            boxes[label] = (g.find(f"{SVG}title").text, min(xs), max(xs), min(ys), max(ys))
    return boxes


def _scale(root: ET.Element) -> float:
    """How much Graphviz shrank the drawing to fit its ``size``: a font-size of 11 shows at 11 × this points."""
    return float(re.search(r"scale\(([\d.]+)", root.find(f"{SVG}g").get("transform")).group(1))


def _number_after(prefix: str, texts: list[str]) -> float:
    for text in texts:
        if text.startswith(prefix):
            return float(text[len(prefix):].replace("−", "-"))
    raise AssertionError(f"no text starting with {prefix!r} in {texts}")


# --- draw_graph --------------------------------------------------------------------------------------------------
@needs_dot
def test_graph_svg_shows_labels_data_grads_and_colours(tmp_path):
    w, b = Value(0.7, label="w"), Value(0.3, label="b")
    x = Value(2.0, requires_grad=False, label="x")
    cost = (w * x + b - 1.0) ** 2
    cost.label = "C"
    cost.backward()
    root = _svg(draw_graph(cost), tmp_path)
    nodes = _groups(root, "node")
    residual = 0.7 * 2.0 + 0.3 - 1.0  # closed forms: C = r², ∂C/∂w = 2r·x, ∂C/∂b = 2r
    title_w, texts_w = _node_by_name(nodes, "w")
    assert _number_after("data ", texts_w) == pytest.approx(0.7)
    assert _number_after("grad ", texts_w) == pytest.approx(2 * residual * 2.0, rel=1e-3)
    title_b, texts_b = _node_by_name(nodes, "b")
    assert _number_after("grad ", texts_b) == pytest.approx(2 * residual, rel=1e-3)
    title_c, texts_c = _node_by_name(nodes, "C")
    assert _number_after("data ", texts_c) == pytest.approx(residual**2, rel=1e-3)
    title_x, texts_x = _node_by_name(nodes, "x")
    assert "grad –" in texts_x  # constants get no gradient
    assert _fill(root, title_w) == COLORS["parameter"]
    assert _fill(root, title_x) == COLORS["constant"]
    assert _fill(root, title_c) == COLORS["output"]
    ops = sorted(texts[0] for texts in nodes.values() if texts and texts[0] in ("mul", "add", "sub", "pow"))
    assert ops == ["add", "mul", "pow", "sub"]  # one node per operation
    intermediate = [t for t, texts in nodes.items() if texts and texts[0].startswith("data ")]
    assert intermediate and all(_fill(root, t) in (COLORS["intermediate"], COLORS["constant"])
                                for t in intermediate)
    assert not _groups(root, "cluster")  # no layer labels, no layer boxes


def test_graph_names_label_unlabelled_values_and_tensors_are_summarised():
    weights = Value(np.arange(6.0).reshape(2, 3))
    hidden = weights * 2.0
    out = hidden.sum()
    out.backward()
    source = draw_graph(out, names={"weights": weights, "hidden": hidden, "_private": out, "number": 3}).source
    assert "<B>weights</B>" in source and "<B>hidden</B>" in source and "_private" not in source
    assert "shape (2, 3)" in source
    assert "min 0 · mean 2.5 · max 5" in source  # data of weights
    assert "min 2 · mean 2 · max 2" in source  # its gradient: ∂(Σ 2w)/∂w = 2


def test_show_data_and_grad_switches():
    x = Value(1.25, label="x")
    y = x * 3.0
    y.backward()
    source = draw_graph(y, show_data=False, show_grad=False).source
    assert "data " not in source and "grad " not in source and "<B>x</B>" in source
    assert "data 1.25" in draw_graph(y).source
    assert draw_graph(y).source == draw_graph(y).source  # deterministic


@needs_dot
def test_hostile_labels_render(tmp_path):
    hostile = 'a"b<c>|{d}\\e & f\n]\x01 \\l'
    x = Value(1.0, label=hostile)
    y = x * Value(2.0, label="<<>>{|}")
    y.label = "'\"&amp;"
    y.backward()
    root = _svg(draw_graph(y), tmp_path)
    texts = [" ".join(t.split()) for texts in _groups(root, "node").values() for t in texts]
    assert 'a"b<c>|{d}\\e & f ] \\l' in texts  # control characters and newlines become spaces
    assert "<<>>{|}" in texts and "'\"&amp;" in texts


@needs_dot
def test_a_label_that_reverses_text_cannot_turn_a_number_around(tmp_path):
    """U+202E (right-to-left override) in a label made "∂C/∂w = 22.5" read "∂C/∂w5.22 =" in the drawings."""
    w = Value(1.25, label="w\u202e")
    cost = (w * 3.0) ** 2  # ∂C/∂w = 2·3.75·3 = 22.5
    cost.backward()
    for drawing in (draw_dependency_tree(cost), draw_graph(cost)):
        root = _svg(drawing, tmp_path)
        texts = [t for texts in _groups(root, "node").values() for t in texts]
        assert not [t for t in texts if re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f]", t)], texts
    assert "∂C/∂w  = 22.5" in texts or "grad 22.5" in texts


@needs_dot
def test_an_empty_label_is_drawn_as_no_label(tmp_path):
    """Graphviz refused the empty bold name row of label="" with a syntax error."""
    x = Value(2.0, label="")
    y = x * 3.0
    y.backward()
    _, texts = _node_by_name(_groups(_svg(draw_graph(y), tmp_path), "node"), "data 2")  # no name row
    assert texts == ["data 2", "grad 3"]
    _, texts = _node_by_name(_groups(_svg(draw_graph(y, names={"x": x}), tmp_path), "node"), "x")  # a given name
    assert texts == ["x", "data 2", "grad 3"]


@needs_dot
def test_layer_clusters_are_named_and_hold_their_values(tmp_path):
    net = nn.MLP([2, 3, 1], rng=0)
    x = Value(np.array([[0.5, -1.0]]), requires_grad=False, label="x")
    cost = ((net(x) - 1.0) ** 2).mean()
    cost.backward()
    for model in (None, net):
        root = _svg(draw_graph(cost, model=model), tmp_path)
        clusters = _cluster_boxes(root)
        assert sorted(clusters) == ["layer 1", "layer 2"]
        assert all(title.startswith("cluster_") for title, *_ in clusters.values())

        def inside(name, layer, clusters=clusters, root=root):
            px, py = _where(root, name)
            _, x0, x1, y0, y1 = clusters[layer]
            return x0 <= px <= x1 and y0 <= py <= y1

        # labels W^1, α^1 … are drawn with the seed's superscripts
        for name, layer in [("W¹", "layer 1"), ("b¹", "layer 1"), ("z¹", "layer 1"), ("α¹", "layer 1"),
                            ("W²", "layer 2"), ("z²", "layer 2"), ("α²", "layer 2")]:
            assert inside(name, layer), (name, layer)
        assert not inside("α¹", "layer 2") and not inside("x", "layer 1") and not inside("x", "layer 2")


@needs_dot
@pytest.mark.parametrize("hidden", [2, 4])
def test_layer_boxes_of_deeper_networks_stack_with_readable_text(tmp_path, hidden):
    """A 1-12-…-12-1 network like the demo's x² network, drawn at the default 9 inches: each layer's box lies
    under the one before, in the same column, the chain α⁰ → α¹ → … runs straight down, and 11 pt text stays at
    least 8 pt.  Each W^i was ranked beside α^(i−1) at the bottom of the box before, which pushed each box to the
    right of the one before: a staircase shrunk to 4.2 pt text with two hidden layers and 2.2 pt with four."""
    net = nn.MLP([1] + [12] * hidden + [1], activation="leaky_relu", output_activation="identity", rng=0)
    cost = squared_error(net(np.linspace(-1.0, 1.0, 5).reshape(5, 1)), np.zeros((5, 1)))
    cost.backward()
    for model in (None, net):
        root = _svg(draw_graph(cost, model=model), tmp_path)
        assert float(root.get("width").removesuffix("pt")) <= 9 * 72 and 11 * _scale(root) >= 8
        boxes = _cluster_boxes(root)
        layers = [boxes[f"layer {i}"] for i in range(1, hidden + 2)]
        for (_, left, right, _, bottom), (_, next_left, next_right, next_top, _) in zip(layers, layers[1:]):
            assert bottom <= next_top and left < next_right and next_left < right
        chain = [_where(root, "α" + "⁰¹²³⁴⁵"[i]) for i in range(hidden + 2)]
        assert all(y < next_y for (_, y), (_, next_y) in zip(chain, chain[1:]))
        assert max(x for x, _ in chain) - min(x for x, _ in chain) < 1


def test_standalone_layer_gets_one_box():
    layer = nn.Layer(3, 2, rng=1)
    out = layer(np.ones(3)).sum()
    source = draw_graph(out).source
    assert source.count("subgraph cluster_") == 1 and "<B>layer</B>" in source


def test_large_graph_is_truncated_with_a_note():
    x = Value(1.0, label="x")
    y = x
    steps = 100_000
    for _ in range(steps):
        y = y + 1.0  # each step adds the result and a constant
    graph = draw_graph(y, max_nodes=200)
    total = 2 * steps + 1
    assert f"… {total - 200:,} more Values left out" in graph.source
    assert len(re.findall(r"^\s*v\d+ \[", graph.source, flags=re.M)) == 200
    assert 'truncated -> op' in graph.source  # the cut inputs point at the note
    y.backward()  # the engine agrees the chain is that long: dy/dx = 1
    assert x.grad == 1.0


def test_graph_bad_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match="draw_graph: expected a Value"):
        draw_graph(3.0)
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(x, max_nodes=0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(x, rankdir="sideways")


# --- render ------------------------------------------------------------------------------------------------------
def test_render_dot_source_and_bad_suffix(tmp_path):
    graph = draw_graph(Value(2.0, label="two") * 3.0)
    written = render(graph, tmp_path / "sub" / "g.dot")
    assert written.read_text(encoding="utf-8") == graph.source
    with pytest.raises(ValueError, match=r"render: .*\.svg, \.png, \.pdf, or \.dot or \.gv"):
        render(graph, tmp_path / "g.jpeg2000")
    with pytest.raises(TypeError, match="render"):
        render("digraph {}", tmp_path / "g.svg")


def test_missing_dot_writes_source_and_explains(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    graph = draw_graph(Value(2.0, label="two") * 3.0)
    with pytest.raises(GraphvizNotFoundError) as info:
        render(graph, tmp_path / "out" / "g.svg")
    assert isinstance(info.value, RuntimeError)
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz",
                 f"dot -Tsvg {tmp_path / 'out' / 'g.dot'} -o {tmp_path / 'out' / 'g.svg'}"):
        assert hint in message
    assert (tmp_path / "out" / "g.dot").read_text(encoding="utf-8") == graph.source
    assert not (tmp_path / "out" / "g.svg").exists()


@needs_dot
def test_render_png_and_pdf(tmp_path):
    graph = draw_graph(Value(2.0, label="two") * 3.0)
    assert render(graph, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(graph, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


# --- the dependency tree -------------------------------------------------------------------------------------
def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _chain_network(layers: int = 3, x: float = 0.8, target: float = 0.3):
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    y = Value(np.array([target]), requires_grad=False, label="y")
    cost = ((net(np.array([x])) - y) ** 2).sum()
    cost.label = "C"
    return net, cost


def _closed_form(net, x: float, target: float):
    """Forward pass by hand (plain floats) and the seed's local derivatives, independent of the engine."""
    alphas, zs = [x], []
    for layer in net.layers:
        zs.append(float(layer.weights.data[0, 0]) * alphas[-1] + float(layer.biases.data[0]))
        alphas.append(_sigmoid(zs[-1]))
    local = {("C", f"α^{len(net.layers)}"): 2 * (alphas[-1] - target)}
    for i, layer in enumerate(net.layers, start=1):
        s = alphas[i]
        local[(f"α^{i}", f"z^{i}")] = s * (1 - s)  # σ'(z) = σ(z)(1 − σ(z))
        local[(f"z^{i}", f"W^{i}")] = alphas[i - 1]
        local[(f"z^{i}", f"b^{i}")] = 1.0
        local[(f"z^{i}", f"α^{i - 1}")] = float(layer.weights.data[0, 0])
    return alphas, local


def test_tree_numbers_are_the_seeds_derivatives():
    net, cost = _chain_network()
    cost.backward()
    tree = dependency_tree(cost)
    alphas, local = _closed_form(net, 0.8, 0.3)
    edges = {(e.child, e.parent): e for e in tree.edges}
    for key, number in local.items():
        assert edges[key].number == pytest.approx(number, rel=1e-12), key
    assert edges[("C", "y")].number == pytest.approx(-2 * (alphas[-1] - 0.3), rel=1e-12)
    assert edges[("C", "α^3")].formula == "2(α³ − y)"
    assert edges[("α^3", "z^3")].formula == "σ′(z³)"
    assert edges[("z^3", "W^3")].formula == "α²"
    assert edges[("z^3", "b^3")].formula == "1"
    assert edges[("z^3", "α^2")].formula == "W³"
    assert tree.nodes["α^3"].data == pytest.approx(alphas[-1], rel=1e-12)
    # ∂C/∂W³ = ∂z³/∂W³ · ∂α³/∂z³ · ∂C/∂α³, and the chain through every layer, equal the engine's .grad
    assert [e.symbol for e in tree.path("W^3")] == ["∂z³/∂W³", "∂α³/∂z³", "∂C/∂α³"]
    for layer in net.layers:
        for p in (layer.weights, layer.biases):
            product = math.prod(e.number for e in tree.path(p.label))
            assert product == pytest.approx(float(p.grad.item()), rel=1e-12)
            assert tree.chain_rule(p.label) == pytest.approx(product, rel=1e-12)


def test_the_cost_edge_of_the_library_squared_error_has_its_formula():
    # losses.squared_error squares as d * d, not d ** 2: the tree must still name ∂C/∂α^L = 2(α^L − y)
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    y = Value(np.array([0.3]), requires_grad=False, label="y")
    cost = squared_error(net(np.array([0.8])), y)
    cost.label = "C"
    edge = next(e for e in dependency_tree(cost).edges if (e.child, e.parent) == ("C", "α^2"))
    alphas, _ = _closed_form(net, 0.8, 0.3)
    assert edge.formula == "2(α² − y)"
    assert edge.number == pytest.approx(2 * (alphas[-1] - 0.3), rel=1e-12)


def test_grad_of_the_tree_matches_finite_differences():
    net, cost = _chain_network(layers=2, x=-0.4, target=0.9)
    tree = dependency_tree(cost)  # calls backward itself
    w = net.layers[0].weights
    h = 1e-6

    def cost_at(value):
        saved = w.data.copy()
        w.data = np.array([[value]])
        c = float(((net(np.array([-0.4])) - 0.9) ** 2).sum().item())
        w.data = saved
        return c

    centre = float(w.data[0, 0])
    numeric = (cost_at(centre + h) - cost_at(centre - h)) / (2 * h)
    assert tree.chain_rule("W^1") == pytest.approx(numeric, rel=1e-6)


@needs_dot
def test_tree_svg_edge_labels_equal_engine_numbers_and_multiply_to_grad(tmp_path):
    net, cost = _chain_network()
    cost.backward()
    root = _svg(draw_dependency_tree(cost), tmp_path)
    _, local = _closed_form(net, 0.8, 0.3)
    nodes = _groups(root, "node")
    names = {title: texts[0] for title, texts in nodes.items()}
    shown = {}
    for title, texts in _groups(root, "edge").items():
        child, parent = (names[t] for t in title.split("->"))
        pretty = {"C": "C"}
        symbol, number = texts[0], texts[1]
        assert number.startswith("= ")
        shown[(child, parent)] = float(number[2:].replace("−", "-"))
        pretty = symbol.split(" = ")[0]
        assert pretty.startswith(f"∂{child}/∂{parent}")
    superscript = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
    for (child, parent), number in local.items():
        key = (child.replace("^", "").translate(superscript), parent.replace("^", "").translate(superscript))
        assert shown[key] == pytest.approx(number, rel=5e-4), key  # 4 significant digits on the picture
    path = shown[("C", "α³")] * shown[("α³", "z³")] * shown[("z³", "W³")]
    grad = float(net.layers[2].weights.grad.item())
    assert path == pytest.approx(grad, rel=2e-3)
    _, texts = _node_by_name(nodes, "W³")
    assert _number_after("∂C/∂W³ = ", texts) == pytest.approx(grad, rel=5e-4)
    chain = [t for t in texts if t.startswith("chain: ")][0]
    assert float(chain.rsplit("= ", 1)[1]) == pytest.approx(grad, rel=5e-4)


def test_tree_of_a_hand_built_scalar_graph():
    x = Value(0.5, requires_grad=False, label="α^0")
    w1, b1 = Value(-1.2, label="w^1"), Value(0.4, label="b^1")
    z1 = w1 * x + b1
    z1.label = "z^1"
    a1 = z1.tanh()
    a1.label = "α^1"
    cost = (a1 - 0.25) ** 2
    cost.backward()
    tree = dependency_tree(cost)
    edges = {(e.child, e.parent): e for e in tree.edges}
    a = math.tanh(-1.2 * 0.5 + 0.4)
    assert edges[("C", "α^1")].number == pytest.approx(2 * (a - 0.25), rel=1e-12)
    assert edges[("C", "α^1")].formula == "2(α¹ − 0.25)"
    assert edges[("α^1", "z^1")].number == pytest.approx(1 - a * a, rel=1e-12)
    assert edges[("α^1", "z^1")].formula == "1 − tanh²(z¹)"
    assert edges[("z^1", "w^1")].number == pytest.approx(0.5) and edges[("z^1", "w^1")].formula == "α⁰"
    assert edges[("z^1", "α^0")].number == pytest.approx(-1.2) and edges[("z^1", "α^0")].formula == "w¹"
    assert tree.chain_rule("w^1") == pytest.approx(float(w1.grad), rel=1e-12)
    assert "∂z¹/∂w¹ = α⁰" in draw_dependency_tree(cost).source


def test_unlabelled_input_of_the_first_layer_is_alpha_0():
    net, cost = _chain_network(layers=1)
    tree = dependency_tree(cost)
    assert tree.nodes["α^0"].data == pytest.approx(0.8) and tree.nodes["α^0"].kind == "input"
    assert {e.parent for e in tree.edges if e.child == "z^1"} == {"W^1", "b^1", "α^0"}


@needs_dot
def test_alpha_0_is_the_input_under_z_1_not_a_constant_times_the_weights_elsewhere(tmp_path):
    net = nn.MLP([2, 3, 1], rng=0)
    w1 = net.layers[0].weights
    cost = squared_error(net(np.array([[0.5, -1.0]])), np.array([[0.25]])) + (0.01 * w1 * w1).sum()
    cost.backward()
    kept, _ = nearest_values(cost, 150)
    (x,) = [n for n in kept if n.op is None and n.shape == (1, 2)]
    assert network_input(kept) is x
    _, texts = _node_by_name(_groups(_svg(draw_graph(cost), tmp_path), "node"), "α⁰")
    assert "data min -1 · mean -0.25 · max 0.5" in texts
    forward = " ".join(s.html for s in backprop_player(cost).steps if s.phase == "forward")
    assert "α⁰ @ W¹" in forward and "0.01 · W¹" in forward and "α⁰ · W¹" not in forward


def test_tree_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="one neuron per layer"):
        net = nn.MLP([1, 3, 1], rng=0)
        dependency_tree(((net(np.array([0.5])) - 1.0) ** 2).sum())
    with pytest.raises(ValueError, match="no labelled Values"):
        dependency_tree((Value(2.0) * 3.0) ** 2)
    layer = nn.Layer(1, 1, rng=0)
    twice = (layer(np.array([0.1])) + layer(np.array([0.2]))).sum()
    with pytest.raises(ValueError, match="two different Values"):
        dependency_tree(twice)
    with pytest.raises(ValueError, match="single number"):
        dependency_tree(Value([1.0, 2.0], label="v") * 2.0)
    with pytest.raises(TypeError, match="expected a Value"):
        dependency_tree(1.0)


def _two_uses(labelled: bool):
    """C = (w·a + tanh w)²: w is used twice; a is a constant.  ``labelled`` names the two uses' results m and t."""
    w, a = Value(0.7, label="w"), Value(2.0, requires_grad=False, label="a")
    m, t = w * a, w.tanh()
    if labelled:
        m.label, t.label = "m", "t"
    cost = (m + t) ** 2
    cost.label = "C"
    return cost


def test_tree_refuses_to_fold_two_uses_of_a_value_into_one_edge():
    with pytest.raises(ValueError, match=r"dependency_tree: 'w' is used by 2 operations .*Label their results"):
        dependency_tree(_two_uses(labelled=False))


@needs_dot
def test_tree_shows_the_sum_over_the_uses_and_no_gradient_edge_to_a_constant(tmp_path):
    tree = dependency_tree(_two_uses(labelled=True))
    assert set(tree.nodes) == {"C", "m", "t", "w"}  # the constant a is folded into ∂m/∂w like a number
    nodes = _groups(_svg(tree_drawing(tree), tmp_path), "node")
    _, texts = _node_by_name(nodes, "w")
    u = 0.7 * 2.0 + math.tanh(0.7)
    through_m, through_t = 2 * u * 2.0, 2 * u * (1 - math.tanh(0.7) ** 2)  # ∂C/∂m·∂m/∂w, ∂C/∂t·∂t/∂w
    chain = [t for t in texts if t.startswith("chain: ")]
    assert len(chain) == 1
    terms, total = chain[0][len("chain: "):].split(" = ")
    products = sorted(math.prod(float(f) for f in term.split("·")) for term in terms.split(" + "))
    assert products == pytest.approx(sorted([through_m, through_t]), rel=2e-3)
    assert float(total) == pytest.approx(through_m + through_t, rel=5e-4)


@needs_dot
def test_tree_has_no_one_factor_chain_and_marks_the_edges_to_constants(tmp_path):
    w, b = Value(0.5, label="w"), Value(0.1, label="b")
    cost = (w * 0.3 + b - 0.2) ** 2
    cost.label = "C"
    nodes = _groups(_svg(draw_dependency_tree(cost), tmp_path), "node")
    assert not [t for t in _node_by_name(nodes, "w")[1] if t.startswith("chain: ")]  # "chain: x = x" says nothing
    _, cost = _chain_network(layers=1)
    root = _svg(draw_dependency_tree(cost), tmp_path, "chain.svg")
    names = {title: texts[0] for title, texts in _groups(root, "node").items()}
    for title, texts in _groups(root, "edge").items():
        child, parent = (names[t] for t in title.split("->"))
        assert (texts[-1] == "(a constant: needs no gradient)") == (parent in ("y", "α⁰")), (child, parent, texts)


@needs_dot
def test_a_tree_of_freely_combined_values_says_which_operations_its_edges_fold(tmp_path):
    """Four labelled Values combined freely, C = tanh(a·b + c)·d, have no z^i, α^i: the tree's edges fold whole
    formulas into one number each, and the drawing says so instead of flattening silently."""
    a, b, c, d = Value(2.0, label="a"), Value(-3.0, label="b"), Value(0.5, label="c"), Value(1.2, label="d")
    cost = (a * b + c).tanh() * d
    tree = dependency_tree(cost)
    assert {e.parent: e.ops for e in tree.edges} == {"a": ("mul", "add", "tanh", "mul"), "b": ("mul", "add", "tanh",
                                                     "mul"), "c": ("add", "tanh", "mul"), "d": ("mul",)}
    root = _svg(draw_dependency_tree(cost), tmp_path)
    names = {title: texts[0] for title, texts in _groups(root, "node").items()}
    edges = {names[title.split("->")[1]]: texts for title, texts in _groups(root, "edge").items()}
    assert edges["c"][2:] == ["through add → tanh", "→ mul"] and edges["d"][2:] == ["through mul"]
    note = " ".join(t.text for t in root.find(f"{SVG}g").findall(f"{SVG}text"))  # the graph's own label
    assert "fold several unlabelled operations" in note and "draw_graph" in note and "u.label" in note
    chain = draw_dependency_tree(_chain_network()[1]).source  # the seed's network: every edge has its formula
    assert "through" not in chain and "unlabelled operations" not in chain


@needs_dot
def test_folded_operations_that_branch_are_not_drawn_as_a_chain_and_runs_are_counted(tmp_path):
    """C = u² + eᵘ + tanh(u − 1) with u = w·a unlabelled: the edge said "through mul → sub → tanh → exp → …", a
    chain that reads as exp(tanh(…)), which the graph does not hold.  A long chain of one operation (a penalty
    summed over many parameters) made an edge label one line per two adds."""
    w, a = Value(0.3, label="w"), Value(0.7, label="a")
    u = w * a
    cost = u * u + u.exp() + (u - 1.0).tanh()
    tree = dependency_tree(cost)
    folded = ("mul", "sub", "tanh", "exp", "mul", "add", "add")
    assert [(e.ops, e.branching) for e in tree.edges] == [(folded, True)] * 2
    edges = _groups(_svg(draw_dependency_tree(cost), tmp_path), "edge")
    assert [texts[2:] for texts in edges.values()] == [["through branches:", "mul, sub, tanh", "exp, mul, add ×2"]] * 2
    b = Value(0.5, label="b")
    chain = b * 1.0
    for _ in range(6):
        chain = chain + 1.0
    top = chain.tanh()
    chained = dependency_tree(top)
    assert chained.edges[0].ops == ("mul",) + ("add",) * 6 + ("tanh",) and not chained.edges[0].branching
    edges = _groups(_svg(draw_dependency_tree(top), tmp_path, "chain.svg"), "edge")
    assert [texts[2:] for texts in edges.values()] == [["through mul → add ×6", "→ tanh"]]


@needs_dot
def test_a_tree_with_nan_gradients_is_drawn_not_blamed_on_other_backward_passes(tmp_path):
    """NaN ≠ NaN: the check that .grad holds only this cost's gradient said "contributions from other backward
    passes" for a cost that is NaN, and nothing was drawn."""
    w, b = Value(np.nan, label="w"), Value(np.inf, label="b")
    cost = (w * b) ** 2
    nodes = _groups(_svg(draw_dependency_tree(cost), tmp_path), "node")
    assert _node_by_name(nodes, "w")[1] == ["w", "= nan", "∂C/∂w = nan"]
    w.grad = np.array(1.0)  # a number where the tree finds NaN is still refused
    with pytest.raises(ValueError, match="w.grad is 1 but the chain rule through this cost gives nan"):
        dependency_tree(cost)


# --- the network diagram ---------------------------------------------------------------------------------------
@needs_dot
def test_network_diagram_columns_colours_widths_and_elision(tmp_path):
    net = nn.MLP([2, 30, 3], init="xavier", rng=3)
    root = _svg(draw_network(net, max_neurons=12), tmp_path)
    nodes = _groups(root, "node")
    neurons = [t for t in nodes if re.fullmatch(r"L\d+_\d+", t)]
    assert len(neurons) == 2 + 11 + 3  # 30 neurons shown as 11 and "⋮ 19 more"
    assert ["⋮ 19", "more"] == nodes["L1_more"]
    hidden = nodes["L1_29"]  # the last neuron survives the elision, with its bias
    assert hidden[0] == "α¹₂₉" and _number_after("b=", hidden) == pytest.approx(net.layers[0].biases.data[29],
                                                                                 abs=5e-3)
    texts = [t for texts in nodes.values() for t in texts]
    assert "input layer α⁰" in texts and "hidden layer α¹ (sigmoid)" in texts and "output layer α² (sigmoid)" in texts
    weights = [layer.weights.data for layer in net.layers]
    largest = max(np.abs(w).max() for w in weights)
    edges = 0
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        edges += 1
        source, target = g.find(f"{SVG}title").text.split("->")
        column, j = map(int, source[1:].split("_"))
        k = int(target.split("_")[1])
        w = weights[column][j, k]
        stroke = next(g.iter(f"{SVG}path"))
        tooltip = next(g.iter(f"{SVG}a")).get("{http://www.w3.org/1999/xlink}title")
        assert float(tooltip[4:]) == pytest.approx(w, abs=1e-4)
        assert stroke.get("stroke") == ("#2e75b6" if w >= 0 else "#c00000")
        assert float(stroke.get("stroke-width")) == pytest.approx(0.3 + 3 * abs(w) / largest, abs=0.01)
    assert edges == 2 * 11 + 11 * 3


@needs_dot
@pytest.mark.parametrize("precision", [2, 4])
def test_network_labels_fit_inside_their_circles_and_circles_do_not_touch(precision):
    # a tiny bias in e-notation, b=-1.2e-05, used to spill out of the 0.7 inch circle
    net = nn.MLP([1, 4, 1], rng=0)
    net.layers[0].biases.data[:] = [-1.23456e-05, -0.0023, 0.5, 123.456]
    layout = json.loads(draw_network(net, precision=precision).pipe(format="json"))
    circles = {}
    for node in layout["objects"]:
        ellipse = next((op["rect"] for op in node.get("_draw_", []) if op["op"] == "E"), None)
        if ellipse is None:
            continue
        cx, cy, rx, ry = ellipse
        circles[node["name"]] = (cx, cy, ry)
        size = next(op["size"] for op in node["_ldraw_"] if op["op"] == "F")
        for text in (op for op in node["_ldraw_"] if op["op"] == "T"):
            (x, y), width = text["pt"], text["width"]
            left = x - {"l": 0, "c": 0.5, "r": 1}[text["align"]] * width
            for corner_x in (left, left + width):
                for corner_y in (y - 0.25 * size, y + 0.75 * size):
                    assert ((corner_x - cx) / rx) ** 2 + ((corner_y - cy) / ry) ** 2 <= 1, (node["name"], text)
    assert len(circles) == 1 + 4 + 1
    for j in range(3):
        (_, y0, r), (_, y1, _) = circles[f"L1_{j}"], circles[f"L1_{j + 1}"]
        assert abs(y0 - y1) > 2 * r


def test_network_diagram_of_one_layer_and_bad_input():
    layer = nn.Layer(3, 2, rng=0)
    source = draw_network(layer).source
    assert source.count("L0_") >= 3 and "L1_1" in source
    with pytest.raises(TypeError, match="draw_network"):
        draw_network(object())
    with pytest.raises(ValueError, match="max_neurons"):
        draw_network(layer, max_neurons=2)


# --- the example -------------------------------------------------------------------------------------------------
def test_example_prints_the_path_product_and_the_grad(tmp_path, capsys):
    import runpy
    from pathlib import Path

    example = runpy.run_path(str(Path(__file__).parent.parent / "examples" / "dependency_tree.py"))
    assert example["main"]([str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    pairs = re.findall(r"product along the path = (\S+)\s+\.grad of W\S = (\S+)", printed)
    assert len(pairs) == 3 and all(float(a) == pytest.approx(float(b), rel=1e-9) for a, b in pairs)
    written = tmp_path / ("dependency_tree.svg" if shutil.which("dot") else "dependency_tree.dot")
    assert written.exists()


def test_tree_refuses_parameters_whose_grad_holds_another_costs_gradient():
    w = Value(0.5, label="w^1")
    ((w * 2 - 3) ** 2).backward()          # an earlier cost leaves w.grad = -8
    cost = (w * 3) ** 2
    cost.label = "C"
    with pytest.raises(ValueError, match=r"w\^1\.grad is 1 but the chain rule through this cost gives 9.*zero_grad"):
        dependency_tree(cost)
    w.zero_grad()
    assert dependency_tree(cost).chain_rule("w^1") == pytest.approx(9.0)


def test_network_source_names_its_layout_so_plain_dot_draws_the_same_picture(tmp_path):
    graph = draw_network(nn.MLP([2, 3, 1], rng=0))
    assert re.search(r"\blayout=neato\b", graph.source)
    if shutil.which("dot"):
        render(graph, tmp_path / "network.dot")
        subprocess.run(["dot", "-Tsvg", str(tmp_path / "network.dot"), "-o", str(tmp_path / "plain.svg")],
                       check=True)
        pinned = _node_positions(render(graph, tmp_path / "network.svg").read_text())
        assert len(pinned) == 6  # 2 + 3 + 1 neurons
        assert pinned == _node_positions((tmp_path / "plain.svg").read_text())


def _node_positions(svg: str) -> dict[str, tuple[str, str]]:
    root = ET.fromstring(svg)
    ns = {"s": "http://www.w3.org/2000/svg"}
    positions = {}
    for group in root.iterfind(".//s:g[@class='node']", ns):
        ellipse = group.find("s:ellipse", ns)
        if ellipse is not None:
            positions[group.find("s:title", ns).text] = (ellipse.get("cx"), ellipse.get("cy"))
    return positions


def test_drawings_name_bad_arguments():
    net = nn.MLP([2, 2, 1], rng=0)
    with pytest.raises(TypeError, match="draw_network: max_neurons must be an integer, got str '5'"):
        draw_network(net, max_neurons="5")
    with pytest.raises(TypeError, match="draw_graph: max_nodes must be an integer, got float 2.0"):
        draw_graph(net(np.ones(2)).sum(), max_nodes=2.0)
    with pytest.raises(TypeError, match=r"render: timeout \(seconds, None for no limit\) must be a number, got str"):
        render(draw_graph(net(np.ones(2)).sum()), "unused.dot", timeout="60")
    with pytest.raises(TypeError, match="names must map names to Values"):
        draw_graph(net(np.ones(2)).sum(), names=[1, 2])
    net.layers[0].weights.data[0, 0] = np.nan
    with pytest.raises(ValueError, match="layer 1 holds NaN or infinite"):
        draw_network(net)


@pytest.mark.parametrize("precision, error, message", [
    (0, ValueError, "must be an integer from 1 to 17, got 0"),
    (-1, ValueError, "must be an integer from 1 to 17, got -1"),
    (18, ValueError, "must be an integer from 1 to 17, got 18"),
    (1.5, TypeError, "must be an integer, got float 1.5"),
    (True, TypeError, "must be an integer, got bool True"),
    ("3", TypeError, "must be an integer, got str '3'"),
])
def test_drawings_refuse_a_precision_that_is_not_1_to_17_digits(precision, error, message):
    net, cost = _chain_network()
    cost.backward()
    message = re.escape("precision (significant digits) " + message)
    with pytest.raises(error, match="draw_network: " + message):
        draw_network(net, precision=precision)
    with pytest.raises(error, match="draw_dependency_tree: " + message):
        draw_dependency_tree(cost, precision=precision)
    with pytest.raises(error, match="tree_drawing: " + message):
        tree_drawing(dependency_tree(cost), precision=precision)
    with pytest.raises(error, match="draw_graph: " + message):
        draw_graph(cost, precision=precision)
    assert "b=" in draw_network(net, precision=1).source and draw_dependency_tree(cost, precision=17).source


@pytest.mark.parametrize("size, error, message", [
    (9, TypeError, "size must be a str of inches like '9,100'"), ((9, 10), TypeError, "got tuple (9, 10)"),
    ("abc", ValueError, "got 'abc'"), ("9,0", ValueError, "got '9,0'"),
])
def test_draw_graph_refuses_a_size_graphviz_cannot_read(size, error, message):
    cost = Value(2.0, label="x") * 3.0
    with pytest.raises(error, match="draw_graph: .*" + re.escape(message)):
        draw_graph(cost, size=size)
    assert 'size="9.5,3!"' in draw_graph(cost, size="9.5,3!").source
    assert " size=" not in draw_graph(cost, size=None).source


@pytest.mark.parametrize("rankdir", ["XX", None, 5])
def test_tree_drawings_refuse_a_rankdir_like_draw_graph(rankdir):
    _, cost = _chain_network()
    cost.backward()
    message = re.escape(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    with pytest.raises(ValueError, match="draw_dependency_tree: " + message):
        draw_dependency_tree(cost, rankdir=rankdir)
    with pytest.raises(ValueError, match="tree_drawing: " + message):
        tree_drawing(dependency_tree(cost), rankdir=rankdir)
    assert "rankdir=LR" in draw_dependency_tree(cost, rankdir="LR").source


# --- in a notebook -----------------------------------------------------------------------------------------------
@needs_dot
def test_graph_of_a_small_network_fits_a_notebook_and_names_the_input(tmp_path):
    net = nn.MLP([2, 3, 1], rng=0)
    cost = squared_error(net(np.array([0.5, -1.0])), np.array([1.0]))
    cost.backward()
    root = _svg(draw_graph(cost), tmp_path)
    assert float(root.get("width").removesuffix("pt")) <= 9 * 72  # was 4,523 points wide, left to right
    _, texts = _node_by_name(_groups(root, "node"), "α⁰")  # the network's input, unlabeled by the caller
    assert "data min -1 · mean -0.25 · max 0.5" in texts


def test_inline_display_without_dot_gives_the_install_advice(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    x = Value(2.0, label="x")
    for graph in (draw_graph(x * 3.0), draw_network(nn.MLP([2, 2], rng=0))):
        bundle = graph._repr_mimebundle_()  # what Jupyter calls; graphviz raised ExecutableNotFound here
        assert "apt-get install graphviz" in bundle["text/plain"] and "brew install graphviz" in bundle["text/html"]


@needs_dot
def test_inline_display_with_dot_is_svg():
    assert "<svg" in draw_graph(Value(2.0, label="x") * 3.0)._repr_mimebundle_()["image/svg+xml"]


@needs_dot
def test_a_tall_graph_keeps_readable_text_in_a_notebook(tmp_path):
    """The seed's three-layer chain drawn top to bottom is tall: it keeps its text at least 3/4 of its size (at
    most 9 × 12 inches it was shrunk to 0.42, 11 pt text at 4.6 pt) and scrolls instead."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    cost = squared_error(model(np.array([0.5])), np.array([1.0]))
    cost.backward()
    root = _svg(draw_graph(cost), tmp_path)
    assert float(root.get("width").removesuffix("pt")) <= 9 * 72 and _scale(root) >= 0.75


@needs_dot
def test_a_file_name_that_starts_with_a_dash_is_rendered(tmp_path, monkeypatch):
    """Graphviz would read '-tree.svg' after '-o' as an option of its own."""
    monkeypatch.chdir(tmp_path)
    cost = (Value(2.0, label="w") * 3.0).sigmoid()
    cost.backward()
    render(draw_graph(cost), "-tree.svg")
    assert (tmp_path / "-tree.svg").read_text().lstrip().startswith("<?xml")


@needs_dot
def test_a_tree_writes_its_gradients_with_the_costs_own_name_and_colours_labelled_results_as_results(tmp_path):
    """Karpathy's micrograd example, L = (a·b + c)·f: the nodes said ∂C/∂a = 6 under edges ∂L/∂f (and the player's
    ∂L/∂a), and the labelled results d and e were grey, the colour of the constants."""
    a, b, c, f = (Value(x, label=name) for x, name in ((2.0, "a"), (-3.0, "b"), (10.0, "c"), (-2.0, "f")))
    e = a * b
    d = e + c
    e.label, d.label = "e", "d"
    loss = d * f
    loss.label = "L"
    root = _svg(draw_dependency_tree(loss), tmp_path)
    nodes = _groups(root, "node")
    texts = " | ".join(" ".join(t) for t in nodes.values())
    assert "∂C/" not in texts
    for name, gradient in (("L", 1), ("a", 6), ("b", -4), ("c", -2), ("e", -2), ("d", -2), ("f", 4)):
        title, node_texts = _node_by_name(nodes, name)
        assert f"∂L/∂{name} = {gradient}" in node_texts, node_texts
        kind = "output" if name == "L" else "intermediate" if name in "de" else "parameter"
        shapes = next(g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title").text == title)
        assert {e.get("fill") for e in shapes if e.tag in (f"{SVG}path", f"{SVG}polygon")} == {COLORS[kind]}, name


def test_layers_outside_a_network_get_no_box_that_holds_them_all():
    """Two nn.Layers in a Module of one's own both label their Values W, b, z, α: draw_graph put both layers in one box
    named "layer"."""
    first, second = nn.Layer(2, 3, rng=0), nn.Layer(3, 1, rng=1)
    cost = squared_error(second(first(np.array([0.5, -1.0]))), np.array([0.25]))
    assert "cluster" not in draw_graph(cost).source
    alone = nn.Layer(2, 1, rng=0)  # one Layer alone keeps its box
    assert "cluster_layer0" in draw_graph(squared_error(alone(np.array([0.5, -1.0])), np.array([0.25]))).source


def _edge_points(root: ET.Element, samples: int = 40) -> list[tuple[float, float]]:
    """Points along every edge's curve (Graphviz writes each as cubic Bézier pieces: M p0 C p1 p2 p3 p4 p5 p6 …)."""
    points = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        for path in g.iter(f"{SVG}path"):
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", path.get("d"))]
            xy = list(zip(numbers[0::2], numbers[1::2]))
            for start in range(0, len(xy) - 3, 3):
                p0, p1, p2, p3 = xy[start:start + 4]
                for k in range(samples + 1):
                    t = k / samples
                    a, b, c, d = (1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t * t * (1 - t), t ** 3
                    points.append((a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                                   a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]))
    return points


def _cluster_titles(root: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """Each layer box's title → its text's box (left, right, top, bottom), from the font size and its characters
    (Helvetica bold: at most 0.65 em each)."""
    titles = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "cluster":
            text = next(g.iter(f"{SVG}text"))
            size, x, y = float(text.get("font-size")), float(text.get("x")), float(text.get("y"))
            width = 0.65 * size * len(text.text)
            left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor")]
            titles[text.text] = (left, left + width, y - size, y + 0.25 * size)
    return titles


@needs_dot
@pytest.mark.parametrize("sizes, samples", [([1, 1, 1], 1), ([2, 2, 1], 1), ([2, 2, 1], 3), ([1, 12, 12, 1], 3)])
def test_no_edge_runs_through_a_layer_boxs_title(tmp_path, sizes, samples):
    """The boxes took the graph's labelloc="b" (meant for the colour key): each title sat at the bottom of its box,
    where the layer's output α^i leaves it, and the edge from α² to the cost went through "layer 2"."""
    net = nn.MLP(sizes, rng=0)
    cost = squared_error(net(np.full((samples, sizes[0]), 0.5)), np.zeros((samples, 1)))
    cost.backward()
    for model in (None, net):
        root = _svg(draw_graph(cost, model=model), tmp_path)
        titles = _cluster_titles(root)
        assert sorted(titles) == [f"layer {i}" for i in range(1, len(sizes))]
        points = _edge_points(root)
        for title, (left, right, top, bottom) in titles.items():
            crossing = [(x, y) for x, y in points if left <= x <= right and top <= y <= bottom]
            assert not crossing, (title, crossing[:3])


@needs_dot
@pytest.mark.parametrize("chain", ["sum", "product"])
def test_a_long_chain_runs_straight_down_with_text_at_least_half_its_size(tmp_path, chain):
    """A running sum s = s + w_i (or h = h · 1.0001 + 0) was drawn as a staircase, one step sideways per operation:
    at the default 9 inches its 11 pt text was shrunk to 1.7 pt.  Now the results run down one column."""
    weights = [Value(float(i), label=f"w{i}") for i in range(60)]
    if chain == "sum":
        out = weights[0]
        for w in weights[1:]:
            out = out + w
    else:
        out = weights[0]
        for _ in range(30):
            out = out * 1.0001 + 0.0
    out.backward()
    root = _svg(draw_graph(out), tmp_path)
    assert _scale(root) >= 0.5
    kept, _ = nearest_values(out, 150)  # draw_graph's Values: number i is the node v{i}
    centres = {}
    for g in root.iter(f"{SVG}g"):
        title = g.find(f"{SVG}title").text if g.get("class") == "node" else ""
        if re.fullmatch(r"v\d+", title) and kept[int(title[1:])].op is not None:
            xs = [float(n) for n in re.findall(r"(-?[\d.]+),", g.find(f"{SVG}polygon").get("points"))]
            centres[title] = (min(xs) + max(xs)) / 2
    assert len(centres) == sum(v.op is not None for v in kept)
    assert max(centres.values()) - min(centres.values()) < 1, centres


def test_draw_graph_and_the_players_drawing_write_numbers_at_the_precision_asked():
    """draw_graph always wrote 4 digits, so a player with precision=8 showed 0.3333 in its drawing beside
    0.33333333 in its steps."""
    w = Value(1.0 / 3.0, label="w")
    cost = (w * 3.0 - 0.5) ** 2
    cost.backward()  # ∂C/∂w = 2(3w − 0.5)·3 = 3
    assert "data 0.33333333<" in draw_graph(cost, precision=8).source
    assert "data 0.3333<" in draw_graph(cost).source and "data 0.33333333<" not in draw_graph(cost).source
    if shutil.which("dot"):  # (the player's drawing is Graphviz's SVG)
        assert "data 0.33333333<" in backprop_player(cost, layout="graph", precision=8).drawing_svg
