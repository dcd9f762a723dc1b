"""Soak guards: work repeated as a notebook left open all afternoon does it keeps memory, file descriptors, temporary
files and open blocks flat.  Each test runs a few hundred units of work (the soaks themselves ran 5,000-100,000)
and compares the memory traced after the first third with the memory after all of it: a leak of even one small
object per unit (a float in a list: 32 bytes) would add more than the bounds below allow, while the bounds leave
room for the caches of numpy, Python and the libraries, which fill once and stay (measured: 0-2 bytes per unit)."""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import autodiff, enable_grad, engine, fit, grad_mode, losses, nn, no_grad, optim
from tinygrad_edu.engine import Value


def _growth(work: Callable[[int], Any], first: int, total: int, warm: int = 1) -> int:
    """Traced bytes still held after ``total`` units of ``work`` minus those held after the first ``first``, once
    ``warm`` units have filled the caches (imports, numpy's and the libraries' caches, which fill once and stop:
    measured, a hessian's grow for ~5,000 calls by 1 kB, then not at all)."""
    for i in range(-warm, 0):
        work(i)
    _collect()
    tracemalloc.start()
    try:
        for i in range(first):
            work(i)
        _collect()
        early = tracemalloc.get_traced_memory()[0]
        for i in range(first, total):
            work(i)
        _collect()
        return tracemalloc.get_traced_memory()[0] - early
    finally:
        tracemalloc.stop()


def _collect() -> None:
    """Free what is garbage, and the names CPython's attribute cache holds: it keeps the name string of each of its
    4096 latest lookups, and graphviz looks attributes up by names it makes anew (getattr(self, f'{kw}_attr')), so
    kilobytes of such strings came and went with the cache's collisions, not with any drawing kept."""
    sys._clear_type_cache()
    gc.collect()


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


_X = np.linspace(-1, 1, 8).reshape(-1, 1)
_Y = _X**2
# 200 more units: one leaked 32-byte float each would be 6,400 bytes; 4,096 bytes allow for a cache's next block
_BOUND = 4096


def test_manual_training_steps_hold_no_memory_per_step() -> None:
    model = nn.MLP([1, 4, 1], rng=0)
    optimizer = optim.SGD(model, learning_rate=0.1, momentum=0.5)
    inputs = Value(_X, requires_grad=False)

    def step(_: int) -> None:
        optimizer.zero_grad()
        losses.squared_error(model(inputs), _Y).backward()
        optimizer.step()

    assert _growth(step, 100, 300) < _BOUND


def test_repeated_fits_hold_no_memory_per_fit() -> None:
    def one_fit(i: int) -> None:
        model = nn.MLP([1, 3, 1], rng=i % 7)
        fit(model, _X, _Y, optimizer=optim.Adam(model, 0.01), episodes=2, progress=False)

    assert _growth(one_fit, 100, 300) < _BOUND


def test_a_history_grows_by_its_four_numbers_per_episode_only() -> None:
    """History documents one cost, gradient norm, step size and time per episode: about 4 × (8 + 24) bytes."""
    model = nn.MLP([1, 3, 1], rng=0)
    optimizer = optim.SGD(model, learning_rate=0.05)
    fit(model, _X, _Y, optimizer=optimizer, episodes=2, progress=False)
    gc.collect()
    tracemalloc.start()
    try:
        history = fit(model, _X, _Y, optimizer=optimizer, episodes=2000, progress=False)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert history.episodes == 2000
    assert held / history.episodes < 200


def test_grad_and_hessian_calls_hold_no_memory() -> None:
    gradient = autodiff.grad(lambda x: (x**3).sum())
    hessian = autodiff.hessian(lambda x: (x**3).sum())

    def both(_: int) -> None:
        gradient(np.array([1.0, 2.0]))
        hessian(np.array([1.0, 2.0]))

    # a call that kept its recorded graph (dozens of Values of ~100 bytes) would add over 1 MB in 200 calls; 16 kB
    # allows for a cache under ``zero.any()`` in the power rule's vjp that fills over ~7,500 calls (measured: 15 kB
    # after 1,000 calls, 1 kB more by 7,500, then nothing)
    assert _growth(both, 100, 300, warm=1000) < 4 * _BOUND


