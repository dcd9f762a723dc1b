"""The training loop: the seed's averaged full-batch update, mini-batches, stopping rules, Ctrl-C, NaN."""

import warnings

import numpy as np
import pytest
from helpers_interrupts import interrupting_updates

from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.training import DivergenceWarning, History, fit


def _data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1))
    return x, x**2


def _numpy_net(params, x):
    """The tiny 2-3-1 sigmoid network of the test below, written out in numpy."""
    w1, b1, w2, b2 = params
    hidden = 1 / (1 + np.exp(-(x @ w1 + b1)))
    return 1 / (1 + np.exp(-(hidden @ w2 + b2)))


def test_full_batch_fit_is_the_seeds_averaged_update():
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(5, 2)), rng.uniform(size=(5, 1))
    net = nn.MLP([2, 3, 1], activation="sigmoid", init="uniform", rng=1)
    params = [p.data.copy() for p in net.parameters()]
    eta = 0.7
    for _ in range(2):  # two episodes, computed by hand: average the per-sample gradients, then update
        average = [np.zeros_like(p) for p in params]
        for x, y in zip(inputs, targets, strict=True):
            for p, g in zip(params, average, strict=True):
                for idx in np.ndindex(p.shape):
                    old = p[idx]
                    p[idx] = old + 1e-6
                    up = np.sum((_numpy_net(params, x) - y) ** 2)
                    p[idx] = old - 1e-6
                    down = np.sum((_numpy_net(params, x) - y) ** 2)
                    p[idx] = old
                    g[idx] += (up - down) / 2e-6 / len(inputs)
        params = [p - eta * g for p, g in zip(params, average, strict=True)]
    history = fit(net, inputs, targets, optimizer=optim.GradientDescent(net, eta), episodes=2, progress=False)
    for p, expected in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(p.data, expected, rtol=1e-7, atol=1e-9)
    assert history.episodes == 2 and history.step_size == [eta, eta]
    assert history.final_cost == pytest.approx(np.mean(np.sum((_numpy_net(params, inputs) - targets) ** 2, 1)))


def test_history_records_every_episode():
    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    history = fit(net, x, y, optimizer=optim.Armijo(net), episodes=25, progress=False)
    assert isinstance(history, History)
    assert history.episodes == 25 == len(history.gradient_norm) == len(history.step_size) == len(history.seconds)
    assert history.label == "Armijo" and history.stopped == "episodes"
    assert all(b >= a for a, b in zip(history.seconds, history.seconds[1:], strict=False))
    assert all(after <= before for before, after in zip(history.cost, history.cost[1:], strict=False))
    assert history.final_cost <= history.cost[-1]
    assert history.final_cost == pytest.approx(losses.squared_error(net(x), y).item(), rel=1e-12)
    assert all(0 < t <= 1 for t in history.step_size)
    history.label = "Armijo, σ = 1e-4"
    assert "Armijo, σ = 1e-4" in repr(history)


def test_cost_and_gradient_norm_are_measured_before_each_update():
    x, y = _data(10)
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=2)
    first_cost = losses.squared_error(net(x), y)
    first_cost.backward()
    first_norm = optim.gradient_norm(net)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=3, progress=False)
    assert history.cost[0] == first_cost.item()
    assert history.gradient_norm[0] == pytest.approx(first_norm, rel=1e-12)


def test_random_search_in_fit_never_gets_worse():
    x, y = _data()
    net = nn.MLP([1, 5, 1], activation="sigmoid", rng=0)
    opt = optim.RandomSearch(net, scale=0.1, rng=0)
    history = fit(net, x, y, optimizer=opt, episodes=40, progress=False)
    assert all(after <= before for before, after in zip(history.cost, history.cost[1:], strict=False))
    assert history.step_size == [None] * 40 and opt.proposals == 40


def test_early_stop_when_the_gradient_is_small():
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    line = nn.Network(nn.Layer(1, 1, activation="identity", rng=0))
    history = fit(line, x, 2 * x + 1, optimizer=optim.Armijo(line), episodes=500, tol=1e-6, progress=False)
    assert history.stopped == "tol" and history.episodes < 500
    assert history.gradient_norm[-1] <= 1e-6 < min(history.gradient_norm[:-1])
    assert history.step_size[-1] is None  # that episode only found ‖∇C‖ ≤ tol: no update
    np.testing.assert_allclose(line.layers[0].weights.data, [[2.0]], atol=1e-5)


