"""Training benchmark: episodes per second of the seed's demonstrations, next to the same loops hand-written in numpy
(and in PyTorch when it is installed), in one run.

Run by hand:  python benchmarks/bench_training.py  [--quick] [--system-malloc]

1. x² on 1000 samples, 1-12-12-1 (leaky ReLU, linear output), one episode of full-batch gradient descent: forward, the
   seed's squared error, backward, one update (seed 7.1).
2. The same network, one episode in batches of 5 (200 updates on shuffled samples): the gradient descent of
   ``python -m tinygrad_edu demo``.  Tiny arrays, so this measures the overhead per update.
3. One episode of ``examples/digits.py``: 64-64-10 sigmoid network, squared error on one-hot targets, 1347 training
   digits in batches of 10 (135 updates).

Our column runs ``tinygrad_edu.fit`` (20 episodes per call, as a user calls it; its one extra forward pass for the
final cost is included).  The numpy column is the same arithmetic with the gradients written out by hand; the
PyTorch column uses its autograd on float64 CPU tensors, on one thread.  All three shuffle the samples the same
way.  Columns are measured interleaved (round-robin), medians of the rounds, with glibc's malloc thresholds pinned
as in ``bench_engine.py``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import compare, print_table, start  # noqa: E402

from tinygrad_edu import nn, optim  # noqa: E402
from tinygrad_edu.data import load_digits, one_hot, train_test_split, xsquared  # noqa: E402
from tinygrad_edu.losses import squared_error  # noqa: E402
from tinygrad_edu.training import fit  # noqa: E402

try:
    import torch

    # One thread: on these small arrays a second thread only adds hand-offs, and on a busy 2-core machine each
    # parallel region can wait a whole scheduler time slice for it (measured: 100x slower episodes).
    torch.set_num_threads(1)
except ImportError:  # PyTorch is optional here
    torch = None

EPISODES_PER_CALL = 20


class Problem:
    """Samples, targets, layer sizes, activations, learning rate and batch size of one benchmark row."""

    def __init__(self, name: str, inputs: np.ndarray, targets: np.ndarray, sizes: list[int], hidden: str,
                 output: str, init: str, learning_rate: float, batch_size: int | None) -> None:
        self.name, self.inputs, self.targets, self.sizes = name, inputs, targets, sizes
        self.hidden, self.output, self.init = hidden, output, init
        self.learning_rate, self.batch_size = learning_rate, batch_size

    def network(self) -> nn.MLP:
        return nn.MLP(self.sizes, activation=self.hidden, output_activation=self.output, init=self.init, rng=0)

    def arrays(self) -> list[np.ndarray]:
        """The initial weights and biases, layer by layer, as plain arrays (the same for every column)."""
        return [p.data.copy() for p in self.network().parameters()]

    def batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        n = len(self.inputs)
        if self.batch_size is None:
            return [slice(None)]
        order = rng.permutation(n)
        return [order[i:i + self.batch_size] for i in range(0, n, self.batch_size)]


def problems() -> list[Problem]:
    x, y = xsquared(1000, seed=0)
    train, _ = train_test_split(*load_digits(), test_fraction=0.25, seed=0, stratify=True)
    digits = (train.inputs, one_hot(train.labels))
    return [
        Problem("x², 1-12-12-1, full batch of 1000 (1 update)", x, y, [1, 12, 12, 1], "leaky_relu", "identity", "he",
                0.1, None),
        Problem("x², 1-12-12-1, batches of 5 (200 updates)", x, y, [1, 12, 12, 1], "leaky_relu", "identity", "he",
                0.15, 5),
        Problem("digits, 64-64-10 sigmoid, batches of 10 (135 updates)", *digits, [64, 64, 10], "sigmoid",
                "sigmoid", "xavier", 1.0, 10),
    ]


# --- the three implementations of EPISODES_PER_CALL episodes --------------------------------------------------
def ours(problem: Problem) -> Callable[[], None]:
    model = problem.network()
    optimizer = optim.GradientDescent(model, problem.learning_rate)

    def run() -> None:
        fit(model, problem.inputs, problem.targets, cost=squared_error, optimizer=optimizer,
            episodes=EPISODES_PER_CALL, batch_size=problem.batch_size, seed=0, progress=False)

    run.params = model.parameters()
    return run


def _activation(name: str) -> tuple[Callable, Callable]:
    """f and f' expressed through f's output a = f(z)."""
    if name == "leaky_relu":
        return (lambda z: np.where(z > 0, z, 0.01 * z)), (lambda a: np.where(a > 0, 1.0, 0.01))
    if name == "sigmoid":
        return (lambda z: 0.5 * (1.0 + np.tanh(0.5 * z))), (lambda a: a * (1.0 - a))
    return (lambda z: z), (lambda a: np.ones_like(a))


def by_hand(problem: Problem) -> Callable[[], None]:
    params = problem.arrays()
    layers = list(zip(params[::2], params[1::2]))
    kinds = [problem.hidden] * (len(layers) - 1) + [problem.output]
    functions = [_activation(kind) for kind in kinds]
    rng = np.random.default_rng(0)

    def step(x: np.ndarray, y: np.ndarray) -> None:
        activations = [x]
        for (w, b), (f, _) in zip(layers, functions):
            activations.append(f(activations[-1] @ w + b))
        delta = 2.0 * (activations[-1] - y) / len(x)               # ∂C/∂α^L, C averaged over the samples
        for i in range(len(layers) - 1, -1, -1):
            w, b = layers[i]
            delta = delta * functions[i][1](activations[i + 1])    # ∂C/∂z^i = ∂C/∂α^i · σ'(z^i)
            grad_w, grad_b = activations[i].T @ delta, delta.sum(axis=0)
            if i:
                delta = delta @ w.T                                # ∂C/∂α^(i−1)
            w -= problem.learning_rate * grad_w
            b -= problem.learning_rate * grad_b

    def run() -> None:
        for _ in range(EPISODES_PER_CALL):
            for index in problem.batches(rng):
                step(problem.inputs[index], problem.targets[index])
        final = problem.inputs
        for (w, b), (f, _) in zip(layers, functions):  # the final cost, as fit computes it
            final = f(final @ w + b)
        float(np.mean(np.sum((final - problem.targets) ** 2, axis=1)))

    run.params = params
    return run


def with_torch(problem: Problem) -> Callable[[], None]:
    params = [torch.tensor(a, requires_grad=True) for a in problem.arrays()]
    layers = list(zip(params[::2], params[1::2]))
    table = {"leaky_relu": torch.nn.functional.leaky_relu, "sigmoid": torch.sigmoid, "identity": lambda z: z}
    functions = [table[problem.hidden]] * (len(layers) - 1) + [table[problem.output]]
    inputs, targets = torch.from_numpy(problem.inputs), torch.from_numpy(problem.targets)
    rng = np.random.default_rng(0)

    def forward(x: torch.Tensor) -> torch.Tensor:
        for (w, b), f in zip(layers, functions):
            x = f(x @ w + b)
        return x

    def run() -> None:
        for _ in range(EPISODES_PER_CALL):
            for index in problem.batches(rng):
                index = index if isinstance(index, slice) else torch.from_numpy(index)
                cost = ((forward(inputs[index]) - targets[index]) ** 2).sum(dim=1).mean()
                cost.backward()
                with torch.no_grad():
                    for p in params:
                        p -= problem.learning_rate * p.grad
                        p.grad = None
        with torch.no_grad():
            float(((forward(inputs) - targets) ** 2).sum(dim=1).mean())

    return run


def check_same_numbers(problem: Problem) -> float:
    """Largest difference between our parameters and the hand-written numpy ones after one call (full batch)."""
    mine, theirs = ours(problem), by_hand(problem)
    mine()
    theirs()
    return max(float(np.abs(p.data - q).max()) for p, q in zip(mine.params, theirs.params))


def main() -> None:
    args = start(__doc__.splitlines()[0])
    min_time = 0.5 if args.quick else 2.0
    rows = problems()
    difference = check_same_numbers(rows[0])
    print(f"same numbers as the hand-written numpy loop: max |difference| after {EPISODES_PER_CALL} full-batch "
          f"episodes = {difference:.1e}\n")

    results = []
    for problem in rows:
        steps = {"ours": ours(problem), "numpy": by_hand(problem)}
        if torch:
            steps["torch"] = with_torch(problem)
        times = {k: v / EPISODES_PER_CALL for k, v in compare(steps, min_time=min_time, rounds=5).items()}
        results.append((problem.name, times))

    def rate(seconds: float | None) -> str:
        return "—" if seconds is None else f"{1 / seconds:,.0f} /s ({seconds * 1e3:.2f} ms)"

    header = ("episode", "tinygrad_edu", "numpy by hand", "PyTorch", "ours / numpy", "ours / PyTorch")
    print_table([header] + [(name, rate(t["ours"]), rate(t["numpy"]), rate(t.get("torch")),
                             f"{t['ours'] / t['numpy']:.2f}x",
                             f"{t['ours'] / t['torch']:.2f}x" if "torch" in t else "—") for name, t in results])
    print("\n(episodes per second, time per episode in brackets; ratios are times: below 1x means faster.)")


if __name__ == "__main__":
    main()
