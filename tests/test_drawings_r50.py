"""Round 50, drawings and the backprop player, as a student who learns backpropagation by drawing the seed's figures.

- backprop_player walked the whole graph twice before drawing: once for the max_nodes Values nearest the output,
  once more in its tree player to count the labelled Values of them all (one walk gives both).
- The dependency tree filled its nodes in five colours (cost, activation α, pre-activation z, weight or bias, constant)
  and said nowhere what they meant, where draw_graph's drawing has a key: it has one, of the colours it uses.
- The player outlines the step's Value in thick red and those whose gradient is found in purple, and said so only to
  a screen reader: a legend under its controls says it to everyone, hidden where there is no drawing.
- The player's first step listed the leaves as the walk back from the cost met them (the target, b², W², b¹, α⁰, W¹):
  it lists them in the order the forward pass, which it introduces, uses them (α⁰, W¹, b¹, W², b², the target).
"""

import re
import shutil
import subprocess

import numpy as np
import pytest
from helpers_drawings import dot_json

from tinygrad_edu import Value, losses, nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _chain_cost() -> Value:
    """The seed's section 6.3 network, two sigmoid neurons in a chain, and its squared error at input 0.5, target 1."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    return losses.squared_error(model(np.array([0.5])), np.array([1.0]))


# --- backprop_player walks the graph once ----------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["auto", "graph", "tree"])
def test_the_player_walks_the_whole_graph_once(monkeypatch, layout) -> None:
    """viz's walks of the graph from the cost: one, whose first max_nodes Values are the ones drawn."""
    walks: list[object] = []
    walk = viz.nearest_values

    def counted(root, limit=None):
        walks.append(limit)
        return walk(root, limit)

    monkeypatch.setattr(viz, "nearest_values", counted)
    player = viz.backprop_player(_chain_cost(), layout=layout)
    assert len(walks) == 1
    assert len(player.steps) > 3  # (the page was made: its steps)


# --- the dependency tree says what its colours mean -------------------------------------------------------------------
def _seed_tree_cost() -> Value:
    """Section 6.3 in the seed's own names: C = (α^L − 0.25)², α^L = σ(z^L), z^L = w_3·α^(L−1) + b_3."""
    a = Value(0.6, requires_grad=False, label="α^(L-1)")
    w3, b3 = Value(0.9, label="w_3"), Value(0.1, label="b_3")
    z = w3 * a + b3
    z.label = "z^L"
    out = z.sigmoid()
    out.label = "α^L"
    cost = (out - 0.25) ** 2
    cost.label = "C"
    return cost


@needs_dot
@pytest.mark.parametrize("make", [_chain_cost, _seed_tree_cost])
def test_the_tree_drawing_has_a_key_naming_each_colour_it_uses(make) -> None:
    """Five colours (cost, α, z, parameters, constants) stood in the drawing with no word on them, as draw_graph's
    has: the key names every fill colour drawn, in the seed's letters, and no colour that is not drawn."""
    drawing = viz.draw_dependency_tree(make())
    read = dot_json(drawing)
    key, where = read["label"], read["labelloc"]
    assert where == "b"
    for words in ("gold: the cost C", "blue: an activation α", "lilac: a pre-activation z = w·α + b",
                  "green: a weight or bias (trained)", "grey: an input or a constant (dashed edge: no gradient)"):
        assert words in key, (words, key)
    assert key.count("green:") == 1  # (weights and biases share one colour: said once)
    fills = set(re.findall(r'fillcolor="(#[0-9a-f]{6})"', drawing.source))
    named = {"gold": viz.COLORS["output"], "blue": viz.COLORS["intermediate"], "lilac": "#ede7f6",
             "green": viz.COLORS["parameter"], "grey": viz.COLORS["constant"]}
    assert fills == set(named.values())


@needs_dot
def test_the_tree_key_names_only_the_colours_drawn() -> None:
    """A cost of one labelled parameter and an unlabelled constant: a cost, a weight and no α, z or input."""
    w = Value(0.5, label="w")
    cost = (w * 3.0) ** 2
    cost.label = "C"
    key = dot_json(viz.draw_dependency_tree(cost))["label"]
    assert "gold: the cost C" in key and "green:" in key
    assert "blue" not in key and "lilac" not in key and "grey" not in key


