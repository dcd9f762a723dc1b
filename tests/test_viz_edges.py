"""tinygrad_edu.viz at its edges: what the drawings hold, read back through Graphviz's own parser (``dot -Tjson0``)
or from the rendered SVG, never from viz's own helpers."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import graphviz
import numpy as np
import pytest
from helpers_drawings import bold_text, dot_clusters, dot_edges, dot_json, dot_nodes

from tinygrad_edu import Value, nn
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import Step
from tinygrad_edu.viz import (
    COLORS,
    BackpropPlayer,
    backprop_player,
    dependency_tree,
    draw_graph,
    draw_network,
    render,
    tree_drawing,
)

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text") if t.text is not None]


# --- labels ------------------------------------------------------------------------------------------------------
def test_a_long_label_is_cut_to_sixty_characters_with_an_ellipsis():
    """60 characters is the limit: a 60-character label is shown whole, a 70-character one as 59 and "…"."""
    for length, shown in ((60, "x" * 60), (70, "x" * 59 + "…")):
        value = Value(1.0, label="x" * length)
        names = [bold_text(n.get("label")) for n in dot_nodes(draw_graph(value * 2.0)).values()]
        assert shown in names, (length, names)


# --- layer boxes ---------------------------------------------------------------------------------------------------
def test_a_hand_made_layer_with_a_lowercase_w_keeps_its_weight_in_the_box():
    """LAYER_LABEL accepts w^1 as well as W^1: both are the layer's weights and belong in its box."""
    x = Value(0.5, requires_grad=False, label="x")
    w, b = Value(-1.2, label="w^1"), Value(0.4, label="b^1")
    z = w * x + b
    z.label = "z^1"
    a = z.tanh()
    a.label = "α^1"
    cost = (a - 0.25) ** 2
    boxes = dot_clusters(draw_graph(cost))
    assert list(boxes) == ["layer 1"]
    assert {"w¹", "b¹", "z¹", "α¹"} <= boxes["layer 1"] and "x" not in boxes["layer 1"]


def test_a_computed_input_labelled_alpha_0_stays_outside_the_first_layers_box():
    """The Values that make α⁰ (here x·2) are the input's, not layer 1's."""
    x = Value(np.array([0.5, -1.0]), label="x")  # needs a gradient, so x·2 is recorded as an operation
    a0 = x * 2.0
    a0.label = "α^0"
    net = nn.MLP([2, 1], rng=0)
    cost = squared_error(net(a0), np.array([0.25]))
    boxes = dot_clusters(draw_graph(cost, model=net))
    assert list(boxes) == ["layer 1"]
    assert {"W¹", "b¹", "z¹", "α¹"} <= boxes["layer 1"] and "α⁰" not in boxes["layer 1"]
    nodes = dot_nodes(draw_graph(cost, model=net))
    assert "mul" not in {nodes[n].get("label") for n in boxes["layer 1"] if n.startswith("op")}  # x·2 is α⁰'s
    (a0_node,) = [name for name, node in nodes.items() if bold_text(node.get("label")) == "α⁰"]
    (into_box,) = [e for tail, head, e in dot_edges(draw_graph(cost, model=net)) if tail == a0_node]
    assert "weight" not in into_box  # only the chain inside the box is weighted to run straight


def test_a_layer_boxs_title_is_at_its_top():
    """The title sits above the layer's operations, where α^(i−1) enters, not at the bottom where α^i leaves."""
    net = nn.MLP([2, 3, 1], rng=0)
    cost = squared_error(net(np.array([0.5, -1.0])), np.array([0.25]))
    boxes = [o for o in dot_json(draw_graph(cost, model=net))["objects"] if o["name"].startswith("cluster")]
    assert len(boxes) == 2
    for box in boxes:
        _, bottom, _, top = (float(n) for n in box["bb"].split(","))  # Graphviz's y grows upwards
        title_y = float(box["lp"].split(",")[1])
        assert title_y > (bottom + top) / 2, box["name"]


