"""An engineer property-testing the gradients of their own functions with tinygrad_edu.testing (round 3): functions
with keyword arguments, numerical_gradient on the same f as check_gradients, kinks at order 2, and vjps that are
wrong for some elements only, where a failure must say which element."""

import contextlib
import functools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient
from tinygrad_edu.testing.strategies import arrays

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (texts checked as numpy prints them)


def failure(f, *inputs, **settings) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, **settings)
    return str(caught.value)


def scaled_sum(a, b, *, scale=2.0):
    return (a * scale + b * b).sum()


def test_a_keyword_argument_for_f_says_how_to_give_it_to_check_gradients():
    a, b = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    with pytest.raises(TypeError, match=r"^check_gradients: there is no argument scale=; .*"
                                        r"functools\.partial\(f, scale=\.\.\.\)"):
        check_gradients(scaled_sum, a, b, scale=3.0)
    report = check_gradients(functools.partial(scaled_sum, scale=3.0), a, b)  # the advice works
    assert np.allclose(report.analytic[0], 3.0) and np.allclose(report.analytic[1], 2 * b)


def test_a_keyword_argument_for_f_says_how_to_give_it_to_numerical_gradient():
    with pytest.raises(TypeError, match=r"^numerical_gradient: there is no argument scale=; .*lambda x: "
                                        r"f\(x, scale=\.\.\.\)"):
        numerical_gradient(lambda v, *, scale=1.0: (v * scale).sum(), np.array([1.0, 2.0]), scale=3.0)


def test_the_check_gradients_settings_keep_their_own_errors_beside_the_advice_for_f():
    """Guard: a misspelt setting still gets 'did you mean', a PyTorch one its own advice, and a call with only
    check_gradients' own keywords works."""
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^check_gradients: there is no argument rtoll=; did you mean rtol=\?$"):
        check_gradients(lambda v: v.sum(), x, rtoll=1e-3)
    with pytest.raises(TypeError, match=r"^check_gradients: there is no argument nondet_tol= \(another library's"):
        check_gradients(lambda v: v.sum(), x, nondet_tol=1e-3)
    assert check_gradients(lambda v: (v * v).sum(), x, rtol=1e-4, order=2).order == 2


def test_numerical_gradient_of_a_value_function_given_an_array_says_to_give_a_value():
    x = np.array([0.5, -1.0, 2.0])
    with pytest.raises(TypeError, match=r"^numerical_gradient: .*no attribute 'relu'.*numerical_gradient\(f, "
                                        r"Value\(x\)\)"):
        numerical_gradient(lambda v: (v.relu() * v).sum(), x)
    # the advice works: relu(x)·x has derivative 2x where x > 0, 0 where x < 0
    assert np.allclose(numerical_gradient(lambda v: (v.relu() * v).sum(), Value(x))[0], np.where(x > 0, 2 * x, 0.0))


def test_numerical_gradient_keeps_an_error_of_f_that_is_not_about_arrays():
    """Guard: an AttributeError of f's own (not an array given where a Value was meant) stays as it is."""
    class Broken:
        pass

    def f(v):
        return Broken().missing + v

    with pytest.raises(AttributeError, match="missing"):
        numerical_gradient(f, np.array([1.0]))


def test_a_kink_at_order_two_is_not_blamed_on_a_vjp_that_reads_data():
    message = failure(lambda v: (v.relu() ** 2).sum(), np.array([0.0, 2.0]), order=2)
    assert "order 2 failed" in message and "sit at a kink" in message
    assert re.search(r"\(0,\)\s+0\s+\S+.*\|", message)  # element (0,) is the row, with its slopes
    assert ".data" not in message


def test_a_vjp_that_reads_data_is_still_named_at_order_two():
    """Guard: away from any kink, a vjp of x³ computed as 3·x.data² (its second derivative seen as 0, not 6x) still
    gets the note that the analytic derivative is 0 where it disagrees."""
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * (x.data if isinstance(x, Value) else x) ** 2)
    x = np.array([1.0, 2.0])
    assert check_gradients(lambda v: cube(v).sum(), x).order == 1  # the first derivative is right
    message = failure(lambda v: cube(v).sum(), x, order=2)
    assert "analytic derivative is 0 wherever it disagrees" in message and "read .data" in message


