"""A student comparing optimizers on one problem (seed, sections 5 to 7): the same start, the same data, the same
number of episodes, then one figure of all the runs and a table of final costs and times.

Every optimizer's first steps are checked against numpy written out by hand, in float64, on a linear model (a
1-layer identity MLP), whose cost ``mean over samples of Σ_j (x·W + b − y)_j²`` has a closed-form gradient and
Hessian."""

from __future__ import annotations

import copy

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import demo, nn, optim, plots  # noqa: E402
from tinygrad_edu.training import History, fit  # noqa: E402

RNG = np.random.default_rng(3)
X = RNG.normal(size=(7, 2))
Y = RNG.normal(size=(7, 1))


def linear() -> nn.MLP:
    return nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=0)


def start() -> tuple[np.ndarray, np.ndarray]:
    net = linear()
    return net[0].weights.data.copy(), net[0].biases.data.copy()


def cost(w: np.ndarray, b: np.ndarray, x: np.ndarray = X, y: np.ndarray = Y) -> float:
    r = x @ w + b - y
    return float((r ** 2).sum(axis=1).mean())


def gradient(w: np.ndarray, b: np.ndarray, x: np.ndarray = X, y: np.ndarray = Y) -> tuple[np.ndarray, np.ndarray]:
    r = x @ w + b - y
    return 2 * x.T @ r / len(x), 2 * r.sum(axis=0) / len(x)


def trained(make, episodes: int = 1, **kwargs) -> tuple[np.ndarray, np.ndarray, History]:
    net = linear()
    history = fit(net, X, Y, optimizer=make(net), episodes=episodes, progress=False, **kwargs)
    return net[0].weights.data, net[0].biases.data, history


# --- the numbers: one step (or two) of each optimizer against numpy -------------------------------------------------
def test_gradient_descent_s_episode_and_its_history_fields_match_numpy() -> None:
    w0, b0 = start()
    gw, gb = gradient(w0, b0)
    w, b, history = trained(lambda net: optim.GradientDescent(net, 0.1))
    np.testing.assert_allclose(w, w0 - 0.1 * gw, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, b0 - 0.1 * gb, rtol=0, atol=1e-15)
    assert history.cost[0] == pytest.approx(cost(w0, b0), rel=1e-14)  # before the update, on all samples
    assert history.gradient_norm[0] == pytest.approx(np.sqrt((gw ** 2).sum() + (gb ** 2).sum()), rel=1e-14)
    assert history.step_size == [0.1]
    assert history.final_cost == pytest.approx(cost(w, b), rel=1e-14)  # after it
    assert history.final_cost < history.cost[0]


def test_sgd_with_momentum_two_episodes_match_numpy() -> None:
    w0, b0 = start()
    vw, vb = gradient(w0, b0)  # v ← ∇C at the first step
    w1, b1 = w0 - 0.1 * vw, b0 - 0.1 * vb
    gw, gb = gradient(w1, b1)
    vw, vb = 0.9 * vw + gw, 0.9 * vb + gb  # v ← μv + ∇C
    w, b, history = trained(lambda net: optim.SGD(net, 0.1, momentum=0.9), episodes=2)
    np.testing.assert_allclose(w, w1 - 0.1 * vw, rtol=0, atol=1e-14)
    np.testing.assert_allclose(b, b1 - 0.1 * vb, rtol=0, atol=1e-14)
    assert history.step_size == [0.1, 0.1]  # the learning rate, not the length of the momentum step


