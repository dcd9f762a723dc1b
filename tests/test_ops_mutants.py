"""The gradient rules of ops.py where a mutation pass found them unguarded: Op's argument checks, and the derivative
formulas where they run again on Values (``backward(create_graph=True)``, autodiff's ``grad`` and ``hessian``), from
the forward's saved slope, in float32, along a broadcast shape or at an edge value (±0, NaN, ±inf, tiny and huge).
Derivatives are checked against float64 central differences or exact closed forms.

Mutation-tested: tinygrad_edu/ops.py, 236 hand-made mutants in two batches: 156 on every formula, guard and check
(flipped comparisons, dropped branches, casts and checks, other defaults, formulas written another way), then 80 on
the recorded pass (a vjp using the numbers of g, of an operand or of out as a constant, so that only second
derivatives change), dtypes, broadcasting and edge values.  Screened with the ops.py doctests,
test_engine_ops_mutants.py, test_gradients.py, test_fast_paths.py, then test_engine*.py, test_autodiff*.py,
test_functional_edges.py, test_functional_misuse.py, test_losses*.py, then test_composition.py (which killed one
more).  Killed before this file: 173 of 236 (102 of the first batch, 71 of the second); with it: 207 (131 and 76;
one of them is the fix of the defect below, killed by its test now that the fix is in), the other 29 equivalent.
test_autodiff's test_second_derivative_of_every_op and test_gradients' order=2 table already kill every mutant that
detaches g, an operand or out in a recorded pass; what they missed is pinned below.

Equivalent mutants (no input tells them apart from the original; four were so by construction):
- Op.__call__ without its ndarray shortcut: an array has no ``_apply_op`` either.
- sum_to without its ``1 not in shape`` shortcut, or also summing size-1 axes that were not stretched: the same
  numbers (noted in test_engine_ops_mutants too).
- broadcast_to's vjp returning g unsummed: the engine sums every vjp's result back to the input's shape with the same
  sum_to, in an ordinary pass, a recorded one and local_gradients.
- _power passing a 0-d exponent as an array instead of ``.item()``: numpy's fast scalar power takes 0-d arrays too
  (the same bits and dtype, checked for exponents 0.5, 2, −1 and 3 in float64 and float32).
- _pow_vjp_base without the square shortcut, with 2 written for b in it, or taking it only for a 0-d b: a¹ = a
  exactly, and b is exactly 2 there.
- _matmul_mismatch reading a vector b's inner dimension as b[-1] (its only element, as b[0]).
- _exp_minus_abs scaling by ``scale`` and then by −1 (negation is exact: the same bits).
- σ with np.fmax, or with np.where(x ≥ 0, 1, e), for max(e, [x ≥ 0]) (at NaN the denominator 1 + NaN is NaN
  anyway); x > 0 for x ≥ 0 in _sigmoid or _sigmoid_and_slope (they differ at ±0 only, where e = 1 and
  max(1, 0) = max(1, 1)); σ's vjp ignoring ``saved``, and σ without ``saving=``: the same bits computed again, only
  slower (pinned to the bit below).
- _max_form also for int slopes: of them only 1 lies in (0, 1], where both forms give x and slope 1
  (F.leaky_relu refuses a bool); with ``< 1``: slope 1 by np.where gives the same numbers.
- _mean_vjp without ``max(out.size, 1)``: a mean of a non-empty input is not empty.
- _extreme_vjp summing its mask over ``axis`` as given instead of _axes(axis): numpy takes negative axes, tuples and
  a 0-d input's axis 0 alike.
- _log_softmax of an empty input by np.empty_like (no elements either way); ``shifted >= 0`` for ``== 0`` (shifted
  is ≤ 0 or NaN).
- astype's vjp without its cast back, _larger_share in float64: the engine casts every gradient to its input's
  dtype (the shares 0, ½ and 1 are exact in any).
- reshape's vjp reshaping through the reversed shape first (by construction: the same order).
- concatenate's vjp finding the pieces' places again instead of taking the saved ones (only slower; noted before).
- softmax's vjp as out·g − out·Σ(g·out) for out·(g − Σ g·out): the last bit's rounding only, and no bits are
  promised there.
- relu's slope from out > 0 instead of x > 0, abs's slope times (out == out): the same numbers, NaN included.

Defect found, fixed with its test (which failed before): an Op refuses, when it is made, a vjp that takes too few
arguments, but not a bound method that does: ``_takes_inputs`` reads ``co_argcount`` from the method's code, which
counts ``self``, so ``Op("sq", f, obj.vjp)`` with ``def vjp(self, g, out)`` fails only inside backward ("takes 3
positional arguments but 4 were given"). ``inspect.ismethod(vjp)`` is now added to the count needed.
"""

