"""optim.Newton: (H + λI)d = −∇C with the seed's Armijo rule along d."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.training import fit


def test_one_step_with_no_damping_solves_a_convex_quadratic_exactly() -> None:
    """C(x) = ½xᵀAx − bᵀx + c with A positive definite: its minimum A⁻¹b after one step, t = 1."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal((5, 5))
    a, b = m @ m.T + 5 * np.eye(5), rng.standard_normal(5)
    x = Value(rng.standard_normal(5))
    opt = optim.Newton([x], damping=0)
    cost = lambda: 0.5 * (x @ (a @ x)) - (b * x).sum() + 3.0
    opt.step(cost)
    np.testing.assert_allclose(x.data, np.linalg.solve(a, b), atol=1e-12)
    assert opt.last_step_size == 1.0 and not opt.last_fallback


def test_parameters_of_several_shapes_are_flattened_together() -> None:
    """A quadratic coupling a matrix and a vector parameter: one step to the minimum of all of them."""
    w, v = Value(np.ones((2, 2))), Value(np.array([3.0, -1.0]))
    target = np.array([[1.0, 2.0], [3.0, 4.0]])
    cost = lambda: ((w - target) ** 2).sum() + ((v - w[0]) ** 2).sum() * 2.0
    opt = optim.Newton([w, v])
    opt.step(cost)
    np.testing.assert_allclose(w.data, target, atol=1e-12)
    np.testing.assert_allclose(v.data, target[0], atol=1e-12)
    assert w.grad.shape == (2, 2) and v.grad.shape == (2,)  # the gradient at the start, as after backward()


def test_rosenbrock_never_rises_and_reaches_the_minimum() -> None:
    p = Value(np.array([-1.2, 1.0]))
    cost = lambda: (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2
    opt = optim.Newton([p], damping=1e-3)
    costs = [float(cost())]
    for _ in range(40):
        opt.step(cost)
        costs.append(float(cost()))
    assert all(after <= before for before, after in zip(costs, costs[1:]))
    np.testing.assert_allclose(p.data, [1.0, 1.0], atol=1e-8)


def test_near_a_maximum_the_damping_is_raised_so_the_step_goes_down() -> None:
    """C = −x² − y² + x⁴/4: at (0.5, 0.5) H has negative eigenvalues; Newton's d would climb to the maximum 0."""
    p = Value(np.array([0.5, 0.5]))
    cost = lambda: -(p ** 2).sum() + (p[0] ** 4) / 4.0
    before = float(cost())
    opt = optim.Newton([p], damping=0.1)
    opt.step(cost)
    assert opt.last_damping > 0.1 and not opt.last_fallback
    assert float(cost()) < before


def test_without_damping_an_uphill_newton_direction_falls_back_to_the_gradient() -> None:
    p = Value(np.array([0.5, 0.5]))
    cost = lambda: -(p ** 2).sum()
    opt = optim.Newton([p], damping=0)
    opt.step(cost)
    assert opt.last_fallback
    assert float(cost()) < -0.5


def test_at_a_stationary_point_nothing_moves() -> None:
    p = Value(np.array([1.0, 2.0]))
    opt = optim.Newton([p])
    opt.step(lambda: ((p - np.array([1.0, 2.0])) ** 2).sum())
    assert opt.last_step_size == 0.0 and p.data.tolist() == [1.0, 2.0]


def test_newton_trains_a_small_network_with_fit() -> None:
    x, y = xsquared(200, seed=1)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=1)
    history = fit(net, x, y, optimizer=optim.Newton(net, damping=1e-3), episodes=15, progress=False)
    assert all(b <= a for a, b in zip(history.cost, history.cost[1:]))
    assert history.final_cost < 1e-3 < history.cost[0]


@pytest.mark.parametrize("make, error, words", [
    (lambda p: optim.Newton(p, damping=-1.0), ValueError, "Newton: damping must be >= 0"),
    (lambda p: optim.Newton(p, sigma=1.5), ValueError, "Newton: sigma must lie in (0, 1)"),
    (lambda p: optim.Newton(p).step(), TypeError, "Newton.step: needs a closure"),
    (lambda p: optim.Newton(p).step(lambda: Value(1.0, requires_grad=False)), TypeError, "depends on the param"),
])
def test_bad_settings_are_named_errors(make, error, words) -> None:
    with pytest.raises(error) as raised:
        make([Value([1.0])])
    assert words in str(raised.value)


@pytest.mark.parametrize("cost", [lambda x: ((x - 1.0) ** 2).sum(), lambda x: ((x - 1.0) ** 4).sum()],
                         ids=["a minimum", "a degenerate minimum (H = 0)"])
def test_at_a_stationary_point_newton_stays_and_reports_no_fallback(cost):
    """At ∇C = 0 the step is 0 (the seed's STOP), but last_fallback said True, as if the Newton direction had failed
    and −∇C had been used instead."""
    x = Value([1.0, 1.0])
    opt = optim.Newton([x])
    opt.step(lambda: cost(x))
    assert x.data.tolist() == [1.0, 1.0] and opt.last_step_size == 0.0 and not opt.last_fallback
