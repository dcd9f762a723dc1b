"""tinygrad_edu.plots under the Agg backend: each figure holds the lines, labels and legend entries it promises."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import Value, plots  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402


def quadratic(p):
    """f(p) = (p₀ − 1)² + 10·p₁²: ∇f = (2(p₀ − 1), 20·p₁), Hessian diag(2, 20)."""
    return (p[0] - 1.0) ** 2 + 10.0 * p[1] ** 2


def quadratic_np(p):
    return (p[0] - 1.0) ** 2 + 10.0 * p[1] ** 2


def quadratic_grad(p):
    return np.array([2.0 * (p[0] - 1.0), 20.0 * p[1]])


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def _figure_legend(fig) -> list[str]:
    assert len(fig.legends) == 1 and all(ax.get_legend() is None for ax in fig.axes)
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_import_needs_no_matplotlib_and_calls_name_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib.*\.\[plot\]"):
        plots.plot_activations()
    with pytest.raises(ImportError, match=r"pip install matplotlib.*\.\[plot\]"):
        plots.plot_history([1.0, 0.5])


def test_history_overlay_with_legend_log_scale_and_step_sizes(tmp_path):
    random = History(cost=[1.0, 0.9, 0.9, 0.7], step_size=[None] * 4, label="random search")
    gd = History(cost=[1.0, 0.5, 0.25, 0.125], step_size=[0.1] * 4, label="gradient descent")
    armijo = History(cost=[1.0, 0.1, 0.01, 0.001], step_size=[1.0, 0.5, 0.5, 0.25], label="Armijo")
    fig = plots.plot_history([random, gd, armijo], path=tmp_path / "history.png")
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
    cost_ax, step_ax = fig.axes
    assert _figure_legend(fig) == ["random search", "gradient descent", "Armijo"]  # one legend for both panels
    assert cost_ax.get_yscale() == "log"
    assert cost_ax.get_ylabel() == "cost C" and step_ax.get_xlabel() == "episode"
    lines = {line.get_label(): line for line in cost_ax.get_lines()}
    np.testing.assert_array_equal(lines["Armijo"].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(lines["Armijo"].get_ydata(), armijo.cost)
    steps = {line.get_label(): line for line in step_ax.get_lines()}
    assert list(steps) == ["gradient descent", "Armijo"]  # random search has no step sizes
    np.testing.assert_array_equal(steps["Armijo"].get_ydata(), armijo.step_size)
    assert steps["Armijo"].get_color() == lines["Armijo"].get_color()


def test_runs_of_the_same_optimizer_are_told_apart_in_the_legend():
    first, second = History(cost=[1.0, 0.5], label="Adam"), History(cost=[0.4, 0.2], label="Adam")
    assert _figure_legend(plots.plot_history([first, second])) == ["Adam (run 1)", "Adam (run 2)"]
    assert _figure_legend(plots.plot_history([first, History(cost=[2.0], label="SGD")])) == ["Adam", "SGD"]
    assert _figure_legend(plots.plot_history([first, second], labels=["a", "a"])) == ["a", "a"]  # as asked


def test_the_step_size_axis_is_labelled_with_the_step_sizes_taken():
    # a learning rate of 0.001 sat between ticks labelled 0.000976562 and 0.00195312 (2⁻¹⁰ and 2⁻⁹)
    adam = History(cost=[1.0, 0.5, 0.4], step_size=[0.001] * 3, label="Adam")
    armijo = History(cost=[1.0, 0.1, 0.01], step_size=[1.0, 0.5, 0.125], label="Armijo")
    step_ax = plots.plot_history([adam, armijo]).axes[1]
    step_ax.figure.canvas.draw()
    shown = [label.get_text() for label in step_ax.get_yticklabels() if label.get_visible()]
    assert sorted(shown, key=float) == ["0.001", "0.125", "0.5", "1"]


def test_history_legend_covers_no_curve():
    # the demo's long labels: the legend sat on the first ~100 episodes of the curves near cost 1
    episodes = np.arange(500)
    runs = {"random search: keep a random change of size ≤ 0.1 if the cost fell": 1.2 * 0.99 ** episodes + 2e-3,
            "gradient descent: fixed η = 0.15, batches of 5 samples": 0.02 * 0.9 ** episodes[:50] + 2e-5,
            "Armijo: σ = 1e-4, t = 0.5^l, all samples at once": 1.2 / (1 + episodes) + 1e-4,
            "Newton: (H + λI)d = −∇C, λ = 1e-3, Armijo steps, all samples, 1-8-1 tanh network": 0.3 * 0.8 ** episodes}
    history = {label: History(cost=list(cost), step_size=[0.5] * len(cost)) for label, cost in runs.items()}
    fig = plots.plot_history(history)
    fig.canvas.draw()
    legends = [legend.get_window_extent() for ax in fig.axes for legend in [ax.get_legend()] if legend] + [
        legend.get_window_extent() for legend in fig.legends]
    assert legends
    for ax in fig.axes:
        for line in ax.get_lines():
            points = line.get_transform().transform(np.c_[line.get_xdata(), line.get_ydata()])
            for box in legends:
                assert not box.count_contains(points), (line.get_label(), box)


def test_history_from_a_dict_a_list_of_costs_and_zero_costs():
    fig = plots.plot_history({"GD": [4.0, 1.0, -1.0]}, log_scale=True)
    (ax,) = fig.axes  # no step sizes: one panel
    assert _figure_legend(fig) == ["GD"] and ax.get_yscale() == "symlog"  # a negative cost cannot sit on a log axis
    fig = plots.plot_history([3.0, 2.0, 1.0], log_scale=False, labels=["costs"])
    assert fig.axes[0].get_yscale() == "linear" and _figure_legend(fig) == ["costs"]
    with pytest.raises(TypeError, match="plot_history"):
        plots.plot_history("cost")
    with pytest.raises(ValueError, match="2 labels for 1 histories"):
        plots.plot_history([[1.0, 2.0]], labels=["a", "b"])


def test_activations_and_their_backward_derivatives():
    fig = plots.plot_activations()
    assert len(fig.axes) == 5
    closed = {"sigmoid": lambda x: (1 / (1 + np.exp(-x))) * (1 - 1 / (1 + np.exp(-x))),
              "tanh": lambda x: 1 - np.tanh(x) ** 2,
              "softplus": lambda x: 1 / (1 + np.exp(-x)),
              "relu": lambda x: (x > 0).astype(float),
              "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.1)}
    titles = [ax.get_title() for ax in fig.axes]
    order = ["sigmoid", "relu", "tanh", "leaky_relu", "softplus"]
    assert titles[0].startswith("sigmoid") and titles[3].startswith("leaky ReLU (slope 0.1)")
    for ax, name in zip(fig.axes, order, strict=True):
        value, derivative = ax.get_lines()[:2]
        assert _legend(ax) == ["σ(x)", "σ′(x) (backward)"]
        x = np.asarray(derivative.get_xdata())
        np.testing.assert_allclose(derivative.get_ydata(), closed[name](x), atol=1e-12)
    one = plots.plot_activations(["tanh"], x_range=(-1, 1))
    assert len(one.axes) == 1 and one.axes[0].get_lines()[0].get_xdata()[0] == -1
    with pytest.raises(ValueError, match="unknown activation"):
        plots.plot_activations(["swish"])


def test_descent_path_is_gradient_descent():
    start = np.array([-1.5, 0.8])
    fig = plots.plot_descent(quadratic, start, 0.04, steps=15)
    ax = fig.axes[0]
    path = next(line for line in ax.get_lines() if line.get_label().startswith("learning rate"))
    expected = [start]
    for _ in range(15):
        expected.append(expected[-1] - 0.04 * quadratic_grad(expected[-1]))
    np.testing.assert_allclose(np.c_[path.get_xdata(), path.get_ydata()], expected, rtol=1e-12)
    assert _legend(ax) == ["learning rate η = 0.04", "start", "after 15 steps"]
    assert ax.get_xlabel() == "parameter 1" and "cost" in ax.get_title()
    from tinygrad_edu import optim

    fig = plots.plot_descent(quadratic, start, lambda params: optim.GradientDescent(params, learning_rate=0.04),
                             steps=15)
    path = next(line for line in fig.axes[0].get_lines() if line.get_label() == "GradientDescent")
    np.testing.assert_allclose(np.c_[path.get_xdata(), path.get_ydata()], expected, rtol=1e-12)
    given = plots.plot_descent(quadratic, start, np.array(expected[:3]))
    assert _legend(given.axes[0])[0] == "path"


def test_armijo_descent_takes_the_largest_admissible_step():
    x = np.array([-1.5, 0.8])
    points = plots.descent_path(quadratic, x, "armijo", steps=6, sigma=1e-4, alpha=0.5)
    for before, after in zip(points[:-1], points[1:], strict=True):
        g = quadratic_grad(before)
        t = float(np.linalg.norm(before - after) / np.linalg.norm(g))
        condition = lambda s, before=before, g=g: quadratic_np(before - s * g) <= (
            quadratic_np(before) - 1e-4 * s * g @ g)
        assert condition(t) and not condition(2 * t) and np.log2(t) == round(np.log2(t))


def test_armijo_descent_is_the_optimizers_armijo():
    from tinygrad_edu import optim

    start = np.array([-1.5, 0.8])
    points = plots.descent_path(quadratic, start, "armijo", steps=6, sigma=0.3, alpha=0.4)
    x = Value(start.copy())
    armijo = optim.Armijo([x], sigma=0.3, alpha=0.4)
    for point in points[1:]:
        armijo.step(lambda: quadratic(x))
        np.testing.assert_array_equal(x.data, point)


def _uphill(p):
    """Cost ‖p‖² with a gradient of the wrong sign: −∇ points uphill, so no Armijo step exists."""
    return (p.detach() * p.detach()).sum() * 2.0 - (p * p).sum()


def test_armijo_descent_stops_where_no_step_decreases_the_cost():
    # The optimizer keeps the parameters when no step size satisfies the condition; the drawn path must agree
    # (it used to take the last rejected step, uphill).
    points = plots.descent_path(_uphill, [1.0, -2.0], "armijo", steps=3)
    np.testing.assert_array_equal(points, [[1.0, -2.0]])
    fig = plots.plot_armijo(_uphill, [1.0], max_backtracks=3)
    labels = _legend(fig.axes[0])
    assert "rejected trial steps $\\alpha^l$" in labels and not any(label.startswith("accepted") for label in labels)
    assert "condition holds" not in labels  # no t > 0 satisfies it: nothing is shaded
    with pytest.raises(ValueError, match="sigma"):
        plots.descent_path(quadratic, [0.0, 1.0], "armijo", sigma=1.5)


def test_armijo_picture(tmp_path):
    fig = plots.plot_armijo(lambda p: (p * p).sum(), [1.0], sigma=0.25, alpha=0.5, path=tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    phi = lines["φ(t) = f(x + t·d)"]
    t = np.asarray(phi.get_xdata())
    np.testing.assert_allclose(phi.get_ydata(), (1 - 2 * t) ** 2, atol=1e-12)
    armijo_line = lines["Armijo line f(x) + σ·t·∇f(x)ᵀd (σ = 0.25)"]
    np.testing.assert_allclose(armijo_line.get_ydata(), 1 - t, atol=1e-12)  # 1 + 0.25·t·(2·(−2))
    accepted = lines["accepted step $t = \\alpha^{1}$ = 0.5"]
    assert list(accepted.get_xdata()) == [0.5] and list(accepted.get_ydata()) == [0.0]
    rejected = lines["rejected trial steps $\\alpha^l$"]
    assert list(rejected.get_xdata()) == [1.0] and list(rejected.get_ydata()) == [1.0]
    assert "condition holds" in _legend(ax)
    with pytest.raises(ValueError, match="∇f\\(x\\) = 0"):
        plots.plot_armijo(lambda p: (p * p).sum(), [0.0])


def test_learning_rates_overshoot_crawl_fit_and_armijo():
    fig = plots.plot_learning_rates(quadratic, [-1.5, 0.8], steps=12, resolution=20)
    assert len(fig.axes) == 5  # four contour panels and the cost panel
    cost_ax = fig.axes[4]
    labels = _legend(cost_ax)
    # the largest curvature of f is 20 (Hessian diag(2, 20)): η = 2.1/20, 0.05/20, 1/20
    assert labels[:3] == ["overshoots: η = 0.105", "crawls: η = 0.0025", "fits: η = 0.05"]
    assert labels[3].startswith("Armijo")
    costs = {line.get_label(): np.asarray(line.get_ydata()) for line in cost_ax.get_lines()}
    assert costs[labels[0]][-1] > costs[labels[0]][0]  # overshooting: the cost grows
    assert costs[labels[2]][-1] < 0.05 * costs[labels[2]][0]  # fits: it falls fast
    assert 0.5 * costs[labels[1]][0] < costs[labels[1]][-1] < costs[labels[1]][0]  # crawls: it falls slowly
    mine = plots.plot_learning_rates(quadratic, [-1.5, 0.8], {"mine": 0.01}, armijo=False, steps=3, resolution=10)
    assert _legend(mine.axes[-1]) == ["mine: η = 0.01"]


def test_learning_rates_from_a_stationary_point_are_refused_not_drawn_empty():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "cannot be log-scaled" warning leaked twice
        with pytest.raises(ValueError, match=r"plot_learning_rates: ∇f = 0 at the start \(0, 0\)"):
            plots.plot_learning_rates(lambda p: p[0] ** 2 + 10 * p[1] ** 2, [0.0, 0.0])
        with pytest.raises(ValueError, match="plot_learning_rates: ∇f = 0"):
            plots.plot_learning_rates(quadratic, [1.0, 0.0], {"mine": 0.01})


def test_learning_rates_with_negative_costs_keep_every_point_on_the_cost_axis():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_learning_rates(lambda p: quadratic(p) - 5.0, [-1.5, 0.8], steps=6, resolution=10)
    cost_ax = fig.axes[-1]
    assert cost_ax.get_yscale() == "symlog"  # a log axis would drop the costs below 0
    low, high = cost_ax.get_ylim()
    assert low < -4.0 < high


@pytest.mark.parametrize("function, call", [
    ("plot_activations", lambda path: plots.plot_activations(["relu"], path=path)),
    ("plot_history", lambda path: plots.plot_history([1.0, 0.5], path=path)),
    ("plot_armijo", lambda path: plots.plot_armijo(quadratic, [-1.0, 0.5], path=path)),
])
def test_plot_paths_need_a_known_suffix_as_viz_render_does(tmp_path, monkeypatch, function, call):
    monkeypatch.chdir(tmp_path)
    for bad in ("somefolder", "h.xyz", "plot.eps"):
        with pytest.raises(ValueError, match=f"{function}: cannot tell the format from the suffix of '{bad}'; "
                                             r"use \.png, \.svg or \.pdf"):
            call(bad)
    with pytest.raises(TypeError, match=f"{function}: path must be a file name"):
        call(3)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even somefolder.png
    call(tmp_path / "sub" / "plot.PDF")
    assert (tmp_path / "sub" / "plot.PDF").read_bytes()[:5] == b"%PDF-"


def _armijo_markers(ax) -> dict[str, list]:
    """marker (× rejected, ▲ rejected above the frame, ● accepted) → the one-point lines drawn with it."""
    markers: dict[str, list] = {}
    for line in ax.get_lines():
        if line.get_marker() in ("x", "^", "o") and len(line.get_xdata()) == 1:
            markers.setdefault(line.get_marker(), []).append(line)
    return markers


def test_armijo_legend_matches_the_markers_drawn_and_the_frame_shows_the_trials():
    f = lambda p: p[0] ** 2 + 10 * p[1] ** 2  # noqa: E731 - the README's example
    fig = plots.plot_armijo(f, [-1.0, 0.5])
    ax = fig.axes[0]
    markers = _armijo_markers(ax)
    legend = ax.get_legend()
    shown = {handle.get_marker(): text.get_text() for handle, text in zip(legend.legend_handles, legend.get_texts())
             if hasattr(handle, "get_marker") and handle.get_marker() in ("x", "^", "o")}
    assert set(shown) == set(markers) == {"x", "^", "o"}  # both kinds of rejected trial, and the accepted one
    assert shown["x"] == "rejected trial steps $\\alpha^l$" and "above the frame" in shown["^"]
    assert shown["o"].startswith("accepted step $t = \\alpha^{4}$ = 0.0625")
    low, high = ax.get_ylim()
    # φ(t) = 3.5 − 104·t + 1004·t² (d = (2, −10)); the trial α³ = 1/8 has φ = 6.1875 and is drawn where it is
    (cross,) = markers["x"]
    assert cross.get_xdata()[0] == 0.125 and cross.get_ydata()[0] == pytest.approx(6.1875)
    assert low < 6.1875 < high and high - low < 10  # not stretched down to the Armijo line's −26 at t = 1.15
    assert all(line.get_ydata()[0] == high for line in markers["^"])  # φ(α⁰), φ(α¹), φ(α²) are far above
    phi_min = 3.5 - 104 ** 2 / (4 * 1004)
    assert low < phi_min and "condition holds" in _legend(ax)
    assert ax.get_title().startswith("Armijo step size at x = (-1, 0.5): 4 backtracks")


def test_bad_functions_and_points_are_named():
    with pytest.raises(ValueError, match="plot_descent: start must have shape \\(2,\\)"):
        plots.plot_descent(quadratic, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="f must return a single number"):
        plots.plot_descent(lambda p: p * 2.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must be a function"):
        plots.plot_armijo("f", [1.0])
    with pytest.raises(ValueError, match="learning_rate"):
        plots.descent_path(quadratic, [1.0, 2.0], -0.1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: plots.plot_armijo(quadratic, "ab"), TypeError, "plot_armijo: x has dtype <U2 (str); give real numbers"),
    (lambda: plots.plot_armijo(quadratic, [True, False]), TypeError, "plot_armijo: x has dtype bool (list); give real"),
    (lambda: plots.descent_path(quadratic, [[1.0], [1.0, 2.0]]), ValueError,
     "descent_path: start is not a rectangular array (ragged nested lists?)"),
    (lambda: plots.plot_descent(quadratic, [Value(1.0), Value(2.0)]), TypeError,
     "plot_descent: start must be real numbers, got list [Value"),
])
def test_points_that_are_not_real_numbers_are_named(call, error, message):
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value).startswith(message)

def test_figures_show_themselves_in_jupyter_without_pyplot():
    # Jupyter displays a Figure with the PNG of _repr_png_; the inline backend's own hook exists only after
    # matplotlib.pyplot is imported, which tinygrad_edu.plots never does
    figure = plots.plot_activations(["relu"])
    png = figure._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    assert repr(figure).startswith("<Figure size")


@pytest.mark.parametrize("call, message", [
    (lambda: plots.plot_activations(x_range="ab"), r"plot_activations: x_range must be two numbers \(low, high\), "
                                                   r"got 'ab'"),  # was numpy's DTypePromotionError
    (lambda: plots.plot_activations(x_range=(-np.inf, 1)), r"plot_activations: x_range .* finite"),  # NaN curves
    (lambda: plots.plot_derivatives(np.tanh, points=1),
     "plot_derivatives: points must be an integer from 2 to 1000000, got 1"),
    (lambda: plots.plot_armijo(quadratic, [-1.0, 0.5], t_max=0), r"plot_armijo: t_max .* must be > 0, got 0\.0"),
    (lambda: plots.plot_descent(quadratic, [1.0, 1.0], levels=0),
     "plot_descent: levels must be an integer from 2 to 1000, got 0"),
    (lambda: plots.plot_descent(quadratic, [1.0, 1.0], resolution=1), "plot_descent: resolution must be an int"),
    (lambda: plots.plot_descent(quadratic, [1.0, 1.0], bounds=(1, 0, 0, 1)), "plot_descent: bounds must be"),
    (lambda: plots.plot_history({}), "plot_history: nothing to plot: got an empty dict"),  # was an empty figure
    (lambda: plots.plot_history([]), "plot_history: nothing to plot: got an empty list"),
    (lambda: plots.plot_history(History(label="Adam")), r"plot_history: run 1 \(Adam\) has no episodes"),  # was
    (lambda: plots.plot_history([History(cost=[1.0]), History()]),
     r"plot_history: run 2 has no episodes; train"),  # was empty axes; (not "run 2 (run 2)")
    (lambda: plots.plot_history([1.0, 0.5], step_sizes=True), "no run recorded a step size"),  # an empty panel
])
def test_odd_plot_arguments_are_named_not_drawn_wrong_or_left_to_numpy(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: plots.plot_derivatives(np.tanh, points=10.5), "plot_derivatives: points must be an integer, got float"),
    (lambda: plots.plot_descent(quadratic, [1.0, 1.0], levels="30"), "plot_descent: levels must be an integer, got"),
    (lambda: plots.plot_derivatives(np.tanh, order=2.0), "plot_derivatives: order must be an integer, got float"),
])
def test_plot_counts_of_the_wrong_type_are_a_type_error(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_a_function_undefined_on_part_of_the_picture_leaves_a_gap_without_warnings():
    """log x on [−3, 3]: NaN for x ≤ 0.  It leaked numpy's RuntimeWarnings, and the NaN of f′ counted as a sign
    change, so a "maximum (f′ = 0, f″ < 0)" was marked where log x has none."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_derivatives(lambda x: x.log(), order=2)
        assert _legend(fig.axes[0]) == ["f(x)"]
        plots.plot_descent(lambda p: (p[0] - 1.0).log() + p[1] ** 2, [2.0, 1.0])  # the contour's left part is NaN
        armijo = plots.plot_armijo(lambda p: p[0].log() + p[1] ** 2, [0.1, 0.5])  # φ(t) NaN for large t
    low, high = armijo.axes[0].get_ylim()
    assert np.isfinite([low, high]).all() and low < high  # was "Axis limits cannot be NaN or Inf"


