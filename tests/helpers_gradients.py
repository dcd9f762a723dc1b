"""Central differences in float64, independent of the engine: what the tests hold the engine's gradients against.

A helper module, not a test module (no test module imports another): one copy of each way of taking them.

- :func:`central_difference`: ∂f/∂x of a number-valued ``f`` of one array.
- :func:`jacobian_differences`: the same for an array-valued ``f``, laid out as a Jacobian.
- :func:`weighted_difference`: ∂(Σ weights·f(x))/∂x for an array-valued ``f``, the difference taken before the sum.
- :func:`central_differences`: ∂f/∂(each array) of a number-valued ``f`` of a list of arrays.
- :func:`differences_in_place`: ∂f/∂(each array) where ``f()`` reads the arrays itself (a model's ``p.data``): each
  number is moved in place and put back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def central_difference(f: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x, (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / 2·eps for each element i of ``x`` (a copy in float64: an integer
    array would hold its slopes as truncated integers)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


def weighted_difference(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, weights: np.ndarray,
                        step: float = 1e-6) -> np.ndarray:
    """∂(Σ weights·f(x))/∂x by central differences in float64, each difference of f taken before it is weighted and
    summed (so large values that cancel lose no digits): a vector-Jacobian product, what a vjp computes."""
    gradient = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        gradient[i] = ((f(up) - f(down)) * weights).sum() / (2 * step)
    return gradient


def jacobian_differences(f: Callable[[np.ndarray], Any], x: Any, h: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + h) − f(x − h)) / 2h of an array-valued ``f`` in each element of ``x``: shape
    f(x).shape + x.shape, in float64."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        columns.append((np.asarray(f(x + step), dtype=np.float64) - np.asarray(f(x - step), dtype=np.float64))
                       / (2 * h))
    stacked = np.stack(columns, axis=-1)
    return stacked.reshape(stacked.shape[:-1] + x.shape)


def central_differences(f: Callable[[list[np.ndarray]], Any], arrays: Sequence[np.ndarray],
                        h: float = 1e-6) -> list[np.ndarray]:
    """∂f/∂(each element of each array) of a number-valued ``f(list of arrays)``; ``f`` gets copies, one number
    moved by ±h, and ``arrays`` are left as they were."""
    gradients = []
    for k, array in enumerate(arrays):
        gradient = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            up, down = [a.copy() for a in arrays], [a.copy() for a in arrays]
            up[k][index] += h
            down[k][index] -= h
            gradient[index] = (f(up) - f(down)) / (2 * h)
        gradients.append(gradient)
    return gradients


def differences_in_place(f: Callable[[], Any], arrays: Sequence[np.ndarray], h: float = 1e-6) -> list[np.ndarray]:
    """∂f()/∂(each element of each array), where ``f`` reads the arrays itself (a model's ``p.data``): each number is
    moved by ±h in place and put back."""
    gradients = []
    for array in arrays:
        gradient = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            kept = array[index]
            array[index] = kept + h
            up = f()
            array[index] = kept - h
            down = f()
            array[index] = kept
            gradient[index] = (up - down) / (2 * h)
        gradients.append(gradient)
    return gradients
