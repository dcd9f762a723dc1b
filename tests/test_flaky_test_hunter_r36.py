"""A hunter of flaky and order-dependent tests over round 36's new test files: each file was run alone and all together,
forward, reversed and shuffled (three seeds), under HYPOTHESIS_PROFILE=ci, dev and thorough (500 examples, two
seeds), with PYTHONHASHSEED varied, from another folder, under LC_ALL=C COLUMNS=20 TERM=dumb, PYTHONWARNINGS=error,
PYTHONOPTIMIZE=1 and changed numpy print options, with a plugin comparing the process-wide state before and after
every test (numpy print options and error state, warnings filters, random states, the grad and anomaly switches,
matplotlib's rcParams, the current folder, the environment, signal handlers, the package's module-level tables):
none failed and none left state changed (the package's shared constant arrays fill, as designed).

No defect found; guards for what a test suite run in any order relies on:
- the package's entry points a test calls (fit with its Ctrl-C handler, check_gradients, the drawings, a plot) leave
  the process-wide state as they found it, so the tests after them run as they would alone;
- the walks backwards need a fixed number of frames, not one per node, whatever the caller's stack depth: the
  recursion-limit tests (test_engine_reader.py: a limit of 100; test_ode_integrator_user.py: 200) set an absolute
  limit, which fails where the test runs deeper than about 85 frames (pytest itself is at 34; a test run from a
  Jupyter cell or another harness is deeper); here the limit is the current depth plus a margin.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, is_anomaly_enabled, is_grad_enabled, nn, optim
from tinygrad_edu.engine import backward_order
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit


def _state() -> dict[str, object]:
    state: dict[str, object] = {
        "printoptions": np.get_printoptions(), "errstate": np.geterr(), "filters": list(warnings.filters),
        "sigint": signal.getsignal(signal.SIGINT), "grad": is_grad_enabled(), "anomaly": is_anomaly_enabled(),
        "cwd": os.getcwd(), "environ": dict(os.environ), "recursion": sys.getrecursionlimit()}
    if "matplotlib" in sys.modules:
        import matplotlib
        state["rcParams"] = {key: repr(value) for key, value in matplotlib.rcParams.items()}
    return state


def _run_fit() -> None:
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="relu", output_activation="identity", init="he", rng=0)
    fit(net, x, x ** 2, optimizer=optim.Adam(net, learning_rate=0.01), episodes=3, batch_size=4, seed=0,
        progress=False)


def _run_check_gradients() -> None:
    check_gradients(lambda v: (v.exp() * v).sum(), np.array([0.3, -0.2]), order=2)


def _run_drawings() -> None:
    from tinygrad_edu import viz
    w = Value(np.array([[0.5]]), label="W")
    cost = ((Value(np.array([[0.2]])) @ w).sigmoid() - 0.25) ** 2
    cost.label = "C"
    cost = cost.sum()
    cost.backward()
    viz.draw_graph(cost)


def _run_plot() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tinygrad_edu import plots
    plots.plot_descent(lambda v: (v * v).sum(), np.array([1.0, -0.5]), 0.1, steps=5)
    plt.close("all")


@pytest.mark.parametrize("run", [_run_fit, _run_check_gradients, _run_drawings, _run_plot],
                         ids=["fit", "check_gradients", "draw_graph", "plot_descent"])
def test_an_entry_point_leaves_the_process_wide_state_as_it_found_it(run) -> None:
    if run is _run_plot:
        pytest.importorskip("matplotlib")
        import matplotlib
        matplotlib.use("Agg")  # (the first import sets rcParams: before the snapshot)
        import matplotlib.pyplot  # noqa: F401
    before = _state()
    run()
    after = _state()
    assert {key for key in before if before[key] != after.get(key)} == set()


def _depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


def test_a_long_chain_is_walked_in_a_fixed_number_of_frames_whatever_the_callers_depth() -> None:
    """x·cⁿ, n = 20,000, backpropagated (plain and recorded) and ordered with 60 frames to spare above the caller,
    120 frames deeper than pytest's own depth (a test run inside a notebook or another harness; from pytest's own
    depth, with the same 60 frames to spare, it is test_engine_reader.py's chain)."""
    def at_depth(left: int) -> tuple[float, float, int]:
        if left:
            return at_depth(left - 1)
        c, n = 1.00001, 20_000
        x = Value(1.0)
        y = x
        for _ in range(n):
            y = y * c
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(_depth() + 60)
        try:
            y.backward()
            slope = float(x.grad)
            x.zero_grad()
            y.backward(create_graph=True)
            recorded = float(x.grad.data)
            walked = len(backward_order(y))
        finally:
            sys.setrecursionlimit(limit)
        return slope, recorded, walked

    slope, recorded, walked = at_depth(120)
    assert slope == pytest.approx(1.00001 ** 20_000, rel=1e-9) and recorded == slope
    assert walked >= 20_000
