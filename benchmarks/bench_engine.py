"""Engine benchmark: every workload of the project's performance table, next to its reference, in one run.

Run:  python benchmarks/bench_engine.py  [--quick]     (micrograd and PyTorch columns: pip install ".[bench]")

Rows (the reference in brackets): a scalar chain ``y = y * 1.001 + 0.5``, forward and backward, per operation
[micrograd]; a chain of element-wise operations on arrays of 8 numbers [PyTorch]; one training step of a 64-128-10
sigmoid network (forward, cost, backward, gradient-descent update) with the cost written out and with
``losses.squared_error`` [the same step written by hand in numpy]; graph memory per node of a 100,000-node scalar
chain, measured with tracemalloc [micrograd]; a 1,000,000-operation scalar chain, forward and backward (with the time
the cyclic garbage collector spent in it); one update of the x² demo's gradient descent on a batch of 5 [hand-written
numpy, PyTorch].

Floors: the element-wise chain and the MLP step are also written by hand in numpy with the engine's own σ, tanh and
their exact slopes (σ'(40) = 4.2e-18 where the textbook σ(1 − σ) gives 0), keeping σ' from the forward pass.  These
steps compute our results bit for bit (checked in every run), with nothing but the numpy calls, so their ratio to
the reference is a floor: what an engine made of numpy calls that computes these exact numbers can reach, at best
(the cheapest such steps found so far).  They also run on a lean tape: a node per operation the user wrote, each
keeping its gradient as the drawings need, and nothing else (the backward rules picked by a number, or written out in
order), which computes our numbers bit for bit too: the cheapest recording of those operations found so far.  The scalar
chain runs on a lean tape too (its numbers as 0-d arrays, as ours; no checks, no general walk).  A row's floor is
the higher of its floors.  A row not met whose floor is above the target by more than 2 % says "NO
(floor above)": in this run even the floor missed the target.  Whether a target is out of reach is a judgment over
several runs (README.md, *Performance*): floors move between runs by more than that.  (Compiled loops, which no numpy
program can match, are not counted: the project is Python and numpy.)

Method: one BLAS thread and one PyTorch thread (a second thread stalls 10-100x on a busy 2-core machine); glibc's
malloc thresholds pinned for every column (otherwise returning and page-faulting large arrays dominates their
ratios): the script re-runs itself with these variables set.  Objects alive before measuring (PyTorch's modules)
are frozen out of the garbage collector's walks (``gc.freeze``), so each column's collections see only its own.
Times are CPU time of this process (time the scheduler gives to other programs is not counted), in 25 interleaved
rounds (each round runs every column once, so a slow moment hits them alike); a row shows the median time of each
column over the rounds and the median of the rounds' ratios.  ``--quick`` is a smoke run: few, short rounds and
shorter long chains (scaled up and marked).
"""
# ruff: noqa: E402  (the environment must be set before numpy is imported)

from __future__ import annotations

import os
import sys

PINNED_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                      "MALLOC_MMAP_THRESHOLD_": str(64 << 20), "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}
if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in PINNED_ENVIRONMENT.items()):
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **PINNED_ENVIRONMENT})

import argparse
import gc
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
from bare_tape import Node, sigmoid_and_slope

from tinygrad_edu import Value, no_grad, ops, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.demo import xsquared_network
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # an optional column
    torch = None
try:
    from micrograd.engine import Value as MicrogradValue
except ImportError:  # an optional column
    MicrogradValue = None

Step = Callable[[], object]


def compare(steps: dict[str, Step], rounds: int, min_time: float) -> dict[str, list[float]]:
    """CPU seconds per call of each step in each of ``rounds`` interleaved rounds, of about ``min_time / rounds``
    each (about ``min_time`` per step in all)."""
    calls = {}
    for name, step in steps.items():
        step()  # warm up, and count how many calls fill a round
        start, count = time.process_time(), 0
        while time.process_time() - start < min_time / rounds or not count:
            step()
            count += 1
        calls[name] = count
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.process_time()
            for _ in range(calls[name]):
                step()
            samples[name].append((time.process_time() - start) / calls[name])
    return samples


