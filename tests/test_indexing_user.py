"""Indexing as a numpy power user does it: negative steps, ``...``, ``None``, several index arrays (numpy's rule that
moves the advanced axes to the front when a slice separates them), repeated indices, masks, and what is refused."""

from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, no_grad
from tinygrad_edu.autodiff import grad, hessian


# --- defects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [1.0, np.float64(1.0), np.float32(1.0), [0.0, 1.0], np.array([0.5, 1.5]),
                                 (1.0, 2), ([0.0, 1.0], 0), np.array(1.0)], ids=repr)
def test_a_float_index_is_a_type_error_naming_it_not_rounded(key: Any) -> None:
    v = Value(np.arange(12.0).reshape(3, 4))
    with pytest.raises(TypeError, match=r"^index: index with ints, .* not with .*a float is not rounded"):
        v[key]
    with no_grad(), pytest.raises(TypeError, match=r"^index assignment: cannot set .*a float is not rounded"):
        v[key] = 0.0
    np.testing.assert_array_equal(v.data, np.arange(12.0).reshape(3, 4))  # the failed assignment changed nothing


@pytest.mark.parametrize("key", ["a", 1j, [None, 0], [slice(None), 0], np.array([0, "a"], dtype=object)], ids=repr)
def test_an_index_of_the_wrong_kind_is_a_type_error_naming_it(key: Any) -> None:
    with pytest.raises(TypeError, match=r"^index: index with ints, slices, or numpy arrays/lists of ints or bools, "
                                        r"not with (str|complex|list|ndarray)"):
        Value(np.ones((3, 4)))[key]


def test_a_ragged_list_index_is_an_error_naming_the_index() -> None:
    with pytest.raises(ValueError, match=r"^index: the list \[\[0\], \[1, 2\]\] is not an array of indices"):
        Value(np.ones((3, 4)))[[[0], [1, 2]]]


# --- guards -----------------------------------------------------------------------------------------------------
def test_out_of_range_and_integer_indices_keep_their_kinds_and_iteration_still_ends() -> None:
    v = Value(np.arange(6.0).reshape(3, 2))
    for key in (3, -4, [0, 3], (0, 2), np.array([-4])):
        with pytest.raises(IndexError, match=r"^index: index -?\d+ is out of bounds"):
            v[key]
    np.testing.assert_array_equal(v[np.int8(-1)].data, [4.0, 5.0])
    np.testing.assert_array_equal(v[np.array([2, 0], dtype=np.uint8), 1].data, [5.0, 1.0])
    np.testing.assert_array_equal(v[[]].data.shape, (0, 2))  # an empty list is an empty integer index
    assert [row.data.tolist() for row in v] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]


def test_second_derivatives_through_repeated_indices_add_up() -> None:
    """f = Σ x[[0, 0, 2]]³ + x[::-2]·x[:1]: x0 is picked twice, so ∂²f/∂x0² = 2·6x0 (+ the cross terms)."""
    x0 = np.array([0.5, -1.5, 2.0])

    def f(x: Any) -> Any:
        return (x[[0, 0, 2]] ** 3).sum() + (x[::-2] * x[:1]).sum()

    # f = 2x0³ + x2³ + x2·x0 + x0²
    expected = np.array([[12 * x0[0] + 2, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, 0.0, 6 * x0[2]]])
    np.testing.assert_allclose(hessian(f)(x0).data, expected, rtol=1e-12)
    gradient = grad(f)(x0).data
    np.testing.assert_allclose(gradient, [6 * x0[0] ** 2 + x0[2] + 2 * x0[0], 0.0, 3 * x0[2] ** 2 + x0[0]])
    np.testing.assert_allclose(gradient, central_difference(lambda a: float(f(Value(a)).data), x0, 1e-6), rtol=1e-6)


def test_a_mask_from_comparing_values_picks_and_scatters_back() -> None:
    x = Value([[-1.0, 2.0], [3.0, -4.0]])
    positive = x[x > 0]
    np.testing.assert_array_equal(positive.data, [2.0, 3.0])
    (positive * positive).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 4.0], [6.0, 0.0]])
    nothing = Value([1.0, 2.0])
    nothing[nothing > 5].sum().backward()  # an all-False mask: an empty pick, a zero gradient
    np.testing.assert_array_equal(nothing.grad, [0.0, 0.0])


@st.composite
def _keys(draw: Any) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    """A shape and a key of several index arrays (broadcasting against each other, with repeats), slices with
    negative steps, None and ``...``: numpy moves the advanced axes to the front when a slice separates them."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    index_shape = draw(st.sampled_from([(), (3,), (2, 1), (1, 3)]))
    key: list[Any] = []
    for n in shape:
        kind = draw(st.sampled_from(["array", "slice", "int", "none"]))
        if kind == "array":
            picks = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(index_shape)),
                                  max_size=int(np.prod(index_shape))))
            key.append(np.array(picks, dtype=np.int64).reshape(index_shape))
        elif kind == "slice":
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            key.append(slice(draw(st.none() | st.integers(-n - 1, n)), draw(st.none() | st.integers(-n - 1, n)), step))
        elif kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        else:
            key.extend([None, slice(None)])
    if draw(st.booleans()):
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    return shape, tuple(key)


@given(_keys(), st.integers(0, 2 ** 32 - 1))
def test_mixed_advanced_and_basic_indexing_matches_numpy_and_its_gradient_counts_each_pick(case: Any,
                                                                                        seed: int) -> None:
    shape, key = case
    data = np.random.default_rng(seed).normal(size=shape)
    expected = data[key]
    x = Value(data)
    picked = x[key]
    assert picked.shape == expected.shape
    np.testing.assert_array_equal(picked.data, expected)
    weights = np.random.default_rng(seed + 1).normal(size=expected.shape)
    (picked * weights).sum().backward()
    # ∂/∂x of Σ w·x[key]: each position gets the weights of every place it was picked to (by counting, not add.at)
    positions = np.arange(data.size).reshape(shape)[key]
    counted = np.bincount(positions.ravel(), weights=weights.ravel(), minlength=data.size).reshape(shape)
    np.testing.assert_allclose(x.grad, counted, rtol=1e-12, atol=1e-15)


def test_index_assignment_under_no_grad_broadcasts_and_a_repeated_index_keeps_the_last_write() -> None:
    w = Value(np.zeros((2, 3)), label="w")
    with no_grad():
        w[:, ::-2] = [[1.0], [2.0]]  # a column broadcast into a negative-step slice
        w[[0, 0, 1], [1, 1, 1]] = [5.0, 6.0, 7.0]  # numpy's rule: the last write to (0, 1) stays
        w[w.data > 5.5] *= 10.0
    np.testing.assert_array_equal(w.data, [[1.0, 60.0, 1.0], [2.0, 70.0, 2.0]])
    assert w.op is None and w.label == "w"
    (w[[1, 1]] * w[[1, 1]]).sum().backward()  # the new numbers are what a new forward pass differentiates
    np.testing.assert_array_equal(w.grad, [[0.0, 0.0, 0.0], [8.0, 280.0, 8.0]])