@needs_dot
def test_the_tree_key_stays_inside_the_picture(tmp_path) -> None:
    """The key's lines end inside the SVG's width with room for a wider font (as draw_graph's key, round 48)."""
    drawing = viz.draw_dependency_tree(_seed_tree_cost())
    svg = subprocess.run(["dot", "-Tsvg"], input=drawing.source.encode(), capture_output=True, check=True).stdout
    lines = re.findall(r"<text[^>]*>([^<]*(?:gold|grey)[^<]*)</text>", svg.decode())
    assert len(lines) == 2, lines
    width = float(re.search(rb'<svg width="([\d.]+)pt"', svg).group(1))
    longest = max(len(line) for line in lines)
    assert width > longest * 4.9 * 1.1  # Helvetica at 11 points: about 5.4 points a character, DejaVu 15 % wider


# --- the player's page says what its red and purple outlines mean -----------------------------------------------------
_OUTLINES = """var stroke = function (selector) {
      var shape = document.querySelector(selector);
      return shape ? getComputedStyle(shape).stroke : null; };
    var border = function (selector) { return getComputedStyle(document.querySelector(selector)).borderTopColor; };
    var legend = document.querySelector('.legend');
    return {current: stroke('.drawing g.node.current > path, .drawing g.node.current > polygon'),
            done: stroke('.drawing g.node.done > path, .drawing g.node.done > polygon'),
            currentSwatch: border('.legend .swatch.current'), doneSwatch: border('.legend .swatch.done'),
            shown: legend.getClientRects().length > 0 && !legend.hidden, text: legend.textContent.replace(/\\s+/g, ' '),
            fits: legend.scrollWidth <= legend.clientWidth};"""


def _open_at(browser, page, step: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get("about:blank")
    browser.get(page.resolve().as_uri() + f"#step={step}")
    WebDriverWait(browser, 5).until(lambda driver: driver.find_element("css selector", ".counter").text.startswith(
        f"step {step} /"))


@needs_dot
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_the_player_has_a_legend_of_its_outlines_in_their_colours(browser, tmp_path, layout, width) -> None:
    """Thick red (the step's Value) and purple (∂C/∂· found) outlines said nothing on the page but to a screen reader:
    a legend under the controls names them, each beside a swatch drawn in the colour the drawing uses, at a desk's
    width and a phone's."""
    player = viz.backprop_player(_chain_cost(), layout=layout)
    page = player.save(tmp_path / "player.html")
    browser.set_window_size(width, 900)
    try:
        backward = [k for k, step in enumerate(player.steps, start=1) if step.phase == "backward"]
        _open_at(browser, page, backward[2])  # (two Values found, a third in hand)
        seen = browser.execute_script(_OUTLINES)
    finally:
        browser.set_window_size(1200, 900)
    assert seen["shown"] and seen["fits"], seen
    for words in ("this step's Value", "gradient found", "faded: not computed yet", "?: not found yet"):
        assert words in seen["text"], seen["text"]
    assert seen["current"] == seen["currentSwatch"] == "rgb(208, 0, 0)"
    assert seen["done"] == seen["doneSwatch"] == "rgb(112, 48, 160)"


def test_a_page_without_a_drawing_hides_the_legend(browser, tmp_path, monkeypatch) -> None:
    """Without Graphviz the page has the steps and no drawing: nothing is outlined, so no legend shows."""

    def no_dot(*args, **kwargs):
        raise FileNotFoundError("dot")

    monkeypatch.setattr(viz, "_laid_out", no_dot)
    page = viz.backprop_player(_chain_cost()).save(tmp_path / "player.html")
    _open_at(browser, page, 1)
    assert browser.execute_script("return document.querySelector('.drawing svg')") is None
    assert browser.execute_script("return document.querySelector('.legend').getClientRects().length") == 0


# --- the first step lists the leaves in the order the forward pass uses them -----------------------------------------
@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_the_leaves_are_listed_in_the_order_the_forward_pass_uses_them(layout) -> None:
    """The first step's table listed the leaves as the walk back from the cost met them (the target 1, b², W², b¹, α⁰,
    W¹): the forward pass, which the step introduces, takes the input first, then layer 1's weight and bias, then
    layer 2's, and the target last, at the cost."""
    steps = viz.backprop_player(_chain_cost(), layout=layout).steps
    rows = re.findall(r"<tr><td>(.*?)</td>", steps[0].html)
    assert rows == ["α⁰", "W¹", "b¹", "W²", "b²", "1"]


@needs_dot
def test_the_tree_keys_lines_are_no_wider_than_the_seeds_small_tree() -> None:
    """The key of five colours in two lines (98 letters) made the seed's three-parameter tree wider than its nodes and
    a phone scroll sideways in the player: two colours a line, each line narrower than the tree's bottom row."""
    drawing = viz.draw_dependency_tree(_seed_tree_cost())
    lines = dot_json(drawing)["label"].split("<BR/>")
    assert len(lines) == 3 and all(len(re.sub(r"<[^>]+>", "", line)) <= 75 for line in lines), lines