from __future__ import annotations

import copy
import functools
import pickle
import re
import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, losses, ops
from tinygrad_edu.autodiff import grad, gradient_and_hessian
from tinygrad_edu.testing import numerical_gradient

# --- Op: what a definition must be ------------------------------------------------------------------------------------


def _square_vjp(g, out, x):
    return 2 * g * x


def test_an_op_refuses_a_forward_that_cannot_be_called_by_name():
    with pytest.raises(TypeError, match=r"^Op 'sq': forward must be callable, got int$"):
        Op("sq", 3, _square_vjp)


@pytest.mark.parametrize("vjps, named", [(3, "int"), (None, "NoneType")])
def test_an_op_refuses_vjps_that_are_neither_a_function_nor_a_sequence(vjps, named):
    with pytest.raises(TypeError, match=rf"^Op 'sq': vjps must be a vjp function or a sequence of them \(one per "
                                        rf"input\), got {named}$"):
        Op("sq", np.square, vjps)


def test_an_op_refuses_a_sequence_holding_something_that_is_not_a_vjp():
    with pytest.raises(TypeError, match=r"^Op 'mul': every vjp must be callable, got NoneType$"):
        Op("mul", np.multiply, (lambda g, out, a, b: g * b, None))


class _Doubling:
    """A vjp that is a callable object: no code of its own to read the arguments from."""

    def __call__(self, g, out, x):
        return 2 * g * x


def _scaled(g, out, x, factor):
    return factor * g * x


@pytest.mark.parametrize("vjp", [_Doubling(), functools.partial(_scaled, factor=2.0),
                                 lambda *args: 2 * args[0] * args[2]], ids=["callable object", "partial", "*args"])
def test_an_op_takes_any_callable_vjp_it_cannot_read_or_that_takes_any_number_of_arguments(vjp):
    """Only a function whose code shows too few arguments is refused: a callable object, a functools.partial or a
    vjp taking ``*args`` is accepted, and used."""
    square = Op("sq", np.square, vjp)
    x = Value([3.0, -1.0])
    square(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, -2.0])


def test_a_vjp_that_takes_too_few_arguments_is_named_by_its_qualified_name():
    """The message names the function as Python does in tracebacks: a nested function with its enclosing scope."""

    def slope(g):
        return g

    with pytest.raises(TypeError, match=r"takes fewer$") as raised:
        Op("sq", np.square, slope)
    assert "test_a_vjp_that_takes_too_few_arguments_is_named_by_its_qualified_name.<locals>.slope takes" in str(
        raised.value)


def test_with_saving_a_vjp_without_a_readable_signature_or_taking_any_keyword_is_accepted():
    """saving= needs vjps that can take the keyword ``saved``: a builtin whose signature is unknown is given the
    benefit of the doubt, and ``**params`` takes it."""
    saving = lambda x: (np.square(x), 2 * x)  # noqa: E731
    Op("odd", np.square, max, saving=saving)  # (max has no signature to read)
    square = Op("sq", np.square, lambda g, out, x, **params: g * params["saved"] if "saved" in params else 2 * g * x,
                saving=saving)
    x = Value([3.0, -1.0])
    square(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, -2.0])


def test_with_saving_a_vjp_taking_saved_only_by_position_is_refused():
    """The engine hands ``saved`` by name: a vjp with ``saved`` before ``/`` could not take it."""

    def vjp(g, out, x, saved=None, /):
        return g * saved

    with pytest.raises(TypeError, match=r"^Op 'sq': with saving=, every vjp must take the keyword saved, with a "):
        Op("sq", np.square, vjp, saving=lambda x: (np.square(x), 2 * x))


