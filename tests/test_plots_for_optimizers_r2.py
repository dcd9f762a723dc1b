"""A teacher drawing every optimizer's run for a lecture (gradient descent, Armijo, SGD with momentum, Adam, Newton,
random search) on one 2-D cost and on the x² network, with the package's plots.

Defects (xfail until fixed):

* ``plot_descent`` with ``optim.RandomSearch`` counted every guess as a step ("after 40 steps" where 9 changes were
  kept) and drew each refused guess as a point of the path, on top of the one before.
* ``plot_history`` of one plain list of costs showed a legend whose one entry, "run 1", named no other run.

Guards: the path of every gradient optimizer is the one it took (each point where the parameters were after a step);
a plain list's curve is its costs at episodes 1 … n; the SVG's title names the method.

Left alone: ``plot_history`` draws no History's ``final_cost`` (the cost after the last update), so a random search's
last kept change is not on its curve; a mark for it, without a legend entry, was tried and not taken.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tinygrad_edu import Value, fit, nn, optim, plots  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402


def _valley(p: Value) -> Value:
    """The narrow valley x² + 10y²."""
    return p[0] ** 2 + 10 * p[1] ** 2


def _valley_numpy(p: np.ndarray) -> float:
    return float(p[0] ** 2 + 10 * p[1] ** 2)


START = np.array([-1.0, 1.0])


def _path_line(fig):
    """The path's line of plot_descent: the first line of its axes, labelled with the method."""
    return fig.axes[0].get_lines()[0]


def _random_search_by_hand(guesses: int, scale: float, seed: int) -> tuple[np.ndarray, int]:
    """The points random search keeps on the valley, computed with numpy alone: the same uniform draws, a change kept
    only where the cost falls; returns the kept points (start first) and how many guesses were made."""
    rng = np.random.default_rng(seed)
    x, points = START.copy(), [START.copy()]
    for _ in range(guesses):
        trial = x + rng.uniform(-scale, scale, x.shape)
        if _valley_numpy(trial) < _valley_numpy(x):
            x = trial
            points.append(x.copy())
    return np.array(points), guesses


# --- defect 1: random search's path -----------------------------------------------------------------------------
def test_random_search_path_has_one_point_per_kept_change_and_says_how_many_of_how_many_guesses():
    kept, guesses = _random_search_by_hand(40, 0.3, 0)
    assert 1 < len(kept) - 1 < guesses  # (some refused: else the test says nothing)
    fig = plots.plot_descent(_valley, START, lambda ps: optim.RandomSearch(ps, 0.3, rng=0), steps=guesses,
                             resolution=5, levels=3)
    line = _path_line(fig)
    np.testing.assert_allclose(np.column_stack([line.get_xdata(), line.get_ydata()]), kept, rtol=1e-12)
    title = fig.axes[0].get_title()
    assert f"{len(kept) - 1} kept changes of {guesses} guesses" in title
    assert f"after {guesses} steps" not in title
    star = [ln.get_label() for ln in fig.axes[0].get_lines() if ln.get_label().startswith("after")]
    assert star == [f"after {len(kept) - 1} kept changes of {guesses} guesses"]


# --- defect 2: the final cost --------------------------------------------------------------------------------------
def _x2_history(optimizer, episodes: int = 8) -> History:
    x = np.linspace(-1, 1, 9).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], rng=0)
    return fit(net, x, x ** 2, optimizer=optimizer(net), episodes=episodes, progress=False)


def test_one_plain_list_of_costs_shows_no_legend_entry():
    fig = plots.plot_history([3.0, 2.0, 1.5, 1.0])
    shown = [text.get_text() for legend in fig.legends if legend.get_visible() for text in legend.get_texts()]
    assert shown == []


def test_two_plain_lists_still_tell_their_runs_apart():
    """Guard: the fix for one list keeps "run 1" and "run 2" for two (they need a legend)."""
    fig = plots.plot_history([[3.0, 2.0], [3.0, 1.0]])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["run 1", "run 2"]
    assert fig.legends[0].get_visible()


# --- guards -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("factory", "name"), [
    (lambda ps: optim.GradientDescent(ps, 0.04), "GradientDescent"),
    (lambda ps: optim.SGD(ps, 0.02, momentum=0.9), "SGD"),
    (lambda ps: optim.Adam(ps, 0.1), "Adam"),
])
def test_a_gradient_optimizers_path_is_where_it_went(factory, name):
    """Guard: the points drawn are the optimizer's own points after each step (run here on a Value of our own),
    and the title says "gradient descent: <name>" with the number of steps."""
    p = Value(START.copy())
    opt = factory([p])
    expected = [START.copy()]
    for _ in range(6):
        opt.zero_grad()
        opt.step(lambda: _valley(p))
        expected.append(p.data.copy())
    fig = plots.plot_descent(_valley, START, factory, steps=6, resolution=5, levels=3)
    line = _path_line(fig)
    np.testing.assert_allclose(np.column_stack([line.get_xdata(), line.get_ydata()]), expected, rtol=1e-12)
    assert fig.axes[0].get_title().startswith(f"gradient descent: {name}, cost ")
    assert fig.axes[0].get_title().endswith("after 6 steps")


def test_gradient_descent_path_matches_the_closed_form_on_the_valley():
    """Guard: x² + 10y² with η: x_k = (1 − 2η)^k x_0, y_k = (1 − 20η)^k y_0."""
    eta, k = 0.04, np.arange(11)
    path = plots.descent_path(_valley, START, eta, steps=10)
    np.testing.assert_allclose(path, np.column_stack([(1 - 2 * eta) ** k * START[0], (1 - 20 * eta) ** k * START[1]]),
                               rtol=1e-12, atol=1e-15)


def test_a_plain_list_is_drawn_at_episodes_1_to_n(tmp_path):
    """Guard: the curve of a list of costs is those costs at 1 … n, and the SVG's title names the plot."""
    costs = [3.0, 2.0, 1.5, 1.0]
    fig = plots.plot_history(costs, title="random search on x²", path=tmp_path / "h.svg")
    line = fig.axes[0].get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(line.get_ydata(), costs)
    svg = (tmp_path / "h.svg").read_text(encoding="utf-8")
    assert re.search(r"<title>random search on x²</title>", svg)
