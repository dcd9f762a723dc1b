"""Edges of losses.py and functional.py found by a second pass of mutation testing: each test pins a behaviour
that a hand-made mutant (a flipped comparison, a dropped check or branch, a wrong tolerance, message or default, a
formula written out of other functions) changed while the other tests passed.

93 mutants (48 of losses.py, 45 of functional.py); 50 killed before these tests, 79 after, the other 14
equivalent.  Screened with tests/test_losses.py, test_losses_functional_mutants.py, test_functional_edges.py,
test_functional_misuse.py, test_gradients.py and the doctests of both modules; test_public_names.py killed one
survivor (``losses.__dir__`` listing ``globals()``), and five of the equivalent ones (no ``bool``, ``np.floor``,
int32, ``< 1e-3``, the 0-d index) also passed test_composition, test_api_misuse, test_nn and test_training.

Equivalent mutants, left without a test:

- _as_target without ``bool`` among the Python-number classes: np.asarray(True) is bool, which numpy's rule keeps
  at the prediction's dtype anyway.
- _as_target comparing dtypes with ``!=`` instead of ``is not``: casting to the dtype held copies the same numbers.
- _as_target's cast keeping ``value.requires_grad``: the value cast is always a fresh constant (Value targets are
  returned uncast).
- _class_indices testing ``data == np.floor(data)`` instead of ``np.round``: a finite float equals its floor exactly
  when it equals its rounding.
- _class_indices returning int32 instead of intp: the same indices pick the same entries.
- _probability_rows with ``< 1e-3`` instead of ``<= 1e-3``: a row sum minus 1 is a multiple of the ulp near 1, which
  1e-3 in float64, float32 or float16 is not, so the two never meet.
- cross_entropy indexing a 1-d row with the 0-d index array instead of ``int(targets)``: the same "index" node, value
  and gradient.
- _labels_array turning a Value's labels into float64: a Value's data is already floating; float32 rows differ only
  in the rounding of their sums (~1e-7) against the 1e-3 tolerance.
- _softmax_axis returning None instead of the axis for an input without a shape: apply refuses the input first.
- _softmax_axis with ``len(shape) or 1 if shape else 1`` for ``max(len(shape), 1)``: the same number.
- _shape taking ``np.shape(x)`` of a Value: np.shape goes through the Value's __array_function__ to its own shape.
- _joined keeping the caller's list instead of a copy: apply only unpacks it.
- (was: where casting the condition to bool before ops.select; since round 38 ops.where takes the condition as a
  setting, uncast, and tests/test_stepformulas_r38.py kills the mutant.)
- functional.__getattr__ raising without ``name=name``: Python 3.11 fills in AttributeError.name for a module's
  __getattr__ itself (the test for it kills this on interpreters that do not).

Defect found, and fixed with its test below: one-hot rows of complex numbers got "labels of shape (1, 2) do not
fit logits of shape (1, 2)", though the shape fits (complex class indices were told their dtype); ``_targets`` now
refuses labels of the logits' shape that are not integers, bools or floats by their dtype.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses

# --- losses -------------------------------------------------------------------------------------------------------


def test_a_target_that_overflows_float32_is_named_without_numpys_overflow_warning():
    """1e300 adapted to a float32 prediction is inf, and the cost names it; numpy's "overflow encountered in cast"
    must not escape first (under -W error it would replace the cost's own message)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="^squared_error: the target holds NaN or inf"):
            losses.squared_error(Value(np.float32(1.0)), 1e300)


def test_no_column_hint_when_the_targets_have_more_than_one_axis():
    """Targets (2, 3) against a prediction (2, 3, 1): targets.reshape(-1, 1) would give (6, 1), so no hint."""
    with pytest.raises(ValueError, match=r"^squared_error: .* has shape \(2, 3\); they must be equal$"):
        losses.squared_error(Value(np.zeros((2, 3, 1))), np.zeros((2, 3)))


def test_a_target_given_as_a_value_is_computed_data_and_its_nan_carries_through():
    """Only targets given as data are checked for NaN (named with the index); a Value target (another network's
    output) is a computation like the prediction, and its NaN gives a NaN cost as (y − t)² written out does."""
    c = losses.squared_error(Value([1.0, 2.0]), Value([np.nan, 0.0], requires_grad=False))
    assert math.isnan(c.item())


def test_logits_of_three_axes_are_refused_by_name():
    """Logits are (n, k) or (k,): a third axis is refused before the labels are read."""
    with pytest.raises(ValueError, match=r"^cross_entropy: logits must have shape \(n, k\) or \(k,\), got \(2, 3, 4"):
        losses.cross_entropy(Value(np.zeros((2, 3, 4))), np.zeros((2, 3), dtype=int))


def test_labels_that_are_not_numbers_are_shown_in_at_most_40_characters():
    """A long list of strings is shown by its first labels, at most 40 characters, not in full."""
    labels = ["label"] * 100
    with pytest.raises(TypeError) as raised:
        losses.cross_entropy(Value(np.zeros((100, 3))), labels)
    assert "got a list of str ('label' first, at index 0): " in str(raised.value)


def test_an_integer_row_of_two_ones_is_no_one_hot_row():
    """[1, 1, 0] has a 1 as its largest entry but sums to 2: two classes at once."""
    with pytest.raises(ValueError, match="^cross_entropy: integer one-hot rows must hold a single 1"):
        losses.cross_entropy(Value(np.zeros((1, 3))), np.array([[1, 1, 0]]))


def test_the_first_non_whole_class_index_is_named():
    """Of 0.5 and 2.5, the first in reading order is named."""
    with pytest.raises(ValueError, match=r"class indices must be integers, got 0\.5 at index 0 "
                                         r"\(labels of shape \(2,\), dtype float64\): give whole numbers"):
        losses.cross_entropy(Value(np.zeros((2, 3))), np.array([0.5, 2.5]))


def test_float_target_rows_are_held_to_a_thousandth():
    """The docstring's tolerance: a row summing to 1.0005 is a distribution, one summing to 1.005 is not."""
    logits = np.array([[0.0, 1.0]])
    log_softmax = logits - np.log(np.exp(logits).sum())
    assert losses.cross_entropy(Value(logits), np.array([[0.5, 0.5005]])).item() == pytest.approx(
        -(log_softmax * [0.5, 0.5005]).sum(), rel=1e-12)
    with pytest.raises(ValueError, match="a row sums to 1.005$"):
        losses.cross_entropy(Value(logits), np.array([[0.5, 0.505]]))


def test_the_row_sum_named_is_shown_short():
    """0.1 + 0.2 is 0.30000000000000004 in floats; the message shows 0.3."""
    with pytest.raises(ValueError, match="a row sums to 0.3$"):
        losses.cross_entropy(Value(np.zeros((1, 2))), np.array([[0.1, 0.2]]))


def test_cross_entropy_is_a_cost_by_name():
    """Ln 2 for two equal logits, whichever the label."""
    assert losses.COSTS["cross_entropy"](Value([[0.0, 0.0]]), [1]).item() == pytest.approx(math.log(2), rel=1e-15)


def test_a_probability_a_trillionth_below_zero_is_refused():
    """Non-negative means non-negative: no tolerance below 0 (the tolerance is for the row sums)."""
    with pytest.raises(ValueError, match="hold a negative number"):
        losses.cross_entropy(Value(np.zeros((1, 2))), np.array([[1.0 + 1e-12, -1e-12]]))


def test_labels_given_as_a_list_of_values_are_named_as_not_an_array():
    """np.asarray of Values raises TypeError (they refuse to become arrays); the cost says which argument."""
    with pytest.raises(ValueError, match=r"^cross_entropy: the labels are not an array of numbers: a Value is not"):
        losses.cross_entropy(Value(np.zeros((2, 2))), [Value(1.0), Value(0.0)])


def test_complex_one_hot_rows_are_refused():
    """Complex numbers are no probabilities (the cost would come out complex)."""
    with pytest.raises(ValueError, match="^cross_entropy: "):
        losses.cross_entropy(Value(np.zeros((1, 2))), np.array([[1 + 0j, 0j]]))


def test_complex_one_hot_rows_are_named_by_their_dtype():
    """As complex class indices are ("got dtype complex128"): the shape fits, the dtype is at fault."""
    with pytest.raises(ValueError, match=r"^cross_entropy: .*dtype complex128"):
        losses.cross_entropy(Value(np.zeros((1, 2))), np.array([[1 + 0j, 0j]]))


# --- functional ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, x", [("exp", 1.0), ("log", 2.0), ("sqrt", 4.0), ("abs", -3.0), ("tanh", 0.5),
                                     ("sigmoid", 0.5), ("relu", 1.0), ("leaky_relu", -1.0), ("softplus", 1.0),
                                     ("softmax", [1.0, 2.0]), ("log_softmax", [1.0, 2.0])])
