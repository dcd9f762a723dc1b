"""An engineer coming from JAX / torch.func who needs more than gradients of scalars: full Jacobians of vector
functions (output axes first), Jacobian-vector products by the double-vjp trick (there is no forward mode),
Hessian-vector products without the Hessian for a Newton-CG step on a 1,000-parameter network, per-sample gradients
of a batch cost, and the Gauss-Newton matrix JᵀJ of a least-squares network; each checked against float64 central
differences or a closed form, and the number of backward passes counted where the cost is the point."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers_gradients import jacobian_differences  # float64 central differences, laid out as a Jacobian
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu
import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, autodiff, engine
from tinygrad_edu.autodiff import gradient_and_hessian, gradients, hessian, hvp, jacobian


def _on_numbers(f):
    """``f`` (written with Value operations) as a function of numpy arrays, for central differences."""
    return lambda a: f(Value(a, requires_grad=False)).data


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The backward passes run while the test runs: one entry per walk of the graph (Value.backward's)."""
    counted: list[int] = []
    walk = engine._backpropagate

    def counting(*args, **kwargs):
        counted.append(1)
        return walk(*args, **kwargs)

    monkeypatch.setattr(engine, "_backpropagate", counting)
    return counted


def _advice(name: str) -> str:
    with pytest.raises(AttributeError) as error:
        getattr(autodiff, name)
    return str(error.value)


def _code(pattern: str, message: str) -> str:
    """The piece of code ``pattern`` (a regular expression) that ``message`` gives; the test fails if it gives none."""
    found = re.search(pattern, message)
    assert found, f"no {pattern!r} in: {message}"
    return found[0]


# a function of a matrix with outputs that depend on every input in a different way (no structure to hide behind)
_W = np.random.default_rng(7).normal(size=(6, 4))


def _wide(x):
    return F.tanh(_W @ x) * x.sum()


def _tall(p):  # 3 parameters, 400 outputs: a jacfwd case
    t = np.linspace(0.0, 1.0, 400)
    return F.tanh(p[0] * t + p[1]) * p[2]


# --- defects ------------------------------------------------------------------------------------------------------

def test_the_jvp_advice_gives_a_recipe_of_two_backward_passes_that_is_the_jacobian_times_v(passes) -> None:
    message = _advice("jvp")
    first = _code(r"g = gradients\(y, \[x\], grad_output=u, create_graph=True\)\[0\]", message)
    second = _code(r"gradients\(\(g \* v\)\.sum\(\), \[u\]\)\[0\]", message)
    rng = np.random.default_rng(1)
    x0, v = rng.normal(size=4), rng.normal(size=4)
    x = Value(x0)
    y = _wide(x)
    u = Value(np.zeros(y.shape))
    passes.clear()
    scope = {"gradients": gradients, "x": x, "y": y, "u": u, "v": v}
    exec(first, scope)
    product = eval(second, scope).data
    assert len(passes) == 2  # whatever the number of outputs (6 here)
    np.testing.assert_allclose(product, jacobian_differences(_on_numbers(_wide), x0) @ v, rtol=1e-7, atol=1e-9)


def test_the_jacfwd_advice_gives_the_columns_of_a_tall_jacobian_in_a_pass_each(passes) -> None:
    message = _advice("jacfwd")
    first = _code(r"g = gradients\(y, \[x\], grad_output=u, create_graph=True\)\[0\]", message)
    column = _code(r"gradients\(g\.reshape\(-1\)\[j\], \[u\]\)\[0\]", message)
    p0 = np.array([0.5, -0.2, 1.5])
    x = Value(p0)
    y = _tall(x)
    u = Value(np.zeros(y.shape))
    passes.clear()
    scope = {"gradients": gradients, "x": x, "y": y, "u": u}
    exec(first, scope)
    columns = [eval(column, {**scope, "j": j}).data for j in range(p0.size)]
    assert len(passes) == 1 + p0.size  # where jacobian takes one per output: 400
    np.testing.assert_allclose(np.stack(columns, axis=-1), jacobian_differences(_on_numbers(_tall), p0), rtol=1e-7,
                               atol=1e-9)


