"""Edges of losses.py and functional.py found by mutation testing: each test here kills a changed copy of those
modules that the other tests let through.  Expected numbers are worked out by hand or with numpy.

Changes found equivalent (no test can tell them apart):
- mean_squared_error squaring ``target − prediction`` instead of ``prediction − target``: (−d)² = d².
- _class_indices without its ``data.size and`` guard: labels are empty only when the logits are, and an empty batch
  or zero classes is refused before the labels are read.
- _as_target without its ``value.data.dtype is not dtype`` shortcut: casting to the dtype already held copies the
  same numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses

# --- losses -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_a_cost_of_plain_arrays_has_no_gradient_to_take(cost):
    """Arrays are constants: wrapping them as Values that want a gradient would make backward() build a graph for
    nothing and hide the "made only from constants" error."""
    assert cost(np.ones((2, 2)), np.zeros((2, 2))).requires_grad is False


def test_the_first_bad_target_entry_in_reading_order_is_named():
    """inf at (0, 1) comes before NaN at (1, 0)."""
    target = np.array([[0.0, np.inf], [np.nan, 1.0]])
    with pytest.raises(ValueError, match=r"at index \(0, 1\)"):
        losses.squared_error(Value(np.zeros((2, 2))), target)


def test_the_prediction_is_the_first_input_of_the_squared_error_node():
    """A drawn graph reads squared_error(y, y'); the numbers alone cannot tell the order (the cost is symmetric)."""
    y, target = Value([1.0, 2.0]), Value([0.0, 0.0], requires_grad=False)
    assert losses.squared_error(y, target).parents == (y, target)


def test_costs_by_name_are_the_costs_of_that_name():
    """For the sample (3, 4) against (0, 0): the seed's cost sums, 9 + 16 = 25; the MSE averages, 25 / 2."""
    y, target = Value([[3.0, 4.0]]), np.zeros((1, 2))
    assert losses.COSTS["squared_error"](y, target).item() == 25.0
    assert losses.COSTS["mean_squared_error"](y, target).item() == 12.5


def test_logits_with_no_class_are_a_shape_error_not_an_empty_batch():
    """Three samples of zero classes: the batch is not empty, the logits' shape is wrong."""
    with pytest.raises(ValueError, match=r"logits must have shape \(n, k\) or \(k,\), got \(3, 0\)"):
        losses.cross_entropy(Value(np.zeros((3, 0))), np.zeros(3, dtype=int))


def test_booleans_are_not_class_indices():
    """A (n,) array of bools is neither indices nor one-hot rows: True would silently mean class 1."""
    with pytest.raises(ValueError, match="class indices must be integers, got dtype bool"):
        losses.cross_entropy(Value(np.zeros((2, 3))), np.array([True, False]))


def test_a_slightly_negative_probability_is_refused_even_when_the_row_sums_to_1():
    with pytest.raises(ValueError, match="hold a negative number"):
        losses.cross_entropy(Value(np.zeros((1, 2))), np.array([[1.0001, -0.0001]]))


def test_nan_in_probability_rows_is_named_as_such():
    """Not as "a row sums to nan": the NaN is the problem, not the sum."""
    with pytest.raises(ValueError, match="hold a negative number, NaN or inf"):
        losses.cross_entropy(Value(np.zeros((2, 2))), np.array([[0.5, 0.5], [np.nan, 1.0]]))


def test_the_row_sum_named_is_the_one_farthest_from_1():
    """Rows sum to 1 and 0.5: the bad one, 0.5, is named, not the largest sum."""
    with pytest.raises(ValueError, match="a row sums to 0.5$"):
        losses.cross_entropy(Value(np.zeros((2, 2))), np.array([[0.5, 0.5], [0.25, 0.25]]))


# --- functional ---------------------------------------------------------------------------------------------------


def test_a_numpy_float64_slope_keeps_a_float32_leaky_relu_float32():
    """The slope is taken as a Python float (numpy's weak scalar), so float32 in gives float32 out: −1 · 0.5, 2."""
    y = F.leaky_relu(Value(np.array([-1.0, 2.0], dtype=np.float32)), np.float64(0.5))
    assert y.data.dtype == np.float32
    np.testing.assert_array_equal(y.data, [-0.5, 2.0])


def test_identity_keeps_the_kind_of_error():
    """A string is the wrong type (TypeError), as Value itself says; ragged lists the wrong value (ValueError)."""
    with pytest.raises(TypeError, match="^identity: "):
        F.identity("abc")
    with pytest.raises(ValueError, match="^identity: "):
        F.identity([1.0, [2.0, 3.0]])


@pytest.mark.parametrize("axis", [True, (0, False)])
def test_a_bool_is_not_an_axis(axis):
    """True == 1 in Python, but axis=True is a slip, as in numpy."""
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        F.softmax(Value([[1.0, 2.0]]), axis=axis)


def test_concatenate_and_stack_join_along_the_first_axis_by_default():
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    np.testing.assert_array_equal(F.concatenate([Value(a), Value(b)]).data, np.vstack([a, b]))
    stacked = F.stack([Value(a), Value(b)]).data
    assert stacked.shape == (2, 2, 2)
    np.testing.assert_array_equal(stacked[1], b)


@pytest.mark.parametrize("function", [F.concatenate, F.stack])
def test_joining_refuses_an_array_an_empty_list_and_a_set_by_name(function):
    """An array would be split along its first axis without a word; a set has no order."""
    name = function.__name__
    with pytest.raises(TypeError, match=f"^{name}: give a list or tuple of Values/arrays, not ndarray$"):
        function(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=f"^{name}: needs at least one Value$"):
        function([])
    with pytest.raises(TypeError, match=r"not set \(it has no order\)$"):
        function({Value(1.0)})


def test_maximum_keeps_its_inputs_in_the_order_given():
    """max is symmetric in value and gradient; only the graph (what is drawn as the first input) shows the order."""
    a, b = Value([1.0, 5.0]), Value([3.0, 2.0])
    assert F.maximum(a, b).parents == (a, b)


def test_where_takes_a_condition_of_numbers_as_numpy_does():
    """Non-zero holds, zero does not: 1 and 0.5 pick a, 0 picks b."""
    a, b = Value([1.0, 2.0, 3.0]), Value([4.0, 5.0, 6.0])
    np.testing.assert_array_equal(F.where(np.array([1, 0, 1]), a, b).data, [1.0, 5.0, 3.0])
    np.testing.assert_array_equal(F.where(np.array([0.5, 0.0, 0.0]), a, b).data, [1.0, 5.0, 6.0])


def test_where_names_the_three_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"^where: condition, a and b of shapes \(3,\) and \(2,\) and \(2,\) cannot"):
        F.where(np.array([True, False, True]), Value([1.0, 2.0]), Value([3.0, 4.0]))


@pytest.mark.parametrize("name, expected", [
    ("sigmoid", 1 / (1 + math.exp(1.0))), ("relu", 0.0), ("tanh", math.tanh(-1.0)), ("leaky_relu", -0.01),
    ("softplus", math.log(1 + math.exp(-1.0))), ("identity", -1.0)])
def test_activations_by_name_are_the_functions_of_that_name(name, expected):
    """Each at x = −1, where they all differ, against its closed form."""
    assert F.ACTIVATIONS[name](Value(-1.0)).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax])
def test_an_axis_out_of_range_names_the_function_called(function):
    with pytest.raises(ValueError, match=rf"^{function.__name__}: axis 2 does not fit an input of shape \(2,\)"):
        function(Value([1.0, 2.0]), axis=2)
