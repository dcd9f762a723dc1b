"""The math rules at their edges (round 48): one NaN rule for max/min and maximum, softmax over no axis, the
keepdims hint, math.floor/ceil of inf, and the derivatives of every op at its kinks and domain edges, against
closed forms and float64 central differences (second derivatives where the engine records them)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value


def _numbers(grad) -> np.ndarray:
    """A gradient's numbers, whether an array or a Value (a recorded pass)."""
    return grad.data if isinstance(grad, Value) else np.asarray(grad)


def _grad(f, x, create_graph: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and ∂Σf/∂x at x (float64)."""
    v = Value(np.array(x, dtype=np.float64))
    with np.errstate(all="ignore"):  # (inf and NaN are the point here)
        y = f(v)
        y.sum().backward(create_graph=create_graph)
    return y.data, _numbers(v.grad)


def _second(f, x) -> np.ndarray:
    """∂/∂x of Σ ∂Σf/∂x (the diagonal second derivative, for element-wise f)."""
    v = Value(np.array(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        f(v).sum().backward(create_graph=True)
        first, v.grad = v.grad, None
        if not (isinstance(first, Value) and first.requires_grad):  # a constant slope: no second derivative
            return np.zeros_like(v.data)
        first.sum().backward()
    return _numbers(v.grad)


def _central(f, x, h: float = 1e-6) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    out = np.empty_like(x)
    for i in range(x.size):
        step = np.zeros_like(x)
        step.flat[i] = h
        out.flat[i] = (f(Value(x + step)).data.sum() - f(Value(x - step)).data.sum()) / (2 * h)
    return out


# --- 1. NaN in max/min and maximum: the gradient goes to the NaN the result came from ---------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
def test_maximum_sends_the_gradient_to_the_nan_input_as_the_max_reduction_does(create_graph):
    a = [np.nan, 1.0, np.nan, 2.0, 3.0, 1.0]
    b = [1.0, np.nan, np.nan, 2.0, 1.0, 3.0]
    x, y = Value(a), Value(b)
    F.maximum(x, y).sum().backward(create_graph=create_graph)
    # the derivative of the branch chosen: NaN propagates, so the NaN input is the result (½ each where both are)
    np.testing.assert_array_equal(_numbers(x.grad), [1.0, 0.0, 0.5, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(_numbers(y.grad), [0.0, 1.0, 0.5, 0.5, 0.0, 1.0])
    pair = Value(np.stack([a, b]))
    pair.max(axis=0).sum().backward()
    np.testing.assert_array_equal(pair.grad, np.stack([_numbers(x.grad), _numbers(y.grad)]))


def test_maximum_nan_rule_holds_with_broadcasting_and_in_float32():
    x = Value(np.array([[np.nan], [0.5]], dtype=np.float32))
    y = Value(np.array([0.0, np.nan, 1.0], dtype=np.float32))
    F.maximum(x, y).sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [[2.5], [1.0]])  # [1, ½, 1] and [1, 0, 0]
    np.testing.assert_array_equal(y.grad, [0.0, 1.5, 1.0])


def test_the_max_and_min_reductions_send_the_gradient_to_the_nans():
    v = Value([1.0, np.nan, 3.0, np.nan])
    v.max().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 0.5, 0.0, 0.5])
    v = Value([1.0, np.nan, -3.0])
    v.min().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 1.0, 0.0])


# --- 2. softmax over no axis ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("softmax", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_over_no_axis_is_refused_naming_it(softmax):
    name = softmax.__name__
    with pytest.raises(ValueError, match=rf"^{name}: axis=\(\) names no axis of the input of shape \(2,\)"):
        softmax(Value([1.0, 2.0]), axis=())  # numpy's max and sum over () are the identity: all ones / zeros
    np.testing.assert_allclose(np.exp(F.log_softmax(Value([1.0, 2.0]), axis=(0,)).data).sum(), 1.0)
    assert float(softmax(Value(3.0), axis=())) == (1.0 if softmax is F.softmax else 0.0)  # a number: its one axis


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_reductions_over_no_axis_are_the_identity_and_so_is_their_gradient(reduction):
    v = Value([[1.0, -3.0], [2.0, 2.0]])
    y = getattr(v, reduction)(axis=())
    np.testing.assert_array_equal(y.data, v.data)
    (y * np.array([[2.0, 5.0], [7.0, 11.0]])).sum().backward()
    np.testing.assert_array_equal(v.grad, [[2.0, 5.0], [7.0, 11.0]])


# --- 3. the keepdims hint only where it fits --------------------------------------------------------------------------

@pytest.mark.parametrize("keepdims", [1, 0, "yes", 1.0])
def test_a_keepdims_of_another_type_given_by_name_gets_no_hint_of_several_axes(keepdims):
    with pytest.raises(TypeError) as caught:
        Value(np.ones((2, 3))).sum(keepdims=keepdims)
    message = str(caught.value)
    assert message.startswith("sum: keepdims must be True or False, got ") and "axis=" not in message, message


def test_a_second_int_axis_gets_the_tuple_of_its_own_numbers():
    with pytest.raises(TypeError, match=r"got int 0; over several axes, give them as a tuple: axis=\(1, 0\)$"):
        Value(np.ones((2, 3))).mean(1, 0)


# --- 4. math.floor and math.ceil of NaN and inf -----------------------------------------------------------------------

@pytest.mark.parametrize("number", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("convert", [math.floor, math.ceil], ids=["floor", "ceil"])
def test_floor_and_ceil_of_nan_or_inf_are_a_value_error_naming_the_conversion(convert, number):
    with pytest.raises(ValueError, match=rf"^{convert.__name__}: this Value holds {number}, which is no integer"):
        convert(Value(number))


def test_floor_and_ceil_of_finite_numbers_are_pythons():
    for x in (-2.5, 2.5, 0.0, -0.0, 7.0, 1e20):
        assert (math.floor(Value(x)), math.ceil(Value(x))) == (math.floor(x), math.ceil(x))
    assert math.floor(Value(np.float32(2.75))) == 2 and math.ceil(Value(np.array([[-1.5]]))) == -1


# --- 5. derivatives at the kinks and domain edges, against closed forms -----------------------------------------------
inf, nan = np.inf, np.nan
EDGES = [  # f, x, f(x), f'(x), f''(x): the documented rule at each edge (PyTorch's too, except where noted)
    ("relu at 0", lambda v: F.relu(v), [0.0, -0.0, 1.0, -1.0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]),
    ("abs at 0", F.abs, [0.0, -0.0, -2.0], [0, 0, 2], [0, 0, -1], [0, 0, 0]),
    # +0 and −0 alike: the slope is +∞ (PyTorch gives −∞ at −0), see ops.py
    ("sqrt at 0", F.sqrt, [0.0, -0.0, 4.0], [0, 0, 2], [inf, inf, 0.25], [-inf, -inf, -1 / 32]),
    ("log at 0", F.log, [0.0, -0.0, 1.0, -1.0], [-inf, -inf, 0, nan], [inf, inf, 1, -1], [-inf, -inf, -1, -1]),
    ("cube of a negative", lambda v: v ** 3, [-2.0, 0.0], [-8, 0], [12, 0], [-12, 0]),
    ("square root power", lambda v: v ** 0.5, [-2.0, 0.0], [nan, 0], [nan, inf], [nan, -inf]),
    ("x ** 0", lambda v: v ** 0, [0.0, -3.0], [1, 1], [0, 0], [0, 0]),
    ("x ** -1 at 0", lambda v: v ** -1, [0.0, -0.0], [inf, -inf], [-inf, -inf], [inf, -inf]),
    ("x ** 1.5 at 0", lambda v: v ** 1.5, [0.0], [0], [0], [inf]),
    ("1 / x at 0", lambda v: 1.0 / v, [0.0, -0.0], [inf, -inf], [-inf, -inf], [inf, -inf]),
    ("x / 0", lambda v: v / 0.0, [1.0, 0.0], [inf, nan], [inf, inf], [0, 0]),
    ("tanh far out", F.tanh, [30.0, -inf, inf], [1, -1, 1], [4 * math.exp(-60), 0, 0], [-8 * math.exp(-60), 0, 0]),
    # σ'(40) = e⁻⁴⁰/(1 + e⁻⁴⁰)², kept (PyTorch's σ(1 − σ) gives 0 there)
    ("sigmoid far out", F.sigmoid, [40.0, -800.0, inf], [1, 0, 1], [math.exp(-40), 0, 0], [-math.exp(-40), 0, 0]),
    ("softplus far out", F.softplus, [800.0, -inf, 0.0], [800, 0, math.log(2)], [1, 0, 0.5], [0, 0, 0.25]),
]


@pytest.mark.parametrize("name, f, x, value, slope, curvature", EDGES, ids=[case[0] for case in EDGES])
def test_each_ops_derivatives_at_its_edges_are_the_closed_forms(name, f, x, value, slope, curvature):
    y, first = _grad(f, x)
    np.testing.assert_allclose(y, value, rtol=1e-15, atol=0)
    np.testing.assert_allclose(first, slope, rtol=1e-14, atol=0)
    np.testing.assert_allclose(_grad(f, x, create_graph=True)[1], slope, rtol=1e-14, atol=0)
    np.testing.assert_allclose(_second(f, x), curvature, rtol=1e-13, atol=0)


SMOOTH = [  # f and points where it is differentiable: the slope is the central difference's
    ("sqrt", F.sqrt, [0.05, 2.0]), ("log", F.log, [0.05, 5.0]), ("negative base cubed", lambda v: v ** 3, [-2.0]),
    ("negative base to -2", lambda v: v ** -2, [-1.5]), ("abs", F.abs, [-0.5, 0.5]), ("relu", F.relu, [-0.5, 0.5]),
    ("tanh", F.tanh, [-3.0, 0.0, 2.0]), ("sigmoid", F.sigmoid, [-5.0, 0.0, 5.0]),
    ("maximum", lambda v: F.maximum(v, Value([0.0, 0.0])), [-0.5, 0.5]),
    ("softmax", lambda v: F.softmax(v) * np.array([1.0, 2.0, 3.0]), [0.1, -0.4, 2.0]),
    ("log_softmax", lambda v: F.log_softmax(v) * np.array([1.0, 0.0, 3.0]), [0.1, -0.4, 2.0]),
]


@pytest.mark.parametrize("name, f, x", SMOOTH, ids=[case[0] for case in SMOOTH])
def test_slopes_where_the_ops_are_smooth_are_the_central_differences(name, f, x):
    np.testing.assert_allclose(_grad(f, x)[1], _central(f, x), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(_second(lambda v: f(v), x), _central(lambda v: Value(_grad(f, v.data)[1]), x),
                               rtol=1e-6, atol=1e-6)


def test_softmax_with_minus_infinity_gives_it_no_share_and_no_gradient():
    weights = np.array([1.0, 2.0, 3.0])
    p = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
    y, slope = _grad(lambda v: F.softmax(v) * weights, [0.0, -inf, 1.0])
    np.testing.assert_allclose(y, [p[0], 0.0, 3 * p[1]], rtol=1e-15)
    np.testing.assert_allclose(slope, [p[0] * (1 - (p[0] + 3 * p[1])), 0.0, p[1] * (3 - (p[0] + 3 * p[1]))],
                               rtol=1e-14)
    y, slope = _grad(lambda v: F.log_softmax(v) * np.array([1.0, 0.0, 3.0]), [0.0, -inf, 1.0])
    np.testing.assert_allclose(slope, [1 - 4 * p[0], 0.0, 3 - 4 * p[1]], rtol=1e-14)


def test_a_row_of_only_minus_infinity_has_no_softmax_and_nan_gradients_as_documented():
    for softmax in (F.softmax, F.log_softmax):
        y, slope = _grad(softmax, [-inf, -inf])
        assert np.isnan(y).all() and np.isnan(slope).all()
