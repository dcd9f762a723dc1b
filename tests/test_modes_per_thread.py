"""The recording mode (``no_grad``, ``enable_grad``) and ``detect_anomaly`` are each thread's own, as PyTorch's grad
mode is, and each asyncio task's: a block in one of them leaves the others as they were.  (A training loop in a
background thread, a notebook's usual way to keep drawing while it learns, is not stopped from recording by an
evaluation under ``no_grad()`` in the main thread.)  Each test orders the threads with events, so that the blocks
overlap in the same way in every run."""

import asyncio
import sys
import threading

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, is_grad_enabled, no_grad

WAIT = 10  # seconds: only a broken test waits this long


def run_in_thread(function):
    """Start ``function`` in a thread; the join returns what it returned, or raises what it raised."""
    outcome = {}

    def body():
        try:
            outcome["result"] = function()
        except BaseException as error:  # handed to the main thread, where pytest sees it
            outcome["error"] = error

    thread = threading.Thread(target=body)
    thread.start()

    def join():
        thread.join(WAIT)
        assert not thread.is_alive(), "the thread did not finish"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]

    return join


def hold_in_thread(block, then):
    """Enter ``block`` in a new thread and wait there until ``release()``, then run ``then()`` in it; ``release``
    returns what ``then`` returned (or raises what it raised)."""
    inside, go = threading.Event(), threading.Event()

    def work():
        with block:
            inside.set()
            assert go.wait(WAIT)
            return then()

    join = run_in_thread(work)
    assert inside.wait(WAIT)

    def release():
        go.set()
        return join()

    return release


def recorded_square(x: float) -> tuple[bool, float | None]:
    """Whether ``y = w²`` at w = x was recorded, and dy/dw if it was (2x)."""
    w = Value(x)
    y = w * w
    if not y.requires_grad:
        return False, None
    y.backward()
    return True, float(w.grad)


def test_a_no_grad_block_in_another_thread_leaves_this_one_recording():
    release = hold_in_thread(no_grad(), lambda: (is_grad_enabled(), recorded_square(3.0)))
    assert is_grad_enabled()
    assert recorded_square(3.0) == (True, 6.0)  # while the other thread is inside its block
    assert release() == (False, (False, None))  # and there nothing was recorded


def test_a_thread_records_whatever_block_the_thread_that_started_it_is_in():
    if getattr(sys.flags, "thread_inherit_context", 0):  # (Python 3.14's free-threaded builds: threads inherit it)
        pytest.skip("here a new thread starts with a copy of its starter's context")
    with no_grad():
        join = run_in_thread(lambda: recorded_square(0.5))
        assert not is_grad_enabled()
        assert join() == (True, 1.0)


def test_a_decorated_function_running_in_two_threads_restores_each_threads_own_mode():
    """The entries of one decorated function in two threads, left in the order they were not made: each thread
    gets back the mode it had (recording in the first, not recording in the second, which called it inside its own
    no_grad block)."""
    first_inside, second_inside, first_left = threading.Event(), threading.Event(), threading.Event()

    @no_grad()
    def evaluate(entered: threading.Event, wait_for: threading.Event) -> bool:
        entered.set()
        assert wait_for.wait(WAIT)
        return is_grad_enabled()

    def first():
        inside = evaluate(first_inside, second_inside)
        first_left.set()
        return inside, is_grad_enabled()

    def second():
        assert first_inside.wait(WAIT)
        with no_grad():
            inside = evaluate(second_inside, first_left)
            return inside, is_grad_enabled()

    join_first, join_second = run_in_thread(first), run_in_thread(second)
    assert join_first() == (False, True)
    assert join_second() == (False, False)
    assert is_grad_enabled()


def test_detect_anomaly_in_another_thread_leaves_this_one_computing_nan_quietly():
    def hunted():
        with pytest.raises(FloatingPointError, match="^log: the forward output holds NaN or inf"):
            Value(-1.0).log()

    release = hold_in_thread(detect_anomaly(), hunted)
    with np.errstate(invalid="ignore"):
        assert np.isnan(Value(-1.0).log().item())  # no error here: NaN is a number like any other
    release()


