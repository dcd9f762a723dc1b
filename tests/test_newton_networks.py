"""optim.Newton and gradient_and_hessian on the costs of small networks, as a student checks the second derivative of
seed section 6.1: the Hessian against central differences, Newton's step against a numpy solve of (H + λI)d = −g,
saddles, parameters the cost does not depend on (zero rows in H), float32 networks, and fit's History."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from helpers_models import flat_parameters, place_parameters

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.autodiff import gradient_and_hessian, gradients
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

RNG = np.random.default_rng(31)
X23, Y23 = RNG.standard_normal((7, 2)), RNG.uniform(0.1, 0.9, (7, 1))
X45, Y45 = RNG.standard_normal((9, 4)), RNG.uniform(-0.8, 0.8, (9, 3))


def _network(sizes: list[int], activation: str) -> tuple[nn.MLP, np.ndarray, np.ndarray]:
    net = nn.MLP(sizes, activation=activation, rng=5)
    return (net, X23, Y23) if sizes[0] == 2 else (net, X45, Y45)


NETWORKS = [([2, 3, 1], "sigmoid"), ([4, 5, 3], "tanh")]


# --- guards: the Hessian of a network's cost -----------------------------------------------------------------------

@pytest.mark.parametrize("sizes, activation", NETWORKS, ids=["2-3-1 sigmoid", "4-5-3 tanh"])
def test_the_hessian_of_a_networks_cost_agrees_with_central_differences(sizes, activation) -> None:
    """All weights and biases in net.parameters() order, each flattened row by row: ∇ against central differences
    of the cost, every column of H against central differences of the gradient (float64), H symmetric."""
    net, x, y = _network(sizes, activation)
    params = net.parameters()
    cost = lambda: squared_error(net(Value(x, requires_grad=False)), y)
    slope, curvature = gradient_and_hessian(cost(), params)
    start, n, h = flat_parameters(params), sum(p.size for p in params), 1e-6
    assert slope.shape == (n,) and curvature.shape == (n, n) and curvature.dtype == np.float64

    def at(point: np.ndarray, what: str) -> np.ndarray:
        place_parameters(params, point)
        c = cost()
        return np.array(float(c)) if what == "cost" else np.concatenate([g.data.ravel() for g in gradients(c, params)])

    columns, differences = [], []
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        differences.append((at(start + e, "cost") - at(start - e, "cost")) / (2 * h))
        columns.append((at(start + e, "grad") - at(start - e, "grad")) / (2 * h))
    place_parameters(params, start)
    np.testing.assert_allclose(slope, differences, atol=1e-8)
    np.testing.assert_allclose(curvature, np.array(columns).T, atol=1e-7)
    np.testing.assert_allclose(curvature, curvature.T, atol=1e-14)
    # the block of the first layer's weights is the top-left corner, as the order says
    w = params[0]
    block = curvature[:w.size, :w.size]
    assert block.shape == (w.size, w.size) and np.abs(block).max() > 0


@pytest.mark.parametrize("sizes, activation", NETWORKS, ids=["2-3-1 sigmoid", "4-5-3 tanh"])
def test_a_damped_newton_step_on_a_network_is_the_numpy_solve_of_the_shifted_system(sizes, activation) -> None:
    """At a random start H is indefinite: λ becomes damping − λ_min(H) and the step is t·d with (H + λI)d = −g
    solved by numpy; the cost falls, and each parameter's grad is its part of g."""
    net, x, y = _network(sizes, activation)
    params = net.parameters()
    cost = lambda: squared_error(net(Value(x, requires_grad=False)), y)
    before = float(cost())
    slope, curvature = gradient_and_hessian(cost(), params)
    lowest = np.linalg.eigvalsh(curvature)[0]
    assert lowest < 0  # (a saddle-like start: plain Newton could climb)
    start = flat_parameters(params)
    opt = optim.Newton(net, damping=1e-2)
    opt.step(cost)
    assert opt.last_damping == pytest.approx(1e-2 - lowest, rel=1e-9) and not opt.last_fallback
    d = np.linalg.solve(curvature + opt.last_damping * np.eye(len(slope)), -slope)
    np.testing.assert_allclose(flat_parameters(params) - start, opt.last_step_size * d, atol=1e-10)
    assert float(cost()) == pytest.approx(opt.last_cost, abs=0) and opt.last_cost < before
    np.testing.assert_allclose(np.concatenate([p.grad.ravel() for p in params]), slope, atol=1e-15)


def test_without_damping_newton_on_a_network_at_a_saddle_goes_down_the_gradient_not_up() -> None:
    """H indefinite, damping=0: d = −∇C (last_fallback), never −H⁻¹∇C, which points uphill here."""
    net, x, y = _network([4, 5, 3], "tanh")
    params = net.parameters()
    cost = lambda: squared_error(net(Value(x, requires_grad=False)), y)
    before = float(cost())
    slope, curvature = gradient_and_hessian(cost(), params)
    start = flat_parameters(params)
    opt = optim.Newton(net)
    opt.step(cost)
    assert opt.last_fallback and float(cost()) < before
    np.testing.assert_allclose(flat_parameters(params) - start, -opt.last_step_size * slope, atol=1e-14)


