"""The notebooks run from a fresh kernel without errors, and the package's pictures display inline in Jupyter."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
if importlib.util.find_spec("ipykernel") is None:  # found, not imported: importing it would fake a kernel here
    pytest.skip("ipykernel is not installed (pip install '.[dev]')", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def numbers(pattern: str, printed: str) -> list[float]:
    """The numbers that ``pattern``'s groups capture in the first line of ``printed`` it matches (2^-4 gives -4)."""
    found = re.search(pattern, printed, re.MULTILINE)
    assert found, (pattern, printed)
    return [float(group) for group in found.groups()]


def array_after(label: str, printed: str) -> np.ndarray:
    """The numbers of the printed numpy array that follows ``label`` (possibly over several lines)."""
    body = printed[printed.index(label) + len(label):]
    return np.array([float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", body[:body.index("]")])])


def armijo_claims(printed: str) -> None:
    """04: "at t = 2^-4 it asks f to fall by 0.009, from 8.94"; t = 1 … 1/8 land "where φ is about 600 to
    1.3·10^7, and t = 2^-4 is accepted"; σ = 0.25 "would backtrack here down to t = 2^-7"; armijo_descent's first
    step is the one accepted here; it stops at ‖∇f‖ ≤ 1e-6, not after 3000 steps; "none [of the steps] is below
    2^-7, and nearly all are 2^-5 or 2^-6"."""
    value, fall = numbers(r"f\(x⁰\) = (\S+); .* = (\S+)$", printed)
    assert (value, round(fall, 3)) == (8.94, 0.009)
    accepted, *trials = numbers(r"σ = 0\.0001: accepted t = 2\^(-?\d+); φ\(t\) .*: " + ", ".join(["(\\S+)"] * 5) + "$",
                                printed)
    assert accepted == -4 and 550 <= min(trials[:4]) and max(trials[:4]) <= 1.35e7 and trials[4] < value
    assert numbers(r"σ = 0\.25: accepted t = 2\^(-?\d+);", printed) == [-7]
    steps, first, norm = numbers(r"(\d+) steps \(the first t = 2\^(-?\d+)\), .*\|grad f\| = (\S+)$", printed)
    assert steps < 3000 and first == accepted and norm <= 1e-6
    smallest, _, usual, total = numbers(r"step sizes from 2\^(-?\d+) to 2\^(-?\d+); (\d+) of (\d+) are", printed)
    assert smallest >= -7 and usual >= 0.95 * total


def random_search_claims(printed: str) -> None:
    """03: "most guesses are rejected", the curve "fall[s] monotonically", and at x = −1 "that answer is 1.03"."""
    improved, total, raised = numbers(r"(\d+) of (\d+) episodes improved the cost, (\d+) raised it", printed)
    assert improved < total / 2 and raised == 0
    at_minus_one = numbers(r"^ *-1\.0 +(\S+) +1\.0000$", printed)[0]
    assert f"{at_minus_one:.2f}" == "1.03"


def backpropagation_claims(printed: str) -> None:
    """05: the chain rule by hand gives what backpropagation stored, and a central difference measures it too."""
    for name in ("∂C/∂b3 ", "∂C/∂w3 ", ""):
        by_hand, stored = numbers(f"^{name}by hand: (\\S+) +\\.grad: (\\S+)$", printed)
        assert np.isclose(by_hand, stored, rtol=1e-12, atol=0), name
    measured = numbers(r"^finite difference: (\S+)$", printed)[0]
    assert np.isclose(measured, numbers(r"^∂C/∂b3 by hand: \S+ +\.grad: (\S+)$", printed)[0], rtol=1e-6)


def training_claims(printed: str) -> None:
    """06: the seed's loops and fit make the same update; "η = 0.005 crawls; η = 0.4 overshoots at first ... and
    then gets furthest", with η = 0.6 "the cost explodes"; gradient descent gets below the seed's 0.0003 in 50
    episodes with "all four outputs within 0.02"; of ten starts "none got stuck: all end between 0.002 and 0.004";
    "each larger network reaches a lower typical cost in the same number of episodes"."""
    assert numbers(r"largest difference between the loops' update and fit's: (\S+)$", printed)[0] < 1e-12
    rates = {eta: numbers(f"^η = {eta}: the cost rose in (\\d) of the first 5 episodes, \\S+ → (\\S+) after 100$",
                          printed) for eta in ("0.005", "0.1", "0.4")}
    assert rates["0.005"][0] == 0 and rates["0.005"][1] > rates["0.1"][1] > rates["0.4"][1]  # crawls ... furthest
    assert rates["0.4"][0] > 0  # "overshoots at first (the cost rises in the first episodes)"
    exploding = array_after("cost per episode with η = 0.6:", printed)
    assert exploding[-1] > 100 * exploding[0]
    episodes, cost, *outputs = numbers(r"^\| gradient descent +\| (\d+) +\| (\S+) +" + r"\| (\S+) +" * 4, printed)
    assert episodes == 50 and cost < 3e-4
    assert np.abs(np.array(outputs) - np.square([0.1, 0.5, -1.0, 0.01])).max() <= 0.02
    finals = array_after("final cost from each start:", printed)
    assert len(finals) == 10 and 0.002 <= finals.min() and finals.max() <= 0.004 and finals.max() < 2 * finals.min()
    medians = [float(m) for m in re.findall(r"median cost after 100 episodes (\S+),", printed)]
    assert len(medians) == 4 and all(a > b for a, b in zip(medians, medians[1:])), medians


def hessian_claims(printed: str) -> None:
    """07: where gradient descent stopped, "‖∇C‖ small but not zero"; "a few large positive eigenvalues ... many
    close to zero, some slightly negative"."""
    assert 0 < numbers(r"\|gradient\| = (\S+)$", printed)[0] < 1e-2
    eigenvalues = np.array([float(v) for v in re.search(r"eigenvalues of H: (.*)$", printed, re.MULTILINE)
                            .group(1).split(", ")])
    assert eigenvalues.max() > 1 and (np.abs(eigenvalues) < 1e-2).sum() >= len(eigenvalues) / 2
    assert ((eigenvalues < 0) & (eigenvalues > -1e-2)).any()


#: What a notebook's prose says its outputs show, as patterns of its printed text or checks of it (the prose must
#: stay true to them).
CLAIMS = {
    "02_layers_and_digits": [r"mean cost in episode 1 \d\.\d+, after training 0\.\d+; test accuracy 9\d\.\d%",
                             r"layer 2: z from \d+\.\d to \d+\.\d, so σ′\(z\) = .* is at most \de-0[5-9]",
                             r"after 8 episodes 9\.000; test accuracy 1?\d\.\d%"],  # the seed's start stalls: < 20 %
    "03_cost_and_random_guessing": [random_search_claims],
    "04_gradient_descent_and_armijo": [armijo_claims],
    "05_backpropagation": [backpropagation_claims],
    "06_training": [training_claims],
    "07_second_derivatives": [hessian_claims],
}
SEED_PARTS = ["01_forward_propagation", "02_layers_and_digits", "03_cost_and_random_guessing",
              "04_gradient_descent_and_armijo", "05_backpropagation", "06_training", "07_second_derivatives"]


#: The optimizers of the seed's own methods: random guessing (section 5), gradient descent (6.2, 7.1) and its
#: Armijo steps (6.2.1). Any other must be explained in the prose before a code cell first uses it.
SEED_OPTIMIZERS = {"RandomSearch", "GradientDescent", "Armijo"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_optimizers_beyond_the_seed_are_explained_before_their_first_use(path):
    """06 trained with optim.Adam without a word on what Adam is; a student knows only the seed's methods."""
    prose = ""  # the markdown read so far
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            prose += source
            continue
        for name in set(re.findall(r"optim\.(\w+)\(", source)) - SEED_OPTIMIZERS:
            assert f"optim.{name}" in prose, (path.name, name)


@pytest.fixture
def kernel_environment(monkeypatch):
    """A kernel that imports this checkout's package (installed or not) and has no MPLBACKEND set, as a fresh
    Jupyter has none."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)


def _run(notebook, cwd: Path) -> None:
    client = nbclient.NotebookClient(notebook, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()


def test_one_notebook_per_part_of_the_seed_in_order_stored_without_outputs():
    assert [path.stem for path in NOTEBOOKS][: len(SEED_PARTS)] == SEED_PARTS
    for path in NOTEBOOKS:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name
        text = " ".join("".join(cell["source"]) for cell in notebook["cells"])
        assert "Task" in text or "Question" in text, path.name  # each asks the seed's questions


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_from_a_fresh_kernel(path, tmp_path, kernel_environment):
    notebook = nbformat.read(path, as_version=4)
    _run(notebook, tmp_path)  # raises CellExecutionError, naming the cell, on any error
    images = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if {"image/png", "image/svg+xml", "text/html"} & set(output.get("data", {}))]
    assert images, f"{path.name} shows no picture"
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    for claim in CLAIMS.get(path.stem, []):
        if callable(claim):
            claim(printed)
        else:
            assert re.search(claim, printed), (path.name, claim, printed)


def test_pictures_display_inline_in_a_fresh_kernel(tmp_path, kernel_environment):
    cells = ["from tinygrad_edu import Value, nn, optim, plots, viz\nfrom tinygrad_edu.training import fit\n"
             "import numpy as np",
             "plots.plot_activations(['relu'])",
             "cost = ((Value(0.5, label='w') * 2.0 - 1.0) ** 2)\nviz.draw_graph(cost)",
             "viz.backprop_player(cost)",
             "net = nn.MLP([1, 2, 1], rng=0)\n"
             "h = fit(net, np.ones((4, 1)), np.ones((4, 1)), optimizer=optim.GradientDescent(net, learning_rate=0.1),"
             " episodes=3, progress=True)",
             "import os\nos.environ['PATH'] = ''\nviz.draw_graph(cost)"]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    _run(notebook, tmp_path)
    outputs = [cell.outputs for cell in notebook.cells]
    figure = outputs[1][0]["data"]
    assert "image/png" in figure  # no %matplotlib inline; was only '<Figure size 640x320 with 1 Axes>'
    assert "<svg" in outputs[2][0]["data"]["image/svg+xml"]
    assert outputs[3][0]["data"]["text/html"].startswith("<iframe srcdoc=")
    widgets = [output["data"] for output in outputs[4] if "application/vnd.jupyter.widget-view+json" in
               output.get("data", {})]
    if importlib.util.find_spec("ipywidgets"):  # (the jupyter extra) tqdm's bar is a widget; its text the first frame
        assert len(widgets) == 1 and "0/3 [" in widgets[0]["text/plain"] and "episode" in widgets[0]["text/plain"]
    else:  # a text bar, on stderr
        bar = "".join(output.get("text", "") for output in outputs[4] if output.get("name") == "stderr")
        assert not widgets and "3/3" in bar and "episode" in bar, outputs[4]
    advice = outputs[5][0]["data"]["text/plain"]
    assert "apt-get install graphviz" in advice and "ExecutableNotFound" not in advice


# --- notebook 06: "Where a cell below trains one network after another, it then stops too" ------------------------

TRAINING = ROOT / "notebooks" / "06_training.ipynb"


def _training_cell(marker: str) -> str:
    """The source of the one code cell of notebook 06 that contains ``marker``."""
    cells = json.loads(TRAINING.read_text(encoding="utf-8"))["cells"]
    [source] = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"
                and marker in "".join(cell["source"])]
    return source


@pytest.mark.parametrize("marker", ["full = fit(", "runs = demo.compare_xsquared()"])
def test_ctrl_c_in_notebook_06s_other_cells_that_train_one_network_after_another_stops_the_cell(marker, monkeypatch):
    """The cell of the full-batch and the mini-batch run went on to train the second network after Ctrl-C in the
    first, and plotted the unfinished run beside it; the demo's cell printed the table with the interrupted run's
    cost and outputs, as if it had been trained. The prose above them says such a cell stops."""
    from helpers_interrupts import press_ctrl_c_at_the_first_step

    from tinygrad_edu import demo, nn, optim
    from tinygrad_edu.data import xsquared
    from tinygrad_edu.training import fit

    shown: list[object] = []
    inputs, targets = xsquared(16, seed=0)
    namespace = {"np": np, "nn": nn, "optim": optim, "fit": fit, "demo": demo, "inputs": inputs, "targets": targets,
                 "network": lambda seed=0: nn.MLP([1, 12, 12, 1], activation="tanh", output_activation="identity",
                                                  init="xavier", rng=seed),
                 "plots": type("NoPlots", (), {"plot_history": staticmethod(lambda *a, **k: shown.append(a))}),
                 "print": lambda *args, **kwargs: shown.append(args)}
    press_ctrl_c_at_the_first_step(monkeypatch, (optim.GradientDescent, optim.RandomSearch))
    trained: list[object] = []  # an optimizer made for each network the cell trains

    def counted(self, *args, _original=optim.Optimizer.__init__, **kwargs):
        trained.append(self)
        _original(self, *args, **kwargs)

    monkeypatch.setattr(optim.Optimizer, "__init__", counted)
    with pytest.raises(KeyboardInterrupt):
        exec(_training_cell(marker), namespace)
    assert shown == [] and len(trained) == 1  # no second network trained, nothing printed or drawn
