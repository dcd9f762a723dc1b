"""Round 47's cuts on the x² update keep behaviour: squared_error's sum, its target check, gradient_norm's list
check, leaky ReLU's slope and a float parameter of an Op (no timings here)."""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, apply, ops, optim
from tinygrad_edu.losses import squared_error


def test_squared_error_is_the_sum_of_squares_over_the_samples_to_the_bit():
    rng = np.random.default_rng(0)
    y, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    assert squared_error(Value(y), t).item() == np.sum((y - t) * (y - t)) / 5
    y32, t32 = y.astype(np.float32), t.astype(np.float32)
    cost = squared_error(Value(y32), t32)
    assert cost.dtype == np.float32 and cost.item() == np.sum((y32 - t32) * (y32 - t32)) / np.float32(5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_target_holding_nan_or_inf_is_refused_by_index(bad):
    t = np.zeros((5, 1))
    t[3, 0] = bad
    with pytest.raises(ValueError, match=r"squared_error: the target holds NaN or inf \(at index \(3, 0\)\)"):
        squared_error(Value(np.zeros((5, 1))), t)


def test_finite_targets_whose_squares_overflow_are_taken_without_a_warning():
    t = np.full((2, 1), 1e200)  # Σt² overflows, every number is finite: the element-wise test tells them apart
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            cost = squared_error(Value(np.full((2, 1), 1e200)), t)
    assert cost.item() == 0.0


def test_gradient_norm_takes_a_list_of_values_and_refuses_what_is_not():
    x, y = Value([3.0]), Value([4.0])
    x.grad, y.grad = np.array([3.0]), np.array([4.0])
    assert optim.gradient_norm([x, y]) == 5.0
    assert optim.gradient_norm([x, x, y]) == 5.0  # a Value twice counts once, as before the fast path
    assert optim.gradient_norm([]) == 0.0
    with pytest.raises(TypeError, match="gradient_norm"):
        optim.gradient_norm([x, np.array([1.0])])


def test_gradient_norm_of_a_value_subclass_counts_it():
    class Named(Value):
        pass

    w = Named([1.0, 2.0])
    w.grad = np.array([6.0, 8.0])
    assert optim.gradient_norm([w]) == 10.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_leaky_relu_slope_against_central_differences(dtype):
    x = np.array([-2.0, -0.5, 0.5, 3.0], dtype=dtype)
    v = Value(x)
    apply(ops.leaky_relu, v, negative_slope=0.1).sum().backward()
    assert v.grad.dtype == dtype
    h = 1e-6
    x64 = x.astype(np.float64)
    numeric = (ops.leaky_relu.forward(x64 + h, negative_slope=0.1)
               - ops.leaky_relu.forward(x64 - h, negative_slope=0.1)) / (2 * h)
    np.testing.assert_allclose(v.grad, numeric, rtol=1e-6)


def test_a_float_parameter_is_kept_as_given_and_an_array_one_copied():
    slope = np.array(0.1)
    v = Value([-1.0, 2.0])
    out = apply(ops.leaky_relu, v, negative_slope=0.1)
    assert out.op_params == {"negative_slope": 0.1}
    copied = apply(ops.leaky_relu, v, negative_slope=slope)
    slope[...] = 0.5
    assert copied.op_params["negative_slope"] == 0.1
