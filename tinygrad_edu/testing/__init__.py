"""Gradient checking: compare the gradients backpropagation computes with finite differences.

Backpropagation (seed, section 6.3) is the chain rule applied node by node; one wrong local derivative
silently gives wrong weight updates, and gradient descent still "runs".  The cure is to measure the derivative
directly: the central difference ``∂C/∂x ≈ (C(x + ε) − C(x − ε)) / 2ε`` for every element of every input, in
float64, and compare it with what :meth:`~tinygrad_edu.Value.backward` says.

    >>> import numpy as np
    >>> from tinygrad_edu.testing import check_gradients
    >>> report = check_gradients(lambda w, a: (w @ a).sigmoid().sum(), np.ones((2, 3)), np.arange(3.0))
    >>> report.ok
    True

Hypothesis strategies for property tests of your own operations live in :mod:`tinygrad_edu.testing.strategies`
(needs the ``testing`` extra: ``pip install "tinygrad-edu[testing]"``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu.engine import Value, no_grad

__all__ = ["numerical_gradient", "check_gradients", "GradientReport", "GradientCheckError"]


def _as_float64(x: Any) -> np.ndarray:
    """A float64 copy of an input (a Value, an array or a number)."""
    data = x.data if isinstance(x, Value) else x
    array = np.array(data, dtype=np.float64, copy=True)
    return array


def _output_data(out: Any, name: str) -> np.ndarray:
    if isinstance(out, Value):
        return np.asarray(out.data, dtype=np.float64)
    try:
        array = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: f must return a Value or an array of real numbers, "
                        f"got {type(out).__name__}") from None
    return array


def numerical_gradient(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6,
                       upstream: Any = None) -> list[np.ndarray]:
    """The gradient of ``Σ upstream · f(*inputs)`` with respect to each input: central differences, float64.

    Every element ``x`` of every input is moved to ``x + ε`` and ``x − ε`` in turn and
    ``∂C/∂x ≈ Σ upstream · (f(…, x + ε, …) − f(…, x − ε, …)) / 2ε``.  Inputs given as Values reach ``f`` as
    Values (float64, evaluated under :func:`~tinygrad_edu.no_grad`), arrays and numbers as float64 arrays.
    ``upstream`` (∂C/∂output) may be left out only when ``f`` returns a single number.
    Returns one float64 array per input, of that input's shape.

    >>> numerical_gradient(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))   # 3x²
    [array([ 3., 12.])]
    """
    bases = [_as_float64(x) for x in inputs]
    as_value = [isinstance(x, Value) for x in inputs]

    def evaluate(arrays: list[np.ndarray]) -> np.ndarray:
        args = [Value(a) if wrap else a for a, wrap in zip(arrays, as_value, strict=True)]
        with no_grad():
            return _output_data(f(*args), "numerical_gradient")

    out = evaluate(bases)
    if upstream is None:
        if out.size != 1:
            raise ValueError(f"numerical_gradient: f returned shape {out.shape}; give upstream (∂C/∂output) "
                             "of that shape, only an output of size 1 needs none")
        weights = np.ones(out.shape)
    else:
        weights = np.asarray(_as_float64(upstream))
        if weights.shape != out.shape:
            raise ValueError(f"numerical_gradient: upstream has shape {weights.shape} but f returned shape "
                             f"{out.shape}")
    grads = []
    for i, base in enumerate(bases):
        grad = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            x = base[index]
            plus, minus = base.copy(), base.copy()
            plus[index], minus[index] = x + eps, x - eps
            step = plus[index] - minus[index]  # exactly representable, unlike 2ε
            arrays = bases[:i] + [plus] + bases[i + 1:]
            out_plus = evaluate(arrays)
            arrays[i] = minus
            out_minus = evaluate(arrays)
            grad[index] = np.sum(weights * (out_plus - out_minus)) / step
        grads.append(grad)
    return grads


@dataclass(frozen=True)
class GradientReport:
    """What :func:`check_gradients` found: per input the largest absolute and relative difference.

    ``analytic`` and ``numeric`` hold the two gradients (float64 arrays, one per input) for a closer look.
    """

    max_abs_error: tuple[float, ...]
    max_rel_error: tuple[float, ...]
    elements: int
    atol: float
    rtol: float
    eps: float
    analytic: list[np.ndarray] = field(repr=False, compare=False)
    numeric: list[np.ndarray] = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True: every element agreed within ``atol + rtol·|numeric|`` (a report is only returned then)."""
        return True

    def __repr__(self) -> str:
        pairs = zip(self.max_abs_error, self.max_rel_error, strict=True)
        errors = ", ".join(f"{a:.1e}/{r:.1e}" for a, r in pairs)
        return (f"GradientReport(ok, {len(self.max_abs_error)} input(s), {self.elements} element(s) checked; "
                f"max abs/rel error per input: {errors}; "
                f"atol={self.atol:g}, rtol={self.rtol:g}, eps={self.eps:g})")


