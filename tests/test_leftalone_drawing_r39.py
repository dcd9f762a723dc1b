"""A teacher presenting the drawings, the dependency tree, the backprop player and the plots, on loose ends earlier
rounds left: the tree player's edges before the backward pass; draw_graph's key, the tree's refusal and the player's
result for a parameter used outside the Value drawn (one backward pass of a larger cost, not several passes); an
operation's oval cut at 40 characters (its tooltip); plot_history with more runs than colours × line styles."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _chain(w1: float = 0.6, b1: float = 0.3, w2: float = 0.5, b2: float = 0.9, x: float = 0.5,
           y: float = 0.25) -> tuple[nn.Network, Value]:
    """The seed's 1-1-1 sigmoid chain with weights set by hand, and its squared error on one sample."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    for layer, (w, b) in zip(net.layers, ((w1, b1), (w2, b2)), strict=True):
        layer.weights.data[...] = w
        layer.biases.data[...] = b
    cost = squared_error(net(np.array([x])), np.array([y]))
    cost.label = "C"
    return net, cost


def _local_derivatives_by_hand(w1: float = 0.6, b1: float = 0.3, w2: float = 0.5, b2: float = 0.9, x: float = 0.5,
                               y: float = 0.25) -> dict[tuple[str, str], float]:
    """Each tree edge's local derivative (child, parent) → number, written out: ∂α/∂z = σ(z)(1 − σ(z)), ∂z/∂W = α."""
    a1 = _sigmoid(w1 * x + b1)
    a2 = _sigmoid(w2 * a1 + b2)
    return {("C", "α^2"): 2 * (a2 - y), ("α^2", "z^2"): a2 * (1 - a2), ("z^2", "W^2"): a1, ("z^2", "α^1"): w2,
            ("z^2", "b^2"): 1.0, ("α^1", "z^1"): a1 * (1 - a1), ("z^1", "W^1"): x, ("z^1", "α^0"): w1,
            ("z^1", "b^1"): 1.0}


# --- (a) the tree player's edges show no local derivative before the backward pass reaches them ----------------------
_EDGE_LINES = """return Array.prototype.map.call(document.querySelectorAll('.drawing g.edge'), function (g) {
    return [g.querySelector('title').textContent,
            Array.prototype.map.call(g.querySelectorAll('text'), function (t) { return t.textContent; })]; });"""


@needs_dot
def test_the_tree_players_edges_hold_back_their_numbers_until_the_backward_pass_reaches_them(browser, tmp_path):
    """The start and the forward steps fade α¹ (not computed yet) and say ∂C/∂W² = ?, so the edge under z² must not
    write ∂z²/∂W² = α¹ = 0.6457 (α¹'s number) nor the cost's edge 2(α² − 0.25) = 1.07: each edge's number is "= ?"
    until the backward pass reaches the Value above it, then the local derivative worked out by hand (a number its
    formula already writes, ∂z²/∂b² = 1, stays)."""
    from selenium.webdriver.support.ui import WebDriverWait

    _, cost = _chain()
    player = viz.backprop_player(cost)
    tree = viz.dependency_tree(cost)
    index = {name: f"v{i}" for i, name in enumerate(tree.nodes)}
    by_hand = {f"{index[child]}->{index[parent]}": number
               for (child, parent), number in _local_derivatives_by_hand().items()}
    assert {f"{index[e.child]}->{index[e.parent]}" for e in tree.edges} == set(by_hand)
    browser.get("about:blank")
    browser.get(player.save(tmp_path / "tree.html").resolve().as_uri())
    reached: set[str] = set()
    for k, step in enumerate(player.steps, start=1):
        browser.execute_script(f"location.hash = '#step={k}'")
        WebDriverWait(browser, 5).until(  # (the page follows the address a moment later)
            lambda driver, k=k: driver.find_element("css selector", ".counter").text == f"step {k} / {len(player)}")
        if step.phase == "backward":
            reached.add(f"v{step.node}")
        lines = dict(browser.execute_script(_EDGE_LINES))
        for title, number in by_hand.items():
            symbol, shown = lines[title][0], lines[title][1]
            assert symbol.startswith("∂"), (k, title, lines[title])  # the formula itself stays in view
            written = f"= {format_number(number)}"
            if step.phase == "result" or title.split("->")[0] in reached or symbol.endswith(written):
                assert shown == written, (k, step.title, title, shown)  # (∂z²/∂b² = 1 over "= 1" tells nothing)
            else:
                assert shown == "= ?", (k, step.title, title, shown)
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


