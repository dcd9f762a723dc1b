"""The package used from several threads at once: a training loop beside a monitoring thread that differentiates,
figures saved from two threads, data loaded in one thread while another collects its warnings.  Each test orders
the threads with events, so that they overlap in the same way in every run (tests/test_modes_per_thread.py covers
the recording modes themselves)."""

import threading
import warnings

import numpy as np
import pytest

from tinygrad_edu import Op, Value, is_grad_enabled, optim
from tinygrad_edu.autodiff import gradients
from tinygrad_edu.training import fit

WAIT = 10  # seconds: only a broken test waits this long


def started(target, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name)
    thread.start()
    return thread


def joined(thread: threading.Thread) -> None:
    thread.join(WAIT)
    assert not thread.is_alive(), f"thread {thread.name} did not finish"


def test_gradients_of_shared_weights_in_another_thread_leave_the_training_threads_grad_alone():
    """A monitoring thread asks for ∂C/∂w of its own cost C = Σ 3w while the training thread, on the same weights,
    zeroes the gradients and backpropagates Σ w².  A vjp that waits holds the monitor's pass open meanwhile."""
    w = Value(np.array([1.0, 2.0]))
    w.grad = np.array([100.0, 100.0])  # the previous training step's gradient
    entered, go = threading.Event(), threading.Event()

    def paused(g, out, x):
        entered.set()
        assert go.wait(WAIT)
        return g

    pause = Op("pause", lambda x: x, paused)
    results = {}
    monitor = started(lambda: results.update(slope=gradients((pause(w) * 3.0).sum(), [w])[0].data), "monitor")
    try:
        assert entered.wait(WAIT)
        w.zero_grad()
        (w * w).sum().backward()  # the training step: ∂Σw²/∂w = 2w
    finally:
        go.set()
        joined(monitor)
    np.testing.assert_array_equal(results["slope"], [3.0, 3.0])  # ∂Σ3w/∂w = 3
    np.testing.assert_array_equal(w.grad, 2 * w.data)


def test_two_threads_saving_svgs_get_the_same_file_and_leave_matplotlibs_settings(tmp_path, monkeypatch):
    import matplotlib
    from matplotlib.figure import Figure

    from tinygrad_edu import plots

    costs = {"cost": [3.0, 2.0, 1.0]}
    plots.plot_history(costs, path=tmp_path / "alone.svg")  # (matplotlib loaded: the threads below are quick)
    before = matplotlib.rcParams["svg.hashsalt"]
    save = Figure.savefig
    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()

    def savefig(self, *args, **kwargs):
        if threading.current_thread().name == "first":
            first_in.set()
            second_in.wait(2)  # the second thread's save starts while this one's is under way, if it may
        else:
            second_in.set()
            assert first_done.wait(WAIT)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)

    def first():
        plots.plot_history(costs, path=tmp_path / "first.svg")
        first_done.set()

    one = started(first, "first")
    assert first_in.wait(WAIT)
    two = started(lambda: plots.plot_history(costs, path=tmp_path / "second.svg"), "second")
    joined(one)
    joined(two)
    alone = (tmp_path / "alone.svg").read_bytes()
    assert (tmp_path / "first.svg").read_bytes() == alone
    assert (tmp_path / "second.svg").read_bytes() == alone
    assert matplotlib.rcParams["svg.hashsalt"] == before


def test_load_digits_in_another_thread_leaves_this_threads_warnings_recorded(monkeypatch):
    from tinygrad_edu import data

    loadtxt = np.loadtxt
    reading, recording = threading.Event(), threading.Event()

    def paused_loadtxt(*args, **kwargs):
        reading.set()
        assert recording.wait(WAIT)
        return loadtxt(*args, **kwargs)

    monkeypatch.setattr(np, "loadtxt", paused_loadtxt)
    loaded = {}
    before = list(warnings.filters)
    loader = started(lambda: loaded.update(digits=data.load_digits()), "loader")
    assert reading.wait(WAIT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recording.set()
        joined(loader)
        warnings.warn("this thread's own warning", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in caught] == ["this thread's own warning"]
    assert list(warnings.filters) == before
    assert loaded["digits"].inputs.shape == (data.DIGITS_SAMPLES, data.DIGITS_PIXELS)


# --- guards: right today, and must stay so ------------------------------------------------------------------------

def _cost_and_gradient(between=lambda: None) -> tuple[float, np.ndarray]:
    """A 2-2-1 tanh network's squared error and its gradient; ``between`` runs after every operation."""
    w1 = Value(np.array([[0.3, -0.7], [0.5, 0.2]]))
    w2 = Value(np.array([[1.1], [-0.4]]))
    x = Value(np.array([[0.5, -1.5], [2.0, 0.25]]), requires_grad=False)
    steps = [lambda h: h @ w1, lambda h: h.tanh(), lambda h: h @ w2, lambda h: (h - 1.0) ** 2, lambda h: h.mean()]
    h = x
    for step in steps:
        h = step(h)
        between()
    h.backward()
    return float(h.item()), np.concatenate([w1.grad.ravel(), w2.grad.ravel()])


def test_a_gradient_is_bit_identical_while_another_thread_makes_values_between_its_operations():
    """The walk orders nodes by creation numbers shared by all threads: another thread's Values, made between
    every two operations of this one (a barrier takes turns), change no bit of the cost or of the gradient."""
    alone = _cost_and_gradient()
    turn = threading.Barrier(2, timeout=WAIT)

    def other():
        for _ in range(5):
            turn.wait()
            (Value(np.ones(3)) * 2.0 + 1.0).sum().backward()  # a graph of its own, numbered in between
            turn.wait()

    thread = started(other, "other")

    def between():
        turn.wait()
        turn.wait()

    busy = _cost_and_gradient(between)
    joined(thread)
    assert busy[0] == alone[0]
    np.testing.assert_array_equal(busy[1], alone[1])


def test_a_fit_stopped_by_an_error_in_the_cost_inside_a_line_search_leaves_the_model_and_the_mode():
    """The cost function raises on its second call, Armijo's first trial (under no_grad): the parameters are
    back bit for bit, recording is on again, and fit can be called again."""
    w = Value(np.array([0.75, -1.25]))
    start = w.data.copy()
    calls = []

    class Broken(RuntimeError):
        pass

    def cost(outputs, targets):
        calls.append(is_grad_enabled())
        if len(calls) == 2:
            raise Broken("the cost function failed")
        return ((outputs - Value(targets, requires_grad=False)) ** 2).mean()

    def model(inputs):
        return inputs @ w

    inputs, targets = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 3.0])
    optimizer = optim.Armijo([w])
    with pytest.raises(Broken):
        fit(model, inputs, targets, cost=cost, optimizer=optimizer, episodes=3, progress=False)
    assert calls == [True, False]  # the gradient's pass recorded, the trial did not
    np.testing.assert_array_equal(w.data, start)
    assert is_grad_enabled()
    history = fit(model, inputs, targets, cost=cost, optimizer=optimizer, episodes=2, progress=False)
    assert history.final_cost < history.cost[0]
