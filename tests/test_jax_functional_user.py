"""The function transforms as an engineer coming from JAX and torch.func uses them: names looked for under their
JAX / torch.func spelling, argnums over several arguments, the blocks of a Hessian, derivatives of derivatives
(perturbation confusion, a ``grad`` under ``no_grad`` inside ``f``), each checked against closed forms, float64
central differences and, where torch is installed, ``torch.func`` on the same function."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import jacobian_differences
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, autodiff, losses, no_grad
from tinygrad_edu.autodiff import grad, gradients, hessian, hvp, jacobian

# --- defects ------------------------------------------------------------------------------------------------------

def test_a_tuple_argnums_of_hessian_points_to_the_mixed_blocks() -> None:
    with pytest.raises(TypeError) as error:
        hessian(lambda a, b: (a * b).sum(), argnums=(0, 1))
    message = str(error.value)
    assert message.startswith("hessian: argnums must be one int, got (0, 1)")
    assert "jacobian(grad(f, argnums=i), argnums=j)" in message
    assert "once per argument" not in message


def test_the_mixed_block_the_hessian_error_points_to_is_the_closed_form() -> None:
    # f(a, b) = Σ aᵢ² bᵢ³: ∂²f/∂aᵢ∂bⱼ = 6 aᵢ bᵢ² δᵢⱼ, which hessian(f, argnums=0) and (…, argnums=1) do not hold
    f = lambda a, b: (a ** 2 * b ** 3).sum()  # noqa: E731
    a, b = np.array([0.5, -1.2, 2.0]), np.array([1.5, 0.3, -0.7])
    mixed = jacobian(grad(f, argnums=0), argnums=1)(a, b).data
    np.testing.assert_allclose(mixed, np.diag(6 * a * b ** 2), rtol=1e-12, atol=1e-15)
    other_way = jacobian(grad(f, argnums=1), argnums=0)(a, b).data
    np.testing.assert_allclose(other_way, mixed.T, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(mixed, jacobian_differences(lambda bb: 2 * a * bb ** 3, b), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize(("name", "words"), [("jacrev", "jacobian(f, argnums)"), ("jacfwd", "jacobian(f, argnums)"),
                                             ("grad_and_value", "value_and_grad(f, argnums)"),
                                             ("vjp", "gradients(f(x), [x], grad_output=v)"),
                                             ("jvp", "no forward mode"), ("vmap", "no vmap")])
def test_a_torch_func_or_jax_name_says_what_to_use_here(name: str, words: str) -> None:
    with pytest.raises(AttributeError) as error:
        getattr(autodiff, name)
    assert words in str(error.value)
    assert f"has no attribute {name!r}" in str(error.value)


def test_a_misspelt_name_of_autodiff_is_still_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"has no attribute 'hesian'$"):
        autodiff.hesian  # noqa: B018
    assert not hasattr(autodiff, "jacrev")
    assert "jacrev" not in dir(autodiff)


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "hessian", "hvp"])
def test_a_cost_returned_with_an_auxiliary_result_is_told_there_is_no_has_aux(transform: str) -> None:
    f = lambda x: ((x ** 2).sum(), x.sum())  # noqa: E731  JAX's and torch.func's has_aux=True pattern
    call = (lambda: hvp(f, [1.0, 2.0], [1.0, 1.0])) if transform == "hvp" else \
        (lambda: getattr(autodiff, transform)(f)([1.0, 2.0]))
    with pytest.raises(TypeError, match=rf"^{transform}: f must return a Value, got a tuple of 2; ") as error:
        call()
    assert "has_aux" in str(error.value) and "F.stack" not in str(error.value)


def test_a_jacobian_of_a_tuple_of_outputs_is_still_told_to_stack_them() -> None:
    with pytest.raises(TypeError, match=r"^jacobian: f must return a Value, got a tuple of 2; .*F\.stack"):
        jacobian(lambda x: (x ** 2, x))([1.0, 2.0])
    stacked = jacobian(lambda x: F.stack((x ** 2, x)))(np.array([1.0, 2.0])).data  # what the advice gives
    np.testing.assert_array_equal(stacked, [[[2.0, 0.0], [0.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])


@pytest.mark.parametrize("transform", [gradients, autodiff.gradient_and_hessian])
def test_an_input_that_is_not_a_value_is_named_by_its_position(transform) -> None:
    x = Value(2.0)
    with pytest.raises(TypeError, match=r"^\w+: output and inputs must be Values, got list as input 1$"):
        transform(x * x, [x, [1.0]])
    with pytest.raises(TypeError, match=r"^\w+: output and inputs must be Values, got float as the output$"):
        gradients(3.0, [x])


@pytest.mark.parametrize(("x", "words"), [pytest.param(2.0, "cannot be iterated", id="number"),
                                          pytest.param([2.0], "not enough values to unpack",
                                                       id="one"),
                                          pytest.param(np.zeros(0), "not enough values to unpack",
                                                       id="empty"),
                                          pytest.param([1.0, 2.0, 3.0], "too many values to unpack", id="three")])
def test_hvps_docstring_names_the_error_of_a_pytorch_style_unpacking(x, words: str) -> None:
    with pytest.raises((TypeError, ValueError), match=words):
        _, hv = hvp(lambda p: (p ** 3).sum(), x, np.ones(np.shape(x)))
    doc = " ".join(hvp.__doc__.split())
    assert words.removesuffix(" values to unpack") in doc, doc


# --- guards: what the role relies on --------------------------------------------------------------------------------

def test_perturbations_of_nested_grads_are_not_confused() -> None:
    # Siskind & Pearlmutter: d/dx [x · d/dy (x + y)] = d/dx [x · 1] = 1 (a confused engine says 2)
    assert float(grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0)) == 1.0
    # d/dx [x · d/dy (x·y)] = d/dx x² = 2x
    assert float(grad(lambda x: x * grad(lambda y: x * y)(2.0))(3.0)) == 6.0
    # the inner grad's argument given by keyword: d/dx [∂(y·s)/∂y at s = x] = d/dx x = 1
    assert float(grad(lambda x: grad(lambda y, s: y * s)(1.0, s=x))(2.0)) == 1.0


def test_a_grad_under_no_grad_inside_f_is_a_constant_for_the_outer_grad() -> None:
    def f(x):
        with no_grad():
            slope = grad(lambda y: y ** 3)(x)  # 3x², detached: a constant for the outer grad
        return x * slope

    assert float(grad(f)(2.0)) == 12.0  # d/dx (x · c) = c = 3·2², not d/dx 3x³ = 36
    torch = pytest.importorskip("torch")

    def torch_f(x):
        with torch.no_grad():
            slope = torch.func.grad(lambda y: y ** 3)(x)
        return x * slope

    assert float(torch.func.grad(torch_f)(torch.tensor(2.0, dtype=torch.float64))) == 12.0


def test_a_mixed_partial_by_grad_of_grad_over_argnums_is_the_closed_form() -> None:
    f = lambda x, y: x ** 2 * y ** 3  # noqa: E731  ∂²f/∂x∂y = 6 x y²
    assert float(grad(grad(f, argnums=1), argnums=0)(2.0, 3.0)) == 6 * 2.0 * 3.0 ** 2
    assert float(grad(grad(f, argnums=0), argnums=1)(2.0, 3.0)) == 6 * 2.0 * 3.0 ** 2
    assert float(grad(grad(f, argnums=-1), argnums=-1)(2.0, 3.0)) == 6 * 2.0 ** 2 * 3.0


@given(st.integers(1, 4), st.integers(1, 4), st.floats(0.5, 2.0), st.floats(0.5, 2.0))
def test_mixed_partials_of_monomials_match_the_closed_form(a: int, b: int, x: float, y: float) -> None:
    f = lambda u, v: u ** a * v ** b  # noqa: E731  ∂²f/∂u∂v = a b u^(a−1) v^(b−1)
    expected = a * b * x ** (a - 1) * y ** (b - 1)
    assert float(jacobian(grad(f, argnums=0), argnums=1)(x, y)) == pytest.approx(expected, rel=1e-12)


def _network_cost(x: np.ndarray, y: np.ndarray):
    def cost(w1, b1, w2, b2):
        hidden = F.tanh(x @ w1 + b1)
        return losses.squared_error((hidden @ w2 + b2).sigmoid(), y)
    return cost


def test_every_hessian_block_of_a_networks_cost_matches_differences_of_the_gradient() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(6, 2)), rng.uniform(size=(6, 1))
    params = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)]
    cost = _network_cost(x, y)
    for i in range(4):
        for j in range(4):
            block = (hessian(cost, argnums=i) if i == j else jacobian(grad(cost, argnums=i), argnums=j))(*params)
            assert block.shape == params[i].shape + params[j].shape

            def slope(p, i=i, j=j):
                given = [*params[:j], p, *params[j + 1:]]
                return grad(cost, argnums=i)(*given).data

            np.testing.assert_allclose(block.data, jacobian_differences(slope, params[j]), rtol=1e-6, atol=1e-8)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # (torch.jit, on importing torch.func)
def test_hessian_blocks_of_a_networks_cost_match_torch_func() -> None:
    torch = pytest.importorskip("torch")
    from torch.func import hessian as torch_hessian
    from torch.func import jacrev

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, 2)), rng.uniform(size=(5, 1))
    params = [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)), rng.normal(size=1)]

    def torch_cost(w1, b1, w2, b2):
        out = torch.sigmoid(torch.tanh(torch.tensor(x) @ w1 + b1) @ w2 + b2)
        return ((out - torch.tensor(y)) ** 2).sum(-1).mean()

    cost = _network_cost(x, y)
    tensors = [torch.tensor(p) for p in params]
    for i in range(4):
        np.testing.assert_allclose(hessian(cost, argnums=i)(*params).data,
                                   torch_hessian(torch_cost, argnums=i)(*tensors).numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(jacobian(grad(cost, argnums=0), argnums=2)(*params).data,
                               jacrev(jacrev(torch_cost, argnums=0), argnums=2)(*tensors).numpy(),
                               rtol=1e-10, atol=1e-13)


def test_a_hessian_of_a_users_value_is_differentiated_again_to_the_third_derivative() -> None:
    x = Value([0.5, -1.5, 2.0])
    curvature = hessian(lambda p: (p ** 4).sum() + p[0] * p[1] * p[2])(x)
    assert curvature.requires_grad  # connected to x: differentiable again
    (third,) = gradients(curvature.sum(), [x])
    a, b, c = x.data  # Σᵢⱼ ∂³f/∂xᵢ∂xⱼ∂xₖ = 24 xₖ + 2 (the two mixed entries of each row/column of p0 p1 p2's H)
    np.testing.assert_allclose(third.data, 24 * np.array([a, b, c]) + 2, rtol=1e-12)
    tensor = jacobian(hessian(lambda p: (p ** 4).sum() + p[0] * p[1] * p[2]))(x.data).data
    np.testing.assert_allclose(tensor.sum(axis=(0, 1)), third.data, rtol=1e-12)


def test_jacobian_of_jacobian_matches_differences_of_the_jacobian() -> None:
    f = lambda v: F.softmax(v) * v.tanh()  # noqa: E731
    x0 = np.array([0.3, -0.7, 1.1])
    second = jacobian(jacobian(f))(x0).data
    assert second.shape == (3, 3, 3)
    np.testing.assert_allclose(second, jacobian_differences(lambda v: jacobian(f)(v).data, x0), rtol=1e-6, atol=1e-9)
