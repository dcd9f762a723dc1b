"""A developer joining the project, following the developer workflow that README.md's *Development* section,
tests/conftest.py's docstring, .ci/run and pyproject.toml describe, to the letter.

What that found (each pinned here): two benchmark scripts and the PyTorch cross-check run as a script (the
README's commands) imported whatever tinygrad_edu was installed (a non-editable ``pip install ".[dev]"``: a stale
copy) instead of the clone's; the cross-check's documented ``--graphs 5000`` stopped at an undocumented 420-second
limit without saying so; a misspelt ``HYPOTHESIS_PROFILE`` failed without naming the profiles, and an empty one was
taken for a profile's name; the README named neither what each hypothesis profile runs nor the lint command CI runs;
the cross-check's coverage test failed after a subset of its graph chunks.
The guard tests pin that .ci/run runs the README's test command and installs the programs the tests look for.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import conftest
import pytest
from conftest import ON_CI
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_SCRIPT = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
PROFILES = ("ci", "dev", "thorough")


def development_section() -> str:
    """README.md's *Development* section, its whitespace folded (its sentences wrap at any word)."""
    section = README[README.index("## Development"):README.index("Licence: MIT")]
    return " ".join(section.split())


# --- documented scripts run from the clone use the clone's package ---------------------------------------------

STALE = 'raise SystemExit("imported an installed tinygrad_edu, not the checkout\'s: " + __file__)\n'
HAS_TORCH = importlib.util.find_spec("torch") is not None
NO_TORCH = "PyTorch is not installed: tests/test_against_pytorch.py is skipped (pip install \".[crosscheck]\")"


@pytest.mark.parametrize("script", [
    "benchmarks/bench_engine.py",
    "benchmarks/bench_xsquared_update.py",
    "scripts/make_readme_figures.py",
    "benchmarks/bench_second_order.py",
    "benchmarks/bench_xsquared_seeds.py",
    pytest.param("tests/test_against_pytorch.py", marks=[pytest.mark.skipif(
        not HAS_TORCH, reason="PyTorch is not installed: tests/test_against_pytorch.py exits at its import")]),
])
def test_documented_scripts_import_the_package_of_their_checkout(script: str, tmp_path: Path) -> None:
    """An installed package that is not this checkout's (here one that stops at import) stands first on the path,
    as site-packages' copy would after ``pip install ".[dev]"``; the script must still use the checkout's."""
    installed = tmp_path / "site" / "tinygrad_edu"
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text(STALE, encoding="utf-8")
    if script != "tests/test_against_pytorch.py":  # PyTorch kept out where it is only an optional column (fast)
        (tmp_path / "site" / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True,
                          env=environment, cwd=tmp_path, timeout=120)
    assert "not the checkout's" not in done.stderr, done.stderr[-500:]
    assert done.returncode == 0 and done.stdout.startswith("usage:"), done.stderr[-2000:]


def test_a_crosscheck_run_cut_short_by_its_time_limit_says_so(tmp_path: Path) -> None:
    if not HAS_TORCH:
        pytest.skip(NO_TORCH)
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "test_against_pytorch.py"), "--graphs", "3",
                           "--seed", "5", "--seconds", "0"], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert done.stdout.startswith("0 graphs in "), done.stdout + done.stderr[-2000:]
    assert "--seconds" in done.stdout and "0 of the 3 graphs" in done.stdout, done.stdout
    assert "--seed 5" in done.stdout, done.stdout  # where to go on from
    assert "--seconds" in development_section()  # the README's command for thousands of graphs names the limit


def test_the_crosschecks_coverage_test_holds_after_one_chunk_of_graphs(tmp_path: Path) -> None:
    if not HAS_TORCH:
        pytest.skip(NO_TORCH)
    here = "tests/test_against_pytorch.py::"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           f"--basetemp={tmp_path / 'basetemp'}", f"{here}test_random_graphs_agree_with_pytorch[0]",
                           f"{here}test_the_graphs_cover_every_operation"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert "2 passed" in done.stdout, done.stdout[-2000:]


# --- hypothesis profiles ---------------------------------------------------------------------------------------