@pytest.mark.parametrize("costs, isolated", [([0.7], [0]), ([1.0, float("nan"), 0.2, 0.1], [0]),
                                             ([float("nan"), 0.5, float("inf"), 0.3, 0.2], [1])])
def test_history_draws_a_cost_no_line_reaches_as_a_point(costs, isolated):
    """A one-episode run, or a cost between two NaNs, was a line of one point: nothing on the picture."""
    line = plots.plot_history(costs).axes[0].get_lines()[0]  # then the × of the NaN and inf costs
    assert line.get_marker() not in (None, "None", "", " ") and line.get_markevery() == isolated
    (plain,) = plots.plot_history([1.0, 0.5, 0.2]).axes[0].get_lines()
    assert plain.get_marker() in (None, "None", "", " ")  # whole curves keep their legend as it was


@pytest.mark.parametrize("episodes", [1, 3, 7])
def test_history_episode_axis_has_whole_numbers(episodes):
    """A short run's axis read 1.00, 1.25, 1.50 … (one episode: 0.96 to 1.04)."""
    ax = plots.plot_history(list(np.geomspace(1.0, 0.01, episodes))).axes[0]
    ax.figure.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [tick for tick in ax.get_xticks() if low <= tick <= high]
    assert len(ticks) >= 2 and all(float(tick).is_integer() for tick in ticks)
    assert low < 1 < high


