"""A hunt for flaky tests among the round's new test files (run three times, under each hypothesis profile and
other seeds, in shuffled and reversed orders, with PYTHONHASHSEED varied, numpy's print options and global random
state changed, from another directory, and two copies at once).

What it found: tests/test_fuzzer_coverage_reviewer.py's coverage test passed alone and failed in every run of the
round's files together, derandomized or not.  Hypothesis mixes the literal numbers of every module imported so far
into what it draws (its "local constants"), so a derandomized search draws other examples once more test modules are
collected: after tests/test_calculus_teacher_6_1.py, the 400 graphs it drew had no soft-target cross_entropy.  The
test now lets the search run until every spelling is seen, with a budget the rarest one cannot miss.

The same fact made the README's word on the ``ci`` profile untrue: "derandomized: every run draws the same ones".
A run of one file drew other examples than the full suite, so a CI failure was not reproduced by running its file
again.  tests/conftest.py now keeps hypothesis from drawing those numbers (``_without_local_constants``): the tests
here check that it does, in this process, and that hypothesis still would without it (a fresh interpreter).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# a derandomized search, as the ci profile runs one, before and after a module that writes 123.456 is imported
_DRAWS = """
import importlib, json, sys
from hypothesis import Phase, find, settings, strategies as st
sys.path.insert(0, sys.argv[1])

def draws():
    seen = []
    find(st.floats(allow_nan=False), lambda x: seen.append(x) or len(seen) >= 60,
         settings=settings(database=None, phases=[Phase.generate], derandomize=True, max_examples=100))
    return seen

before, again = draws(), draws()
importlib.import_module("a_students_constants")
after = draws()
print(json.dumps({"before": before, "again": again, "after": after}))
"""


def _ci_sentence() -> str:
    """The README's Development bullet on HYPOTHESIS_PROFILE, from "`ci`" to the next profile, on one line."""
    found = re.search(r"`ci`, the default when `CI` is set.*?`dev`", README, flags=re.DOTALL)
    assert found is not None, "the README no longer describes the ci profile where it did"
    return " ".join(found.group(0).split())


# --- defect ---------------------------------------------------------------------------------------------------------
def test_the_readme_says_every_ci_run_draws_the_same_examples_and_how_to_replay_one() -> None:
    sentence = _ci_sentence()
    assert "every run draws the same ones" in sentence and "run alone too" in sentence
    assert "@reproduce_failure" in sentence


def test_under_the_test_settings_an_import_changes_no_draw(tmp_path: Path, monkeypatch) -> None:
    """conftest's _without_local_constants: in this process a module writing 123.456 imported between two
    derandomized searches changes nothing they draw."""
    import importlib

    namespace: dict = {}
    exec(_DRAWS.split("before, again")[0].replace("sys.path.insert(0, sys.argv[1])", ""), namespace)
    before = namespace["draws"]()
    (tmp_path / "a_teachers_constants.py").write_text("LEARNING_RATE = 123.456\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("a_teachers_constants")
    after = namespace["draws"]()
    assert after == before and 123.456 not in after


# --- guards ---------------------------------------------------------------------------------------------------------

def test_guard_a_derandomized_search_draws_other_examples_once_a_module_with_other_numbers_is_imported(
        tmp_path: Path) -> None:
    """The premise of the README's wording and of the coverage test's budget: derandomized, hypothesis draws the same
    examples again in the same process, and others (the new module's own numbers among them) after an import."""
    (tmp_path / "a_students_constants.py").write_text("LEARNING_RATE = 123.456\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _DRAWS, str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60, check=True)
    draws = json.loads(done.stdout)
    assert draws["before"] == draws["again"]
    assert 123.456 not in draws["before"] and 123.456 in draws["after"]


def test_guard_the_ci_profile_prints_the_blob_that_replays_a_failure() -> None:
    """The README's way to replay a CI failure anywhere holds only while the ci profile keeps print_blob on."""
    from hypothesis import settings

    ci = settings.get_profile("ci")
    assert ci.print_blob and ci.derandomize
