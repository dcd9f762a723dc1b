"""Round 50's review: what the round's changes left wrong, each mended and pinned here (labels of no elements, of
Decimals among floats, with pandas' NA; --cost-goal's NaN; the hexadecimal advice; …)."""
from __future__ import annotations

import decimal
import re

import numpy as np
import pytest

from tinygrad_edu import Value, losses
from tinygrad_edu.data import one_hot


# --- checks.label_numbers ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("labels", [np.array([], dtype=object), np.empty((0, 2), dtype=object),
                                    np.array([], dtype=str)])
def test_no_labels_of_objects_or_text_are_no_labels_as_of_ints(labels: np.ndarray) -> None:
    """An empty column of objects (pandas') holds no label that is wrong: one_hot gives no rows, as for an empty
    list (it raised numpy's IndexError from the message that names the first element that is no number)."""
    got = one_hot(labels, 3)
    assert got.shape == labels.shape + (3,) and got.dtype == np.float64
    assert got.shape == one_hot(np.zeros(labels.shape, dtype=np.int64), 3).shape


def test_no_labels_of_objects_reach_cross_entropys_shape_check() -> None:
    with pytest.raises(ValueError, match=r"cross_entropy: labels of shape \(0,\) do not fit logits of shape \(2, 3\)"):
        losses.cross_entropy(Value(np.zeros((2, 3))), np.array([], dtype=object))


def test_decimals_among_floats_are_read_as_floats_as_ints_among_floats_are() -> None:
    """[Decimal('1'), 2.0] were told they 'must be numbers', naming the Decimal, which alone is a label."""
    logits = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    expected = losses.cross_entropy(Value(logits), [1, 2])
    got = losses.cross_entropy(Value(logits), [decimal.Decimal(1), 2.0])
    assert float(got.data) == float(expected.data)
    # ln Σ e^z − z_y, by hand
    by_hand = np.mean([np.log(np.exp(row).sum()) - row[y] for row, y in zip(logits, [1, 2])])
    assert float(got.data) == pytest.approx(by_hand, rel=1e-14)
    with pytest.raises(ValueError, match=r"class indices must be integers, got 2\.5 at index 1"):
        losses.cross_entropy(Value(logits), [decimal.Decimal(1), 2.5])


def test_pandas_na_among_labels_is_called_a_missing_label() -> None:
    pd = pytest.importorskip("pandas")
    for labels in (pd.Series([1, pd.NA], dtype=object), [0, pd.NA]):
        with pytest.raises(TypeError, match=r"holding NAType <NA> at index 1: a missing label\? leave that sample"):
            one_hot(labels, 3)
        with pytest.raises(TypeError, match=r"holding NAType <NA> at index 1: a missing label\? leave that sample"):
            losses.cross_entropy(Value(np.zeros((2, 3))), labels)


# --- cli ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["-nan", "-NaN", "nan", "+nan"])
def test_a_cost_goal_of_nan_written_with_a_sign_is_not_said_to_be_inf(text: str) -> None:
    import argparse

    from tinygrad_edu import cli
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        cli._cost_goal(text)
    assert "inf" not in str(caught.value) and "no cost is ever at or below NaN" in str(caught.value)


@pytest.mark.parametrize("text", ["0x123456789", "0x1p-30", "0x10", "-0x1.8p1", "0XFFFFFFFFFFFFF"])
def test_the_hexadecimal_advice_pasted_gives_the_same_number(text: str) -> None:
    import argparse

    from tinygrad_edu import cli
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        cli._number(text)
    written = str(caught.value).rpartition("write ")[2]
    assert cli._number(written) == float.fromhex(text)  # the advice, pasted where the number goes


# --- one_hot's refusal of one-hot rows -----------------------------------------------------------------------------
def test_class_indices_that_look_like_one_hot_rows_get_advice_that_works_when_pasted() -> None:
    """A (2, 2) grid of 0/1 class indices, one 1 a row, is refused as one-hot rows; the message says how to have them
    as the class indices they may be, and that, pasted, gives each label's own one-hot row."""
    labels = [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="one-hot rows already") as caught:
        one_hot(labels, 2)
    code = str(caught.value).rpartition("a grid of 0s and 1s: ")[2][:-1]
    got = eval(code, {"one_hot": one_hot, "np": np, "labels": labels})  # noqa: S307 (the message's own advice)
    assert got.shape == (2, 2, 2)
    for i in range(2):
        for j in range(2):
            assert got[i, j].tolist() == [1.0 * (k == labels[i][j]) for k in range(2)]


# --- the walk's fast paths and rules of one's own ------------------------------------------------------------------
def test_a_sums_rules_set_by_hand_are_called_on_single_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """op.vjps may be set (ops.Op checks it); the walk handed a 0-d float64 sum's g on without the rules set."""
    from tinygrad_edu import ops
    monkeypatch.setattr(ops.add, "vjps", (lambda g, out, a, b: 2.0 * g, lambda g, out, a, b: -3.0 * g))
    a, b = Value(0.5), Value(1.5)
    (a + b).backward()
    assert float(a.grad) == 2.0 and float(b.grad) == -3.0
    v = Value(np.array([0.5, 1.0]))
    (v + 1.0).sum().backward()  # the same rules on arrays, as they always were
    assert v.grad.tolist() == [2.0, 2.0]


