"""The command line as someone learns it only from its ``--help`` pages (and the README's Command line section):
every help page fits a terminal of 80 columns, states the defaults the command uses, agrees with the README, and an
option written in the wrong place gets an error that says where it goes.

Defects found (each pinned here):

- ``train --help``'s usage listed the six activations twice, in lines of 89 and 96 columns: wider than a terminal
  of 80, where they wrapped mid-word.
- ``train --help`` stated every data-dependent default but that of ``--hidden``.
- ``demo --help`` said its ``--seed`` seeds "the samples, weights and batches"; it also seeds random search's
  changes, as ``train --help`` says of its own ``--seed``.
- The README's ``demo [--seed S]``: the help's metavar is SEED.
- ``tinygrad-edu --seed 3 demo`` said "invalid choice: '3'", and ``tinygrad-edu --quick demo`` said that demo has
  no ``--quick`` (pointing at ``demo --help``, which lists it): neither said that a command's options come after it.
- ``train --test-fraction 0.999`` advised "change test_fraction, ... or give stratify=False", words of the Python
  function: the command line has no stratify option.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers_cli import error_of, option_help

from tinygrad_edu import cli
from tinygrad_edu.cli import main

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ["demo", "train", "predict"]


def help_of(capsys: pytest.CaptureFixture, *argv: str) -> str:
    assert main([*argv, "--help"]) == 0
    return capsys.readouterr().out


# --- help pages at 80 columns ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    pytest.param([], id="top"), pytest.param(["demo"], id="demo"), pytest.param(["predict"], id="predict"),
    pytest.param(["train"], id="train"),  # (its usage listed the activations twice, in lines of 89 and 96 columns)
])
def test_every_help_page_fits_80_columns(capsys, monkeypatch, command: list[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps at the terminal's width, read from COLUMNS
    text = help_of(capsys, *command)
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    if command == ["train"]:  # the choices are still listed, each option once in the usage
        usage = text[:text.index("\n\n")]
        for option in ("--activation", "--output-activation"):
            assert usage.count(f"[{option} ") == 1
            assert "{identity,leaky_relu,relu,sigmoid,softplus,tanh}" in option_help(text, option)


# --- defaults and wording -------------------------------------------------------------------------------------------
def trained_sizes(capsys, tmp_path: Path, *argv: str) -> str:
    """The sizes ``train`` says it trains (its first line: ``training 1-12-12-1 (...``)."""
    assert main(["train", *argv, "--episodes", "1", "-o", str(tmp_path / "m.npz")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    return first.split()[1]


def test_hidden_s_help_states_the_hidden_sizes_train_uses(capsys, tmp_path: Path) -> None:
    xsquared = trained_sizes(capsys, tmp_path, "--samples", "5").split("-")[1:-1]
    digits = trained_sizes(capsys, tmp_path, "--data", "digits").split("-")[1:-1]
    assert (xsquared, digits) == (["12", "12"], ["64"])  # the numbers the description states
    hidden = option_help(help_of(capsys, "train"), "--hidden")
    assert f"(default: {' '.join(xsquared)} for xsquared, {' '.join(digits)} for digits)" in hidden


def test_both_seeds_say_that_they_seed_random_search(capsys) -> None:
    for command in ("demo", "train"):
        seed = option_help(help_of(capsys, command), "--seed")
        assert "random search" in seed and "(default: 0)" in seed, (command, seed)


def test_the_options_both_commands_have_look_the_same_in_their_usage(capsys) -> None:
    usages = {command: " ".join(help_of(capsys, command).split("\n\n")[0].split()) for command in ("demo", "train")}
    for shown in ("[--seed SEED]", "[-o "):
        assert all(shown in usage for usage in usages.values()), (shown, usages)


def test_the_readme_s_demo_line_is_demo_s_usage(capsys) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Command line"):]
    line = next(line for line in section.splitlines() if line.startswith("tinygrad-edu demo "))
    written = re.findall(r"\[(--?[a-z-]+(?: [A-Z]+)?)\]", line.split("#")[0])
    assert written == ["--output FOLDER", "--seed SEED", "--quick"]  # every option of demo, in the help's order
    demo_help = help_of(capsys, "demo")
    for option in written:
        assert re.search(rf"(?:^ +|, ){re.escape(option)}(?:\s|$)", demo_help, re.MULTILINE), option


# --- an option before the command ------------------------------------------------------------------------------------
@pytest.mark.parametrize("argv, option", [
    (["--seed", "3", "demo", "--quick"], "--seed"),
    (["--quick", "demo"], "--quick"),
    (["-o", "pictures", "demo"], "-o"),
    (["--data=digits", "train"], "--data"),
])
def test_an_option_before_its_command_is_told_to_go_after_it(capsys, monkeypatch, tmp_path: Path, argv: list[str],
                                                             option: str) -> None:
    monkeypatch.chdir(tmp_path)
    command = next(word for word in argv if word in COMMANDS)
    message = error_of(capsys, argv)
    assert message.startswith(f"tinygrad-edu {command}: error: ") and message.endswith(
        f"(see tinygrad-edu {command} --help)\n")
    assert f"{cli.PROG} {command} {option}" in message and "after" in message
    assert "invalid choice" not in message and "unrecognized" not in message
    assert not list(tmp_path.iterdir())  # nothing ran


def test_help_and_version_before_a_command_still_work(capsys) -> None:
    assert main(["--help", "demo"]) == 0
    assert "COMMAND" in capsys.readouterr().out  # the top-level page
    assert main(["--version", "train"]) == 0
    assert capsys.readouterr().out == f"{cli.PROG} {cli.__version__}\n"
    assert "unrecognized arguments: --bogus" in error_of(capsys, ["--bogus", "demo"])


# --- errors advise options of the command line --------------------------------------------------------------------
def test_a_test_fraction_that_leaves_no_digit_advises_fractions_that_work(capsys, tmp_path: Path) -> None:
    message = error_of(capsys, ["train", "--data", "digits", "--test-fraction", "0.999", "-o", str(tmp_path / "m.npz")])
    assert "stratify=False" not in message and "test_fraction," not in message
    advised = re.search(r"--test-fraction[^;]*\((\d\.\d+) to (\d\.\d+) do\)", message)
    assert advised, message
    for fraction in advised.groups():  # the ends of the range advised do train
        assert main(["train", "--data", "digits", "--hidden", "1", "--episodes", "1", "--test-fraction", fraction,
                     "-o", str(tmp_path / "m.npz")]) == 0
        assert "test accuracy" in capsys.readouterr().out


# --- the examples, as written -----------------------------------------------------------------------------------
def test_the_module_docstring_s_train_and_predict_lines_run_as_written(capsys, monkeypatch, tmp_path: Path) -> None:
    """``train ... -o model.npz`` then ``predict model.npz 0.1 0.5 -1 0.01``: predict's outputs are the f(x) that
    train printed for the same inputs."""
    monkeypatch.chdir(tmp_path)
    lines = [line.split("#")[0].split() for line in (cli.__doc__ or "").splitlines()]
    train, predict = ([word for word in line if word] for line in lines if line[1:2] in (["train"], ["predict"]))
    assert train[0] == predict[0] == cli.PROG
    assert main(train[1:]) == 0
    printed = dict(re.findall(r"f\((\S+)\) = (\S+) ", capsys.readouterr().out))
    assert main(predict[1:]) == 0
    predicted = dict(line.split(" → ") for line in capsys.readouterr().out.splitlines())
    assert list(predicted) == predict[3:] == list(printed)
    for x, y in predicted.items():
        assert float(y) == pytest.approx(float(printed[x]), rel=1e-3, abs=1e-6), (x, y, printed[x])
    assert shlex.join(predict[1:3]) == "predict model.npz"
