"""Correct code: armijo_step's f may return a Value of size 1 or a 0-d array, as its docstring says."""

import numpy as np

from tinygrad_edu import Value
from tinygrad_edu.optim import ArmijoStep, armijo_step


def cost(point: np.ndarray) -> Value:
    return (Value(point) ** 2).sum()


def cost_array(point: np.ndarray) -> np.ndarray:
    return np.asarray(point @ point)


steps: list[ArmijoStep] = [armijo_step(f, np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5)
                           for f in (cost, cost_array)]
