"""Under no_grad() an operation's result is a leaf with numbers of its own, copied from numpy's view (x[::-1], w.T),
so that ``-=`` on it cannot write into the Value it was taken from.  The copy must be laid out as the view, reversed
axes too: numpy computes along a negative stride with other loops than along a positive one, and ``np.exp`` of
−1.19e-7 then differs in the last bit (the thorough composition fuzzer found it: ``x0[::-1, 0, 0].exp()`` gave
0.9999998807907176 recorded and 0.9999998807907174 under no_grad)."""

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad

TINY = -1.192092896e-07  # np.exp of it along a reversed axis rounds the other way


def _numbers(make):
    x = np.full((3, 3, 3), TINY)
    recorded = make(Value(x)).data
    with no_grad():
        unrecorded = make(Value(x)).data
    return recorded, unrecorded


@pytest.mark.parametrize("make", [lambda v: v[::-1, 0, 0].exp(), lambda v: v[0, ::-1, ::-1].exp(),
                                  lambda v: v[:, ::-2].transpose(2, 0, 1).exp(), lambda v: v[::2, 0, 1:].exp()],
                         ids=["reversed", "two reversed", "reversed step, transposed", "forward steps"])
def test_no_grad_gives_the_recorded_numbers_of_a_reversed_view_to_the_bit(make):
    recorded, unrecorded = _numbers(make)
    assert recorded.tobytes() == unrecorded.tobytes()


def test_the_leaf_of_a_reversed_view_owns_its_numbers():
    """Guard: -= on it under no_grad changes it, not the Value it was taken from."""
    w = Value(np.arange(6.0))
    with no_grad():
        tail = w[::-1]
        tail -= 1.0
    np.testing.assert_array_equal(w.data, np.arange(6.0))
    np.testing.assert_array_equal(tail.data, np.arange(6.0)[::-1] - 1.0)