# --- scalar chains ---------------------------------------------------------------------------------------------
SCALAR_OPS = 400  # within micrograd's recursion limit (its backward sorts the graph recursively)


def scalar_chain(make: Callable[[float], object], operations: int = SCALAR_OPS) -> Step:
    """``y = y * 1.001 + 0.5`` (two operations per turn) from a leaf, then backward: the same code for every
    engine with Python-number operands.  The step returns the leaf and the result (for the floors' check)."""
    def step() -> object:
        x = y = make(1.0)
        for _ in range(operations // 2):
            y = y * 1.001 + 0.5
        y.backward()
        return x, y

    return step


def scalar_chain_tape(operations: int = SCALAR_OPS) -> Step:
    """The scalar chain on a lean tape: a node per operation, holding its number as a 0-d float64 array and, after
    the backward pass, its gradient as one (as ours does, for the drawings); the arithmetic done on Python floats,
    the bits of numpy's (as our fast path does); nothing else: no checks, no general walk (the chain's list is
    walked backwards), no constants in the graph."""
    def step() -> object:
        x = y = Node(np.asarray(1.0))
        tape = []
        for _ in range(operations // 2):
            product = Node(np.asarray(y.data.item() * 1.001))
            tape.append((product, y, 1.001))
            y = Node(np.asarray(product.data.item() + 0.5))
            tape.append((y, product, None))  # (an addition passes its gradient on)
        y.grad = np.ones(())
        for node, parent, factor in reversed(tape):
            parent.grad = node.grad if factor is None else np.asarray(node.grad.item() * factor)
        return x, y

    return step


def graph_bytes_per_node(make: Callable[[float], object], nodes: int) -> float:
    """Memory held by the graph of a ``nodes``-operation scalar chain (forward only), per node, by tracemalloc."""
    gc.collect()
    tracemalloc.start()
    x = y = make(1.0)
    for _ in range(nodes // 2):
        y = y * 1.001 + 0.5
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del x, y
    return held / nodes


def long_chain_seconds(operations: int) -> tuple[float, float]:
    """CPU seconds for the forward and backward pass of a scalar chain of ``operations`` operations, and the part of
    them that Python's cyclic garbage collector spent walking the growing graph (its collections, timed)."""
    collecting = [0.0, 0.0]  # when the running collection started, and the total so far

    def timer(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[0] = time.process_time()
        else:
            collecting[1] += time.process_time() - collecting[0]

    gc.collect()
    gc.callbacks.append(timer)
    start = time.process_time()
    x = y = Value(1.0)
    for _ in range(operations // 2):
        y = y * 1.001 + 0.5
    y.backward()
    seconds = time.process_time() - start
    gc.callbacks.remove(timer)
    del x, y
    gc.collect()
    return seconds, collecting[1]


# --- element-wise chain on small arrays --------------------------------------------------------------------------
ARRAY_OPS = 200


def array_chain_ours(size: int = 8) -> Step:
    x, w = Value(np.linspace(-1, 1, size)), Value(np.full(size, 0.9))
    upstream = np.ones(size)

    def step() -> None:
        y = x
        for _ in range(ARRAY_OPS // 4):  # four operations per turn: mul, add, tanh, sigmoid
            y = ((y * w) + x).tanh().sigmoid()
        y.backward(upstream)
        step.grads = x.grad, w.grad
        x.grad = w.grad = None

    return step


def array_chain_numpy(size: int = 8) -> Step:
    """The same chain and its backward pass written by hand in numpy with the engine's σ, tanh and their exact
    slopes (σ' kept from the forward pass), accumulating in place: only the numpy calls that any engine computing
    these numbers must make."""
    x, w = np.linspace(-1, 1, size), np.full(size, 0.9)

    def step() -> None:
        y, saved = x, []
        for _ in range(ARRAY_OPS // 4):
            pre = y * w + x
            sigma, sigmoid_slope = sigmoid_and_slope(np.tanh(pre))  # σ' kept from the forward pass
            saved.append((y, pre, sigmoid_slope))
            y = sigma
        grad, grad_x, grad_w = np.ones(size), np.zeros(size), np.zeros(size)
        for y, pre, sigmoid_slope in reversed(saved):
            grad = grad * sigmoid_slope * ops.tanh_slope.forward(pre)  # back through σ, then tanh
            grad_x += grad
            grad_w += grad * y
            grad = grad * w
        grad_x += grad
        step.grads = grad_x, grad_w

    return step


def array_chain_tape(size: int = 8) -> Step:
    """The same chain on a lean tape: a node per operation, each keeping its gradient (as the drawings need), walked
    newest first.  It knows only these four operations and picks each one's backward rule by a number, cheaper than
    calling a closure for each as ``bare_tape.Tape`` does (which made this row's floor look higher than it is)."""
    x, w = Node(np.linspace(-1, 1, size)), Node(np.full(size, 0.9))
    MUL, ADD, TANH, SIGMOID = range(4)

    def step() -> None:
        y, tape = x, []
        for _ in range(ARRAY_OPS // 4):
            product = Node(y.data * w.data)
            tape.append((product, MUL, y, w))
            pre = Node(product.data + x.data)
            tape.append((pre, ADD, product, x))
            tanh = Node(np.tanh(pre.data))
            tape.append((tanh, TANH, pre, None))
            sigma, sigmoid_slope = sigmoid_and_slope(tanh.data)  # σ' kept from the forward pass
            y = Node(sigma)
            tape.append((y, SIGMOID, tanh, sigmoid_slope))
        y.grad = np.ones(size)
        for node, kind, a, b in reversed(tape):
            g = node.grad
            if kind == SIGMOID:  # (each input's gradient is its first, or the sum so far plus this one)
                a.grad = g * b if a.grad is None else a.grad + g * b
            elif kind == TANH:
                slope = ops.tanh_slope.forward(a.data)
                a.grad = g * slope if a.grad is None else a.grad + g * slope
            elif kind == ADD:
                a.grad = g if a.grad is None else a.grad + g
                b.grad = g if b.grad is None else b.grad + g
            else:
                a.grad = g * b.data if a.grad is None else a.grad + g * b.data
                b.grad = g * a.data if b.grad is None else b.grad + g * a.data
        step.grads = x.grad, w.grad
        x.grad = w.grad = None

    return step


def array_chain_torch(size: int = 8) -> Step:
    x = torch.linspace(-1, 1, size, dtype=torch.float64, requires_grad=True)
    w = torch.full((size,), 0.9, dtype=torch.float64, requires_grad=True)
    upstream = torch.ones(size, dtype=torch.float64)

    def step() -> None:
        y = x
        for _ in range(ARRAY_OPS // 4):
            y = torch.sigmoid(torch.tanh(y * w + x))
        y.backward(upstream)
        x.grad = w.grad = None

    return step


# --- one training step of a 64-128-10 sigmoid network ------------------------------------------------------------
LEARNING_RATE = 0.5


def mlp_problem(batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    inputs = rng.random((batch, 64))
    targets = np.eye(10)[rng.integers(0, 10, batch)]
    params = [rng.normal(0, 64 ** -0.5, (64, 128)), np.zeros(128), rng.normal(0, 128 ** -0.5, (128, 10)), np.zeros(10)]
    return inputs, targets, params


def written_out_cost(output: Value, targets: np.ndarray) -> Value:
    """The seed's cost composed of elementary operations, as a user would first write it."""
    return ((output - targets) ** 2).sum(axis=1).mean()


def mlp_ours(batch: int, cost: Callable[[Value, np.ndarray], Value]) -> Step:
    inputs, targets, arrays = mlp_problem(batch)
    w1, b1, w2, b2 = params = [Value(a) for a in arrays]

    def step() -> None:
        hidden = (inputs @ w1 + b1).sigmoid()
        output = (hidden @ w2 + b2).sigmoid()
        cost(output, targets).backward()
        with no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad  # (in place under no_grad, as in PyTorch)
                p.grad = None

    step.params = params
    return step


def mlp_numpy(batch: int) -> Step:
    """The step written by hand in numpy with the textbook σ = 1/(1 + e⁻ᶻ) and σ' = σ(1 − σ): the reference."""
    inputs, targets, (w1, b1, w2, b2) = mlp_problem(batch)

    def sigmoid(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # σ(z) and σ'(z)
        alpha = 1 / (1 + np.exp(-z))
        return alpha, alpha * (1 - alpha)

    def step() -> None:
        hidden, slope1 = sigmoid(inputs @ w1 + b1)
        output, slope2 = sigmoid(hidden @ w2 + b2)
        n = len(inputs)
        error = output - targets
        step.cost = float((error * error).sum()) / n       # C = mean over samples of Σ_j (α_j − y_j)²
        d_z2 = 2 * error / n * slope2                      # ∂C/∂z² = ∂C/∂α² · σ'(z²)
        d_z1 = d_z2 @ w2.T * slope1
        grads = (inputs.T @ d_z1, d_z1.sum(axis=0), hidden.T @ d_z2, d_z2.sum(axis=0))
        for p, g in zip((w1, b1, w2, b2), grads):
            p -= LEARNING_RATE * g

    step.params = (w1, b1, w2, b2)
    return step


def mlp_exact(batch: int) -> Step:
    """The step by hand with the engine's σ and σ' (which keep every digit: σ'(40) = 4.2e-18, where σ(1 − σ) gives
    0), computed together from one exponential, in arrays that every step reuses (there is no graph to keep): the
    fastest step in numpy calls found so far that computes what tinygrad_edu computes."""
    inputs, targets, (w1, b1, w2, b2) = mlp_problem(batch)
    n, inputs_t = len(inputs), inputs.T
    hidden_shape, output_shape = (n, w1.shape[1]), (n, w2.shape[1])
    z1, d_z1, hidden_buffers = np.empty(hidden_shape), np.empty(hidden_shape), _sigmoid_buffers(hidden_shape)
    z2, d_z2, output_buffers = np.empty(output_shape), np.empty(output_shape), _sigmoid_buffers(output_shape)
    grads = [np.empty_like(p) for p in (w1, b1, w2, b2)]

    def step() -> None:
        hidden, slope1 = sigmoid_and_slope(np.add(np.matmul(inputs, w1, out=z1), b1, out=z1), hidden_buffers)
        output, slope2 = sigmoid_and_slope(np.add(np.matmul(hidden, w2, out=z2), b2, out=z2), output_buffers)
        np.multiply(np.subtract(output, targets, out=d_z2), 2 / n, out=d_z2)
        np.multiply(d_z2, slope2, out=d_z2)                # ∂C/∂z² = ∂C/∂α² · σ'(z²)
        np.multiply(np.matmul(d_z2, w2.T, out=d_z1), slope1, out=d_z1)   # ∂C/∂z¹
        np.matmul(inputs_t, d_z1, out=grads[0])
        np.add.reduce(d_z1, axis=0, out=grads[1])
        np.matmul(hidden.T, d_z2, out=grads[2])
        np.add.reduce(d_z2, axis=0, out=grads[3])
        for p, g in zip((w1, b1, w2, b2), grads):
            g *= LEARNING_RATE
            p -= g

    step.params = (w1, b1, w2, b2)
    return step


def _sigmoid_buffers(shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """The four arrays ``sigmoid_and_slope`` computes into."""
    return np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape, bool)


def mlp_tape(batch: int, cost: Callable[[Value, np.ndarray], Value] = written_out_cost) -> Step:
    """The step on a tape: the operations the user wrote (ten with the written-out cost, seven with
    ``squared_error``), each a Node that keeps its numbers and, after the backward pass, its own gradient (as the
    drawings need), with σ' kept from the forward pass and the backward pass written out in order, no walk and no
    dispatch: the least Python that recording these operations can cost.  Only scratch arrays are reused, and two
    facts an engine could use are used: the cost's own gradient is 1, and the mean's is the same for every element.
    (Written after a reviewing helper's leaner tapes showed the closures of ``bare_tape.Tape`` overstating it.)"""
    inputs, targets, arrays = mlp_problem(batch)
    w1, b1, w2, b2 = params = [Node(a) for a in arrays]
    n, inputs_t = len(inputs), inputs.T
    scratch = {shape: _sigmoid_buffers(shape)[2:] for shape in ((n, w1.data.shape[1]), (n, 10))}
    squares = np.empty((n, 10))  # the squared errors, summed at once: scratch too
    updates = [np.empty_like(a) for a in arrays]

    def sigmoid(z: Node) -> tuple[Node, np.ndarray]:
        shape = z.data.shape
        sigma, slope = sigmoid_and_slope(z.data, (np.empty(shape), np.empty(shape), *scratch[shape]))
        return Node(sigma), slope

    def step() -> None:
        m1 = Node(inputs @ w1.data)
        z1 = Node(m1.data + b1.data)
        h, slope1 = sigmoid(z1)
        m2 = Node(h.data @ w2.data)
        z2 = Node(m2.data + b2.data)
        out, slope2 = sigmoid(z2)
        if cost is squared_error:
            error = out.data - targets
            c = Node(np.add.reduce(np.multiply(error, error, out=squares), axis=None) / n)
            c.grad = np.ones(())
            out.grad = np.multiply(error, 2 / n, out=error)                # (y − y')·(2/n)·g, where g = 1
        else:
            d = Node(out.data - targets)
            s = Node(d.data * d.data)                                      # d ** 2, as numpy computes it
            r = Node(np.add.reduce(s.data, axis=1))
            c = Node(np.add.reduce(r.data, axis=None) / n)
            c.grad = np.ones(())
            r.grad = np.broadcast_to(c.grad / n, r.data.shape)             # mean
            s.grad = np.broadcast_to(r.grad[:, None], s.data.shape)        # sum over axis 1
            d.grad = out.grad = np.multiply(d.data, r.grad[0] * 2.0)       # (g·2)·d with g = 1/n; − y' passes g on
        z2.grad = m2.grad = np.multiply(out.grad, slope2, out=slope2)      # g·σ', into σ''s own array
        b2.grad = np.add.reduce(z2.grad, axis=0)
        h.grad = z2.grad @ w2.data.T
        w2.grad = h.data.T @ z2.grad
        z1.grad = m1.grad = np.multiply(h.grad, slope1, out=slope1)
        b1.grad = np.add.reduce(z1.grad, axis=0)
        w1.grad = inputs_t @ z1.grad
        for p, update in zip(params, updates):
            p.data -= np.multiply(p.grad, LEARNING_RATE, out=update)
            p.grad = None

    step.params = [p.data for p in params]
    return step


def mlp_torch(batch: int) -> Step:
    inputs, targets, arrays = mlp_problem(batch)
    inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]
    w1, b1, w2, b2 = params

    def step() -> None:
        output = torch.sigmoid(torch.sigmoid(inputs @ w1 + b1) @ w2 + b2)
        ((output - targets) ** 2).sum(dim=1).mean().backward()
        with torch.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
                p.grad = None

    return step


def mlp_difference(batch: int = 32, step: Callable[[int], Step] = mlp_numpy) -> float:
    """Largest parameter difference between our step (both costs) and ``step`` (the hand-written numpy step) after 3
    steps."""
    theirs = step(batch)
    ours = [mlp_ours(batch, cost) for cost in (written_out_cost, squared_error)]
    for _ in range(3):
        theirs()
        for each in ours:
            each()
    return float(np.max([np.abs(p.data - q).max() for each in ours for p, q in zip(each.params, theirs.params)]))


def floor_difference() -> float:
    """Largest difference between our results and the floors' steps, hand-written with the exact rules or on the
    lean tape (0: they compute the same numbers, so their times bound ours from below; NaN where one has NaN)."""
    differences = [mlp_difference(step=mlp_exact)]
    (x, y), (tape_x, tape_y) = scalar_chain(Value)(), scalar_chain_tape()()  # the result and the leaf's gradient
    differences += [float(np.abs(y.data - tape_y.data)), float(np.abs(x.grad - tape_x.grad))]
    for floor in (array_chain_numpy(), array_chain_tape()):
        ours = array_chain_ours()
        ours()
        floor()
        differences += [float(np.abs(a - b).max()) for a, b in zip(ours.grads, floor.grads)]
    for cost in (written_out_cost, squared_error):
        ours, floor = mlp_ours(32, cost), mlp_tape(32, cost)
        for _ in range(3):
            ours()
            floor()
        differences += [float(np.abs(p.data - q).max()) for p, q in zip(ours.params, floor.params)]
    return float(np.max(differences))  # (Python's max would pass over a NaN that is not first)


# --- the x² demo's gradient descent: 1-12-12-1 leaky ReLU network, batches of 5 ---------------------------------
XSQUARED_RATE, XSQUARED_BATCH = 0.15, 5  # as tinygrad_edu.demo


def xsquared_ours(episodes: int) -> Step:
    inputs, targets = xsquared(1000, seed=0)
    model = xsquared_network(0)
    optimizer = optim.GradientDescent(model, XSQUARED_RATE)

    def run() -> None:
        fit(model, inputs, targets, cost=squared_error, optimizer=optimizer, episodes=episodes,
            batch_size=XSQUARED_BATCH, seed=0, progress=False)

    return run


def xsquared_batches(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    order = rng.permutation(n)
    return [order[i:i + XSQUARED_BATCH] for i in range(0, n, XSQUARED_BATCH)]


def xsquared_numpy(episodes: int) -> Step:
    """The same episodes with the derivatives written out: per batch forward, cost, backward, update."""
    inputs, targets = xsquared(1000, seed=0)
    layers = [(p.data.copy(), q.data.copy()) for p, q in zip(*[iter(xsquared_network(0).parameters())] * 2)]
    rng = np.random.default_rng(0)

    def forward(x: np.ndarray) -> list[np.ndarray]:
        activations = [x]
        for i, (w, b) in enumerate(layers):
            z = activations[-1] @ w + b
            activations.append(z if i == len(layers) - 1 else np.where(z > 0, z, 0.01 * z))
        return activations

    def update(x: np.ndarray, y: np.ndarray) -> float:
        activations = forward(x)
        error = activations[-1] - y
        delta = 2.0 * error / len(x)                                  # ∂C/∂α^L
        for i in range(len(layers) - 1, -1, -1):
            w, b = layers[i]
            if i < len(layers) - 1:
                delta = delta * np.where(activations[i + 1] > 0, 1.0, 0.01)   # · leaky ReLU'
            grad_w, grad_b = activations[i].T @ delta, delta.sum(axis=0)
            if i:
                delta = delta @ w.T
            w -= XSQUARED_RATE * grad_w
            b -= XSQUARED_RATE * grad_b
        return float((error * error).sum()) / len(x)

    def run() -> None:
        for _ in range(episodes):
            for index in xsquared_batches(rng, len(inputs)):
                update(inputs[index], targets[index])
        float(((forward(inputs)[-1] - targets) ** 2).sum() / len(inputs))  # the final cost, as fit reports it

    return run


def xsquared_torch(episodes: int) -> Step:
    inputs, targets = (torch.from_numpy(a) for a in xsquared(1000, seed=0))
    params = [torch.tensor(p.data, requires_grad=True) for p in xsquared_network(0).parameters()]
    layers = list(zip(params[::2], params[1::2]))
    rng = np.random.default_rng(0)

    def forward(x: torch.Tensor) -> torch.Tensor:
        for i, (w, b) in enumerate(layers):
            x = x @ w + b
            x = x if i == len(layers) - 1 else torch.nn.functional.leaky_relu(x)
        return x

    def run() -> None:
        for _ in range(episodes):
            for index in xsquared_batches(rng, len(inputs)):
                index = torch.from_numpy(index)
                cost = ((forward(inputs[index]) - targets[index]) ** 2).sum(dim=1).mean()
                cost.backward()
                cost.item()
                with torch.no_grad():
                    for p in params:
                        p -= XSQUARED_RATE * p.grad
                        p.grad = None
        with torch.no_grad():
            ((forward(inputs) - targets) ** 2).sum(dim=1).mean().item()

    return run


# --- the table -----------------------------------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.2f} µs"


FLOOR = "exact rules by hand"  # the column of a row's hand-written step with the engine's exact σ, tanh' rules
TAPE = "lean tape"  # the column of a row's step on a lean tape (a node and a gradient per operation, nothing else)
NOISE = 1.02  # ratios move by ±2 % between runs (an engine against itself): a floor within that of a target is no proof


def timed_row(label: str, steps: dict[str, Step], per: int, reference: str, target: float, rounds: int,
              min_time: float) -> tuple[str, ...]:
    """Measure ``steps`` (``ours`` first) interleaved and make a table row; times are divided by ``per``.  The
    ``FLOOR`` and ``TAPE`` steps compute our numbers with less than our engine does (no graph at all; a node per
    operation and nothing else), so each ratio to the reference bounds ours from below; the higher of them is the
    row's floor; a row not met whose floor is above the target by more than the noise says so ("NO (floor above)":
    in this run even the floor missed the target)."""
    samples = compare(steps, rounds, min_time)
    medians = {name: statistics.median(times) / per for name, times in samples.items()}
    others = " · ".join(f"{name} {fmt_time(t)}" for name, t in medians.items() if name != "ours") or "—"
    goal = f"≤ {target:g}× {reference}"
    if reference not in samples:
        return label, fmt_time(medians["ours"]), others, "—", "—", goal, "—"

    def ratio(name: str) -> float:  # rounded as printed, so that the row's verdict agrees with what it shows
        return round(statistics.median(o / r for o, r in zip(samples[name], samples[reference])), 2)

    ours, floor = ratio("ours"), max((ratio(name) for name in (FLOOR, TAPE) if name in samples), default=None)
    met = "yes" if ours <= target else "NO (floor above)" if floor is not None and floor > target * NOISE else "NO"
    return (label, fmt_time(medians["ours"]), others, f"{ours:.2f}×", "—" if floor is None else f"{floor:.2f}×",
            goal, met)


QUICK_ROUNDS = 3, 0.15  # --quick: rounds, and CPU seconds per column over all of them


def rows(quick: bool) -> list[tuple[str, ...]]:
    rounds, min_time = QUICK_ROUNDS if quick else (25, 3.0)
    table = []
    steps = {"ours": scalar_chain(Value), TAPE: scalar_chain_tape()}
    if MicrogradValue:
        steps["micrograd"] = scalar_chain(MicrogradValue)
    table.append(timed_row("scalar chain `y = y * 1.001 + 0.5`, fwd+bwd, per op", steps, SCALAR_OPS, "micrograd",
                           0.6, rounds, min_time))
    steps = {"ours": array_chain_ours(), FLOOR: array_chain_numpy(), TAPE: array_chain_tape()}
    if torch:
        steps["PyTorch"] = array_chain_torch()
    table.append(timed_row("element-wise chain on (8,) arrays, fwd+bwd, per op", steps, ARRAY_OPS, "PyTorch", 0.6,
                           rounds, min_time))
    for batch, cost, name, target in ((256, written_out_cost, "cost `((out − y)**2).sum(axis=1).mean()`", 1.25),
                                      (256, squared_error, "`losses.squared_error`", 1.12),
                                      (1797, squared_error, "`losses.squared_error`", 1.05)):
        steps = {"ours": mlp_ours(batch, cost), "numpy": mlp_numpy(batch), FLOOR: mlp_exact(batch),
                 TAPE: mlp_tape(batch, cost)}
        if torch:
            steps["PyTorch"] = mlp_torch(batch)
        table.append(timed_row(f"MLP 64-128-10 sigmoid step, batch {batch}, {name}", steps, 1, "numpy", target,
                               rounds, min_time))

    nodes = 10_000 if quick else 100_000
    ours = graph_bytes_per_node(Value, nodes)
    theirs = f"micrograd {graph_bytes_per_node(MicrogradValue, nodes):.0f} B" if MicrogradValue else "—"
    table.append((f"graph memory per scalar node (tracemalloc, {nodes:,}-node chain)", f"{ours:.0f} B", theirs, "—",
                  "—", "≤ 350 B", "yes" if ours <= 350 else "NO"))

    length = 20_000 if quick else 1_000_000
    runs = sorted(long_chain_seconds(length) for _ in range(1 if quick else 3))
    seconds, collecting = runs[len(runs) // 2]  # the median run
    seconds, collecting = seconds * 1_000_000 / length, collecting * 1_000_000 / length
    table.append(("1,000,000-op scalar chain, fwd+bwd" + (" (quick: 20,000 ops, scaled)" if quick else ""),
                  fmt_time(seconds), f"of which the cyclic GC {fmt_time(collecting)}", "—", "—", "≤ 3 s",
                  "—" if quick else "yes" if seconds <= 3 else "NO"))  # a scaled short chain judges nothing

    episodes = 1 if quick else 2
    steps = {"ours": xsquared_ours(episodes), "numpy": xsquared_numpy(episodes)}
    if torch:
        steps["PyTorch"] = xsquared_torch(episodes)
    updates = episodes * 1000 // XSQUARED_BATCH
    table.append(timed_row("x² demo, gradient-descent update on a batch of 5", steps, updates, "numpy", 2.5,
                           rounds, min_time))
    return table


def print_table(table: list[tuple[str, ...]]) -> None:
    """Print rows (the first is the header) as a Markdown table, ready for README.md."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for i, row in enumerate(table):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (width + 2) for width in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few short rounds (numbers are noisy)")
    args = parser.parse_args()
    # What is alive before measuring (PyTorch's modules: some 170,000 objects) is put out of the cyclic garbage
    # collector's reach, so that each column's collections walk only what that column made: otherwise micrograd,
    # whose every node is a reference cycle, spends most of its time walking PyTorch (measured: 3-4x slower).
    gc.collect()
    gc.freeze()
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__ + ' (1 thread)' if torch else 'not installed'}, "
          f"micrograd {'installed' if MicrogradValue else 'not installed'}, {os.cpu_count()} cores, "
          f"{os.environ.get('OPENBLAS_NUM_THREADS')} BLAS thread, malloc thresholds pinned")
    floors = floor_difference()
    print(f"MLP step: same numbers as the hand-written numpy step (max |difference| after 3 steps "
          f"{mlp_difference():.1e}); the floors' steps ({FLOOR}, {TAPE}): max |difference| {floors:.1e}\n")
    if floors != 0:  # (NaN too) a step that computes other numbers bounds nothing: no floors, no verdicts on them
        raise SystemExit(f"the floors' steps do not compute our numbers (max |difference| {floors:.1e}): fix them")
    if args.quick:
        print(f"--quick: a smoke run ({QUICK_ROUNDS[0]} rounds of {QUICK_ROUNDS[1] / QUICK_ROUNDS[0]:.2f} s per "
              "column, short chains): its ratios and verdicts are noise, not results\n")
    header = ("workload", "tinygrad_edu", "reference", "ratio", "floor", "target", "met")
    print_table([header, *rows(args.quick)])
    print("\n(times are medians of interleaved rounds of CPU time; a ratio is the median of the rounds' ratios)")


if __name__ == "__main__":
    main()
