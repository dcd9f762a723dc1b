"""Byte-identical files: the same calls with the same seeds write the same bytes, in one process twice, later (the
clock has moved on) and in another process (another PYTHONHASHSEED, TZ, locale and working folder).  What others
already pin (the demo's folder, the README figures, plots saved twice, the CLI's model) is left to them; these are
the files a reproducibility engineer diffs after a re-run: Graphviz's PDFs, and one run of every other writer."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import losses, nn, optim, viz
from tinygrad_edu.data import xsquared
from tinygrad_edu.training import fit

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")


def _chain_cost() -> tuple[nn.Network, object]:
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])  # the README's chain network
    cost = losses.squared_error(model(np.array([0.5])), np.array([1.0]))
    cost.backward()
    return model, cost


def write_pdfs(folder: str | Path) -> None:
    """The three Graphviz drawings of the README, as PDFs."""
    folder = Path(folder)
    model, cost = _chain_cost()
    viz.render(viz.draw_graph(cost), folder / "graph.pdf")
    viz.render(viz.draw_dependency_tree(cost), folder / "tree.pdf")
    viz.render(viz.draw_network(model), folder / "network.pdf")


def write_everything_else(folder: str | Path) -> None:
    """One file of every other kind the package writes: drawings, the player, plots, a model, optimizer states."""
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu import plots

    folder = Path(folder)
    model, cost = _chain_cost()
    viz.render(viz.draw_graph(cost), folder / "graph.svg")
    viz.render(viz.draw_dependency_tree(cost), folder / "tree.png")
    viz.render(viz.draw_network(model), folder / "network.svg")
    viz.backprop_player(cost, layout="graph").save(folder / "player.html")
    x, y = xsquared(32, seed=0)
    net = nn.MLP([1, 4, 1], activation="tanh", rng=0)
    adam = optim.Adam(net.parameters(), learning_rate=0.01)
    history = fit(net, x, y, optimizer=adam, episodes=2, batch_size=8, seed=0, progress=False)
    search = optim.RandomSearch(net, scale=0.1, rng=1)
    fit(net, x, y, optimizer=search, episodes=2, progress=False)
    net.save(folder / "model.npz")
    np.savez(folder / "adam.npz", **adam.state_dict())
    np.savez(folder / "random.npz", **search.state_dict())
    plots.plot_history(history, path=folder / "history.pdf")  # (a PDF: the format that carries dates)


def _in_another_process(function: str, folder: Path, cwd: Path) -> None:
    """``function(folder)`` of this file, run by another Python: other hash seed, time zone, locale, folder."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Asia/Tokyo", "LC_ALL": "C.UTF-8", "LANG": "de_DE.UTF-8",
           "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(HERE), os.environ.get("PYTHONPATH")]))}
    cwd.mkdir()
    subprocess.run([sys.executable, "-c", f"import sys, test_byte_identical_outputs as t; t.{function}(sys.argv[1])",
                    str(folder)], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def _next_second() -> None:
    """Wait until the clock shows another second, so that a file stamped with the time of writing would differ."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.02)


def _same_files(first: Path, *others: Path) -> None:
    names = sorted(p.name for p in first.iterdir())
    assert names, "nothing was written"
    for other in others:
        assert sorted(p.name for p in other.iterdir()) == names
        for name in names:
            assert (first / name).read_bytes() == (other / name).read_bytes(), f"{name}: {first} and {other} differ"


# --- Graphviz's PDFs carried the time they were drawn ---------------------------------------------------------------
@needs_dot
def test_a_graphviz_pdf_rendered_later_and_in_another_process_is_the_same_bytes(tmp_path):
    write_pdfs(tmp_path / "first")
    _next_second()
    write_pdfs(tmp_path / "second")
    _in_another_process("write_pdfs", tmp_path / "third", tmp_path / "elsewhere")
    _same_files(tmp_path / "first", tmp_path / "second", tmp_path / "third")


def _cross_references(pdf: bytes) -> list[int]:
    """The byte offsets the (last) cross-reference table gives for the objects in use."""
    start = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[start:start + 4] == b"xref"
    header = re.match(rb"xref\s+(\d+)\s+(\d+)\s+", pdf[start:])
    assert header is not None
    count, body = int(header.group(2)), pdf[start + header.end():]
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf])", body)[:count]
    assert len(entries) == count
    return [int(offset) for offset, _, kind in entries if kind == b"n"]


@needs_dot
def test_a_graphviz_pdf_is_still_a_pdf_whose_objects_are_where_its_table_says(tmp_path):
    """Whatever is done to the date, each object stays at the offset the cross-reference table names, and the
    information dictionary still names its producer."""
    write_pdfs(tmp_path)
    for path in sorted(tmp_path.glob("*.pdf")):
        pdf = path.read_bytes()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF"), path.name
        offsets = _cross_references(pdf)
        assert len(offsets) > 5, path.name
        for offset in offsets:
            assert re.match(rb"\d+ \d+ obj", pdf[offset:offset + 20]), (path.name, offset, pdf[offset:offset + 20])
        assert b"/Producer (" in pdf, path.name


# --- guards: every other writer, twice in-process (a second apart) and once in another process ---------------------
@needs_dot
def test_every_other_file_written_later_and_in_another_process_is_the_same_bytes(tmp_path):
    pytest.importorskip("matplotlib")
    write_everything_else(tmp_path / "first")
    _next_second()
    write_everything_else(tmp_path / "second")
    _in_another_process("write_everything_else", tmp_path / "third", tmp_path / "elsewhere")
    _same_files(tmp_path / "first", tmp_path / "second", tmp_path / "third")


def test_a_model_file_has_fixed_entry_times_stored_entries_and_the_documented_order(tmp_path):
    """The zip fields that would carry the clock or the zlib version: every entry dated 1980-01-01 00:00 (zip's
    epoch, whatever the clock says), stored uncompressed, the marker first, then the architecture, then the layers."""
    net = nn.MLP([1, 3, 2], rng=0)
    net.layers[0].biases.requires_grad = False  # a frozen parameter is saved too, in its place
    net.save(tmp_path / "model.npz")
    with zipfile.ZipFile(tmp_path / "model.npz") as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == [
        "__format__.npy", "__architecture__.npy", "layers.1.weights.npy", "layers.1.biases.npy",
        "layers.2.weights.npy", "layers.2.biases.npy"]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
    loaded = nn.load(tmp_path / "model.npz")
    for (name, a), (_, b) in zip(net.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name
    loaded.save(tmp_path / "again.npz")  # loaded and saved again: not one byte changes
    assert (tmp_path / "again.npz").read_bytes() == (tmp_path / "model.npz").read_bytes()
