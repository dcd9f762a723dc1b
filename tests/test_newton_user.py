"""optim.Newton as an engineer who uses second-order methods checks it: every iterate against a Newton written by hand
in numpy (least squares, IRLS for logistic and softmax regression), the Hessian against central differences of the
gradient, the step against np.linalg.solve, frozen and tied parameters, blocks in the parameters' order, float32, and
what a step costs for a thousand parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers_models import flat_parameters, place_parameters
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, optim
from tinygrad_edu.autodiff import gradient_and_hessian, gradients

RNG = np.random.default_rng(34)
# three classes of points in the plane, shifted apart but overlapping (the softmax regression has a finite minimum)
LABELS = RNG.integers(0, 3, size=60)
POINTS = RNG.standard_normal((60, 2)) + np.array([[0.0, 0.0], [1.2, 0.4], [-0.8, 1.0]])[LABELS]


def _hessian_by_differences(cost, params: list[Value], h: float = 1e-6) -> np.ndarray:
    """Column j: the central difference of the engine's gradient along parameter number j (float64)."""
    start = flat_parameters(params)

    def slope(point: np.ndarray) -> np.ndarray:
        place_parameters(params, point)
        return np.concatenate([g.data.ravel() for g in gradients(cost(), params)])

    columns = []
    for j in range(start.size):
        step = np.zeros_like(start)
        step[j] = h
        columns.append((slope(start + step) - slope(start - step)) / (2 * h))
    place_parameters(params, start)
    return np.array(columns).T


def _softmax_newton_by_hand(theta: np.ndarray) -> np.ndarray:
    """One multinomial IRLS step on Θ = [W; b] (3 × 3, row-major as [W.ravel(), b]): the shortest d with H d = −g."""
    x = np.c_[POINTS, np.ones(len(POINTS))]  # x̃ = (x, 1)
    n, k = len(x), 3
    z = x @ theta.reshape(3, k)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = (x.T @ (p - np.eye(k)[LABELS]) / n).ravel()
    spread = p[:, :, None] * np.eye(k) - p[:, :, None] * p[:, None, :]  # diag(p) − ppᵀ for each sample
    hessian = np.einsum("si,sj,skl->ikjl", x, x, spread).reshape(9, 9) / n  # Σ x̃ᵢx̃ⱼ (p_k δ_kl − p_k p_l) / n
    return theta - np.linalg.pinv(hessian, rcond=1e-12) @ g


# --- defects -------------------------------------------------------------------------------------------------------

def test_softmax_regression_takes_the_hand_written_newton_steps_not_gradient_steps() -> None:
    """H is singular here for every Θ (adding a number to every class's logit changes nothing), but ∇C has no part
    along that direction, so the Newton step is the shortest d with H d = −g: IRLS, converging in a few steps."""
    w, b = Value(np.zeros((2, 3))), Value(np.zeros(3))
    cost = lambda: losses.cross_entropy(Value(POINTS, requires_grad=False) @ w + b, LABELS)
    opt, theta = optim.Newton([w, b]), np.zeros(9)
    for _ in range(6):
        opt.step(cost)
        theta = _softmax_newton_by_hand(theta)
        assert not opt.last_fallback and opt.last_step_size == 1.0
        np.testing.assert_allclose(flat_parameters([w, b]), theta, atol=1e-9)
    assert np.abs(gradient_and_hessian(cost(), [w, b])[0]).max() < 1e-6  # nearly converged, as IRLS (−∇C: ~1e-2)


def test_linear_regression_with_two_equal_columns_is_solved_in_one_newton_step() -> None:
    """A quadratic whose minima form a line: one Newton step from 0 lands on the shortest of them, np.linalg.lstsq's."""
    x = RNG.standard_normal((30, 2))
    x = np.c_[x, x[:, 0]]
    y = x[:, 0] * 2.0 - x[:, 1] + 0.1 * RNG.standard_normal(30)
    w, b = Value(np.zeros(3)), Value(0.0)
    opt = optim.Newton([w, b])
    opt.step(lambda: ((Value(x, requires_grad=False) @ w + b - y) ** 2).mean())
    expected = np.linalg.lstsq(np.c_[x, np.ones(30)], y, rcond=None)[0]
    assert not opt.last_fallback and opt.last_step_size == 1.0
    np.testing.assert_allclose(flat_parameters([w, b]), expected, atol=1e-9)


def test_a_float32_softmax_regression_follows_the_float64_newton_steps() -> None:
    w, b = Value(np.zeros((2, 3), np.float32)), Value(np.zeros(3, np.float32))
    points = POINTS.astype(np.float32)
    cost = lambda: losses.cross_entropy(Value(points, requires_grad=False) @ w + b, LABELS)
    opt, theta = optim.Newton([w, b]), np.zeros(9)
    for _ in range(3):
        opt.step(cost)
        theta = _softmax_newton_by_hand(theta)
        assert not opt.last_fallback and w.dtype == b.dtype == np.float32
        np.testing.assert_allclose(flat_parameters([w, b]), theta, atol=2e-4)


def test_a_step_on_more_than_a_thousand_parameters_warns_of_its_cost_before_it_starts() -> None:
    """The warning comes first: turned into an error, it stops the step before its 1,001 backward passes."""
    w = Value(np.zeros(1001))
    opt = optim.Newton([w])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match=r"1,001 parameters.*1,001 backward passes.*MB"):
            opt.step(lambda: ((w - 1.0) ** 2).sum())
    assert not w.data.any() and w.grad is None


