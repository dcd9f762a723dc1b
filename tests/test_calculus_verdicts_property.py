"""A mathematician property-testing the second-derivative test of seed 6.1 (calculus.stationary_point, optim.Newton)
with functions whose stationary points and Hessian eigenvalues are known in closed form: rotated quadratics
½(x − c)ᵀRᵀΛR(x − c) of 1 to 6 parameters, chosen signs and condition numbers up to 1e12, separable sums of
quadratic, cubic and quartic terms of 1 to 4 parameters with a degenerate point at c, and valleys g(x − y); starts
near and far, each at the scales 1, 1e6 and 1e-6 of f.

The defect this pass found: ``stationary_point`` told a still-shrinking eigenvalue (x³ near 0, whose f″ halves with
every Newton step) from a settled one by comparing the k-th smallest eigenvalue with the k-th smallest of the Hessian
one step earlier.  Where the shrinking eigenvalue passed another in that step, each was compared with the other's:
x³ + 1.6e-5·y² from (1, 1) ends with eigenvalues 2.3e-5 (x³'s, halving) and 3.2e-5 (y²'s), one step earlier 3.2e-5
and 4.6e-5, and no pair changed by half its size: the degenerate point was called a minimum (inconclusive at the
scales 1e6 and 1e-6 of the same f).  The fix compares each eigenvalue with the earlier Hessian's curvature along its
own eigenvector.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Value, optim
from tinygrad_edu.calculus import stationary_point

EPS = float(np.finfo(np.float64).eps)
SCALES = (1.0, 1e6, 1e-6)


def _rotation(seed: int, n: int) -> np.ndarray:
    """A random rotation (orthogonal n × n matrix), Haar-distributed: QR of a Gaussian matrix, signs fixed."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(n, n)))
    return q * np.sign(np.diag(r))


def _verdict_by_signs(signs: list[int]) -> str:
    """The second-derivative test's verdict from the signs of eigenvalues none of which is 0."""
    if all(sign > 0 for sign in signs):
        return "minimum"
    return "maximum" if all(sign < 0 for sign in signs) else "saddle"


