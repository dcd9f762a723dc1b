"""The examples read by a newcomer: what each one says it shows, writes and needs, checked against what it does."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.calculus import stationary_point

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
#: Runs a script as `python script args` would, but as if matplotlib were not installed (the base install).
WITHOUT_MATPLOTLIB = ("import runpy, sys; sys.modules['matplotlib'] = None; script = sys.argv[1]; "
                      "sys.argv = sys.argv[1:]; runpy.run_path(script, run_name='__main__')")


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_second_derivative_contour_picture_names_its_cost_and_axes(tmp_path: Path, monkeypatch) -> None:
    from tinygrad_edu import plots

    shown = []
    draw = plots.plot_stationary_points

    def recording(*args, **kwargs):
        figure = draw(*args, **kwargs)
        axes = figure.axes[0]
        shown.append((axes.get_title(), axes.get_xlabel(), axes.get_ylabel()))
        return figure

    monkeypatch.setattr(plots, "plot_stationary_points", recording)
    monkeypatch.setattr(plots, "plot_derivatives", lambda *args, **kwargs: None)  # not this test's pictures
    example = runpy.run_path(str(EXAMPLES / "second_derivative.py"))
    found = [stationary_point(example["surface"], start) for start in ((2.0, 2.0), (-2.0, 0.4))]
    example["pictures"](found, tmp_path)
    [(title, x_label, y_label)] = shown
    assert "C(w, b) = w³ − 3w + b³ − 3b" in title, title  # the cost the example's text and table call C(w, b)
    assert (x_label, y_label) == ("w", "b")


def test_second_derivative_says_before_any_work_that_pictures_need_matplotlib(tmp_path: Path) -> None:
    result = run(["-c", WITHOUT_MATPLOTLIB, str(EXAMPLES / "second_derivative.py"), "--output", "pictures"], tmp_path)
    assert result.returncode == 2 and result.stdout == "", (result.stdout, result.stderr)
    last = result.stderr.splitlines()[-1]
    assert last.startswith("second_derivative.py: error: argument --output") and "matplotlib" in last, last
    assert "Traceback" not in result.stderr and list(tmp_path.iterdir()) == []  # no empty folder left behind


def test_second_derivative_runs_without_matplotlib_when_no_pictures_are_asked_for(tmp_path: Path) -> None:
    result = run(["-c", WITHOUT_MATPLOTLIB, str(EXAMPLES / "second_derivative.py")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "minimum" in result.stdout and list(tmp_path.iterdir()) == []


def test_xsquared_help_names_the_folder_it_writes_into_by_default(tmp_path: Path) -> None:
    shown = run([str(EXAMPLES / "xsquared.py"), "--help"], tmp_path)
    assert shown.returncode == 0, shown.stderr
    source = (EXAMPLES / "xsquared.py").read_text(encoding="utf-8")
    assert 'default=Path("xsquared-example")' in source  # where a run without --output writes
    assert "(default: xsquared-example)" in " ".join(shown.stdout.split()), shown.stdout
    docstring = runpy.run_path(str(EXAMPLES / "xsquared.py"))["__doc__"]
    assert "xsquared-example" in docstring and "model.npz" in docstring  # all it writes, not only "the pictures"


def test_dependency_tree_build_targets_x_squared_for_any_x() -> None:
    build = runpy.run_path(str(EXAMPLES / "dependency_tree.py"))["build"]
    x = 0.8
    cost, weights = build(x=x)
    # the same chain network, recomputed here: one sigmoid neuron per layer, layer i drawn with rng=i
    activation = np.array([x])
    for i in range(len(weights)):
        layer = nn.Layer(1, 1, "sigmoid", rng=i)
        activation = 1 / (1 + np.exp(-(activation @ layer.weights.data + layer.biases.data)))
    assert np.isclose(cost.item(), float((activation[0] - x * x) ** 2), rtol=1e-12)
    default_cost, _ = build()
    assert np.isclose(default_cost.item(), 0.139281, atol=1e-6)  # the printed run (x = 0.5, y′ = 0.25) unchanged