def test_named_layers_name_their_boxes():
    net = nn.Network(nn.Layer(2, 3, name="hidden", rng=0), nn.Layer(3, 1, name="readout", rng=1))
    cost = squared_error(net(np.array([0.5, -1.0])), np.array([0.25]))
    boxes = dot_clusters(draw_graph(cost, model=net))
    assert sorted(boxes) == ["hidden", "readout"]
    assert "W¹" in boxes["hidden"] and "W²" in boxes["readout"]


def _two_layer_cost():
    net = nn.MLP([2, 3, 1], rng=0)
    return net, squared_error(net(np.array([0.5, -1.0])), np.array([0.25]))


def test_a_single_layer_of_a_network_as_model_boxes_that_layer():
    """model=net.layers[1]: one box, "layer 2", with W², b², z², α²."""
    net, cost = _two_layer_cost()
    boxes = dot_clusters(draw_graph(cost, model=net.layers[1]))
    assert list(boxes) == ["layer 2"]
    assert {"W²", "b²", "z²", "α²"} <= boxes["layer 2"]


def test_a_single_layer_of_a_network_as_model_leaves_the_layer_before_out_of_its_box():
    net, cost = _two_layer_cost()
    boxes = dot_clusters(draw_graph(cost, model=net.layers[1]))
    assert not {"z¹", "α¹"} & boxes["layer 2"]


def test_a_layer_the_cost_does_not_use_gets_no_box_even_beside_a_standalone_layer():
    """Layer 2 of ``net`` has no Values in this graph; the standalone Layer's W, b, α must not be boxed as it."""
    net = nn.MLP([1, 1, 1], rng=0)
    alone = nn.Layer(1, 1, rng=1)
    cost = (net.layers[0](np.array([0.5])) + alone(np.array([0.5]))).sum()
    boxes = dot_clusters(draw_graph(cost, model=net))
    assert list(boxes) == ["layer 1"]
    assert "W" not in boxes["layer 1"]


# --- operations and names ------------------------------------------------------------------------------------------
def test_an_operation_shows_its_parameters_but_not_keepdims_false():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    kept = x.sum(axis=0, keepdims=True).sum(axis=1)
    ovals = sorted(n["label"] for n in dot_nodes(draw_graph(kept)).values() if n.get("shape") == "oval")
    assert ovals == ["sum(axis=0, keepdims=True)", "sum(axis=1)"]


def test_a_name_given_to_the_networks_input_beats_alpha_0():
    net = nn.MLP([2, 1], rng=0)
    x = Value(np.array([0.5, -1.0]), requires_grad=False)
    cost = squared_error(net(x), np.array([0.25]))
    names = {bold_text(n.get("label")) for n in dot_nodes(draw_graph(cost, names={"inputs": x})).values()}
    assert "inputs" in names and "α⁰" not in names
    assert "α⁰" in {bold_text(n.get("label")) for n in dot_nodes(draw_graph(cost)).values()}


def test_a_parameter_used_twice_in_a_box_is_ranked_beside_its_first_use_only():
    """z¹ = w·x + w·w: w sits in one rank=same group, not two (that would pull both operations onto one rank)."""
    x = Value(0.5, requires_grad=False, label="x")
    w, b = Value(-1.2, label="w^1"), Value(0.4, label="b^1")
    z = w * x + w * w + b
    z.label = "z^1"
    a = z.tanh()
    a.label = "α^1"
    graph = draw_graph(a)
    objects = dot_json(graph)["objects"]
    (w_id,) = [o["_gvid"] for o in objects if bold_text(o.get("label", "")) == "w¹"]
    groups = [o["nodes"] for o in objects if o.get("rank") == "same"]
    assert sum(w_id in nodes for nodes in groups) == 1


def test_a_label_beats_a_name_given_in_names():
    """The docstring's order: the Value's own label, else its name in ``names``."""
    x = Value(2.0, label="w")
    names = {bold_text(n.get("label")) for n in dot_nodes(draw_graph(x * 3.0, names={"x": x})).values()}
    assert "w" in names and "x" not in names


def test_the_first_name_given_to_a_value_wins():
    x = Value(2.0)
    drawn = dot_nodes(draw_graph(x * 3.0, names={"first": x, "second": x}))
    names = [bold_text(n.get("label")) for n in drawn.values()]
    assert "first" in names and "second" not in names


