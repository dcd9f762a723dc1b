"""functional at its edges: a 0-d input to softmax, lists that hold Values, collections without an order."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_difference

import tinygrad_edu.functional as F
from tinygrad_edu import Value


@pytest.mark.parametrize("function", [F.softmax, F.log_softmax])
@pytest.mark.parametrize("axis", [0, -1, (0,), (-1,), None, ()])
def test_a_number_counts_as_one_axis_whichever_way_the_axis_is_written(function, axis):
    """The docstring says a 0-d input counts as one axis: axis=0 worked, but axis=(0,) was numpy's bare "axis 0 is
    out of bounds for array of dimension 0".  softmax of one number is 1 (log 0) with slope 0, as in PyTorch."""
    x = Value(3.0)
    y = function(x, axis=axis)
    y.backward()
    assert y.shape == () and float(y) == (1.0 if function is F.softmax else 0.0)
    assert float(x.grad) == 0.0


def test_a_tuple_axis_on_a_number_is_still_checked():
    with pytest.raises(ValueError, match=r"softmax: axis \(1,\) does not fit an input of shape \(\)"):
        F.softmax(Value(3.0), axis=(1,))
    with pytest.raises(ValueError, match=r"log_softmax: axis \(0, -1\) does not fit an input of shape \(\)"):
        F.log_softmax(Value(3.0), axis=(0, -1))


@pytest.mark.parametrize("call, name", [
    (lambda values: F.softmax(values), "softmax"),
    (lambda values: F.log_softmax(values, axis=0), "log_softmax"),
    (lambda values: F.where([True, False], values, 0.0), "where"),
    (lambda values: F.where([True, False], 1.0, values), "where"),
])
def test_a_list_holding_values_is_an_error_naming_the_function_and_the_way_out(call, name):
    """As F.exp([v, w]) already said: the function's name and F.stack.  softmax and where let the bare "a Value is
    not converted to a numpy array implicitly" escape, naming neither."""
    with pytest.raises(TypeError) as raised:
        call([Value(1.0), Value(2.0)])
    message = str(raised.value)
    assert message.startswith(f"{name}: ") and "F.stack" in message, message


def test_a_condition_holding_values_is_an_error_naming_where():
    with pytest.raises(TypeError, match=r"^where: the condition .*\.data"):
        F.where([Value(1.0), Value(0.0)], 1.0, 0.0)


@pytest.mark.parametrize("function", [F.stack, F.concatenate])
@pytest.mark.parametrize("values", [
    lambda: {Value([1.0]), Value([2.0])},
    lambda: frozenset([Value([1.0]), Value([2.0])]),
    lambda: {"a": Value([1.0]), "b": Value([2.0])},
], ids=["set", "frozenset", "dict"])
def test_values_without_an_order_are_refused(function, values):
    """A set's order is its hash order (for Values: their ids), so which row is which changed from run to run
    without a word; a dict gave its keys.  torch.stack takes a sequence too."""
    with pytest.raises(TypeError, match=rf"^{function.__name__}: give a list or tuple of Values/arrays, not "):
        function(values())


@pytest.mark.parametrize("function", [F.stack, F.concatenate])
def test_ordered_iterables_are_still_joined_in_their_order(function):
    a, b = Value([1.0]), Value([2.0])
    for values in ([a, b], (a, b), (v for v in (a, b)), {"a": a, "b": b}.values()):
        np.testing.assert_array_equal(function(values).data.ravel(), [1.0, 2.0])


@pytest.mark.parametrize("condition, a", [([[True], [False, True]], 1.0), ([True, False], [[1.0], [2.0, 3.0]])],
                         ids=["ragged condition", "ragged a"])
def test_ragged_lists_in_where_stay_a_value_error_naming_it(condition, a):
    with pytest.raises(ValueError, match=r"^where: .*inhomogeneous"):
        F.where(condition, a, 0.0)


# --- the formulas, against closed forms and float64 central differences -----------------------------------------

def _gradient(function, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output of ``function`` at ``x`` and the gradient of Σ weights ⊙ output with respect to ``x``."""
    value = Value(x)
    out = function(value)
    (out * weights).sum().backward()
    return out.data, value.grad


@pytest.mark.parametrize("slope", [0.2, 1.0, 2.0, 0.0, -0.5])
def test_leaky_relu_takes_its_slope_on_the_negative_side_only(slope):
    """leaky_relu(x) = x for x > 0, s·x for x ≤ 0, for any s (PyTorch's negative_slope): a slope above 1 is no longer
    max(x, s·x), and one ≤ 0 makes the function not monotone; its derivative is 1 for x > 0, s for x < 0."""
    x = np.array([-3.0, -0.5, 0.25, 2.0])
    out, grad = _gradient(lambda v: F.leaky_relu(v, negative_slope=slope), x, np.ones(4))
    np.testing.assert_allclose(out, [-3.0 * slope, -0.5 * slope, 0.25, 2.0], rtol=1e-15)
    np.testing.assert_allclose(grad, [slope, slope, 1.0, 1.0], rtol=1e-15)
    closed_form = lambda t: np.sum(np.where(t > 0, t, slope * t))  # noqa: E731
    np.testing.assert_allclose(grad, central_difference(closed_form, x, eps=1e-6), atol=1e-8)


def test_softmax_does_not_overflow_and_shifts_each_row_by_its_own_maximum():
    """softmax is unchanged by adding a constant to a row: rows [0, 1, 2], [1000, 1001, 1002] and [−1000, −999, −998]
    all give e^i / (1 + e + e²).  Without the shift e^1000 overflows; shifted by the maximum of all rows, e^−1002
    underflows to 0 and the row becomes 0/0."""
    expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    x = np.array([[0.0, 1.0, 2.0], [1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0]])
    for function, closed_form in ((F.softmax, expected), (F.log_softmax, np.log(expected))):
        np.testing.assert_allclose(function(Value(x)).data, np.tile(closed_form, (3, 1)), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("function, closed_form", [
    (F.softmax, lambda x, axis: np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)),
    (F.log_softmax, lambda x, axis: x - np.log(np.exp(x).sum(axis=axis, keepdims=True)))],
    ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, -1, None, (0, 1)])
def test_softmax_and_log_softmax_normalise_along_the_axis_given(function, closed_form, axis):
    """Values and gradients along axis 0, 1, all (None) of a 3×4 matrix, against the definition and central
    differences of it (small inputs: the plain formula is exact enough)."""
    rng = np.random.default_rng(3)
    x, weights = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    out, grad = _gradient(lambda v: function(v, axis=axis), x, weights)
    np.testing.assert_allclose(out, closed_form(x, axis), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, central_difference(lambda t: np.sum(weights * closed_form(t, axis)), x, eps=1e-6),
                               atol=1e-7)


def test_maximum_propagates_nan_as_numpy_and_pytorch_do():
    assert np.isnan(F.maximum(Value([np.nan, 1.0]), Value([0.0, np.nan])).data).all()


def test_where_picks_a_where_the_condition_holds_and_sends_its_gradient_there():
    condition = np.array([True, False, True])
    a, b = Value(np.array([1.0, 2.0, 3.0])), Value(np.array([10.0, 20.0, 30.0]))
    out = F.where(condition, a, b)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, 3.0])
    (out * np.array([2.0, 3.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 0.0, 5.0])
    np.testing.assert_array_equal(b.grad, [0.0, 3.0, 0.0])