def test_history_of_zero_costs_has_a_plain_axis():
    """All costs 0 (a perfect fit): a symlog axis around 1e-12 printed two dozen crowded decades."""
    ax = plots.plot_history([0.0, 0.0, 0.0]).axes[0]
    assert ax.get_yscale() == "linear"


def test_step_size_labels_do_not_overlap():
    """The demo's plot printed 0.15 (gradient descent's η) over 0.125 (an Armijo step)."""
    gd = History(cost=[1.0, 0.5, 0.3], step_size=[0.15] * 3, label="gradient descent")
    armijo = History(cost=[1.0, 0.4, 0.2, 0.1, 0.05], step_size=[1.0, 0.5, 0.25, 0.125, 0.0625], label="Armijo")
    step_ax = plots.plot_history([gd, armijo]).axes[1]
    step_ax.figure.canvas.draw()
    boxes = [label.get_window_extent() for label in step_ax.get_yticklabels()
             if label.get_visible() and label.get_text()]
    assert len(boxes) >= 4 and "0.15" in [label.get_text() for label in step_ax.get_yticklabels()]
    for i, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[i + 1:])


def test_contour_of_a_function_without_a_finite_value_is_an_error():
    """It drew an empty window with a made-up colour bar from -1e-13 to 1e-13."""
    nowhere = lambda p: p[0] * float("nan") + p[1]  # noqa: E731
    with pytest.raises(ValueError, match=r"plot_descent: f is NaN or inf everywhere in the window"):
        plots.plot_descent(nowhere, [1.0, 1.0], [[1.0, 1.0], [0.5, 0.5]])  # a path given: no descent to refuse
    with pytest.raises(ValueError, match=r"plot_descent: f\(start\) = nan at the start \(1, 1\)"):
        plots.plot_descent(nowhere, [1.0, 1.0])