def test_a_vector_shows_its_shape_and_a_number_does_not():
    v = Value(np.array([1.0, 2.0, 3.0]), label="v")
    labels = {bold_text(n.get("label")): n["label"] for n in dot_nodes(draw_graph(v.sum())).values()}
    assert "shape (3,)" in labels["v"]
    assert not [label for label in labels.values() if "shape ()" in label]


@pytest.mark.parametrize("size, accepted", [("9", True), ("9!", True), ("9,10!", True), ("9,10,11", False),
                                            ("0", False), ("inf", False), ("-1,5", False), ("", False)])
def test_size_takes_one_or_two_positive_finite_inches(size, accepted):
    cost = Value(2.0, label="x") * 3.0
    if accepted:
        assert dot_json(draw_graph(cost, size=size))["size"] == size
    else:
        with pytest.raises(ValueError, match="draw_graph: size must be inches"):
            draw_graph(cost, size=size)


def test_a_value_drawn_with_no_rows_still_renders(tmp_path):
    """No name, no data, no grad: the box must still be a table Graphviz accepts (an empty one is a syntax error)."""
    graph = draw_graph(Value(2.0) * 3.0, show_data=False, show_grad=False)
    root = ET.parse(render(graph, tmp_path / "bare.svg")).getroot()
    nodes = sum(g.get("class") == "node" for g in root.iter(f"{SVG}g"))
    assert nodes == 4  # x, the constant 3, their product and the mul


def test_the_output_is_gold_a_parameter_green_and_a_constant_grey():
    w, c = Value(0.5, label="w"), Value(2.0, requires_grad=False, label="c")
    out = w * c
    out.label = "out"
    fills = {bold_text(n.get("label")): n.get("fillcolor") for n in dot_nodes(draw_graph(out)).values()}
    assert fills["out"] == COLORS["output"] and fills["w"] == COLORS["parameter"] and fills["c"] == COLORS["constant"]
    edges = {(tail, head) for tail, head, _ in dot_edges(draw_graph(out))}
    assert edges == {("v1", "op0"), ("v2", "op0"), ("op0", "v0")}  # w, c → mul → out, and nothing else


# --- cutting big graphs ----------------------------------------------------------------------------------------------
def _chain(steps: int) -> Value:
    """y = x + 1 + 1 + …: 2·steps + 1 Values (x, each constant 1 and each sum)."""
    y = Value(1.0, label="x")
    for _ in range(steps):
        y = y + 1.0
    return y


def test_a_graph_one_value_too_big_gets_the_note_and_only_cut_operations_point_from_it():
    y = _chain(5)  # 11 Values
    graph = draw_graph(y, max_nodes=10)
    values = [n for n in dot_nodes(graph) if re.fullmatch(r"v\d+", n)]
    assert len(values) == 10 and "truncated" in dot_nodes(graph)
    from_note = [head for tail, head, _ in dot_edges(graph) if tail == "truncated"]
    assert len(from_note) == 1  # the one add whose input was left out
    assert "… 1 more Values left out" in dot_nodes(graph)["truncated"]["label"]
    whole = draw_graph(y, max_nodes=11)
    assert "truncated" not in dot_nodes(whole) and len(dot_nodes(whole)) == 11 + 5  # 11 Values, 5 adds


# --- render --------------------------------------------------------------------------------------------------------
def test_render_writes_gv_as_source_and_makes_missing_folders(tmp_path):
    graph = draw_graph(Value(2.0, label="two") * 3.0)
    assert render(graph, tmp_path / "a" / "g.gv").read_text(encoding="utf-8") == graph.source
    svg = render(graph, tmp_path / "b" / "c" / "g.svg")
    assert "two" in _texts(ET.parse(svg).getroot())


