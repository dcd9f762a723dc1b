"""A student of kernel methods: kernel ridge regression and a Gaussian process's marginal likelihood on Values.

Pairwise squared distances by broadcasting, ``((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)``, an RBF kernel
``exp(-d / (2ℓ²))`` with a learnable length-scale ℓ and noise σ, ``K + σ²I``, and the linear algebra the package's
refusals of ``np.linalg`` advise (Ops of one's own: inv, det, logdet).  Gradients in ℓ and σ are checked against
central differences of numpy's own formulas (``np.linalg.slogdet``, ``solve``, ``cholesky``), second derivatives
against second differences.

Defects (xfail, strict: each fails on the code before the fix):

- ``np.linalg.slogdet``'s advice was ``abs(det(a)).log()`` only: for a 200×200 kernel matrix det(K) underflows to
  0.0, so the log is -inf and the gradient NaN, where numpy's slogdet gives -876; now it also gives a ``logdet`` Op;
- ``np.linalg.cholesky`` said to use "tinygrad_edu operations on the Value", of which there is none: now it says
  what a Gaussian process takes from the factor (K⁻¹y, log det K) and the Ops to write for them;
- ``detect_anomaly`` at the gradient of √d (or d ** 0.5) of a distance matrix, whose diagonal is 0, said only
  "sqrt: the backward gradient holds NaN or inf": now it says that inputs are 0, where √x has an infinite slope,
  and what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, detect_anomaly, optim
from tinygrad_edu.autodiff import grad, hessian

_RNG = np.random.default_rng(20261206)
X = _RNG.normal(size=(7, 2))
Y = np.sin(X[:, 0]) + 0.1 * _RNG.normal(size=7)
INV = Op("inv", np.linalg.inv, lambda g, out, a: -(out.T @ g @ out.T))
DET = Op("det", np.linalg.det, lambda g, out, a: g * out * INV(a).T)


def _refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(TypeError) as raised:
        call()
    return str(raised.value)


def _ops_as_advised(message: str, *names: str) -> dict[str, Any]:
    """The Ops ``name = Op(...)`` a refusal says to write (brackets balanced), defined as written, in order."""
    scope: dict[str, Any] = {"np": np, "Op": Op}
    for name in names:
        assert f"{name} = Op(" in message, message
        start = message.index(f"{name} = Op(")
        depth, end = 0, start
        for end in range(start, len(message)):
            depth += (message[end] == "(") - (message[end] == ")")
            if depth == 0 and message[end] == ")":
                break
        exec(message[start:end + 1], scope)  # noqa: S102 - the package's advice, to check it
    return scope


def _squared_distances(x: Any) -> Any:
    return ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)


def _kernel(x: Any, ell: Any, sigma: Any, n: int) -> Any:
    return np.exp(-_squared_distances(x) / (2 * ell ** 2)) + sigma ** 2 * np.eye(n)


def _nll_numpy(ell: float, sigma: float, x: np.ndarray = X, y: np.ndarray = Y) -> float:
    """½ yᵀK⁻¹y + ½ log det K, by numpy's Cholesky factor K = LLᵀ (log det K = 2 Σ ln Lᵢᵢ)."""
    k = _kernel(x, ell, sigma, len(x))
    low = np.linalg.cholesky(k)
    alpha = np.linalg.solve(low.T, np.linalg.solve(low, y))
    return float(0.5 * y @ alpha + np.log(np.diag(low)).sum())


def _central(f: Callable[[float], float], t: float, eps: float = 1e-6) -> float:
    return (f(t + eps) - f(t - eps)) / (2 * eps)


# --------------------------------------------------------------------------------------------------------- defects

def test_slogdet_advice_gives_numpys_log_determinant_of_a_large_kernel_matrix_and_its_gradient() -> None:
    x = _RNG.normal(size=(200, 1))
    message = _refusal(lambda: np.linalg.slogdet(Value(np.eye(2))))
    logdet = _ops_as_advised(message, "inv", "logdet")["logdet"]
    sigma = Value(0.1)
    k = _kernel(x, 1.0, sigma, 200)
    out = logdet(k)
    assert np.linalg.det(k.data) == 0.0  # (what makes abs(det(a)).log() -inf here)
    np.testing.assert_allclose(out.data, np.linalg.slogdet(k.data)[1], rtol=1e-12)
    out.backward()
    # d log det K/dσ = tr(K⁻¹ · 2σI)
    np.testing.assert_allclose(sigma.grad, 2 * 0.1 * np.trace(np.linalg.inv(k.data)), rtol=1e-9)
    np.testing.assert_allclose(sigma.grad, _central(lambda s: np.linalg.slogdet(_kernel(x, 1.0, s, 200))[1], 0.1),
                               rtol=1e-6)


