"""Warnings hygiene: the package's own warnings (each meaningful, once, at the user's line, filterable by its
category), numpy's floating-point warnings leaking from inside the package where its own error or nothing at all
should be, and global state (numpy's errstate and random state, warnings filters, matplotlib's rcParams) left as
it was after a call returns."""

import warnings

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import DivergenceWarning, Value, data, detect_anomaly, fit, nn, optim, plots
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.cli import main


@pytest.fixture
def global_random_state():
    """Tests that seed numpy's global random state put it back afterwards."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def _bowl(p):
    return p[0] ** 2 + p[1] ** 2


def _failing_armijo_step():
    """One Armijo step on w² at w = 3 with only t = 1 allowed: w − 1·6 = −3 costs as much, so no step is found."""
    w = Value([3.0])
    opt = optim.Armijo([w], max_backtracks=0)
    cost = (w * w).sum()
    cost.backward()
    opt.step(lambda: (w * w).sum(), cost=cost)
    return w, opt


# --- defects -------------------------------------------------------------------------------------------------
def test_plot_learning_rates_on_a_round_bowl_draws_every_cost_curve_without_numpy_warnings(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plots.plot_learning_rates(_bowl, [1.0, 2.0], path=tmp_path / "rates.png")
    assert [str(m.message) for m in caught] == []
    cost_ax = next(ax for ax in fig.axes if ax.get_title() == "cost per step")
    low, high = cost_ax.get_ylim()
    crawls = next(line for line in cost_ax.get_lines() if line.get_label().startswith("crawls"))
    costs = np.asarray(crawls.get_ydata(), dtype=float)
    # η = 0.05/λ: each step multiplies the cost by (1 − 0.05·2/2)² = 0.9025, from f(1, 2) = 5
    np.testing.assert_allclose(costs, 5 * 0.9025 ** np.arange(costs.size), rtol=1e-6)
    assert low <= costs.min() and costs.max() <= high  # the curve is inside the frame, not off it


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, learning_rate=1e300),
                                  lambda p: optim.SGD(p, learning_rate=1e300, momentum=0.9),
                                  lambda p: optim.Adam(p, learning_rate=1e300)], ids=["gd", "sgd", "adam"])
def test_a_diverging_step_under_detect_anomaly_is_the_named_error_alone(make):
    w = Value([1.0, 2.0])
    opt = make([w])
    ((w * 1e10) ** 2).sum().backward()  # ∂C/∂w = 2e20·w: η·∇C overflows
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with detect_anomaly(), pytest.raises(FloatingPointError, match="in place: the new numbers hold NaN or inf"):
            opt.step()
    assert w.data.tolist() == [1.0, 2.0]


def test_nn_load_draws_nothing_from_numpys_global_random_state(tmp_path, global_random_state):
    path = tmp_path / "model.npz"
    nn.MLP([2, 3, 1], rng=5).save(path)
    np.random.seed(0)
    expected = nn.MLP([2, 3, 1]).state_dict()
    np.random.seed(0)
    loaded = nn.load(path)
    after = nn.MLP([2, 3, 1]).state_dict()
    assert after.keys() == expected.keys()
    for name in expected:
        np.testing.assert_array_equal(after[name], expected[name])
    np.testing.assert_array_equal(loaded.state_dict()["layers.1.weights"], nn.MLP([2, 3, 1], rng=5)[0].weights.data)


def test_the_line_search_warning_has_a_category_of_its_own():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _failing_armijo_step()
    assert len(caught) == 1 and "Armijo.step" in str(caught[0].message)
    category = caught[0].category
    assert issubclass(category, RuntimeWarning) and category is not RuntimeWarning
    assert category is getattr(optim, "LineSearchWarning", None)
    with warnings.catch_warnings(record=True) as caught, np.errstate(divide="warn"):
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", category)
        w, opt = _failing_armijo_step()
        np.log(np.zeros(1))
    assert opt.last_failed and w.data.tolist() == [3.0]
    assert [str(m.message) for m in caught] == ["divide by zero encountered in log"]


# --- guards ----------------------------------------------------------------------------------------------------
def test_divergence_warning_comes_once_at_the_line_calling_fit_and_goes_by_its_category():
    x, y = data.xsquared(200, seed=0)

    def diverging_fit():
        net = nn.MLP([1, 8, 1], activation="relu", output_activation="identity", rng=0)
        return fit(net, x, y, optimizer=optim.GradientDescent(net, learning_rate=3.0), episodes=50, progress=False)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = diverging_fit()
    assert [m.category for m in caught] == [DivergenceWarning]  # once, and no numpy overflow warnings with it
    assert caught[0].filename == __file__ and "return fit(" in open(__file__).read().splitlines()[caught[0].lineno - 1]
    assert max(history.cost) > 1000 * history.cost[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DivergenceWarning)
        diverging_fit()
    assert caught == []


def test_the_line_search_warning_points_at_the_users_line_from_a_step_and_from_fit():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _failing_armijo_step()
    assert len(caught) == 1 and issubclass(caught[0].category, RuntimeWarning)
    assert caught[0].filename == __file__
    x, y = data.xsquared(100, seed=0)
    net = nn.MLP([1, 3, 1], activation="tanh", rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, x, y, optimizer=optim.Newton(net, max_backtracks=0), episodes=60, progress=False)
    assert history.stopped == "no descent step"
    assert [(m.filename, str(m.message).split(":")[0]) for m in caught] == [(__file__, "Newton.step")]


def test_training_plotting_and_the_command_line_leave_global_settings_as_they_were(tmp_path, capsys):
    def settings():
        return np.geterr(), list(warnings.filters), {k: str(v) for k, v in matplotlib.rcParams.items()}

    before = settings()
    x, y = data.xsquared(50, seed=0)
    net = nn.MLP([1, 4, 1], rng=0)
    history = fit(net, x, y, optimizer=optim.Armijo(net), episodes=3, progress=False)
    plots.plot_history(history, path=tmp_path / "history.svg")
    plots.plot_descent(_bowl, [1.0, 2.0], 0.1, path=tmp_path / "descent.png")
    assert main(["train", "--episodes", "2", "--samples", "50", "-o", str(tmp_path / "m.npz")]) == 0
    assert main(["predict", str(tmp_path / "m.npz"), "0.5"]) == 0
    assert settings() == before


def test_the_readmes_second_derivative_tour_raises_no_warning_under_warnings_error(tmp_path):
    def cost(p):
        return p[0] ** 3 - 3 * p[0] + p[1] ** 2

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = float(grad(grad(grad(lambda v: v.tanh())))(0.5))
        found = stationary_point(cost, [0.8, 0.3])
        saddle = stationary_point(cost, [-2.0, 1.0])
        h = hessian(cost)([1.0, 0.0]).data
        plots.plot_derivatives(lambda v: v.tanh(), order=3, path=tmp_path / "tanh.png")
        plots.plot_stationary_points(cost, [found, saddle], path=tmp_path / "points.png")
    t = np.tanh(0.5)
    assert third == pytest.approx(-2 * (1 - t ** 2) * (1 - 3 * t ** 2), rel=1e-12)
    assert found.kind == "minimum" and saddle.kind == "saddle"
    np.testing.assert_allclose(found.point, [1.0, 0.0], atol=1e-8)
    np.testing.assert_allclose(h, [[6.0, 0.0], [0.0, 2.0]], atol=1e-12)
