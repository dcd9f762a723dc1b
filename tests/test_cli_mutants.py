"""The command line's promises that its other tests left unpinned, found by mutation testing of
``tinygrad_edu/cli.py``: defaults stated in ``--help`` and the module docstring, the messages that name what is
wrong, the training settings handed to ``fit``, and predict's edges.

Mutation testing of ``tinygrad_edu/cli.py``: 87 hand-made mutants (flipped comparisons and bounds, dropped checks,
changed defaults, arguments not passed on, wrong stream or exit status, messages that stop naming the option or
value at fault), run against tests/test_cli.py, tests/test_cli_edges.py, tests/test_predict_files_and_pipes.py,
the cli entries of tests/test_api_misuse.py and the module's doctests: 46 killed before this file, 84 with it.
The 3 survivors are equivalent:

- predict's ``inputs`` with ``default=None``: argparse gives a ``nargs="*"`` positional without values ``[]`` when
  its default is None, so args.inputs is the same list.
- the cross entropy refused for ``sizes[-1] <= 2`` instead of ``< 2``: train makes only 1 (xsquared) or 10 (digits)
  output neurons, so no command reaches 2.
- ``_check_lines`` without its ``count and``: for an empty line (last = first) the two halves of the condition
  ask for ``first % size == 0`` and ``!= 0`` at once, so it never holds.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_cli import BUFFERED, TRAIN_TINY, error_of, recording_fit, stalled_armijo_report, uniform_model

from tinygrad_edu import cli, nn, training
from tinygrad_edu.cli import build_parser, main, output_folder, whole_number


# --- argument types -----------------------------------------------------------------------------------------------
def test_a_too_long_whole_number_counts_its_digits_not_its_sign() -> None:
    """"+111…1" (5,000 ones) is a whole number of 5,000 digits; the sign is no digit."""
    with pytest.raises(argparse.ArgumentTypeError,
                       match=f"^a whole number of 5,000 digits is too long .*at most {sys.get_int_max_str_digits():,}"):
        whole_number(0)("+" + "1" * 5000)


@pytest.mark.parametrize("call", [lambda: whole_number(1.5), lambda: output_folder(5)])
def test_the_argument_types_refuse_arguments_of_the_wrong_type_by_name(call) -> None:
    """A programming error in a script that builds its own parser: a TypeError naming the function and parameter."""
    with pytest.raises(TypeError, match=r"^(whole_number: minimum|output_folder: text) must be"):
        call()


def test_an_existing_file_as_the_demo_folder_is_an_argument_error(capsys, tmp_path: Path) -> None:
    """output_folder looks at the folder itself too, not only at the folders it would be made in."""
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    message = error_of(capsys, ["demo", "--quick", "-o", str(tmp_path / "plain")])
    assert message.startswith(f"tinygrad-edu demo: error: argument -o/--output: cannot make the folder "
                              f"{tmp_path / 'plain'}: {tmp_path / 'plain'} is a file, not a folder")


def test_an_argument_of_exactly_40_characters_is_echoed_whole(capsys) -> None:
    """Only arguments longer than 40 characters are cut (with "…" and their length)."""
    message = error_of(capsys, ["train", "--lr", "x" * 40])
    assert f"expected a number, got '{'x' * 40}' (see" in message and "…" not in message


def test_hidden_without_sizes_is_an_argument_error(capsys) -> None:
    """``--hidden`` needs at least one size; none must not mean the data set's default layers."""
    message = error_of(capsys, ["train", "--hidden", "--episodes", "1"])
    assert message.startswith("tinygrad-edu train: error: argument --hidden: expected at least one argument")


# --- the parser and main ------------------------------------------------------------------------------------------
def test_the_defaults_that_help_states() -> None:
    """--help: both seeds default to 0; the module docstring: the demo writes into ./tinygrad-edu-demo; train's
    -o defaults to model.npz."""
    parser = build_parser()
    demo_args, train_args = parser.parse_args(["demo"]), parser.parse_args(["train"])
    assert (demo_args.seed, demo_args.output, demo_args.quick) == (0, Path("tinygrad-edu-demo"), False)
    assert (train_args.seed, train_args.output) == (0, "model.npz")


def test_a_parser_can_parse_twice() -> None:
    """predict's numbers after --inputs-file are read on every parse of one build_parser(), not only the first."""
    parser = build_parser()
    for _ in range(2):
        args = parser.parse_args(["predict", "m.npz", "1", "--inputs-file", "f.txt", "2"])
        assert (args.inputs, args.inputs_file) == ([1.0, 2.0], "f.txt")


