"""A student in Jupyter presses ■ (Ctrl-C, SIGINT) at any moment, often twice when the first seems to do nothing,
runs cells again and goes on.  After the press the numbers must be a whole state, never half of one: every parameter
updated by a step or none (and the optimizer's state with them), every leaf's ``.grad`` added to by a backward pass
or none, and ``fit`` able to go on as if the run had not stopped.

Presses are real SIGINTs (``signal.raise_signal``) sent at a chosen point: in an update ``p -= …`` (through
``Value.__isub__``, which the optimizers' updates call) or as ``backward`` adds the gradients to the leaves
(``sys.settrace`` on that line of ``engine._accumulate``)."""

from __future__ import annotations

import builtins
import copy
import inspect
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from tinygrad_edu import Value, engine, is_grad_enabled, nn, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.engine import is_anomaly_enabled
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

OPTIMIZERS = {"GradientDescent": lambda net: optim.GradientDescent(net, 0.1),
              "Adam": lambda net: optim.Adam(net, 0.05),
              "SGD": lambda net: optim.SGD(net, 0.1, momentum=0.5)}


def _network() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)  # 4 parameters


def _press_in_update(monkeypatch: pytest.MonkeyPatch, at: int, presses: int) -> list[int]:
    """Press Ctrl-C ``presses`` times just before the ``at``-th update ``p -= …`` (counted from 1) is made."""
    calls, isub = [0], Value.__isub__

    def pressing(self: Value, other: object) -> Value:
        calls[0] += 1
        if calls[0] == at:
            for _ in range(presses):
                signal.raise_signal(signal.SIGINT)
        return isub(self, other)

    monkeypatch.setattr(Value, "__isub__", pressing)
    return calls


def _after_each_step(net: nn.MLP, opt: optim.Optimizer) -> list[tuple[list[np.ndarray], dict]]:
    """The parameters and the optimizer's state after each of ``opt``'s steps, recorded from now on."""
    after, step = [], opt.step

    def recorded(*args: object, **kwargs: object) -> object:
        result = step(*args, **kwargs)
        after.append(([p.data.copy() for p in net.parameters()], copy.deepcopy(opt.state_dict())))
        return result

    opt.step = recorded  # type: ignore[method-assign]
    return after


def _same_state(net: nn.MLP, opt: optim.Optimizer, numbers: list[np.ndarray], state: dict) -> None:
    for p, kept in zip(net.parameters(), numbers, strict=True):
        np.testing.assert_array_equal(p.data, kept)
    mine = opt.state_dict()
    assert mine.keys() == state.keys()
    for key in state:
        np.testing.assert_array_equal(mine[key], state[key], err_msg=key)


@pytest.mark.parametrize("batch_size", [None, 4])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_a_second_ctrl_c_in_an_update_inside_fit_ends_training_after_the_whole_update(name, batch_size,
                                                                                      monkeypatch):
    x, y = xsquared(16, seed=0)
    net = _network()
    opt = OPTIMIZERS[name](net)
    twin, twin_opt = copy.deepcopy((net, opt))
    after_each = _after_each_step(twin, twin_opt)
    fit(twin, x, y, optimizer=twin_opt, episodes=3 if batch_size is None else 1, batch_size=batch_size, seed=0,
        progress=False)
    _press_in_update(monkeypatch, at=2 * 4 + 2, presses=2)  # the third step, before its second parameter's update
    history = fit(net, x, y, optimizer=opt, episodes=5, batch_size=batch_size, seed=0, progress=False)
    monkeypatch.undo()
    assert history.stopped == "interrupted"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    _same_state(net, opt, *after_each[2])  # three whole steps: the third made in full
    if batch_size is None:  # three whole episodes, each in the history
        assert history.episodes == 3


def test_a_second_ctrl_c_in_an_update_of_ones_own_loop_raises_after_the_whole_update(monkeypatch):
    x, y = xsquared(16, seed=0)
    net = _network()
    opt = optim.Adam(net, 0.05)
    twin, twin_opt = copy.deepcopy((net, opt))
    for model in (net, twin):
        model.zero_grad()
        squared_error(model(x), y).backward()
    twin_opt.step()
    _press_in_update(monkeypatch, at=2, presses=2)
    with pytest.raises(KeyboardInterrupt):
        opt.step()
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    _same_state(net, opt, [p.data for p in twin.parameters()], twin_opt.state_dict())


def _ctrl_c_at_the_second_leaf_added_to() -> object:
    """A trace function pressing Ctrl-C as backward is about to add its gradient to the second leaf's ``.grad``."""
    code = engine._accumulate.__code__
    lines, first = inspect.getsourcelines(code)
    [line] = [first + i for i, text in enumerate(lines) if text.strip() == "leaf.grad = total"]
    reached = [0]

    def local(frame, event, arg):
        if event == "line" and frame.f_lineno == line:
            reached[0] += 1
            if reached[0] == 2:
                signal.raise_signal(signal.SIGINT)
        return local

    return lambda frame, event, arg: local if frame.f_code is code else None


