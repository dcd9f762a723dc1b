"""A lecturer live-coding in Jupyter: a training loop of one's own stopped with the kernel's interrupt (Ctrl-C, a
SIGINT, Python's KeyboardInterrupt), modules reloaded with ``importlib.reload`` between cells, objects shown as a
cell's last expression.  Ctrl-C is pressed here by sending SIGINT to this process at the moment wanted; reloads run
in a fresh Python (a reload here would change the classes every other test sees)."""

import copy
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, fit, is_grad_enabled, nn, optim

ROOT = Path(__file__).resolve().parents[1]


class _PressesCtrlC(Value):
    """A parameter whose update ``p -= …`` counts the updates of all of them and, at the second (the first parameter
    updated, the others not yet), presses Ctrl-C (SIGINT to this process): Python raises the KeyboardInterrupt at its
    next check, in the middle of the optimizer's loop over the parameters."""

    updates = 0

    def __isub__(self, other):
        _PressesCtrlC.updates += 1
        if _PressesCtrlC.updates == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return super().__isub__(other)


OPTIMIZERS = {"GradientDescent": lambda ps: optim.GradientDescent(ps, 0.1),
              "SGD": lambda ps: optim.SGD(ps, 0.1, momentum=0.9),
              "Adam": lambda ps: optim.Adam(ps, 0.1)}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_ctrl_c_during_a_step_of_ones_own_loop_updates_every_parameter_or_none(make):
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's KeyboardInterrupt here")
    starts = [np.array([0.5, -1.0]), np.array([2.0]), np.array([[0.25, -0.75]]), np.array([3.0, 1.0])]
    grads = [np.array([1.0, -2.0]), np.array([0.5]), np.array([[-1.5, 2.5]]), np.array([4.0, -0.5])]
    params = [_PressesCtrlC(s.copy()) for s in starts]
    twins = [Value(s.copy()) for s in starts]  # the same step, not interrupted
    opt, twin_opt = make(params), make(twins)
    for p, q, g in zip(params, twins, grads, strict=True):
        p.grad, q.grad = g.copy(), g.copy()
    twin_opt.step()
    _PressesCtrlC.updates = 0
    with pytest.raises(KeyboardInterrupt):  # the interrupt still stops the loop of one's own
        opt.step()
    assert _PressesCtrlC.updates >= 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler and is_grad_enabled()
    for p, q in zip(params, twins, strict=True):  # every parameter stepped, as in the step not interrupted
        np.testing.assert_array_equal(p.data, q.data)
    assert opt.last_step_size == twin_opt.last_step_size
    if isinstance(opt, optim.Adam):
        assert [k for k, _, _ in opt._state.values()] == [1, 1, 1, 1]


def test_a_step_not_interrupted_is_the_closed_form_and_leaves_ctrl_c_to_python():
    """Guard: gradient descent's ``x ← x − η∇C`` and Adam's first step ``η·g/(|g| + ε)`` (closed forms), with
    Python's own Ctrl-C handler in place afterwards, and inside fit, fit's own (a Ctrl-C there still ends training
    after the update under way, see test_exception_safety)."""
    x = Value(np.array([1.0, -2.0]))
    y = Value(np.array([1.0, -2.0]))
    g = np.array([0.5, -4.0])
    x.grad, y.grad = g.copy(), g.copy()
    optim.GradientDescent([x], 0.1).step()
    optim.Adam([y], 0.1, eps=1e-8).step()
    np.testing.assert_allclose(x.data, [1.0 - 0.05, -2.0 + 0.4], rtol=1e-15)
    np.testing.assert_allclose(y.data, [1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 4.0 / (4.0 + 1e-8)],
                               rtol=1e-12)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_inside_fit_still_ends_training_after_the_update_under_way():
    """Guard: fit's own handling of Ctrl-C is unchanged by the optimizers' (a Ctrl-C pressed during an update ends
    training after it, recorded as "interrupted", with every parameter updated as a run of that many episodes)."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's KeyboardInterrupt here")
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    twin = copy.deepcopy(net)
    opt = optim.Adam(net, 0.05)
    steps = 0
    step = opt.step

    def pressing_step(*args, **kwargs):
        nonlocal steps
        steps += 1
        if steps == 2:
            os.kill(os.getpid(), signal.SIGINT)
        return step(*args, **kwargs)

    opt.step = pressing_step
    history = fit(net, x, x ** 2, optimizer=opt, episodes=10, progress=False)
    assert history.stopped == "interrupted" and history.episodes == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    fit(twin, x, x ** 2, optimizer=optim.Adam(twin, 0.05), episodes=2, progress=False)
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def _run_cells(code: str) -> str:
    """``code`` (a notebook's cells, one after the other) in a fresh Python importing this checkout; its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_layer_after_reloading_engine_and_nn_names_the_reload_not_value_versus_value():
    output = _run_cells("""
        import importlib
        import numpy as np
        import tinygrad_edu.engine
        import tinygrad_edu.nn
        importlib.reload(tinygrad_edu.engine)   # a cell after editing engine.py
        importlib.reload(tinygrad_edu.nn)       # and the module built on it (functional not reloaded)
        net = tinygrad_edu.nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
        try:
            net(np.array([[0.5]]))
            print("no error")
        except TypeError as error:
            print("ERR", error)
    """)
    line = output.strip()
    assert line.startswith("ERR layer 2: the activation identity"), output
    assert "reload" in line and "got Value" not in line, output


def test_reloading_engine_functional_and_nn_in_order_gives_the_closed_form_gradient():
    """Guard: reloaded in the order they import one another, the modules work together again: a network made
    after the reloads computes, and its gradient is the closed form's (a 1-1 identity layer: z = w·x + b)."""
    output = _run_cells("""
        import importlib
        import numpy as np
        import tinygrad_edu.engine, tinygrad_edu.functional, tinygrad_edu.nn
        for module in (tinygrad_edu.engine, tinygrad_edu.functional, tinygrad_edu.nn):
            importlib.reload(module)
        layer = tinygrad_edu.nn.Layer(1, 1, activation="identity", rng=0)
        x = np.array([[0.5], [-2.0]])
        out = layer(x)
        ((out * out).sum()).backward()
        w, b = float(layer.weights.data[0, 0]), float(layer.biases.data[0])
        print(w, b, float(layer.weights.grad[0, 0]), float(layer.biases.grad[0]))
    """)
    w, b, dw, db = (float(number) for number in output.split())
    xs = np.array([0.5, -2.0])
    assert dw == pytest.approx(float((2 * (w * xs + b) * xs).sum()), rel=1e-12)
    assert db == pytest.approx(float((2 * (w * xs + b)).sum()), rel=1e-12)
