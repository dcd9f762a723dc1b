"""A property-testing engineer's second round with tinygrad_edu.testing: strategies named after the function called,
and functions that change their arguments in place."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.testing import GradientCheckError, check_gradients

pytest.importorskip("hypothesis")
from tinygrad_edu.testing.strategies import values  # noqa: E402


@pytest.mark.parametrize(("kwargs", "error", "words"), [
    ({"min_value": 3, "max_value": 1}, ValueError, "min_value 3 is larger than max_value 1"),
    ({"dtype": np.int64}, TypeError, "dtype must be np.float64 or np.float32"),
    ({"margin": -1}, ValueError, "margin must be >= 0"),
    ({"max_dims": 1}, TypeError, "only apply when the shape is drawn"),
    ({"unique": True}, TypeError, "unexpected keyword argument(s) ['unique']"),
])
def test_values_names_itself_for_a_bad_array_argument(kwargs, error, words):
    with pytest.raises(error) as raised:
        values((2,), **kwargs)
    message = str(raised.value)
    assert message.startswith("values: ") and words in message
    assert "arrays takes" not in message


def doubled_in_place(x):
    x.data[...] *= 2  # f(x) = Σ (2x)² = 4x², derivative 8x; backprop sees x·x at 2x: 4x
    return (x * x).sum()


def counting_in_place(x, b):
    b.data += 1  # the held-fixed b grows by 1 at every call
    return (x * b).sum()


def test_an_f_that_changes_a_checked_input_in_place_is_named():
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(doubled_in_place, np.array([1.0, 2.0]))
    message = str(raised.value)
    np.testing.assert_allclose(raised.value.numeric[0], [8.0, 16.0], rtol=1e-6)
    assert "changes its input(s) 0 in place" in message


def test_an_f_that_changes_a_held_fixed_value_in_place_is_named_not_called_random():
    b = Value(np.ones(2), requires_grad=False)
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(counting_in_place, np.array([1.0, 2.0]), b)
    message = str(raised.value)
    assert "changes its input(s) 1 in place" in message
    assert "random numbers" not in message
