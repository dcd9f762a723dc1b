"""Round 50's mutation pass: tests that kill the hand mutants of this round's changes (git diff 7c889c1 HEAD --
tinygrad_edu) that the round's own tests let live, each asserting what a user would see: the labels' refusals
(which function's words, the int64 bound, one-hot rows told from a grid of class indices, the missing-label advice),
train's --cost-goal and hexadecimal numbers, the NaN count of a Value printed whole, and the step's g·g asking a
subclass's override."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, losses, optim
from tinygrad_edu.data import one_hot

LOGITS = np.zeros((2, 3))


# ------------------------------------------------------------------------------------------------ labels

def test_a_label_beyond_int64_is_refused_in_each_functions_own_words() -> None:
    """one_hot and cross_entropy word an out-of-range label each as they do for any other: checks.label_numbers
    must not give one the other's sentence."""
    with pytest.raises(ValueError) as raised:
        one_hot([0, 10 ** 20], classes=3)
    assert str(raised.value) == (f"one_hot: label {10 ** 20} is outside 0..2 (classes=3), at index 1 of labels of "
                                 "shape (2,)")
    with pytest.raises(ValueError) as raised:
        losses.cross_entropy(LOGITS, [0, 10 ** 20])
    assert str(raised.value) == (f"cross_entropy: labels must lie in 0 … 2 for 3 classes, got {10 ** 20} at index 1 "
                                 "(labels of shape (2,))")


@pytest.mark.parametrize("call", [lambda labels: one_hot(labels, classes=3),
                                  lambda labels: losses.cross_entropy(LOGITS, labels)], ids=["one_hot", "ce"])
def test_an_object_label_of_two_to_the_63_is_out_of_range_not_an_overflow(call: Any) -> None:
    """2**63 is the first int past int64: named as out of range, not numpy's OverflowError of astype(int64)."""
    with pytest.raises(ValueError, match=rf"{2 ** 63}\b.*at index 1"):
        call(np.array([0, 2 ** 63], dtype=object))
    with pytest.raises(ValueError, match=rf"{-2 ** 63}\b.*at index 1"):  # (the last int64: negative, refused too)
        call(np.array([0, -2 ** 63], dtype=object))


@pytest.mark.parametrize("labels", [[[0, 0], [1, 1]], [[0, 1], [0, 0]], [[1, 1], [0, 1]]])
def test_a_grid_of_zeros_and_ones_whose_rows_are_not_one_hot_is_class_indices(labels: list[list[int]]) -> None:
    """Only rows that each hold exactly one 1 are one-hot rows; a (2, 2) grid of labels 0 and 1 for 2 classes whose
    rows do not (all of them) sum to 1 is class indices, one per sample, and one_hot makes its targets."""
    targets = one_hot(np.array(labels), classes=2)
    np.testing.assert_array_equal(targets, np.eye(2)[np.array(labels)])
    assert targets.shape == (2, 2, 2)


def test_a_nan_label_is_called_a_missing_label_and_a_fraction_is_not() -> None:
    with pytest.raises(ValueError) as raised:
        losses.cross_entropy(LOGITS, [1.0, np.nan])
    assert str(raised.value).endswith("got nan at index 1 (labels of shape (2,), dtype float64): give whole numbers, "
                                      "ints in 0 … 2; a missing label? leave that sample out")
    with pytest.raises(ValueError) as raised:
        losses.cross_entropy(LOGITS, [1.0, 1.5])
    assert str(raised.value).endswith("got 1.5 at index 1 (labels of shape (2,), dtype float64): give whole numbers, "
                                      "ints in 0 … 2")


@pytest.mark.parametrize("labels", [np.array([1.0, True], dtype=object), np.array([2, True], dtype=object),
                                    np.array([np.True_, 0.0], dtype=object)])
def test_a_bool_among_object_labels_is_no_class_index(labels: np.ndarray) -> None:
    """A bool is never taken for a number: objects of floats or ints with a bool among them are refused by both,
    not read as 1.0 or 1."""
    with pytest.raises(TypeError, match=r"^cross_entropy: the labels must be numbers \(class indices or one-hot "
                                        r"rows\), got an ndarray holding "):
        losses.cross_entropy(LOGITS, labels)
    with pytest.raises(TypeError, match=r"^one_hot: the labels must be numbers \(class indices\), got an ndarray "):
        one_hot(labels, classes=3)


