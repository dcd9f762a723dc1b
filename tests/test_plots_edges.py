"""tinygrad_edu.plots, edge cases found by mutation testing: every number drawn is read back from the Figure and
checked against a hand-worked value or numpy, and bad input is named."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from helpers_models import bowl  # noqa: E402  (f(p) = ‖p‖²)

from tinygrad_edu import optim, plots  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402


def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def _line(ax, label: str):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


def _marks(ax) -> list:
    """The one-point lines: the markers of extrema, starts and ends."""
    return [line for line in ax.get_lines() if len(line.get_xdata()) == 1]


# --- descent_path ------------------------------------------------------------------------------------------------
def test_a_diverging_learning_rate_ends_the_path_once_it_passes_1e12():
    # η = 3 on x²: x ↦ x − 3·2x = −5x, so x_k = (−5)^k; 5^17 ≈ 7.6e11 is drawn, 5^18 ≈ 3.8e12 is not
    points = plots.descent_path(bowl, [1.0], 3.0, steps=40)
    np.testing.assert_array_equal(points[:, 0], (-5.0) ** np.arange(18))


def test_zero_steps_is_the_start_alone_and_a_constant_f_does_not_move():
    np.testing.assert_array_equal(plots.descent_path(bowl, [1.0, 2.0], steps=0), [[1.0, 2.0]])
    # f ignores the point (detached): no gradient, no step, not a made-up direction
    np.testing.assert_array_equal(plots.descent_path(lambda p: p.detach().sum(), [1.0, 2.0], steps=5), [[1.0, 2.0]])


@pytest.mark.parametrize("start, message", [
    ([[1.0, 2.0]], r"descent_path: start must have a number or a vector, got shape \(1, 2\)"),
    ([np.nan, 1.0], "descent_path: start holds NaN or inf"),
])
def test_a_start_that_is_not_a_finite_vector_is_named(start, message):
    with pytest.raises(ValueError, match=message):
        plots.descent_path(bowl, start)


# --- plot_history --------------------------------------------------------------------------------------------------
def test_dict_keys_are_the_legend_even_a_key_of_0_and_labels_win_over_keys():
    # seeds 0 and 1 as keys: the run of seed 0 was called "run 1" next to "1"
    fig = plots.plot_history({0: [1.0, 0.5], 1: [2.0, 1.0]})
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0", "1"]
    fig = plots.plot_history({"key": [1.0, 0.5]}, labels=["given"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["given"]


def test_a_list_of_whole_number_costs_is_one_run():
    ax = plots.plot_history([3, 2, 1], log_scale=False).axes[0]
    np.testing.assert_array_equal(ax.get_lines()[0].get_xydata(), [[1, 3], [2, 2], [3, 1]])


def test_step_sizes_with_gaps_are_drawn_per_episode_from_1():
    # random search's episodes have no step (None): the others still count, on the episodes they belong to
    run = History(cost=[1.0, 0.5, 0.25], step_size=[None, 0.5, 0.25], label="mixed")
    fig = plots.plot_history(run)
    _, step_ax = fig.axes
    np.testing.assert_array_equal(step_ax.get_lines()[0].get_xydata(), [[1, np.nan], [2, 0.5], [3, 0.25]])
    assert step_ax.get_yscale() == "log" and step_ax.yaxis.get_transform().base == 2  # Armijo's steps are 2^-l
    assert len(plots.plot_history(run, step_sizes=False).axes) == 1  # asked for one panel: one panel


def test_zero_and_negative_costs_stay_on_a_symlog_axis_whose_linear_part_is_below_the_smallest_cost():
    fig = plots.plot_history([1.0, 0.0, -1.0])
    ax = fig.axes[0]
    assert ax.get_yscale() == "symlog"  # not a log axis with 0 on the edge, which would drop −1
    assert not any("cost 0" in t.get_text() for t in fig.legends[0].get_texts())
    ax = plots.plot_history([4.0, 1.0, -0.01]).axes[0]
    assert ax.yaxis.get_transform().linthresh <= 0.01  # else 0.01 and 1 were squeezed into the linear part


def test_a_cost_axis_over_more_than_a_decade_keeps_its_powers_of_ten():
    ax = plots.plot_history([1.0, 50.0]).axes[0]
    ax.figure.canvas.draw()
    shown = [label.get_text() for label in ax.get_yticklabels() if label.get_visible() and label.get_text()]
    assert "$\\mathdefault{10^{1}}$" in shown


def test_nan_costs_are_marked_on_the_top_edge():
    fig = plots.plot_history([1.0, np.nan, 0.5])
    ax = fig.axes[0]
    fig.canvas.draw()
    (cross,) = [line for line in ax.get_lines() if line.get_marker() == "x" and len(line.get_xdata())]
    assert list(cross.get_xdata()) == [2]
    y = cross.get_transform().transform(cross.get_xydata())[0, 1]
    assert (y - ax.bbox.y0) / ax.bbox.height > 0.9


# --- plot_activations ---------------------------------------------------------------------------------------------
def test_leaky_relu_uses_the_slope_asked_for():
    ax = plots.plot_activations(["leaky_relu"], negative_slope=0.3, x_range=(-2.0, 2.0)).axes[0]
    value, derivative = ax.get_lines()[:2]
    x = value.get_xdata()
    np.testing.assert_allclose(value.get_ydata(), np.where(x > 0, x, 0.3 * x), atol=1e-12)
    np.testing.assert_allclose(derivative.get_ydata()[x < 0], 0.3)
    assert ax.get_title() == "leaky ReLU (slope 0.3), 0.01 in layers"  # (the layers' slope: test_loose_teach)


# --- plot_descent --------------------------------------------------------------------------------------------------
def test_the_window_frames_the_path_with_a_quarter_of_its_span_around_it():
    # path from (0, 0) to (2, 1): spans 2 and 1, so the window is [−0.5, 2.5] × [−0.25, 1.25]
    path = np.array([[0.0, 0.0], [2.0, 1.0]])
    ax = plots.plot_descent(bowl, [0.0, 0.0], path, resolution=5, levels=3).axes[0]
    np.testing.assert_allclose(ax.get_xlim(), (-0.5, 2.5))
    np.testing.assert_allclose(ax.get_ylim(), (-0.25, 1.25))
    np.testing.assert_array_equal(_line(ax, "start").get_xydata(), [[0.0, 0.0]])
    np.testing.assert_array_equal(_line(ax, "after 1 step").get_xydata(), [[2.0, 1.0]])


def test_the_contour_holds_f_at_x_along_the_first_axis():
    # f = p₀ on x ∈ [0, 1], y ∈ [10, 20]: every level lies in [0, 1] (a transposed grid gave levels up to 20)
    fig = plots.plot_descent(lambda p: p[0] * 1.0, [0.5, 15.0], [[0.5, 15.0]], bounds=(0, 1, 10, 20),
                             resolution=6, levels=4)
    (filled, *_) = [c for c in fig.axes[0].collections if hasattr(c, "levels")]
    assert 0.0 <= filled.levels.min() and filled.levels.max() <= 1.0 + 1e-12


def test_a_deep_valley_gets_log_spaced_levels():
    # f from 1e-3 to 200 (ratio 2e5 > 1e3): levels evenly spaced in log f, so the valley floor has contours
    fig = plots.plot_descent(lambda p: bowl(p) + 1e-3, [1.0, 1.0], [[1.0, 1.0]], bounds=(-10, 10, -10, 10),
                             resolution=41, levels=6)
    (filled, *_) = [c for c in fig.axes[0].collections if hasattr(c, "levels")]
    ratios = np.diff(np.log(filled.levels))
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


def test_an_optimizer_that_diverges_is_drawn_up_to_1e12():
    # GradientDescent with η = 3 on ‖p‖²: p_k = (−5)^k·(1, 1), the last drawn is k = 17
    fig = plots.plot_descent(bowl, [1.0, 1.0], lambda params: optim.GradientDescent(params, learning_rate=3.0),
                             steps=30, bounds=(-2, 2, -2, 2), resolution=5, levels=3)
    path = _line(fig.axes[0], "GradientDescent").get_xydata()
    np.testing.assert_array_equal(path[:, 0], (-5.0) ** np.arange(18))


@pytest.mark.parametrize("kwargs, message", [
    ({"optimizer_or_steps": np.zeros((3, 3))}, r"plot_descent: optimizer_or_steps must be .* shape \(3, 3\)"),
    ({"optimizer_or_steps": [[1.0, 1.0], [np.nan, np.nan]]},
     r"plot_descent: the points of optimizer_or_steps must be finite; row 1 is \(nan, nan\)"),
    ({"bounds": (0, 1, 1, 0)}, r"plot_descent: bounds must be \(x_min, x_max, y_min, y_max\) with finite min < max"),
])
def test_bad_paths_and_windows_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        plots.plot_descent(bowl, [1.0, 1.0], **kwargs)


# --- plot_learning_rates -------------------------------------------------------------------------------------------
def test_the_overshooting_path_leaves_its_window_and_costs_count_steps_from_0():
    # f = (p₀ − 1)² + 10·p₁² from (−1.5, 0.8): f = 6.25 + 6.4 = 12.65 at step 0
    f = lambda p: (p[0] - 1.0) ** 2 + 10.0 * p[1] ** 2  # noqa: E731
    fig = plots.plot_learning_rates(f, [-1.5, 0.8], steps=8, armijo=False, resolution=8)
    overshoot_ax, _, fits_ax, cost_ax = fig.axes
    far = overshoot_ax.get_lines()[0].get_xydata()[-1]  # p₁ ← (1 − 2.1)·p₁ each step: |p₁| grows 1.1×
    low, high = overshoot_ax.get_ylim()
    assert not low <= far[1] <= high  # the point of the panel: it runs out of the window
    fits = fits_ax.get_lines()[0].get_xydata()
    assert (fits_ax.get_xlim()[0] <= fits[:, 0]).all() and (fits[:, 0] <= fits_ax.get_xlim()[1]).all()
    first = cost_ax.get_lines()[0]
    np.testing.assert_array_equal(first.get_xdata(), np.arange(9))
    assert first.get_ydata()[0] == pytest.approx(12.65)


# --- plot_armijo ----------------------------------------------------------------------------------------------------
def test_armijo_tangent_and_step_axis_past_the_largest_trial():
    # f = x² at x = 1: d = −2, ∇f·d = −4, the tangent is 1 − 4t; trials 1 (rejected) and 1/2 (accepted)
    ax = plots.plot_armijo(bowl, [1.0]).axes[0]
    tangent = _line(ax, "tangent f(x) + t·∇f(x)ᵀd")
    np.testing.assert_allclose(tangent.get_ydata(), 1 - 4 * tangent.get_xdata(), atol=1e-12)
    assert tangent.get_xdata()[0] == 0 and tangent.get_xdata()[-1] > 1.0  # the trial t = 1 is inside, not on the edge
    given = _line(plots.plot_armijo(bowl, [1.0], t_max=2.0).axes[0], "tangent f(x) + t·∇f(x)ᵀd")
    assert given.get_xdata()[-1] == 2.0  # t_max is the end of the axis


def test_armijo_names_the_trial_steps_by_the_initial_step():
    # x² at x = 1, d = −2, line 1 − t: from t₀ = 2 the trials are 2 (φ = 9) and 1 (φ = 1 > 0), rejected, and 1/2
    # (φ = 0 ≤ 1/2), accepted; they are 2·αˡ, not αˡ as the legend said
    ax = plots.plot_armijo(bowl, [1.0], sigma=0.25, initial_step=2.0, t_max=2.5).axes[0]
    assert sorted((m.get_xdata()[0], m.get_marker()) for m in _marks(ax)) == [(0.5, "o"), (1.0, "x"), (2.0, "^")]
    assert "rejected trial steps $t_l$ = 2·$\\alpha^l$" in _legend(ax)  # and φ(2) = 9 above the frame:
    assert "rejected trial steps $t_l$ = 2·$\\alpha^l$, φ above the frame" in _legend(ax)
    assert "accepted step t = 0.5" in _legend(ax)
    default = _legend(plots.plot_armijo(bowl, [1.0]).axes[0])
    assert "rejected trial steps $\\alpha^l$" in default and "accepted step $t = \\alpha^{1}$ = 0.5" in default


def test_armijo_title_writes_a_long_point_with_three_digits_and_an_ellipsis():
    x = np.arange(1, 9) / 3  # 8 numbers: the first five, "…", the last
    ax = plots.plot_armijo(bowl, x).axes[0]
    assert ax.get_title().startswith("Armijo step size at x = (0.333, 0.667, 1, 1.33, 1.67, …, 2.67): ")


# --- plot_derivatives -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2])
def test_extrema_are_marked_once_per_kind_with_any_order(order):
    # (x² − 1)²: f′ = 4x³ − 4x is 0 at −1, 0, 1; f″ = 12x² − 4 is 8 > 0 at ±1 (minima), −4 < 0 at 0 (maximum);
    # with order=1 f″ is not drawn but still judges the marks (before, order=1 marked nothing)
    fig = plots.plot_derivatives(lambda x: (x * x - 1.0) ** 2, order=order, x_range=(-2.0, 2.0))
    assert len(fig.axes) == order + 1
    assert fig.axes[0].get_title() == ("f and its derivative" if order == 1 else "f and its first 2 derivatives") \
        + ", each by the engine's backward pass"
    ax = fig.axes[0]
    found = sorted((round(float(line.get_xdata()[0]), 6), line.get_marker()) for line in _marks(ax))
    assert found == [(-1.0, "o"), (0.0, "^"), (1.0, "o")]
    assert _legend(ax) == ["f(x)", "minimum (f′ = 0, f″ > 0)", "maximum (f′ = 0, f″ < 0)"]


@pytest.mark.parametrize("f, points, where, turn", [
    (lambda x: x ** 4, 201, 0.0, "minimum"),  # a grid through 0: f′(0) = 0 and f″(0) = 12·0² = 0
    (lambda x: -x ** 4, 201, 0.0, "maximum"),  # f′ = −4x³ goes from + to −
    (lambda x: abs(x), 200, 1 / 199, "minimum"),  # grid points ±1/199 around 0: f′ jumps from −1 to 1, f″ = 0 on both
])
def test_where_f2_is_0_the_mark_gives_no_f2_verdict_and_says_what_the_sign_change_of_f1_shows(f, points, where, turn):
    # both minima were marked "maximum (f′ = 0, f″ < 0)", false twice
    ax = plots.plot_derivatives(f, order=2, x_range=(-1.0, 1.0), points=points).axes[0]
    (mark,) = _marks(ax)
    assert abs(mark.get_xdata()[0]) == pytest.approx(where)
    assert mark.get_label() == f"f″ = 0, no verdict; f′ changes sign: a {turn}"


def test_the_fourth_derivative_is_named_with_superscripts():
    fig = plots.plot_derivatives(lambda x: x ** 4, order=4, x_range=(-1.0, 1.0), points=21)
    assert [ax.get_ylabel() for ax in fig.axes] == ["f", "f′", "f″", "f‴", "f⁽⁴⁾"]
    np.testing.assert_allclose(fig.axes[4].get_lines()[0].get_ydata(), 24.0)  # d⁴/dx⁴ x⁴ = 24


@pytest.mark.parametrize("call, error, message", [
    (lambda: plots.plot_derivatives(bowl, x_range=(1.0, 1.0)), ValueError,
     r"plot_derivatives: x_range must be \(low, high\) with finite low < high"),
    (lambda: plots.plot_derivatives(bowl, title=3), TypeError, "plot_derivatives: title must be a string or None"),
])
def test_bad_derivative_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- plot_stationary_points, saving ---------------------------------------------------------------------------------
def test_each_kind_of_stationary_point_has_its_own_marker():
    found = [SimpleNamespace(point=np.array([0.0, 0.0]), kind="minimum", path=[[0.5, 0.5], [0.0, 0.0]]),
             SimpleNamespace(point=np.array([1.0, 0.0]), kind="saddle", path=[[1.0, 0.5], [1.0, 0.0]])]
    ax = plots.plot_stationary_points(bowl, found, resolution=5, levels=3).axes[0]
    markers = {line.get_label(): line.get_marker() for line in _marks(ax)}
    assert markers["minimum"] != markers["saddle"]


@pytest.mark.parametrize("path, shape", [([0.0, 1.0], r"got shape \(2,\)"), ([], r"got shape \(0,\)"),
                                         ([[0.0, 1.0], [2.0]], r"k ≥ 1 \(.*inhomogeneous")])
def test_a_found_point_whose_path_is_not_points_of_two_numbers_is_named(path, shape):
    # numpy's "axis 1 is out of bounds" and "need at least one array to concatenate" said nothing of the path
    found = [SimpleNamespace(point=np.array([0.0, 0.0]), kind="minimum", path=path)]
    with pytest.raises(ValueError, match=f"plot_stationary_points: each found point's path must .*{shape}"):
        plots.plot_stationary_points(bowl, found, resolution=5, levels=3)


def test_a_saved_svg_has_no_date(tmp_path):
    # regenerated pictures must be byte-for-byte the same: no creation date in the file
    plots.plot_history([1.0, 0.5], path=tmp_path / "h.svg")
    assert "<dc:date>" not in (tmp_path / "h.svg").read_text()


# --- a bad-input sweep: what the student sees when training diverges, and errors that name the plot ----------------
def test_a_run_diverging_to_1e295_keeps_its_curve_on_a_log_axis_with_readable_decades():
    # matplotlib's 5% margins of 1e295 overflow float64: the axis showed 1 to 10 (no curve) with RuntimeWarnings,
    # and its ticks past 1e308 broke the tick labels
    import warnings

    costs = [1.0, 1e100, 1e200, 1e295, np.inf]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        fig = plots.plot_history(costs)
        fig.canvas.draw()
        ax = fig.axes[0]
        bottom, top = ax.get_ylim()
        assert bottom <= 1.0 and 1e295 <= top <= np.finfo(float).max  # every finite cost inside the frame
        shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "$\\mathdefault{10^{100}}$" in shown and "$\\mathdefault{10^{200}}$" in shown  # decades 0, 50, …, 300


def test_a_single_tiny_cost_is_inside_its_frame():
    # 5e-324, the smallest float: the frame from 10^-323 (about 9.9e-324) left it below the axis
    bottom, top = plots.plot_history([5e-324]).axes[0].get_ylim()
    assert bottom <= 5e-324 <= top


def test_saving_where_no_file_can_be_written_names_the_plot(tmp_path):
    (tmp_path / "taken.png").mkdir()  # a folder with the picture's name: matplotlib said only "Is a directory"
    with pytest.raises(IsADirectoryError, match="plot_history: cannot save the figure to .*taken.png"):
        plots.plot_history([1.0, 0.5], path=tmp_path / "taken.png")
    with pytest.raises(ValueError, match="plot_history: the file name .* holds a NUL"):  # was "embedded null byte"
        plots.plot_history([1.0, 0.5], path=str(tmp_path / "a\0b.png"))


def test_a_numpy_integer_is_a_learning_rate_in_plot_descent_as_in_descent_path():
    # η = 1 on ‖p‖²: p ↦ p − 2p = −p; np.int64(1) was refused as "an array of shape ()"
    ax = plots.plot_descent(bowl, [1.0, 2.0], np.int64(1), steps=2, resolution=5, levels=3).axes[0]
    np.testing.assert_array_equal(_line(ax, "learning rate η = 1").get_xydata(), [[1, 2], [-1, -2], [1, 2]])


@pytest.mark.parametrize("flag", [True, np.True_])
def test_true_is_no_learning_rate_in_plot_descent(flag):
    # was a ValueError saying "got an array of shape ()", which names no bool
    with pytest.raises(TypeError, match=r"plot_descent: optimizer_or_steps must be a learning rate, .* got bool"):
        plots.plot_descent(bowl, [1.0, 2.0], flag, steps=2, resolution=5, levels=3)


def test_an_empty_start_is_named_not_walked():
    # was a path of empty points (descent_path) and "∇f = 0 at x = ()" (plot_armijo)
    with pytest.raises(ValueError, match="descent_path: start is empty"):
        plots.descent_path(bowl, [])
    with pytest.raises(ValueError, match="plot_armijo: x is empty"):
        plots.plot_armijo(bowl, np.zeros(0))


@pytest.mark.parametrize("history, error, message", [
    (History(cost=[1.0, 0.5], step_size=[0.1, 0.5, 0.7]), ValueError, r"run 1 has 3 step sizes for 2 episodes"),
    (History(cost=[1.0, 0.5], step_size=["fast", 0.5]), TypeError,
     r"the step sizes of run 1 are not numbers \(or None\)"),  # (not "run 1 (run 1)")
    (np.array(1.0), TypeError, "expected a History, .* got ndarray"),  # was "len() of unsized object"
    # was drawn as two runs of one episode each
    (["1", "2"], TypeError, "expected a History, .* got a list whose element 0 is str '1'"),
])
def test_histories_whose_parts_do_not_fit_are_named(history, error, message):
    with pytest.raises(error, match=f"plot_history: {message}"):
        plots.plot_history(history)


@pytest.mark.parametrize("call, message", [
    (lambda: plots.plot_activations(["leaky_relu"], negative_slope=1e308),
     r"plot_activations: leaky_relu\(x\) runs from -1.77e\+308 to 5, too near the limits of float64"),
    (lambda: plots.plot_derivatives(lambda x: x * 1e308, order=1, x_range=(-2.0, 2.0)),
     r"plot_derivatives: f\(x\) runs from -1.79e\+308 to 1.79e\+308, too near the limits of float64"),
    # these passed a 10 % margin but failed when saved ("arange: cannot compute length") or leaked numpy's
    # overflow warnings from matplotlib's ticks
    (lambda: plots.plot_derivatives(lambda x: x * 1.6e308, order=1, x_range=(0.0, 1.0)),
     r"plot_derivatives: f\(x\) runs from 0 to 1.6e\+308, too near the limits of float64"),
    (lambda: plots.plot_derivatives(lambda x: x + 1e308, order=1, x_range=(0.0, 1.0)),
     r"plot_derivatives: f\(x\) runs from 1e\+308 to 1e\+308, too near the limits of float64"),
    (lambda: plots.plot_derivatives(lambda x: x * 3e307, order=1, x_range=(-1.0, 1.0)),
     r"f\(x\) runs from -3e\+307 to 3e\+307, .* matplotlib frames values and spans up to 4.5e\+307"),
])
def test_a_curve_whose_frame_overflows_float64_is_named(call, message):
    # matplotlib failed with numpy's LinAlgError "Singular matrix" while framing them
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("f, x_range", [
    (lambda x: x * 4.4e307, (0.0, 1.0)),      # values up to 4.4e307
    (lambda x: x * -4.4e307, (0.0, 1.0)),
    (lambda x: x * 2.2e307, (-1.0, 1.0)),     # a span of 4.4e307
    (lambda x: x * 0.0 + 4.4e307, (0.0, 1.0)),  # a flat curve up there
])
def test_a_curve_just_inside_the_drawable_range_is_drawn_and_saved_without_warnings(tmp_path, f, x_range):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.plot_derivatives(f, order=1, x_range=x_range, path=tmp_path / "big.png")
    assert (tmp_path / "big.png").stat().st_size > 0


@pytest.mark.parametrize("curvature, backtracks", [(1000, 11), (10000, 14)])
def test_plot_armijo_labels_do_not_cover_each_other_after_many_backtracks(curvature, backtracks):
    """On an ill-conditioned cost the Armijo search from (1, 1) backtracks 11 or 14 times, and the labels α⁸ … α¹¹
    of the trials close to t = 0 were written over one another (and over α⁵'s φ): a smudge.  A label that would
    cover another is left out (its marker stays, and the legend says what a red × is); the accepted step's is kept.
    Found by an exploratory pass in a teacher's role."""
    from itertools import combinations

    figure = plots.plot_armijo(lambda p: curvature * p[0] ** 2 + p[1] ** 2, [1.0, 1.0])
    figure.canvas.draw()
    shown = [(text.get_text(), text.get_window_extent()) for text in figure.axes[0].texts if text.get_visible()]
    assert not [(a, b) for (a, box_a), (b, box_b) in combinations(shown, 2) if box_a.overlaps(box_b)]
    assert f"$\\alpha^{{{backtracks}}}$" in [name for name, _ in shown]  # the accepted step's label
    assert len(shown) < len(figure.axes[0].texts) == backtracks + 1  # (some are left out)
    assert f"{backtracks} backtracks" in figure.axes[0].get_title()


def test_the_overshooting_rate_overshoots_on_a_curved_valley_too():
    """Section 7.2, "too large overshoots": on notebook 4's valley (p₁ − 1)² + 10(p₂ − p₁²)² from (−1.2, 0.8) the
    panel titled "overshoots" (η = 2.1/λ from the curvature at the start, which is the largest on the way) descended
    at every step, to a lower cost than "fits": the opposite of the lesson.  Its η is doubled until the path ends
    higher than it started; on a quadratic, where 2.1/λ diverges, it stays 2.1/λ.  Found by an exploratory pass in a
    teacher's role."""
    def costs(figure):
        return {line.get_label().split(":")[0]: np.asarray(line.get_ydata()) for line in figure.axes[-1].get_lines()}

    valley = costs(plots.plot_learning_rates(lambda p: (p[0] - 1) ** 2 + 10 * (p[1] - p[0] ** 2) ** 2, [-1.2, 0.8]))
    overshooting = valley["overshoots"]
    assert len(overshooting) < 21 or not overshooting[-1] <= overshooting[0]  # ran off, or ended higher
    assert valley["fits"][-1] < valley["fits"][0]
    quadratic = plots.plot_learning_rates(lambda p: (p ** 2 * np.array([1.0, 10.0])).sum(), [1.0, 1.0])
    assert quadratic.axes[-1].get_lines()[0].get_label() == "overshoots: η = 0.105"  # 2.1/λ with λ = 20