def test_version_names_the_program_and_its_version(capsys) -> None:
    """--version prints "tinygrad-edu VERSION", the package's __version__."""
    from tinygrad_edu import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"tinygrad-edu {__version__}\n"


def test_main_refuses_a_string_for_argv() -> None:
    """main("demo") would read the letters d, e, m, o as arguments."""
    with pytest.raises(TypeError, match=r"^main: argv must be a list of strings"):
        main("demo")


def test_main_gives_back_a_strict_stdout_as_it_found_it(monkeypatch, tmp_path: Path) -> None:
    """A character the stream cannot encode is written as "?" during main, and the stream is strict again after."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="strict")
    monkeypatch.setattr(sys, "stdout", stream)
    assert main(["predict", str(uniform_model(tmp_path / "m.npz", [1, 1], 2.0)), "0.5"]) == 0
    assert stream.errors == "strict"
    stream.flush()
    assert stream.buffer.getvalue() == b"0.5 ? 1\n"


@pytest.mark.parametrize("argv, extras", [
    (["train", "--no_such_option", "1"], "--no_such_option 1"),  # --no-such-option is no option either
    (["demo", "--", "--quick"], "-- --quick"),  # after "--", an option's own name is left over as it is
])
def test_a_left_over_word_gets_a_hint_only_for_another_existing_option(capsys, argv: list[str], extras: str) -> None:
    """The hint "for --x_y, write --x-y" is given only when --x-y is an option and not the word itself."""
    message = error_of(capsys, argv)
    assert message == f"tinygrad-edu {argv[0]}: error: unrecognized arguments: {extras} (see tinygrad-edu {argv[0]} " \
                      "--help)\n"


def test_a_failed_file_access_is_said_as_path_and_reason(capsys, tmp_path: Path) -> None:
    """An OSError with a file name reads "PATH: reason", not Python's "[Errno 2] ...: 'PATH'"."""
    path = tmp_path / "absent.npz"
    message = error_of(capsys, ["predict", str(path), "1"])
    assert message.startswith(f"tinygrad-edu: error: {path}: ") and "[Errno" not in message


# --- warnings -----------------------------------------------------------------------------------------------------
def warning_fit(monkeypatch: pytest.MonkeyPatch, message: str, category: type[Warning]) -> None:
    """Make train's fit warn ``message`` after a real one-episode training."""
    def fit(*args, **kwargs):
        warnings.warn(message, category, stacklevel=1)
        return training.fit(*args, **kwargs)

    monkeypatch.setattr(cli, "fit", fit)


def test_a_warning_over_several_lines_is_shown_on_one(capsys, monkeypatch, tmp_path: Path) -> None:
    """main's docstring: warnings are one line each on stderr."""
    warning_fit(monkeypatch, "first line\n   second line", UserWarning)
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().err == "tinygrad-edu: warning: first line second line\n"


def test_only_a_divergence_warning_says_training_diverged(capsys, monkeypatch, tmp_path: Path) -> None:
    """Another RuntimeWarning is shown, but the model is not said to be saved "although training diverged"."""
    warning_fit(monkeypatch, "something else", RuntimeWarning)
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    captured = capsys.readouterr()
    assert captured.err == "tinygrad-edu: warning: something else\n" and "diverged" not in captured.out


