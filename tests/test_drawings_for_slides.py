"""What a teacher preparing slides met drawing many graphs and playing them step by step (an exploratory pass):
each test states what the picture or the page should show, and fails on the defect it was written for."""

from __future__ import annotations

import re
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import backprop_steps, display_names, tree_steps
from tinygrad_edu.viz import backprop_player, draw_graph, render

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _text_of(html: str) -> str:
    """The visible text of a step's HTML, roughly as a browser shows it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


def _steps(output: Value) -> dict[str, str]:
    """The player's steps on the computation graph of ``output`` (no Graphviz needed): title → visible text."""
    if output.grad is None:
        output.backward()
    kept, total = nearest_values(output)
    return {step.title: _text_of(step.html) for step in backprop_steps(output, kept, total, display_names(kept))}


def _network_cost() -> tuple[nn.MLP, Value]:
    """The slide's 2-3-2 network on a batch of 4 samples."""
    net = nn.MLP([2, 3, 2], rng=0)
    x = np.random.default_rng(0).normal(size=(4, 2))
    y = np.random.default_rng(1).normal(size=(4, 2))
    cost = squared_error(net(x), y)
    cost.backward()
    return net, cost


# --- draw_graph left to right ------------------------------------------------------------------------------------
@needs_dot
def test_a_network_drawn_left_to_right_keeps_readable_text(tmp_path):
    """A teacher turns the 2-3-2 network's graph sideways for a wide slide (``rankdir="LR"``, documented) and expects
    the text as readable as top to bottom, where a tall graph scrolls rather than shrinking its text.  The default
    ``size="9,100"`` caps the width, the long side of a left-to-right graph: it was scaled by 0.17 (11 pt text at
    1.9 pt, unreadable in the PNG); left to right the cap should be on the height instead."""
    net, cost = _network_cost()
    path = render(draw_graph(cost, rankdir="LR", model=net), tmp_path / "sideways.svg")
    root = ET.parse(path).getroot()
    scale = float(re.search(r"scale\(([\d.]+)", root.find(f"{SVG}g").get("transform")).group(1))
    assert 11 * scale >= 8, f"11 pt text drawn at {11 * scale:.1f} pt"


# --- the player's formulas ---------------------------------------------------------------------------------------
def test_the_local_derivative_of_a_tied_maximum_says_it_is_shared():
    """``v = [2, 2, 1]; C = v.max()``: the engine splits the gradient evenly between the two maxima (½ each, as
    PyTorch does), and the row's number says so (max 0.5), but its formula said ``∂C/∂v = 1 at the maximum, 0
    elsewhere = min 0 · mean 0.333 · max 0.5``: a formula and a number that contradict each other.  A teacher
    expects the formula to say how ties share the 1."""
    v = Value(np.array([2.0, 2.0, 1.0]), label="v")
    steps = _steps(v.max())
    text = steps["Backward 2 of 2: ∂C/∂v"]
    assert "max 0.5" in text  # the numbers: ½ to each of the two maxima
    assert re.search(r"tie|½|1/2", text), text


def test_negative_factors_and_terms_in_the_players_arithmetic_are_in_parentheses():
    """``x = -3; y = x·x + x``: the backward step for x multiplies and adds negative numbers.  The tree drawing's
    chain lines write a negative factor in parentheses (``0.5 · (-0.2)``) and so do the formulas since the last fix
    (``α − (-0.5)``); the player's product and sum columns still read ``1 × -3 = -3`` and ``1 + -3 + -3 = -5``, on
    the graph and on the dependency tree alike.  A slide should read ``1 × (-3)`` and ``1 + (-3) + (-3)``."""
    x = Value(-3.0, label="x")
    y = x * x + x
    y.label = "y"
    text = _steps(y)["Backward 3 of 3: ∂y/∂x"]
    assert "1 × (-3) = -3" in text, text
    assert "1 + (-3) + (-3) = -5" in text, text

    net = nn.Network(nn.Layer(1, 1, "tanh", rng=0), nn.Layer(1, 1, "tanh", rng=1))
    net.layers[0].weights.data[...] = -0.7
    net.layers[1].weights.data[...] = -1.2
    cost = squared_error(net(np.array([0.5])), np.array([0.9]))
    cost.backward()
    tree = {step.title: _text_of(step.html) for step in tree_steps(cost, dependency_tree(cost))}
    assert "-0.09347 × (-0.08004) = 0.007481" in tree["Backward 7 of 9: ∂C/∂W²"]


