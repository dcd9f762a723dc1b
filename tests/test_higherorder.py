"""Derivatives of derivatives as a physics / optimisation student composes them: nested ``grad`` against closed
forms, Hessians and Hessian-vector products, ``backward(create_graph=True)`` and ``gradients`` with ``inputs``, under
``detect_anomaly`` and with numpy's warnings as errors.

Defects found (fixed):

- A backward pass with ``inputs`` (``backward(inputs=[x])``, ``autodiff.gradients``, and so every transform, which
  differentiates copies of its arguments) computed the gradients of Values from which no path leads to an input:
  for ``grad(grad(lambda x: x ** n))(-2.0)`` with ``n = Value(3.0)`` (a Value requires a gradient by default) the
  slope in the exponent, xⁿ·ln x, is NaN at x < 0, so numpy warned "invalid value encountered in log" and under
  ``detect_anomaly()`` the pass raised FloatingPointError, although f″ = 6x = −12 is finite; ``gradients(c.sqrt() *
  x, [x])`` at c = 0 did the same with √c's infinite slope; and ∂u/∂x of a network u(x) computed ∂u/∂W for every
  weight, to throw it away.  PyTorch leaves such Values out of the walk.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, detect_anomaly, nn
from tinygrad_edu.autodiff import grad, gradients, hessian, hvp
from tinygrad_edu.engine import backward_order


def _strict(compute):
    """``compute()`` under ``detect_anomaly`` with numpy's warnings as errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with detect_anomaly():
            return compute()


@given(st.floats(-3.0, -0.1))
def test_derivatives_of_x_to_a_recorded_exponent_at_a_negative_x_are_the_closed_forms_without_an_alarm(x) -> None:
    n = Value(3.0)  # (requires a gradient, as every Value made by hand)
    f = lambda z: z ** n  # noqa: E731
    assert float(_strict(lambda: grad(f)(x))) == pytest.approx(3 * x * x, rel=1e-12)
    assert float(_strict(lambda: grad(grad(f))(x))) == pytest.approx(6 * x, rel=1e-12)
    assert float(_strict(lambda: grad(grad(grad(f)))(x))) == pytest.approx(6.0, rel=1e-12)


def test_hessian_and_hvp_of_a_power_with_a_recorded_exponent_at_negative_points() -> None:
    n, p, v = Value(3.0), np.array([-2.0, -0.5]), np.array([1.0, -3.0])
    f = lambda z: (z ** n).sum()  # noqa: E731
    np.testing.assert_allclose(_strict(lambda: hessian(f)(p)).data, np.diag(6 * p), rtol=1e-12)
    np.testing.assert_allclose(_strict(lambda: hvp(f, p, v)).data, 6 * p * v, rtol=1e-12)


def test_the_derivative_in_an_exponent_asked_for_is_still_nan_at_a_negative_base() -> None:
    """What is asked for is computed: ∂(xⁿ)/∂n = xⁿ·ln x is NaN at x < 0, as in PyTorch."""
    x, n = Value(-2.0), Value(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (slope_x, slope_n) = gradients(x ** n, [x, n])
    assert float(slope_x) == 12.0 and np.isnan(float(slope_n))


@pytest.mark.parametrize("how", ["backward", "gradients"])
def test_a_slope_that_is_infinite_on_no_path_to_the_input_raises_no_alarm(how: str) -> None:
    """∂(√c · x)/∂x = √c = 0 at c = 0, where √c's own slope, not asked for, is infinite."""
    c, x = Value(0.0), Value(1.5)

    def derivative() -> float:
        y = c.sqrt() * x
        if how == "gradients":
            return float(gradients(y, [x])[0])
        y.backward(inputs=[x])
        return float(x.grad)

    assert _strict(derivative) == 0.0
    assert c.grad is None


def test_a_derivative_in_the_input_of_a_network_computes_no_slope_of_a_weight() -> None:
    """∂u/∂x (and u″) of u = W·x: the vjp of W is never called, and u″ is still right (u = w·x³: 6wx)."""
    calls = {"x": 0, "w": 0}

    def slope_x(g, out, x, w):
        calls["x"] += 1
        return g * 3 * w * x ** 2

    def slope_w(g, out, x, w):
        calls["w"] += 1
        return g * x ** 3

    cubic = Op("w_x_cubed", lambda x, w: w * x ** 3, (slope_x, slope_w))
    w, x = Value(0.5), Value([1.0, -2.0])
    u = cubic(x, w)
    (du,) = gradients(u, [x], np.ones(2), create_graph=True)
    (d2u,) = gradients(du, [x], np.ones(2))
    np.testing.assert_allclose(du.data, 1.5 * x.data ** 2)
    np.testing.assert_allclose(d2u.data, 3.0 * x.data)
    assert calls["w"] == 0 and calls["x"] >= 1


def test_a_pinn_style_second_derivative_leaves_the_weights_untouched_and_matches_differences() -> None:
    net = nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", init="xavier", rng=3)
    points = np.linspace(-1.0, 1.0, 5).reshape(-1, 1)
    x = Value(points)
    u = net(x)
    (du,) = gradients(u, [x], np.ones(u.shape), create_graph=True)
    (d2u,) = gradients(du, [x], np.ones(u.shape))
    h = 1e-4
    central = (net(points + h).data - 2 * net(points).data + net(points - h).data) / h ** 2
    np.testing.assert_allclose(d2u.data, central, atol=1e-5)
    assert all(p.grad is None for p in net.parameters())


def test_backward_order_given_inputs_still_lists_what_the_walk_looks_at() -> None:
    """backward_order(y, [x]) keeps every Value backward looks at (its refusals are backward's), the branch that
    leads to no input too: √c below."""
    c, x = Value(0.0), Value(1.5)
    root = c.sqrt()
    y = root * x
    assert {id(v) for v in backward_order(y, [x])} == {id(y), id(root), id(c), id(x)}
