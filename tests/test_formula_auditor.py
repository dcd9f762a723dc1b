"""Formulas written in the docstrings and the README, evaluated as written (numpy, independently of the package) and
compared with what the package computes; found by an exploratory pass of a mathematician reading every formula.

The xfail tests are defects this pass found (a formula that is wrong, or says something else than the same formula
written elsewhere), each failing before its fix; the others guard formulas that held."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, optim
from tinygrad_edu.calculus import classify_stationary_point, stationary_point

README = Path(__file__).resolve().parents[1] / "README.md"


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


# --- defects -----------------------------------------------------------------------------------------------------
def test_newton_direction_minimises_the_damped_model_the_docstring_writes() -> None:
    """C(x) = ½xᵀAx − bᵀx, g = Ax − b, with damping λ = 0.5: the step (t = 1, accepted as σ < ½) lands at
    x − (A + λI)⁻¹g, the minimiser of the damped model, not at x − A⁻¹g, the minimiser of ½dᵀHd's model."""
    a = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, -1.0])
    start = np.array([2.0, -3.0])
    x = Value(start.copy())
    opt = optim.Newton([x], damping=0.5)
    opt.step(lambda: 0.5 * (x * (x @ a)).sum() - (x * b).sum())
    g = a @ start - b
    damped = start - np.linalg.solve(a + 0.5 * np.eye(2), g)
    undamped = start - np.linalg.solve(a, g)
    assert opt.last_step_size == 1.0 and opt.last_damping == 0.5
    np.testing.assert_allclose(x.data, damped, rtol=1e-12, atol=1e-14)
    assert np.abs(x.data - undamped).max() > 0.1  # the model as written (½dᵀHd) would land here instead
    doc = _flat(optim.Newton.__doc__)
    assert "½dᵀ(H + λI)d" in doc and "½dᵀHd`` " not in doc


def test_newton_docstring_puts_the_linear_case_at_sigma_above_a_half_as_the_readme_does() -> None:
    """On the docstring's own convex quadratic, σ = ½ takes the full step t = 1 (C(x + d) − C(x) = ½gᵀd, equal to
    the Armijo line: accepted by rounding), σ = 0.51 does not (the largest αˡ ≤ 2(1 − σ) = 0.98 is ½)."""
    steps = {}
    for sigma in (0.5, 0.51):
        x = Value([3.0, -2.0])
        opt = optim.Newton([x], sigma=sigma)
        opt.step(lambda x=x: ((x - 1.0) ** 2).sum() + x[0] * x[1])
        steps[sigma] = opt.last_step_size
    assert steps == {0.5: 1.0, 0.51: 0.5}
    readme = _flat(README.read_text(encoding="utf-8"))
    assert "with σ > ½ it refuses the full step t = 1" in readme  # the README's line
    doc = _flat(optim.Newton.__doc__)
    assert "σ ≥ ½" not in doc and "with σ > ½ the steps stay shorter" in doc


def test_readme_second_derivative_test_says_both_signs_make_a_saddle_even_with_a_flat_direction() -> None:
    """f = p₀² − p₁² + p₂⁴: at 0 the eigenvalues are −2, 0 (still shrinking with Newton's steps) and 2, a saddle
    (downhill along p₁, uphill along p₀), whatever p₂ does."""
    found = stationary_point(lambda p: p[0] ** 2 - p[1] ** 2 + p[2] ** 4, [0.3, -0.2, 0.5])
    assert found.converged and found.kind == "saddle"
    assert abs(found.eigenvalues[1]) < 1e-5 * abs(found.eigenvalues).max()  # the flat direction is there
    assert classify_stationary_point([-1.0, 0.0, 2.0]) == "saddle"
    readme = _flat(README.read_text(encoding="utf-8"))
    claim = readme.split("classifies the point by the Hessian's eigenvalues")[1].split("`python examples")[0]
    assert "no two signs" in claim


# --- guards ------------------------------------------------------------------------------------------------------
@given(z=st.lists(st.floats(-800.0, 800.0), min_size=1, max_size=6),
       y=st.lists(st.floats(0.0, 1.0), min_size=6, max_size=6))
def test_binary_cross_entropy_is_cross_entropy_on_logits_zero_and_z_with_gradient_sigma_minus_y_over_n(
        z: list[float], y: list[float]) -> None:
    """losses.cross_entropy's docstring: the binary cross-entropy (y·softplus(−z) + (1 − y)·softplus(z)).mean() "is
    this function's cost on the logits [0, z]" (with targets [1 − y, y]), "with gradient (σ(z) − y)/n".  Evaluated
    as written, in numpy: softplus(x) = logaddexp(0, x), σ(z) = e^(−softplus(−z))."""
    z_data = np.array(z).reshape(-1, 1)
    y_data = np.array(y[:len(z)]).reshape(-1, 1)
    n = len(z)
    expected = float(np.mean(y_data * np.logaddexp(0, -z_data) + (1 - y_data) * np.logaddexp(0, z_data)))
    sigma = np.exp(-np.logaddexp(0, -z_data))
    binary = Value(z_data)
    cost = (y_data * F.softplus(-binary) + (1 - y_data) * F.softplus(binary)).mean()
    cost.backward()
    assert float(cost) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    # (σ(z) − y, as written, cancels where σ(z) is near y: its own rounding, up to eps/n, bounds the comparison)
    np.testing.assert_allclose(binary.grad, (sigma - y_data) / n, rtol=1e-12, atol=1e-15 / n)
    two = Value(z_data)
    logits = F.concatenate([0.0 * two, two], axis=1)  # [0, z]
    routed = losses.cross_entropy(logits, np.hstack([1 - y_data, y_data]))
    routed.backward()
    assert float(routed) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(two.grad, (sigma - y_data) / n, rtol=1e-9, atol=1e-12 / n)
