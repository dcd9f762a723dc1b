"""A numerical analyst's pass at the extremes: costs and gradients near the largest float, subnormal inputs, float32
squares that underflow.  Expected numbers are closed forms worked out by hand (noted beside each), not outputs of
the code under test.

The first tests are for a defect this pass found: the Newton methods symmetrised the Hessian as (H + Hᵀ)/2, which
overflows where its entries pass half the largest float although H, its eigenvalues and the Newton step are
representable.  (The Armijo condition's σ·t·∇f(x)ᵀd, −inf for ‖∇f(x)‖ > 1e154, refuses every step there: left
as it is, a gradient that large being no case for a step-size rule written as the seed writes it.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, optim
from tinygrad_edu.calculus import stationary_point

# C(x) = c·(x₀² + x₁² + ½x₀x₁): H = c·[[2, ½], [½, 2]], eigenvalues 1.5c and 2.5c, minimum at 0.  From (½, −¼) the
# cost is c·(¼ + 1/16 − 1/16) = c/4 and ∇C = c·(2·½ − ⅛, −2·¼ + ¼) = c·(⅞, −¼): all finite for c = 6e307, where the
# entries 2c = 1.2e308 of H are finite too, but 2·2c = H + Hᵀ is not.
HUGE = 6e307


def _quadratic(c: float):
    return lambda v: c * ((v * v).sum() + 0.5 * v[0] * v[1])


def test_newton_lands_on_the_minimum_of_a_quadratic_whose_hessian_is_near_the_largest_float():
    x = Value(np.array([0.5, -0.25]))
    opt = optim.Newton([x])
    cost = _quadratic(HUGE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (before the fix: numpy's overflow and the LineSearchWarning)
        opt.step(lambda: cost(x))
    assert not opt.last_fallback and opt.last_step_size == 1.0
    assert np.abs(x.data).max() <= 1e-15  # one Newton step from any point of a quadratic: its minimum, 0


def test_stationary_point_of_a_quadratic_whose_hessian_is_near_the_largest_float():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = stationary_point(_quadratic(HUGE), [0.5, -0.25])
    assert found.converged and found.kind == "minimum"
    assert np.abs(found.point).max() <= 1e-15
    np.testing.assert_allclose(found.eigenvalues, [1.5 * HUGE, 2.5 * HUGE], rtol=1e-14)
    assert not caught  # no numpy warning either: H is representable


def _decreases_enough(t: float) -> bool:
    """The Armijo condition for f(p) = 1e155·p² at x = 1 (∇f = 2e155, d = −2e155), σ = 1e-4, worked out by hand:
    x + t·d = 1 − 2e155·t, and σ·t·∇fᵀd = −1e-4·t·4e310, representable for t = 1e-156 (−4e150)."""
    return 1e155 * (1 - 2e155 * t) ** 2 <= 1e155 - 1e-4 * t * 2e155 * 2e155


# --- guards: behaviour at the extremes that this role relies on ---------------------------------------------------

@pytest.mark.parametrize("c", [1.0, 1e300, 1e-300])
def test_newton_one_step_on_a_quadratic_at_any_representable_scale(c):
    """Scale does not change Newton's step −H⁻¹∇C (= −x for this quadratic); the symmetrisation that avoids the
    overflow of H + Hᵀ must keep the small scales exact too."""
    x = Value(np.array([0.5, -0.25]))
    opt = optim.Newton([x])
    cost = _quadratic(c)
    opt.step(lambda: cost(x))
    assert not opt.last_fallback and opt.last_step_size == 1.0
    assert np.abs(x.data).max() <= 1e-15


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x", [5e-324, -5e-324, 1e-310, 1e-45, -1e-45, 1e-40])
def test_tanh_second_derivative_at_subnormal_inputs_is_minus_two_x(x, dtype):
    """tanh''(x) = −2·sech²(x)·tanh(x) = −2x·(1 + O(x²)): exactly −2x wherever x is subnormal in the dtype (or 0
    where x rounds to 0 in it), never flushed to 0 or NaN; tanh'(x) = 1 and tanh(x) = x there."""
    point = Value(np.array(x, dtype=dtype))
    out = F.tanh(point)
    out.backward(create_graph=True)
    slope = point.grad
    point.grad = None
    slope.backward()
    given = np.array(x, dtype=dtype)
    assert out.data == given and slope.data == 1
    assert point.grad.dtype == dtype and point.grad == -2 * given


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x", [1e3, -1e3, 1e5, -1e5])
def test_saturated_softplus_has_slope_zero_or_one_and_curvature_zero_in_both_dtypes(x, dtype):
    """softplus(x) = x for x ≫ 0 and 0 for x ≪ 0 (e^−1000 is below every float); softplus' = σ = 1 or 0 and
    softplus'' = σ' = 0, with no NaN from an overflowing eˣ, in float32 as in float64."""
    point = Value(np.array(x, dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(point)
        out.backward(create_graph=True)
        slope = point.grad
        point.grad = None
        slope.backward()
    assert out.data == max(x, 0.0) and out.dtype == dtype
    assert slope.data == (1.0 if x > 0 else 0.0)
    assert point.grad == 0


def test_adam_first_step_on_a_float32_gradient_whose_square_underflows():
    """g = 1e-30 in float32: g² = 1e-60 underflows to 0, which is harmless here, as ε dominates √v̂ anyway: the
    first update is η·g/(|g| + ε) = 0.1·1e-30/(1e-30 + 1e-8) ≈ 1e-23 (closed form), in float32."""
    w = Value(np.array([0.0, 0.0], dtype=np.float32))
    w.grad = np.array([1e-30, -1e-30], dtype=np.float32)
    optim.Adam([w], learning_rate=0.1).step()
    g = float(np.float32(1e-30))
    expected = 0.1 * g / (g + 1e-8)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w.data, [-expected, expected], rtol=1e-6)
