"""Round 45's transforms: their speed (no timed assertion: the walks they make are counted) and the ``.grad`` that a
``backward()`` which ``f`` calls itself writes.  Each test marked "failed before" failed on the round's start.

- ``value_and_grad`` walked the graph twice before its backward pass (``backward_order``, then ``_leading`` for the
  pass's ``inputs``), and found the Values leading to its fresh copies even where every Value does: now one walk, and
  a plain pass where nothing else is reached (failed before: two ``_visited`` walks, one ``_leading``).
- A ``backward()`` that ``f`` calls itself added to the ``.grad`` of a model's weights that ``f`` uses from outside,
  and stayed there after the transform returned (failed before); now every leaf's ``.grad`` it wrote goes back, unless
  another thread has written it since.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_difference, jacobian_differences
from helpers_models import SAMPLES, network_cost
from helpers_threads import another_thread_writing

from tinygrad_edu import Value, engine, nn
from tinygrad_edu.autodiff import grad, hessian, hvp, jacobian, value_and_grad
from tinygrad_edu.losses import squared_error


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(engine, name)
    monkeypatch.setattr(engine, name, lambda *args: calls.append(1) or original(*args))
    return calls


# --- 1. speed: the walks a call makes ----------------------------------------------------------------------------
def test_value_and_grad_walks_the_graph_once_and_finds_no_leading_set_when_all_leads_to_the_copy(monkeypatch):
    """failed before: two walks (backward_order's, then _leading's), and a leading set found."""
    walks, leading = counting(monkeypatch, "_visited"), counting(monkeypatch, "_leading")
    cost = network_cost(3)
    x = np.random.default_rng(1).normal(size=10)
    value, slope = value_and_grad(cost)(x)
    assert (len(walks), len(leading)) == (1, 0)
    monkeypatch.undo()
    differences = central_difference(lambda p: float(cost(Value(p)).data), x)
    np.testing.assert_allclose(slope.data, differences, rtol=1e-6, atol=1e-8)
    assert float(value.data) == pytest.approx(float(cost(Value(x)).data), rel=1e-15)
    assert not slope.requires_grad and not value.requires_grad  # (numbers in, constants out, as before)


def test_with_a_value_of_the_callers_the_leading_set_comes_from_the_same_walk(monkeypatch):
    """f uses a Value from outside: the pass keeps its inputs (w needs no gradient of its own), one walk in all
    (failed before: two), and the result stays recorded and connected to w, as create_graph=None chooses."""
    w = Value(np.array([0.5, -1.5]))
    walks, leading = counting(monkeypatch, "_visited"), counting(monkeypatch, "_leading")
    slope = grad(lambda x: (w * x ** 3).sum())(np.array([1.0, 2.0]))  # 3wx²
    assert (len(walks), len(leading)) == (1, 1)
    monkeypatch.undo()
    np.testing.assert_allclose(slope.data, [1.5, -18.0], rtol=1e-15)
    assert slope.requires_grad and w.grad is None
    slope.sum().backward()  # ∂/∂w Σ 3wx² = 3x²
    np.testing.assert_allclose(w.grad, [3.0, 12.0], rtol=1e-15)


def test_hessian_of_the_network_matches_central_differences_of_its_gradient_and_walks_once_per_pass(monkeypatch):
    walks = counting(monkeypatch, "_visited")
    cost = network_cost(4)
    x = np.random.default_rng(2).normal(size=13)
    h = hessian(cost)(x).data
    assert len(walks) <= 2, len(walks)  # the recorded gradient's pass and the rows' (not one more each)
    monkeypatch.undo()
    slope = grad(cost)
    columns = jacobian_differences(lambda p: slope(p).data, x).T  # row i: ∂∇C/∂x_i
    np.testing.assert_allclose(h, columns, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-13)


def test_an_input_not_reached_still_gets_zeros_and_a_leaf_made_inside_f_keeps_the_pass_recorded():
    slope = grad(lambda a, b: (a * a).sum(), argnums=(0, 1))(np.array([1.0, 2.0]), np.array([3.0]))
    np.testing.assert_array_equal(slope[0].data, [2.0, 4.0])
    np.testing.assert_array_equal(slope[1].data, [0.0])
    inside = []

    def f(x: Value) -> Value:
        inside.append(Value(2.0))  # a leaf of f's own: the derivative stays connected to it
        return x * x * inside[0]

    d = grad(f)(3.0)
    assert float(d.data) == 12.0 and d.requires_grad and inside[0].grad is None
    assert float(grad(grad(lambda x: x ** 4))(2.0).data) == 48.0  # 12x²


# --- 2. a backward() that f calls itself --------------------------------------------------------------------------
def test_a_backward_inside_f_leaves_the_models_weights_grad_as_it_was():
    """failed before: W.grad was 5.0 after the call."""
    w = Value(2.0, label="W")
    seen = []

    def g(x: Value) -> Value:
        c = (w * x ** 2).sum()
        c.backward(create_graph=True)
        seen.append(float(w.grad.data))  # (inside f, the gradient is there to read, as anywhere)
        return (x.grad ** 2).sum()  # Σ(2wx)² = 4w²Σx², its gradient 8w²x

    np.testing.assert_allclose(grad(g)(np.array([1.0, 2.0])).data, [32.0, 64.0], rtol=1e-15)
    assert seen == [5.0] and w.grad is None
    w.grad = np.array(1.0)
    kept = w.grad
    grad(g)(np.array([1.0, 2.0]))
    assert w.grad is kept and seen[-1] == 6.0  # (added to the 1 inside, the 1 itself afterwards)


def test_a_network_whose_cost_f_differentiates_itself_keeps_its_parameters_grad_under_hessian_and_hvp():
    """failed before: every parameter's .grad was written."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)

    def cost(s: Value) -> Value:
        c = squared_error(net(SAMPLES * s), SAMPLES ** 2)
        c.backward(create_graph=True)  # (a habit from training loops)
        return c

    before = [p.grad for p in net.parameters()]
    h = hessian(cost)(np.array([0.7]))
    hv = hvp(cost, np.array([0.7]), np.array([1.0]))
    assert [p.grad for p in net.parameters()] == before == [None] * len(before)
    plain = hessian(lambda s: squared_error(net(SAMPLES * s), SAMPLES ** 2))(np.array([0.7])).data
    np.testing.assert_allclose(h.data, plain, rtol=1e-12)
    np.testing.assert_allclose(hv.data, plain[0], rtol=1e-12)


