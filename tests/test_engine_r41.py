"""Round 41, custom Ops and their gradient checks: a vjp's own error names its Op, a step check_gradients suggests
passes at every order the check with it runs, and PyTorch's values-and-indices unpacking is refused however max is
spelled."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Op, Value
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.testing import GradientCheckError, check_gradients


def _notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


# --- (b) a custom Op's vjp that raises something other than TypeError or ValueError --------------------------------

_LOOKUP = Op("table_lookup", lambda x: x * 2.0, lambda g, out, x: g * {"two": 2.0}["2"])  # a KeyError of one's own
_BY_ZERO = Op("by_zero", lambda x: x * 3.0, lambda g, out, x: g * (3 / (len(x) - 2)))  # 3 / 0 in Python ints


def test_a_vjp_raising_a_key_error_is_named_by_its_op():
    """A vjp's KeyError went out as Python's bare ``KeyError: '2'`` from the user's lambda, naming no Op (the walk
    names the Op only for TypeError and ValueError).  It stays a KeyError (code catching it keeps working) and gets a
    note naming the Op, the vjp and g's shape."""
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(KeyError) as caught:
        _LOOKUP(x).sum().backward()
    assert "table_lookup: raised by its vjp in the backward pass (g has shape (2,))" in _notes(caught.value)
    assert x.grad is None


def test_a_vjp_raising_zero_division_is_named_by_its_op_in_a_recorded_pass_too():
    """The same in a pass that runs the vjp on Values (hessian): ZeroDivisionError named ``by_zero``."""
    with pytest.raises(ZeroDivisionError) as caught:
        hessian(lambda v: _BY_ZERO(v).sum())(np.array([1.0, 2.0]))
    assert "by_zero: raised by its vjp in the backward pass" in _notes(caught.value)


def test_the_vjp_for_the_second_input_is_named_as_such():
    pair = Op("pair_lookup", lambda x, y: x * y, (lambda g, out, x, y: g * y,
                                                  lambda g, out, x, y: g * [x][1]))  # an IndexError of a list
    x, y = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))
    with pytest.raises(IndexError) as caught:
        pair(x, y).sum().backward()
    assert "pair_lookup: raised by its vjp for input 1 in the backward pass" in _notes(caught.value)


# --- (c) a step suggested at one order must pass at every order the check with it runs ---------------------------

def _large_then_quintic(x, y):
    """A·x + 0.01·x³ + y⁵: the gradient holds A, so from order 2 its rounding hides the slopes and a larger step is
    suggested; y⁵ is differenced exactly enough at order 2 with it (a quartic, Richardson-extrapolated), not at
    order 1 (a quintic over a step of 10)."""
    return (1e12 * x + 0.01 * x ** 3 + y ** 5).sum()


def _suggested(message: str) -> float | None:
    found = re.search(r"(?:e\.g\.|try) eps=([0-9.e+-]+)", message)
    return None if found is None else float(found.group(1))


@pytest.mark.parametrize("scale", [1e11, 1e12, 1e14])
def test_a_suggested_eps_passes_at_every_order_checked(scale):
    """At 1e12 order 2 failed on rounding and suggested eps=10, with which order 1 (run first, with the same eps)
    failed; at 1e14 order 1 suggested eps=0.001, with which order 2 failed.  Both derivatives are right: whatever
    step a failure suggests, the check with it passes (at 1e11 one is still suggested: eps=1 suits both orders)."""
    def f(x, y):
        return (scale * x + 0.01 * x ** 3 + y ** 5).sum()
    x, y = np.array([1e-7]), np.array([1.0])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, x, y, order=2)
    step = _suggested(str(caught.value))
    assert (step is not None) == (scale == 1e11), str(caught.value)
    if step is not None:
        check_gradients(f, x, y, order=2, eps=step)
    else:
        assert "the derivative is not shown to be wrong" in str(caught.value)


def test_a_step_failing_at_another_order_is_said_to():
    """Where no one step suits both orders, the note says which order the rounding's step fails at, instead of
    suggesting it."""
    x, y = np.array([1e-7]), np.array([1.0])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(_large_then_quintic, x, y, order=2)
    message = str(caught.value)
    assert _suggested(message) is None, message
    assert "eps=10, fails the check of order 1, which order=2 runs with the same eps" in message


# --- (e) PyTorch's values and indices, spelt as numpy's function was called ---------------------------------

def test_np_amax_unpacked_in_two_is_refused_in_its_own_name():
    """``_, idx = np.amax(v, 1)`` was refused with ``np.max(v, 1)`` in its message, which is not what was written."""
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=r"max: np\.amax\(v, 1\) gives the maxima alone") as caught:
        _, idx = np.amax(v, 1)
    assert "m = np.amax(v, 1); m[0], m[1]" in str(caught.value)
    with pytest.raises(TypeError, match=r"min: np\.amin\(v, 1\) gives the minima alone"):
        _, idx = np.amin(v, 1)
    with pytest.raises(TypeError, match=r"max: np\.max\(v, 1\) gives the maxima alone"):
        _, idx = np.max(v, 1)


# --- a forward computed in float32 and cast back: no kink, but f's values rounded coarsely --------------------------

#: x², computed in float32 and returned as float64: check_gradients' inputs are float64, and the forward's dtype is
#: theirs, so the rounded-forward note (a narrower dtype returned) does not see it
_SQUARE_IN_FLOAT32 = Op("square32", lambda x: (x.astype(np.float32) ** 2).astype(x.dtype), lambda g, out, x: g * 2 * x)


def test_a_forward_rounded_through_float32_is_not_called_a_kink():
    """The table marked x² at 1.7 as sitting at a kink ("no derivative exists to check", slopes 3.58 | 3.34) and said
    to keep the inputs away from kinks: there is none.  The gap between the one-sided slopes doubles as the step is
    halved, as a fixed rounding over a smaller step does, which a kink's never does; the note says so."""
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda x: _SQUARE_IN_FLOAT32(x).sum(), np.array([1.7]))
    message = str(caught.value)
    assert "kink: slopes" not in message and "sit at a kink" not in message, message
    assert "doubles each time the step is halved" in message and "computes in float32" in message
    assert _suggested(message) is None


def test_a_kink_is_still_a_kink():
    """Guard: relu within the step of its kink, and at its kink beside curvature, keep their kink rows."""
    with pytest.raises(GradientCheckError, match="sit at a kink"):
        check_gradients(lambda x: x.relu().sum(), np.array([1e-8, 1.0]))
    with pytest.raises(GradientCheckError, match="sit at a kink"):
        check_gradients(lambda x: ((x - 0.25).relu() * 3.0 + x * x).sum(), np.array([0.25]))
