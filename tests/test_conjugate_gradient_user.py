"""A numerical-optimization student's truncated Newton (Newton–CG): H d = −g solved by conjugate gradients from
Hessian-vector products alone (autodiff.hvp, or autodiff.gradients twice for a model's parameters), checked
against central differences of the gradient, np.linalg.solve with the full Hessian and optim.Newton, with
negative curvature detected (pᵀHp ≤ 0) and optim.armijo_step along the resulting direction."""

from __future__ import annotations

import doctest
import gc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, value_and_grad
from tinygrad_edu.data import xsquared


def rosenbrock(p):
    return ((1 - p[:-1]) ** 2).sum() + 100 * ((p[1:] - p[:-1] ** 2) ** 2).sum()


def rosenbrock_gradient(p: np.ndarray) -> np.ndarray:
    """The closed form of ∇ of the Rosenbrock function, for the central differences of the gradient."""
    g = np.zeros_like(p)
    g[:-1] += -2 * (1 - p[:-1]) - 400 * p[:-1] * (p[1:] - p[:-1] ** 2)
    g[1:] += 200 * (p[1:] - p[:-1] ** 2)
    return g


def conjugate_gradients(product, g: np.ndarray, tol: float = 1e-12):
    """Truncated CG for H d = −g: (d, number of H·p products, whether pᵀHp ≤ 0 stopped it)."""
    d, r = np.zeros_like(g), -g.copy()
    p, rr, calls = r.copy(), r @ r, 0
    for k in range(2 * g.size):
        hp = product(p)
        calls += 1
        if p @ hp <= 0:  # negative curvature: fall back to −g if nothing was found yet
            return (-g if k == 0 else d), calls, True
        a = rr / (p @ hp)
        d, r = d + a * p, r - a * hp
        if np.sqrt(r @ r) <= tol * np.linalg.norm(g):
            break
        p, rr = r + (r @ r) / rr * p, r @ r
    return d, calls, False


def _mlp():
    inputs, targets = xsquared(60, seed=0)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    return net, inputs, targets


def _pieces(flat: np.ndarray, params) -> list[np.ndarray]:
    out, start = [], 0
    for p in params:
        out.append(flat[start:start + p.size].reshape(p.shape))
        start += p.size
    return out


# --- defects -------------------------------------------------------------------------------------------------------

def test_hvp_of_a_models_parameters_names_the_recipe_without_flattening():
    net, inputs, targets = _mlp()
    params = net.parameters()
    with pytest.raises(TypeError) as raised:
        hvp(lambda ps: losses.squared_error(net(inputs), targets), params, [np.ones(p.shape) for p in params])
    message = str(raised.value)
    assert "gradients(" in message and "create_graph=True" in message
    # and hvp's docstring shows that recipe as an example that runs
    examples = doctest.DocTestFinder().find(hvp, "hvp", globs={})[0].examples
    assert any("gradients(" in example.source for example in examples)


def test_armijo_step_takes_the_gradient_and_cost_that_value_and_grad_returns():
    x = np.array([-1.2, 1.0])
    cost, slope = value_and_grad(rosenbrock)(x)
    direction = np.linalg.solve(hessian(rosenbrock)(x).data, -slope.data)
    f = lambda q: rosenbrock(Value(q))  # noqa: E731
    expected = optim.armijo_step(f, x, slope.data, sigma=1e-4, alpha=0.5, fx=float(cost), direction=direction)
    found = optim.armijo_step(f, x, slope, sigma=1e-4, alpha=0.5, fx=cost, direction=Value(direction))
    assert found == expected
    assert found.step == 1.0


def test_gradients_refuses_a_boolean_array_as_grad_output_as_it_refuses_true():
    x = Value(np.array([-1.2, 1.0, 0.5]))
    (slope,) = gradients(rosenbrock(x), [x], create_graph=True)
    with pytest.raises(TypeError, match=r"^gradients: grad_output must be numbers"):
        gradients(slope, [x], grad_output=np.array([True, False, True]))


# --- guards: hvp's numbers -----------------------------------------------------------------------------------------

