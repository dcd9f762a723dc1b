"""What a student sees when a cell ends with a Value, a drawing or a plot: text and Jupyter HTML, both honest."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value

ROOT = Path(__file__).resolve().parent.parent


def numbers_in(text: str) -> list[float]:
    """The numbers printed in ``text`` (as floats; ``nan`` and ``inf`` left out)."""
    return [float(found) for found in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def data_cell(page: str) -> str:
    """The text of the data row of a Value's HTML table."""
    return re.search(r"<th[^>]*>data</th><td[^>]*><pre[^>]*>(.*?)</pre>", page).group(1)


@pytest.mark.parametrize("numbers", [[1.00001, 1.00002], [0.1 + 0.2, 0.3], [1.0, 1.0 + 2 ** -40, 5.0]])
def test_different_numbers_never_print_alike(numbers):
    value = Value(numbers)  # at 4 digits, [1.00001, 1.00002] printed as [1. 1.]: equal, and exact, to the eye
    for shown in (numbers_in(re.search(r"data=\[(.*?)\]", repr(value)).group(1)),
                  numbers_in(data_cell(value._repr_html_()))):
        assert shown == pytest.approx(numbers, rel=1e-4) and len(set(shown)) == len(numbers)


def test_a_large_value_shows_its_shape_and_stays_short():
    value = Value(np.arange(10000.0).reshape(100, 100) / 7)
    text = repr(value)
    assert "shape=(100, 100)" in text and "..." in text and len(text) < 300  # "..." alone hides how many
    assert "\n" not in text
    assert len(value._repr_html_()) < 2000
    assert "shape" not in repr(Value([1.0, 2.0, 3.0]))  # a short array shows its shape itself


def test_a_nan_hidden_by_the_summary_is_named():
    data = np.zeros((100, 100))
    data[50, 50], data[60, 40], data[70, 30] = np.nan, np.nan, -np.inf
    value = Value(data)
    assert "nan" not in repr(value).split("#")[0]  # the summary shows corners only
    assert repr(value).endswith("# data holds 2 NaN and 1 inf")
    assert "data holds 2 NaN and 1 inf" in value._repr_html_()
    assert "#" not in repr(Value([1.0, np.nan]))  # shown already


def test_a_frozen_value_says_so_in_text_as_in_html():
    value = Value([1.0, 2.0])
    value.requires_grad = False
    assert repr(value) == "Value(data=[1. 2.], grad=None, requires_grad=False)"
    assert "requires_grad=False" not in repr(Value([1.0, 2.0]))
    assert "<td style='text-align:left'>False</td>" in value._repr_html_()


def test_a_gradient_that_is_a_value_is_shown_as_one():
    x = Value(2.0, label="x")
    (x ** 3).backward(create_graph=True)  # x.grad = 3x² = 12, itself a Value (np.allclose on it raises)
    assert repr(x) == "Value(data=2.0, grad=Value(12.0), label='x')"
    assert "create_graph=True" in x._repr_html_()
    y = Value(2.0)
    (y ** 3).backward()
    assert repr(y) == "Value(data=2.0, grad=12.0)" and "create_graph" not in y._repr_html_()


@pytest.mark.parametrize("number", [3.0, 12.0, -2.0, 0.1, 1e20])
def test_one_number_reads_the_same_in_text_and_html(number):
    value = Value(number)
    shown = re.search(r"data=([^,]+),", repr(value)).group(1)
    assert f"<pre style='margin:0'>{shown}</pre>" in value._repr_html_()  # the table said 3 where repr says 3.0


def test_a_drawing_says_what_to_do_with_it_outside_jupyter():
    viz = pytest.importorskip("tinygrad_edu.viz")
    drawing = viz.draw_graph(Value(2.0) * 3.0)
    assert "object at 0x" not in repr(drawing) and "viz.render" in repr(drawing)
    assert str(drawing).startswith("digraph")  # print() still gives the Graphviz source


def test_a_cost_axis_within_one_decade_has_plain_tick_labels():
    plots = pytest.importorskip("tinygrad_edu.plots")
    figure = plots.plot_history([1.3978, 1.3975, 1.3970, 1.3966])
    figure.canvas.draw()
    bottom, top = figure.axes[0].get_ylim()
    ticks = figure.axes[0].get_yticklabels() + figure.axes[0].get_yticklabels(minor=True)
    labels = [(tick.get_text(), tick.get_position()[1]) for tick in ticks
              if bottom <= tick.get_position()[1] <= top and tick.get_text()]
    assert len(labels) >= 3
    for text, position in labels:  # were "1.3978 × 10⁰" (as mathtext)
        assert float(text) == pytest.approx(position, rel=1e-9)


def test_a_notebook_shows_values_briefly_and_escapes_labels(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:
        pytest.skip("ipykernel is not installed (pip install '.[dev]')")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cells = ["import numpy as np\nfrom tinygrad_edu import Value",
             "Value(np.arange(10000.0).reshape(100, 100))",
             "Value([1.00001, 1.00002], label='<b>w</b> & b')"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    large, labelled = (cell.outputs[0]["data"] for cell in notebook.cells[1:])
    assert "shape=(100, 100)" in large["text/plain"] and len(large["text/plain"]) < 300
    assert "<td style='text-align:left'>(100, 100)</td>" in large["text/html"] and len(large["text/html"]) < 2000
    assert "&lt;b&gt;w&lt;/b&gt; &amp; b" in labelled["text/html"] and "<b>w</b>" not in labelled["text/html"]
    assert "1.00001" in labelled["text/plain"] and "1.00002" in labelled["text/html"]


@pytest.mark.parametrize("number", [1.0000001, 0.9999999, -2.0000004, 99999.97])
def test_a_number_that_rounds_to_a_whole_one_is_not_shown_as_that_whole_number(number):
    # at 6 digits 1.0000001 printed "1.0", exactly as Value(1.0) does: a cost looked converged to 1 when it was not
    value = Value(number)
    shown = re.search(r"data=([^,]+),", repr(value)).group(1)
    assert float(shown) == number
    assert f"<pre style='margin:0'>{shown}</pre>" in value._repr_html_()


def test_a_plot_pickles_and_loads_back_still_showing_itself():
    # matplotlib's Figures pickle (to save an interactive figure, or send it to another process); the plots' own
    # Figure class was not found by its name: "Can't pickle <class 'tinygrad_edu.plots.Figure'>"
    import pickle

    plots = pytest.importorskip("tinygrad_edu.plots")
    loaded = pickle.loads(pickle.dumps(plots.plot_history([1.0, 0.5], labels=["a run"])))
    np.testing.assert_array_equal(loaded.axes[0].get_lines()[0].get_xydata(), [[1, 1.0], [2, 0.5]])
    assert [text.get_text() for text in loaded.legends[0].get_texts()] == ["a run"]
    assert loaded._repr_png_().startswith(b"\x89PNG")  # still shown inline in Jupyter
