"""The command line's behaviours that its other tests left unpinned, found by a second pass of mutation testing of
``tinygrad_edu/cli.py``: options handed on to training, the report and advice after training, and main's handling
of errors, warnings and the output stream.

Mutation testing of ``tinygrad_edu/cli.py``, second pass (none of the first pass's 87 mutants repeated): 114
hand-made mutants (flipped comparisons and bounds, dropped checks, changed defaults, options not passed on, wrong
stream or exit status, messages that stop naming the option or value at fault, advice for the wrong case), screened
with tests/test_cli.py, test_cli_edges.py, test_cli_mutants.py, test_predict_files_and_pipes.py, the cli entries of
test_api_misuse.py and the module's doctests: 97 killed before these tests, 110 after.  Of the 4 left, one
(``__dir__`` listing ``globals()``) is killed by tests/test_public_names.py outside the screening set; 3 are
equivalent, left without a test:

- ``_main`` returning 0 instead of 2 for a ``SystemExit`` whose code is not an int: argparse ends only through
  ``parser.exit(status)`` with an int (0 for --help and --version, 2 for errors), so the branch is never taken.
- ``_run`` saying "PATH: reason" for an ``OSError`` with a file name but no ``strerror``: every OSError the commands
  meet (open, stat, rename, np.load) carries both or neither, so no message changes.
- ``_unencodable_replaced`` reconfiguring stdout even when it is closed: no command closes stdout, and were one to,
  ``_show_warnings``'s flush after it would fail first for every status but 1.

Defect found, and fixed with the test at the end: ``_run`` prints its error or "interrupted" line on stderr without
flushing stdout first, unlike ``_show_warnings`` and the --progress warning, so with both streams in one file
(``> log 2>&1``, stdout buffered) a diverged training run's error line comes before the "training ..." line it
followed.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from helpers_cli import BUFFERED, TRAIN_TINY, recording_fit, stalled_armijo_report, uniform_model

from tinygrad_edu import cli, training
from tinygrad_edu.cli import main


def fake_fit(monkeypatch: pytest.MonkeyPatch, *, gradient_norm: list[float], end: float | None = None,
             stopped: str = "episodes") -> None:
    """Replace train's fit by one that changes nothing and reports ``gradient_norm`` and the final cost ``end``
    (default: the cost at the start, i.e. it did not fall)."""
    def fit(model, inputs, targets, *, cost, **kwargs):
        start = float(cost(model(inputs), targets).item())
        return training.History(cost=[start] * len(gradient_norm), gradient_norm=gradient_norm,
                                final_cost=start if end is None else end, stopped=stopped)

    monkeypatch.setattr(cli, "fit", fit)


# --- train: what reaches fit, and the report ----------------------------------------------------------------------
def test_the_batch_size_given_reaches_fit(capsys, monkeypatch, tmp_path: Path) -> None:
    """--batch-size 4 on 20 samples: fit makes updates on batches of 4, and the first line says so."""
    calls = recording_fit(monkeypatch)
    assert main(["train", "--samples", "20", "--hidden", "2", "--batch-size", "4", "-o", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(", 4 per update")
    assert [call["batch_size"] for call in calls] == [4]


def test_the_report_says_that_all_episodes_ran(capsys, tmp_path: Path) -> None:
    """The report's second line says why training stopped: here it ran all of its 2 episodes."""
    assert main(["train", "--optimizer", "gd", "--episodes", "2", "--samples", "10", "--hidden", "2",
                 "-o", str(tmp_path / "m.npz")]) == 0
    second = capsys.readouterr().out.splitlines()[1]
    assert second.startswith("2 episodes in ") and " s (all episodes run): cost " in second


def test_ctrl_c_before_the_first_episode_claims_no_cost_at_the_end(capsys, monkeypatch, tmp_path: Path) -> None:
    """Stopped before any episode, training has no final cost: the report says nan, not a cost of 0, and gives no
    advice; the status is 130."""
    monkeypatch.setattr(cli, "fit", lambda *args, **kwargs: training.History(stopped="interrupted"))
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 130
    out = capsys.readouterr().out
    assert out.splitlines()[1].endswith(", nan at the end")
    assert not any(line.startswith("the cost") for line in out.splitlines())


