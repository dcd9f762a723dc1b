"""An engineer's own Ops against the vjp contract: what a vjp may return (its type, its shape), and numpy's np.split on
Values. Three Ops written the way the README teaches (a softsign, a two-input hypot that broadcasts, a row
normalisation with saving=), checked against central differences to second order; then the mistakes a vjp's author
makes: a truth value for a gradient, a numpy integer, a gradient wider than its input.

Each test under "the defects" failed before its fix: a vjp returning a Python bool was taken as the number 0 or 1
(np.int64(0) was refused, np.True_ refused with other words); under create_graph=True a vjp's g-less `x > 0` was
blamed on raw arrays; np.split(v, 0) and np.split(v, 2, axis=5) raised numpy's bare ZeroDivisionError and
IndexError, and np.split(v, 2, axis=1.0) its TypeError about tuple indices."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, apply
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import arrays

# --- the engineer's Ops -------------------------------------------------------------------------------------------
# softsign(x) = x / (1 + |x|), softsign'(x) = 1 / (1 + |x|)²
softsign = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + abs(x)) ** 2)
# hypot(a, b) = √(a² + b²): ∂/∂a = a / hypot, ∂/∂b = b / hypot (broadcasting: summed back by the engine)
hypot = Op("hypot", np.hypot, (lambda g, out, a, b: g * a / out, lambda g, out, a, b: g * b / out))


def _normalized_and_norm(x, axis=-1):
    norm = np.sqrt((x * x).sum(axis=axis, keepdims=True))
    return x / norm, norm


def _normalize_vjp(g, out, x, axis=-1, saved=None):
    """y = x / ‖x‖: ∂C/∂x = (g − y·⟨g, y⟩) / ‖x‖, with ‖x‖ kept by the saving forward (computed again on Values)."""
    norm = (x * x).sum(axis=axis, keepdims=True) ** 0.5 if saved is None else saved
    return (g - out * (g * out).sum(axis=axis, keepdims=True)) / norm


normalize = Op("normalize", lambda x, axis=-1: _normalized_and_norm(x, axis)[0], _normalize_vjp,
               saving=_normalized_and_norm)

RNG = np.random.default_rng(37)
X = RNG.standard_normal((3, 4))
ROW = RNG.standard_normal(4)


# --- the engineer's Ops work, to second order -----------------------------------------------------------------
@given(arrays(shape=(2, 3), avoid=(0.0,)))  # (|x|'s kink: softsign'' jumps there)
def test_softsign_agrees_with_central_differences_to_second_order(x) -> None:
    check_gradients(softsign, x, order=2)


@pytest.mark.parametrize("b_shape", [(3, 4), (4,), (1, 4), (3, 1)])
def test_hypot_broadcasts_and_agrees_with_central_differences(b_shape) -> None:
    b = RNG.standard_normal(b_shape) + 2.0  # (away from hypot's kink at the origin)
    check_gradients(hypot, X, b, order=2)


@pytest.mark.parametrize("axis", [-1, 0])
def test_normalize_with_saving_agrees_with_central_differences(axis) -> None:
    weights = np.arange(1.0, 13.0).reshape(3, 4)  # (a weighted sum: the plain sum of unit rows has slope 0)
    check_gradients(lambda x: normalize(x, axis=axis) * weights, X, order=2)


def test_a_gradient_summed_over_an_axis_the_forward_broadcast_is_still_taken() -> None:
    """A reduction of a broadcast product, sum(a·b) over b's missing axis: the vjp returns g·a, of a's shape (3, 4),
    for b of shape (4,), and the engine sums it back (a's rows), as the contract says: the closed form Σᵢ aᵢⱼ."""
    dot = Op("dot", lambda a, b: (a * b).sum(), (lambda g, out, a, b: np.broadcast_to(g * b, a.shape),
                                                 lambda g, out, a, b: g * a))
    a, b = Value(X), Value(ROW)
    dot(a, b).backward()
    np.testing.assert_allclose(b.grad, X.sum(axis=0), rtol=1e-15)
    np.testing.assert_allclose(a.grad, np.broadcast_to(ROW, (3, 4)), rtol=1e-15)


def test_a_gradient_of_a_closure_arrays_shape_with_the_output_is_taken() -> None:
    """A forward that broadcasts its input against a constant of its own: the output (2, 3) and g have the shape
    the input (3,) was stretched to, and g·w, of that shape, is summed back: ∂/∂x of Σ wᵢⱼxⱼ is Σᵢ wᵢⱼ."""
    w = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    scaled = Op("scaled", lambda x: x * w, lambda g, out, x: g * w)
    x = Value([1.0, 2.0, 3.0])
    scaled(x).sum().backward()
    np.testing.assert_array_equal(x.grad, w.sum(axis=0))


# --- the defects --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("truth", [True, False, np.True_, np.False_])
def test_a_vjp_returning_a_truth_value_is_refused_as_a_boolean_array_is(truth) -> None:
    """`x.item() > 0` (g forgotten, and a Python bool made of a 0-d array) is no gradient: refused naming the op, as
    g-less `x > 0` (a boolean array) is, not taken as 1.0 or 0.0."""
    step = Op("my_step", lambda x: (x > 0) * 1.0, lambda g, out, x: truth)
    x = Value(0.5)
    with pytest.raises(TypeError, match=r"^my_step: its vjp returned bool for an input of dtype float64: .*"
                                        r"return g times the local derivative in floats \(g \* \(x > 0\)"):
        step(x).backward()
    assert x.grad is None


def test_the_integer_rule_is_said_in_the_message_and_a_python_int_is_still_taken() -> None:
    """The contract: a Python int is a number written in the vjp (0 for a flat piece), taken; a numpy integer, as an
    array or a single number (np.int64 from a count, an argmax, .astype(int)), was computed from integers and holds
    none of g's fractions: refused, and the message says which is which."""
    counted = Op("counted", np.floor, lambda g, out, x: np.int64(0))
    with pytest.raises(TypeError, match=r"^counted: its vjp returned int64 for an input of dtype float64: .*g \* 0\.0 "
                                        r"where it is flat\); only a Python int written in the vjp \(return 0, "
                                        r"outside create_graph=True\) is taken as that number"):
        counted(Value(2.5)).backward()
    flat = Op("flat", np.floor, lambda g, out, x: 0)
    x = Value(2.5)
    flat(x).backward()
    assert x.grad.dtype == np.float64 and x.grad == 0.0


def test_a_vjp_returning_a_wider_gradient_is_named_by_check_gradients() -> None:
    """A one-input, one-shape Op (input and output (3,)) whose vjp returns (2, 3): backward sums it back, as it sums
    any broadcast (it cannot tell it from a forward that broadcast against an array of its own, the closure above),
    and check_gradients, which compares with the differences, names the Op and both shapes."""
    double = Op("double", lambda x: 2 * x, lambda g, out, x: np.ones((2, 1)) * 2 * g)
    with pytest.raises(GradientCheckError, match=r"vjp for input 0 of Op 'double' returns shape \(2, 3\) for an "
                                                 r"input of shape \(3,\)"):
        check_gradients(lambda x: double(x).sum(), np.array([1.0, 2.0, 3.0]))


@given(st.integers(1, 3), st.integers(1, 3))
def test_broadcast_binary_ops_of_ones_still_sum_back(rows, cols) -> None:
    """(guard) Every broadcast of two inputs the built-ins meet, ones stretched either way, still differentiates:
    ∂(Σ a·b)/∂b sums a over the axes b was stretched along (closed form)."""
    a = Value(np.arange(1.0, rows * cols + 1).reshape(rows, cols))
    b = Value(np.ones((1, cols)))
    (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad, a.data.sum(axis=0, keepdims=True))


def test_np_split_into_zero_parts_names_the_shape_not_a_modulo_by_zero() -> None:
    v = Value(np.arange(6.0))
    with pytest.raises(ValueError, match=r"^np\.split: a Value of shape \(6,\) cannot be split into 0 parts"):
        np.split(v, 0)


@pytest.mark.parametrize("axis", [5, -2])
@pytest.mark.parametrize("split", [np.split, np.array_split])
def test_np_split_along_an_axis_the_value_lacks_names_the_axis_and_shape(split, axis) -> None:
    v = Value(np.arange(6.0))
    with pytest.raises(np.exceptions.AxisError, match=rf"^np\.{split.__name__}: axis {axis} is out of bounds for a "
                                                      r"Value of shape \(6,\) \(1 dimension\)"):
        split(v, 2, axis=axis)


def test_np_split_of_a_number_says_it_has_no_axis() -> None:
    with pytest.raises(IndexError, match=r"^np\.split: axis 0 is out of bounds for a Value of shape \(\) \(0 dim"):
        np.split(Value(1.0), 1)


def test_np_split_by_sections_still_differentiates() -> None:
    """(guard) The pieces' gradients go back to their places: ∂/∂x of Σ (i+1)·pieceᵢ² is 2(i+1)x."""
    x = Value(np.arange(6.0))
    parts = np.split(x, 3)
    sum((part * part * (i + 1)).sum() for i, part in enumerate(parts)).backward()
    np.testing.assert_array_equal(x.grad, 2 * np.repeat([1.0, 2.0, 3.0], 2) * np.arange(6.0))


def test_apply_of_a_wide_vjp_to_a_constant_input_is_not_checked() -> None:
    """(guard) A constant input (no gradient) is skipped: its vjp's shape is never looked at."""
    double = Op("double", lambda x, c: 2 * x + c, (lambda g, out, x, c: 2 * g,
                                                  lambda g, out, x, c: np.ones((2, 1)) * g))
    x = Value([1.0, 2.0, 3.0])
    apply(double, x, np.zeros(3)).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("shape", [(), (3,)])
def test_g_times_zero_is_flat_at_every_order_and_shape_as_the_readme_says(shape) -> None:
    """The README's advice for a flat piece: `g * 0.0` works for an array input and under create_graph (order 2),
    where `return 0` does not; a floor plus a square agrees with central differences (2x, then 2)."""
    floor = Op("my_floor", np.floor, lambda g, out, x: g * 0.0)
    check_gradients(lambda x: floor(x) + x * x, np.full(shape, 2.5), order=2)


def test_check_gradients_still_names_a_wide_vjp_whose_shape_another_input_has() -> None:
    """(guard) y = M @ a with a vjp g[None, :] * M for a: (3, 3) for an input of shape (3,), a length the input M
    has, so backward() takes it (g[:, None] * M, summed, would be Mᵀg, right); its numbers are wrong (gⱼ times M's
    column sums), and check_gradients' note names the vjp and its shape."""
    mv = Op("mv", lambda a, m: m @ a, (lambda g, out, a, m: g[None, :] * m, lambda g, out, a, m: g[:, None] * a))
    with pytest.raises(GradientCheckError, match=r"(?s)vjp for input 0 of Op 'mv' returns shape \(3, 3\) for an "
                                                 r"input of shape \(3,\)"):
        check_gradients(mv, np.array([0.5, -1.3, 2.0]), np.arange(9.0).reshape(3, 3) / 4)


@pytest.mark.parametrize("axis", [1.0, True])
def test_np_split_along_an_axis_that_is_no_int_names_it(axis) -> None:
    """numpy said "tuple indices must be integers or slices, not float"; True (axis 1 to numpy) met swapaxes'
    refusal of a bool: both now name np.split and the axis given."""
    with pytest.raises(TypeError, match=rf"^np\.split: axis must be an int, got {type(axis).__name__} {axis}$"):
        np.split(Value(np.zeros((2, 4))), 2, axis=axis)


@pytest.mark.parametrize("rule", [lambda g, out, x: x > 0, lambda g, out, x: True],
                         ids=["mask", "python bool"])
def test_a_recorded_pass_names_a_truth_value_as_an_ordinary_pass_does(rule) -> None:
    """create_graph=True hands the vjp Values, and `x > 0` of a Value is a plain boolean array: it was told "it
    computes on raw arrays", as if numpy were the fault, where g was forgotten; now the same words as backward()."""
    relu = Op("my_relu", lambda x: np.maximum(x, 0), rule)
    x = Value([1.0, -2.0])
    with pytest.raises(TypeError, match=r"^my_relu: its vjp returned bool for an input of dtype float64: .*"
                                        r"\(g \* \(x > 0\), not \(x > 0\) alone"):
        relu(x).sum().backward(create_graph=True)