def test_nested_transforms_whose_inner_f_calls_backward_leave_no_grad_and_the_switch_is_reset():
    w = Value(3.0)

    def inner(y: Value) -> Value:
        out = w * y ** 3
        out.backward()
        return out

    assert float(grad(lambda x: grad(inner)(x) * w)(1.0).data) == 6.0 * 9.0  # d/dx (3wx²·w) = 6w²x
    assert w.grad is None and engine.LEAF_WRITES.get() is None
    with pytest.raises(ZeroDivisionError):
        jacobian(lambda x: (inner(x), 1 / 0))(2.0)
    assert w.grad is None and engine.LEAF_WRITES.get() is None


def test_another_threads_write_to_a_weight_during_f_is_kept_and_f_own_is_undone():
    """The undo leaves another thread's write alone (round 44 kept it too, never undoing a weight's .grad; the
    arguments' case, which it replaced, is tests/test_loose_engine_r44.py's)."""
    w = Value(np.array([1.0, 2.0]))
    with another_thread_writing(w, np.array([7.0, 7.0])) as (inside, written):
        def f(x: Value) -> Value:
            c = (w * x).sum()
            c.backward()  # w.grad = x, f's own write
            inside.set()
            assert written.wait(10)
            return c
        np.testing.assert_array_equal(grad(f)(np.array([3.0, 4.0])).data, [1.0, 2.0])
    np.testing.assert_array_equal(w.grad, [7.0, 7.0])


def test_a_plain_backward_outside_a_transform_still_adds_to_the_leaves():
    w = Value(2.0)
    (w * w).backward()
    (w * w).backward()
    assert float(w.grad) == 8.0 and engine.LEAF_WRITES.get() is None