def test_cholesky_refusal_gives_the_ops_for_a_gaussian_process_marginal_likelihood_to_second_order() -> None:
    message = _refusal(lambda: np.linalg.cholesky(Value(np.eye(2))))
    assert "(here: " in message, message
    scope = _ops_as_advised(message, "inv", "logdet")
    inv, logdet = scope["inv"], scope["logdet"]

    def nll(ell: Any, sigma: Any) -> Any:
        k = _kernel(X, ell, sigma, len(X))
        return 0.5 * (Y @ inv(k) @ Y) + 0.5 * logdet(k)

    ell, sigma = Value(0.8), Value(0.3)
    out = nll(ell, sigma)
    np.testing.assert_allclose(out.item(), _nll_numpy(0.8, 0.3), rtol=1e-10)
    out.backward()
    np.testing.assert_allclose(ell.grad, _central(lambda t: _nll_numpy(t, 0.3), 0.8), rtol=1e-6)
    np.testing.assert_allclose(sigma.grad, _central(lambda t: _nll_numpy(0.8, t), 0.3), rtol=1e-6)
    second = hessian(lambda t: nll(t, 0.3))(0.8).item()
    eps = 1e-4
    np.testing.assert_allclose(second, (_nll_numpy(0.8 + eps, 0.3) - 2 * _nll_numpy(0.8, 0.3)
                                        + _nll_numpy(0.8 - eps, 0.3)) / eps ** 2, rtol=1e-5)


