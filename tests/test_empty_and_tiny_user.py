"""The smallest cases: zero samples, one sample as (n,) or (1, n), a layer of one neuron, batch sizes at and past
the number of samples, a cost of exactly 0 at the start, data helpers with 0, 1 and 2 samples, derivatives of 0-d
and empty inputs, check_gradients on empty inputs, drawings of a leaf alone, plots of a one-episode History and the
command line with --episodes 0 or 1.

Each case must give a result that is mathematically right or a clear ValueError/TypeError naming the function and
the size at fault.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, cli, data, fit, nn, optim, plots, viz
from tinygrad_edu.autodiff import grad, hessian, jacobian
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import History

# ------------------------------------------------------------------------------------------------ defects (xfail)

def test_dependency_tree_of_a_leaf_says_it_is_a_leaf_and_changes_no_grad():
    x = Value(2.0, label="x")
    with pytest.raises(ValueError, match=r"^dependency_tree: the cost 'x' is a leaf") as error:
        dependency_tree(x)
    assert "no labelled Values" not in str(error.value)
    assert x.grad is None
    with pytest.raises(ValueError, match=r"^draw_dependency_tree: the cost is a leaf"):
        viz.draw_dependency_tree(Value(1.5))


def _shown_cost_labels(history):
    ax = plots.plot_history(history).axes[0]
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    shown = [(label.get_text(), label.get_window_extent())
             for minor in (False, True)
             for where, label in zip(ax.get_yticks(minor=minor), ax.get_yticklabels(minor=minor), strict=True)
             if low <= where <= high and label.get_visible() and label.get_text()]
    return ax, shown


@pytest.mark.parametrize("costs", [[1.0], [10.0], [0.01, 0.01]])
def test_one_episode_history_has_cost_labels_that_do_not_overlap(costs):
    history = History(cost=costs, gradient_norm=[1.0] * len(costs), step_size=[0.1] * len(costs),
                      seconds=[0.1] * len(costs), label="one")
    ax, shown = _shown_cost_labels(history)
    low, high = ax.get_ylim()
    assert low < costs[0] < high and len(shown) >= 2
    assert not [(a, b) for (a, box_a), (b, box_b) in combinations(shown, 2) if box_a.overlaps(box_b)]


def test_fit_on_one_sample_given_flat_says_to_make_rows():
    net = nn.MLP([1, 2], rng=0)
    with pytest.raises(ValueError, match=r"^fit: inputs hold 1 sample \(shape \(1,\)\) but targets hold 2 .*"
                                         r"inputs\.reshape\(1, -1\) and targets\.reshape\(1, -1\)"):
        fit(net, np.array([0.5]), np.array([0.1, 0.9]),
            optimizer=optim.GradientDescent(net.parameters(), learning_rate=0.1), episodes=1, progress=False)


# ----------------------------------------------------------------------------------------------------- guards

def test_following_the_one_sample_advice_trains_as_one_row():
    """(1, 1) inputs and (1, 2) targets: one sample, whose first cost is its own squared error."""
    net = nn.MLP([1, 2], rng=0)
    x, y = np.array([0.5]).reshape(1, -1), np.array([0.1, 0.9]).reshape(1, -1)
    expected = float(((net(np.array([0.5])).data - np.array([0.1, 0.9])) ** 2).sum())
    history = fit(net, x, y, optimizer=optim.GradientDescent(net.parameters(), learning_rate=0.1), episodes=1,
                  progress=False)
    assert history.cost[0] == pytest.approx(expected, rel=1e-12)


def test_check_gradients_still_checks_the_elements_beside_an_empty_input():
    report = check_gradients(lambda a, b: (a * a).sum() + b * b * b, np.zeros(0), 2.0)
    assert report.elements == 1
    np.testing.assert_allclose(report.analytic[1], 3 * 2.0 ** 2, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [5, 6, 1000])
def test_a_batch_at_or_past_the_number_of_samples_is_one_full_batch_update(batch_size):
    x = np.linspace(-1.0, 1.0, 5).reshape(-1, 1)
    y = x ** 2
    full, batched = nn.MLP([1, 3, 1], rng=0), nn.MLP([1, 3, 1], rng=0)
    h_full = fit(full, x, y, optimizer=optim.GradientDescent(full.parameters(), learning_rate=0.5), episodes=3,
                 progress=False)
    h_batch = fit(batched, x, y, optimizer=optim.GradientDescent(batched.parameters(), learning_rate=0.5),
                  episodes=3, batch_size=batch_size, shuffle=False, progress=False)
    np.testing.assert_allclose(h_batch.cost, h_full.cost, rtol=1e-12)
    for a, b in zip(full.parameters(), batched.parameters(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, learning_rate=0.1), lambda p: optim.Armijo(p),
                                  lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.9),
                                  lambda p: optim.Adam(p), lambda p: optim.Newton(p)])
def test_a_cost_of_exactly_zero_at_the_start_stops_at_once_and_changes_nothing(make):
    net = nn.MLP([1, 3, 1], rng=0)
    x = np.array([[0.0], [0.5], [1.0]])
    y = net(x).data.copy()  # the network's own outputs: C = 0, ∇C = 0
    before = [p.data.copy() for p in net.parameters()]
    history = fit(net, x, y, optimizer=make(net.parameters()), episodes=5, progress=False)
    assert (history.stopped, history.cost, history.final_cost) == ("zero gradient", [0.0], 0.0)
    for p, b in zip(net.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_zero_samples_and_zero_episodes_are_refused_by_name():
    net = nn.MLP([1, 1], rng=0)
    gd = optim.GradientDescent(net.parameters(), learning_rate=0.1)
    with pytest.raises(ValueError, match="^fit: there are no samples to train on"):
        fit(net, np.zeros((0, 1)), np.zeros((0, 1)), optimizer=gd, episodes=1, progress=False)
    with pytest.raises(ValueError, match="^fit: episodes must be an integer >= 1, got 0"):
        fit(net, np.zeros((2, 1)), np.zeros((2, 1)), optimizer=gd, episodes=0, progress=False)
    with pytest.raises(ValueError, match=r"^MLP: layer size 1 must be an integer >= 1, got 0"):
        nn.MLP([1, 0, 1])


def test_a_network_takes_one_sample_as_n_or_1_n_and_zero_samples_as_0_n():
    net = nn.MLP([3, 1, 2], rng=0)  # a hidden layer of one neuron
    x = np.array([0.2, -0.4, 0.9])
    one, row, none = net(x), net(x.reshape(1, -1)), net(np.zeros((0, 3)))
    assert (one.shape, row.shape, none.shape) == ((2,), (1, 2), (0, 2))
    np.testing.assert_array_equal(one.data, row.data[0])
    (w1, b1), (w2, b2) = [(layer.weights.data, layer.biases.data) for layer in net.layers]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    np.testing.assert_allclose(one.data, sigmoid(sigmoid(x @ w1 + b1) @ w2 + b2), rtol=1e-12)


def test_data_helpers_with_zero_one_and_two_samples():
    assert list(data.batches(np.zeros((0, 2)), np.zeros(0), batch_size=3)) == []
    assert len(data.batches(np.zeros((0, 2)), np.zeros(0), batch_size=3)) == 0
    assert data.one_hot([], classes=4).shape == (0, 4)
    with pytest.raises(ValueError, match=r"^train_test_split: .* leaves 1 test and 0 training"):
        data.train_test_split(np.ones((1, 2)), np.ones(1), test_fraction=0.5)
    with pytest.raises(ValueError, match=r"^train_test_split: .* leaves 0 test and 0 training"):
        data.train_test_split(np.ones((0, 2)), np.ones(0), test_fraction=0.5)
    train, test = data.train_test_split(np.array([[1.0], [2.0]]), np.array([10, 20]), test_fraction=0.5)
    assert len(train.inputs) == len(test.inputs) == 1
    assert sorted([train.labels[0], test.labels[0]]) == [10, 20]
    assert train.labels[0] == 10 * train.inputs[0, 0] and test.labels[0] == 10 * test.inputs[0, 0]


@given(st.floats(-3.0, 3.0))
def test_derivatives_of_a_0_d_input_are_the_closed_forms(x):
    f = lambda v: v ** 3  # noqa: E731
    assert grad(f)(x).shape == () and grad(f)(x).item() == pytest.approx(3 * x * x, rel=1e-12, abs=1e-12)
    assert hessian(f)(x).item() == pytest.approx(6 * x, rel=1e-12, abs=1e-12)
    assert jacobian(f)(x).item() == pytest.approx(3 * x * x, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_derivatives_of_an_empty_input_are_empty(shape):
    f = lambda v: (v * v).sum()  # noqa: E731
    assert grad(f)(np.zeros(shape)).shape == shape
    assert hessian(f)(np.zeros(shape)).shape == shape + shape
    assert jacobian(lambda v: v * 2.0)(np.zeros(shape)).shape == shape + shape
    assert jacobian(lambda v: v.sum() + Value(np.ones(2)))(np.zeros(shape)).shape == (2,) + shape


def test_a_leaf_alone_is_drawn_and_played(tmp_path):
    x = Value(2.0, label="x")
    source = viz.draw_graph(x).source
    assert "data 2" in source and source.count("->") == 0
    steps = viz.backprop_player(x).steps
    assert [s.phase for s in steps] == ["start", "backward", "result"]
    assert "∂x/∂x = 1" in steps[1].html


def test_a_history_of_no_episodes_is_refused_and_one_of_one_is_drawn():
    with pytest.raises(ValueError, match="^plot_history: run 1 has no episodes"):
        plots.plot_history(History())
    ax = plots.plot_history(History(cost=[0.7], gradient_norm=[1.0], step_size=[None], seconds=[0.1])).axes[0]
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [0.7]


def test_the_command_line_refuses_zero_episodes_and_runs_one(capsys, tmp_path):
    assert cli.main(["train", "--episodes", "0", "-o", str(tmp_path / "m.npz")]) == 2
    assert "--episodes: must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "m.npz").exists()
    assert cli.main(["train", "--episodes", "1", "--samples", "1", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "on 1 x² sample with" in out and "1 episode in" in out
    assert nn.load(tmp_path / "m.npz").parameters()[0].shape == (1, 12)
