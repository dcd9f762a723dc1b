"""The transforms as an engineer coming from JAX and torch.func writes training code: parameters as a dict or list of
arrays (a pytree), a cost f(params, x, y), grad / value_and_grad / hessian with argnums, a cost returned with its
metrics (has_aux), torch.func.functional_call's job done with a model's own Values, per-sample gradients by a loop,
the vjp / jvp recipes the errors point to, and a hand-written SGD loop; every number against central differences or
a closed form."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import jacobian_differences
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, autodiff, losses, nn, no_grad
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, jacobian, value_and_grad

_SHAPES = {"W1": (2, 3), "b1": (3,), "W2": (3, 1), "b2": (1,)}
_SIZES = [int(np.prod(shape)) for shape in _SHAPES.values()]


def _unflatten(p):
    """A flat parameter vector (a Value or an array) as the dict of a 2-3-1 network's weights, in _SHAPES' order."""
    out, start = {}, 0
    for (name, shape), size in zip(_SHAPES.items(), _SIZES):
        out[name] = p[start:start + size].reshape(shape)
        start += size
    return out


def _cost(p, x, y):
    """The mean squared error of a tanh network with parameters ``p`` (flat) on a batch."""
    q = _unflatten(p)
    hidden = (x @ q["W1"] + q["b1"]).tanh()
    return ((hidden @ q["W2"] + q["b2"] - y) ** 2).mean()


def _batch(seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=sum(_SIZES)), rng.normal(size=(4, 2)), rng.normal(size=(4, 1))


# --- defects ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("transform", [gradients, gradient_and_hessian])
def test_a_dict_of_parameters_given_as_inputs_is_told_to_give_its_values(transform) -> None:
    params = {"W": Value(np.ones((2, 1))), "b": Value(np.zeros(1))}
    cost = ((np.array([[1.0, 2.0]]) @ params["W"] + params["b"]) ** 2).sum()
    with pytest.raises(TypeError) as error:
        transform(cost, params)
    message = str(error.value)
    assert message.startswith(f"{transform.__name__}: inputs must be a list of Values, got a dict")
    assert "list(params.values())" in message


def test_named_parameters_given_as_inputs_are_told_to_be_the_values() -> None:
    model = nn.MLP([2, 1], rng=0)
    cost = model(np.array([[1.0, 2.0]])).sum()
    with pytest.raises(TypeError, match=r"^gradients: inputs must be a list of Values, got \(name, Value\) pairs.*"
                                        r"model\.parameters\(\)"):
        gradients(cost, model.named_parameters())


@pytest.mark.parametrize("transform", [grad, value_and_grad, hessian])
def test_a_cost_returned_in_a_dict_with_metrics_is_told_there_is_no_has_aux(transform) -> None:
    def f(p):
        cost = (p ** 2).sum()
        return {"loss": cost, "max": p.max()}

    with pytest.raises(TypeError) as error:
        transform(f)(np.array([1.0, 2.0]))
    message = str(error.value)
    assert message.startswith(f"{transform.__name__}: f must return a Value, got a dict of 2")
    assert "there is no has_aux here" in message
    assert "plain number or array" not in message


@pytest.mark.parametrize("name, words", [("functional_call", "gradients(cost, list(params.values()))"),
                                         ("linearize", "jacobian(f)(x)")])
def test_torch_func_and_jax_names_say_what_to_write_here(name: str, words: str) -> None:
    with pytest.raises(AttributeError) as error:
        getattr(autodiff, name)
    assert "(a torch.func / JAX name)" in str(error.value)
    assert words in str(error.value)


def test_the_pytree_error_does_not_say_jax_lacks_pytrees() -> None:
    with pytest.raises(TypeError) as error:
        grad(lambda p: p["w"] * p["b"])({"w": 2.0, "b": 3.0})
    message = str(error.value)
    assert "no pytrees" in message
    assert "as in JAX)" not in message
    assert "JAX and torch.func take" in message


@pytest.mark.parametrize("call, name, key", [
    (lambda: grad(lambda x: x * x, holomorphic=True), "grad", "holomorphic"),
    (lambda: value_and_grad(lambda x: x * x, allow_int=True), "value_and_grad", "allow_int"),
    (lambda: jacobian(lambda x: x, strict=True), "jacobian", "strict"),
    (lambda: jacobian(lambda x: x, vectorize=True), "jacobian", "vectorize"),
    (lambda: jacobian(lambda x: x, strategy="forward-mode"), "jacobian", "strategy"),
    (lambda: hessian(lambda x: (x * x).sum(), vectorize=True), "hessian", "vectorize"),
    (lambda: hvp(lambda x: (x * x).sum(), [1.0], [1.0], strict=True), "hvp", "strict")])
def test_other_libraries_keywords_of_the_transforms_say_what_they_are(call, name: str, key: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name}: there is no argument {key}= \(another library's name\); \w"):
        call()


# --- guards: the numbers a functional training loop relies on -----------------------------------------------------

def test_the_hessian_of_a_networks_cost_in_a_flat_vector_is_the_difference_of_its_gradient() -> None:
    p0, x, y = _batch()
    matrix = hessian(_cost)(p0, x, y).data
    differences = jacobian_differences(lambda p: grad(_cost)(p, x, y).data, p0, h=1e-5)
    np.testing.assert_allclose(matrix, differences, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(matrix, matrix.T, atol=1e-12)
    slope = jacobian_differences(lambda p: _cost(Value(p, requires_grad=False), x, y).data, p0, h=1e-6)
    np.testing.assert_allclose(grad(_cost)(p0, x, y).data, slope, rtol=1e-6, atol=1e-9)
    v = np.random.default_rng(2).normal(size=p0.size)
    np.testing.assert_allclose(hvp(lambda p: _cost(p, x, y), p0, v).data, differences @ v, rtol=1e-6, atol=1e-8)


def test_a_models_own_values_give_the_flat_hessian_in_named_parameters_order() -> None:
    """torch.func.functional_call's job done here: the model's Values hold the numbers, gradient_and_hessian and
    gradients differentiate the cost with respect to them (the recipe the errors give)."""
    p0, x, y = _batch()
    model = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0)
    model.load_state_dict({f"layers.{i}.{kind}": array for (i, kind), array in
                           zip([(1, "weights"), (1, "biases"), (2, "weights"), (2, "biases")],
                               _unflatten(p0).values())})
    params = dict(model.named_parameters())
    slope, matrix = gradient_and_hessian(losses.mean_squared_error(model(x), y), list(params.values()))
    differences = jacobian_differences(lambda p: grad(_cost)(p, x, y).data, p0, h=1e-5)
    np.testing.assert_allclose(matrix, differences, rtol=1e-6, atol=1e-8)
    named = dict(zip(params, gradients(losses.mean_squared_error(model(x), y), list(params.values()))))
    flat = jacobian_differences(lambda p: _cost(Value(p, requires_grad=False), x, y).data, p0)
    for name, expected in zip(params, _unflatten(flat).values()):
        np.testing.assert_allclose(named[name].data, expected, rtol=1e-6, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(slope, flat, rtol=1e-6, atol=1e-9)


def test_per_sample_gradients_by_a_loop_are_each_the_differences_and_average_to_the_batchs() -> None:
    p0, x, y = _batch(3)
    each = [grad(_cost)(p0, x[i:i + 1], y[i:i + 1]).data for i in range(len(x))]
    for i, g in enumerate(each):
        xi, yi = x[i:i + 1], y[i:i + 1]
        differences = jacobian_differences(lambda p, xi=xi, yi=yi: _cost(Value(p, requires_grad=False), xi, yi).data,
                                           p0)
        np.testing.assert_allclose(g, differences, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.mean(each, axis=0), grad(_cost)(p0, x, y).data, rtol=1e-12, atol=1e-15)


def test_argnums_in_any_order_gives_a_tuple_in_that_order() -> None:
    f = lambda w, b, x: ((x @ w + b) ** 2).sum()  # noqa: E731  ∂/∂w = 2xᵀ(xw + b), ∂/∂b = 2Σ(xw + b)
    w, b, x = np.array([1.0, -2.0]), np.array(0.5), np.array([[1.0, 2.0], [3.0, 1.0]])
    value, (db, dw) = value_and_grad(f, argnums=(1, 0))(w, b, x)
    residual = x @ w + b
    assert float(value) == pytest.approx(float((residual ** 2).sum()), rel=1e-15)
    np.testing.assert_allclose(dw.data, 2 * x.T @ residual, rtol=1e-15)
    assert dw.shape == w.shape and db.shape == b.shape
    assert float(db) == pytest.approx(2 * residual.sum(), rel=1e-15)
    (single,) = grad(f, argnums=(2,))(w, b, x)  # a tuple of one, as JAX's
    np.testing.assert_allclose(single.data, 2 * np.outer(residual, w), rtol=1e-15)


def test_a_hand_written_sgd_loop_over_a_list_of_arrays_reaches_least_squares() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 2))
    y = x @ np.array([[2.0], [-1.0]]) + 0.5 + 0.1 * rng.normal(size=(30, 1))
    cost = lambda w, b: ((x @ w + b - y) ** 2).mean()  # noqa: E731
    params = [np.zeros((2, 1)), np.zeros(1)]
    step = value_and_grad(cost, argnums=(0, 1))
    for _ in range(300):
        value, slopes = step(*params)
        params = [p - 0.1 * g.data for p, g in zip(params, slopes)]
    assert not value.requires_grad and all(not g.requires_grad for g in slopes)  # constants: nothing kept alive
    solution = np.linalg.lstsq(np.hstack([x, np.ones((30, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(np.concatenate([params[0].ravel(), params[1]]), solution.ravel(), atol=1e-8)


def test_results_are_not_views_of_the_arguments() -> None:
    w = np.array([3.0, 4.0])
    value, slope = value_and_grad(lambda p: p[0] * 1.0)(w)
    weights = Value(np.array([[1.0], [2.0]]))
    matrix = jacobian(lambda p: p)(weights)
    w[...] = 0.0
    with no_grad():
        weights -= 1.0
    assert float(value) == 3.0
    np.testing.assert_array_equal(slope.data, [1.0, 0.0])
    np.testing.assert_array_equal(matrix.data.reshape(2, 2), np.eye(2))


def test_the_vjp_and_jvp_recipes_the_errors_give_are_the_jacobians_contractions() -> None:
    rng = np.random.default_rng(5)
    f = lambda x: (x * np.arange(1.0, 5.0).reshape(2, 2)).tanh() @ x  # noqa: E731
    x0, u = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    matrix = jacobian(f)(x0).data
    np.testing.assert_allclose(matrix, jacobian_differences(lambda a: f(Value(a, requires_grad=False)).data, x0),
                               rtol=1e-6, atol=1e-9)
    x = Value(x0)
    np.testing.assert_allclose(gradients(f(x), [x], grad_output=u)[0].data, np.tensordot(u, matrix, axes=2),
                               rtol=1e-12, atol=1e-14)
    along = (f(Value(x0 + 1e-6 * u)).data - f(Value(x0 - 1e-6 * u)).data) / 2e-6
    np.testing.assert_allclose(np.tensordot(matrix, u, axes=2), along, rtol=1e-6, atol=1e-9)


@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2 ** 16))
def test_the_gradient_of_a_linear_models_mean_squared_error_is_the_closed_form(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y, w, b = rng.normal(size=(n, 3)), rng.normal(size=(n, k)), rng.normal(size=(3, k)), rng.normal(size=k)
    dw, db = grad(lambda w, b: ((x @ w + b - y) ** 2).mean(), argnums=(0, 1))(w, b)
    residual = x @ w + b - y
    np.testing.assert_allclose(dw.data, 2 * x.T @ residual / residual.size, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db.data, 2 * residual.sum(axis=0) / residual.size, rtol=1e-12, atol=1e-14)
