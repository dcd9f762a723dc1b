"""Edges of the gradient checker and its strategies that a mutation run found untested.

The checker is what users trust to catch a wrong vjp, so these give it deliberately WRONG gradients (off by a
factor, a sign, a transposition, one element, one input) and assert that it fails them, next to the right ones it
must pass; the expected numbers are worked out by hand (x² has slope 2x).  The strategies are asked, with
hypothesis's ``find``, for the cases they promise to draw: 0-d and 3-d arrays, sides of 4 and of 1, the bounds and 0,
unsorted arrays with a gap, as many elements as fit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, find, settings

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient
from tinygrad_edu.testing.strategies import arrays, broadcastable_shapes, shapes

SEARCH = settings(database=None, phases=[Phase.generate], derandomize=True, max_examples=2000)
X = np.array([1.0, 2.0])


def square_times(factor: float = 1.0, *, element_factor: tuple[int, float] | None = None) -> Op:
    """x² (elementwise) whose vjp is ``factor``·2x·g, one element (index, factor) scaled further if given."""
    def vjp(g, out, x):
        slope = 2.0 * factor * x
        if element_factor is None:
            return g * slope
        scale = np.ones(x.shape)
        scale[element_factor[0]] = element_factor[1]
        return g * slope * scale
    return Op("square_times", lambda x: x * x, vjp)


# --- check_gradients fails wrong gradients -----------------------------------------------------------------------
def test_the_right_square_passes_and_its_report_holds_the_slope_2x_on_both_sides():
    report = check_gradients(lambda v: square_times()(v).sum(), X)
    np.testing.assert_allclose(report.analytic[0], 2 * X, rtol=1e-12)
    np.testing.assert_allclose(report.numeric[0], 2 * X, rtol=1e-8)  # (x²'s central difference is exact but rounding)


def test_a_gradient_with_the_wrong_sign_fails():
    """|analytic| = |numeric| everywhere: a check comparing sizes only would pass it."""
    with pytest.raises(GradientCheckError, match="2 of 2 gradient elements"):
        check_gradients(lambda v: square_times(-1.0)(v).sum(), X)


@pytest.mark.parametrize("index", [0, 1])
def test_a_gradient_wrong_in_one_element_fails_whichever_element(index):
    with pytest.raises(GradientCheckError, match="1 of 2 gradient elements"):
        check_gradients(lambda v: square_times(element_factor=(index, 1.01))(v).sum(), X)


def test_a_transposed_gradient_fails():
    """The transpose of a square matrix sent back untransposed: right only for a symmetric upstream gradient."""
    transpose = Op("transpose", lambda x: x.T.copy(), lambda g, out, x: g)  # forgot g.T
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(GradientCheckError):
        check_gradients(transpose, x)
    check_gradients(Op("transpose", lambda x: x.T.copy(), lambda g, out, x: g.T), x)


def test_a_wrong_gradient_of_the_second_input_fails_while_the_first_is_right():
    """Only the second of two inputs, or only one of three, carries the wrong derivative."""
    product = Op("product", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * b))  # ∂/∂b = a
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    with pytest.raises(GradientCheckError, match=r"\n\s+1\s+\(0,\)"):
        check_gradients(lambda u, v: product(u, v).sum(), a, b)
    with pytest.raises(GradientCheckError, match=r"\n\s+1\s+\(1,\)"):
        check_gradients(lambda u, v, w: product(u, v).sum() + (w * w).sum(), a, b, np.ones(2))


@pytest.mark.parametrize("order, eps", [(1, 1e-6), (2, 1e-5), (3, 1e-4)])
def test_the_default_steps_are_the_documented_ones(order, eps):
    assert check_gradients(lambda v: (v ** 4).sum(), X, order=order).eps == eps


def test_the_default_tolerances_are_atol_1e_6_and_rtol_1e_5():
    """|analytic − numeric| ≤ 1e-6 + 1e-5·|numeric|: at x = 0 (slope 0) an error of 5e-7 passes and 5e-6 fails; at
    x = 1, 2 (slopes 2, 4) a relative error of 5e-6 passes (at most 2e-5 against 2.1e-5) and 5e-5 fails."""
    at_zero = np.array([0.0])
    for error, passes in ((5e-7, True), (5e-6, False)):
        shifted = Op("shifted", lambda x: x * x, lambda g, out, x, e=error: g * (2 * x + e))
        if passes:
            check_gradients(lambda v, op=shifted: op(v).sum(), at_zero)
        else:
            with pytest.raises(GradientCheckError):
                check_gradients(lambda v, op=shifted: op(v).sum(), at_zero)
    check_gradients(lambda v: square_times(1 + 5e-6)(v).sum(), X)
    with pytest.raises(GradientCheckError, match="2 of 2"):
        check_gradients(lambda v: square_times(1 + 5e-5)(v).sum(), X)


@pytest.mark.parametrize("factor, passes", [(1.8, False), (1.4, True), (0.6, True), (0.4, False)])
def test_the_relative_tolerance_is_relative_to_the_numeric_derivative(factor, passes):
    """With rtol=0.5 an analytic derivative k·2x passes when |k − 1| ≤ 0.5 (within half the numeric one): 1.8 fails,
    though it is within half of itself (0.8 ≤ 0.5·1.8)."""
    f = square_times(factor)
    if passes:
        check_gradients(lambda v: f(v).sum(), X, rtol=0.5)
    else:
        with pytest.raises(GradientCheckError):
            check_gradients(lambda v: f(v).sum(), X, rtol=0.5)


def test_a_report_gives_the_largest_absolute_and_relative_errors():
    """An analytic 2x·(1 + 2e-6) passes; at x = 2 it is off by 8e-6 (the largest), relatively by 2e-6/(1 + 2e-6)."""
    report = check_gradients(lambda v: square_times(1 + 2e-6)(v).sum(), X)
    assert report.max_abs_error[0] == pytest.approx(8e-6, rel=1e-3)
    assert report.max_rel_error[0] == pytest.approx(2e-6 / (1 + 2e-6), rel=1e-3)


def _constant(x):
    return x.data if isinstance(x, Value) else x


def test_a_wrong_second_derivative_that_uniform_weights_would_sum_away_fails():
    """x₀·x₁ (Hessian [[0, 1], [1, 0]]) with a vjp that adds (x₀ − x₀.data)·(1, −1): 0 in value, so the gradient is
    right, but the recorded graph adds [[1, 0], [−1, 0]] to the Hessian, whose columns sum to 0: weighting the
    gradient's elements equally (rather than randomly) before differentiating again would not see it."""
    swap, extra = np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[1.0, -1.0], [0.0, 0.0]])
    product = Op("product", lambda x: x[0] * x[1],
                 lambda g, out, x: g * (x @ swap + (x - _constant(x)) @ extra))
    x = np.array([0.5, -1.5])
    check_gradients(product, x)
    with pytest.raises(GradientCheckError, match="second-order elements"):
        check_gradients(product, x, order=2)
    right = Op("product", lambda x: x[0] * x[1], lambda g, out, x: g * (x @ swap))
    check_gradients(right, x, order=2)


