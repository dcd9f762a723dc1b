"""Engine benchmark: the cost of the graph bookkeeping, next to hand-written numpy and PyTorch, in one run.

Run by hand:  python benchmarks/bench_engine.py  [--quick]

1. A chain of 200 element-wise operations on tiny arrays, forward + backward: time per operation.  On arrays of 8
   numbers the arithmetic is nearly free, so this measures pure overhead (target: at most 5 µs per op, which is
   PyTorch's own overhead on this kind of machine).
2. One training step (forward, squared-error cost, backward, gradient-descent update) of a 64-128-10 sigmoid network,
   on a batch of 256 and on the full 1,797 samples of the digits data's size, against the same step written by
   hand in numpy (target: at most 1.25x numpy).

PyTorch (CPU) is a third column when it is installed.  Times are medians of interleaved rounds.

glibc returns every freed array above 128 KiB to the system and page-faults it back in on the next allocation, which
on a busy machine swings large-array timings by 2x for numpy and tinygrad_edu alike.  The benchmark therefore
re-runs itself with the allocator's thresholds pinned (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_), for all
columns the same; ``--system-malloc`` measures with the defaults instead.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from tinygrad_edu import Value, no_grad
from tinygrad_edu.losses import squared_error

try:
    import torch

    torch.set_num_threads(1)  # as bench_training.py: two threads on a 2-core machine made PyTorch erratic
except ImportError:  # PyTorch is optional here
    torch = None

CHAIN_LENGTH = 200


def compare(steps: dict[str, Callable[[], object]], min_time: float = 0.3, rounds: int = 7) -> dict[str, float]:
    """Median seconds per call of each step, measured in interleaved rounds so that machine noise hits all alike."""
    calls = {}
    for name, step in steps.items():
        step()  # warm up, and find how many calls fill min_time / rounds
        start, count = time.perf_counter(), 0
        while time.perf_counter() - start < min_time / rounds:
            step()
            count += 1
        calls[name] = count
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                step()
            samples[name].append((time.perf_counter() - start) / calls[name])
    return {name: statistics.median(times) for name, times in samples.items()}


# --- 1. chain of element-wise ops ------------------------------------------------------------------------------
def chain_tinygrad(size: int = 8) -> Callable[[], None]:
    x = Value(np.linspace(-1, 1, size), label="x")
    w = Value(np.full(size, 0.9), label="w")

    def step() -> None:
        y = x
        for _ in range(CHAIN_LENGTH // 4):  # 4 ops per round: mul, add, tanh, sigmoid
            y = ((y * w) + x).tanh().sigmoid()
        y.backward(np.ones(size))
        x.grad = w.grad = None

    return step


def chain_torch(size: int = 8) -> Callable[[], None]:
    x = torch.linspace(-1, 1, size, dtype=torch.float64, requires_grad=True)
    w = torch.full((size,), 0.9, dtype=torch.float64, requires_grad=True)
    upstream = torch.ones(size, dtype=torch.float64)

    def step() -> None:
        y = x
        for _ in range(CHAIN_LENGTH // 4):
            y = torch.sigmoid(torch.tanh(y * w + x))
        y.backward(upstream)
        x.grad = w.grad = None

    return step


def chain_numpy_forward(size: int = 8) -> Callable[[], None]:
    """The same arithmetic in plain numpy, forward only: the floor no framework can go below."""
    x, w = np.linspace(-1, 1, size), np.full(size, 0.9)

    def step() -> None:
        y = x
        for _ in range(CHAIN_LENGTH // 4):
            y = 0.5 * (1 + np.tanh(0.5 * np.tanh(y * w + x)))

    return step


# --- 2. one training step of a 64-128-10 sigmoid network -----------------------------------------------------
def make_problem(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    inputs = rng.random((batch, 64))
    targets = np.eye(10)[rng.integers(0, 10, batch)]
    params = [rng.normal(0, 64 ** -0.5, (64, 128)), np.zeros(128), rng.normal(0, 128 ** -0.5, (128, 10)), np.zeros(10)]
    return inputs, targets, params


LEARNING_RATE = 0.5


def step_tinygrad(batch: int) -> Callable[[], None]:
    inputs, targets, arrays = make_problem(batch)
    w1, b1, w2, b2 = params = [Value(a) for a in arrays]

    def step() -> None:
        hidden = (inputs @ w1 + b1).sigmoid()
        output = (hidden @ w2 + b2).sigmoid()
        cost = squared_error(output, targets)  # the seed's C = Σ_j (α_j − y_j)², averaged over the samples
        cost.backward()
        with no_grad():
            for p in params:
                p.data -= LEARNING_RATE * p.grad
                p.grad = None

    step.params = params
    return step


def step_numpy(batch: int) -> Callable[[], None]:
    inputs, targets, (w1, b1, w2, b2) = make_problem(batch)

    def sigmoid(z: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-z))

    def step() -> None:
        hidden = sigmoid(inputs @ w1 + b1)
        output = sigmoid(hidden @ w2 + b2)
        n = len(inputs)
        error = output - targets
        step.cost = float((error * error).sum()) / n       # C = mean over samples of Σ_j (α_j − y_j)²
        d_output = 2 * error / n                           # ∂C/∂α²
        d_z2 = d_output * output * (1 - output)            # ∂C/∂z² = ∂C/∂α² · σ'(z²)
        d_hidden = d_z2 @ w2.T
        d_z1 = d_hidden * hidden * (1 - hidden)
        grads = (inputs.T @ d_z1, d_z1.sum(axis=0), hidden.T @ d_z2, d_z2.sum(axis=0))
        for p, g in zip((w1, b1, w2, b2), grads):
            p -= LEARNING_RATE * g

    step.params = (w1, b1, w2, b2)
    return step


def step_torch(batch: int) -> Callable[[], None]:
    inputs, targets, arrays = make_problem(batch)
    inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)
    w1, b1, w2, b2 = params = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step() -> None:
        hidden = torch.sigmoid(inputs @ w1 + b1)
        output = torch.sigmoid(hidden @ w2 + b2)
        error = output - targets
        cost = (error * error).sum() / len(inputs)
        cost.backward()
        with torch.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
                p.grad = None

    return step


def check_same_update(batch: int = 32) -> float:
    """The tinygrad_edu step and the numpy step must compute the same numbers: largest difference after 3 steps."""
    ours, mine = step_tinygrad(batch), step_numpy(batch)
    for _ in range(3):
        ours()
        mine()
    return max(float(np.abs(p.data - q).max()) for p, q in zip(ours.params, mine.params))


PINNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}


def start(description: str) -> argparse.Namespace:
    """Parse ``--quick``/``--system-malloc``, re-run with pinned allocator thresholds, print the machine line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="shorter measurements (noisier)")
    parser.add_argument("--system-malloc", action="store_true", help="keep glibc's default allocator thresholds")
    args = parser.parse_args()
    if not args.system_malloc and any(os.environ.get(k) != v for k, v in PINNED_MALLOC.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **PINNED_MALLOC})
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {f'{torch.__version__} (1 thread)' if torch else 'not installed'}, {os.cpu_count()} cores, "
          f"{'default' if args.system_malloc else 'pinned'} malloc thresholds")
    return args


