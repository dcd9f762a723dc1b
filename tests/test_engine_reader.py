"""A student reading the engine (engine.py, ops.py, autodiff.py, graph.py) line by line, testing what its docstrings
and comments claim: the order of the backward walk, that it needs no recursion, that detect_anomaly catches every
NaN or inf gradient, and what no_grad / enable_grad / detect_anomaly do when blocks are nested, interleaved or
wrapped around generators."""

from __future__ import annotations

import asyncio
import gc
import inspect
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, autodiff, engine
from tinygrad_edu.engine import apply, backward_order, detect_anomaly, is_anomaly_enabled, is_grad_enabled, no_grad
from tinygrad_edu.graph import nearest_values

# --- detect_anomaly: "raised at the first operation whose output or gradient holds NaN or inf" -----------------


def test_detect_anomaly_catches_a_leafs_gradient_that_overflows_when_its_uses_are_summed():
    x = Value(1e-300, label="x")
    y = x * 1e308 + x * 1e308  # forward 2e8, finite; ∂y/∂x = 1e308 + 1e308 = inf
    assert np.isfinite(y.data)
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'x' \(a leaf\) holds NaN or inf"):
        y.backward()
    assert x.grad is None  # a walk that raises changes no leaf's gradient


def test_detect_anomaly_catches_a_transforms_gradient_that_overflows_when_its_uses_are_summed():
    f = lambda v: v * 1e308 + v * 1e308  # noqa: E731  # f(1e-300) = 2e8; f′ = 2e308 = inf
    with detect_anomaly(), pytest.raises(FloatingPointError, match="NaN or inf once summed"):
        autodiff.grad(f)(1e-300)


def test_detect_anomaly_catches_a_gradient_that_overflows_when_accumulated_and_leaves_grad_as_it_was():
    x = Value(1.0)
    x.grad = np.array(1.5e308)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="NaN or inf once added to its .grad"):
        (x * 1e308).backward()  # 1.5e308 + 1e308 = inf
    assert x.grad == 1.5e308


def test_detect_anomaly_leaves_a_gradient_alone_that_was_already_inf_and_a_finite_sum_alone():
    """Guard for the fix above: only a gradient that became NaN or inf in this pass is refused."""
    x = Value(1e-300)
    with detect_anomaly():
        (x * 1e300 + x * 1e300).backward()
    assert x.grad == 2e300  # the sum of two finite gradients, finite
    x.grad = np.array(np.inf)  # set before, outside the block: not this pass's anomaly
    with detect_anomaly():
        (x * 2.0).backward()
    assert x.grad == np.inf


# --- no_grad / enable_grad: "each exit restores the state of its own entry" --------------------------------------

def _evaluation_batches(n: int):
    with no_grad():  # a generator suspended inside its block, as a data loader for evaluation may be
        yield from range(n)


def test_blocks_that_close_in_the_order_they_opened_leave_the_mode_as_before_all_of_them():
    assert is_grad_enabled()
    first, second = _evaluation_batches(2), _evaluation_batches(2)
    try:
        next(first), next(second)  # both blocks open, first's entered first
        list(first)  # its block closes while second's is still open
        assert not is_grad_enabled(), "a no_grad block still open must keep recording off"
        list(second)
        assert is_grad_enabled(), "every block closed: recording must be on, as before them"
        assert (Value(2.0) * Value(3.0)).op == "mul"
    finally:  # (never leave the thread's mode off for the tests after this one)
        first.close(), second.close()
        engine._GRAD_ENABLED.set(True)


def test_blocks_of_two_switches_closed_out_of_order_each_give_back_their_own_switch():
    """Guard: detect_anomaly and no_grad share the list of open blocks; closing one does not touch the other's."""
    outer, anomaly, inner = no_grad(), detect_anomaly(), no_grad()
    outer.__enter__(), anomaly.__enter__(), inner.__enter__()
    anomaly.__exit__(None, None, None)
    assert (is_grad_enabled(), is_anomaly_enabled()) == (False, False)
    inner.__exit__(None, None, None)
    outer.__exit__(None, None, None)
    assert (is_grad_enabled(), is_anomaly_enabled()) == (True, False)


