"""A designer's pass over this round's figures (line styles per run, edge marks standing clear, ≈ in the tree and the
player), each rendered and looked at beside the round's start.  The xfail tests failed before their fix; the others
guard what the figures rely on.  Everything is read back from the figure objects, not from pixels."""

from __future__ import annotations

import re
import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from tinygrad_edu import losses, nn, plots  # noqa: E402
from tinygrad_edu.notation import format_number  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402
from tinygrad_edu.viz import backprop_player  # noqa: E402

NAN, INF = float("nan"), float("inf")


def _bowl(p):
    return (p[0] - 1) ** 2 + 10 * (p[1] + 0.5) ** 2


def _fractions(ax, costs):
    """Where each cost sits on the axes' height: 0 its bottom, 1 its top."""
    to_axes = ax.transAxes.inverted()
    return [float(to_axes.transform(ax.transData.transform([[1.0, c]]))[0, 1]) for c in costs]


def _runs(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_") and len(line.get_xdata())]


# --- defects --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("costs", [[1e-300, 5e-301, 0.0, 1e-302, NAN], [1e-290, 1e-292, NAN]])
def test_tiny_costs_with_edge_marks_keep_their_frame(costs):
    fig = plots.plot_history({"tiny": costs})
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    positive = [c for c in costs if np.isfinite(c) and c > 0]
    assert max(positive) < high < 1e3 * max(positive), (low, high)  # (it was 0.05)
    assert min(positive) / 1e3 < low < min(positive), (low, high)
    fractions = _fractions(ax, positive)
    assert all(0 <= f < 0.95 for f in fractions), fractions  # clear of the × at 97%
    assert 0.0 not in costs or min(fractions) > 0.05, fractions  # and of the ▼ at 3%


def test_widening_a_linear_axis_near_the_largest_float_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_history({"huge": [1e308, 1.7e308, INF]}, log_scale=False)
    ax = fig.axes[0]
    assert all(np.isfinite(ax.get_ylim()))
    assert all(0 <= f <= 1 for f in _fractions(ax, [1e308, 1.7e308]))


def test_a_log_axis_of_costs_near_the_largest_float_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_history({"huge": [1e308, 1.7e308, INF]})
    assert fig.axes[0].get_yscale() == "log"


def _dots_clear_of_markers(line) -> int:
    """How many dots of a dash-dotted legend sample are drawn whole and not under one of its markers (in points)."""
    dpi = line.figure.dpi
    x = line.get_transform().transform(line.get_xydata())[:, 0] * 72 / dpi
    start, length = x.min(), x.max() - x.min()
    dash, gap, dot, _ = (v * line.get_linewidth() for v in matplotlib.rcParams["lines.dashdot_pattern"])
    every = line.get_markevery()
    markers = [x[i] - start for i in (range(len(x)) if every is None else np.atleast_1d(every))]
    radius = line.get_markersize() / 2 if line.get_marker() not in (None, "None", "") else 0.0
    dots, position = 0, dash + gap
    while position + dot <= length:
        if all(position + dot < m - radius or position > m + radius for m in markers):
            dots += 1
        position += dash + 2 * gap + dot
    return dots


def test_the_dash_dotted_legend_sample_of_plot_learning_rates_shows_its_dots():
    fig = plots.plot_learning_rates(_bowl, [-1.0, 1.0], steps=5, resolution=8)
    fig.canvas.draw()
    samples = {line.get_linestyle(): line for line in fig.axes[-1].get_legend().get_lines()}
    assert samples["-."].get_marker() == "o"  # (the samples carry the cost panel's markers)
    assert _dots_clear_of_markers(samples["-."]) >= 2


# --- guards ---------------------------------------------------------------------------------------------------------
def test_seven_runs_of_plot_history_look_the_same_in_the_cost_and_the_step_size_panel():
    histories = {f"run {i}": History(cost=list(1.0 / np.arange(1, 11) ** (0.3 * (i + 1))),
                                     step_size=[0.5 ** i] * 10) for i in range(7)}
    fig = plots.plot_history(histories)
    costs, steps = _runs(fig.axes[0]), _runs(fig.axes[1])
    looks = [(line.get_color(), line.get_linestyle()) for line in costs]
    assert looks == [(line.get_color(), line.get_linestyle()) for line in steps]
    assert len(set(looks)) == 7, looks
    # the legend shows what the panels draw: colour and dash pattern of each run
    assert [(h.get_color(), h.get_linestyle()) for h in fig.legends[0].legend_handles[:7]] == looks


def test_seven_learning_rates_look_the_same_in_their_path_panel_and_the_cost_panel():
    rates = {f"η{i}": 0.01 * (i + 1) for i in range(7)}
    fig = plots.plot_learning_rates(_bowl, [-1.0, 1.0], rates, steps=3, resolution=8)
    cost_lines = _runs(fig.axes[-1])
    assert len(cost_lines) == 8
    for ax, cost_line in zip(fig.axes[:8], cost_lines, strict=True):
        path = next(line for line in ax.get_lines() if len(line.get_xdata()) > 1)
        assert path.get_linestyle() == cost_line.get_linestyle(), ax.get_title()
        # the same colour, but white (invisible on the white cost panel) drawn dark grey there
        expected = "#333333" if path.get_color() == "#ffffff" else path.get_color()
        assert cost_line.get_color() == expected, ax.get_title()


@pytest.mark.parametrize("log_scale", [True, False])
def test_a_run_of_only_nan_is_drawn_as_marks_on_a_finite_axis(log_scale):
    fig = plots.plot_history({"nan": [NAN] * 4}, log_scale=log_scale)
    ax = fig.axes[0]
    assert all(np.isfinite(ax.get_ylim())) and ax.get_ylim()[0] < ax.get_ylim()[1]
    marks = [line for line in ax.get_lines() if line.get_marker() == "x" and len(line.get_xdata())]
    assert [list(line.get_xdata()) for line in marks] == [[1, 2, 3, 4]]


@pytest.mark.parametrize("seed", range(6))
def test_each_product_cell_of_the_player_says_equals_only_where_its_printed_numbers_multiply_out(seed):
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=seed + i) for i in range(3)])
    cost = losses.squared_error(model(np.array([0.5])), np.array([0.25]))
    cost.backward()
    cells = [cell for step in backprop_player(cost).steps
             for cell in re.findall(r"<td>([^<]* × [^<]*)</td>", step.html)]
    assert cells  # (the backward steps have product cells)
    for cell in cells:
        match = re.fullmatch(r"(\S+) × \(?([^\s)]+)\)? ([=≈]) (\S+)", cell)
        assert match, cell
        arriving, local, sign, product = match.groups()
        worked_out = format_number(float(arriving) * float(local), 4)
        assert (sign == "=") == (worked_out == product), cell
