"""A senior review of round 34's whole change (00698e7..): each new behaviour read against the house rules and
against the other fixes of the round, then used for real.

Defects (each test marked xfail until fixed):

* Newton's "too many parameters" warning (new this round) used ``stacklevel=3``: under ``fit`` it pointed at a line
  of training.py, where Python (and IPython) show a warning once per place for the whole session, so a second run
  never warned; Adam's overflow warning of the same round uses ``checks.outside_the_package()`` for exactly this.
* The round's ``_rate_text`` (learning rates labelled as given) compared the text with the rate converted to a
  float64: a float32 rate, np.float32(0.1), was labelled "η = 0.10000000149011612", where the label said 0.1 before
  the round (and checks' own errors write a float32 by its own digits).
* fit's new advice for NaN in whole columns said "column 0 hold them".
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.training import fit

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from tinygrad_edu import plots  # noqa: E402


def bowl(p: Value) -> Value:
    return (p * p).sum()


def _legend_texts(fig) -> list[str]:
    return [text.get_text() for ax in fig.axes if ax.get_legend() for text in ax.get_legend().get_texts()]


def _newton_warnings(run) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if "Newton.step" in str(w.message) and "backward passes" in str(w.message)]


def _small_newton_problem() -> tuple[nn.MLP, optim.Newton, np.ndarray, np.ndarray]:
    net = nn.MLP([2, 3, 1], rng=0)  # 13 parameters
    opt = optim.Newton(net.parameters(), damping=1e-3)
    opt.MANY_PARAMETERS = 5  # (the instance's bar, below the 13 parameters: the warning is due)
    x = np.random.default_rng(0).random((6, 2))
    return net, opt, x, (x ** 2).sum(axis=1, keepdims=True)


# --- defects ---------------------------------------------------------------------------------------------------

def test_newtons_cost_warning_under_fit_points_at_the_users_line() -> None:
    net, opt, x, y = _small_newton_problem()
    found = _newton_warnings(lambda: fit(net, x, y, optimizer=opt, cost=losses.squared_error, episodes=1))
    assert len(found) == 1
    assert found[0].filename == __file__, found[0].filename


def test_plot_descent_labels_a_float32_rate_by_its_own_digits() -> None:
    fig = plots.plot_descent(bowl, [1.0, 1.0], np.float32(0.1), steps=2, resolution=5)
    assert "learning rate η = 0.1" in _legend_texts(fig)


def test_plot_learning_rates_labels_a_float32_rate_by_its_own_digits() -> None:
    fig = plots.plot_learning_rates(bowl, [1.0, 1.0], {"a": np.float32(0.1), "b": np.float32(0.25)}, armijo=False,
                                    steps=2, resolution=5)
    titles = [ax.get_title() for ax in fig.axes]
    assert "a: η = 0.1" in titles and "b: η = 0.25" in titles, titles


def test_one_column_of_nan_is_said_in_the_singular() -> None:
    x = np.random.default_rng(0).random((5, 3))
    x[:, 1] = np.nan  # a constant column standardised: 0/0
    net = nn.MLP([3, 1], rng=0)
    with pytest.raises(ValueError, match=r"; column 1 holds them in every sample"):
        fit(net, x, np.zeros((5, 1)), optimizer=optim.Adam(net.parameters()), cost=losses.squared_error, episodes=1)


# --- guards ------------------------------------------------------------------------------------------------------

def test_newtons_cost_warning_of_a_direct_step_points_at_the_callers_line() -> None:
    """Called directly (a loop of one's own), the warning is the caller's line, once per optimizer and n."""
    net, opt, x, y = _small_newton_problem()

    def closure() -> Value:
        return losses.squared_error(net(x), y)

    found = _newton_warnings(lambda: opt.step(closure))
    assert len(found) == 1 and found[0].filename == __file__, [w.filename for w in found]
    assert "13 parameters" in str(found[0].message)
    assert not _newton_warnings(lambda: opt.step(closure))  # the same n again: said once


@pytest.mark.parametrize("rate", [0.1, 1.001, 1.0000001, 0.1 + 0.2, 2.0 ** -20, 3])
def test_a_float64_rate_of_ones_own_is_labelled_so_that_it_reads_back(rate: float) -> None:
    """The round's fix (1.001 was "1"): the label reads back as the rate, but for a few roundings (0.1 + 0.2 is
    written 0.3, as np.arange's 0.07500000000000001 is 0.075), at 6 digits where they do."""
    fig = plots.plot_descent(bowl, [1.0, 1.0], rate, steps=1, resolution=5)
    label = next(text for text in _legend_texts(fig) if text.startswith("learning rate η = "))
    written = label.removeprefix("learning rate η = ")
    assert abs(float(written) - rate) <= 1e-15 * rate
    assert len(written.replace(".", "").lstrip("0")) <= 6 or float(f"{rate:.6g}") != rate


def test_a_float32_rate_still_descends_with_its_float64_value() -> None:
    """The label is the float32's; the path is that of the number itself (w ← w − η·2w with η = float(np.float32))."""
    fig = plots.plot_descent(bowl, [1.0, 1.0], np.float32(0.1), steps=1, resolution=5)
    line = next(line for ax in fig.axes for line in ax.get_lines() if len(line.get_xydata()) == 2)
    eta = float(np.float32(0.1))
    np.testing.assert_allclose(line.get_xydata()[1], [1 - 2 * eta, 1 - 2 * eta], rtol=0, atol=1e-15)
