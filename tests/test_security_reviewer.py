"""A security reviewer's pass: files written next to private ones, crafted state files, and markup in the labels,
names and layer names that the player pages and the drawings show.

The xfail tests are the defects found (each fails on the code it was written against, for the reason given); the
others are guards for what a reviewer relies on and no other test pins: in a real browser, no label or name makes a
player page run a script, and the drawings carry no event handler.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import xml.dom.minidom
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, viz
from tinygrad_edu.data import download_mnist

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

#: Markup a student might paste into a label, or a crafted model file's layer name might hold.
HOSTILE = ("</script><script>window.pwned = 'script'</script>",
           '"><img src=x onerror="window.pwned = \'img\'">',
           "<svg onload=\"window.pwned = 'svg'\">",
           "<!--<script>window.pwned = 'comment'</script>")


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, so that "readable by others" means what it means on most machines."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _open_to_others(path: Path, top: Path) -> bool:
    """Whether users other than the owner can read ``path``: the file readable by its group or by others, and each
    folder between ``top`` and it enterable by them."""
    folders = [folder for folder in path.parents if top in folder.parents]
    return bool(path.stat().st_mode & 0o044) and all(folder.stat().st_mode & 0o011 for folder in folders)


# --- defects ---------------------------------------------------------------------------------------------------------
def test_saving_over_a_private_model_never_leaves_its_numbers_readable_by_others(tmp_path: Path, monkeypatch,
                                                                                  umask_022: None) -> None:
    path = tmp_path / "model.npz"
    nn.MLP([1, 4, 1], rng=0).save(path)
    path.chmod(0o600)
    write_array, seen = np.lib.format.write_array, []

    def spying(*args, **kwargs):  # while the file is being written: who could read what is there
        seen.extend(_open_to_others(p, tmp_path) for p in tmp_path.rglob("*") if p.is_file() and p != path)
        return write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", spying)
    nn.MLP([1, 4, 1], rng=1).save(path)
    assert seen and not any(seen)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_deeply_nested_random_generator_state_is_a_value_error_naming_it() -> None:
    model = nn.MLP([1, 2, 1], rng=0)
    optimizer = optim.RandomSearch(model, scale=0.1, rng=0)
    before = optimizer.rng.bit_generator.state
    state = optimizer.state_dict()
    state["rng"] = np.array("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match=r"^RandomSearch\.load_state_dict: 'rng' is no state of a PCG64"):
        optimizer.load_state_dict(state)
    assert optimizer.rng.bit_generator.state == before  # nothing changed


def test_downloaded_files_get_the_permissions_of_the_other_files_written(tmp_path: Path, umask_022: None) -> None:
    source, root = tmp_path / "mirror", tmp_path / "mnist"
    source.mkdir()
    names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    for name in names:
        (source / name).write_bytes(gzip.compress(b"\0\0\x08\x01\0\0\0\0"))
    paths = download_mnist(root, kind="test", url=source.as_uri() + "/", checksums=dict.fromkeys(names))
    nn.MLP([1, 1], rng=0).save(root / "model.npz")
    expected = stat.S_IMODE((root / "model.npz").stat().st_mode)
    assert expected == 0o644 and [stat.S_IMODE(p.stat().st_mode) for p in paths] == [expected, expected]
    assert sorted(p.name for p in root.iterdir()) == sorted(names + ["model.npz"])  # no temporary file left


# --- guards ----------------------------------------------------------------------------------------------------------
def _hostile_graph() -> tuple[Value, nn.Network]:
    """A cost whose labels, target and layer names are all markup."""
    net = nn.Network(nn.Layer(1, 2, name=HOSTILE[0], rng=0), nn.Layer(2, 1, name=HOSTILE[1], rng=1))
    target = Value(np.array([[0.25]]), requires_grad=False, label=HOSTILE[2])
    cost = ((net(np.array([[0.5]])) - target) ** 2).sum()
    cost.label = HOSTILE[3]
    return cost, net


def _tree_cost() -> Value:
    """A chain network (the player draws its dependency tree) with a markup cost label."""
    net = nn.Network(nn.Layer(1, 1, rng=0), nn.Layer(1, 1, rng=1))
    cost = ((net(np.array([[0.5]])) - 0.25) ** 2).sum()
    cost.label = HOSTILE[1]
    return cost


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_no_label_or_layer_name_runs_a_script_in_the_player_page(browser, tmp_path: Path, layout: str) -> None:
    """Every step shown in a real browser (the steps' HTML goes into the page with innerHTML): the markup is text."""
    if layout == "graph":
        cost, net = _hostile_graph()
        player = viz.backprop_player(cost, layout="graph", model=net)
    else:
        player = viz.backprop_player(_tree_cost(), layout="tree")
    player.title = HOSTILE[1]
    page = player.save(tmp_path / "player.html")
    browser.get(page.as_uri())
    shown = []
    for k in range(1, len(player) + 1):
        browser.execute_script("location.hash = arguments[0]", f"#step={k}")
        counter = browser.execute_script("return document.querySelector('.counter').textContent")
        assert counter == f"step {k} / {len(player)}"
        shown.append(browser.execute_script("return document.querySelector('.explanation').textContent"))
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.execute_script("return document.querySelectorAll('img, [onerror], [onload]').length") == 0
    assert browser.execute_script("return document.title") == HOSTILE[1]
    for label in HOSTILE[2:] if layout == "graph" else HOSTILE[1:2]:  # each shown as written, in some step
        assert any(label in text for text in shown), label
    if layout == "graph":  # the layers' names, in the drawing's boxes
        drawn = browser.execute_script("return document.querySelector('.drawing').textContent")
        assert HOSTILE[0] in drawn and HOSTILE[1] in drawn


@needs_dot
def test_the_drawings_show_markup_labels_as_text_without_scripts_or_event_handlers(tmp_path: Path) -> None:
    cost, net = _hostile_graph()
    drawings = {"graph": viz.draw_graph(cost, model=net), "tree": viz.draw_dependency_tree(_tree_cost())}
    for name, drawing in drawings.items():
        path = viz.render(drawing, tmp_path / f"{name}.svg")
        document = xml.dom.minidom.parse(str(path))
        elements = document.getElementsByTagName("*")
        assert not document.getElementsByTagName("script"), name
        assert not [attribute for element in elements for attribute in element.attributes.keys()
                    if attribute.lower().startswith("on")], name
        texts = " ".join(node.firstChild.data for node in document.getElementsByTagName("text") if node.firstChild)
        for label in HOSTILE[:3] if name == "graph" else HOSTILE[1:2]:  # drawn as written
            assert label in texts, (name, label)