def test_a_ctrl_c_while_backward_adds_to_the_leaves_changes_no_grad():
    a, b, c = (Value(np.array([1.0, 2.0, 3.0]) * k, label=name) for k, name in ((1, "a"), (2, "b"), (3, "c")))
    cost = (a * b * c).sum()
    cost.backward()
    before = [v.grad.copy() for v in (a, b, c)]
    tracing = sys.gettrace()
    sys.settrace(_ctrl_c_at_the_second_leaf_added_to())
    try:
        with pytest.raises(KeyboardInterrupt):
            cost.backward()
    finally:
        sys.settrace(tracing)
    for v, kept in zip((a, b, c), before, strict=True):
        np.testing.assert_array_equal(v.grad, kept, err_msg=v.label)
    cost.backward()  # the cell run again: the second pass, once, ∂(abc)/∂a = bc and so on
    np.testing.assert_array_equal(a.grad, 2 * b.data * c.data)
    np.testing.assert_array_equal(b.grad, 2 * a.data * c.data)
    np.testing.assert_array_equal(c.grad, 2 * a.data * b.data)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_guard_fit_stopped_by_one_ctrl_c_goes_on_as_if_it_had_not_stopped(name, monkeypatch):
    """One press in the third episode's update: training ends after it, and fit called again (the cell run again
    with fewer episodes) goes on from there bit for bit, the two Histories joining into the uninterrupted run's."""
    x, y = xsquared(16, seed=0)
    net = _network()
    opt = OPTIMIZERS[name](net)
    twin, twin_opt = copy.deepcopy((net, opt))
    whole = fit(twin, x, y, optimizer=twin_opt, episodes=5, progress=False)
    _press_in_update(monkeypatch, at=2 * 4 + 2, presses=1)
    first = fit(net, x, y, optimizer=opt, episodes=5, progress=False)
    monkeypatch.undo()
    assert first.stopped == "interrupted" and first.episodes == 3
    rest = fit(net, x, y, optimizer=opt, episodes=2, progress=False)
    joined = first + rest
    assert joined.cost == whole.cost and joined.gradient_norm == whole.gradient_norm
    assert rest.final_cost == whole.final_cost
    _same_state(net, opt, [p.data for p in twin.parameters()], twin_opt.state_dict())


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """An IPython shell that leaves no trace: its folder in ``tmp_path``, not the user's ~/.ipython, no history (the
    cells would be in the user's next session, and a thread would go on saving them), and ``__main__`` and the
    builtins it sets (``__IPYTHON__``, ``display``) put back for the later tests."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])  # (the shell puts its namespace there)
    names = set(vars(builtins))
    config = Config()
    config.HistoryManager.enabled = False
    try:
        yield InteractiveShell.instance(config=config)
    finally:
        InteractiveShell.clear_instance()
        for name in set(vars(builtins)) - names:
            delattr(builtins, name)


def test_guard_cells_interrupted_inside_blocks_leave_every_mode_as_it_was(shell: InteractiveShell):
    """Cells run in IPython, each stopped by Ctrl-C inside a ``with`` block or a decorated function (and one with an
    error, fixed and run again): the next cell records, and computes NaN quietly, as outside every block."""
    cells = ["from tinygrad_edu import Value, no_grad, enable_grad, detect_anomaly\n"
             "import signal, numpy as np\nw = Value(np.array([1.0, -2.0]), label='w')",
             "with no_grad():\n    w -= 0.5\n    signal.raise_signal(signal.SIGINT)",
             "with detect_anomaly():\n    with no_grad():\n        with enable_grad():\n"
             "            signal.raise_signal(signal.SIGINT)",
             "@no_grad\ndef update():\n    w.data = w.data * 2\n    signal.raise_signal(signal.SIGINT)\nupdate()",
             "with detect_anomaly():\n    (w - w).log()",  # FloatingPointError: log of 0
             "with detect_anomaly():\n    (w * w).log()"]  # fixed and run again
    results = [shell.run_cell(cell) for cell in cells]
    assert [type(r.error_in_exec).__name__ for r in results] == (
        ["NoneType"] + ["KeyboardInterrupt"] * 3 + ["FloatingPointError", "NoneType"])
    assert is_grad_enabled() and not is_anomaly_enabled()
    after = shell.run_cell("c = (w * w).sum(); c.backward()\n"
                           "with np.errstate(invalid='ignore'):\n    nan = (Value(0.0) / 0.0).item()\n"
                           "(w.grad.tolist(), nan)")
    grad, nan = after.result
    assert grad == [2 * x for x in shell.user_ns["w"].data.tolist()] and np.isnan(nan)
    np.testing.assert_array_equal(shell.user_ns["w"].data, [1.0, -5.0])  # (1 − 0.5, −2 − 0.5), doubled
