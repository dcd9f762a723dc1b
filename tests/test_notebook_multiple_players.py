"""A teacher's notebook page with several backprop players and several drawings in it (as JupyterLab shows it and as
``jupyter nbconvert --to html`` exports it): each player in a frame of its own, the drawings inline next to them.

Defects (xfail, strict): the player's frame was ``width: 100%`` plus a 1 px border, so 2 px wider than the output
area, and JupyterLab (and the exported page) put a horizontal scroll bar under every player; and ``backprop_player``
took no title, so every player of a page was headed, and its frame named for a screen reader, "Backpropagation, step
by step", with no way to tell them apart.

Guards: two players and a drawing in one page step apart (a click or a key in one never moves the other, nor scrolls
the page), with no console error and the notebook's own styles untouched; the drawings hold no reference by id
(gradients, markers, clip paths) and no style sheet, so several inline in one page cannot cross-wire or restyle it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.losses import squared_error


def _neuron() -> tuple[Value, Value, Value]:
    w, a, b = Value(0.5, label="w"), Value(2.0, label="a"), Value(-0.3, label="b")
    cost = ((w * a + b).sigmoid() - 1.0) ** 2
    cost.backward()
    return w, b, cost


def _shared() -> Value:
    x, y = Value(1.5, label="x"), Value(-2.0, label="y")
    return (x * y + x * x).tanh() ** 2


def _chain() -> Value:
    network = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    cost = squared_error(network(np.array([0.5])), Value(np.array([0.25]), requires_grad=False, label="y′"))
    cost.backward()
    return cost


def _svg(drawing: viz.Drawing) -> str:
    return drawing._repr_mimebundle_()["image/svg+xml"]


# a notebook page as nbconvert's lab template writes it: each output in a box that scrolls what overflows it
_NOTEBOOK = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>notebook</title><style>
  body {{ margin: 0; font: 14px sans-serif; }}
  .jp-OutputArea-output {{ overflow-x: auto; width: {width}px; margin: 8px; }}
</style></head><body>
<h1 id="own-heading">Several players</h1><table id="own-table"><tr><td>a</td><td>1</td></tr></table>
<button id="own-button">mine</button><div style="height: 300px"></div>
{outputs}
<div style="height: 1500px"></div></body></html>"""


def _page(tmp_path: Path, name: str, outputs: list[str], width: int = 900) -> str:
    boxes = "\n".join(f'<div class="jp-OutputArea-output">{output}</div>' for output in outputs)
    path = tmp_path / name
    path.write_text(_NOTEBOOK.format(width=width, outputs=boxes), encoding="utf-8")
    return path.resolve().as_uri()


# --- defects -------------------------------------------------------------------------------------------------
def test_the_players_frame_fits_in_its_output_without_a_scroll_bar(browser, tmp_path):
    players = [viz.backprop_player(_neuron()[2], layout="graph")._repr_html_(),
               viz.backprop_player(_chain())._repr_html_()]
    for width in (900, 600):  # beside JupyterLab's side panel the output is narrower, the frame stacks its panels
        browser.get(_page(tmp_path, f"fits{width}.html", players, width))
        sizes = browser.execute_script("""return Array.from(document.querySelectorAll('.jp-OutputArea-output'))
            .map(box => [box.scrollWidth, box.clientWidth,
                         box.querySelector('iframe').getBoundingClientRect().width])""")
        assert len(sizes) == 2
        for scroll_width, client_width, frame_width in sizes:
            assert frame_width == pytest.approx(width, abs=0.5)  # the whole width...
            assert scroll_width <= client_width, (width, scroll_width, client_width)  # ...and not a pixel more


def test_each_player_of_a_page_can_be_named_apart():
    first = viz.backprop_player(_neuron()[2], layout="graph", title="One neuron: C = (σ(w·a + b) − 1)²")
    second = viz.backprop_player(_chain(), title="A chain of three layers")
    frames = [re.search(r'<iframe [^>]*title="([^"]*)"', player._repr_html_()) for player in (first, second)]
    assert [frame.group(1) for frame in frames if frame] == ["One neuron: C = (σ(w·a + b) − 1)²",
                                                             "A chain of three layers"]
    assert "<h1>A chain of three layers</h1>" in second.html()
    for bad, error in (("", ValueError), (3, TypeError)):  # an unnamed frame, or a number
        with pytest.raises(error, match=r"^backprop_player: title must be a non-empty str"):
            viz.backprop_player(_shared(), title=bad)


