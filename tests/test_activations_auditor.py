"""The activation functions audited at every order: values, first, second and third derivatives against closed
forms in 50-digit mpmath across the whole range (0, the kinks, saturation, ±inf, NaN), float32 kept, and the Ops
called directly on numbers and integer arrays (the module docstring: "on arrays or numbers: just computes")."""

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, ops
from tinygrad_edu.autodiff import grad

mp = pytest.importorskip("mpmath")
mp.mp.dps = 50


# --- closed forms of f, f', f'', f''' (in mpmath) ----------------------------------------------------------------
# (written without 1 − σ and 1 − tanh², which lose every digit far out even at 50 digits: σ(−x) and sech² instead)
def _sigmoid_orders(x):
    s, rest = 1 / (1 + mp.exp(-x)), 1 / (1 + mp.exp(x))  # σ(x) and 1 − σ(x) = σ(−x)
    slope = s * rest
    return [s, slope, slope * (rest - s), slope * (1 - 6 * slope)]


def _tanh_orders(x):
    t, slope = mp.tanh(x), mp.sech(x) ** 2
    return [t, slope, -2 * t * slope, -2 * slope * (3 * slope - 2)]


def _softplus_orders(x):
    return [mp.log1p(mp.exp(x)), *_sigmoid_orders(x)[:3]]


CLOSED = {"sigmoid": (F.sigmoid, _sigmoid_orders), "tanh": (F.tanh, _tanh_orders),
          "softplus": (F.softplus, _softplus_orders)}
SATURATION = [0.0, 0.5, -0.5, 3.0, -3.0, 20.0, -20.0, 40.0, -40.0, 300.0, -300.0, 700.0, -700.0]


def _orders(f, x, dtype=np.float64):
    """f(x), f'(x), f''(x), f'''(x) by the engine (grad of grad via create_graph), as numpy arrays."""
    point = np.array(x, dtype=dtype)
    return [np.asarray(h(point).data) for h in (lambda p: f(Value(p)), grad(f), grad(grad(f)), grad(grad(grad(f))))]


@pytest.mark.parametrize("name", sorted(CLOSED))
@pytest.mark.parametrize("x", SATURATION)
def test_three_derivatives_hold_their_digits_into_saturation(name, x):
    """No catastrophic cancellation at any order: σ(1 − σ) would give 0 at x = 40, where σ' is 4.2e-18."""
    f, closed = CLOSED[name]
    ours = _orders(f, x)
    for order, (got, want) in enumerate(zip(ours, closed(mp.mpf(x)), strict=True)):
        want = float(want)
        assert got.dtype == np.float64
        assert abs(float(got) - want) <= 1e-12 * abs(want) + 1e-300, (name, x, order, float(got), want)


@pytest.mark.parametrize("name", sorted(CLOSED))
@pytest.mark.parametrize("x", [20.0, -20.0, 40.0, -9.0])
def test_float32_stays_float32_through_the_third_derivative(name, x):
    f, closed = CLOSED[name]
    for order, (got, want) in enumerate(zip(_orders(f, x, np.float32), closed(mp.mpf(x)), strict=True)):
        assert got.dtype == np.float32, (name, order)
        want = float(want)
        assert abs(float(got) - want) <= 1e-5 * abs(want) + 1e-37, (name, x, order, float(got), want)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "relu", "leaky_relu"])