def test_torch_funcs_chunk_size_given_to_jacobian_says_what_it_is_here() -> None:
    with pytest.raises(TypeError, match=r"^jacobian: there is no argument chunk_size=.*one backward pass per output"):
        jacobian(lambda x: x * x, chunk_size=1)


@pytest.mark.parametrize(("name", "words"), [("jit", "nothing to compile"), ("custom_vjp", "Op("),
                                             ("custom_jvp", "Op(")])
def test_jax_names_for_compiling_and_custom_derivatives_say_what_to_write_here(name: str, words: str) -> None:
    assert words in _advice(name)
    with pytest.raises(AttributeError, match=re.escape(words)):
        getattr(tinygrad_edu, name)
    if words == "Op(":  # the import the advice gives works
        exec(_code(r"from tinygrad_edu import Op", _advice(name)), {})


def test_gradient_and_hessian_of_residuals_says_how_to_take_their_jacobian() -> None:
    x = Value([0.3, -1.2, 2.0])
    residuals = F.tanh(x * x) - 0.5
    with pytest.raises(ValueError, match=r"shape \(3,\).*gradients\(output, inputs, grad_output=e\)") as error:
        gradient_and_hessian(residuals, [x])
    assert "jacobian" in str(error.value)
    # the advice followed: one row per output element, the Jacobian of central differences
    rows = [gradients(residuals, [x], grad_output=e)[0].data for e in np.eye(3)]
    np.testing.assert_allclose(np.array(rows), jacobian_differences(lambda a: np.tanh(a * a) - 0.5, x.data), rtol=1e-7,
                               atol=1e-9)


# --- guards -------------------------------------------------------------------------------------------------------

@given(st.integers(0, 2 ** 16), st.sampled_from([0, 1, -1]))
def test_the_jacobian_of_softmax_of_a_matrix_is_the_closed_form_output_axes_first(seed: int, axis: int) -> None:
    x = np.random.default_rng(seed).normal(size=(3, 4)) * 3
    matrix = jacobian(lambda a: F.softmax(a, axis=axis))(x).data
    assert matrix.shape == (3, 4, 3, 4)  # f(x).shape + x.shape, as jax.jacobian lays it out
    s = np.exp(x - x.max(axis=axis, keepdims=True))
    s /= s.sum(axis=axis, keepdims=True)
    expected = np.zeros((3, 4, 3, 4))  # ∂s_ij/∂x_kl = s_ij (δ_ik δ_jl − s_kl) along the axis, 0 across it
    for i, j, k, m in np.ndindex(3, 4, 3, 4):
        same_slice = (j == m) if axis == 0 else (i == k)
        if same_slice:
            expected[i, j, k, m] = s[i, j] * (float((i, j) == (k, m)) - s[k, m])
    np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-15)


