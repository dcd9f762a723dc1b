"""The graph's read API as an engineer writing tools on it uses it: ``Value.parents``, ``.op``, ``.op_params``,
``.label``, ``engine.backward_order`` and ``engine.local_gradients``, for a text printer, a node counter, a
finite-difference checker of each local gradient, a backward pass of one's own and a topological sort of one's own.

Defects (xfail, strict):
- ``op_params`` was a new dict holding the graph's own parameters: changing an index array (or a custom Op's list)
  in what it returned changed the graph, and backward() then gave silently wrong gradients.
- ``parents`` made a constant array input a Value whose numbers were the graph's own writable array: writing into
  it (``c.data[0] = 100``) silently changed the gradients backward() gives (a Python number's array is read-only).
- ``local_gradients`` returned the caller's upstream array itself (and one array for several edges, or a read-only
  broadcast view), so a backward pass of one's own that sums with ``+=`` gave wrong numbers or numpy's bare
  "output array is read-only".
- ``local_gradients`` silently left out an input computed by an operation whose ``requires_grad`` was set to False
  by hand, where backward() and backward_order refuse that graph.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tinygrad_edu import Op, Value, apply, functional, no_grad
from tinygrad_edu.engine import backward_order, local_gradients
from tinygrad_edu.ops import BUILT_IN
from tinygrad_edu.testing.strategies import Expression, expressions


def _my_topological_sort(output: Value) -> list[Value]:
    """Depth-first post-order over ``parents`` (only Values that need a gradient), reversed: output first."""
    seen: set[int] = set()
    order: list[Value] = []
    stack: list[tuple[Value, bool]] = [(output, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if p.requires_grad and id(p) not in seen)
    return order[::-1]


def _my_backward(output: Value, *, in_place: bool) -> dict[int, np.ndarray]:
    """A backward pass of one's own: backward_order, and local_gradients summed per Value (with += or with +)."""
    grads: dict[int, np.ndarray] = {id(output): np.ones(output.shape)}
    for node in backward_order(output):
        for _, parent, g in local_gradients(node, grads[id(node)]):
            if id(parent) not in grads:
                grads[id(parent)] = g
            elif in_place:
                grads[id(parent)] += g
            else:
                grads[id(parent)] = grads[id(parent)] + g
    return grads


def _central_difference(forward, arrays: list[np.ndarray], params: dict, i: int, upstream: np.ndarray,
                        h: float = 1e-6) -> np.ndarray:
    """∂(upstream · forward)/∂arrays[i] by central differences, element by element."""
    moved = [a.astype(np.float64, copy=True) for a in arrays]
    grad = np.zeros_like(moved[i])
    for k in np.ndindex(moved[i].shape):
        old = moved[i][k]
        moved[i][k] = old + h
        plus = float((forward(*moved, **params) * upstream).sum())
        moved[i][k] = old - h
        minus = float((forward(*moved, **params) * upstream).sum())
        moved[i][k] = old
        grad[k] = (plus - minus) / (2 * h)
    return grad


_RNG = np.random.default_rng(7)


def _leaf(*shape: int, positive: bool = False) -> Value:
    data = _RNG.normal(size=shape)
    return Value(np.abs(data) + 0.5 if positive else data)


# every built-in op a user's graph holds (concatenate, stack and where keep their settings in the Op itself, not in
# op_params, so they have no forward a tool can look up by name: left out here)
_OPS = {
    "add": lambda: _leaf(2, 3) + _leaf(3), "sub": lambda: _leaf(2, 3) - _leaf(2, 1),
    "mul": lambda: _leaf(2, 3) * _leaf(1, 3), "div": lambda: _leaf(2, 3) / _leaf(3, positive=True),
    "neg": lambda: -_leaf(2, 3), "pow": lambda: _leaf(2, 3, positive=True) ** _leaf(positive=True),
    "matmul": lambda: _leaf(2, 3) @ _leaf(3, 2), "exp": lambda: _leaf(2, 3).exp(),
    "log": lambda: _leaf(2, 3, positive=True).log(), "sqrt": lambda: _leaf(2, 3, positive=True).sqrt(),
    "abs": lambda: abs(_leaf(2, 3, positive=True)), "tanh": lambda: _leaf(2, 3).tanh(),
    "sigmoid": lambda: _leaf(2, 3).sigmoid(), "relu": lambda: _leaf(2, 3, positive=True).relu(),
    "sum": lambda: _leaf(2, 3).sum(axis=1), "mean": lambda: _leaf(2, 3).mean(axis=0, keepdims=True),
    "max": lambda: _leaf(2, 3).max(axis=1), "min": lambda: _leaf(2, 3).min(),
    "reshape": lambda: _leaf(2, 3).reshape(3, 2), "transpose": lambda: _leaf(2, 3, 4).transpose(1, 2, 0),
    "index": lambda: _leaf(2, 3)[np.array([0, 1, 1])], "leaky_relu": lambda: functional.leaky_relu(_leaf(2, 3)),
    "softplus": lambda: functional.softplus(_leaf(2, 3)), "softmax": lambda: functional.softmax(_leaf(2, 3), axis=1),
    "log_softmax": lambda: functional.log_softmax(_leaf(2, 3), axis=1),
    "maximum": lambda: functional.maximum(_leaf(2, 3), _leaf(2, 3)),
}


