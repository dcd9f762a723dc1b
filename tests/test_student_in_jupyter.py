"""What a student working in Jupyter sees (found by exploring the package in notebook cells): the progress bar at the
end of a run, the warning that explains why a run stopped, plots of hand-collected costs, error messages for the
package's own seed=/rng= words, a Value's HTML table, the dependency tree's node names and weights set by hand."""

from __future__ import annotations

import io
import sys
import types
import warnings

import numpy as np
import pytest

from tinygrad_edu import data, fit, nn, optim, training


def _data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    return x, x**2


class _RecordingBar:
    """A stand-in for tqdm's bar that remembers what fit shows on it."""

    def __init__(self, total):
        self.total, self.n, self.shown, self.closed_at = total, 0, [], None

    def update(self, n):
        self.n += n

    def set_postfix(self, refresh=True, **values):
        self.shown.append(values["cost"])

    def refresh(self):
        pass

    def close(self):
        self.closed_at = (self.n, self.total, self.shown[-1] if self.shown else None)


def test_the_progress_bar_ends_with_the_last_episodes_cost(monkeypatch):
    """A student watches the bar of ``fit(progress=True)`` in a notebook: when the cell is done, the cost on the
    bar should be the cost training ended with.  Now it is whatever was shown up to 0.2 s before the end (an
    Armijo run of 1375 episodes in a second ended its bar with ``cost=0.11`` where its last cost was 0.0821), or,
    for a run shorter than 0.2 s, no cost at all."""
    bars = []

    def recording_bar(enabled, episodes, label):
        bars.append(_RecordingBar(episodes))
        return bars[-1]

    clock = iter(np.arange(0.0, 100.0, 0.001))  # a fast machine: every episode takes a millisecond
    monkeypatch.setattr(training, "_progress_bar", recording_bar)
    monkeypatch.setattr(training, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.5), episodes=5)
    assert bars[0].closed_at == (5, 5, f"{history.cost[-1]:.3g}")


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_run_that_reached_tol_ends_with_a_full_progress_bar(monkeypatch):
    """``fit(..., episodes=100000, tol=0.05)`` is how the seed's stopping rule ‖∇C‖ ≤ tol is meant to be used: many
    episodes allowed, few needed.  When it stops because the gradient is small enough, training succeeded, so the
    bar should end full, as after the last of the episodes.  Now it ends as ``0%| | 17/100000 [00:00<02:07, …]``,
    with two minutes still to go, and in a notebook tqdm colours such an unfinished bar red, as for an error or a
    Ctrl-C: a student reads it as a failure."""
    pytest.importorskip("tqdm")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.5), episodes=100000, tol=10.0)
    assert history.stopped == "tol" and history.episodes == 1
    last = terminal.getvalue().split("\r")[-1]
    assert "100%" in last and "1/1 " in last, last


def test_the_no_descent_step_warning_points_at_the_line_that_called_fit():
    """When Armijo finds no step inside ``fit``, the student's cell prints a RuntimeWarning.  Like fit's own
    DivergenceWarning, it should name the student's line (the call of ``fit``).  Now it names
    ``tinygrad_edu/training.py:293`` (``run.optimizer.step(closure, cost=cost)``), which means nothing to the
    student, and because Python shows a warning once per place in a module (IPython resets this only for the
    notebook's own lines), every later run that stops the same way, in this or any other cell, shows no warning
    at all until the kernel is restarted."""
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    armijo = optim.Armijo(net, sigma=0.999, initial_step=1e6, alpha=0.5, max_backtracks=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, x, y, optimizer=armijo, episodes=20, progress=False)
    assert history.stopped == "no descent step"
    [warning] = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert "Armijo.step" in str(warning.message)
    assert warning.filename == __file__, warning.filename


