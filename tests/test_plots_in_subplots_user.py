"""A matplotlib user who puts the package's plots beside their own figures: pyplot's state left alone, titles
replaceable or left out, an ``ax=`` refused with advice, styles and byte-identical files."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tinygrad_edu.calculus import stationary_point

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

from tinygrad_edu import plots  # noqa: E402  (after the skip: the plots need matplotlib)


def _bowl(p):
    return (p[0] - 1) ** 2 + 10 * p[1] ** 2


def _saddles(p):
    return p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]


# each plot with small arguments (a coarse contour grid: fast), keyword arguments added by the test
CALLS = {
    "plot_history": lambda **kw: plots.plot_history({"a": [1.0, 0.5, 0.25], "b": [2.0, 1.0, 0.4]}, **kw),
    "plot_activations": lambda **kw: plots.plot_activations(["relu", "tanh"], **kw),
    "plot_descent": lambda **kw: plots.plot_descent(_bowl, [-1.5, 0.8], 0.04, steps=5, resolution=12, **kw),
    "plot_learning_rates": lambda **kw: plots.plot_learning_rates(_bowl, [-1.5, 0.8], {"small": 0.01}, steps=4,
                                                                  armijo=False, resolution=12, **kw),
    "plot_armijo": lambda **kw: plots.plot_armijo(_bowl, [-1.0, 0.5], **kw),
    "plot_derivatives": lambda **kw: plots.plot_derivatives(lambda x: x ** 3 - x, order=2, points=101, **kw),
    "plot_stationary_points": lambda **kw: plots.plot_stationary_points(
        _saddles, [stationary_point(_saddles, [1.5, 1.5])], resolution=12, **kw),
}

WITH_TITLE = ["plot_history", "plot_descent", "plot_derivatives", "plot_stationary_points"]


def test_every_public_plot_function_is_one_of_those_tried_here():
    assert {name for name in plots.__all__ if name.startswith("plot_")} == set(CALLS)


@pytest.mark.parametrize("name", WITH_TITLE)
def test_an_empty_title_leaves_the_title_out(name):
    fig = CALLS[name](title="")
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == []


@pytest.mark.parametrize("name", WITH_TITLE)
def test_a_title_given_replaces_the_plots_own(name):
    fig = CALLS[name](title="mine")
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["mine"]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_ax_is_refused_saying_that_the_plot_draws_its_own_figure(name):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(TypeError, match=f"^{name}: there is no argument ax=.*Figure of its own.*fig.axes"):
            CALLS[name](ax=ax)
    finally:
        plt.close(fig)


def test_the_module_docstring_describes_every_public_function():
    doc = plots.__doc__ or ""
    assert [name for name in plots.__all__ if f":func:`{name}`" not in doc] == []
    assert "Every function returns" not in doc


def test_the_plots_leave_pyplots_figures_current_axes_and_settings_alone(monkeypatch):
    shown: list[object] = []
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: shown.append(args))
    mine, (left, right) = plt.subplots(1, 2)
    try:
        plt.sca(left)
        figures = plt.get_fignums()
        settings = {key: repr(value) for key, value in matplotlib.rcParams.items()}
        made = [CALLS["plot_history"]() for _ in range(50)] + [call() for call in CALLS.values()]
        assert all(isinstance(fig, matplotlib.figure.Figure) for fig in made)
        assert plt.get_fignums() == figures and plt.gcf() is mine and plt.gca() is left
        assert shown == []
        changed = {key for key, value in matplotlib.rcParams.items() if repr(value) != settings[key]}
        assert changed == set()
    finally:
        plt.close(mine)


def _png_pixels(path) -> np.ndarray:
    return matplotlib.image.imread(io.BytesIO(path.read_bytes()), format="png")[..., :3]


@pytest.mark.parametrize(("style", "axes_face", "figure_face"), [("dark_background", "black", "black"),
                                                                  ("ggplot", "#e5e5e5", "white")])
def test_a_matplotlib_style_is_drawn_and_saved_with_its_own_colours(tmp_path, style, axes_face, figure_face):
    with plt.style.context(style):
        fig = CALLS["plot_armijo"](path=tmp_path / "armijo.png")
    to_rgb = matplotlib.colors.to_rgb
    assert np.allclose(to_rgb(fig.axes[0].get_facecolor()), to_rgb(axes_face))
    assert np.allclose(_png_pixels(tmp_path / "armijo.png")[0, 0], to_rgb(figure_face), atol=0.02)


def test_a_title_set_afterwards_is_the_one_in_the_file_saved_then(tmp_path):
    fig = CALLS["plot_descent"]()
    fig.axes[0].set_title("replaced by the user")
    fig.savefig(tmp_path / "descent.svg", format="svg")
    text = (tmp_path / "descent.svg").read_text(encoding="utf-8")
    assert "replaced by the user" in text and "gradient descent:" not in text


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_saving_twice_writes_the_same_bytes_and_keeps_the_users_svg_salt(tmp_path, suffix):
    with matplotlib.rc_context({"svg.hashsalt": None}):
        CALLS["plot_stationary_points"](path=tmp_path / f"a{suffix}")
        CALLS["plot_stationary_points"](path=tmp_path / f"b{suffix}")
        assert matplotlib.rcParams["svg.hashsalt"] is None
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()