class GradientCheckError(AssertionError):
    """Backpropagation and finite differences disagree; the message is a table of the worst elements."""

    def __init__(self, message: str, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
        super().__init__(message)
        self.analytic = analytic
        self.numeric = numeric


def _input_name(i: int, x: Any) -> str:
    label = x.label if isinstance(x, Value) else None
    return f"{i} ({label})" if label else str(i)


def _failure_table(names: Sequence[str], analytic: list[np.ndarray], numeric: list[np.ndarray], atol: float,
                   rtol: float, rows: int) -> str:
    """The worst disagreeing elements, worst first, as a fixed-width text table."""
    failures = []
    total = 0
    for name, a, n in zip(names, analytic, numeric, strict=True):
        abs_err = np.abs(a - n)
        bad = ~(abs_err <= atol + rtol * np.abs(n))  # NaN counts as bad
        total += a.size
        for index in np.ndindex(a.shape):
            if not bad[index]:
                continue
            err = abs_err[index]
            scale = max(abs(a[index]), abs(n[index]))
            rel = err / scale if scale else 0.0
            excess = err - (atol + rtol * abs(n[index]))
            excess = np.inf if np.isnan(excess) else excess
            failures.append((excess, name, index, a[index], n[index], err, rel))
    failures.sort(key=lambda row: -row[0])
    header = ("input", "index", "analytic", "numeric", "abs error", "rel error")
    lines = [header] + [(name, str(index), f"{a:.6g}", f"{n:.6g}", f"{err:.2e}", f"{rel:.2e}")
                        for _, name, index, a, n, err, rel in failures[:rows]]
    widths = [max(len(line[c]) for line in lines) for c in range(len(header))]
    text = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    more = f"\n... and {len(failures) - rows} more" if len(failures) > rows else ""
    return (f"check_gradients: {len(failures)} of {total} gradient elements disagree with finite differences "
            f"(atol={atol:g}, rtol={rtol:g}):\n" + "\n".join(text) + more)


def check_gradients(f: Callable[..., Value], *inputs: Any, eps: float = 1e-6, atol: float = 1e-6,
                    rtol: float = 1e-5, seed: int = 0, rows: int = 10) -> GradientReport:
    """Check ``f``'s backpropagated gradients against :func:`numerical_gradient`.

    ``f`` is called on float64 Values made from ``inputs`` (Values, arrays or numbers) and must return a
    Value.  A non-scalar output is backpropagated with a random upstream gradient (drawn from a generator
    seeded with ``seed``), which checks every output at once.  Inputs the gradient never reaches count as
    zeros.  Each element must satisfy ``|analytic − numeric| ≤ atol + rtol·|numeric|``.

    Returns a :class:`GradientReport` when all agree, otherwise raises :class:`GradientCheckError` (an
    ``AssertionError``) with a table of the ``rows`` worst elements.  Warns (``UserWarning``) about float32
    inputs: they are checked in float64, as finite differences need.

    >>> from tinygrad_edu import Op
    >>> square = Op("square", lambda x: x * x, lambda g, out, x: g * x)   # forgot the 2
    >>> try:
    ...     check_gradients(square, np.array([1.0, 2.0]))
    ... except GradientCheckError as error:
    ...     print(str(error).splitlines()[0])
    check_gradients: 2 of 2 gradient elements disagree with finite differences (atol=1e-06, rtol=1e-05):
    """
    if not callable(f):
        raise TypeError(f"check_gradients: f must be callable, got {type(f).__name__}")
    arrays = []
    for i, x in enumerate(inputs):
        data = x.data if isinstance(x, Value) else np.asarray(x)
        if data.dtype == np.float32:
            warnings.warn(f"check_gradients: input {i} is float32; it is checked in float64 (finite "
                          "differences are too coarse in float32)", UserWarning, stacklevel=2)
        if data.dtype.kind not in "biuf":
            raise TypeError(f"check_gradients: input {i} has dtype {data.dtype}; give real numbers")
        arrays.append(_as_float64(data))
    names = [_input_name(i, x) for i, x in enumerate(inputs)]
    values = [Value(a, label=x.label if isinstance(x, Value) else None)
              for a, x in zip(arrays, inputs, strict=True)]
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"check_gradients: f must return a Value, got {type(out).__name__}")
    if out.size == 1:
        upstream = np.ones(out.shape)
    else:
        upstream = np.random.default_rng(seed).standard_normal(out.shape)
    if out.requires_grad:
        out.backward(upstream)
    analytic = [np.zeros(v.shape) if v.grad is None else np.asarray(v.grad, dtype=np.float64) for v in values]
    numeric = numerical_gradient(f, *values, eps=eps, upstream=upstream)
    abs_errors, rel_errors = [], []
    failed = False
    for a, n in zip(analytic, numeric, strict=True):
        err = np.abs(a - n)
        if not np.all(err <= atol + rtol * np.abs(n)):
            failed = True
        scale = np.maximum(np.abs(a), np.abs(n))
        rel = np.divide(err, scale, out=np.zeros_like(err), where=scale > 0)
        abs_errors.append(float(err.max(initial=0.0)))
        rel_errors.append(float(rel.max(initial=0.0)))
    if failed:
        table = _failure_table(names, analytic, numeric, atol, rtol, rows)
        raise GradientCheckError(table, analytic, numeric)
    return GradientReport(tuple(abs_errors), tuple(rel_errors), sum(a.size for a in arrays), atol, rtol, eps,
                          analytic, numeric)
