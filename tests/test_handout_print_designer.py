"""A teacher printing handouts and slides from the drawings and plots: long labels, numbers near 1e-12 and 1e12, NaN,
files of a given size; each defect test asserts what the printed figure should show."""

import html
import re
import shutil
import struct
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.notation import format_number
from tinygrad_edu.viz import draw_dependency_tree, draw_graph, render

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

_LONG = "Anfangsgewicht_der_ersten_Schicht_für_die_Übung_mit_einem_langen_Namen_äöü"


def test_drawing_a_graph_with_a_nan_gradient_warns_about_nothing():
    w = Value(2.0, label="w")
    cost = (w * float("nan")) * 3.0
    cost.backward()
    assert np.isnan(w.grad)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        source = draw_graph(cost).source
    assert [str(warning.message) for warning in caught] == []
    assert "add up over backward passes" not in source  # one backward pass: the key says nothing of several


def test_the_tree_shows_the_gradient_of_a_parameter_with_a_long_label():
    a = Value(3.0, label=_LONG)
    cost = (a * 2.0 - 1.0) ** 2
    cost.label = "C"
    cost.backward()
    expected = format_number(2 * (2 * 3.0 - 1.0) * 2.0)  # dC/da = 2(2a − 1)·2 = 20
    assert a.grad == pytest.approx(20.0)
    source = draw_dependency_tree(cost).source
    assert re.search(r"∂C/∂Anfangsgewicht[^<]*= " + re.escape(expected) + "[<>]", source), source


def _colour_bar_labels(fig):
    fig.canvas.draw()
    bar = fig.axes[-1]
    labels = [(float(t.get_position()[1]), t.get_text()) for t in bar.get_yticklabels() if t.get_text()]
    return labels, bar.yaxis.get_offset_text().get_text()


@pytest.mark.parametrize("scale, start", [(1e-12, [0.9, 0.8]), (1e12, [0.9, 0.8]), (1e-12, [-2.0, 1.0])])
def test_each_colour_bar_label_is_the_cost_of_its_level(scale, start):
    plots = pytest.importorskip("tinygrad_edu.plots")
    pytest.importorskip("matplotlib")
    bowl = lambda p: scale * (p[0] ** 2 + 10 * p[1] ** 2)  # noqa: E731
    # a window whose grid holds the minimum (costs from 0: evenly spaced levels), or one away from it (a deep valley
    # of log-spaced levels)
    bounds = (-1.0, 1.0, -1.0, 1.0) if start == [0.9, 0.8] else None
    fig = plots.plot_descent(bowl, start, 0.01 / scale, steps=3, resolution=21, bounds=bounds)
    labels, offset = _colour_bar_labels(fig)
    assert offset == "" and len(labels) >= 3, (offset, labels)
    for value, text in labels:
        assert float(text.replace("−", "-")) == pytest.approx(value, rel=0.05, abs=1e-3 * scale), (value, text)


# --- guards ---------------------------------------------------------------------------------------------------------
def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_dot
def test_draw_graphs_size_and_a_dpi_set_on_the_drawing_reach_the_png(tmp_path):
    """A handout's figure 2 inches square at most, and the same figure at twice Graphviz's 96 dpi for print."""
    w, b = Value(0.5, label="w"), Value(-0.3, label="b")
    cost = ((w * 2.0 + b).sigmoid() - 1.0) ** 2
    cost.backward()
    natural = _png_size(render(draw_graph(cost, size=None), tmp_path / "natural.png"))
    small = _png_size(render(draw_graph(cost, size="2,2"), tmp_path / "small.png"))
    assert max(small) <= 2 * 96 + 2 and max(natural) > 2 * 96 + 2, (small, natural)
    sharp = draw_graph(cost, size=None)
    sharp.attr(dpi="192")
    doubled = _png_size(render(sharp, tmp_path / "sharp.png"))
    assert all(abs(d - 2 * n) <= 4 for d, n in zip(doubled, natural, strict=True)), (doubled, natural)


@needs_dot
def test_a_long_non_ascii_label_keeps_its_letters_in_the_svg(tmp_path):
    """The SVG a handout prints holds the label's own letters (cut with an ellipsis), not escapes or question marks."""
    w = Value(1e-12, label=_LONG)
    cost = (w * 1e12 - 1.0) ** 2
    cost.backward()
    svg = html.unescape(render(draw_graph(cost), tmp_path / "graph.svg").read_text(encoding="utf-8"))
    assert "Anfangsgewicht_der_ersten_Schicht_für_die_Übung" in svg and "…" in svg
    assert "data 1e-12" in svg and "data 1e+12" in svg
