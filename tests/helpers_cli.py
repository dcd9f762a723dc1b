"""What the tests of the command line and the x² demonstration share: main's one-line errors, saved models read back
and run with numpy alone, hand-made demo runs, and ``fit`` replaced by a recording or scripted one.  A helper
module, not a test module: no test module imports another.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import cli, demo, nn, training
from tinygrad_edu.cli import main
from tinygrad_edu.training import History


# --- help pages ----------------------------------------------------------------------------------------------------
def option_help(text: str, option: str) -> str:
    """The entry of ``option`` in a --help page (its names and its help), on one line."""
    entries: list[list[str]] = []
    for line in text[text.index("\noptions:\n"):].splitlines()[1:]:
        if line.startswith("  -"):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    for entry in entries:
        if option in re.split(r"[\s,]+", entry[0].strip().split("  ")[0]):
            return " ".join(" ".join(entry).split())
    raise AssertionError(f"{option} is not in the help")


# --- main's errors and saved models ---------------------------------------------------------------------------------
ACTIVATIONS = {"leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z), "identity": lambda z: z, "tanh": np.tanh,
               "sigmoid": lambda z: 1 / (1 + np.exp(-z))}


def error_of(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """main's one-line error (status 2); nothing was printed on stdout."""
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2 and captured.err.count("\n") == 1 and captured.out == "", captured
    return captured.err


def numpy_forward(arrays: dict[str, np.ndarray], activations: list[str], x: np.ndarray) -> np.ndarray:
    """The network's outputs computed with numpy alone: ``a ← φ(a W + b)`` layer by layer."""
    a = np.asarray(x, dtype=float)
    for i, name in enumerate(activations, start=1):
        a = ACTIVATIONS[name](a @ arrays[f"layers.{i}.weights"] + arrays[f"layers.{i}.biases"])
    return a


def read_model(path: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """A saved model's arrays and activations, read with numpy and json (no tinygrad_edu code, no pickle)."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    layers = json.loads(str(arrays.pop("__architecture__")))["layers"]
    return arrays, [layer["activation"] for layer in layers]


def uniform_model(path: Path, sizes: list[int], weight: float = 1.0) -> Path:
    """A saved identity network, all weights ``weight`` and biases 0: each output is weight^layers · Σ inputs."""
    model = nn.MLP(sizes, activation="identity", output_activation="identity", rng=0)
    for layer in model.layers:
        layer.weights.data[...] = weight
        layer.biases.data[...] = 0.0
    model.save(path)
    return path


# --- the demo's runs ------------------------------------------------------------------------------------------------
SQUARES = np.array([0.01, 0.25, 1.0, 0.0001])  # x² at x = 0.1, 0.5, -1, 0.01


def made_run(name: str, *, costs: list[float], final: float, largest_error: float = 0.0) -> demo.Run:
    """A Run whose history and test outputs are given: ``largest_error`` added to the first output."""
    outputs = SQUARES + np.array([largest_error, 0.0, 0.0, 0.0])
    return demo.Run(name, "by hand", demo.xsquared_network(0), History(cost=costs, final_cost=final), outputs, 0.5)


# --- train with fit replaced ----------------------------------------------------------------------------------------
TRAIN_TINY = ["train", "--episodes", "1", "--samples", "5", "--hidden", "2"]

#: The environment of a real process whose output to a pipe is buffered, as Python's is unless told otherwise.
BUFFERED = {**os.environ, "PYTHONUNBUFFERED": ""}


def recording_fit(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace the fit that ``train`` calls by one that records its keyword arguments and trains one episode."""
    calls: list[dict] = []

    def fit(model: Any, inputs: Any, targets: Any, **kwargs: Any) -> History:
        calls.append(kwargs)
        return training.fit(model, inputs, targets, **{**kwargs, "episodes": 1, "progress": False})

    monkeypatch.setattr(cli, "fit", fit)
    return calls


def stalled_armijo_report(capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *,
                          failed: bool, tried_all: bool) -> str:
    """What train prints after a (scripted) Armijo run that left the cost where it started, its last search marked
    ``failed`` or not, having tried all max_backtracks + 1 step sizes (``tried_all``) or one fewer."""
    def fit(model: Any, inputs: Any, targets: Any, *, cost: Any, optimizer: Any, **kwargs: Any) -> History:
        optimizer.last_failed = failed
        optimizer.last_trials = [(0.5 ** k, 1.0) for k in range(optimizer.max_backtracks + tried_all)]
        start = float(cost(model(inputs), targets).item())
        return training.History(cost=[start], gradient_norm=[1.0], final_cost=start, stopped="episodes")

    monkeypatch.setattr(cli, "fit", fit)
    assert main([*TRAIN_TINY, "-o", str(tmp_path / "m.npz")]) == 0
    return capsys.readouterr().out
