"""``train``'s options as someone at the shell gives them: output paths that are no file of one's own (``-``, a
pipe behind ``/dev/stdout``), layer sizes written as a comma-separated list, and the guarantees a shell script
relies on (the same seed writes the same bytes, a model file that predict reads back)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import nn
from tinygrad_edu.cli import main

CLI = [sys.executable, "-m", "tinygrad_edu"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(tinygrad_edu.__file__).parent.parent),
                                                                  os.environ.get("PYTHONPATH")]))}
SMALL = ["train", "--samples", "20", "--hidden", "3", "--episodes", "2"]


def _one_line_error(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """The single error line ``main(argv)`` ends with, after checking its status 2 and that nothing else was printed
    (nothing on stdout: no training ran)."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    return captured.err


@pytest.mark.parametrize("option", [["-o", "-"], ["--output=-"]])
def test_output_dash_is_refused_as_standard_output(capsys, tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    error = _one_line_error(capsys, [*SMALL, *option])
    assert "standard output" in error and "./-" in error, error
    assert not (tmp_path / "-").exists()


def test_output_dot_slash_dash_is_a_file_named_dash(capsys, tmp_path, monkeypatch):
    """The way out the refusal of ``-o -`` names: ``./-`` is a file like any other, and predict reads it back."""
    monkeypatch.chdir(tmp_path)
    assert main([*SMALL, "-o", "./-"]) == 0
    model = nn.load(tmp_path / "-")
    capsys.readouterr()
    assert main(["predict", "./-", "0.5"]) == 0
    with nn.no_grad():
        expected = float(model(np.array([[0.5]])).data[0, 0])
    assert capsys.readouterr().out == f"0.5 → {expected:.6g}\n"


@pytest.mark.skipif(not os.path.exists("/dev/stdout") or not os.path.isdir("/proc/self/fd"),
                    reason="/dev/stdout as Linux has it")
def test_output_to_dev_stdout_on_a_pipe_says_it_is_a_pipe(tmp_path):
    result = subprocess.run([*CLI, *SMALL, "-o", "/dev/stdout"], cwd=tmp_path, env=ENV, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == "", result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "/proc" not in result.stderr and "No such file" not in result.stderr, result.stderr
    assert "pipe" in result.stderr, result.stderr


@pytest.mark.parametrize(("given", "meant"), [("64,10", "--hidden 64 10"), ("64,,10", "--hidden 64 10"),
                                              ("12,12,12", "--hidden 12 12 12")])
def test_hidden_sizes_with_commas_say_to_use_spaces(capsys, given, meant):
    error = _one_line_error(capsys, ["train", "--hidden", given])
    assert "spaces" in error and meant in error, error


def test_a_single_number_with_a_comma_is_not_a_list_of_sizes(capsys):
    """The list hint is for --hidden's sizes: --episodes 1,000 (a thousands separator) gets no layer advice."""
    error = _one_line_error(capsys, ["train", "--episodes", "1,000"])
    assert "--hidden" not in error and "'1,000'" in error, error


def test_the_same_seed_writes_the_same_bytes_for_every_optimizer(capsys, tmp_path):
    """A script that trains twice with the same options and seed gets byte-identical model files (here with
    mini-batches, where the shuffling draws from the seed too), whatever the optimizer; another seed another file."""
    for name in ("gd", "sgd", "adam", "armijo", "random"):
        files = []
        for seed, run in (("5", "a"), ("5", "b"), ("6", "c")):
            path = tmp_path / f"{name}-{run}.npz"
            assert main([*SMALL, "--batch-size", "7", "--optimizer", name, "--seed", seed, "-o", str(path)]) == 0
            files.append(path.read_bytes())
        assert files[0] == files[1], name
        assert files[0] != files[2], name
    capsys.readouterr()


def test_a_failed_output_check_leaves_no_file_and_runs_no_training(capsys, tmp_path):
    """``-o`` naming a folder is refused before training: nothing printed on stdout, nothing written in it."""
    (tmp_path / "models").mkdir()
    error = _one_line_error(capsys, [*SMALL, "-o", str(tmp_path / "models")])
    assert "folder" in error, error
    assert list((tmp_path / "models").iterdir()) == []