@st.composite
def quadratics(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(Q, Λ, c, start): Q = RᵀΛR with |Λ| from 1 to a condition number up to 1e12, times a size from 1e-3 to 1e3,
    and signs either all alike or drawn one by one; c of size 1e-2 to 1e3, the start near c or far from it."""
    n = draw(st.integers(1, 6))
    condition = 10.0 ** draw(st.floats(0, 12))
    spread = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    magnitudes = condition ** np.array(spread)
    magnitudes[0] = 1.0
    if n > 1:
        magnitudes[-1] = condition
    if draw(st.booleans()):
        signs = [draw(st.sampled_from([-1, 1]))] * n
    else:
        signs = draw(st.lists(st.sampled_from([-1, 1]), min_size=n, max_size=n))
    eigenvalues = np.array(signs) * magnitudes * 10.0 ** draw(st.floats(-3, 3))
    rotation = _rotation(draw(st.integers(0, 2 ** 32 - 1)), n)
    matrix = rotation.T @ np.diag(eigenvalues) @ rotation
    matrix = (matrix + matrix.T) / 2
    direction = np.array(draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)))
    centre = direction * 10.0 ** draw(st.floats(-2, 3))
    # |offset| of 1e-4 to 1e3 on each axis (one of 5e-324 left a cost ½·offset² that underflows to 0 everywhere)
    sides = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    offset = np.array(sides) * np.array(draw(st.lists(st.floats(0.1, 1), min_size=n, max_size=n)))
    offset *= 10.0 ** draw(st.floats(-3, 3))
    return matrix, eigenvalues, centre, centre + offset


@given(quadratics())
def test_a_rotated_quadratic_is_judged_by_the_signs_of_its_eigenvalues_at_any_scale(drawn) -> None:
    """Verdict by the signs of Λ (a condition number of 1e12 is no 0 eigenvalue), the point c to cond·ε, the
    eigenvalues Λ to rounding; the same verdict for f, 1e6·f and 1e-6·f."""
    matrix, eigenvalues, centre, start = drawn
    n = len(centre)
    expected = _verdict_by_signs([int(np.sign(value)) for value in eigenvalues])
    condition = np.abs(eigenvalues).max() / np.abs(eigenvalues).min()
    size = np.abs(centre).max() + np.abs(start).max()
    for scale in SCALES:
        found = stationary_point(lambda p, s=scale: s * 0.5 * ((Value(matrix) @ (p - centre)) * (p - centre)).sum(),
                                 start)
        assert found.converged and found.kind == expected, (scale, found)
        assert np.abs(found.point - centre).max() <= 10 * n * condition * EPS * size + 1e-300, (scale, found)
        largest = scale * np.abs(eigenvalues).max()
        np.testing.assert_allclose(found.eigenvalues, np.sort(scale * eigenvalues), rtol=0,
                                   atol=100 * n * EPS * largest)


#: terms of a separable function of (x − c) along each axis, with the curvature each gives at c (0: degenerate)
_TERMS = ("x²", "x³", "x⁴")


@st.composite
def degenerate_sums(draw: st.DrawFn) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]:
    """(terms, a, c, start, 0): Σ aᵢ·termᵢ(xᵢ − cᵢ), at least one cubic or quartic term.  Not rotated: rotated,
    Newton's solve mixes the directions, whose eigenvalues differ by 1e17 near the point, and stalls at the rounding
    of x, where 1e8·x³'s eigenvalue 6e8·(x − c) is 1e-5 (beside 3e7): left alone, see the report; the explicit
    rotated example below is the defect's."""
    n = draw(st.integers(1, 4))
    terms = draw(st.lists(st.sampled_from(_TERMS), min_size=n, max_size=n))
    if "x²" in terms and set(terms) == {"x²"}:
        terms[draw(st.integers(0, n - 1))] = draw(st.sampled_from(["x³", "x⁴"]))
    sizes = np.array(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    centre = np.array(draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n))) * 10.0 ** draw(st.floats(-2, 2))
    # |offset| of 1e-3 to 3 on each axis: from x³'s 0 + 1e-170, 3x² underflows to 0, so the run stops there at once
    # and the one eigenvalue, 6e-170, says minimum (left alone: no derivative at that point tells it from 1e-170·x²)
    sides = draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n))
    offset = np.array(sides) * np.array(draw(st.lists(st.floats(0.1, 1), min_size=n, max_size=n)))
    offset *= 10.0 ** draw(st.floats(-2, 0.5))
    return terms, signs * 10.0 ** sizes, centre, centre + offset, 0


def _degenerate_function(terms: list[str], a: np.ndarray, centre: np.ndarray, seed: int, scale: float):
    """scale · Σ aᵢ·(R(x − c))ᵢ^kᵢ, R = I for seed 0, a random rotation otherwise."""
    rotation = np.eye(len(terms)) if seed == 0 else _rotation(seed, len(terms))
    powers = [int(term == "x²") * 2 + int(term == "x³") * 3 + int(term == "x⁴") * 4 for term in terms]

    def f(p):
        u = Value(rotation) @ (p - centre)
        total = a[0] * u[0] ** powers[0]
        for i in range(1, len(terms)):
            total = total + a[i] * u[i] ** powers[i]
        return scale * total

    return f


