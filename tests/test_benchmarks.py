"""The benchmark runs (in its quick mode) and prints every row of the performance table; no timing is asserted."""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_engine.py"
ROWS = ["scalar chain", "element-wise chain on (8,) arrays", "batch 256, cost `((out − y)**2)",
        "batch 256, `losses.squared_error`", "batch 1797, `losses.squared_error`", "graph memory per scalar node",
        "1,000,000-op scalar chain", "x² demo, gradient-descent update"]


def test_quick_benchmark_prints_every_row_measured_in_the_pinned_environment() -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "OPENBLAS_"))}
    result = subprocess.run([sys.executable, str(BENCHMARK), "--quick"], capture_output=True, text=True,
                            timeout=300, env=environment)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "1 BLAS thread, malloc thresholds pinned" in out  # it re-ran itself with the variables set
    difference = float(re.search(r"max \|difference\| after 3 steps ([-+.e\d]+)", out).group(1))
    assert difference < 1e-12  # our training step computes what the hand-written one does
    floors = re.search(r"floors' steps \(exact rules by hand, lean tape\): max \|difference\| ([-+.e\d]+)", out)
    assert float(floors[1]) == 0.0  # the floors' steps compute exactly our numbers, so they bound our times
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(ROWS)
    for name, line in zip(ROWS, table[1:]):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert name in cells[0]
        assert re.fullmatch(r"[\d.]+ (s|ms|µs|B)", cells[1]), line  # our column holds a measurement
        assert cells[-1] in ("yes", "NO", "NO (floor above)", "—")
        if "scaled" in cells[0]:  # the quick run's short chain, scaled up, is no verdict on the 1,000,000-op target
            assert cells[-1] == "—"
        if cells[-1] == "NO (floor above)":  # only where the floor is measured and above the target
            floor, target = float(cells[4].rstrip("×")), float(re.search(r"≤ ([\d.]+)×", cells[5]).group(1))
            assert floor > target


def test_xsquared_breakdown_compares_a_bare_tape_that_computes_the_engines_numbers() -> None:
    script = BENCHMARK.with_name("bench_xsquared_update.py")
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    difference = float(re.search(r"after 2 episodes ([-+.e\d]+)", result.stdout)[1])
    assert difference == 0.0  # the bare tape makes the same updates, bit for bit: its time is a fair comparison
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert len(table) == 1 + 6 and "bare tape" in result.stdout
    assert table[-1].endswith("| 1.00× |")  # the reference, against itself


def test_bare_tape_example_runs() -> None:
    spec = importlib.util.spec_from_file_location("bare_tape", BENCHMARK.with_name("bare_tape.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module)
    assert result.attempted and not result.failed
