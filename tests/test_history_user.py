"""A student keeping training records: the History fit returns, across runs and resumed runs, saved, loaded back,
compared and plotted (also from a pandas table, the way a saved History often comes back)."""

from __future__ import annotations

import dataclasses
import io
import json
import warnings

import numpy as np
import pytest

from tinygrad_edu import History, Value, fit, nn, optim, plots

pd = pytest.importorskip("pandas")

X = np.linspace(-1, 1, 16).reshape(-1, 1)
Y = X**2


def _net(seed: int = 0) -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)


def _armijo_history(episodes: int = 4, seed: int = 0) -> History:
    net = _net(seed)
    return fit(net, X, Y, optimizer=optim.Armijo(net), episodes=episodes, progress=False)


def _legend(fig) -> list[str]:
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


# ------------------------------------------------------------------------------------ plotting a History's table

@pytest.mark.parametrize("from_csv", [False, True], ids=["DataFrame", "read_csv"])
def test_a_history_kept_as_a_pandas_table_plots_as_the_history(from_csv):
    history = _armijo_history()
    table = pd.DataFrame(dataclasses.asdict(history))
    if from_csv:
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}  # (3: default)
        table = pd.read_csv(io.StringIO(table.to_csv(index=False)), **exact)
    fig = plots.plot_history(table)
    assert _legend(fig) == ["Armijo"]
    cost_axis, step_axis = fig.axes[:2]
    np.testing.assert_array_equal(cost_axis.get_lines()[0].get_ydata(), history.cost)
    np.testing.assert_array_equal(step_axis.get_lines()[0].get_ydata(), history.step_size)


def test_a_table_of_costs_and_step_sizes_plots_its_step_sizes():
    history = _armijo_history()
    fig = plots.plot_history(pd.DataFrame({"cost": history.cost, "step_size": history.step_size}))
    np.testing.assert_array_equal(fig.axes[1].get_lines()[0].get_ydata(), history.step_size)


def test_a_pandas_series_of_costs_is_one_run():
    history = _armijo_history()
    fig = plots.plot_history(pd.Series(history.cost, name="cost"))
    assert len(fig.axes[0].get_lines()) == 1
    np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(), history.cost)


def test_runs_labelled_by_their_seed_keep_label_zero():
    runs = []
    for seed in range(3):
        history = _armijo_history(episodes=2, seed=seed)
        history.label = seed
        runs.append(history)
    assert _legend(plots.plot_history(runs)) == ["0", "1", "2"]


def test_a_dict_of_histories_with_labels_uses_the_labels_and_same_named_runs_are_told_apart():
    """Guard: dict keys name the runs unless labels= is given; two Armijo runs get '(run i)' added."""
    first, second = _armijo_history(seed=0), _armijo_history(seed=1)
    assert _legend(plots.plot_history({"a": first, "b": second})) == ["a", "b"]
    assert _legend(plots.plot_history({"a": first, "b": second}, labels=["A", "B"])) == ["A", "B"]
    assert _legend(plots.plot_history([first, second])) == ["Armijo (run 1)", "Armijo (run 2)"]


# ------------------------------------------------------------------------------------- saving and loading back

def _stopping_case(case: str) -> History:
    if case == "episodes":
        net = _net()
        return fit(net, X, Y, optimizer=optim.GradientDescent(net, 0.2), episodes=3, progress=False)
    if case == "tol":
        net = _net()
        return fit(net, X, Y, optimizer=optim.Armijo(net), episodes=50, tol=0.3, progress=False)
    if case == "zero gradient":
        w = Value(np.array([[2.0]]))
        return fit(lambda x: x @ w, X, 2 * X, optimizer=optim.GradientDescent([w], 0.1), episodes=5,
                   progress=False)
    if case == "random search":
        net = _net()
        return fit(net, X, Y, optimizer=optim.RandomSearch(net, rng=0), episodes=3, progress=False)
    assert case == "not finite"
    net = _net()
    with warnings.catch_warnings(), pytest.raises(FloatingPointError) as caught:
        warnings.simplefilter("ignore")
        fit(net, X * 100, Y, optimizer=optim.GradientDescent(net, 5.0), episodes=500, progress=False)
    return caught.value.history


@pytest.mark.parametrize("case", ["episodes", "tol", "zero gradient", "random search", "not finite"])
def test_a_history_saved_as_json_loads_back_equal_in_every_stopping_case(case):
    """Guard: the way History's docstring gives to save it (json of dataclasses.asdict) loads back equal; every
    per-episode field holds one entry per episode, of plain floats (None: no step size)."""
    history = _stopping_case(case)
    expected = {"random search": "episodes"}.get(case, case)
    assert history.stopped == expected
    fields = {name: getattr(history, name) for name in ("cost", "gradient_norm", "step_size", "seconds")}
    assert {name: len(values) for name, values in fields.items()} == dict.fromkeys(fields, history.episodes)
    assert all(type(v) is float for name, values in fields.items() for v in values if name != "step_size")
    assert all(s is None or type(s) is float for s in history.step_size)
    back = History(**json.loads(json.dumps(dataclasses.asdict(history))))
    assert back == history and repr(back) == repr(history)
    if case == "tol":  # the episode that found ‖∇C‖ ≤ tol made no update: no step, the final cost is its cost
        assert history.step_size[-1] is None and history.gradient_norm[-1] <= 0.3
        assert history.final_cost == history.cost[-1]
    if case == "not finite":
        assert history.final_cost is None and history.episodes > 1


def test_a_resumed_run_records_the_rest_of_the_runs_history():
    """Guard: fit called again on the same model and optimizer goes on where it stopped: its first cost is the
    previous final cost, and the two Histories together are the uninterrupted run's, episode for episode."""
    for make, batches in ((optim.Armijo, {}), (lambda net: optim.SGD(net, 0.1, momentum=0.9), {"batch_size": 5})):
        histories = []
        for split in ((7,), (3, 4)):
            net = _net()
            optimizer, rng = make(net), np.random.default_rng(1)
            seed = {"seed": rng} if batches else {}
            histories.append([fit(net, X, Y, optimizer=optimizer, episodes=n, progress=False, **batches, **seed)
                              for n in split])
        [whole], [first, rest] = histories
        if not batches:
            assert rest.cost[0] == first.final_cost
        for name in ("cost", "gradient_norm", "step_size"):
            assert getattr(whole, name) == getattr(first, name) + getattr(rest, name)
        assert (first.episodes, rest.episodes) == (3, 4) and whole.final_cost == rest.final_cost
