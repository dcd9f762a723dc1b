"""A teacher drawing cost landscapes for lectures: x², Rosenbrock, a plateau, costs near 1e-12 and 1e12, NaN regions,
long titles; each defect test asserts what the figure on the slide should show."""

from __future__ import annotations

import struct
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from tinygrad_edu import Value, plots  # noqa: E402
from tinygrad_edu.calculus import stationary_point  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
LONG_TITLE = "Gradient descent on the cost of a one-neuron network, weight against bias, for the lecture " * 2


def _bowl(p: Value) -> Value:
    return p[0] ** 2 + p[1] ** 2


def _colour_bar_labels(fig) -> list[tuple[float, str]]:
    """(cost, label) of every labelled tick of the figure's colour bar, as drawn."""
    FigureCanvasAgg(fig).draw()
    bar = fig.axes[-1]
    return [(float(tick), label.get_text()) for tick, label in zip(bar.get_yticks(), bar.get_yticklabels(),
                                                                    strict=True) if label.get_text()]


def _png_width(path) -> int:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])[0]


def _pixel(fig, ax, x: float, y: float) -> np.ndarray:
    """The RGB colour (0 to 255) the figure draws at the data point (x, y) of ``ax``."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())
    column, row = ax.transData.transform((x, y))
    return image[image.shape[0] - 1 - int(round(row)), int(round(column)), :3].astype(int)


# --- defects ----------------------------------------------------------------------------------------------------
def test_colour_bar_labels_of_a_landscape_far_from_zero_tell_the_levels_apart():
    raised = lambda p: 5.0 + 1e-12 * (p[0] ** 2 + p[1] ** 2)  # noqa: E731
    fig = plots.plot_descent(raised, [2.0, 1.5], 0.1, steps=3, resolution=21)
    labels = _colour_bar_labels(fig)
    texts = [text for _, text in labels]
    assert len(labels) >= 3 and len(set(texts)) == len(texts), texts
    ticks = np.array([cost for cost, _ in labels])
    gap = float(np.min(np.diff(ticks)))
    for cost, text in labels:  # each label within a tenth of a tick spacing of its cost
        assert abs(float(text.replace("−", "-")) - cost) < 0.1 * gap, (cost, text)


@pytest.mark.parametrize("bounds", [None, (-1000.0, 1000.0, -1000.0, 1000.0)])
def test_the_levels_of_a_deep_valley_get_colours_across_the_whole_colour_map(bounds):
    fig = plots.plot_descent(_bowl, [2.0, 1.5], 0.1, steps=25, bounds=bounds)
    filled = fig.axes[0].collections[0]
    levels = np.asarray(filled.levels)
    assert levels[-1] / levels[0] > 1e3  # (the log-spaced levels of a deep valley)
    bands = np.asarray(filled.get_facecolor())[:, :3]
    assert len(bands) == len(levels) - 1
    half = len(bands) // 2
    # the bands below the middle level, those of the valley, run through half of viridis (purple to teal), not
    # one shade of purple: each band's colour differs from the one at the bottom, the middle band's by a lot
    assert np.abs(bands[half] - bands[0]).max() > 0.25, bands[: half + 1]
    steps = np.abs(np.diff(bands, axis=0)).max(axis=1)
    assert steps.min() > 0.003, steps


@pytest.mark.parametrize("plot", ["plot_descent", "plot_history", "plot_derivatives", "plot_stationary_points"])
def test_a_long_title_wraps_and_keeps_the_figure_its_width(plot, tmp_path):
    draw = {"plot_descent": lambda **kw: plots.plot_descent(_bowl, [2.0, 1.5], 0.1, steps=3, resolution=11, **kw),
            "plot_history": lambda **kw: plots.plot_history([1.0, 0.5, 0.25], **kw),
            "plot_derivatives": lambda **kw: plots.plot_derivatives(lambda x: x ** 2, 1, points=21, **kw),
            "plot_stationary_points": lambda **kw: plots.plot_stationary_points(
                _bowl, [stationary_point(_bowl, (1.0, 1.0))], resolution=11, **kw)}[plot]
    draw(title="short", path=tmp_path / "short.png")
    fig = draw(title=LONG_TITLE, path=tmp_path / "long.png")
    assert _png_width(tmp_path / "long.png") <= 1.05 * _png_width(tmp_path / "short.png")
    assert fig.axes[0].get_title() == LONG_TITLE  # (the whole title, on more lines)


# --- guards -------------------------------------------------------------------------------------------------------
def test_a_long_mathtext_title_is_drawn_as_a_formula_not_as_its_source(tmp_path):
    """Wrapping a title must not cut it between its $ signs: the formula would be printed as TeX source."""
    title = ("The cost " + r"$C(w, b) = \frac{1}{n} \sum_i (\tanh(w x_i + b) - y_i)^2 + \lambda (w^2 + b^2)$"
             + " of the one-neuron network, drawn over its weight and bias for the lecture")
    plots.plot_descent(_bowl, [2.0, 1.5], 0.1, steps=3, resolution=11, title=title, path=tmp_path / "math.svg")
    texts = ("".join(text.itertext()) for text in ET.parse(tmp_path / "math.svg").iter(f"{SVG}text"))
    drawn = "".join("".join(texts).split())  # (mathtext writes one <tspan> a letter, between line breaks)
    assert "oftheone-neuronnetwork" in drawn  # (the words of the title are the SVG's text)
    assert "\\frac" not in drawn and "\\sum" not in drawn and "$" not in drawn, drawn


def test_start_and_end_of_the_path_are_drawn_on_top_of_the_contours():
    fig = plots.plot_descent(_bowl, [2.0, 1.5], 0.1, steps=25, resolution=31)
    ax = fig.axes[0]
    start, end = ax.lines[1].get_xydata()[0], ax.lines[2].get_xydata()[0]
    assert tuple(start) == (2.0, 1.5) and np.hypot(*end) < 0.02  # 0.8²⁵ · 2.5 ≈ 0.009
    assert (_pixel(fig, ax, *start) >= 245).all()  # the white square, not the contour's green under it
    red, green, blue = _pixel(fig, ax, *end)
    assert red > 200 and green > 170 and blue < 80  # the gold star, not the purple valley


def test_a_nan_region_is_left_blank_without_warnings():
    """log p[0] is NaN for p[0] < 0: that half of the window stays the background, and nothing warns."""
    cost = lambda p: p[0].log() ** 2 + p[1] ** 2 + 1e-3  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plots.plot_descent(cost, [3.0, 1.0], 0.2, bounds=(-1.0, 4.0, -2.0, 2.0), resolution=41)
        ax = fig.axes[0]
        assert (_pixel(fig, ax, -0.5, 1.0) >= 250).all()
    assert not (_pixel(fig, ax, 2.0, 1.0) >= 250).all()  # where f is defined: a colour


def test_colour_bar_of_a_bowl_spans_the_costs_on_its_grid():
    """The colour bar's ends are the least and greatest cost on the contour grid (x² + 10 y² by hand)."""
    f = lambda p: p[0] ** 2 + 10 * p[1] ** 2  # noqa: E731
    fig = plots.plot_descent(f, [0.9, 0.8], 0.01, steps=3, resolution=21, bounds=(-1.0, 1.0, -1.0, 1.0))
    filled = fig.axes[0].collections[0]
    xs = np.linspace(-1.0, 1.0, 21)
    grid = xs[None, :] ** 2 + 10 * xs[:, None] ** 2
    assert filled.levels[0] <= grid.min() and filled.levels[-1] >= grid.max()
    assert filled.levels[-1] - filled.levels[0] < 1.2 * (grid.max() - grid.min())