class _CountingSGD(optim.SGD):
    steps = 0

    def step(self, closure=None, *, cost=None):
        self.steps += 1
        return super().step(closure, cost=cost)


def test_mini_batches_are_reproducible_and_cover_every_sample():
    x, y = _data(23)
    results = []
    for seed in (5, 5, 6):
        net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
        opt = _CountingSGD(net, 0.1)
        fit(net, x, y, optimizer=opt, episodes=3, batch_size=5, seed=seed, progress=False)
        assert opt.steps == 3 * 5  # ⌈23 / 5⌉ updates per episode
        results.append(np.concatenate([p.data.ravel() for p in net.parameters()]))
    np.testing.assert_array_equal(results[0], results[1])
    assert not np.array_equal(results[0], results[2])


def test_one_unshuffled_batch_of_everything_is_the_full_batch():
    x, y = _data(12)
    finals = []
    for batch_size in (None, 12):
        net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.2), episodes=4, batch_size=batch_size,
            shuffle=False, progress=False)
        finals.append([p.data.copy() for p in net.parameters()])
    for a, b in zip(*finals, strict=True):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_returns_the_history_so_far_and_keeps_the_model():
    x, y = _data()
    calls = []

    def interrupting_cost(prediction, target):
        calls.append(1)
        if len(calls) == 17:  # somewhere inside an Armijo line search
            raise KeyboardInterrupt
        return losses.squared_error(prediction, target)

    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    history = fit(net, x, y, cost=interrupting_cost, optimizer=optim.Armijo(net), episodes=100, progress=False)
    assert history.stopped == "interrupted" and 0 < history.episodes < 100
    # the model is exactly where the completed episodes left it: replay them without interruption
    replay = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    fit(replay, x, y, optimizer=optim.Armijo(replay), episodes=history.episodes, progress=False)
    for p, q in zip(net.parameters(), replay.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert history.final_cost == pytest.approx(losses.squared_error(net(x), y).item())


def test_a_nan_cost_names_the_episode_and_suggests_a_smaller_learning_rate():
    x, y = _data()
    net = nn.MLP([1, 8, 1], activation="relu", output_activation="identity", init="he", rng=0)
    with pytest.raises(FloatingPointError, match=r"episode \d+ .*smaller learning rate") as caught, \
            pytest.warns(DivergenceWarning), np.errstate(all="ignore"):
        fit(net, x, y * 100, optimizer=optim.GradientDescent(net, 50.0), episodes=200, progress=False)
    episode = int(str(caught.value).split("episode ")[1].split()[0])
    assert caught.value.history.episodes == episode - 1 > 0



def test_a_diverging_run_shows_its_own_warning_and_error_not_numpys_overflow_warnings():
    x, y = _data()
    net = nn.MLP([1, 8, 1], activation="relu", output_activation="identity", init="he", rng=0)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(FloatingPointError, match=r"episode \d+"):
        warnings.simplefilter("always")
        fit(net, x, y * 100, optimizer=optim.GradientDescent(net, 50.0), episodes=200, progress=False)
    assert [warning.category for warning in caught] == [DivergenceWarning]


def test_fit_under_a_callers_errstate_raise_still_trains_and_names_the_diverging_episode():
    """numpy's own FloatingPointError for an underflow (e⁻¹⁰⁰⁰ in a sigmoid is just 0) escaped fit when the caller
    had set np.errstate(all="raise"): training broke off with numpy's bare message and no episode."""
    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="sigmoid", output_activation="identity", init="uniform", rng=0)
    net.layers[0].weights.data *= 2000  # σ(z) for |z| in the thousands: exp underflows to 0
    with np.errstate(all="raise"):
        history = fit(net, x, y, optimizer=optim.GradientDescent(net, 1e-3), episodes=3, progress=False)
    assert history.episodes == 3 and np.isfinite(history.final_cost)
    assert np.geterr()["under"] == "ignore"  # the caller's errstate is theirs again
    diverging = nn.MLP([1, 8, 1], activation="relu", output_activation="identity", init="he", rng=0)
    with np.errstate(all="raise"), pytest.warns(DivergenceWarning), \
            pytest.raises(FloatingPointError, match=r"fit: in episode \d+ of 200"):
        fit(diverging, x, y * 100, optimizer=optim.GradientDescent(diverging, 50.0), episodes=200, progress=False)

