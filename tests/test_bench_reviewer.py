"""A reviewer of the benchmark methodology: do the checks of ``benchmarks/`` fail when a floor or a reference stops
computing our numbers, does a smoke run say it is one, does every script run in the pinned environment, and are a
row's medians and ratios what the README says they are.  Nothing here times anything."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from helpers_checkout import import_benchmark

from tinygrad_edu import Value

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return import_benchmark("bench_engine")


@pytest.fixture
def main_output(bench, monkeypatch):
    """Runs ``bench_engine.main`` with the given arguments and checks, but no rows (nothing timed); its output."""
    def run(*args: str, floors: float = 0.0) -> str:
        monkeypatch.setattr(sys, "argv", ["bench_engine.py", *args])
        monkeypatch.setattr(bench.gc, "freeze", lambda: None)  # (it would freeze this test process's objects)
        monkeypatch.setattr(bench, "rows", lambda quick: [])
        monkeypatch.setattr(bench, "mlp_difference", lambda: 5e-17)
        monkeypatch.setattr(bench, "floor_difference", lambda: floors)
        out = io.StringIO()
        with redirect_stdout(out):
            bench.main()
        return out.getvalue()

    return run


# --- the floors' check must be able to fail -------------------------------------------------------------------------
def test_floor_check_sees_a_lean_tape_whose_gradients_are_nan(bench, monkeypatch) -> None:
    original = bench.array_chain_tape

    def nan_tape(size: int = 8):
        step = original(size)

        def broken() -> None:
            step()
            broken.grads = tuple(np.full_like(g, np.nan) for g in step.grads)

        return broken

    monkeypatch.setattr(bench, "array_chain_tape", nan_tape)
    assert not bench.floor_difference() == 0.0


def test_reference_check_sees_nan_in_a_later_parameter(bench) -> None:
    def broken(batch: int):
        step, calls = bench.mlp_numpy(batch), []

        def run() -> None:
            step()
            calls.append(1)
            if len(calls) == 3:  # after the last of the check's steps, so that the NaN spreads to nothing else
                step.params[-1][:] = np.nan

        run.params = step.params
        return run

    assert not bench.mlp_difference(step=broken) < 1e-12


class SkipsAdditions:
    """A scalar 'engine' that records the products of the chain and drops its additions: half the work."""

    def __init__(self, value: object) -> None:
        self.value = value if isinstance(value, Value) else Value(value)

    def __mul__(self, other: float) -> SkipsAdditions:
        return SkipsAdditions(self.value * other)

    def __add__(self, other: float) -> SkipsAdditions:
        return self

    def backward(self) -> None:
        self.value.backward()

    data = property(lambda self: self.value.data)
    grad = property(lambda self: self.value.grad)


def test_floor_check_sees_a_scalar_tape_that_skips_the_additions(bench, monkeypatch) -> None:
    monkeypatch.setattr(bench, "scalar_chain_tape",
                        lambda operations=bench.SCALAR_OPS: bench.scalar_chain(SkipsAdditions, operations))
    assert bench.floor_difference() > 0


def test_the_unbroken_floors_pass_the_check(bench) -> None:
    assert bench.floor_difference() == 0.0  # the mutants above fail it, the floors themselves do not


@pytest.mark.parametrize("batch", [256, 1797])
def test_floors_compute_our_numbers_bit_for_bit_at_the_timed_batches(bench, batch) -> None:
    """The script checks its floors at batch 32; the rows time them at 256 and 1797."""
    for cost in (bench.written_out_cost, bench.squared_error):
        ours, tape, exact = bench.mlp_ours(batch, cost), bench.mlp_tape(batch, cost), bench.mlp_exact(batch)
        for _ in range(2):
            ours(), tape(), exact()
        for p, q, r in zip(ours.params, tape.params, exact.params):
            assert np.array_equal(p.data, q) and np.array_equal(p.data, r)


def test_a_run_stops_when_the_floors_do_not_compute_our_numbers(main_output) -> None:
    with pytest.raises(SystemExit, match="floors"):
        main_output(floors=2.2e-16)


# --- a smoke run says it is one ---------------------------------------------------------------------------------------
def test_quick_run_says_it_is_a_smoke_run(main_output) -> None:
    assert "smoke run" in main_output("--quick")
    assert "smoke run" not in main_output()


# --- medians and ratios as documented -------------------------------------------------------------------------------
def test_a_row_shows_medians_and_the_median_of_the_rounds_ratios(bench, monkeypatch) -> None:
    samples = {"ours": [2.0, 4.0, 9.0], bench.TAPE: [1.2, 1.1, 3.9], "numpy": [1.0, 1.0, 3.0]}
    monkeypatch.setattr(bench, "compare", lambda steps, rounds, min_time: samples)
    row = bench.timed_row("row", dict.fromkeys(samples), 2, "numpy", 2.5, 3, 1.0)
    # ours: median 4 s per call, per 2 → 2 s; rounds' ratios 2, 4, 3 → 3 (the ratio of the medians would be 4);
    # the tape's ratios 1.2, 1.1, 1.3 → 1.2
    assert row == ("row", "2.00 s", "lean tape 0.60 s · numpy 0.50 s", "3.00×", "1.20×", "≤ 2.5× numpy", "NO")
    samples[bench.TAPE] = [2.6, 2.6, 7.8]  # the floor at 2.6×, above 2.5 × 1.02
    assert bench.timed_row("row", dict.fromkeys(samples), 2, "numpy", 2.5, 3, 1.0)[-1] == "NO (floor above)"
    samples[bench.TAPE] = [2.54, 2.54, 7.62]  # 2.54×, within the 2 % noise: no proof
    assert bench.timed_row("row", dict.fromkeys(samples), 2, "numpy", 2.5, 3, 1.0)[-1] == "NO"


# --- the x² breakdown's check ---------------------------------------------------------------------------------------
def test_xsquared_breakdown_check_sees_nan_in_a_later_parameter(monkeypatch) -> None:
    module = import_benchmark("bench_xsquared_update")
    original = module.bare_tape

    def broken():
        run, params = original()

        def run_and_break() -> None:
            run()
            params[-1].data[...] = np.nan

        return run_and_break, params

    monkeypatch.setattr(module, "bare_tape", broken)
    monkeypatch.setattr(module, "EPISODES", 1)
    assert not module.same_numbers() == 0.0


# --- every script runs in the pinned environment ---------------------------------------------------------------------
PINNED = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": str(64 << 20),
          "MALLOC_TRIM_THRESHOLD_": str(128 << 20)}


def environment_of(script: str, tmp_path: Path) -> dict[str, str]:
    """The pinned variables as the script's last process saw them, run with ``--help`` from an environment with two
    BLAS threads and glibc's defaults (a ``sitecustomize`` reports them at exit, and keeps PyTorch out)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import atexit, os, sys\n"
        "sys.modules['torch'] = None\n"
        f"atexit.register(lambda: print('ENV', *(f'{{k}}={{os.environ.get(k)}}' for k in {sorted(PINNED)!r})))\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environment.update(OPENBLAS_NUM_THREADS="2", PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    result = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True,
                            timeout=120, env=environment, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = [line for line in result.stdout.splitlines() if line.startswith("ENV ")][-1]
    return dict(item.split("=", 1) for item in line.split()[1:])


@pytest.mark.parametrize("script", ["bench_engine.py", "bench_xsquared_update.py", "bench_second_order.py"])
def test_benchmark_scripts_run_in_the_pinned_environment(script, tmp_path) -> None:
    assert environment_of(script, tmp_path) == PINNED


def test_seeds_script_runs_in_the_pinned_environment(tmp_path) -> None:
    assert environment_of("bench_xsquared_seeds.py", tmp_path) == PINNED


def test_pinned_values_are_the_ones_bench_engine_applies(bench) -> None:
    assert {k: bench.PINNED_ENVIRONMENT[k] for k in PINNED} == PINNED
