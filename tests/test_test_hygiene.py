"""A reviewer of the test suite's hygiene: CI runs it on a fresh machine, where a test that depends on the machine
(a program installed or not, the environment, a fast CPU) or on the tests before it blocks everything.

The xfail tests are the defects found in the tests themselves: tests that draw with Graphviz failing instead of
skipping where ``dot`` is not installed, fit's progress-bar tests failing under ``TQDM_DISABLE=1`` (a common CI
setting), Chromium writing into the user's home and leaving a profile in /tmp per browser, ``CI=false`` taken for CI
by the browser fixture, a second Chromium started outside conftest, and fixed sleeps before an assertion about what
the page does in response to an event.  The guard tests pin the rules the suite keeps: wall-clock limits with room
for a busy machine, numpy's global seed restored, hypothesis settings chosen only by the profiles.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _test_files() -> list[Path]:
    """The test files, and the helper modules whose code they run (tests/helpers_*.py, tests/stateful_shadow.py)."""
    helpers = [*TESTS.glob("helpers_*.py"), TESTS / "stateful_shadow.py"]
    return sorted(path for path in [*TESTS.glob("test_*.py"), *helpers] if path.name != Path(__file__).name)


def _pytest(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest args`` on this clone in a fresh process, its temporary files under ``tmp_path``."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
                   "HYPOTHESIS_PROFILE": "ci", **env}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                           f"--basetemp={tmp_path / 'basetemp'}", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=300)


def _counts(output: str) -> dict[str, int]:
    """pytest's last line as {"passed": 3, "skipped": 2, …}."""
    return {word: int(number) for number, word in re.findall(r"(\d+) (passed|failed|skipped|errors?|deselected)",
                                                             output.strip().splitlines()[-1])}


# --- defects: tests that depend on the machine ------------------------------------------------------------------

def test_tests_that_draw_with_dot_skip_where_dot_is_not_installed(tmp_path):
    (tmp_path / "bin").mkdir()  # a PATH without dot (the tests below need no other program)
    run = _pytest(tmp_path, "tests/test_deep_graphs_user.py", "tests/test_api_misuse.py", "-k",
                  "player_of_a or viz.render", PATH=str(tmp_path / "bin"))
    assert _counts(run.stdout).get("failed", 0) == 0, run.stdout[-3000:]
    assert _counts(run.stdout)["skipped"] == 5 and run.stdout.count("dot program") >= 2, run.stdout[-3000:]


def test_the_progress_bar_tests_hold_whatever_tqdms_environment_variables(tmp_path):
    run = _pytest(tmp_path, "tests/test_training.py", "tests/test_student_in_jupyter.py",
                  "tests/test_data_training_mutants2.py", "-k", "progress_bar", TQDM_DISABLE="1", TQDM_NCOLS="20")
    counts = _counts(run.stdout)
    assert counts.get("failed", 0) == 0 and counts["passed"] >= 4, run.stdout[-3000:]


def _environment_of(pid: int) -> dict[str, str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace").split("\0")
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)


def _children_of(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    children.append(int(entry.name))
            except (OSError, IndexError):
                pass  # a process that ended meanwhile
    return children


def test_the_browser_keeps_its_profile_and_settings_in_pytests_temporary_folder(browser, tmp_path_factory):
    base = tmp_path_factory.getbasetemp().resolve()
    profile = Path(browser.capabilities["chrome"]["userDataDir"]).resolve()
    assert profile.is_relative_to(base), profile
    if sys.platform.startswith("linux"):
        chromium = _children_of(browser.service.process.pid)
        assert chromium
        for pid in chromium:
            environment = _environment_of(pid)
            for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
                assert Path(environment[name]).resolve().is_relative_to(base), (name, environment.get(name))


HIDE_CHROMIUM = '''
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    import conftest
    conftest.CHROMIUM = "/nonexistent/chromium"  # as on a machine without Chromium
'''


def test_ci_false_is_no_ci_for_the_browser_tests(tmp_path):
    (tmp_path / "hide_chromium.py").write_text(HIDE_CHROMIUM)
    here = f"tests/{Path(__file__).name}::test_the_browser_keeps_its_profile_and_settings_in_pytests_temporary_folder"
    run = _pytest(tmp_path, "--runxfail", "-p", "hide_chromium", here, CI="false")
    assert _counts(run.stdout) == {"skipped": 1}, run.stdout[-3000:]
    assert "chromium and chromedriver are not installed" in run.stdout
    on_ci = _pytest(tmp_path, "--runxfail", "-p", "hide_chromium", here, CI="true")  # the other side: CI must run them
    assert "CI must run the browser tests" in on_ci.stdout


def test_chromium_is_started_only_by_conftest():
    starts = [path.name for path in _test_files() if "webdriver.Chrome(" in path.read_text(encoding="utf-8")]
    assert starts == []
    assert "webdriver.Chrome(" in (TESTS / "conftest.py").read_text(encoding="utf-8")


SLEEP = re.compile(r"^\s*time\.sleep\(([\d.]+)\)")


def test_no_short_fixed_sleep_is_directly_followed_by_an_assertion():
    found, waits = [], 0
    for path in _test_files():
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for number, line in enumerate(lines[:-1]):
            match = SLEEP.match(line)
            if match and float(match.group(1)) < 1:
                waits += 1
                if lines[number + 1].strip().startswith("assert"):
                    found.append(f"{path.name}: {line.strip()} / {lines[number + 1].strip()[:60]}")
    assert waits >= 3  # the scan sees the sleeps that poll or let a page settle
    assert found == []


# --- guards: the rules the suite keeps ----------------------------------------------------------------------

WALL_CLOCK = re.compile(r"(?:monotonic|perf_counter|time)\(\)\s*-\s*\w+\s*<=?\s*([\d.]+)")


def test_wall_clock_limits_in_the_tests_leave_room_for_a_busy_machine():
    """A test may bound a call that used to run for minutes, but by 2 s at least: CI machines are shared and slow."""
    limits = {(path.name, float(limit)) for path in _test_files()
              for limit in WALL_CLOCK.findall(path.read_text(encoding="utf-8"))}
    assert len(limits) >= 3  # the scan finds the existing ones (test_big_graph_drawer, test_download_user)
    assert [limit for limit in limits if limit[1] < 2] == []


def _calls(function: ast.AST, dotted: str) -> bool:
    return any(isinstance(node, ast.Call) and ast.unparse(node.func) == dotted for node in ast.walk(function))


def test_every_test_that_seeds_numpys_global_random_state_restores_it():
    """np.random.seed without restoring the state makes every later test that draws from it (rng=None) depend on
    the order the tests ran in."""
    seeding, careless = 0, []
    for path in _test_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and _calls(node, "np.random.seed"):
                seeding += 1
                restores = _calls(node, "np.random.set_state") or \
                    "global_random_state" in [argument.arg for argument in node.args.args]
                if not restores:
                    careless.append(f"{path.name}::{node.name}")
    assert seeding >= 5
    assert careless == []


def test_hypothesis_settings_are_chosen_only_by_conftests_profiles():
    """A profile loaded or registered in a test file would change every test after it; derandomize=False or @seed
    would make CI draw other examples from run to run."""
    found = [path.name for path in _test_files()
             if re.search(r"load_profile|register_profile|derandomize=False|@seed\(|settings\.default\s*=",
                          path.read_text(encoding="utf-8"))]
    assert found == []
    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.deadline is None and ci.max_examples <= 100  # reproducible, no timing, quick