def test_a_float32_network_gets_the_float64_networks_hessian_and_stays_float32() -> None:
    net64 = nn.MLP([2, 3, 1], activation="sigmoid", rng=5)
    net32 = nn.MLP([2, 3, 1], activation="sigmoid", rng=5).float()
    x32, y32 = X23.astype(np.float32), Y23.astype(np.float32)
    slope64, curvature64 = gradient_and_hessian(squared_error(net64(Value(X23)), Y23), net64.parameters())
    slope32, curvature32 = gradient_and_hessian(squared_error(net32(Value(x32)), y32), net32.parameters())
    np.testing.assert_allclose(slope32, slope64, atol=1e-6)
    np.testing.assert_allclose(curvature32, curvature64, atol=1e-6)
    cost = lambda: squared_error(net32(Value(x32, requires_grad=False)), y32)
    before = float(cost())
    opt = optim.Newton(net32, damping=1e-3)
    opt.step(cost)
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in net32.parameters())
    assert float(cost()) < before and isinstance(opt.last_cost, float) and isinstance(opt.last_step_size, float)


def test_fit_with_newton_on_the_x_squared_network_records_a_history_that_loads_back() -> None:
    """Full batch: cost never rises, gradient_norm[0] is ‖∇C‖ at the start (central differences), step sizes are
    Armijo's αˡ, and the History goes through JSON unchanged."""
    x, y = xsquared(60, seed=3)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=2)
    params = net.parameters()
    cost = lambda: squared_error(net(Value(x, requires_grad=False)), y)
    start, h = flat_parameters(params), 1e-6
    differences = []
    for i in range(len(start)):
        e = np.zeros(len(start))
        e[i] = h
        place_parameters(params, start + e)
        up = float(cost())
        place_parameters(params, start - e)
        differences.append((up - float(cost())) / (2 * h))
    place_parameters(params, start)
    history = fit(net, x, y, optimizer=optim.Newton(net, damping=1e-3), episodes=12, progress=False)
    assert history.label == "Newton" and history.episodes == 12
    assert history.gradient_norm[0] == pytest.approx(np.linalg.norm(differences), rel=1e-6)
    assert all(after <= before for before, after in zip(history.cost, history.cost[1:]))
    assert history.final_cost <= history.cost[-1] < history.cost[0]
    assert all(t is not None and 0 < t <= 1 and np.log2(t) == round(np.log2(t)) for t in history.step_size)
    loaded = type(history)(**json.loads(json.dumps(dataclasses.asdict(history))))
    assert loaded == history


# --- defects ---------------------------------------------------------------------------------------------------------

def test_a_parameter_the_cost_does_not_depend_on_leaves_newtons_step_for_the_others_alone() -> None:
    """Newton's own docstring example, with one more parameter the cost never uses: still the minimum (2/3, 2/3)
    in one step, the unused parameter where it was."""
    x, unused = Value([3.0, -2.0]), Value([5.0])
    opt = optim.Newton([x, unused])
    opt.step(lambda: ((x - 1.0) ** 2).sum() + x[0] * x[1])
    np.testing.assert_allclose(x.data, [2 / 3, 2 / 3], atol=1e-12)
    assert unused.data.tolist() == [5.0] and not opt.last_fallback and opt.last_step_size == 1.0


def test_linear_regression_with_an_always_zero_input_is_solved_in_one_newton_step() -> None:
    """A Layer with the identity activation and the squared error is a convex quadratic: one undamped Newton step
    lands on the least-squares solution (numpy's lstsq); the weights of the input that is always 0 (a border
    pixel of a digit) stay as they were."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 3))
    x[:, 2] = 0.0
    y = x @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 0.0]]) + 0.1 + 0.01 * rng.standard_normal((20, 2))
    layer = nn.Layer(3, 2, activation="identity", rng=0)
    unused = layer.weights.data[2].copy()
    opt = optim.Newton(layer)
    opt.step(lambda: squared_error(layer(Value(x, requires_grad=False)), y))
    solution = np.linalg.lstsq(np.hstack([x[:, :2], np.ones((20, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(layer.weights.data[:2], solution[:2], atol=1e-10)
    np.testing.assert_allclose(layer.biases.data, solution[2], atol=1e-10)
    assert layer.weights.data[2].tolist() == unused.tolist() and not opt.last_fallback


def test_a_newton_direction_whose_slope_underflows_is_kept() -> None:
    """The docstring's kind of convex quadratic at 1e-170 from its minimum 0: gᵀd ≈ −1e-340 is no number, but d is
    still the way down; one step lands on the minimum rather than overshooting to (−1e-170, −1e-170)."""
    x = Value([3e-170, -2e-170])
    opt = optim.Newton([x])
    opt.step(lambda: (x ** 2).sum() + x[0] * x[1])
    assert not opt.last_fallback
    assert np.abs(x.data).max() < 1e-180
