"""How often the x² demonstration's methods meet the seed's goal, over many seeds (used to tune on some seeds and
report on others that were never used to choose settings).

Run by hand:  python benchmarks/bench_xsquared_seeds.py --methods Newton --first 100 --count 20

Goal (seed 7.3): cost ≤ 3e-4 and all four test outputs within 0.02 of x², within 50 episodes.  Each run is
timed on its own (one BLAS thread), so a busy machine shows up in the times, not in the counts.
"""

from __future__ import annotations

import os
import sys

#: One BLAS thread and glibc's allocator thresholds, as bench_engine.py pins them (a thread count the user set
#: would otherwise stay, and the times would not be comparable with the other scripts').
SETTINGS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in SETTINGS.items()):  # before numpy is imported
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **SETTINGS})

import argparse  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package, not an installed copy
from tinygrad_edu import demo  # noqa: E402
from tinygrad_edu.cli import whole_number  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])  # the whole first sentence
    names = demo.METHOD_NAMES
    parser.add_argument("--methods", nargs="+", default=["Newton"], choices=names, metavar="NAME",
                        help=f"method names of the demo's table: {', '.join(map(repr, names))}")
    parser.add_argument("--first", type=whole_number(0), default=100, help="first seed")
    parser.add_argument("--count", type=whole_number(1), default=20, help="number of seeds")
    args = parser.parse_args()
    met: dict[str, list[bool]] = {}
    times: dict[str, list[float]] = {}
    print("| seed | method | final cost | largest error | time | goal |")
    print("|---|---|---|---|---|---|")
    for seed in range(args.first, args.first + args.count):
        for run in demo.compare_xsquared(seed=seed, methods=args.methods):
            error = float(np.abs(run.errors).max())
            ok = run.episodes <= demo.GOAL_EPISODES and run.final_cost <= demo.SEED_COST and error <= demo.TOLERANCE
            met.setdefault(run.name, []).append(ok)
            times.setdefault(run.name, []).append(run.seconds)
            print(f"| {seed} | {run.name} | {run.final_cost:.2e} | {error:.4f} | {run.seconds:.2f} s | "
                  f"{'met' if ok else 'missed'} |", flush=True)
    for name, results in met.items():
        last = args.first + args.count - 1
        print(f"\n{name}: goal met on {sum(results)} of {len(results)} seeds ({args.first}-{last}); "
              f"time per run {min(times[name]):.2f}-{max(times[name]):.2f} s, median {np.median(times[name]):.2f} s")


if __name__ == "__main__":
    main()
