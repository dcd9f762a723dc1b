"""A teacher drawing hundreds of figures in a loop (a plot per episode, a sheet per student): no figure is kept by
pyplot or anything else, no file is left open or in the temporary folder, and a call that fails half way (a killed
Graphviz, an interrupted save) leaves nothing behind and says what happened.  Loops of 30-50 calls: a leak is seen
by counting, never by timing."""

from __future__ import annotations

import gc
import os
import stat
import tempfile
import warnings
import weakref
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import demo, fit, nn, optim

plots = pytest.importorskip("tinygrad_edu.plots")
pytest.importorskip("matplotlib")
viz = pytest.importorskip("tinygrad_edu.viz")


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR of this test's own: other workers' files in /tmp cannot make a count of its entries go wrong."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _killed_dot(folder: Path) -> Path:
    """A ``dot`` that writes half a picture and is then killed (SIGKILL), as the out-of-memory killer would."""
    folder.mkdir()
    program = folder / "dot"
    program.write_text("#!/bin/sh\nprintf '<svg'\nkill -9 $$\n")
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return folder


def test_a_killed_graphviz_is_reported_as_killed_by_its_signal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  private_tmp: Path) -> None:
    monkeypatch.setenv("PATH", f"{_killed_dot(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    cost = demo.chain_cost()
    with pytest.raises(RuntimeError) as render_error:
        viz.render(viz.draw_graph(cost), tmp_path / "out" / "graph.svg")
    with pytest.raises(RuntimeError) as player_error:
        viz.backprop_player(cost)
    for error, who in ((render_error, "render"), (player_error, "backprop_player")):
        message = str(error.value)
        assert message.startswith(f"{who}: Graphviz failed to draw")
        assert "killed by signal SIGKILL" in message and "exit status -9" not in message
        assert not message.endswith(": ")  # (no empty cause after a colon)
    assert os.listdir(tmp_path / "out") == []  # no half picture, no temporary file
    assert os.listdir(private_tmp) == []


def test_a_graphviz_failing_with_a_message_still_names_its_exit_status_and_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "dot").write_text("#!/bin/sh\necho 'Error: syntax error in line 1' >&2\nexit 3\n")
    (folder / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RuntimeError, match=r"^render: Graphviz failed to draw .*\(exit status 3\): Error: syntax "
                                           r"error in line 1$"):
        viz.render(viz.draw_graph(demo.chain_cost()), tmp_path / "graph.png")
    assert not (tmp_path / "graph.png").exists()


_X = np.linspace(-1, 1, 8).reshape(-1, 1)


def _quadratic(p):  # noqa: ANN001, ANN202 - a user's cost of two parameters
    return (p[0] - 1) ** 2 + 10 * p[1] ** 2


def test_fifty_plots_with_and_without_a_path_keep_no_figure_file_or_warning(tmp_path: Path,
                                                                            private_tmp: Path) -> None:
    """A plot per episode for an animation: every figure is freed once dropped, pyplot never hears of them (no
    "More than 20 figures" warning), and the frames folder holds the frames only."""
    model = nn.MLP([1, 3, 1], rng=0)
    history = fit(model, _X, _X ** 2, optimizer=optim.Armijo(model), episodes=8, progress=False)
    plots.plot_history(history, path=tmp_path / "warm.png")  # (imports and caches)
    files = _open_files()
    alive: weakref.WeakSet = weakref.WeakSet()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for episode in range(1, 51):
            frame = tmp_path / "frames" / f"{episode:03d}.png" if episode % 2 else None
            alive.add(plots.plot_history(history.cost[:episode], title=f"episode {episode}", path=frame))
    gc.collect()
    assert len(alive) == 0
    assert _open_files() == files
    assert sorted(os.listdir(tmp_path / "frames")) == [f"{episode:03d}.png" for episode in range(1, 51, 2)]
    assert os.listdir(private_tmp) == []
    import sys

    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


@pytest.mark.parametrize("draw", ["plot_activations", "plot_descent", "plot_armijo", "plot_derivatives"])
def test_an_interrupted_save_leaves_no_half_picture_nor_temporary_folder(tmp_path: Path, draw: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    calls = {"plot_activations": lambda path: plots.plot_activations(["relu"], path=path),
             "plot_descent": lambda path: plots.plot_descent(_quadratic, [2.0, 1.0], steps=3, path=path),
             "plot_armijo": lambda path: plots.plot_armijo(_quadratic, [2.0, 1.0], path=path),
             "plot_derivatives": lambda path: plots.plot_derivatives(lambda x: x ** 2, order=1, points=21,
                                                                     path=path)}

    def half_then_interrupted(self: Figure, file: object, **kwargs: object) -> None:
        file.write(b"\x89PNG half")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    (tmp_path / "sheets").mkdir()
    (tmp_path / "sheets" / "student.png").write_bytes(b"the old sheet")
    monkeypatch.setattr(Figure, "savefig", half_then_interrupted)
    with pytest.raises(KeyboardInterrupt):  # (matplotlib keeps the font files it loads open: load them first)
        calls[draw](tmp_path / "sheets" / "student.png")
    files = _open_files()
    for _ in range(3):
        with pytest.raises(KeyboardInterrupt):
            calls[draw](tmp_path / "sheets" / "student.png")
    assert os.listdir(tmp_path / "sheets") == ["student.png"]
    assert (tmp_path / "sheets" / "student.png").read_bytes() == b"the old sheet"
    assert _open_files() == files


def test_forty_drawings_rendered_and_shown_inline_leave_no_file_open_or_behind(tmp_path: Path,
                                                                              private_tmp: Path) -> None:
    pytest.importorskip("graphviz")
    if not __import__("shutil").which("dot"):
        pytest.skip("Graphviz's dot is not installed")
    cost = demo.chain_cost()
    model = nn.MLP([1, 3, 1], rng=0)
    makers = [lambda: viz.draw_graph(cost), lambda: viz.draw_dependency_tree(cost), lambda: viz.draw_network(model)]
    makers[0]()._repr_mimebundle_()
    files = _open_files()
    for i in range(40):
        drawing = makers[i % 3]()
        if i % 2:
            viz.render(drawing, tmp_path / "out" / f"drawing{i % 3}.svg")
        else:
            assert "<svg" in drawing._repr_mimebundle_()["image/svg+xml"]
    assert _open_files() == files
    assert sorted(os.listdir(tmp_path / "out")) == ["drawing0.svg", "drawing1.svg", "drawing2.svg"]
    assert os.listdir(private_tmp) == []
