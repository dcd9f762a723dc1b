"""A teacher's slides in German, Greek and Chinese, with emoji, and an adversary's labels: text special to Graphviz
(backslash escapes such as \\N and \\G), to XML (lone surrogates, U+FFFF, control characters) and to matplotlib
(mathtext between $ signs) in Value labels, drawings, the player page and plot titles, run names and axis names."""

import shutil
import xml.dom.minidom

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import nn, plots, viz
from tinygrad_edu.engine import Value

matplotlib.use("Agg")

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _svg_texts(path):
    """The text of every <text> element of an SVG file (which must be well-formed XML)."""
    document = xml.dom.minidom.parse(str(path))
    return ["".join(node.data for node in text.childNodes if node.nodeType == node.TEXT_NODE)
            for text in document.getElementsByTagName("text")]


def _product(label_a, label_b, label_out):
    a, b = Value(2.0, label=label_a), Value(3.0, label=label_b)
    out = a * b
    out.label = label_out
    out.backward()
    return out


def _chain(weight_label):
    """The seed's one-neuron chain C = (σ(w·2 + b) − 0.25)², its weight labelled ``weight_label``."""
    w, b = Value(0.5, label=weight_label), Value(0.1, label="b")
    z = w * 2.0 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    cost = (a - 0.25) ** 2
    cost.label = "C"
    cost.backward()
    return cost


# --- Graphviz: a backslash in a label ------------------------------------------------------------------------------
@needs_dot
def test_graphviz_escapes_in_labels_are_drawn_as_written(tmp_path):
    label = "Gewicht \\N und \\G"
    path = viz.render(viz.draw_graph(_product(label, "β", "你好")), tmp_path / "graph.svg")
    assert label in _svg_texts(path)
    tree = viz.render(viz.draw_dependency_tree(_chain(label)), tmp_path / "tree.svg")
    assert any(label in text for text in _svg_texts(tree))


# --- XML: characters that UTF-8 or SVG cannot hold ---------------------------------------------------------------
@needs_dot
def test_lone_surrogate_in_a_label_is_blanked_like_a_control_character(tmp_path):
    path = viz.render(viz.draw_graph(_product("x\ud800y", "β", "C")), tmp_path / "graph.svg")
    assert "x y" in _svg_texts(path)
    page = viz.backprop_player(_chain("w\udc80")).save(tmp_path / "player.html").read_text(encoding="utf-8")
    assert "w " in page


@needs_dot
def test_xml_noncharacters_in_a_label_are_blanked(tmp_path):
    path = viz.render(viz.draw_graph(_product("x\uffffy", "a\ufffeb", "C")), tmp_path / "graph.svg")
    texts = _svg_texts(path)
    assert "x y" in texts and "a b" in texts


# --- matplotlib ------------------------------------------------------------------------------------------------------
def test_lone_surrogate_in_a_plot_title_is_blanked(tmp_path):
    fig = plots.plot_history([1.0, 0.5, 0.25], title="Kosten \ud800 α", path=tmp_path / "cost.png")
    assert fig.axes[0].get_title() == "Kosten   α"


def test_control_character_in_a_run_name_gives_a_well_formed_svg(tmp_path):
    plots.plot_history({"Lauf\x00 1": [1.0, 0.5], "run\x0b2": [2.0, 1.0]}, path=tmp_path / "cost.svg")
    document = xml.dom.minidom.parse(str(tmp_path / "cost.svg"))  # (matplotlib draws the text as paths)
    assert document.documentElement.tagName == "svg"


def test_invalid_mathtext_is_refused_up_front_naming_the_function():
    with pytest.raises(ValueError, match=r"plot_history: the title '\$x\^\$' is not valid mathtext"):
        plots.plot_history([1.0, 0.5], title="$x^$")
    with pytest.raises(ValueError, match=r"plot_descent: the parameter name .* mathtext"):
        plots.plot_descent(lambda p: (p * p).sum(), [1.0, 1.0], parameter_names=("$w_$", "b"))


# --- guards: what is right today and must stay so -------------------------------------------------------------------
@needs_dot
def test_unicode_and_markup_labels_are_drawn_as_text(tmp_path):
    labels = ("α β ∂ 你好 🙂 مرحبا", "<script>alert(1)</script>&amp;", 'a"b{c|d}<e>')
    path = viz.render(viz.draw_graph(_product(*labels)), tmp_path / "graph.svg")
    texts = _svg_texts(path)
    assert all(label in texts for label in labels)
    assert not xml.dom.minidom.parse(str(path)).getElementsByTagName("script")
    page = viz.backprop_player(_product(*labels)).save(tmp_path / "p.html").read_text(encoding="utf-8")
    plain = viz.backprop_player(_product("a", "b", "c")).html()
    assert page.count("</script") == plain.count("</script")  # (a label cannot end the page's scripts early)


def test_valid_mathtext_and_line_breaks_in_titles_are_kept():
    assert plots.plot_history([1.0, 0.5], title="Kosten $f(x^k)$").axes[0].get_title() == "Kosten $f(x^k)$"
    assert plots.plot_history([1.0, 0.5], title="Preis: 5 $ pro Stück").axes[0].get_title() == "Preis: 5 $ pro Stück"
    assert plots.plot_history([1.0, 0.5], title="第一行\nzweite Zeile").axes[0].get_title() == "第一行\nzweite Zeile"


def test_unicode_parameter_names_load_back_exactly(tmp_path):
    class Slide(nn.Module):
        def __init__(self):
            self.p = {name: Value(np.full(2, i, dtype=float)) for i, name in enumerate(["α", "你好", "🙂", "a\\N"])}

    model = Slide()
    model.save(tmp_path / "模型.npz")
    loaded = nn.load_state(tmp_path / "模型.npz")
    assert set(loaded) == {"p.α", "p.你好", "p.🙂", "p.a\\N"}
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[name], value)
