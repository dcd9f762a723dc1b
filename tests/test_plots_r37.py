"""tinygrad_edu.plots as a student and a teacher use its figures in Jupyter (round 37): every number checked here is
read back from the Figure after it is drawn, as the saved picture shows it."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import nn, optim, plots  # noqa: E402
from tinygrad_edu.training import History, fit  # noqa: E402


def _drawn(fig):
    """``fig`` drawn and saved as a PNG (as Jupyter shows it), with numpy's and matplotlib's warnings made errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.canvas.draw()
        fig.savefig(io.BytesIO(), format="png", dpi=40, bbox_inches="tight")
    return fig


def _labelled_ticks(ax) -> list[float]:
    """The y values of the tick labels that show in ``ax``'s view (major and minor ticks)."""
    low, high = sorted(ax.get_ylim())
    ticks = [*zip(ax.get_yticks(), ax.get_yticklabels(), strict=True),
             *zip(ax.get_yticks(minor=True), ax.get_yticklabels(minor=True), strict=True)]
    return sorted({float(y) for y, label in ticks if low <= y <= high and label.get_text() and label.get_visible()})


def _in_view(ax, values) -> bool:
    low, high = sorted(ax.get_ylim())
    values = np.asarray(values, dtype=float)
    return bool(np.all((low <= values) & (values <= high)))


# --- a run's costs are one number per episode ---------------------------------------------------------------------
@pytest.mark.parametrize("history, shape", [
    ({"GAN": np.array([(1.0 / k, 2.0 / k ** 2) for k in range(1, 7)])}, "(6, 2)"),  # two columns under one name
    ([np.ones((3, 2)) * [[1.0], [0.5], [0.25]]], "(3, 2)"),
    (np.ones((2, 3, 4)), "(3, 4)"),  # a 3-D array: each of its 2 rows is a table, not one run's costs
])
def test_a_table_of_costs_given_as_one_run_is_refused_not_flattened_into_one_curve(history, shape):
    """A (6, 2) table of generator and critic costs under one name was drawn as one run of 12 "episodes", the two
    costs of each episode interleaved (1, 2, 0.5, 0.5, 0.33, 0.22, …): a curve that is no cost of anything."""
    with pytest.raises(ValueError, match=rf"plot_history: run 1.*{shape.replace('(', '[(]').replace(')', '[)]')}"):
        plots.plot_history(history)


def test_a_column_or_a_row_of_costs_is_still_one_run():
    for costs in (np.array([[3.0], [2.0], [1.0]]).T, [np.array([[3.0], [2.0], [1.0]])], {"a": [[3.0, 2.0, 1.0]]}):
        (line,) = [line for line in plots.plot_history(costs).axes[0].get_lines() if len(line.get_xdata())]
        np.testing.assert_array_equal(line.get_xydata(), [[1, 3.0], [2, 2.0], [3, 1.0]])


@pytest.mark.parametrize("history", [
    np.array([[True, False], [False, True], [True, True]]),  # one row per episode: was 3 "runs" of 2 episodes
    np.array([[True, False, True], [False, True, True]]),
    [np.array([True, False, True])],
    {"correct": [True, False, True]},
])
def test_true_and_false_are_refused_as_costs_as_a_flat_bool_array_is(history):
    """np.array([True, False]) was refused (its elements are no numbers), but a 2-D bool array, whose rows are one
    per episode (the table plot_history refuses for numbers), was drawn as one run per row of costs 0 and 1."""
    with pytest.raises(TypeError, match=r"plot_history: the costs of run 1( \(correct\))? are True/False"):
        plots.plot_history(history)


# --- costs below 0 on the default log axis ------------------------------------------------------------------------
@pytest.mark.parametrize("costs", [[-1.0, -2.0, -3.0], [-2.0], [-0.5, -0.3], [-1.5, -1.2, -1.1], [-2.0, -2.0]])
def test_negative_costs_within_a_decade_get_numbers_on_their_axis(costs):
    """A cost that is below 0 (a log-likelihood, a cost with an offset) goes on a symlog axis; its decade ticks left
    costs from −1 to −3 with the one label −10⁰, and a single cost of −2 (one episode) with no label at all."""
    ax = _drawn(plots.plot_history(costs)).axes[0]
    assert ax.get_yscale() == "symlog" and _in_view(ax, costs)
    labelled = _labelled_ticks(ax)
    assert len(labelled) >= 2, labelled