def test_blocks_entered_and_left_leave_no_open_block_behind() -> None:
    @no_grad
    def steps() -> Any:
        yield from range(3)

    @no_grad()
    def failing() -> None:
        raise ValueError

    def blocks(_: int) -> None:
        next(steps())  # abandoned half-way
        try:
            failing()
        except ValueError:
            pass
        try:
            with no_grad(), enable_grad():
                raise KeyError
        except KeyError:
            pass

    assert _growth(blocks, 300, 1000) < _BOUND
    gc.collect()
    assert grad_mode._OPEN_BLOCKS.get() is None and engine.is_grad_enabled()


def test_the_cache_of_number_constants_stays_bounded() -> None:
    for i in range(3000):
        for dtype in (np.float64, np.float32):
            (Value(np.ones(2, dtype=dtype)) * (1.0 + i * 1e-3)).sum().backward()
    assert len(engine._NUMBER_ARRAYS) <= 1024


def test_an_optimizers_state_holds_one_entry_per_parameter() -> None:
    model = nn.MLP([1, 3, 1], rng=0)
    optimizer = optim.Adam(model, 0.01)
    fit(model, _X, _Y, optimizer=optimizer, episodes=300, progress=False)
    state = optimizer.state_dict()
    assert len(optimizer._state) == len(model.parameters())
    fit(model, _X, _Y, optimizer=optimizer, episodes=300, progress=False)
    assert optimizer.state_dict().keys() == state.keys()
    assert all(np.shape(optimizer.state_dict()[key]) == np.shape(state[key]) for key in state)


def test_saving_and_loading_leave_no_file_open_or_behind(tmp_path: Path) -> None:
    model = nn.MLP([1, 3, 1], rng=0)
    path = tmp_path / "model.npz"
    model.save(path)
    files = _open_files()

    def cycle(_: int) -> None:
        model.save(path)
        model.load(path)
        nn.load(path)

    assert _growth(cycle, 50, 150) < _BOUND
    assert _open_files() == files
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_drawings_and_player_pages_leave_no_file_open_or_in_tmp(tmp_path: Path, monkeypatch) -> None:
    viz = pytest.importorskip("tinygrad_edu.viz")
    from tinygrad_edu import demo

    # A temporary folder of this test's own, for Python's tempfile and for the programs it starts (dot): the shared
    # /tmp also holds what other processes make meanwhile (CI runs a second suite beside this one)
    temporary, saved = tmp_path / "tmp", tmp_path / "saved"
    temporary.mkdir(), saved.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.setenv("TMPDIR", str(temporary))
    cost = demo.chain_cost()
    files = _open_files()

    def draw(i: int) -> None:
        assert viz.draw_graph(cost).source and viz.draw_dependency_tree(cost).source
        if i % 5 == 0:
            viz.backprop_player(cost).save(saved / "player.html")

    assert _growth(draw, 20, 60, warm=60) < 3 * _BOUND  # (three drawings a unit)
    assert _open_files() == files
    assert os.listdir(temporary) == []
    assert sorted(os.listdir(saved)) == ["player.html"]


def test_plots_are_not_kept_by_pyplot_or_anything_else() -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    model = nn.MLP([1, 3, 1], rng=0)
    history = fit(model, _X, _Y, optimizer=optim.SGD(model, learning_rate=0.1), episodes=10, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no warning repeated per figure)
        plots.plot_history(history)
        gc.collect()
        before = len(gc.get_objects())
        for _ in range(30):
            plots.plot_history(history)
        gc.collect()
    assert len(gc.get_objects()) - before < 100  # a figure is thousands of objects
    if "matplotlib.pyplot" in __import__("sys").modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []
