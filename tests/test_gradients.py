"""Every differentiable operation's backward rule against float64 central differences (check_gradients).

One table of cases (tests/helpers_gradient_cases.py) drives one property test: each case is a name, the function of
Values to check, and a strategy drawing its inputs (float64 arrays, 0-d to 3-d, broadcasting pairs, kept off kinks)
and its keyword parameters.  Tolerances are check_gradients' defaults: atol=1e-6, rtol=1e-5.  The same table checks
second derivatives (order=2, half as many draws).  After it, the rules that drawn inputs seldom reach (ties of max
and min, the exponents 0 and 2 of a power), against central differences and closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradient_cases import CASES, Case
from helpers_gradients import central_difference
from helpers_strategies import op_names
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, ops
from tinygrad_edu.autodiff import gradient_and_hessian
from tinygrad_edu.testing import check_gradients


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@given(data=st.data())
def test_gradient_matches_finite_differences(case: Case, data: st.DataObject) -> None:
    inputs, params = data.draw(case.inputs, label="inputs, params")
    check_gradients(lambda *values: case.f(*values, **params), *inputs)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
@settings(max_examples=max(2, settings.default.max_examples // 2))
@given(data=st.data())
def test_second_derivatives_match_finite_differences(case: Case, data: st.DataObject) -> None:
    """Each rule differentiated once more (backward(create_graph=True) runs the vjps on Values): the second
    derivative against central differences of the gradient checked above."""
    inputs, params = data.draw(case.inputs, label="inputs, params")
    check_gradients(lambda *values: case.f(*values, **params), *inputs, order=2)


ONE_EXAMPLE = settings(database=None, phases=[Phase.generate], derandomize=True)


def test_every_op_has_a_case() -> None:
    """The table covers every Op defined in tinygrad_edu.ops (instances and Op factories alike)."""
    defined = {op.name for op in vars(ops).values() if isinstance(op, Op)}
    defined |= {ops.concatenate(1).name, ops.stack(1).name}  # (where is an Op of the module)
    covered = set()
    for case in CASES:
        inputs, params = find(case.inputs, lambda _: True, settings=ONE_EXAMPLE)
        covered |= op_names(case.f(*(Value(x) for x in inputs), **params))
    assert defined - covered == set()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_maximum_splits_the_gradient_evenly_at_a_tie_as_the_central_difference_does(dtype) -> None:
    a_data, b_data = np.array([1.0, 2.0, 3.0], dtype), np.array([2.0, 2.0, 2.0], dtype)
    a, b = Value(a_data), Value(b_data)
    (F.maximum(a, b) * Value([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 5.0, 100.0])  # below, tied, above
    np.testing.assert_array_equal(b.grad, [1.0, 5.0, 0.0])
    assert a.grad.dtype == b.grad.dtype == dtype
    eps = 1e-3  # (max(2 + ε, 2) − max(2 − ε, 2)) / 2ε = ½ on each side of the tie
    central = (np.maximum(2.0 + eps, 2.0) - np.maximum(2.0 - eps, 2.0)) / (2 * eps)
    assert a.grad[1] / 10 == pytest.approx(central, rel=1e-9)
    x = Value(2.0)
    F.maximum(x, x * 1.0).backward()  # a tie with itself: both halves reach x
    assert float(x.grad) == 1.0


# --- rules that the table's drawn inputs reach rarely or never (found by mutation testing: wrong rules that passed) --
@pytest.mark.parametrize("b_data", [np.array(0.0), np.array(2.0), np.array([0.0, 2.0, 1.5])],
                         ids=["b=0", "b=2", "b=[0,2,1.5]"])
@pytest.mark.parametrize("base", [0.5, 2.0])
def test_power_second_derivatives_at_exponents_0_and_2_match_closed_forms(b_data: np.ndarray, base: float) -> None:
    """aᵇ has its own code paths where b = 0 (no aᵇ⁻¹) and b = 2 (slope b·a); their derivatives in a and b must stay
    exact to second order: ∂²/∂a² = b(b − 1)aᵇ⁻², ∂²/∂a∂b = aᵇ⁻¹(1 + b·ln a), ∂²/∂b² = aᵇ(ln a)², element by element."""
    a_data = np.full(b_data.shape, base)
    a, b = Value(a_data), Value(b_data)
    _, hessian = gradient_and_hessian((a ** b).sum(), [a, b])
    a_flat, b_flat = a_data.ravel(), b_data.ravel()
    ln_a, n = np.log(a_flat), b_flat.size
    expected = np.zeros((2 * n, 2 * n))
    expected[:n, :n] = np.diag(b_flat * (b_flat - 1) * a_flat ** (b_flat - 2))
    expected[:n, n:] = expected[n:, :n] = np.diag(a_flat ** (b_flat - 1) * (1 + b_flat * ln_a))
    expected[n:, n:] = np.diag(a_flat ** b_flat * ln_a ** 2)
    np.testing.assert_allclose(hessian, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, False), (0, True), ((0, 1), False)])
def test_max_and_min_split_the_gradient_evenly_between_two_tied_extremes_as_the_central_difference_does(
        name: str, axis, keepdims: bool) -> None:
    """Two tied extremes share the gradient, ½ each, as the central difference finds (the table's drawn inputs
    keep their extremes apart, so ties are checked here).  Every reduction below meets a tie of two."""
    x = np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 0.0], [0.0, 2.0, -1.0]])
    x = x if name == "max" else -x
    reduce = getattr(np, name)
    upstream = np.random.default_rng(0).standard_normal(reduce(x, axis=axis, keepdims=keepdims).shape)
    value = Value(x)
    (getattr(value, name)(axis=axis, keepdims=keepdims) * upstream).sum().backward()
    expected = central_difference(lambda y: float(np.sum(reduce(y, axis=axis, keepdims=keepdims) * upstream)), x, 1e-3)
    np.testing.assert_allclose(value.grad, expected, rtol=1e-9, atol=1e-12)


def test_a_tie_of_three_maxima_gets_a_third_each() -> None:
    """With k tied maxima each gets 1/k (the documented even split): together the whole gradient, which is the
    derivative of max along the direction that raises all of them at once."""
    x = Value([1.0, 5.0, 5.0, 0.0, 5.0])
    (x.max() * 6.0).backward()
    np.testing.assert_allclose(x.grad, [0.0, 2.0, 2.0, 0.0, 2.0], rtol=1e-12)
    step = np.array([0.0, 1.0, 1.0, 0.0, 1.0]) * 1e-3
    assert float(x.grad.sum()) == pytest.approx(6.0 * (np.max(x.data + step) - np.max(x.data - step)) / 2e-3)


def test_at_their_kinks_relu_abs_and_leaky_relu_take_the_documented_slope_as_pytorch_does() -> None:
    """At x = 0 no derivative exists (the central difference gives the average of the one-sided slopes); the rules
    take relu'(0) = [0 > 0] = 0, |x|'(0) = sign(0) = 0 and leaky_relu'(0) = negative_slope, as PyTorch does, so
    that a zero pre-activation (a zero-initialized layer) sends back what it would there."""
    for function, slope_at_zero in [(F.relu, 0.0), (F.abs, 0.0), (lambda v: F.leaky_relu(v, 0.2), 0.2),
                                    (lambda v: F.leaky_relu(v, 0.0), 0.0), (lambda v: F.leaky_relu(v, 2.0), 2.0)]:
        x = Value([0.0, -1.0, 1.0])
        function(x).sum().backward()
        assert x.grad[0] == slope_at_zero