def test_adam_two_episodes_match_numpy() -> None:
    w0, b0 = start()
    beta1, beta2, eps, rate = 0.9, 0.999, 1e-8, 0.05
    params, moments = [w0, b0], [(0.0, 0.0), (0.0, 0.0)]
    for k in (1, 2):
        grads = gradient(*params)
        new = []
        for i, (p, g) in enumerate(zip(params, grads)):
            m, v = moments[i]
            m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
            moments[i] = (m, v)
            new.append(p - rate * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps))
        params = new
    w, b, _ = trained(lambda net: optim.Adam(net, rate), episodes=2)
    np.testing.assert_allclose(w, params[0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(b, params[1], rtol=0, atol=1e-14)


def test_armijo_s_episode_takes_the_largest_power_of_alpha_numpy_accepts() -> None:
    w0, b0 = start()
    gw, gb = gradient(w0, b0)
    slope = (gw ** 2).sum() + (gb ** 2).sum()
    t = 1.0
    while cost(w0 - t * gw, b0 - t * gb) > cost(w0, b0) - 1e-4 * t * slope:
        t *= 0.5
    assert t < 1.0  # (the search backtracked at least once: a test of the rule, not of t = 1)
    w, b, history = trained(lambda net: optim.Armijo(net, sigma=1e-4, alpha=0.5))
    assert history.step_size == [t]
    np.testing.assert_allclose(w, w0 - t * gw, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b, b0 - t * gb, rtol=0, atol=1e-15)


def test_newton_s_episode_lands_on_the_least_squares_solution() -> None:
    """The cost is quadratic in (W, b): one Newton step with damping 0 solves H d = −g, the normal equations."""
    w, b, history = trained(lambda net: optim.Newton(net, damping=0.0))
    design = np.hstack([X, np.ones((len(X), 1))])
    exact = np.linalg.lstsq(design, Y, rcond=None)[0].ravel()
    np.testing.assert_allclose(np.concatenate([w.ravel(), b]), exact, rtol=0, atol=1e-12)
    assert history.step_size == [1.0]
    assert history.final_cost == pytest.approx(cost(exact[:2].reshape(2, 1), exact[2:]), rel=1e-12)


def test_random_search_s_episode_is_numpy_s_uniform_change_kept_if_the_cost_fell() -> None:
    w0, b0 = start()
    draw = np.random.default_rng(5)
    dw, db = draw.uniform(-0.1, 0.1, w0.shape), draw.uniform(-0.1, 0.1, b0.shape)
    kept = cost(w0 + dw, b0 + db) < cost(w0, b0)
    w, b, history = trained(lambda net: optim.RandomSearch(net, scale=0.1, rng=5))
    np.testing.assert_array_equal(w, w0 + dw if kept else w0)
    np.testing.assert_array_equal(b, b0 + db if kept else b0)
    assert history.step_size == [None]  # no step size: the plot's step panel leaves it out


def test_a_mini_batch_episode_records_the_batch_average_before_each_update() -> None:
    """History.cost of a mini-batch episode: the batch costs, each taken before its batch's update, averaged with
    the batches' sizes as weights (7 samples in batches of 3, 3, 1); final_cost is on all samples."""
    w, b = start()
    total = norms = 0.0
    for first in range(0, len(X), 3):
        x, y = X[first:first + 3], Y[first:first + 3]
        gw, gb = gradient(w, b, x, y)
        total += cost(w, b, x, y) * len(x)
        norms += np.sqrt((gw ** 2).sum() + (gb ** 2).sum()) * len(x)
        w, b = w - 0.1 * gw, b - 0.1 * gb
    got_w, got_b, history = trained(lambda net: optim.SGD(net, 0.1), batch_size=3, shuffle=False)
    np.testing.assert_allclose(got_w, w, rtol=0, atol=1e-15)
    np.testing.assert_allclose(got_b, b, rtol=0, atol=1e-15)
    assert history.cost[0] == pytest.approx(total / len(X), rel=1e-14)
    assert history.gradient_norm[0] == pytest.approx(norms / len(X), rel=1e-14)
    assert history.final_cost == pytest.approx(cost(w, b), rel=1e-14)


# --- the same start for every optimizer ------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda net: optim.GradientDescent(net, 0.05), lambda net: optim.Adam(net, 0.05),
                                  lambda net: optim.Armijo(net)], ids=["gd", "adam", "armijo"])