def test_render_uses_the_graphs_own_engine(tmp_path):
    """A graphviz.Digraph laid out by circo puts its ring of nodes where circo does, not where dot would."""
    ring = graphviz.Digraph(engine="circo")
    for i in range(6):
        ring.edge(f"n{i}", f"n{(i + 1) % 6}")

    def centres(svg: bytes | str) -> dict[str, tuple[str, str]]:
        root = ET.fromstring(svg)
        return {g.find(f"{SVG}title").text: (g.find(f"{SVG}ellipse").get("cx"), g.find(f"{SVG}ellipse").get("cy"))
                for g in root.iter(f"{SVG}g") if g.get("class") == "node"}

    by_circo = subprocess.run(["dot", "-Kcirco", "-Tsvg"], input=ring.source.encode(), capture_output=True,
                              check=True).stdout
    written = centres(render(ring, tmp_path / "ring.svg").read_text())
    assert written == centres(by_circo)
    ys = {y for _, y in written.values()}
    assert len(ys) < 6  # a ring: not six ranks one under the other as dot draws a cycle


def test_render_reports_graphviz_failing_on_the_source(tmp_path):
    broken = graphviz.Source("digraph { a -> }")
    with pytest.raises(RuntimeError, match=r"render: Graphviz failed to draw .*exit status [1-9]"):
        render(broken, tmp_path / "broken.svg")


def test_render_timeout_is_at_most_a_day():
    graph = draw_graph(Value(2.0, label="two") * 3.0)
    with pytest.raises(ValueError, match="render: timeout"):
        render(graph, "unused.svg", timeout=86400.5)


# --- the dependency tree -----------------------------------------------------------------------------------------
def test_a_long_chain_line_is_drawn_whole_and_multiplies_to_the_grad(tmp_path):
    """W¹ of a three-layer chain has seven factors: a line of about 80 characters, which must not be cut."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    cost = squared_error(net(np.array([0.8])), np.array([0.3]))
    cost.backward()
    root = ET.parse(render(tree_drawing(dependency_tree(cost)), tmp_path / "tree.svg")).getroot()
    (line,) = [t for t in _texts(root) if t.startswith("chain: 0.8 ")]  # ∂z¹/∂W¹ = α⁰ = 0.8 comes first
    factors, total = re.split(" [=≈] ", line[len("chain: "):])
    assert "…" not in line and len(factors.split(" · ")) == 7
    grad = float(net.layers[0].weights.grad.item())
    assert np.prod([float(f) for f in factors.split(" · ")]) == pytest.approx(grad, rel=2e-3)
    assert float(total) == pytest.approx(grad, rel=5e-4)


def test_an_edge_folding_two_operations_gets_the_note_and_one_operation_does_not():
    a, b = Value(0.3, label="a"), Value(0.7, label="b")
    folded = tree_drawing(dependency_tree((a * b).tanh()))  # C = tanh(a·b): each edge folds mul → tanh
    assert "fold several unlabelled operations" in dot_json(folded).get("label", "")
    edge = {head: e for _, head, e in dot_edges(folded)}
    (a_node,) = [n for n, node in dot_nodes(folded).items() if bold_text(node["label"]) == "a"]
    dtanh = 0.7 * (1 - np.tanh(0.21) ** 2)  # ∂C/∂a = b·(1 − tanh²(ab))
    assert f"= {dtanh:.4g}" in edge[a_node]["label"] and "through mul → tanh" in edge[a_node]["label"]
    plain = tree_drawing(dependency_tree(Value(0.3, label="a") * Value(0.7, label="b")))  # one mul per edge
    assert "fold several" not in dot_json(plain).get("label", "")


# --- the network diagram -------------------------------------------------------------------------------------------
def _neurons(graph) -> dict[str, dict]:
    return {name: node for name, node in dot_nodes(graph).items() if re.fullmatch(r"L\d+_(\d+|more)", name)}


@pytest.mark.parametrize("width, limit, shown", [
    (12, 12, list(range(12))),                          # exactly the limit: all, no "…"
    (30, 12, [0, 1, 2, 3, 4, 5, 25, 26, 27, 28, 29]),   # 11 places: 6 first, "…", 5 last
    (30, 11, [0, 1, 2, 3, 4, 25, 26, 27, 28, 29]),      # 10 places: 5 and 5
])
def test_a_wide_layer_shows_its_first_and_last_neurons(width, limit, shown):
    neurons = _neurons(draw_network(nn.MLP([2, width, 1], rng=0), max_neurons=limit))
    hidden = sorted(int(name[3:]) for name in neurons if name.startswith("L1_") and name != "L1_more")
    assert hidden == shown
    assert ("L1_more" in neurons) == (width > limit)


def test_weight_edges_colour_zero_blue_and_scale_by_the_largest_magnitude():
    layer = nn.Layer(1, 3, rng=0)
    layer.weights.data[:] = [[-2.0, 1.0, 0.0]]
    edges = {head: e for tail, head, e in dot_edges(draw_network(layer))}
    # penwidth 0.3 + 3·|w| / max|w| with max|w| = 2 (the negative weight)
    assert [edges[f"L1_{k}"]["penwidth"] for k in range(3)] == ["3.30", "1.80", "0.30"]
    assert [edges[f"L1_{k}"]["color"] for k in range(3)] == ["#c00000", "#2e75b6", "#2e75b6"]


def test_network_columns_say_how_many_neurons_and_colour_input_hidden_and_output():
    graph = draw_network(nn.MLP([2, 3, 1], rng=0))
    nodes = dot_nodes(graph)
    assert re.search(r"(^|>)1 neuron($|<)", nodes["title2"]["label"]) and "2 neurons" in nodes["title0"]["label"]
    fills = {name[:2]: node["fillcolor"] for name, node in _neurons(graph).items()}
    assert fills == {"L0": COLORS["constant"], "L1": COLORS["intermediate"], "L2": COLORS["output"]}


def test_network_columns_are_centred_on_one_line(tmp_path):
    """Columns of 2, 5 and 1 neurons: each column's middle is at the same height."""
    root = ET.parse(render(draw_network(nn.MLP([2, 5, 1], rng=0)), tmp_path / "net.svg")).getroot()
    heights: dict[str, list[float]] = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node" and g.find(f"{SVG}ellipse") is not None:
            heights.setdefault(g.find(f"{SVG}title").text[:2], []).append(float(g.find(f"{SVG}ellipse").get("cy")))
    middles = [np.mean(heights[column]) for column in ("L0", "L1", "L2")]
    assert [len(heights[c]) for c in ("L0", "L1", "L2")] == [2, 5, 1]
    assert max(middles) - min(middles) < 0.5


