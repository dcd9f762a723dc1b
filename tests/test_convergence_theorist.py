"""The optimizers against the theory of seed section 6 on quadratics f(x) = ½xᵀAx − bᵀx with known eigenvalues
μ ≤ L (closed forms, numpy), found by an exploratory pass of an optimization theorist.

Gradient descent with η = 1/L contracts the error by at most 1 − μ/L per step, and fit warns where η > 2/L makes
it diverge; Armijo's accepted t = αˡ is the first of the sequence that meets the condition (every trial before
it fails), the cost never rises and t ≥ min(1, 2α(1 − σ)/L); Newton's step on a quadratic is the largest
αˡ ≤ 2(1 − σ) times d = −A⁻¹∇f (one step to the minimum for σ < ½) and converges quadratically near a minimum of
a non-quadratic; SGD with momentum and Adam follow their published formulas step for step; fit's ``tol`` stops at
the first point where ‖∇f‖ ≤ tol.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from tinygrad_edu import DivergenceWarning, Value, fit, nn, optim

README = Path(__file__).resolve().parent.parent / "README.md"


def _quadratic(seed: int, n: int, mu: float, condition: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """A random symmetric A with eigenvalues from μ to L = μ·condition (both ends present) and a b."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eigenvalues = mu * np.exp(rng.uniform(0.0, np.log(condition), n))
    eigenvalues[0], eigenvalues[-1] = mu, mu * condition
    a = q @ np.diag(eigenvalues) @ q.T
    return (a + a.T) / 2, rng.standard_normal(n), mu, mu * condition


def _closure(x: Value, a: np.ndarray, b: np.ndarray):
    """f(x) = ½xᵀAx − bᵀx for the parameter x, as a closure of no arguments."""
    a_value, b_value = Value(a, requires_grad=False), Value(b, requires_grad=False)
    return lambda: 0.5 * (x @ (a_value @ x)) - (x * b_value).sum()


def _f(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> float:
    return float(0.5 * x @ a @ x - b @ x)


# --- the defect: Newton's one-step claim needs σ < ½ ------------------------------------------------------------
def test_newton_docs_say_that_one_step_on_a_quadratic_needs_sigma_below_a_half() -> None:
    """On a quadratic, with Hd = −g, C(x + t·d) = C(x) + (t − t²/2)·gᵀd ≤ C(x) + σt·gᵀd holds iff t ≤ 2(1 − σ):
    with σ = 0.6 the step is t = ½ and x lands halfway, which the claim "one step lands exactly on the minimum"
    (any σ in (0, 1) allowed) does not warn of; Newton then converges only linearly."""
    a, b, _, _ = _quadratic(0, 3, 1.0, 10.0)
    x = Value(np.ones(3))
    opt = optim.Newton([x], sigma=0.6)
    opt.step(_closure(x, a, b))
    minimum = np.linalg.solve(a, b)
    assert opt.last_step_size == 0.5  # the premise: the full step is refused
    np.testing.assert_allclose(x.data, (np.ones(3) + minimum) / 2, atol=1e-12)
    doc = " ".join(optim.Newton.__doc__.split())
    assert "σ < ½" in doc and "2(1 − σ)" in doc
    newton = " ".join(README.read_text(encoding="utf-8").split("- `optim.Newton(params, damping=λ)`")[1]
                      .split("\n- ")[0].split())
    assert "σ < ½" in newton and "2(1 − σ)" in newton


# --- guards ------------------------------------------------------------------------------------------------------
@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 5), condition=st.floats(1.0, 1e3),
       mu=st.floats(1e-2, 1e2))
def test_gradient_descent_with_one_over_l_contracts_the_error_by_at_most_one_minus_mu_over_l(
        seed: int, n: int, condition: float, mu: float) -> None:
    a, b, mu, lipschitz = _quadratic(seed, n, mu, condition)
    minimum = np.linalg.solve(a, b)
    x = Value(np.random.default_rng(seed + 1).standard_normal(n) * 3)
    opt = optim.GradientDescent([x], learning_rate=1 / lipschitz)
    closure = _closure(x, a, b)
    for _ in range(10):
        before = np.linalg.norm(x.data - minimum)
        expected = x.data - (a @ x.data - b) / lipschitz  # the update in numpy
        opt.step(closure)
        np.testing.assert_allclose(x.data, expected, rtol=1e-12, atol=1e-12 * (1 + np.abs(minimum).max()))
        after = np.linalg.norm(x.data - minimum)
        assert after <= (1 - mu / lipschitz) * before + 1e-12 * (1 + np.linalg.norm(minimum))


