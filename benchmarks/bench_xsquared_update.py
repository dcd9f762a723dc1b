"""Where the x² update's time goes: the demo's `fit`, the same update written out on the engine, and a bare tape.

Run by hand:  python benchmarks/bench_xsquared_update.py  [--quick]

One update of the x² demonstration's gradient descent (1-12-12-1 leaky ReLU network, batches of 5, learning rate
0.15), five ways, measured interleaved in one run (as ``bench_engine.py``: CPU time, medians of the rounds): through
``fit``; the loop written out on the engine (forward, cost, ``backward()``, ``w.data -= η·w.grad``), then with
``gradient_norm`` and with the optimizer's ``step`` added; a *bare tape* (``bare_tape.py``: a few dozen lines that
record a node per operation and call closures backwards, with none of the engine's checks, dtype rules or graph for
drawings); and the update with the derivatives written out in numpy (``bench_engine``'s reference).  The bare tape
shows what a general engine that records a node per operation pays; the rows above it, what the engine, the norm,
the optimizer and ``fit`` add.
"""
# ruff: noqa: E402  (the environment must be set before numpy is imported)

from __future__ import annotations

import os
import sys

import bench_engine

if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in bench_engine.PINNED_ENVIRONMENT.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **bench_engine.PINNED_ENVIRONMENT})

import argparse
import gc
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np
from bare_tape import Node, Tape

from tinygrad_edu import no_grad, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.demo import xsquared_network
from tinygrad_edu.losses import squared_error

EPISODES, RATE = 2, bench_engine.XSQUARED_RATE
UPDATES = EPISODES * 1000 // bench_engine.XSQUARED_BATCH


def engine_loop(norm: bool = False, optimizer: bool = False) -> Callable[[], None]:
    """The update written out on the engine; ``norm``: also ‖∇C‖, as fit records it; ``optimizer``: the step
    of ``optim.GradientDescent`` (its checks included) instead of the two-line update."""
    inputs, targets = xsquared(1000, seed=0)
    model = xsquared_network(0)
    params, descent = model.parameters(), optim.GradientDescent(model, RATE)
    rng = np.random.default_rng(0)

    def run() -> None:
        for _ in range(EPISODES):
            for index in bench_engine.xsquared_batches(rng, len(inputs)):
                for p in params:
                    p.grad = None
                cost = squared_error(model(inputs[index]), targets[index])
                float(cost.item())
                cost.backward()
                if norm:
                    optim.gradient_norm(params)
                if optimizer:
                    descent.step(cost=cost)
                    continue
                with no_grad():
                    for p in params:
                        p.data -= RATE * p.grad
        with no_grad():
            float(squared_error(model(inputs), targets).item())

    return run


def bare_tape() -> tuple[Callable[[], None], list[Node]]:
    """The update on a bare tape, and the parameters it changes."""
    inputs, targets = xsquared(1000, seed=0)
    params = [Node(p.data.copy()) for p in xsquared_network(0).parameters()]
    layers = list(zip(params[::2], params[1::2]))
    rng, tape = np.random.default_rng(0), Tape()

    def forward(x: Any) -> Node:
        for i, (w, b) in enumerate(layers):
            x = tape.add_bias(tape.matmul(x, w), b)
            if i < len(layers) - 1:
                x = tape.leaky_relu(x)
        return x

    def run() -> None:
        for _ in range(EPISODES):
            for index in bench_engine.xsquared_batches(rng, len(inputs)):
                cost = tape.squared_error(forward(inputs[index]), targets[index])
                float(cost.data)
                tape.backward(cost)
                for p in params:
                    p.data -= RATE * p.grad
                    p.grad = None
        float(tape.squared_error(forward(inputs), targets).data)
        tape.clear()

    return run, params


def same_numbers() -> float:
    """Largest parameter difference between the bare tape and the engine after the same episodes (they must compute
    the same update, or the comparison says nothing)."""
    (tape, tape_params), model = bare_tape(), xsquared_network(0)
    inputs, targets = xsquared(1000, seed=0)
    rng, descent = np.random.default_rng(0), optim.GradientDescent(model, RATE)
    tape()
    for _ in range(EPISODES):
        for index in bench_engine.xsquared_batches(rng, len(inputs)):
            descent.step(lambda: squared_error(model(inputs[index]), targets[index]))  # noqa: B023
    return float(np.max([np.abs(p.data - q.data).max() for p, q in zip(model.parameters(), tape_params)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few short rounds (numbers are noisy)")
    rounds, min_time = (3, 0.15) if parser.parse_args().quick else (25, 3.0)
    gc.collect()
    gc.freeze()
    print(f"bare tape against the engine: max |difference| of the parameters after {EPISODES} episodes "
          f"{same_numbers():.1e}\n")
    steps = {"`fit` (the demo's loop, as `bench_engine.py` measures it)": bench_engine.xsquared_ours(EPISODES),
             "the engine, the update written out": engine_loop(),
             "… and `gradient_norm` (fit records ‖∇C‖)": engine_loop(norm=True),
             "… and `GradientDescent.step` instead of the written-out update": engine_loop(norm=True, optimizer=True),
             "bare tape (a node per operation, no checks)": bare_tape()[0],
             "numpy, derivatives written out": bench_engine.xsquared_numpy(EPISODES)}
    samples = bench_engine.compare(steps, rounds, min_time)
    reference = samples["numpy, derivatives written out"]
    print("| one update on a batch of 5 | time | × numpy |")
    print("|---|---|---|")
    for name, times in samples.items():
        ratio = statistics.median(t / r for t, r in zip(times, reference))
        print(f"| {name} | {bench_engine.fmt_time(statistics.median(times) / UPDATES)} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
