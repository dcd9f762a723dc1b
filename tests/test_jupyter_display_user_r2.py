"""A student who ends every cell with the object in hand, second pass: Values under a notebook's
``np.set_printoptions(suppress=True)``, a Value labelled with a number, and every kind of object the package returns
through IPython's own formatters and pretty printer (what Jupyter runs for a cell's last expression, and for a list
or dict of them)."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import History, Value, data, fit, losses, nn, optim
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.dependency_tree import dependency_tree

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (tests that set options set them themselves)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|inf"


def numbers_in(text: str) -> list[float]:
    return [float(found) for found in re.findall(NUMBER, text)]


def html_cell(page: str, row: str) -> str:
    """The text of one row of a Value's Jupyter table (``data``, ``grad`` or ``label``)."""
    found = re.search(rf"<th[^>]*>{row}</th><td[^>]*>(?:<pre[^>]*>)?(.*?)(?:</pre>)?</td>", page, re.S)
    assert found, page
    return found.group(1)


def saturated_weights() -> Value:
    """The first layer's weights of a 1-3-1 sigmoid network whose hidden neurons are saturated (weights 30, input
    2): the vanishing gradient of a lecture, about 1e-27, far from 0 relative to itself."""
    net = nn.MLP([1, 3, 1], rng=0)
    weights = net.layers[0].weights
    weights.data[...] = 30.0
    cost = losses.squared_error(net(np.array([2.0])), np.array([0.0]))
    cost.backward()
    return weights


# --- np.set_printoptions(suppress=True), the first line of many notebooks -------------------------------------------
@pytest.mark.parametrize("shown", ["repr", "html"])
def test_a_vanishing_gradient_is_not_shown_as_zero_under_suppress(shown):
    weights = saturated_weights()
    grad = np.asarray(weights.grad).ravel()
    assert np.all(grad > 0) and np.all(grad < 1e-20) and len(set(grad.tolist())) == 3  # (what the lesson is about)
    with np.printoptions(suppress=True):
        text = (re.search(r"grad=(\[\[.*?\]\])", repr(weights)).group(1) if shown == "repr" else
                html_cell(weights._repr_html_(), "grad"))
    assert numbers_in(text) == pytest.approx(grad, rel=1e-3, abs=0), text


def test_a_datasets_small_inputs_are_not_shown_as_zero_under_suppress():
    inputs = np.array([[1e-9], [0.5], [1.0]])
    with np.printoptions(suppress=True):
        text = repr(data.Dataset(inputs, np.zeros((3, 1))))
    shown = re.search(r"inputs=(\[.*?\]\])", text).group(1)
    assert numbers_in(shown) == pytest.approx(inputs.ravel(), rel=1e-3, abs=0), text


# --- a number of an array rounded to a whole number --------------------------------------------------------------
@pytest.mark.parametrize("numbers", [[0.99999, 2.5], [1.00001, 0.5, 3.0], [1.0000001], [-2.00004, 7.25]])
@pytest.mark.parametrize("shown", ["repr", "html"])
def test_a_number_of_an_array_is_not_shown_as_a_whole_number_it_is_not(numbers, shown):
    value = Value(numbers)  # (a sigmoid's 0.99999 read as exactly 1, a cost of 1.00001 as converged to 1)
    text = (re.search(r"data=\[(.*?)\]", repr(value)).group(1) if shown == "repr" else
            html_cell(value._repr_html_(), "data").strip("[]"))
    printed = text.split()
    assert len(printed) == len(numbers)
    for written, number in zip(printed, numbers):
        assert not (float(written).is_integer() and float(written) != number), text
    assert [float(written) for written in printed] == pytest.approx(numbers, rel=1e-4)


@pytest.mark.parametrize("numbers, written", [([1.0, 2.5], "[1.  2.5]"), ([3.0, -1.0], "[ 3. -1.]"),
                                              ([0.5, 0.25], "[0.5  0.25]")])
def test_whole_and_short_numbers_of_an_array_still_print_briefly(numbers, written):
    # (guard: the fix above gives digits only to a number that needs them)
    assert repr(Value(numbers)) == f"Value(data={written}, grad=None)"


# --- a label that is a number -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("label", [0, 0.0])
def test_a_value_labelled_zero_shows_its_label_in_the_jupyter_table(label):
    value = Value(2.0, label=label)
    assert f"label={label!r}" in repr(value)  # (the text form shows it)
    assert html_cell(value._repr_html_(), "label") == str(label)


