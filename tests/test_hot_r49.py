"""Round 49's cuts of the x² update's step and fit's per-update bookkeeping (issue 10): what each cut must leave as it
was, and the work it removes (spies on the names the step reads, never timed)."""

import builtins
import signal
import threading
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, grad_mode, optim, training
from tinygrad_edu.data import xsquared
from tinygrad_edu.demo import xsquared_network
from tinygrad_edu.engine import detect_anomaly, is_grad_enabled, no_grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit


class _Spy(Value):
    """A parameter that notes the grad mode and the open blocks as its update runs."""

    seen: list = []

    def __isub__(self, other):
        type(self).seen.append((is_grad_enabled(), grad_mode._OPEN_BLOCKS.get()))
        return super().__isub__(other)


def _backpropagated(x):
    x.grad = None
    (x * x).sum().backward()


def test_the_closure_of_a_step_opens_no_block_where_recording_is_on_and_records_inside_no_grad():
    x = Value([3.0, -2.0])
    seen = []

    def closure():
        seen.append((is_grad_enabled(), grad_mode._OPEN_BLOCKS.get()))
        return (x * x).sum()

    outside = grad_mode._OPEN_BLOCKS.get()
    cost, number = optim.cost_with_gradient(closure, [x], "test")
    assert seen == [(True, outside)] and number == 13.0 and x.grad.tolist() == [6.0, -4.0]
    with no_grad():  # recording is turned on for the closure there, and off again after it
        optim.GradientDescent([x], 0.25).step(closure)
        assert not is_grad_enabled()
    assert seen[1][0] is True and x.data.tolist() == [1.5, -1.0]


def test_the_update_runs_with_recording_off_and_no_block_opened_and_puts_the_switch_back():
    _Spy.seen = []
    w = _Spy([1.0, 2.0])
    _backpropagated(w)
    outside = grad_mode._OPEN_BLOCKS.get()
    optim.GradientDescent([w], 0.5).step()
    assert _Spy.seen == [(False, outside)] and w.data.tolist() == [0.0, 0.0] and is_grad_enabled()
    with no_grad():  # (a step inside no_grad leaves recording off)
        w.grad = np.array([1.0, 1.0])
        optim.GradientDescent([w], 1.0).step()
        assert not is_grad_enabled()
    assert w.data.tolist() == [-1.0, -1.0] and is_grad_enabled()


def test_an_update_refused_under_errstate_raise_puts_everything_back_and_the_switch_too():
    a, b = Value([1.0, 2.0]), Value([1e308])
    a.grad, b.grad = np.array([1.0, 1.0]), np.array([-1e308])
    opt = optim.GradientDescent([a, b], 1.0)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="GradientDescent.step: the update "
                                                                            "x ← x − η·∇C gave numbers that are not "
                                                                            "finite for parameter 1"):
        opt.step()
    assert a.data.tolist() == [1.0, 2.0] and b.data.tolist() == [1e308] and is_grad_enabled()


def test_a_step_reads_the_anomaly_switch_once_and_under_detect_anomaly_still_names_the_update(monkeypatch):
    reads = []
    monkeypatch.setattr(optim, "is_anomaly_enabled", lambda: reads.append(1) or grad_mode.DETECT_ANOMALY.get())
    x = Value([3.0])
    _backpropagated(x)
    optim.GradientDescent([x], 0.5).step()
    assert len(reads) == 1 and x.data.tolist() == [0.0]
    y = Value([1e308])
    y.grad = np.array([-1e308])
    with detect_anomaly(), pytest.raises(FloatingPointError, match="NaN or inf"):
        optim.GradientDescent([y], 1.0).step()
    assert y.data.tolist() == [1e308]


def test_the_step_asks_threading_nothing_and_holds_ctrl_c_in_the_main_thread_only(monkeypatch):
    def asked() -> None:
        raise AssertionError("threading asked")

    x = Value([2.0])
    _backpropagated(x)
    with monkeypatch.context() as patched:
        patched.setattr(threading, "current_thread", asked)
        patched.setattr(threading, "main_thread", asked)
        optim.GradientDescent([x], 0.25).step()
    assert x.data.tolist() == [1.0] and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    handlers, failed = [], []

    def in_a_thread() -> None:
        try:
            y = Value([2.0])
            _backpropagated(y)
            optim.GradientDescent([y], 0.25).step()
            handlers.append((y.data.tolist(), signal.getsignal(signal.SIGINT)))
        except BaseException as error:  # (reported below, in the test's own thread)
            failed.append(error)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert not failed and handlers == [([1.0], signal.default_int_handler)]


