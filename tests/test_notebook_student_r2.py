"""A student in notebooks/06_training.ipynb presses Jupyter's ■ button (Ctrl-C) in a cell that trains one network
after another.  ``fit`` takes the first Ctrl-C over on purpose (training ends after the update under way and the
run's History is returned, ``stopped == "interrupted"``), so the cell's loop went on to the next network and, at
the end, printed the half-trained run's cost among the finished ones, as if nothing had happened."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers_interrupts import press_ctrl_c_at_the_first_step

from tinygrad_edu import demo, nn, no_grad, optim, plots
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "06_training.ipynb"


def _code_cell(marker: str) -> str:
    """The source of the one code cell of notebook 06 that contains ``marker``."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    [source] = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"
                and marker in "".join(cell["source"])]
    return source


def _namespace(printed: list[str]) -> dict:
    """What the notebook's first cell defines, on 16 samples instead of 256 (the same code, only faster)."""
    inputs, targets = xsquared(16, seed=0)

    def network(seed=0):
        return nn.MLP([1, 12, 12, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)

    return {"np": np, "nn": nn, "optim": optim, "fit": fit, "demo": demo, "no_grad": no_grad, "plots": plots,
            "squared_error": squared_error, "time": __import__("time"), "inputs": inputs, "targets": targets,
            "network": network, "print": lambda *args, **kwargs: printed.append(" ".join(map(str, args)))}


LOOPS = {"three learning rates": "for eta in (0.005, 0.1, 0.4):",
         "ten starts": "for seed in range(10):",
         "network sizes": "for sizes in"}


@pytest.mark.parametrize("loop", list(LOOPS))
def test_ctrl_c_in_a_cell_that_trains_several_networks_stops_the_cell(loop, monkeypatch):
    """Ctrl-C during the first update of the cell's first run: the cell stops there (KeyboardInterrupt, as any
    other cell stopped with ■), printing nothing made from the unfinished run."""
    printed: list[str] = []
    plots_shown: list[object] = []
    namespace = _namespace(printed)
    namespace["plots"] = type("NoPlots", (), {"plot_history": staticmethod(lambda *a, **k: plots_shown.append(a))})
    press_ctrl_c_at_the_first_step(monkeypatch, (optim.GradientDescent, optim.Armijo, optim.Adam))
    with pytest.raises(KeyboardInterrupt):
        exec(_code_cell(LOOPS[loop]), namespace)
    assert printed == [] and plots_shown == []
    prose = " ".join(" ".join("".join(cell["source"]).split()) for cell in
                     json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "markdown")
    assert 'Ctrl-C' in prose and 'stopped == "interrupted"' in prose  # and the prose says what ■ does to fit


@pytest.mark.parametrize("loop", list(LOOPS))
def test_without_ctrl_c_the_cells_train_every_network(loop):
    """Guard: uninterrupted, each loop trains all its networks and prints one line per run, as before."""
    printed: list[str] = []
    namespace = _namespace(printed)
    namespace["plots"] = type("NoPlots", (), {"plot_history": staticmethod(lambda *a, **k: None)})
    exec(_code_cell(LOOPS[loop]), namespace)
    assert len(printed) == {"three learning rates": 3, "ten starts": 1, "network sizes": 4}[loop]
    if loop == "ten starts":
        assert len(namespace["finals"]) == 10 and all(np.isfinite(namespace["finals"]))

