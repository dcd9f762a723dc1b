"""Time and memory problems earlier passes noticed and left alone, measured again (round 7): predict's reading of an
inputs file (a call per number, a list of every line and a Python float per number), ``Value(batch)``'s second copy
of an integer batch or a list, and ``copy.deepcopy`` of a long chain (linear: guarded here).

Left alone (see the report): ``net(X)`` copies ``X`` (the graph keeps its own copy of a constant input, and under
no_grad the copy is a passing one of the input's size), ``nearest_values`` and ``testing``'s recorded ops make the
constants Values (the walk returns and counts them; made once per graph), ``dependency_tree._copied`` (an error path
only), the drawing's chains (a walk of the tree for each node's, time n² in the tree's size, which is a teaching
network's: a dozen layers take milliseconds; and their text grows as the square of a chain's length: every weight's
chain lists every factor above it).
"""

from __future__ import annotations

import copy
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, cli, nn
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.viz import tree_drawing


def _peak(call) -> tuple[object, int]:
    """What ``call()`` returns and the most memory it held at once (bytes, as tracemalloc counts them), also where
    the session already traces (PYTHONTRACEMALLOC=1, python -X tracemalloc): then the peak is counted from now, above
    what is already held, and the tracing is left on."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    held = tracemalloc.get_traced_memory()[0]
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1] - held
    finally:
        if not tracing:
            tracemalloc.stop()


def _inputs_file(folder: Path, rows: int, columns: int) -> tuple[Path, np.ndarray]:
    numbers = np.random.default_rng(rows).normal(size=(rows, columns))
    path = folder / f"inputs_{rows}_{columns}.csv"
    np.savetxt(path, numbers, delimiter=",")
    return path, numbers


# --- predict's inputs file ---------------------------------------------------------------------------------------
def test_a_file_of_good_numbers_is_read_without_a_call_per_number(tmp_path, monkeypatch) -> None:
    path, numbers = _inputs_file(tmp_path, 50, 4)
    calls = []
    careful = cli._file_number
    monkeypatch.setattr(cli, "_file_number", lambda *a, **k: calls.append(a) or careful(*a, **k))
    read, counts = cli._read_numbers(str(path))
    np.testing.assert_array_equal(read, numbers.ravel())
    assert counts == [4] * 50 + [0]
    assert len(calls) == 0


def test_reading_an_inputs_file_holds_at_most_about_twice_its_size(tmp_path) -> None:
    for rows in (4_000, 16_000):
        path, numbers = _inputs_file(tmp_path, rows, 1)
        (read, _), peak = _peak(lambda: cli._read_numbers(str(path)))  # noqa: B023 (called at once)
        np.testing.assert_array_equal(read, numbers.ravel())
        assert peak < 2.5 * path.stat().st_size, (rows, peak / path.stat().st_size)


def test_the_numbers_read_are_numpys_for_any_layout(tmp_path) -> None:
    text = "0.5, 1.25\t-3e-2\n\n 7,8 , 9\r\n1000\n"  # (1_000, which numpy.loadtxt refuses, is refused since round 43)
    path = tmp_path / "mixed.txt"
    path.write_bytes(text.encode())
    read, counts = cli._read_numbers(str(path))
    np.testing.assert_array_equal(read, [0.5, 1.25, -0.03, 7.0, 8.0, 9.0, 1000.0])
    assert counts == [3, 0, 3, 1, 0]


def test_the_first_fault_in_the_file_is_the_one_named(tmp_path) -> None:
    path = tmp_path / "faults.csv"
    path.write_text("0.5,0.25\n1,inf\n2,3\n4,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2: 'inf' is not a finite number"):
        cli._read_numbers(str(path))
    path.write_text("0.5,0.25\n1,2\n4,x\n5,nan\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 3: 'x' is not a number$"):
        cli._read_numbers(str(path))
    path.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: 'x' is not a number; a header line"):
        cli._read_numbers(str(path))


def test_finite_numbers_whose_sum_overflows_are_read(tmp_path) -> None:
    path = tmp_path / "large.csv"
    path.write_text("1e308,1.5e308\n-1e308,-1.7e308\n", encoding="utf-8")
    read, counts = cli._read_numbers(str(path))
    np.testing.assert_array_equal(read, [1e308, 1.5e308, -1e308, -1.7e308])
    assert counts == [2, 2, 0]


# --- Value(batch) --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda n: np.arange(n), lambda n: np.arange(n, dtype=np.float32).tolist()])
def test_a_value_of_a_converted_batch_holds_it_once(make) -> None:
    for n in (100_000, 400_000):
        data = make(n)
        Value(data, requires_grad=False)  # (once before: numpy's first conversion of a long list allocates once)
        value, peak = _peak(lambda: Value(data, requires_grad=False))  # noqa: B023 (called at once)
        assert peak < 1.5 * value.data.nbytes, (n, peak / value.data.nbytes)


@pytest.mark.parametrize("data", [np.arange(6).reshape(2, 3), np.ones((2, 3)), np.ones((2, 3), np.float32),
                                  [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.asfortranarray(np.ones((2, 3)))])
def test_a_value_never_shares_the_numbers_it_is_made_from(data) -> None:
    value = Value(data)
    before = value.data.copy()
    if isinstance(data, np.ndarray):
        assert not np.shares_memory(value.data, data)
        data[...] = 7
    else:
        data[0][0] = 7.0
    np.testing.assert_array_equal(value.data, before)
    assert value.data.flags.writeable
    other = Value(value, requires_grad=False)  # (a Value's numbers are copied too)
    assert not np.shares_memory(other.data, value.data)


# --- the dependency tree drawing -----------------------------------------------------------------------------------
def _chain_cost(layers: int) -> Value:
    net = nn.MLP([1] * (layers + 1), rng=0)
    cost = ((net(np.array([0.5])) - 0.25) ** 2).sum()
    cost.label = "C"
    return cost


def test_the_tree_drawing_shows_each_weights_chain_as_chain_lines_gives_it() -> None:
    tree = dependency_tree(_chain_cost(4))
    source = str(tree_drawing(tree).source)
    shown = 0
    for name in tree.nodes:
        for line in tree.chain_lines(name):
            assert line in source, (name, line)
            shown += 1
    assert shown >= 4  # (every weight of the chain has one)
    weight = tree.chain_lines("W^1")[-1].split()[-1]
    np.testing.assert_allclose(float(weight), tree.chain_rule("W^1"), rtol=1e-3)


# --- copy.deepcopy of a chain --------------------------------------------------------------------------------------
def test_deepcopy_of_a_chain_does_the_same_work_per_operation_at_any_length(monkeypatch) -> None:
    per_node = []
    for length in (200, 800):
        x = Value(1.0, label="x")
        y = x
        for _ in range(length):
            y = y * 1.0001 + 0.5
        calls = []
        deepcopy = copy.deepcopy
        monkeypatch.setattr(copy, "deepcopy", lambda *a, **k: calls.append(1) or deepcopy(*a, **k))  # noqa: B023
        twin = copy.deepcopy(y)
        monkeypatch.undo()
        assert twin.data == y.data and twin is not y
        per_node.append(len(calls) / (2 * length + 1))
    assert per_node[1] <= per_node[0] * 1.01, per_node
