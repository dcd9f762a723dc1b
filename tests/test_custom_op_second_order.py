"""Custom Ops at second and third order, as their author writes and checks them: vjps written with operators and
Ops differentiate again (against closed forms and central differences, alone and inside random expressions); a
saving forward and the vjps keep their contracts (out is forward's own, nothing given is written into), which
check_gradients names; a vjp's errors under create_graph=True name the real fault."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import OpSpec, expressions

# --- the author's Ops ------------------------------------------------------------------------------------------
softsign = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + np.abs(x)) ** 2)
smooth_abs = Op("smooth_abs", lambda x, eps=1e-3: np.sqrt(x * x + eps), lambda g, out, x, eps=1e-3: g * x / out)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _swish_vjp(g, out, x):
    s = 1 / (1 + np.exp(-x))  # np.exp and the operators are recorded on Values: this vjp differentiates again
    return g * (s + x * s * (1 - s))


swish = Op("swish", lambda x: x * _sigmoid(x), _swish_vjp)
# a·bᵖ + c, two inputs and two params
weighted = Op("weighted", lambda a, b, p=2.0, c=0.0: a * b ** p + c,
              (lambda g, out, a, b, p=2.0, c=0.0: g * b ** p,
               lambda g, out, a, b, p=2.0, c=0.0: g * a * p * b ** (p - 1)))
# softplus keeping σ from its forward
softplus = Op("my_softplus", lambda x: np.logaddexp(0, x),
              lambda g, out, x, saved=None: g * (1 / (1 + np.exp(-x)) if saved is None else saved),
              saving=lambda x: (np.logaddexp(0, x), _sigmoid(x)))

X = np.array([-1.3, -0.4, 0.7, 2.1])
B = np.array([0.5, 1.2, 0.9, 1.7])


def _derivatives(op, x: np.ndarray, count: int, **params) -> list[np.ndarray]:
    """d/dx, d²/dx², … of op element-wise, by recorded backward passes."""
    v = Value(x)
    y, found = op(v, **params), []
    for _ in range(count):
        v.zero_grad()
        y.sum().backward(create_graph=True)
        y = v.grad
        found.append(y.data.copy())
    return found


# --- guard tests -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("f, inputs", [
    (lambda x: softsign(x), (X,)), (lambda x: smooth_abs(x, eps=0.5), (X,)), (lambda x: swish(x), (X,)),
    (lambda a, b: weighted(a, b, p=3.0, c=1.0), (X, B)), (lambda x: softplus(x), (X,))],
    ids=["softsign", "smooth_abs", "swish", "weighted", "saving_softplus"])
def test_my_ops_agree_with_central_differences_to_order_3(f, inputs, order: int) -> None:
    check_gradients(f, *inputs, order=order)


def test_my_ops_higher_derivatives_match_closed_forms() -> None:
    s = _sigmoid(X)
    _, second, third = _derivatives(swish, X, 3)
    np.testing.assert_allclose(second, s * (1 - s) * (2 + X * (1 - 2 * s)), rtol=1e-12)
    # (swish'')' = σ'(2 + x(1 − 2σ)) + σ(1 − σ)((1 − 2σ) − 2xσ'), σ' = σ(1 − σ)
    d = s * (1 - s)
    np.testing.assert_allclose(third, d * (1 - 2 * s) * (2 + X * (1 - 2 * s)) + d * ((1 - 2 * s) - 2 * X * d),
                               rtol=1e-12)
    _, second, third = _derivatives(smooth_abs, X, 3, eps=0.5)
    np.testing.assert_allclose(second, 0.5 / (X ** 2 + 0.5) ** 1.5, rtol=1e-12)
    np.testing.assert_allclose(third, -1.5 * X / (X ** 2 + 0.5) ** 2.5, rtol=1e-12)
    _, second = _derivatives(softsign, X, 2)
    np.testing.assert_allclose(second, -2 * np.sign(X) / (1 + np.abs(X)) ** 3, rtol=1e-12)
    _, second, third = _derivatives(softplus, X, 3)  # the recorded passes compute σ again: σ' and σ''
    np.testing.assert_allclose(second, s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(third, s * (1 - s) * (1 - 2 * s), rtol=1e-12)


def test_a_two_input_op_with_params_has_the_right_mixed_second_derivative() -> None:
    a, b = Value(X), Value(B)
    weighted(a, b, p=3.0, c=1.0).sum().backward(create_graph=True)
    grad_a = a.grad
    a.zero_grad(), b.zero_grad()
    grad_a.sum().backward()  # ∂/∂b of ∂(a·b³)/∂a = 3b²
    np.testing.assert_allclose(b.grad, 3 * B ** 2, rtol=1e-12)
    assert a.grad is None or np.all(a.grad == 0)


@given(expressions(extra_ops=[OpSpec(softsign, kinks=(0.0,)), OpSpec(swish), OpSpec(softplus),
                              OpSpec(smooth_abs, params=st.fixed_dictionaries({"eps": st.sampled_from([0.1, 0.5])})),
                              OpSpec(weighted, domain=("real", "positive"),
                                     params=st.fixed_dictionaries({"p": st.sampled_from([2.0, 3.0]),
                                                                   "c": st.just(1.0)}))],
                   only_extra=True, max_nodes=8))
def test_my_ops_in_random_expressions_at_order_3(expr) -> None:
    check_gradients(expr, *expr.inputs, order=3)


raw_sin = Op("raw_sin", np.sin, lambda g, out, x: g * np.cos(x))  # a vjp with numpy only: first order only


def test_a_numpy_only_vjp_is_named_at_order_2() -> None:
    check_gradients(lambda x: raw_sin(x), X)  # first order: fine
    with pytest.raises(TypeError, match=r"^raw_sin: its vjp cannot be differentiated: .*np\.cos"):
        check_gradients(lambda x: raw_sin(x), X, order=2)


def test_a_wrong_shape_from_a_vjp_is_named_in_a_recorded_pass() -> None:
    summed = Op("summed", lambda x: x * 2, lambda g, out, x: (g * 2).reshape(1, -1, 1))
    v = Value(X)
    with pytest.raises(ValueError, match=r"^summed: its vjp returned a gradient of shape \(1, 4, 1\) for an input "
                                         r"of shape \(4,\)"):
        summed(v).sum().backward(create_graph=True)


# --- defects ---------------------------------------------------------------------------------------------------
def test_a_saving_forward_with_another_output_than_the_forward_is_named() -> None:
    square = Op("square", lambda x: x * x, lambda g, out, x, saved=None: g * (2 * x if saved is None else saved),
                saving=lambda x: (1.5 * x * x, 2 * x))  # its out is not forward's
    assert not np.allclose(square(Value(X)).data, square(X))
    with pytest.raises(GradientCheckError, match=r"saving forward of Op 'square' returns .* its forward returns"):
        check_gradients(lambda x: square(x).sum(), X)


def test_a_vjp_writing_into_saved_is_named() -> None:
    def vjp(g, out, x, saved=None):
        if saved is None:
            return g * 2 * x
        saved *= g
        return saved

    square = Op("square", lambda x: x * x, vjp, saving=lambda x: (x * x, 2 * x))
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    v = Value(X)
    cost = (square(v) * weights).sum()
    cost.backward()
    v.zero_grad()
    cost.backward()
    assert not np.allclose(v.grad, 2 * X * weights)  # the second backward() is wrong: what this check must catch
    with pytest.raises(GradientCheckError, match=r"vjp for input 0 of Op 'square' changes its argument saved= in "
                                                 r"place"):
        check_gradients(lambda x: (square(x) * weights).sum(), X)


def test_a_vjp_writing_into_its_input_is_named() -> None:
    def vjp(g, out, x):
        x *= 2.0
        return g * x

    square = Op("square", lambda x: x * x, vjp)
    v = Value(X.copy())
    square(v).sum().backward()
    assert not np.array_equal(v.data, X)  # backward() changed the leaf: what this check must catch
    with pytest.raises(GradientCheckError, match=r"vjp for input 0 of Op 'square' changes its argument input 0 in "
                                                 r"place"):
        check_gradients(lambda x: square(x).sum(), X)


def test_a_vjp_without_the_ops_params_is_named_alike_in_a_recorded_pass() -> None:
    scaled = Op("scaled", lambda x, k=1.0: k * x, lambda g, out, x: g * 2.0)  # the vjp forgot k
    for create_graph in (False, True):
        v = Value(X)
        with pytest.raises(TypeError, match=r"^scaled: its vjp raised TypeError: .*unexpected keyword argument 'k'"):
            scaled(v, k=2.0).sum().backward(create_graph=create_graph)


def test_a_python_number_made_of_a_value_in_a_vjp_is_named_at_order_2() -> None:
    sine = Op("sine", np.sin, lambda g, out, x: g * math.cos(x))  # a single number: math.cos takes float(x)
    check_gradients(sine, np.array(0.4))  # first order: right
    # (round 39: refused by the recorded pass itself, naming the Op, where the check's note only guessed at it and
    # grad(grad(sine)) was a silent 0)
    with pytest.raises(TypeError, match=r"(?s)^sine: its vjp cannot be differentiated: .*float\(x\), x\.item\(\), "
                                        r"math\.cos\(x\)"):
        check_gradients(sine, np.array(0.4), order=2)


def test_the_order_2_note_names_data_read_in_a_vjp() -> None:
    sine = Op("sine", np.sin, lambda g, out, x: g * np.cos(x.data if isinstance(x, Value) else x))
    check_gradients(sine, np.array(0.4))  # first order: right
    with pytest.raises(GradientCheckError, match=r"(?s)analytic derivative is 0.*may read \.data"):
        check_gradients(sine, np.array(0.4), order=2)


def test_a_numpy_only_vjp_is_pointed_at_an_op_of_its_own_not_at_data() -> None:
    with pytest.raises(TypeError, match=r"(?s)^raw_sin: .*np\.cos.*an Op of its own; not on \.data"):
        check_gradients(lambda x: raw_sin(x), X, order=2)
