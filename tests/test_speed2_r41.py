"""A second performance pass on issue 10's element-wise chain: what its one-input shortcuts could break, checked
against numpy, closed forms and central differences, to the first and second order.

The paths these tests pin: how ``_record`` gathers the arrays of a one-input operation (σ, tanh, a custom Op of one
input, given a Value or a constant array), how a node keeps one input, how the backward walk hands a vjp one input
and a saving forward's ``saved`` (by keyword, alone or beside other parameters; a vjp that does not take it), and
what must not move: dtypes, intermediate gradients, stale graphs, no_grad, hooks and recorded second derivatives."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Op, Value, apply, no_grad
from tinygrad_edu.autodiff import grad

_FLOATS = st.floats(-3, 3, allow_nan=False)


def _cube_and_slope(x: np.ndarray, *, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    return scale * x ** 3, 3 * scale * x ** 2


def _cube_vjp(g: object, out: object, x: object, *, saved: object = None, scale: float = 1.0) -> object:
    # saved is keyword-only: the walk must hand it by name; a recorded pass (no saved) computes it on Values
    return g * (3 * scale * x * x if saved is None else saved)  # type: ignore[operator]


_CUBE = Op("cube", lambda x, scale=1.0: scale * x ** 3, _cube_vjp, saving=_cube_and_slope)


@given(hnp.arrays(np.float64, 8, elements=_FLOATS), st.sampled_from([{}, {"scale": -0.5}]))
def test_a_saving_op_of_one_input_gets_saved_by_keyword_with_or_without_other_params(x0: np.ndarray,
                                                                                 params: dict) -> None:
    scale = params.get("scale", 1.0)
    x = Value(x0)
    y = apply(_CUBE, x, **params).tanh()
    np.testing.assert_allclose(y.data, np.tanh(scale * x0 ** 3), rtol=1e-14, atol=1e-300)
    upstream = np.linspace(0.5, 1.5, 8)
    y.backward(upstream)
    expected = central_difference(lambda a: float(upstream @ np.tanh(scale * a ** 3)), x0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6, atol=1e-7)
    assert x.grad.dtype == np.float64 and x.grad.shape == (8,)


@pytest.mark.parametrize("point", [-1.1, 0.3, 0.8])
def test_second_derivatives_through_a_saving_op_and_sigmoid_match_central_differences(point: float) -> None:
    def f(p: Value) -> Value:
        return apply(_CUBE, p, scale=0.5).sigmoid()

    def first(a: float) -> float:
        s = 1 / (1 + np.exp(-0.5 * a ** 3))
        return float(s * (1 - s) * 1.5 * a * a)

    assert float(grad(f)(point)) == pytest.approx(first(point), rel=1e-12, abs=1e-15)
    second = float(grad(grad(f))(point))
    assert second == pytest.approx((first(point + 1e-5) - first(point - 1e-5)) / 2e-5, rel=1e-6, abs=1e-9)


def test_a_vjp_that_takes_saved_through_its_own_keywords_gets_it() -> None:
    seen: list[dict] = []

    def vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray, saved: object = None, **more: object) -> np.ndarray:
        seen.append(dict(more, saved=saved))
        return g * (2 * x if saved is None else saved)

    square = Op("square", lambda x, shift=0.0: x * x + shift, vjp, saving=lambda x, shift=0.0: (x * x + shift, 2 * x))
    x = Value(np.array([1.0, -2.0, 3.0]))
    square(x).backward(np.array([1.0, 0.5, 2.0]))
    apply(square, x, shift=1.0).backward(np.ones(3))
    np.testing.assert_allclose(x.grad, np.array([2.0, -2.0, 12.0]) + np.array([2.0, -4.0, 6.0]), rtol=1e-15)
    assert [sorted(k) for k in seen] == [["saved"], ["saved", "shift"]] and seen[1]["shift"] == 1.0
    np.testing.assert_array_equal(seen[0]["saved"], 2 * x.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_input_ops_keep_dtype_intermediate_gradients_and_hooks(dtype: type) -> None:
    x0 = np.array([-1.5, -0.2, 0.0, 0.4, 2.0], dtype=dtype)
    x = Value(x0)
    t = x.tanh()
    seen: list[np.ndarray] = []
    hook = Op("hook", lambda a: a.copy(), lambda g, out, a: seen.append(np.array(g)) or g)  # the advice's hook
    e = hook(t).exp()
    s = e.sigmoid()
    s.backward(np.ones(5, dtype=dtype))
    tanh, rtol = np.tanh(x0.astype(np.float64)), (1e-6 if dtype is np.float32 else 1e-13)
    sig = 1 / (1 + np.exp(-np.exp(tanh)))
    ds = sig * (1 - sig)
    for value, expected in ((e, ds), (t, ds * np.exp(tanh)), (x, ds * np.exp(tanh) * (1 - tanh ** 2))):
        assert value.grad.dtype == dtype and value.grad.shape == (5,)
        np.testing.assert_allclose(value.grad, expected, rtol=rtol)
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], ds * np.exp(tanh), rtol=rtol)


def test_a_one_input_op_on_a_constant_array_or_under_no_grad_makes_a_leaf_of_its_own_numbers() -> None:
    identity = Op("identity", lambda x: x, lambda g, out, x: g)
    a = np.array([1.0, 2.0])
    out = apply(identity, a)
    assert out.op is None and not out.requires_grad and out.data is not a
    np.testing.assert_array_equal(out.data, a)
    x = Value(np.array([0.5, -0.5]))
    with no_grad():
        y = x.sigmoid()
    assert y.op is None and not y.requires_grad and y.parents == ()
    recorded = x.sigmoid()
    assert recorded.parents == (x,) and recorded.op == "sigmoid"
    assert set(recorded.op_params) <= {"saved"}  # what the drawings list (a saved slope, or nothing)


def test_a_one_input_op_whose_input_changed_in_place_is_a_stale_graph() -> None:
    x = Value(np.array([0.1, 0.2]))
    y = x.tanh().sigmoid()
    x.data = np.array([5.0, 6.0])
    with pytest.raises(ValueError, match="stale.*after tanh used it"):
        y.backward(np.ones(2))
    assert x.grad is None


def test_a_one_input_forward_error_names_the_op_and_shapes() -> None:
    def forward(x: np.ndarray) -> np.ndarray:
        raise ValueError("no good")

    broken = Op("broken", forward, lambda g, out, x: g)
    with pytest.raises(ValueError, match=r"broken: no good \(input shapes \(3,\)"):
        broken(Value(np.zeros(3)))
