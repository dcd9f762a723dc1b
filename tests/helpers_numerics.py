"""What the numerics tests (tests/test_numerics_mpmath.py, tests/test_numerical_extremes_r3.py) share: f, f′ and f″
by the engine, and the exact numbers from mpmath they are held against.  A helper module, not a test module: no
test module imports another.  mpmath is optional (the dev extra): without it the files importing this are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value

mp = pytest.importorskip("mpmath")


def ulps(got: float, exact: Any, dtype: Any) -> float:
    """|got − exact| in units of dtype's machine epsilon, relative to |exact| (exact is an mpmath number ≠ 0)."""
    return float(abs(mp.mpf(float(got)) - exact) / abs(exact) / np.finfo(dtype).eps)


def derivatives(f: Callable[[Value], Value], x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(x), f'(x), f''(x) element-wise, the last from a recorded backward pass differentiated again."""
    point = Value(x)
    out = f(point)
    out.backward(np.ones_like(x), create_graph=True)
    slope = point.grad
    point.grad = None
    slope.sum().backward()
    return out.data, slope.data, np.asarray(point.grad)


def sigma(x: Any) -> Any:
    """The logistic function σ(x) = 1 / (1 + e^−x) in mpmath."""
    return 1 / (1 + mp.exp(-x))


def compare_with_mpmath(name: str, results: Sequence[np.ndarray], rules: Sequence[Callable[[Any], Any]],
                        x: np.ndarray, dtype: Any) -> None:
    """f, f′, f″ (``results``) against mpmath's closed forms (``rules``) at every point of ``x``: within 4 ulps where
    the exact number is a normal number of ``dtype``, at most its smallest normal number (never NaN) where it
    underflows, inf of the right sign where it overflows; in ``dtype`` itself."""
    info = np.finfo(dtype)
    for order, (got, rule) in enumerate(zip(results, rules, strict=True)):
        assert got.dtype == dtype, (name, order, got.dtype)
        for xi, gi in zip(x, got, strict=True):
            r = rule(mp.mpf(float(xi)))
            where = f"{name}{chr(39) * order}({float(xi)!r}) in {dtype.__name__}: {gi!r}, mpmath {mp.nstr(r, 17)}"
            if abs(r) > info.max:
                assert np.isinf(gi) and np.sign(gi) == mp.sign(r), where
            elif abs(r) < info.tiny:
                assert abs(float(gi)) <= info.tiny and not np.isnan(gi), where
            else:
                assert ulps(gi, r, dtype) <= 4, where
