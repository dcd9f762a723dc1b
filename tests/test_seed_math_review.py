"""The mathematics against the seed (sections 6.1, 6.2.1 and 6.3): defects found by an exploratory review.

Every expected value comes from a closed form, never from the package itself.
"""

import numpy as np
import pytest

from tinygrad_edu.calculus import stationary_point


def _bowl(p):
    """x² + y² + x²y²: ∇f = (2x(1 + y²), 2y(1 + x²)) vanishes only at (0, 0), where H = 2I (a strict minimum)."""
    return p[0] ** 2 + p[1] ** 2 + p[0] ** 2 * p[1] ** 2


def _pass(p):
    """x² − y² + x²y²: ∇f(0, 0) = 0 and H(0, 0) = diag(2, −2), one eigenvalue of each sign (a saddle)."""
    return p[0] ** 2 - p[1] ** 2 + p[0] ** 2 * p[1] ** 2


@pytest.mark.parametrize(("f", "eigenvalues", "kind"), [(_bowl, [2.0, 2.0], "minimum"),
                                                        (_pass, [-2.0, 2.0], "saddle")])
def test_stationary_point_reached_in_one_newton_step_is_classified_by_its_hessian(f, eigenvalues, kind):
    """Seed 6.1: at a point with ∇f = 0 the second derivative decides.  From (1, 0) Newton's method lands exactly on
    (0, 0) in one step; the Hessian there is diag(2, 2) (all > 0: minimum) or diag(2, −2) (both signs: saddle),
    by hand.  The Hessian at the start, (1, 0), is another matrix and says nothing about (0, 0)."""
    found = stationary_point(f, [1.0, 0.0])
    assert found.converged
    assert np.array_equal(found.point, [0.0, 0.0])
    assert np.allclose(found.eigenvalues, eigenvalues, rtol=0, atol=1e-12)
    assert found.kind == kind


def _marks(f, points: int) -> list[str]:
    """The labels of the points plot_derivatives marks (minima, maxima, no verdict) on f's panel."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    figure = plots.plot_derivatives(f, order=2, points=points)
    return [line.get_label() for line in figure.axes[0].get_lines() if len(line.get_xdata()) == 1]


@pytest.mark.parametrize("points", [400, 401])
def test_plot_derivatives_marks_no_extremum_at_a_pole(points):
    """Seed 6.1's school method marks points with f′ = 0.  f(x) = x⁻² has f′(x) = −2x⁻³, which is never 0 (it
    changes sign only across the pole at x = 0, where f → +∞): no point may be marked as a minimum or maximum.
    (401 points put a grid point on the pole, 400 points straddle it.)"""
    assert _marks(lambda x: x ** -2, points) == []


def test_plot_derivatives_marks_no_maximum_where_f_falls_to_minus_infinity():
    """Seed 6.1: f(x) = ln|x| has f′(x) = 1/x, never 0; it changes sign across x = 0, where f → −∞ (the opposite
    of a maximum).  No point may be marked."""
    import tinygrad_edu.functional as F

    assert _marks(lambda x: F.log(F.abs(x)), 400) == []


@pytest.mark.parametrize(("axis", "count"), [(0, 3), (1, 4)])
def test_local_formula_of_a_mean_along_an_axis(axis, count):
    """Seed 6.3 (the local derivative on each edge): m_j = (1/3) Σ_i x_ij for a 3 × 4 x averaged along axis 0, so
    ∂m_j/∂x_ij = 1/3 (1/4 along axis 1, 1/12 over all 12 numbers), by hand."""
    from tinygrad_edu import Value
    from tinygrad_edu.player import local_formula

    x = Value(np.arange(12.0).reshape(3, 4))
    assert local_formula(x.mean(axis=axis), 0, ["x"]) == f"1/{count} for every element"


@pytest.mark.parametrize(("gradient", "norm"), [([1e-170, -1e-170], "1.4142135623730950488e-170"),
                                                ([3e-160, 4e-160], "5e-160")])
def test_gradient_norm_of_a_tiny_gradient(gradient, norm):
    """Seed 6.2.1, step 1.2: the algorithm stops only when ‖∇f(x)‖ = 0.  ‖(1e-170, −1e-170)‖ = √2·1e-170 and
    ‖(3e-160, 4e-160)‖ = 5e-160 (by hand) are not 0; gradient_norm gives 0.0 and 4.99997e-160."""
    from tinygrad_edu import Value, optim

    p = Value(np.zeros(2))
    p.grad = np.array(gradient)
    assert optim.gradient_norm([p]) == pytest.approx(float(norm), rel=1e-12, abs=0)