def collect_with_profile(profile: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``pytest --collect-only`` of this file in a fresh process, with ``HYPOTHESIS_PROFILE=profile``."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "HYPOTHESIS_PROFILE": profile}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--collect-only",
                           f"--basetemp={tmp_path / 'basetemp'}", str(Path(__file__))], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_a_misspelt_hypothesis_profile_is_refused_naming_the_profiles(tmp_path: Path) -> None:
    done = collect_with_profile("Thorough", tmp_path)
    assert done.returncode != 0
    message = [line for line in (done.stdout + done.stderr).splitlines() if "'Thorough'" in line]
    assert message, done.stdout[-2000:]
    assert all(re.search(rf"\b{name}\b", message[-1]) for name in PROFILES), message[-1]


def test_an_empty_hypothesis_profile_means_the_default_one(tmp_path: Path) -> None:
    done = collect_with_profile("", tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]


def test_the_readme_says_what_each_hypothesis_profile_runs() -> None:
    text = development_section()
    for name in PROFILES:
        examples = settings.get_profile(name).max_examples
        at = text.find(f"`{name}`")
        assert at >= 0, name
        assert re.search(rf"\b{examples}\b", text[at:at + 120]), (name, examples, text[at:at + 120])
    assert re.search(r"`dev`, the default", text)
    assert re.search(r"`ci`, the default when `CI` is set", text)


def test_the_profiles_the_readme_names_are_the_ones_conftest_registers() -> None:
    """Guard: each profile loads, ``ci`` draws the same examples every run, and the fuzzer's deep run is larger."""
    for name in PROFILES:
        assert settings.get_profile(name).deadline is None, name  # no timing on a busy machine
    assert settings.get_profile("ci").derandomize
    if not ON_CI:  # (where CI is set, hypothesis derandomizes every profile registered: dev too)
        assert not settings.get_profile("dev").derandomize
    assert settings.get_profile("thorough").max_examples > settings.get_profile("dev").max_examples
    assert "HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_composition.py" in README


# --- ruff, mypy and .ci/run ------------------------------------------------------------------------------------

def test_the_readme_gives_the_lint_and_type_check_commands_ci_runs() -> None:
    commands = [line.strip() for line in CI_SCRIPT.splitlines() if re.match(r"\.venv/bin/python -m (ruff|mypy) ",
                                                                              line.strip())]
    assert len(commands) == 2, commands  # the lint and the type check
    for command in commands:
        assert f"`{command}`" in development_section(), command


def test_ci_runs_the_readmes_test_command() -> None:
    """Guard: .ci/run reads its test command from README.md with grep; that finds the quickstart's second command,
    which makes the venv, installs the dev extra and runs pytest in it."""
    pattern = re.search(r"grep -m1 -F '([^']+)' README\.md", CI_SCRIPT)
    assert pattern, "the README's test command is no longer read from README.md"
    found = next(line for line in README.splitlines() if pattern[1] in line)
    quickstart = re.search(r"## Quickstart\s+```bash\n(.*?)\n```", README, re.DOTALL)
    assert quickstart and found == quickstart[1].splitlines()[1]
    assert found.endswith('-m pip install ".[dev]" && .venv/bin/python -m pytest')
    assert 'bash -c "set -eo pipefail; $test_command"' in CI_SCRIPT


def test_ci_installs_every_program_the_tests_look_for() -> None:
    """Guard: .ci/run installs a Debian package for each program missing (dot, chromium, chromedriver), and those are
    the programs conftest starts the browser with and the packages the README names."""
    installs = dict(re.findall(r'command -v (\S+) >/dev/null 2>&1 \|\| need="\$need ([^"]+)"', CI_SCRIPT))
    assert installs == {"dot": "graphviz", "chromium": "chromium", "chromedriver": "chromium-driver"}
    assert {Path(conftest.CHROMIUM).name, Path(conftest.CHROMEDRIVER).name} <= set(installs)
    assert f"apt-get install {installs['chromium']} {installs['chromedriver']}" in development_section()


def test_the_browser_tests_skip_with_the_install_command_where_chromium_is_missing(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    """Guard: without Chromium a browser test is skipped saying what to install, and on CI it fails instead."""
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(conftest, "ON_CI", False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install chromium chromium-driver"):
        conftest.start_chromium(tmp_path)
    monkeypatch.setattr(conftest, "ON_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        conftest.start_chromium(tmp_path)
