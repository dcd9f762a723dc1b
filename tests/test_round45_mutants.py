"""Round 45's mutation pass (``git diff abcd457 HEAD -- tinygrad_edu``): tests for the hand mutants that survived the
round's own tests and the tests near each module, where a user would see wrong numbers, a wrong or missing message,
or a lost refusal.  Each test names the mutant it kills."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Op, Value, apply, losses, nn, no_grad, optim, plots
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.testing import GradientCheckError, check_gradients

# --- engine._Shown: the text str's methods make of f"{x:.3f}" in a recorded vjp --------------------------------------

_MORE_READ_BACKS: dict[str, Callable[[str], Any]] = {
    "lower": lambda text: float(text.lower()), "upper": lambda text: float(text.upper()),
    "casefold": lambda text: float(text.casefold()), "swapcase": lambda text: float(text.swapcase()),
    "title": lambda text: float(text.title()), "capitalize": lambda text: float(text.capitalize()),
    "center": lambda text: float(text.center(9)), "ljust": lambda text: float(text.ljust(9)),
    "rjust": lambda text: float(text.rjust(9)), "zfill": lambda text: float(text.zfill(9)),
    "expandtabs": lambda text: float(text.expandtabs()), "lstrip": lambda text: float(text.lstrip()),
    "rstrip": lambda text: float(text.rstrip()), "rsplit": lambda text: float(text.rsplit()[0]),
    "rpartition": lambda text: float(text.rpartition(" ")[2]), "splitlines": lambda text: float(text.splitlines()[0]),
    "removeprefix": lambda text: float(text.removeprefix("+")),
    "removesuffix": lambda text: float(text.removesuffix("0")),
    "translate": lambda text: float(text.translate({44: None})), "times one": lambda text: float(text * 1),
    "one times": lambda text: float(1 * text), "percent": lambda text: float(text % ()),
}


@pytest.mark.parametrize("how", list(_MORE_READ_BACKS))
def test_every_kept_str_method_keeps_the_text_refused_as_a_number(how: str) -> None:
    """Each str method _Shown keeps (mutants: one of them dropped from its list) gives text still refused by
    float() in a vjp of a recorded pass, where the number would be a constant: a silent 0 at order 2."""
    def vjp(g: Any, out: Any, x: Any) -> Any:
        return g * _MORE_READ_BACKS[how](f"{x:.3f}")
    read_back = Op("read_back", lambda x: x * x / 2, vjp)
    with pytest.raises(TypeError, match=r"^read_back: its vjp cannot be differentiated: float\(f'\{x:…\}'\)"):
        hessian(lambda v: apply(read_back, v))(Value(1.5))


def test_text_added_in_front_of_a_shown_value_reads_in_its_order() -> None:
    """"x = " + f"{x:.3f}" in a vjp of a recorded pass prints "x = 1.500" (mutant: the two parts swapped), and the
    second derivative of x²/2 written on x is 1."""
    printed: list[str] = []

    def vjp(g: Any, out: Any, x: Any) -> Any:
        printed.append("x = " + f"{x:.3f}")
        return g * x
    half_square = Op("half_square", lambda x: x * x / 2, vjp)
    assert hessian(lambda v: apply(half_square, v))(Value(1.5)).item() == 1.0
    assert printed and all(str(text) == "x = 1.500" for text in printed)


# --- losses: logits (k,) of one sample met by labels of n samples ---------------------------------------------------


def test_the_one_sample_hint_says_the_logits_classes_and_the_labels_samples() -> None:
    """Logits (4,), labels (3,): 4 classes, 3 samples (mutant: the labels' count said as the classes')."""
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(Value(np.zeros(4)), np.array([0, 1, 2]))
    assert "logits of shape (4,) are one sample with 4 classes: for 3 samples, give logits of shape (3, classes)" \
        in str(caught.value)


def test_the_one_sample_hint_says_labels_of_the_logits_shape_are_read_as_a_row_and_no_others() -> None:
    """Labels of the logits' shape (3,) are read as its one-hot row or row of probabilities, and the message says
    so (a negative float too); a column (3, 1) is not (mutants: that clause always, or never)."""
    read = "logits of shape (3,) are one sample with 3 classes, so labels of shape (3,) are read as its {}: "
    for labels, row in ((np.array([0, 1, 2]), "one-hot row"), (np.array([-1.0, 1.0, 1.0]), "row of probabilities"),
                        (np.array([0.0, 1.0, 2.0]), "row of probabilities")):
        with pytest.raises(ValueError) as caught:
            losses.cross_entropy(Value(np.zeros(3)), labels)
        assert read.format(row) in str(caught.value), labels
        assert str(caught.value).endswith("each sample's class index"), labels
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(Value(np.zeros(3)), np.array([[0], [1], [1]]))
    assert "one sample with 3 classes: for 3 samples" in str(caught.value) and "read as" not in str(caught.value)


def test_no_labels_for_one_sample_get_no_advice_for_0_samples() -> None:
    """Labels of shape (0,) for logits (3,): no 'for 0 samples, give logits of shape (0, classes)' (mutant)."""
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(Value(np.zeros(3)), np.zeros(0, dtype=int))
    assert str(caught.value) == ("cross_entropy: labels of shape (0,) do not fit logits of shape (3,); give class "
                                 "indices of shape () or one-hot rows of shape (3,)")


# --- plots: descent_path's and plot_descent's learning rate checked as the optimizers check it ---------------------

@pytest.mark.parametrize("rate", [np.array(0.25), Value(0.25), np.array([0.25])], ids=["0-d", "Value", "(1,)"])
def test_descent_path_takes_a_learning_rate_held_as_the_optimizers_take_it(rate: Any) -> None:
    """x ← x − η·2x from (1, 2) with η = 0.25: (1, 2), (0.5, 1), (0.25, 0.5) (mutant: the old check, which refused a
    0-d array and a Value the optimizers take)."""
    path = plots.descent_path(lambda p: (p * p).sum(), [1.0, 2.0], rate, steps=2)
    np.testing.assert_array_equal(path, [[1.0, 2.0], [0.5, 1.0], [0.25, 0.5]])


def test_descent_path_refuses_a_learning_rate_in_its_own_name() -> None:
    """A negative η: the optimizers' words, under descent_path's name and its argument's (mutant: the check's
    defaults, 'learning_rate: learning_rate')."""
    with pytest.raises(ValueError) as said:
        optim.GradientDescent([Value([1.0])], -0.1)
    with pytest.raises(ValueError) as caught:
        plots.descent_path(lambda p: (p * p).sum(), [1.0, 2.0], -0.1, steps=2)
    assert str(caught.value) == str(said.value).replace("GradientDescent:", "descent_path:")
    assert str(caught.value) == "descent_path: learning_rate must be >= 0, got -0.1"


# --- training: final_cost without its pass only where no Generator draws anew ---------------------------------------

class _Dropped(nn.Module):
    """y = x·w masked by a Bernoulli(1/2) draw of its own Generator at each forward (a dropout of one's own)."""

    def __init__(self) -> None:
        self.w, self.rng = Value(np.array([[1.0]])), np.random.default_rng(7)

    def forward(self, x: Value) -> Value:
        return (x @ self.w) * (self.rng.random((len(x.data), 1)) < 0.5)


def test_final_cost_of_a_model_drawing_from_its_generator_is_a_pass_of_its_own() -> None:
    """Stopped at tol before any step (full batch), a model that draws its masks makes its final pass with the next
    draw, not the episode's (mutant: the episode's cost taken for a model with a Generator too)."""
    x, y = np.array([[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]]), np.zeros((6, 1))
    copy = np.random.default_rng(7)
    first, second = (copy.random((6, 1)) < 0.5 for _ in range(2))
    assert not np.array_equal(first, second)  # (the draws differ: so do the costs below)
    model = _Dropped()
    history = tinygrad_edu.fit(model, x, y, optimizer=optim.GradientDescent([model.w], 0.01), episodes=3, tol=1e9,
                               progress=False)
    assert history.stopped == "tol" and history.episodes == 1
    assert history.cost[0] == float(((x * first) ** 2).sum() / 6)  # squared error, mean over samples: closed form
    assert history.final_cost == float(((x * second) ** 2).sum() / 6)


# --- optim.RandomSearch: only its own change x + u is said to have overflowed ---------------------------------------

def test_random_searchs_cost_that_overflows_is_not_called_its_change() -> None:
    """The change x + u is finite; the cost then overflows under np.errstate(over="raise"): numpy's error about the
    cost, not 'the update x ← x + u … the scale is too large' (mutant: the changed parameter still named after the
    change); the parameters and the generator as they were."""
    x = Value([1.0, 2.0])
    search = optim.RandomSearch([x], scale=0.5, rng=0)
    state = search.rng.bit_generator.state
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as caught:  # (0 at the start: no overflow)
        search.step(lambda: ((x - Value([1.0, 2.0])) * 1e308 * 1e308).sum())
    assert "overflow encountered in multiply" in str(caught.value) and "x ← x + u" not in str(caught.value)
    assert x.data.tolist() == [1.0, 2.0] and search.rng.bit_generator.state == state


def test_random_searchs_change_refused_under_detect_anomaly_is_not_said_to_be_the_callers_errstate() -> None:
    """Under detect_anomaly the engine refuses x + u overflowing in its own words (no np.errstate of the caller's
    is involved: mutant: any FloatingPointError wrapped as numpy's under the caller's np.errstate)."""
    x = Value([1.7e308, 1.0])
    search = optim.RandomSearch([x], scale=0.5e308, rng=0)
    with tinygrad_edu.detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        search.step(lambda: x[1] * 1.0)
    assert str(caught.value).startswith("add in place: the new numbers hold NaN or inf")
    assert "np.errstate" not in str(caught.value) and x.data.tolist() == [1.7e308, 1.0]


# --- testing: the coarse-values note's gaps, from the shared one-sided slopes ----------------------------------------

def test_the_coarse_values_note_shows_the_gaps_right_minus_left_slope() -> None:
    """((x + 10⁷) − 10⁷)² at 1.7: the note shows the gaps (C(x + h) − C(x))/h − (C(x − h) − C(x))/(−h) for h = ε,
    ε/2, ε/4, computed here in float64 (mutant: the shared slopes read left minus right, the signs flipped)."""
    def f(x: float) -> float:
        return ((x + 1e7) - 1e7) ** 2

    x = 1.7
    gaps = [(f(x + h) - f(x)) / ((x + h) - x) - (f(x - h) - f(x)) / ((x - h) - x) for h in (1e-6, 5e-7, 2.5e-7)]
    assert gaps[0] > 0
    square = Op("square_after_cancelling", lambda x: ((x + 1e7) - 1e7) ** 2, lambda g, out, x: g * 2 * x)
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: square(v).sum(), np.array([x]), eps=1e-6)
    assert f"doubles each time the step is halved ({', '.join(f'{gap:.3g}' for gap in gaps)})" in str(caught.value)


