"""A teacher re-running notebooks/ after round 35 (the seed's column vectors named in errors, Ctrl-C never halfway
through an update, the README's derivatives with respect to the inputs, the player's tanh_slope/sigmoid_slope/copy,
pickling refusals for lambda activations): all seven notebooks still run from a fresh kernel (nbclient) without
errors or warnings, they store no outputs, their printed numbers still say what the prose says, and their figures
(rendered and looked at) still show it.  But

Defect (its test failed before the fix): 06's comparison of network sizes timed the five runs of each size together
on the wall clock (time.perf_counter), so on a busy machine the time of other programs counted, and [1, 12, 12, 1]
once came out faster than [1, 12, 1], against the prose ("what costs more is each extra layer").  The cell now times
each run in this program's CPU time (time.process_time), prints the fastest of the five, and prints the number of
operations one batch records, which the prose quotes and which no machine changes.
Guards: the cell's median costs fall with each larger network, as the prose says, and its operation counts (walked
here over the graph's parents, not with the cell's own helper) are the same for [1, 3, 1] and [1, 12, 1] and grow by
the same number with every extra layer.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import types
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SIZES = ([1, 3, 1], [1, 12, 1], [1, 12, 12, 1], [1, 12, 12, 12, 1])


def cells(stem: str) -> list[tuple[str, str]]:
    notebook = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]]


def code_cell(stem: str, marker: str) -> str:
    [source] = [source for kind, source in cells(stem) if kind == "code" and marker in source]
    return source


def prose_after(stem: str, marker: str) -> str:
    found = cells(stem)
    index = next(i for i, (kind, source) in enumerate(found) if kind == "code" and marker in source)
    return " ".join(found[index + 1][1].split())


def operations(value) -> int:
    """The operations (Values with parents) in the graph of ``value``, walked over ``.parents``."""
    seen, stack, count = set(), [value], 0
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            count += bool(node.parents)
            stack.extend(node.parents)
    return count


def busy_clock() -> types.SimpleNamespace:
    """A ``time`` module on a busy machine: between two readings of the clock other programs ran for 1000 s (the
    wall clock counts them); this program's own CPU time is the real one."""
    clock = itertools.count(0.0, 1000.0)
    return types.SimpleNamespace(perf_counter=lambda: next(clock), time=lambda: next(clock),
                                 monotonic=lambda: next(clock), process_time=time.process_time)


@pytest.fixture(scope="module")
def sizes_cell() -> list[str]:
    """06's comparison of network sizes, run as it is (100 episodes, five starts per size) on a busy machine's
    clock; the lines it prints."""
    printed: list[str] = []
    namespace: dict = {}
    exec(compile(code_cell("06_training", "import time"), "<cell 1>", "exec"), namespace)
    namespace["time"] = busy_clock()
    namespace["print"] = lambda *args, **kwargs: printed.append(" ".join(map(str, args)))
    exec(compile(code_cell("06_training", "for sizes in"), "<sizes>", "exec"), namespace)
    assert len(printed) == len(SIZES)
    return printed


def graph_operations() -> list[int]:
    inputs, targets = xsquared(32, seed=0)
    return [operations(squared_error(nn.MLP(sizes, activation="tanh", output_activation="identity", rng=0)(inputs),
                                     targets)) for sizes in SIZES]


# --- defects ---------------------------------------------------------------------------------------------------------
def test_06_times_the_network_sizes_in_a_way_other_programs_do_not_disturb(sizes_cell):
    for line in sizes_cell:  # one run of 100 episodes takes well under a second of this program's time
        [seconds] = [float(number) for number in re.findall(r"(\d+\.\d+) s\b", line)]
        assert seconds < 30, line
    counted = [int(re.search(r"(\d+) operations per batch", line).group(1)) for line in sizes_cell]
    assert counted == graph_operations()
    prose = prose_after("06_training", "for sizes in")
    same = re.search(r"\[1, 3, 1\] and \[1, 12, 1\] record the same (\d+) operations", prose)
    added = re.search(r"each extra layer, which adds the same (\d+) operations", prose)
    assert same and added, prose
    assert counted[0] == counted[1] == int(same.group(1))
    assert np.diff(counted[1:]).tolist() == [int(added.group(1))] * 2
    assert "process_time" in prose and "fastest of the five runs" in prose


# --- guards ----------------------------------------------------------------------------------------------------------
def test_06_each_larger_network_reaches_a_lower_median_cost(sizes_cell):
    """The prose: "each larger network reaches a lower typical cost in the same number of episodes"."""
    medians = [float(re.search(r"median cost after 100 episodes (\S+?)[;,]", line).group(1)) for line in sizes_cell]
    assert all(later < earlier for earlier, later in zip(medians, medians[1:])), medians
    parameters = [int(re.search(r"(\d+) parameters", line).group(1)) for line in sizes_cell]
    assert parameters == [sum((a + 1) * b for a, b in zip(sizes, sizes[1:])) for sizes in SIZES]


def test_06_operations_per_pass_follow_the_layers_not_the_weights():
    """What the prose's explanation rests on: [1, 3, 1] and [1, 12, 1] record the same operations although the
    second has almost four times the weights; each extra layer adds the same number (matmul, add, tanh)."""
    counted = graph_operations()
    assert counted[0] == counted[1] and np.diff(counted[1:]).tolist() == [counted[2] - counted[1]] * 2
    assert counted[2] - counted[1] == 3

