"""Round 49's hardening: one helper for the first index where a mask holds, cross_entropy's label mistakes said in
the user's terms, the CLI's --cost-goal and fit's agreeing, the data functions refusing complex and text samples,
and backprop_player's early warning for large graphs."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, checks, data, functional
from tinygrad_edu.losses import cross_entropy, squared_error
from tinygrad_edu.testing import numerical_gradient


# ------------------------------------------------------------------------------------------ 1. first_index

def test_first_index_gives_python_ints_in_c_order() -> None:
    mask = np.zeros((3, 4), dtype=bool)
    mask[2, 0] = mask[1, 3] = True
    index = checks.first_index(mask)
    assert index == (1, 3) and all(type(i) is int for i in index)
    assert checks.first_index(np.array(True)) == ()


def test_first_index_refuses_a_mask_with_nothing_true() -> None:
    with pytest.raises(ValueError, match=r"first_index: no element of the mask of shape \(2,\) is true"):
        checks.first_index(np.zeros(2, dtype=bool))


def test_the_four_modules_name_the_first_bad_index() -> None:
    with pytest.raises(ValueError, match=r"at index \(1,\) of shape \(3,\)"):
        functional.where(np.array([1.0, np.nan, np.nan]), Value(np.ones(3)), Value(np.zeros(3)))
    with pytest.raises(ValueError, match=r"at index \(0, 1\)"):
        squared_error(Value(np.zeros((2, 2))), np.array([[0.0, np.inf], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match=r"element \(1,\) = inf"):
        numerical_gradient(lambda x: x.sum(), np.array([0.0, np.inf, np.inf]))
    with pytest.raises(TypeError, match=r"NaN \(missing labels\?\) at index \(1,\)"):
        data.one_hot(np.array([0.0, np.nan, 1.0]), 3)
