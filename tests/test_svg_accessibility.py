"""The drawings as a screen-reader user or a colour-blind student gets them: real text in the SVGs, WCAG contrast of
text on its fill (computed from the colours in the output), and no meaning carried by colour alone."""

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
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


# --- WCAG 2.x contrast --------------------------------------------------------------------------------------
def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the well-known "just fails AA" grey
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


# --- the drawings -------------------------------------------------------------------------------------------
def _chain_cost() -> Value:
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    cost = losses.squared_error(model(np.array([0.5])), np.array([1.0]))
    cost.backward()
    return cost


def _signed_network() -> nn.Network:
    model = nn.Network(nn.Layer(3, 4, "tanh", rng=1), nn.Layer(4, 2, "sigmoid", rng=2))
    rng = np.random.default_rng(0)
    for layer in model.layers:
        layer.weights.data[...] = rng.normal(size=layer.weights.shape)
    assert any((layer.weights.data < 0).any() for layer in model.layers)
    assert any((layer.weights.data > 0).any() for layer in model.layers)
    return model


def _svg(drawing: viz.Drawing, tmp_path: Path, name: str) -> ET.Element:
    return ET.parse(viz.render(drawing, tmp_path / f"{name}.svg")).getroot()


def _groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


@needs_dot
@pytest.mark.parametrize("which", ["graph", "tree", "network"])
def test_every_text_in_a_drawing_meets_wcag_aa_contrast_on_its_fill(which: str, tmp_path: Path) -> None:
    """Each node's text against the node's own fill colour (its first filled shape), as written in the SVG."""
    drawing = {"graph": lambda: viz.draw_graph(_chain_cost()), "tree": lambda: viz.draw_dependency_tree(_chain_cost()),
               "network": lambda: viz.draw_network(_signed_network())}[which]()
    root = _svg(drawing, tmp_path, which)
    checked = 0
    for node in _groups(root, "node"):
        fills = [s.get("fill") for s in node if s.tag in (f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path")
                 and s.get("fill") not in (None, "none", "transparent")]
        background = fills[0] if fills else "white"
        for text in node.iter(f"{SVG}text"):
            ratio = contrast(text.get("fill", "black"), background)
            assert ratio >= 4.5, f"{which}: {text.text!r} on {background}: contrast {ratio:.2f} < 4.5"
            checked += 1
    assert checked > 10


@needs_dot
def test_graph_labels_are_real_text_a_screen_reader_reads(tmp_path: Path) -> None:
    """Graphviz writes <text> (selectable, searchable), including the names with superscripts and the key."""
    root = _svg(viz.draw_graph(_chain_cost()), tmp_path, "graph")
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert {"W¹", "b³", "matmul", "sigmoid"} <= texts
    assert any(t and t.strip().startswith("green: parameter") for t in texts)


def test_plot_svg_keeps_its_words_as_text(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    path = tmp_path / "activations.svg"
    plots.plot_activations(path=path)
    texts = [t.text for t in ET.parse(path).getroot().iter(f"{SVG}text")]
    assert "tanh x" in texts and "x" in texts
    assert any(text and "σ′(x)" in text for text in texts)


@needs_dot
def test_network_weight_sign_is_not_carried_by_colour_alone(tmp_path: Path) -> None:
    model = _signed_network()
    root = _svg(viz.draw_network(model), tmp_path, "network")
    styles: dict[bool, set[str | None]] = {True: set(), False: set()}
    for edge in _groups(root, "edge"):
        link = next(a for a in edge.iter(f"{SVG}a") if a.get(XLINK_TITLE, "").startswith("w = "))
        negative = float(link.get(XLINK_TITLE, "").removeprefix("w = ")) < 0
        path = next(edge.iter(f"{SVG}path"))
        styles[negative].add(path.get("stroke-dasharray"))
    assert styles[True] and styles[False]
    assert styles[True].isdisjoint(styles[False]), styles  # the line itself differs, not only its colour
    key = next(t.text for t in root.iter(f"{SVG}text") if t.text and t.text.startswith("weights w"))
    assert "dash" in key  # and the key says how


def _shape_signature(node: ET.Element) -> set[tuple[str, str | None, str | None]]:
    """A node's outlines without their colours: what is left of it in black and white or to colour-blind eyes."""
    return {(shape.tag, shape.get("stroke-width"), shape.get("stroke-dasharray")) for shape in node
            if shape.tag in (f"{SVG}polygon", f"{SVG}ellipse", f"{SVG}path")
            and shape.get("stroke") not in (None, "transparent", "none")}


@needs_dot
def test_parameters_differ_from_constants_beyond_their_fill(tmp_path: Path) -> None:
    w, x = Value(0.5, label="w"), Value(2.0, requires_grad=False, label="x")
    cost = (w * x - 1.0) ** 2  # no backward: both boxes say "grad –", so only the drawing can tell them apart
    graph = viz.draw_graph(cost)
    root = _svg(graph, tmp_path, "graph")
    nodes = {n.findtext(f"{SVG}title"): n for n in _groups(root, "node")}
    by_label = {next(t.text for t in n.iter(f"{SVG}text")): n for n in nodes.values()
                if n.find(f"{SVG}text") is not None}
    fills = {name: next(s.get("fill") for s in by_label[name] if s.tag == f"{SVG}polygon") for name in ("w", "x")}
    assert fills == {"w": viz.COLORS["parameter"], "x": viz.COLORS["constant"]}
    assert _shape_signature(by_label["w"]) != _shape_signature(by_label["x"])


@needs_dot
def test_player_panel_text_meets_wcag_aa_contrast(tmp_path: Path) -> None:
    """The explanation panel's own text colours against its background, read from the page's stylesheet (the
    phase line has its own test below)."""
    page = viz.backprop_player(_chain_cost()).save(tmp_path / "player.html")
    css = Path(page).read_text(encoding="utf-8")
    background = re.search(r"\.explanation \{[^}]*background: (#[0-9a-fA-F]{3,6})", css).group(1)
    colors = dict(re.findall(r"\.explanation \.(\w+) \{[^}]*[^-]color: (#[0-9a-fA-F]{3,6})", css))
    assert {"result", "sum", "phase"} <= set(colors)
    del colors["phase"]
    low = {name: round(contrast(color, background), 2) for name, color in colors.items()
           if contrast(color, background) < 4.5}
    assert not low, f"panel text below 4.5:1 on {background}: {low}"


@needs_dot
def test_player_phase_line_meets_wcag_aa_contrast(tmp_path: Path) -> None:
    page = viz.backprop_player(_chain_cost()).save(tmp_path / "player.html")
    css = Path(page).read_text(encoding="utf-8")
    background = re.search(r"\.explanation \{[^}]*background: (#[0-9a-fA-F]{3,6})", css).group(1)
    phase = re.search(r"\.explanation \.phase \{[^}]*[^-]color: (#[0-9a-fA-F]{3,6})", css).group(1)
    assert contrast(phase, background) >= 4.5


@needs_dot
def test_player_iframe_is_named_for_a_screen_reader() -> None:
    """In Jupyter the player is an <iframe> whose title attribute (what a screen reader announces) is the page's
    title, escaped so that quotes in it do not cut the attribute short."""
    import html

    cost = _chain_cost()
    steps = viz.backprop_player(cost).steps
    player = viz.BackpropPlayer(steps, None, title='Backprop of "C" & friends')
    title = re.search(r'<iframe [^>]*title="([^"]*)"', player._repr_html_())
    assert title is not None and html.unescape(title.group(1)) == 'Backprop of "C" & friends'