class _Plain:
    """A layer of one's own: plain arrays, no Values."""

    def __init__(self, weights, biases):
        self.weights, self.biases = np.asarray(weights, dtype=float), np.asarray(biases, dtype=float)


class _Model:
    def __init__(self, *layers):
        self.layers = list(layers)


def test_network_of_plain_arrays_takes_a_row_of_biases_and_refuses_what_does_not_chain():
    neurons = _neurons(draw_network(_Plain(np.ones((2, 3)), np.ones((1, 3)))))  # biases as a 1×3 row
    assert sorted(neurons) == ["L0_0", "L0_1", "L1_0", "L1_1", "L1_2"]
    with pytest.raises(ValueError, match=r"draw_network: layer 1 has weights of shape \(2, 3\) and biases of shape"):
        draw_network(_Plain(np.ones((2, 3)), np.ones(2)))
    with pytest.raises(ValueError, match="draw_network: layer 1 has 3 outputs but layer 2 expects 2 inputs"):
        draw_network(_Model(_Plain(np.ones((2, 3)), np.ones(3)), _Plain(np.ones((2, 1)), np.ones(1))))


# ------------------------------------------------------------------------------------------ bad-input sweep


class _Raw:
    """A layer of one's own whose weights and biases are given as they are (no conversion)."""

    def __init__(self, weights, biases):
        self.weights, self.biases = weights, biases


