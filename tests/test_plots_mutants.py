"""tinygrad_edu.plots: behaviour the other plot tests left open, found by mutation testing.

Mutation-tested: tinygrad_edu/plots.py, 90 hand-made mutants (flipped comparisons, off-by-one, dropped checks and
copies, swapped arguments, wrong constants, dropped titles/labels, wrong branches) over saving, the point and range
checks, descent_path, plot_history (runs, labels, step sizes, log axes, marks), plot_activations, plot_descent,
plot_learning_rates, plot_armijo, plot_derivatives and plot_stationary_points; run against test_plots.py,
test_plots_edges.py, test_plots_given_path.py and the plot tests of test_display.py, test_calculus.py and
test_api_misuse.py.  Mutants: 90; killed before: 45; killed after (with this file): 86.

Equivalent mutants (no input tells them apart):
* ``_finish`` raising ``OSError(errno, …)`` instead of ``type(error)(errno, …)``: OSError built with an errno picks
  the same subclass (IsADirectoryError, PermissionError, …) itself.
* ``_optimizer_path`` keeping ``start`` itself as the first point instead of a copy: the optimizer's Value already
  holds its own copy, so nothing ever changes ``start``.
* ``plot_learning_rates`` not adding the start to the points its window frames: every path drawn begins at the start.

Left alive on purpose: ``plot_descent(f, start, True)`` taken as the learning rate 1 by ``_step_rule``: it is refused
either way, with a TypeError naming plot_descent, optimizer_or_steps and the bool (``checks.number``'s "must be a
number" instead of the list of what it may be), so no test should prefer one of the two.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from helpers_models import bowl  # noqa: E402  (f(p) = ‖p‖²)

from tinygrad_edu import Value, plots  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402

SMALL = {"resolution": 5, "levels": 3}  # a coarse contour: these tests read the path and the frame, not the colours


def _legend(fig) -> list[str]:
    return [text.get_text() for text in fig.legends[0].get_texts()]


def _marks(ax, marker: str) -> list:
    """The lines drawn with ``marker`` that hold points (legend proxies hold none)."""
    return [line for line in ax.get_lines() if line.get_marker() == marker and len(line.get_xdata())]


# --- saving ----------------------------------------------------------------------------------------------------
def test_a_saved_pdf_has_no_creation_date(tmp_path):
    """Regenerated PDFs are byte-for-byte the same: matplotlib's default CreationDate is left out."""
    plots.plot_history([1.0, 0.5], path=tmp_path / "h.pdf")
    assert b"/CreationDate" not in (tmp_path / "h.pdf").read_bytes()


# --- descent_path --------------------------------------------------------------------------------------------------
def test_a_cost_that_does_not_reach_the_point_leaves_the_path_at_its_start():
    """f(p) = 2·c with c a trainable Value but p unused: the point gets no gradient, so it must not move."""
    c = Value(1.0, requires_grad=True)
    np.testing.assert_array_equal(plots.descent_path(lambda p: c * 2.0, [1.0, 2.0], steps=3), [[1.0, 2.0]])


def test_armijo_is_named_in_any_case():
    """'Armijo' is the same rule as 'armijo': on ‖p‖² from (1, 2) the step t = 1/2 lands at 0."""
    np.testing.assert_array_equal(plots.descent_path(bowl, [1.0, 2.0], "Armijo", steps=2),
                                  plots.descent_path(bowl, [1.0, 2.0], "armijo", steps=2))


def test_armijo_constants_are_checked_by_descent_path_itself():
    """sigma outside ]0, 1[ is named by descent_path, even where no Armijo search runs (∇f = 0 at the start)."""
    with pytest.raises(ValueError, match=r"^descent_path: sigma"):
        plots.descent_path(bowl, [0.0, 0.0], "armijo", sigma=1.5)


# --- plot_history ----------------------------------------------------------------------------------------------
def test_labels_given_as_one_string_are_refused():
    """labels="a" for one run is a string, not a list of names (else its characters would be the names)."""
    with pytest.raises(TypeError, match="plot_history: labels must be a list of names"):
        plots.plot_history([1.0, 0.5], labels="a")


def test_costs_that_are_not_numbers_name_their_run_counting_from_1():
    with pytest.raises(TypeError, match="plot_history: the costs of run 2 are not numbers"):
        plots.plot_history([[1.0, 0.5], ["a"]])