# --- testing: the in-place note's shift test with two inputs, and a scale that is not a shift -----------------------
_BAD_TRIPLE = Op("bad_triple", lambda x: 3.0 * x, lambda g, out, x: 3.3 * g)  # (a vjp 10 % off: the check fails)


def _failure(f: Callable[..., Value], *inputs: np.ndarray) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, eps=1e-3)
    return str(caught.value)


def test_a_shift_of_a_large_second_input_is_judged_by_that_inputs_size() -> None:
    """a small, b near 2⁴⁰ with b += 0.1: its shift measured at the moved inputs differs by float64's rounding of b
    (~1e-4), not of a: no hidden change (mutant: the rounding allowed by the first input's size)."""
    def f(a: Value, b: Value) -> Value:
        with no_grad():
            b += 0.1
        return _BAD_TRIPLE(a).sum() + _BAD_TRIPLE(b).sum()

    message = _failure(f, np.array([0.5, -0.25]), np.array([2.0 ** 40 + 1.0, 1e12]))
    assert "in place" not in message and "bad_triple" in message, message


def test_a_small_scale_of_large_inputs_is_a_hidden_change_not_a_shift() -> None:
    """x *= 1 + 10⁻⁶ at x ~ 10⁴ changes x by 0.01 there and by 7.5e-7 more at x + 0.75: another change elsewhere, a
    slope of 1 + 10⁻⁶ the table does not show (mutant: agreement to 1e-3 of the change called a shift)."""
    def f(v: Value) -> Value:
        with no_grad():
            v *= 1 + 1e-6
        return _BAD_TRIPLE(v).sum()

    assert "f changes its input(s) 0 in place" in _failure(f, np.array([1e4, 2e4]))