def test_saving_under_a_file_names_the_file(tmp_path):
    """A path whose folder is a file raised '[Errno 17] File exists' about it, not saying why that matters."""
    (tmp_path / "plot.png").write_bytes(b"")
    for path in (tmp_path / "plot.png" / "x.svg", tmp_path / "plot.png" / "a" / "x.svg"):
        with pytest.raises(NotADirectoryError, match=r"plot_history: cannot save .*plot.png' is a file, not a folder"):
            plots.plot_history([1.0, 0.5], path=path)


def test_stationary_points_legend_covers_no_path_or_point():
    """examples/second_derivative.py: the legend sat on the start (2, 2) and the path from (0.4, 2)."""
    from tinygrad_edu.calculus import stationary_point

    def surface(p):
        return p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]

    starts = [(w, b) for w in (-2.0, -0.4, 0.4, 2.0) for b in (-2.0, -0.4, 0.4, 2.0)]
    found = [stationary_point(surface, start) for start in starts]
    fig = plots.plot_stationary_points(surface, found, bounds=(-2.5, 2.5, -2.5, 2.5), resolution=20)
    fig.canvas.draw()
    legends = [legend.get_window_extent() for ax in fig.axes for legend in [ax.get_legend()] if legend] + [
        legend.get_window_extent() for legend in fig.legends]
    assert legends and ["Newton's steps from a start", "maximum", "saddle", "minimum"] == [
        text.get_text() for legend in (fig.legends or [fig.axes[0].get_legend()]) for text in legend.get_texts()]
    for line in fig.axes[0].get_lines():
        points = line.get_transform().transform(np.c_[line.get_xdata(), line.get_ydata()])
        for box in legends:
            assert not box.count_contains(points), (line.get_label(), box)


