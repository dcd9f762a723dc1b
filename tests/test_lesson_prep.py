"""Before a lesson, a teacher runs the examples and the command line with the options the README documents and with
wrong ones: a folder that cannot be made or written to is refused in one line before any work, and random search
on mini-batches whose cost rose is told why, with advice that works."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tinygrad_edu.cli import main as cli_main
from tinygrad_edu.cli import output_folder

ROOT = Path(__file__).resolve().parents[1]

# --- the examples and the command line, as a teacher tries them before a lesson ------------------------------------

EXAMPLES = ROOT / "examples"


def _run_example(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                   "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=environment)


@pytest.fixture
def locked_folder(tmp_path: Path):
    """An existing folder nobody can make files in, root included (chattr +i); skipped where that cannot be done."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        if not hasattr(os, "geteuid") or os.geteuid() == 0:
            pytest.skip("chattr +i is not available here, and root can write into a read-only folder")
        folder.chmod(0o555)
    yield folder
    subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(0o755)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no folder can be made")
@pytest.mark.parametrize("script, option", [("xsquared.py", "--output"), ("second_derivative.py", "--output"),
                                            ("dependency_tree.py", None)])
def test_an_example_given_a_folder_it_cannot_make_says_so_in_one_line_before_any_work(tmp_path, script, option):
    """xsquared.py --output /proc/x trained for seconds and then ended in a FileNotFoundError traceback; so did the
    other examples that write pictures (the command line's demo refuses such a folder before training)."""
    folder = "/proc/self/tinygrad-edu-test/pictures"
    done = _run_example(script, *([option] if option else []), folder, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert f"error: argument {option or 'folder'}: cannot make the folder {folder}" in lines[-1], lines
    assert done.stdout == ""  # nothing trained or printed first


@pytest.mark.parametrize("script, option", [("xsquared.py", "--output"), ("dependency_tree.py", None)])
def test_an_example_given_a_folder_it_cannot_write_to_says_so_in_one_line_before_any_work(tmp_path, locked_folder,
                                                                                         script, option):
    done = _run_example(script, *([option] if option else []), str(locked_folder), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot write to the folder {locked_folder}" in done.stderr.strip().splitlines()[-1]
    assert done.stdout == "" and "probe" not in done.stderr


def test_the_output_folder_check_names_the_folder_it_cannot_write_to(locked_folder):
    locked = re.escape(str(locked_folder))
    with pytest.raises(argparse.ArgumentTypeError, match=rf"cannot write to the folder {locked}: "):
        output_folder(str(locked_folder))
    below = locked_folder / "new" / "pictures"
    with pytest.raises(argparse.ArgumentTypeError,
                       match=rf"cannot make the folder {re.escape(str(below))} in {locked}: "):
        output_folder(str(below))
    assert output_folder(str(locked_folder.parent / "fresh")) == locked_folder.parent / "fresh"  # a writable one


def _train(capsys, *argv: str) -> tuple[str, str]:
    assert cli_main(["train", *argv]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def _costs(printed: str) -> tuple[float, float]:
    found = re.search(r"cost (\S+) at the start, (\S+) at the end$", printed, re.MULTILINE)
    assert found, printed
    return float(found[1]), float(found[2])


def test_random_search_on_batches_whose_cost_rose_is_told_why_and_the_advice_works(capsys, tmp_path):
    """train --data digits --optimizer random (batches of 32 by default) raised the cost 2.468 → 5.855 in 20 episodes
    and was told "the cost did not fall measurably ... try more --episodes or another --seed": more episodes raised
    it further, other seeds too. Each change kept lowered one batch's cost; all samples at once it falls."""
    out, _ = _train(capsys, "--data", "digits", "--optimizer", "random", "--episodes", "4", "-o",
                    str(tmp_path / "m.npz"))
    start, end = _costs(out)
    assert end > start  # (what the advice is about)
    advice = next(line for line in out.splitlines() if "random search kept" in line)
    assert advice.startswith("the cost rose") and "did not fall" not in advice, advice
    assert "batch of 32 samples" in advice and "--batch-size 1347" in advice, advice
    assert "more --episodes" not in advice and "another --seed" not in advice, advice
    # following it: all 1347 training digits at once, each change kept lowers their cost
    out, _ = _train(capsys, "--data", "digits", "--optimizer", "random", "--episodes", "8", "--batch-size", "1347",
                    "-o", str(tmp_path / "m.npz"))
    start, end = _costs(out)
    assert end < start * (1 - 1e-6) and "random search kept" not in out


def test_random_search_on_all_samples_keeps_its_advice_for_a_cost_that_did_not_fall(capsys, tmp_path):
    out, _ = _train(capsys, "--optimizer", "random", "--lr", "1e-300", "--episodes", "1", "--samples", "50", "-o",
                    str(tmp_path / "m.npz"))
    start, end = _costs(out)
    assert start == end and "the cost did not fall: random search kept none of its changes" in out
