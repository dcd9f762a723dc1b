"""The package's pictures and pages as an accessibility auditor checks them against WCAG 2.1 AA: a text alternative
for a plot saved as SVG (1.1.1, read in real headless Chromium's accessibility tree), 3:1 contrast for the lines a
drawing needs to be understood (1.4.11), and the player's highlights against the fills they outline."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from helpers_drawings import contrast

from tinygrad_edu import Value, losses, nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"


def _chain_cost() -> Value:
    model = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = losses.squared_error(model(np.array([0.5])), np.array([0.25]))
    cost.label = "C"
    cost.backward()
    return cost


def _svg_name(browser, path: Path) -> str:
    """The name Chromium's accessibility tree gives the picture itself (the document of an SVG file opened alone)."""
    browser.get("about:blank")
    browser.get(path.resolve().as_uri())
    browser.execute_cdp_cmd("Accessibility.enable", {})
    try:
        nodes = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    finally:
        browser.execute_cdp_cmd("Accessibility.disable", {})
    roots = [node for node in nodes if node.get("role", {}).get("value") in ("RootWebArea", "graphics-document")]
    return " ".join(node.get("name", {}).get("value", "") for node in roots).strip()


# --- defects -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["activations", "descent"])
def test_a_plot_saved_as_svg_is_named_by_its_titles_for_a_screen_reader(which, tmp_path, browser):
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    path = tmp_path / f"{which}.svg"
    if which == "activations":
        fig = plots.plot_activations(path=path)
    else:
        fig = plots.plot_descent(lambda x: (x ** 2).sum(), [1.0, 2.0], path=path)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles  # (what the picture says it shows, panel by panel)
    root = ET.parse(path).getroot()
    title = root.find(f"{SVG}title")  # a child of <svg> itself: the SVG's text alternative
    assert title is not None and all(text in title.text for text in titles), title
    name = _svg_name(browser, path)
    assert all(text in name for text in titles), name


@needs_dot
@pytest.mark.parametrize("which", ["tree", "graph cut short"])
def test_every_edge_a_drawing_needs_has_3_to_1_contrast_on_the_page(which, tmp_path):
    """An edge is what says which Value feeds which (WCAG 1.4.11: a graphic needed to understand the content)."""
    cost = _chain_cost()
    drawing = viz.draw_dependency_tree(cost) if which == "tree" else viz.draw_graph(cost, max_nodes=6)
    root = ET.parse(viz.render(drawing, tmp_path / "drawing.svg")).getroot()
    strokes = [shape.get("stroke") for g in root.iter(f"{SVG}g") if g.get("class") == "edge"
               for shape in g if shape.tag == f"{SVG}path"]
    assert len(strokes) > 3
    low = {stroke: round(contrast(stroke, "#ffffff"), 2) for stroke in strokes if contrast(stroke, "#ffffff") < 3}
    assert low == {}
    dashed = [g for g in root.iter(f"{SVG}g") if g.get("class") == "edge"
              and any(shape.get("stroke-dasharray") for shape in g)]
    assert dashed  # (the drawing has the edges this is about: a constant's, or the left-out Values')


# --- guards: right today, to be kept -------------------------------------------------------------------------------
_HIGHLIGHTS = """var found = [], marked = '.drawing g.node.current, .drawing g.node.done, .drawing g.edge.lit';
    document.querySelectorAll(marked).forEach(function (g) {
      var kind = g.classList.contains('current') ? 'current' : g.classList.contains('done') ? 'done' : 'lit';
      var shapes = g.querySelectorAll(':scope > polygon, :scope > ellipse, :scope > path');
      var fill = 'rgb(255, 255, 255)';
      shapes.forEach(function (s) {
        var f = getComputedStyle(s).fill;
        if (kind !== 'lit' && f && f !== 'none' && !/, 0\\)$/.test(f)) { fill = f; }
      });
      var shape = shapes[shapes.length - 1], style = getComputedStyle(shape);
      found.push([kind, style.stroke, parseFloat(style.strokeWidth), fill]);
    });
    return found;"""


def _hex(rgb: str) -> str:
    numbers = [int(float(n)) for n in re.findall(r"[\d.]+", rgb)[:3]]
    return "#" + "".join(f"{n:02x}" for n in numbers)


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_the_players_highlights_stand_out_3_to_1_from_the_fill_they_outline_and_the_page(layout, browser, tmp_path):
    """At a backward step in the middle, the step's Value (thick), the Values found before and the lit edges, from
    the browser's computed styles: each outline 3:1 against the node's fill and the white page (WCAG 1.4.11), and the
    current one thicker than the ones found, so it is not told by colour alone."""
    cost = _chain_cost()
    player = viz.backprop_player(cost, layout=layout)
    backward = [k for k, step in enumerate(player.steps, start=1) if step.phase == "backward"]
    url = player.save(tmp_path / "player.html").resolve().as_uri()
    browser.get("about:blank")
    browser.get(f"{url}#step={backward[len(backward) // 2]}")
    found = browser.execute_script(_HIGHLIGHTS)
    kinds = {kind for kind, *_ in found}
    assert kinds == {"current", "done", "lit"}, found
    widths: dict[str, set[float]] = {}
    for kind, stroke, width, fill in found:
        widths.setdefault(kind, set()).add(width)
        for background in (fill, "rgb(255, 255, 255)"):
            assert contrast(_hex(stroke), _hex(background)) >= 3, (kind, stroke, background)
    assert min(widths["current"]) > max(widths["done"]), widths