def test_warnings_before_a_divergence_error_are_not_shown_after_it(capsys, monkeypatch, tmp_path: Path) -> None:
    """main's docstring: after a divergence error (status 1), the warnings that led up to it are not repeated;
    here the demo's training warns and then diverges."""
    from tinygrad_edu import demo

    def diverging_fit(*args, **kwargs):
        warnings.warn("fit: the cost grew; training is diverging", training.DivergenceWarning, stacklevel=1)
        raise FloatingPointError("fit: the steps diverged")

    monkeypatch.setattr(demo, "fit", diverging_fit)
    assert main(["demo", "--quick", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == "tinygrad-edu: error: fit: the steps diverged\n"


def test_a_warning_comes_after_what_was_printed_before_it(tmp_path: Path) -> None:
    """With both streams in one file (2>&1), the divergence warning follows the lines printed before it, also when
    the output is buffered."""
    result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--optimizer", "gd", "--lr", "3",
                             "--episodes", "5", "--samples", "20", "--hidden", "3", "-o", str(tmp_path / "m.npz")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env=BUFFERED)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("training 1-3-1 ") and lines[1].startswith("5 episodes in "), lines
    assert lines[2].startswith("tinygrad-edu: warning: fit: the cost grew"), lines


# --- train: defaults and what reaches fit -------------------------------------------------------------------------
def test_train_on_xsquared_by_default(capsys, monkeypatch, tmp_path: Path) -> None:
    """--help's defaults for xsquared: hidden layers 12 12, Armijo with first trial step 1, 500 full-batch episodes,
    1000 samples; the seed given reaches the batches; the model goes to ./model.npz."""
    calls = recording_fit(monkeypatch)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--seed", "7", "--progress"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    parameters = 1 * 12 + 12 + 12 * 12 + 12 + 12 * 1 + 1
    assert first.startswith(f"training 1-12-12-1 (leaky_relu, output identity, {parameters} parameters) on 1000 x² "
                            "samples with Armijo(sigma=0.0001, alpha=0.5, initial_step=1.0,")
    assert first.endswith("squared_error, 500 episodes, all samples per update")
    (call,) = calls
    assert (call["episodes"], call["batch_size"], call["seed"], call["progress"]) == (500, None, 7, True)
    assert nn.load(tmp_path / "model.npz").sizes == [1, 12, 12, 1]


def test_train_on_digits_by_default(capsys, monkeypatch, tmp_path: Path) -> None:
    """--help's defaults for digits: one hidden layer of 64, Adam with learning rate 0.01, batches of 32,
    30 episodes, the cross entropy."""
    calls = recording_fit(monkeypatch)
    assert main(["train", "--data", "digits", "--seed", "2", "-o", str(tmp_path / "m.npz")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("training 64-64-10 ") and " with Adam(learning_rate=0.01," in first
    assert first.endswith("cross_entropy, 30 episodes, 32 per update")
    (call,) = calls
    assert (call["episodes"], call["batch_size"], call["seed"]) == (30, 32, 2)


def test_random_search_is_reproducible_from_the_seed(tmp_path: Path, capsys) -> None:
    """The same command twice trains the same model: random search's changes come from --seed too."""
    for name in ("a.npz", "b.npz"):
        assert main(["train", "--optimizer", "random", "--episodes", "20", "--samples", "10", "--hidden", "3",
                     "--seed", "4", "-o", str(tmp_path / name)]) == 0
    first, second = nn.load(tmp_path / "a.npz").state_dict(), nn.load(tmp_path / "b.npz").state_dict()
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_ctrl_c_before_the_first_episode_says_0_episodes(capsys, monkeypatch, tmp_path: Path) -> None:
    """A count of 0 is plural, as 2 is: "0 episodes", not "0 episode"."""
    monkeypatch.setattr(cli, "fit", lambda *args, **kwargs: training.History(stopped="interrupted"))
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 130
    assert "\n0 episodes in " in capsys.readouterr().out


def test_an_armijo_search_that_stopped_before_its_last_backtrack_did_not_run_out(capsys, monkeypatch,
                                                                               tmp_path: Path) -> None:
    """Armijo ran out of backtracks only after trying all max_backtracks + 1 step sizes; one that stopped a trial
    earlier (its step rounded to no change) and left the cost as it was gets the advice of a cost that did not fall:
    a larger learning rate."""
    out = stalled_armijo_report(capsys, monkeypatch, tmp_path, failed=True, tried_all=False)
    assert "the cost did not fall measurably: try a larger learning rate than 1 (--learning-rate)" in out
    assert "Armijo's 50 backtracks" not in out


@pytest.mark.parametrize("output", ["sub/..", "sub/../.."])
def test_train_output_ending_in_dot_dot_names_a_folder(capsys, tmp_path: Path, output: str) -> None:
    """-o sub/.. names a folder as -o sub/ does: the error says so and asks for a file name."""
    (tmp_path / "sub").mkdir()
    message = error_of(capsys, [*TRAIN_TINY, "-o", f"{tmp_path}/{output}"])
    assert f"cannot save the model to {tmp_path}/{output}: that names a folder, not a file" in message


def test_train_activations_exactly_at_the_array_limit_are_accepted(capsys, monkeypatch, tmp_path: Path) -> None:
    """The limit is the most numbers an array may hold: 100 samples through a layer of 12 is 1,200 numbers."""
    monkeypatch.setattr(cli, "MAX_ARRAY_SIZE", 1200)
    assert main(["train", "--samples", "100", "--episodes", "1", "-o", str(tmp_path / "m.npz")]) == 0
    capsys.readouterr()
    message = error_of(capsys, ["train", "--samples", "101", "--episodes", "1", "-o", str(tmp_path / "m.npz")])
    assert "would make arrays of 1,212 numbers; the limit is 1,200" in message


# --- demo ---------------------------------------------------------------------------------------------------------
def test_demo_passes_its_options_on(monkeypatch, tmp_path: Path) -> None:
    """Without --quick the demo runs in full; --seed reaches the run."""
    from tinygrad_edu import demo

    calls = []
    monkeypatch.setattr(demo, "run_demo", lambda output, **kwargs: calls.append((output, kwargs)) or 0)
    assert main(["demo", "-o", str(tmp_path)]) == 0
    assert main(["demo", "--quick", "--seed", "5", "-o", str(tmp_path / "new")]) == 0
    assert calls == [(tmp_path, {"seed": 0, "quick": False}), (tmp_path / "new", {"seed": 5, "quick": True})]


# --- a reader that has gone; predict ------------------------------------------------------------------------------
def test_train_into_a_closed_pipe_ends_quietly_in_a_real_process(tmp_path: Path) -> None:
    """The module docstring: when the reader of the output has gone, the program ends quietly with status 141.
    Here the write fails at the flush before the divergence warning, with the report still buffered: that rest
    must not fail again at exit ("Exception ignored ... BrokenPipeError", status 120)."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run([sys.executable, "-m", "tinygrad_edu", "train", "--optimizer", "gd", "--lr", "3",
                                 "--episodes", "5", "--samples", "20", "--hidden", "3", "-o", str(tmp_path / "m.npz")],
                                stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, env=BUFFERED)
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (141, "")
    assert nn.load(tmp_path / "m.npz").sizes == [1, 3, 1]  # saved before the report


def test_predict_reads_an_inputs_file_far_over_64_kib(capsys, tmp_path: Path) -> None:
    """The limit is 64 MiB: a file of 100,000 bytes is read."""
    model = uniform_model(tmp_path / "m.npz", [1, 1], 2.0)
    (tmp_path / "big.txt").write_text("0.25\n" * 20_000, encoding="utf-8")  # 5 bytes a line
    assert main(["predict", str(model), "--inputs-file", str(tmp_path / "big.txt")]) == 0
    assert capsys.readouterr().out.splitlines() == ["0.25 → 0.5"] * 20_000


def test_predict_refuses_an_inputs_file_that_is_not_text(capsys, tmp_path: Path) -> None:
    """Bytes that are neither UTF-8 nor UTF-16 text are one error line naming the file, not a traceback."""
    model = uniform_model(tmp_path / "m.npz", [1, 1])
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    message = error_of(capsys, ["predict", str(model), "--inputs-file", str(tmp_path / "image.png")])
    assert message == f"tinygrad-edu: error: predict: {str(tmp_path / 'image.png')!r} is not a text file of numbers " \
                      "(UTF-8 or UTF-16 text)\n"


def test_a_line_error_mentions_the_command_line_only_when_its_numbers_shift_the_file(capsys, tmp_path: Path) -> None:
    """Two numbers before a 2-input model's file are one whole sample: line 1's "1 2 3" is wrong by itself."""
    model = uniform_model(tmp_path / "m.npz", [2, 1])
    (tmp_path / "rows.txt").write_text("1 2 3\n4 5 6\n", encoding="utf-8")
    message = error_of(capsys, ["predict", str(model), "7", "8", "--inputs-file", str(tmp_path / "rows.txt")])
    assert "line 1 holds 3 numbers, which do not make whole samples" in message and "command line" not in message


def test_predict_works_when_a_layer_is_wider_than_a_part(capsys, monkeypatch, tmp_path: Path) -> None:
    """A part holds at least one sample, however wide the model (here 12 neurons, parts of 5 numbers)."""
    model = uniform_model(tmp_path / "m.npz", [1, 12, 1], 0.5)  # y = 12 · 0.5 · 0.5 · x = 3x
    monkeypatch.setattr(cli, "_PREDICT_PART_SIZE", 5)
    assert main(["predict", str(model), "1", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1 → 3", "2 → 6"]


def test_the_overflow_warning_counts_samples_not_outputs(capsys, tmp_path: Path) -> None:
    """One sample whose two outputs are both infinite is one sample that overflowed."""
    model = uniform_model(tmp_path / "m.npz", [1, 2], 2.0)  # both outputs are 2x
    assert main(["predict", str(model), "1e308", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["1e+308 → [inf, inf]  class 0", "1 → [2, 2]  class 0"]
    assert captured.err.startswith("tinygrad-edu: warning: predict: 1 sample gave NaN or inf")
