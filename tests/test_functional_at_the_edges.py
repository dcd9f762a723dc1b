"""tinygrad_edu.functional and tinygrad_edu.losses at hard inputs: defects found by an exploratory pass with torch
float64 and mpmath beside them, each test failing before its fix."""

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_gradient_at_huge_finite_inputs_is_zero_without_an_overflow_warning(dtype):
    """tanh'(x) = sech²(x) is exactly 0 (after rounding) for every |x| beyond about 20, and tanh itself computes
    quietly there.  A user whose pre-activations blow up to ±1e308 (float64) or ±3e38 (float32) expects the
    backward pass to give a slope of 0, as torch does (checked), without a numpy "overflow encountered in multiply"
    RuntimeWarning: nothing overflows in the mathematics, only the intermediate 2·|x| of the implementation
    (ops._exp_minus_abs promises "never overflowing")."""
    big = np.finfo(dtype).max
    data = np.array([big, -big, big / 1.5, 1.0], dtype=dtype)
    x = Value(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.tanh(x).backward(np.ones_like(data))
    assert x.grad.dtype == dtype
    # sech²(x) = 4e^(−2|x|)/(1 + e^(−2|x|))²: 0 beyond |x| ≈ 373 in float64; at 1, 1/cosh²(1)
    np.testing.assert_allclose(x.grad, np.array([0.0, 0.0, 0.0, 1 / np.cosh(1.0) ** 2], dtype=dtype), rtol=1e-6)


@pytest.mark.parametrize("row, dtype", [([2**63 - 1, 2**63 - 1, 3], np.int64), ([2**64 - 1, 2, 0], np.uint64)])
def test_cross_entropy_rejects_integer_rows_that_are_not_one_hot_even_when_their_sum_wraps_to_one(row, dtype):
    """The docstring says integer one-hot rows hold a single 1 and zeros elsewhere, and rows such as [1, 1, 0] are
    rejected with "integer one-hot rows must hold a single 1".  A row of huge int64/uint64 counts (corrupted
    labels, or class counts mistaken for one-hot rows) whose sum wraps around to exactly 1 must be rejected the
    same way; it is instead taken silently as the label of its largest entry, giving a finite cost that belongs
    to no valid input."""
    labels = np.array([row], dtype=dtype)
    assert sum(row) != 1  # (Python integers, exact: not a one-hot row)
    with pytest.raises(ValueError, match="one-hot"):
        losses.cross_entropy(Value([[1.0, 2.0, 3.0]]), labels)
