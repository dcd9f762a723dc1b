"""An engineer property-testing a custom Op (softsign x/(1+|x|), its vjp by hand, once right and once wrong) and a
custom Module (a gated layer σ(xW₁)·(xW₂)) with tinygrad_edu.testing: check_gradients, its reports and errors, and the
hypothesis strategies (composed with hypothesis's own), at orders 1 and 2, under the profiles of tests/conftest.py.
Gradients are checked against closed forms and finite differences."""

import copy
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.nn import Module
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import arrays, arrays_for, matmul_shapes, values


def _softsign(x):
    return x / (1 + np.abs(x))


def _softsign_slope(x):
    """The closed form of softsign's derivative, 1 / (1 + |x|)²."""
    return 1 / (1 + np.abs(x)) ** 2


SOFTSIGN = Op("softsign", _softsign, lambda g, out, x: g / (1 + np.abs(x)) ** 2)
# deliberate bug: the derivative doubled where x < 0 (right where x > 0)
SOFTSIGN_NEGATIVE_BUG = Op("softsign_negbug", _softsign,
                           lambda g, out, x: g / (1 + np.abs(x)) ** 2 * (1 + (x < 0)))
# deliberate bug: (1 + x)² for (1 + |x|)², whose vjp has a pole at x = −1 where softsign is smooth (slope 1/4)
SOFTSIGN_POLE_BUG = Op("softsign_polebug", _softsign, lambda g, out, x: g / (1 + x) ** 2)


class Gated(Module):
    """σ(x W₁) · (x W₂): a gated linear unit without biases."""

    def __init__(self, w1: np.ndarray, w2: np.ndarray) -> None:
        self.w1, self.w2 = Value(w1), Value(w2)

    def forward(self, x: Value) -> Value:
        return (x @ self.w1).sigmoid() * (x @ self.w2)


def _gated(x, w1, w2):
    """The layer as a function of its input and both weights (what check_gradients differentiates)."""
    layer = Gated(np.zeros(w1.shape), np.zeros(w2.shape))
    layer.w1, layer.w2 = w1, w2
    return layer(x)


@st.composite
def gated_cases(draw, dtype=np.float64):
    """(x, W₁, W₂) of matching random shapes: a batch of 1–3 rows of 1–4 features into 1–3 outputs."""
    batch, n_in, n_out = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return (draw(arrays((batch, n_in), dtype=dtype)), draw(arrays((n_in, n_out), dtype=dtype)),
            draw(arrays((n_in, n_out), dtype=dtype)))


def _table_rows(message: str) -> list[tuple[str, tuple[int, ...]]]:
    """(input, index) of each row of a GradientCheckError's table."""
    rows = []
    for line in message.splitlines():
        match = re.match(r"^\s*(\d+)\s+\(([\d, ]*)\)\s", line)
        if match:
            rows.append((match[1], tuple(int(k) for k in match[2].split(",") if k.strip())))
    return rows


# --- defects -------------------------------------------------------------------------------------------------------

def test_an_infinite_analytic_gradient_is_not_excused_as_the_steps_error():
    with np.errstate(divide="ignore"), pytest.raises(GradientCheckError) as caught:
        check_gradients(SOFTSIGN_POLE_BUG, np.array(-1.0))  # softsign'(−1) = 1/4, the vjp says inf
    message = str(caught.value)
    assert caught.value.analytic[0] == np.inf and caught.value.numeric[0] == pytest.approx(0.25)
    assert "not shown to be wrong" not in message and "too large for these inputs" not in message


def test_a_gradient_check_error_pickles_and_copies_with_its_gradients():
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(SOFTSIGN_NEGATIVE_BUG, np.array([0.5, -1.5]))
    for duplicate in (pickle.loads(pickle.dumps(caught.value)), copy.copy(caught.value)):
        assert type(duplicate) is GradientCheckError and str(duplicate) == str(caught.value)
        np.testing.assert_array_equal(duplicate.analytic[0], caught.value.analytic[0])
        np.testing.assert_array_equal(duplicate.numeric[0], caught.value.numeric[0])


def test_a_strategy_of_dtypes_is_refused_by_name_with_the_way_to_draw_one():
    with pytest.raises(TypeError, match=r"^arrays: dtype must be np.float64 or np.float32, got "
                                        r"sampled_from\(\[float32, float64\]\).*flatmap"):
        arrays(dtype=st.sampled_from([np.float32, np.float64]))


