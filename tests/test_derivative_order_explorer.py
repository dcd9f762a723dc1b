"""Derivatives of derivatives, used as a researcher uses them: fourth derivatives by nesting ``grad`` and by repeated
``backward(create_graph=True)``, the Hessian of a small network's cost with respect to all its weights (by hand and
by ``gradient_and_hessian``), Hessian-vector products and their own derivatives in x and in v, nested transforms
that close over each other's variables (perturbation confusion), the gradient of a Hessian's trace with respect to a
network's weights, and the errors of transforms composed the wrong way.  Everything is checked against central
differences in float64 of the derivative one order below, or against closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, jacobian, value_and_grad
from tinygrad_edu.engine import backward_order


def _nth(f, n: int):
    for _ in range(n):
        f = grad(f)
    return f


def _central(f, x: float, h: float = 1e-4) -> float:
    return (float(f(x + h)) - float(f(x - h))) / (2 * h)


# --- defects ------------------------------------------------------------------------------------------------------

def test_a_transform_that_returns_a_tuple_is_named_when_it_is_differentiated_again() -> None:
    cost = lambda x, y: (x * y * y).sum()  # noqa: E731
    pair = r"^grad: f must return a Value, got a tuple of 2, the pair .*value_and_grad"
    with pytest.raises(TypeError, match=pair) as error:
        grad(value_and_grad(lambda x: (x ** 3).sum()))([1.0, 2.0])
    assert "has_aux" not in str(error.value)
    gradients_of_two = r"f must return a Value, got a tuple of 2, .*argnums=\(0, 1\)"
    with pytest.raises(TypeError, match="^hessian: " + gradients_of_two) as error:
        hessian(grad(cost, argnums=(0, 1)))([1.0, 2.0], [3.0, 4.0])
    assert "has_aux" not in str(error.value) and "jacobian(grad(f, argnums=i), argnums=j)" in str(error.value)
    with pytest.raises(TypeError, match="^jacobian: " + gradients_of_two):
        jacobian(grad(cost, argnums=(0, 1)))([1.0, 2.0], [3.0, 4.0])
    # f's own pair (JAX's has_aux pattern) keeps its own advice
    with pytest.raises(TypeError, match=r"^grad: f must return a Value, got a tuple of 2; .*has_aux"):
        grad(lambda x: ((x ** 2).sum(), x))([1.0])


def test_the_derivatives_looked_for_in_calculus_are_pointed_to_autodiff() -> None:
    from tinygrad_edu import calculus

    for name in ("grad", "jacobian", "hvp", "gradients", "gradient_and_hessian"):
        with pytest.raises(AttributeError, match=rf"no attribute {name!r}: the derivatives are in "
                                                  r"tinygrad_edu\.autodiff") as error:
            getattr(calculus, name)
        assert error.value.name == name
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.calculus' has no attribute 'gard'$"):
        calculus.gard  # noqa: B018  (a typo: no advice)
    assert not hasattr(calculus, "not_a_name")


# --- guards -------------------------------------------------------------------------------------------------------

def test_fourth_derivatives_by_nested_grad_match_closed_forms_and_differences_of_the_third() -> None:
    x = 0.7
    s, t = 1 / (1 + np.exp(-x)), np.tanh(x)
    closed = {  # σ⁗ = σ(1 − σ)(1 − 2σ)(1 − 12σ + 12σ²);  tanh⁗ = 8 tanh (1 − tanh²)(2 − 3 tanh²)
        F.sigmoid: s * (1 - s) * (1 - 2 * s) * (1 - 12 * s + 12 * s * s),
        F.tanh: 8 * t * (1 - t * t) * (2 - 3 * t * t),
        (lambda v: v ** 3.5): 3.5 * 2.5 * 1.5 * 0.5 * x ** -0.5,
        (lambda v: 2.0 ** v): np.log(2.0) ** 4 * 2.0 ** x,
    }
    for f, exact in closed.items():
        fourth = float(_nth(f, 4)(x))
        assert fourth == pytest.approx(exact, rel=1e-12)
        assert fourth == pytest.approx(_central(_nth(f, 3), x), rel=1e-6)


def test_repeated_create_graph_backward_agrees_with_nested_grad_and_accumulates_as_pytorch() -> None:
    f = lambda v: F.tanh(v) ** 2 * F.exp(v)  # noqa: E731
    x = Value(0.7)
    current, by_backward = f(x), []
    for _ in range(4):
        x.zero_grad()
        current.backward(create_graph=True)
        current = x.grad
        by_backward.append(float(current))
    assert by_backward == pytest.approx([float(_nth(f, k)(0.7)) for k in range(1, 5)], rel=1e-13)
    # without zero_grad the second derivative is added to the first, as torch's x.grad is: 3x² + 6x at 3
    x = Value(3.0)
    (x ** 3).backward(create_graph=True)
    x.grad.backward()
    assert float(x.grad) == 27.0 + 18.0


def test_the_hessian_of_a_network_cost_by_hand_matches_gradient_and_hessian_and_differences() -> None:
    rng = np.random.default_rng(5)
    net = nn.Network(nn.Layer(2, 3, "tanh", rng=0), nn.Layer(3, 2, "sigmoid", rng=1))  # (seeded: reproducible)
    inputs, targets = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    params = net.parameters()
    # by hand: one recorded backward pass, then one pass per entry of the flat gradient
    losses.squared_error(net(inputs), targets).backward(create_graph=True)
    flat = F.concatenate([p.grad.reshape(-1) for p in params])
    rows = []
    for i in range(flat.size):
        net.zero_grad()
        flat[i].backward()
        rows.append(np.concatenate([np.asarray(p.grad).ravel() for p in params]))
    for p in params:
        p.grad = np.full(p.shape, 7.0)  # the user's gradients, which gradient_and_hessian must leave alone
    slope, matrix = gradient_and_hessian(losses.squared_error(net(inputs), targets), params)
    assert all((p.grad == 7.0).all() for p in params)
    np.testing.assert_allclose(np.array(rows), matrix, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(flat.data, slope, rtol=1e-12)

    theta = np.concatenate([p.data.ravel() for p in params])

    def gradient_at(point: np.ndarray) -> np.ndarray:
        start = 0
        for p in params:
            p.data = point[start:start + p.size].reshape(p.shape)
            start += p.size
        return gradient_and_hessian(losses.squared_error(net(inputs), targets), params)[0]

    h = 1e-5
    numeric = np.array([(gradient_at(theta + h * e) - gradient_at(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    np.testing.assert_allclose(matrix, numeric, atol=1e-8)


def test_hvp_and_its_derivatives_in_x_and_in_v_match_closed_forms() -> None:
    f = lambda p: (p ** 3).sum() + p[0] * p[1]  # noqa: E731   H = [[6x₀, 1], [1, 6x₁]]
    x, v = Value([1.0, 2.0]), Value([0.5, -1.0])
    x.grad, v.grad = np.array([9.0, 9.0]), np.array([8.0, 8.0])
    product = hvp(f, x, v)
    np.testing.assert_allclose(product.data, [6 * 0.5 - 1.0, 0.5 - 12 * 1.0])
    by_v, by_x = gradients(product.sum(), [v, x])
    np.testing.assert_allclose(by_v.data, [7.0, 13.0])  # Hᵀ·1
    np.testing.assert_allclose(by_x.data, 6 * v.data)  # Σ_j ∂H_ij/∂x_k v_j = 6 v_k
    assert x.grad.tolist() == [9.0, 9.0] and v.grad.tolist() == [8.0, 8.0]
    # H·v against central differences of the gradient along v
    h, point, direction = 1e-6, np.array([0.3, -0.8]), np.array([0.6, 0.2])
    numeric = (grad(f)(point + h * direction).data - grad(f)(point - h * direction).data) / (2 * h)
    np.testing.assert_allclose(hvp(f, point, direction).data, numeric, rtol=1e-8)


def test_nested_transforms_keep_their_variables_apart() -> None:
    assert float(grad(lambda x: grad(lambda y: x * y)(3.0))(2.0)) == 1.0  # d/dx x
    assert float(grad(lambda x: x * grad(lambda y: x * y)(x))(2.0)) == 4.0  # d/dx x² = 2x
    assert float(grad(lambda x: grad(lambda y: x * y * y)(x))(2.0)) == 8.0  # d/dx 2x² = 4x
    # the Hessian a²·diag(6p) of a function that closes over the outer a: its sum 18a², whose slope is 36a
    assert float(grad(lambda a: hessian(lambda p: a * a * (p ** 3).sum())([1.0, 2.0]).sum())(3.0)) == 2 * 3.0 * 18


def test_the_gradient_of_a_hessian_trace_with_respect_to_weights_matches_differences() -> None:
    rng = np.random.default_rng(3)
    net = nn.Network(nn.Layer(2, 3, "tanh", rng=0), nn.Layer(3, 1, "sigmoid", rng=1))  # (seeded: reproducible)
    point = np.array([0.3, -0.4])

    def trace() -> Value:
        matrix = hessian(lambda z: net(z.reshape(1, 2)).sum())(point)
        return matrix[0, 0] + matrix[1, 1]

    weights = net.parameters()[0]
    weights.data = rng.normal(size=weights.shape)
    (analytic,) = gradients(trace(), [weights])
    h, numeric = 1e-5, np.zeros(weights.shape)
    for index in np.ndindex(weights.shape):
        kept = weights.data.copy()
        for sign in (1, -1):
            moved = kept.copy()
            moved[index] += sign * h
            weights.data = moved
            numeric[index] += sign * float(trace()) / (2 * h)
        weights.data = kept
    np.testing.assert_allclose(analytic.data, numeric, atol=1e-8)


def test_third_derivatives_of_a_power_in_both_arguments_at_exponent_zero() -> None:
    a = 1.5
    third = jacobian(hessian(lambda p: p[0] ** p[1]))([a, 0.0]).data
    ln = np.log(a)
    exact = np.array([[[0.0, -1 / a ** 2], [-1 / a ** 2, 2 * ln / a]],
                      [[-1 / a ** 2, 2 * ln / a], [2 * ln / a, ln ** 3]]])
    np.testing.assert_allclose(third, exact, rtol=1e-13, atol=1e-15)


def test_a_nested_derivative_called_again_and_again_neither_grows_nor_leaves_gradients() -> None:
    x = Value(0.3)
    third = _nth(lambda v: F.tanh(v) * F.sigmoid(v), 3)
    sizes = {len(backward_order(third(x))) for _ in range(10)}
    assert len(sizes) == 1 and x.grad is None


def test_jacobian_shapes_are_output_shape_then_input_shape() -> None:
    assert jacobian(lambda p: p * np.array([1.0, 2.0]))(2.0).shape == (2,)
    assert jacobian(lambda p: (p ** 2).sum())(np.ones((2, 3))).shape == (2, 3)
    assert jacobian(jacobian(lambda p: p ** 3))([1.0, 2.0]).shape == (2, 2, 2)
    assert hessian(lambda w: (w ** 3).sum())(np.ones((2, 3))).shape == (2, 3, 2, 3)
    assert jacobian(lambda p: p.sum() + Value([1.0, 2.0]))(np.zeros(0)).shape == (2, 0)


@given(st.floats(-2.0, 2.0))
def test_the_third_derivative_of_a_composition_matches_differences_of_the_second(x: float) -> None:
    f = lambda v: F.softplus(F.tanh(v) * v) * F.exp(-v * v)  # noqa: E731
    assert float(_nth(f, 3)(x)) == pytest.approx(_central(_nth(f, 2), x, 1e-5), rel=1e-5, abs=1e-6)
