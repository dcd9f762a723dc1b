"""Review of round 49: advice in its new messages that must run when pasted, and the data functions' refusal of
samples that are no numbers naming a pandas missing value as one."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Value, data
from tinygrad_edu.losses import cross_entropy


def _message(call) -> str:
    with pytest.raises((TypeError, ValueError)) as raised:
        call()
    return str(raised.value)


def _run(code: str, **names) -> dict:
    """``code`` run as a user pasting it would, with the names of the message's advice at hand."""
    namespace = {"np": np, "data": data, "cross_entropy": cross_entropy, **names}
    exec(code, namespace)  # noqa: S102  (the message's own words, pasted)
    return namespace


# ------------------------------------------------------------------------- cross_entropy's advice, pasted

def test_the_class_names_advice_runs_with_the_data_sets_own_list_too() -> None:
    labels, logits = ["cat", "dog", "cow"], Value(np.zeros((3, 3)))
    message = _message(lambda: cross_entropy(logits, labels))
    unique = re.search(r"names, indices = np\.unique\(labels, return_inverse=True\)", message).group(0)
    own = re.search(r"\[(\w+)\.index\(label\) for label in labels\]", message)
    pasted = _run(unique, labels=labels)
    assert pasted["indices"].tolist() == [0, 2, 1]
    # the second, pasted after the first: its list is not np.unique's array ``names``, which has no .index
    assert own.group(1) not in pasted
    pasted[own.group(1)] = ["cat", "cow", "dog"]
    indices = _run(f"indices = {own.group(0)}", **pasted)["indices"]
    assert indices == [0, 2, 1] and float(cross_entropy(logits, indices)) == pytest.approx(np.log(3), abs=1e-15)


@pytest.mark.parametrize("labels, pattern", [
    ([1, 4, 2], r"counted from 1\? give (.+), for 0 … 3$"),
    ((1, 4, 2), r"counted from 1\? give (.+), for 0 … 3$"),
])
def test_labels_counted_from_one_get_advice_that_runs_on_a_list(labels, pattern) -> None:
    logits = Value(np.zeros((3, 4)))
    code = re.search(pattern, _message(lambda: cross_entropy(logits, labels))).group(1)
    fixed = _run(f"fixed = {code}", labels=labels)["fixed"]
    assert list(fixed) == [0, 3, 1] and float(cross_entropy(logits, fixed)) == pytest.approx(np.log(4), abs=1e-15)


def test_the_ignore_index_advice_runs_on_a_list_of_labels() -> None:
    labels, logits = [0, -100, 2], Value(np.arange(12.0).reshape(3, 4))
    message = _message(lambda: cross_entropy(logits, labels))
    code = re.search(r"leave those samples out, (.+)$", message).group(1)
    *first, last = code.split("; ")
    names = _run("; ".join([*first, f"cost = {last}"]), labels=labels, logits=logits)
    expected = cross_entropy(Value(np.arange(12.0).reshape(3, 4)[[0, 2]]), [0, 2])
    assert float(names["cost"]) == float(expected)


def test_the_boolean_labels_advice_runs_on_a_list() -> None:
    labels, logits = [True, False, True], Value(np.zeros((3, 2)))
    code = re.search(r"for the two classes False and True, (\S+)", _message(lambda: cross_entropy(logits, labels)))
    fixed = _run(f"fixed = {code.group(1)}", labels=labels)["fixed"]
    assert fixed.tolist() == [1, 0, 1] and float(cross_entropy(logits, fixed)) == pytest.approx(np.log(2), abs=1e-15)


