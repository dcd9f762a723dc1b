"""Mutation tests for round 36's changes, above all testing's _retaken (the Richardson re-check of disagreeing
elements from order 2) and _step_note (the step a failure suggests).

The functions are A·exp(k·x) written as a chain of an author's Ops, so that the derivative of one order can be made
off by a chosen relative amount while the closed form, A·kⁿ·exp(k·x), stays known: for k of several hundred the
default step of order 3 (1e-4) is too coarse (its own relative error is about (ε·k)²/6), so the element goes to the
re-check.  A mutant of the re-check's tolerance or of its extrapolation either lets a derivative that is off by
3·rtol pass, or raises on a right one, or reports a number that is not the extrapolated difference.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients


def exp_chain(k: float, wrong_order: int, off: float, scale: float = 1.0, depth: int = 0) -> Op:
    """scale·exp(k·x) as Ops whose vjps call Ops (the Op at depth d computes scale·kᵈ·exp(k·x)); the derivative of
    order ``wrong_order`` (and so those above it) is off by the relative amount ``off``."""
    factor = 1.0 + off if depth + 1 == wrong_order else 1.0
    c = scale * k ** depth
    if depth >= 3:
        return Op(f"exp_d{depth}", lambda x: c * np.exp(k * x), lambda g, out, x: g * c * k * np.exp(k * x) * factor)
    below = exp_chain(k, wrong_order, off, scale, depth + 1)
    return Op(f"exp_d{depth}", lambda x: c * np.exp(k * x), lambda g, out, x: g * below(x) * factor)


def order_3(k: float, off: float = 0.0, scale: float = 1.0):
    op = exp_chain(k, 3, off, scale)
    return check_gradients(lambda v: op(v).sum(), np.array([0.0]), order=3)


@pytest.mark.parametrize("scale", [1.0, 500.0 ** -3])  # third derivatives of 1.25e8 (rtol rules) and of 1 (atol)
def test_a_third_derivative_off_by_3_rtol_on_a_steep_element_is_caught(scale):
    """k = 500: the coarse difference is off by 4e-4 (relative), so the element is taken again; its extrapolation
    is the true value, from which the derivative is 3e-5 away: it must stay in the table."""
    with pytest.raises(GradientCheckError) as failure:
        order_3(500, off=3e-5, scale=scale)
    error = failure.value
    assert "order 3 failed" in str(error) and "taken again" in str(error)
    assert abs(error.analytic[0][0] - error.numeric[0][0]) > 2e-5 * abs(error.numeric[0][0])


@pytest.mark.parametrize("k", [500, 4000])
def test_a_steep_third_derivative_passes_with_the_extrapolated_difference_as_numeric(k):
    """k = 4000 needs the second pair of steps (1e-5, 5e-6): the first pair's extrapolation is still off by about
    (ε·k)⁴/480 = 5e-5.  The derivative is off by 5e-6 (within rtol=1e-5), and the report's numeric value must be
    the true third derivative k³ (times the random weight), not the analytic one copied over."""
    off = 5e-6
    report = order_3(k, off)
    weight = report.analytic[0][0] / ((1 + off) * k ** 3)  # the single random weight of orders 2 and 3
    assert abs(report.numeric[0][0] - weight * k ** 3) <= 1e-6 * abs(weight * k ** 3)
    assert order_3(k).order == 3


def test_a_suggested_step_agrees_and_a_failing_one_is_not_suggested():
    """f = C + exp(k·x) with C = 1e10, k = 3e5: the step's error and the rounding of C over the step both exceed the
    tolerance at eps=1e-7 (checked here), so a failure at the default step must not suggest it.  (With C = 1e9,
    k = 1e4, as first written, the check passes since order 1 takes a disagreeing element again with smaller
    steps.)"""
    def f(v: Value) -> Value:
        return 1e10 + (3e5 * v).exp().sum()
    x = np.array([0.0])
    with pytest.raises(GradientCheckError):
        check_gradients(f, x, eps=1e-7)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(f, x)
    message = str(failure.value)
    assert "try eps=" not in message, message
    assert "no smaller step agrees either there" in message, message


@pytest.mark.parametrize("C, k", [(0.0, 8000.0), (1e8, 1e4), (1e8, 3e4), (1e9, 3e4), (1e8, 1e5), (1e10, 3e4),
                                  (1e10, 3e5)])
def test_every_step_a_failure_suggests_agrees(C, k):
    """The first five failed at the default step and suggested one; since order 1 takes a disagreeing element again
    with smaller steps they pass, with the slope k as the numeric value.  Whatever fails suggests only a step that
    agrees (1e10 + e^(3e4·x) suggested eps=1e-07, which fails too)."""
    def f(v: Value) -> Value:
        return C + (k * v).exp().sum()
    x = np.array([0.0])
    try:
        report = check_gradients(f, x)
    except GradientCheckError as failure:
        for step in re.findall(r"try eps=([0-9.e+-]+)\)", str(failure)):
            np.testing.assert_allclose(check_gradients(f, x, eps=float(step)).analytic[0], [k], rtol=1e-12)
    else:
        np.testing.assert_allclose(report.analytic[0], [k], rtol=1e-12)  # d/dx (C + e^(kx)) at 0
        np.testing.assert_allclose(report.numeric[0], [k], rtol=1e-5)


def test_a_vjp_returning_the_python_int_0_is_a_zero_gradient():
    """The new refusal of integer gradients (a vjp returning (x > 0) without g) spares a plain 0: floor's slope."""
    floor = Op("floor_of_mine", np.floor, lambda g, out, x: 0)
    x = Value(1.5)
    (floor(x) * 3.0 + x * 2.0).backward()
    assert float(x.grad) == 2.0  # d/dx (3·floor(x) + 2x) = 2 away from the integers
