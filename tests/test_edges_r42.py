"""An engineer at the edges of the engine's primitives (round 42): numpy functions on Values and the advice their
refusals give, and the built-in Ops called on integer and boolean arrays directly ("on arrays: just the forward").
Each test failed before its fix."""

import numpy as np
import pytest

from tinygrad_edu import Value, functional, ops


def _advice(call) -> str:
    """The code after "(here: " in the TypeError ``call`` raises, up to the space before a remark in brackets."""
    with pytest.raises(TypeError) as raised:
        call()
    text = str(raised.value)
    assert "(here: " in text, text
    code = text[text.index("(here: ") + len("(here: "):]
    return code.split(" (")[0].removesuffix(")")


def _run(code: str, v: Value) -> Value:
    return eval(code, {"np": np, "functional": functional}, {"v": v})  # noqa: S307 (the message's own code)


# --- defect: np.rot90's advice ignored axes=, and turned a stack of matrices with a matrix's formula ----------------
# np.rot90(v, axes=(1, 0)) turns the other way (clockwise); the advice gave the counterclockwise v[:, ::-1].T.  For a
# 3-D v, v[:, ::-1].T reverses all three axes: shape (4, 3, 2), where np.rot90 gives (3, 2, 4).

MATRIX = np.arange(12.0).reshape(3, 4) ** 1.5
STACK = np.arange(24.0).reshape(2, 3, 4) ** 1.5


@pytest.mark.parametrize("k", [1, 2, 3, -1])
@pytest.mark.parametrize("axes", [(1, 0), (-1, 0), (1, -2)])
def test_np_rot90_advice_of_a_matrix_turns_the_way_its_axes_say(k, axes):
    v = Value(MATRIX)
    np.testing.assert_array_equal(_run(_advice(lambda: np.rot90(v, k, axes=axes)), v).data,
                                  np.rot90(MATRIX, k, axes=axes))


@pytest.mark.parametrize("k", [0, 1, 2, 3])
@pytest.mark.parametrize("axes", [(0, 1), (1, 0), (0, 2), (2, 1), (-1, -3)])
def test_np_rot90_advice_of_a_stack_gives_np_rot90s_numbers_and_gradient(k, axes):
    v = Value(STACK)
    turned = _run(_advice(lambda: np.rot90(v, k, axes)), v)
    expected = np.rot90(STACK, k, axes)
    np.testing.assert_array_equal(turned.data, expected)
    weights = np.arange(expected.size, dtype=float).reshape(expected.shape)
    (turned * weights).sum().backward()  # ∂/∂v Σ w·rot90(v) = rot90⁻¹(w), turned back: k turns the other way
    np.testing.assert_array_equal(v.grad, np.rot90(weights, -k, axes))


def test_guard_np_rot90_advice_of_a_matrix_in_numpys_default_plane_is_unchanged():
    v = Value(MATRIX)
    assert _advice(lambda: np.rot90(v)) == "v[:, ::-1].T"
    assert _advice(lambda: np.rot90(v, 3, (0, 1))) == "v[::-1].T"


def test_np_rot90_with_axes_numpy_refuses_gives_no_formula():
    with pytest.raises(TypeError) as raised:
        np.rot90(Value(STACK), 1, (1, -2))  # the same axis twice: numpy's own "Axes must be different"
    assert "(here: " not in str(raised.value)


# --- defect: leaky_relu called on integer or boolean arrays: wrong numbers, or numpy's bare error ------------------
# _max_form rounded the slope to the input's dtype: int64(1.5) is 1, so max(x, 1.5x) was taken for leaky ReLU and
# gave 3 at x = 2; a slope that rounds to 0 there (the default 0.01) reached np.finfo(int64): "data type <class
# 'numpy.int64'> not inexact", naming no operation.

INTEGERS = np.array([-3, -1, 0, 2, 5])


@pytest.mark.parametrize("slope", [1.5, 2.0, 0.01, 0.5, 0.0, -0.5, 1.0])
@pytest.mark.parametrize("dtype", [np.int64, np.int8, bool])
def test_the_leaky_relu_op_on_integers_gives_leaky_relus_numbers_in_floats(slope, dtype):
    x = INTEGERS.astype(dtype)
    out = ops.leaky_relu(x, negative_slope=slope)
    numbers = x.astype(np.float64)
    np.testing.assert_array_equal(out, np.where(numbers > 0, numbers, slope * numbers))
    assert out.dtype == np.float64


def test_guard_leaky_relu_on_values_keeps_its_numbers_and_its_float32_rounding():
    x = Value(np.array([-2.0, 3.0], np.float32))
    np.testing.assert_array_equal(functional.leaky_relu(x, 1e-50).data, np.array([-0.0, 3.0], np.float32))
    y = Value(np.array([-2.0, 3.0]))
    out = functional.leaky_relu(y, 1.5)
    np.testing.assert_array_equal(out.data, [-3.0, 3.0])
    out.sum().backward()
    np.testing.assert_array_equal(y.grad, [1.5, 1.0])


# --- defect: the softmax Op on booleans was numpy's bare "boolean subtract" TypeError -------------------------------
# log_softmax and exp take booleans (in float64, as the ops module's forwards say); softmax subtracted the maximum
# from the booleans themselves.

def test_the_softmax_op_on_booleans_is_the_exponential_of_log_softmax():
    mask = np.array([[True, False, True], [False, False, True]])
    numbers = mask.astype(np.float64)
    expected = np.exp(numbers) / np.exp(numbers).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(ops.softmax(mask), expected, rtol=1e-15)
    np.testing.assert_allclose(np.exp(ops.log_softmax(mask)), expected, rtol=1e-15)