def test_an_op_is_shown_with_its_name_and_number_of_inputs():
    assert repr(ops.add) == "Op('add', inputs=2)"
    assert repr(ops.sigmoid) == "Op('sigmoid', inputs=1)"
    assert repr(ops.concatenate(3)) == "Op('concatenate', inputs=3)"


def test_an_op_is_its_own_copy_so_a_copied_graph_shares_its_rules():
    """A rule is fixed: copy and deepcopy give the Op itself, and a deep copy of a graph records the same Ops (the
    engine's fast path and the drawings find an operation by which Op it is)."""
    assert copy.copy(ops.mul) is ops.mul and copy.deepcopy(ops.sigmoid) is ops.sigmoid
    x = Value([1.0, 2.0])
    y = ops.sigmoid(x * 2.0)
    copied = copy.deepcopy(y)
    assert copied._op is ops.sigmoid and copied.parents[0]._op is ops.mul  # (.op gives only the name)
    copied.sum().backward()
    expected = 2 * ops.sigmoid_slope(2 * x.data)
    np.testing.assert_allclose(copied.parents[0].parents[0].grad, expected, rtol=1e-15)


def test_an_op_cannot_be_pickled_and_says_what_to_pickle_instead():
    with pytest.raises(TypeError, match=r"^pickle: the operation 'sigmoid' \(its forward and vjps are functions"):
        pickle.dumps(ops.sigmoid)
    with pytest.raises(TypeError, match=r"pickle value.detach\(\)"):
        pickle.dumps(ops.sigmoid(Value([1.0])))


# --- helpers for the derivative tests ---------------------------------------------------------------------------------


def _nth(f, n: int):
    """The n-th derivative of an element-wise ``f``, element by element: grad applied n times (each pass but the
    last runs the rules on Values)."""
    d = f
    for _ in range(n):
        d = grad((lambda inner: lambda x: inner(x).sum())(d))
    return d


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """The same dtype, and the same numbers to the bit (any NaN matching any NaN)."""
    nan = np.isnan(a)
    return a.dtype == b.dtype and np.array_equal(nan, np.isnan(b)) and a[~nan].tobytes() == b[~nan].tobytes()


def _numbers(grad) -> np.ndarray:
    """A gradient's numbers, whether an array or a Value (a recorded pass)."""
    return grad.data if isinstance(grad, Value) else np.asarray(grad)