def test_complex_objects_are_named_as_labels_that_are_no_numbers() -> None:
    """Complex numbers are numbers, but not real: held as objects, the first one is named with its index (no element
    fails isinstance(x, Number), so the message names the first)."""
    with pytest.raises(TypeError, match=r"^cross_entropy: the labels must be numbers \(class indices or one-hot "
                                        r"rows\), got an ndarray holding complex 1j at index 0: give class indices "
                                        r"\(ints in 0 … 2\) or one-hot rows$"):
        losses.cross_entropy(LOGITS, np.array([1j, 2], dtype=object))


def test_empty_object_labels_are_taken_as_empty_integer_labels_are() -> None:
    """An empty pandas column of objects (every row filtered out): one_hot gives no targets, and cross_entropy says
    the labels do not fit the logits, as for np.array([], dtype=int); not numpy's IndexError."""
    assert one_hot(np.array([], dtype=object), classes=3).shape == (0, 3)
    with pytest.raises(ValueError, match=r"^cross_entropy: labels of shape \(0,\) do not fit logits of shape"):
        losses.cross_entropy(LOGITS, np.array([], dtype=object))


# ------------------------------------------------------------------------------- --cost-goal, hexadecimal

def _cost_goal_error(capsys: pytest.CaptureFixture[str], given: str) -> str:
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    return capsys.readouterr().err


@pytest.mark.parametrize("given", ["+inf", "INF", "Infinity", "+Infinity"])
def test_an_infinite_cost_goal_written_as_such_is_not_said_to_be_rounded(capsys: pytest.CaptureFixture[str],
                                                                         given: str) -> None:
    """'(as a float it is inf: above 1.8e308)' is for 1e400; inf written in any of float()'s spellings is inf."""
    error = _cost_goal_error(capsys, given)
    assert f"must be a positive number, got {given}: every cost is below it, so the first episode would end the " \
           "run" in error, error


@pytest.mark.parametrize("given", ["ff", "1e", "abc", "1,5"])
def test_text_without_an_x_is_not_read_as_hexadecimal(capsys: pytest.CaptureFixture[str], given: str) -> None:
    """float.fromhex reads 'ff' as 255 and '1e' (1e-4 mistyped) as 30: without an x nothing is hexadecimal."""
    error = _cost_goal_error(capsys, given)
    assert f"expected a number, got '{given}'" in error and "hexadecimal" not in error, error


def test_a_hexadecimal_number_with_a_capital_x_or_beyond_float_is_answered(capsys: pytest.CaptureFixture[str]) \
        -> None:
    assert "got '0X10': numpy reads decimal numbers only, not hexadecimal: write 16" in _cost_goal_error(capsys,
                                                                                                           "0X10")
    error = _cost_goal_error(capsys, "0x1p99999")  # (fromhex: OverflowError; no decimal to give)
    assert "expected a number, got '0x1p99999'" in error and "Traceback" not in error, error


# ------------------------------------------------------------------------------------------------- printing

def test_a_nan_printed_among_every_number_is_not_counted_as_hidden() -> None:
    """(2, 2, 2) has more numbers than the threshold (6) but numpy elides nothing of an axis of 2: all eight print,
    the NaN among them, so no '# data holds 1 NaN' (that is for a NaN the summary hides)."""
    data = np.arange(8.0).reshape(2, 2, 2)
    data[0, 0, 1] = np.nan
    text = repr(Value(data))
    assert text == "Value(data=[[[ 0. nan]  [ 2.  3.]] [[ 4.  5.]  [ 6.  7.]]], grad=None)", text
    html = Value(data)._repr_html_()
    assert "holds" not in html and "flattened" not in html


