"""Derivatives against closed forms, as a mathematician checks them with a computer-algebra system.

The closed forms below were first derived with sympy (outside this repository) and are written here by hand, so
the tests need nothing but numpy.  For f(a, b) = aᵇ:

    f_a = b·aᵇ⁻¹                 f_b = aᵇ·ln a
    f_aa = b(b − 1)·aᵇ⁻²          f_ab = aᵇ⁻¹(1 + b·ln a)          f_bb = aᵇ·ln²a
    f_aaa = b(b − 1)(b − 2)·aᵇ⁻³  f_aab = aᵇ⁻²(2b − 1 + b(b − 1)·ln a)
    f_abb = aᵇ⁻¹·ln a·(2 + b·ln a)  f_bbb = aᵇ·ln³a

At a negative base aᵇ is real for integer b only, so every derivative in b is undefined (NaN), while the
derivatives in a alone exist: f_aa = b(b − 1)aᵇ⁻² is as finite at a = −3 as at a = 3.  (Where the exponent is
differentiated too, a Hessian there is NaN through 0·NaN, as in PyTorch: not pinned here.)

The activations: σ′ = σ(1 − σ) = 1 / (4cosh²(x/2)), σ″ = −σ′·tanh(x/2), σ‴ = σ′(1 − 6σ′); with s = sech²x,
tanh′ = s, tanh″ = −2s·tanh x, tanh‴ = −2s(3s − 2); softplus′ = σ, so softplus‴ = σ″.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad, hessian, jacobian


def _quiet(function, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*args)


def _power(p):
    return p[0] ** p[1]


# --- guards -----------------------------------------------------------------------------------------------------------


def test_a_negative_base_keeps_the_derivatives_in_b_undefined_and_those_in_a_exact():
    """∂aᵇ/∂b at a < 0 does not exist: NaN (as in PyTorch), also at second order; the derivatives in a alone exist."""
    a, b = Value(-2.0), Value(3.0)
    slope_a, slope_b = _quiet(grad(_power_of, argnums=(0, 1)), a, b)
    assert float(slope_a) == 12.0 and np.isnan(float(slope_b))       # 3·(−2)², and undefined
    assert _quiet(grad(grad(_power_of, 0), 0), -2.0, 3.0).item() == -12.0  # 3·2·(−2)
    assert np.isnan(_quiet(grad(grad(_power_of, 1), 0), -2.0, 3.0).item())
    assert np.isnan(_quiet(grad(grad(_power_of, 0), 1), -2.0, 3.0).item())


def _power_of(a, b):
    return a ** b


def _power_derivatives(a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """The Hessian and the third derivatives of aᵇ in (a, b), from the closed forms of the module docstring."""
    ln = np.log(a)
    faa, fab, fbb = b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * ln), a ** b * ln ** 2
    faaa, faab = b * (b - 1) * (b - 2) * a ** (b - 3), a ** (b - 2) * (2 * b - 1 + b * (b - 1) * ln)
    fabb, fbbb = a ** (b - 1) * ln * (2 + b * ln), a ** b * ln ** 3
    third = np.empty((2, 2, 2))
    for i in range(2):
        for j in range(2):
            for k in range(2):
                third[i, j, k] = (faaa, faab, fabb, fbbb)[i + j + k]  # symmetric: only how many b's counts
    return np.array([[faa, fab], [fab, fbb]]), third


@given(a=st.sampled_from([1e-8, 1e-3, 0.5, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 2.0, 7.5]) | st.floats(0.05, 6.0),
       b=st.sampled_from([0.0, 1.0, 2.0, -1.0, 0.5, 3.0]) | st.floats(-3.0, 3.0))
def test_a_powers_second_and_third_derivatives_in_base_and_exponent_match_the_closed_forms(a, b):
    """Near a = 0, near ln a = 0 (a ≈ 1), at b = 0 (the slope's own branch) and b = 2 (the square's fast path)."""
    expected_h, expected_t = _power_derivatives(a, b)
    h = hessian(_power)([a, b]).data
    t = jacobian(hessian(_power))([a, b]).data
    np.testing.assert_allclose(h, expected_h, rtol=1e-9, atol=1e-12 * np.abs(expected_h).max())
    np.testing.assert_allclose(t, expected_t, rtol=1e-8, atol=1e-12 * np.abs(expected_t).max())


@given(x=st.floats(-700.0, 700.0) | st.sampled_from([0.0, 1e-9, -1e-9, 30.0, -30.0, 400.0, -400.0]))
def test_the_third_derivatives_of_the_s_shaped_activations_match_their_closed_forms_at_any_size(x):
    """σ‴ = σ′(1 − 6σ′) and tanh‴ = −2s(3s − 2) keep their digits where e^−|x| is tiny (no 1 − σ cancellation)."""
    with np.errstate(over="ignore"):
        sigma_slope = 1 / (4 * np.cosh(x / 2) ** 2)
        s = 1 / np.cosh(x) ** 2
    third = {F.sigmoid: sigma_slope * (1 - 6 * sigma_slope), F.tanh: -2 * s * (3 * s - 2),
             F.softplus: -sigma_slope * np.tanh(x / 2)}
    for f, expected in third.items():
        got = grad(grad(grad(f)))(x).item()
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-300), f.__name__