def test_fit_warns_where_the_learning_rate_passes_two_over_l_and_not_below() -> None:
    """Linear regression with the seed's cost, (1/n)‖Zθ − y‖², is a quadratic with A = (2/n)ZᵀZ: η = 2.05/L
    multiplies the error along the top eigenvector by −1.05 per episode (DivergenceWarning), η = 1.99/L converges."""
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((50, 2))
    targets = inputs @ np.array([[1.0], [-2.0]]) + 0.3
    z = np.hstack([inputs, np.ones((50, 1))])
    lipschitz = float(np.linalg.eigvalsh(2 / 50 * z.T @ z)[-1])
    for factor, diverges in ((2.05, True), (1.99, False)):
        net = nn.Layer(2, 1, activation="identity", rng=0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = fit(net, inputs, targets, optimizer=optim.GradientDescent(net, factor / lipschitz),
                          episodes=300, progress=False)
        warned = [w for w in caught if issubclass(w.category, DivergenceWarning)]
        assert bool(warned) is diverges, (factor, history)
        assert (history.final_cost > history.cost[0]) is diverges


@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 4), sigma=st.floats(0.01, 0.99),
       alpha=st.floats(0.05, 0.95), condition=st.floats(1.0, 100.0), mu=st.floats(1e-2, 1e2))
def test_armijo_takes_the_first_power_of_alpha_that_meets_the_condition_and_it_is_bounded_below(
        seed: int, n: int, sigma: float, alpha: float, condition: float, mu: float) -> None:
    a, b, _, lipschitz = _quadratic(seed, n, mu, condition)
    x = Value(np.random.default_rng(seed + 1).standard_normal(n) * 3)
    opt = optim.Armijo([x], sigma=sigma, alpha=alpha, max_backtracks=10_000)
    closure = _closure(x, a, b)
    for _ in range(4):
        start = x.data.copy()
        f0, g = _f(a, b, start), a @ start - b
        if np.linalg.norm(g) < 1e-6 * (lipschitz * np.linalg.norm(start) + np.linalg.norm(b)):
            break  # at the minimum to rounding: the condition is decided by rounding there
        opt.step(closure)
        assert not opt.last_failed
        t = opt.last_step_size
        assert [step for step, _ in opt.last_trials] == [alpha ** k for k in range(len(opt.last_trials))]
        assert t == opt.last_trials[-1][0] and opt.last_backtracks == len(opt.last_trials) - 1
        np.testing.assert_allclose(opt.last_slope, -(g @ g), rtol=1e-10)
        np.testing.assert_allclose(x.data, start - t * g, rtol=1e-12, atol=1e-12 * np.abs(start).max())
        for step, cost in opt.last_trials[:-1]:  # every trial before the accepted one fails (numpy's f)
            assert _f(a, b, start - step * g) > f0 - sigma * step * (g @ g) - 1e-9 * abs(f0)
            np.testing.assert_allclose(cost, _f(a, b, start - step * g), rtol=1e-9, atol=1e-9)
        assert opt.last_cost <= f0 - sigma * t * (g @ g) + 1e-12 * abs(f0)
        assert opt.last_cost <= f0  # the cost never rises
        assert t >= min(1.0, 2 * alpha * (1 - sigma) / lipschitz) * (1 - 1e-9)


@given(seed=st.integers(0, 2 ** 32 - 1), n=st.integers(1, 4), sigma=st.floats(0.01, 0.99),
       alpha=st.floats(0.05, 0.95))
def test_newton_on_a_quadratic_takes_the_largest_power_of_alpha_up_to_two_times_one_minus_sigma(
        seed: int, n: int, sigma: float, alpha: float) -> None:
    """C(x + t·d) = C(x) + (t − t²/2)·gᵀd for d = −A⁻¹g: the rule holds iff t ≤ 2(1 − σ); so σ < ½ takes t = 1
    and lands on the minimum, and x ← x + t·d in any case."""
    a, b, _, _ = _quadratic(seed, n, 0.5, 20.0)
    bound = 2 * (1 - sigma)
    powers = [alpha ** k for k in range(200)]  # (Python's powers, as armijo_step takes them)
    expected = next(p for p in powers if p <= bound)
    assume(all(abs(p - bound) > 1e-6 * bound for p in powers[:60]))  # not decided by rounding
    start = np.random.default_rng(seed + 1).standard_normal(n) * 3
    x = Value(start.copy())
    opt = optim.Newton([x], sigma=sigma, alpha=alpha, max_backtracks=10_000)
    opt.step(_closure(x, a, b))
    assert opt.last_step_size == expected and not opt.last_fallback
    direction = -np.linalg.solve(a, a @ start - b)
    np.testing.assert_allclose(x.data, start + expected * direction, rtol=1e-10, atol=1e-10)
    if sigma < 0.5:
        np.testing.assert_allclose(x.data, np.linalg.solve(a, b), rtol=1e-10, atol=1e-10)