@pytest.mark.parametrize("name", sorted(_OPS))
def test_local_gradients_match_central_differences_and_backward_for_every_op(name: str) -> None:
    """The table over ops: BUILT_IN[node.op].forward(*parents' data, **node.op_params) recomputes the node, and each
    local gradient is its central difference; backward() from the node accumulates the same gradients."""
    _RNG.bit_generator.state = np.random.PCG64(7).state  # the same numbers whichever cases ran before (-k, order)
    node = _OPS[name]()
    assert node.op == name and isinstance(node.op, str)
    forward = BUILT_IN[node.op].forward
    arrays = [p.data for p in node.parents]
    np.testing.assert_allclose(forward(*arrays, **node.op_params), node.data, rtol=1e-12)
    upstream = _RNG.normal(size=node.shape)
    steps = local_gradients(node, upstream)
    assert [i for i, _, _ in steps] == [i for i, p in enumerate(node.parents) if p.requires_grad] != []
    for i, parent, g in steps:
        assert parent is node.parents[i] and isinstance(g, np.ndarray) and g.shape == parent.shape
        np.testing.assert_allclose(g, _central_difference(forward, arrays, node.op_params, i, upstream),
                                   rtol=1e-6, atol=1e-7, err_msg=f"{name}: input {i}")
    node.backward(upstream)
    for i, parent, _ in steps:
        np.testing.assert_allclose(parent.grad, sum(step for j, p, step in steps if p is parent), rtol=1e-12,
                                   err_msg=f"{name}: input {i}")


def test_backward_order_is_a_stable_topological_order_with_shared_nodes_and_no_grad_parts() -> None:
    x, w = Value(1.3, label="x"), Value(np.array([0.5, -0.2]), label="w")
    with no_grad():
        scale = x * 3.0  # a constant: not in the order
    h = (x * w).tanh()
    y = (h * h + h * scale).sum()  # h used three times
    order = backward_order(y)
    assert order[0] is y and all(isinstance(v, Value) for v in order) and isinstance(order, list)
    assert [a is b for a, b in zip(order, backward_order(y))] == [True] * len(order)
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(p)] > position[id(v)] for v in order for p in v.parents if id(p) in position)
    assert {id(v) for v in order} == {id(v) for v in _my_topological_sort(y)}
    assert id(scale) not in position and not scale.requires_grad and scale.parents == ()
    assert [v.op for v in order if v.op is None] == [None, None]  # the two leaves, x and w
    assert all(isinstance(v.op, str) for v in order if v.op is not None)
    assert {v.label for v in order if v.op is None} == {"x", "w"}


def test_second_order_graph_walks_and_its_local_gradients_match_central_differences() -> None:
    x = Value(0.7, label="x")
    (x.tanh() * x.sigmoid()).backward(create_graph=True)
    slope = x.grad
    order = backward_order(slope)
    assert order[0] is slope and order[-1] is x and slope.op == "copy"
    names = {v.op for v in order if v.op is not None}
    assert {"tanh_slope", "sigmoid_slope"} <= names
    for node in order:
        if node.op is None:
            continue
        upstream = np.ones(node.shape)
        arrays = [p.data for p in node.parents]
        for i, _, g in local_gradients(node, upstream):
            expected = _central_difference(BUILT_IN[node.op].forward, arrays, node.op_params, i, upstream)
            np.testing.assert_allclose(g, expected, rtol=1e-6, atol=1e-8, err_msg=f"{node.op}: input {i}")
    # d/dx (tanh x · σ(x))' by central differences of the first derivative's closed form
    def first(t: float) -> float:
        s = 1 / (1 + np.exp(-t))
        return (1 - np.tanh(t) ** 2) * s + np.tanh(t) * s * (1 - s)
    x.zero_grad()
    slope.backward()
    assert x.grad == pytest.approx((first(0.7 + 1e-6) - first(0.7 - 1e-6)) / 2e-6, rel=1e-6)


