"""A teacher's pass over the seed, section by section, against what the project projects in class (round 47).

Notebook 06's x² demonstration checked the outputs at x = 0.1, 0.5, −1, 0.01 and nothing of the derivative the
seed's 6.1 is about: the slope 2x (0.2, 1, −2, 0.02 there).  A cell now backpropagates down to the input α⁰ and
prints each method's slope; its prose says what those numbers show, checked here against central differences
taken in this file."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

TRAINING = Path(__file__).resolve().parent.parent / "notebooks" / "06_training.ipynb"
SLOPE_MARKER = "gradients(run.model"


def _cells() -> list[tuple[str, str]]:
    return [(cell["cell_type"], "".join(cell["source"])) for cell in
            json.loads(TRAINING.read_text(encoding="utf-8"))["cells"]]


@pytest.fixture(scope="module")
def slope_cell_run() -> tuple[dict, str, str] | None:
    """Notebook 06's imports, its demonstration cell and the slope cell after it, run in one namespace as in one
    kernel; with what the slope cell printed and the prose just above it (None without such a cell)."""
    cells = _cells()
    codes = [source for kind, source in cells if kind == "code"]
    slope_cells = [source for source in codes if SLOPE_MARKER in source]
    if len(slope_cells) != 1:
        return None
    position = [source for _, source in cells].index(slope_cells[0])
    assert cells[position - 1][0] == "markdown"
    printed: list[str] = []
    namespace: dict = {"print": lambda *args, **kwargs: printed.append(" ".join(map(str, args)))}
    try:
        for source in [codes[0], next(s for s in codes if "runs = demo.compare_xsquared()" in s), slope_cells[0]]:
            exec(compile(source, "<cell>", "exec"), namespace)
    finally:
        import matplotlib.pyplot as plt
        plt.close("all")
    return namespace, "\n".join(printed), " ".join(cells[position - 1][1].split())


def _ran(slope_cell_run: tuple[dict, str, str] | None) -> tuple[dict, str, str]:
    assert slope_cell_run is not None, "notebook 06 shows no slope dy/dx of the trained networks at the test inputs"
    return slope_cell_run


def _central_differences(model, points: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """dy/dx of a one-input model at each point, (y(x + h) − y(x − h)) / 2h in float64."""
    column = np.asarray(points, dtype=np.float64).reshape(-1, 1)
    return ((model(column + h).data - model(column - h).data) / (2 * h)).ravel()


def test_the_slope_cell_follows_the_demonstration_and_prints_2x_as_the_target(slope_cell_run):
    from tinygrad_edu import demo

    namespace, printed, _ = _ran(slope_cell_run)
    target_row = re.search(r"^2x, the target +(.*)$", printed, re.MULTILINE)
    assert target_row is not None, printed
    assert np.allclose([float(v) for v in target_row.group(1).split()], [0.2, 1.0, -2.0, 0.02])
    assert list(namespace["slopes"]) == list(demo.METHOD_NAMES)


def test_each_printed_slope_is_the_networks_derivative_by_central_differences(slope_cell_run):
    namespace, printed, _ = _ran(slope_cell_run)
    for run in namespace["runs"]:
        measured = _central_differences(run.model, run_inputs())
        assert np.allclose(namespace["slopes"][run.name], measured, rtol=1e-6, atol=1e-7), run.name
        row = re.search(rf"^{re.escape(run.name)} +(.*)$", printed, re.MULTILINE)
        assert row is not None and np.allclose([float(v) for v in row.group(1).split()], measured, atol=6e-4)


def run_inputs() -> np.ndarray:
    from tinygrad_edu import demo

    return np.array(demo.TEST_INPUTS)


def test_the_prose_above_the_slopes_says_what_they_show(slope_cell_run):
    """"gradient descent's slope is 0.24 at x = 0.1 and 1.22 at x = 0.5" while its outputs are within 0.02 of x²,
    and "at the edge x = −1 ... every method's slope is flatter than −2"."""
    namespace, _, prose = _ran(slope_cell_run)
    said = re.search(r"gradient descent's slope is (\S+) at \$x = 0\.1\$ and (\S+) at \$x = 0\.5\$", prose)
    assert said is not None, prose
    runs = {run.name: run for run in namespace["runs"]}
    descent = _central_differences(runs["gradient descent"].model, run_inputs())
    assert f"{descent[0]:.2f}" == said.group(1) and f"{descent[1]:.2f}" == said.group(2)
    assert np.abs(runs["gradient descent"].errors).max() <= 0.02 < np.abs(descent - 2 * run_inputs()).max()
    assert "every method's slope is flatter than $-2$" in prose
    for run in runs.values():
        assert -2 < _central_differences(run.model, [-1.0])[0] < 0, run.name


def test_the_prose_says_why_newtons_curve_starts_lower_with_the_costs_before_any_update():
    """The demonstration's plot shows Newton's curve starting at 0.24, far below random search's and Armijo's 1.26,
    and the prose explained only the gradient-descent curve's low start (its first point is taken after updates).
    Newton trains another network: the costs of both starts before any update, computed here."""
    from tinygrad_edu import demo
    from tinygrad_edu.data import xsquared
    from tinygrad_edu.losses import squared_error

    inputs, targets = xsquared(1000, seed=0)
    theirs = squared_error(demo.xsquared_network(0)(inputs), targets).item()
    newtons = squared_error(demo.newton_network(0)(inputs), targets).item()
    prose = " ".join(" ".join(source.split()) for kind, source in _cells() if kind == "markdown")
    said = re.search(r"Newton's curve starts lower too, for another reason: its 1-8-1 network is not the others' "
                     r"1-12-12-1, and costs (\S+) before its first update where theirs costs (\S+)\.", prose)
    assert said is not None, "notebook 06 does not say why Newton's curve starts lower"
    assert (said.group(1), said.group(2)) == (f"{newtons:.2f}", f"{theirs:.2f}")
    assert newtons < theirs / 5


def test_07_prints_the_hessians_cost_as_a_multiple_of_n_which_its_prose_reads():
    """07's prose said "two and a half to three times n" of numbers printed as "= 49 gradients" for n = 13 (3.8 n,
    on a busy machine): the reader had to divide, and found another range.  Each line now ends with the multiple of
    n itself, the one the prose reads from; no time is asserted, only that the line's numbers agree."""
    from tinygrad_edu import nn
    from tinygrad_edu.autodiff import gradient_and_hessian, gradients
    from tinygrad_edu.losses import squared_error

    path = TRAINING.with_name("07_second_derivatives.ipynb")
    cells = [(cell["cell_type"], "".join(cell["source"])) for cell in
             json.loads(path.read_text(encoding="utf-8"))["cells"]]
    position = next(i for i, (kind, source) in enumerate(cells) if kind == "code" and "def seconds(" in source)
    assert "here about three times $n$ (the last number of each line)" in " ".join(cells[position - 1][1].split())
    printed: list[str] = []
    namespace = {"np": np, "nn": nn, "squared_error": squared_error, "gradients": gradients,
                 "gradient_and_hessian": gradient_and_hessian, "x": np.linspace(-1, 1, 32).reshape(-1, 1),
                 "time": time, "print": lambda *args, **kwargs: printed.append(" ".join(map(str, args)))}
    exec(cells[position][1].replace("(2, 4, 8, 16, 32)", "(2, 4)"), namespace)
    assert len(printed) == 2
    for line, n in zip(printed, (13, 33)):
        said = re.search(rf"^ *{n} parameters: .* = +(\d+) gradients = (\d+\.\d) n$", line)
        assert said is not None, line
        assert abs(float(said.group(2)) - int(said.group(1)) / n) <= 0.05 + 0.5 / n, line