def test_an_array_within_the_threshold_prints_whole_whatever_its_summary() -> None:
    """Flattening is for arrays past the summary's threshold: 27 numbers under a threshold of 100 print in their
    three axes, every number shown (the NaN too, so none is counted as hidden), even where one kept at each end
    ((2 · 1)³ = 8) is fewer."""
    from tinygrad_edu.printing import array_text, hidden_non_finite

    data = np.arange(27.0).reshape(3, 3, 3)
    data[1, 1, 1] = np.nan
    text = array_text(data, (100, 1))
    assert "flattened" not in text and text.count("\n\n") == 2 and " nan " in text, text
    assert hidden_non_finite(data, None, (100, 1)) == ""


# ---------------------------------------------------------------------------------------------------- optim

class _KeepsItsClass(np.ndarray):
    """A gradient type whose __array_function__ notes each numpy function and keeps its class in what it returns
    (as a unit-carrying array would)."""

    asked: list[str] = []

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        type(self).asked.append(func.__name__)
        result = super().__array_function__(func, types, args, kwargs)
        return result.view(type(self)) if isinstance(result, np.ndarray) else result


def test_the_steps_finite_check_asks_a_subclasss_own_vdot() -> None:
    """The step's Σ g² skips np.vdot's dispatch for ndarrays only: a gradient type that overrides numpy's functions
    (and keeps its class through concatenate) is asked for vdot, and the step is the same."""
    _KeepsItsClass.asked = []
    p = Value(np.zeros(3))
    p.grad = np.array([3.0, 4.0, 0.0]).view(_KeepsItsClass)
    optim.GradientDescent([p], 0.5).step()
    assert "vdot" in _KeepsItsClass.asked, _KeepsItsClass.asked
    np.testing.assert_array_equal(p.data, [-1.5, -2.0, 0.0])


# ------------------------------------------------------------------------------------------ engine fast path

def test_a_single_number_summed_or_multiplied_with_an_array_gets_its_gradient_summed() -> None:
    """The fast paths are for a 0-d result: a 0-d input of a (3,) sum or product gets Σ g, or Σ g·v, of shape ()."""
    a, v = Value(2.0), Value(np.array([1.0, -2.0, 4.0]))
    ((a + v) * np.array([1.0, 10.0, 100.0])).sum().backward()
    assert a.grad.shape == () and float(a.grad) == 111.0
    np.testing.assert_array_equal(v.grad, [1.0, 10.0, 100.0])
    b = Value(0.5)
    (b * v).sum().backward()
    assert b.grad.shape == () and float(b.grad) == 3.0


def test_a_0d_difference_quotient_and_power_keep_their_own_rules() -> None:
    """Only sums and products take the fast paths: a - b, a / b and a ** b of single numbers, against closed
    forms ∂(a - b) = (1, -1), ∂(a / b) = (1/b, -a/b²), ∂(a ** b) = (b a^(b-1), a^b ln a)."""
    for f, closed in [(lambda a, b: a - b, lambda a, b: (1.0, -1.0)),
                      (lambda a, b: a / b, lambda a, b: (1 / b, -a / b ** 2)),
                      (lambda a, b: a ** b, lambda a, b: (b * a ** (b - 1), a ** b * np.log(a)))]:
        a, b = Value(1.5), Value(-0.75)
        f(a, b).backward()
        np.testing.assert_allclose([float(a.grad), float(b.grad)], closed(1.5, -0.75), rtol=1e-15)


# ------------------------------------------------------------------- fit's samples (landed at 00:50, hot2)

def _samples_seen(inputs: np.ndarray, batch_size: int | None) -> list[Value]:
    from tinygrad_edu import data, nn, training
    from tinygrad_edu.losses import squared_error

    seen: list[Value] = []

    class Keeper(nn.Module):
        def __init__(self) -> None:
            self.weight = Value(np.ones((1, 1)))

        def __call__(self, samples: Value) -> Value:
            seen.append(samples)
            return samples @ self.weight

    model = Keeper()
    targets = data.xsquared(len(inputs), seed=1)[1]
    training.fit(model, inputs, targets, cost=squared_error, optimizer=optim.GradientDescent(model, 0.01),
                 episodes=1, batch_size=batch_size, seed=0, progress=False)
    return seen


