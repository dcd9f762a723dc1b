"""An engineer who runs the package from several threads at once: backward passes in two threads through shared
parameters (a batch split between threads), two fits with progress bars in threads that end in any order,
ThreadPoolExecutor mapping the transforms, and Ctrl-C pressed while fit runs in the main thread beside a worker
thread's own training loop.  tests/test_threads_user.py, tests/test_modes_per_thread.py and
tests/test_multiprocessing_user.py cover the modes per thread, figures saved from threads and pickling to workers.
Each test orders its threads with events, so that they overlap the same way in every run."""

import asyncio
import io
import os
import signal
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.training import fit

WAIT = 10  # seconds: only a broken test waits this long


def started(target, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def joined(thread: threading.Thread) -> None:
    thread.join(WAIT)
    assert not thread.is_alive(), f"thread {thread.name} did not finish"


# --- defects --------------------------------------------------------------------------------------------------------

class _HeldInFirst(np.ndarray):
    """A ``.grad`` whose ``+`` waits, in the thread named "first" only, until ``go``: it holds that thread's backward
    pass between reading the old ``.grad`` and writing the sum, where another thread's pass can come in."""

    adding: threading.Event
    go: threading.Event

    def __add__(self, other):
        if threading.current_thread().name == "first":
            _HeldInFirst.adding.set()
            assert _HeldInFirst.go.wait(WAIT)
        return np.asarray(self) + other


def test_backward_passes_in_two_threads_through_a_shared_parameter_add_both_gradients():
    """Data parallel by hand: each thread backpropagates its part of the cost into the shared weights, and the step
    then uses the sum.  Here the first thread is held while it adds to the old ``.grad``; the second thread's pass
    comes in meanwhile (it waits for the first, or finishes: then its gradient must not be written over)."""
    _HeldInFirst.adding, _HeldInFirst.go = threading.Event(), threading.Event()
    w = Value(np.array([1.0, 2.0]))
    w.grad = np.array([10.0, 10.0]).view(_HeldInFirst)  # the gradient of the parts already done
    first = started(lambda: (w * w).sum().backward(), "first")  # ∂Σw²/∂w = 2w
    try:
        assert _HeldInFirst.adding.wait(WAIT)
        second = started(lambda: (w * 3.0).sum().backward(), "second")  # ∂Σ3w/∂w = 3
        second.join(1.0)  # (time for it to finish, where nothing makes it wait)
    finally:
        _HeldInFirst.go.set()
    joined(first)
    joined(second)
    np.testing.assert_array_equal(np.asarray(w.grad), [10.0 + 2.0 + 3.0, 10.0 + 4.0 + 3.0])


class _Terminal(io.StringIO):
    """stderr on a terminal, where fit draws its progress bar."""

    def isatty(self) -> bool:
        return True


def test_fits_with_progress_bars_in_two_threads_that_end_out_of_order_put_showwarning_back(monkeypatch):
    pytest.importorskip("tqdm")
    monkeypatch.setattr(sys, "stderr", _Terminal())

    def shown_before(*args, **kwargs):  # the process's own, before any fit (restored by monkeypatch afterwards)
        pass

    monkeypatch.setattr(warnings, "showwarning", shown_before)
    x = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)
    first_in, second_in, first_done = threading.Event(), threading.Event(), threading.Event()

    def waiting(entered, wait_for):
        def cost(out, target):
            entered.set()
            assert wait_for.wait(WAIT)
            return losses.mean_squared_error(out, target)
        return cost

    def train(net, cost, done=None):
        fit(net, x, x**2, cost=cost, optimizer=optim.SGD(net, 0.1), episodes=1, progress=True)
        if done is not None:
            done.set()

    first_net, second_net = nn.MLP([1, 2, 1], rng=0), nn.MLP([1, 2, 1], rng=1)
    first = started(lambda: train(first_net, waiting(first_in, second_in), first_done), "first")
    assert first_in.wait(WAIT)  # the first fit's bar is drawn: the second starts inside it and ends after it
    second = started(lambda: train(second_net, waiting(second_in, first_done)), "second")
    joined(first)
    joined(second)
    assert warnings.showwarning is shown_before


def test_no_grads_docstring_says_what_a_thread_started_inside_the_block_records():
    """``with no_grad(): list(pool.map(evaluate, batches))`` records every worker's evaluation (PyTorch's rule, which
    a PyTorch user may know), while ``await asyncio.to_thread(evaluate, batch)`` records nothing (not PyTorch's): the
    docstring said only that a block leaves the other threads recording."""
    text = " ".join(no_grad.__doc__.split())
    assert "started inside it" in text and "ThreadPoolExecutor" in text
    assert "asyncio.to_thread" in text