def print_table(rows: list[tuple[str, ...]]) -> None:
    """Print rows (the first is the header) as a Markdown table, ready for README.md."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main() -> None:
    args = start(__doc__.splitlines()[0])
    min_time = 0.1 if args.quick else 0.5
    print(f"same numbers as the hand-written numpy step: max |difference| after 3 steps = {check_same_update():.1e}\n")

    rows = []
    chain = {"ours": chain_tinygrad(), "numpy": chain_numpy_forward()}
    if torch:
        chain["torch"] = chain_torch()
    times = {k: v / CHAIN_LENGTH for k, v in compare(chain, min_time).items()}
    rows.append((f"chain of {CHAIN_LENGTH} element-wise ops, fwd+bwd, per op", times, "≤ 5 µs", times["ours"] <= 5e-6))
    for batch in (256, 1797):
        steps = {"ours": step_tinygrad(batch), "numpy": step_numpy(batch)}
        if torch:
            steps["torch"] = step_torch(batch)
        times = compare(steps, min_time)
        rows.append((f"64-128-10 sigmoid training step, batch {batch}", times, "≤ 1.25x numpy",
                     times["ours"] <= 1.25 * times["numpy"]))

    def fmt(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return f"{seconds * 1e6:.2f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"

    header = ("measurement", "tinygrad_edu", "numpy by hand", "PyTorch", "ratio to numpy", "target", "met")
    print_table([header] + [(name, fmt(t["ours"]), fmt(t["numpy"]), fmt(t.get("torch")),
                             f"{t['ours'] / t['numpy']:.2f}x", target, "yes" if ok else "NO")
                            for name, t, target, ok in rows])
    print("\n(numpy column for the chain: the same arithmetic, forward only, no graph: the floor.)")


if __name__ == "__main__":
    main()
