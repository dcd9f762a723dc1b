"""check_gradients as an Op author meets it: deliberately wrong Ops, and whether the failure report points at the
element, the op and the input that are wrong (and raises no alarm over correct ops at awkward points)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient


def failure(f, *inputs, **settings) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, **settings)
    return str(caught.value)


def square_times(factor: float, name: str = "square") -> Op:
    """x² with a vjp of factor·2x (factor 1: right)."""
    return Op(name, lambda x: x * x, lambda g, out, x: g * (2 * factor) * x)


WRONG_SIGN = square_times(-1.0, "square_wrong_sign")
NAN_VJP = Op("nan_vjp", lambda x: x * x, lambda g, out, x: g * x * np.nan)


def exact_gradients(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """∂/∂(a, b) of Σ exp(a) + Σ b²: exp(a) and 2b."""
    return [np.exp(a), 2 * b]


# --- the element the notes speak of is the one the table ranks worst ------------------------------------------------
def test_a_wrong_sign_is_not_excused_by_a_larger_step_error_of_another_input():
    """exp at 10 with eps=1e-2 is off by ε²e¹⁰/6 ≈ 0.37 (a step error, beyond its tolerance by 0.15); the vjp of b² at
    0.05 has the wrong sign (off by 0.2, beyond its tolerance by 0.2).  The table puts b first; the note must not
    tell the author that "the derivative is not shown to be wrong" because of a's step."""
    a, b = np.array([10.0]), np.array([0.05])
    numeric = numerical_gradient(lambda a, b: a.exp().sum() + (b * b).sum(), Value(a), Value(b), eps=1e-2)
    exact = exact_gradients(a, b)
    assert abs(numeric[0] - exact[0])[0] > 0.3 and abs(numeric[1] - exact[1])[0] < 1e-9  # the premise
    message = failure(lambda a, b: a.exp().sum() + WRONG_SIGN(b).sum(), a, b, eps=1e-2)
    assert message.splitlines()[3].split()[:2] == ["1", "(0,)"]
    assert "not shown to be wrong" not in message


def test_a_nan_vjp_of_the_second_input_is_not_excused_by_the_first_inputs_step_error():
    """The table puts the NaN row first; the note must speak of it, not excuse input 0's step error."""
    message = failure(lambda a, b: a.exp().sum() + NAN_VJP(b).sum(), np.array([10.0]), np.array([0.05]), eps=1e-2)
    assert message.splitlines()[3].split()[:4] == ["1", "(0,)", "nan", "0.1"]
    assert "not shown to be wrong" not in message


def test_a_nan_vjp_of_the_first_input_heads_the_table_and_gets_no_excuse():
    """Guard: the order that works today keeps working."""
    message = failure(lambda b, a: a.exp().sum() + NAN_VJP(b).sum(), np.array([0.05]), np.array([10.0]), eps=1e-2)
    assert "not shown to be wrong" not in message


# --- what the report says about where the failure is -----------------------------------------------------------------
def test_the_report_names_the_op_an_author_wrote():
    message = failure(lambda v: square_times(2.0, "my_square")(v).sum(), np.array([0.5, -1.0]))
    assert "my_square" in message.splitlines()[0]


@pytest.mark.parametrize("order", [1, 2])
def test_the_report_gives_the_input_value_order_and_dtype_at_the_worst_element(order):
    """Element 1 of four is the one wrong (a vjp with the wrong sign there only): the header gives it, x[1] = 0.3."""
    x = np.array([0.5, 0.3, 2.0, -1.5])
    flip = np.array([1.0, -1.0, 1.0, 1.0])
    if order == 1:
        op = Op("flip_one", lambda x: x * x, lambda g, out, x: g * 2 * x * flip)
    else:  # right gradient 3x²; at element 1 one factor x is read as .data, out of the graph: (3x²)' = 3x there
        op = Op("cube_flip", lambda x: x ** 3,
                lambda g, out, x: g * 3 * x * (x * (flip > 0) + getattr(x, "data", x) * (flip < 0)))
    message = failure(lambda v: op(v).sum(), x, order=order)
    header, first = message.splitlines()[0], message.splitlines()[3].split()
    assert first[:2] == ["0", "(1,)"]
    assert f"order {order}" in header and "float64" in header and "x[1] = 0.3" in header


def test_the_report_of_a_float32_input_still_names_the_first_row_checked_in_float64():
    """float32 inputs are checked in float64 (documented): a vjp wrong by 2 is caught all the same."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        message = failure(lambda v: square_times(2.0)(v).sum(), np.array([1.0, 2.0], dtype=np.float32))
    assert message.splitlines()[3].split()[:4] == ["0", "(1,)", "8", "4"]


# --- guards: what is caught and what is not an alarm today ------------------------------------------------------------
def test_a_wrong_second_input_is_reported_for_that_input_only():
    mul = Op("mul_b_wrong", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a * 1.01))
    a, b = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.3, -0.7])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda a, b: mul(a, b).sum(), a, b)
    rows = str(caught.value).splitlines()[3:6]
    assert [row.split()[:2] for row in rows] == [["1", "(2,)"], ["1", "(1,)"], ["1", "(0,)"]]
    np.testing.assert_allclose(caught.value.numeric[1], a, rtol=1e-8)


def test_a_relative_error_below_rtol_passes_and_one_above_fails():
    x = np.array([0.5, -1.0, 2.0])
    check_gradients(lambda v: square_times(1 + 1e-6)(v).sum(), x)
    failure(lambda v: square_times(1 + 3e-5)(v).sum(), x)


def test_a_vjp_of_the_wrong_shape_is_a_value_error_naming_op_and_input():
    mul = Op("mul_shape", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: (g * a).sum(axis=0)))
    with pytest.raises(ValueError, match=r"mul_shape.*input 1.*\(3,\).*\(2, 1\)"):
        check_gradients(lambda a, b: mul(a, b).sum(), np.ones((2, 3)), np.array([[1.0], [2.0]]))


def test_a_vjp_that_forgets_to_sum_over_broadcast_rows_is_caught():
    mul = Op("mul_rows", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: (g * a)[:1]))
    failure(lambda a, b: mul(a, b).sum(), np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]), np.array([1.0, 2.0, 3.0]))


def test_a_forward_that_changes_its_input_is_named():
    def doubling(x):
        x *= 2
        return x * x
    message = failure(lambda v: Op("doubling", doubling, lambda g, out, x: g * 2 * x)(v).sum(), np.array([1.0, 2.0]))
    assert "changes its input(s) 0 in place" in message


@pytest.mark.parametrize("f, x, order", [
    (lambda v: v.abs().sum(), [0.0, 1.0, -1.0], 1),
    (lambda v: F.maximum(v, Value(np.array([1.0, 3.0]), requires_grad=False)).sum(), [1.0, 2.0], 1),
    (lambda v: v.exp().sum(), [20.0, 19.5], 2),
    (lambda v: (1.0 / v).sum(), [0.01, 0.02, -0.01], 2),
    (lambda v: (v.tanh() * v).sum(), [0.3, -1.2], 2),
])
def test_correct_ops_at_awkward_points_raise_no_alarm(f, x, order):
    check_gradients(f, np.array(x), order=order)