def test_a_gradient_that_was_0_only_at_the_end_gets_the_learning_rate_advice(capsys, monkeypatch,
                                                                             tmp_path: Path) -> None:
    """The advice "its gradient ∇C was 0 in every episode" is only for a gradient 0 throughout; a gradient of 0.5
    and then 0, with the cost where it started, gets the advice for a cost that did not fall: a larger rate."""
    fake_fit(monkeypatch, gradient_norm=[0.5, 0.0])
    assert main([*TRAIN_TINY, "--optimizer", "gd", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "the cost did not fall measurably: try a larger learning rate than 0.1 (--learning-rate)" in out
    assert "in every episode" not in out


def test_a_final_cost_of_nan_is_advised_as_a_cost_that_rose(capsys, monkeypatch, tmp_path: Path) -> None:
    """A NaN cost at the end is a cost that rose (the learning rate 0.1 of gd was too large), not one that "did not
    fall measurably" and asks for a larger rate."""
    fake_fit(monkeypatch, gradient_norm=[1.0], end=math.nan)
    assert main([*TRAIN_TINY, "--optimizer", "gd", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "the cost rose: try a smaller learning rate than 0.1 (--learning-rate)" in out and "larger" not in out


@pytest.mark.parametrize("fall, advised", [(1e-4, False), (1e-7, True)])
def test_a_cost_that_fell_by_a_ten_thousandth_fell_measurably(capsys, monkeypatch, tmp_path: Path, fall: float,
                                                               advised: bool) -> None:
    """"Measurably" is a relative fall of more than a millionth: 1e-4 of the start gets no advice, 1e-7 gets the
    advice of a larger learning rate."""
    def fit(model, inputs, targets, *, cost, **kwargs):
        start = float(cost(model(inputs), targets).item())
        return training.History(cost=[start], gradient_norm=[1.0], final_cost=start * (1 - fall), stopped="episodes")

    monkeypatch.setattr(cli, "fit", fit)
    assert main([*TRAIN_TINY, "--optimizer", "gd", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert ("the cost did not fall measurably: try a larger learning rate than 0.1" in out) is advised


# --- main: warnings, errors and the output stream -----------------------------------------------------------------
def test_a_warning_not_meant_for_the_user_is_shown_as_python_would(capsys, monkeypatch, tmp_path: Path) -> None:
    """_show_warnings: only RuntimeWarning and UserWarning become "tinygrad-edu: warning:" lines; a
    DeprecationWarning during training goes to Python's warning machinery as it is."""
    def fit(*args, **kwargs):
        warnings.warn("an internal deprecation", DeprecationWarning, stacklevel=1)
        return training.fit(*args, **kwargs)

    monkeypatch.setattr(cli, "fit", fit)
    with pytest.warns(DeprecationWarning, match="^an internal deprecation$"):
        assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    assert "tinygrad-edu: warning" not in capsys.readouterr().err


def test_an_error_without_a_message_is_named_by_its_type(capsys, monkeypatch) -> None:
    """An error is one line that says something: a ValueError with no text is named "ValueError", status 2."""
    def failing(args):
        raise ValueError()

    monkeypatch.setattr(cli, "_predict", failing)
    assert main(["predict", "m.npz", "1"]) == 2
    assert capsys.readouterr().err == "tinygrad-edu: error: ValueError\n"


def test_an_armijo_step_found_at_the_last_backtrack_is_not_called_a_failure(capsys, monkeypatch,
                                                                          tmp_path: Path) -> None:
    """Armijo that tried all max_backtracks + 1 steps but accepted the last one (last_failed False) did find a step:
    a cost that still did not fall measurably gets the advice of a larger learning rate, not "found no step"."""
    out = stalled_armijo_report(capsys, monkeypatch, tmp_path, failed=False, tried_all=True)
    assert "the cost did not fall measurably: try a larger learning rate than 1 (--learning-rate)" in out
    assert "found no step" not in out


def test_without_progress_a_missing_tqdm_is_not_mentioned(capsys, monkeypatch, tmp_path: Path) -> None:
    """The warning "--progress needs tqdm" is for a run that asked for --progress; without it, stderr stays empty."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().err == ""


def test_main_leaves_a_lenient_stdout_as_it_is(monkeypatch, tmp_path: Path) -> None:
    """Only a strict stream is made lenient (and strict again after): one that writes unencodable characters as
    backslash escapes still does so during main and afterwards."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="backslashreplace")
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["predict", str(uniform_model(tmp_path / "m.npz", [1, 1], 2.0)), "0.5"]) == 0
    assert stream.errors == "backslashreplace"
    stream.flush()
    assert stream.buffer.getvalue() == b"0.5 \\u2192 1\n"  # 2 · 0.5 = 1, the arrow escaped


def test_a_divergence_among_other_warnings_still_says_training_diverged(capsys, monkeypatch, tmp_path: Path) -> None:
    """One DivergenceWarning among others is enough: the model is saved "although training diverged"."""
    def fit(*args, **kwargs):
        warnings.warn("something else", UserWarning, stacklevel=1)
        warnings.warn("fit: the cost grew; training is diverging", training.DivergenceWarning, stacklevel=1)
        return training.fit(*args, **kwargs)

    monkeypatch.setattr(cli, "fit", fit)
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    captured = capsys.readouterr()
    assert f"saved the model to {tmp_path / 'm.npz'} although training diverged;" in captured.out
    assert captured.err.count("tinygrad-edu: warning: ") == 2


def test_several_outputs_are_shown_to_4_significant_digits(capsys, tmp_path: Path) -> None:
    """A model with several outputs prints each to 4 significant digits (a row of 10 stays readable), a single
    output to 6: both outputs of x = 1 through weights 0.123456789 read 0.1235."""
    wide, single = uniform_model(tmp_path / "w.npz", [1, 2], 0.123456789), uniform_model(tmp_path / "s.npz", [1, 1],
                                                                                          0.123456789)
    assert main(["predict", str(wide), "1"]) == 0 and main(["predict", str(single), "1"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1 → [0.1235, 0.1235]  class 0", "1 → 0.123457"]


def test_a_divergence_error_comes_after_what_was_printed_before_it(tmp_path: Path) -> None:
    """As warnings do (see test_cli_mutants), the one-line error of a diverged training run follows the "training
    ..." line it came after when both streams go to one buffered file (``> log 2>&1``); the model is not saved."""
    result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--optimizer", "gd", "--lr", "1e6",
                             "--episodes", "20", "--samples", "20", "--hidden", "3", "-o", str(tmp_path / "m.npz")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env=BUFFERED)
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and not (tmp_path / "m.npz").exists()
    assert lines[0].startswith("training 1-3-1 ") and lines[-1].startswith("tinygrad-edu: error: fit: "), lines