def _half_forgetful(g, out, x):
    """The vjp of x² that forgets g for negative x only: right for 5 of the 6 elements below."""
    return np.where(x > 0, g * 2 * x, 2 * x)


def test_a_vjp_forgetting_g_for_one_element_is_named_by_that_element():
    square = Op("half_forgetful_square", lambda x: x * x, _half_forgetful)
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, -1.5])
    message = failure(lambda v: square(v).sum(), x)
    assert "element (5,)" in message
    # −2·g gives 2·(−1.5) = −3 there (it ignores g), where −2 times the gradient 2·(−1.5) = −3 would be 6
    assert re.search(r"gave \[-3\.\], not −2 times the gradient \[-3\.\]", message)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _sigmoid_vjp(g, out, z, saved=None):
    """Right with saved=; on Values (a recorded pass), wrong by a factor 2 where z < 0."""
    if saved is not None:
        return g * saved
    if isinstance(z, Value):
        return g * out * (1 - out) * np.where(z.data < 0, 2.0, 1.0)
    return g * out * (1 - out)


def test_a_recorded_pass_wrong_for_one_element_is_named_by_that_element():
    sigmoid = Op("saving_sigmoid", _sigmoid, _sigmoid_vjp, saving=lambda z: (s := _sigmoid(z), s * (1 - s)))
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, -1.5])
    message = failure(lambda v: sigmoid(v).sum(), x)
    assert "backward(create_graph=True)" in message and "element (5,)" in message
    slope = _sigmoid(-1.5) * (1 - _sigmoid(-1.5))  # σ'(−1.5), the closed form
    shown = [float(n) for n in re.findall(r"\[(-?[0-9.e-]+)\]", message)]
    assert np.allclose(shown, [2 * slope, slope, slope], rtol=1e-6)


def test_a_wrong_vjp_of_the_second_input_is_reported_for_that_input_only():
    """Guard: mul whose vjp for b returns g·b (a sign-free slip for g·a): the table names input 1 and its elements,
    never input 0, with the closed forms ∂/∂b Σ a·b = a (numeric) and b (analytic)."""
    mul = Op("slipped_mul", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * b))
    a, b = np.array([1.0, -2.0, 0.5]), np.array([3.0, 0.25, -1.0])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda x, y: mul(x, y).sum(), a, b)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("check_gradients: 3 of 6 gradient elements disagree") and len(lines) == 6
    assert sorted(row.split()[:2] for row in lines[3:]) == [["1", "(0,)"], ["1", "(1,)"], ["1", "(2,)"]]
    assert np.allclose(caught.value.numeric[1], a) and np.allclose(caught.value.analytic[1], b)
    assert np.allclose(caught.value.numeric[0], b) and np.allclose(caught.value.analytic[0], b)


@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.tuples(st.just(dtype), arrays((2, 3), dtype=dtype, min_value=-2.0, max_value=2.0,
                                                   avoid=(0.0, 1.0), margin=0.05, min_gap=0.02))))
def test_kinked_functions_of_drawn_arrays_check_and_the_arrays_keep_their_promises(drawn):
    """Guard: arrays of either dtype stay in their bounds, off the kinks at 0 and 1 and pairwise min_gap apart, so
    |x| + relu(x − 1) + max(x) checks clean against finite differences (float32 ones in float64, with a warning)."""
    dtype, x = drawn
    wide = x.astype(np.float64)
    assert x.dtype == dtype and x.shape == (2, 3)
    assert wide.min() >= -2.0 and wide.max() <= 2.0
    assert np.abs(wide).min() >= 0.05 and np.abs(wide - 1.0).min() >= 0.05
    assert np.diff(np.sort(wide.ravel())).min() >= 0.02
    with pytest.warns(UserWarning, match="float32") if dtype == np.float32 else contextlib.nullcontext():
        check_gradients(lambda v: v.abs().sum() + (v - 1.0).relu().sum() + v.max(), x)