@pytest.mark.parametrize("create_graph", [False, True], ids=["backward", "create_graph"])
@pytest.mark.parametrize("root", [lambda d: d.sqrt(), lambda d: d ** 0.5], ids=["sqrt", "pow"])
def test_detect_anomaly_at_the_root_of_a_distance_matrix_says_its_zeros_and_what_to_write(
        root: Callable[[Value], Value], create_graph: bool) -> None:
    x = Value(X[:3])
    with pytest.raises(FloatingPointError) as raised, detect_anomaly():
        root(_squared_distances(x)).sum().backward(create_graph=create_graph)
    message = str(raised.value)
    assert "3 of its 9 inputs are 0" in message, message
    assert "(x + 1e-30).sqrt()" in message, message
    x = Value(X[:3])
    with detect_anomaly():  # the advice: no NaN, and the gradient finite differences find
        (_squared_distances(x) + 1e-30).sqrt().sum().backward()

    def distances(m: np.ndarray) -> float:
        return float(np.sqrt(_squared_distances(m)).sum())

    for index in np.ndindex(3, 2):
        up, down = X[:3].copy(), X[:3].copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        np.testing.assert_allclose(x.grad[index], (distances(up) - distances(down)) / 2e-6, rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------- guards

@given(st.floats(0.3, 3.0), st.floats(0.05, 1.0))
def test_guard_marginal_likelihood_gradients_in_length_scale_and_noise_match_central_differences(
        length: float, noise: float) -> None:
    ell, sigma = Value(length), Value(noise)
    k = _kernel(Value(X), ell, sigma, len(X))
    out = 0.5 * (Y @ INV(k) @ Y) + 0.5 * abs(DET(k)).log()
    np.testing.assert_allclose(out.item(), _nll_numpy(length, noise), rtol=1e-9)
    out.backward()
    np.testing.assert_allclose(ell.grad, _central(lambda t: _nll_numpy(t, noise), length), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sigma.grad, _central(lambda t: _nll_numpy(length, t), noise), rtol=1e-5, atol=1e-6)


def test_guard_second_derivative_of_the_rbf_kernel_in_the_length_scale_is_the_closed_form() -> None:
    d = _squared_distances(X)
    weights = _RNG.normal(size=d.shape)

    def total(ell: Any) -> Any:
        return ((-d / (2 * ell ** 2)).exp() * weights).sum()

    t = 0.7  # k = e^(−d/(2ℓ²)): k' = k·d/ℓ³, k'' = k·(d²/ℓ⁶ − 3d/ℓ⁴)
    k = np.exp(-d / (2 * t ** 2))
    np.testing.assert_allclose(grad(total)(t).item(), (weights * k * d / t ** 3).sum(), rtol=1e-12)
    np.testing.assert_allclose(grad(grad(total))(t).item(), (weights * k * (d ** 2 / t ** 6 - 3 * d / t ** 4)).sum(),
                               rtol=1e-12)
    np.testing.assert_allclose(hessian(total)(t).item(), grad(grad(total))(t).item(), rtol=1e-12)


def test_guard_distances_by_broadcasting_and_by_keepdims_norms_agree_in_numbers_and_gradients() -> None:
    weights = _RNG.normal(size=(7, 7))
    a, b = Value(X), Value(X)
    broadcast = _squared_distances(a)
    norms = (b ** 2).sum(-1, keepdims=True)
    expanded = norms + norms.T - 2 * b @ b.T  # x @ x.T: one Value on both sides of @
    np.testing.assert_allclose(broadcast.data, ((X[:, None] - X[None]) ** 2).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(expanded.data, broadcast.data, atol=1e-12)
    (broadcast * weights).sum().backward()
    (expanded * weights).sum().backward()
    # ∂Σ W∘D/∂X = 2(diag(W 1) + diag(Wᵀ 1))X − 2(W + Wᵀ)X
    symmetric = weights + weights.T
    closed = 2 * (symmetric.sum(1)[:, None] * X) - 2 * symmetric @ X
    np.testing.assert_allclose(a.grad, closed, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad, closed, rtol=1e-10, atol=1e-12)


def test_guard_a_kernel_matrix_times_itself_has_the_closed_form_gradient() -> None:
    weights = _RNG.normal(size=(7, 7))
    k = Value(np.exp(-_squared_distances(X) / 2))
    ((k @ k) * weights).sum().backward()  # ∂Σ W∘(KK)/∂K = W Kᵀ + Kᵀ W
    np.testing.assert_allclose(k.grad, weights @ k.data.T + k.data.T @ weights, rtol=1e-12)


@pytest.mark.parametrize("axis", [-1, -2, (-2, -1), (0, -1)])
@pytest.mark.parametrize("reduction", ["sum", "mean", "max"])
def test_guard_reductions_over_negative_axes_with_keepdims_move_the_gradient_back(axis: Any, reduction: str) -> None:
    x = _RNG.normal(size=(3, 4, 2))
    weights = _RNG.normal(size=getattr(x, reduction)(axis=axis, keepdims=True).shape)
    v = Value(x)
    out = getattr(v, reduction)(axis=axis, keepdims=True)
    assert out.shape == weights.shape
    (out * weights).sum().backward()
    slope = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += 1e-6
        down[index] -= 1e-6
        slope[index] = ((getattr(up, reduction)(axis=axis, keepdims=True) * weights).sum()
                        - (getattr(down, reduction)(axis=axis, keepdims=True) * weights).sum()) / 2e-6
    np.testing.assert_allclose(v.grad, slope, rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore::tinygrad_edu.optim.LineSearchWarning")  # (at the minimum)
def test_guard_armijo_on_the_hyperparameters_never_raises_the_cost_and_ends_where_numpys_gradient_is_zero() -> None:
    log_ell, log_sigma = Value(0.0), Value(-1.0)

    def nll() -> Value:
        k = _kernel(X, log_ell.exp(), log_sigma.exp(), len(X))
        return 0.5 * (Y @ INV(k) @ Y) + 0.5 * abs(DET(k)).log()

    optimizer = optim.Armijo([log_ell, log_sigma])
    costs = [optimizer.step(nll).item() for _ in range(60)]
    assert all(later <= earlier for earlier, later in zip(costs, costs[1:]))
    ell, sigma = np.exp(log_ell.item()), np.exp(log_sigma.item())
    np.testing.assert_allclose(nll().item(), _nll_numpy(ell, sigma), rtol=1e-10)
    assert abs(_central(lambda t: _nll_numpy(np.exp(t), sigma), log_ell.item())) < 1e-4
    assert abs(_central(lambda t: _nll_numpy(ell, np.exp(t)), log_sigma.item())) < 1e-4
