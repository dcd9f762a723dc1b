"""Seed 6.1 as a teacher prepares it: textbook functions through ``calculus.stationary_point`` and
``optim.Newton``, every expected value from a closed form worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, optim
from tinygrad_edu.calculus import stationary_point


def _himmelblau(p):
    """(x² + y − 11)² + (x + y² − 7)²: a minimum at (3, 2), where H = [[74, 20], [20, 34]]."""
    return (p[0] ** 2 + p[1] - 11.0) ** 2 + (p[0] + p[1] ** 2 - 7.0) ** 2


def _rosenbrock(p):
    """(1 − x)² + 100(y − x²)²: the minimum (1, 1), where H = [[802, −400], [−400, 200]]."""
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


@pytest.mark.parametrize("f, start, point, matrix", [
    (_himmelblau, [3.3, 1.8], [3.0, 2.0], [[74.0, 20.0], [20.0, 34.0]]),
    (_rosenbrock, [-1.2, 1.0], [1.0, 1.0], [[802.0, -400.0], [-400.0, 200.0]]),
], ids=["Himmelblau", "Rosenbrock"])
def test_textbook_minima_with_their_hessians(f, start, point, matrix) -> None:
    found = stationary_point(f, start)
    assert found.converged and found.kind == "minimum"
    np.testing.assert_allclose(found.point, point, rtol=0, atol=1e-12)
    np.testing.assert_allclose(found.eigenvalues, np.linalg.eigvalsh(matrix), rtol=1e-9)


def test_the_monkey_saddle_has_no_verdict_from_its_flat_hessian() -> None:
    """x³ − 3xy²: ∇f = 0 only at 0, where H = 0: the second-derivative test cannot decide (it is a saddle with three
    valleys, which no quadratic model shows)."""
    found = stationary_point(lambda p: p[0] ** 3 - 3.0 * p[0] * p[1] ** 2, [0.5, 0.3])
    assert found.converged and found.kind == "inconclusive"
    np.testing.assert_allclose(found.point, [0.0, 0.0], atol=1e-4)


@pytest.mark.parametrize("scale", [1e6, 1e10, 1e20, 1e200])
def test_a_cost_in_large_units_converges_to_its_closed_form_minimum(scale) -> None:
    """scale·((x − 0.3)² + 2(y − 0.7)² + xy): ∇ = 0 where 2x + y = 0.6 and x + 4y = 2.8, at (−2/35, 5/7), with
    H = scale·[[2, 1], [1, 4]] positive definite.  Newton's steps do not depend on the scale, but the rounding of
    ∇f grows with it (2e-10 at 1e6): ‖∇f‖ ≤ 1e-10 never held, and the run ended 'not converged' after 50 Hessians
    at the exact minimum."""
    found = stationary_point(lambda p: scale * ((p[0] - 0.3) ** 2 + 2.0 * (p[1] - 0.7) ** 2 + p[0] * p[1]),
                             [2.0, 1.0])
    assert found.converged and found.kind == "minimum"
    np.testing.assert_allclose(found.point, [-2.0 / 35.0, 5.0 / 7.0], rtol=1e-14)
    np.testing.assert_allclose(found.eigenvalues, scale * np.array([3.0 - np.sqrt(2.0), 3.0 + np.sqrt(2.0)]),
                               rtol=1e-12)
    assert found.iterations <= 3  # a quadratic: one step, then at most a digit of rounding


@pytest.mark.parametrize("scale", [1e8, 1e20, 1e200])
def test_a_cubic_in_large_units_names_its_minimum_and_maximum(scale) -> None:
    """scale·(x³/3 − 0.49x): f′ = scale·(x² − 0.49) is 0 at ±0.7, f″ = 2·scale·x: a minimum at 0.7, a maximum at
    −0.7."""
    f = lambda x: scale * (x ** 3 / 3.0 - 0.49 * x)  # noqa: E731
    for start, point, kind in [(2.0, 0.7, "minimum"), (-2.0, -0.7, "maximum")]:
        found = stationary_point(f, start)
        assert found.converged and found.kind == kind, (start, found)
        assert found.point[0] == pytest.approx(point, rel=1e-14)
        assert found.eigenvalues[0] == pytest.approx(2.0 * scale * point, rel=1e-12)


def test_a_linear_or_run_away_cost_in_large_units_is_still_not_converged() -> None:
    """scale·(x + y²) has no stationary point (∂f/∂x = scale); scale·(eˣ + y²) neither (eˣ > 0)."""
    for f in (lambda p: 1e8 * (p[0] + p[1] ** 2), lambda p: 1e8 * (p[0].exp() + p[1] ** 2)):
        found = stationary_point(f, [1.0, 2.0])
        assert not found.converged and found.kind == "not converged"


def test_newton_does_not_advise_a_learning_rate_it_does_not_have() -> None:
    """Newton has no lr (Newton(lr=...) is refused: 'there is no learning rate'), yet a cost that is NaN at the
    current parameters, before any step, said 'try a smaller learning rate or step size'."""
    x = Value([-1.0])
    with np.errstate(invalid="ignore"), pytest.raises(FloatingPointError) as raised:
        optim.Newton([x]).step(lambda: x.log().sum())  # log(−1) = NaN
    message = str(raised.value)
    assert message.startswith("Newton.step: the cost is nan")
    assert "smaller learning rate" not in message and "unchanged" in message
    assert x.data.tolist() == [-1.0]
