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


@pytest.mark.parametrize("low, high, min_gap", [(-10.0, 10.0, 1e-6), (990.0, 1000.0, 1e-9)])
def test_a_min_gap_small_beside_the_elements_is_kept_after_rounding(low, high, min_gap):
    """The gap was padded by min_gap · 1e-9 against rounding, less than a unit in the last place of the elements:
    elements near 10 came out 0.99999999925e-6 apart when asked for 1e-6."""
    @DRAWS
    @given(arrays((16,), min_value=low, max_value=high, min_gap=min_gap))
    def spread(x):
        assert np.diff(np.sort(x)).min() >= min_gap
        assert np.all((x >= low) & (x <= high))
    spread()


def test_arrays_for_a_strategy_of_single_shapes_is_refused_not_read_as_several_vectors():
    """arrays_for(shapes()) drew a shape (2, 3) and made of it two vectors, of shapes (2,) and (3,)."""
    from hypothesis import strategies as st

    from tinygrad_edu.testing.strategies import arrays_for, shapes

    for single in (st.just((2, 3)), shapes(min_dims=1)):
        @DRAWS
        @given(arrays_for(single))
        def use(pair):
            pass
        with pytest.raises(TypeError, match=r"arrays_for: shapes_strategy drew \(\d+(, \d+)*,?\), a single shape"):
            use()
    drawn = []
    DRAWS(given(arrays_for(st.just(((2, 3), ())))))(lambda pair: drawn.append(pair))()
    assert drawn and all([a.shape for a in pair] == [(2, 3), ()] for pair in drawn)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_strategy_of_int_shapes_draws_vectors_with_a_min_gap_too(dtype):
    """arrays(st.integers(1, 3)) drew vectors; with min_gap it failed with a bare "'int' object is not iterable"."""
    from hypothesis import strategies as st

    @DRAWS
    @given(arrays(st.integers(1, 3), dtype=dtype, min_gap=0.1))
    def spread(x):
        assert x.ndim == 1 and 1 <= x.size <= 3 and x.dtype == dtype
        assert np.diff(np.sort(x.astype(np.float64))).min(initial=1.0) >= 0.1
    spread()


@pytest.mark.parametrize("drawn, error, words", [
    ((-1,), ValueError, "arrays: shape (-1,) has a negative side"),
    ("ab", TypeError, "arrays: shape must be a tuple of ints"),
    (None, TypeError, "arrays: the shape strategy drew NoneType None, not a shape"),
])
def test_a_drawn_shape_that_is_not_one_is_a_named_error(drawn, error, words):
    """A strategy that drew (-1,) failed deep in numpy ("negative dimensions are not allowed")."""
    from hypothesis import strategies as st

    @DRAWS
    @given(arrays(st.just(drawn)))
    def use(x):
        pass
    with pytest.raises(error) as raised:
        use()
    assert words in str(raised.value)


@pytest.mark.parametrize("dtype", [np.float32, "float64", np.dtype("f4")])
def test_a_dtype_given_where_the_shape_goes_says_to_name_it(dtype):
    """hypothesis.extra.numpy.arrays(dtype, shape) takes the dtype first; here arrays(np.float32) was refused as a
    shape that is not a tuple of ints, with no word about the dtype."""
    from tinygrad_edu.testing.strategies import values

    for strategy in (arrays, values):
        with pytest.raises(TypeError, match=rf"^{strategy.__name__}: shape must be .*; the dtype goes by name, "
                                            rf"{strategy.__name__}\(shape, dtype=\.\.\.\)"):
            strategy(dtype)
    with pytest.raises(TypeError) as raised:
        arrays([1.5])
    assert "dtype" not in str(raised.value)