# --- (f) a parameter used outside the Value drawn: one pass of a larger cost, not several passes ---------------------
def _two_costs() -> tuple[Value, Value, Value]:
    """w, c1 = (3w − 1)² and the larger cost L = c1 + (2w)², whose single backward pass filled w.grad."""
    w = Value(0.5, label="w")
    c1 = (w * 3.0 - 1.0) ** 2
    c1.label = "c1"
    total = c1 + (w * 2.0) ** 2
    total.backward()
    return w, c1, total


def test_the_key_of_a_value_inside_a_larger_cost_does_not_say_backward_passes_added_up():
    """One backward pass of L = c1 + (2w)²: w.grad = 6(3w − 1) + 8w = 7 (checked against central differences),
    and draw_graph(c1) shows c1's part, 3, flowing to w: the key must say that w is used outside the drawing too,
    not only that .grad added up over several backward passes (there was one)."""
    w, c1, _ = _two_costs()
    h = 1e-6
    numeric = (((3 * (0.5 + h) - 1) ** 2 + (2 * (0.5 + h)) ** 2) - ((3 * (0.5 - h) - 1) ** 2 + (2 * (0.5 - h)) ** 2)) \
        / (2 * h)
    assert float(w.grad) == pytest.approx(numeric, abs=1e-6) and numeric == pytest.approx(7.0)
    key = " ".join(viz.draw_graph(c1).graph_attr["label"].split())  # (its lines joined)
    assert "do not follow by the chain rule" in key, key
    assert "outside this drawing" in key and "draw the output backward() started from" in key, key


def test_the_key_still_names_accumulated_passes_after_backward_twice():
    w = Value(0.5, label="w")
    c1 = (w * 3.0 - 1.0) ** 2
    c1.backward()
    c1.backward()
    assert float(w.grad) == pytest.approx(2 * 6 * (3 * 0.5 - 1))  # two passes of 3 each
    key = viz.draw_graph(c1).graph_attr["label"]
    assert "add up over backward passes" in key and "zero_grad()" in key, key


def test_the_trees_refusal_for_a_regularised_cost_names_the_use_outside_it():
    """A chain network's cost c, backpropagated as part of L = c + 0.1·(W¹)², one pass: draw_dependency_tree(c)
    refused it saying only that W¹.grad "holds contributions from other backward passes", which there were not."""
    net, cost = _chain()
    w1 = net.layers[0].weights
    (cost + (w1 * w1).sum() * 0.1).backward()
    with pytest.raises(ValueError) as refused:
        viz.draw_dependency_tree(cost)
    message = str(refused.value)
    assert "W^1.grad" in message and "outside this cost" in message, message
    w1.zero_grad()
    net.zero_grad()
    cost.backward()  # the advice: one pass of this cost alone draws
    viz.draw_dependency_tree(cost)



def test_the_players_result_for_a_regularised_cost_names_the_use_outside_it_too():
    """The same one pass of L = c + 0.1·(W¹)²: the player of c steps through c's own pass (∂c/∂W¹ by central
    differences) and its result row says W¹'s .grad "holds other backward passes too"; a note says the other cause."""
    import re

    net, cost = _chain()
    w1 = net.layers[0].weights
    (cost + (w1 * w1).sum() * 0.1).backward()
    player = viz.backprop_player(cost)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", player.steps[-1].html))

    def c_at(w: float) -> float:
        a1 = _sigmoid(w * 0.5 + 0.3)
        return (_sigmoid(0.5 * a1 + 0.9) - 0.25) ** 2

    numeric = (c_at(0.6 + 1e-6) - c_at(0.6 - 1e-6)) / 2e-6
    shown = re.search(r"W¹ (\S+) (\S+) ≠ \.grad", text)
    assert shown, text
    assert float(shown.group(1)) == pytest.approx(numeric, rel=1e-3)
    assert float(shown.group(2)) == pytest.approx(numeric + 0.2 * 0.6, rel=1e-3)  # L's: c's part and 0.2·W¹
    assert "outside this one" in text and "regularisation" in text, text

# --- (d) an operation's oval cut at 40 characters: the ellipsis shows the cut, the tooltip holds the whole text -----
_XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


def _picked() -> tuple[Value, Value]:
    """W (3 × 3), and C = Σ W[rows, columns]·(1..5) with W[0, 1] picked twice: ∂C/∂W by the picks' weights."""
    w = Value(np.arange(9.0).reshape(3, 3) / 4 - 1, label="W")
    picked = w[[0, 0, 1, 0, 2], [1, 2, 0, 1, 2]]
    picked.label = "p"
    cost = (picked * np.arange(1.0, 6.0)).sum()
    cost.label = "C"
    return w, cost