def test_deepcopy_a_rebuilt_seed_and_load_state_dict_give_one_start_and_one_run(make) -> None:
    """Three ways to start every optimizer from the same network: they train bit for bit alike, and training one
    copy leaves the original (and its state_dict) as it was."""
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    original = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=2)
    saved = original.state_dict()
    before = {name: array.copy() for name, array in saved.items()}
    loaded = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=99)
    loaded.load_state_dict(saved)
    nets = [copy.deepcopy(original),
            nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=2), loaded]
    histories = [fit(net, x, x ** 2, optimizer=make(net), episodes=5, progress=False) for net in nets]
    assert histories[0].cost[0] > histories[0].final_cost
    assert all(h.cost == histories[0].cost and h.final_cost == histories[0].final_cost for h in histories)
    for name, array in original.state_dict().items():
        np.testing.assert_array_equal(array, before[name])
        np.testing.assert_array_equal(saved[name], before[name])


# --- the figure of all the runs --------------------------------------------------------------------------------------
def test_two_sgd_runs_are_two_legend_entries_with_their_learning_rates_in_their_colours() -> None:
    runs = [trained(lambda net, rate=rate: optim.SGD(net, rate), episodes=3)[2] for rate in (0.1, 0.01)]
    assert [run.label for run in runs] == ["SGD", "SGD"]
    fig = plots.plot_history(runs)
    cost_ax, step_ax = fig.axes[:2]
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert len(set(legend)) == 2 and all(entry.startswith("SGD") for entry in legend)
    assert step_ax.get_xlabel() == "episode"
    steps = step_ax.get_lines()[:2]
    assert [list(line.get_ydata()) for line in steps] == [[0.1] * 3, [0.01] * 3]
    assert [line.get_color() for line in steps] == [line.get_color() for line in cost_ax.get_lines()[:2]]


def test_runs_given_the_same_label_keep_their_own_colour_in_the_step_panel() -> None:
    first = History([1.0, 0.5, 0.25], [1.0] * 3, [0.1] * 3, [0.1, 0.2, 0.3], "SGD")
    second = History([1.0, 0.8, 0.6], [1.0] * 3, [0.01] * 3, [0.1, 0.2, 0.3], "SGD")
    fig = plots.plot_history([first, second], labels=["SGD", "SGD"])  # labels as asked, even alike
    cost_ax, step_ax = fig.axes[:2]
    cost_colors = [line.get_color() for line in cost_ax.get_lines()[:2]]
    assert cost_colors[0] != cost_colors[1]
    steps = {float(line.get_ydata()[0]): line.get_color() for line in step_ax.get_lines()[:2]}
    assert steps == {0.1: cost_colors[0], 0.01: cost_colors[1]}  # each run's learning rate in its cost's colour


# --- the demo's table -------------------------------------------------------------------------------------------------
def _run(name: str, samples: int) -> demo.Run:
    history = History(cost=[1.0, 0.5], final_cost=1e-4, label=name)
    return demo.Run(name, "by hand", demo.xsquared_network(0), history, np.square(demo.TEST_INPUTS), 1.25,
                    samples=samples)


def test_the_demo_table_says_what_each_column_means() -> None:
    text = demo.format_table([_run("Armijo", 40), _run("gradient descent", 40)])
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0].split("|")[1:-1][-1].strip() == "time"
    notes = " ".join(line for line in text.splitlines() if line and not line.startswith(("|", "- ")))
    assert "episodes: passes through all 40 samples" in notes and "one per batch" in notes
    assert "final cost: the seed's cost" in notes and "averaged over all 40 samples, after the last update" in notes
    assert "time: the run's training, in seconds" in notes
    assert text.splitlines()[-2:] == ["- Armijo: by hand", "- gradient descent: by hand"]  # the methods still last
