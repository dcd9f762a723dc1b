"""Round 49's mutation pass: tests that kill the hand mutants of this round's changes (git diff 048e525 HEAD --
tinygrad_edu) that the round's own tests let live, each asserting what a user would see: the CLI's --cost-goal
refusals and their reasons, the data functions' words for samples that are no real numbers, cross_entropy's label
messages, the steps' update blocks, the repr of many axes and plot_history of an interrupted fit."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import data

X = np.arange(10.0).reshape(5, 2)
Y = np.arange(5.0)


# ------------------------------------------------------------------------------------------------ --cost-goal

def _cost_goal_error(capsys: pytest.CaptureFixture[str], given: str) -> str:
    from tinygrad_edu.cli import main

    assert main(["train", f"--cost-goal={given}"]) == 2
    return capsys.readouterr().err


def test_a_cost_goal_that_underflows_to_zero_is_said_to_underflow(capsys: pytest.CaptureFixture[str]) -> None:
    """1e-400 is a positive number the user meant: float() makes it 0, which is the thing to say, not that costs
    are never below 0."""
    error = _cost_goal_error(capsys, "1e-400")
    assert "--cost-goal: must be a positive number, got 1e-400 (as a float it is 0: below 5e-324)" in error
    assert "never below 0" not in error


def test_a_zero_written_with_an_exponent_gets_the_cost_goals_reason(capsys: pytest.CaptureFixture[str]) -> None:
    """0e5 is 0 whatever its exponent's digits: the reason a goal of 0 is refused is given for it too."""
    error = _cost_goal_error(capsys, "0e5")
    assert "must be a positive number, got 0e5: the costs here (squared_error, cross_entropy) are never below 0" \
        in error


@pytest.mark.parametrize("given", ["nan", "inf"])
def test_a_cost_goal_of_nan_or_inf_is_still_refused(capsys: pytest.CaptureFixture[str], given: str) -> None:
    """NaN is no goal (no cost is ever at or below it) and inf stops after the first episode: both refused."""
    assert f"--cost-goal: must be a positive number, got {given}" in _cost_goal_error(capsys, given)


# --------------------------------------------------------------------------- samples that are no real numbers

def test_complex_numbers_among_objects_are_refused_with_the_first_one_named() -> None:
    inputs = np.array([[1.0, 2.0]] * 5, dtype=object)
    inputs[1, 1] = 1 + 2j
    with pytest.raises(TypeError, match=r"^batches: the inputs must be real numbers \(bool, int or float\), got "
                                        r"dtype object holding complex \(1\+2j\) at index \(1, 1\): give an array of "
                                        r"numbers$"):
        data.batches(inputs, Y, 2)


def test_text_among_objects_is_named_with_its_type_and_said_to_be_text() -> None:
    """A pandas column of numbers read as text arrives as objects of str: the first one, its type and what to write."""
    inputs = np.array([["1", "2"]] * 5, dtype=object)
    with pytest.raises(TypeError, match=r"^train_test_split: the inputs must be real numbers \(bool, int or float\), "
                                        r"got dtype object holding str '1' at index \(0, 0\): numbers read as text\? "
                                        r"np\.asarray\(x, dtype=float\)$"):
        data.train_test_split(inputs, Y)


def test_a_long_text_sample_is_cut_in_the_message() -> None:
    """A cell holding a whole paragraph (a column read from the wrong file) shows 30 characters of it, not all."""
    inputs = np.array([[1.0, 2.0]] * 5, dtype=object)
    inputs[0, 0] = "word " * 200
    with pytest.raises(TypeError) as raised:
        data.batches(inputs, Y, 2)
    message = str(raised.value)
    assert "holding str 'word word word word word word " in message and len(message) < 250


# ------------------------------------------------------------------------------------ cross_entropy's labels

