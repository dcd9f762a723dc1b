"""A dtype auditor's pass: what happens where float32 and float64 meet, against numpy 2's rule (NEP 50) and the
README's "Gradients always have the dtype of their Value".

The xfail tests are the places where a gradient ended up in another dtype than its Value (a Value given as
``backward``'s grad, ``.data =`` of another dtype, a Value ``.grad`` of another dtype added to) and where asking a
reduction for another dtype gave an error without the way to do it.  The guard tests pin numpy's result dtype and
numbers for every binary operation and operand kind, each gradient's dtype and closed form, and numpy's in-place
casting rule for the updates under ``no_grad``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, no_grad
from tinygrad_edu import functional as F

A32 = np.array([0.75, 1.5, 2.25], dtype=np.float32)
SEED64 = np.array([0.1, -0.3, 0.7])  # not exact in float32: a seed kept in float64 is seen in the gradient's dtype


# ------------------------------------------------------------------------------------------------------- defects

def test_a_value_given_as_backwards_grad_takes_the_outputs_dtype() -> None:
    x = Value(A32.copy())
    x.backward(Value(SEED64))  # x is its own output: its gradient is the seed
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, SEED64.astype(np.float32))
    w = Value(A32.copy())
    y = w * 3.0
    y.backward(Value(SEED64))
    assert y.grad.dtype == np.float32  # an intermediate's gradient, in its own dtype too
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, 3.0 * SEED64, rtol=1e-6)  # ∂(3w)/∂w = 3


def test_a_recorded_seed_of_another_dtype_gives_gradients_in_the_outputs_dtype_and_stays_connected() -> None:
    x = Value(A32.copy())
    seed = Value(SEED64)  # a direction that gets a gradient of its own (a Hessian-vector product's v)
    x.backward(seed, create_graph=True)  # x is its own output
    slope = x.grad
    assert isinstance(slope, Value) and slope.dtype == np.float32
    np.testing.assert_array_equal(slope.data, SEED64.astype(np.float32))
    x.grad = None
    (slope * slope).sum().backward()
    assert seed.grad.dtype == np.float64  # the seed's gradient in the seed's dtype: ∂Σ s²/∂s = 2s (s in float32)
    np.testing.assert_allclose(seed.grad, 2 * SEED64, rtol=1e-6)
    y = x * x
    y.backward(seed, create_graph=True)
    assert y.grad.dtype == np.float32  # an intermediate's gradient, in its own dtype too
    np.testing.assert_allclose(x.grad.data, 2 * A32.astype(np.float64) * SEED64, rtol=1e-6)  # ∂(x²)/∂x · s


def test_assigning_data_of_another_dtype_converts_the_gradient_too() -> None:
    v = Value(A32.copy())
    (v * v).sum().backward()
    v.data = A32.astype(np.float64)
    assert v.dtype == np.float64 and v.grad.dtype == np.float64
    np.testing.assert_array_equal(v.grad, 2 * A32.astype(np.float64))  # the gradient kept, only converted
    w = Value(A32.astype(np.float64))
    (w * w).sum().backward()
    w.data = A32.copy()
    assert w.grad.dtype == np.float32


def test_backward_adding_to_a_value_grad_of_another_dtype_gives_the_leafs_dtype() -> None:
    layer = nn.Layer(2, 1, activation="identity", init="xavier", rng=0)
    inputs = np.array([[0.5, -1.0], [2.0, 0.25]])
    w64, b64 = layer.weights.data.copy(), layer.biases.data.copy()
    (layer(inputs) ** 2).sum().backward(create_graph=True)  # float64: Value gradients
    layer.float()  # documented: a Value gradient is left as it is (float64)
    (layer(inputs) ** 2).sum().backward()  # float32 weights now: this pass's gradients are float32
    w32, b32 = layer.weights.data.astype(np.float64), layer.biases.data.astype(np.float64)
    # C = Σ z², z = x W + b: ∂C/∂W = xᵀ 2z, ∂C/∂b = Σ 2z; the sum of both passes'
    z64, z32 = inputs @ w64 + b64, inputs @ w32 + b32
    expected_w, expected_b = inputs.T @ (2 * z64) + inputs.T @ (2 * z32), (2 * z64).sum(0) + (2 * z32).sum(0)
    for value, expected in ((layer.weights, expected_w), (layer.biases, expected_b)):
        assert value.grad.dtype == np.float32
        np.testing.assert_allclose(value.grad.data, expected, rtol=1e-5)


@pytest.mark.parametrize("reduction", [np.sum, np.mean])
def test_a_reduction_asked_for_another_dtype_says_to_convert_the_value(reduction: Any) -> None:
    x = Value(A32.copy())
    with pytest.raises(TypeError) as raised:
        reduction(x, dtype=np.float64)
    message = str(raised.value)
    assert message.startswith(f"{reduction.__name__}: dtype=np.float64 ")
    assert f"v.astype(np.float64).{reduction.__name__}()" in message and "<class" not in message
    advised = getattr(x.astype(np.float64), reduction.__name__)()  # the advice works: numpy's float64 numbers
    assert advised.dtype == np.float64 and advised.item() == reduction(A32, dtype=np.float64)


# ---------------------------------------------------------------------------------------------------- guard tests

# What meets a Value: (name, make(own dtype) -> operand, numpy's reference operand)
OPERANDS: dict[str, Any] = {
    "Value float32": lambda: Value(np.array([0.5, 2.0, 1.25], np.float32)),
    "Value float64": lambda: Value(np.array([0.5, 2.0, 1.25])),
    "float32 array": lambda: np.array([0.5, 2.0, 1.25], np.float32),
    "float64 array": lambda: np.array([0.5, 2.0, 1.25]),
    "int64 array": lambda: np.array([1, 2, 3]),
    "int8 array": lambda: np.array([1, 2, 3], np.int8),
    "bool array": lambda: np.array([True, True, True]),  # (no 0: 0 ** x and x / 0 have no closed form here)
    "Python float": lambda: 0.1,
    "Python int": lambda: 2,
    "np.float64": lambda: np.float64(0.1),
    "np.float32": lambda: np.float32(0.1),
}
BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "maximum": np.maximum}


def _numbers(operand: Any) -> Any:
    return operand.data if isinstance(operand, Value) else operand


def _closed_form(name: str, x: np.ndarray, other: np.ndarray, reflected: bool) -> tuple[np.ndarray, np.ndarray]:
    """∂(x ∘ other)/∂x and ∂/∂other (or of other ∘ x), element by element, in float64."""
    a, b = (other, x) if reflected else (x, other)
    da, db = {"+": (np.ones_like(a * b), np.ones_like(a * b)), "-": (np.ones_like(a * b), -np.ones_like(a * b)),
              "*": (b + 0 * a, a + 0 * b), "/": (1 / b + 0 * a, -a / b ** 2),
              "**": (b * a ** (b - 1), a ** b * np.log(a)),
              "maximum": ((a > b) + 0.5 * (a == b) + 0 * b, (b > a) + 0.5 * (a == b) + 0 * a)}[name]
    return (db, da) if reflected else (da, db)


@given(st.sampled_from([np.float32, np.float64]), st.sampled_from(sorted(OPERANDS)), st.sampled_from(sorted(BINARY)),
       st.booleans())
def test_every_binary_operation_follows_numpys_dtype_rule_and_each_gradient_its_values(
        own: type, operand: str, name: str, reflected: bool) -> None:
    """x ∘ y and y ∘ x: numpy's result dtype and numbers (a Python number adapts, nothing else does); each Value's
    gradient in its own dtype, equal to the closed form (in float64, to float32's precision)."""
    x, other = Value(A32.astype(own)), OPERANDS[operand]()
    function = BINARY[name]
    out = function(other, x) if reflected else function(x, other)
    expected = function(_numbers(other), x.data) if reflected else function(x.data, _numbers(other))
    assert out.dtype == np.asarray(expected).dtype
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    wide = np.asarray(_numbers(other), dtype=np.float64) * np.ones(3)
    dx, dother = _closed_form(name, x.data.astype(np.float64), wide, reflected)
    assert x.grad.dtype == x.dtype
    np.testing.assert_allclose(x.grad, dx, rtol=2e-6)
    if isinstance(other, Value):
        assert other.grad.dtype == other.dtype
        np.testing.assert_allclose(other.grad, dother, rtol=2e-6)


@pytest.mark.parametrize("operand", ["Value float32", "Value float64", "float64 array", "int64 array", "bool array"])
@pytest.mark.parametrize("join", ["matmul", "concatenate", "stack", "where"])
def test_joins_and_matmul_follow_numpys_dtype_rule_and_route_each_gradient_in_its_dtype(operand: str,
                                                                                         join: str) -> None:
    """x32 @ y, concatenate, stack and where: numpy's dtype and numbers; each gradient its Value's dtype, the closed
    form: ∂Σ(x @ y)/∂x = y, the joins pass ones back to each input, where to the side chosen."""
    x, other = Value(A32.copy()), OPERANDS[operand]()
    mask = np.array([True, False, True])
    ours = {"matmul": lambda a, b: a @ b, "concatenate": lambda a, b: F.concatenate([a, b]),
            "stack": lambda a, b: F.stack([a, b]), "where": lambda a, b: F.where(mask, a, b)}[join]
    theirs = {"matmul": np.matmul, "concatenate": lambda a, b: np.concatenate([a, b]),
              "stack": lambda a, b: np.stack([a, b]), "where": lambda a, b: np.where(mask, a, b)}[join]
    out = ours(x, other)
    expected = theirs(A32, _numbers(other))
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    closed = {"matmul": np.asarray(_numbers(other), dtype=np.float64), "where": mask.astype(np.float64)}
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, closed.get(join, np.ones(3)), rtol=1e-7)
    if isinstance(other, Value):
        other_closed = {"matmul": A32.astype(np.float64), "where": (~mask).astype(np.float64)}
        assert other.grad.dtype == other.dtype
        np.testing.assert_allclose(other.grad, other_closed.get(join, np.ones(3)), rtol=1e-7)


@given(st.sampled_from([np.float32, np.float64]), st.sampled_from(sorted(OPERANDS)),
       st.sampled_from(["+=", "-=", "*=", "/="]))
def test_an_update_under_no_grad_keeps_the_leaf_and_its_dtype_as_numpys_in_place_rule(own: type, operand: str,
                                                                                        symbol: str) -> None:
    """``w -= lr * g`` under no_grad changes w itself, in its dtype, to numpy's in-place numbers bit for bit
    (a float32 w updated by float64 numbers is rounded to float32, as ``a32 -= a64`` is)."""
    w = Value(A32.astype(own))
    before = w
    other = OPERANDS[operand]()
    expected = A32.astype(own)
    namespace = {"w": expected, "o": _numbers(other)}
    exec(f"w {symbol} o", namespace)  # numpy's own in-place operation
    with no_grad():
        namespace = {"w": w, "o": other}
        exec(f"w {symbol} o", namespace)
    assert namespace["w"] is before and w.dtype == own
    np.testing.assert_array_equal(w.data, expected)
