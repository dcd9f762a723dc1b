"""Review of round 47's change (2d2dd32..): what the review mended, each with a test that fails without it."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygrad_edu.data import train_test_split


def _splits() -> tuple:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    return train_test_split(x, y, seed=0), train_test_split(x, y, seed=1)


def test_four_names_from_a_chain_of_two_splits_are_the_four_datasets() -> None:
    """itertools.chain takes the splits' iterators while its own is unpacked: the frame is at UNPACK_SEQUENCE 4,
    but the four items are two splits' two Datasets each, no scikit-learn slip (it was refused)."""
    first, second = _splits()
    train_a, test_a, train_b, test_b = itertools.chain(first, second)
    assert train_a is first[0] and test_a is first[1] and train_b is second[0] and test_b is second[1]


def test_four_names_of_one_split_are_still_refused_with_advice() -> None:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    with pytest.raises(ValueError, match=r"\(X_train, y_train\), \(X_test, y_test\) = train_test_split"):
        x_train, x_test, y_train, y_test = train_test_split(x, y)
    split, _ = _splits()
    with pytest.raises(ValueError, match="scikit-learn's four arrays"):
        x_train, x_test, y_train, y_test = split
    (x_train, y_train), (x_test, y_test) = train_test_split(x, y)  # the advice, pasted, runs
    assert x_train.shape == (8, 2) and y_test.shape == (2,)
