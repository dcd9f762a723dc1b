"""Round 50's hardening: class labels of every wrong kind are named with their first offending element and its index
(cross_entropy, one_hot); whole Decimals and Fractions are class labels as ints are; train's odd --cost-goal values;
a Value of many numbers prints a screen long; examples/xsquared.py says it was interrupted once."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from tinygrad_edu import checks, losses
from tinygrad_edu.data import one_hot

LOGITS = np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0], [2.0, 2.0, 2.0]])


def _expected_cost(labels: list[int]) -> float:
    """−(1/n) Σ ln softmax(logits_s)[label_s], in float64 by hand."""
    rows = LOGITS - LOGITS.max(axis=1, keepdims=True)
    log_softmax = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
    return float(-log_softmax[np.arange(3), labels].mean())


@pytest.mark.parametrize("labels", [[Decimal("0"), Decimal("2"), Decimal("1.0")], [Fraction(0), Fraction(4, 2), 1],
                                    np.array([Decimal(0), 2, Fraction(1)], dtype=object)])
def test_whole_decimals_and_fractions_are_class_labels_as_ints_are(labels) -> None:
    assert math.isclose(float(losses.cross_entropy(LOGITS, labels)), _expected_cost([0, 2, 1]), rel_tol=1e-12)
    np.testing.assert_array_equal(one_hot(labels, classes=3), np.eye(3)[[0, 2, 1]])


@pytest.mark.parametrize("call", [lambda labels: losses.cross_entropy(LOGITS, labels),
                                  lambda labels: one_hot(labels, classes=3)], ids=["cross_entropy", "one_hot"])
def test_a_decimal_that_is_not_whole_is_named_with_its_index(call) -> None:
    with pytest.raises(ValueError, match=r"^(cross_entropy|one_hot): class labels must be whole numbers, got "
                                         r"Decimal\('1\.5'\) at index 1 \(labels of shape \(3,\)\): "
                                         r"give class indices, ints in 0 … 2$"):
        call([Decimal(0), Decimal("1.5"), Decimal("NaN")])
    with pytest.raises(ValueError, match=r"got Decimal\('NaN'\) at index \(1, 0\)"):
        call(np.array([[Decimal(0)], [Decimal("NaN")], [Decimal(1)]], dtype=object))


@pytest.mark.parametrize("labels, words", [
    (["0", "1", "2"], "got a list of str ('0' first, at index 0): numbers written as text? give them as ints"),
    (["cat", "dog", "cat"], "got a list of str ('cat' first, at index 0): class names? give class indices 0 … 2"),
    ([0, None, 1], "got a list holding None at index 1: a missing label? leave that sample out"),
    ([0, "1", 2], "got a list holding str '1' at index 1: numbers written as text?"),
])
def test_one_hot_names_labels_that_are_no_numbers_as_cross_entropy_does(labels, words) -> None:
    """It said "labels must be integers, got dtype <U1" (or "dtype object"), in numpy's words."""
    with pytest.raises(TypeError) as raised:
        one_hot(labels, classes=3)
    message = str(raised.value)
    assert message.startswith("one_hot: the labels must be numbers (class indices), got "), message
    assert words in message and "dtype" not in message and "one-hot rows" not in message, message


@pytest.mark.parametrize("labels, shown", [([0, 1.5, 2], r"1\.5 at index 1"), ([0, 1, np.inf], "inf at index 2"),
                                           ([np.nan, 1, 2], "nan at index 0")])
def test_cross_entropy_names_the_first_label_that_is_not_whole_and_its_index(labels, shown) -> None:
    with pytest.raises(ValueError, match=rf"^cross_entropy: class indices must be integers, got {shown} \(labels of "
                                         r"shape \(3,\), dtype float64\): give whole numbers, ints in 0 … 2"):
        losses.cross_entropy(LOGITS, labels)


def test_one_hot_names_the_first_float_that_is_not_whole_and_its_index() -> None:
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers, got dtype float64 of shape \(2, 2\), "
                                        r"holding 1\.5 at index \(1, 0\): give class indices$"):
        one_hot([[0.0, 1.0], [1.5, 2.0]], classes=3)
    with pytest.raises(TypeError, match=r"holding inf at index \(0,\)"):
        one_hot([np.inf, 1.0], classes=3)


