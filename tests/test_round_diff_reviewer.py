"""Guard tests for the behaviour the round-diff review's refactors rely on: the one-argument check that hvp and
stationary_point now share (checks.one_argument), the run-length shapes of an error message (engine._shapes, now
itertools.groupby) and the int64 bounds of an index (now plain ints, not np.iinfo's properties)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff
from tinygrad_edu import functional as F
from tinygrad_edu.calculus import stationary_point


def _two_arguments(w, b):  # type: ignore[no-untyped-def]
    return (w * b).sum()


@pytest.mark.parametrize("call, where, like, advice", [
    (lambda: autodiff.hvp(_two_arguments, np.ones(2), np.ones(2)), "hvp", "x", "join the arrays into one vector"),
    (lambda: stationary_point(_two_arguments, [1.0, 2.0]), "stationary_point", "start", "lambda p: f(p[0], p[1])"),
])
def test_a_function_of_two_arguments_is_told_how_to_take_one(call, where, like, advice) -> None:
    with pytest.raises(TypeError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{where}: f is called with one Value, shaped like {like}, but f(w, b) cannot take it")
    assert advice in message and "functools.partial" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_function_of_one_argument_keeps_its_own_type_error() -> None:
    def f(x: Value) -> Value:
        raise TypeError("my own mistake")

    with pytest.raises(TypeError, match="^my own mistake$"):
        autodiff.hvp(f, np.ones(2), np.ones(2))


def test_a_join_error_writes_a_run_of_one_shape_once_and_short_runs_in_full() -> None:
    values = [Value(np.ones(2), requires_grad=True)] * 5 + [Value(np.ones((2, 3)))] * 2 + [Value(np.ones(2))]
    with pytest.raises(ValueError) as caught:
        F.concatenate(values)
    # (since round 38 the axis is the join's setting, named with the shapes as an axis of sum's is)
    assert str(caught.value).endswith("(input shapes (2,) ×5 and (2, 3) and (2, 3) and (2,); axis=0)")


@pytest.mark.parametrize("index", [2 ** 63, np.uint64(2 ** 63), -2 ** 63 - 1, np.array([0, 2 ** 63], dtype=object)])
def test_an_index_beyond_int64_is_out_of_bounds(index) -> None:
    with pytest.raises(IndexError, match="out of bounds for a Value of shape \\(3,\\)"):
        Value(np.arange(3.0))[index]


@pytest.mark.parametrize("index", [2 ** 63 - 1, -2 ** 63])
def test_an_index_at_the_int64_bounds_is_numpy_s_own_out_of_range(index: int) -> None:
    with pytest.raises(IndexError) as caught:
        Value(np.arange(3.0))[index]
    assert "64-bit" not in str(caught.value)