# --- guards --------------------------------------------------------------------------------------------------------

def test_logistic_regression_follows_hand_written_irls_at_every_iterate() -> None:
    x = RNG.standard_normal((50, 2))
    y = (x @ [1.5, -1.0] + 0.8 * RNG.standard_normal(50) > 0).astype(float)
    w, b = Value(np.zeros(2)), Value(0.0)
    ones = np.c_[x, np.ones(50)]

    def cost() -> Value:
        z = Value(x, requires_grad=False) @ w + b
        return (y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()

    opt, theta = optim.Newton([w, b]), np.zeros(3)
    for _ in range(6):
        opt.step(cost)
        p = 1 / (1 + np.exp(-ones @ theta))
        theta = theta - np.linalg.solve((ones.T * (p * (1 - p))) @ ones / 50, ones.T @ (p - y) / 50)
        assert opt.last_step_size == 1.0 and not opt.last_fallback
        np.testing.assert_allclose(flat_parameters([w, b]), theta, atol=1e-10)


def test_blocks_follow_the_optimizers_order_and_the_damped_step_is_numpys_solve() -> None:
    """Parameters of shapes (3,), () and (2, 3) given in that order, coupled: H against differences of ∇C, and the
    step t·d with (H + λI) d = −g."""
    a, v, c = Value(RNG.standard_normal((2, 3))), Value(RNG.standard_normal(3)), Value(0.7)
    cost = lambda: (a ** 2).sum() * c ** 2 + ((v ** 3).sum() + 4.0) * c + (a.sum(axis=0) * v).sum() + (v ** 4).sum()
    params = [v, c, a]
    slope, curvature = gradient_and_hessian(cost(), params)
    np.testing.assert_allclose(curvature, _hessian_by_differences(cost, params), atol=1e-6)
    opt = optim.Newton(params, damping=3.0)
    lowest = np.linalg.eigvalsh(curvature)[0]
    damping = 3.0 if lowest + 3.0 > 0 else 3.0 - lowest
    d = np.linalg.solve(curvature + damping * np.eye(10), -slope)
    start = flat_parameters(params)
    opt.step(cost)
    assert opt.last_damping == pytest.approx(damping) and opt.last_step_size > 0
    np.testing.assert_allclose(flat_parameters(params) - start, opt.last_step_size * d, atol=1e-12)


def test_frozen_parameters_are_left_out_of_the_hessian_and_stay() -> None:
    frozen, w = Value([0.5, -1.0], requires_grad=False), Value([1.0, 2.0])
    cost = lambda: ((frozen * w - 1.0) ** 2).sum() + (w[0] * w[1] - 1.0) ** 2
    curvature = _hessian_by_differences(cost, [w])
    slope = np.concatenate([g.data.ravel() for g in gradients(cost(), [w])])
    start = w.data.copy()
    opt = optim.Newton([frozen, w], damping=1.0)
    opt.step(cost)
    assert frozen.data.tolist() == [0.5, -1.0] and frozen.grad is None
    assert np.linalg.eigvalsh(curvature)[0] + 1.0 > 0  # (so λ = 1 is used as given)
    np.testing.assert_allclose(w.data - start, opt.last_step_size * np.linalg.solve(curvature + np.eye(2), -slope),
                               atol=1e-8)


def test_a_tied_parameter_is_one_block_of_the_hessian() -> None:
    """A tied autoencoder, x ↦ (x W) Wᵀ, given as [W, W]: 6 unknowns, not 12 (a duplicated block would be singular)."""
    x = RNG.standard_normal((8, 3))
    tied = Value(RNG.standard_normal((3, 2)) * 0.5)
    cost = lambda: (((Value(x, requires_grad=False) @ tied) @ tied.T - x) ** 2).mean()
    curvature = _hessian_by_differences(cost, [tied])
    slope = np.concatenate([g.data.ravel() for g in gradients(cost(), [tied])])
    start = tied.data.copy()
    opt = optim.Newton([tied, tied], damping=2.0)
    assert len(opt.params) == 1
    opt.step(cost)
    lowest = np.linalg.eigvalsh(curvature)[0]
    damping = 2.0 if lowest + 2.0 > 0 else 2.0 - lowest
    d = np.linalg.solve(curvature + damping * np.eye(6), -slope)
    np.testing.assert_allclose((tied.data - start).ravel(), opt.last_step_size * d, atol=1e-7)
    assert tied.grad.shape == (3, 2)


@given(st.integers(1, 5), st.floats(0.0, 10.0), st.integers(0, 2 ** 32 - 1))
def test_a_newton_step_on_a_convex_quadratic_is_numpys_damped_solve(n: int, damping: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((n, n))
    a, b = m @ m.T + 0.5 * np.eye(n), rng.standard_normal(n)
    x = Value(rng.standard_normal(n))
    start = x.data.copy()
    opt = optim.Newton([x], damping=damping)
    opt.step(lambda: 0.5 * (x @ (a @ x)) - (b * x).sum())
    d = np.linalg.solve(a + damping * np.eye(n), b - a @ start)
    assert opt.last_step_size > 0 and not opt.last_fallback
    np.testing.assert_allclose(x.data - start, opt.last_step_size * d, rtol=1e-9, atol=1e-11)