def test_an_op_given_its_inputs_as_one_tuple_gets_the_hint():
    gate = Op("gate", lambda a, b: b / (1 + np.exp(-a)),
              (lambda g, out, a, b: g * out * (1 - 1 / (1 + np.exp(-a))), lambda g, out, a, b: g / (1 + np.exp(-a))))
    with pytest.raises(TypeError, match=r"^check_gradients: f Op\('gate', inputs=2\) cannot be called with the 1 "
                                        r"input\(s\) given; give the inputs one by one"):
        check_gradients(gate, (np.ones(2), np.ones(2)))


# --- guards --------------------------------------------------------------------------------------------------------

@given(arrays(avoid=(0.0,)), st.sampled_from([1, 2]))
def test_a_right_softsign_passes_at_orders_1_and_2_and_matches_its_closed_form(x, order):
    check_gradients(SOFTSIGN, x, order=order)
    report = check_gradients(lambda v: SOFTSIGN(v).sum(), x, order=order)
    if order == 1:
        np.testing.assert_allclose(report.analytic[0], _softsign_slope(x), rtol=1e-12)


@given(arrays(avoid=(0.0,), dtype=np.float32), st.sampled_from([1, 2]))
def test_float32_inputs_drawn_as_documented_raise_no_false_alarm(x, order):
    with pytest.warns(UserWarning, match="float32"):
        report = check_gradients(SOFTSIGN, x, order=order)
    assert report.elements == x.size


@given(arrays(avoid=(0.0,), margin=0.1))
def test_the_deliberate_bug_is_caught_and_the_table_lists_exactly_the_elements_at_fault(x):
    wrong = x < 0
    if not wrong.any():  # the bug only shows where x < 0: elsewhere the check must pass
        check_gradients(SOFTSIGN_NEGATIVE_BUG, x)
        return
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(SOFTSIGN_NEGATIVE_BUG, x, rows=x.size)
    rows = _table_rows(str(caught.value))
    assert {index for _, index in rows} == {tuple(int(k) for k in i) for i in np.argwhere(wrong)}
    assert {name for name, _ in rows} == {"0"}
    assert "softsign_negbug" in str(caught.value).splitlines()[0]


def test_a_failing_property_shrinks_to_one_negative_number():
    def caught(x: np.ndarray) -> bool:
        try:
            check_gradients(SOFTSIGN_NEGATIVE_BUG, x)
        except GradientCheckError:
            return True
        return False

    smallest = find(arrays(avoid=(0.0,)), caught, settings=settings(database=None, derandomize=True))
    assert smallest.shape == () and float(smallest) < 0  # one negative number, where the bug is


@given(gated_cases(), st.sampled_from([1, 2]))
def test_the_gated_layer_passes_at_orders_1_and_2_and_its_weight_gradient_has_the_closed_form(case, order):
    x, w1, w2 = case
    check_gradients(_gated, x, w1, w2, order=order)
    layer = Gated(w1, w2)
    layer(Value(x)).sum().backward()
    gate = 1 / (1 + np.exp(-(x @ w1)))  # ∂/∂W₂ of Σ σ(xW₁)·(xW₂) = xᵀ σ(xW₁)
    np.testing.assert_allclose(layer.w2.grad, x.T @ gate, rtol=1e-12, atol=1e-12)


@given(st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dtype: st.builds(Gated, arrays((3, 2), dtype=dtype), arrays((3, 2), dtype=dtype))))
def test_strategies_compose_with_builds_and_flatmap_for_random_dtypes(layer):
    dtype = layer.w1.dtype
    assert dtype in (np.float32, np.float64) and layer.w2.dtype == dtype
    assert all(np.all(np.abs(w.data) <= 3) for w in layer.parameters())
    out = layer(Value(np.ones((1, 3), dtype=dtype)))
    assert out.dtype == dtype and out.shape == (1, 2)


@given(values(min_value=0.5, dtype=np.float32).filter(lambda v: v.size > 1).map(lambda v: (v, v.data.copy())))
def test_values_drawn_mapped_and_filtered_keep_their_promises(drawn):
    value, numbers = drawn
    assert value.requires_grad and value.dtype == np.float32 and value.size > 1
    assert np.all(numbers >= 0.5) and np.all(numbers <= 3) and np.isfinite(numbers).all()
    value.log().sum().backward()
    np.testing.assert_allclose(value.grad, 1 / numbers, rtol=1e-6)


@given(arrays_for(matmul_shapes(), avoid=(0.0,)))
def test_softsign_of_a_matmul_raises_no_false_alarm_where_a_product_lands_on_its_order_2_kink(pair):
    a, b = pair  # (products of small numbers of both signs often sum to exactly 0: softsign is smooth there at order 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64 in: no warning either
        check_gradients(lambda p, q: SOFTSIGN(p @ q), a, b)
