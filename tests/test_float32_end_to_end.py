"""Float32 end to end, as an engineer who trains in float32 (PyTorch's default) meets it: dtypes that must not
change silently, optimizers that must say when a float32 step moved nothing, float32 overflow that numpy's error
settings must see, and PyTorch's ``dtype=`` on a layer.  Numbers are checked against closed forms or numpy."""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim


# --- a .grad set by hand in another dtype: "Gradients always have the dtype of their Value" (README) ----------
def test_gradient_accumulated_onto_a_float64_grad_keeps_the_values_float32():
    w = Value(np.array([1.0, 2.0], np.float32))
    w.grad = np.zeros(w.shape)  # micrograd-style zeroing: np.zeros is float64
    (w * w).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.array([2.0, 4.0], np.float32))  # d(w²)/dw = 2w


def test_gradient_accumulated_onto_an_int_grad_is_in_the_values_dtype():
    w = Value(np.array([1.0, 2.0], np.float32))
    w.grad = np.array([1, 1])
    (3 * w).sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.array([4.0, 4.0], np.float32))


def test_gradient_accumulated_on_a_float64_value_stays_float64():
    w = Value(np.array([1.0, 2.0]))
    w.grad = np.array([1, 1])
    (3 * w).sum().backward()
    assert w.grad.dtype == np.float64
    np.testing.assert_array_equal(w.grad, [4.0, 4.0])


# --- Newton on float32 parameters: a step that rounds to no change is a failed step (its docstring) -----------
def _newton_at_float32_minimum():
    c = np.array([1 / 3])  # the minimum, in float64: no float32 number holds it
    x = Value(np.array([1 / 3], np.float32))
    opt = optim.Newton([x])
    before = x.data.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step(lambda: ((x - c) ** 2).sum() + 1.0)
    return opt, x, before, caught


def test_newton_step_that_rounds_to_no_change_in_float32_is_reported_failed():
    opt, x, before, caught = _newton_at_float32_minimum()
    np.testing.assert_array_equal(x.data, before)  # nothing moved: x is the float32 closest to 1/3
    assert x.dtype == np.float32
    assert opt.last_failed is True
    assert opt.last_step_size == 0.0
    assert any("changes no parameter" in str(w.message) for w in caught)


def test_newton_on_float32_parameters_still_lands_on_a_quadratics_minimum():
    x = Value(np.array([3.0, -2.0], np.float32))
    opt = optim.Newton([x])
    opt.step(lambda: ((x - 1.0) ** 2).sum() + x[0] * x[1])  # minimum (2/3, 2/3), as in Newton's docstring
    assert x.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_allclose(x.data, [2 / 3, 2 / 3], rtol=1e-6)
    assert opt.last_failed is False


# --- float32 overflow of a Python number must be seen by numpy's error settings every time ---------------------
def test_float32_overflow_of_a_number_raises_under_errstate_on_every_use():
    x = Value(np.array([1.0], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isinf((x * 1e40).data).all()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        x * 1e40  # as np.float32 array * 1e40 raises here


def test_float32_overflow_of_a_number_warns_on_every_use():
    x = Value(np.array([1.0], np.float32))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x + 1e41
        x + 1e41
    assert sum("overflow" in str(w.message) for w in caught) == 2  # as numpy warns twice


def test_a_number_that_fits_float32_keeps_its_shared_operand_exact():
    x = Value(np.array([1.0, 2.0], np.float32))
    with np.errstate(over="raise"):
        for _ in range(2):
            y = x * 0.1
            assert y.dtype == np.float32
            np.testing.assert_array_equal(y.data, np.array([1.0, 2.0], np.float32) * np.float32(0.1))


# --- PyTorch's dtype= on a layer: an error saying how to get float32 ------------------------------------------
@pytest.mark.parametrize("build", [lambda: nn.MLP([1, 2, 1], dtype=np.float32),
                                   lambda: nn.Layer(1, 2, dtype=np.float32)], ids=["MLP", "Layer"])
def test_dtype_keyword_on_a_layer_says_to_use_float(build):
    with pytest.raises(TypeError, match=r"dtype=.*\.float\(\)"):
        build()


def test_float_model_trained_by_adam_matches_numpy_float32_by_hand():
    model = nn.MLP([2, 1], activation="identity", rng=0).float()
    w, b = (p.data.copy() for p in model.parameters())
    x = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    y = np.array([[1.0], [-1.0]], np.float32)
    opt = optim.Adam(model.parameters(), learning_rate=0.1)
    opt.zero_grad()
    cost = ((model(x) - y) ** 2).mean()
    cost.backward()
    opt.step()
    residual = x @ w + b - y  # by hand, in float32: C = mean(r²), ∂C/∂W = xᵀ·2r/n, ∂C/∂b = Σ 2r/n
    gw, gb = x.T @ (np.float32(2 / 2) * residual), (np.float32(2 / 2) * residual).sum(0)
    for p, start, g in zip(model.parameters(), (w, b), (gw, gb), strict=True):
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
        m, v = np.float32(0.1) * g, np.float32(0.001) * g * g
        expected = start - np.float32(0.1) * (m / np.float32(0.1)) / (np.sqrt(v / np.float32(0.001)) + np.float32(1e-8))
        np.testing.assert_allclose(p.data, expected, rtol=2e-6)