@pytest.mark.parametrize("as_list", [False, True])
def test_one_hot_rows_of_another_width_get_advice_that_runs_on_those_rows(as_list: bool) -> None:
    rows = np.eye(3)[[2, 0, 1]]
    labels, logits = (rows.tolist() if as_list else rows), Value(np.zeros((3, 4)))
    code = re.search(r"outputs: (data\.one_hot\(.+\))\)$", _message(lambda: cross_entropy(logits, labels))).group(1)
    fixed = _run(f"fixed = {code}", labels=labels)["fixed"]
    np.testing.assert_array_equal(fixed, np.eye(4)[[2, 0, 1]])
    assert float(cross_entropy(logits, fixed)) == pytest.approx(np.log(4), abs=1e-15)


@pytest.mark.parametrize("labels, expected", [
    (["1", "0", "2"], [1, 0, 2]),
    ([" 2", "-0", "1 "], [2, 0, 1]),
    (["1.0", "0.0", "2.0"], [1.0, 0.0, 2.0]),  # (not ints as text: astype(int) refuses '1.0')
])
def test_numbers_written_as_text_get_a_conversion_that_reads_them(labels, expected) -> None:
    logits = Value(np.zeros((3, 3)))
    message = _message(lambda: cross_entropy(logits, labels))
    code = re.search(r"numbers written as text\? give them as \w+s: (.+)$", message).group(1)
    fixed = _run(f"fixed = {code}", labels=labels)["fixed"]
    assert fixed.tolist() == expected and float(cross_entropy(logits, fixed)) == pytest.approx(np.log(3), abs=1e-15)


def test_text_that_no_conversion_reads_is_taken_for_class_names() -> None:
    """'²' is a digit to str.isdigit, which int() and numpy refuse: no advice to convert it that fails."""
    message = _message(lambda: cross_entropy(Value(np.zeros((2, 3))), ["²", "1"]))
    assert "class names?" in message and "astype" not in message


# ------------------------------------------------------------------- the data functions' samples, said

def test_a_pandas_missing_value_among_the_inputs_is_called_one() -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": pd.array([1, 2, None, 4], dtype="Int64")})
    with pytest.raises(TypeError, match=r"^train_test_split: the inputs must be real numbers \(bool, int or float\), "
                                        r"got dtype object holding <NA> at index \(2, 1\): a missing value\? fill it "
                                        r"in, or leave that sample out \(pandas: dropna\(\), fillna\(\)\)$"):
        data.train_test_split(frame, np.arange(4.0))


def test_an_object_whose_repr_names_its_type_is_not_named_twice() -> None:
    from decimal import Decimal

    inputs = np.array([[Decimal(1), Decimal(2)]] * 4, dtype=object)
    message = _message(lambda: list(data.batches(inputs, np.arange(4.0), 2)))
    assert "holding Decimal('1') at index (0, 0)" in message and "Decimal Decimal" not in message
    message = _message(lambda: list(data.batches(np.array([[1.0, "x"]] * 4, dtype=object), np.arange(4.0), 2)))
    assert "holding str 'x' at index (0, 1)" in message


# ----------------------------------------------------------------------------------- the CLI's --cost-goal

@pytest.mark.parametrize("given", ["-1e-400", "-1E-999"])
def test_a_negative_cost_goal_that_rounds_to_minus_zero_gets_the_cost_goals_reason(capsys, given: str) -> None:
    """-1e-400 is -0.0 as a float: below 0 as written, it gets --cost-goal's reason, as -1 does (the check of a
    positive number's underflow, 1e-400, is one helper for both, and a minus sign is no underflow of a positive)."""
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    error = capsys.readouterr().err
    assert f"--cost-goal: must be a positive number, got {given}: the costs here (squared_error, cross_entropy) " \
           "are never below 0" in error and "as a float it is 0" not in error


def test_a_positive_cost_goal_that_underflows_is_still_said_to_be_zero_as_a_float(capsys) -> None:
    from tinygrad_edu.cli import main

    assert main(["train", "--cost-goal=1e-400"]) == 2
    assert "--cost-goal: must be a positive number, got 1e-400 (as a float it is 0: below 5e-324)" in \
        capsys.readouterr().err


# --------------------------------------------------------------------------------- comments next to code

