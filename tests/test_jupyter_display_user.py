"""A teacher who only ever looks at things as the last expression of a Jupyter cell: Values, drawings, players and
plots, in a real kernel (nbclient) and through their ``_repr_*`` methods, including objects in a bad state (a
drawing whose ``dot`` failed, a cost whose graph went stale after a training cell) and very large ones."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim, viz

ROOT = Path(__file__).resolve().parent.parent
SVG_TEXT = "{http://www.w3.org/2000/svg}text"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


class _Tags(HTMLParser):
    """The tags of an HTML fragment, to tell whether they nest (a page broken by an output would not)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.mismatched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ("br", "wbr", "meta", "link", "img", "input", "hr"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.mismatched.append(tag)


def balanced(page: str) -> bool:
    tags = _Tags()
    tags.feed(page)
    tags.close()
    return not tags.open and not tags.mismatched


def squared() -> tuple[Value, Value]:
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()
    return x, y


def broken_source() -> viz.Drawing:
    """A drawing whose Graphviz source a teacher edited by hand into something ``dot`` refuses."""
    drawing = viz.draw_graph(squared()[1])
    drawing.body.append("  broken [label=<unclosed>\n")
    return drawing


def unknown_layout() -> viz.Drawing:
    drawing = viz.draw_graph(squared()[1])
    drawing.attr(layout="no_such_layout")
    return drawing


def stale_cost() -> Value:
    """A 1-1-1 network's cost, backpropagated, then a training step (the next cell): the cost's graph is stale."""
    net = nn.MLP([1, 1, 1], rng=0)
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    optim.GradientDescent(net, learning_rate=5.0).step()
    return cost


# --- a drawing whose dot failed ----------------------------------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("make, said", [(broken_source, "syntax error"), (unknown_layout, "no_such_layout")])
def test_a_drawing_whose_dot_failed_says_so_in_the_cell(make, said):
    bundle = make()._repr_mimebundle_()
    text = bundle["text/plain"]
    assert "failed" in text and said in text and "print(drawing)" in text
    assert "shown as a picture" not in text  # (the repr's claim, untrue here)
    page = bundle["text/html"]
    assert balanced(page) and "<stdin>" not in page  # dot's "<stdin>" escaped, not an unknown tag
    assert "image/svg+xml" not in bundle


@needs_dot
def test_a_drawing_whose_source_is_fine_still_shows_its_picture_only():
    bundle = viz.draw_graph(squared()[1])._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    ET.fromstring(bundle["image/svg+xml"].encode("utf-8"))


def run_cells(cells: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:
        pytest.skip("ipykernel is not installed (pip install '.[dev]')")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return [cell.outputs for cell in notebook.cells]


@needs_dot
def test_a_notebook_cell_ending_with_a_failed_drawing_shows_one_clear_message(tmp_path, monkeypatch):
    outputs = run_cells(["from tinygrad_edu import Value, viz\nx = Value(2.0, label='x')\ny = x * x\n"
                         "drawing = viz.draw_graph(y)\ndrawing.attr(layout='no_such_layout')",
                         "drawing"], tmp_path, monkeypatch)[1]
    assert [o["output_type"] for o in outputs if o["output_type"] != "stream"] == ["execute_result"]
    text = outputs[-1]["data"]["text/plain"]
    assert "failed" in text and "no_such_layout" in text


@needs_dot
def test_a_notebook_shows_each_kind_of_object_once_without_errors(tmp_path, monkeypatch):
    """What the teacher's cells show: a table for a Value, an SVG for a drawing, a frame for the player, a PNG for a
    plot; none raises, and each has a text/plain that says what it is."""
    setup = ("import numpy as np\nfrom tinygrad_edu import Value, viz, plots, History\n"
             "x = Value(2.0, label='x & <y>')\ny = (x * x).tanh()\ny.backward()\n"
             "h = History()\nh.cost, h.gradient_norm, h.step_size, h.seconds = [1.0, 0.5], [1.0, 1.0], [None] * 2, "
             "[0.0] * 2")
    outputs = run_cells([setup, "x", "viz.draw_graph(y)", "viz.backprop_player(y)", "plots.plot_history(h)"],
                        tmp_path, monkeypatch)
    assert outputs[0] == []
    kinds = [sorted(cell[0]["data"]) for cell in outputs[1:]]
    assert [len(cell) for cell in outputs[1:]] == [1, 1, 1, 1]  # no error, no second copy of a figure
    assert kinds == [["text/html", "text/plain"], ["image/svg+xml", "text/plain"], ["text/html", "text/plain"],
                     ["image/png", "text/plain"]]
    value, drawing, player, plot = (cell[0]["data"] for cell in outputs[1:])
    assert "x &amp; &lt;y&gt;" in value["text/html"] and balanced(value["text/html"])
    ET.fromstring(drawing["image/svg+xml"].encode("utf-8"))
    assert player["text/html"].startswith("<iframe srcdoc=") and balanced(player["text/html"])
    assert plot["text/plain"].startswith("<Figure")


# --- a cost whose graph went stale ----------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["auto", "graph", "tree"])
@pytest.mark.parametrize("backpropagated", [True, False])
def test_the_player_of_a_stale_cost_names_itself(layout, backpropagated):
    cost = stale_cost()
    if not backpropagated:
        cost.grad = None
    with pytest.raises(ValueError, match=r"^backprop_player: the graph is stale: 'b\^2' was changed in place"):
        viz.backprop_player(cost, layout=layout)


def test_the_tree_of_a_stale_cost_names_itself_as_the_player_should():
    with pytest.raises(ValueError, match=r"^draw_dependency_tree: the graph is stale: 'b\^2'"):
        viz.draw_dependency_tree(stale_cost())


# --- very large objects ------------------------------------------------------------------------------------------
@needs_dot
def test_a_twenty_thousand_value_graph_displays_briefly_and_says_what_it_left_out():
    s = Value(1.0, label="s")
    for _ in range(5000):  # 4 new Values a round: two constants, a product and a sum
        s = s * 1.0001 + 0.5
    drawing = viz.draw_graph(s)
    svg = drawing._repr_mimebundle_()["image/svg+xml"]
    assert len(svg) < 500_000
    shown = " ".join(t.text or "" for t in ET.fromstring(svg.encode("utf-8")).iter(SVG_TEXT))
    assert "19,851 more Values left out" in shown and "showing the 150 nearest the output" in shown
    assert len(viz.backprop_player(s)._repr_html_()) < 1_000_000


@pytest.mark.usefixtures("numpy_default_print_options")  # (a notebook's suppress=True prints 0.00000e+00 as 0.)
def test_a_million_number_value_shows_a_short_table_and_line():
    big = Value(np.arange(1_000_000.0).reshape(1000, 1000))
    text, page = repr(big), big._repr_html_()
    assert "shape=(1000, 1000)" in text and len(text) < 300 and "\n" not in text
    assert "<td style='text-align:left'>(1000, 1000)</td>" in page and len(page) < 2000 and balanced(page)
    for shown in (text, page):  # the corners, each number to 6 digits: the first and the last
        assert "0.00000e+00" in shown and "9.99999e+05" in shown


# --- labels with markup in them ------------------------------------------------------------------------------
@needs_dot
@given(st.text(alphabet="ab<>&\"'-]x{}|\\;é∂", min_size=1, max_size=20))
def test_any_label_draws_into_valid_svg_and_reads_as_itself(label):
    x = Value(2.0, label=label)
    y = x * 3.0
    svg = viz.draw_graph(y)._repr_mimebundle_()["image/svg+xml"]
    texts = [t.text or "" for t in ET.fromstring(svg.encode("utf-8")).iter(SVG_TEXT)]
    assert label in texts
    page = x._repr_html_()
    cell = re.search(r"<th style='text-align:left'>label</th><td style='text-align:left'>(.*?)</td>", page)
    assert balanced(page) and html.unescape(cell.group(1)) == label
