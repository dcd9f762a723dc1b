"""Round 46's walk setup: ``engine.backward_reach`` (the transforms' one walk, which leaves a graph's constants as
arrays), the stale-graph error before a frozen input's, and the ``.grad`` of computed Values that a ``backward()``
which ``f`` calls itself writes.  Each test marked "failed before" failed on the round's start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference, jacobian_differences
from helpers_models import network_cost

from tinygrad_edu import Value, engine, no_grad
from tinygrad_edu.autodiff import grad, hessian, value_and_grad


# --- 1, 2. the transforms' walk makes no constant a Value -----------------------------------------------------------
def test_value_and_grad_turns_no_constant_into_a_value_and_matches_the_pass_written_out(monkeypatch):
    """failed before: deciding whether to record read every node's inputs through Value.parents, which made each
    constant input (the samples, the targets) a Value."""
    made: list[int] = []
    original = engine._constant_input
    monkeypatch.setattr(engine, "_constant_input", lambda *args: made.append(1) or original(*args))
    cost = network_cost(3)
    x = np.random.default_rng(1).normal(size=10)
    value, slope = value_and_grad(cost)(x)
    assert made == []
    monkeypatch.undo()
    p = Value(x)
    c = cost(p)
    c.backward()
    np.testing.assert_array_equal(value.data, c.data)  # bit for bit, as the pass written out
    np.testing.assert_array_equal(slope.data, p.grad)
    differences = central_difference(lambda q: float(cost(Value(q)).data), x)
    np.testing.assert_allclose(slope.data, differences, rtol=1e-6, atol=1e-8)


def test_backward_reach_gives_backward_orders_values_and_what_the_walk_meets():
    x = Value(np.array([1.0, -2.0]))
    y = x * 2.0  # computed: a walk towards it stops there
    alone = (y * y).sum()
    values, others, leading = engine.backward_reach(alone, [y])
    assert {id(v) for v in values} == {id(v) for v in engine.backward_order(alone, [y])}
    assert (others, leading) == (True, False)  # x, behind y, needs a gradient: another Value of the caller's
    with no_grad():
        z = Value(np.array([1.0, -2.0]))
    z.requires_grad = True
    copy = z.reshape(2)
    z.requires_grad = False  # (as autodiff's copies: the leaf behind them needs no gradient)
    assert engine.backward_reach((copy * copy).sum(), [copy])[1:] == (False, True)
    w = Value(3.0)
    assert engine.backward_reach((copy * w).sum(), [copy])[1:] == (True, False)  # w: a leaf of the caller's
    with pytest.raises(ValueError, match="backward_reach: inputs is empty"):
        engine.backward_reach(alone, [])
    with pytest.raises(TypeError, match="backward_reach: output must be a Value"):
        engine.backward_reach(1.0, [y])  # type: ignore[arg-type]


def test_a_value_used_from_outside_keeps_the_gradient_recorded_and_connected():
    w = Value(np.array([0.5, -1.5]))
    slope = grad(lambda x: (w * x ** 3).sum())(np.array([1.0, 2.0]))  # 3wx²
    np.testing.assert_allclose(slope.data, [1.5, -18.0], rtol=1e-15)
    assert slope.requires_grad
    slope.sum().backward()  # ∂/∂w Σ 3wx² = 3x²
    np.testing.assert_allclose(w.grad, [3.0, 12.0], rtol=1e-15)


def test_hessian_of_the_network_matches_central_differences_of_its_gradient():
    cost = network_cost(2)
    x = np.random.default_rng(2).normal(size=7)
    h = hessian(cost)(x).data
    slope = grad(cost)
    np.testing.assert_allclose(h, jacobian_differences(lambda p: slope(p).data, x).T, rtol=1e-6, atol=1e-7)


# --- 4. a stale input's error before a frozen one's ----------------------------------------------------------------
@pytest.mark.parametrize("walk", [lambda y: engine.backward_order(y), lambda y: y.backward()],
                         ids=["backward_order", "backward"])
def test_a_node_with_a_frozen_and_a_stale_input_names_the_stale_one(walk):
    """failed before: the frozen input, looked at first, gave its error, and the stale one was never named."""
    a = Value([1.0, 2.0])
    frozen = a * 2.0
    b = Value(3.0, label="b")
    y = (frozen * b).sum()
    frozen.requires_grad = False
    with no_grad():
        b -= 1.0
    with pytest.raises(ValueError, match="the graph is stale: 'b' was changed in place"):
        walk(y)
    b2 = Value(3.0)
    y2 = (frozen * b2).sum()  # the frozen input alone: its own error, as before
    with pytest.raises(ValueError, match="requires_grad was set to False by hand"):
        walk(y2)


# --- 3. a backward() that f calls itself leaves the computed Values from outside f as they were ---------------------
def test_a_computed_value_from_outside_f_gets_its_grad_back_after_fs_own_backward():
    """failed before: h, computed before the call and used inside f, kept the .grad that f's own backward() wrote
    (the leaves' came back, the computed Values' did not)."""
    w = Value(np.array([1.0, 2.0]))
    h = w * 3.0  # computed outside f
    seen = []

    def f(x: Value) -> Value:
        c = (h * x * x).sum()
        c.backward()  # writes h.grad = x² and w.grad = 3x² while f runs
        seen.append((np.array(h.grad), np.array(w.grad)))
        return c

    slope = grad(f)(np.array([2.0, -1.0]))
    np.testing.assert_array_equal(seen[0][0], [4.0, 1.0])  # f could read them (∂c/∂h = x², ∂c/∂w = 3x²)
    np.testing.assert_array_equal(seen[0][1], [12.0, 3.0])
    assert h.grad is None and w.grad is None  # both as they were
    np.testing.assert_allclose(slope.data, [12.0, -12.0], rtol=1e-15)  # ∂c/∂x = 2hx = 6wx


def test_an_earlier_grad_of_a_computed_value_comes_back_and_the_transforms_own_passes_note_nothing():
    w = Value(np.array([1.0, -1.0]))
    h = w * 2.0
    (h * h).sum().backward()
    earlier = h.grad
    np.testing.assert_array_equal(earlier, [4.0, -4.0])  # 2h
    slope = grad(lambda x: ((h * x).sum().backward(), (h * x).sum())[1])(np.array([5.0, 7.0]))
    assert h.grad is earlier
    np.testing.assert_array_equal(w.grad, [8.0, -8.0])  # the earlier pass's ∂(h·h)/∂w = 4h, as it was
    np.testing.assert_array_equal(slope.data, [2.0, -2.0])
    noted: list[Any] = []
    token = engine.LEAF_WRITES.set(noted)  # as an enclosing transform sets it: its passes write and put back
    try:
        grad(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
    finally:
        engine.LEAF_WRITES.reset(token)
    assert noted == []
