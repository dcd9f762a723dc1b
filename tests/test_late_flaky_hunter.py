"""A hunt for flaky tests among the round's new test files (each run three times, under the ci, dev and thorough
hypothesis profiles and other ``--hypothesis-seed``s, with PYTHONHASHSEED varied, in reversed and shuffled orders,
all of them together in shuffled orders, under a plugin that leaves odd numpy print options, a global random seed,
another current directory and ``np.seterr(all="warn")`` before every test, and two copies at once).

What it found: tests/test_docs_code_blocks_runner_r2.py's softmax block test compared the stdout of a fresh process
(numpy's default print options) with ``str(np.array(...))`` printed in the test's own process, so it failed after any
test, plugin or conftest that left ``np.set_printoptions(sign="+")`` or a precision behind.  It now takes conftest's
``numpy_default_print_options``; the guards here check that fixture gives a fresh interpreter's options, the
formatter it does not name too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

#: a plugin leaving print options an earlier test or a notebook's cell may leave, before the test runs
_ODD_PRINT_OPTIONS_PLUGIN = """
import numpy as np

def pytest_configure(config):
    np.set_printoptions(sign="+", precision=3, formatter={"float": lambda x: f"<{x:.1f}>"})
"""


def _fresh_print_options() -> dict:
    """numpy's print options in a fresh interpreter (its defaults), but for the formatter (a function: None there)."""
    done = subprocess.run([sys.executable, "-c", "import numpy as np; print(repr(np.get_printoptions()))"],
                          capture_output=True, text=True, timeout=60, check=True)
    return eval(done.stdout)  # noqa: S307  (a dict of numbers, strings, booleans and None)


@pytest.fixture
def odd_print_options() -> Iterator[None]:
    """Print options as an earlier test may leave them, numpy's own restored after the test."""
    saved = np.get_printoptions()
    np.set_printoptions(sign="+", precision=3, linewidth=40, formatter={"float": lambda x: f"<{x:.1f}>"})
    yield
    np.set_printoptions(**saved)


# --- guards: the fixture a test of printed arrays takes -------------------------------------------------------------
def test_guard_the_default_print_options_fixture_gives_all_of_numpys_defaults_after_a_formatter_was_set(
        odd_print_options, request: pytest.FixtureRequest) -> None:
    """The fixture names no formatter: numpy's np.printoptions resets one (formatter=None) all the same, so every
    option, the formatter too, is a fresh interpreter's inside it."""
    request.getfixturevalue("numpy_default_print_options")  # entered now, after the odd options
    assert np.get_printoptions() == _fresh_print_options()
    assert str(np.array([[1.0, 0.0, 0.0]])) == "[[1. 0. 0.]]"


# --- defect (a flaky test) ---------------------------------------------------------------------------------------
def test_the_readme_softmax_block_test_passes_whatever_print_options_were_left(tmp_path: Path) -> None:
    (tmp_path / "odd_print_options.py").write_text(_ODD_PRINT_OPTIONS_PLUGIN, encoding="utf-8")
    test = "tests/test_docs_code_blocks_runner_r2.py::test_the_softmax_and_anomaly_block_prints_its_comments_in_a" \
           "_fresh_process"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "odd_print_options",
                           test], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert "1 passed" in done.stdout, done.stdout[-3000:]
    assert done.returncode == 0


# --- guards -------------------------------------------------------------------------------------------------------
def test_guard_the_odd_options_plugin_does_change_how_numpy_prints(tmp_path: Path) -> None:
    """The premise of the test above: under the plugin, numpy prints [[1, 0, 0]] otherwise than by its defaults."""
    namespace: dict = {}
    exec(_ODD_PRINT_OPTIONS_PLUGIN, namespace)
    saved = np.get_printoptions()
    try:
        namespace["pytest_configure"](None)
        odd = str(np.array([[1.0, 0.0, 0.0]]))
    finally:
        np.set_printoptions(**saved)
    assert odd != "[[1. 0. 0.]]"


def test_guard_the_default_print_options_fixture_gives_numpys_defaults_for_the_options_it_names(
        odd_print_options, request: pytest.FixtureRequest) -> None:
    """The options the fixture names (sign, precision, linewidth, ...) are numpy's defaults inside it."""
    request.getfixturevalue("numpy_default_print_options")  # entered now, after the odd options
    named = ("sign", "precision", "linewidth", "threshold", "nanstr", "suppress", "floatmode", "legacy")
    options, fresh = np.get_printoptions(), _fresh_print_options()
    assert {key: options[key] for key in named} == {key: fresh[key] for key in named}
