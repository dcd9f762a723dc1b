"""A teacher runs the demo and opens every file it writes: into a new folder, into one that holds an older run and
into one that holds files of the teacher's; the numbers in the files against the printed ones and against a fresh
computation; a Ctrl-C while the files are written."""

from __future__ import annotations

import html
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import demo, nn, viz
from tinygrad_edu.training import History


def _run(name: str, model: nn.Network, final: float) -> demo.Run:
    """A run without training: its outputs are the model's own at the test inputs."""
    outputs = model(np.array(demo.TEST_INPUTS).reshape(-1, 1)).data
    return demo.Run(name, f"{name}'s way (assignment §0)", model, History(cost=[1.0, final], final_cost=final),
                    outputs, 0.5, 3, 20, False)


def _two_runs() -> list[demo.Run]:
    return [_run("random search", demo.xsquared_network(1), 5e-3), _run("gradient descent", demo.xsquared_network(2),
                                                                       1e-4)]


def _no_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH on which Graphviz's ``dot`` is not found, as on a machine without Graphviz."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# --- defects --------------------------------------------------------------------------------------------------
def test_a_picture_of_an_earlier_run_is_not_passed_off_as_this_run_s(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """The first run had Graphviz and drew network.svg; the second, without it, writes network.dot: the old SVG
    of another network stays beside it, and the teacher opens it as this run's."""
    folder = tmp_path / "demo"
    folder.mkdir()
    for name in ("network.svg", "dependency_tree.svg"):
        (folder / name).write_text("<svg>an earlier run's picture</svg>", encoding="utf-8")
    _no_graphviz(monkeypatch, tmp_path)
    artefacts = demo.write_artefacts(_two_runs(), folder)
    assert {folder / "network.dot", folder / "dependency_tree.dot"} <= set(artefacts.written)
    notes = "\n".join(artefacts.notes)
    for name in ("network.svg", "dependency_tree.svg"):
        stale = folder / name
        assert stale not in artefacts.written
        assert not stale.exists() or (str(stale) in notes and "earlier run" in notes), notes


def test_ctrl_c_while_writing_says_which_files_were_written(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    render = viz.render
    calls: list[Path] = []

    def interrupted_at_the_network(graph: object, path: Path, **kwargs: object) -> Path:
        calls.append(Path(path))
        if Path(path).name == "network.svg":
            raise KeyboardInterrupt
        return render(graph, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(viz, "render", interrupted_at_the_network)
    with pytest.raises(KeyboardInterrupt) as caught:
        demo.write_artefacts(_two_runs(), folder)
    message = str(caught.value)
    written = sorted(path.name for path in folder.iterdir())
    assert not any(name.startswith(".") for name in written), written  # no temporary file left behind
    assert set(written) <= {"cost.svg", "backprop_player.html", "dependency_tree.svg", "dependency_tree.dot"}
    for name in written:
        assert name in message, message
    for name in ("network.svg", "model.npz", "results.md"):
        assert name in message.split("not", 1)[-1], message  # named among those not written


def test_the_drawn_and_saved_network_is_named(tmp_path: Path) -> None:
    """Three networks were trained; the folder holds one of them, and nothing in it said which."""
    runs = _two_runs()
    demo.write_artefacts(runs, tmp_path)
    saved = nn.load(tmp_path / "model.npz")
    np.testing.assert_array_equal(saved.layers[0].weights.data, runs[1].model.layers[0].weights.data)
    results = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert re.search(r"model\.npz[^\n]*gradient descent", results), results
    if (tmp_path / "network.svg").exists():
        picture = html.unescape((tmp_path / "network.svg").read_text(encoding="utf-8"))  # Graphviz writes &#45;
        assert "gradient descent" in picture and "1.00e-04" in picture
    else:  # no Graphviz: the caption is in the source
        assert "gradient descent" in (tmp_path / "network.dot").read_text(encoding="utf-8")


def test_without_graphviz_the_note_says_the_player_has_no_graph(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    _no_graphviz(monkeypatch, tmp_path)
    folder = tmp_path / "demo"
    artefacts = demo.write_artefacts(_two_runs(), folder)
    page = (folder / "backprop_player.html").read_text(encoding="utf-8")
    assert "<svg" not in page  # the page really has no picture of the graph
    notes = "\n".join(artefacts.notes)
    assert "dot -Tsvg" in notes and str(folder / "backprop_player.html") in notes, notes


# --- guards ---------------------------------------------------------------------------------------------------
def _numpy_forward(path: Path, x: np.ndarray) -> np.ndarray:
    """The saved 1-12-12-1 network computed with numpy alone: leaky ReLU (slope 0.01) hidden layers, linear output."""
    with np.load(path, allow_pickle=False) as arrays:
        layers = [(arrays[f"layers.{i}.weights"], arrays[f"layers.{i}.biases"]) for i in (1, 2, 3)]
    a = x.reshape(-1, 1)
    for i, (w, b) in enumerate(layers):
        z = a @ w + b
        a = z if i == len(layers) - 1 else np.where(z > 0, z, 0.01 * z)
    return a.reshape(-1)


def test_the_demo_in_a_teacher_s_folder_prints_what_its_files_hold(tmp_path: Path) -> None:
    """A quick demo into a folder of the teacher's: the teacher's files are untouched, the printed list is exactly
    the files it added, and model.npz answers at 0.1, 0.5, −1, 0.01 what the printed table and results.md say for
    the 1-12-12-1 run with the lowest cost, as a forward pass in plain numpy computes it."""
    folder = tmp_path / "lesson"
    (folder / "slides").mkdir(parents=True)
    (folder / "slides" / "week1.md").write_text("# week 1", encoding="utf-8")
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    stream = io.StringIO()
    assert demo.run_demo(folder, seed=2, quick=True, stream=stream) == 0
    out = stream.getvalue()
    assert (folder / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (folder / "slides" / "week1.md").read_text(encoding="utf-8") == "# week 1"
    listed = out.split("Files written:\n", 1)[1].splitlines()
    listed = [line.strip() for line in listed if line.startswith("  ") and line.strip().startswith(str(folder))]
    assert sorted(listed) == sorted(str(path) for path in folder.iterdir() if path.name not in ("notes.txt", "slides"))

    rows = {cells[0]: cells for cells in (
        [cell.strip() for cell in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| "))}
    table = (folder / "results.md").read_text(encoding="utf-8")
    assert "seed 2, quick run" in table.splitlines()[0]
    printed = [line for line in out.splitlines() if line.startswith("|")]
    assert len(printed) == 6 and printed == [line for line in table.splitlines() if line.startswith("|")]
    best = min(("random search", "gradient descent", "Armijo"), key=lambda name: float(rows[name][2]))
    fresh = _numpy_forward(folder / "model.npz", np.array(demo.TEST_INPUTS))
    assert [f"{y:.4f}".lstrip("-") if abs(y) < 5e-5 else f"{y:.4f}" for y in fresh] == rows[best][3:7]
    loaded = nn.load(folder / "model.npz")
    np.testing.assert_allclose(loaded(np.array(demo.TEST_INPUTS).reshape(-1, 1)).data.reshape(-1), fresh,
                               rtol=1e-12, atol=1e-15)
    assert not [name for name in os.listdir(folder) if name.startswith(".")]  # no temporary file left behind
