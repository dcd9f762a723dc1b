"""tinygrad_edu.plots read back: every number a plot draws (line data, marker positions, titles, where a mark sits in
its axes) checked against an independent numpy computation of what it should draw."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import Value, optim, plots  # noqa: E402
from tinygrad_edu.training import History, fit  # noqa: E402


def _height(ax, x: float, y: float) -> float:
    """Where the data point (x, y) is drawn, as a fraction of the axes' height (0 the bottom edge, 1 the top)."""
    ax.figure.draw_without_rendering()  # (the limits matplotlib autoscales only when drawing)
    return float(ax.transAxes.inverted().transform(ax.transData.transform((x, y)))[1])


def _edge_marks(ax, marker: str) -> list:
    """The lines of marks on an edge: ``marker`` at a fixed height of the axes (not in data coordinates)."""
    return [line for line in ax.get_lines() if line.get_marker() == marker and len(line.get_xdata())
            and line.get_transform() != ax.transData]


def _mark(ax, label_start: str):
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith(label_start)]
    return line


# --- defects ---------------------------------------------------------------------------------------------------
def _bowl(p):
    """f(p) = ‖p‖²: a step of learning rate η maps p to (1 − 2η)·p, so η = 1/2 lands on 0."""
    return (p * p).sum()


def _history_with_nan_and_zero() -> list:
    return [1.0, float("nan"), 0.5, 0.1, float("inf"), 0.0, 0.0]


@pytest.mark.parametrize("log_scale", [True, False])
def test_marks_off_the_cost_axis_stand_clear_of_the_costs_drawn(log_scale):
    costs = _history_with_nan_and_zero()
    ax = plots.plot_history(costs, log_scale=log_scale).axes[0]
    finite = np.array([(episode, cost) for episode, cost in enumerate(costs, start=1)
                       if np.isfinite(cost) and (cost > 0 or not log_scale)])
    heights = [_height(ax, episode, cost) for episode, cost in finite]
    (nan_marks,) = _edge_marks(ax, "x")
    np.testing.assert_array_equal(nan_marks.get_xdata(), [2, 5])
    assert max(heights) <= 0.92  # the × at 0.97 is at least 5% of the axes above the highest cost
    if log_scale:
        (zero_marks,) = _edge_marks(ax, "v")
        np.testing.assert_array_equal(zero_marks.get_xdata(), [6, 7])
        assert min(heights) >= 0.08  # the ▼ at 0.03 is at least 5% of the axes below the lowest positive cost
    assert all(0.0 <= h <= 1.0 for h in heights)  # and every cost is still inside the axes


def test_a_zero_cost_mark_in_the_learning_rates_panel_stands_clear_of_the_costs():
    rates = {"exact": 0.5, "slow": 0.1}  # ‖p‖² from (1, 1): exact costs 2, 0; slow 2·0.8^(2k)
    cost_ax = plots.plot_learning_rates(_bowl, [1.0, 1.0], rates, armijo=False, steps=6, resolution=5).axes[-1]
    slow = 2.0 * 0.64 ** np.arange(7)
    (zero_marks,) = _edge_marks(cost_ax, "v")
    np.testing.assert_array_equal(zero_marks.get_xdata(), [1])
    assert _height(cost_ax, 6, slow[-1]) >= 0.08
    assert _height(cost_ax, 0, 2.0) <= 1.0


@pytest.mark.parametrize(("factory", "method"), [(lambda ps: optim.RandomSearch(ps, 0.3, rng=0), "random search"),
                                                 (lambda ps: optim.Newton(ps), "Newton's method")])
def test_plot_descent_names_the_method_that_made_the_path(factory, method):
    title = plots.plot_descent(_bowl, [1.0, -0.5], factory, steps=3, resolution=5, levels=3).axes[0].get_title()
    assert title.startswith(method) and "gradient descent" not in title


def test_extrema_are_marked_where_the_derivative_is_0():
    # (x − 0.3)²: the minimum is at x = 0.3, f = 0; on a grid of 7 points of [−3, 3] the nearest grid point is 0
    ax = plots.plot_derivatives(lambda x: (x - 0.3) ** 2, order=2, points=7).axes[0]
    minimum = _mark(ax, "minimum")
    assert minimum.get_xdata()[0] == pytest.approx(0.3, abs=1e-9)
    assert minimum.get_ydata()[0] == pytest.approx(0.0, abs=1e-12)
    # x³ − 3x, the default grid: f′ = 3x² − 3 = 0 at x = ∓1, f = ±2 (the grid has −1.005 and −0.99, not −1)
    ax = plots.plot_derivatives(lambda x: x ** 3 - 3 * x, order=2).axes[0]
    for label, x, y in (("maximum", -1.0, 2.0), ("minimum", 1.0, -2.0)):
        mark = _mark(ax, label)
        assert (mark.get_xdata()[0], mark.get_ydata()[0]) == (pytest.approx(x, abs=1e-9), pytest.approx(y, abs=1e-9))