def test_fit_gives_the_full_batch_as_a_view_of_the_callers_inputs_not_a_copy() -> None:
    """The small mini-batch's copy is for mini-batches: the cost on all samples reads the caller's own numbers
    (a copy of 60,000 × 784 inputs is 376 MB), read-only."""
    inputs = np.linspace(-1.0, 1.0, 20).reshape(20, 1)
    seen = _samples_seen(inputs, None)
    assert seen and all(np.shares_memory(v.data, inputs) and not v.data.flags.writeable for v in seen)


def test_fit_gives_a_large_mini_batch_as_a_view_of_its_batch_not_a_second_copy() -> None:
    """A mini-batch of more than 1,024 numbers is the copy data.batches made, viewed read-only, not copied again."""
    inputs = np.linspace(-1.0, 1.0, 3000).reshape(3000, 1)
    batches = [v for v in _samples_seen(inputs, 1500) if v.shape == (1500, 1)]
    assert len(batches) == 2 and all(v.data.base is not None and not v.data.flags.writeable for v in batches)
    assert not any(np.shares_memory(v.data, inputs) for v in batches)  # (a shuffled batch: batches' own rows)


def test_shuffled_3d_targets_keep_fancy_indexings_layout_whatever_the_inputs_are() -> None:
    """batches takes rows by ndarray.take for arrays of up to 2 axes, each array by its own number of axes: 3-D
    targets (a sequence per sample) of 2-D inputs are still their rows as x[idx] takes them, strides and all."""
    from tinygrad_edu import data

    x = np.arange(22.0).reshape(11, 2)
    y = np.asfortranarray(np.random.default_rng(5).random((11, 3, 2)))
    order = np.random.default_rng(3).permutation(11)  # (what batches draws from seed 3, for its first pass)
    for k, (bx, by) in enumerate(data.batches(x, y, 4, seed=3)):
        want = y[order[4 * k:4 * k + 4]]
        assert np.array_equal(by, want) and by.strides == want.strides
        np.testing.assert_array_equal(bx, x[order[4 * k:4 * k + 4]])


def test_an_ops_name_set_later_is_checked_as_the_constructors() -> None:
    """Messages name the op by .name: set to "" or a number after construction, it is refused and left as it was."""
    from tinygrad_edu.ops import Op

    op = Op("twice", lambda a: 2 * a, lambda g, out, a: 2 * g)
    for bad, error in (("", ValueError), ("  ", ValueError), (3, TypeError), (None, TypeError)):  # (the constructor's)
        with pytest.raises(error, match=r"^Op 'twice': name must be a non-empty str, got "):
            op.name = bad  # type: ignore[assignment]
    assert op.name == "twice"
    op.name = "double"
    assert op.name == "double"


# ------------------------------------------------------------------ the player's first step (landed at 00:50)

@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_a_leaf_used_twice_is_listed_at_its_first_use(layout: str) -> None:
    """a is the first input of the first operation, a·b, and used again by the last, a·b + a: the first step lists
    it first, where the forward pass first takes it, not after b at its last use."""
    import re

    from tinygrad_edu import viz

    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    product = a * b
    product.label = "p"
    cost = product + a
    cost.label = "C"
    rows = re.findall(r"<tr><td>(.*?)</td>", viz.backprop_player(cost, layout=layout).steps[0].html)
    assert rows == ["a", "b"], rows


@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_leaves_are_listed_operation_by_operation(layout: str) -> None:
    """a·b + c·d: the forward pass takes a and b for its first product, then c and d: listed a, b, c, d, not the
    first inputs of every operation before the second ones (a, c, b, d)."""
    import re

    from tinygrad_edu import viz

    a, b, c, d = (Value(x, label=name) for x, name in ((2.0, "a"), (3.0, "b"), (5.0, "c"), (7.0, "d")))
    ab, cd = a * b, c * d
    ab.label, cd.label = "p", "q"
    cost = ab + cd
    cost.label = "C"
    rows = re.findall(r"<tr><td>(.*?)</td>", viz.backprop_player(cost, layout=layout).steps[0].html)
    assert rows == ["a", "b", "c", "d"], rows
