"""Derivatives of derivatives, as a numerical-methods student uses them: Newton's method on a small network's cost
(the Hessian of a cost in a (2, 3) weight matrix: its shape, its symmetry, central differences of the gradient),
Hessian-vector products by grad of ⟨grad, v⟩, and custom Ops used under ``hessian``.

Defects (each test failed before its fix):

- A custom Op whose vjp makes a Python number of a Value (``g * math.cos(x)``, ``np.cos(float(x))``,
  ``x.item()``, ``x.numpy()``; right at first order, where the vjp gets arrays) gave a silent 0 for every derivative
  of its derivative under ``grad(grad(f))``, ``hessian`` and ``hvp``: the recorded pass took the number as a
  constant.  It is now a TypeError naming the Op, as a vjp written with ``np.cos`` was already.
- ``stationary_point(cost, W)`` with a (2, 3) weight matrix as the start said only that the start must be a number or
  a vector, not how to give a matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, losses, optim
from tinygrad_edu.autodiff import grad, gradients, hessian, hvp, jacobian
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.testing import check_gradients

RNG = np.random.default_rng(39)
X = RNG.normal(size=(12, 2))
Y = RNG.normal(size=(12, 3))
W0 = RNG.normal(size=(2, 3)) * 0.5


def _cost(w):
    """The seed's cost (squared error, summed over outputs, averaged over samples) of a 2-3 tanh layer."""
    return losses.squared_error(F.tanh(Value(X) @ w), Y)


def _near_the_minimum() -> np.ndarray:
    """Four steps of optim.Newton (damped, with Armijo's steps) from W0, where plain Newton steps run off."""
    weights = Value(W0.copy())
    newton = optim.Newton([weights])
    for _ in range(4):
        newton.step(lambda: _cost(weights))
    return weights.data.copy()


