"""A maintainer making the suite quicker without losing a check: what the trims rely on.

Measured one file at a time (CPU seconds of the pytest process and its children, on a loaded 2-core machine; the
wall clock there was 2-4 times as long and too noisy to compare):

- tests/test_stateful_fuzzer_r2.py ran its state machine twice, once with the two defects it found left out (as it
  passed before their fix) and once whole: the whole run checks everything the other did.  It runs once, whole.
- the stateful fuzzers' shadow model and gradient invariant were copied between the two files (the second imported
  the first test module); they are in tests/stateful_shadow.py, a helper module, once.
- tests/test_suite_speed_trimmer.py imported tests/test_fuzzer_auditor.py to guard its ``failing_graphs``: the guards
  are now in that file.
- tests/test_cli.py ran ``demo --quick`` twice for two tests reading the same kind of run: once, in a fixture.
- tests/test_serialization.py's random-damage property saved a model and built two per example (300 examples): the
  saved bytes and the state are made once.

Found on the way: the stateful fuzzers' shadow wrote σ′ as σ(1 − σ), 0 wherever σ rounds to 1, so a Newton step that
saturated the chain made the draw rule fail on the engine's right 9.26e-157 (its test is in test_stateful_fuzzer_r2.py).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

TESTS = Path(__file__).resolve().parent


@functools.cache
def _sources() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(TESTS.glob("test_*.py"))}


def _trees(*mentioning: str) -> dict[str, ast.Module]:
    """The test modules whose text holds one of ``mentioning``, parsed (parsing all of them takes seconds)."""
    return {name: _parsed(name) for name, text in _sources().items() if any(word in text for word in mentioning)}


@functools.cache
def _parsed(name: str) -> ast.Module:
    return ast.parse(_sources()[name])


def _imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def _machines_run(tree: ast.Module) -> list[tuple[str, str]]:
    """(machine, its furthest base among this file's machines) for each run of a state machine defined in the file:
    ``Machine.TestCase`` bound at module level, or ``run_state_machine_as_test(Machine, ...)``."""
    bases: dict[str, str | None] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names = [base.id for base in node.bases if isinstance(base, ast.Name)]
            local = [name for name in names if name in bases]
            if local or "RuleBasedStateMachine" in names:
                bases[node.name] = local[0] if local else None

    def root(name: str) -> str:
        while bases[name] is not None:
            name = bases[name]  # type: ignore[assignment]
        return name

    runs = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "TestCase" and isinstance(node.value, ast.Name) \
                and node.value.id in bases and isinstance(node.ctx, ast.Load):
            runs.append(node.value.id)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "run_state_machine_as_test" \
                and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in bases:
            runs.append(node.args[0].id)
    # TestCase is read once to bind it and once to set its settings: count each machine once per way it is run
    return sorted({(name, root(name)) for name in runs})


def test_no_state_machine_is_run_again_by_a_subclass_that_checks_all_it_does() -> None:
    """A machine and a subclass of it both run draw the same sequences twice: test_stateful_fuzzer_r2.py ran
    Session and WholeSession(Session) (2 × 40 sequences of 30 steps, half its time)."""
    twice = {}
    for name, tree in _trees("RuleBasedStateMachine").items():
        runs = _machines_run(tree)
        roots = [root for _, root in runs]
        if len(roots) != len(set(roots)):
            twice[name] = runs
    assert twice == {}
    assert _machines_run(_parsed("test_stateful_fuzzer_r2")) == [("Session", "Session")]


def test_the_stateful_fuzzers_share_one_shadow_and_import_no_test_module() -> None:
    for name in ("test_stateful_fuzzer", "test_stateful_fuzzer_r2"):
        tree = _parsed(name)
        assert "stateful_shadow" in _imported_modules(tree), name
        assert not {module for module in _imported_modules(tree) if module.startswith("test_")}, name
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef | ast.FunctionDef)}
        assert not defined & {"Shadow", "_sigmoid", "_gradient_array", "_stray_steps"}, name  # (written once)


def test_no_test_module_imports_the_fuzzers_test_modules() -> None:
    """Importing them ran their module-level work in whichever file was run alone (test_fuzzer_auditor.py imports
    test_composition.py in turn); their helpers live in a helper module or beside the tests that use them."""
    fuzzers = {"test_stateful_fuzzer", "test_fuzzer_auditor"}
    importers = {name: sorted(_imported_modules(tree) & fuzzers) for name, tree in _trees(*fuzzers).items()}
    assert {name: found for name, found in importers.items() if found} == {}


def test_nothing_imported_from_another_test_module_is_collected_again() -> None:
    """A test function, a Test class or a machine's TestCase imported into a second test module runs twice."""
    collected_again = []
    for name, tree in _trees("from test_").items():
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module in _sources():
                collected_again += [f"{name}: {alias.asname or alias.name}" for alias in node.names
                                    if (alias.asname or alias.name).startswith(("test", "Test"))]
    assert collected_again == []