@pytest.mark.parametrize("kwargs, pattern", [
    ({"targets": np.zeros((29, 1))}, "30 samples.*29"),
    ({"episodes": 0}, "episodes"),
    ({"batch_size": 0}, "batch_size"),
    ({"tol": -1.0}, "tol"),
    ({"batch_size": 1, "seed": -1}, "fit: the seed must be an int >= 0, got -1"),
])
def test_bad_arguments_are_rejected(kwargs, pattern):
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    arguments = {"targets": y, "episodes": 3, **kwargs}
    targets = arguments.pop("targets")
    with pytest.raises(ValueError, match=pattern):
        fit(net, x, targets, optimizer=optim.GradientDescent(net, 0.1), progress=False, **arguments)


@pytest.mark.parametrize("kwargs, pattern", [
    ({"episodes": 2.5}, "fit: episodes must be an integer, got float 2.5"),
    ({"batch_size": 1.5}, "fit: batch_size must be an integer, got float 1.5"),
    ({"tol": "0.1"}, "fit: tol must be a number, got str"),
])
def test_arguments_of_the_wrong_type_are_a_type_error(kwargs, pattern):
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError, match=pattern):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), progress=False, **{"episodes": 3, **kwargs})


def test_cross_entropy_training_on_class_indices():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(60, 2))
    labels = (inputs[:, 0] + inputs[:, 1] > 0).astype(int)
    net = nn.MLP([2, 2], activation="identity", init="xavier", rng=0)
    history = fit(net, inputs, labels, cost=losses.cross_entropy, optimizer=optim.Adam(net, 0.1), episodes=60,
                  batch_size=16, seed=0, progress=False)
    accuracy = np.mean(net(inputs).data.argmax(axis=1) == labels)
    assert history.final_cost < history.cost[0] and accuracy > 0.9


def test_quiet_when_not_on_a_terminal(capsys):
    x, y = _data(10)
    net = nn.MLP([1, 2, 1], rng=0)
    fit(net, x, Value(y, requires_grad=False), optimizer=optim.GradientDescent(net, 0.1), episodes=3)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_a_progress_bar_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm")
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    x, y = _data(10)
    net = nn.MLP([1, 2, 1], rng=0)
    fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=7)
    assert "7/7" in terminal.getvalue() and "GradientDescent" in terminal.getvalue()
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=7, progress=False)
    assert quiet.getvalue() == ""


def test_the_progress_bar_shows_the_cost_at_most_every_fifth_of_a_second():
    from tinygrad_edu.training import _show_progress

    class Bar:
        def __init__(self):
            self.updates, self.shown = 0, []

        def update(self, n):
            self.updates += n

        def set_postfix(self, refresh=True, **values):
            self.shown.append(values["cost"])

    bar, last_shown = Bar(), 0.0
    for seconds, cost in [(0.1, 5.0), (0.3, 4.0), (0.4, 3.0), (0.6, 2.0)]:
        last_shown = _show_progress(bar, cost, seconds, last_shown)
    assert bar.updates == 4 and bar.shown == ["4", "2"] and last_shown == 0.6
    assert _show_progress(None, 1.0, 9.0, 0.6) == 0.6  # no bar: nothing shown


def test_an_optimizer_of_another_model_is_rejected():
    x, y = _data()
    net, other = nn.MLP([1, 2, 1], rng=0), nn.MLP([1, 2, 1], rng=1)
    with pytest.raises(ValueError, match=r"^fit: none of the optimizer's parameters belong to the model; build the "
                                         r"optimizer from this model's parameters"):
        fit(net, x, y, optimizer=optim.GradientDescent(other, 0.1), episodes=2, progress=False)


@pytest.mark.parametrize("which", ["inputs", "targets"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_data_is_named_before_training(which, bad):
    x, y = _data()
    (x if which == "inputs" else y)[3, 0] = bad
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(ValueError, match=which):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)


def test_armijo_without_a_descent_step_stops_training():
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    armijo = optim.Armijo(net, sigma=0.999, initial_step=1e6, alpha=0.5, max_backtracks=0)
    with pytest.warns(RuntimeWarning):
        history = fit(net, x, y, optimizer=armijo, episodes=20, progress=False)
    assert armijo.last_failed
    assert history.stopped == "no descent step" and history.episodes == 1


@pytest.mark.parametrize("cost, error, pattern", [
    (lambda p, t: 1.0, TypeError, "<lambda>.*float"),
    (lambda p, t: (p - t) * (p - t), ValueError, r"<lambda>.*\(30, 1\)"),
])
def test_a_cost_that_is_not_one_value_is_named(cost, error, pattern):
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(error, match=pattern):
        fit(net, x, y, cost=cost, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)


def test_misused_arguments_say_what_is_wrong():
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError, match="model"):
        fit(None, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    with pytest.raises(TypeError, match=r"construct|Adam\(.*\)"):
        fit(net, x, y, optimizer=optim.Adam, episodes=2, progress=False)
    with pytest.raises((TypeError, ValueError), match="inputs") as raised:
        fit(net, "abc", y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    assert "single number" not in str(raised.value)


def test_a_cost_that_is_not_a_function_is_named():
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError, match="fit: cost must be a function.*str 'nope'"):
        fit(net, x, y, cost="nope", optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    with pytest.raises(TypeError, match="fit: the seed .*str"):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, seed="0", progress=False)
    with pytest.raises(TypeError, match="fit: shuffle must be True or False, got str 'no'"):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, batch_size=5, shuffle="no",
            progress=False)


def _exploding(episodes):
    """η = 10 on a tanh network: the cost grows ~300 times per episode and stays finite for ~60 episodes."""
    x = np.linspace(-1, 1, 50).reshape(-1, 1)
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    return fit(net, x, x**2, optimizer=optim.GradientDescent(net, 10.0), episodes=episodes, progress=False)


def test_a_cost_growing_by_orders_of_magnitude_is_a_named_warning():
    with pytest.warns(DivergenceWarning) as caught:
        history = _exploding(30)
    assert len(caught) == 1  # once per fit, not once per episode
    message = str(caught[0].message)
    assert f"from {history.cost[0]:.3g} in episode 1 to {history.cost[2]:.3g} in episode 3 of 30" in message
    assert "smaller learning rate" in message and caught[0].filename == __file__
    assert history.cost[2] > 1e3 * history.cost[0] > history.cost[1]  # the first episode above the factor
    with pytest.warns(DivergenceWarning, match=r"after the last update"):
        history = _exploding(2)  # 0.26, then 92; after the second update 5e5
    assert history.final_cost > 1e3 * history.cost[0]


def test_ordinary_training_does_not_warn():
    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for batch_size in (None, 4):
            fit(net, x, y, optimizer=optim.SGD(net, 0.5), episodes=20, batch_size=batch_size, seed=0,
                progress=False)


def test_numpy_numbers_are_valid_tolerances():
    x, y = _data()
    for tol in (np.float32(1e-12), np.int64(0)):
        net = nn.MLP([1, 2, 1], rng=0)
        history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, tol=tol, progress=False)
        assert history.stopped == "episodes"
    net = nn.MLP([1, 2, 1], rng=0)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=5, tol=np.float32(1e3),
                  progress=False)
    assert history.stopped == "tol" and history.episodes == 1


def test_progress_must_be_true_or_false():
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError, match="fit: progress must be True or False, got str 'yes'"):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress="yes")


def test_without_params_or_parameters_fit_says_it_cannot_tell_what_to_train():
    class Stepper:  # an optimizer of one's own, without .params
        def step(self, closure=None, *, cost=None):
            return cost

        def zero_grad(self):
            pass

    w = Value([[1.0]])
    x, y = _data()
    with pytest.raises(TypeError, match=r"fit: cannot tell which parameters to train: the optimizer \(Stepper\) "
                                        r"has no .params and the model \(function\) has no .parameters\(\)"):
        fit(lambda inputs: inputs @ w, x, y, optimizer=Stepper(), episodes=1, progress=False)


@pytest.mark.parametrize("batch_size", [None, 5])
def test_a_nan_cost_before_any_update_says_so(batch_size):
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    net.parameters()[0].data[0, 0] = np.nan  # a broken model: its very first cost is NaN
    with pytest.raises(FloatingPointError, match="episode 1 of 3.*nan.*at the start, before any update") as caught:
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=3, batch_size=batch_size,
            progress=False)
    assert "diverged" not in str(caught.value) and caught.value.history.episodes == 0


def test_with_mini_batches_tol_is_checked_after_the_episode_as_documented():
    """fit's docs: the episode's average ‖∇C‖ over its batches is compared with tol after its updates."""
    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    start = [p.data.copy() for p in net.parameters()]
    opt = _CountingSGD(net, 0.1)
    history = fit(net, x, y, optimizer=opt, episodes=5, batch_size=10, tol=10.0, seed=0, progress=False)
    assert history.stopped == "tol" and history.episodes == 1 and history.gradient_norm[0] <= 10.0
    assert opt.steps == 3 and history.step_size == [0.1]  # all three batches updated the parameters
    assert not np.array_equal(start[0], net.parameters()[0].data)
    assert history.final_cost < history.cost[0]