def test_the_difference_divides_by_the_step_taken_not_by_2_eps():
    """At 1e4 a step of 3e-12 rounds to a multiple of float64's spacing there (1.8e-12): dividing 2x's change by
    2ε instead of by the step actually taken would be off by up to a third; 2x is exact in float64, so the slope
    is exactly 2."""
    x = np.array([1e4, 1e4 + 1.0])
    assert np.all(numerical_gradient(lambda v: (2 * v).sum(), x, eps=3e-12)[0] == 2.0)


def test_a_wrong_vjp_on_the_saved_path_of_an_ordinary_backward_pass_fails():
    """An Op with saving= hands ``saved`` to the vjps of an ordinary backward pass (the one a training step runs)
    and none to a recorded one: order 1 must check the ordinary pass, here wrong (1.5·3x²) though the recorded
    one (3x²) is right."""
    def vjp(g, out, x, saved=None):
        return g * (3 * x ** 2 if saved is None else 1.5 * saved)
    cube = Op("cube", lambda x: x ** 3, vjp, saving=lambda x: (x ** 3, 3 * x ** 2))
    with pytest.raises(GradientCheckError, match="2 of 2 gradient elements"):
        check_gradients(lambda v: cube(v).sum(), X)


@pytest.mark.parametrize("check", [numerical_gradient, check_gradients])
def test_a_step_lost_on_one_side_only_is_a_value_error_not_a_mismatch(check):
    """At 1, float64's spacing is 2.2e-16 above and 1.1e-16 below: 1 + 1e-16 rounds back to 1, 1 − 1e-16 does not."""
    assert 1.0 + 1e-16 == 1.0 and 1.0 - 1e-16 != 1.0
    with pytest.raises(ValueError, match=r"element \(0,\) = 1 does not move by eps=1e-16"):
        check(lambda v: (v * v).sum(), np.array([1.0]), eps=1e-16)


@pytest.mark.parametrize("order", [1, 2])
def test_the_seed_draws_the_random_weights_again(order):
    """f = Σ x³ · (1, 1) at order 1 (two outputs: a random upstream u, gradient 3x²·(u₀ + u₁)) and at order 2 (the
    gradient weighted by a random w, then differentiated: 6x·w); another seed, other weights; the same, the same."""
    def f(v):
        return (v ** 3).sum() * np.ones(2) if order == 1 else (v ** 3).sum()
    x = np.array([1.0, -2.0])
    first, again, other = (check_gradients(f, x, seed=seed, order=order).analytic[0] for seed in (0, 0, 1))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


