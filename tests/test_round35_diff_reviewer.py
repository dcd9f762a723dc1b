"""A reviewer of round 35's whole diff (``git diff 42d593a``), reading each hunk for fixes that cover one case of a
defect but not its siblings.

Defects found (xfail until fixed): ``plot_history`` now refuses a list of tuples of costs as "one row per episode",
but it refused the other orientation too: ``g_costs, d_costs = zip(*costs)`` (the unzip idiom) gives one tuple per
run, and ``plot_history([g_costs, d_costs])`` was refused with advice that called them rows; while the same table as
an array, ``np.array(costs)`` of shape (episodes, 2), still drew one run per episode without a word.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value


def _costs(episodes: int = 12) -> list[tuple[float, float]]:
    """One row per episode of two costs (a generator's and a discriminator's), as ``costs.append((g, d))`` keeps."""
    return [(1.0 / (i + 1), 2.0 + 0.1 * i) for i in range(episodes)]


def _drawn(figure) -> list[list[float]]:
    return sorted(list(map(float, line.get_ydata())) for line in figure.axes[0].get_lines())


def test_plot_history_draws_the_runs_of_unzipped_costs():
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    costs = _costs()
    g_costs, d_costs = zip(*costs, strict=True)  # one tuple per run, 12 episodes each
    figure = plots.plot_history([g_costs, d_costs], labels=["generator", "discriminator"])
    assert _drawn(figure) == sorted([[g for g, _ in costs], [d for _, d in costs]])


def test_plot_history_refuses_an_array_of_one_row_per_episode():
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    with pytest.raises(TypeError, match=r"12 rows of 2 costs, one row per episode"):
        plots.plot_history(np.array(_costs()))


def test_plot_history_draws_an_array_of_one_row_per_run():
    """The other orientation, ``np.array([h1.cost, h2.cost])``: two runs of 12 episodes, drawn as they are."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    runs = np.array(_costs()).T
    assert _drawn(plots.plot_history(runs)) == sorted(runs.tolist())


def test_plot_history_still_refuses_tuples_of_one_row_per_episode():
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    with pytest.raises(TypeError, match=r"^plot_history: got a list of 12 tuples of 2 costs, one row per episode"):
        plots.plot_history(_costs())


def test_numpy_defaults_written_out_differentiate_as_the_plain_call():
    """``np.exp(v, where=True)`` is ``np.exp(v)``: the same numbers and the gradient eˣ; a mask is still refused."""
    x = np.array([-1.0, 0.5, 2.0])
    v = Value(x)
    out = np.exp(v, where=True, casting="same_kind")
    assert isinstance(out, Value)
    out.sum().backward()
    np.testing.assert_allclose(out.data, np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(v.grad, np.exp(x), rtol=1e-15)
    with pytest.raises(TypeError, match=r"np\.exp: where= not supported"):
        np.exp(Value(x), where=np.array([True, False, True]))