def test_a_steps_own_writes_skip_the_attribute_checks_that_other_names_still_get(monkeypatch):
    asked = []
    monkeypatch.setattr(optim, "hasattr", lambda obj, name: asked.append(name) or builtins.hasattr(obj, name),
                        raising=False)  # (a module's global before the builtin: each check of a name it asks)
    x = Value([2.0])
    opt = optim.GradientDescent([x], 0.25)
    asked.clear()
    _backpropagated(x)
    opt.step()
    assert asked == [] and opt.last_step_size == 0.25
    del opt.last_step_size
    _backpropagated(x)
    opt.step()
    assert opt.last_step_size == 0.25
    with pytest.raises(AttributeError, match="did you mean learning_rate"):
        opt.learnin_rate = 0.1


def test_the_step_checks_gradients_of_any_order_and_dtype_as_one_vector():
    a = Value(np.zeros((2, 3)))
    b = Value(np.zeros((2, 2), np.float32))
    a.grad = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    b.grad = np.ones((2, 2), np.float32)
    opt = optim.GradientDescent([a, b], 1.0)
    opt.step()
    assert a.data.tolist() == [[-0.0, -1.0, -2.0], [-3.0, -4.0, -5.0]] and b.data.dtype == np.float32
    with pytest.warns(RuntimeWarning, match="repeats it"):
        opt.step()
    a.grad = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    a.grad[1, 2] = np.nan
    with pytest.raises(FloatingPointError, match="the gradient holds NaN or inf"):
        opt.step()


def test_fit_names_the_episode_of_a_nan_cost_and_makes_that_text_once_an_episode(monkeypatch):
    made = []
    where_in = training._Run._where_in
    monkeypatch.setattr(training._Run, "_where_in", lambda run, episode: made.append(episode) or
                        where_in(run, episode))
    x, y = xsquared(20, seed=0)
    net = xsquared_network(0)
    calls = [0]

    def costly(prediction, targets):
        calls[0] += 1
        cost = squared_error(prediction, targets)
        return cost * float("nan") if calls[0] == 7 else cost

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match=r"^fit: in episode 2 of 3, the cost function costly gave a "
                                                     r"cost of nan"):
            fit(net, x, y, cost=costly, optimizer=optim.GradientDescent(net, 0.01), episodes=3, batch_size=5,
                seed=0, progress=False)
    assert made == [1, 2]


def test_gradient_norm_and_the_steps_finite_check_warn_of_no_overflow_of_the_squares_even_under_errstate_raise():
    # (np.vdot gives inf for squares beyond the dtype's numbers without numpy's overflow check; ndarray.dot, whose
    # product is the same, warns "overflow encountered in dot", and raises under np.errstate(over="raise"))
    rng = np.random.default_rng(49)
    grads = [rng.standard_normal((7, 5)), np.asfortranarray(rng.standard_normal((6, 4))),
             rng.standard_normal((9, 8))[::2, ::3], np.array(2.5), rng.standard_normal(300).astype(np.float32),
             np.array([True, False, True])]
    params = [Value(np.zeros(g.shape)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    expected = np.sqrt(sum(float(np.vdot(g.astype(np.float64), g.astype(np.float64))) for g in grads))
    assert optim.gradient_norm(params) == expected
    x, y = Value(np.ones(3)), Value(np.ones((2, 2)))
    x.grad, y.grad = np.array([1e200, -1e200, 0.0]), np.ones((2, 2))
    with np.errstate(over="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert optim.gradient_norm([x, y]) == pytest.approx(np.sqrt(2) * 1e200, rel=1e-15)
        optim.GradientDescent([x, y], 1e-200).step()  # (Σ g² is inf, but every number is finite: a step)
    assert x.data.tolist() == [0.0, 2.0, 1.0]
    x.grad = np.array([1.0, np.inf, 0.0])
    with pytest.raises(FloatingPointError, match="GradientDescent.step: the gradient holds NaN or inf"):
        optim.GradientDescent([x, y], 0.1).step()


def test_a_repeated_step_is_warned_of_once_every_gradient_is_the_last_steps_and_a_new_first_one_walks_none(
        monkeypatch):
    a, b = Value([1.0]), Value([2.0])
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    opt = optim.GradientDescent([a, b], 0.5)
    opt.step()
    walked = []
    monkeypatch.setattr(optim, "zip", lambda *args, **kwargs: walked.append(1) or builtins.zip(*args, **kwargs),
                        raising=False)
    a.grad = np.array([1.0])  # a new first gradient, the same numbers: no repeat, and no walk of the others
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert walked == [] and a.data.tolist() == [0.0] and b.data.tolist() == [1.0]
    b.grad = np.array([1.0])  # the first one kept, a new second one: no repeat either
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert walked == [1]
    with pytest.warns(RuntimeWarning, match="repeats it"):
        opt.step()
    assert a.data.tolist() == [-1.0] and b.data.tolist() == [0.0]
