"""check_gradients as an engineer property-testing the gradients of their own functions uses it: verdicts near the
limits of finite differences (steep functions, a step's own error, kinks within the step, points where f is not
finite a step away) and whether each message says something true.

The trade-off chosen: order 1 keeps one step for every element and takes only the disagreeing ones again (smaller
steps, Richardson), so a right derivative of a steep function passes at no cost where all agree; from order 2, where
the steps are 1e-5 and 1e-4, every element is differenced with ε and ε/2, so that the step's own error cannot cancel
a wrong derivative of its size (about 1.7 times the work of those orders).  At order 1 a derivative off by about
(k·ε)²/6 can still pass where f varies on a scale 1/k of 4e-5 or less (exp(25000·x) with a slope off by +1e-4).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients


def steep_rational(s: float, c: float = 0.5):
    """−s·x/(s²x² + c), which varies on a scale 1/s in x."""
    return lambda x: -s * x / (s * s * x ** 2 + c)


def slope_of_steep_rational(s: float, c: float, x: float) -> float:
    """d/dx of −s·x/(s²x² + c) in closed form: −s·(c − s²x²)/(s²x² + c)²."""
    u2 = (s * x) ** 2
    return -s * (c - u2) / (u2 + c) ** 2


def exp_chain(k: float, wrong_order: int, off: float, depth: int = 0) -> Op:
    """exp(k·x)/kⁿ as an author's Op whose vjps call Ops (the Op at depth d computes k^d·exp(k·x)), so it can be
    checked at orders 1 to 3; the derivative of order ``wrong_order`` (and those above) is off by the relative
    amount ``off``, those below are right."""
    factor = 1.0 + off if depth + 1 == wrong_order else 1.0
    c = k ** depth
    if depth >= 3:
        return Op(f"exp_d{depth}", lambda x: c * np.exp(k * x), lambda g, out, x: g * c * k * np.exp(k * x) * factor)
    below = exp_chain(k, wrong_order, off, depth + 1)
    return Op(f"exp_d{depth}", lambda x: c * np.exp(k * x), lambda g, out, x: g * below(x) * factor)


def check_exp(k: float, order: int, off: float, x: np.ndarray):
    """check_gradients of 1000·Σ exp(k·x)/k^order (derivatives of that order about 1000 times the random weights,
    checked relatively, not within atol), its derivative of that order off by ``off`` (relative)."""
    op = exp_chain(k, order, off)
    return check_gradients(lambda v: op(v).sum() * (1e3 / k ** order), x, order=order)


# --- order 1: a right derivative of a steep function is taken again, not reported ----------------------------------

@given(s=st.sampled_from([1000.0, 2500.0, 5000.0, 10000.0, 30000.0]), u=st.floats(-1.0, 1.0))
def test_a_steep_rational_passes_at_order_1_with_its_slope_as_numeric(s, u):
    """−s·x/(s²x² + 0.5) with s ≥ 1000 failed at order 1 (the step 1e-6 is too coarse for it: its own error,
    ε²·C‴/6, exceeds the tolerance), where orders 2 and 3 took such elements again; order 1 now does too, and the
    numeric value reported is the slope itself (the extrapolated difference), not the analytic one copied over."""
    x = u / s
    report = check_gradients(steep_rational(s), np.array(x))
    expected = slope_of_steep_rational(s, 0.5, x)
    assert abs(float(report.numeric[0]) - expected) <= 1e-6 + 1e-5 * abs(expected)
    assert abs(float(report.analytic[0]) - expected) <= 1e-9 * max(1.0, abs(expected))


@pytest.mark.parametrize("k", [1e4, 3e4, 1e5])
def test_a_steep_exponential_passes_at_order_1_and_a_slope_off_by_1e_4_is_still_caught(k):
    x = np.array([0.0, 1e-5])
    report = check_exp(k, 1, 0.0, x)
    np.testing.assert_allclose(report.numeric[0], 1e3 * np.exp(k * x), rtol=1e-5)
    with pytest.raises(GradientCheckError) as failure:
        check_exp(k, 1, -1e-4, x)
    assert "2 of 2 gradient elements disagree" in str(failure.value)
    assert "not shown to be wrong" not in str(failure.value)


def test_a_plainly_wrong_vjp_at_order_1_gets_no_word_on_steps():
    """Taking the disagreeing elements again is said only where a disagreement fell with the step."""
    square = Op("square", lambda x: x * x, lambda g, out, x: g * 3 * x)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda v: square(v).sum(), np.array([1.0, 2.0]))
    assert "taken again" not in str(failure.value)


# --- orders 2 and 3: the step's own error no longer hides a wrong derivative of its size --------------------------

@pytest.mark.parametrize("order, k, off, hidden", [(3, 150.0, 3e-5, True), (3, 150.0, 2e-5, False),
                                                   (2, 1000.0, 2e-5, True), (2, 1000.0, 3e-5, False)])
def test_a_wrong_derivative_the_size_of_the_steps_own_error_is_caught(order, k, off, hidden):
    """exp(150x)‴ with the step of order 3, 1e-4: the difference is high by (kε)²/6 = 3.75e-5 (relative), so a
    derivative high by 3e-5 agreed with it (and one low by 3e-5 was caught).  With half the step the difference is
    high by a quarter of that only, and the wrong derivative no longer agrees: it is reported, with the difference
    of half the step in the table (``hidden``: the difference with ε agreed; else it did not, and the table keeps
    it, as a derivative high by 2e-5 there, or by 3e-5 at order 2 with exp(1000x), was reported before too)."""
    eps = 1e-4 if order == 3 else 1e-5
    x = np.array([0.0, 0.001])
    with pytest.raises(GradientCheckError) as failure:
        check_exp(k, order, off, x)
    error, message = failure.value, str(failure.value)
    assert f"order {order} failed" in message and "not shown to be wrong" not in message
    assert "2 of 2" in message.splitlines()[0], message
    assert (f"agreed show the one with {eps / 2:g}, which does not" in message) == hidden
    # the table's numbers: the analytic derivative (1 + off)·w·e^(kx) and the difference, which is high by about
    # (k·h)²/6 with the step h it was taken with (w: the random weights of the orders, the same on both sides)
    step = eps / 2 if hidden else eps
    np.testing.assert_allclose(error.numeric[0] / error.analytic[0], (1 + (k * step) ** 2 / 6) / (1 + off), rtol=3e-6)


@pytest.mark.parametrize("order, k", [(2, 30.0), (2, 1000.0), (2, 3000.0), (3, 10.0), (3, 150.0), (3, 1000.0)])
def test_right_steep_derivatives_still_pass_at_orders_2_and_3(order, k):
    report = check_exp(k, order, 0.0, np.array([0.0, 0.001, -0.001]))
    assert report.order == order
    np.testing.assert_allclose(report.numeric[0], report.analytic[0], rtol=1e-5, atol=1e-6)


@given(s=st.floats(10, 100), u=st.floats(-1, 1), order=st.sampled_from([2, 3]))
def test_steep_rationals_still_pass_at_orders_2_and_3(s, u, order):
    assert check_gradients(steep_rational(s), np.array(u / s), order=order).order == order


# --- kinks within the step ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("f, x", [
    (lambda v: v.relu().sum(), [3e-7]),
    (lambda v: v.relu().sum(), [-3e-7]),
    (lambda v: v.abs().sum(), [3e-7]),
    (lambda v: v.max(), [1.0, 1.0 + 3e-7]),
    (lambda v: v.relu().sum(), [2.5e-7, 4e-7]),
])
def test_a_kink_a_third_of_the_step_away_is_named_a_kink(f, x):
    """ReLU's kink 3e-7 from x, with the step 1e-6: the one-sided slopes' gap halves from ε to ε/2, as curvature's
    does, and the element was reported with a note blaming a kink in the slope (x·|x| at 0), which ReLU does not
    have; it is a kink within the step, and the table now says so."""
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(f, np.array(x))
    message = str(failure.value)
    assert "kink: slopes left | right" in message and "sit at a kink, or within the step of one" in message
    rows = [line for line in message.splitlines() if re.match(r"\s+0\s+\(", line)]
    assert rows and all("|" in row for row in rows), message
    assert "x·|x|" not in message and "not shown to be wrong" not in message


def test_a_smooth_function_with_curvature_is_not_taken_for_a_kink():
    """100·(e^(100(x − 1)) − 100x) at 1 with a step of 1e-2 (too large: it fails for the step): the one-sided slopes
    differ by about ε·C″, halving with the step each time, which is curvature, not a kink."""
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda v: 100 * ((100 * (v - 1)).exp() - 100 * v), np.array(1.0), eps=1e-2)
    assert "kink" not in str(failure.value)


# --- notes that must be true -------------------------------------------------------------------------------------

@pytest.mark.parametrize("C, k", [(1e10, 3e4), (1e10, 3e5), (1e8, 1e4), (1e9, 1e4)])
def test_no_note_blames_a_kink_in_the_slope_of_a_smooth_function_or_suggests_a_step_that_fails(C, k):
    """1e10 + exp(3e4·x) at 0: the step's own error and the rounding of f ≈ 1e10 together made the disagreement
    fall from 4.5 to 2.59 with half the step, close enough to halving that the note said the slope of f has a kink
    (x·|x| at 0), and suggested eps=1e-07, with which the check fails too.  A right derivative either passes, or its
    failure suggests only a step that agrees."""
    def f(v: Value) -> Value:
        return C + (k * v).exp().sum()
    x = np.array([0.0])
    try:
        report = check_gradients(f, x)
    except GradientCheckError as failure:
        message = str(failure)
        assert "x·|x|" not in message, message
        for step in re.findall(r"eps=([0-9.e+-]+)\)", message):
            np.testing.assert_allclose(check_gradients(f, x, eps=float(step)).analytic[0], [k], rtol=1e-12)
    else:
        np.testing.assert_allclose(report.analytic[0], [k], rtol=1e-12)
        np.testing.assert_allclose(report.numeric[0], [k], rtol=1e-5)


@pytest.mark.parametrize("x", [np.array([2.0 ** -10, 1.0]), np.array(2.0 ** -10)])
def test_a_point_where_f_is_not_finite_a_step_away_is_not_excused_as_rounding(x):
    """ln x at x = ε with step ε: x − ε = 0, so the difference is inf; the note then said the disagreement (inf) was
    within the rounding of f's values over the step (inf), "f is too large ... the derivative is not shown to be
    wrong", of a vjp wrong by 1e-3 at every element.  An infinite rounding explains nothing: the table's own note
    (f is not finite a step away) stays, and nothing excuses the derivative."""
    wrong_log = Op("log", np.log, lambda g, out, x: g / x * (1 + 1e-3))
    with np.errstate(all="ignore"), pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda v: wrong_log(v).sum(), x, eps=2.0 ** -10)
    message = str(failure.value)
    assert "f is not finite a step away from the point" in message
    assert "within the rounding" not in message and "not shown to be wrong" not in message


def test_the_right_log_at_the_edge_of_its_domain_passes_on_smaller_steps():
    """The same point with the right log: smaller steps agree, and the numeric value is 1/x."""
    x = np.array([2.0 ** -10, 1.0])
    report = check_gradients(lambda v: v.log().sum(), x, eps=2.0 ** -10)
    np.testing.assert_allclose(report.numeric[0], 1 / x, rtol=1e-5)


@pytest.mark.parametrize("off", [1e-4, -1e-4, 3e-4])
def test_a_wrong_slope_beside_a_larger_step_error_is_not_excused_as_the_step(off):
    """exp(1e5·x) at order 1: the step 1e-6 is off by (kε)²/6 = 1.7e-3 (relative), which falls fourfold with half the
    step, so the note said the step was too large and "no smaller step agrees either there: rounding outgrows the
    step's error first; ... the derivative is not shown to be wrong" of a slope off by 1e-4.  With eps=1e-8 the
    disagreement is that 1e-4, far above the rounding there: no note excuses it."""
    with pytest.raises(GradientCheckError) as failure:
        check_exp(1e5, 1, off, np.array([0.0, 1e-5]))
    message = str(failure.value)
    assert "not shown to be wrong" not in message and "rounding outgrows" not in message, message