# --- strategies draw what they promise -----------------------------------------------------------------------------
@pytest.mark.parametrize("wanted", [
    lambda s: len(s) == 0, lambda s: len(s) == 3, lambda s: 4 in s, lambda s: 1 in s and len(s) >= 1,
], ids=["0-d", "3-d", "a side of 4", "a side of 1"])
def test_shapes_and_arrays_draw_every_promised_shape(wanted):
    find(shapes(), wanted, settings=SEARCH)
    find(arrays(), lambda a: wanted(a.shape), settings=SEARCH)


def test_broadcastable_shapes_draw_sides_of_1_which_broadcasting_stretches():
    find(broadcastable_shapes(2, min_dims=1), lambda pair: any(1 in s and max(s) > 1 for s in pair),
         settings=SEARCH)


@pytest.mark.parametrize("value", [-3.0, 3.0, 0.0], ids=["min_value", "max_value", "zero"])
def test_arrays_draw_the_bounds_and_zero(value):
    """[min_value, max_value] is closed, and 0 (the kink of ReLU and abs) is in the default range."""
    find(arrays(), lambda a: value in a, settings=SEARCH)


@pytest.mark.parametrize("low, high", [(2.5, 3.0), (-3.0, -2.5)])
def test_arrays_reach_both_ends_of_the_range(low, high):
    find(arrays(), lambda a: np.any((a >= low) & (a <= high)), settings=SEARCH)


def test_arrays_with_a_min_gap_come_in_any_order_not_sorted():
    """Elements far enough apart are laid out in increasing order and then shuffled."""
    find(arrays((4,), min_gap=0.1), lambda a: not np.all(np.diff(a) > 0), settings=SEARCH)


def test_arrays_with_a_min_gap_draw_as_many_elements_as_fit():
    """0, 0.25, …, 1: five elements 0.25 apart fit into [0, 1], and a vector of five is drawn."""
    found = find(arrays(min_value=0.0, max_value=1.0, min_gap=0.25, max_dims=1, max_side=8),
                 lambda a: a.size == 5, settings=SEARCH)
    np.testing.assert_array_equal(np.sort(found), [0.0, 0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("avoid", [(0.0,), (1.0, 0.0)], ids=["one kink", "the second of two"])
def test_arrays_kept_off_a_kink_reach_the_edge_of_the_margin_on_both_sides(avoid):
    """The margin is kept, not widened, on either side of every kink: elements drawn near 0 are moved to the closest
    points allowed, ±1e-3 here, where a derivative beside a kink is tested hardest."""
    for edge in (1e-3, -1e-3):
        find(arrays(avoid=avoid, margin=1e-3), lambda a, e=edge: e in a, settings=SEARCH)


@pytest.mark.parametrize("dtype", [np.float16, np.int64, np.complex128])
def test_arrays_of_a_dtype_other_than_float64_or_float32_are_refused_when_the_strategy_is_made(dtype):
    with pytest.raises(TypeError, match="arrays: dtype must be np.float64 or np.float32"):
        arrays((2,), dtype=dtype)


# --- bad-input sweep ---------------------------------------------------------------------------------------------
def test_numerical_gradient_of_an_f_that_changes_its_argument_in_place():
    """f(x) = Σ(x + 1)², written with numpy's in-place +=: its slope is 2(x + 1) = [4, 6].  The first call moved the
    point itself by 1, so every later difference was taken around x + 1 (and even x + 2): [6, 8], silently."""
    def f(x):
        x += 1.0
        return (x ** 2).sum()
    assert np.allclose(numerical_gradient(f, X), [4.0, 6.0], rtol=0, atol=1e-6)


def test_an_output_whose_shape_changes_within_the_step_is_refused():
    """x[x > 1] at x = (1, 2) has one element, at x₀ + ε two: the two outputs broadcast into a 'slope' of −5·10⁵."""
    with pytest.raises(ValueError, match=r"^numerical_gradient: f returned shape \(2,\) for inputs moved by ±eps but "
                                         r"\(1,\) for the inputs given"):
        numerical_gradient(lambda x: x[x > 1.0], X, upstream=np.ones(1))
    picked = Op("picked", lambda x: x[x > 1.0], lambda g, out, x: np.where(x > 1.0, 1.0, 0.0) * g.sum())
    with pytest.raises(ValueError, match=r"^check_gradients: f returned shape \(2,\) for inputs moved by ±eps but "
                                         r"\(1,\) for the inputs given"):
        check_gradients(picked, X)


@pytest.mark.parametrize("keyword, advice", [("raise_exception", "a disagreement always raises GradientCheckError"),
                                             ("nondet_tol", "f must be deterministic here"),
                                             ("fast_mode", "every element"), ("modes", "only reverse mode")])
def test_gradcheck_and_check_grads_keywords_say_what_to_write_here(keyword, advice):
    """torch.autograd.gradcheck's and jax's check_grads' keywords got Python's bare "unexpected keyword argument"."""
    with pytest.raises(TypeError, match=rf"^check_gradients: there is no argument {keyword}= \(another library's "
                                        rf"name\); {advice}"):
        check_gradients(lambda x: (x * x).sum(), X, **{keyword: False})