def test_a_no_grad_block_in_one_asyncio_task_leaves_the_others_recording():
    async def main():
        inside, done = asyncio.Event(), asyncio.Event()

        async def evaluate():
            with no_grad():
                inside.set()
                await done.wait()  # suspended inside its block while the other task runs
                return recorded_square(2.0)

        async def train():
            await inside.wait()
            result = recorded_square(2.0)
            done.set()
            return result

        return await asyncio.gather(evaluate(), train())

    assert asyncio.run(main()) == [(False, None), (True, 4.0)]
    assert is_grad_enabled()


def test_a_transform_in_another_thread_leaves_a_shared_parameters_grad_alone():
    """The transforms never change a .grad (README), and a training loop may run in one thread while another
    differentiates: autodiff's passes set the .grad of every Value they visited to None for their whole length,
    a shared parameter's too, so the training thread read None there.  A vjp that waits holds the pass open while
    this thread reads.  Found by an exploratory pass."""
    from tinygrad_edu import Op
    from tinygrad_edu.autodiff import grad

    weights = Value(np.ones(3))
    weights.grad = np.full(3, 7.0)  # what the training thread's backward() left there
    entered, release = threading.Event(), threading.Event()

    def paused(g, out, x):
        entered.set()
        release.wait(10)
        return g

    pause = Op("pause", lambda x: x, paused)
    results = {}
    worker = threading.Thread(target=lambda: results.update(slope=grad(lambda x: pause(x * weights).sum())(
        np.arange(3.0))))
    worker.start()
    try:
        assert entered.wait(10)
        seen = weights.grad  # while the other thread's backward pass is under way
    finally:
        release.set()
        worker.join(10)
    np.testing.assert_array_equal(results["slope"].data, np.ones(3))  # d/dx Σ x·w = w
    np.testing.assert_array_equal(seen, np.full(3, 7.0))
    np.testing.assert_array_equal(weights.grad, np.full(3, 7.0))


def test_no_grad_decorating_an_async_function_covers_its_body():
    """A generator function decorated @no_grad() runs each step in the mode (as in PyTorch); a coroutine function's
    body ran with recording on, so w -= lr * w.grad in it made a new Value and the parameter never moved.  Two
    updates running at once as tasks each have their own block.  Found by an exploratory pass."""
    first, second = Value(np.array([1.0])), Value(np.array([3.0]))
    first.grad, second.grad = np.array([2.0]), np.array([4.0])

    @no_grad()
    async def update(w):
        before = is_grad_enabled()
        await asyncio.sleep(0)  # the other task runs here
        w -= 0.25 * w.grad
        return before, is_grad_enabled()

    async def both():
        return await asyncio.gather(update(first), update(second))

    assert asyncio.run(both()) == [(False, False), (False, False)]
    np.testing.assert_array_equal(first.data, [0.5])
    np.testing.assert_array_equal(second.data, [2.0])
    assert is_grad_enabled()


def test_a_block_shared_by_two_asyncio_tasks_gives_each_task_its_own_mode_back():
    shared = no_grad()  # one block, as a module-level `NO_GRAD = no_grad()` or a decorated method would be

    async def recording(entered, other_entered):
        with shared:
            entered.set()
            await other_entered.wait()  # the other task enters the same block, then this one leaves first
        return is_grad_enabled()

    async def not_recording(entered, other_entered):
        await other_entered.wait()
        with shared:
            entered.set()
            await asyncio.sleep(0.01)
        return is_grad_enabled()

    async def main():
        first, second = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(recording(first, second))
        with no_grad():  # a task made here starts with recording off (it copies the context)
            other = asyncio.create_task(not_recording(second, first))
        return await asyncio.gather(task, other)

    assert asyncio.run(main()) == [True, False]
    assert is_grad_enabled()
