"""The round's late review: what the merged changes of the fortieth round's end got wrong."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu.ops import Op
from tinygrad_edu.testing import GradientCheckError, check_gradients

# --- check_gradients' rounding note: a wrong derivative beside a rounding-limited element --------------------------

#: x², whose vjp is off by a thousandth: a wrong derivative that central differences resolve at any step (f is
#: quadratic there: no curvature error at all)
_ALMOST_SQUARE = Op("almost_square", lambda x: x * x, lambda g, out, x: g * 2 * x * (1 + 1e-3))


def _large(v):
    return v[0] * v[0] * 1e-1 + _ALMOST_SQUARE(v[1]) + 1e8


def test_a_wrong_derivative_beside_the_worst_element_is_not_blamed_on_curvature():
    """10⁸ + 0.1·x₀² + x₁² with x₁²'s derivative 0.1% too large, at (0.05, 0.3): both elements are lost in f's
    rounding at the default step, x₀ the worst.  Trying every disagreeing element with the larger step, the note
    said "a larger eps does not help: ... is too coarse for f's curvature" (both are quadratics, which central
    differences take exactly) and "the derivative is not shown to be wrong", hiding the wrong one.  The step is
    suggested, and the check with it shows x₁'s derivative wrong: 2·0.3·1.001 against 0.6."""
    x = np.array([0.05, 0.3])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(_large, x)
    message = str(caught.value)
    assert "within the rounding of f's values over the step" in message
    assert "curvature" not in message
    suggested = re.search(r"larger eps, e\.g\. eps=([0-9.e+-]+)\)", message)
    assert suggested is not None, message
    with pytest.raises(GradientCheckError) as again:
        check_gradients(_large, x, eps=float(suggested.group(1)))
    report = again.value
    assert report.analytic[0][1] == pytest.approx(0.6006, rel=1e-12)
    assert report.numeric[0][1] == pytest.approx(0.6, rel=1e-6)  # (the true slope, resolved)
    assert abs(report.analytic[0][0] - report.numeric[0][0]) <= 1e-6 + 1e-5 * abs(report.numeric[0][0])


def test_a_step_too_coarse_for_curvature_is_still_not_suggested():
    """10⁻²·tanh(x) + 10¹² at x = 1: the step rounding would need, 10⁴, is far too coarse for tanh (its differences
    with 10⁴ and 5·10³ give no one slope), and the note still says so rather than suggesting it."""
    with pytest.raises(GradientCheckError, match=r"eps=10000, is too coarse for f's curvature"):
        check_gradients(lambda v: (v.tanh() * 1e-2 + 1e12).sum(), np.array([1.0]))
