"""A statistician fits classical linear models with Values, the costs and the optimizers, and compares every result
with its closed form in numpy: ordinary least squares (``np.linalg.lstsq``), ridge (the normal equations with λI
and an unpenalised intercept), logistic regression (a hand-written IRLS), the lasso by proximal steps written by
hand (``abs``'s slope 0 at 0), weighted least squares (the weights as a column of the targets, as fit's advice
says), multi-output regression, raw against standardised features, and collinear columns.

Defects (xfail, strict: each fails on the code before the fix):

- ``calculus.stationary_point`` on a least-squares cost with two proportional columns (x₂ = 3·x₁) ran off to a
  point of 1e43 and a cost of 1e55, "not converged": ``np.linalg.solve`` raises nothing for a Hessian singular but
  for rounding and divided by that rounding, where the docstring promises the least-squares step;
- ``fit`` with mini-batches and per-sample weights of all n samples kept in the cost's closure weighed each batch's
  residuals by every sample's weight, ``(b, 1)`` against ``(n,)`` broadcast into ``(b, n)`` (and ``(1, 1)`` against
  ``(n, 1)`` into ``(n, 1)``, unweighted), silently: the warning fit gives for flat weights saw only ``(n, n)``;
- ``losses.squared_error`` / ``mean_squared_error`` / ``cross_entropy`` with scikit-learn's ``sample_weight=``
  gave Python's bare "unexpected keyword argument", where fit's ``sample_weight=`` says how to weight.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.training import fit


def _design(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two inputs, a column of targets of a noisy line."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, (x @ np.array([2.0, -1.0]) + 0.5 + 0.3 * rng.standard_normal(n)).reshape(-1, 1)


def _linear(p: int, k: int = 1) -> tuple[Value, Value]:
    return Value(np.zeros((p, k)), label="W"), Value(np.zeros(k), label="b")


def _bce(z: Value, t: object) -> Value:
    """The binary cross-entropy on the raw output z, through softplus (the docs' stable form)."""
    return (t * F.softplus(-z) + (1 - t) * F.softplus(z)).mean()


def _irls(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logistic regression's maximum-likelihood coefficients by Newton's method (IRLS), written out in numpy."""
    beta = np.zeros(a.shape[1])
    for _ in range(30):
        mu = 1 / (1 + np.exp(-a @ beta))
        beta = beta - np.linalg.solve(a.T @ (a * (mu * (1 - mu))[:, None]), a.T @ (mu - y))
    return beta


# --- defects --------------------------------------------------------------------------------------------------------


def test_stationary_point_of_least_squares_with_proportional_columns_lands_in_the_valley_of_minima() -> None:
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=30), rng.normal(size=30)
    a = np.c_[x1, 3 * x1, x2, np.ones(30)]  # the second column is 3 times the first: a line of minima
    y = 2 * x1 - x2 + 1 + 0.1 * rng.standard_normal(30)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    least = float(np.mean((a @ best - y) ** 2))
    found = stationary_point(lambda theta: ((Value(a) @ theta - y) ** 2).mean(), np.zeros(4))
    assert found.converged and found.kind == "inconclusive"  # a valley, not one point: an eigenvalue 0
    assert found.value == pytest.approx(least, rel=1e-12)
    np.testing.assert_allclose(a @ found.point, a @ best, atol=1e-10)  # the same fitted values
    np.testing.assert_allclose(found.point, best, atol=1e-10)  # from 0: the shortest of them, lstsq's


@pytest.mark.parametrize(("batch_size", "shape"), [(8, (40,)), (1, (40,)), (1, (40, 1))])
def test_weights_of_all_samples_in_a_mini_batchs_cost_are_warned_about(batch_size: int, shape: tuple[int, ...]
                                                                       ) -> None:
    x, y = _design()
    weights = np.random.default_rng(1).uniform(0.1, 3.0, 40).reshape(shape)
    w, b = _linear(2)
    with pytest.warns(UserWarning, match=r"one per sample of all 40 samples.*np\.c_\[targets, weights\]"):
        fit(lambda v: v @ w + b, x, y, cost=lambda out, t: (weights * (out - t) ** 2).sum() / weights.sum(),
            optimizer=optim.SGD([w, b], learning_rate=0.01), episodes=1, batch_size=batch_size, progress=False)


def test_sample_weight_given_to_squared_error_says_the_weighted_cost_and_it_is_right() -> None:
    rng = np.random.default_rng(2)
    prediction, target, w = rng.normal(size=(6, 2)), rng.normal(size=(6, 2)), rng.uniform(0.5, 2.0, (6, 1))
    with pytest.raises(TypeError, match=r"^squared_error: there is no argument sample_weight=") as caught:
        losses.squared_error(Value(prediction), target, sample_weight=w)
    formula = re.search(r"the weighted cost is (.+?) \(a flat w", str(caught.value))
    assert formula is not None
    said = eval(formula.group(1), {}, {"prediction": Value(prediction), "target": target, "w": w})  # noqa: S307
    # squared_error's convention, weighted: the sum over the outputs, the weighted mean over the samples
    assert float(said) == pytest.approx(float(np.sum(w * (prediction - target) ** 2) / w.sum()), rel=1e-14)
    with pytest.raises(TypeError, match=r"^mean_squared_error: there is no argument weights=.*w\.sum\(\) \* k"):
        losses.mean_squared_error(Value(prediction), target, weights=w)
    with pytest.raises(TypeError, match=r"^cross_entropy: there is no argument sample_weight=.*/ w\.sum\(\)"):
        losses.cross_entropy(Value(prediction), np.zeros(6, dtype=int), sample_weight=w.ravel())


# --- guards: the closed forms ---------------------------------------------------------------------------------------


def test_guard_ols_by_newton_under_fit_is_lstsq_with_numpys_cost_and_starting_gradient() -> None:
    x, y = _design()
    a = np.c_[x, np.ones(len(x))]
    best = np.linalg.lstsq(a, y, rcond=None)[0].ravel()
    layer = nn.Layer(2, 1, activation="identity", init="xavier", rng=0)
    w0, b0 = layer.weights.data.copy(), layer.biases.data.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)  # (at the minimum no step can fall further)
        history = fit(layer, x, y, optimizer=optim.Newton(layer), episodes=2, progress=False)
    np.testing.assert_allclose(np.r_[layer.weights.data.ravel(), layer.biases.data], best, rtol=0, atol=1e-12)
    residual = a @ best - y.ravel()
    assert history.final_cost == pytest.approx(np.mean(residual ** 2), rel=1e-12)  # the mean, no ½
    start = x @ w0 + b0 - y  # ∂C/∂W = (2/n) Xᵀr, ∂C/∂b = (2/n) Σr
    norm = np.sqrt(np.sum((2 * x.T @ start / len(x)) ** 2) + np.sum((2 * start.sum(axis=0) / len(x)) ** 2))
    assert history.gradient_norm[0] == pytest.approx(norm, rel=1e-12)
    assert history.cost[0] == pytest.approx(np.mean(start ** 2), rel=1e-12)


def test_guard_multi_output_ridge_with_an_unpenalised_intercept_is_the_normal_equations() -> None:
    rng = np.random.default_rng(4)
    n, p, k, lam = 60, 4, 3, 0.7
    x = rng.normal(size=(n, p))
    y = x @ rng.normal(size=(p, k)) + rng.normal(size=k) + 0.2 * rng.normal(size=(n, k))
    xc, yc = x - x.mean(axis=0), y - y.mean(axis=0)
    w_best = np.linalg.solve(xc.T @ xc / n + lam * np.eye(p), xc.T @ yc / n)  # (1/n)Σ_sΣ_j r² + λ‖W‖²
    b_best = y.mean(axis=0) - x.mean(axis=0) @ w_best
    w, b = _linear(p, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        fit(lambda v: v @ w + b, x, y, cost=lambda out, t: losses.squared_error(out, t) + lam * (w ** 2).sum(),
            optimizer=optim.Newton([w, b]), episodes=2, progress=False)
    np.testing.assert_allclose(w.data, w_best, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.data, b_best, rtol=0, atol=1e-12)


def test_guard_logistic_regression_by_newton_and_by_stationary_point_is_irls() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    a = np.c_[x, np.ones(200)]
    y = (rng.random(200) < 1 / (1 + np.exp(-a @ np.array([1.0, -2.0, 0.5, 0.3])))).astype(float)
    best = _irls(a, y)
    found = stationary_point(lambda theta: _bce(Value(a) @ theta, y), np.zeros(4))
    assert found.converged and found.kind == "minimum"
    np.testing.assert_allclose(found.point, best, rtol=0, atol=1e-12)
    w, b = _linear(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)  # (the last steps are below the cost's rounding)
        fit(lambda v: v @ w + b, x, y.reshape(-1, 1), cost=_bce, optimizer=optim.Newton([w, b]), episodes=30,
            tol=1e-12, progress=False)
    np.testing.assert_allclose(np.r_[w.data.ravel(), b.data], best, rtol=0, atol=1e-8)


def test_guard_weighted_least_squares_with_the_weights_as_a_column_of_the_targets() -> None:
    x, y = _design()
    a = np.c_[x, np.ones(len(x))]
    weights = np.random.default_rng(5).uniform(0.1, 3.0, len(x))
    root = np.sqrt(weights)
    best = np.linalg.lstsq(a * root[:, None], y.ravel() * root, rcond=None)[0]
    w, b = _linear(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the documented route pairs each weight with its sample
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        history = fit(lambda v: v @ w + b, x, np.c_[y, weights],
                      cost=lambda out, t: (t[:, 1:] * (out - t[:, :1]) ** 2).sum() / t[:, 1:].sum(),
                      optimizer=optim.Newton([w, b]), episodes=2, progress=False)
    np.testing.assert_allclose(np.r_[w.data.ravel(), b.data], best, rtol=0, atol=1e-12)
    residual = a @ best - y.ravel()
    assert history.final_cost == pytest.approx(np.sum(weights * residual ** 2) / weights.sum(), rel=1e-12)


def test_guard_weights_as_a_column_in_mini_batches_and_a_kernel_models_centres_are_not_warned_about() -> None:
    x, y = _design()
    w, b = _linear(2)
    centres = x[:, 0].copy()  # all 40 samples' first inputs, used by the model (a kernel's centres), not the cost
    scale = Value(np.array([0.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit(lambda v: v @ w + b + (-((v[:, :1] * scale - centres) ** 2)).exp().mean(axis=1, keepdims=True), x,
            np.c_[y, np.ones(len(x))], cost=lambda out, t: (t[:, 1:] * (out - t[:, :1]) ** 2).sum() / t[:, 1:].sum(),
            optimizer=optim.SGD([w, b, scale], learning_rate=0.01), episodes=1, batch_size=8, seed=0, progress=False)


def test_guard_abs_has_slope_zero_at_zero_and_a_hand_written_lasso_is_numpys_ista() -> None:
    v = Value(np.array([-1.5, 0.0, 2.0]))
    abs(v).sum().backward()
    np.testing.assert_array_equal(v.grad, [-1.0, 0.0, 1.0])  # sign(w): 0 at 0, as abs's docstring says
    rng = np.random.default_rng(6)
    x = rng.normal(size=(50, 6))
    y = x @ np.array([2.0, 0.0, 0.0, -1.0, 0.0, 0.5]) + 0.1 * rng.normal(size=50)
    lam, eta = 0.3, 0.05
    w, ours = Value(np.zeros(6)), np.zeros(6)
    opt = optim.GradientDescent([w], learning_rate=eta)
    for _ in range(200):
        opt.zero_grad()
        ((Value(x) @ w - y) ** 2).mean().backward()
        opt.step()
        with no_grad():  # the proximal step of λ‖w‖₁: soft thresholding
            w.data = np.sign(w.data) * np.maximum(np.abs(w.data) - eta * lam, 0.0)
        z = ours - eta * 2 * x.T @ (x @ ours - y) / len(x)
        ours = np.sign(z) * np.maximum(np.abs(z) - eta * lam, 0.0)
    np.testing.assert_allclose(w.data, ours, rtol=0, atol=1e-12)
    assert (w.data == 0).sum() == 3  # the lasso's zeros, exactly


def test_guard_armijo_on_standardised_features_maps_back_to_the_raw_lstsq_coefficients() -> None:
    rng = np.random.default_rng(5)
    year, area = rng.uniform(1990, 2020, 50), rng.uniform(30, 300, 50)
    x = np.c_[year, area]
    y = (3000 * (year - 2000) + 2500 * area + 1e5 + 2e4 * rng.normal(size=50)).reshape(-1, 1)
    best = np.linalg.lstsq(np.c_[x, np.ones(50)], y, rcond=None)[0].ravel()
    mean, std = x.mean(axis=0), x.std(axis=0)
    w, b = _linear(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        fit(lambda v: v @ w + b, (x - mean) / std, y, optimizer=optim.Armijo([w, b]), episodes=300, tol=1e-6,
            progress=False)
    raw = np.r_[w.data.ravel() / std, b.data[0] - (mean / std) @ w.data.ravel()]
    np.testing.assert_allclose(raw, best, rtol=1e-8)


@given(st.integers(1, 4), st.floats(0.0, 5.0), st.integers(0, 2 ** 16))
def test_guard_stationary_point_of_ridge_is_the_closed_form_minimum(p: int, lam: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = np.c_[rng.normal(size=(20, p)), np.ones(20)]
    y = rng.normal(size=20)
    penalty = np.diag([lam] * p + [0.0])  # the intercept is not penalised
    best = np.linalg.solve(a.T @ a / 20 + penalty, a.T @ y / 20)
    found = stationary_point(lambda theta: ((Value(a) @ theta - y) ** 2).mean()
                             + lam * (theta[:p] ** 2).sum(), rng.normal(size=p + 1))
    assert found.converged and found.kind == "minimum"
    np.testing.assert_allclose(found.point, best, rtol=0, atol=1e-9)
