"""The digits example writing into a closed pipe, and predict's advice for a model file it cannot rebuild a model
from."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers_cli import error_of  # main's one-line error (status 2)

from tinygrad_edu import nn, serialization

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("unbuffered", ["", "1"])
def test_digits_example_into_a_pipe_whose_reader_has_gone_ends_quietly(unbuffered: str) -> None:
    """``python examples/digits.py | head -3`` ended with a BrokenPipeError traceback (or, with its output still
    buffered at exit, "Exception ignored ... BrokenPipeError"); like the command line it now ends quietly with
    status 141 (128 + SIGPIPE).  The pipe's reader is gone before the first line, the earliest ``head`` can stop,
    so the write fails on every run; unbuffered, it fails at the first print, buffered, at the final flush."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        result = subprocess.run([sys.executable, str(EXAMPLES / "digits.py"), "--episodes", "1"], stdout=writer,
                                stderr=subprocess.PIPE, text=True, timeout=120,
                                env={**os.environ, "PYTHONUNBUFFERED": unbuffered})
    finally:
        os.close(writer)
    assert (result.returncode, result.stderr) == (141, "")


class Doubled(nn.Network):
    """A network with its own forward, which a file cannot describe: save stores no architecture."""

    def forward(self, data):
        return super().forward(data) * 2


@pytest.mark.parametrize("save", [
    lambda path: Doubled(nn.Layer(1, 1, rng=0)).save(path),
    lambda path: serialization.save(path, {"weights": np.ones((1, 1)), "biases": np.zeros(1)}),
], ids=["custom-forward", "state-without-architecture"])
def test_predict_on_a_file_without_architecture_says_what_a_shell_user_can_do(capsys, tmp_path: Path, save) -> None:
    """predict passed on nn.load's "build the model yourself and call model.load(path)", which only Python can
    do; it now says which files predict reads.  nn.load keeps its advice for library users."""
    path = tmp_path / "m.npz"
    save(path)
    message = error_of(capsys, ["predict", str(path), "0.5"])
    assert message.startswith(f"tinygrad-edu: error: predict: {str(path)!r} stores parameters but no architecture")
    assert "tinygrad-edu train -o FILE" in message and "named activations" in message
    assert "yourself" not in message
    with pytest.raises(ValueError, match="build the model yourself and call model.load"):
        nn.load(path)


def test_predict_on_a_state_dict_saved_with_numpy_also_says_which_files_it_reads(capsys, tmp_path: Path) -> None:
    """A state_dict written with numpy.savez has no format entry either: the library's advice (load_state_dict,
    Python only) stays, and predict adds which files it can read."""
    path = tmp_path / "m.npz"
    np.savez(path, **nn.MLP([1, 1], rng=0).state_dict())
    message = error_of(capsys, ["predict", str(path), "0.5"])
    assert "'__format__' is missing" in message and "model.load_state_dict(numpy.load(path))" in message
    assert "predict reads the files 'tinygrad-edu train -o FILE' writes" in message
