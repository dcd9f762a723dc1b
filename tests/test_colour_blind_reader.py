"""A colour-blind teacher (deuteranopia) projecting the figures and printing them in grayscale: every figure must tell
its runs, marks and steps apart by something other than hue (a line style, a marker shape, a width, a label)."""

import re
from importlib import resources

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tinygrad_edu import plots  # noqa: E402


def _bowl(p):
    return (p[0] - 1) ** 2 + 10 * (p[1] + 0.5) ** 2


def _looks(lines):
    """What tells lines apart without colour: their dash pattern and their marker."""
    return [(line.get_linestyle(), str(line.get_marker())) for line in lines]


def _runs(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_") and len(line.get_xdata())]


def test_the_runs_of_plot_history_differ_by_line_style_not_only_colour():
    from tinygrad_edu.training import History

    names = ["SGD", "Adam", "gradient descent", "Armijo"]
    histories = [History(cost=list(1.0 / np.arange(1, 21) ** (0.5 * (i + 1))), step_size=[0.1 * (i + 1)] * 20,
                         label=name) for i, name in enumerate(names)]
    fig = plots.plot_history(histories)
    cost_ax, steps_ax = fig.axes[:2]
    costs, steps = _runs(cost_ax), _runs(steps_ax)
    assert [line.get_label() for line in costs] == [line.get_label() for line in steps] == names
    assert len({line.get_linestyle() for line in costs}) == 4, _looks(costs)
    # each step size line in the style of its cost curve, and the legend shows the styles, as the figure does
    assert [line.get_linestyle() for line in steps] == [line.get_linestyle() for line in costs]
    assert _looks(fig.legends[0].legend_handles) == _looks(costs)


def test_the_default_learning_rates_differ_by_line_style_in_every_panel():
    fig = plots.plot_learning_rates(_bowl, [-1.0, 1.0], steps=5, resolution=8)
    cost_lines = _runs(fig.axes[-1])
    assert len(cost_lines) == 4
    assert len(set(_looks(cost_lines))) == 4, _looks(cost_lines)
    paths = [line for ax in fig.axes[:4] for line in ax.get_lines() if len(line.get_xdata()) > 1]
    assert _looks(paths) == _looks(cost_lines)  # each path panel in the style of its cost line


# --- guards -----------------------------------------------------------------------------------------------------
def test_the_maximum_and_minimum_marks_of_plot_derivatives_have_their_own_shapes_and_words():
    fig = plots.plot_derivatives(lambda x: x ** 3 - 3 * x, order=2, points=101)
    marks = {line.get_label(): (float(line.get_xdata()[0]), line.get_marker()) for line in fig.axes[0].get_lines()
             if len(line.get_xdata()) == 1}
    (maximum,) = [value for label, value in marks.items() if label.startswith("maximum")]
    (minimum,) = [value for label, value in marks.items() if label.startswith("minimum")]
    assert maximum[0] == pytest.approx(-1.0, abs=1e-6) and minimum[0] == pytest.approx(1.0, abs=1e-6)  # f′ = 3x² − 3
    assert maximum[1] != minimum[1]


def _stroke_width(css, selector_part):
    rule = re.search(re.escape(selector_part) + r"[^{]*\{([^}]*)\}", css)
    assert rule, selector_part
    return float(re.search(r"stroke-width:\s*([\d.]+)", rule.group(1)).group(1))


def test_the_players_current_value_is_outlined_thicker_than_the_ones_found_before():
    """The step's Value is red and the found ones purple: a deuteranope sees olive and blue, grayscale two darks;
    the outline's width must tell them apart."""
    css = resources.files("tinygrad_edu").joinpath("player.html").read_text(encoding="utf-8")
    assert _stroke_width(css, ".drawing g.node.current") >= 1.5 * _stroke_width(css, ".drawing g.node.done")
