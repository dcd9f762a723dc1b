"""A teacher of the seed's sections 6.1 (minimise by f′ = 0, confirm with f″) and 6.2 (gradient descent, Armijo's
rule, the stopping rule ‖∇f‖ = 0), checking the package's answers against closed forms worked out by hand.

The defect this pass found: ``stationary_point`` called a run converged once ‖∇f‖ ≤ tol and the next Newton step was
at most 1e-3 · max(1, ‖x‖).  For a cost of small scale ‖∇f‖ ≤ tol holds everywhere, so near a point at x = 1000 a
step of up to 1 counted as "settled": the run stopped 0.1 to 2 short of the minimum and, f″ still changing from step
to step, called the strict minimum "inconclusive"; on the flat tail of e^(−x²) it stopped "converged" at x ≈ 25,
where ∇f ≠ 0 and no stationary point is near.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import fit, nn, optim
from tinygrad_edu.autodiff import grad
from tinygrad_edu.calculus import stationary_point


def _bump(scale: float, centre: float):
    """scale · ((x − c)² + (x − c)⁴): f′ = scale · (2(x − c) + 4(x − c)³) is 0 only at c, f″(c) = 2 · scale > 0."""
    return lambda x: scale * ((x - centre) ** 2 + (x - centre) ** 4)


# --- defect: the step test relative to ‖x‖ ---------------------------------------------------------------------------

@pytest.mark.parametrize("scale, start", [(1e-10, 1001.0), (1e-10, 1003.0), (1e-10, 1010.0), (1e-20, 1001.0)])
def test_a_small_scale_minimum_away_from_zero_is_found_and_called_a_minimum(scale, start) -> None:
    found = stationary_point(_bump(scale, 1000.0), start)
    assert found.converged and found.kind == "minimum"
    assert found.point[0] == pytest.approx(1000.0, rel=1e-14)
    assert found.eigenvalues[0] == pytest.approx(2 * scale, rel=1e-9)  # f″(1000) = 2 · scale


def test_the_tail_of_a_bell_is_no_converged_stationary_point() -> None:
    """e^(−x²): f′ = −2x·e^(−x²) is 0 only at 0 (where it underflows to 0 too, beyond x ≈ 27).  From 25 Newton's
    steps go outwards by about 1/(2x), a step that shrinks as the gradient dies out: that is running off, not
    arriving."""
    found = stationary_point(lambda x: (-(x ** 2)).exp(), 25.0)
    assert not found.converged or found.gradient_norm == 0.0


# --- guards: the numbers a teacher checks by hand --------------------------------------------------------------------

@given(centre=st.floats(-1000.0, 1000.0), offset=st.floats(0.1, 3.0), sign=st.sampled_from([-1.0, 1.0]))
def test_a_minimum_anywhere_is_found_to_full_precision(centre, offset, sign) -> None:
    """Of unit scale, where ‖∇f‖ ≤ 1e-10 already pins the point: the closed form c, f(c) = 0, f″(c) = 2."""
    found = stationary_point(_bump(1.0, centre), centre + sign * offset)
    assert found.converged and found.kind == "minimum"
    assert found.point[0] == pytest.approx(centre, rel=1e-12, abs=1e-12)
    assert found.eigenvalues[0] == pytest.approx(2.0, rel=1e-9)


def test_x_log_x_has_its_minimum_at_one_over_e() -> None:
    """f = x ln x: f′ = ln x + 1 = 0 at x = 1/e, f(1/e) = −1/e, f″ = 1/x = e > 0."""
    found = stationary_point(lambda x: x * x.log(), 0.5)
    assert found.converged and found.kind == "minimum"
    assert found.point[0] == pytest.approx(1 / math.e, rel=1e-14)
    assert found.value == pytest.approx(-1 / math.e, rel=1e-14)
    assert found.eigenvalues[0] == pytest.approx(math.e, rel=1e-12)
    assert float(grad(grad(grad(lambda x: x * x.log())))(0.5)) == pytest.approx(-4.0, rel=1e-14)  # f‴ = −1/x²


@pytest.mark.parametrize("f, start", [(lambda x: x ** 3, 1.0), (lambda x: x ** 4, 1.0), (lambda x: -(x ** 4), -1.0)],
                         ids=["x³", "x⁴", "−x⁴"])
def test_where_f_second_is_zero_the_test_gives_no_verdict(f, start) -> None:
    """x³ (no extremum) and ±x⁴ (a minimum, a maximum) all have f′ = f″ = 0 at 0: the second-derivative test cannot
    tell them apart, so none of them may be called a minimum or a maximum."""
    found = stationary_point(f, start)
    assert found.converged and found.kind == "inconclusive"
    assert abs(found.point[0]) < 1e-3
    assert stationary_point(f, 0.0).kind == "inconclusive"


def test_armijo_descent_on_a_bowl_stops_by_the_rule_at_the_least_squares_answer() -> None:
    """A linear model fitted by Armijo gradient descent with tol: it stops at the first episode with ‖∇C‖ ≤ tol
    (every earlier one above it), and the weights are the least-squares solution of the normal equations."""
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(40, 2))
    targets = inputs @ np.array([[1.5], [-2.0]]) + 0.3 + 0.1 * rng.normal(size=(40, 1))
    model = nn.Layer(2, 1, activation="identity", rng=0)
    history = fit(model, inputs, targets, optimizer=optim.Armijo(model), episodes=500, tol=1e-8, progress=False)
    assert history.stopped == "tol" and history.episodes < 500
    assert history.gradient_norm[-1] <= 1e-8 and min(history.gradient_norm[:-1]) > 1e-8
    assert history.step_size[-1] is None  # the stopping episode makes no update
    design = np.hstack([inputs, np.ones((40, 1))])
    solution = np.linalg.solve(design.T @ design, design.T @ targets).ravel()
    np.testing.assert_allclose(np.r_[model.weights.data.ravel(), model.biases.data], solution, rtol=1e-6)
