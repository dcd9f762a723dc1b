"""A matrix-calculus student checks the engine against the textbook's identities: d(aᵀx)/dx = a,
d(xᵀAx)/dx = (A + Aᵀ)x, d tr(AB)/dA = Bᵀ, d‖Ax − b‖²/dx = 2Aᵀ(Ax − b), the Jacobian of σ(W·α + b) in the seed's
notation, the Hessian A + Aᵀ of xᵀAx and softmax as the gradient of log-sum-exp, all against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.autodiff import grad, hessian, jacobian

seeds = st.integers(0, 2**32 - 1)
sizes = st.integers(1, 5)


def _trace_as_advised(m: Value) -> Value:
    """What the refusal of ``m.trace()`` says to write, taken word for word from the message."""
    with pytest.raises(AttributeError) as caught:
        m.trace()  # type: ignore[attr-defined]
    formula = str(caught.value).split("; write ", 1)[1].removesuffix(" for a square v")
    return eval(formula, {"v": m, "np": np})  # noqa: S307


# --- defects -------------------------------------------------------------------------------------------------------

def test_trace_and_diagonal_methods_say_what_to_write_and_the_advice_gives_d_tr_ab_da() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    with pytest.raises(AttributeError, match=r"no attribute 'diagonal'; write .*np\.arange"):
        Value(a).diagonal()  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"^np\.diag: .*\(here: .*np\.arange"):
        np.diag(Value(a))
    slope = grad(lambda m: _trace_as_advised(m @ b))(a)
    np.testing.assert_allclose(slope.data, b.T, rtol=1e-12, atol=1e-12)  # d tr(AB)/dA = Bᵀ


def test_a_transpose_forgotten_in_a_custom_matmul_vjp_is_reported_with_the_shapes() -> None:
    slipped = Op("my_matmul", np.matmul, (lambda g, out, a, b: g @ b,  # the slip: ∂C/∂a is g @ bᵀ
                                          lambda g, out, a, b: a.T @ g))
    a, b = Value(np.ones((2, 3))), Value(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^my_matmul: its vjp for input 0 raised ValueError: ") as caught:
        slipped(a, b).sum().backward()
    message = str(caught.value)
    assert "(2, 4)" in message and "(2, 3)" in message and "(3, 4)" in message, message


# --- guards: the textbook's identities -----------------------------------------------------------------------------

@given(n=sizes, seed=seeds)
def test_gradients_of_linear_quadratic_and_least_squares_forms(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, x, m, b = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, n)), rng.normal(size=n)
    np.testing.assert_allclose(grad(lambda v: a @ v)(x).data, a, rtol=1e-12)
    np.testing.assert_allclose(grad(lambda v: v @ a)(x).data, a, rtol=1e-12)
    np.testing.assert_allclose(grad(lambda v: v.T @ m @ v)(x).data, (m + m.T) @ x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad(lambda v: ((m @ v - b) ** 2).sum())(x).data, 2 * m.T @ (m @ x - b),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hessian(lambda v: v @ m @ v)(x).data, m + m.T, rtol=1e-12, atol=1e-12)


@given(out_size=sizes, in_size=sizes, seed=seeds)
def test_jacobians_of_the_seeds_layer_sigma_w_alpha_plus_b(out_size: int, in_size: int, seed: int) -> None:
    """σ(W·α + b) written with the seed's W (one row per neuron) and a 1-D α: ∂/∂α = diag(σ′)·W,
    ∂/∂b = diag(σ′), ∂z_i/∂W_jk = σ′_i·δ_ij·α_k."""
    rng = np.random.default_rng(seed)
    w, alpha, b = rng.normal(size=(out_size, in_size)), rng.normal(size=in_size), rng.normal(size=out_size)
    s = 1 / (1 + np.exp(-(w @ alpha + b)))
    slope = np.diag(s * (1 - s))
    np.testing.assert_allclose(jacobian(lambda v: (w @ v + b).sigmoid())(alpha).data, slope @ w, rtol=1e-9,
                               atol=1e-14)
    np.testing.assert_allclose(jacobian(lambda v: (w @ alpha + v).sigmoid())(b).data, slope, rtol=1e-9, atol=1e-14)
    expected = np.einsum("ij,k->ijk", slope, alpha)
    np.testing.assert_allclose(jacobian(lambda v: (v @ alpha + b).sigmoid())(w).data, expected, rtol=1e-9,
                               atol=1e-14)


@given(n=sizes, seed=seeds)
def test_log_sum_exp_has_softmax_for_gradient_and_its_jacobian_for_hessian(n: int, seed: int) -> None:
    x = np.random.default_rng(seed).normal(size=n)
    s = np.exp(x) / np.exp(x).sum()
    lse = lambda v: v.exp().sum().log()  # noqa: E731
    np.testing.assert_allclose(grad(lse)(x).data, s, rtol=1e-12)
    np.testing.assert_allclose(hessian(lse)(x).data, np.diag(s) - np.outer(s, s), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(("a_shape", "b_shape"), [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                                  ((4, 2, 3), (3,)), ((3,), (4, 3, 2)), ((2, 3), (4, 3, 2))])
def test_matmul_gradients_of_1d_and_batched_operands_keep_their_shapes(a_shape, b_shape) -> None:
    """∂⟨G, a@b⟩/∂a = G·bᵀ and ∂/∂b = aᵀ·G, with numpy's 1-D row/column rule and the batch summed back."""
    rng = np.random.default_rng(1)
    a, b = Value(rng.normal(size=a_shape)), Value(rng.normal(size=b_shape))
    upstream = rng.normal(size=np.matmul(a.data, b.data).shape)
    ((a @ b) * upstream).sum().backward()
    a2 = a.data.reshape(1, -1) if a.ndim == 1 else a.data
    b2 = b.data.reshape(-1, 1) if b.ndim == 1 else b.data
    g = upstream.reshape(np.matmul(a2, b2).shape)
    ga, gb = g @ np.swapaxes(b2, -1, -2), np.swapaxes(a2, -1, -2) @ g
    ga = ga.reshape((-1,) + a_shape).sum(axis=0) if ga.shape != a_shape else ga
    gb = gb.reshape((-1,) + b_shape).sum(axis=0) if gb.shape != b_shape else gb
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    np.testing.assert_allclose(a.grad, ga, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, gb, rtol=1e-12, atol=1e-12)
