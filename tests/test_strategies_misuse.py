"""Misuse of the hypothesis strategies found by exploratory testing: requests that cannot be met are refused when
the strategy is made, naming arrays and the arguments, instead of drawing NaN or failing a health check later."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu.testing.strategies import arrays

DRAWS = settings(database=None, derandomize=True, max_examples=30, deadline=None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kinks_whose_margins_together_cover_the_range_are_refused(dtype):
    """Each margin alone leaves room in [-1, 1]; together they leave none (was: FailedHealthCheck on filtering)."""
    with pytest.raises(ValueError, match=r"arrays: no room in \[-1.*, 1.*\] at distance 0.6 from \(-0.5, 0.5\)"):
        arrays(min_value=-1.0, max_value=1.0, avoid=(-0.5, 0.5), margin=0.6, dtype=dtype)
    dense = tuple(np.arange(-1.0, 1.01, 0.0015))  # 0.0015 apart, each with a margin of 0.001
    with pytest.raises(ValueError, match="arrays: no room"):
        arrays(min_value=-1.0, max_value=1.0, avoid=dense, margin=0.001, dtype=dtype)


def test_kinks_that_leave_room_between_them_still_draw():
    @DRAWS
    @given(arrays((4,), min_value=-1.0, max_value=1.0, avoid=(-0.5, 0.5), margin=0.45))
    def inside(x):
        assert np.all((np.abs(x + 0.5) >= 0.45) & (np.abs(x - 0.5) >= 0.45) & (np.abs(x) <= 1.0))
    inside()


def test_a_min_gap_over_a_range_wider_than_the_largest_float_is_refused():
    """max_value − min_value overflows to inf: the elements came out NaN."""
    with pytest.raises(ValueError, match=r"arrays: with min_gap.*\[-1e\+308, 1e\+308\]"):
        arrays((5,), min_value=-1e308, max_value=1e308, min_gap=1.0)


def test_a_min_gap_too_wide_for_the_smallest_drawn_shape_is_refused():
    """Seven elements 1 apart fit into [-3, 3], a 3 × 3 matrix (min_dims=2, min_side=3) does not: said when made."""
    with pytest.raises(ValueError, match=r"arrays: min_gap=1.0 fits at most 7 elements.*min_dims=2, min_side=3"):
        arrays(min_gap=1.0, min_dims=2, min_side=3)