def test_in_jupyter_without_ipywidgets_the_bar_is_tqdms_text_bar(monkeypatch):
    """In a kernel tqdm.auto picks its widget bar, which without ipywidgets warns 'IProgress not found. Please update
    jupyter'; fit takes tqdm's text bar there instead (a notebook shows it just as well)."""
    pytest.importorskip("tqdm")
    import importlib
    import importlib.util
    import io
    import sys

    class KernelStream(io.StringIO):  # a Jupyter kernel's stderr: no tty, from the ipykernel package
        pass

    KernelStream.__module__ = "ipykernel.iostream"
    stream = KernelStream()
    monkeypatch.setattr(sys, "stderr", stream)
    real_find_spec, real_import = importlib.util.find_spec, importlib.import_module
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "ipywidgets" else real_find_spec(name, *args))
    imported = []
    monkeypatch.setattr(importlib, "import_module", lambda name, *args: imported.append(name) or real_import(name))
    x, y = _data(10)
    net = nn.MLP([1, 2, 1], rng=0)
    fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=4)
    assert "tqdm.std" in imported and "tqdm.auto" not in imported and "4/4" in stream.getvalue()


@pytest.mark.parametrize("which", ["inputs", "targets"])
def test_ragged_lists_are_named_not_numpys_error(which):
    net = nn.MLP([1, 2, 1], rng=0)
    data = {"inputs": [[0.1], [0.2]], "targets": [[0.01], [0.04]]}
    data[which] = [[0.1], [0.2, 0.3]]
    with pytest.raises(ValueError, match=rf"^fit: the {which} are not an array of numbers"):
        fit(net, data["inputs"], data["targets"], optimizer=optim.GradientDescent(net, 0.1), episodes=1,
            progress=False)


def test_fit_inside_no_grad_trains_as_outside() -> None:
    """fit's forward and backward passes record whatever the caller's mode (as an optimizer's closure does)."""
    x = np.linspace(-1, 1, 40).reshape(-1, 1)

    def train(inside: bool) -> History:
        net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
        run = lambda: fit(net, x, x ** 2, optimizer=optim.GradientDescent(net, 0.1), episodes=5,  # noqa: E731
                          batch_size=8, seed=0, progress=False)
        if not inside:
            return run()
        with no_grad():
            return run()

    outside, inside = train(False), train(True)
    assert inside.cost == outside.cost and inside.final_cost == outside.final_cost
    assert inside.final_cost < inside.cost[0]


