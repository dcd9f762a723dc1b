"""Round 49, the scalar chain's backward walk (issue 10): the walk takes a node's inputs by index, not through a
zip() per node, and hands on the gradient of a product of single float64 numbers, computed by Python floats, without
the checks that gradient passes by construction.  The guards below keep what those checks are for."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, engine, no_grad


def _chain(n: int, x: Value) -> Value:
    y = x
    for _ in range(n):
        y = y * 1.001 + 0.5
    return y


def test_the_walk_makes_no_zip_per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting_zip(*args: Any, **kwargs: Any) -> Any:
        calls.append(len(args))
        return zip(*args, **kwargs)

    y = _chain(50, Value(1.0))
    monkeypatch.setattr(engine, "zip", counting_zip, raising=False)  # (the module's name shadows the builtin)
    y.backward()
    assert calls == []


def test_a_float_products_gradient_is_handed_on_without_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk's 0-d float64 product gradient goes on as it is: made an array of a subclass here, which the checks
    would send through ``_fit``, it reaches no ``_fit`` for a product, nor (since round 50) for a sum."""

    class Marked(np.ndarray):
        pass

    x = Value(1.0)
    y = _chain(20, x)
    fitted: list[str] = []
    fit = engine._fit

    def counting_fit(grad: Any, parent: Value, op: Any, *args: Any, **kwargs: Any) -> Any:
        fitted.append(op.name)
        return fit(grad, parent, op, *args, **kwargs)

    monkeypatch.setattr(engine, "_asarray", lambda number: np.asarray(number).view(Marked))
    monkeypatch.setattr(engine, "_fit", counting_fit)
    y.backward()
    assert fitted == []  # (round 50: a 0-d float64 sum hands its g on unchecked too, as the product does)
    assert math.isclose(float(x.grad), 1.001 ** 20, rel_tol=1e-14)


def test_the_chains_gradient_is_the_product_of_its_factors() -> None:
    n = 2000
    x = Value(1.0)
    y = _chain(n, x)
    y.backward()
    expected = 1.0
    for _ in range(n):  # the walk multiplies g by 1.001 once per product, newest first: the same roundings
        expected *= 1.001
    assert x.grad.dtype == np.float64 and x.grad.shape == ()
    assert float(x.grad) == expected
    h = 1e-6  # and against a central finite difference in float64 of the chain's closed form
    closed = lambda t: 1.001 ** n * t + 0.5 * (1.001 ** n - 1) / 0.001  # noqa: E731
    assert math.isclose(float(x.grad), (closed(1 + h) - closed(1 - h)) / (2 * h), rel_tol=1e-6)


def test_intermediate_gradients_are_kept_for_drawings() -> None:
    x = Value(2.0)
    z = x * 3.0
    y = z + 0.5
    y.backward()
    assert float(y.grad) == 1.0 and float(z.grad) == 1.0 and float(x.grad) == 3.0
    assert isinstance(z.grad, np.ndarray) and z.grad.dtype == np.float64


def test_a_float32_factor_keeps_its_dtype() -> None:
    """A 0-d float32 Value times a float64 array gives a float64 product: its gradient is cast back (the checks)."""
    x = Value(np.asarray(1.5, dtype=np.float32))
    y = x * np.asarray(3.0) + 0.5
    assert y.data.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float32 and float(x.grad) == 3.0


def test_a_float32_constant_times_a_float64_value() -> None:
    x = Value(1.5)
    y = x * np.asarray(3.0, dtype=np.float32)
    y.backward()
    assert x.grad.dtype == np.float64 and float(x.grad) == 3.0


def test_anomaly_mode_still_checks_a_products_gradient() -> None:
    x = Value(1.0)
    y = (x * 1e-300) * 1e200  # finite forward; backward from 1e300: the inner product's gradient 1e500 overflows
    with detect_anomaly(), pytest.raises(FloatingPointError, match="mul"):
        y.backward(np.asarray(1e300))


def test_a_stale_graph_is_still_refused() -> None:
    x = Value(1.0)
    y = _chain(3, x)
    with no_grad():
        x -= 1.0
    with pytest.raises(ValueError, match="stale"):
        y.backward()


def test_a_product_of_a_value_with_itself() -> None:
    x = Value(3.0)
    (x * x).backward()
    assert float(x.grad) == 6.0
