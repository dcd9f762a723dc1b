"""Review of the round's engine-level changes (round 41, second review): the walk's set-up shared by a Jacobian's
or Hessian's rows, the hot-path changes, the note naming a vjp's Op and check_gradients' coarse-values note."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Op
from tinygrad_edu.testing import GradientCheckError, check_gradients

#: x² of x as float64 throughout, but after (x + 10⁷) − 10⁷, which keeps x to about 2·10⁻⁹ only: f's values are
#: rounded far more coarsely than float64 rounds a number of their size, with no float32 anywhere
_SQUARE_AFTER_CANCELLING = Op("square_shifted", lambda x: ((x + 1e7) - 1e7) ** 2, lambda g, out, x: g * 2 * x)


def test_the_coarse_values_note_names_cancellation_in_float64_not_only_float32():
    """The note said the forward or vjp computes in float32 or float16 (or rounds its result) and advised "compute
    in float64 throughout": this f computes in float64 throughout, and its rounding is a cancellation's.  The note
    names that cause too, and the derivative itself (2x) is right: nothing in the message says otherwise."""
    x = np.array([1.7])
    assert ((x + 1e7) - 1e7).dtype == np.float64 and ((x + 1e7) - 1e7)[0] != x[0]  # (the premise: rounded, in f64)
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: _SQUARE_AFTER_CANCELLING(v).sum(), x)
    message = str(caught.value)
    assert "doubles each time the step is halved" in message, message
    note = message[message.index("doubles each time"):]
    assert "cancel" in note, note
    # (since round 43 the note says "shown neither wrong nor right": a wrong derivative can hide in such rounding)
    assert "sit at a kink" not in message and "the derivative is shown neither wrong nor right" in message
    # the analytic slope the table shows is the closed form 2x = 3.4
    assert "3.4" in message


def test_a_float32_forward_still_gets_its_float32_advice():
    """Guard: a forward computed in float32 and cast back keeps the advice against astype(np.float32)."""
    square32 = Op("square32", lambda x: (x.astype(np.float32) ** 2).astype(x.dtype), lambda g, out, x: g * 2 * x)
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: square32(v).sum(), np.array([1.7]))
    message = str(caught.value)
    assert "doubles each time the step is halved" in message and "astype(np.float32)" in message, message


@pytest.mark.parametrize("forward", ["float32", "cancelling"])
def test_a_wrong_derivative_beside_coarse_values_is_not_excused(forward):
    """The note said "the differences measure that rounding, not a slope ... the derivative is not shown to be
    wrong" of a vjp 3x (slope 5.1 at 1.7 where f' = 2x = 3.4): the rounding moves the slopes by about 0.2 (the gap
    between the one-sided ones), which leaves the central difference at 3.4 ± 0.06, far from 5.1.  A disagreement
    many times the rounding's is the derivative's; the note is kept for one within it."""
    rounded = {"float32": lambda x: (x.astype(np.float32) ** 2).astype(x.dtype),
               "cancelling": lambda x: ((x + 1e7) - 1e7) ** 2}[forward]
    wrong = Op("square_rounded", rounded, lambda g, out, x: g * 3 * x)
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: wrong(v).sum(), np.array([1.7]))
    message = str(caught.value)
    row = re.search(r"\(0,\)\s+(\S+)\s+(\S+)", message)
    assert row is not None, message  # the analytic 3x = 5.1 and the differences' 2x = 3.4 (± the rounding's 0.06)
    assert float(row.group(1)) == pytest.approx(5.1) and float(row.group(2)) == pytest.approx(3.4, abs=0.1), message
    assert "doubles each time the step is halved" not in message, message
    assert "not shown to be wrong" not in message, message