@needs_dot
def test_a_cut_ovals_whole_text_is_its_tooltip_in_the_svg(tmp_path):
    import xml.etree.ElementTree as ET

    w, cost = _picked()
    cost.backward()
    expected = np.zeros((3, 3))
    np.add.at(expected, ([0, 0, 1, 0, 2], [1, 2, 0, 1, 2]), np.arange(1.0, 6.0))  # W[0, 1]: 1 + 4
    assert w.grad == pytest.approx(expected) and w.grad[0, 1] == 5.0
    whole = "index(key=([0, 0, 1, 0, 2], [1, 2, 0, 1, 2]))"
    assert len(whole) > 40
    root = ET.parse(viz.render(viz.draw_graph(cost), tmp_path / "picked.svg")).getroot()
    ovals = {}
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") == "node" and g.find("{http://www.w3.org/2000/svg}title").text.startswith("op"):
            texts = ["".join(t.itertext()) for t in g.iter("{http://www.w3.org/2000/svg}text")]
            links = [a.get(_XLINK_TITLE) for a in g.iter("{http://www.w3.org/2000/svg}a")]
            ovals[texts[0]] = links
    cut = next(text for text in ovals if text.startswith("index("))
    assert cut.endswith("…") and len(cut) == 40 and whole.startswith(cut[:-1])  # the cut shows
    assert ovals[cut] == [whole]  # and the whole text is there, on hover
    assert ovals["mul"] == [] and ovals["sum"] == []  # (an oval not cut has no tooltip: it says it all)


@needs_dot
def test_the_player_outlines_a_cut_oval_in_red_at_its_forward_step(browser, tmp_path):
    """The tooltip wraps the oval's shapes in a link: the page's red outline must still reach its ellipse."""
    from selenium.webdriver.support.ui import WebDriverWait

    _, cost = _picked()
    player = viz.backprop_player(cost, layout="graph")
    browser.get("about:blank")
    browser.get(player.save(tmp_path / "picked.html").resolve().as_uri())
    k = next(k for k, step in enumerate(player.steps, start=1) if step.phase == "forward" and step.title.endswith(" p"))
    browser.execute_script(f"location.hash = '#step={k}'")
    WebDriverWait(browser, 5).until(
        lambda driver: driver.find_element("css selector", ".counter").text == f"step {k} / {len(player)}")
    strokes = browser.execute_script(
        "return Array.from(document.querySelectorAll('.drawing g.node.current ellipse')).map(function (e) {"
        "  return getComputedStyle(e).stroke; });")
    assert strokes == ["rgb(208, 0, 0)"], strokes
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []


# --- (b) more runs than colours × line styles: no two runs, nor their legend entries, look alike --------------------
@pytest.mark.parametrize(("style", "count"), [("default", 50), ("default", 130), ("seaborn-v0_8", 30)])
def test_a_sweep_of_more_runs_than_colours_times_styles_has_no_twins_in_the_legend(style, count):
    """10 colours × 4 line styles: run 51 was drawn as run 11 (blue, dotted), run 41 of seaborn's 6 colours as run
    17, and the legend had two identical entries for two learning rates."""
    import matplotlib.style
    from matplotlib.colors import to_hex

    from tinygrad_edu import plots
    from tinygrad_edu.training import History

    histories = {f"η = {0.001 * (i + 1):.3f}": History(cost=list(np.exp(-np.arange(12.0) * (i + 1) / count)),
                                                       step_size=[0.001 * (i + 1)] * 12) for i in range(count)}
    with matplotlib.style.context(style):
        fig = plots.plot_history(histories)

    def looks(lines):
        return [(to_hex(line.get_color()), line.get_linestyle(), str(line.get_marker())) for line in lines]

    def runs(ax):
        return [line for line in ax.get_lines() if line.get_label() in histories]

    costs, steps = runs(fig.axes[0]), runs(fig.axes[1])
    assert [line.get_label() for line in costs] == list(histories)
    drawn = looks(costs)
    twins = [(i + 1, drawn.index(look) + 1) for i, look in enumerate(drawn) if drawn.index(look) != i]
    assert not twins, f"runs drawn alike (run, its twin): {twins[:5]}"
    assert [look[:2] for look in looks(steps)] == [look[:2] for look in drawn]  # in its cost curve's colour, style
    for (_, _, dots), (_, _, marker) in zip(looks(steps), drawn, strict=True):
        assert dots == (marker if marker != "None" else "."), (dots, marker)  # and marker (else the dots they had)
    handles = [h for h, text in zip(fig.legends[0].legend_handles, fig.legends[0].get_texts(), strict=True)
               if text.get_text() in histories]
    assert looks(handles) == drawn  # the legend shows each run as drawn
    assert all(marker == "None" for _, _, marker in drawn[:40 if style == "default" else 24])  # the first unchanged
    for line in costs:  # a marker is drawn on a few of the run's points, the costs themselves
        marked = line.get_markevery()
        if line.get_marker() not in (None, "None"):
            assert marked and all(0 <= j < 12 for j in marked), marked
            assert 2 <= len(marked) <= 12