def _label_error(labels: object) -> str:
    from tinygrad_edu import Value
    from tinygrad_edu.losses import cross_entropy

    with pytest.raises(TypeError) as raised:
        cross_entropy(Value(np.zeros((3, 4))), labels)
    message = str(raised.value)
    assert message.startswith("cross_entropy: the labels must be numbers (class indices or one-hot rows), got ")
    return message


def test_a_missing_label_is_named_before_a_class_name_that_comes_first() -> None:
    """np.unique, the advice for class names, fails on a None: the None is what to fix first."""
    assert "got a list holding None at index 1: a missing label? leave that sample out" in \
        _label_error(["a", None, "b"])


def test_objects_that_are_neither_numbers_nor_text_are_named_where_they_are() -> None:
    assert "got a list holding bytes b'a' at index 1: class names?" in _label_error([0, b"a", 2])


def test_numbers_of_a_type_numpy_keeps_as_objects_are_named_from_the_first() -> None:
    """(Whole Decimals are class labels since round 50, as ints are: tests/test_hardening_r50.py.)"""
    labels = np.array([1 + 0j, 0, 2], dtype=object)
    assert "got an ndarray holding complex (1+0j) at index 0: give class indices (ints in 0 … 3) or one-hot " \
           "rows" in _label_error(labels)


def test_an_ndarray_of_class_names_is_an_ndarray() -> None:
    assert "got an ndarray of str ('a' first, at index 0): class names? give class indices 0 … 3 instead" in \
        _label_error(np.array(["a", "b", "c"]))


def test_numbers_read_as_text_with_spaces_around_them_are_numbers_written_as_text() -> None:
    """A CSV column ' 1, 0, 2' read as text keeps its spaces: int() reads them, so they are numbers, not names."""
    assert "(' 1' first, at index 0): numbers written as text? give them as ints: np.asarray(labels).astype(int)" in \
        _label_error([" 1", "0 ", "2"])


def test_text_with_one_name_among_digits_is_class_names_not_numbers() -> None:
    """['1', 'cat', '2'] cannot be made ints: the advice is the class names', not astype(int), which would fail."""
    message = _label_error(["1", "cat", "2"])
    assert "class names? give class indices 0 … 3 instead" in message and "astype(int)" not in message


def test_labels_from_1_beyond_the_classes_plus_one_need_more_outputs_not_labels_minus_1() -> None:
    """[1, 9, 2] for 4 classes: labels − 1 would still reach 8; the model needs 10 outputs."""
    from tinygrad_edu import Value
    from tinygrad_edu.losses import cross_entropy

    with pytest.raises(ValueError, match=r"got 9 at index 1 \(values from 1 to 9\); the logits have 4 columns, one per "
                                         r"class: 10 classes need an output layer of 10 neurons$"):
        cross_entropy(Value(np.zeros((3, 4))), [1, 9, 2])


def test_a_label_far_beyond_any_output_layer_is_not_advised_a_layer_that_wide() -> None:
    """A label of 100000 (an id, not a class) gets no advice of an output layer of 100001 neurons."""
    from tinygrad_edu import Value
    from tinygrad_edu.losses import cross_entropy

    with pytest.raises(ValueError, match=r"got 100000 at index 1 \(values from 0 to 100000\); class indices count the "
                                         r"classes: give ints in 0 … 3$"):
        cross_entropy(Value(np.zeros((3, 4))), [0, 100000, 1])


# ----------------------------------------------------------------------------------------- the steps' updates

