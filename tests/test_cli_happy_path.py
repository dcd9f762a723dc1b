"""The command line as a student uses it, following the README and the ``--help`` pages literally: every command and
option in the documented ways and their everyday variations (``--option=value``, options after positionals, paths
with spaces and ``~``, a model written by ``train`` read by ``predict``, standard input, ``--seed``, Ctrl-C).

Defects found, each with a test below, fixed in ``tinygrad_edu/cli.py``:

- A path written after ``=`` or a short option (``demo --output=~/pictures``, ``train -o~/model.npz``,
  ``predict --inputs-file=~/x.txt``) is not expanded by the shell: the demo made a folder named ``~`` in the current
  one, train and predict said that ``./~`` does not exist.
- ``train --help`` promised "show a progress bar (needs tqdm)", but with stderr not a terminal (``2> log``, ``| tee``)
  the bar is left out without a word.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tinygrad_edu import cli, demo
from tinygrad_edu.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--samples", "20", "--hidden", "2", "--episodes", "2"]


def run_cli(*argv: str, stdin: bytes | None = None, cwd: Path | None = None,
            home: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m tinygrad_edu ARGV`` in a process of its own, with this checkout's package."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *argv], input=stdin, capture_output=True,
                          cwd=cwd, env=env, timeout=60)


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A home folder of its own, and a working folder apart from it as the current one."""
    folder, work = tmp_path / "home", tmp_path / "work"
    folder.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.chdir(work)
    return folder


# --- defects -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["demo", "train and predict"])
def test_a_path_after_an_equals_sign_starting_with_a_tilde_means_the_home_folder(
        capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, home: Path, command: str) -> None:
    if command == "demo":
        folders: list[Path] = []
        monkeypatch.setattr(demo, "run_demo", lambda output, **options: folders.append(Path(output)) or 0)
        assert main(["demo", "--quick", "--output=~/pictures"]) == 0
        assert [folder.resolve() for folder in folders] == [(home / "pictures").resolve()]
    else:
        (home / "inputs.txt").write_text("0.5\n-1\n", encoding="utf-8")
        assert main(["train", *TINY, "--output=~/model.npz"]) == 0
        assert (home / "model.npz").is_file()
        capsys.readouterr()
        assert main(["predict", "--inputs-file=~/inputs.txt", "~/model.npz"]) == 0
        assert capsys.readouterr().out.splitlines()[0].startswith("0.5 → ")
    assert not Path("~").exists()


def test_progress_s_help_says_when_a_bar_is_shown(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["train", *TINY, "--progress", "-o", str(tmp_path / "m.npz")]) == 0
    err = capsys.readouterr().err
    assert "episode/s" not in err and "|" not in err  # stderr here is no terminal: no bar
    assert main(["train", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    progress = help_text[help_text.index("--progress "):]
    assert "terminal" in progress.split(" --", 1)[0]


# --- what is right today and must stay so ------------------------------------------------------------------------
def test_train_then_predict_with_a_path_with_spaces_options_after_positionals_and_standard_input(
        tmp_path: Path) -> None:
    model = tmp_path / "my models" / "x squared.npz"
    model.parent.mkdir()
    trained = run_cli("train", *TINY, "--seed=3", f"--output={model}", cwd=tmp_path)
    assert trained.returncode == 0 and trained.stderr == b""
    assert model.is_file()
    # the suggested command, pasted as it is printed, works
    suggested = trained.stdout.decode().splitlines()[-1].split("try: ", 1)[1]
    assert suggested.startswith("tinygrad-edu predict ")
    pasted = subprocess.run(f"{sys.executable} -m tinygrad_edu {suggested.removeprefix('tinygrad-edu ')}", shell=True,
                            capture_output=True, cwd=tmp_path, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert pasted.returncode == 0 and len(pasted.stdout.decode().splitlines()) == 4
    direct = run_cli("predict", "my models/x squared.npz", "0.5", "--inputs-file", "-", "--", "-1",
                     stdin=b"0.25\n", cwd=tmp_path)
    assert direct.returncode == 0 and direct.stderr == b""
    lines = direct.stdout.decode().splitlines()
    assert [line.split(" → ")[0] for line in lines] == ["0.5", "-1", "0.25"]
    # the same outputs as the lines the pasted command printed for the same inputs
    pasted_by_input = dict(line.split(" → ") for line in pasted.stdout.decode().splitlines())
    assert dict(line.split(" → ") for line in lines)["0.5"] == pasted_by_input["0.5"]


def test_the_same_seed_writes_the_same_model_and_another_seed_another(tmp_path: Path) -> None:
    for name, seed in [("a.npz", "5"), ("b.npz", "5"), ("c.npz", "6")]:
        assert main(["train", *TINY, "--optimizer", "sgd", "--batch-size", "4", "--seed", seed,
                     "-o", str(tmp_path / name)]) == 0
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    assert (tmp_path / "a.npz").read_bytes() != (tmp_path / "c.npz").read_bytes()


@pytest.mark.parametrize("option", ["--activation", "--output-activation", "--init", "--optimizer", "--cost"])
def test_every_choice_the_help_lists_is_accepted(capsys: pytest.CaptureFixture, tmp_path: Path, option: str) -> None:
    action = cli.build_parser()._subparsers._group_actions[0].choices["train"]._option_string_actions[option]
    assert main(["train", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "{" + ",".join(action.choices) + "}" in help_text
    for choice in action.choices:
        data = ["--data", "digits", "--hidden", "2", "--episodes", "1"] if choice == "cross_entropy" else TINY
        status = main(["train", *data, f"{option}={choice}", "-o", str(tmp_path / "m.npz")])
        assert status == 0, (choice, capsys.readouterr().err)
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_during_train_saves_the_model_so_far_and_leaves_nothing_else(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", "train", "--hidden", "3", "--episodes",
                                "1000000", "-o", "model.npz"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()  # printed just before training starts
    assert first.startswith("training 1-3-1 ")
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == cli.INTERRUPTED
    assert err == ""
    assert "(interrupted)" in out and "saved the model to model.npz as it was when interrupted" in out
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model.npz"]
    predicted = run_cli("predict", "model.npz", "0.5", cwd=tmp_path)
    assert predicted.returncode == 0 and predicted.stdout.decode().startswith("0.5 → ")


def test_a_usage_error_is_one_line_on_stderr_with_status_2() -> None:
    result = run_cli("train", "--episodes", "0")
    assert result.returncode == 2 and result.stdout == b""
    assert result.stderr.decode().count("\n") == 1 and "--episodes" in result.stderr.decode()
