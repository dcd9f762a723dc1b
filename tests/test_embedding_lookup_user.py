"""An embedding lookup and a bag-of-words classifier built from autograd primitives: a weight matrix indexed by
integer arrays (repeats, negatives, every integer dtype, empty), one-hot matrices times weights, sums and means of the
looked-up rows, training that changes only the rows used; what is refused, and how the drawings write a lookup."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, no_grad, optim, viz
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.player import forward_formula

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (texts checked as numpy prints them)

_TABLE = np.random.default_rng(7).normal(size=(6, 3))  # 6 words, 3 numbers each


# --- defects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: {1, 3}, lambda: frozenset([2]), lambda: {0: 1}, lambda: {0: 1}.keys(),
                                  lambda: iter([0, 1]), lambda: (i for i in [0, 1])],
                         ids=["set", "frozenset", "dict", "dict_keys", "iterator", "generator"])
def test_a_bag_given_as_a_set_or_an_iterator_is_a_type_error_asking_for_a_list(make: Any) -> None:
    table = Value(_TABLE.copy())
    with pytest.raises(TypeError, match=r"^index: index with ints, .* not with \w+.*: give the indices as a list"):
        table[make()]
    with pytest.raises(TypeError, match=r"^index: index with ints, .* not with \w+"):
        table[make(), 0]
    with no_grad(), pytest.raises(TypeError, match=r"^index assignment: cannot set .* give the indices as a list"):
        table[make()] = 0.0
    np.testing.assert_array_equal(table.data, _TABLE)


def test_a_pandas_series_of_word_ids_is_copied_so_changing_it_afterwards_leaves_the_gradient() -> None:
    pd = pytest.importorskip("pandas")
    table = Value(_TABLE.copy())
    ids = pd.Series([0, 1, 1])
    picked = table[ids]
    ids[0] = 5  # the column is reused for the next batch before backward()
    picked.sum().backward()
    expected = np.zeros_like(_TABLE)
    expected[0] += 1.0
    expected[1] += 2.0  # word 1 was looked up twice
    np.testing.assert_array_equal(table.grad, expected)


def test_a_pandas_series_of_float_ids_is_the_type_error_an_array_of_floats_gets() -> None:
    pd = pytest.importorskip("pandas")
    with pytest.raises(TypeError, match=r"^index: index with ints, .* not with Series of shape \(2,\) \(an array of "
                                        r"dtype float64\); a float is not rounded"):
        Value(_TABLE)[pd.Series([0.0, 1.0])]


def test_a_one_hot_matrix_as_an_index_is_told_to_multiply_not_to_cast_to_int() -> None:
    one_hot = np.eye(6)[[2, 4]]
    with pytest.raises(TypeError, match=r"^index: .*not with ndarray of shape \(2, 6\).*only 0s and 1s: a one-hot "
                                        r"matrix picks rows by a product, one_hot @ w"):
        Value(_TABLE)[one_hot]
    # and the advice is right: the product is the lookup of the labels
    np.testing.assert_array_equal((Value(one_hot) @ Value(_TABLE)).data, _TABLE[[2, 4]])


def test_the_players_forward_formula_of_a_lookup_names_the_picked_rows() -> None:
    table = Value(_TABLE.copy(), label="E")
    assert forward_formula(table[np.array([1, 1, 3], dtype=np.uint8)], ["E"]) == "E[[1, 1, 3]]"
    assert forward_formula(table[-1], ["E"]) == "E[-1]"
    assert forward_formula(table[:, 1], ["E"]) == "E[:, 1]"
    assert forward_formula(table[np.array([[0, 1], [2, 3]])], ["E"]) == "E[[[0, 1], [2, 3]]]"
    assert forward_formula(table[np.array([True, False] * 3)], ["E"]) == \
        "E[[True, False, True, False, True, False]]"
    assert forward_formula(table[::-2, np.array([0, 2])], ["E"]) == "E[::-2, [0, 2]]"
    assert forward_formula(table[1], ["a + b"]) == "(a + b)[1]"
    w = Value([0.3, 0.7], label="w")
    cost = ((w[0] * 2.0 + w[1]).sigmoid() - 0.5) ** 2
    formulas = [step.html for step in viz.backprop_player(cost).steps if step.title.startswith("Forward")]
    assert any("= w[0]</p>" in text for text in formulas) and any("= w[1]</p>" in text for text in formulas)


@pytest.mark.parametrize(("call", "indices", "expected"), [
    (lambda v, i: v.index_select(0, i), np.array([5, 1, 1, -6]), lambda a, i: a[i]),
    (lambda v, i: v.gather(1, i), np.array([[0, 2], [1, 1], [2, 0], [0, 0], [1, 2], [2, 2]]),
     lambda a, i: np.take_along_axis(a, i, axis=1)),
    (lambda v, i: v.take(i), np.array([[17, 0], [4, 4]]), lambda a, i: np.take(a, i)),
], ids=["index_select", "gather", "take"])
def test_pytorch_and_numpy_picking_methods_say_what_to_write_and_it_computes_the_same(
        call: Any, indices: np.ndarray, expected: Any) -> None:
    with pytest.raises(AttributeError, match=r"^'Value' object has no attribute '\w+'; write ") as caught:
        call(Value(_TABLE), indices)
    advice = str(caught.value).partition("; write ")[2]
    formula = advice.split(" for ")[0].split(" (")[0]  # the first formula, before what it stands for
    computed = eval(formula, {"v": Value(_TABLE), "indices": indices, "np": np})  # noqa: S307
    np.testing.assert_array_equal(computed.data, expected(_TABLE, indices))


# --- guards -----------------------------------------------------------------------------------------------------
_DOCS = [np.array([0, 1, 1]), np.array([2, 3], dtype=np.int32), np.array([0, 0, -6, 1], dtype=np.int8),
         np.array([3, 2, 3, 3], dtype=np.uint8)]  # word 5 and word 4 are in no document
_TARGETS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])


def _bag_cost(table: Any, classifier: Any) -> Any:
    """The squared error of a bag-of-words classifier: each document the mean of its words' rows, times weights."""
    bags = F.stack([table[doc].mean(axis=0) for doc in _DOCS])
    return ((bags @ classifier - _TARGETS) ** 2).sum()


