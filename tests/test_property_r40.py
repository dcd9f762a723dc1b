"""An engineer property-testing the gradients of their own functions with tinygrad_edu.testing: what the messages of
a failed check advise must hold when followed, and what they say must be true of f."""

import re

import numpy as np
import pytest

from tinygrad_edu.testing import GradientCheckError, check_gradients

SUGGESTED_STEP = re.compile(r"larger eps, e\.g\. eps=([0-9.e+-]+)\)")


def _failure(f, *inputs, **settings) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, **settings)
    return str(caught.value)


# --- the rounding note's larger step ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("f", "x"), [
    (lambda v: (v.tanh() * 1e-2 + 1e12).sum(), np.array([1.0])),          # suggested eps=10000 for x = 1
    (lambda v: ((v * 0.1).exp() + 1e10).sum(), np.array([0.5])),          # suggested eps=100, then a "kink"
    (lambda v: (v.sigmoid() * 1e-3 + 1e11).sum(), np.array([-0.7, 0.4])),
])
def test_the_rounding_note_suggests_no_step_that_fails_when_followed(f, x):
    """A large f with a small, curved slope: the difference cannot resolve it over the default step, and the note says
    so.  The larger step it suggested was chosen for rounding alone (eps=10000 at x = 1 for tanh): followed, the
    check failed again, now blaming a kink or a jump that f does not have.  A step is suggested only where the check
    passes with it; else the note says to check where f is smaller."""
    message = _failure(f, x)
    assert "within the rounding of f's values over the step" in message
    assert "Check at a point where f is smaller" in message
    suggested = SUGGESTED_STEP.search(message)
    if suggested is not None:
        check_gradients(f, x, eps=float(suggested.group(1)))


def test_the_rounding_note_still_suggests_a_step_where_it_works():
    """Σx² + 1e8 at x = 1e-3: the central difference of a quadratic has no error of its own, so a larger step
    resolves the slope, and the note still names one (which passes, and still catches a wrong slope)."""
    f = lambda v: (v * v).sum() + 1e8  # noqa: E731
    message = _failure(f, np.array([1e-3]))
    suggested = SUGGESTED_STEP.search(message)
    assert suggested is not None
    check_gradients(f, np.array([1e-3]), eps=float(suggested.group(1)))


def test_a_rounding_note_without_a_step_says_a_larger_one_does_not_help():
    """Where the step rounding would need fails too, the note no longer sends the reader to "a larger eps"."""
    message = _failure(lambda v: (v.tanh() * 1e-2 + 1e12).sum(), np.array([1.0]))
    assert "a larger eps does not help" in message and "or with a larger eps" not in message


# --- the note on a difference that doubles with half the step --------------------------------------------------------

def test_the_doubling_note_does_not_say_a_continuous_f_jumps():
    """|x| at 1e-7 with eps=1e-6: the central difference, d/ε, doubles with half the step, as across a jump; but |x|
    is continuous there.  The note said "what is differenced jumps there (f itself at order 1 ...)", untrue of f;
    it now names the bend within the step as well (the table marks the kink)."""
    message = _failure(lambda v: v.abs().sum(), np.array([1e-7, 1.0]))
    assert "kink: slopes left | right" in message
    assert "doubles when the step is halved" in message
    assert "bends within the step" in message