@pytest.mark.parametrize("costs", [
    [-1.0, -1e295],  # a cost with a sign error, diverging to −1e307 (see the next test)
    [-1.0, 1.0, 1e300],  # a run below 0 at first, then diverging
    [1.0, 0.0, -1e300],
    [-1e-300, -1.0],  # linthresh 1e-300: 300 decades of symlog
])
def test_a_symlog_cost_axis_over_hundreds_of_decades_shows_the_costs(costs):
    """matplotlib's margins (5% of the decades) overflowed float64 past 1e293: the axis fell back to −0.001 … 0.001,
    showing none of the costs, with numpy's "overflow encountered in exp"."""
    ax = _drawn(plots.plot_history(costs)).axes[0]
    assert ax.get_yscale() == "symlog"
    assert _in_view(ax, costs), ax.get_ylim()
    assert np.isfinite(ax.get_ylim()).all()


def test_a_student_s_cost_with_a_sign_error_is_drawn_where_its_costs_are():
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    model = nn.Network(nn.Layer(1, 1, "identity", rng=0))
    with pytest.raises(FloatingPointError) as error:  # gradient ascent on the squared error: the cost runs to −inf
        fit(model, x, x ** 2, cost=lambda out, target: -((out - target) ** 2).mean(),
            optimizer=optim.GradientDescent(model.parameters(), 0.5), episodes=3000, progress=False)
    history = error.value.history
    assert min(history.cost) < -1e300
    ax = _drawn(plots.plot_history(history)).axes[0]
    assert _in_view(ax, history.cost), ax.get_ylim()


def test_one_negative_cost_is_framed_as_one_positive_cost_is():
    positive = plots.plot_history([2.0]).axes[0].get_ylim()
    negative = plots.plot_history([-2.0]).axes[0].get_ylim()
    np.testing.assert_allclose(positive, [1.0, 4.0])
    np.testing.assert_allclose(negative, [-4.0, -1.0])  # half and twice the cost, as for +2


# --- plot_armijo: a trial where f is not defined --------------------------------------------------------------------
def test_a_trial_step_where_f_is_nan_is_drawn_on_the_top_edge_and_named():
    """f(x) = x² − ln x from x = 2: the first trial t = 1 lands at x = −1.5, where ln is NaN.  It was drawn at
    (1, NaN), nothing, while the legend listed "rejected trial steps" and the title counted its backtrack."""
    fig = _drawn(plots.plot_armijo(lambda p: p[0] ** 2 - p[0].log(), [2.0]))
    ax = fig.axes[0]
    low, top = ax.get_ylim()
    rejected = [line for line in ax.get_lines() if line.get_color() == "#c00000"]
    assert rejected, [line.get_label() for line in ax.get_lines()]
    points = np.concatenate([line.get_xydata() for line in rejected])
    assert np.isfinite(points).all() and np.allclose(points[:, 0], 1.0)  # the trial t = α⁰ = 1, on the frame
    assert np.all(points[:, 1] <= top + 1e-9) and np.all(points[:, 1] >= low)
    texts = [text.get_text() for text in ax.texts if text.get_visible()]
    assert any("nan" in text.lower() for text in texts), texts
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("NaN" in text for text in legend) and not any("above the frame" in text for text in legend), legend


def test_trials_above_the_frame_keep_their_legend_entry():
    ax = plots.plot_armijo(lambda p: p[0] ** 2 + 10 * p[1] ** 2, [-1.0, 0.5]).axes[0]
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("above the frame" in text for text in legend) and not any("NaN" in text for text in legend)


# --- runs as plot_history reads them ------------------------------------------------------------------------------
def test_the_costs_of_a_history_in_float32_are_drawn_as_recorded():
    history = History(list(np.array([3.0, 2.0, 1e-30], dtype=np.float32)), [1.0] * 3, [0.5] * 3, [1.0, 2.0, 3.0])
    ax = _drawn(plots.plot_history(history)).axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.float32([3.0, 2.0, 1e-30]), rtol=1e-7)
    assert _in_view(ax, [3.0, 2.0, 1e-30])


def test_the_cost_per_step_panel_of_a_cost_below_0_gets_numbers_on_its_axis():
    """f = x² + 10y² − 100: every cost between −100 and −70, one decade tick (−10²) for the whole panel."""
    fig = plots.plot_learning_rates(lambda p: p[0] ** 2 + 10 * p[1] ** 2 - 100, [-1.5, 0.8], steps=8, resolution=10)
    ax = _drawn(fig).axes[-1]
    costs = np.concatenate([line.get_ydata() for line in ax.get_lines() if len(line.get_ydata())])
    assert ax.get_yscale() == "symlog" and _in_view(ax, costs)
    assert len(_labelled_ticks(ax)) >= 3, _labelled_ticks(ax)