@pytest.mark.parametrize("episodes", [1, 2])
def test_a_nan_cost_after_the_last_update_is_the_same_error_as_one_episode_earlier(episodes):
    """The cost after the last update was not checked: fit returned final_cost = nan, silently, where the same
    divergence one episode earlier raised FloatingPointError naming the episode."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="leaky_relu", output_activation="identity", init="he", rng=0)
    before = [p.data.copy() for p in net.parameters()]
    with warnings.catch_warnings(record=True) as caught, pytest.raises(FloatingPointError) as raised:
        warnings.simplefilter("always")
        fit(net, x, x**2, optimizer=optim.GradientDescent(net, 1e200), episodes=episodes, progress=False)
    message = str(raised.value)
    assert message.startswith("fit: ") and "squared_error gave a cost of nan: the steps diverged" in message
    if episodes == 1:  # the first update diverges: the cost after it is the last one
        assert "after the last update (in episode 1 of 1)" in message
    else:  # the same update, then one more episode: its cost, at its start, is NaN
        assert "in episode 2 of 2" in message
    assert raised.value.history.episodes == 1 and raised.value.history.final_cost is None
    assert not [w for w in caught if w.category is not DivergenceWarning]  # no numpy warnings
    # not restored: left as the diverging update made them, as a NaN at the start of an episode leaves them
    assert any(abs(p.data).max() > 1e100 > abs(b).max() for p, b in zip(net.parameters(), before, strict=True))


def test_ctrl_c_during_an_update_ends_training_after_that_update_never_halfway(monkeypatch):
    """Before, the KeyboardInterrupt came between two parameters' changes: W¹ and b¹ of the third update changed,
    the rest not, and the history lacked that episode."""
    import signal

    x, y = _data()
    make = lambda: nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)  # noqa: E731
    net = make()
    interrupting_updates(monkeypatch, at=2 * len(net.parameters()) + 2)  # the third update's second parameter
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=50, progress=False)
    assert history.stopped == "interrupted" and history.episodes == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back
    monkeypatch.undo()
    replay = make()
    fit(replay, x, y, optimizer=optim.GradientDescent(replay, 0.1), episodes=3, progress=False)
    for p, q in zip(net.parameters(), replay.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_ctrl_c_with_mini_batches_ends_after_the_batch_even_a_second_one(monkeypatch):
    import signal

    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    optimizer = optim.SGD(net, 0.05, momentum=0.5)
    after_each_update, step = [], optimizer.step

    def recorded_step(*args, **kwargs):
        result = step(*args, **kwargs)
        after_each_update.append([p.data.copy() for p in net.parameters()])
        return result

    monkeypatch.setattr(optimizer, "step", recorded_step)
    interrupting_updates(monkeypatch, at=7 * len(net.parameters()) + 3)  # inside the 8th batch's update
    history = fit(net, x, y, optimizer=optimizer, episodes=50, batch_size=8, progress=False)
    assert history.stopped == "interrupted" and len(after_each_update) == 8
    for p, whole in zip(net.parameters(), after_each_update[-1], strict=True):
        np.testing.assert_array_equal(p.data, whole)  # as the 8th update left it: all of it done
    interrupting_updates(monkeypatch, at=len(after_each_update) * len(net.parameters()) + 202, signals=2)
    history = fit(net, x, y, optimizer=optimizer, episodes=50, batch_size=8, progress=False)
    assert history.stopped == "interrupted"  # the second Ctrl-C too: after the update under way, never inside it
    assert any(all(np.array_equal(p.data, q) for p, q in zip(net.parameters(), whole, strict=True))
               for whole in after_each_update[-2:])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_fit_names_a_cost_function_that_calls_backward_itself():
    """Before, such a cost function (the PyTorch habit) made every update 2η∇C, silently."""
    x, y = np.linspace(-1, 1, 8).reshape(-1, 1), np.linspace(-1, 1, 8).reshape(-1, 1) ** 2
    net = nn.MLP([1, 3, 1], rng=0)

    def backpropagating_cost(prediction, target):
        cost = ((prediction - target) ** 2).sum() / len(target)
        cost.backward()
        return cost

    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match="in episode 1 of 3, the cost function backpropagating_cost returned a cost "
                                         "that has been backpropagated already"):
        fit(net, x, y, cost=backpropagating_cost, optimizer=optim.GradientDescent(net, 0.1), episodes=3,
            progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))


@pytest.mark.parametrize("batches_made", [2, 3], ids=["mid-episode", "last-batch"])
def test_ctrl_c_with_mini_batches_records_the_episode_under_way(monkeypatch, batches_made):
    """Before, the episode under way was dropped from the history though its updates were made: Ctrl-C in the
    last batch's update left a history of 0 episodes after a whole episode of training."""
    x, y = _data(30)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    batch_costs = []

    def recording_cost(prediction, target):
        cost = losses.squared_error(prediction, target)
        batch_costs.append((float(cost.item()), len(target)))
        return cost

    interrupting_updates(monkeypatch, at=(batches_made - 1) * len(net.parameters()) + 1)  # in that batch's update
    history = fit(net, x, y, cost=recording_cost, optimizer=optim.SGD(net, 0.05), episodes=5, batch_size=10,
                  seed=0, progress=False)
    made = batch_costs[:batches_made]  # (the cost function is called once more: the final cost on all samples)
    assert history.stopped == "interrupted" and history.episodes == 1 and len(batch_costs) == batches_made + 1
    assert history.cost[0] == pytest.approx(sum(c * n for c, n in made) / sum(n for _, n in made), rel=1e-12)
    assert history.final_cost == batch_costs[-1][0]