@pytest.mark.parametrize("x", [np.inf, -np.inf, 1e4, -1e4])
def test_no_nan_from_infinities_in_any_derivative(name, x):
    """At ±inf every derivative is the limit (0 beyond the first; ∞ − ∞ nowhere), the value the limit too."""
    f = getattr(F, name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, first, second, third = (float(a) for a in _orders(f, x))
    limits = {"sigmoid": (float(x > 0), 0.0), "tanh": (np.sign(x), 0.0), "softplus": (max(x, 0.0), float(x > 0)),
              "relu": (max(x, 0.0), float(x > 0)), "leaky_relu": (x if x > 0 else 0.01 * x, 1.0 if x > 0 else 0.01)}
    assert (value, first, second, third) == (*limits[name], 0.0, 0.0)


@pytest.mark.parametrize("x", [np.nan])
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_smooth_activations_propagate_nan_silently(name, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert all(np.isnan(a) for a in _orders(getattr(F, name), x))


def test_softplus_propagates_nan_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(Value([np.nan, 1.0, -1.0]))
        assert np.isnan(out.data[0])
        np.testing.assert_allclose(out.data[1:], [float(mp.log(1 + mp.e)), float(mp.log(1 + 1 / mp.e))], rtol=1e-15)
        assert all(np.isnan(a) for a in _orders(F.softplus, np.nan))


def test_kink_conventions_agree_between_first_and_higher_orders():
    """relu'(0) = 0 (the docstring's "0 otherwise"), leaky_relu'(0) = s (its "else s"), and with s = 0 leaky ReLU is
    ReLU at every order, the kink included; the second and third derivatives are 0 there, never NaN."""
    points = [-1.0, -0.0, 0.0, 1e-310, -1e-310, 2.0]
    for x in points:
        relu = [float(a) for a in _orders(F.relu, x)]
        leaky = [float(a) for a in _orders(lambda v: F.leaky_relu(v, negative_slope=0.25), x)]
        flat = [float(a) for a in _orders(lambda v: F.leaky_relu(v, negative_slope=0.0), x)]
        assert relu[1] == (1.0 if x > 0 else 0.0) and relu[2:] == [0.0, 0.0]
        assert leaky[1] == (1.0 if x > 0 else 0.25) and leaky[2:] == [0.0, 0.0]
        assert flat == relu, x


def test_leaky_relu_slopes_outside_zero_one_use_the_definition():
    """The fast max(x, s·x) form holds only for s in (0, 1]; s = 2 or s = −0.5 must still be x for x > 0, else s·x."""
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    for s in (2.0, -0.5, 0.0, 1.0, 0.3):
        v = Value(x)
        out = F.leaky_relu(v, negative_slope=s)
        out.sum().backward()
        np.testing.assert_array_equal(out.data, np.where(x > 0, x, s * x))
        np.testing.assert_array_equal(v.grad, np.where(x > 0, 1.0, s))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "relu", "leaky_relu"])
def test_first_and_second_derivatives_agree_with_pytorch_where_both_are_accurate(name):
    torch = pytest.importorskip("torch")
    x = np.array([-6.0, -2.0, -0.3, 0.0, 0.4, 1.5, 7.0])
    theirs = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "softplus": torch.nn.functional.softplus,
              "relu": torch.relu, "leaky_relu": torch.nn.functional.leaky_relu}[name]
    ours = getattr(F, name)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = theirs(t)
    (first,) = torch.autograd.grad(y.sum(), t, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), t, allow_unused=True, materialize_grads=True)
    expected = [y.detach().numpy(), first.detach().numpy(), second.numpy()]
    got = [ours(Value(x)).data, grad(lambda v: ours(v).sum())(x).data,
           grad(lambda v: grad(lambda w: ours(w).sum())(v).sum())(x).data]
    for order, (a, b) in enumerate(zip(got, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"{name} order {order}")


def test_sigmoid_ops_compute_on_integers_and_numbers():
    ints = np.array([-2, 0, 3])
    floats = ints.astype(np.float64)
    closed = {"sigmoid": lambda x: 1 / (1 + np.exp(-x)),
              "sigmoid_slope": lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2,
              "tanh_slope": lambda x: 1 / np.cosh(x) ** 2}
    for name, f in closed.items():
        op = getattr(ops, name)
        np.testing.assert_allclose(op(ints), f(floats), rtol=1e-15, err_msg=name)
        np.testing.assert_allclose(op(np.array([True, False])), f(np.array([1.0, 0.0])), rtol=1e-15, err_msg=name)
        np.testing.assert_allclose(op(3), f(3.0), rtol=1e-15, err_msg=name)
        np.testing.assert_allclose(op(np.int64(-1)), f(-1.0), rtol=1e-15, err_msg=name)


def test_log_softmax_op_computes_on_integers():
    x = np.array([[1, 2, 3], [0, 0, 0]])
    expected = np.log(ops.softmax(x))
    np.testing.assert_allclose(ops.log_softmax(x), expected, rtol=1e-15)
    np.testing.assert_allclose(np.exp(expected).sum(axis=-1), 1.0, rtol=1e-15)
