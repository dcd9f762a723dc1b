"""An engineer whose data pipeline is the data module: Dataset, train_test_split, batches, one_hot, xsquared, fed to
fit.  Each helper is checked against numpy written by hand (the same indices, the same order for the same seed), for
inputs left alone, and for errors that name the function and what is at fault."""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, optim
from tinygrad_edu.data import Dataset, batches, one_hot, train_test_split, xsquared

# ------------------------------------------------------------------------------------------------ defects


def test_replace_checks_as_the_constructor_does() -> None:
    ds = Dataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    with pytest.raises(ValueError, match=r"^Dataset: inputs and labels hold different numbers of samples, "
                                         r"shapes \(5, 2\) and \(3,\)"):
        ds._replace(labels=np.zeros(3))
    relabelled = ds._replace(labels=[4, 3, 2, 1, 0])
    assert isinstance(relabelled, Dataset) and isinstance(relabelled.labels, np.ndarray)
    assert relabelled.labels.tolist() == [4, 3, 2, 1, 0] and relabelled.inputs is ds.inputs


_SAMPLES = [(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)]
_TAKERS = {
    "Dataset": lambda given: Dataset(given, [0, 1, 2]),
    "train_test_split": lambda given: train_test_split(given, [0, 1, 2]),
    "batches": lambda given: batches(given, [0, 1, 2], batch_size=2),
    "one_hot": one_hot,
}


@pytest.mark.parametrize("name", list(_TAKERS))
@pytest.mark.parametrize("kind, make, advice", [
    ("generator", lambda items: (item for item in items), r"list\(\.\.\.\)"),
    ("map", lambda items: map(tuple, items) if isinstance(items[0], tuple) else map(int, items), r"list\(\.\.\.\)"),
    ("set", set, r"sorted\(\.\.\.\)"),  # (a set's order is no order of the samples)
], ids=["generator", "map", "set"])
def test_samples_in_a_generator_or_set_are_a_type_error_saying_what_to_give(name, kind, make, advice) -> None:
    items = [1, 2, 3] if name == "one_hot" else _SAMPLES
    what = "labels" if name == "one_hot" else "inputs"
    with pytest.raises(TypeError, match=rf"^{name}: the {what} are a {kind}, not an array: .*{advice}"):
        _TAKERS[name](make(items))


def test_labels_in_a_generator_are_named_as_the_labels() -> None:
    with pytest.raises(TypeError, match=r"^Dataset: the labels are a generator, not an array"):
        Dataset(np.zeros((3, 2)), (label for label in range(3)))


def test_a_dataset_with_a_missing_value_equals_its_copies() -> None:
    ds = Dataset(np.array([[1.0, np.nan], [3.0, 4.0]]), np.array([0.5, np.nan]))
    assert ds == ds
    assert copy.deepcopy(ds) == ds and pickle.loads(pickle.dumps(ds)) == ds
    assert not ds != copy.deepcopy(ds)
    moved = Dataset(np.array([[np.nan, 1.0], [3.0, 4.0]]), np.array([0.5, np.nan]))  # NaN elsewhere: not equal
    assert ds != moved and not ds == moved


def test_counts_of_one_read_in_the_singular() -> None:
    shown = repr(batches(np.zeros((1, 2)), np.zeros(1), batch_size=4))
    assert shown == "<batches: 1 sample in 1 batch of up to 4, shuffled>"
    assert repr(batches(np.zeros((5, 2)), np.zeros(5), 2, shuffle=False)) == \
        "<batches: 5 samples in 3 batches of up to 2, in order>"
    with pytest.raises(ValueError, match=r"^train_test_split: test_fraction=0\.2 of 1 sample leaves 1 test and 0 "
                                         r"training samples"):
        train_test_split(np.zeros((1, 2)), np.zeros(1))


# ------------------------------------------------------------------------------------------ guard tests


def _hand_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """train_test_split's documented draw in numpy: ceil(n * fraction) test samples, both parts in random order."""
    rng = np.random.default_rng(seed)
    test = rng.permutation(n)[:math.ceil(n * fraction)]
    rest = np.ones(n, dtype=bool)
    rest[test] = False
    return rng.permutation(np.flatnonzero(rest)), test


@given(n=st.integers(2, 40), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**32))
def test_split_takes_the_indices_numpy_draws_and_copies(n: int, fraction: float, seed: int) -> None:
    x = np.arange(3.0 * n).reshape(n, 3)
    y = np.arange(n) * 10
    before = x.copy(), y.copy()
    train_idx, test_idx = _hand_split(n, fraction, seed)
    if not 1 <= len(test_idx) <= n - 1:
        with pytest.raises(ValueError, match=rf"^train_test_split: test_fraction={fraction} of {n} samples leaves "
                                             rf"{len(test_idx)} test and {n - len(test_idx)} training"):
            train_test_split(x, y, test_fraction=fraction, seed=seed)
        return
    train, test = train_test_split(x, y, test_fraction=fraction, seed=seed)
    np.testing.assert_array_equal(train.inputs, x[train_idx])
    np.testing.assert_array_equal(train.labels, y[train_idx])
    np.testing.assert_array_equal(test.inputs, x[test_idx])
    np.testing.assert_array_equal(test.labels, y[test_idx])
    assert sorted(np.concatenate([train.labels, test.labels]).tolist()) == y.tolist()  # none lost, none twice
    train.inputs[:] = -1  # copies: the caller's arrays stay as they were
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(y, before[1])