@pytest.mark.parametrize("model, error, words", [
    (_Model(nn.Layer(2, 3), object()), TypeError, "layer 2 (object) has no weights and biases"),  # AttributeError
    (_Raw(np.ones((2, 3), complex), np.ones(3)), TypeError, "layer 1's weights has dtype complex128"),  # ComplexWarning
    (_Raw(np.ones((2, 3)), ["a", "b", "c"]), TypeError, "layer 1's biases has dtype <U1"),  # numpy's bare ValueError
])
def test_network_refuses_by_name_layers_it_cannot_draw(model, error, words):
    with pytest.raises(error, match=rf"^draw_network: {re.escape(words)}"):
        draw_network(model)


def test_weight_edges_of_weights_near_float64s_largest_keep_their_widths():
    """3·|w| overflowed for |w| near 1e308: a RuntimeWarning, and an edge of width inf.  Widths 0.3 + 3·|w|/max|w|:
    1e308 and -1e308 are the largest (3.30), 1e307 a tenth of them (0.60)."""
    drawing = draw_network(_Raw(np.array([[1e308, -1e308, 1e307]]), np.zeros(3)))
    edges = {head: e for tail, head, e in dot_edges(drawing)}
    assert [edges[f"L1_{k}"]["penwidth"] for k in range(3)] == ["3.30", "3.30", "0.60"]


def _chain_and_net():
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    return squared_error(net(np.array([0.5])), np.array([0.25])), net


@pytest.mark.parametrize("draw", [draw_graph, backprop_player])
def test_a_model_is_the_one_that_computed_the_value_or_it_is_refused(draw):
    """model=5 drew a box 'layer 1' and a network of other parameters drew boxes named after its layers, silently."""
    cost, net = _chain_and_net()
    name = draw.__name__
    with pytest.raises(TypeError, match=rf"^{name}: model must be the Network \(or Layer\) that computed the value, "
                                        r"or None, got int 5$"):
        draw(cost, model=5)
    with pytest.raises(ValueError, match=rf"^{name}: none of the model's weights or biases are in the graph"):
        draw(cost, model=nn.MLP([1, 1, 1], rng=0))
    draw(cost, model=net)  # its own network is fine
    if draw is draw_graph:  # ... and boxes its layers
        assert set(dot_clusters(draw(cost, model=net))) == {"layer 1", "layer 2"}


def test_render_and_save_name_themselves_when_they_cannot_write(tmp_path):
    """A folder where the file goes, or a file where a folder goes: pathlib's bare "[Errno 21] Is a directory" or
    "[Errno 17] File exists" named neither render nor BackpropPlayer.save."""
    graph, page = draw_graph(Value(2.0)), backprop_player(_chain_and_net()[0])
    (tmp_path / "taken.dot").mkdir()
    (tmp_path / "taken.html").mkdir()
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    with pytest.raises(IsADirectoryError, match=r"render: cannot write '.*taken\.dot': Is a directory"):
        render(graph, tmp_path / "taken.dot")
    with pytest.raises(IsADirectoryError, match=r"BackpropPlayer\.save: cannot write '.*taken\.html': Is a directory"):
        page.save(tmp_path / "taken.html")
    for call, where in ((lambda: render(graph, tmp_path / "a_file" / "g.svg"), "render"),
                        (lambda: page.save(tmp_path / "a_file" / "p.html"), r"BackpropPlayer\.save")):
        with pytest.raises(NotADirectoryError, match=rf"{where}: cannot write .*: '.*a_file' is a file, not a folder"):
            call()


@pytest.mark.parametrize("arguments, words", [
    (("not a list", None), "steps must be a list of Step"),  # 'str' object has no attribute 'phase', at .html()
    (([{"phase": "start"}], None), "steps must be a list of Step"),
    (([], "no picture"), "drawing_svg must be the text of an SVG picture"),  # "substring not found", at .html()
])
def test_a_player_made_by_hand_checks_its_arguments_when_made(arguments, words):
    with pytest.raises(TypeError, match=rf"^BackpropPlayer: {words}"):
        BackpropPlayer(*arguments)


def test_a_player_keeps_its_own_list_of_steps():
    steps = [Step("start", -1, "The leaves", "<p>")]
    page = BackpropPlayer(steps, None)
    steps.append(Step("result", -1, "Every gradient", "<p>"))
    assert len(page) == 1 and page.html().count('"phase"') == 1