def test_a_dict_key_names_its_run_before_the_historys_own_label():
    """The docstring's order: labels, then the dict keys, then each History's label."""
    fig = plots.plot_history({"mine": History(cost=[1.0, 0.5], label="Adam")})
    assert _legend(fig) == ["mine"]


def test_costs_of_0_on_a_linear_axis_are_drawn_where_they_are_not_marked():
    """The ▼ on the bottom edge stands in for 0 on a log axis only; a linear axis shows 0 itself."""
    fig = plots.plot_history([1.0, 0.0], log_scale=False)
    ax = fig.axes[0]
    assert not _marks(ax, "v") and not any("cost 0" in text for text in _legend(fig))
    np.testing.assert_array_equal(ax.get_lines()[0].get_xydata(), [[1, 1.0], [2, 0.0]])


def test_the_title_given_replaces_the_default_one():
    assert plots.plot_history([1.0, 0.5], title="my run").axes[0].get_title() == "my run"


def test_the_axes_are_labelled_with_cost_episode_and_step_size():
    """One panel: "episode" under the cost axis; two panels: under the step sizes, which are labelled too."""
    assert plots.plot_history([1.0, 0.5]).axes[0].get_xlabel() == "episode"
    step_ax = plots.plot_history(History(cost=[1.0, 0.5], step_size=[0.5, 0.5])).axes[1]
    assert step_ax.get_ylabel() == "step size t (learning rate)" and step_ax.get_xlabel() == "episode"


def test_step_sizes_of_0_keep_a_linear_axis():
    """A step of 0 has no place on a log axis: the step size axis stays linear and shows it."""
    step_ax = plots.plot_history(History(cost=[1.0, 1.0], step_size=[0.0, 0.0])).axes[1]
    assert step_ax.get_yscale() == "linear"
    np.testing.assert_array_equal(step_ax.get_lines()[0].get_ydata(), [0.0, 0.0])


def test_a_history_of_zeros_marks_nothing_on_its_linear_axis():
    """All costs 0: the axis is linear and shows them; ▼ is for zeros on a log axis's bottom edge."""
    fig = plots.plot_history([0.0, 0.0, 0.0])
    assert not _marks(fig.axes[0], "v") and not any("cost 0" in text for text in _legend(fig))


