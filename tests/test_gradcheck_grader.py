"""A teacher grading students' custom Ops with check_gradients: each typical mistake must be caught with a message
that names the Op (and input) at fault, correct Ops must pass at orders 1 and 2, for scalars and arrays, float32
and float64, and the strategies must shrink a counterexample to something readable."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import find, given

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import arrays

X3 = np.array([0.5, -1.3, 2.0])


def _relu_into_ints(x: np.ndarray) -> np.ndarray:
    """A student's ReLU forward that fills an integer array: every output is truncated."""
    out = np.zeros(x.shape, dtype=int)
    out[x > 0] = x[x > 0]
    return out


def _failure(f, *inputs, **kw) -> str:
    with pytest.raises(GradientCheckError) as info:
        check_gradients(f, *inputs, **kw)
    return str(info.value)


def test_forward_returning_ints_is_named_with_its_dtype():
    relu_int = Op("relu_int", _relu_into_ints, lambda g, out, x: g * (x > 0))
    message = _failure(relu_int, X3)
    assert re.search(rf"Op 'relu_int' returns {np.dtype(int).name}", message), message


def test_forward_returning_float16_is_named_with_its_dtype():
    half = Op("half", lambda x: (x * x).astype(np.float16), lambda g, out, x: 2 * g * x)
    message = _failure(lambda x: (half(x) * x).sum(), X3)
    assert "Op 'half' returns float16" in message, message


def test_float32_forward_inside_f_is_named():
    single = Op("single", lambda x: np.sin(x).astype(np.float32), lambda g, out, x: g * np.cos(x))
    message = _failure(lambda x: single(x) * Value(np.full(3, 3.0)), X3)
    assert "Op 'single' returns float32" in message, message


def test_vjp_of_a_larger_shape_is_named_with_its_shape():
    times = Op("times", lambda a, b: a * b, (lambda g, out, a, b: g[:, None] * b[None, :], lambda g, out, a, b: g * a))
    message = _failure(times, X3, X3 + 1.0)
    assert re.search(r"vjp for input 0 of Op 'times' returns shape \(3, 3\) for an input of shape \(3,\)", message), \
        message


# --- guards: what a grader relies on -----------------------------------------------------------------------------

def test_dtype_note_does_not_name_a_correct_op_beside_a_wrong_one():
    """The note names the Op with the int forward, not a correct float Op in the same f."""
    relu_int = Op("relu_int", _relu_into_ints, lambda g, out, x: g * (x > 0))
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x * x)
    message = _failure(lambda x: relu_int(cube(x)).sum(), X3)
    assert "Op 'cube' returns" not in message


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x", [0.7, X3], ids=["scalar", "array"])
def test_correct_student_op_passes_at_orders_1_and_2(x, dtype):
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x * x)
    data = np.asarray(x, dtype=dtype)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = check_gradients(cube, Value(data), order=2)
        first = check_gradients(lambda v: cube(v).sum(), Value(data))
    assert report.order == 2
    assert [str(w.message) for w in caught if "float32" in str(w.message)] != [] if dtype == np.float32 else not caught
    np.testing.assert_allclose(first.analytic[0], 3 * np.asarray(x, dtype=np.float64) ** 2, rtol=1e-6)  # (x³)' = 3x²


def test_numpy_vjp_passes_order_1_but_fails_order_2_with_the_graph_note():
    my_sin = Op("my_sin", np.sin, lambda g, out, x: g * np.cos(np.asarray(getattr(x, "data", x))))
    check_gradients(my_sin, X3)
    message = _failure(my_sin, X3, order=2)
    assert "order 2 failed" in message and "steps out of the recorded graph" in message


def test_forgotten_g_in_the_second_vjp_names_that_vjp_not_fs_first_input():
    mul = Op("mul_b", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: a))
    message = _failure(lambda y, x: mul(x, y).sum(), X3 + 1.0, X3)
    assert "the vjp for input 1 of Op 'mul_b'" in message


def test_strategies_shrink_a_sign_bug_to_one_readable_negative_number():
    my_abs = Op("my_abs", np.abs, lambda g, out, x: g)   # right only for positive inputs

    def fails(x: np.ndarray) -> bool:
        try:
            check_gradients(my_abs, x)
        except GradientCheckError:
            return True
        return False

    example = find(arrays(avoid=(0.0,)), fails)
    assert example.size == 1 and float(example.ravel()[0]) == -1.0


@given(arrays(shape=(3,), avoid=(0.0,)))
def test_correct_relu_op_passes_off_its_kink(x):
    relu = Op("my_relu", lambda x: np.maximum(x, 0.0), lambda g, out, x: g * (x > 0))
    report = check_gradients(relu, x)
    np.testing.assert_allclose(report.analytic[0], report.numeric[0], rtol=1e-5, atol=1e-6)
