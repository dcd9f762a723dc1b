"""The learning rate as a student explores it (seed section 7.2), found by an exploratory pass in that role: gradient
descent on x² (f = w², ∇f = 2w, so w_{k+1} = (1 − 2η)·w_k: it converges for η < 1, oscillates for ever at η = 1
and diverges above) with fit, plot_descent and plot_learning_rates at 1e-4 to 10, the boundary 0.999, 1, 1.001
included, and a small network's averaged gradients over batches of 1, 5 and all samples, shuffled and not.

Defects (fixed): plot_learning_rates wrote a rate of one's own to 3 digits, so 1.001 (diverges) and 1
(oscillates) were both "η = 1" in the legend and the panel titles, and plot_descent to 6 (1.0000001 was "η = 1");
a rate of one's own that diverges (η = 10) framed every contour panel around its path, so the paths of the other
rates, within ±0.5 of the minimum, were one dot each in a window 1e11 wide.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import DivergenceWarning, fit

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import plots  # noqa: E402

W0 = 0.5


def _bowl(p):
    return (p * p).sum()  # ‖p‖²: every coordinate follows x_{k+1} = (1 − 2η)·x_k


def _x_squared(eta: float, episodes: int) -> tuple:
    """fit on f(w) = w²: a model whose output is w for every sample, targets 0, the seed's squared error."""
    w = Value(np.array([W0]), label="w")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(lambda x: x * 0.0 + w, np.ones((4, 1)), np.zeros((4, 1)),
                      optimizer=optim.GradientDescent([w], learning_rate=eta), episodes=episodes, progress=False)
    return history, [m for m in caught if issubclass(m.category, DivergenceWarning)]


def _labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --- defects ---------------------------------------------------------------------------------------------------------
def test_plot_learning_rates_labels_the_rates_around_one_apart():
    rates = {"below": 0.999, "at": 1.0, "above": 1.001}
    fig = plots.plot_learning_rates(_bowl, [0.5, -0.3], rates, armijo=False, steps=4, resolution=5)
    expected = ["below: η = 0.999", "at: η = 1", "above: η = 1.001"]
    assert _labels(fig.axes[-1]) == expected
    assert [ax.get_title() for ax in fig.axes[:3]] == expected


def test_plot_descent_names_the_learning_rate_it_was_given():
    fig = plots.plot_descent(_bowl, [0.5, -0.3], 1.0000001, steps=3, resolution=5, levels=3)
    assert "learning rate η = 1.0000001," in fig.axes[0].get_title()


def test_a_diverging_rate_of_ones_own_runs_out_of_the_window_as_overshoots_does():
    fig = plots.plot_learning_rates(_bowl, [0.5, -0.3], {"at": 1.0, "big": 10.0}, armijo=False, steps=12,
                                    resolution=5)
    at = fig.axes[0]
    low, high = at.get_xlim()
    assert low <= -0.5 and 0.5 <= high  # the oscillation between (0.5, −0.3) and (−0.5, 0.3) is in the window
    assert high - low < 5.0  # and fills it, not a dot in a window of 1e11
    # the diverging rate is still drawn, and its costs are those of the closed form, 0.34·19^(2k)
    cost = next(line for line in fig.axes[-1].get_lines() if line.get_label() == "big: η = 10")
    k = np.asarray(cost.get_xdata())
    np.testing.assert_allclose(cost.get_ydata(), 0.34 * 19.0 ** (2 * k), rtol=1e-12)


# --- guards ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("eta", [1e-4, 0.25, 0.999, 1.0, 1.001, 2.0, 10.0])
def test_every_episode_of_fit_on_x_squared_follows_the_closed_form(eta):
    history, diverging = _x_squared(eta, 12)
    k = np.arange(13)
    w = W0 * (1 - 2 * eta) ** k  # squared_error of one output: f = w², ∇f = 2w
    np.testing.assert_allclose(history.cost, w[:12] ** 2, rtol=1e-12)
    np.testing.assert_allclose(history.gradient_norm, 2 * np.abs(w[:12]), rtol=1e-12)
    assert history.step_size == [eta] * 12
    assert history.final_cost == pytest.approx(w[12] ** 2, rel=1e-12)
    grows = w ** 2 > 1000 * W0 ** 2  # the warning: the first cost above 1000 times the first episode's
    assert bool(diverging) == bool(grows.any()), [str(m.message) for m in diverging]