def test_a_stale_leaf_is_named_by_every_walk_of_the_read_api() -> None:
    w = Value(np.array([1.0, 2.0]), label="w2")
    product = w * w
    cost = product.sum()
    with no_grad():
        w -= 0.1
    for walk in (lambda: backward_order(cost), lambda: local_gradients(product, np.ones(2))):
        with pytest.raises(ValueError, match=r"stale: 'w2' was changed in place"):
            walk()


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(expressions())
def test_a_backward_pass_of_ones_own_on_the_read_api_agrees_with_backward(expr: Expression) -> None:
    leaves = [Value(x) for x in expr.inputs]
    out = expr.run(*leaves)[expr.output_name]
    mine = _my_backward(out, in_place=False)
    assert {id(v) for v in backward_order(out)} == {id(v) for v in _my_topological_sort(out)}
    out.backward(np.ones(out.shape))
    for leaf in leaves:
        if leaf.grad is not None:
            np.testing.assert_allclose(mine[id(leaf)], leaf.grad, rtol=1e-12, atol=1e-12)


# --- defects -------------------------------------------------------------------------------------------------------

def test_op_params_hold_copies_that_cannot_change_the_graph() -> None:
    x = Value(np.arange(6.0).reshape(2, 3))
    picked = x[np.array([0, 0])]
    picked.op_params["key"][0] = 1  # a tool normalizing what it prints, in place
    np.testing.assert_array_equal(picked.op_params["key"], [0, 0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]])  # row 0 picked twice
    scale = Op("scale", lambda a, weights: a * weights[0], lambda g, out, a, weights: g * weights[0])
    a = Value(2.0)
    y = apply(scale, a, weights=[3.0])
    y.op_params["weights"][0] = 100.0
    y.backward()
    assert y.op_params == {"weights": [3.0]} and a.grad == 3.0


def test_a_constant_input_seen_through_parents_cannot_be_written_into() -> None:
    x = Value(np.arange(3.0))
    z = x * np.array([1.0, 2.0, 3.0])
    constant = z.parents[1]
    assert constant.op is None and not constant.requires_grad
    with pytest.raises(ValueError, match="read-only"):  # as a Python number's constant already is
        constant.data[0] = 100.0
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 3.0])


def test_local_gradients_are_arrays_of_their_own_that_can_be_summed_in_place() -> None:
    a, b = Value(1.5), Value(0.5)
    out = (a + b) + b  # ∂/∂a = 1, ∂/∂b = 2
    mine = _my_backward(out, in_place=True)
    assert (float(mine[id(a)]), float(mine[id(b)])) == (1.0, 2.0)
    x, w = Value(np.array([1.0, 2.0])), Value(np.array([0.5, 0.25]))
    mine = _my_backward(((x + w) + w).sum(), in_place=True)  # the sum's vjp is a read-only broadcast
    np.testing.assert_array_equal(mine[id(x)], [1.0, 1.0])
    np.testing.assert_array_equal(mine[id(w)], [2.0, 2.0])
    upstream = np.ones(2)
    steps = local_gradients(x + w, upstream)
    steps[0][2][0] = 5.0
    assert upstream[0] == 1.0 and steps[1][2][0] == 1.0


def test_local_gradients_refuses_a_computed_input_unflagged_by_hand_as_backward_does() -> None:
    a = Value(3.0)
    b = a * 2.0
    c = b * 3.0
    b.requires_grad = False
    with pytest.raises(ValueError, match="requires_grad was set to False by hand"):
        c.backward()
    with pytest.raises(ValueError, match="local_gradients: .*computed by mul, but its requires_grad was set to False"):
        local_gradients(c, 1.0)
