"""An engineer property-testing the gradients of her own functions with tinygrad_edu.testing: torch's and MyGrad's
gradient-check keywords, and the checks of broadcasting, ties and derivatives of derivatives she relies on."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu import functional as F
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient
from tinygrad_edu.testing.strategies import arrays, arrays_for, broadcastable_shapes, matmul_shapes

X = np.array([0.5, -1.3, 2.1])
F_KEYWORD_ADVICE = "f's own keyword arguments"  # what a keyword meant for f is told


def _type_error(call, *args, **kwargs) -> str:
    with pytest.raises(TypeError) as caught:
        call(lambda v: (v * v).sum(), *args, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("keyword", ["check_batched_grad", "check_undefined_grad", "check_forward_ad",
                                     "check_backward_ad", "masked", "grad_outputs", "gen_non_contig_grad_outputs",
                                     "check_rev_over_rev"])
def test_torch_gradcheck_keywords_are_named_as_torch_settings_not_f_keywords(keyword):
    message = _type_error(check_gradients, X, **{keyword: False})
    assert message.startswith(f"check_gradients: there is no argument {keyword}= (another library's name)")
    assert F_KEYWORD_ADVICE not in message and "partial" not in message


@pytest.mark.parametrize("keyword", ["grad_outputs", "back_grad"])
def test_upstream_under_torch_and_mygrad_names_points_to_upstream(keyword):
    message = _type_error(numerical_gradient, X, **{keyword: np.ones(())})
    assert "upstream=" in message and F_KEYWORD_ADVICE not in message


@pytest.mark.parametrize("call", [check_gradients, numerical_gradient])
@pytest.mark.parametrize("keyword", ["h", "epsilon"])
def test_the_step_under_other_libraries_names_points_to_eps(call, keyword):
    message = _type_error(call, X, **{keyword: 1e-6})
    assert "eps=" in message and F_KEYWORD_ADVICE not in message


def test_a_keyword_that_is_nobodys_setting_is_still_said_to_be_fs():
    # (the guard of the fix above: a keyword for f keeps its advice)
    assert F_KEYWORD_ADVICE in _type_error(check_gradients, X, scale=2.0)


# a custom product whose vjp for b has the wrong sign; b is broadcast, so the engine sums its vjp down to b's shape
FLIPPED = Op("flipped_mul", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: -g * a))


def _summed_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """x summed down to ``shape`` (the closed form of a broadcast input's gradient)."""
    x = x.sum(axis=tuple(range(x.ndim - len(shape))))
    return x.sum(axis=tuple(k for k, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


@given(arrays_for(broadcastable_shapes(2, max_side=3), min_value=0.1, max_value=2.0))
def test_a_sign_error_on_a_broadcast_input_is_caught_for_that_input_only(pair):
    a, b = pair
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda x, y: FLIPPED(x, y).sum(), a, b)
    rows = [row.split() for row in str(caught.value).splitlines()[3:] if row.strip()[:1].isdigit()]
    assert rows and {row[0] for row in rows} == {"1"}
    # d/db Σ a·b is a summed over the axes b is broadcast along; the flipped vjp gives minus that
    expected = _summed_to(np.broadcast_to(a, np.broadcast_shapes(a.shape, b.shape)), b.shape)
    np.testing.assert_allclose(caught.value.numeric[1], expected, rtol=1e-6)
    np.testing.assert_allclose(caught.value.analytic[1], -expected, rtol=1e-12)


@given(arrays((4,), min_value=-2.0, max_value=2.0))
def test_maximum_at_exact_ties_agrees_with_central_differences(a):
    # a tie sampled exactly (b = a) is no false alarm: the engine gives each side half, as the central difference does
    report = check_gradients(lambda x, y: F.maximum(x, y).sum(), a, a.copy())
    np.testing.assert_allclose(report.analytic[0], 0.5, rtol=1e-12)
    np.testing.assert_allclose(report.numeric[1], 0.5, rtol=1e-6)


@given(arrays_for(matmul_shapes(max_side=3), min_value=-1.0, max_value=1.0), st.sampled_from([1, 2, 3]))
def test_orders_1_to_3_of_a_matmul_tanh_pass_and_order_1_has_its_closed_form(pair, order):
    a, b = pair
    report = check_gradients(lambda x, y: (x @ y).tanh().sum(), a, b, order=order)
    assert report.order == order
    if order == 1 and a.ndim == 2 and b.ndim == 2:
        np.testing.assert_allclose(report.analytic[0], (1 - np.tanh(a @ b) ** 2) @ b.T, rtol=1e-10, atol=1e-12)


def test_a_value_held_fixed_is_not_moved_and_the_table_names_the_checked_input_by_its_position():
    mask = Value(np.array([1.0, 0.0, 1.0]), requires_grad=False)
    wrong = Op("half_square", lambda x: x * x, lambda g, out, x: g * x)  # forgot the 2
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda m, x: (wrong(x) * m).sum(), mask, X)
    rows = [row.split() for row in str(caught.value).splitlines()[3:] if row.strip()[:1].isdigit()]
    assert sorted(row[1] for row in rows) == ["(0,)", "(2,)"] and {row[0] for row in rows} == {"1"}
    np.testing.assert_allclose(caught.value.numeric[0], 2 * X * mask.data, rtol=1e-6)