def test_one_oscillates_for_ever_without_a_warning_and_one_point_001_warns_at_the_closed_forms_episode():
    history, diverging = _x_squared(1.0, 2000)
    assert not diverging and history.stopped == "episodes"
    assert set(history.cost) == {W0 ** 2} and history.final_cost == W0 ** 2
    history, diverging = _x_squared(1.001, 2000)
    first = int(np.argmax(1.002 ** (2 * np.arange(2000)) > 1000))  # the first k with (1 − 2η)^2k > 1000
    assert len(diverging) == 1
    assert re.search(f"in episode {first + 1} of 2000", str(diverging[0].message)), str(diverging[0].message)


def _network() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="sigmoid", output_activation="identity", init="xavier", rng=3)


def _per_sample_mean(net: nn.MLP, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The seed's 7.1: ∇C_S of every sample by a backward pass of its own, averaged."""
    total = [np.zeros_like(p.data) for p in net.parameters()]
    for sample, target in zip(x, y, strict=True):
        net.zero_grad()
        squared_error(net(sample[None, :]), target[None, :]).backward()
        total = [t + p.grad for t, p in zip(total, net.parameters(), strict=True)]
    return [t / len(x) for t in total]


@pytest.mark.parametrize("batch_size, shuffle", [(1, True), (5, False), (5, True), (None, True)])
def test_each_update_of_a_network_is_eta_times_the_mean_of_its_batchs_per_sample_gradients(batch_size, shuffle):
    x = np.linspace(-1, 1, 11).reshape(-1, 1)
    y = x ** 2
    eta = 0.3
    net, replay = _network(), _network()
    seen: list[np.ndarray] = []

    def model(rows):
        seen.append(rows.data.copy())
        return net(rows)

    fit(model, x, y, optimizer=optim.GradientDescent(net, learning_rate=eta), episodes=2, batch_size=batch_size,
        shuffle=shuffle, seed=0, progress=False)
    batches = seen[:2 * (1 if batch_size is None else -(-len(x) // batch_size))]  # (then fit's final pass)
    for rows in batches:
        targets = rows ** 2
        mean = _per_sample_mean(replay, rows, targets)
        with_fd = [p.data.copy() for p in replay.parameters()]
        for p, g in zip(replay.parameters(), mean, strict=True):
            p.data = p.data - eta * g
        # the mean gradient against central differences of the batch's cost, one weight of each array
        for i, p in enumerate(replay.parameters()):
            numbers = [q.copy() for q in with_fd]
            costs = []
            for h in (1e-6, -1e-6):
                numbers[i].flat[0] = with_fd[i].flat[0] + h
                costs.append(float(np.mean(np.sum((_forward(numbers, rows) - targets) ** 2, axis=1))))
            assert (costs[0] - costs[1]) / 2e-6 == pytest.approx(mean[i].flat[0], rel=1e-6, abs=1e-9), p.label
    for trained, replayed in zip(net.parameters(), replay.parameters(), strict=True):
        np.testing.assert_allclose(trained.data, replayed.data, rtol=1e-12, atol=1e-14)


def _forward(numbers: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The 1-3-1 network in numpy: σ(x·W¹ + b¹)·W² + b²."""
    w1, b1, w2, b2 = numbers
    return 1 / (1 + np.exp(-(rows @ w1 + b1))) @ w2 + b2


@pytest.mark.parametrize("eta", [0.999, 1.0, 1.001])
def test_the_cost_panel_of_plot_learning_rates_follows_the_closed_form_at_the_boundary(eta):
    fig = plots.plot_learning_rates(_bowl, [0.5, -0.3], {"η": eta}, armijo=False, steps=30, resolution=5)
    (line,) = [line for line in fig.axes[-1].get_lines() if line.get_label().startswith("η:")]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(31))
    np.testing.assert_allclose(line.get_ydata(), 0.34 * (1 - 2 * eta) ** (2 * np.arange(31)), rtol=1e-12)