def test_stratified_split_takes_the_indices_numpy_draws_class_by_class() -> None:
    y = np.array([2, 0, 1, 2, 0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 1, 1, 0])
    x = np.arange(2.0 * len(y)).reshape(-1, 2)
    rng = np.random.default_rng(7)
    parts = []
    for c in np.unique(y):  # in sorted order, each class's samples shuffled, round(count * fraction) to the test part
        members = rng.permutation(np.flatnonzero(y == c))
        parts.append(members[:round(len(members) * 0.3)])
    test_idx = rng.permutation(np.concatenate(parts))
    rest = np.ones(len(y), dtype=bool)
    rest[test_idx] = False
    train_idx = rng.permutation(np.flatnonzero(rest))
    train, test = train_test_split(x, y, test_fraction=0.3, seed=7, stratify=True)
    np.testing.assert_array_equal(test.inputs, x[test_idx])
    np.testing.assert_array_equal(train.inputs, x[train_idx])
    assert np.bincount(test.labels).tolist() == [round(np.sum(y == c) * 0.3) for c in range(3)]


@pytest.mark.parametrize("n, size", [(1, 1), (5, 1), (7, 3), (10, 5), (7, 7), (6, 9)])
def test_batches_follow_numpys_permutations_pass_after_pass(n: int, size: int) -> None:
    x = np.arange(2.0 * n).reshape(n, 2)
    y = np.arange(n)
    loader = batches(x, y, batch_size=size, seed=3)
    assert len(loader) == math.ceil(n / size)
    rng = np.random.default_rng(3)
    for _ in range(3):  # each pass another episode, from the same generator
        order = rng.permutation(n)
        got = list(loader)
        assert len(got) == len(loader)
        expected = [order[i:i + size] for i in range(0, n, size)]
        assert [b.tolist() for _, b in got] == [e.tolist() for e in expected]
        for (xb, yb) in got:
            np.testing.assert_array_equal(xb, x[yb])
    again = [b.tolist() for _, b in batches(x, y, batch_size=size, seed=3)]  # an int seed: the same first order
    assert again == [order.tolist() for order in [np.random.default_rng(3).permutation(n)]
                     for order in [order[i:i + size] for i in range(0, n, size)]]


def test_batches_from_a_shared_generator_continue_it_and_unshuffled_ones_are_copies_in_order() -> None:
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    shared, mirror = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(2):  # each call draws the next permutation of the shared generator
        assert np.concatenate([b for _, b in batches(x, y, 4, seed=shared)]).tolist() == \
            mirror.permutation(10).tolist()
    in_order = list(batches(x, y, 4, shuffle=False, seed=shared))
    assert [b.tolist() for _, b in in_order] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert shared.random() == mirror.random()  # unshuffled: no draw made from the generator
    in_order[0][0][:] = -1
    assert x.min() == 0  # a batch is a copy


def test_fit_with_an_int_seed_trains_on_numpys_batches_in_order() -> None:
    n, size = 7, 3
    x = np.arange(n, dtype=float)[:, None]
    seen: list[list[int]] = []
    w = Value(np.ones((1, 1)))

    def model(rows: Value) -> Value:
        seen.append(rows.data[:, 0].astype(int).tolist())
        return rows @ w

    fit(model, x, np.zeros((n, 1)), optimizer=optim.SGD([w], learning_rate=0.01), episodes=3, batch_size=size,
        seed=4, progress=False)
    rng = np.random.default_rng(4)
    expected = [order[i:i + size].tolist() for order in (rng.permutation(n) for _ in range(3))
                for i in range(0, n, size)]
    assert [s for s in seen if len(s) < n] == expected


@given(labels=st.lists(st.integers(0, 6), max_size=20), classes=st.integers(7, 9))
def test_one_hot_is_rows_of_the_identity(labels: list[int], classes: int) -> None:
    y = np.array(labels, dtype=np.int64)
    before = y.copy()
    np.testing.assert_array_equal(one_hot(y, classes=classes), np.eye(classes)[y].reshape(len(labels), classes))
    np.testing.assert_array_equal(y, before)


def test_xsquared_draws_numpys_uniform_numbers() -> None:
    x, y = xsquared(6, low=-2.0, high=3.0, seed=5)
    expected = np.random.default_rng(5).uniform(-2.0, 3.0, size=(6, 1))
    np.testing.assert_array_equal(x, expected)
    np.testing.assert_array_equal(y, expected ** 2)
