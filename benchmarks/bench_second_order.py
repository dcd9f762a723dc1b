"""Second-order benchmark: one gradient, one Hessian-vector product and one full Hessian as the parameters grow.

Run by hand:  python benchmarks/bench_second_order.py  [--quick] [--rounds N]

The cost is the seed's squared error of a 1-h-1 tanh network on 64 samples, as a function of its n = 3h + 1
parameters in one vector (tinygrad_edu.autodiff):

- gradient: ``value_and_grad(cost)(x)``, one forward and one backward pass;
- Hessian-vector product: ``hvp(cost, x, v)``, a recorded backward pass and a backward pass of ⟨∇C, v⟩
  (the issue's target: at most about 4 gradients);
- full Hessian: ``hessian(cost)(x)``, the recorded gradient and then one backward pass per parameter: n passes
  and n² numbers, what "setting the derivative to 0 and checking the second derivative" (seed 6.1) needs.

One BLAS thread, glibc's allocator thresholds pinned (the script re-runs itself with them); the sizes are measured
interleaved, round after round, in CPU time of this process, and the table shows medians.
"""

from __future__ import annotations

import os
import sys

#: One BLAS thread, and glibc's allocator thresholds pinned as in bench_engine.py (otherwise every freed array above
#: 128 KiB goes back to the system and page-faults in again, which swings the large sizes' times by 2x or more).
SETTINGS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in SETTINGS.items()):  # before numpy is imported
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **SETTINGS})  # start again with them

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package, not an installed copy
from tinygrad_edu.autodiff import hessian, hvp, value_and_grad  # noqa: E402
from tinygrad_edu.cli import whole_number  # noqa: E402
from tinygrad_edu.losses import squared_error  # noqa: E402

SAMPLES = 64


def network_cost(hidden: int) -> Callable:
    """C(x) for the 3·hidden + 1 parameters x = (W¹, b¹, W², b²) of a 1-hidden-1 tanh network."""
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (SAMPLES, 1))
    targets = inputs ** 2

    def cost(x):
        w1 = x[:hidden].reshape(1, hidden)
        b1 = x[hidden:2 * hidden]
        w2 = x[2 * hidden:3 * hidden].reshape(hidden, 1)
        b2 = x[3 * hidden:]
        return squared_error((inputs @ w1 + b1).tanh() @ w2 + b2, targets)

    return cost


def seconds(task: Callable[[], object]) -> float:
    """CPU seconds of this process for ``task`` (as ``bench_engine.py``: time the scheduler gives to other programs
    on a busy machine is not counted)."""
    began = time.process_time()
    task()
    return time.process_time() - began


def measure(cost: Callable, x: np.ndarray, v: np.ndarray, with_hessian: bool) -> dict[str, float]:
    """Seconds for one gradient, one Hessian-vector product and (``with_hessian``) one full Hessian."""
    took = {"gradient": seconds(lambda: value_and_grad(cost)(x)), "hvp": seconds(lambda: hvp(cost, x, v))}
    if with_hessian:
        took["hessian"] = seconds(lambda: hessian(cost)(x))
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only, for a smoke test")
    parser.add_argument("--rounds", type=whole_number(1), default=5, metavar="N",
                        help="interleaved rounds (medians are shown)")
    args = parser.parse_args()
    hiddens = [3, 33, 133] if args.quick else [3, 33, 333, 1000]
    hessian_rounds = {h: (args.rounds if 3 * h + 1 <= 400 else 1) for h in hiddens}  # the big ones take seconds
    times: dict[tuple[int, str], list[float]] = {}
    warm = network_cost(3)
    value_and_grad(warm)(np.ones(10)), hvp(warm, np.ones(10), np.ones(10)), hessian(warm)(np.ones(10))  # warm-up
    for round_number in range(args.rounds):
        for h in hiddens:
            cost = network_cost(h)
            n = 3 * h + 1
            x = np.random.default_rng(1).normal(0, 0.5, n)
            v = np.random.default_rng(2).normal(0, 1, n)
            for name, took in measure(cost, x, v, round_number < hessian_rounds[h]).items():
                times.setdefault((h, name), []).append(took)
    print(f"one BLAS thread, {SAMPLES} samples, medians of {args.rounds} interleaved rounds "
          "(the full Hessian of more than 400 parameters: one run)\n")
    print("| parameters n | one gradient | one Hessian-vector product | hvp / gradient | one full Hessian "
          "| Hessian / gradient |")
    print("|---|---|---|---|---|---|")
    for h in hiddens:
        gradient, product, full = (statistics.median(times[(h, name)]) for name in ("gradient", "hvp", "hessian"))
        print(f"| {3 * h + 1:,} | {gradient * 1e3:.2f} ms | {product * 1e3:.2f} ms | {product / gradient:.1f}x "
              f"| {_duration(full)} | {full / gradient:,.0f}x |")


def _duration(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1e3:.1f} ms"


if __name__ == "__main__":
    main()