def _central(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences in float64, one element at a time; shape f(x).shape + x.shape."""
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = h
        step = step.reshape(x.shape)
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


# --- guards: the numbers a student checks ---------------------------------------------------------------------------

def test_the_hessian_of_a_cost_in_a_weight_matrix_is_symmetric_and_the_differences_of_its_gradient() -> None:
    H = hessian(_cost)(W0)
    assert H.shape == (2, 3, 2, 3) and H.dtype == np.float64
    matrix = H.data.reshape(6, 6)
    np.testing.assert_allclose(matrix, matrix.T, rtol=0, atol=1e-14)
    np.testing.assert_allclose(H.data, _central(lambda w: grad(_cost)(w).data, W0), rtol=1e-7, atol=1e-9)


def test_plain_newton_steps_from_the_engines_hessian_converge_quadratically_to_a_minimum() -> None:
    w = _near_the_minimum()
    sizes = []
    for _ in range(6):  # plain Newton from there: w ← w − H⁻¹∇C, converging quadratically
        step = np.linalg.solve(hessian(_cost)(w).data.reshape(6, 6), grad(_cost)(w).data.ravel())
        w = w - step.reshape(2, 3)
        sizes.append(np.abs(step).max())
    assert sizes[3] < 10 * sizes[2] ** 2 and sizes[4] < 10 * sizes[3] ** 2 and sizes[-1] < 1e-12
    assert np.abs(_central(lambda v: _cost(Value(v)).data, w)).max() < 1e-8   # ∇C = 0 by differences of C
    assert np.linalg.eigvalsh(hessian(_cost)(w).data.reshape(6, 6)).min() > 0.01   # a minimum


def test_a_hessian_vector_product_by_grad_of_the_inner_product_is_hvp_and_h_times_v() -> None:
    v = RNG.normal(size=(2, 3))
    by_hand = grad(lambda w: (grad(_cost)(w) * v).sum())(W0)
    expected = (hessian(_cost)(W0).data.reshape(6, 6) @ v.ravel()).reshape(2, 3)
    np.testing.assert_allclose(by_hand.data, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hvp(_cost, W0, v).data, expected, rtol=1e-12, atol=1e-14)
    # and against differences of the gradient along v
    h = 1e-5
    along = (grad(_cost)(W0 + h * v).data - grad(_cost)(W0 - h * v).data) / (2 * h)
    np.testing.assert_allclose(expected, along, rtol=1e-6, atol=1e-9)


def test_float32_weights_give_float32_derivatives_close_to_float64s() -> None:
    H32 = hessian(_cost)(W0.astype(np.float32))
    assert H32.dtype == np.float32 and hvp(_cost, W0.astype(np.float32), np.ones((2, 3))).dtype == np.float32
    np.testing.assert_allclose(H32.data, hessian(_cost)(W0).data, rtol=0, atol=5e-6)


# --- a custom Op's vjp that makes a Python number of a Value ------------------------------------------------------

SINES = {
    "math_sin": Op("math_sin", np.sin, lambda g, out, x: g * math.cos(x)),
    "float_sin": Op("float_sin", np.sin, lambda g, out, x: g * np.cos(float(x))),
    "item_sin": Op("item_sin", np.sin, lambda g, out, x: g * np.cos(x.item())),
    "numpy_sin": Op("numpy_sin", np.sin, lambda g, out, x: g * np.cos(x.numpy() if isinstance(x, Value) else x)),
}


@pytest.mark.parametrize("name", sorted(SINES))
def test_a_vjp_that_makes_a_number_of_its_input_is_right_at_first_order(name: str) -> None:
    """An ordinary backward pass hands the vjp arrays: float(x) of a 0-d array is the number, and the slope right."""
    assert float(grad(SINES[name])(0.5).data) == pytest.approx(math.cos(0.5), rel=1e-15)


@pytest.mark.parametrize("name", sorted(SINES))
def test_a_vjp_that_makes_a_number_of_its_input_is_named_under_grad_of_grad_not_a_silent_0(name: str) -> None:
    op = SINES[name]
    # what it gave: 0.0 where sin″(0.5) = −0.479
    for second in (lambda: grad(grad(op))(0.5), lambda: hessian(lambda x: op(x) * 1.0)(0.5),
                   lambda: hvp(lambda x: op(x) * 1.0, 0.5, 1.0)):
        with pytest.raises(TypeError, match=rf"^{name}: its vjp cannot be differentiated: .*a Python number"):
            second()
    assert float(Value(0.5) * 2) == 1.0  # outside the pass that failed, a number again


def test_a_vjp_that_makes_a_number_of_its_output_is_named_under_hessian() -> None:
    """tanh′ = 1 − tanh², written from the output as a Python number: tanh″ was 0, silently."""
    my_tanh = Op("my_tanh", np.tanh, lambda g, out, x: g * (1 - float(out) ** 2))
    assert float(grad(my_tanh)(0.3).data) == pytest.approx(1 - math.tanh(0.3) ** 2, rel=1e-15)
    with pytest.raises(TypeError, match=r"^my_tanh: its vjp cannot be differentiated: .*float\(x\)"):
        hessian(lambda x: my_tanh(x) * 1.0)(0.3)


def test_the_error_says_what_to_write_and_what_it_says_gives_the_closed_forms() -> None:
    with pytest.raises(TypeError, match=r"(?s)math_sin: .*would differentiate it as a constant.*an Op of its own"):
        grad(grad(SINES["math_sin"]))(0.5)
    cos: Op
    sin = Op("sin", np.sin, lambda g, out, x: g * cos(x))
    cos = Op("cos", np.cos, lambda g, out, x: -g * sin(x))
    for order, expected in enumerate((math.cos(0.5), -math.sin(0.5), -math.cos(0.5)), start=1):
        d = sin
        for _ in range(order):
            d = grad(d)
        assert float(d(0.5).data) == pytest.approx(expected, rel=1e-14)


def test_a_decision_on_the_value_itself_stays_allowed_and_right_at_every_order() -> None:
    """A piecewise rule that compares the Value itself (no Python number) has the second derivative 0, rightly."""
    shown = []
    step = Op("step_square", lambda x: np.where(x > 0, x * x, 0.5 * x * x),
              lambda g, out, x: (shown.append(f"{x:.2f}"), g * x * ((x > 0) * 1.0 + 1.0))[1])
    assert float(grad(grad(step))(0.7).data) == 2.0
    assert float(grad(grad(step))(-0.7).data) == 1.0
    assert float(grad(grad(grad(step)))(0.7).data) == 0.0
    assert "0.70" in shown  # (a number formatted for a look inside a recorded pass: text, no number to compute with)


def test_a_number_made_of_a_value_outside_any_vjp_is_still_a_number() -> None:
    """float(x) and x.item() of a Value that requires a gradient keep working in f itself and after a recorded pass
    (only a vjp running in one is refused); a constant Value in a vjp is no Value to step out of."""
    x = Value(0.5)
    y = x ** 3
    y.backward(create_graph=True)
    assert float(x.grad) == 0.75 and x.grad.item() == 0.75 and f"{x.grad:.2f}" == "0.75"
    scale = Value(2.0, requires_grad=False)
    scaled = Op("scaled", lambda a: a * 2.0, lambda g, out, a: g * float(scale))
    assert float(grad(grad(lambda v: scaled(v) * v))(0.5).data) == 4.0


def test_gradients_with_create_graph_and_the_gradient_checker_name_the_op_too() -> None:
    op = SINES["float_sin"]
    x = Value(np.array(0.5))
    with pytest.raises(TypeError, match=r"^float_sin: its vjp cannot be differentiated"):
        gradients(op(x), [x], create_graph=True)
    check_gradients(op, np.array(0.5))  # first order: right
    with pytest.raises(TypeError, match=r"^float_sin: its vjp cannot be differentiated"):
        check_gradients(op, np.array(0.5), order=2)


def test_a_jacobian_of_a_gradient_through_such_an_op_is_named_not_zeros() -> None:
    op = Op("elementwise_cube", lambda x: x ** 3, lambda g, out, x: g * 3 * np.array([float(v) for v in x]) ** 2)
    assert np.allclose(grad(lambda v: op(v).sum())(np.array([1.0, 2.0])).data, [3.0, 12.0])
    with pytest.raises(TypeError, match=r"^elementwise_cube: its vjp cannot be differentiated"):
        jacobian(grad(lambda v: op(v).sum()))(np.array([1.0, 2.0]))


# --- stationary_point from a weight matrix ------------------------------------------------------------------------

def test_a_matrix_start_is_told_how_to_flatten_it_and_what_it_says_finds_the_minimum() -> None:
    with pytest.raises(ValueError, match=r"^stationary_point: start must be a number or a vector, got an array of "
                                         r"shape \(2, 3\); .*np\.ravel\(start\).*reshape\(2, 3\)"):
        stationary_point(_cost, W0)
    start = _near_the_minimum()
    found = stationary_point(lambda p: _cost(p.reshape(2, 3)), start.ravel())
    assert found.converged and found.kind == "minimum"
    assert np.abs(_central(lambda v: _cost(Value(v.reshape(2, 3))).data, found.point)).max() < 1e-8
