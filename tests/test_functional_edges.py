"""functional at its edges: a 0-d input to softmax, lists that hold Values, collections without an order."""

from __future__ import annotations

import numpy as np
import pytest

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