@pytest.mark.parametrize("episodes", [1, 3])
def test_the_history_of_a_nan_cost_does_not_say_all_episodes_ran(episodes):
    """Before, the FloatingPointError's history said stopped="episodes" after 1 of 3 episodes."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="leaky_relu", output_activation="identity", init="he", rng=0)
    with warnings.catch_warnings(), pytest.raises(FloatingPointError) as raised:
        warnings.simplefilter("ignore", DivergenceWarning)
        fit(net, x, x**2, optimizer=optim.GradientDescent(net, 1e200), episodes=episodes, progress=False)
    assert raised.value.history.stopped == "not finite" and raised.value.history.episodes == 1


@pytest.mark.parametrize("keyword, value, advice", [
    ("epochs", 10, r"it is called episodes= here"),
    ("loss", losses.cross_entropy, r"the cost function is cost= here"),
    ("lr", 0.1, r"the learning rate belongs to the optimizer: optimizer=optim\.SGD\(model, learning_rate=0\.1\)"),
])
def test_pytorch_and_keras_keywords_say_this_packages_word(keyword, value, advice):
    """fit(..., epochs=10) got Python's bare "unexpected keyword argument 'epochs'"."""
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    before = [p.data.copy() for p in net.parameters()]
    arguments = {"optimizer": optim.GradientDescent(net, 0.1), "episodes": 2, "progress": False, keyword: value}
    if keyword == "epochs":
        del arguments["episodes"]
    with pytest.raises(TypeError, match=rf"^fit: there is no argument {keyword}= \(another library's name\); {advice}"):
        fit(net, x, y, **arguments)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))  # nothing trained
    with pytest.raises(TypeError, match=r"^fit: there is no argument epoch=; did you mean episodes=\?"):  # a slip
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, epoch=3, progress=False)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):  # a word of no one's: Python's error
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, colour=3, progress=False)


def test_the_learning_rate_given_to_fit_says_it_belongs_to_the_optimizer():
    """fit(..., learning_rate=0.1), the seed's own word given to the wrong function, got Python's bare "unexpected
    keyword argument"; and the advice for lr= would call it another library's name."""
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(TypeError, match=r"^fit: there is no argument learning_rate=; the learning rate belongs to "
                                        r"the optimizer: optimizer=optim\.SGD\(model, learning_rate=0\.1\)$"):
        fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, learning_rate=0.1, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))  # nothing trained