@pytest.mark.parametrize("call", [lambda labels: losses.cross_entropy(np.zeros((2, 3)), labels),
                                  lambda labels: one_hot(labels, classes=3)], ids=["cross_entropy", "one_hot"])
def test_a_label_out_of_range_is_named_with_its_index_and_the_labels_shape(call) -> None:
    with pytest.raises(ValueError, match=r"(got 5 at index 1|label 5 is outside 0\.\.2 \(classes=3\), at index 1 of "
                                         r"labels of shape \(2,\))"):
        call([0, 5])
    with pytest.raises(ValueError, match=rf"{10 ** 20}.* at index 1.* \(2,\)"):
        call([0, 10 ** 20])
    with pytest.raises(ValueError, match=rf"{10 ** 20}.* at index 1.* \(2,\)"):
        call([Decimal(0), Decimal(10 ** 20)])


def test_one_hot_refuses_integer_one_hot_rows_where_it_takes_class_indices() -> None:
    """one_hot(np.eye(3, dtype=int), 3) made (3, 3, 3) targets of one-hot rows of one-hot rows, silently."""
    with pytest.raises(ValueError, match=r"^one_hot: the labels of shape \(3, 3\) are one-hot rows already "
                                         r"\(targets\), whose labels are rows\.argmax\(axis=-1\); give class indices"):
        one_hot(np.eye(3, dtype=int), classes=3)
    np.testing.assert_array_equal(one_hot(np.array([[0, 2], [1, 1]]), classes=3).argmax(axis=-1), [[0, 2], [1, 1]])
    np.testing.assert_array_equal(one_hot(np.array([[0, 1], [1, 0]]), classes=3).argmax(axis=-1), [[0, 1], [1, 0]])


def test_label_numbers_leaves_numbers_alone_and_makes_whole_objects_int64() -> None:
    floats = np.array([1.0, 2.0])
    assert checks.label_numbers(floats, floats, "f", 3) is floats
    made = checks.label_numbers(None, np.array([Fraction(2), 1], dtype=object), "f", 3)
    assert made.dtype == np.int64 and made.tolist() == [2, 1]
    with pytest.raises(TypeError, match=r"^f: the labels must be numbers \(class indices\), got an ndarray holding "):
        checks.label_numbers(np.array([1, True], dtype=object), np.array([1, True], dtype=object), "f", 3)



# ------------------------------------------------------------------------------------------- 3. --cost-goal

@pytest.mark.parametrize("given, reason", [
    ("1e400", "got 1e400 (as a float it is inf: above 1.8e308): every cost is below it, so the first episode would "
              "end the run"),
    ("inf", "got inf: every cost is below it, so the first episode would end the run"),
    ("nan", "got nan: no cost is ever at or below NaN, so every episode would run"),
])
def test_a_cost_goal_that_is_no_finite_number_says_why(capsys, given: str, reason: str) -> None:
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    error = capsys.readouterr().err
    assert f"--cost-goal: must be a positive number, {reason}; give a small goal such as 1e-4, or leave --cost-goal " \
           "out to run all --episodes" in error, error


@pytest.mark.parametrize("given, decimal", [("0x10", "16"), ("-0x1p3", "-8")])
def test_a_number_written_in_hexadecimal_is_given_in_decimal(capsys, given: str, decimal: str) -> None:
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    assert f"--cost-goal: expected a number, got '{given}': numpy reads decimal numbers only, not hexadecimal: " \
           f"write {decimal}" in capsys.readouterr().err


# ------------------------------------------------------------------------------- 5. examples/xsquared.py, Ctrl-C