def test_a_products_rules_set_by_hand_are_called_on_single_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The product's fast path computed g·b and g·a whatever op.vjps was set to (g·a for both, where the first rule
    was not the built-in one)."""
    from tinygrad_edu import ops
    monkeypatch.setattr(ops.mul, "vjps", (lambda g, out, a, b: g * (b + 1.0), lambda g, out, a, b: g * (a + 1.0)))
    a, b = Value(2.0), Value(5.0)
    (a * b).backward()
    assert float(a.grad) == 6.0 and float(b.grad) == 3.0


def test_an_op_of_ones_own_with_the_products_rules_still_gets_the_products_gradient() -> None:
    """An Op sharing mul's very rules (Op('times', f, ops.mul.vjps)) takes the fast path: ∂(ab)/∂a = b, exactly."""
    from tinygrad_edu import ops
    times = ops.Op("times", np.multiply, ops.mul.vjps)
    a, b = Value(0.3), Value(-7.0)
    times(a, b).backward()
    assert float(a.grad) == -7.0 and float(b.grad) == 0.3


def test_a_forward_set_by_hand_is_called_on_single_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """op.forward may be set (ops.Op checks it); + of two float64 numbers computed a + b by Python floats whatever
    ops.add.forward was, where arrays called it."""
    from tinygrad_edu import ops
    monkeypatch.setattr(ops.add, "forward", lambda a, b: np.add(a, b) + 100.0)
    assert float((Value(1.0) + Value(2.0)).data) == 103.0
    assert (Value(np.array([1.0])) + Value(np.array([2.0]))).data.tolist() == [103.0]
    assert float((Value(1.0) * Value(2.0)).data) == 2.0  # the others as they were


# --- ops.Op's attributes set later ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, error", [("", ValueError), ("   ", ValueError), (3, TypeError)])
def test_an_op_renamed_to_no_name_gets_the_constructors_error(name: object, error: type[Exception]) -> None:
    """The docstring says attributes set later are checked as the constructor checks them: an empty name is its
    ValueError (a str, of no name), not a TypeError."""
    from tinygrad_edu import ops
    op = ops.Op("twice", lambda x: 2 * x, lambda g, out, x: 2 * g)
    with pytest.raises(error, match="name must be a non-empty str"):
        op.name = name
    with pytest.raises(error, match="name must be a"):
        ops.Op(name, lambda x: 2 * x, lambda g, out, x: 2 * g)  # type: ignore[arg-type]
    assert op.name == "twice"


# --- printing's "(flattened)" ----------------------------------------------------------------------------------------
def test_a_flattened_print_of_a_broadcast_copies_only_its_ends() -> None:
    """A broadcast view of 2²⁴ numbers (one float64 in memory) printed flat was copied whole by reshape(-1), 128 MB
    for a repr of four numbers; its ends are read instead.  The text is the flat array's own summary."""
    import tracemalloc

    from tinygrad_edu import ops
    x = Value(np.zeros(()))
    y = ops.broadcast_to(x, shape=(2,) * 24)
    tracemalloc.start()
    try:
        text = repr(y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text.startswith("Value(data=[0. 0. ... 0. 0.] (flattened), shape=(2, 2, 2,")
    assert peak < 2 ** 24 * 8 // 2, peak  # (NaN and inf are counted over a bool array of 2²⁴ bytes, 16 MB)


def test_a_flattened_print_is_the_flat_arrays_print_and_counts_what_it_hides() -> None:
    from tinygrad_edu import printing
    numbers = np.arange(4096.0)
    numbers[7] = np.nan
    for summary in (printing.TEXT_SUMMARY, printing.HTML_SUMMARY):
        flat = printing.array_text(numbers, summary)
        assert printing.array_text(numbers.reshape((2,) * 12), summary) == f"{flat} (flattened)"
        assert printing.hidden_non_finite(numbers.reshape((2,) * 12), None, summary) == "data holds 1 NaN"
    assert printing.array_text(np.arange(64.0).reshape((2,) * 6), printing.TEXT_SUMMARY).count("(flattened)") == 0


@pytest.mark.parametrize("labels, shown", [([10 ** 400, 1.5], f"{10 ** 400} at index 0"),
                                           ([1.5, decimal.Decimal("-1e400")], "-1E+400 at index 1")])
def test_a_label_no_float_holds_among_floats_is_out_of_range(labels: list, shown: str) -> None:
    """Objects with floats among them were read by astype(float64): 10**400 raised a bare OverflowError."""
    label, where = (re.escape(part) for part in shown.split(" at "))
    with pytest.raises(ValueError, match=rf"cross_entropy: labels must lie in 0 … 2 for 3 classes, got {label} at "
                                         rf"{where} "):
        losses.cross_entropy(Value(np.zeros((2, 3))), labels)
    with pytest.raises(ValueError, match=rf"one_hot: label {label} is outside 0\.\.2 \(classes=3\), at {where} "):
        one_hot(labels, 3)


def test_a_signalling_nan_decimal_among_floats_is_a_missing_label() -> None:
    """float(Decimal('sNaN')) raises ValueError('cannot convert signaling NaN to float'), naming no operation."""
    with pytest.raises(ValueError, match=r"^cross_entropy: class indices must be integers, got nan at index 0 .*"
                                         r"a missing label\?"):
        losses.cross_entropy(Value(np.zeros((2, 3))), [decimal.Decimal("sNaN"), 1.0])


def test_a_missing_value_is_told_alike_in_labels_and_in_samples() -> None:
    """data._real and the labels' message had each their own test for None and pandas' NA: checks.missing_value."""
    from tinygrad_edu import checks, data
    pd = pytest.importorskip("pandas")
    assert [checks.missing_value(x) for x in (None, pd.NA, np.nan, 0, "NA")] == [True, True, False, False, False]
    with pytest.raises(TypeError, match=r"holding <NA> at index 1: a missing value\?"):
        data.train_test_split(np.array([1.0, pd.NA], dtype=object), np.array([1.0, 2.0]))
