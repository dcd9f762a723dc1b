"""The house's layout (round 48): concerns that need nothing of ``Value`` moved out of engine.py into modules below
it.  Grad mode (the switches, ``no_grad``, ``enable_grad``, ``detect_anomaly``) lives in ``grad_mode``; the engine
imports it and re-exports the blocks, so every old spelling still names the same objects."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import engine, grad_mode, write_instead

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_edu"
GRAD_MODE_NAMES = ("no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled", "is_anomaly_enabled")


def _defined(module: str) -> set[str]:
    """The names a module of the package defines at its top level (functions, classes, assignments)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _package_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and ((node.module or "").startswith("tinygrad_edu") or node.level):
            found.add(node.module or ".")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tinygrad_edu")}
    return found


def test_engine_no_longer_defines_grad_mode() -> None:
    moved = {"_GradMode", "_GradModeType", "_OPEN_BLOCKS", "_DETECT_ANOMALY", *GRAD_MODE_NAMES}
    assert not moved & _defined("engine")
    assert {*GRAD_MODE_NAMES, "_GradMode", "GRAD_ENABLED", "DETECT_ANOMALY"} <= _defined("grad_mode")


def test_grad_mode_imports_nothing_of_the_package() -> None:
    assert _package_imports("grad_mode") == set()


@pytest.mark.parametrize("name", GRAD_MODE_NAMES)
def test_the_old_spellings_name_the_same_objects(name: str) -> None:
    assert getattr(engine, name) is getattr(grad_mode, name) is getattr(tinygrad_edu, name)
    assert name in engine.__all__ and name in grad_mode.__all__ and name in tinygrad_edu.__all__
    assert getattr(grad_mode, name).__module__ == "tinygrad_edu.grad_mode"


def test_the_engine_reads_the_switches_the_blocks_set() -> None:
    w = engine.Value(2.0)
    with grad_mode.no_grad():
        assert (w * w).op is None and not grad_mode.GRAD_ENABLED.get()
        with engine.enable_grad():
            assert (w * w).op == "mul"
    with grad_mode.detect_anomaly(), pytest.raises(FloatingPointError):
        engine.Value(-1.0).log()
    assert (w * w).op == "mul" and grad_mode.GRAD_ENABLED.get() and not grad_mode.DETECT_ANOMALY.get()


def test_a_gradient_under_the_moved_blocks_is_the_closed_form() -> None:
    """d(w³)/dw = 3w² = 12 at w = 2, and nothing is recorded for an update under no_grad."""
    w = engine.Value(2.0)
    (w * w * w).backward()
    assert float(w.grad) == 12.0
    with grad_mode.no_grad():
        w -= 0.5 * w.grad
    assert float(w.data) == -4.0 and w.op is None


# --- the advice for % and //: a table of what to write instead, in write_instead beside the others ----------------
def test_the_division_advice_tables_live_in_write_instead() -> None:
    assert not {"_DIVISIONS", "_DIVISIONS_REFLECTED"} & _defined("engine")
    assert {"DIVISIONS", "DIVISIONS_REFLECTED"} <= set(write_instead.__all__)
    assert set(write_instead.DIVISIONS) == set(write_instead.DIVISIONS_REFLECTED) == {"%", "//", "divmod"}


@pytest.mark.parametrize("call, advice", [
    (lambda v: v % 3.0, "v - m * np.floor(v.data / m)"), (lambda v: 3.0 // v, "np.floor_divide(m, v.data)"),
    (lambda v: divmod(v, 2.0), "(np.floor_divide(v.data, m), v - m * np.floor(v.data / m))")])
def test_the_refusals_of_percent_and_floor_division_still_give_the_advice(call, advice) -> None:
    with pytest.raises(TypeError, match="is not supported on Values") as refused:
        call(engine.Value(7.0))
    assert f"write {advice}" in str(refused.value)


def test_the_advice_for_a_remainder_runs_and_has_the_derivative_one_between_the_jumps() -> None:
    """v - m·floor(v/m) at v = 7, m = 3: 1, with derivative 1 (floor's is 0 between the jumps)."""
    v, m = engine.Value(7.0), 3.0
    r = eval(write_instead.DIVISIONS["%"][1].split(" (")[0].format(m="m"), {"np": np, "v": v, "m": m})
    r.backward()
    assert float(r.data) == 1.0 and float(v.grad) == 1.0
