"""A hunter of flaky and order-dependent tests among round 35's new test files: each run several times, shuffled and
reversed, under HYPOTHESIS_PROFILE=ci and dev, with PYTHONHASHSEED varied, with a plugin comparing the global state
before and after every test (numpy's print options and errstate, warnings filters, the grad and anomaly modes,
matplotlib's rcParams, the current folder, the environment, signal handlers, threads, ``sys.modules['__main__']``,
builtins).  All passed in every order; two left state behind or depended on the machine's environment.

Defects (their tests failed before the fix, which is in the two test files):
- tests/test_notebook_rerun_user.py's IPython test made IPython's real shell with its defaults: it wrote its cells
  (``signal.raise_signal(signal.SIGINT)`` …) into the user's own ~/.ipython history (the up arrow in the student's
  next IPython session brings them back; two test runs at once share the sqlite file), and left a history-saving
  thread running, IPython's module as ``sys.modules['__main__']`` and ``__IPYTHON__`` and ``display`` in builtins
  for every later test of the session.
- tests/test_left_alone_sweeper_r7.py's memory measurements started and stopped tracemalloc as if nothing else
  traced: under ``PYTHONTRACEMALLOC=1`` (or ``python -X tracemalloc``, which CI sets to find where a leaked file was
  opened) the first one read the peak of the whole session so far and failed (437 times the file's size), then
  stopped the session's tracing, so the next ones passed: a failure that depended on which test ran first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"


def _pytest_in_a_fresh_python(tmp_path: Path, test_ids: list[str], *python_flags: str) -> dict:
    """Runs ``test_ids`` with pytest.main in a new Python (home and IPython folder in ``tmp_path``) and reports what
    they left behind in that Python: what a later test of the same session would find."""
    script = """if True:
        import builtins, json, sys, threading, tracemalloc
        import pytest
        main, names, tracing = sys.modules["__main__"], set(vars(builtins)), tracemalloc.is_tracing()
        code = pytest.main(["-q", "-p", "no:cacheprovider", *sys.argv[1:]])
        print(json.dumps({"code": int(code), "main_kept": sys.modules["__main__"] is main,
                          "builtins_added": sorted(set(vars(builtins)) - names),
                          "threads": sorted(t.name for t in threading.enumerate() if t is not threading.main_thread()),
                          "tracing_kept": tracemalloc.is_tracing() == tracing}))
    """
    home = tmp_path / "home"
    home.mkdir()
    env = {name: value for name, value in os.environ.items() if name not in ("IPYTHONDIR", "PYTHONTRACEMALLOC")}
    env.update(HOME=str(home), PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, *python_flags, "-c", script, *test_ids], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    *output, last = result.stdout.splitlines() or [""]
    assert last.startswith("{"), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(last)
    report["output"] = "\n".join(output)[-3000:]
    report["home"] = sorted(str(path.relative_to(home)) for path in home.rglob("*"))
    return report


def test_the_ipython_cells_test_leaves_nothing_in_the_home_folder_or_the_session(tmp_path) -> None:
    report = _pytest_in_a_fresh_python(tmp_path, [
        f"{TESTS / 'test_notebook_rerun_user.py'}::"
        "test_guard_cells_interrupted_inside_blocks_leave_every_mode_as_it_was"])
    assert report["code"] == 0, report["output"]
    assert report["home"] == []  # (before: .ipython/profile_default/history.sqlite and its folders)
    assert report["main_kept"]
    assert report["builtins_added"] == []  # (before: __IPYTHON__ and display)
    assert report["threads"] == []  # (before: IPythonHistorySavingThread)


def test_the_memory_peaks_of_round_7_hold_when_the_session_already_traces_memory(tmp_path) -> None:
    report = _pytest_in_a_fresh_python(tmp_path, [
        str(TESTS / "test_left_alone_sweeper_r7.py"), "-k", "inputs_file_holds or converted_batch"],
        "-X", "tracemalloc")
    assert report["code"] == 0, report["output"]
    assert report["tracing_kept"]


# --- guards ----------------------------------------------------------------------------------------------------------
def test_the_checker_sees_what_a_leaking_test_leaves_behind(tmp_path) -> None:
    """The check above can fail: a test that replaces __main__, adds a builtin, leaves a thread and stops tracing
    is reported as doing so (and its pass as a pass)."""
    leaking = tmp_path / "test_leaking.py"
    leaking.write_text("import builtins, sys, threading, tracemalloc, types\n"
                       "def test_leaks():\n"
                       "    sys.modules['__main__'] = types.ModuleType('__main__')\n"
                       "    builtins.__leaked__ = True\n"
                       "    threading.Thread(target=threading.Event().wait, name='left', daemon=True).start()\n"
                       "    tracemalloc.stop()\n", encoding="utf-8")
    report = _pytest_in_a_fresh_python(tmp_path, [str(leaking), "--rootdir", str(tmp_path)], "-X", "tracemalloc")
    assert report["code"] == 0, report["output"]
    assert (report["main_kept"], report["builtins_added"], report["threads"], report["tracing_kept"]) == (
        False, ["__leaked__"], ["left"], False)


def test_both_modes_a_test_may_leave_on_are_read_from_the_package() -> None:
    import tinygrad_edu

    assert "is_anomaly_enabled" in tinygrad_edu.__all__
    assert (tinygrad_edu.is_grad_enabled(), tinygrad_edu.is_anomaly_enabled()) == (True, False)
    with tinygrad_edu.detect_anomaly(), tinygrad_edu.no_grad():
        assert (tinygrad_edu.is_grad_enabled(), tinygrad_edu.is_anomaly_enabled()) == (False, True)
    assert (tinygrad_edu.is_grad_enabled(), tinygrad_edu.is_anomaly_enabled()) == (True, False)