@pytest.mark.parametrize(("reduce", "formula"), [("sum", "Σ(mul₁, axis=0, keepdims=True)"),
                                                 ("mean", "mean(mul₁, axis=0, keepdims=True)"),
                                                 ("max", "max(mul₁, axis=0, keepdims=True)")])
def test_the_forward_formula_of_a_reduction_along_an_axis_names_the_axis(reduce, formula):
    """A per-column mean, ``(a·a).mean(axis=0, keepdims=True)``: the drawing's oval says ``mean(axis=0,
    keepdims=True)``, but the player's forward step said ``mean₁ = mean(mul₁)``, which a student reads as one number
    (the mean of all four, 7.5) and then sees a result of shape (1, 2).  The formula should name the axis, as the
    local derivative (``1/2 for every element``) already counts along it."""
    a = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="a")
    squares = a * a
    reduced = getattr(squares, reduce)(axis=0, keepdims=True)
    steps = _steps(reduced.sum())
    text = steps[f"Forward 2 of 3: {reduce}₁"]
    assert "shape (1, 2)" in text
    assert f"{reduce}₁ = {formula}" in text, text


# --- the player in a notebook ------------------------------------------------------------------------------------
@needs_dot
def test_stepping_a_player_in_a_notebook_does_not_scroll_the_notebook(browser, tmp_path):
    """Two players in one notebook (``_repr_html_``, each in its own frame), the first scrolled to the top of the
    window.  Stepping through it should move the drawing inside the player's own box, not the notebook: the page
    around jumped (by 27 to 62 px in these runs), moving the ▶ button away from the mouse and the cells above out of
    sight."""
    net, cost = _network_cost()
    w = Value(2.0, label="w")
    first, second = backprop_player(cost, model=net), backprop_player((w * w - 1.0) ** 2)
    page = tmp_path / "notebook.html"
    page.write_text("<!DOCTYPE html><html><body style='margin: 0'><div style='height: 300px'>cell 1</div>"
                    f"{first._repr_html_()}<div style='height: 1500px'>cell 3</div>{second._repr_html_()}"
                    "<div style='height: 1500px'>cell 5</div></body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    time.sleep(0.5)
    browser.execute_script("window.scrollTo(0, 300)")
    before = browser.execute_script("return window.scrollY")
    frame = browser.find_elements("tag name", "iframe")[0]
    browser.switch_to.frame(frame)
    try:
        for _ in range(13):  # the → key 13 times, to "Backward 6 of 11": a node in the middle of the tall drawing
            browser.execute_script("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}))")
        inside = browser.execute_script("""
            var node = document.querySelector('.drawing g.node.current').getBoundingClientRect();
            var box = document.querySelector('.drawing').getBoundingClientRect();
            return node.top >= box.top - 1 && node.bottom <= box.bottom + 1;""")
        counter = browser.find_element("css selector", ".counter").text
    finally:
        browser.switch_to.default_content()
    after = browser.execute_script("return window.scrollY")
    assert counter == f"step 14 / {len(first)}"
    assert inside  # the current Value is in view inside the player's drawing box
    assert after == before, f"the notebook scrolled from {before} to {after}"


@needs_dot
@pytest.mark.parametrize("labelled", ["weight", "cost"])
def test_a_long_label_wraps_inside_the_steps_table(browser, tmp_path, labelled):
    """A Value with a long label (200 characters, as a slide's "weight_of_the_first_neuron_…" can be): the title and
    the paragraphs wrap, but the table of the backward step did not: its local-derivative column stayed as wide as
    the label, so the product column (``7.5 × 3 = 22.5``) was outside the panel and the panel scrolled sideways
    (screenshot at #step=6).  A long cost label did the same through the header "arriving ∂cost…/∂·".  Every cell
    of the table should stay inside the panel."""
    w = Value(1.25, label="w" * 200 if labelled == "weight" else "weight")
    cost = (w * 3.0) ** 2
    if labelled == "cost":
        cost.label = "cost_of_the_whole_network_" * 8
    player = backprop_player(cost)
    url = player.save(tmp_path / "long.html").resolve().as_uri()
    browser.get(f"{url}#step={len(player) - 1}")  # the backward step of w
    found = browser.execute_script("""var panel = document.querySelector('.explanation');
        var right = panel.getBoundingClientRect().right;
        return {sideways: panel.scrollWidth > panel.clientWidth, text: panel.textContent,
                out: Array.from(panel.querySelectorAll('th, td')).filter(function (cell) {
                    return cell.getBoundingClientRect().right > right + 1; }).map(function (cell) {
                    return cell.textContent.slice(0, 40); })};""")
    assert "7.5 × 3 = 22.5" in found["text"]
    assert found["out"] == [] and not found["sideways"], found["out"]
