"""Round 38, a teacher recomputing each player step and drawing label from what it shows.

Every setting an operation needs is written where the step or the oval shows the operation, and each local
derivative the step writes is true of the numbers: checked against the engine and central differences in float64.

* ``where`` read ``where(x, y)``, hiding its condition, and had no local derivative written;
* ``concatenate`` and ``stack`` did not show their axis (an ``axis=None`` join read as the default, axis 0), nor a
  local derivative;
* indexing's local derivative, "1 for the picked elements", did not say that an element picked twice gets both
  gradients, added up;
* softmax's and log_softmax's local derivatives wrote ``s = softmax(x)`` (the default axis, -1) for a softmax over
  another axis, and did not say the derivative is 0 between slices;
* the drawing's oval for ``softmax(x, axis=None)`` read ``softmax``, whose default is axis=-1.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest
from helpers_gradients import jacobian_differences

from tinygrad_edu import Value, viz
from tinygrad_edu import functional as F
from tinygrad_edu.engine import local_gradients
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.player import backprop_steps, display_names, forward_formula, local_formula


def _central_jacobian(f, x: np.ndarray) -> np.ndarray:
    """∂f(x)/∂x by helpers_gradients' central differences in float64, as a matrix: row j for output element j."""
    return jacobian_differences(f, x).reshape(-1, np.size(x))


def _engine_jacobian(node: Value, position: int) -> np.ndarray:
    rows = []
    for j in range(node.size):
        unit = np.zeros(node.size)
        unit[j] = 1.0
        rows.append(next(np.asarray(g).reshape(-1) for i, _, g in local_gradients(node, unit.reshape(node.shape))
                         if i == position))
    return np.array(rows)


def _label(node: Value) -> str:
    """The text of the operation's oval in draw_graph's drawing of ``node``."""
    source = viz.draw_graph(node.sum() if node.size > 1 else node).source
    ovals = re.findall(r'^\s*op\d+ \[label=("(?:[^"\\]|\\.)*"|\S+) .*shape=oval', source, re.MULTILINE)
    found = [text.strip('"') for text in ovals if text.strip('"').startswith(node.op)]
    assert found, source
    return found[0]


def _setting(text: str, name: str):
    """The value of ``name=…`` written in ``text``, read as Python reads it."""
    match = re.search(rf"{name}=(None|-?\d+|\[[^\]]*(?:\][^\]]*)*?\]|\([^)]*\))", text)
    assert match, text
    return ast.literal_eval(match.group(1))


# --- where: its condition --------------------------------------------------------------------------------------------
def test_where_step_shows_its_condition_and_the_numbers_follow_from_it():
    x = Value([1.0, -2.0, 3.0], label="x")
    y = Value([4.0, 5.0, -6.0], label="y")
    condition = np.array([True, False, True])
    out = F.where(condition, x, y)
    formula = forward_formula(out, ["x", "y"])
    assert formula == "where([True, False, True], x, y)"
    shown = np.array(ast.literal_eval(formula[len("where("):formula.index("]") + 1]))
    np.testing.assert_array_equal(np.where(shown, x.data, y.data), out.data)
    assert _setting(_label(out), "condition") == [True, False, True]


def test_where_local_derivatives_are_written_and_true_against_central_differences():
    x, y = Value([1.0, -2.0, 3.0], label="x"), Value([4.0, 5.0, -6.0], label="y")
    condition = np.array([True, False, True])
    out = F.where(condition, x, y)
    texts = [local_formula(out, i, ["x", "y"]) for i in (0, 1)]
    assert texts == ["1 where the condition is True, else 0", "1 where the condition is False, else 0"]
    others = (x.data, y.data)
    for i, (text, which) in enumerate(zip(texts, (True, False))):
        assert "True" in text if which else "False" in text
        expected = np.diag((condition == which).astype(float))  # what the text says, element by element
        numeric = _central_jacobian(lambda v, i=i: np.where(condition, *(v if j == i else others[j]
                                                                          for j in (0, 1))), others[i])
        np.testing.assert_allclose(numeric, expected, atol=1e-9)
        np.testing.assert_allclose(_engine_jacobian(out, i), expected, atol=0)