def test_a_value_labelled_one_or_a_word_shows_its_label_in_the_jupyter_table():
    # (guard: what the number 0 is compared with above)
    for label in (1, "w"):
        assert html_cell(Value(2.0, label=label)._repr_html_(), "label") == str(label)
    assert "<th style='text-align:left'>label</th>" not in Value(2.0, label="")._repr_html_()


# --- every object a cell may end with, through IPython's pretty printer ----------------------------------------------
NAMES = ["0-d", "huge", "nan and inf", "float32", "empty", "nan grad", "layer", "network", "gradient descent", "sgd",
         "adam", "armijo", "random search", "newton", "history", "empty history", "history sum", "dataset", "batches",
         "tree", "stationary point"]


@pytest.fixture(scope="module")
def objects() -> dict[str, object]:
    net = nn.MLP([2, 3, 1], rng=0)
    x = np.random.default_rng(0).normal(size=(8, 2))
    y = (x[:, :1] > 0).astype(float)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, learning_rate=0.5), episodes=3, progress=False)
    chain = nn.MLP([1, 1, 1], rng=0)
    cost = losses.squared_error(chain(np.array([0.5])), np.array([0.25]))
    cost.backward()
    nan_grad = Value(np.zeros((40, 40)), label="w & <v>")
    nan_grad.grad = np.full((40, 40), np.nan)
    made = {
        "0-d": Value(3.0, label="x"), "huge": Value(np.arange(1e6).reshape(1000, 1000)),
        "nan and inf": Value([np.nan, np.inf, -np.inf]), "float32": Value(np.float32([0.1, 0.2])),
        "empty": Value(np.zeros((0, 3))), "nan grad": nan_grad, "layer": net.layers[0], "network": net,
        "gradient descent": optim.GradientDescent(net, learning_rate=0.1), "sgd": optim.SGD(net, learning_rate=0.1),
        "adam": optim.Adam(net), "armijo": optim.Armijo(net), "random search": optim.RandomSearch(net),
        "newton": optim.Newton(chain), "history": history, "empty history": History(), "history sum": history + history,
        "dataset": data.load_digits(), "batches": data.batches(x, y, 3), "tree": dependency_tree(cost),
        "stationary point": stationary_point(lambda v: (v * v).sum() - v[0] ** 3, np.array([1.0, 2.0])),
    }
    assert list(made) == NAMES
    return made


@pytest.mark.parametrize("name", NAMES)
def test_each_object_shows_briefly_as_its_repr_in_a_cell(name, objects):
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    obj = objects[name]
    text = pretty(obj)  # (what Jupyter's text/plain is; a namedtuple or dataclass printer would bypass the repr)
    assert text == repr(obj) and "object at 0x" not in text
    assert len(text) < 400 and text.count("\n") <= 6, text
    for method in ("_repr_html_", "_repr_svg_", "_repr_png_", "_repr_latex_", "_repr_markdown_"):
        if hasattr(obj, method):  # (called directly: IPython's formatter would print a raise and show nothing)
            assert len(getattr(obj, method)()) < 3000


def test_a_list_and_a_dict_of_objects_print_each_as_its_repr(objects):
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    shown = [objects[name] for name in ("0-d", "network", "history", "stationary point", "tree", "dataset")]
    listed, keyed = pretty(shown), pretty(dict(zip("abcdef", shown)))
    for obj in shown:
        first_line = repr(obj).splitlines()[0]
        assert first_line in listed and first_line in keyed
    assert len(listed) < 2000 and "object at 0x" not in listed


@needs_dot
def test_a_drawing_and_a_player_in_a_list_print_briefly():
    pretty = pytest.importorskip("IPython.lib.pretty").pretty
    from tinygrad_edu import viz

    x = Value(2.0, label="x")
    y = (x * x).tanh()
    y.backward()
    text = pretty([viz.draw_graph(y), viz.backprop_player(y)])
    assert text.count("<Drawing:") == 1 and text.count("<BackpropPlayer: 7 steps") == 1 and len(text) < 400


# --- the promise a Value's numbers keep, for any numbers --------------------------------------------------------------
@given(hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-1e6, 1e6, allow_subnormal=False)))
def test_different_numbers_print_differently_in_text_and_table(numbers):
    value = Value(numbers)
    distinct = len(np.unique(numbers))
    text = re.search(r"data=\[(.*?)\]", repr(value)).group(1).split()
    table = html_cell(value._repr_html_(), "data").strip("[]").split()
    for shown in (text, table):
        assert len(shown) == len(numbers)
        assert len({float(number) for number in shown}) == distinct, (numbers, shown)
        assert [float(number) for number in shown] == pytest.approx(numbers, rel=1e-3, abs=1e-3)  # (4 digits)
