"""check_gradients on inputs of very different scales: false alarms (a right gradient reported wrong because of the
step or the tolerance), false passes (a planted wrong vjp accepted), and whether the report says which."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient
from tinygrad_edu.testing.strategies import arrays

# x² with planted wrong vjps: off by 1e-3 relative, and right only for x ≥ 0 (2|x| instead of 2x)
OFF = Op("square_off", lambda x: x * x, lambda g, out, x: g * 2 * x * (1 + 1e-3))
WRONG_FOR_NEGATIVES = Op("square_abs", lambda x: x * x, lambda g, out, x: g * 2 * np.abs(x))
FORGOT_THE_2 = Op("square_half", lambda x: x * x, lambda g, out, x: g * x)
POINT = np.array([0.5, -1.3, 2.1])


def _failure(f, *inputs, **settings) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, **settings)
    return str(caught.value)


# --- defects ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("settings", "step"), [({}, 1e-6), ({"eps": 3e-7}, 3e-7)])
def test_failure_header_names_the_step(settings, step):
    header = _failure(lambda v: FORGOT_THE_2(v).sum(), POINT, **settings).splitlines()[0]
    assert f"eps={step:g}" in header


def test_second_order_failure_header_names_its_step():
    # a vjp that steps out of the graph (reads .data): its second derivative is 0, not 6x
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * np.asarray(getattr(x, "data", x)) ** 2)
    header = _failure(lambda v: cube(v).sum(), POINT, order=2).splitlines()[0]
    assert "order 2" in header and "eps=1e-05" in header


def test_report_says_when_elements_pass_on_atol_alone():
    x = POINT * 1e-8
    report = check_gradients(lambda v: WRONG_FOR_NEGATIVES(v).sum(), x)  # gradients ~1e-8 < atol=1e-6: it passes
    assert report.max_rel_error[0] > 1.0  # (the sign is wrong at the negative element)
    assert "1 element(s) agree only within atol" in repr(report)
    off = check_gradients(lambda v: OFF(v).sum(), x)
    assert "3 element(s) agree only within atol" in repr(off)


def test_report_of_a_right_gradient_at_small_scale_makes_no_atol_remark():
    report = check_gradients(lambda v: (v * v).sum(), POINT * 1e-8)
    assert "within atol" not in repr(report)
    np.testing.assert_allclose(report.analytic[0], 2 * POINT * 1e-8, rtol=1e-12)


def test_rounding_note_suggests_a_step_that_works():
    x = POINT * 1e6
    message = _failure(lambda v: (v * v).sum(), x)  # a right gradient: rounding of f ≈ 6e12 over a step of 2e-6
    assert "within the rounding of f's values" in message
    suggested = re.search(r"larger eps, e\.g\. eps=([0-9.e+-]+)\)", message)
    assert suggested is not None
    report = check_gradients(lambda v: (v * v).sum(), x, eps=float(suggested.group(1)))
    np.testing.assert_allclose(report.analytic[0], 2 * x, rtol=1e-12)
    with pytest.raises(GradientCheckError):  # and at that step a wrong vjp is still caught
        check_gradients(lambda v: OFF(v).sum(), x, eps=float(suggested.group(1)))


# --- guards -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3, 1e5])
def test_vjp_off_by_1e_3_is_caught_at_every_moderate_scale(scale):
    message = _failure(lambda v: OFF(v).sum(), POINT * scale)
    assert "square_off" in message.splitlines()[0]


@given(arrays(5, avoid=(0.0,), margin=1e-2))
def test_vjp_wrong_only_for_negative_inputs_is_caught_exactly_when_one_is_drawn(x):
    f = lambda v: WRONG_FOR_NEGATIVES(v).sum()  # noqa: E731
    if (x < 0).any():
        message = _failure(f, x)
        worst_row = message.splitlines()[3].split()
        assert x[int(worst_row[1].strip("(,)"))] < 0  # the worst element is a negative one
    else:
        check_gradients(f, x)


@given(st.sampled_from([1e-3, 1.0, 1e3]), st.floats(-2.0, 2.0))
def test_large_curvature_exp_10x_passes_with_a_step_scaled_like_x(scale, t):
    # exp(10·x/scale): the default step 1e-6 is too coarse for scale 1e-3 (a false alarm that says so, see
    # test_step_too_large...), a step of 1e-6·scale fits every scale
    x = np.array([t * scale])
    f = lambda v: (v * (10.0 / scale)).exp().sum()  # noqa: E731
    expected = 10.0 / scale * np.exp(10.0 * x / scale)
    report = check_gradients(f, x, eps=1e-6 * scale)
    np.testing.assert_allclose(report.analytic[0], expected, rtol=1e-12)
    np.testing.assert_allclose(numerical_gradient(f, Value(x), eps=1e-6 * scale)[0], expected, rtol=1e-6)


def test_step_too_large_for_log_near_0_is_taken_again_and_passes():
    # log at 5e-4 (eps=1e-4): the difference's own error, not the derivative.  At every order the disagreeing elements
    # are taken again with smaller steps before they are reported: it passes, with the extrapolated 1/x as numeric.
    x = POINT[[0, 2]] * 1e-3
    np.testing.assert_allclose(check_gradients(lambda v: v.log().sum(), x, eps=1e-4).numeric[0], 1 / x, rtol=1e-5)
    report = check_gradients(lambda v: v.log().sum(), POINT[[0, 2]] * 1e-3, eps=1e-6)
    assert max(report.max_rel_error) < 1e-5
    report = check_gradients(lambda v: v.log().sum(), POINT[[0, 2]] * 1e-3, order=2)
    assert report.order == 2 and max(report.max_rel_error) < 1e-5


def test_float32_input_is_checked_in_float64_and_catches_a_wrong_vjp():
    x = np.array([0.25, -1.5, 2.0], dtype=np.float32)
    with pytest.warns(UserWarning, match="float32"):
        report = check_gradients(lambda v: (v * v).sum(), x)
    np.testing.assert_allclose(report.analytic[0], 2 * x.astype(np.float64), rtol=1e-12)
    with pytest.warns(UserWarning, match="float32"), pytest.raises(GradientCheckError):
        check_gradients(lambda v: OFF(v).sum(), x)