def test_a_scalar_where_step_shows_the_local_derivative_number_of_each_side():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    cost = F.where(False, x, y) * 1.0
    cost.label = "C"
    kept, total = nearest_values(cost)
    steps = backprop_steps(cost, kept, total, display_names(kept))
    text = {s.title.split("∂C/∂")[-1]: s.html for s in steps if s.phase == "backward"}
    assert "1 where the condition is True, else 0 = 0" in text["x"]
    assert "1 where the condition is False, else 0 = 1" in text["y"]
    cost.backward()
    assert (x.grad, y.grad) == (0.0, 1.0)


# --- concatenate and stack: their axis -------------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concatenate_step_and_oval_show_the_axis_the_numbers_were_joined_along(axis):
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    y = Value(np.arange(6.0, 12.0).reshape(2, 3), label="y")
    out = F.concatenate([x, y], axis=axis)
    formula = forward_formula(out, ["x", "y"])
    assert formula == f"concatenate([x, y], axis={axis})"
    for text in (formula, _label(out)):
        np.testing.assert_array_equal(np.concatenate([x.data, y.data], axis=_setting(text, "axis")), out.data)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_step_and_oval_show_the_axis_of_the_new_dimension(axis):
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    y = Value(np.arange(6.0, 12.0).reshape(2, 3), label="y")
    out = F.stack([x, y], axis=axis)
    formula = forward_formula(out, ["x", "y"])
    assert formula == f"stack([x, y], axis={axis})"
    for text in (formula, _label(out)):
        np.testing.assert_array_equal(np.stack([x.data, y.data], axis=_setting(text, "axis")), out.data)


@pytest.mark.parametrize("axis", [1, None])
def test_concatenate_local_derivative_names_the_piece_and_is_true(axis):
    x = Value(np.arange(4.0).reshape(2, 2), label="x")
    y = Value(np.arange(10.0, 16.0).reshape(2, 3), label="y") if axis == 1 else Value([7.0, 8.0], label="y")
    out = F.concatenate([x, y], axis=axis)
    inputs = [x.data, y.data]
    for i, parent in enumerate((x, y)):
        text = local_formula(out, i, ["x", "y"])
        start, end = map(int, re.search(r"(\d+):(\d+)", text).groups())
        picked = (np.arange(out.size).reshape(out.shape)[:, start:end] if axis == 1
                  else np.arange(out.size)[start:end]).reshape(-1)
        assert ("along axis 1" in text) if axis == 1 else ("flattened" in text)
        expected = np.zeros((out.size, parent.size))  # 1 where an output element is this input's, as the text says
        expected[picked, np.arange(parent.size)] = 1.0
        numeric = _central_jacobian(lambda v, i=i: np.concatenate(
            [v if j == i else inputs[j] for j in (0, 1)], axis=axis), inputs[i])
        np.testing.assert_allclose(numeric, expected, atol=1e-9)
        np.testing.assert_array_equal(_engine_jacobian(out, i), expected)


def test_stack_local_derivative_names_the_slice_and_is_true():
    x, y = Value([1.0, 2.0, 3.0], label="x"), Value([4.0, 5.0, 6.0], label="y")
    out = F.stack([x, y], axis=1)
    inputs = [x.data, y.data]
    for i in (0, 1):
        text = local_formula(out, i, ["x", "y"])
        position = int(re.search(r"index (\d+) along axis 1", text).group(1))
        expected = np.zeros((out.size, 3))
        expected[np.arange(out.size).reshape(out.shape)[:, position], np.arange(3)] = 1.0
        np.testing.assert_array_equal(_engine_jacobian(out, i), expected)
        numeric = _central_jacobian(lambda v, i=i: np.stack([v if j == i else inputs[j] for j in (0, 1)], axis=1),
                                    inputs[i])
        np.testing.assert_allclose(numeric, expected, atol=1e-9)