def test_jacobian_in_a_later_argument_of_a_matrix_product_is_the_differences() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    matrix = jacobian(lambda a_, b_: F.tanh(a_ @ b_), argnums=-1)(a, b).data
    assert matrix.shape == (3, 2, 4, 2)
    np.testing.assert_allclose(matrix, jacobian_differences(lambda m: np.tanh(a @ m), b), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("f", [F.softmax, F.log_softmax, F.sigmoid, F.softplus, F.relu, F.abs,
                               lambda x: x.max(axis=1), lambda x: (x * x + 1).sqrt().log(), lambda x: x.T @ x,
                               lambda x: F.where(x.data > 0, x ** 3, 2.0 ** x), lambda x: x[[0, 0, 2], [1, 1, 3]],
                               lambda x: F.concatenate([x, x.mean(axis=0, keepdims=True)]) / (1 + x.sum())])
def test_a_jvp_by_the_double_vjp_trick_is_the_directional_difference(f) -> None:
    rng = np.random.default_rng(11)
    x0, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x = Value(x0)
    y = f(x)
    u = Value(np.zeros(y.shape))
    g = gradients(y, [x], grad_output=u, create_graph=True)[0]
    product = gradients((g * v).sum(), [u])[0].data
    h = 1e-6
    along = (_on_numbers(f)(x0 + h * v) - _on_numbers(f)(x0 - h * v)) / (2 * h)
    np.testing.assert_allclose(product, along, rtol=1e-6, atol=1e-8)


def _flat_network(x: np.ndarray, y: np.ndarray, hidden: int):
    """The cost of a 1-hidden-1 tanh network as a function of one flat parameter vector θ (3·hidden + 1 numbers)."""

    def cost(theta):
        w1, b1 = theta[:hidden].reshape(1, hidden), theta[hidden:2 * hidden]
        w2, b2 = theta[2 * hidden:3 * hidden].reshape(hidden, 1), theta[3 * hidden:]
        return ((F.tanh(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()

    return cost


def test_a_hessian_vector_product_of_a_1000_parameter_network_takes_two_passes_and_is_the_gradients_difference(
        passes) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 1))
    cost = _flat_network(x, np.sin(3 * x), hidden=333)
    theta, v = rng.normal(size=1000) * 0.3, rng.normal(size=1000)
    passes.clear()
    product = hvp(cost, theta, v).data
    assert len(passes) == 2  # not the 1,000 a Hessian would take
    h = 1e-5
    slope = autodiff.grad(cost)
    along = (slope(theta + h * v).data - slope(theta - h * v).data) / (2 * h)
    np.testing.assert_allclose(product, along, rtol=1e-6, atol=1e-7 * np.abs(along).max())


def test_the_hessian_of_least_squares_is_twice_the_gauss_newton_matrix_of_its_jacobian() -> None:
    rng = np.random.default_rng(4)
    a, b, theta = rng.normal(size=(7, 3)), rng.normal(size=7), rng.normal(size=3)
    matrix = jacobian(lambda t: a @ t - b)(theta).data
    np.testing.assert_array_equal(matrix, a)  # a linear residual's Jacobian is its matrix, exactly
    np.testing.assert_allclose(hessian(lambda t: ((a @ t - b) ** 2).sum())(theta).data, 2 * a.T @ a, rtol=1e-13)


def test_the_jacobian_of_a_networks_residuals_is_the_differences_and_gives_its_gauss_newton_product() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20, 2)), rng.normal(size=20)

    def residuals(t):
        return F.tanh(x @ t[:6].reshape(2, 3) + t[6:9]) @ t[9:] - y

    theta, v = rng.normal(size=12), rng.normal(size=12)
    matrix = jacobian(residuals)(theta).data
    assert matrix.shape == (20, 12)
    np.testing.assert_allclose(matrix, jacobian_differences(_on_numbers(residuals), theta), rtol=1e-6, atol=1e-8)
    # JᵀJ·v without J: J·v by the double-vjp trick, then Jᵀ(J·v) by one more backward pass
    t = Value(theta)
    r = residuals(t)
    u = Value(np.zeros(r.shape))
    g = gradients(r, [t], grad_output=u, create_graph=True)[0]
    jv = gradients((g * v).sum(), [u])[0]
    np.testing.assert_allclose(gradients(r, [t], grad_output=jv)[0].data, matrix.T @ (matrix @ v), rtol=1e-12,
                               atol=1e-12)


def test_per_sample_gradients_are_the_jacobian_of_the_per_sample_costs_and_average_to_the_batchs() -> None:
    rng = np.random.default_rng(6)
    x, y, w = rng.normal(size=(8, 3)), rng.normal(size=8), rng.normal(size=3)
    each = jacobian(lambda w_: (x @ w_ - y) ** 2)(w).data
    np.testing.assert_allclose(each, 2 * (x @ w - y)[:, None] * x, rtol=1e-13, atol=1e-14)  # ∂(xᵢ·w − yᵢ)²/∂w
    np.testing.assert_allclose(each.mean(axis=0), autodiff.grad(lambda w_: ((x @ w_ - y) ** 2).mean())(w).data,
                               rtol=1e-13, atol=1e-14)


def test_the_op_the_custom_vjp_advice_describes_has_the_closed_form_second_derivative() -> None:
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x ** 2)
    np.testing.assert_allclose(hessian(lambda p: cube(p).sum())([0.5, -2.0]).data, np.diag([3.0, -12.0]),
                               rtol=1e-14)
