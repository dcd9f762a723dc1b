"""The school method of seed section 6.1: set the derivative to 0, then ask the second derivative what was found.

:func:`stationary_point` solves ∇f(x) = 0 by Newton's method, ``x ← x − H(x)⁻¹∇f(x)``, with the gradient and the
Hessian H from the engine (:mod:`tinygrad_edu.autodiff`).  :func:`classify_stationary_point` is the
second-derivative test in n dimensions: the eigenvalues of H say **minimum** (all > 0), **maximum** (all < 0),
**saddle** (some > 0, some < 0) or **inconclusive** (some ≈ 0 and no two signs: x⁴ and x³ both look flat at 0).

Newton's method for ∇f = 0 does not care which kind of point it finds, so where it lands depends on the start;
and each step needs the n × n Hessian, n backward passes and a solve of n equations: that is the cost the seed
means when it says the method "can be very costly for multidimensional functions" (millions of parameters), and
why networks are trained by gradient descent instead (section 6.2).

    >>> from tinygrad_edu.calculus import stationary_point
    >>> f = lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2           # a minimum at (1, 0), a saddle at (−1, 0)
    >>> found = stationary_point(f, [0.8, 0.3])
    >>> found.kind, found.point.round(6).tolist()
    ('minimum', [1.0, 0.0])
    >>> stationary_point(f, [-2.0, 1.0]).kind
    'saddle'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_edu.autodiff import hessian, value_and_grad
from tinygrad_edu.engine import Value

__all__ = ["StationaryPoint", "stationary_point", "classify_stationary_point", "KINDS"]

#: What the second-derivative test can say, and what it says when Newton's method did not converge.
KINDS = ("minimum", "maximum", "saddle", "inconclusive", "not converged")


@dataclass(frozen=True)
class StationaryPoint:
    """Where Newton's method for ∇f = 0 ended, and what the Hessian says about that point."""

    point: np.ndarray  #: the x found
    value: float  #: f(x)
    gradient_norm: float  #: ‖∇f(x)‖, ≤ tol when converged
    eigenvalues: np.ndarray  #: of the Hessian at x, ascending
    kind: str  #: one of :data:`KINDS`
    converged: bool
    iterations: int
    path: np.ndarray  #: every point visited, the start first, shape (iterations + 1, n)


def classify_stationary_point(eigenvalues: Any, tol: float = 1e-6) -> str:
    """The second-derivative test from the Hessian's eigenvalues: an eigenvalue counts as 0 when
    ``|λ| ≤ tol · max(1, max |λ|)``.

    >>> classify_stationary_point([2.0, 0.5]), classify_stationary_point([-1.0, 3.0])
    ('minimum', 'saddle')
    >>> classify_stationary_point([0.0, 1.0])                      # f = x⁴ + y² at 0: a minimum, f = x³ + y²: not
    'inconclusive'
    """
    values = np.asarray(eigenvalues, dtype=np.float64).ravel()
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"classify_stationary_point: needs finite eigenvalues, got {values}")
    if not tol >= 0:
        raise ValueError(f"classify_stationary_point: tol must be >= 0, got {tol}")
    zero = tol * max(1.0, float(np.abs(values).max()))
    positive, negative = bool((values > zero).any()), bool((values < -zero).any())
    if positive and negative:
        return "saddle"
    if (np.abs(values) <= zero).any():
        return "inconclusive"
    return "minimum" if positive else "maximum"


def _evaluate(f: Callable[[Value], Value], x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """f(x), ∇f(x) and the Hessian, all from the engine, as float64 arrays (x flat)."""
    value, slope = value_and_grad(f)(x)
    matrix = hessian(f)(x).data.reshape(x.size, x.size)
    return float(value.item()), np.array(slope.data, dtype=np.float64).ravel(), (matrix + matrix.T) / 2


def stationary_point(f: Callable[[Value], Value], start: Any, *, tol: float = 1e-10, max_iterations: int = 50,
                     zero_tol: float = 1e-6) -> StationaryPoint:
    """Newton's method for ∇f(x) = 0 from ``start`` (a number or a vector), then the second-derivative test.

    Stops when ``‖∇f(x)‖ ≤ tol`` (converged) or after ``max_iterations``; a singular Hessian takes the
    least-squares step.  ``f`` takes a Value shaped like ``start`` and returns a single number.  ``zero_tol`` is
    :func:`classify_stationary_point`'s tolerance.  A run that did not converge has kind ``"not converged"``.
    """
    if not callable(f):
        raise TypeError(f"stationary_point: f must be a function of a Value, got {type(f).__name__}")
    x = np.array(start, dtype=np.float64)
    if x.ndim > 1 or x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"stationary_point: start must be a finite number or vector, got {start!r}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 0:
        raise ValueError(f"stationary_point: max_iterations must be an int >= 0, got {max_iterations!r}")
    shape = x.shape
    path = [x.ravel().copy()]
    value, slope, matrix = _evaluate(f, x)
    iterations = 0
    while np.linalg.norm(slope) > tol and iterations < max_iterations and np.isfinite(slope).all():
        try:
            step = np.linalg.solve(matrix, slope)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(matrix, slope, rcond=None)[0]
        x = (x.ravel() - step).reshape(shape)
        iterations += 1
        path.append(x.ravel().copy())
        value, slope, matrix = _evaluate(f, x)
    norm = float(np.linalg.norm(slope))
    converged = norm <= tol
    eigenvalues = np.linalg.eigvalsh(matrix) if np.isfinite(matrix).all() else np.full(x.size, np.nan)
    kind = classify_stationary_point(eigenvalues, zero_tol) if converged else "not converged"
    return StationaryPoint(x.ravel().copy(), value, norm, eigenvalues, kind, converged, iterations, np.array(path))


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
