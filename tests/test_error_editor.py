"""An editor of error messages reads what a student sees after a slip: a TypeError or ValueError that names the
operation, the argument by the name the student gave it, and the value at fault.  These tests pin messages that
named an internal variable (a converted array, the word another function uses), left out the argument at fault,
or contradicted what was given."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses
from tinygrad_edu.data import one_hot, train_test_split

X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])


# ------------------------------------------------------------------------------------- defects (fixed in the diff)

@pytest.mark.parametrize("labels, words", [
    (np.zeros(4), "inputs and labels hold different numbers of samples, shapes (5, 2) and (4,)"),
    (np.float64(1.0), "inputs and labels need a first axis of samples, got shapes (5, 2) and ()"),
    ([[1.0], [2.0, 3.0], [4.0], [5.0], [6.0]], "the labels are not an array"),
])
def test_train_test_split_names_its_labels_as_the_student_gave_them(labels, words):
    with pytest.raises(ValueError) as info:
        train_test_split(np.zeros((5, 2)), labels)
    message = str(info.value)
    assert message.startswith("train_test_split: ")
    assert words in message
    assert "targets" not in message


@pytest.mark.parametrize("condition, type_name", [
    (None, "NoneType"),
    ("yes", "str"),
    (["a", "b", "c"], "list"),
])
def test_where_names_the_type_of_the_condition_given(condition, type_name):
    with pytest.raises(TypeError, match=r"^where: the condition must be booleans \(or numbers\)") as info:
        F.where(condition, X, 0.0)
    assert str(info.value).endswith(f"({type_name})")


@given(axis=st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2))
def test_a_float_axis_to_stack_or_concatenate_is_named_as_the_axis(axis):
    for join in (F.stack, F.concatenate):
        with pytest.raises(TypeError) as info:
            join([X, X], axis=axis)
        name = join.__name__
        assert str(info.value).startswith(f"{name}: axis must be an int"), str(info.value)
        assert repr(axis) in str(info.value)


def test_a_huge_integer_label_is_refused_as_out_of_range():
    huge = 10 ** 20
    with pytest.raises(ValueError, match=rf"^cross_entropy: labels must lie in 0 … 2 for 3 classes, got {huge} "
                       r"at index 1 \(labels of shape \(2,\)\)$"):
        losses.cross_entropy(Value(X), [0, huge])
    with pytest.raises(ValueError, match=rf"^one_hot: label -{huge} is outside 0..2 \(classes=3\), "
                       r"at index 1 of labels of shape \(2,\)$"):
        one_hot([1, -huge], 3)


# ----------------------------------------------------------------------------------------------------- guards

def test_the_joins_take_a_numpy_integer_axis_and_send_each_input_its_own_gradient():
    """A numpy integer (from np.argmax, a shape) is an axis like any int; d/dxᵢ Σ w·join(x₀, x₁) is xᵢ's part
    of w (closed form)."""
    a, b = Value(X), Value(X * 2)
    weights = np.arange(12.0).reshape(2, 2, 3)
    (F.stack([a, b], axis=np.int64(0)) * weights).sum().backward()
    np.testing.assert_array_equal(a.grad, weights[0])
    np.testing.assert_array_equal(b.grad, weights[1])
    a.grad = b.grad = None
    weights = np.arange(12.0).reshape(2, 6)
    (F.concatenate([a, b], axis=np.int64(1)) * weights).sum().backward()
    np.testing.assert_array_equal(a.grad, weights[:, :3])
    np.testing.assert_array_equal(b.grad, weights[:, 3:])


def test_concatenate_with_axis_none_still_flattens_its_inputs():
    a = Value(X)
    out = F.concatenate([a, Value([7.0])], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([X.ravel(), [7.0]]))
    (out * np.arange(7.0)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(2, 3))


def test_where_takes_a_list_of_booleans_and_sends_the_gradient_to_the_chosen_side():
    a, b = Value([1.0, 2.0, 3.0]), Value([4.0, 5.0, 6.0])
    out = F.where([True, False, True], a, b)
    np.testing.assert_array_equal(out.data, [1.0, 5.0, 3.0])
    (out * np.array([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(a.grad, [10.0, 0.0, 30.0])
    np.testing.assert_array_equal(b.grad, [0.0, 20.0, 0.0])


def test_labels_numpy_can_hold_keep_their_range_messages():
    """The out-of-range message names the label, also for the largest labels numpy holds (uint64)."""
    with pytest.raises(ValueError, match=r"^one_hot: label 18446744073709551615 is outside 0..2 \(classes=3\), "
                       r"at index 0 of labels of shape \(1,\)$"):
        one_hot(np.array([2 ** 64 - 1], dtype=np.uint64), 3)
    with pytest.raises(ValueError, match=r"^cross_entropy: labels must lie in 0 … 2 for 3 classes"):
        losses.cross_entropy(Value(X), np.array([0, 2 ** 63], dtype=np.uint64))
    np.testing.assert_array_equal(one_hot(np.array([2, 0], dtype=np.uint64), 3), [[0, 0, 1], [1, 0, 0]])