# --- guards --------------------------------------------------------------------------------------------------
def test_guard_two_players_and_a_drawing_in_one_page_step_apart_and_leave_the_notebook_alone(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    w, b, cost = _neuron()
    first, second = viz.backprop_player(cost, layout="graph"), viz.backprop_player(_shared(), layout="graph")
    before = _page(tmp_path, "empty.html", [])
    after = _page(tmp_path, "several.html", [first._repr_html_(), _svg(viz.draw_graph(cost)), second._repr_html_(),
                                             first._repr_html_()])  # the first shown again, as a re-run cell does
    own = """return ['#own-heading', '#own-table td', '#own-button'].map(s => {
        const style = getComputedStyle(document.querySelector(s));
        return [style.color, style.backgroundColor, style.fontSize, style.fontFamily, style.borderTopWidth]; })"""
    browser.get(before)
    plain = browser.execute_script(own)
    browser.get_log("browser")
    browser.get(after)
    assert browser.execute_script(own) == plain  # no style of the players' or the drawing's reaches the notebook
    frames = browser.find_elements("css selector", "iframe")
    assert len(frames) == 3

    def counters() -> list[str]:
        shown = []
        for frame in frames:
            browser.switch_to.frame(frame)
            shown.append(browser.execute_script("return document.querySelector('.counter').textContent"))
            browser.switch_to.default_content()
        return shown

    steps = [len(first), len(second), len(first)]
    assert counters() == [f"step 1 / {n}" for n in steps]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", frames[1])
    top = browser.execute_script("return window.scrollY")
    browser.switch_to.frame(frames[1])
    browser.find_element("css selector", "[data-go=next]").click()
    for key in (Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.SPACE, Keys.SPACE, Keys.END):  # the keys go where the focus is
        ActionChains(browser).send_keys(key).perform()
    browser.switch_to.default_content()
    assert counters() == [f"step 1 / {steps[0]}", f"step {steps[1]} / {steps[1]}", f"step 1 / {steps[0]}"]
    assert browser.execute_script("return window.scrollY") == top  # End and space did not scroll the notebook
    browser.switch_to.frame(frames[2])
    browser.find_element("css selector", "[data-go=last]").click()
    last = browser.execute_script("return document.querySelector('.explanation').textContent")
    browser.switch_to.default_content()
    assert counters() == [f"step 1 / {steps[0]}", f"step {steps[1]} / {steps[1]}", f"step {steps[0]} / {steps[0]}"]
    # the third frame's last step is its own cost's: ∂C/∂w = a·σ′(z)·2(σ(z) − 1), ∂C/∂b = σ′(z)·2(σ(z) − 1)
    s = 1 / (1 + np.exp(-(0.5 * 2.0 - 0.3)))
    for name, closed_form in (("w", 2.0 * s * (1 - s) * 2 * (s - 1)), ("b", s * (1 - s) * 2 * (s - 1))):
        shown = re.search(rf"{name}(-?[\d.]+(?:e-?\d+)?)", last.split("parameter")[-1])
        assert shown and float(shown.group(1)) == pytest.approx(closed_form, rel=1e-3), (name, last)
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []


@pytest.mark.parametrize("drawing", ["graph", "tree", "network", "player"])
def test_guard_a_drawing_refers_to_nothing_by_id_and_brings_no_style_sheet(drawing):
    """Graphviz numbers its ids the same in every picture (graph0, node1, ...); nbconvert's ``skip_svg_encoding``, the
    classic Notebook and VS Code put the SVGs inline, so a gradient, marker or clip path used by ``url(#id)`` would
    take the first picture's, and a <style> would restyle the notebook."""
    svg = {"graph": lambda: _svg(viz.draw_graph(_neuron()[2])),
           "tree": lambda: _svg(viz.draw_dependency_tree(_chain())),
           "network": lambda: _svg(viz.draw_network(nn.Network(nn.Layer(2, 3, "sigmoid", rng=0),
                                                               nn.Layer(3, 1, "tanh", rng=1)))),
           "player": lambda: viz.backprop_player(_shared(), layout="graph").drawing_svg or ""}[drawing]()
    assert "<svg" in svg and 'id="graph0"' in svg  # a Graphviz picture, with the ids every picture has
    assert re.findall(r"url\(\s*['\"]?#|href=\"#", svg) == []
    assert "<style" not in svg and "<script" not in svg
