"""Hand-made models, optimizers and costs whose every number is known, and a model's parameters as one flat vector:
what several test files build the same way.  A helper module, not a test module: no test module imports another.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.losses import squared_error

#: The samples of :func:`network_cost`: eight points in [-1, 1], one input each.
SAMPLES = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)


def network_cost(hidden: int) -> Any:
    """C(x) of a 1-hidden-1 tanh network whose 3·hidden + 1 parameters are one vector x (as the benchmark's), fitting
    x² on :data:`SAMPLES`."""

    def cost(x: Value) -> Value:
        w1, b1 = x[:hidden].reshape(1, hidden), x[hidden:2 * hidden]
        w2, b2 = x[2 * hidden:3 * hidden].reshape(hidden, 1), x[3 * hidden:]
        return squared_error((SAMPLES @ w1 + b1).tanh() @ w2 + b2, SAMPLES ** 2)

    return cost


class Scripted:
    """An optimizer that makes no update of its own: it sets the parameters to the next values of ``script``
    (if any), so every gradient and cost of a run can be computed by hand."""

    def __init__(self, params: Iterable[Value], script: Iterable[Sequence[Any]] = ()) -> None:
        self.params, self.script = list(params), list(script)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self, closure: Any, cost: Any = None) -> None:
        if self.script:
            for p, value in zip(self.params, self.script.pop(0), strict=True):
                p.data[...] = value


class Values(nn.Module):
    """``count`` parameters of shape (2,), named v0, v1, …"""

    def __init__(self, count: int) -> None:
        for i in range(count):
            setattr(self, f"v{i}", Value(np.zeros(2)))


def bowl(p: Value) -> Value:
    """f(p) = ‖p‖²: ∇f = 2p, so a step of learning rate η maps p to (1 − 2η)·p."""
    return (p * p).sum()


# --- SGD with momentum after one step: x, its gradients and its velocity known by hand ------------------------------
X0, G1, G2 = np.array([1.0, -2.0]), np.array([0.5, 1.0]), np.array([-3.0, 2.0])


def sgd_after_one_step(*others: Value) -> tuple[Value, optim.SGD]:
    """SGD (η = 0.1, μ = 0.9) over x and ``others`` after one step with gradient G1 for x (none for the others):
    x's velocity is G1, x is X0 − 0.1·G1."""
    x = Value(X0.copy())
    opt = optim.SGD([x, *others], learning_rate=0.1, momentum=0.9)
    x.grad = G1.copy()
    opt.step()
    return x, opt


def assert_next_sgd_step_is_the_unchanged_one(x: Value, opt: optim.SGD) -> None:
    """The step after a refused load goes on from the state before it: v = 0.9·G1 + G2, x ← x − 0.1·v."""
    x.grad = G2.copy()
    opt.step()
    np.testing.assert_allclose(x.data, X0 - 0.1 * G1 - 0.1 * (0.9 * G1 + G2), rtol=1e-15)


# --- parameters as one vector (Newton's method by hand) -------------------------------------------------------------
def flat_parameters(params: Sequence[Value]) -> np.ndarray:
    """The numbers of ``params``, one after another."""
    return np.concatenate([p.data.ravel() for p in params])


def place_parameters(params: Sequence[Value], numbers: np.ndarray) -> None:
    """Put a vector made by :func:`flat_parameters` back into ``params``, in place."""
    start = 0
    for p in params:
        p.data[...] = numbers[start:start + p.size].reshape(p.shape)
        start += p.size