def test_the_learning_rate_words_keep_their_doc_comment() -> None:
    """A ``#:`` comment documents the assignment right below it: the one saying what _LEARNING_RATE_WORDS are had
    the new _WRITTEN_BY_STEPS put between them, and so documented that one."""
    import inspect

    from tinygrad_edu import optim

    lines = inspect.getsource(optim).splitlines()

    def comment_above(name: str) -> str:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{name} = "))
        above = []
        while lines[at - 1].startswith("#:"):
            at -= 1
            above.insert(0, lines[at])
        return " ".join(above)

    assert comment_above("_LEARNING_RATE_WORDS").startswith("#: Other names for the learning rate")
    assert "every step writes" not in comment_above("_LEARNING_RATE_WORDS")
    assert comment_above("_WRITTEN_BY_STEPS").startswith("#: The attributes every step writes")


def test_labels_of_a_type_spelt_with_a_capital_vowel_get_an() -> None:
    pd = pytest.importorskip("pandas")
    message = _message(lambda: cross_entropy(Value(np.zeros((3, 3))), pd.Index(["a", "b", "c"])))
    assert "got an Index of str ('a' first, at index 0)" in message
    assert "got a tuple of str" in _message(lambda: cross_entropy(Value(np.zeros((3, 3))), ("a", "b", "c")))


# --------------------------------------------------------------------------------- the demo's Ctrl-C, said once

def test_the_demo_stopped_by_ctrl_c_says_so_once_not_with_fits_warning_too(monkeypatch, capsys, tmp_path) -> None:
    """fit now warns "fit: interrupted ..." after Ctrl-C; the demo says "(interrupted)" and "interrupted during
    random search: the demo stopped" itself, as train's CLI does, which drops fit's warning: so does the demo."""
    import os
    import signal

    from tinygrad_edu import demo, training
    from tinygrad_edu.cli import main
    from tinygrad_edu.losses import squared_error

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's own KeyboardInterrupt here")
    calls = []

    def pressing(prediction, targets):  # (Ctrl-C pressed in the first run's third cost: a real, clean stop)
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return squared_error(prediction, targets)

    monkeypatch.setattr(demo, "fit", lambda *args, **kwargs: training.fit(*args, **{**kwargs, "cost": pressing}))
    assert main(["demo", "--quick", "-o", str(tmp_path / "out")]) == 130
    captured = capsys.readouterr()
    assert "(interrupted)" in captured.out and "interrupted during random search: the demo stopped" in captured.err
    assert "fit: interrupted" not in captured.out + captured.err
    with pytest.warns(UserWarning, match="^fit: interrupted in episode"):  # (fit's own warning, elsewhere)
        calls.clear()
        demo.compare_xsquared(quick=True, methods=["random search"])


def test_the_help_says_fits_cost_goal_takes_finite_numbers_as_fit_does(capsys) -> None:
    """--help said fit's cost_goal "takes any number"; fit refuses NaN and inf (a goal no cost can be at or below)."""
    from helpers_cli import option_help

    from tinygrad_edu import nn, optim
    from tinygrad_edu.cli import main
    from tinygrad_edu.losses import squared_error
    from tinygrad_edu.training import fit

    assert main(["train", "--help"]) == 0
    assert "fit's cost_goal takes any finite number" in option_help(capsys.readouterr().out, "--cost-goal")
    x = np.linspace(-1, 1, 4).reshape(-1, 1)
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(ValueError, match="^fit: cost_goal must be finite, got nan"):
        fit(net, x, x ** 2, cost=squared_error, optimizer=optim.GradientDescent(net, 0.1), episodes=1,
            progress=False, cost_goal=float("nan"))
    history = fit(net, x, x ** 2, cost=squared_error, optimizer=optim.GradientDescent(net, 0.1), episodes=2,
                  progress=False, cost_goal=-1.0)
    assert history.stopped == "episodes"