@pytest.mark.parametrize("method", ["parameters", "named_parameters"])
def test_a_models_parameters_method_given_as_the_model_is_refused_by_name(method):
    """fit(net.parameters, ...) (the optimizer's habit, optim.SGD(net.parameters(), ...)) called it with the
    inputs and failed inside it: "parameters: recurse must be True or False, got Value ..."."""
    x, y = _data()
    net = nn.MLP([1, 2, 1], rng=0)
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(TypeError, match=rf"^fit: model is the method MLP\.{method}, which lists the parameters; "
                                        r"pass the network itself"):
        fit(getattr(net, method), x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))
    history = fit(net.forward, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    assert history.episodes == 2  # a bound method that computes is a model


# --- an optimizer built before the model grew (round 37, a practitioner's training) -------------------------------

def _grown(change: str) -> tuple[nn.Network, optim.Optimizer]:
    """A 1-4-1 network trained by an Adam built from it, then changed: a layer appended (a trained network grown),
    or its first layer frozen before the optimizer was built (the head trained first) and unfrozen afterwards."""
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    if change == "unfrozen":
        net[0].requires_grad_(False)
    opt = optim.Adam(net, learning_rate=0.01)
    fit(net, *_data(), optimizer=opt, episodes=2, progress=False)
    if change == "appended":
        net.layers.append(nn.Layer(1, 1, activation="identity", rng=3))
    else:
        net[0].requires_grad_(True)
    return net, opt


@pytest.mark.parametrize(("change", "names"), [("appended", r"layers\.3\.weights, layers\.3\.biases"),
                                                ("unfrozen", r"layers\.1\.weights, layers\.1\.biases")])
def test_fit_refuses_an_optimizer_built_before_a_layer_was_added_or_unfrozen(change, names):
    """Defect: the optimizer holds the Values the model had when it was built; a layer appended since (or one frozen
    then and unfrozen since) was never trained by fit, silently, while the History showed training going on.  Now a
    ValueError naming them, before anything changes; the advice given (optimizer.params = model.parameters()) works
    and keeps the other parameters' state (Adam's step counts go on)."""
    net, opt = _grown(change)
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=rf"fit: .*{names}.*added or replaced.*or unfrozen.*optimizer\.params = "
                                         r"model\.parameters\(\)"):
        fit(net, *_data(), optimizer=opt, episodes=2, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    opt.params = net.parameters()  # (the advice)
    fit(net, *_data(), optimizer=opt, episodes=2, progress=False)
    assert not any(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    counts = sorted(int(v) for k, v in opt.state_dict().items() if k.endswith("step_count"))
    assert counts == [2, 2] + [4] * (len(counts) - 2)  # (the new ones 2 steps, the others 2 + 2)


def test_an_optimizer_of_one_layer_still_fine_tunes_it_inside_a_grown_model():
    """(guard) An optimizer built from the last layer, the model grown since elsewhere: it trains that layer only,
    and the optimizer of a layer no longer in the model is the replaced-layer check's (left to it); a copy of the
    optimizer pickles and copies as before."""
    import copy
    import pickle

    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    opt = optim.SGD(net[1], learning_rate=0.1)
    net.layers.insert(0, nn.Layer(1, 1, activation="identity", rng=3))
    first = [p.data.copy() for p in net[0].parameters()]
    fit(net, *_data(), optimizer=opt, episodes=2, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net[0].parameters(), first, strict=True))
    copied_net, copied_opt = copy.deepcopy((net, opt))
    assert len(pickle.loads(pickle.dumps(opt)).params) == 2
    fit(copied_net, *_data(), optimizer=copied_opt, episodes=1, progress=False)


def test_resuming_a_fine_tuning_run_says_the_frozen_parameters_are_left_out_and_the_advice_resumes_it(tmp_path):
    """Defect: an optimizer built before the first layer was frozen holds all four parameters; resumed from the files,
    ``nn.load`` freezes that layer again, so ``Adam(model)`` holds two, and loading the saved state was refused with
    only "'parameter_count' is 4, but this optimizer has 2 parameters".  Now the message names the frozen parameters
    and says what to do; doing it goes on bit for bit as the run that was not interrupted."""
    x, y = _data()

    def first_part() -> tuple[nn.Network, optim.Adam]:
        net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
        opt = optim.Adam(net, learning_rate=0.05)
        fit(net, x, y, optimizer=opt, episodes=2, progress=False)
        net[0].requires_grad_(False)
        fit(net, x, y, optimizer=opt, episodes=2, progress=False)
        return net, opt

    straight, straight_opt = first_part()
    fit(straight, x, y, optimizer=straight_opt, episodes=3, progress=False)
    saved, saved_opt = first_part()
    saved.save(tmp_path / "model.npz")
    np.savez(tmp_path / "adam.npz", **saved_opt.state_dict())
    resumed = nn.load(tmp_path / "model.npz")
    assert not resumed[0].weights.requires_grad  # (frozen again, as the README says)
    opt = optim.Adam(resumed)
    with pytest.raises(ValueError, match=r"'parameter_count' is 4, but this optimizer has 2 parameters; the model it "
                                         r"was built from has 2 frozen ones \(layers\.1\.weights, layers\.1\.biases\)"
                                         r".*requires_grad_\(True\).*freeze them again"):
        opt.load_state_dict(np.load(tmp_path / "adam.npz", allow_pickle=False))
    resumed.requires_grad_(True)  # (the advice)
    opt = optim.Adam(resumed)
    opt.load_state_dict(np.load(tmp_path / "adam.npz", allow_pickle=False))
    resumed[0].requires_grad_(False)
    fit(resumed, x, y, optimizer=opt, episodes=3, progress=False)
    for p, q in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert p.dtype == q.dtype and np.array_equal(p, q)


@pytest.mark.parametrize("kept", [lambda cost: cost.data, lambda cost: cost.numpy(), lambda cost: cost.data.copy(),
                                  lambda cost: cost.data.reshape(1)],
                         ids=["data", "numpy", "copy", "one-element"])
def test_plot_history_draws_a_hand_loops_costs_kept_as_arrays_as_one_run(kept):
    """Defect: a hand-written loop that keeps each cost's numbers (``costs.append(cost.data)``, a 0-d array) got one
    run per episode from plot_history, each of one episode, with a legend entry apiece ("run 1" … "run 12"), where a
    list of floats or of the cost Values draws one curve.  Now an array of one number counts as one cost, as a Value
    of one number does."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    x, y = _data()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    opt = optim.SGD(net, learning_rate=0.1)
    costs, numbers = [], []
    for _ in range(12):
        opt.zero_grad()
        cost = losses.squared_error(net(x), y)
        cost.backward()
        opt.step()
        costs.append(kept(cost))
        numbers.append(cost.item())
    fig = plots.plot_history(costs, log_scale=False)
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata())]
    assert len(lines) == 1
    np.testing.assert_array_equal(lines[0].get_ydata(), numbers)
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(1, 13))
    with pytest.raises(TypeError, match="list of 12 tuples of 2 costs, one row per episode"):
        plots.plot_history([(c, c) for c in costs])  # (costs.append((g_cost.data, d_cost.data)): refused as rows)
