"""A performance engineer's round on issue 10: what the element-wise chain's speed change could break, checked
against numpy, closed forms and central differences, to the first and second order.

The change (no behaviour meant to move): ``_record`` reads ``detect_anomaly``'s switch once per operation;
``_recorded`` (whether σ's forward keeps σ') loops instead of ``any()`` of a generator; ``_binary`` tests for
arrays before it looks for the Python-float fast path; the backward walk makes a sum of two gradients an array only
when numpy gave a scalar; ``Op.__call__`` (a vjp's ``tanh_slope(x)``) reads ``np.ndarray`` from a module global.
The tests below pin what those paths decide: the chain's gradients, the intermediate gradients the drawings show,
second derivatives through a recorded pass, σ' kept only where σ is recorded, detect_anomaly's forward check and
its silenced warnings, 0-d gradients summed over two uses, float32 and broadcasting through the operators."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Op, Value, detect_anomaly, no_grad, ops
from tinygrad_edu.autodiff import grad, hessian


def _chain_numpy(x: np.ndarray, w: np.ndarray, turns: int) -> np.ndarray:
    y = x
    for _ in range(turns):
        y = 1 / (1 + np.exp(-np.tanh(y * w + x)))
    return y


def _chain(x: Value, w: Value, turns: int) -> Value:
    y = x
    for _ in range(turns):
        y = ((y * w) + x).tanh().sigmoid()
    return y


_FLOATS = st.floats(-2, 2, allow_nan=False)


@given(hnp.arrays(np.float64, 8, elements=_FLOATS), hnp.arrays(np.float64, 8, elements=_FLOATS),
       st.integers(1, 4))
def test_the_benchmarks_chain_gives_numpys_numbers_and_central_difference_gradients(x0: np.ndarray, w0: np.ndarray,
                                                                                    turns: int) -> None:
    x, w = Value(x0), Value(w0)
    y = _chain(x, w, turns)
    np.testing.assert_allclose(y.data, _chain_numpy(x0, w0, turns), rtol=1e-13, atol=1e-15)
    upstream = np.linspace(0.5, 1.5, 8)
    y.backward(upstream)
    dx = central_difference(lambda a: float(upstream @ _chain_numpy(a, w0, turns)), x0)
    dw = central_difference(lambda a: float(upstream @ _chain_numpy(x0, a, turns)), w0)
    np.testing.assert_allclose(x.grad, dx, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w.grad, dw, rtol=1e-6, atol=1e-8)
    assert x.grad.dtype == w.grad.dtype == np.float64 and x.grad.shape == w.grad.shape == (8,)


def test_the_chains_intermediate_gradients_are_the_closed_forms_the_drawings_show() -> None:
    x0, w0 = np.linspace(-1, 1, 8), np.full(8, 0.9)
    x, w = Value(x0), Value(w0)
    product = x * w
    pre = product + x
    t = pre.tanh()
    s = t.sigmoid()
    g = np.linspace(1, 2, 8)
    s.backward(g)
    sigma = 1 / (1 + np.exp(-np.tanh(x0 * w0 + x0)))
    dt = g * sigma * (1 - sigma)
    dpre = dt * (1 - np.tanh(x0 * w0 + x0) ** 2)
    for value, expected in ((s, g), (t, dt), (pre, dpre), (product, dpre)):
        assert isinstance(value.grad, np.ndarray) and value.grad.dtype == np.float64
        np.testing.assert_allclose(value.grad, expected, rtol=1e-13)
    np.testing.assert_allclose(x.grad, dpre * w0 + dpre, rtol=1e-13)
    np.testing.assert_allclose(w.grad, dpre * x0, rtol=1e-13)


@pytest.mark.parametrize("point", [-1.3, -0.2, 0.0, 0.7, 2.1])
def test_second_derivatives_of_the_chain_match_central_differences_of_its_first(point: float) -> None:
    def f(p: Value) -> Value:  # one turn of the chain, on a number: σ(tanh(p·0.9 + p))
        return ((p * 0.9) + p).tanh().sigmoid()

    def first(a: float) -> float:
        t = np.tanh(1.9 * a)
        s = 1 / (1 + np.exp(-t))
        return float(s * (1 - s) * (1 - t * t) * 1.9)

    assert float(grad(f)(point)) == pytest.approx(first(point), rel=1e-12, abs=1e-15)
    second = float(grad(grad(f))(point))
    assert second == pytest.approx((first(point + 1e-5) - first(point - 1e-5)) / 2e-5, rel=1e-6, abs=1e-9)


def test_a_hessian_through_mul_add_tanh_sigmoid_matches_central_differences() -> None:
    w0 = np.array([0.9, -0.4, 1.2])

    def f(p: Value) -> Value:
        return ((p * w0) + p).tanh().sigmoid().sum()

    def gradient(a: np.ndarray) -> np.ndarray:
        t = np.tanh(a * w0 + a)
        s = 1 / (1 + np.exp(-t))
        return s * (1 - s) * (1 - t * t) * (w0 + 1)

    at = np.array([0.3, -0.8, 0.1])
    expected = np.stack([central_difference(lambda a, i=i: gradient(a)[i], at) for i in range(3)])
    np.testing.assert_allclose(hessian(f)(at).data, expected, rtol=1e-6, atol=1e-9)


def test_sigmoid_keeps_its_slope_only_where_it_is_recorded() -> None:
    x = Value(np.array([-3.0, 0.0, 4.0]))
    recorded = x.sigmoid()
    assert recorded.op == "sigmoid" and recorded.requires_grad
    with no_grad():
        plain = x.sigmoid()
    constant = Value(np.array([-3.0, 0.0, 4.0]), requires_grad=False).sigmoid()
    for value in (plain, constant):
        assert value.op is None and value.op_params == {} and not value.requires_grad
        np.testing.assert_array_equal(value.data, recorded.data)
    recorded.backward(np.ones(3))
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(x.grad, s * (1 - s), rtol=1e-15)


def test_detect_anomaly_still_checks_every_forward_output_and_silences_numpys_warning() -> None:
    x = Value(np.array([1.0, 0.0]))
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's divide-by-zero warning would only echo the error below
        with pytest.raises(FloatingPointError, match=r"log: the forward output holds NaN or inf"):
            x.log()
        with pytest.raises(FloatingPointError, match=r"div: the forward output holds NaN or inf"):
            Value(np.array([1.0, 2.0])) / x
    with warnings.catch_warnings(record=True) as caught:  # outside the block: numpy's warning, and inf, as before
        warnings.simplefilter("always")
        out = x.log()
    assert np.isneginf(out.data[1]) and any("divide by zero" in str(w.message) for w in caught)


def test_a_number_used_twice_sums_its_0d_gradients_into_an_array() -> None:
    a = Value(1.5)
    h = a * 3.0
    y = h * h + h * 2.0  # h used three times: 0-d gradients summed, numpy scalars made arrays again
    y.backward()
    assert isinstance(h.grad, np.ndarray) and h.grad.shape == () and h.grad.dtype == np.float64
    assert h.grad == 2 * 4.5 + 2.0 and a.grad == 3.0 * (2 * 4.5 + 2.0)
    v = Value(np.float32(0.5))
    z = v * v + v
    z.backward()
    assert isinstance(v.grad, np.ndarray) and v.grad.dtype == np.float32 and v.grad == np.float32(2.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_operators_keep_broadcasting_dtypes_and_the_number_fast_path(dtype: type) -> None:
    a = Value(np.array([[1.0], [2.0]], dtype=dtype))
    b = Value(np.array([0.5, -1.0, 2.0], dtype=dtype))
    out = a * b + a - b / a
    assert out.shape == (2, 3) and out.dtype == dtype
    np.testing.assert_allclose(out.data, a.data * b.data + a.data - b.data / a.data, rtol=1e-6)
    out.backward(np.ones((2, 3), dtype=dtype))
    assert a.grad.shape == (2, 1) and b.grad.shape == (3,) and a.grad.dtype == b.grad.dtype == dtype
    np.testing.assert_allclose(a.grad[:, 0], (b.data + 1 + b.data / a.data ** 2).sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(b.grad, np.broadcast_to(a.data - 1 / a.data, (2, 3)).sum(axis=0), rtol=1e-6)
    s, t = Value(2.0), Value(np.array(0.25))  # two 0-d float64 Values: the Python-float path, numpy's bits
    assert (s * t).data == np.multiply(2.0, 0.25) and (s * t).data.shape == () and (s / t).data == 8.0
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        s / Value(0.0)  # a division by 0 still goes to numpy, under its errstate


def test_an_op_called_on_arrays_runs_its_forward_and_on_values_records() -> None:
    x = np.array([-1.0, 0.5])
    np.testing.assert_allclose(ops.tanh_slope(x), 1 - np.tanh(x) ** 2, rtol=1e-15)
    v = Value(x)
    slope = ops.tanh_slope(v)
    assert isinstance(slope, Value) and slope.op == "tanh_slope"
    double = Op("double", lambda a: 2 * a, lambda g, out, a: 2 * g)
    np.testing.assert_array_equal(double(x), 2 * x)
    with pytest.raises(TypeError, match="double"):
        double(x, x)