# --- indexing: repeated picks add up ---------------------------------------------------------------------------------
def test_an_index_picking_an_element_twice_says_its_gradients_add_up():
    w = Value([1.0, 2.0, 3.0], label="w")
    picked = w[np.array([0, 0, 2])]
    text = local_formula(picked, 0, ["w"])
    assert "add up" in text
    picked.sum().backward()
    numeric = _central_jacobian(lambda v: v[np.array([0, 0, 2])], w.data).sum(axis=0)
    np.testing.assert_allclose(w.grad, numeric, atol=1e-9)
    np.testing.assert_array_equal(w.grad, [2.0, 0.0, 1.0])  # picked twice: 1 + 1
    assert local_formula(w[1:], 0, ["w"]) == "1 for the picked elements"  # no repeats, nothing to add


# --- softmax and log_softmax: the axis of the local derivative -------------------------------------------------------
def _softmax(x: np.ndarray, axis) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _slices(shape: tuple[int, ...], axis) -> np.ndarray:
    """For each element (flat), the number of its slice along ``axis`` (the other axes' position)."""
    kept = [n if i not in ({a % len(shape) for a in np.atleast_1d(axis)} if axis is not None else range(len(shape)))
            else 1 for i, n in enumerate(shape)]
    return np.broadcast_to(np.arange(int(np.prod(kept))).reshape(kept), shape).reshape(-1)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, -1, None])
def test_softmax_local_derivative_written_with_its_axis_is_the_jacobian(name, axis):
    x = Value(np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]), label="x")
    out = getattr(F, name)(x, axis=axis)
    text = local_formula(out, 0, ["x"])
    written = _setting(text, "axis")  # the axis the text says s is taken over
    s = _softmax(x.data, written).reshape(-1)
    slices = _slices(x.shape, written)
    same = (slices[:, None] == slices[None, :]) if "slice" in text else np.ones((x.size, x.size), bool)
    delta = np.eye(x.size)
    jacobian = np.where(same, s[:, None] * (delta - s[None, :]) if name == "softmax" else delta - s[None, :], 0.0)
    numeric = _central_jacobian(lambda v: getattr(F, name)(Value(v), axis=axis).data, x.data)
    np.testing.assert_allclose(numeric, jacobian, atol=1e-8)
    np.testing.assert_allclose(_engine_jacobian(out, 0), jacobian, atol=1e-12)


def test_a_softmax_of_a_vector_keeps_its_short_local_formula():
    out = F.softmax(Value([1.0, 2.0, 0.5]))
    assert local_formula(out, 0, ["x"]) == "sᵢ(δᵢⱼ − sⱼ), s = softmax(x)"


# --- the drawing's oval: a None that is no default ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_the_oval_of_a_softmax_over_all_numbers_says_axis_none(name):
    x = Value(np.array([[1.0, -2.0], [0.5, 4.0]]), label="x")
    out = getattr(F, name)(x, axis=None)
    label = _label(out)
    assert _setting(label, "axis") is None
    np.testing.assert_allclose(getattr(F, name)(Value(x.data), axis=_setting(label, "axis")).data, out.data)
    assert _label(x.sum(axis=None) * 1.0).startswith("mul")  # (a sum over all, its default, stays "sum")
    assert "sum(axis" not in viz.draw_graph(x.sum()).source


def test_a_condition_of_numbers_routes_whole_gradients_as_booleans_do():
    """F.where reads non-zero as True; the gradient is then 1 or 0, not the condition's number (F.where hands ops.where
    booleans, which the step shows; ops.where reads numbers as booleans too: tests/test_review_late_r38.py)."""
    x, y = Value([1.0, 2.0, 3.0]), Value([4.0, 5.0, 6.0])
    out = F.where(np.array([2.0, 0.0, -0.5]), x, y)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1.0, 5.0, 3.0])
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(y.grad, [0.0, 1.0, 0.0])
    assert forward_formula(out, ["x", "y"]) == "where([True, False, True], x, y)"
