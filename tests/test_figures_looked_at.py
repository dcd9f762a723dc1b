"""Defects found by rendering every figure of tinygrad_edu.plots and looking at it, as a teacher making slides would:
each test asserts what the figure should show."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tinygrad_edu import plots  # noqa: E402
from tinygrad_edu.calculus import stationary_point  # noqa: E402
from tinygrad_edu.optim import armijo_step  # noqa: E402


def _bowl(p):
    return (p[0] - 1) ** 2 + 10 * p[1] ** 2


def _colour_bar_labels(fig):
    fig.canvas.draw()
    return [(float(t.get_position()[1]), t.get_text()) for t in fig.axes[-1].get_yticklabels() if t.get_text()]


def test_the_colour_bar_of_a_cost_near_100_tells_its_levels_apart():
    fig = plots.plot_descent(lambda p: p[0] ** 2 + p[1] ** 2 + 100.5, [-1.0, 1.0], 0.05)
    labels = [text for _, text in _colour_bar_labels(fig)]
    assert len(labels) >= 3 and len(set(labels)) == len(labels), labels


def test_the_colour_bar_of_evenly_spaced_levels_labels_each_level_with_its_value():
    g = lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]  # noqa: E731
    found = [stationary_point(g, [2.0, 2.0])]
    fig = plots.plot_stationary_points(g, found, bounds=(-2.5, 2.5, -2.5, 2.5))
    for value, text in _colour_bar_labels(fig):
        assert float(text.replace("−", "-")) == pytest.approx(value, abs=1e-9), (value, text)


@pytest.mark.parametrize("cost", [3.0, -250.0, 0.0])
def test_the_colour_bar_of_a_constant_cost_shows_that_cost_once(cost):
    """A flat f drew a two-colour bar from −1.998e-14 to 1.998e-14 with an offset of +3: one colour, one label."""
    fig = plots.plot_descent(lambda p: p[0] * 0 + cost, [1.0, 1.0], 0.1, steps=3)
    assert [(value, float(text.replace("−", "-"))) for value, text in _colour_bar_labels(fig)] == [(cost, cost)]
    assert len(fig.axes[0].collections[0].get_array()) == 1  # the filled contour: a single band


def test_the_colour_bar_of_a_deep_valley_still_labels_its_log_spaced_levels_shortly():
    labels = _colour_bar_labels(plots.plot_descent(_bowl, [-1.0, 1.0], 0.05))
    assert all(len(text) <= 7 for _, text in labels), labels  # 0.00028, not 0.000276655


def test_more_than_six_learning_rates_are_told_apart_in_the_cost_panel():
    rates = {f"η{i}": 0.01 * (i + 1) for i in range(7)}
    fig = plots.plot_learning_rates(_bowl, [-1.0, 1.0], rates, steps=3, resolution=8)
    lines = [line for line in fig.axes[-1].lines if not line.get_label().startswith("_")]
    looks = [(line.get_color(), line.get_linestyle()) for line in lines]
    assert len(lines) == 8 and len(set(looks)) == 8, looks


def test_a_small_t_max_is_the_end_of_the_step_size_axis():
    fig = plots.plot_armijo(_bowl, [-1.0, 1.0], t_max=0.01)  # the trials are 1, 0.5, …, 0.0625
    ax = fig.axes[0]
    assert ax.get_xlim()[1] <= 0.01 * 1.1, ax.get_xlim()
    drawn = np.concatenate([line.get_xydata()[:, 0] for line in ax.lines])
    assert drawn.max() <= 0.01 + 1e-12  # no marker outside the frame either (they are drawn with clip_on=False)


def test_a_small_t_max_says_where_the_accepted_step_is_and_frames_what_it_draws():
    """At t_max = 0.01 the title counted 4 backtracks without saying that the step they end in is not drawn, and the
    frame kept room up to f(x) + 1.5·(f(x) − low) for trial markers that are no longer drawn."""
    x = np.array([-1.0, 1.0])
    found = armijo_step(_bowl, x, np.array([-4.0, 20.0]), sigma=0.25, alpha=0.5)  # ∇f(x) = (2(x₀ − 1), 20x₁)
    fig = plots.plot_armijo(_bowl, x, t_max=0.01)
    assert fig.axes[0].get_title().endswith(f"{len(found.trials) - 1} backtracks to t = {found.step:.4g}, beyond "
                                            "this axis")
    low, top = fig.axes[0].get_ylim()
    drawn = np.concatenate([line.get_xydata()[:, 1] for line in fig.axes[0].lines[:1]])  # φ(t) for t ≤ 0.01
    assert top <= drawn.max() + 0.15 * (drawn.max() - low), (top, drawn.max())
    assert plots.plot_armijo(_bowl, x).axes[0].get_title().endswith(f"{len(found.trials) - 1} backtracks")


def test_a_run_whose_name_begins_with_an_underscore_is_in_the_legend():
    fig = plots.plot_history({"_baseline": [1.0, 0.5], "new": [1.0, 0.2]})
    shown = [text.get_text() for text in fig.legends[0].get_texts()]
    assert len(shown) == 2 and "_baseline" in shown[0], shown


def test_a_learning_rate_whose_label_begins_with_an_underscore_is_in_the_legend():
    fig = plots.plot_learning_rates(_bowl, [-1.0, 1.0], {"_small": 0.01, "big": 0.05}, steps=3, resolution=8)
    shown = [text.get_text() for text in fig.axes[-1].get_legend().get_texts()]
    assert len(shown) == 3 and "_small" in shown[0], shown


def test_a_label_none_is_refused_by_name():
    with pytest.raises(TypeError, match=r"^plot_history: labels\[0\] is None"):
        plots.plot_history([[1.0, 0.5], [1.0, 0.2]], labels=[None, "b"])


def test_the_contour_plots_name_their_axes_as_asked_and_p0_along_x_by_default():
    """"parameter 1"/"parameter 2" were the only names, under a title about C(w, b) (the README's picture)."""
    found = [stationary_point(_bowl, [0.5, 0.5])]
    fig = plots.plot_stationary_points(_bowl, found, parameter_names=("w", "b"))
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("w", "b")
    fig = plots.plot_descent(_bowl, [-1.0, 1.0], 0.05, steps=3, parameter_names=["weight", "bias"])
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("weight", "bias")
    assert plots.plot_descent(_bowl, [-1.0, 1.0], 0.05, steps=3).axes[0].get_xlabel() == "parameter 1"
    with pytest.raises(TypeError, match=r"^plot_descent: parameter_names must be two strings"):
        plots.plot_descent(_bowl, [-1.0, 1.0], 0.05, steps=3, parameter_names="wb")
