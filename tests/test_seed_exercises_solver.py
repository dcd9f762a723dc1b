"""A student working through the seed assignment section by section, reproducing each computation by hand.

Forward propagation σ(W·α + b) by nested loops (section 3), the seed's squared-error cost (section 5: the sum over
the outputs, no factor ½), the Armijo rule with its exact condition and the proof's inequality (6.2, 6.2.1), the
stopping rule ‖∇f‖ = 0 as ``fit(tol=)`` (step 1.2), the chain rule of 6.3 on the seed's own labels, the learning
algorithm of 7.1 written out with loops, and the school method of 6.1.  Every number is checked against a closed
form, a hand-written loop or central finite differences.

The one defect found: ``plots.descent_path`` (and ``plot_descent``, and the module's summary) promised
``steps + 1`` rows and said a diverging path stops where its points "stop being finite", where the code ends it
at the last point within 1e12 in size (as tests/test_plots_edges.py pins): a student drawing the seed's
overshooting learning rate got fewer rows than the docstring gave reasons for.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_gradients import central_difference

from tinygrad_edu import Value, losses, nn, no_grad, optim, plots
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.optim import armijo_step
from tinygrad_edu.training import fit


def _sigmoid(z: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# --- the defect: descent_path's rows and its stop for a diverging path ---------------------------------------------
def test_descent_path_says_where_a_diverging_learning_rate_ends_the_path():
    # seed 7.2's overshooting: η = 1.5 on x² gives x ↦ x − 1.5·2x = −2x, so x_k = (−2)^k; 2^39 ≈ 5.5e11 is the last
    # point within 1e12, long before float64 overflows (2^1024)
    points = plots.descent_path(lambda x: (x ** 2).sum(), [1.0], 1.5, steps=200)
    np.testing.assert_array_equal(points[:, 0], (-2.0) ** np.arange(40))
    for doc in (plots.descent_path.__doc__, plots.plot_descent.__doc__):
        assert doc is not None and "1e12" in doc, doc
    summary = next(line for line in plots.__doc__.splitlines() if ":func:`descent_path`" in line)
    assert not summary.rstrip().endswith("``steps + 1`` rows."), summary


# --- section 3: forward propagation ------------------------------------------------------------------------------
def test_a_layer_is_the_seeds_nested_loops_alpha_j_is_sigma_of_sum_alpha_i_w_ij_plus_b_j():
    layer = nn.Layer(3, 4, rng=0)
    alpha0 = np.array([0.2, -0.5, 0.9])
    w, b = layer.weights.data, layer.biases.data
    by_loops = [_sigmoid(sum(alpha0[i] * w[i, j] for i in range(3)) + b[j]) for j in range(4)]
    np.testing.assert_allclose(layer(alpha0).data, by_loops, rtol=1e-14)


# --- section 5: the cost -------------------------------------------------------------------------------------------
def test_squared_error_is_the_seeds_sum_over_outputs_without_a_half_and_the_mean_over_samples():
    y, target = np.array([0.1, 0.7, 0.3]), np.array([0.0, 1.0, 0.5])
    seed_cost = (0.1 - 0.0) ** 2 + (0.7 - 1.0) ** 2 + (0.3 - 0.5) ** 2  # C(y) as section 5 writes it
    assert math.isclose(float(losses.squared_error(y, target)), seed_cost, rel_tol=1e-15)
    assert math.isclose(float(losses.squared_error(y[None], target[None])), seed_cost, rel_tol=1e-15)
    batch, targets = np.array([[0.1, 0.7], [0.4, -0.2]]), np.array([[0.0, 1.0], [0.5, 0.5]])
    per_sample = [(0.1 ** 2 + 0.3 ** 2), (0.1 ** 2 + 0.7 ** 2)]
    assert math.isclose(float(losses.squared_error(batch, targets)), sum(per_sample) / 2, rel_tol=1e-14)
    # the gradient: 2(y − y')/n (section 6.3's ∂C/∂α^L for n = 1), against central differences
    prediction = Value(batch)
    losses.squared_error(prediction, targets).backward()
    measured = central_difference(lambda p: float(losses.squared_error(p, targets)), batch)
    np.testing.assert_allclose(prediction.grad, measured, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(prediction.grad, 2 * (batch - targets) / 2, rtol=1e-15)


# --- 6.2 and 6.2.1: the Armijo rule --------------------------------------------------------------------------------
@pytest.mark.parametrize("sigma, alpha", [(1e-4, 0.5), (0.5, 0.9), (0.9, 0.1), (0.25, 0.3)])
def test_armijo_step_is_the_largest_alpha_to_the_l_with_the_seeds_exact_condition(sigma, alpha):
    def f(p):
        return float(p[0] ** 2 + 10 * p[1] ** 2)

    x, gradient = np.array([1.0, 1.0]), np.array([2.0, 20.0])  # ∇f(1, 1), by hand
    d = -gradient
    power = 0  # the seed's l in t = α^l, l = 0, 1, 2, … as long as f(x + α^l d) > f(x) + σ α^l ∇f(x)ᵀd
    while f(x + alpha ** power * d) > f(x) + sigma * alpha ** power * (gradient @ d):
        power += 1
    found = armijo_step(f, x, gradient, sigma=sigma, alpha=alpha)
    assert found.step == alpha ** power
    assert [t for t, _ in found.trials] == [alpha ** k for k in range(power + 1)]


def test_an_armijo_step_on_a_network_meets_the_condition_and_the_proofs_inequality_and_one_step_more_does_not():
    x = np.array([[0.1], [0.5], [-1.0], [0.01]])  # the seed's test inputs as samples
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Armijo(net, sigma=0.3, alpha=0.6)

    def closure():
        return losses.squared_error(net(x), x ** 2)

    cost = closure()
    net.zero_grad()
    cost.backward()
    squared_norm = sum(float((p.grad ** 2).sum()) for p in net.parameters())
    before = float(cost)
    opt.step(closure, cost=cost)
    t, after = opt.last_step_size, float(closure())
    assert t > 0 and math.isclose(opt.last_slope, -squared_norm, rel_tol=1e-12)
    assert after <= before + 0.3 * t * -squared_norm  # f(x + t·d) ≤ f(x) + σ·t·∇fᵀd
    assert 0.3 * t * squared_norm <= before - after  # σ t_k ‖∇f(x^k)‖² ≤ f(x^k) − f(x^(k+1))
    assert opt.last_backtracks >= 1  # (this start backtracks) the step before, t/α, was rejected: t is the largest
    longer, cost_there = opt.last_trials[-2]
    assert math.isclose(longer, t / 0.6, rel_tol=1e-12)
    assert cost_there > before + 0.3 * longer * -squared_norm


# --- 6.2.1 step 1.2: the stopping rule ------------------------------------------------------------------------------
def test_fit_tol_is_step_1_2_with_the_euclidean_norm_of_the_averaged_gradient():
    x = np.array([[0.0], [1.0], [2.0]])
    y = 2 * x + 1
    net = nn.Network(nn.Layer(1, 1, activation="identity", rng=0))
    w, b = float(net[0].weights.data[0, 0]), float(net[0].biases.data[0])
    residual = w * x[:, 0] + b - y[:, 0]
    norm = math.hypot(2 * np.mean(residual * x[:, 0]), 2 * np.mean(residual))  # ‖∇C‖ of the averaged cost
    first = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=1, progress=False)
    assert math.isclose(first.gradient_norm[0], norm, rel_tol=1e-12)
    assert math.isclose(first.cost[0], float(np.mean(residual ** 2)), rel_tol=1e-12)
    history = fit(net, x, y, optimizer=optim.Armijo(net), episodes=500, tol=1e-6, progress=False)
    assert history.stopped == "tol" and history.step_size[-1] is None  # the episode that found it makes no update
    assert history.gradient_norm[-1] <= 1e-6 < min(history.gradient_norm[:-1])


# --- 6.3: the chain rule on the seed's own labels ----------------------------------------------------------------
def test_the_dependency_tree_of_the_seeds_last_layer_gives_the_chain_rule_with_the_corrected_factors():
    previous = Value(0.6, label="α^(L-1)", requires_grad=False)
    w3, b3 = Value(0.8, label="w_3"), Value(-0.2, label="b_3")
    z = w3 * previous + b3
    z.label = "z^L"
    a = z.sigmoid()
    a.label = "α^L"
    cost = (a - 0.3) ** 2
    cost.label = "C"
    cost.backward()
    tree = dependency_tree(cost)
    s = _sigmoid(0.8 * 0.6 - 0.2)
    dw = 0.6 * s * (1 - s) * 2 * (s - 0.3)  # ∂z/∂w_3 · σ′(z^L) · 2(α^L − y′)
    db = 1.0 * s * (1 - s) * 2 * (s - 0.3)
    assert math.isclose(tree.chain_rule("w_3"), dw, rel_tol=1e-12)
    assert math.isclose(tree.chain_rule("b_3"), db, rel_tol=1e-12)
    measured = central_difference(lambda p: float((_sigmoid(p[0] * 0.6 + p[1]) - 0.3) ** 2), np.array([0.8, -0.2]))
    np.testing.assert_allclose([float(w3.grad), float(b3.grad)], measured, rtol=1e-7)
    assert [edge.formula for edge in tree.path("w_3")] == ["αᴸ⁻¹", "σ′(zᴸ)", "2(αᴸ − 0.3)"]


# --- 7.1: the learning algorithm, written out --------------------------------------------------------------------
def test_the_seeds_learning_algorithm_with_loops_is_fits_full_batch_gradient_descent():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (12, 1))
    y = x ** 2
    by_loops, by_fit = (nn.MLP([1, 4, 1], rng=3) for _ in range(2))
    eta = 0.3
    for _ in range(3):  # episodes; ∇C_all starts from 0 in each
        total = [np.zeros_like(p.data) for p in by_loops.parameters()]
        for sample, target in zip(x, y, strict=True):
            by_loops.zero_grad()
            losses.squared_error(by_loops(sample), target).backward()
            total = [t + p.grad for t, p in zip(total, by_loops.parameters(), strict=True)]
        with no_grad():
            for t, p in zip(total, by_loops.parameters(), strict=True):
                p -= eta * t / len(x)  # η times the average of the samples' gradients
    fit(by_fit, x, y, optimizer=optim.GradientDescent(by_fit, eta), episodes=3, progress=False)
    for mine, theirs in zip(by_loops.parameters(), by_fit.parameters(), strict=True):
        np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-12, atol=1e-15)


# --- 6.1: the school method ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("start, where, kind, curvature", [(2.0, 1.0, "minimum", 6.0), (-0.5, -1.0, "maximum", -6.0)])
def test_the_school_method_finds_f_prime_zero_and_judges_it_by_f_second(start, where, kind, curvature):
    found = stationary_point(lambda x: x ** 3 - 3 * x, start)  # f′ = 3x² − 3, f″ = 6x
    assert found.converged and found.kind == kind
    assert math.isclose(float(found.point[0]), where, rel_tol=1e-12)
    assert math.isclose(float(found.eigenvalues[0]), curvature, rel_tol=1e-9)
