"""The function transforms of ``tinygrad_edu.autodiff`` composed with each other, with ``backward(create_graph=True)``
(through ``gradients``), with layers and costs, and on random expression graphs; every result is checked against
float64 central differences of the result one order lower, closed forms, or ``torch.func``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, jacobian, value_and_grad
from tinygrad_edu.testing.strategies import Expression, expressions


def differences(fun: Callable[[np.ndarray], Any], x: Any, eps: float = 1e-6) -> np.ndarray:
    """Central differences of ``fun`` (an array, or a Value's numbers) at ``x``: shape ``fun(x).shape + x.shape``."""
    x = np.array(x, dtype=np.float64)

    def numbers(a: np.ndarray) -> np.ndarray:
        out = fun(a)
        return np.asarray(out.data if isinstance(out, Value) else out, dtype=np.float64)

    result = np.zeros(numbers(x).shape + x.shape)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        result[(...,) + index] = (numbers(up) - numbers(down)) / (2 * eps)
    return result


def constant(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def cost_of(expr: Expression, position: int = 0) -> Callable[..., Value]:
    """The sum of the expression's output as a function of its input ``position``, the other inputs held fixed."""
    def f(x: Any) -> Value:
        values = [constant(a) for a in expr.inputs]
        values[position] = x
        return expr(*values).sum()
    return f


def contract(matrix: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H·v for a Hessian of shape x.shape + x.shape and v of x's shape."""
    return np.tensordot(matrix, v, axes=v.ndim) if v.ndim else matrix * v


# ---- random expression graphs -------------------------------------------------------------------------------------

@given(expressions(max_nodes=10))
def test_hessian_is_jacobian_of_grad_and_central_differences_of_grad_and_hvp_is_its_product(expr: Expression) -> None:
    f, x = cost_of(expr), expr.inputs[0]
    matrix = hessian(f)(x)
    assert matrix.shape == x.shape + x.shape
    np.testing.assert_allclose(matrix.data, jacobian(grad(f))(x).data, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(matrix.data, differences(grad(f), x), rtol=1e-4, atol=1e-5)
    v = np.random.default_rng(0).normal(size=x.shape)
    np.testing.assert_allclose(hvp(f, x, v).data, contract(matrix.data, v), rtol=1e-9, atol=1e-9)


@given(expressions(max_nodes=8, max_inputs=2))
def test_mixed_blocks_and_third_derivatives_of_random_graphs_match_central_differences(expr: Expression) -> None:
    count = len(expr.inputs)
    f = lambda *xs: expr(*[constant(a) for a in xs]).sum()
    for i in range(count):
        for j in range(count):
            block = jacobian(grad(f, argnums=i), argnums=j)(*expr.inputs)

            def slope(xj: np.ndarray, i: int = i, j: int = j) -> Value:
                moved = list(expr.inputs)
                moved[j] = xj
                return grad(f, argnums=i)(*moved)

            np.testing.assert_allclose(block.data, differences(slope, expr.inputs[j]), rtol=1e-4, atol=1e-5)
    x = expr.inputs[0]
    if x.size <= 4:
        third = jacobian(hessian(cost_of(expr)))(x)
        assert third.shape == x.shape * 3
        np.testing.assert_allclose(third.data, differences(hessian(cost_of(expr)), x), rtol=1e-3, atol=1e-4)


@given(expressions(min_nodes=4, max_nodes=10, max_inputs=3), st.sampled_from(["grad", "hvp", "jacobian", "hessian"]))
def test_a_derivative_stays_connected_to_a_value_f_closes_over(expr: Expression, transform: str) -> None:
    """The derivative with respect to x of f(x, y), y a Value of the caller's: its own derivative with respect to y
    (by gradients, on the recorded result) is the mixed derivative, as central differences over y give it; a result
    left unrecorded must not depend on y."""
    if len(expr.inputs) < 2:
        return
    x0, y0 = expr.inputs[0], expr.inputs[1]

    def derivative(y: Value) -> Value:
        def f(x: Any) -> Value:
            values = [constant(a) for a in expr.inputs]
            values[0], values[1] = x, y
            return expr(*values)
        cost = lambda x: f(x).sum()
        if transform == "grad":
            return grad(cost)(x0)
        if transform == "hvp":
            return hvp(cost, x0, np.ones_like(x0))
        return jacobian(f)(x0) if transform == "jacobian" else hessian(cost)(x0)

    y = Value(y0.copy())
    result = derivative(y)
    numeric = differences(lambda a: derivative(Value(a, requires_grad=False)), y0)
    if result.size == 0:
        return
    if not result.requires_grad:
        np.testing.assert_allclose(numeric, 0.0, atol=1e-6)
        return
    rows = [gradients(result, [y], grad_output=unit.reshape(result.shape))[0].data for unit in np.eye(result.size)]
    np.testing.assert_allclose(np.reshape(rows, numeric.shape), numeric, rtol=1e-4, atol=1e-5)


# ---- compositions with closed forms ---------------------------------------------------------------------------------

def test_transforms_of_transforms_to_the_third_order_match_closed_forms() -> None:
    cube = lambda t: t ** 4
    assert [float(d(1.5)) for d in (grad(cube), grad(grad(cube)), grad(grad(grad(cube))))] == \
        pytest.approx([4 * 1.5 ** 3, 12 * 1.5 ** 2, 24 * 1.5])
    assert float(grad(lambda t: value_and_grad(cube)(t)[1])(2.0)) == pytest.approx(48.0)  # d/dx 4x³
    assert float(grad(lambda t: value_and_grad(cube)(t)[0])(2.0)) == pytest.approx(32.0)  # d/dx x⁴
    # the perturbations of nested transforms are kept apart: d/dx [x · d/dy (x y)] = d/dx x² = 2x
    assert float(grad(lambda x: x * grad(lambda y: x * y)(3.0))(2.0)) == pytest.approx(4.0)
    assert float(grad(lambda x: grad(lambda y: x * y * y)(x))(2.0)) == pytest.approx(8.0)  # d/dx 2x² = 4x


def test_hvp_differentiated_in_v_and_in_x_gives_the_hessian_and_the_third_derivatives() -> None:
    f = lambda u: (u[0] ** 3 * u[1] + F.exp(u[1])).sum()
    x, v = np.array([0.5, 0.3]), np.array([0.1, 0.2])
    closed = np.array([[6 * x[0] * x[1], 3 * x[0] ** 2], [3 * x[0] ** 2, np.exp(x[1])]])
    np.testing.assert_allclose(hessian(f)(x).data, closed, rtol=1e-12)
    np.testing.assert_allclose(jacobian(lambda w: hvp(f, x, w))(v).data, closed, rtol=1e-12)  # H·v is linear in v
    e0 = np.array([1.0, 0.0])  # ∂/∂x of H(x)·e0 = ∂/∂x of H's first column: [[6y, 6x], [6x, 0]]
    np.testing.assert_allclose(jacobian(lambda p: hvp(f, p, e0))(x).data,
                               np.array([[6 * x[1], 6 * x[0]], [6 * x[0], 0.0]]), rtol=1e-12)
    point = Value(x)  # hvp(f, x, x) as a function of x: T(x)[x] + H(x), against differences
    np.testing.assert_allclose(jacobian(lambda p: hvp(f, p, p))(point).data, differences(lambda a: hvp(f, a, a), x),
                               rtol=1e-6, atol=1e-7)


def test_gradients_with_create_graph_inside_a_transform_and_of_a_cotangent() -> None:
    """``backward(create_graph=True)`` (through ``gradients``) inside f composes with grad; Jᵀu recorded with a
    cotangent u that requires a gradient is linear in u: its derivative in u is J."""
    inner = lambda x: gradients(x ** 3, [x], create_graph=True)[0]  # 3x²
    assert float(grad(inner)(2.0)) == pytest.approx(12.0)
    assert float(grad(grad(inner))(2.0)) == pytest.approx(6.0)
    x = Value(np.array([0.3, -0.7, 0.4]))
    u = Value(np.array([1.0, 2.0, 3.0]))
    (vjp,) = gradients(F.tanh(x) * x, [x], grad_output=u, create_graph=True)
    local = x.data / np.cosh(x.data) ** 2 + np.tanh(x.data)
    np.testing.assert_allclose(vjp.data, u.data * local)
    rows = [gradients(vjp, [u], grad_output=unit)[0].data for unit in np.eye(3)]
    np.testing.assert_allclose(rows, np.diag(local), rtol=1e-12)


def test_the_hessian_of_a_matrix_input_has_the_input_axes_twice_and_flattens_to_gradient_and_hessian() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 3)), rng.normal(size=3)
    f = lambda m, c: (F.tanh(m @ c) ** 2).sum() + (m * m).sum() * c.sum()
    matrix = hessian(f)(a, b)
    assert matrix.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(matrix.data, differences(lambda m: grad(f)(m, b), a), rtol=1e-5, atol=1e-6)
    A, B = Value(a), Value(b)
    slope, full = gradient_and_hessian(f(A, B), [A, B])
    np.testing.assert_allclose(full[:6, :6], matrix.data.reshape(6, 6), rtol=1e-12)
    np.testing.assert_allclose(full[6:, 6:], hessian(f, argnums=1)(a, b).data, rtol=1e-12)
    np.testing.assert_allclose(full[:6, 6:], jacobian(grad(f, argnums=0), argnums=1)(a, b).data.reshape(6, 3),
                               rtol=1e-12)


# ---- layers and costs ------------------------------------------------------------------------------------------------

def test_transforms_through_a_network_and_its_costs_match_differences_and_leave_its_gradients_alone() -> None:
    net = nn.MLP([3, 4, 2], activation="tanh", rng=0)
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    for cost in (lambda x: losses.squared_error(net(x), Y),
                 lambda x: losses.cross_entropy(net(x), np.array([0, 1, 1, 0, 1]))):
        matrix = hessian(cost)(X)
        assert matrix.shape == X.shape * 2
        np.testing.assert_allclose(matrix.data, differences(grad(cost), X), rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in net.parameters())
    # the Jacobian of the network at a sample is recorded (it depends on the weights): ∂‖J‖²/∂W by gradients
    weights = net.parameters()[0]
    J = jacobian(net)(X[0])
    assert J.shape == (2, 3) and J.requires_grad
    (slope,) = gradients((J * J).sum(), [weights])

    def squared_norm(numbers: np.ndarray) -> float:
        kept = weights.data.copy()
        weights.data[...] = numbers
        try:
            return float((jacobian(net)(X[0]).data ** 2).sum())
        finally:
            weights.data[...] = kept

    np.testing.assert_allclose(slope.data, differences(squared_norm, weights.data.copy()), rtol=1e-5, atol=1e-8)
    assert all(p.grad is None for p in net.parameters())


# ---- against torch.func ----------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::FutureWarning")  # (torch.jit, on importing torch.func)
def test_compositions_agree_with_torch_func() -> None:
    torch = pytest.importorskip("torch")
    func = pytest.importorskip("torch.func")
    x = np.array([[0.3, -0.7, 0.4], [1.1, 0.2, -0.5]])
    xt = torch.tensor(x, dtype=torch.float64)
    ours = lambda t: (F.tanh(t @ t.T) * F.log_softmax(t, axis=-1).sum(axis=-1)).sum()
    theirs = lambda t: (torch.tanh(t @ t.T) * torch.log_softmax(t, dim=-1).sum(-1)).sum()
    np.testing.assert_allclose(hessian(ours)(x).data, func.hessian(theirs)(xt).numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jacobian(jacobian(grad(ours)))(x).data,
                               func.jacrev(func.jacrev(func.jacrev(theirs)))(xt).numpy(), rtol=1e-10, atol=1e-12)
    v = np.ones_like(x)
    _, product = torch.autograd.functional.hvp(theirs, xt, torch.tensor(v))
    np.testing.assert_allclose(hvp(ours, x, v).data, product.numpy(), rtol=1e-10, atol=1e-12)
    vector_ours = lambda t: F.softmax(t, axis=0) * t.sum()
    vector_theirs = lambda t: torch.softmax(t, dim=0) * t.sum()
    np.testing.assert_allclose(grad(lambda t: (jacobian(vector_ours)(t) ** 2).sum())(x).data,
                               func.grad(lambda t: (func.jacrev(vector_theirs)(t) ** 2).sum())(xt).numpy(),
                               rtol=1e-10, atol=1e-12)
    mixed = grad(grad(lambda a, b: F.tanh(a * b) * a, argnums=0), argnums=1)(0.7, -0.4)
    expected = func.grad(func.grad(lambda a, b: torch.tanh(a * b) * a, argnums=0), argnums=1)(
        torch.tensor(0.7, dtype=torch.float64), torch.tensor(-0.4, dtype=torch.float64))
    assert float(mixed) == pytest.approx(float(expected), rel=1e-12)


# ---- errors ----------------------------------------------------------------------------------------------------------

def test_hvp_of_a_function_of_several_arguments_is_a_named_error() -> None:
    def cost(w: Value, b: Value) -> Value:
        return ((w * 2.0 + b) ** 2).sum()

    with pytest.raises(TypeError, match=r"^hvp: f is called with one Value.*join the arrays into one vector"):
        hvp(cost, np.array([1.0, 2.0]), np.array([1.0, 0.0]))


def test_hvp_of_a_tuple_of_arrays_says_how_to_give_several() -> None:
    w, b = np.array([1.0, 2.0]), np.array(0.5)
    with pytest.raises(ValueError, match=r"^hvp: argument 1 .*no pytrees.*join the arrays into one vector"):
        hvp(lambda p: (p[0] ** 2).sum() * p[1], (w, b), (w, b))


def test_the_errors_of_composed_transforms_name_the_transform_and_the_shapes() -> None:
    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^grad: f must return a single number .*shape \(2,\)"):
        grad(grad(lambda t: (t ** 3).sum()))(x)  # the inner gradient is a vector: grad of it is refused
    with pytest.raises(ValueError, match=r"^hessian: f must return a single number .*jacobian\(jacobian\(f\)\)"):
        jacobian(hessian(lambda t: t * 2))(x)
    with pytest.raises(TypeError, match=r"^jacobian: f must return a Value, got a tuple of 2"):
        jacobian(grad(lambda a, b: (a * b).sum(), argnums=(0, 1)))(x, x)
    with pytest.raises(ValueError, match=r"^grad: argnums 2 is out of range for a call with 2"):
        jacobian(grad(lambda a, b: (a * b).sum(), argnums=2))(x, x)
    with pytest.raises(TypeError, match=r"^hessian: f must return a Value, got float"):
        hessian(lambda t: grad(lambda u: (u ** 2).sum())(t).sum().item())(x)

    def own_error(p: Value) -> Value:
        raise TypeError("f's own words")

    with pytest.raises(TypeError, match=r"^f's own words$"):  # an error of f itself reaches the caller as it is
        hvp(own_error, x, x)