@given(arrays(np.float64, 4, elements=st.floats(-1.5, 1.5)), arrays(np.float64, 4, elements=st.floats(-1, 1)))
def test_hvp_of_rosenbrock_matches_central_differences_of_the_closed_form_gradient(x, v):
    eps = 1e-6
    differenced = (rosenbrock_gradient(x + eps * v) - rosenbrock_gradient(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp(rosenbrock, x, v).data, differenced, rtol=1e-6, atol=1e-5)


@given(arrays(np.float64, 4, elements=st.floats(-1.5, 1.5)), arrays(np.float64, 4, elements=st.floats(-1, 1)),
       arrays(np.float64, 4, elements=st.floats(-1, 1)), st.floats(-3, 3))
def test_hvp_is_linear_in_v_and_symmetric(x, u, v, a):
    hu, hv = hvp(rosenbrock, x, u).data, hvp(rosenbrock, x, v).data
    np.testing.assert_allclose(hvp(rosenbrock, x, a * u + v).data, a * hu + hv, rtol=1e-9, atol=1e-8)
    assert u @ hv == pytest.approx(v @ hu, rel=1e-9, abs=1e-8)


def test_two_gradients_calls_give_a_models_hessian_vector_product_and_leave_every_grad_alone():
    net, inputs, targets = _mlp()
    params = net.parameters()
    cost = losses.squared_error(net(inputs), targets)
    _, matrix = gradient_and_hessian(cost, params)
    v = np.random.default_rng(1).normal(size=len(matrix))
    slopes = gradients(cost, params, create_graph=True)
    for _ in range(3):  # the recorded gradient can be used for many products
        inner = sum((g * piece).sum() for g, piece in zip(slopes, _pieces(v, params)))
        product = np.concatenate([h.data.ravel() for h in gradients(inner, params)])
        np.testing.assert_allclose(product, matrix @ v, rtol=1e-10, atol=1e-12)
    assert all(p.grad is None for p in params)
    # against central differences of the model's own gradient (float64)
    eps, start = 1e-6, [p.data.copy() for p in params]

    def slope_at(step: float) -> np.ndarray:
        with no_grad():
            for p, s, piece in zip(params, start, _pieces(v, params)):
                p.data = s + step * piece
        found = gradients(losses.squared_error(net(inputs), targets), params)
        return np.concatenate([g.data.ravel() for g in found])

    np.testing.assert_allclose((slope_at(eps) - slope_at(-eps)) / (2 * eps), matrix @ v, rtol=1e-6, atol=1e-8)


def test_hvp_leaves_the_grad_of_x_and_of_the_weights_f_uses_alone():
    x = Value(np.array([-1.2, 1.0, 0.5]))
    hvp(rosenbrock, x, np.ones(3))
    assert x.grad is None
    net = nn.MLP([2, 3, 1], activation="tanh", rng=0)
    hvp(lambda inp: net(inp).sum(), np.array([[0.3, -0.2]]), np.ones((1, 2)))
    assert all(p.grad is None for p in net.parameters())


def test_many_hvp_calls_keep_no_values_alive():
    x, v = np.array([-1.2, 1.0, 0.5]), np.ones(3)
    hvp(rosenbrock, x, v)
    gc.collect()
    # type(o), not isinstance: isinstance reads o.__class__, which warns on torch's deprecated module attributes
    before = sum(issubclass(type(o), Value) for o in gc.get_objects())
    for _ in range(100):
        hvp(rosenbrock, x, v)
    gc.collect()
    assert sum(issubclass(type(o), Value) for o in gc.get_objects()) == before


# --- guards: Newton–CG against the full Hessian and optim.Newton ---------------------------------------------------

@pytest.mark.parametrize("start", [[-1.2, 1.0], [1.0, 0.0], [0.3, 0.1, -0.2]])
def test_cg_direction_from_hvp_solves_the_newton_system_and_matches_optim_newton(start):
    x = np.array(start)
    slope = rosenbrock_gradient(x)
    matrix = hessian(rosenbrock)(x).data
    assert np.linalg.eigvalsh(matrix)[0] > 0
    direction, calls, negative = conjugate_gradients(lambda p: hvp(rosenbrock, x, p).data, slope)
    assert not negative and calls <= len(x)  # exact arithmetic: at most n products
    np.testing.assert_allclose(direction, np.linalg.solve(matrix, -slope), rtol=1e-9, atol=1e-12)
    point = Value(x.copy())
    newton = optim.Newton([point])
    newton.step(lambda: rosenbrock(point))
    np.testing.assert_allclose((point.data - x) / newton.last_step_size, direction, rtol=1e-9, atol=1e-12)


def test_negative_curvature_is_detected_and_the_fallback_is_taken_by_armijo():
    x = np.array([-0.5, 0.5, 0.2, -0.3])
    matrix, slope = hessian(rosenbrock)(x).data, grad(rosenbrock)(x).data
    assert np.linalg.eigvalsh(matrix)[0] < 0  # an indefinite Hessian
    direction, _, negative = conjugate_gradients(lambda p: hvp(rosenbrock, x, p).data, slope)
    assert negative and slope @ direction < 0
    found = optim.armijo_step(lambda q: rosenbrock(Value(q)), x, slope, sigma=1e-4, alpha=0.5, direction=direction)
    assert found.step is not None
    assert float(rosenbrock(Value(x + found.step * direction))) <= float(rosenbrock(Value(x))) + \
        1e-4 * found.step * slope @ direction