def test_a_single_huge_cost_is_framed_a_decade_each_side():
    """As matplotlib frames one point on a log axis (10²⁴⁹ to 10²⁵¹, ticked at each decade), also past 1e200 where
    the plot sets the limits itself; no warning about identical limits."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plots.plot_history([1e250]).axes[0]
    low, high = ax.get_ylim()
    np.testing.assert_allclose((low, high), (1e249, 1e251), rtol=1e-9)
    ticks = [t for t in ax.yaxis.get_major_locator()() if low <= t <= high]
    np.testing.assert_allclose(ticks, [1e249, 1e250, 1e251], rtol=1e-9)


def test_a_cost_axis_over_hundreds_of_decades_has_about_eight_ticks():
    """Costs 1 to 1e295: 5% margins (14.75 decades) give −14.75 to 308.25 (capped), 323 decades; the first stride of
    1, 2, 5, 10, 20, 25, 50 with at most 8 steps is 50: ticks at 10⁰, 10⁵⁰, …, 10³⁰⁰."""
    ax = plots.plot_history([1.0, 1e295]).axes[0]
    low, high = ax.get_ylim()
    ticks = [t for t in ax.yaxis.get_major_locator()() if low <= t <= high]
    np.testing.assert_allclose(np.log10(ticks), np.arange(0, 301, 50))


# --- plot_activations -----------------------------------------------------------------------------------------
def test_one_activation_name_as_a_string_is_refused():
    """names="relu" is not a list of names (its letters are no activations): a TypeError naming the argument."""
    with pytest.raises(TypeError, match="plot_activations: names must be a list of activation names"):
        plots.plot_activations("relu")


# --- plot_descent ----------------------------------------------------------------------------------------------
def test_the_window_frames_the_finite_points_of_the_paths_only():
    """A Newton path that ran off to NaN: the window frames (0.5, 0.5) and (0, 0), a quarter of the span around."""
    found = [SimpleNamespace(point=np.zeros(2), kind="minimum", path=[[0.5, 0.5], [np.nan, np.nan], [0.0, 0.0]])]
    ax = plots.plot_stationary_points(bowl, found, **SMALL).axes[0]
    np.testing.assert_allclose(ax.get_xlim(), (-0.125, 0.625))
    np.testing.assert_allclose(ax.get_ylim(), (-0.125, 0.625))


def test_bounds_fix_the_window_even_where_the_path_leaves_it():
    """The docstring: ``bounds`` fixes the window; a path running past x = 1 does not widen it."""
    ax = plots.plot_descent(bowl, [0.5, 0.5], [[0.5, 0.5], [3.0, 0.5]], bounds=(-1, 1, -1, 1), **SMALL).axes[0]
    assert ax.get_xlim() == (-1.0, 1.0) and ax.get_ylim() == (-1.0, 1.0)


def test_a_factory_that_makes_no_optimizer_is_named():
    with pytest.raises(TypeError, match="plot_descent: optimizer_or_steps must be .* it returned int"):
        plots.plot_descent(bowl, [1.0, 1.0], lambda params: 3, steps=1, **SMALL)


def test_a_cost_whose_minimum_0_is_on_the_grid_gets_evenly_spaced_levels():
    """Log-spaced levels are for a positive cost over many decades; 0 has no logarithm."""
    fig = plots.plot_descent(bowl, [0.0, 0.0], [[0.0, 0.0]], bounds=(-1, 1, -1, 1), resolution=5, levels=4)
    (filled, *_) = [c for c in fig.axes[0].collections if hasattr(c, "levels")]
    np.testing.assert_allclose(np.diff(filled.levels), np.diff(filled.levels)[0])


def test_the_descent_picture_labels_both_parameters_and_the_colour_bar():
    fig = plots.plot_descent(bowl, [1.0, 1.0], steps=1, **SMALL)
    ax, colour_bar = fig.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), colour_bar.get_ylabel()) == ("parameter 1", "parameter 2", "cost")


def test_the_descent_title_given_replaces_the_default_one():
    assert plots.plot_descent(bowl, [1.0, 1.0], steps=1, title="mine", **SMALL).axes[0].get_title() == "mine"


def test_armijo_steps_are_named_in_the_legend():
    ax = plots.plot_descent(bowl, [1.0, 1.0], "armijo", steps=2, **SMALL).axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "Armijo steps"


@pytest.mark.parametrize("path, message", [
    (np.zeros((0, 2)), r"got an array of shape \(0, 2\)"),  # no points: no start to mark
    ([[1.0, 1.0], [np.inf, 0.0], [np.nan, 0.0]], r"row 1 is \(inf, 0\)"),  # the first row at fault
])
def test_given_paths_that_cannot_be_drawn_are_named(path, message):
    with pytest.raises(ValueError, match=f"plot_descent: .*{message}"):
        plots.plot_descent(bowl, [1.0, 1.0], path, **SMALL)


# --- plot_learning_rates ---------------------------------------------------------------------------------------
def test_learning_rate_arguments_are_named_by_the_plot():
    with pytest.raises(ValueError, match=r"plot_learning_rates: learning_rates\['a'\] must be >= 0, got -0\.1$"):
        plots.plot_learning_rates(bowl, [1.0, 1.0], {"a": -0.1}, steps=1, resolution=5)
    with pytest.raises(ValueError, match="plot_learning_rates: nothing to draw"):
        plots.plot_learning_rates(bowl, [1.0, 1.0], {}, armijo=False, steps=1, resolution=5)


def test_a_flat_cost_has_no_default_learning_rates():
    """f = p₀ + p₁ has Hessian 0: the rates η = c/λ do not exist, so the plot asks for them."""
    with pytest.raises(ValueError, match="plot_learning_rates: f is not curved upwards"):
        plots.plot_learning_rates(lambda p: p[0] + p[1], [1.0, 1.0], steps=1, resolution=5)


def test_paths_of_learning_rates_given_stay_inside_their_window():
    """Only the default overshooting rate is meant to leave the picture; a rate you chose is framed."""
    ax = plots.plot_learning_rates(bowl, [1.0, 1.0], {"slow": 0.05}, armijo=False, steps=8, resolution=5).axes[0]
    path = ax.get_lines()[0].get_xydata()  # (1, 1)·0.9^k
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert ((x0 <= path[:, 0]) & (path[:, 0] <= x1) & (y0 <= path[:, 1]) & (path[:, 1] <= y1)).all()


def test_a_cost_reaching_0_keeps_its_points_on_the_cost_panel():
    """η = 1/2 on ‖p‖² lands on 0 in one step (where ∇f = 0 the path stops): a log axis cannot show that 0, so it
    is marked ▼ on the bottom edge at its step (as plot_history marks costs of 0)."""
    cost_ax = plots.plot_learning_rates(bowl, [1.0, 1.0], {"exact": 0.5}, armijo=False, steps=2, resolution=5).axes[-1]
    assert cost_ax.get_yscale() == "log" and cost_ax.get_xlabel() == "step k"
    np.testing.assert_array_equal(cost_ax.get_lines()[0].get_ydata(), [2.0, 0.0])
    marks = [line for line in cost_ax.get_lines() if line.get_marker() == "v" and len(line.get_xdata())]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [1]


# --- plot_derivatives ------------------------------------------------------------------------------------------
def test_a_range_where_f_is_undefined_everywhere_is_drawn_as_gaps():
    """log x on [−3, −1]: f and f′ are NaN at every point; the panels are empty, not an error."""
    fig = plots.plot_derivatives(lambda x: x.log(), order=1, x_range=(-3.0, -1.0), points=5)
    for ax in fig.axes:
        assert np.isnan(ax.get_lines()[0].get_ydata()).all()
    assert fig.axes[-1].get_xlim() == (-3.0, -1.0)


def test_a_derivative_whose_frame_overflows_is_named():
    """2e307·x² on [−1, 1]: f can be drawn, but f′ = 4e307·x spans 8e307, too wide to frame."""
    with pytest.raises(ValueError, match=r"plot_derivatives: f′\(x\) runs from -4e\+307 to 4e\+307"):
        plots.plot_derivatives(lambda x: 2e307 * x * x, order=1, x_range=(-1.0, 1.0))


def test_the_derivatives_title_given_replaces_the_default_one():
    assert plots.plot_derivatives(lambda x: x * x, order=1, title="mine").axes[0].get_title() == "mine"


# --- plot_armijo ---------------------------------------------------------------------------------------------------
def test_a_point_of_six_numbers_is_written_in_full():
    """Six numbers fit: only a longer vector is cut with "…"."""
    title = plots.plot_armijo(bowl, np.arange(1.0, 7.0)).axes[0].get_title()
    assert title.startswith("Armijo step size at x = (1, 2, 3, 4, 5, 6): ")


def test_a_step_size_axis_whose_line_overflows_is_refused():
    """5x² at 1: ∇f·d = −100, so at t = 1e307 the line's t·∇f·d = −1e309 overflows (x + t·d = −1e308 does not)."""
    with pytest.raises(ValueError, match=r"plot_armijo: the step size axis reaches t = 1e\+307"):
        plots.plot_armijo(lambda p: 5.0 * (p * p).sum(), [1.0], t_max=1e307)