def _bag_cost_numpy(table: np.ndarray, classifier: np.ndarray) -> float:
    bags = np.stack([table[doc].mean(axis=0) for doc in _DOCS])
    return float(((bags @ classifier - _TARGETS) ** 2).sum())


def test_the_bag_of_words_gradient_adds_up_repeated_words_and_matches_central_differences() -> None:
    classifier = np.random.default_rng(1).normal(size=(3, 2))
    table = Value(_TABLE.copy())
    _bag_cost(table, Value(classifier)).backward()
    numeric = central_difference(lambda e: _bag_cost_numpy(e, classifier), _TABLE.copy(), 1e-6)
    np.testing.assert_allclose(table.grad, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(table.grad[4:], 0.0)  # words in no document get no gradient
    assert np.all(table.grad[:4] != 0.0)


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, learning_rate=0.05, momentum=0.5),
                                  lambda p: optim.Adam(p, learning_rate=0.05),
                                  lambda p: optim.GradientDescent(p, learning_rate=0.2)],
                         ids=["SGD", "Adam", "GradientDescent"])
def test_training_changes_only_the_rows_looked_up_and_lowers_the_cost(make: Any) -> None:
    table = Value(_TABLE.copy(), label="E")
    classifier = Value(np.random.default_rng(1).normal(size=(3, 2)), label="W")
    optimizer = make([table, classifier])
    first = None
    for _ in range(25):
        optimizer.zero_grad()
        cost = _bag_cost(table, classifier)
        cost.backward()
        first = float(cost.data) if first is None else first
        optimizer.step(cost=cost)
    assert _bag_cost_numpy(table.data, classifier.data) < 0.5 * first
    np.testing.assert_array_equal(table.data[4:], _TABLE[4:])  # bit for bit: Adam's zero averages move nothing
    assert np.all(table.data[:4] != _TABLE[:4])