@pytest.mark.parametrize("name", ["GradientDescent", "SGD"])
def test_under_detect_anomaly_an_update_overflowing_is_the_engines_error_not_numpys_warning(name: str) -> None:
    """η·∇C = 1e10·1e300 overflows: under detect_anomaly numpy's 'overflow encountered in multiply' is silenced (it
    would point at optim.py) and the update's own error names it, leaving the parameters as they were."""
    import warnings

    from tinygrad_edu import Value, optim
    from tinygrad_edu.engine import detect_anomaly

    x = Value(np.array([1.0, 1.0]))
    opt = getattr(optim, name)([x], learning_rate=1e10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with detect_anomaly(), pytest.raises(FloatingPointError, match=r"sub in place: the new numbers hold NaN or "
                                                                       r"inf .*they are left as they were"):
            opt.step(lambda: (x * 1e300).sum())
    assert x.data.tolist() == [1.0, 1.0]


def test_the_attributes_a_step_writes_unchecked_are_its_own_only() -> None:
    """Setting params, a learning rate or momentum out of range is still checked (only the step's own writes skip
    the checks)."""
    from tinygrad_edu import Value
    from tinygrad_edu.optim import SGD

    opt = SGD([Value(np.ones(2))], learning_rate=0.1, momentum=0.9)
    with pytest.raises(TypeError, match=r"SGD\.params: every parameter must be a Value, got int"):
        opt.params = [1]
    with pytest.raises(ValueError, match=r"SGD: learning_rate must be >= 0, got -1\.0"):
        opt.learning_rate = -1.0
    with pytest.raises(ValueError, match=r"SGD: momentum must lie in \[0, 1\), got 2\.0"):
        opt.momentum = 2.0


def test_ctrl_c_during_an_update_is_raised_once_every_parameter_is_updated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C pressed while x − η·∇C is written (here: at the first of two parameters) is held until the whole
    update is made, then raised: no parameter is left a step behind the others (x: 2 − 0.25·4, y: 4 − 0.25·8)."""
    import signal

    from tinygrad_edu import Value, optim

    x, y = Value(np.array([2.0])), Value(np.array([4.0]))
    original, calls = Value.__isub__, []

    def pressed(self: Value, other: object) -> Value:
        calls.append(self)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)
        return original(self, other)

    monkeypatch.setattr(Value, "__isub__", pressed)
    opt = optim.GradientDescent([x, y], 0.25)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        opt.step(lambda: (x * x + y * y).sum())
    assert x.data.tolist() == [1.0] and y.data.tolist() == [2.0] and len(calls) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------- the Jupyter helper's History, progress bar, CLI, demo

def test_a_history_without_a_label_shows_no_empty_run_row() -> None:
    from tinygrad_edu.training import History

    page = History([1.0], [1.0], [0.1], [1.0], "", "episodes", 1.0)._repr_html_()
    assert ">run</th>" not in page and "<td style='text-align:left'></td>" not in page
    assert "<th style='text-align:left'>episodes</th><td style='text-align:left'>1</td>" in page


def test_a_bar_interrupted_in_the_first_episode_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C before the first episode ends is no refused call: its 0/30 bar is left on the screen (only a call
    refused by the first pass's checks takes the bar away)."""
    pytest.importorskip("tqdm")
    import sys

    from helpers_interrupts import Terminal, fit_interrupted_at, screen

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _, history, said = fit_interrupted_at(interrupt_at=1, progress=True)
    assert history.stopped == "interrupted" and history.episodes == 0 and len(said) == 1
    assert "0/30" in screen(terminal.getvalue()) and terminal.getvalue().endswith("\n")


def test_train_interrupted_on_the_command_line_prints_no_fit_warning(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: object) -> None:
    """The CLI's results say '(interrupted)' themselves: fit's warning of it is not printed as well."""
    from tinygrad_edu import cli, training

    def fit(*args: object, **kwargs: object) -> training.History:
        cost, calls = kwargs["cost"], []

        def pressed(*cost_args: object) -> object:
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return cost(*cost_args)  # type: ignore[operator]

        return training.fit(*args, **{**kwargs, "cost": pressed})  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "fit", fit)
    model = str(tmp_path / "m.npz")  # type: ignore[operator]
    assert cli.main(["train", "--episodes", "3", "--samples", "20", "--hidden", "3", "-o", model]) == 130
    captured = capsys.readouterr()
    assert "(interrupted)" in captured.out
    assert "fit: interrupted" not in captured.err and "fit: interrupted" not in captured.out


