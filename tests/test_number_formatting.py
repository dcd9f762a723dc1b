"""How numbers are written for people: awkward numbers (-0.0, numpy scalars, float32, huge ints) in drawings, the
player, History's repr, the demo's table and error messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import demo, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.engine import Value
from tinygrad_edu.notation import format_number
from tinygrad_edu.training import History
from tinygrad_edu.viz import backprop_player, draw_graph


def _ovals(drawing) -> list[str]:
    """The labels of a drawing's operation ovals, in the order of its source."""
    return re.findall(r'\[label="([^"]*)"[^\]]*shape=oval', drawing.source)


def _cells(drawing) -> list[str]:
    """The text of every table cell of a drawing's Value boxes."""
    return re.findall(r"<TD>(.*?)</TD>", drawing.source)


def _dead_relu() -> tuple[Value, Value]:
    """A ReLU below 0 under a cost that falls as it rises: its input's gradient is 0 · (negative) = -0.0."""
    w, x = Value(2.0, label="w"), Value(-1.0, label="x")
    z = w * x
    z.label = "z"
    cost = (F.relu(z) - 3.0) ** 2
    cost.label = "C"
    cost.backward()
    return z, cost


# --- -0 ---------------------------------------------------------------------------------------------------------
def test_a_dead_relu_s_gradient_is_drawn_as_0_not_minus_0():
    z, cost = _dead_relu()
    assert np.signbit(z.grad) and z.grad == 0  # (the engine keeps IEEE's -0.0; only its text is at stake)
    cells = _cells(draw_graph(cost))
    assert f"grad {format_number(0.0)}" in cells
    assert not [cell for cell in cells if re.search(r"(?<![\w.])-0(?![.\d])", cell)], cells


def test_the_player_writes_a_gradient_of_minus_0_as_0():
    _, cost = _dead_relu()
    page = backprop_player(cost).html()
    assert not re.search(r"(?<![\w.#&-])-0(?![.\d\w])", page)


def test_a_small_negative_number_keeps_its_sign_and_its_digits():
    """Guard: -0.0 is written 0, but no nonzero number is rounded to 0 and none loses its sign."""
    for number in (-1e-9, -5e-324, -1e-300, -0.1 - 0.2):
        text = format_number(number)
        assert text.startswith("-") and float(text) != 0 and float(text) == pytest.approx(number, rel=1e-3)


# --- numpy reprs in drawings --------------------------------------------------------------------------------------
def test_an_operation_s_numpy_settings_are_drawn_as_python_ones():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    by_numpy = draw_graph(x.sum(axis=np.int64(0))[np.int64(1)] + x.reshape((np.int64(3), 2)).sum())
    by_python = draw_graph(x.sum(axis=0)[1] + x.reshape((3, 2)).sum())
    assert _ovals(by_numpy) == _ovals(by_python)


def test_an_index_is_drawn_as_it_is_written():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    (oval,) = [o for o in _ovals(draw_graph(x[:, np.array([0, 2])])) if o.startswith("index")]
    assert "slice(" not in oval and "array(" not in oval and "[0, 2]" in oval


def test_python_settings_are_drawn_as_before():
    """Guard: the ovals of operations called with Python numbers are unchanged (existing tests pin them too)."""
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    assert sorted(_ovals(draw_graph(x.sum(axis=0, keepdims=True).sum(axis=1)))) == [
        "sum(axis=0, keepdims=True)", "sum(axis=1)"]
    assert "leaky_relu(negative_slope=0.1)" in _ovals(draw_graph(F.leaky_relu(x, 0.1)))


# --- huge ints, float32 -------------------------------------------------------------------------------------------
def test_history_s_repr_shows_a_huge_int_cost_by_its_size():
    text = repr(History(cost=[1.0], final_cost=10**400))
    assert "400" in text and len(text) < 120


def test_a_refused_float32_setting_is_quoted_as_float32_prints_it():
    given = np.float32(1.1)
    with pytest.raises(ValueError) as error:
        optim.Armijo(nn.MLP([1, 2, 1], rng=0), sigma=given)
    assert str(error.value).endswith("got " + str(given)) and repr(float(given)) not in str(error.value)


# --- the demo's table ---------------------------------------------------------------------------------------------
def _table_cells(outputs: np.ndarray) -> list[str]:
    run = demo.Run("mine", "by hand", demo.xsquared_network(0), History(cost=[1.0], final_cost=1e-4), outputs, 1.0)
    row = [line for line in demo.format_table([run]).splitlines() if line.startswith("| mine")][0]
    return [cell.strip() for cell in row.strip("|").split("|")][3:7]


def test_the_demo_table_writes_an_output_rounding_to_0_without_a_sign():
    small = 3e-5
    below, above = _table_cells(np.full(4, -small)), _table_cells(np.full(4, small))
    assert below == above


def test_the_demo_table_keeps_the_sign_of_an_output_that_shows_digits():
    """Guard: only a cell that reads as 0 loses its sign."""
    assert _table_cells(np.array([-0.25, 0.25, -1e-3, 0.0])) == [f"{y:.4f}" for y in (-0.25, 0.25, -1e-3, 0.0)]
