"""plot_descent given the points of a path: they must begin at its start, which is marked there.  Every number is read
back from the Figure and checked against the input or a hand-worked value."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import plots  # noqa: E402


def bowl(p):
    """f(p) = ‖p‖²."""
    return (p * p).sum()


def _line(ax, label: str):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


# --- plot_descent with the points of a path ------------------------------------------------------------------------
def test_a_given_path_that_does_not_begin_at_start_is_refused_naming_both_points():
    # the points after each step of a run from (1, 1): the start was marked at (0.5, 0.5), where nobody started
    with pytest.raises(ValueError, match=r"plot_descent: the path given as optimizer_or_steps must begin at start "
                                         r"\(1\.0, 1\.0\), but its first point is \(0\.5, 0\.5\); .*np\.vstack"):
        plots.plot_descent(bowl, [1.0, 1.0], [[0.5, 0.5], [0.25, 0.25]], resolution=5, levels=3)


def test_a_given_path_from_start_is_drawn_as_given_with_start_marked_first():
    path = np.array([[1.0, 1.0], [0.5, 0.5], [0.25, 0.25]])  # gradient descent on ‖p‖² with η = 0.25
    ax = plots.plot_descent(bowl, [1.0, 1.0], path, resolution=5, levels=3).axes[0]
    np.testing.assert_array_equal(_line(ax, "path").get_xydata(), path)
    np.testing.assert_array_equal(_line(ax, "start").get_xydata(), [[1.0, 1.0]])
    np.testing.assert_array_equal(_line(ax, "after 2 steps").get_xydata(), [[0.25, 0.25]])
    # a path computed in float32 begins at start rounded to 7 digits: that is the same start
    rounded = plots.plot_descent(bowl, [0.1, 0.3], np.float32([[0.1, 0.3], [0.05, 0.15]]), resolution=5, levels=3)
    np.testing.assert_allclose(_line(rounded.axes[0], "start").get_xydata(), [[0.1, 0.3]], rtol=1e-7)

