"""A review of round 45's change: each test fails on the round's code before its mend."""

from __future__ import annotations

import decimal
import fractions
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, apply, losses, optim, plots
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.ops import Op


def _bowl(p: Value) -> Value:
    return (p * p).sum()


@pytest.mark.parametrize("rate", [np.float32(0.1), np.array(0.1, dtype=np.float32), Value(np.float32(0.1))],
                         ids=["float32", "0-d float32 array", "float32 Value"])
def test_a_float32_learning_rate_reads_as_given_in_the_legend_however_it_is_held(rate: Any) -> None:
    """plot_learning_rates now takes a 0-d array or a Value of one number (the optimizers' check): one holding a
    float32 0.1 was labelled "η = 0.1000000014901161", a bare np.float32(0.1) "η = 0.1"."""
    figure = plots.plot_learning_rates(_bowl, [1.0, 2.0], {"a": rate}, steps=2, resolution=5, armijo=False)
    labels = [text.get_text() for axes in figure.axes for text in axes.texts]
    labels += [line.get_label() for axes in figure.axes for line in axes.get_lines()]
    assert any("0.1" in label for label in labels), labels
    assert not any("0.1000000" in label for label in labels), labels


def test_checked_learning_rate_names_itself_when_no_caller_is_given() -> None:
    """Its default ``where`` was "learning_rate": "learning_rate: learning_rate must be >= 0", naming no operation."""
    with pytest.raises(ValueError, match=r"^checked_learning_rate: learning_rate must be >= 0, got -1\.0$"):
        optim.checked_learning_rate(-1)
    with pytest.raises(TypeError, match=r"^checked_learning_rate: learning_rate must be a number, got str"):
        optim.checked_learning_rate("0.1")
    assert optim.checked_learning_rate(Value(0.5)) == 0.5


def test_one_samples_logits_with_float_labels_say_they_are_read_as_probabilities() -> None:
    """Float labels [0., 1., 2.] against logits (3,) are read as a row of probabilities ("float target rows must be
    probabilities"); the round's hint said they were read as a one-hot row, which integers are."""
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(Value(np.array([0.5, -1.0, 2.0])), np.array([0.0, 1.0, 2.0]))
    message = str(caught.value)
    assert message.startswith("cross_entropy: float target rows must be probabilities summing to 1"), message
    assert "labels of shape (3,) are read as its row of probabilities" in message, message
    assert "one-hot" not in message, message
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) are read as its one-hot row: for 3 samples"):
        losses.cross_entropy(Value(np.array([0.5, -1.0, 2.0])), np.array([0, 1, 2]))


@pytest.mark.parametrize("start", ["A custom op takes part in everything", "Large graphs stay usable"])
def test_the_readme_paragraphs_this_round_rewrote_keep_to_its_width(start: str) -> None:
    """The custom-Op paragraph, "reflowed to the README's width" in round 45, kept a line of 154 characters."""
    with open("README.md", encoding="utf-8") as file:
        text = file.read()
    paragraph = text[text.index(start):].split("\n\n")[0]
    assert paragraph.count("\n") > 3, paragraph
    assert [line for line in paragraph.splitlines() if len(line) > 120] == []


# --- a vjp's gradient with an extra axis of length 1: summing it changes no number ---------------------------------

_AXIS_OF_ONE = {
    # a single number's gradient as a (1,) (np.atleast_1d, a vjp computed on a (1,) array)
    "() as (1,)": (Op("twice_one", lambda x: 2 * x, lambda g, out, x: np.reshape(2 * g, (1,))), (), 2.0),
    # an (n,)'s gradient with a leading axis of 1, for an output of one number
    "(3,) as (1, 3)": (Op("summed", lambda x: np.sum(x * x), lambda g, out, x: (2 * g * x)[None, :]), (3,), None),
}


@pytest.mark.parametrize("how", ["backward", "create_graph"])
@pytest.mark.parametrize("name", list(_AXIS_OF_ONE))
def test_a_vjps_extra_axis_of_length_one_is_summed_back_not_refused(name: str, how: str) -> None:
    """Round 45's check refused these ("summing it back would give wrong numbers"), which the engine summed to the
    right numbers before: the sum over an axis of length 1 changes none."""
    op, shape, slope = _AXIS_OF_ONE[name]
    start = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    x = Value(start.copy())
    y = apply(op, x)
    (y if y.size == 1 else y.sum()).backward(create_graph=how == "create_graph")
    grad = x.grad.data if isinstance(x.grad, Value) else x.grad
    expected = np.full(shape, slope) if slope is not None else 2 * start  # d(2x)/dx = 2, d(Σx²)/dx = 2x
    assert grad.shape == shape
    np.testing.assert_array_equal(grad, expected)


# --- viz: a layer's parameters drawn again outside their layer's box ---------------------------------------------


def test_a_layers_parameters_used_by_every_samples_pass_stay_in_their_layer_box() -> None:
    """A cost summed over 80 passes of one MLP: its weights, in the layers' boxes, were drawn again 77 times each
    outside them (308 boxes), which made dot's layout slower (7 s to 11 s), not faster."""
    from tinygrad_edu import nn, viz

    model = nn.MLP([1, 3, 1], rng=0)
    cost = Value(0.0)
    for i in range(80):
        cost = cost + losses.squared_error(model(Value([[i / 80]], requires_grad=False)), [[0.5]])
    source = viz.draw_graph(cost, max_nodes=3000).source
    boxes = re.findall(r"subgraph cluster_layer\d+ \{(.*?)\n\t\}", source, re.S)
    assert len(boxes) == 2
    in_boxes = set(re.findall(r"^\s*(v\d+) \[", "\n".join(boxes), re.M))
    kept, _ = viz.nearest_values(cost, 3000)  # (the order that numbers the boxes v0, v1, …)
    weights = {f"v{i}" for i, node in enumerate(kept) if any(node is p for p in model.parameters())}
    assert len(weights) == 4 and weights <= in_boxes
    copies = re.findall(r"^\s*(v\d+)_\d+ \[", source, re.M)
    assert not set(copies) & in_boxes, len(copies)



# --- the README's word on what a shown Value's text in a recorded vjp cannot refuse ---------------------------------

_NOT_REFUSED: dict[str, Callable[[str], Any]] = {
    "`complex(text)`": complex, "`Decimal(text)`": decimal.Decimal, "`Fraction(text)`": fractions.Fraction,
    "`text.encode()`": lambda text: float(text.encode()),
}


@pytest.mark.parametrize("written", list(_NOT_REFUSED))
def test_each_read_back_of_a_shown_text_that_is_not_refused_is_named_by_the_readme(written: str) -> None:
    """The README named complex(text) and str(text) as the reads that cannot be refused; Decimal(text),
    Fraction(text) and float(text.encode()) read 1.5 back silently too (a constant to the recorded pass)."""
    read: list[Any] = []

    def vjp(g: Any, out: Any, x: Any) -> Any:
        if isinstance(x, Value):
            read.append(_NOT_REFUSED[written](f"{x:.1f}"))
        return g * x
    square = Op("half_square", lambda x: x * x / 2, vjp)
    hessian(lambda v: apply(square, v))(Value(1.5))
    assert read and complex(read[0]) == 1.5  # (read back, not refused)
    with open("README.md", encoding="utf-8") as file:
        text = " ".join(file.read().split())
    said = text[text.index("is refused as a number too, though"):][:200]
    assert written in said, said
