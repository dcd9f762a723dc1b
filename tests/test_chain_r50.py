"""Round 50, the scalar chain (issue 10): the backward walk hands a 0-d float64 sum's gradient on to its inputs as it
is (add's rule is g itself), without calling the rule or checking what it returns, as it hands on a 0-d float64
product's.  The guards below keep what those checks are for."""
from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, ops


def _chain(n: int, x: Value) -> Value:
    y = x
    for _ in range(n):
        y = y * 1.001 + 0.5
    return y


@contextmanager
def _counting_add_rules() -> Iterator[list[int]]:
    """The calls of add's own two rules inside the block, by their code (sys.setprofile): replacing ops.add.vjps with
    counting wrappers would make them rules of one's own, which the walk calls as they are."""
    calls: list[int] = []
    codes = {rule.__code__: i for i, rule in enumerate(ops.add.vjps)}

    def watch(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            calls.append(codes[frame.f_code])

    sys.setprofile(watch)
    try:
        yield calls
    finally:
        sys.setprofile(None)


def test_a_0d_float64_sum_hands_g_on_without_its_rule() -> None:
    x = Value(1.0)
    y = _chain(30, x)
    with _counting_add_rules() as calls:
        y.backward()
    assert calls == []
    assert float(x.grad) == math.prod([1.001] * 30)


def test_a_sum_of_two_values_gives_each_the_same_gradient() -> None:
    a, b = Value(0.3), Value(-2.0)
    z = a * b
    y = (z + a) * 2.0  # ∂y/∂a = 2(b + 1), ∂y/∂b = 2a, exactly
    y.backward()
    assert float(a.grad) == 2 * (-2.0 + 1) and float(b.grad) == 2 * 0.3
    assert a.grad.dtype == np.float64 and a.grad.shape == () and z.grad.shape == ()


def test_the_sums_rule_still_runs_where_it_must() -> None:
    """Arrays and a recorded pass still go through add's rule; a float32 input of a float64 sum gets g cast back."""
    v = Value(np.ones(3))
    w = Value(np.asarray(1.5, dtype=np.float32))
    x = Value(2.0)
    with _counting_add_rules() as calls:
        (v + 0.5).sum().backward()
        assert calls == [0]
        (w + np.asarray(2.0)).backward()  # a float64 sum of a float32 input: its gradient cast back to float32
        assert calls == [0] and w.grad.dtype == np.float32 and float(w.grad) == 1.0
        (x * x + 1.0).backward(create_graph=True)
    assert len(calls) == 2 and float(x.grad.data) == 4.0


def test_a_float32_sum_keeps_its_dtype() -> None:
    x = Value(np.asarray(1.5, dtype=np.float32))
    y = (x + 0.5) * 3.0
    y.backward()
    assert y.data.dtype == np.float32 and x.grad.dtype == np.float32 and float(x.grad) == 3.0


def test_a_chains_gradient_against_a_central_difference() -> None:
    n, t, h = 200, 1.0, 1e-6
    x = Value(t)
    _chain(n, x).backward()
    closed = lambda s: 1.001 ** n * s + 0.5 * (1.001 ** n - 1) / 0.001  # noqa: E731
    assert math.isclose(float(x.grad), (closed(t + h) - closed(t - h)) / (2 * h), rel_tol=1e-7)


def test_anomaly_mode_still_checks_a_sums_gradient() -> None:
    x = Value(1.0)
    y = (x + 1.0) * 1e200
    with detect_anomaly(), pytest.raises(FloatingPointError, match="backward"):
        y.backward(np.asarray(1e200))  # the product's gradient 1e400 overflows before the sum hands it on


def test_a_stale_input_of_a_sum_is_still_refused() -> None:
    from tinygrad_edu import no_grad
    x = Value(1.0)
    y = (x * 2.0) + x
    with no_grad():
        x -= 1.0
    with pytest.raises(ValueError, match="stale"):
        y.backward()


def test_a_frozen_leaf_in_a_sum_gets_no_gradient() -> None:
    a, b = Value(1.0), Value(2.0, requires_grad=False)
    (a * 3.0 + b).backward()
    assert float(a.grad) == 3.0 and b.grad is None


class _NoItem(np.ndarray):
    """A 0-d array whose .item() fails: the fast paths read a 0-d float64 number by float(), without the method
    lookup of .item() (the same number)."""

    def item(self, *args: Any) -> Any:
        raise AssertionError("item() called")


def test_the_fast_paths_read_numbers_without_item(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_edu import engine
    x = Value(1.5)
    x._data = np.asarray(1.5).view(_NoItem)  # (the slot itself, as the engine writes it)
    z = x * 3.0  # the forward's number from x
    assert float(z.data) == 4.5
    y = _chain(5, Value(1.0))
    monkeypatch.setattr(engine, "_asarray", lambda number: np.asarray(number).view(_NoItem))
    y.backward(np.asarray(2.0).view(_NoItem))  # the walk's g, and the products' gradients, as _NoItem
    assert float(y.grad) == 2.0
