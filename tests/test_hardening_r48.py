"""Inputs that arrive by accident (round 48): NaN conditions, foreign arrays numpy cannot read, and the like."""

import math
import re

import numpy as np
import pytest

from tinygrad_edu import Value, data, losses
from tinygrad_edu import functional as F


@pytest.mark.parametrize("condition", [np.array([np.nan, 0.0]), [0.0, float("nan")], Value([1.0, np.nan])])
def test_where_refuses_a_nan_in_its_condition_which_numpy_takes_for_true(condition):
    # a float mask made from data with a missing number: numpy's where picked a there, silently
    with pytest.raises(ValueError, match=r"where: the condition holds NaN \(at index \((0|1),\) of shape \(2,\)\)"):
        F.where(condition, Value([1.0, 2.0]), 0.0)


def test_where_still_reads_a_condition_of_numbers_as_numpy_does():
    a = Value([1.0, 2.0, 3.0])
    out = F.where(np.array([2.5, 0.0, -1.0]), a, 10.0)  # (not 0: holds, as np.where reads it)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [1.0, 10.0, 3.0])
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])


def test_a_bfloat16_tensor_is_refused_naming_value_and_saying_what_to_write():
    torch = pytest.importorskip("torch")
    half = torch.ones(2, dtype=torch.bfloat16)  # (a model's weights in mixed precision: no numpy dtype holds them)
    with pytest.raises(TypeError, match=r"^Value: cannot make an array from Tensor \(.*BFloat16\); .*"
                                        r"tensor\.detach\(\)\.float\(\)\.numpy\(\)"):
        Value(half)
    with pytest.raises(TypeError, match=r"^add: cannot use Tensor .* as an operand \(cannot make an array from Tensor"):
        Value(1.0) + half
    np.testing.assert_array_equal(Value(half.detach().float().numpy()).data, [1.0, 1.0])  # (what it says works)


@pytest.mark.parametrize("number", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("convert", [int, round, math.trunc], ids=["int", "round", "trunc"])
def test_int_of_a_value_holding_nan_or_inf_is_a_value_error_naming_the_conversion(convert, number):
    # Python's own: ValueError "cannot convert float NaN to integer" (no Value named), and an OverflowError for inf
    with pytest.raises(ValueError, match=rf"^{convert.__name__}: this Value holds {number}, which is no integer"):
        convert(Value(number))


def test_conversions_of_finite_numbers_and_round_to_digits_are_as_pythons():
    assert int(Value(-2.7)) == -2 and round(Value(2.5)) == 2 and math.trunc(Value(3.9)) == 3
    assert round(Value(np.inf), 2) == math.inf  # (round(inf, 2) is inf in Python too: a float, no integer asked for)
    assert math.isnan(round(Value(np.nan), 1))


def test_cross_entropy_of_class_names_says_how_to_number_them_on_one_line():
    pd = pytest.importorskip("pandas")
    logits = Value(np.zeros((3, 2)))
    for names in (np.array(["cat", "dog", "cat"]), pd.Series(["cat", "dog", "cat"], dtype="category")):
        with pytest.raises(TypeError, match=r"got (an ndarray|a Series) of str \('cat' first, at index 0\): class "
                                            r"names\? give class indices 0 … 1 instead: names, indices = "
                                            r"np\.unique\(labels, return_inverse=True\)[^\n]*$"):
            losses.cross_entropy(logits, names)
    numbered = np.unique(np.array(["cat", "dog", "cat"]), return_inverse=True)[1]  # (what it says works)
    assert losses.cross_entropy(logits, numbered).item() == pytest.approx(math.log(2))


@pytest.mark.parametrize(("data", "index"), [([1.0, None], "(1,)"), ([[1.0], [None]], "(1, 0)")])
def test_a_list_holding_none_says_where_the_missing_number_is(data, index):
    # a row read from a CSV or JSON file with an empty field: "dtype object is not supported" said neither where nor why
    with pytest.raises(TypeError, match=rf"it holds None at index {re.escape(index)} \(a missing number\?\): put "
                                        r"float\('nan'\) there"):
        Value(data)
    with pytest.raises(TypeError, match=r"^add: cannot use list .* it holds None at index"):
        Value(np.zeros(np.shape(data))) + data
    assert np.isnan(Value([1.0, float("nan")]).data[1])  # (what it says works)


def test_load_digits_given_a_numpy_file_says_so_not_that_it_is_damaged(tmp_path):
    # digits saved with np.savez / np.save and given back: "damaged: 'utf-8' codec can't decode byte 0x93"
    digits = data.load_digits()
    np.savez(tmp_path / "digits.npz", inputs=digits.inputs, labels=digits.labels)
    np.save(tmp_path / "digits.npy", digits.inputs)
    with pytest.raises(ValueError, match=r"digits\.npz' is a zip archive \(a numpy \.npz file\?\), not the digits' "
                                         r"text table .*np\.load\(path\), and its arrays by name \(\.files\)$"):
        data.load_digits(tmp_path / "digits.npz")
    with pytest.raises(ValueError, match=r"digits\.npy' is a numpy \.npy file, not the digits' text table .*"
                                         r"read it with np\.load\(path\)$"):
        data.load_digits(tmp_path / "digits.npy")
    with np.load(tmp_path / "digits.npz") as saved:  # (what it says works)
        np.testing.assert_array_equal(saved["labels"], digits.labels)
