"""Round 47, the walk and the transforms: a recorded pass keeps constant inputs as arrays, a backward() inside a
transform's f that raises partway leaves the caller's Values' .grad as they were, the walk setup names the stale
edge backward meets first, and the way from a first-order .grad to a second derivative is written down."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Op, Value, engine
from tinygrad_edu.autodiff import grad, hessian, hvp
from tinygrad_edu.engine import backward_order

README = Path(__file__).resolve().parent.parent / "README.md"


def _central_hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """∂²f/∂xᵢ∂xⱼ by central differences of central differences, in float64."""
    n = x.size
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            out[i, j] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
    return out


# --- item 1: a recorded pass reads constant inputs as the first-order walk does -------------------------------------

def test_recorded_pass_keeps_constant_inputs_as_arrays():
    x = Value(np.array([0.5, -1.0, 2.0]))
    scale = np.array([3.0, 0.5, -2.0])
    y = x * scale
    z = (y.tanh() * 2.0).sum()
    z.backward(create_graph=True)
    assert engine._inputs(y)[1].__class__ is np.ndarray  # (Value.parents would have made it a Value, kept there)
    expected = 2.0 * scale * (1 - np.tanh(x.data * scale) ** 2)
    assert isinstance(x.grad, Value)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_hessian_leaves_the_graph_constants_alone_and_matches_differences():
    a = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.25]])
    target = np.array([0.3, -0.2, 1.0])
    kept: list[Value] = []

    def f(x):
        product = a @ x
        kept.append(product)
        return ((product.tanh() - target) ** 2).sum() / 3.0

    def plain(x):
        return float(((np.tanh(a @ x) - target) ** 2).sum() / 3.0)

    x0 = np.array([0.4, -0.3])
    got = hessian(f)(x0).data
    assert engine._inputs(kept[0])[0].__class__ is np.ndarray  # the matrix a: still the graph's array
    np.testing.assert_allclose(got, _central_hessian(plain, x0), rtol=1e-6, atol=1e-8)


def test_hvp_with_constant_exponent_and_divisor_matches_differences():
    c = np.array([2.0, 3.0])

    def f(x):
        return (x ** c / np.array([1.5, 4.0])).sum() + (np.array([2.0, 0.5]) ** x).sum()

    def plain(x):
        return float((x ** c / np.array([1.5, 4.0])).sum() + (np.array([2.0, 0.5]) ** x).sum())

    x0, v = np.array([0.7, 1.3]), np.array([1.0, -2.0])
    np.testing.assert_allclose(hvp(f, x0, v).data, _central_hessian(plain, x0) @ v, rtol=1e-6)


# --- item 2: a backward() inside f that raises partway ---------------------------------------------------------------

def _refusing_vjp(g, out, x):
    raise KeyError("this vjp refuses")


def test_backward_inside_f_that_raises_leaves_outside_values_grad_alone():
    boom = Op("boom", lambda x: x * 1.0, _refusing_vjp)
    w = Value(2.0)
    h = boom(w) * 3.0  # computed outside f: the walk writes its .grad before boom's vjp raises
    h2 = h * 1.0
    h.grad, h2.grad = None, np.array(7.0)

    def f(x):
        (x * h2).backward()
        return x * x

    with pytest.raises(KeyError, match="this vjp refuses"):
        grad(f)(Value(1.0))
    assert h.grad is None
    assert h2.grad == 7.0
    assert w.grad is None


def test_backward_inside_f_that_overflows_under_errstate_puts_back_grad():
    w = Value(1.0)
    h = w * 1.0
    h2 = h * 1e10  # its gradient g·1e10 overflows from an upstream 1e300, after h2.grad was written

    def f(x):
        with np.errstate(over="raise"):
            (h2 + x).backward(np.array(1e300))
        return x * x

    with pytest.raises(FloatingPointError):
        grad(f)(Value(1.0))
    assert h.grad is None and h2.grad is None and w.grad is None


def test_backward_inside_f_that_succeeds_still_leaves_grad_alone():
    w = Value(2.0)
    h = w * 3.0

    def f(x):
        (x * h).backward()
        return x * x

    assert grad(f)(Value(1.5)).item() == 3.0
    assert h.grad is None and w.grad is None


# --- item 5: of several stale edges, the one backward meets first ---------------------------------------------------

def _two_stale_edges() -> tuple[Value, Value, Value]:
    u, w = Value(1.0, label="u"), Value(2.0, label="w")
    a = u * 2.0  # older node, near the output (breadth-first meets it first)
    d = w * 3.0  # newer node, further from the output (backward, newest first, meets it first)
    out = a + d * 1.0 * 1.0
    u.data = np.array(5.0)
    w.data = np.array(6.0)
    return out, u, w


def test_walk_setup_names_the_stale_edge_backward_meets_first():
    out, u, w = _two_stale_edges()
    with pytest.raises(ValueError, match="stale") as by_backward:
        out.backward()
    assert by_backward.value.changed is w  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="backward_order: the graph is stale: 'w'") as by_order:
        backward_order(out)
    assert by_order.value.changed is w  # type: ignore[attr-defined]


def test_transform_names_the_same_stale_edge_as_backward():
    u, w = Value(1.0, label="u"), Value(2.0, label="w")

    def f(x):
        a = u * x  # older node, near the output
        d = w * x  # newer node, further from it
        u.data = np.array(5.0)
        w.data = np.array(6.0)
        return a + d * 1.0 * 1.0

    with pytest.raises(ValueError, match="hessian: the graph is stale: 'w' was changed in place"):
        hessian(f)(Value(1.0))


def test_frozen_computed_input_reported_where_backward_meets_it():
    u, w = Value(1.0, label="u"), Value(2.0, label="w")
    a = u * 2.0
    a.requires_grad = False  # a frozen computed Value, used near the output by an older node
    near = a * Value(1.0)  # (requires a gradient through its other input)
    d = w * 3.0
    out = near + d * 1.0 * 1.0
    w.data = np.array(6.0)  # stale, at a newer node further from the output: backward meets it first
    with pytest.raises(ValueError, match="backward: the graph is stale: 'w'"):
        out.backward()
    with pytest.raises(ValueError, match="backward_order: the graph is stale: 'w'"):
        backward_order(out)


# --- item 4: the way from a first-order .grad to a second derivative ------------------------------------------------

def test_first_order_grad_is_an_array_and_the_docs_say_what_to_do():
    x = Value(3.0)
    (x ** 3).backward()
    with pytest.raises(AttributeError, match="backward"):
        x.grad.backward()  # type: ignore[union-attr]
    x.zero_grad()
    (x ** 3).backward(create_graph=True)
    slope = x.grad
    x.zero_grad()
    slope.backward()  # type: ignore[union-attr]
    assert x.grad == 18.0
    for text in (README.read_text(encoding="utf-8"), Value.backward.__doc__ or ""):
        flat = re.sub(r"\s+", " ", text)
        assert "x.grad.backward()" in flat and "create_graph=True" in flat