def test_a_one_hot_product_and_a_lookup_agree_in_numbers_and_gradient() -> None:
    labels = np.array([2, 2, 5, 0])
    one_hot = np.eye(6)[labels]
    upstream = np.random.default_rng(3).normal(size=(4, 3))
    by_product, by_lookup = Value(_TABLE.copy()), Value(_TABLE.copy())
    ((Value(one_hot) @ by_product) * upstream).sum().backward()
    (by_lookup[labels] * upstream).sum().backward()
    np.testing.assert_array_equal((one_hot @ _TABLE), _TABLE[labels])
    np.testing.assert_allclose(by_product.grad, one_hot.T @ upstream, rtol=1e-15)  # closed form: onehotᵀ · g
    np.testing.assert_allclose(by_lookup.grad, one_hot.T @ upstream, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.intp])
def test_an_empty_bag_sums_to_zeros_with_a_zero_gradient_and_its_mean_is_refused(dtype: Any) -> None:
    table = Value(_TABLE.copy())
    total = table[np.array([], dtype=dtype)].sum(axis=0)
    np.testing.assert_array_equal(total.data, np.zeros(3))
    (total * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(table.grad, np.zeros_like(_TABLE))
    with pytest.raises(ValueError, match=r"^mean: the mean of no numbers is undefined \(input shape \(0, 3\)"):
        table[np.array([], dtype=dtype)].mean(axis=0)


def test_out_of_range_and_float_word_ids_name_the_op_and_the_shape() -> None:
    table = Value(_TABLE)
    for ids in (np.array([0, 6], dtype=np.int32), np.array([250], dtype=np.uint8), np.array([-7])):
        with pytest.raises(IndexError, match=r"^index: index -?\d+ is out of bounds for axis 0 with size 6 \(input "
                                             r"shapes \(6, 3\)"):
            table[ids]
    with pytest.raises(TypeError, match=r"^index: .*not with a Value"):
        table[Value([0.0, 1.0])]
    with pytest.raises(TypeError, match=r"^index: .*\(an array of dtype float32\); a float is not rounded"):
        table[np.array([0.0, 1.0], dtype=np.float32)]


@given(st.lists(st.integers(-6, 5), min_size=1, max_size=8), st.sampled_from([np.int8, np.int32, np.int64]),
       st.integers(0, 2 ** 32 - 1))
def test_lookups_of_any_integer_dtype_scatter_add_and_their_hessian_counts_each_repeat(ids: list[int], dtype: Any,
                                                                                       seed: int) -> None:
    """f(E) = Σ c · E[ids]³: ∂f/∂E[r] = Σ over the picks of r of 3c·E[r]², ∂²f/∂E[r]² = Σ 6c·E[r] (diagonal)."""
    index = np.array(ids, dtype=dtype)
    table = np.random.default_rng(seed).normal(size=(6, 2))
    weights = np.random.default_rng(seed + 1).normal(size=(len(ids), 2))
    rows = np.array(ids) % 6
    value = Value(table.copy())
    (value[index] ** 3 * weights).sum().backward()
    counted = np.zeros_like(table)
    for r, w in zip(rows, weights, strict=True):
        counted[r] += w
    np.testing.assert_allclose(value.grad, 3 * counted * table ** 2, rtol=1e-12, atol=1e-14)
    second = hessian(lambda e: (e[index] ** 3 * weights).sum())(table).data.reshape(12, 12)
    np.testing.assert_allclose(second, np.diag((6 * counted * table).ravel()), rtol=1e-12, atol=1e-14)


def test_draw_graph_labels_a_lookup_as_python_writes_it() -> None:
    table = Value(_TABLE.copy(), label="E")
    cost = (table[np.array([1, 1, 3], dtype=np.uint8)].sum(axis=0) ** 2).sum() + table[-1, ::2].sum()
    source = viz.draw_graph(cost).source
    assert 'label="index(key=[1, 1, 3])"' in source and 'label="index(key=(-1, ::2))"' in source
    assert "uint8" not in source and "slice(" not in source
