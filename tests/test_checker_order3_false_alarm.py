"""check_gradients at orders 2 and 3 on steep functions, as an engineer property-testing third derivatives uses it.

Under HYPOTHESIS_PROFILE=thorough the composition fuzzer's order-3 test failed on a right engine: for
f = −25·x0/(625·x0² + 0.5) + Σ exp(2·x1) near x0 = 0 the central differences of the second derivative with the
default step of order 3 (1e-4) are off by their own error (about ε²·C⁽⁵⁾/6), not by a wrong derivative.  The check
must not raise there, yet must still catch a derivative that is off by a small relative amount at every order; and
where it does fail for the step, the step it suggests must be one that passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients


def fuzzer_case(x0: Value, x1: Value) -> Value:
    """The graph the composition fuzzer drew (its program, as a function)."""
    return -25 * x0 / (625 * x0 ** 2 + 0.5) + (2 * x1).exp().sum()


def steep_rational(s: float, c: float = 0.5) -> Callable[[Value], Value]:
    """−s·x/(s²x² + c): the fuzzer's function with its scale 1/s in x as a parameter."""
    return lambda x: -s * x / (s * s * x ** 2 + c)


def third_derivative_of_rational(s: float, c: float, x: float) -> float:
    """d³/dx³ of −s·x/(s²x² + c), in closed form: with u = s·x, −s³·(u/(u² + c))‴, where
    (u/(u² + c))‴ = −6·(u⁴ − 6c·u² + c²)/(u² + c)⁴ (sympy)."""
    u = s * x
    return s ** 3 * 6 * (u ** 4 - 6 * c * u ** 2 + c * c) / (u * u + c) ** 4


def exp_chain(wrong_order: int, off: float, depth: int = 0) -> Op:
    """exp as an author's Op whose vjps call Ops: the derivative of order ``wrong_order`` (and so those above) is
    off by the relative amount ``off``, the orders below are right."""
    factor = 1.0 + off if depth + 1 == wrong_order else 1.0
    if depth >= 3:
        return Op(f"exp_d{depth}", np.exp, lambda g, out, x: g * np.exp(x) * factor)
    below = exp_chain(wrong_order, off, depth + 1)
    return Op(f"exp_d{depth}", np.exp, lambda g, out, x: g * below(x) * factor)


X1 = np.array([0.1, -0.3])


# --- defects ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("x0", [0.0, 1e-3, 0.01, -0.02])
def test_the_fuzzers_false_alarm_at_order_3_is_gone(x0):
    report = check_gradients(fuzzer_case, np.array(x0), X1, order=3)
    # its x0 element is w·f‴(x0), w the product of the random weights of orders 2 and 3 for x0: the same w as in
    # the check of x0³/6 (whose third derivative is 1) with inputs of the same shapes
    weight = check_gradients(lambda a, b: a ** 3 / 6 + (b ** 3).sum(), np.array(0.3), X1, order=3).analytic[0]
    np.testing.assert_allclose(report.analytic[0], weight * third_derivative_of_rational(25, 0.5, x0), rtol=1e-9)
    np.testing.assert_allclose(report.numeric[0], report.analytic[0], rtol=1e-5)


@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (no shrinking: each failing call is slow)
@given(s=st.floats(10, 100), c=st.floats(0.3, 2.0), u=st.floats(-1, 1), k=st.floats(50, 150),
       x1=st.lists(st.floats(-0.05, 0.05), min_size=2, max_size=2), order=st.sampled_from([2, 3]))
def test_steep_rational_and_exponential_functions_pass_at_orders_2_and_3(s, c, u, k, x1, order):
    def f(x0: Value, x1: Value) -> Value:
        return -s * x0 / (s * s * x0 ** 2 + c) + (k * x1).exp().sum() / k ** 2
    assert check_gradients(f, np.array(u / s), np.array(x1), order=order).order == order


@pytest.mark.parametrize("s, x", [(250, 0.0), (2000, 1.5e-4)])
def test_the_step_a_failure_suggests_passes(s, x):
    f = steep_rational(s)
    try:
        check_gradients(f, np.array(x), order=3)
    except GradientCheckError as error:
        suggested = re.search(r"try eps=([0-9.e+-]+)\)", str(error))
        assert suggested, str(error)
        assert check_gradients(f, np.array(x), order=3, eps=float(suggested.group(1))).order == 3


def test_a_failure_at_order_3_names_the_steps_it_tried():
    wrong = exp_chain(wrong_order=3, off=1e-3)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda x: wrong(x).sum(), np.array([0.2, -0.5]), order=3)
    message = str(failure.value)
    assert "order 3 failed" in message
    assert "taken again with the steps eps=0.0001 and 5e-05" in message and "1e-05 and 5e-06" in message


# --- guards ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("off", [1e-3, 1e-4])
@pytest.mark.parametrize("wrong_order", [1, 2, 3])
def test_a_derivative_off_by_a_small_relative_amount_is_caught_at_its_order_and_above(wrong_order, off):
    wrong = exp_chain(wrong_order, off)
    x = np.array([0.2, -0.5, 0.9])
    for order in range(1, 4):
        if order < wrong_order:
            check_gradients(lambda v: wrong(v).sum(), x, order=order)  # the orders below are right
            continue
        with pytest.raises(GradientCheckError) as failure:
            check_gradients(lambda v: wrong(v).sum(), x, order=order)
        message = str(failure.value)
        assert f"order {wrong_order} failed" in message or order == 1, message
        assert "3 of 3" in message.splitlines()[0], message
        assert "not shown to be wrong" not in message, message


@given(s=st.floats(10, 100), u=st.floats(-1, 1), x1=st.floats(-1, 1))
def test_a_wrong_third_derivative_beside_a_steep_function_is_still_caught(s, u, x1):
    """The steep part sends its elements to be taken again; the wrong Op's elements must stay in the table."""
    wrong = exp_chain(wrong_order=3, off=1e-3)

    def f(x0: Value, x1: Value) -> Value:
        return -s * x0 / (s * s * x0 ** 2 + 0.5) + wrong(x1).sum()
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(f, np.array(u / s), np.array([x1]), order=3)
    assert "order 3 failed" in str(failure.value)
    assert np.abs(failure.value.analytic[1] - failure.value.numeric[1]).min() > 1e-4 * np.exp(-1)


@pytest.mark.parametrize("s, x", [(5, 0.0), (4, 0.1), (2, -0.3)])
def test_an_order_3_report_on_a_steep_function_matches_the_closed_form(s, x):
    """The report's numbers are the third derivative itself (one input, one element: its weight is a single
    random number, the same on both sides), not just two numbers that agree."""
    report = check_gradients(steep_rational(s), np.array(x), order=3)
    expected = third_derivative_of_rational(s, 0.5, x)
    ratio = float(report.analytic[0]) / expected
    assert abs(abs(ratio) - abs(float(report.numeric[0]) / expected)) < 1e-5
    # the weights of orders 2 and 3 scale the third derivative by the same factor at every s and x
    weight = float(check_gradients(lambda v: v ** 3 / 6, np.array(0.3), order=3).analytic[0])
    np.testing.assert_allclose(ratio, weight, rtol=1e-6)
