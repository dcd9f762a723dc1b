"""A teacher saving drawings, plots, player pages, tables and models on a full disk, in a read-only folder, under
a missing folder, onto a folder, and over a good file.

A full disk is a tiny tmpfs mounted for the test (root only; the tests skip elsewhere), filled to the last byte
after the old file was put there.  Every writer must then leave the old file as it was, leave no temporary file
behind, and raise an OSError naming the file and the cause.
"""

from __future__ import annotations

import errno
import gc
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import graphviz
import numpy as np
import pytest

from tinygrad_edu import demo, files, nn, plots, viz
from tinygrad_edu.engine import Value

OLD = b"the good old file\n" * 10
FILLER = "filler"


def _mount(folder: Path, *options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(folder)],
                          capture_output=True, check=False).returncode == 0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of its own (so that filling it troubles nobody), unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if not _mount(folder):
        pytest.skip("needs root and mount -t tmpfs to make a small disk")
    try:
        yield folder
    finally:
        _unmount(folder)


def _unmount(folder: Path) -> None:
    gc.collect()  # (a file a failed writer left open keeps the disk busy)
    if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _fill(folder: Path) -> None:
    """Write into ``folder / FILLER`` until the disk is full (unbuffered: the last write is the one refused)."""
    descriptor = os.open(folder / FILLER, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(descriptor, b"\0" * 4096):
            pass
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)


def _fails_cleanly_on_a_full_disk(folder: Path, path: Path, write: Callable[[], object], operation: str,
                                  named: Path | None = None) -> None:
    """``path`` holds OLD, the disk is filled, ``write()`` raises ENOSPC naming ``operation`` and ``path`` (or the
    name the user gave, ``named``); the old file is still there, whole, and nothing else was left behind."""
    path.write_bytes(OLD)
    _fill(folder)
    with pytest.raises(OSError) as raised:
        write()
    assert raised.value.errno == errno.ENOSPC
    message = str(raised.value)
    assert operation in message and repr(str(named or path)) in message and "No space left on device" in message
    assert path.read_bytes() == OLD
    assert sorted(os.listdir(folder)) == sorted({path.name, FILLER})


def _long_graph(nodes: int = 400) -> graphviz.Source:
    """A drawing whose source and picture are far larger than a page of the small disk."""
    return graphviz.Source("digraph {\n" + "".join(f'  n{i} -> n{i + 1} [label="edge {i}"];\n'
                                                     for i in range(nodes)) + "}\n")


def _cost() -> Value:
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    cost = (a * b + a).tanh()
    cost.backward()
    return cost


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


# --- defects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("writer", ["write_text", "BackpropPlayer.save", "render"])
def test_text_files_on_a_full_disk_keep_the_old_file(disk: Path, writer: str) -> None:
    calls = {"write_text": ("page.txt", lambda path: files.write_text(path, "x" * 40_000, "write_text")),
             "BackpropPlayer.save": ("player.html", lambda path: viz.backprop_player(_cost()).save(path)),
             "render": ("graph.dot", lambda path: viz.render(_long_graph(), path))}
    name, call = calls[writer]
    _fails_cleanly_on_a_full_disk(disk, disk / name, lambda: call(disk / name), writer)


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_plots_on_a_full_disk_keep_the_old_picture(disk: Path, suffix: str) -> None:
    path = disk / f"cost{suffix}"
    history = {"descent": list(np.linspace(1.0, 0.0, 300) ** 2)}
    _fails_cleanly_on_a_full_disk(disk, path, lambda: plots.plot_history(history, path=path), "plot_history")


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_render_on_a_full_disk_keeps_the_old_picture(disk: Path, suffix: str) -> None:
    path = disk / f"graph{suffix}"
    _fails_cleanly_on_a_full_disk(disk, path, lambda: viz.render(_long_graph(), path), "render")


@needs_dot
def test_the_demo_table_on_a_full_disk_keeps_the_old_table(disk: Path, tmp_path: Path) -> None:
    """The output folder is on a roomy disk; only results.md (a link to the full disk) cannot be written."""
    runs = demo.compare_xsquared(samples=8, quick=True, methods=["gradient descent"])
    folder = tmp_path / "out"
    folder.mkdir()
    table = disk / "results.md"
    (folder / "results.md").symlink_to(table)
    _fails_cleanly_on_a_full_disk(disk, table, lambda: demo.write_artefacts(runs, folder), "write_artefacts",
                                  named=folder / "results.md")
    assert (folder / "results.md").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == ["backprop_player.html", "cost.svg", "dependency_tree.svg",
                                                       "model.npz", "network.svg", "results.md"]