# --- guards: what holds today and must keep holding -----------------------------------------------------------------

def test_the_transforms_mapped_over_a_thread_pool_give_each_point_its_own_derivatives():
    """grad and hessian of Σx³ at 24 points, four threads at once: each is 3x² and diag(6x), the closed forms."""
    def derivatives(s):
        x = np.array([s, s + 0.5, -s])
        return x, grad(lambda v: (v**3).sum())(x).data, hessian(lambda v: (v**3).sum())(x).data

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(derivatives, np.linspace(-2.0, 2.0, 24), timeout=60))
    for x, slope, curvature in results:
        np.testing.assert_allclose(slope, 3 * x**2, rtol=1e-12)
        np.testing.assert_allclose(curvature, np.diag(6 * x), rtol=1e-12, atol=1e-12)


def _trained(seed, make_optimizer):
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)
    x = np.linspace(-1.0, 1.0, 16).reshape(-1, 1)
    history = fit(net, x, np.sin(3.0 * x), cost=losses.mean_squared_error, optimizer=make_optimizer(net),
                  episodes=8, batch_size=4, seed=seed, progress=False)
    return history.cost, net.state_dict()


def test_two_models_trained_in_two_threads_at_once_equal_the_same_runs_one_after_the_other():
    runs = [(1, lambda net: optim.Adam(net, 0.05)), (2, lambda net: optim.SGD(net, 0.1, momentum=0.9))]
    alone = [_trained(*run) for run in runs]
    with ThreadPoolExecutor(2) as pool:
        together = [future.result(60) for future in [pool.submit(_trained, *run) for run in runs]]
    for (costs, state), (costs_together, state_together) in zip(alone, together, strict=True):
        assert costs == costs_together
        assert all(np.array_equal(state[key], state_together[key]) for key in state)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name == "nt", reason="os.kill(SIGINT) as a terminal sends it")
def test_ctrl_c_while_fit_runs_beside_a_worker_threads_loop_ends_fit_after_the_update_and_spares_the_worker():
    """Ctrl-C reaches the main thread, where fit ends training after the update under way and puts Python's handler
    back; the worker's own SGD loop, which fit's handling must not touch, goes on and finishes its steps."""
    x = np.linspace(-1.0, 1.0, 16).reshape(-1, 1)
    in_episode_3, pressed, worker_done = threading.Event(), threading.Event(), threading.Event()
    worker_costs = []

    def worker():  # a loop of its own: w ← w − 0.1·2w on Σw², so w shrinks by 0.8 each step
        w = Value(np.array([1.0, -2.0]))
        sgd = optim.SGD([w], 0.1)
        assert in_episode_3.wait(WAIT)
        os.kill(os.getpid(), signal.SIGINT)
        pressed.set()
        for _ in range(20):
            sgd.zero_grad()
            cost = (w * w).sum()
            cost.backward()
            sgd.step()
            worker_costs.append(cost.item())
        worker_done.set()

    calls = []

    def cost(out, target):
        calls.append(1)
        if len(calls) == 3:
            in_episode_3.set()
            assert pressed.wait(WAIT)
        return losses.mean_squared_error(out, target)

    thread = started(worker, "worker")
    net = nn.MLP([1, 3, 1], rng=0)
    history = fit(net, x, x**2, cost=cost, optimizer=optim.GradientDescent(net, 0.1), episodes=1000, progress=False)
    joined(thread)
    assert history.stopped == "interrupted"
    assert len(history.cost) < 10
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert worker_done.is_set()
    np.testing.assert_allclose(worker_costs, 5.0 * 0.64 ** np.arange(20), rtol=1e-12)


@pytest.mark.skipif(bool(getattr(sys.flags, "thread_inherit_context", 0)),
                    reason="here every new thread starts with a copy of its starter's context")
def test_to_thread_takes_the_no_grad_block_along_and_run_in_executor_does_not():
    """What no_grad's docstring says: asyncio.to_thread copies the caller's context (the block's mode with it), an
    executor's worker thread does not."""
    def recorded():
        return bool((Value(2.0) * Value(3.0)).requires_grad)

    async def main():
        with no_grad():
            return (await asyncio.to_thread(recorded),
                    await asyncio.get_running_loop().run_in_executor(None, recorded), recorded())

    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == (False, True, False)
