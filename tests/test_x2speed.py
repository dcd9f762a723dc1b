"""Issue 10's x² update made cheaper without changing a bit: the backward walk sums a bias's gradient over the batch
itself, where ``_fit`` (still taken in every other case) did it with its general checks and ``ops.sum_to``.  Each case
the shortcut could get wrong (dtypes, broadcast shapes, a gradient of one number, warnings, numpy's error state,
``detect_anomaly``, derivatives of derivatives, a custom Op's vjp of a wrong shape or dtype) is checked against numpy,
closed forms or central differences, and fit's updates against the same updates written out in numpy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers_gradients import differences_in_place
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Op, Value, apply, detect_anomaly, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.demo import xsquared_network
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit


def _summed_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """numpy's broadcasting undone by hand: ``g`` summed over the axes broadcasting added in front, then over the
    axes it stretched from 1 (an independent reference for the engine's sums)."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


finite = {"allow_nan": False, "allow_infinity": False, "min_value": -1e6, "max_value": 1e6}


@given(st.sampled_from([np.float32, np.float64]), st.integers(1, 7), st.integers(1, 13), st.data())
def test_a_bias_gradient_is_the_batch_sum_of_the_upstream_gradient_bit_for_bit(dtype, n, k, data) -> None:
    x = Value(data.draw(hnp.arrays(dtype, (n, k), elements=st.floats(width=32, **finite))))
    b = Value(data.draw(hnp.arrays(dtype, (k,), elements=st.floats(width=32, **finite))))
    upstream = data.draw(hnp.arrays(dtype, (n, k), elements=st.floats(width=32, **finite)))
    (x + b).backward(upstream)
    expected = upstream.sum(axis=0)
    assert type(b.grad) is np.ndarray and b.grad.dtype == dtype and b.grad.shape == (k,)
    np.testing.assert_array_equal(b.grad, expected)
    assert b.grad.tobytes() == expected.tobytes()  # the same bits (the sign of a zero too)
    np.testing.assert_array_equal(x.grad, upstream)
    assert x.grad is not upstream  # a leaf's gradient is an array of its own


@pytest.mark.parametrize("z_shape, b_shape", [((5, 12), (12,)), ((3, 5, 12), (5, 12)), ((3, 5, 12), (12,)),
                                              ((5, 12), (1, 12)), ((5, 12), (5, 1)), ((5,), ()), ((1, 4), (4,)),
                                              ((2, 5, 1), (5, 1)), ((4, 3), (4, 3))])
def test_every_broadcast_sums_back_as_numpy_broadcast_it(z_shape, b_shape) -> None:
    rng = np.random.default_rng(0)
    x, b = Value(rng.normal(size=z_shape)), Value(rng.normal(size=b_shape))
    upstream = rng.normal(size=z_shape)
    (x + b).backward(upstream)
    expected = _summed_to(upstream, b_shape)
    assert type(b.grad) is np.ndarray and b.grad.shape == b_shape and b.grad.dtype == np.float64
    np.testing.assert_allclose(b.grad, expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(x.grad, upstream)


def test_an_intermediate_of_one_number_added_to_a_batch_holds_an_array_as_its_gradient() -> None:
    x, c = Value(np.arange(5.0)), Value(3.0)
    scaled = c * 2.0  # a computed Value of shape (), whose gradient the drawings show
    (x + scaled).backward(np.arange(5.0) + 0.5)
    assert type(scaled.grad) is np.ndarray and scaled.grad.shape == () and scaled.grad == 12.5
    assert type(c.grad) is np.ndarray and c.grad == 25.0


def test_a_bias_of_another_dtype_gets_the_batch_sum_in_its_own_dtype() -> None:
    upstream = np.arange(12.0).reshape(4, 3) * 0.1
    x, b32 = Value(np.ones((4, 3))), Value(np.zeros(3, np.float32))
    (x + b32).backward(upstream)  # float64 + float32: a float64 gradient, summed, then the bias's float32
    assert b32.grad.dtype == np.float32
    np.testing.assert_array_equal(b32.grad, upstream.sum(axis=0).astype(np.float32))
    x32, b64 = Value(np.ones((4, 3), np.float32)), Value(np.zeros(3))
    (x32 + b64).backward(upstream)
    assert x32.grad.dtype == np.float32 and b64.grad.dtype == np.float64
    np.testing.assert_array_equal(b64.grad, upstream.sum(axis=0))
    np.testing.assert_array_equal(x32.grad, upstream.astype(np.float32))


def test_the_x_squared_networks_gradients_agree_with_central_differences() -> None:
    model = xsquared_network(0)
    params = model.parameters()
    inputs, targets = xsquared(5, seed=3)
    cost = squared_error(model(inputs), targets)
    cost.backward()
    arrays = [p.data for p in params]  # (changed in place by the differences, and put back)
    numeric = differences_in_place(lambda: float(squared_error(model(inputs), targets).item()), arrays)
    assert [p.grad.shape for p in params] == [p.shape for p in params]
    for p, slope in zip(params, numeric):
        np.testing.assert_allclose(p.grad, slope, rtol=1e-6, atol=1e-8)


def test_fit_makes_the_updates_written_out_in_numpy() -> None:
    """Two episodes of the x² demo's gradient descent in batches of 5, against the same updates with the
    derivatives written out (bias gradients summed over the batch by hand)."""
    inputs, targets = xsquared(100, seed=0)
    model = xsquared_network(0)
    layers = [(w.data.copy(), b.data.copy()) for w, b in zip(*[iter(model.parameters())] * 2)]
    fit(model, inputs, targets, cost=squared_error, optimizer=optim.GradientDescent(model, 0.15), episodes=2,
        batch_size=5, seed=0, progress=False)
    rng = np.random.default_rng(0)
    for _ in range(2):
        order = rng.permutation(len(inputs))
        for start in range(0, len(inputs), 5):
            x, y = inputs[order[start:start + 5]], targets[order[start:start + 5]]
            alphas, zs = [x], []
            for i, (w, b) in enumerate(layers):
                zs.append(alphas[-1] @ w + b)
                alphas.append(zs[-1] if i == len(layers) - 1 else np.where(zs[-1] > 0, zs[-1], 0.01 * zs[-1]))
            delta = 2 * (alphas[-1] - y) / len(x)
            for i in reversed(range(len(layers))):
                w, b = layers[i]
                if i < len(layers) - 1:
                    delta = delta * np.where(zs[i] > 0, 1.0, 0.01)
                grad_w, grad_b = alphas[i].T @ delta, delta.sum(axis=0)
                delta = delta @ w.T
                w -= 0.15 * grad_w
                b -= 0.15 * grad_b
    for p, q in zip(model.parameters(), [a for layer in layers for a in layer]):
        np.testing.assert_allclose(p.data, q, rtol=1e-12, atol=1e-14)


def test_an_overflowing_bias_sum_warns_as_numpy_does() -> None:
    x, b = Value(np.ones((5, 3))), Value(np.zeros(3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (x + b).backward(np.full((5, 3), 1e308))  # each part finite, their sum not
    assert [(w.category, str(w.message)) for w in caught] == [(RuntimeWarning, "overflow encountered in reduce")]
    np.testing.assert_array_equal(b.grad, [np.inf] * 3)


def test_an_overflowing_bias_sum_raises_under_numpys_error_state_and_changes_no_gradient() -> None:
    x, b = Value(np.ones((5, 3))), Value(np.zeros(3))
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow encountered in reduce"):
        (x + b).backward(np.full((5, 3), 1e308))
    assert x.grad is None and b.grad is None


def test_an_overflowing_bias_sum_is_named_under_detect_anomaly() -> None:
    x, b = Value(np.ones((5, 3))), Value(np.zeros(3))
    with detect_anomaly(), pytest.raises(FloatingPointError,
                                         match=r"^add: the backward gradient holds NaN or inf \(input shape \(3,\)\)"):
        (x + b).backward(np.full((5, 3), 1e308))
    assert x.grad is None and b.grad is None


def test_second_and_third_derivatives_through_a_broadcast_bias() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3))
    W, b = Value(rng.normal(size=(3, 4))), Value(rng.normal(size=4))
    z = x @ W.data + b.data
    cost = ((x @ W + b) ** 3).sum()
    cost.backward(create_graph=True)
    slope = b.grad  # ∂C/∂b = 3 Σ_rows z², a Value
    assert isinstance(slope, Value) and slope.shape == (4,)
    np.testing.assert_allclose(slope.data, 3 * (z ** 2).sum(axis=0), rtol=1e-13)
    W.zero_grad()
    b.zero_grad()
    slope.sum().backward(create_graph=True)  # ∂/∂b Σ_j 3 Σ_i z_ij² = 6 Σ_i z_ij, ∂/∂W = 6 xᵀz
    np.testing.assert_allclose(b.grad.data, 6 * z.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(W.grad.data, 6 * x.T @ z, rtol=1e-13)
    third = b.grad
    b.zero_grad()
    W.zero_grad()
    third.sum().backward()  # ∂/∂b Σ_j 6 Σ_i z_ij = 6n for each j
    np.testing.assert_allclose(b.grad, np.full(4, 6.0 * 5), rtol=1e-15)


def test_a_vjp_of_a_shape_no_broadcast_makes_is_refused_and_one_it_can_make_is_summed() -> None:
    wrong = Op("wrong", np.add, (lambda g, out, a, b: g, lambda g, out, a, b: np.ones((5, 13))))
    with pytest.raises(ValueError, match=r"^wrong: its vjp for input 1 returned a gradient of shape \(5, 13\) for "
                                         r"an input of shape \(12,\)$"):
        apply(wrong, Value(np.ones((5, 12))), Value(np.zeros(12))).backward(np.ones((5, 12)))
    stacked = Op("stacked", np.add, (lambda g, out, a, b: g, lambda g, out, a, b: np.full((3, 12), 0.5)))
    b = Value(np.zeros(12))
    apply(stacked, Value(np.ones((5, 12))), b).backward(np.ones((5, 12)))
    np.testing.assert_array_equal(b.grad, np.full(12, 1.5))
    narrow = Op("narrow", np.add, (lambda g, out, a, b: g, lambda g, out, a, b: g.astype(np.float32) / 3))
    b = Value(np.zeros(12))
    upstream = np.linspace(0, 1, 60).reshape(5, 12)
    apply(narrow, Value(np.ones((5, 12))), b).backward(upstream)  # summed in float32, then float64
    assert b.grad.dtype == np.float64
    np.testing.assert_array_equal(b.grad, (upstream.astype(np.float32) / 3).sum(axis=0).astype(np.float64))
