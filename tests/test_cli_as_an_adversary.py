"""What a shell user hits with odd outputs and streams: read-only and looping output files are refused before
training, a closed stdout is no traceback, messages name the option given.  Each test failed before its fix."""

from __future__ import annotations

import errno
import io
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.cli import main

SMALL = ["--episodes", "1", "--samples", "20", "--hidden", "3"]


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Makes an existing file read-only, root included (chattr +i), else skips; undone afterwards."""
    locked: list[Path] = []

    def lock(path: Path) -> None:
        path.chmod(0o444)
        if os.access(path, os.W_OK):  # root: only an immutable file is read-only
            chattr = shutil.which("chattr")
            if not (chattr and subprocess.run([chattr, "+i", str(path)], check=False).returncode == 0):
                pytest.skip("chattr +i is not available here, and root can write to a read-only file")
            locked.append(path)

    yield lock
    for path in locked:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def read_only_model(tmp_path: Path, make_read_only: Callable[[Path], None]) -> Path:
    """An existing good model file that cannot be written to."""
    model = tmp_path / "good.npz"
    nn.MLP([1, 2, 1], rng=0).save(model)
    make_read_only(model)
    return model


def test_train_refuses_a_read_only_output_file_before_training(capsys, read_only_model: Path) -> None:
    before = read_only_model.read_bytes()
    assert main(["train", *SMALL, "-o", str(read_only_model)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was trained
    assert captured.err == f"tinygrad-edu: error: train: cannot save the model to {read_only_model}: the file is " \
        "read-only\n"
    assert read_only_model.read_bytes() == before


def test_the_suggested_predict_command_works_for_a_model_name_starting_with_a_dash(capsys, tmp_path: Path,
                                                                                   monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *SMALL, "--output=-x.npz"]) == 0
    suggestion = capsys.readouterr().out.rsplit("try: ", 1)[1]
    words = shlex.split(suggestion)
    assert words[:2] == ["tinygrad-edu", "predict"]
    assert main(words[1:]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and len(captured.out.splitlines()) == 4


@pytest.mark.parametrize("argv, status, error", [
    (["predict", "MODEL", "0.5"], 0, ""),
    (["predict", "missing.npz", "0.5"], 2, "tinygrad-edu: error: missing.npz: load: No such file or directory\n"),
    (["train", *SMALL, "-o", "OUT"], 0, ""),
])
def test_every_command_runs_with_stdout_closed(capsys, monkeypatch, tmp_path: Path, argv: list[str], status: int,
                                               error: str) -> None:
    monkeypatch.chdir(tmp_path)
    nn.MLP([1, 2, 1], rng=0).save(tmp_path / "m.npz")
    argv = [{"MODEL": str(tmp_path / "m.npz"), "OUT": str(tmp_path / "out.npz")}.get(word, word) for word in argv]
    monkeypatch.setattr(sys, "stdout", None)  # what Python makes of a closed file descriptor 1
    assert main(argv) == status
    assert capsys.readouterr().err == error
    if argv[0] == "train":
        assert nn.load(tmp_path / "out.npz").sizes == [1, 3, 1]


def test_a_learning_rate_random_search_refuses_names_the_option(capsys, tmp_path: Path) -> None:
    argv = ["train", *SMALL, "--optimizer", "random", "--learning-rate", "1e308", "-o", str(tmp_path / "m.npz")]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not (tmp_path / "m.npz").exists()
    assert captured.err.startswith("tinygrad-edu: error: train --learning-rate 1e+308: RandomSearch: scale must be at "
                                   "most 8.988e+307")


def test_a_hidden_layer_too_wide_for_x_squared_names_hidden(capsys, tmp_path: Path) -> None:
    assert main(["train", "--hidden", "4", "10000000", "-o", str(tmp_path / "m.npz")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("tinygrad-edu: error: train --hidden 4 10000000: 1,000 samples through a layer of "
                                   "10,000,000 neurons")


@pytest.mark.parametrize("name", ["model.npz", "results.md"])
def test_demo_refuses_a_read_only_file_it_would_write_before_training(capsys, tmp_path: Path, name: str,
                                                                      make_read_only: Callable[[Path], None]) -> None:
    (tmp_path / name).write_bytes(b"kept")
    make_read_only(tmp_path / name)
    assert main(["demo", "--quick", "-o", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was trained
    assert captured.err == f"tinygrad-edu: error: demo: cannot write {tmp_path / name}: the file is read-only; move " \
        "it away or choose another folder (-o FOLDER)\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]


def test_train_refuses_a_loop_of_symbolic_links_as_output_before_training(capsys, tmp_path: Path) -> None:
    (tmp_path / "a.npz").symlink_to(tmp_path / "b.npz")
    (tmp_path / "b.npz").symlink_to(tmp_path / "a.npz")
    assert main(["train", *SMALL, "-o", str(tmp_path / "a.npz")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was trained
    assert captured.err == f"tinygrad-edu: error: train: cannot save the model to {tmp_path / 'a.npz'}: it is a loop " \
        "of symbolic links\n"


def test_inputs_file_dash_reads_standard_input(capsys, monkeypatch, tmp_path: Path) -> None:
    """``printf '0.1 0.5' | tinygrad-edu predict m.npz --inputs-file -``: '-' is standard input, as in other Unix
    programs (it was "No such file or directory"); its lines are checked as a file's, named "standard input"."""
    model = nn.MLP([2, 2, 1], rng=0)
    model.save(tmp_path / "m.npz")

    def predict(text: str | None) -> int:
        monkeypatch.setattr(sys, "stdin", None if text is None else io.TextIOWrapper(io.BytesIO(text.encode())))
        return main(["predict", str(tmp_path / "m.npz"), "0.25", "--inputs-file", "-"])

    assert predict("0.75\n0.1, 0.5\n") == 0
    lines = capsys.readouterr().out.splitlines()
    expected = model([[0.25, 0.75], [0.1, 0.5]]).data[:, 0]
    assert [float(line.rsplit("→", 1)[1]) for line in lines] == pytest.approx(expected, rel=1e-5)
    assert predict("0.75 x\n") == 2
    assert capsys.readouterr().err == "tinygrad-edu: error: predict: standard input line 1: 'x' is not a number\n"
    assert predict("0.75 0.1\n0.5\n") == 2
    assert "predict: standard input line 1 holds 2 numbers after the 1 number on the command line" in \
        capsys.readouterr().err
    assert predict(None) == 2
    assert capsys.readouterr().err == "tinygrad-edu: error: predict --inputs-file -: standard input is closed\n"


def test_a_full_disk_names_the_model_file_and_leaves_nothing_behind(capsys, monkeypatch, tmp_path: Path) -> None:
    """A write that fails with ENOSPC names no file: the line was 'error: [Errno 28] No space left on device'."""
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np.lib.format, "write_array", full_disk)
    model = tmp_path / "m.npz"
    assert main(["train", *SMALL, "-o", str(model)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        f"tinygrad-edu: error: save: cannot write {str(model)!r}: No space left on device"
    assert os.listdir(tmp_path) == []  # (no half-written temporary file)


@pytest.mark.parametrize("text, said", [("1e-400", True), ("2E-999", True), ("0", False), ("0.0e5", False),
                                        ("-1e-400", False)])
def test_a_learning_rate_that_rounds_to_zero_is_said_to(capsys, text: str, said: bool) -> None:
    """'must be a positive number, got 1e-400' was no reason: 1e-400 is positive, but not as a float."""
    assert main(["train", *SMALL, f"--lr={text}"]) == 2
    error = capsys.readouterr().err
    assert f"must be a positive number, got {text}" in error
    assert ("(as a float it is 0: below 5e-324)" in error) == said