def test_plot_history_takes_the_costs_a_hand_written_loop_collected():
    """The seed's section 7.1 loop written by hand (as notebooks/06_training.ipynb does) ends each episode with
    ``costs.append(cost)``; ``plots.plot_history(costs)`` is then the natural next cell.  Each cost is a Value of
    one number, which ``float(cost)``, ``f"{cost:.4f}"`` and ``History``'s repr all treat as its number.  Now the
    plot is refused with "expected a History, a list of Histories, a dict of label → History or a list of costs,
    got list": it says a list of costs is fine, and that the student gave a list.  The same costs inside
    ``History(cost=costs)`` print fine but plot as "the costs of run 1 are not numbers"."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import losses, plots
    from tinygrad_edu.training import History

    x, y = _data(10)
    net = nn.MLP([1, 3, 1], rng=0)
    opt = optim.GradientDescent(net, 0.5)
    costs = []
    for _ in range(4):
        cost = losses.squared_error(net(x), y)
        net.zero_grad()
        cost.backward()
        opt.step()
        costs.append(cost)
    numbers = [float(cost) for cost in costs]
    for given in (costs, History(cost=costs), {"by hand": costs}):
        figure = plots.plot_history(given)
        assert list(figure.axes[0].lines[0].get_ydata()) == numbers


def _fit_with(**keywords):
    net = nn.MLP([1, 2, 1], rng=0)
    return fit(net, *_data(5), optimizer=optim.GradientDescent(net, 0.1), episodes=1, progress=False, **keywords)


_SWAPPED_SEED_WORDS = {
    "nn.MLP(sizes, seed=0)": ("rng=", lambda: nn.MLP([1, 4, 1], seed=0)),
    "nn.Layer(1, 4, seed=0)": ("rng=", lambda: nn.Layer(1, 4, seed=0)),
    "optim.RandomSearch(net, seed=0)": ("rng=", lambda: optim.RandomSearch(nn.MLP([1, 2, 1], rng=0), seed=0)),
    "data.xsquared(50, rng=0)": ("seed=", lambda: data.xsquared(50, rng=0)),
    "fit(..., rng=0)": ("seed=", lambda: _fit_with(rng=0)),
}


@pytest.mark.parametrize("call", list(_SWAPPED_SEED_WORDS))
def test_seed_and_rng_given_to_the_wrong_function_say_the_other_word(call):
    """A student has just written ``x, y = xsquared(1000, seed=0)`` and ``fit(..., seed=0)`` (the README's
    words), and then ``nn.MLP([1, 12, 12, 1], seed=0)``.  The package says ``rng=`` there, and its errors say what
    to write where a name is not its own (``SGD(lr=…)``: "it is called learning_rate= here"), but this swap of its
    own two words gives only Python's "MLP.__init__() got an unexpected keyword argument 'seed'", which names
    ``__init__`` and does not say that the argument exists under the other name."""
    word, make = _SWAPPED_SEED_WORDS[call]
    with pytest.raises(TypeError) as error:
        make()
    assert word in str(error.value) and "__init__" not in str(error.value), str(error.value)


def test_the_html_table_does_not_call_shown_nan_and_inf_hidden():
    """A student's cost blew up at the end of a run: ``Value(costs)`` as a cell's last expression shows a table
    whose data row reads ``[ 0.  0.  0. ...  0. nan inf]``, and under it the note "data holds 1 NaN and 1 inf
    (not among the numbers shown)", which is false (both are right there) and makes the student look for two
    more.  The note is meant for what the summary hides (the text repr's note, "# data holds 1 NaN and 1 inf", says
    nothing about being shown)."""
    from tinygrad_edu import Value

    value = Value(np.r_[np.zeros(30), np.nan, np.inf])
    page = value._repr_html_()
    assert "nan" in page and "inf" in page.split("note")[0]  # the data row shows both
    assert "not among the numbers shown" not in page


def test_the_dependency_tree_takes_the_node_names_its_repr_shows():
    """``tree = viz.dependency_tree(cost)`` as a cell's last expression shows ``DependencyTree(cost C; 10 nodes: C,
    α², z², W², α¹, b², z¹, W¹, …; 9 edges)``, and the drawing labels the nodes the same way.  A student copies a
    name from there, ``tree.chain_rule("W¹")``, and gets ``KeyError: "DependencyTree.chain_rule: no node named
    'W¹'; …"``: the names it prints are not names it accepts."""
    from tinygrad_edu import losses, viz

    net = nn.Network(nn.Layer(1, 1, rng=0), nn.Layer(1, 1, rng=1))
    cost = losses.squared_error(net(np.array([[0.5]])), np.array([[0.25]]))
    cost.backward()
    tree = viz.dependency_tree(cost)
    assert "W¹" in repr(tree)
    assert tree.chain_rule("W¹") == tree.chain_rule("W^1")
    assert tree.path("W¹") == tree.path("W^1")
    assert tree.chain_lines("W¹") == tree.chain_lines("W^1")


def test_weights_of_the_wrong_shape_set_through_data_are_named_by_the_layer():
    """The seed sets weights by hand; a student writes ``net[0].weights.data = [0.5, -0.5]`` for a 1 → 2 layer
    (the row ``[[0.5, -0.5]]`` meant).  ``net[0].weights = Value([0.5, -0.5])`` would be refused at once ("layer 1:
    weights must have shape (1, 2) (1 input, 2 neurons), got a Value of shape (2,)"), but through ``.data`` the
    numbers are taken, and the next forward pass fails with ``matmul: shapes (1, 1) and (2,) are not aligned
    (1 != 2)``, naming neither the layer nor its weights (and ``net.save`` silently writes a file without its
    architecture).  The forward pass should say which layer's weights have the wrong shape and what it should be."""
    net = nn.MLP([1, 2, 1], rng=0)
    net[0].weights.data = [0.5, -0.5]
    with pytest.raises(ValueError) as error:
        net([[1.0]])
    message = str(error.value)
    assert "layer 1" in message and "weights" in message and "(1, 2)" in message, message