def test_each_kind_of_trial_has_one_legend_entry():
    """The README's example rejects four steps (three above the frame): still one entry per kind."""
    texts = [t.get_text() for t in plots.plot_armijo(lambda p: p[0] ** 2 + 10 * p[1] ** 2, [-1.0, 0.5])
             .axes[0].get_legend().get_texts()]
    assert len(texts) == len(set(texts))


# --- plot_stationary_points --------------------------------------------------------------------------------------
def _found(**changes):
    return [SimpleNamespace(**{"point": np.zeros(2), "kind": "minimum", "path": [[0.5, 0.5], [0.0, 0.0]], **changes})]


@pytest.mark.parametrize("changes, message", [
    ({"point": np.zeros(3)}, "each found point must be a stationary_point result of a two-parameter f"),
    ({"path": np.zeros((0, 2))}, r"path must be points of shape \(k, 2\), k ≥ 1, got shape \(0, 2\)"),
])
def test_found_points_that_do_not_fit_the_picture_are_named(changes, message):
    with pytest.raises(ValueError, match=f"plot_stationary_points: .*{message}"):
        plots.plot_stationary_points(bowl, _found(**changes), **SMALL)


def test_a_run_that_did_not_converge_is_drawn_as_its_path_only():
    """kind None (no verdict): the path is drawn, no point marked."""
    fig = plots.plot_stationary_points(bowl, _found(kind=None), **SMALL)
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["Newton's steps from a start"]


def test_the_stationary_points_title_given_replaces_the_default_one():
    assert plots.plot_stationary_points(bowl, _found(), title="mine", **SMALL).axes[0].get_title() == "mine"