# --- decorated functions: "a generator function runs each of its steps in the mode" ------------------------------

@pytest.mark.parametrize("block, switch, outside", [(no_grad, is_grad_enabled, True),
                                                    (detect_anomaly, is_anomaly_enabled, False)])
def test_an_async_generator_function_runs_each_step_in_the_mode_and_gives_it_back_between_steps(block, switch, outside):
    @block()
    async def steps():
        received = yield switch()
        yield (switch(), received)
        yield switch()

    async def consume():
        run = steps()
        first = await run.__anext__()
        between = switch()
        second = await run.asend("sent")
        await run.aclose()  # closed early, in the mode
        return first, between, second, switch()

    first, between, second, after = asyncio.run(consume())
    assert first == (not outside) and second == (not outside, "sent")
    assert between == outside and after == outside


# --- the backward walk: "every node after all the nodes that use it", without recursion --------------------------

_TAGGED = st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 10 ** 6), st.sampled_from(["add", "mul"])),
                   min_size=1, max_size=25)


@given(_TAGGED)
def test_backward_visits_every_node_after_all_its_users_in_backward_orders_order(steps):
    """A random graph of Ops that log their backward calls: each node's vjps run after those of every node that
    uses it, once per node, in the order backward_order lists."""
    visits: list[str] = []

    def logged(name: str, kind: str) -> Op:
        def vjp_a(g, out, a, b):
            if not visits or visits[-1] != name:
                visits.append(name)
            return g if kind == "add" else g * b

        def vjp_b(g, out, a, b):
            if not visits or visits[-1] != name:
                visits.append(name)
            return g if kind == "add" else g * a

        return Op(name, np.add if kind == "add" else np.multiply, (vjp_a, vjp_b))

    nodes = [Value(0.75, label="x"), Value(0.5, label="c", requires_grad=False)]
    for i, (p, q, kind) in enumerate(steps):
        nodes.append(apply(logged(f"n{i}", kind), nodes[p % len(nodes)], nodes[q % len(nodes)]))
    out = nodes[-1]
    if out.op is None or not out.requires_grad:
        return
    out.backward()
    assert len(visits) == len(set(visits)), "a node visited twice"
    position = {name: i for i, name in enumerate(visits)}
    for node in nodes:
        for parent in node.parents:
            if parent.op is not None and node.op in position:
                assert position[parent.op] > position[node.op], (parent.op, node.op, visits)
    listed = [v.op for v in backward_order(out) if v.op is not None]
    assert listed == visits


def test_a_long_chain_under_a_small_recursion_limit_is_walked_ordered_drawn_and_freed():
    """y = x·cⁿ for n = 30,000 under a recursion limit 60 frames above the test's depth (94 at pytest's usual depth):
    backward (plain and recorded), backward_order and nearest_values need no recursion (a walk recursing once per
    node would stop 300 times over), and dropping y frees the chain by reference counting alone (test_engine.py's
    million-op chain checks a longer one backpropagates; test_flaky_test_hunter_r36.py's, the same from deeper)."""
    c, n = 1.000001, 30_000
    x = Value(1.0)
    y = x
    for _ in range(n):
        y = y * c
    limit = sys.getrecursionlimit()
    gc.collect()
    gc.disable()
    sys.setrecursionlimit(len(inspect.stack(0)) + 60)  # (room for a few calls)
    try:
        y.backward()
        slope = float(x.grad)
        x.zero_grad()
        y.backward(create_graph=True)
        recorded = float(x.grad.data)
        order = backward_order(y)
        walked = len(order)
        kept, total = nearest_values(y, limit=3)
        middle = weakref.ref(order[n // 2])
        del order, kept
        x.zero_grad()
        y = None  # type: ignore[assignment]
        freed = middle() is None
    finally:
        sys.setrecursionlimit(limit)
        gc.enable()
    assert slope == pytest.approx(c ** n, rel=1e-9) and recorded == slope
    assert walked >= n
    assert total == 2 * n + 1  # the n products, their n constants (made Values by .parents) and x
    assert freed