def test_stationary_points_legend_shows_the_white_paths_entry():
    """The paths are white (on the contour colours); their legend entry was white on white, invisible."""
    import io

    from matplotlib.image import imread

    from tinygrad_edu.calculus import stationary_point

    fig = plots.plot_stationary_points(quadratic, [stationary_point(quadratic, [2.0, 1.0])], resolution=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    pixels = imread(io.BytesIO(buffer.getvalue()))[..., :3]
    fig.canvas.draw()
    legend = (fig.legends or [fig.axes[0].get_legend()])[0]
    box = legend.legend_handles[0].get_window_extent()  # display coordinates, from the bottom
    rows = slice(int(pixels.shape[0] - box.y1) - 2, int(pixels.shape[0] - box.y0) + 3)
    patch = pixels[rows, int(box.x0) - 2:int(box.x1) + 3]
    assert patch.size and patch.min() < 0.6  # something darker than the white legend is drawn there


def test_derivatives_are_not_drawn_where_f_is_undefined():
    """log x on [−3, 3]: the rules 1/x and −1/x² gave f′ and f″ curves for x < 0, where log x and so its
    derivatives do not exist."""
    fig = plots.plot_derivatives(lambda x: x.log(), order=2, x_range=(-2.0, 2.0), points=5)  # x = −2, −1, 0, 1, 2
    curves = [np.asarray(ax.get_lines()[0].get_ydata(), dtype=float) for ax in fig.axes]
    for curve in curves:
        assert not np.isfinite(curve[:3]).any()  # x ≤ 0: no point is drawn
    np.testing.assert_allclose([c[3:] for c in curves], [np.log([1.0, 2.0]), [1.0, 0.5], [-1.0, -0.25]])
    assert fig.axes[-1].get_xlim() == (-2.0, 2.0)  # the gap stays in the picture


def test_descent_path_ends_at_the_first_point_where_the_cost_is_undefined():
    """log p₀ + p₁² from (1, 0.5) with η = 0.5 steps to (−0.5, 0), where the cost is NaN; the rule 1/p₀ still gave a
    gradient there, so the path bounced back and forth across the edge of the domain and plot_descent titled it
    "cost −0.693 after 25 steps", a made-up convergence."""
    cost = lambda p: p[0].log() + p[1] ** 2  # noqa: E731
    np.testing.assert_array_equal(plots.descent_path(cost, [1.0, 0.5], 0.5, steps=25),
                                  [[1.0, 0.5], [0.5, 0.0], [-0.5, 0.0]])
    title = plots.plot_descent(cost, [1.0, 0.5], 0.5).axes[0].get_title()
    assert title.endswith("cost nan after 2 steps")
    for rule in (0.5, "armijo"):  # Armijo's search said "armijo_step: fx must be finite, got nan"
        with pytest.raises(ValueError, match=r"plot_descent: f\(start\) = nan at the start \(-1, 0.5\)"):
            plots.plot_descent(cost, [-1.0, 0.5], rule)


def test_armijo_title_says_when_no_step_was_accepted():
    """With max_backtracks=0 and α⁰ rejected the title read "0 backtracks", as if the first step were taken."""
    title = plots.plot_armijo(quadratic, [-1.0, 0.5], max_backtracks=0).axes[0].get_title()
    assert title.endswith(": no step accepted after 0 backtracks")
    assert plots.plot_armijo(quadratic, [-1.0, 0.5]).axes[0].get_title().endswith(": 4 backtracks")


def test_an_empty_list_of_activations_is_named_as_empty():
    with pytest.raises(ValueError, match=r"plot_activations: names is empty; choose from sigmoid"):
        plots.plot_activations([])


@pytest.mark.parametrize("costs", [[1.0, float("nan"), 0.5, float("inf"), 0.2], [float("nan"), float("nan")]])
def test_history_marks_the_episodes_whose_cost_is_nan_or_inf(costs):
    """They were left out without a trace: a gap in the line, and a run of NaN costs only an empty panel."""
    ax = plots.plot_history({"run": costs, "fine": [1.0, 0.5, 0.2]}).axes[0]
    not_finite = [i + 1 for i, cost in enumerate(costs) if not np.isfinite(cost)]
    curve = ax.get_lines()[0]
    marks = [line for line in ax.get_lines() if line.get_marker() == "x" and len(line.get_xdata())]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == not_finite
    assert marks[0].get_color() == curve.get_color()  # told apart from the run without NaN by its colour
    assert any("NaN or inf" in text for text in _figure_legend(ax.figure))
    assert not any("NaN" in text for text in _figure_legend(plots.plot_history([1.0, 0.5]).figure))


@pytest.mark.parametrize("plot", [plots.plot_activations, lambda **kw: plots.plot_derivatives(np.tanh, **kw)])
def test_an_x_range_too_wide_for_float64_is_named_not_drawn_empty(plot):
    """(−1e308, 1e308): its width overflows, the grid was NaN and the panels empty under an axis of 0 to 1e308."""
    with pytest.raises(ValueError, match=r"x_range \(-1e\+308, 1e\+308\) is too wide"):
        plot(x_range=(-1e308, 1e308))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot(x_range=(-1e300, 1e300))  # wide, but its width is a float64


def test_history_reaching_a_cost_of_0_keeps_a_log_axis_and_marks_the_zeros():
    """A run that reached 0 (one sample, fitted exactly) made the axis symlog, whose bottom read 10⁻³⁴, 0 and −10⁻³⁴
    printed over each other, with a negative cost that no run had."""
    fig = plots.plot_history({"Armijo": [1.0, 1e-10, 1e-34, 0.0, 0.0], "GD": [1.0, 0.1]})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    curve = ax.get_lines()[0]
    marks = [line for line in ax.get_lines() if line.get_marker() == "v" and len(line.get_xdata())]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [4, 5] and marks[0].get_color() == curve.get_color()
    assert _figure_legend(fig)[2:] == ["cost 0 (▼ at the bottom), in the run's colour"]
    low, high = ax.get_ylim()
    assert 0 < low <= 1e-34 and high >= 1.0  # every positive cost is on the axis