def test_the_demos_processor_time_counts_its_dot_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time dot's finished runs took is the demo's computing too (children's user and system time)."""
    import types

    from tinygrad_edu import demo

    times = types.SimpleNamespace(user=1.0, system=2.0, children_user=4.0, children_system=8.0, elapsed=100.0)
    monkeypatch.setattr(demo.os, "times", lambda: times)
    assert demo._cpu_seconds() == 15.0


def test_the_demo_counts_only_its_own_processor_time_from_its_start(tmp_path: object,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The process had used 100 s before run_demo (a notebook's earlier cells): the demo computed 3.5 s of 30."""
    import io

    from tinygrad_edu import demo

    clock, processor = iter([0.0, 30.0]), iter([100.0, 103.5])
    monkeypatch.setattr(demo.time, "perf_counter", lambda: next(clock, 30.0))
    monkeypatch.setattr(demo, "_cpu_seconds", lambda: next(processor, 103.5))
    short = demo.compare_xsquared
    monkeypatch.setattr(demo, "compare_xsquared", lambda **kwargs: short(quick=True, methods=["random search"]))
    monkeypatch.setattr(demo, "write_artefacts", lambda runs, output: demo.Artefacts())
    out = io.StringIO()
    demo.run_demo(tmp_path / "out", stream=out)  # type: ignore[operator]
    assert "[NOT met] the whole demo runs in under 10 s: 30.0 s, of which it computed 3.5 s: the rest it waited " \
           "for a processor busy with other jobs" in out.getvalue()


@pytest.mark.parametrize("cpu_seconds", [-1.0, float("nan"), "3"])
def test_check_goals_refuses_a_processor_time_that_is_no_time(cpu_seconds: object) -> None:
    from tinygrad_edu import demo

    [run] = demo.compare_xsquared(quick=True, methods=["random search"])
    with pytest.raises((TypeError, ValueError), match=r"check_goals.*cpu_seconds|cpu_seconds.*check_goals"):
        demo.check_goals([run], 12.0, cpu_seconds=cpu_seconds)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- the player's Step

@pytest.mark.parametrize("count, shown", [(30, 30), (31, 30), (40, 30)])
def test_a_long_step_prints_at_most_30_lines_of_its_explanation(count: int, shown: int) -> None:
    """30 paragraphs print whole; 31 or more print 29 and a line saying how many more step.html holds."""
    from tinygrad_edu.player import Step

    text = repr(Step("forward", 3, "Forward", "".join(f"<p>line {i}</p>" for i in range(count))))
    lines = text.split("\n    ")
    assert lines[0] == "Step(forward, Value 3): Forward" and len(lines) == 1 + shown
    assert lines[-1] == (f"line {count - 1}" if count <= 30 else
                         f"… {count - 29} more lines (step.html holds them all)")


def test_a_step_about_no_value_names_none_and_its_markup_reads_as_text() -> None:
    """node -1 (the start, the result) names no Value; cells part by ' | ', items get a bullet, <br> breaks a line."""
    from tinygrad_edu.player import Step

    step = Step("start", -1, "Start", "<table><tr><td>a</td><td>b</td></tr></table><ul><li>x</li></ul><p>c<br>d</p>")
    assert repr(step) == "Step(start): Start\n    a | b\n    • x\n    c\n    d"


def test_a_step_made_by_hand_shows_its_fields_and_its_non_text_html_escaped() -> None:
    from tinygrad_edu.player import Step

    assert repr(Step("forward", "3", "t", "<p>")).startswith("Step(phase='forward', node='3', ")  # type: ignore[arg-type]
    page = Step("forward", 0, "t", ["<b>"])._repr_html_()  # type: ignore[arg-type]
    assert "<pre>[&#x27;&lt;b&gt;&#x27;]</pre>" in page and "<b>'" not in page
