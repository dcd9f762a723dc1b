"""tinygrad_edu.testing from the side of a user who writes custom Ops and property-tests them: defects found by an
exploratory pass in that role, each test failing before its fix.  Gradients are compared with closed forms or
float64 central differences, never with the package's own gradients.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import arrays, arrays_for, broadcastable_shapes


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _sigmoid_saving(z):
    s = 1 / (1 + np.exp(-z))
    return s, s * (1 - s)  # σ and σ' from one exponential, as the README describes saving=


def _sigmoid_vjp_wrong_when_recomputed(g, out, z, saved=None):
    """Right with saved= (an ordinary backward pass); wrong where saved is None (a recorded pass recomputes it):
    σ(1 + σ) instead of σ(1 − σ)."""
    return g * (out * (1 + out) if saved is None else saved)


sigmoid_recomputed_wrong = Op("sigmoid_recomputed_wrong", _sigmoid, _sigmoid_vjp_wrong_when_recomputed,
                              saving=_sigmoid_saving)


def _central_difference(f, x, eps=1e-6):
    """float64 central differences of a numpy function of one array (summed output)."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (np.sum(f(up)) - np.sum(f(down))) / (2 * eps)
    return grad


def test_a_saving_op_whose_recomputed_vjp_is_wrong_fails_at_order_1():
    """An Op with saving= has two ways to compute its gradient: with saved= (ordinary backward()) and without it
    (backward(create_graph=True), where the vjp recomputes σ' on Values).  A user who plants a bug in the second path
    gets wrong first-order gradients from backward(create_graph=True), yet check_gradients(op, x) reports ok: the
    first-order gradient that half the engine's passes produce is never compared with finite differences.  At
    order=2 the bug shows up only as "second-order elements disagree", which points at the wrong derivative."""
    x = np.array([-1.0, 0.5, 2.0])
    v = Value(x)
    sigmoid_recomputed_wrong(v).sum().backward(create_graph=True)
    truth = _central_difference(_sigmoid, x)
    assert not np.allclose(v.grad.data, truth, rtol=1e-5, atol=1e-6)  # the recorded pass really is wrong
    with pytest.raises(GradientCheckError, match="create_graph"):
        check_gradients(sigmoid_recomputed_wrong, x)


@settings(derandomize=True, max_examples=10, deadline=None, database=None)
@given(arrays(min_value=-4.0, max_value=4.0, min_dims=1, max_dims=2, max_side=3))
def test_property_saving_op_with_wrong_recomputation_is_caught(x):
    """The same planted bug, property-tested as the README suggests: every draw should fail the check at order 1
    (σ(1 + σ) differs from σ(1 − σ) everywhere since σ > 0)."""
    with pytest.raises(GradientCheckError):
        check_gradients(sigmoid_recomputed_wrong, x)


my_log = Op("my_log", np.log, lambda g, out, x: g / x)


def test_f_not_finite_at_the_inputs_is_not_blamed_on_the_step():
    """ln(−1) is nan at the very point given: no eps helps, and element (1,) (x = 2, well inside the domain) is
    listed only because the randomly weighted sum of f's outputs is nan there too.  The note says instead "f is not
    finite a step away from the point (it overflows or leaves its domain within ±eps) ... or a smaller eps", which
    sends the user after the step.  Expected: the message says f is not finite at the inputs given and does not
    suggest a smaller eps."""
    with np.errstate(all="ignore"), pytest.raises((GradientCheckError, ValueError)) as raised:
        check_gradients(my_log, np.array([-1.0, 2.0]))
    message = str(raised.value)
    assert "smaller eps" not in message and "a step away" not in message
    assert re.search(r"not finite at the inputs given", message)


def test_arrays_for_refuses_keywords_arrays_does_not_take_when_called():
    """arrays_for(shapes, **array_kwargs) takes arrays' keywords.  A typo or a hypothesis-style keyword (unique=,
    fill=) or a shape limit (max_dims=, which belongs to the shapes strategy) is accepted silently and only fails
    inside hypothesis's drawing, as "arrays: unexpected keyword argument(s) ['unique']" or "arrays: ['max_dims'] only
    apply when the shape is drawn (shape=None)", naming a function and an argument the user never wrote.  Every
    other strategy of the module refuses a bad argument when called, naming itself."""
    with pytest.raises(TypeError, match=r"^arrays_for: .*unique"):
        arrays_for(broadcastable_shapes(2), unique=True)
    with pytest.raises(TypeError, match=r"^arrays_for: .*max_dims"):
        arrays_for(broadcastable_shapes(2), max_dims=1)


def test_arrays_for_refuses_impossible_bounds_when_called():
    """arrays_for(shapes, min_value=5, max_value=1) is accepted and fails only while hypothesis draws, with an error
    naming arrays; arrays(min_value=5, max_value=1) itself refuses at once."""
    with pytest.raises(ValueError, match=r"^arrays_for: .*min_value"):
        arrays_for(broadcastable_shapes(2), min_value=5.0, max_value=1.0)
