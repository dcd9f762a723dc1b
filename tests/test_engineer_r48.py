"""Round 48's engineer, property-testing the gradients of their own Ops: what expressions() calls when, what its
refusal quotes, a forward's own KeyError, and which input a failed check's first row belongs to."""

import numpy as np
import pytest

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import expressions


def _notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


# --- item 1: making the strategy calls a vector-taking op's forward once ----------------------------------------------
def test_making_the_strategy_calls_an_op_that_takes_a_vector_once() -> None:
    """x @ x takes a vector but not a 0-d array: the probe tried (), then (2,), calling the forward twice (a counter
    or a print in it showed) before any test ran; it now starts with the vector its advice names."""
    shapes: list[tuple[int, ...]] = []

    def forward(x: np.ndarray) -> np.ndarray:
        shapes.append(x.shape)
        return np.asarray(x @ x)

    dot_self = Op("dot_self", forward, lambda g, out, x: 2 * g * x)
    expressions(extra_ops=[dot_self]).validate()  # (round 50: at its first use, not when made)
    assert shapes == [(3,)]


# --- item 2: the refusal quotes the error of the call its advice names -----------------------------------------------
def test_the_refusal_quotes_the_error_of_the_call_its_advice_names() -> None:
    """The message quoted the last shape's error ((2, 3, 3): "size 18") while its advice calls the op on (3,)."""
    seven = Op("seven", lambda x: x.reshape(7, 7), lambda g, out, x: g.reshape(x.shape))
    with pytest.raises(ValueError, match="on inputs of every shape tried") as caught:
        expressions(extra_ops=[seven]).validate()
    message = str(caught.value)
    advice = message.split("to see why, ")[-1]
    assert advice == "seven(np.linspace(0.1, 0.5, 3))"
    with pytest.raises(ValueError) as pasted:
        eval(advice, {"seven": seven, "np": np})
    assert f"({pasted.value})" in message  # the very error the pasted advice shows
    assert "size 3 " in message and "size 18" not in message


# --- item 3: a forward's own KeyError names its Op --------------------------------------------------------------------
def test_a_forwards_key_error_stays_a_key_error_with_a_note_naming_the_op_and_shapes() -> None:
    table = {"double": 2.0}
    lookup = Op("lookup", lambda x, kind="triple": x * table[kind], lambda g, out, x, kind="triple": g * table[kind])
    with pytest.raises(KeyError) as caught:
        lookup(Value(np.ones((2, 3))))
    assert _notes(caught.value) == "lookup: raised by its forward (input shapes (2, 3))"
    with pytest.raises(ZeroDivisionError) as divided:  # with params: named as the engine's other errors name them
        Op("per", lambda x, n=0: x / (1 / n), lambda g, out, x, n=0: g * n)(Value(np.ones(2)), n=0)
    assert _notes(divided.value) == "per: raised by its forward (input shapes (2,); n=0)"
    assert lookup(Value(np.ones(2)), kind="double").data.tolist() == [2.0, 2.0]  # a good call: untouched


# --- item 4: the header names the input of the first row ----------------------------------------------------------
def test_the_header_names_the_input_the_first_row_belongs_to() -> None:
    """The worst element is y's (index 1 of the second input), but the header said "x = -5.0 in the first row"."""
    mul = Op("my_mul", lambda x, y: x * y, (lambda g, out, x, y: g * y, lambda g, out, x, y: 2 * g * x))
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda a, b: mul(a, b).sum(), np.array([1.0, 2.0]), np.array([3.0, -5.0]))
    header, _, _, first = str(caught.value).splitlines()[:4]
    assert header.endswith("; input 1 at (1,) = -5.0 in the first row:")
    assert first.split()[:4] == ["1", "(1,)", "4", "2"]  # input 1, index (1,): analytic 2·2, numeric x = 2


# --- item 5, P23: f not finite at the inputs themselves, with an infinite analytic column ---------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # (numpy's divide by zero, in the Op under test)
def test_f_infinite_at_the_inputs_is_not_blamed_on_the_step() -> None:
    """x / (n − 2) for n = 2 is ±inf at the inputs themselves: the note blamed f "a step away from the point" and
    advised a smaller eps, which cannot help (the check at eps=1e-9 fails the same way); where the analytic column
    was inf too, the note saying f is not finite at the inputs given was skipped."""
    per = Op("per_rest", lambda x: x / (len(x) - 2), lambda g, out, x: g / (len(x) - 2))
    for eps in (1e-6, 1e-9):
        with pytest.raises(GradientCheckError) as caught:
            check_gradients(lambda v: per(v).sum(), np.array([0.5, -1.0]), eps=eps)
        message = " ".join(str(caught.value).split())
        assert "f is not finite at the inputs given" in message
        assert "or a smaller eps" not in message
