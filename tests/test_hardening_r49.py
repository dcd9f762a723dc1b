"""Round 49's hardening: one helper for the first index where a mask holds, cross_entropy's label mistakes said in
the user's terms, the CLI's --cost-goal and fit's agreeing, and the data functions refusing complex and text
samples."""

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


# ------------------------------------------------------------------------------- 2. cross_entropy's labels

LOGITS = Value(np.zeros((3, 4)))


def test_labels_as_class_names_are_said_in_the_users_terms_with_what_to_write() -> None:
    with pytest.raises(TypeError) as raised:
        cross_entropy(LOGITS, ["cat", "dog", "cow"])
    message = str(raised.value)
    assert message.startswith("cross_entropy: the labels must be numbers (class indices or one-hot rows), got a list "
                              "of str ('cat' first, at index 0): class names? give class indices 0 … 3 instead: ")
    assert "np.unique(labels, return_inverse=True)" in message and "names.index(label)" in message
    assert "<U" not in message and "dtype" not in message


def test_the_first_element_that_is_no_number_is_named_as_the_user_gave_it() -> None:
    """numpy makes [0, 'a', 2] all text ('0', 'a', '2'): the message names the 'a' at index 1, not '0'."""
    with pytest.raises(TypeError, match=r"got a list holding str 'a' at index 1: class names\?"):
        cross_entropy(LOGITS, [0, "a", 2])
    with pytest.raises(TypeError, match=r"got a list holding None at index 1: a missing label\? leave that sample out"):
        cross_entropy(LOGITS, [0, None, 2])
    with pytest.raises(TypeError, match=r"got a list of str \('1' first, at index 0\): numbers written as text\? give "
                                        r"them as ints: np\.asarray\(labels\)\.astype\(int\)"):
        cross_entropy(LOGITS, ["1", "0", "2"])


@pytest.mark.parametrize("labels, expected", [
    ([0, 4, 1], r"got 4 at index 1 \(values from 0 to 4\); the logits have 4 columns, one per class: 5 classes need "
                r"an output layer of 5 neurons$"),
    ([0, 1, -1], r"got -1 at index 2 \(values from -1 to 1\); a negative label is no class \(PyTorch's ignore_index, "
                 r"-100\?\): leave those samples out, labels = "
                 r"np\.asarray\(labels\); keep = labels >= 0; cross_entropy\(logits\[keep\], labels\[keep\]\)$"),
    ([1, 4, 2], r"got 4 at index 1 \(values from 1 to 4\); counted from 1\? give np\.asarray\(labels\) - 1, "
                r"for 0 … 3$"),
])
def test_a_label_out_of_range_is_named_with_its_index_and_what_to_write(labels: list[int], expected: str) -> None:
    with pytest.raises(ValueError, match=r"^cross_entropy: labels must lie in 0 … 3 for 4 classes, " + expected):
        cross_entropy(LOGITS, labels)


def test_one_hot_rows_of_another_width_say_how_many_classes_they_hold() -> None:
    with pytest.raises(ValueError, match=r"^cross_entropy: labels of shape \(3, 3\) do not fit logits of shape "
                                         r"\(3, 4\); .*\(one-hot rows of 3 classes for 4 outputs: data\.one_hot\("
                                         r"np\.argmax\(labels, axis=-1\), classes=4\)\)$"):
        cross_entropy(LOGITS, np.eye(3))


def test_boolean_labels_say_how_to_make_two_classes_of_them() -> None:
    with pytest.raises(ValueError, match=r"got dtype bool; for the two classes False and True, "
                                         r"np\.asarray\(labels\)\.astype\(int\)"):
        cross_entropy(Value(np.zeros((2, 2))), np.array([True, False]))


def test_labels_still_accepted_as_before() -> None:
    """Whole numbers as floats are class indices; a column of labels keeps its hint; the cost is ln 4 at zeros."""
    assert float(cross_entropy(LOGITS, [1.0, 0.0, 3.0])) == pytest.approx(np.log(4), abs=1e-15)
    with pytest.raises(ValueError, match=r"class labels as a column\? give them flat: labels\.reshape\(-1\)"):
        cross_entropy(LOGITS, np.array([[0], [1], [2]]))


# ------------------------------------------------------------------------------------------- 3. --cost-goal

@pytest.mark.parametrize("given", ["0", "-1", "-0.0"])
def test_a_cost_goal_of_zero_or_below_says_why_the_command_line_wants_a_positive_one(capsys, given: str) -> None:
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    error = capsys.readouterr().err
    assert f"--cost-goal: must be a positive number, got {given}: the costs here (squared_error, cross_entropy) are " \
           "never below 0" in error
    assert "give a small goal such as 1e-4, or leave --cost-goal out to run all --episodes" in error


def test_the_help_says_why_the_cost_goal_is_positive_where_fit_takes_any_number(capsys) -> None:
    from helpers_cli import option_help

    from tinygrad_edu.cli import main

    assert main(["train", "--help"]) == 0
    text = option_help(capsys.readouterr().out, "--cost-goal")
    assert "C > 0: these costs are never below 0 and in practice never exactly 0 (fit's cost_goal takes any finite " \
           "number, for costs of one's own)" in text


# ----------------------------------------------------------------------- 4. complex and text samples refused

X = np.arange(10.0).reshape(5, 2)
Y = np.arange(5.0)


@pytest.mark.parametrize("func", ["train_test_split", "batches"])
@pytest.mark.parametrize("inputs, found", [
    (X + 1j, r"got dtype complex128: give the real and imaginary parts as two columns"),
    (X.astype(str), r"got dtype <U32 holding str '0\.0' at index \(0, 0\): numbers read as text\? "
                    r"np\.asarray\(x, dtype=float\)$"),
    ([[1.0, None]] * 5, r"got dtype object holding None at index \(0, 1\): a missing value\?"),
])
def test_inputs_that_are_no_real_numbers_are_refused_at_once(func: str, inputs: object, found: str) -> None:
    call = (lambda: data.train_test_split(inputs, Y)) if func == "train_test_split" else \
        (lambda: data.batches(inputs, Y, 2))
    with pytest.raises(TypeError, match=rf"^{func}: the inputs must be real numbers \(bool, int or float\), {found}"):
        call()


def test_batches_refuse_targets_of_text_and_train_test_split_keeps_class_names() -> None:
    names = np.array(list("abcde"))
    with pytest.raises(TypeError, match=r"^batches: the targets must be real numbers .*got dtype <U1 holding str 'a' "
                                        r"at index 0: .*class names\? "
                                        r"number them, np\.unique\(names, return_inverse=True\)\[1\]$"):
        data.batches(X, names, 2)
    train, test = data.train_test_split(X, names)
    assert sorted([*train.labels, *test.labels]) == list("abcde")
    assert next(iter(data.batches(np.array([[1, 2]] * 5, dtype=object), Y, 5, shuffle=False)))[0].shape == (5, 2)
