"""The notebooks run from a fresh kernel without errors, and the package's pictures display inline in Jupyter."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
if importlib.util.find_spec("ipykernel") is None:  # found, not imported: importing it would fake a kernel here
    pytest.skip("ipykernel is not installed (pip install '.[dev]')", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: What a notebook's prose says its outputs show, as patterns of its printed text (the prose must stay true to them).
CLAIMS = {
    "02_layers_and_digits": [r"mean cost in episode 1 \d\.\d+, after training 0\.\d+; test accuracy 9\d\.\d%",
                             r"layer 2: z from \d+\.\d to \d+\.\d, so σ′\(z\) = .* is at most \de-0[5-9]",
                             r"after 8 episodes 9\.000; test accuracy 1?\d\.\d%"],  # the seed's start stalls: < 20 %
}
SEED_PARTS = ["01_forward_propagation", "02_layers_and_digits", "03_cost_and_random_guessing",
              "04_gradient_descent_and_armijo", "05_backpropagation", "06_training", "07_second_derivatives"]


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
    bar = "".join(output.get("text", "") for output in outputs[4] if output.get("name") == "stderr")
    assert "3/3" in bar and "episode" in bar, outputs[4]  # tqdm's bar (text when ipywidgets is missing)
    advice = outputs[5][0]["data"]["text/plain"]
    assert "apt-get install graphviz" in advice and "ExecutableNotFound" not in advice