def test_newton_converges_quadratically_with_full_steps_near_a_minimum_of_a_non_quadratic() -> None:
    """C(x) = Σ wᵢ(eˣⁱ − 1 − xᵢ) + ½‖x‖² + x₀x₁/4, minimum 0 at x = 0 (H(0) = diag(w + 1) + the coupling, positive
    definite): from x = (0.4, −0.3, 0.2) every step is t = 1 and the error squares, eₖ₊₁ ≤ C·eₖ², down to rounding."""
    w = np.array([1.0, 2.0, 0.5])
    x = Value(np.array([0.4, -0.3, 0.2]))
    w_value = Value(w, requires_grad=False)
    cost = lambda: ((x.exp() - 1.0 - x) * w_value).sum() + 0.5 * (x * x).sum() + x[0] * x[1] * 0.25
    opt = optim.Newton([x])
    errors = [float(np.abs(x.data).max())]
    for _ in range(6):
        opt.step(cost)
        errors.append(float(np.abs(x.data).max()))
        if errors[-1] == 0.0 or errors[-1] < 1e-15:
            break
        assert opt.last_step_size == 1.0 and not opt.last_fallback
    assert errors[-1] < 1e-15, errors
    for before, after in zip(errors, errors[1:]):
        if before > 1e-7:  # above rounding
            assert after <= 2.0 * before ** 2, errors


@given(seed=st.integers(0, 2 ** 32 - 1), rate=st.floats(1e-3, 0.1), momentum=st.floats(0.0, 0.95),
       beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999), eps=st.floats(1e-10, 1e-2))
def test_sgd_with_momentum_and_adam_follow_their_published_formulas_step_for_step(
        seed: int, rate: float, momentum: float, beta1: float, beta2: float, eps: float) -> None:
    """Polyak's heavy ball v ← μv + ∇f, x ← x − ηv (PyTorch's SGD) and Kingma and Ba's Adam, written in numpy."""
    a, b, _, _ = _quadratic(seed, 3, 0.5, 10.0)
    start = np.random.default_rng(seed + 1).standard_normal(3)
    x, y = Value(start.copy()), Value(start.copy())
    sgd, adam = optim.SGD([x], rate, momentum=momentum), optim.Adam([y], rate, (beta1, beta2), eps)
    closure_x, closure_y = _closure(x, a, b), _closure(y, a, b)
    xs, velocity = start.copy(), np.zeros(3)
    ys, m, v = start.copy(), np.zeros(3), np.zeros(3)
    for k in range(1, 13):
        sgd.step(closure_x)
        velocity = momentum * velocity + (a @ xs - b)
        xs = xs - rate * velocity
        np.testing.assert_allclose(x.data, xs, rtol=1e-12, atol=1e-13)
        adam.step(closure_y)
        g = a @ ys - b
        m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        ys = ys - rate * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps)
        # (1e-10: with β₁ = 0 and β₂ near 0.5 a step is nearly ηg/|g|, which grows the last-bit differences of the two
        # gradients, the engine's sums and numpy's a @ x, to 1.3e-12 in 12 steps in 1 draw of 4,000; a slip in the
        # formula is off by far more)
        np.testing.assert_allclose(y.data, ys, rtol=1e-10, atol=1e-12)


def test_fit_stops_by_tol_at_the_first_point_whose_gradient_norm_is_at_most_tol() -> None:
    """Full batch: gradient descent θₖ₊₁ = θₖ − ∇f(θₖ)/L in numpy gives the episode k where ‖∇f(θₖ)‖ ≤ tol first;
    fit records that episode (with no update in it) and stops there, with numpy's norms."""
    rng = np.random.default_rng(1)
    inputs = rng.standard_normal((40, 2))
    targets = inputs @ np.array([[0.5], [1.5]]) - 0.2
    z = np.hstack([inputs, np.ones((40, 1))])
    a = 2 / 40 * z.T @ z
    lipschitz = float(np.linalg.eigvalsh(a)[-1])
    net = nn.Layer(2, 1, activation="identity", rng=0)
    theta = np.concatenate([net.weights.data.ravel(), net.biases.data])
    tol = 1e-7
    history = fit(net, inputs, targets, optimizer=optim.GradientDescent(net, 1 / lipschitz), episodes=500, tol=tol,
                  progress=False)
    norms = []
    while True:
        gradient = 2 / 40 * z.T @ (z @ theta - targets.ravel())
        norms.append(float(np.linalg.norm(gradient)))
        if norms[-1] <= tol:
            break
        theta = theta - gradient / lipschitz
    assert history.stopped == "tol" and history.episodes == len(norms)
    np.testing.assert_allclose(history.gradient_norm, norms, rtol=1e-6, atol=1e-12)
    assert history.step_size[-1] is None and history.gradient_norm[-2] > tol
    np.testing.assert_allclose(np.concatenate([net.weights.data.ravel(), net.biases.data]), theta, atol=1e-12)