def test_ctrl_c_in_the_xsquared_example_is_said_once(monkeypatch, tmp_path, capsys) -> None:
    """fit's "interrupted" warning came before the example's own "interrupted during random search" message."""
    import runpy
    import sys
    import warnings
    from pathlib import Path

    from helpers_interrupts import press_ctrl_c_at_the_first_step

    from tinygrad_edu import optim

    main = runpy.run_path(str(Path(__file__).parent.parent / "examples" / "xsquared.py"))["main"]
    monkeypatch.setattr(sys, "argv", ["xsquared.py", "--output", str(tmp_path / "out")])
    press_ctrl_c_at_the_first_step(monkeypatch, (optim.RandomSearch,))
    with warnings.catch_warnings(record=True) as caught, pytest.raises(SystemExit) as stopped:
        warnings.simplefilter("always")
        main()
    assert stopped.value.code == "interrupted during random search; nothing written"
    assert [str(w.message) for w in caught if "interrupted" in str(w.message)] == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------------------- 4. a Value of many short axes

@pytest.mark.parametrize("shape", [(2,) * 12, (3,) * 8, (2,) * 7])
def test_a_value_of_many_short_axes_prints_its_numbers_flattened_a_line_long(shape) -> None:
    """numpy elides nothing of an axis of 2: (2,)*12 printed all 4,096 numbers, 39,000 characters."""
    from tinygrad_edu import Value

    v = Value(np.arange(math.prod(shape), dtype=float).reshape(shape) / 8)
    text = repr(v)
    assert len(text) < 200 and "\n" not in str(v), text
    assert text.endswith(f" (flattened), shape={shape}, grad=None)"), text
    flat = np.arange(math.prod(shape)) / 8
    first, last = (part.split() for part in text[len("Value(data=["):text.index("]")].split("..."))
    np.testing.assert_allclose([float(x) for x in first + last], np.r_[flat[:2], flat[-2:]], rtol=1e-4)
    assert len(v._repr_html_()) < 5000  # (the table's markup and at most 216 numbers, in lines)


def test_small_and_long_values_print_as_before() -> None:
    from tinygrad_edu import Value

    assert repr(Value(np.arange(6.0).reshape(2, 3))) == "Value(data=[[0. 1. 2.] [3. 4. 5.]], grad=None)"
    assert repr(Value(np.arange(1000.0))) == "Value(data=[  0.   1. ... 998. 999.], shape=(1000,), grad=None)"
    assert "flattened" not in repr(Value(np.zeros((4, 4, 4, 4, 4)))) + repr(Value(np.zeros((2,) * 6)))


def test_a_flattened_print_counts_the_nan_it_hides_and_keeps_different_numbers_apart() -> None:
    from tinygrad_edu import Value

    data = np.ones((2,) * 10)
    data.flat[5] = np.nan
    data.flat[0], data.flat[-1] = 1.00001, 1.00002
    text = repr(Value(data))
    assert text == ("Value(data=[1.00001 1.      ... 1.      1.00002] (flattened), shape=(2, 2, 2, 2, 2, 2, 2, 2, 2, "
                    "2), grad=None)  # data holds 1 NaN"), text


# ------------------------------------------------------------------------------------------ own: odd labels

@pytest.mark.parametrize("labels", [np.array([0.0, 2.0, 1.0], dtype=object), np.array([0, 2.0, 1], dtype=object)])
def test_labels_held_as_objects_with_floats_among_them_are_read_as_floats_are(labels) -> None:
    """A pandas column of objects holding floats: "the labels must be numbers, got … float 0.0" said a number was
    none; as floats, whole ones are class indices (cross_entropy) and one_hot says to make them ints."""
    assert math.isclose(float(losses.cross_entropy(LOGITS, labels)), _expected_cost([0, 2, 1]), rel_tol=1e-12)
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers, got dtype float64 of shape \(3,\); whole "
                                        r"numbers given as floats: labels\.astype\(int\)$"):
        one_hot(labels, classes=3)


def test_float16_labels_out_of_range_leak_no_overflow_warning() -> None:
    """1 << 16 compared with a float16 label was cast to float16, inf, with numpy's RuntimeWarning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"got 60000\.0 at index 1 .*: 60001 classes need an output layer"):
            losses.cross_entropy(np.zeros((2, 3)), np.array([1, 60000], dtype=np.float16))