# --- guards: right today, and must stay so --------------------------------------------------------------------

def test_a_model_on_a_full_disk_keeps_the_old_model(disk: Path) -> None:
    model = nn.MLP([1, 30, 30, 1], rng=0)
    path = disk / "model.npz"
    _fails_cleanly_on_a_full_disk(disk, path, lambda: model.save(path), "save")


def _writers(folder: Path) -> list[tuple[Path, Callable[[Path], object], str]]:
    """(path, write(path), operation) for each kind of file a teacher writes."""
    history = {"descent": [1.0, 0.5, 0.25]}
    out = [(folder / "page.txt", lambda p: files.write_text(p, "é→ text", "write_text"), "write_text"),
           (folder / "player.html", lambda p: viz.backprop_player(_cost()).save(p), "BackpropPlayer.save"),
           (folder / "graph.dot", lambda p: viz.render(viz.draw_graph(_cost()), p), "render"),
           (folder / "cost.png", lambda p: plots.plot_history(history, path=p), "plot_history"),
           (folder / "model.npz", lambda p: nn.MLP([1, 2, 1], rng=0).save(p), "save")]
    if shutil.which("dot"):
        out.append((folder / "graph.svg", lambda p: viz.render(viz.draw_graph(_cost()), p), "render"))
    return out


def test_writing_over_a_good_file_replaces_it_keeps_its_permissions_and_leaves_nothing_else(tmp_path: Path) -> None:
    for path, write, _ in _writers(tmp_path):
        path.write_bytes(OLD)
        path.chmod(0o600)
        write(path)
        assert path.read_bytes() != OLD and path.stat().st_size > 0
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == sorted(path.name for path, _, _ in _writers(tmp_path))
    assert nn.load(tmp_path / "model.npz").sizes == [1, 2, 1]
    assert (tmp_path / "page.txt").read_text(encoding="utf-8") == "é→ text"


def test_a_folder_where_the_file_goes_is_refused_naming_the_file(tmp_path: Path) -> None:
    for path, write, operation in _writers(tmp_path):
        path.mkdir()
        (path / "inside").write_bytes(OLD)
        with pytest.raises((OSError, RuntimeError)) as raised:  # (render: Graphviz said so, as a RuntimeError)
            write(path)
        assert str(path) in str(raised.value) and "directory" in str(raised.value).lower()
        assert operation in str(raised.value)
        assert (path / "inside").read_bytes() == OLD and os.listdir(path) == ["inside"]
    assert sorted(os.listdir(tmp_path)) == sorted(path.name for path, _, _ in _writers(tmp_path))


def test_missing_folders_are_made_except_for_a_model(tmp_path: Path) -> None:
    for number, (path, write, _) in enumerate(_writers(tmp_path / "new" / "deeper")):
        path = tmp_path / str(number) / path.relative_to(tmp_path)  # (folders of their own: each makes them anew)
        if path.suffix == ".npz":
            with pytest.raises(FileNotFoundError, match=r"^save: cannot write .*does not exist"):
                write(path)
        else:
            write(path)
            assert path.stat().st_size > 0


def _on_a_read_only_disk(folder: Path, writers: list[tuple[Path, Callable[[Path], object], str]]) -> None:
    """Each writer's file, holding OLD, on ``folder``'s disk remounted read-only: each write is refused naming the
    file and the read-only disk, and leaves the old file and nothing else."""
    for path, _, _ in writers:
        path.write_bytes(OLD)
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    for path, write, operation in writers:
        with pytest.raises((OSError, RuntimeError)) as raised:  # (render: Graphviz said so, as a RuntimeError)
            write(path)
        message = str(raised.value)
        assert operation in message and str(path) in message and "Read-only file system" in message
        assert path.read_bytes() == OLD
    assert sorted(os.listdir(folder)) == sorted(path.name for path, _, _ in writers)


def test_a_model_on_a_read_only_disk_names_the_read_only_disk(disk: Path) -> None:
    _on_a_read_only_disk(disk, [writer for writer in _writers(disk) if writer[2] == "save"])


def test_a_read_only_disk_is_refused_naming_the_file_and_keeps_the_old_one(disk: Path) -> None:
    _on_a_read_only_disk(disk, [writer for writer in _writers(disk) if writer[2] != "save"])