@settings(max_examples=15)  # (Newton creeps to a degenerate point: 10 to 60 steps of n backward passes each)
@given(degenerate_sums())
@example((["x³", "x²"], np.array([1.0, 1.6e-5]), np.zeros(2), np.ones(2), 0))
@example((["x³", "x²"], np.array([1.0, 1.6e-5]), np.zeros(2), np.ones(2) @ _rotation(7, 2).T, 7))
def test_a_degenerate_point_is_never_a_minimum_or_a_maximum(drawn) -> None:
    """Σ aᵢ·(R(x − c))ᵢ^kᵢ with some kᵢ = 3 or 4 has a zero eigenvalue at c: the test says saddle where the quadratic
    terms have both signs, inconclusive otherwise, at every scale of f; never minimum or maximum."""
    terms, a, centre, start, seed = drawn
    quadratic_signs = {np.sign(a[i]) for i, term in enumerate(terms) if term == "x²"}
    expected = "saddle" if quadratic_signs == {-1.0, 1.0} else "inconclusive"
    for scale in SCALES:
        found = stationary_point(_degenerate_function(terms, a, centre, seed, scale), start, max_iterations=60)
        if found.converged:  # (Newton creeps linearly to x⁴'s 0: 1e6·x⁴ may need more than 60 steps)
            assert found.kind == expected, (scale, found)
            assert np.abs(found.point - centre).max() <= 1e-2 * max(1.0, np.abs(centre).max()), (scale, found)


def test_a_cube_beside_a_small_square_is_inconclusive_at_every_scale() -> None:
    for scale in SCALES:
        found = stationary_point(lambda p, s=scale: s * (p[0] ** 3 + 1.6e-5 * p[1] ** 2), [1.0, 1.0])
        assert found.converged and found.kind == "inconclusive", (scale, found)
        assert abs(found.point[0]) <= 1e-2 and found.point[1] == 0.0


@given(st.floats(-3, 3), st.sampled_from([-1.0, 1.0]), st.sampled_from([2, 3, 4]), st.floats(-2, 2),
       st.lists(st.floats(-1, 1), min_size=2, max_size=2), st.floats(-2, 3))
def test_a_valley_of_stationary_points_is_inconclusive(size, sign, power, centre, shift, far) -> None:
    """a·(x − y − c)^k is stationary on the whole line x − y = c, its Hessian a·k(k−1)(x − y − c)^(k−2)·[[1, −1],
    [−1, 1]] singular there (eigenvalue 0 along (1, 1)): inconclusive, whatever a, the shift of x and the scale."""
    a, c = sign * 10.0 ** size, centre
    start = np.array(shift) * 10.0 ** far + np.array([0.3, -0.2])
    for scale in SCALES:
        found = stationary_point(lambda p, s=scale: s * a * (p[0] - p[1] - c) ** power, start, max_iterations=60)
        if found.converged:
            assert found.kind == "inconclusive", (scale, found)
            assert abs(found.point[0] - found.point[1] - c) <= 1e-2 * max(1.0, abs(c)), (scale, found)
            if power == 2:  # a quadratic valley: the other eigenvalue is 4a exactly, the first 0 up to rounding
                assert found.eigenvalues[np.argmax(np.abs(found.eigenvalues))] == pytest.approx(4 * a * scale)


@given(quadratics())
def test_newton_lands_on_a_convex_quadratic_s_minimum_in_one_step(drawn) -> None:
    """optim.Newton with damping 0 on ½(x − c)ᵀQ(x − c), Q positive definite (the drawn Λ made positive): one step
    to c, to cond·ε, with no fallback to −∇C."""
    matrix, eigenvalues, centre, start = drawn
    matrix = matrix if (eigenvalues > 0).all() else _positive_part(matrix)
    eigenvalues = np.linalg.eigvalsh(matrix)
    condition = eigenvalues.max() / eigenvalues.min()
    x = Value(start.copy())
    opt = optim.Newton([x])
    opt.step(lambda: 0.5 * ((Value(matrix) @ (x - centre)) * (x - centre)).sum())
    assert not opt.last_fallback and opt.last_step_size == 1.0
    size = np.abs(centre).max() + np.abs(start).max()
    assert np.abs(x.data - centre).max() <= 10 * len(centre) * condition * EPS * size + 1e-300


def _positive_part(matrix: np.ndarray) -> np.ndarray:
    """The matrix with each eigenvalue replaced by its absolute value: positive definite, as well conditioned."""
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.abs(values)) @ vectors.T
