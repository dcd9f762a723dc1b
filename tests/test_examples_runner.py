"""Every example the project ships, run as its reader runs it: the docstring examples under the standard library's
``doctest`` (``python -m doctest``, not pytest's), the examples written in docstrings as ``::`` blocks, the prose
of the plots module against what its functions take, and the fast scripts of ``examples/`` in an empty folder.

Already run elsewhere: the scripts (tests/test_examples.py, tests/test_testing.py), the notebooks
(tests/test_notebooks.py), README's blocks (tests/test_readme.py, tests/test_docs_code_blocks_runner*.py), the
demo (tests/test_cli.py) and the doctests under pytest (``--doctest-modules`` in pyproject.toml).

Defects (xfail, strict):
- ``check_gradients``'s second docstring example prints ``GradientReport(...; ...)``, which only pytest's default
  ``doctest_optionflags = ELLIPSIS`` accepts: ``python -m doctest tinygrad_edu/testing/__init__.py`` fails on it;
- the plots module docstring said that ``f`` "in the last three" functions returns a single number, and the last
  three listed include ``plot_derivatives``, whose ``f`` acts element by element (the docstring's own example ``f``
  is a ValueError there);
- ``expressions``' docstring example ``find``s a graph that uses your Op and then lets hypothesis shrink it: some
  260 graphs drawn and evaluated, 20–30 s in a student's interpreter (9 s under pytest), where a graph with the Op is
  the first one drawn with ``only_extra=True``.
"""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_edu.testing.expressions as expressions_module
import tinygrad_edu.testing.strategies as strategies
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.testing import check_gradients

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: The modules whose doctests take under a second each (demo trains four networks; expressions' runs hypothesis).
FAST_DOCTEST_MODULES = ["tinygrad_edu", "tinygrad_edu.autodiff", "tinygrad_edu.calculus", "tinygrad_edu.checks",
                        "tinygrad_edu.data", "tinygrad_edu.dependency_tree", "tinygrad_edu.engine",
                        "tinygrad_edu.functional", "tinygrad_edu.graph", "tinygrad_edu.losses", "tinygrad_edu.nn",
                        "tinygrad_edu.notation", "tinygrad_edu.ops", "tinygrad_edu.optim", "tinygrad_edu.player",
                        "tinygrad_edu.printing", "tinygrad_edu.seeds", "tinygrad_edu.serialization",
                        "tinygrad_edu.training", "tinygrad_edu.viz", "tinygrad_edu.write_instead"]


def _doctest_failures(module_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run a module's docstring examples as ``python -m doctest`` does (no option flags), in an empty folder; the
    names of the examples that failed, with what they printed instead."""
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(module_name)
    failed: list[str] = []
    runner = doctest.DocTestRunner(optionflags=0, verbose=False)
    for test in doctest.DocTestFinder().find(module, module_name):
        runner.run(test, out=lambda text, name=test.name: failed.append(f"{name}: {text}"))
    return failed


def test_check_gradients_docstring_examples_pass_under_the_standard_doctest(tmp_path, monkeypatch) -> None:
    assert _doctest_failures("tinygrad_edu.testing", tmp_path, monkeypatch) == []


@pytest.mark.parametrize("module_name", FAST_DOCTEST_MODULES)
def test_docstring_examples_pass_under_the_standard_doctest_and_write_nothing(module_name, tmp_path,
                                                                              monkeypatch) -> None:
    assert _doctest_failures(module_name, tmp_path, monkeypatch) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _call_with_the_docstrings_f(name: str, f) -> object:
    """Call the plot function ``name`` with ``f`` and the smallest other arguments it needs."""
    from tinygrad_edu import plots

    start = [-1.5, 0.8]
    calls = {"plot_descent": lambda: plots.plot_descent(f, start, steps=3),
             "descent_path": lambda: plots.descent_path(f, start, steps=3),
             "plot_learning_rates": lambda: plots.plot_learning_rates(f, start, steps=3, resolution=10),
             "plot_armijo": lambda: plots.plot_armijo(f, start),
             "plot_stationary_points": lambda: plots.plot_stationary_points(f, [stationary_point(f, [0.5, 0.5])],
                                                                            resolution=10),
             "plot_derivatives": lambda: plots.plot_derivatives(f, order=1, points=5)}
    return calls[name]()


def test_the_plots_docstring_names_the_functions_whose_f_returns_a_single_number() -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    doc = plots.__doc__ or ""
    listed = re.findall(r"^\* :func:`(\w+)`", doc, re.MULTILINE)
    sentence = re.search(r"^``f`` in (.*?)returns a single-number Value, e\.g\. ``(.*?)``", doc,
                         re.MULTILINE | re.DOTALL)
    assert sentence, "the plots docstring no longer says which f its functions take"
    counted = re.search(r"the last (two|three|four|five|six)\b", sentence.group(1))
    named = listed[-["two", "three", "four", "five", "six"].index(counted.group(1)) - 2:] if counted else \
        re.findall(r":func:`(\w+)`", sentence.group(1))
    example = eval(sentence.group(2))  # the docstring's own f: lambda p: (p[0] - 1) ** 2 + 10 * p[1] ** 2
    assert float(example(np.array([1.0, 0.0]))) == 0.0
    for name in named:
        _call_with_the_docstrings_f(name, example)  # raises where the sentence's claim is untrue
    assert set(named) >= {"plot_descent", "descent_path", "plot_learning_rates", "plot_armijo",
                          "plot_stationary_points"}


def test_plot_derivatives_takes_an_element_wise_f_and_refuses_a_single_number_one() -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    figure = plots.plot_derivatives(lambda x: x ** 3 - 3 * x, order=2, points=5)
    second = figure.axes[2].lines[0].get_ydata()  # f″(x) = 6x, by the engine, at x = -3, -1.5, 0, 1.5, 3
    np.testing.assert_allclose(second, 6 * np.linspace(-3, 3, 5), atol=1e-12)
    with pytest.raises(ValueError, match="plot_derivatives: f must act element by element"):
        plots.plot_derivatives(lambda p: (p[0] - 1) ** 2 + 10 * p[1] ** 2, order=1, points=5)


def test_the_expressions_docstring_example_draws_a_handful_of_graphs(monkeypatch) -> None:
    drawn = []
    program = expressions_module.Expression.program

    def counted(self: expressions_module.Expression) -> str:
        drawn.append(self)
        if len(drawn) > 10:  # (stop the example here, not after the hundreds of graphs shrinking would draw)
            raise RuntimeError(f"the example has drawn {len(drawn)} graphs")
        return program(self)

    monkeypatch.setattr(expressions_module.Expression, "program", counted)
    test, = [t for t in doctest.DocTestFinder().find(expressions_module.expressions) if t.examples]
    report: list[str] = []
    result = doctest.DocTestRunner(optionflags=0).run(test, out=report.append, clear_globs=False)
    assert result.failed == 0, "".join(report)
    assert 1 <= len(drawn) <= 10
    assert "cube(" in test.globs["expr"].program()


def _code_blocks(doc: str) -> list[str]:
    """The indented blocks after a line ending in ``::`` that hold Python (a ``def`` or an import)."""
    blocks = []
    for match in re.finditer(r"::\n\n((?:(?: {4,}.*)?\n)+)", doc):
        lines = match.group(1).rstrip().splitlines()
        indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
        code = "\n".join(line[indent:] for line in lines)
        if "def test" in code:
            blocks.append(code)
    return blocks


STRATEGY_DOCS = [("strategies module", strategies.__doc__),
                 ("broadcastable_shapes", strategies.broadcastable_shapes.__doc__),
                 ("matmul_shapes", strategies.matmul_shapes.__doc__), ("values", strategies.values.__doc__),
                 ("expressions module", expressions_module.__doc__)]


@pytest.mark.parametrize("where, doc", STRATEGY_DOCS, ids=[name for name, _ in STRATEGY_DOCS])
def test_the_property_tests_written_in_the_testing_docstrings_run_and_pass(where: str, doc: str | None) -> None:
    """Their ``::`` blocks are no doctests, so nothing ran them: each defines a property test, run here on a few
    examples, in a namespace holding only what the block's module docstring imports (np, given, check_gradients
    and the strategies)."""
    blocks = _code_blocks(doc or "")
    assert len(blocks) == 1, f"{where}: {len(blocks)} example blocks"
    namespace = {"np": np, "given": given, "check_gradients": check_gradients,
                 **{name: getattr(strategies, name) for name in strategies.__all__}}
    exec(compile(blocks[0], f"<{where} docstring>", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    assert len(tests) == 1
    settings(max_examples=8, deadline=None, database=None)(tests[0])()


def test_the_values_docstring_comment_holds_the_gradient_of_log_is_one_over_v() -> None:
    """``values``' example says ``v.grad == 1 / v.data`` after ``v.log().sum().backward()``: checked here on the
    drawn Values against the closed form and a central difference."""
    @settings(max_examples=15, deadline=None, database=None)
    @given(strategies.values((3,), min_value=0.5))
    def check(v) -> None:
        v.log().sum().backward()
        np.testing.assert_allclose(v.grad, 1 / v.data, rtol=1e-12)
        eps = 1e-6
        numeric = (np.log(v.data + eps) - np.log(v.data - eps)) / (2 * eps)
        np.testing.assert_allclose(v.grad, numeric, rtol=1e-6)

    check()


@pytest.mark.parametrize("script", ["forward_propagation.py", "custom_op_gradient_check.py", "dependency_tree.py",
                                    "second_derivative.py"])
def test_fast_examples_run_from_any_folder_and_write_only_what_they_say(script: str, tmp_path: Path) -> None:
    """Run from an empty folder elsewhere, as a reader who copies the command: exit 0, and the folder holds only
    the files the script's docstring names (dependency_tree.py: tinygrad-edu-output/dependency_tree.svg or .dot)."""
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    if script == "dependency_tree.py":
        assert left[0] == "tinygrad-edu-output" and len(left) == 2
        assert left[1] in ("tinygrad-edu-output/dependency_tree.svg", "tinygrad-edu-output/dependency_tree.dot")
    else:
        assert left == []
