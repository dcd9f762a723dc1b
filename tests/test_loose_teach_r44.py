"""Round 44's loose ends in the player, the drawings, the command line, the files and the gradient checker."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu.cli import main


# --- 3: the command line reads numbers as numpy does, on the command line as in a file ---------------------------
@pytest.mark.parametrize(("word", "written"), [("1_000", "1000"), ("١٢", "12"), ("１.５", "1.5")])
def test_predict_refuses_what_numpy_refuses_on_the_command_line_and_in_a_file(capsys, tmp_path, word, written):
    """float() reads 1_000 and digits other than 0-9; numpy.loadtxt refuses them, and so does predict, either way."""
    with pytest.raises(ValueError):
        np.loadtxt([word])
    model = uniform_model(tmp_path / "m.npz", [1, 1])
    error = error_of(capsys, ["predict", str(model), "0.5", word])
    assert f"argument X: expected a number, got {word!r}" in error and f"write {written}" in error, error
    inputs = tmp_path / "x.txt"
    inputs.write_text(f"0.5\n{word}\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "line 2" in error and f"{word!r} is not a number" in error and f"write {written}" in error, error


def test_predict_still_reads_what_numpy_reads(capsys, tmp_path):
    model = uniform_model(tmp_path / "m.npz", [1, 1], weight=2.0)
    words = ["1e3", "+.5", "-2.", " 7"]
    assert main(["predict", str(model), "--", *words]) == 0
    printed = [float(line.split("→")[1]) for line in capsys.readouterr().out.splitlines() if "→" in line]
    assert printed == [2 * x for x in np.loadtxt(words)], printed