def test_the_in_place_note_asks_each_move_once_for_two_shifted_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both inputs shifted: f's changes at the inputs, then at the inputs moved by 0.75 and by −√2, once each
    (mutant: each move asked again for the second input, 5 calls)."""
    import tinygrad_edu.testing as checker

    calls: list[int] = []
    changes = checker._changes

    def counted(f: Callable[..., Any], arrays: list[np.ndarray]) -> Any:
        calls.append(1)
        return changes(f, arrays)

    monkeypatch.setattr(checker, "_changes", counted)

    def f(a: Value, b: Value) -> Value:
        with no_grad():
            a += 0.5
            b += 0.25
        return _BAD_TRIPLE(a).sum() + _BAD_TRIPLE(b).sum()

    message = _failure(f, np.array([0.3, -1.2]), np.array([2.0, 0.7]))
    assert "in place" not in message and len(calls) == 3, (len(calls), message)


# --- viz: a drawing's far uses drawn again past 10,000 ranks in all, and only those -----------------------------------

def _far_reused(adds: int) -> Value:
    """p·a, then ``adds`` additions of a constant, then + p: p's edge to the output's operation passes 2·adds + 3
    ranks (a Value and an operation for each add, ranked as far from the output as its farthest use); every other
    edge passes 1, so the edges pass 2·adds + 2 ranks more than one each, in all."""
    p = Value(2.0, requires_grad=True)
    v = p * Value(3.0)
    for _ in range(adds):
        v = v + Value(1.0)
    return v + p


@pytest.mark.parametrize(("adds", "drawn_again"), [(4999, False), (5000, True)])
def test_a_value_is_drawn_again_beside_its_far_use_only_past_10000_ranks_in_all(adds: int, drawn_again: bool) -> None:
    """10,000 ranks in all (4,999 adds): drawn as it was; 10,002 (5,000 adds): p, 10,003 ranks above its use by the
    output's operation, is drawn again there, and no Value one rank above its use is (mutants: another threshold, a
    strict one, edges' own rank counted, another rank per operation, every edge's Value drawn again, the copy's
    frame or tooltip lost)."""
    from tinygrad_edu import viz

    source = viz.draw_graph(_far_reused(adds), max_nodes=3 * adds).source
    copies = re.findall(r"^\s*(v\d+)_(\d+) \[label=(<.*?>>)", source, re.M)
    assert ("drawn again beside each far use" in source) == drawn_again
    if not drawn_again:
        assert copies == []
        return
    assert [user for _, user, _ in copies] == ["0"]  # (one copy, beside the output's operation op0)
    original, _, label = copies[0]
    assert re.search(rf"^\s*{original} \[label={re.escape(label)}", source, re.M) and "data 2<" in label
    assert 'BORDER="2"' in label  # (p is a parameter: framed, in its copy too)
    assert re.search(rf'^\s*{original}_0 \[.*tooltip="the same Value as a box higher up, drawn again here"', source,
                     re.M)
    assert re.search(rf"^\s*{original}_0 -> op0\b", source, re.M)
    assert not re.search(rf"^\s*{original} -> op0\b", source, re.M)  # (the far edge is the copy's alone)