# --- σ, tanh, softplus: the slopes, saved and recomputed, to the third derivative -------------------------------------
EDGES = [-0.0, 0.0, 1e-8, -3.0, 2.5, 30.0, -30.0, -800.0, 800.0, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoids_saved_slope_is_to_the_bit_the_one_a_recorded_backward_pass_computes_again(dtype):
    """A recorded σ keeps σ'(x) from its forward pass; a recorded backward pass computes it again on Values.  Both
    must be e/(1 + e)² with e = e^−|x| in x's dtype, to the bit, at ±0, far out, ±inf and NaN."""
    data = np.array(EDGES, dtype=dtype)
    w = np.linspace(-2.0, 3.0, data.size).astype(dtype)
    x = Value(data)
    (F.sigmoid(x) * w).sum().backward()
    from_forward = x.grad
    x = Value(data)
    (F.sigmoid(x) * w).sum().backward(create_graph=True)
    recomputed = x.grad.data
    e = np.exp(-np.abs(data))
    expected = w * (e / ((1 + e) * (1 + e)))
    assert from_forward.dtype == recomputed.dtype == dtype
    assert _same_bits(from_forward, recomputed) and _same_bits(from_forward, expected.astype(dtype))


CLOSED_FORMS = {  # f, then f', f'', f''' from σ = 1/(1 + e⁻ˣ) and t = tanh x
    "sigmoid": (lambda v: F.sigmoid(v),
                lambda s, t: s * (1 - s), lambda s, t: s * (1 - s) * (1 - 2 * s),
                lambda s, t: s * (1 - s) * (1 - 6 * s + 6 * s * s)),
    "tanh": (lambda v: F.tanh(v),
             lambda s, t: 1 - t * t, lambda s, t: -2 * t * (1 - t * t),
             lambda s, t: -2 * (1 - t * t) * (1 - 3 * t * t)),
    "softplus": (lambda v: F.softplus(v),
                 lambda s, t: s, lambda s, t: s * (1 - s), lambda s, t: s * (1 - s) * (1 - 2 * s)),
    "sigmoid_slope": (lambda v: ops.sigmoid_slope(v),
                      lambda s, t: s * (1 - s) * (1 - 2 * s), lambda s, t: s * (1 - s) * (1 - 6 * s + 6 * s * s),
                      lambda s, t: s * (1 - s) * (1 - 14 * s + 36 * s * s - 24 * s ** 3)),
    "tanh_slope": (lambda v: ops.tanh_slope(v),
                   lambda s, t: -2 * t * (1 - t * t), lambda s, t: -2 * (1 - t * t) * (1 - 3 * t * t),
                   lambda s, t: 8 * t * (1 - t * t) * (2 - 3 * t * t)),
}


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", list(CLOSED_FORMS))
def test_the_s_shaped_functions_and_their_slopes_have_exact_derivatives_to_the_third(name, order):
    """σ, tanh and softplus, and the slope Ops their rules are written with, differentiated 1 to 3 times: each pass
    but the last runs the rules on Values.  Against the closed forms in σ and tanh."""
    f, *derivatives = CLOSED_FORMS[name]
    x = np.array([-6.0, -2.5, -0.5, 0.0, 0.3, 1.0, 3.0, 7.0])
    s, t = 1 / (1 + np.exp(-x)), np.tanh(x)
    np.testing.assert_allclose(_nth(f, order)(x).data, derivatives[order - 1](s, t), rtol=1e-12, atol=1e-15)



@pytest.mark.parametrize("name, order", [("sigmoid", 2), ("softplus", 3)])
def test_sigmoids_second_derivative_keeps_its_digits_near_zero(name, order):
    """σ''(x) = −σ'(x)·tanh(x/2): near 0 tanh keeps every digit, where 1 − 2σ(x) (the same in exact arithmetic)
    keeps only those of x beyond 2⁻⁵³ (a relative error of 1e-8 at x = 1e-8)."""
    x = np.array([1e-8, -1e-10, 2e-5, -3e-3])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(_nth(CLOSED_FORMS[name][0], order)(x).data, -s * (1 - s) * np.tanh(x / 2),
                               rtol=1e-14)


# --- arithmetic, relu and leaky relu at their edges -------------------------------------------------------------------


def test_a_quotients_slope_in_its_divisor_is_computed_from_the_quotient_without_underflow():
    """∂(a/b)/∂b = −(a/b)/b: −1e100 for a = 1e-300, b = 1e-200, though b² (1e-400) is 0 in float64."""
    a, b = Value(1e-300), Value(1e-200)
    (a / b).backward()
    assert float(b.grad) == pytest.approx(-1e100, rel=1e-15)
    assert float(a.grad) == pytest.approx(1e200, rel=1e-15)


def test_a_quotients_slope_in_its_dividend_divides_by_a_subnormal_divisor_without_overflow():
    """∂C/∂a = g/b: 1e-10/1e-310 = 1e300, where g·(1/b) would overflow to inf (1/1e-310 > the largest float)."""
    a, b = Value(1e-20), Value(1e-310, requires_grad=False)  # (∂C/∂b = −1e-10·1e290/1e-310 overflows)
    with np.errstate(all="raise"):
        ((a / b) * 1e-10).backward()
    assert float(a.grad) == pytest.approx(1e300, rel=1e-12)


def test_relu_passes_nan_on_and_its_slope_there_is_zero_as_its_rule_x_greater_than_zero_says():
    """relu(NaN) is NaN (np.maximum propagates it, as PyTorch's relu does), not the 0 of fmax."""
    x = Value([np.nan, 0.0, -1.0, 2.0])
    y = F.relu(x)
    assert np.isnan(y.data[0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype, slope", [(np.float64, 0.0), (np.float32, 0.0), (np.float32, 1e-50)])
def test_leaky_relu_with_a_slope_of_zero_in_the_inputs_dtype_keeps_plus_infinity(dtype, slope):
    """A slope that is 0 in x's dtype (1e-50 in float32) is outside (0, 1], where max(x, s·x) is the definition:
    there +inf·0 is NaN, and max(inf, NaN) would be NaN where the definition gives x = inf."""
    x = Value(np.array([np.inf, 2.0, -3.0], dtype=dtype))
    with np.errstate(invalid="ignore"):
        y = F.leaky_relu(x, slope)
    assert y.data[0] == np.inf and y.data[1] == 2.0 and y.data[2] == 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])


@pytest.mark.parametrize("dtype, slope", [(np.float64, 0.0), (np.float64, -0.0), (np.float32, 1e-50)])
def test_leaky_relu_with_a_slope_of_zero_is_relu_at_minus_infinity_too(dtype, slope):
    """With s = 0 in x's dtype, s·x is 0 for every x below 0, as relu's: not 0·(−∞) = NaN, and no warning."""
    x = Value(np.array([-np.inf, -3.0, np.nan], dtype=dtype))
    with np.errstate(all="raise"):
        y = F.leaky_relu(x, slope)
    np.testing.assert_array_equal(y.data, F.relu(x).data)
    assert y.dtype == dtype
    y[:2].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


@pytest.mark.parametrize("slope", [0.2, 1.0, 1.5, -0.5])
@pytest.mark.parametrize("create_graph", [False, True])
def test_leaky_relus_slope_at_nan_is_its_negative_slope(slope, create_graph):
    """NaN is not > 0: leaky_relu'(NaN) = s, as the definition's "else s" says (fmax, not maximum, in the max form);
    and for s > 1 the function is x for x > 0, not the larger of x and s·x."""
    x = Value([np.nan, 3.0, -2.0, 0.0])
    y = F.leaky_relu(x, slope)
    np.testing.assert_array_equal(y.data[1:], [3.0, -2.0 * slope, 0.0])
    y.sum().backward(create_graph=create_graph)
    np.testing.assert_array_equal(_numbers(x.grad), [slope, 1.0, slope, slope])


def test_leaky_relus_float32_slope_is_the_one_its_forward_multiplied_by():
    """In float32 the forward computes s·x with s rounded to float32 (a Python float adapts to the array), so the
    slope is float32(s), and g·float32(s) is rounded once in float32: for s = 1.1 (not the max form, s > 1) and
    these upstream gradients, g·1.1 rounded from float64 differs in the last bit."""
    x = Value(np.array([-1.0, -2.0, 3.0], dtype=np.float32))
    w = np.array([-0.12853466, 0.90347016, 0.5408456], dtype=np.float32)
    (F.leaky_relu(x, 1.1) * w).sum().backward()
    expected = w * np.array([1.1, 1.1, 1.0], dtype=np.float32)
    assert x.grad.dtype == np.float32 and x.grad.tobytes() == expected.tobytes()
    assert (w[:2].astype(np.float64) * 1.1).astype(np.float32).tobytes() != expected[:2].tobytes()


def test_leaky_relu_with_a_negative_slope_gives_its_definitions_signed_zero():
    """Outside the max form the value is np.where(x > 0, x, s·x), to the bit: s·0 = −0.0 for s < 0."""
    y = F.leaky_relu(Value([0.0, -0.0, -2.0]), -0.5).data
    np.testing.assert_array_equal(np.signbit(y), [True, False, False])


def test_leaky_relus_rule_called_without_a_slope_uses_the_forwards_default():
    x = Value([-2.0, 3.0])
    y = ops.leaky_relu(x)
    np.testing.assert_array_equal(y.data, [-0.02, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.01, 1.0])


# --- power: a negative exponent of 2, a negative base, the exponent-0 branch at second order --------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_power_of_minus_two_has_the_slope_minus_two_over_x_cubed(create_graph):
    """x⁻² is not a square: its slope is −2x⁻³ (the shortcut b·a is for b = 2 only)."""
    x = Value([1.5, -0.5, 2.0])
    (x ** -2.0).sum().backward(create_graph=create_graph)
    np.testing.assert_allclose(_numbers(x.grad), -2 * x.data ** -3, rtol=1e-15)


def test_the_slope_of_a_power_in_its_exponent_is_nan_at_a_negative_base():
    """∂aᵇ/∂b = aᵇ·ln a: at a = −2 no real aᵇ exists beside b = 3, and ln a is NaN (as in PyTorch); only a = 0 is
    given the slope 0 (aᵇ = 0 for every b > 0)."""
    a, b = Value([-2.0, 2.0, 0.0]), Value([3.0, 3.0, 3.0])
    with np.errstate(invalid="ignore"):
        (a ** b).sum().backward()
    assert np.isnan(b.grad[0])
    np.testing.assert_array_equal(b.grad[1:], [8.0 * np.log(2.0), 0.0])
    np.testing.assert_array_equal(a.grad, [12.0, 12.0, 0.0])


def _power_hessian(a_data, b_data):
    a, b = Value(a_data), Value(b_data)
    with np.errstate(all="ignore"):
        return gradient_and_hessian((a ** b).sum(), [a, b])[1]


def test_a_powers_second_derivatives_beside_a_zero_exponent_survive_a_tiny_base():
    """Where some b = 0 the slope b·aᵇ⁻¹ is chosen element by element between two branches, and the branch not taken
    must stay finite in every element: at a = 1e-310, b = 3 the b = 0 branch's b/a (3e310) would overflow, and its
    0·∞ reach the second derivatives.  Closed forms: ∂²/∂a² = b(b−1)aᵇ⁻², ∂²/∂a∂b = aᵇ⁻¹(1 + b·ln a), ∂²/∂b² =
    aᵇ(ln a)²."""
    hessian = _power_hessian([2.0, 1e-310], [0.0, 3.0])
    expected = np.zeros((4, 4))
    expected[1, 1] = 6e-310                                   # 3·2·a at a = 1e-310 (a subnormal number)
    expected[0, 2] = expected[2, 0] = 0.5                     # 2⁻¹·(1 + 0)
    expected[2, 2] = np.log(2.0) ** 2
    np.testing.assert_allclose(hessian, expected, rtol=1e-12, atol=0)


def test_a_powers_second_derivative_in_the_exponent_is_plus_infinity_where_the_power_overflows():
    """(1e200)² overflows to inf, and so does ∂²/∂b² = aᵇ(ln a)²: +inf, not the NaN of 0·∞ in the b = 0 branch
    beside it; the other element's derivatives stay exact."""
    hessian = _power_hessian([2.0, 1e200], [0.0, 2.0])
    assert hessian[3, 3] == np.inf
    np.testing.assert_allclose(hessian[[0, 2]][:, [0, 2]], [[0.0, 0.5], [0.5, np.log(2.0) ** 2]], rtol=1e-14)


# --- matmul's messages, log and sqrt slopes ---------------------------------------------------------------------------


@pytest.mark.parametrize("a, b, message", [
    ((2, 5), (2, 3, 4), "shapes (2, 5) and (2, 3, 4) are not aligned (5 != 3)"),
    ((4,), (5,), "shapes (4,) and (5,) are not aligned (4 != 5)"),
    ((2, 3), (4,), "shapes (2, 3) and (4,) are not aligned (3 != 4)"),
    ((2, 3, 4), (5, 4, 2), "batch dimensions of shapes (2, 3, 4) and (5, 4, 2) cannot be broadcast together"),
    ((), (3,), "shapes () and (3,): matmul needs at least 1-D operands (use * for scalars)"),
])
def test_matmul_says_which_dimensions_do_not_fit(a, b, message):
    """The inner dimension of b is its second-to-last (its only one for a vector), also for a batch of matrices."""
    with pytest.raises(ValueError, match=f"^matmul: {re.escape(message)}$"):
        Value(np.ones(a)) @ Value(np.ones(b))
    with pytest.raises(ValueError, match=f"^matmul: {re.escape(message)}$"):
        ops.matmul(np.ones(a), np.ones(b))


def test_logs_slope_is_one_over_x_to_the_last_digit_far_from_one_and_its_second_derivative_too():
    """(ln x)' = 1/x, (ln x)'' = −1/x², correctly rounded at 1e±150: e^(−ln x) would be off in the 13th digit."""
    x = np.array([1e150, 1e-150, 3.0, 0.1])
    np.testing.assert_array_equal(_nth(F.log, 1)(x).data, 1 / x)
    np.testing.assert_allclose(_nth(F.log, 2)(x).data, -1 / (x * x), rtol=4e-16)


def test_sqrts_slope_keeps_a_subnormal_upstream_gradient():
    """(√x)' · g = g/(2√x): with g = 5e-324 (the smallest float) and √x = 0.25 that is 1e-323, where halving g first
    would round it to 0."""
    x = Value(0.0625)
    (x.sqrt() * 5e-324).backward()
    assert float(x.grad) == 1e-323


# --- squared_error: the target's side, and a target broadcast over the batch ------------------------------------------


def test_squared_errors_target_gets_the_opposite_slope_to_second_order():
    """C = (1/n) Σ (y − y')² over a batch of n = 2: ∂C/∂y' = −2(y − y')/n, and the Hessian in (y, y') is
    (2/n)·[[I, −I], [−I, I]]."""
    prediction = Value([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    target = Value([[0.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    gradient, hessian = gradient_and_hessian(losses.squared_error(prediction, target), [prediction, target])
    difference = (prediction.data - target.data).ravel()
    np.testing.assert_array_equal(gradient, np.concatenate([difference, -difference]))
    identity = np.eye(6)
    np.testing.assert_array_equal(hessian, np.block([[identity, -identity], [-identity, identity]]))


def test_squared_errors_rule_sums_a_target_broadcast_over_the_batch_back_to_one_row():
    """The Op itself takes a target row broadcast over the n samples: its slope −2(y − y')/n is summed over them,
    as the central difference finds."""
    prediction = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 2.0]])
    target = Value([0.0, 1.0, 1.0])
    ops.squared_error(Value(prediction), target).backward()
    expected = numerical_gradient(lambda t: np.sum((prediction - t) ** 2) / 2, target.data, eps=1e-5)[0]
    np.testing.assert_allclose(target.grad, expected, rtol=1e-9)


# --- reductions and maximum: NaN, ties, the mean's division -----------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_nan_maximum_sends_the_gradient_to_its_nans_only_split_between_them(create_graph):
    """max propagates NaN, and its gradient goes to the NaNs (as in PyTorch), split evenly between two; a row
    without NaN splits it between its tied maxima, as always."""
    x = Value([[1.0, np.nan, 3.0], [np.nan, 2.0, np.nan], [4.0, 4.0, 1.0]])
    (x.max(axis=1) * np.array([1.0, 2.0, 3.0])).sum().backward(create_graph=create_graph)
    np.testing.assert_array_equal(_numbers(x.grad), [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.5, 1.5, 0.0]])
    x = Value([np.nan, -1.0, np.nan, -5.0])
    x.min().backward(create_graph=create_graph)
    np.testing.assert_array_equal(_numbers(x.grad), [0.5, 0.0, 0.5, 0.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_maximum_of_nan_and_a_number_sends_the_gradient_to_the_nan(create_graph):
    """∂max(a, b)/∂a is 1 where a > b, ½ at a tie, and where one is NaN the result is that NaN: it gets the gradient
    (as Value.max sends it; test_maths_r48 has the rule)."""
    a, b = Value([np.nan, 1.0, 2.0, 3.0]), Value([1.0, np.nan, 2.0, 1.0])
    F.maximum(a, b).sum().backward(create_graph=create_graph)
    np.testing.assert_array_equal(_numbers(a.grad), [1.0, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(_numbers(b.grad), [0.0, 1.0, 0.5, 0.0])


@pytest.mark.parametrize("create_graph", [False, True])
def test_means_slope_is_the_upstream_gradient_divided_by_the_count_correctly_rounded(create_graph):
    """∂ mean/∂x = g/n, one correctly rounded division (g·(1/n) rounds twice: −2.5·(1/3) is off by one bit)."""
    w = np.array([0.1, 0.7, -2.5])
    x = Value(np.ones((3, 3)))
    (x.mean(axis=0) * w).sum().backward(create_graph=create_graph)
    np.testing.assert_array_equal(_numbers(x.grad), np.broadcast_to(w / 3, (3, 3)))
    assert w[2] / 3 != w[2] * (1 / 3)


# --- softmax and log_softmax ------------------------------------------------------------------------------------------


def test_softmax_of_rows_without_a_class_or_far_apart_warns_of_nothing():
    """A row of −inf has no softmax (NaN, as in PyTorch), and x − max x = −1e308 − 1e308 overflows only to −inf,
    whose share is 0: neither is worth numpy's "invalid value" or "overflow" warning."""
    x = np.array([[-np.inf, -np.inf], [-1e308, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        probabilities, logs = F.softmax(Value(x)).data, F.log_softmax(Value(x)).data
    np.testing.assert_array_equal(probabilities, [[np.nan, np.nan], [0.0, 1.0]])
    np.testing.assert_array_equal(logs, [[np.nan, np.nan], [-np.inf, 0.0]])


def test_softmax_of_rows_holding_nan_is_nan_without_a_warning():
    """NaN in a row makes the whole row NaN, quietly, also where every entry is NaN (numpy's nanmax would warn of an
    "All-NaN slice")."""
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for function in (F.softmax, F.log_softmax):
            assert np.isnan(function(Value(x)).data).all()


def test_log_softmax_keeps_the_digits_of_a_dominant_class():
    """log softmax([0, −40])₀ = −ln(1 + e⁻⁴⁰) = −e⁻⁴⁰ to the last digits (ln(1 + 4e-18) would be 0); and two tied
    maxima each get −ln 2."""
    np.testing.assert_allclose(F.log_softmax(Value([0.0, -40.0])).data, [-np.exp(-40.0), -40.0], rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(Value([3.0, 3.0, -np.inf])).data, [-np.log(2.0)] * 2 + [-np.inf])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_the_softmax_rules_called_without_an_axis_work_along_the_last_one(name):
    """The Ops' own default axis (−1) holds for the forward and the vjp alike."""
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    w = np.array([[1.0, 2.0, -1.0], [0.5, -3.0, 2.0]])
    value = Value(x)
    (getattr(ops, name)(value) * w).sum().backward()
    forward = getattr(ops, "_" + name)
    expected = numerical_gradient(lambda y: np.sum(forward(y, axis=-1) * w), x, eps=1e-5)[0]
    np.testing.assert_allclose(value.grad, expected, rtol=1e-8)


# --- shape operations -------------------------------------------------------------------------------------------------


def test_the_join_rules_called_without_an_axis_join_along_the_first_as_numpy_does():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    stacked = ops.stack(2)(a, b)
    assert stacked.shape == (2, 2)
    (stacked * np.array([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 2.0])
    np.testing.assert_array_equal(b.grad, [3.0, 4.0])
    a, b = Value([[1.0, 2.0]]), Value([[3.0, 4.0]])
    joined = ops.concatenate(2)(a, b)
    assert joined.shape == (2, 2)
    (joined * np.array([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(a.grad, [[1.0, 2.0]])
    np.testing.assert_array_equal(b.grad, [[3.0, 4.0]])


def test_scatter_keeps_the_dtype_of_what_it_scatters():
    """Indexing's gradient rule, run on Values in a recorded pass, stays in float32 for float32 gradients."""
    g = Value(np.array([1.0, 2.0, 4.0], dtype=np.float32))
    scattered = ops.scatter(g, shape=(3,), key=np.array([0, 0, 2]))
    assert scattered.dtype == np.float32
    np.testing.assert_array_equal(scattered.data, [3.0, 0.0, 4.0])


# --- a defect found on the way (fixed) -----------------------------------------------------------------------------


class _Rules:
    def too_few(self, g, out):
        return g

    def enough(self, g, out, x):
        return 2 * g * x


def test_a_bound_method_that_takes_too_few_arguments_is_refused_when_the_op_is_made():
    """A vjp that cannot take (g, out, x) is refused by Op() rather than inside backward; a bound method's code
    counts ``self``, which the call does not pass."""
    with pytest.raises(TypeError, match=r"^Op 'sq': a vjp is called as vjp\(g, out, \*inputs, \*\*params\), 3 "):
        Op("sq", np.square, _Rules().too_few)


def test_a_bound_method_that_takes_every_input_is_a_vjp():
    square = Op("sq", np.square, _Rules().enough)
    x = Value([3.0])
    square(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0])