# --- guards: the numbers drawn are the numbers of the run ---------------------------------------------------------
def test_mini_batch_costs_are_drawn_at_episodes_1_to_n_as_size_weighted_batch_averages():
    """A linear model y = w·x + b, 10 samples in batches of 4, 4, 2, no shuffling, worked out by hand in numpy: the
    cost of an episode is the average of its batch costs (each before its batch's update) weighted by batch size."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (10, 1))
    y = 3 * x + 1
    w, b = Value(np.array([[0.5]])), Value(np.array([0.0]))
    history = fit(lambda rows: rows @ w + b, x, y, optimizer=optim.SGD([w, b], 0.1), episodes=3, batch_size=4,
                  shuffle=False, progress=False)
    weight, bias, expected = 0.5, 0.0, []
    for _ in range(3):
        total = 0.0
        for start in range(0, 10, 4):
            rows, targets = x[start:start + 4, 0], y[start:start + 4, 0]
            residual = weight * rows + bias - targets
            total += np.mean(residual ** 2) * len(rows)
            weight, bias = weight - 0.1 * np.mean(2 * residual * rows), bias - 0.1 * np.mean(2 * residual)
        expected.append(total / 10)
    fig = plots.plot_history(history)
    cost_line, step_line = fig.axes[0].get_lines()[0], fig.axes[1].get_lines()[0]
    np.testing.assert_array_equal(cost_line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(cost_line.get_ydata(), expected, rtol=1e-12)
    np.testing.assert_array_equal(step_line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(step_line.get_ydata(), [0.1, 0.1, 0.1])
    assert (fig.axes[0].get_ylabel(), fig.axes[1].get_xlabel()) == ("cost C", "episode")
    assert fig.axes[1].get_ylabel() == "step size t (learning rate)"


@pytest.mark.parametrize("x", [0.1, 0.5, -1.0, 0.01])
def test_armijo_lines_on_x_squared_at_the_seeds_test_inputs(x):
    """f = x²: d = −2x, ∇f·d = −4x²; φ(t) = (x − 2xt)², the tangent x² − 4x²t, the Armijo line x² − σ·4x²t; the
    trial t = 1 gives φ = x², not below x² − σ·4x², so it is rejected and t = 1/2 (φ = 0) accepted."""
    sigma = 0.25
    ax = plots.plot_armijo(lambda v: (v * v).sum(), x, sigma=sigma).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    phi = lines["φ(t) = f(x + t·d)"]
    t = np.asarray(phi.get_xdata(), dtype=float)
    assert t[0] == 0 and t[-1] > 1
    np.testing.assert_allclose(phi.get_ydata(), (x - 2 * x * t) ** 2, rtol=1e-12, atol=1e-300)
    tangent = lines["tangent f(x) + t·∇f(x)ᵀd"]
    np.testing.assert_allclose(tangent.get_ydata(), x * x - 4 * x * x * t, rtol=1e-12, atol=1e-15)
    armijo = lines[f"Armijo line f(x) + σ·t·∇f(x)ᵀd (σ = {sigma:g})"]
    np.testing.assert_allclose(np.polyfit(t, armijo.get_ydata(), 1), [-sigma * 4 * x * x, x * x], atol=1e-12)
    accepted = _mark(ax, "accepted step")
    assert (accepted.get_xdata()[0], accepted.get_ydata()[0]) == (0.5, 0.0)
    rejected = _mark(ax, "rejected trial steps")
    assert (rejected.get_xdata()[0], rejected.get_ydata()[0]) == (1.0, pytest.approx(x * x, rel=1e-12))
    low, high = ax.get_ylim()
    assert low < 0.0 and high > x * x  # both trials inside the frame


def test_learning_rates_cost_panel_counts_steps_from_0_with_the_cost_of_each_point():
    """(p₀ − 1)² + 10·p₁² from (−1.5, 0.8), gradient descent worked out in numpy: step k is drawn at k = 0, 1, …"""
    def cost(p):
        return (p[0] - 1) ** 2 + 10 * p[1] ** 2

    rates, start = {"small": 0.01, "larger": 0.04}, np.array([-1.5, 0.8])
    cost_ax = plots.plot_learning_rates(cost, start, rates, armijo=False, steps=5, resolution=5).axes[-1]
    assert (cost_ax.get_xlabel(), cost_ax.get_title()) == ("step k", "cost per step")
    for name, rate in rates.items():
        point, expected = start.copy(), []
        for _ in range(6):
            expected.append((point[0] - 1) ** 2 + 10 * point[1] ** 2)
            point = point - rate * np.array([2 * (point[0] - 1), 20 * point[1]])
        line = _mark(cost_ax, f"{name}: η = {rate:.3g}")
        np.testing.assert_array_equal(line.get_xdata(), np.arange(6))
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)


def test_a_single_episode_is_drawn_as_a_point_inside_its_frame():
    history = History([0.5], [1.0], [0.125], [0.1], "one")
    fig = plots.plot_history(history)
    cost_ax, step_ax = fig.axes
    line = cost_ax.get_lines()[0]
    assert list(line.get_xdata()) == [1] and list(line.get_ydata()) == [0.5] and line.get_marker() == "o"
    assert 0.1 < _height(cost_ax, 1, 0.5) < 0.9 and 0.1 < _height(step_ax, 1, 0.125) < 0.9