def test_each_function_is_one_node_of_its_own_name(name, x):
    """The module docstring: each is one Op of tinygrad_edu.ops, so a drawn graph shows one node named after the
    function, whose only input is x (not, say, log(exp(x) + 1) for softplus)."""
    v = Value(x)
    y = getattr(F, name)(v)
    assert y.op == name and y.parents == (v,)


@pytest.mark.parametrize("x, expected", [(1000.0, 1000.0), (-1000.0, 0.0)])
def test_sigmoid_and_softplus_never_overflow(x, expected):
    """σ(±1000) is 1 and 0, ln(1 + e^1000) is 1000 (to float precision), without numpy's overflow warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert F.sigmoid(Value(x)).item() == (1.0 if x > 0 else 0.0)
        assert F.softplus(Value(x)).item() == pytest.approx(expected, abs=1e-300)


def test_tanh_keeps_full_precision_near_zero():
    """tanh x = x − x³/3 + …: at 1e-10 it is 1e-10 to the last digit (2σ(2x) − 1 would lose six of them)."""
    assert F.tanh(Value(1e-10)).item() == pytest.approx(1e-10, rel=1e-15)


def test_an_axis_may_be_a_numpy_integer():
    """np.int64(0), as from np.argmax or a shape, is an int to numpy and to softmax."""
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(F.softmax(Value(x), axis=np.int64(0)).data,
                               np.exp(x) / np.exp(x).sum(axis=0), rtol=1e-15)


def test_two_ways_of_writing_one_axis_are_refused_with_the_valid_range():
    """(1, −1) names axis 1 twice in a 2-d input."""
    with pytest.raises(ValueError, match=r"^softmax: axis \(1, -1\) does not fit an input of shape \(2, 2\): "
                                         r"the axes must be distinct and between -2 and 1$"):
        F.softmax(Value(np.zeros((2, 2))), axis=(1, -1))


@pytest.mark.parametrize("values, kind", [(b"ab", "bytes"), ("ab", "str"), (3, "int"), (Value([1.0, 2.0]), "Value"),
                                          ({"a": Value(1.0)}, "dict")])
def test_joining_refuses_what_is_not_a_list_of_values_by_name(values, kind):
    """bytes would be joined as its character codes, a str as its letters, a Value along its first axis, an int
    would fail in list(); a dict has no order (its keys would be taken)."""
    hint = r" \(it has no order\)" if kind == "dict" else ""
    for function in (F.stack, F.concatenate):
        with pytest.raises(TypeError, match=rf"^{function.__name__}: give a list or tuple of Values/arrays, not "
                                            rf"{kind}{hint}$"):
            function(values)


def test_concatenate_with_axis_none_flattens_first():
    """As np.concatenate: a 2×2 and a 1×2 joined flat are the six numbers in reading order."""
    joined = F.concatenate([Value([[1.0, 2.0], [3.0, 4.0]]), Value([[5.0, 6.0]])], axis=None)
    np.testing.assert_array_equal(joined.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])


def test_where_takes_a_value_as_its_condition():
    """Its numbers, as a constant: 1 picks a, 0 picks b."""
    out = F.where(Value([1.0, 0.0]), Value([1.0, 2.0]), Value([3.0, 4.0]))
    np.testing.assert_array_equal(out.data, [1.0, 4.0])


def test_a_complex_condition_is_a_type_error_naming_its_dtype():
    """Is 1j true?  numpy says yes, but no comparison gives complex numbers: a slip, refused."""
    with pytest.raises(TypeError, match=r"^where: the condition must be booleans \(or numbers\), not complex128 "
                                        r"\(ndarray\)$"):
        F.where(np.array([1j, 0]), 1.0, 2.0)


def test_a_missing_name_is_an_attribute_error_carrying_the_name():
    """hasattr, getattr with a default and the "did you mean" of Python 3.10+ read AttributeError.name."""
    with pytest.raises(AttributeError) as raised:
        F.cross_entropy  # noqa: B018
    assert raised.value.name == "cross_entropy"


def test_an_axis_out_of_range_for_a_list_of_values_still_points_to_stack():
    """A list holding Values has no shape to check the axis against: the error is the list's, not "axis 2 does not
    fit an input of shape ()"."""
    with pytest.raises(TypeError, match=r"^softmax: .*F\.stack"):
        F.softmax([Value(1.0), Value(2.0)], axis=2)


def test_identity_of_plain_numbers_is_a_constant():
    """As the costs' arrays: numbers that are not a Value have no gradient to take."""
    y = F.identity(np.array([1.0, -2.0]))
    assert y.requires_grad is False
    np.testing.assert_array_equal(y.data, [1.0, -2.0])
