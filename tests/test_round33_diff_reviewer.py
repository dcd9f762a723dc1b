"""Round 33's whole change read as one: where two of its fixes meet (the engine's and functional's rules for the
dtype a Python number takes among several inputs), and guards for what the round's changes promise."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, engine
from tinygrad_edu import functional as F

# numpy's own answer is the oracle: np.stack of the same numbers (a float32 scalar for the Value)
_PROMOTING = [pytest.param(np.array(2), id="int64 array"),
              pytest.param(np.array(2.0, dtype=">f8"), id="big-endian float64 array"),
              pytest.param(np.uint32(2), id="uint32 scalar")]


@pytest.mark.parametrize("other", _PROMOTING)
def test_a_number_among_inputs_takes_numpys_promoted_dtype(other: np.ndarray) -> None:
    x32 = Value(np.float32(1.0))
    joined = F.stack([x32, other, 0.1])
    expected = np.stack([np.float32(1.0), other, 0.1])
    assert joined.dtype == expected.dtype
    np.testing.assert_array_equal(joined.data, expected)  # 0.1 itself, not float32's 0.10000000149


def test_a_tree_of_joins_gives_what_one_join_gives() -> None:
    x32 = Value(np.float32(1.0))
    few = F.stack([x32, np.array(2), 0.1])
    many = F.stack([x32, np.array(2), 0.1] * 20)
    np.testing.assert_array_equal(many.data[:3], few.data)


def test_a_promoted_number_leaves_the_gradient_of_the_float32_value_exact() -> None:
    x32 = Value(np.float32(1.5))
    weights = np.array([3.0, 5.0, 7.0])
    (F.stack([x32, np.array(2), 0.1]) * weights).sum().backward()
    assert x32.grad.dtype == np.float32  # ∂/∂x of 3x + 10 + 0.7: 3, in x's own dtype
    assert x32.grad == 3.0


def test_float32_alone_keeps_its_numbers_in_float32() -> None:
    # the common case the fix must not change: a number beside float32 Values only (or a small int array) is float32
    x32 = Value(np.array([1.0, 2.0], dtype=np.float32))
    assert (x32 * 0.1).dtype == np.float32
    np.testing.assert_array_equal((x32 * 0.1).data, np.array([1.0, 2.0], np.float32) * np.float32(0.1))
    assert F.stack([Value(np.float32(1.0)), np.array(2, np.int8), 0.1]).dtype == np.float32


def test_local_gradients_are_arrays_of_their_own() -> None:
    # round 33: local_gradients hands out copies, so summing into one cannot change another or the upstream
    w, a = Value(np.array([0.5, 1.5])), Value(np.array([2.0, 3.0]))
    z = w + a
    upstream = np.array([1.0, 1.0])
    (i, _, gw), (j, _, ga) = engine.local_gradients(z, upstream)
    gw += 10.0
    np.testing.assert_array_equal(ga, [1.0, 1.0])
    np.testing.assert_array_equal(upstream, [1.0, 1.0])


def test_a_constant_seen_through_parents_is_read_only_and_the_gradient_stays() -> None:
    w = Value(np.array([1.0, 2.0]))
    y = w * np.array([3.0, 4.0])
    constant = y.parents[1]
    with pytest.raises(ValueError):
        constant.data[0] = 100.0
    y.sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])  # ∂Σ(w·c)/∂w = c, unchanged
