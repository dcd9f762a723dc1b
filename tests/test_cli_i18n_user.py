"""A user who runs the command line where the output cannot always be written: a file on a full disk (``/dev/full``
stands in for it), a pipe whose reader has gone before anything was written (``| true``, ``| grep -q .``), a closed
stdout (``>&-``); and with a Latin-1 console, no HOME, a TMPDIR that does not exist, NO_COLOR and TERM=dumb.

Each run is a subprocess with Python's normal buffering (PYTHONUNBUFFERED removed): output to a file or a pipe is
written when the program flushes it, which is where the failures came.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import nn

ROOT = Path(__file__).resolve().parents[1]
TINY_TRAIN = ["train", "--hidden", "2", "--episodes", "1", "--samples", "10", "-o", "trained.npz"]
HELPS = [["--help"], ["--version"], ["predict", "--help"]]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes, /dev/full and closed descriptors")


def run(args: list[str], cwd: Path, stdout: Any = subprocess.PIPE, env: dict[str, str | None] | None = None,
        **options: Any) -> subprocess.CompletedProcess[bytes]:
    """``python -m tinygrad_edu *args`` in ``cwd`` (this clone first on the path), buffered as Python buffers by
    default, with ``env`` changed (None removes a variable); stderr captured."""
    full = {key: value for key, value in os.environ.items() if key not in ("PYTHONUNBUFFERED", "PYTHONIOENCODING")}
    full["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    for key, value in (env or {}).items():
        if value is None:
            full.pop(key, None)
        else:
            full[key] = value
    return subprocess.run([sys.executable, "-m", "tinygrad_edu", *args], cwd=cwd, env=full, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=120, **options)


def into_full_disk(args: list[str], cwd: Path, **env: str | None) -> subprocess.CompletedProcess[bytes]:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        return run(args, cwd, stdout=full, env=env)


def into_gone_reader(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``args`` with stdout a pipe whose reader has gone before anything was written (``| true``)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return run(args, cwd, stdout=write)
    finally:
        os.close(write)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    """A 1-3-1 model saved as model.npz in tmp_path."""
    nn.MLP([1, 3, 1], rng=0, activation="tanh").save(tmp_path / "model.npz")
    return tmp_path / "model.npz"


def one_error_line(done: subprocess.CompletedProcess[bytes]) -> str:
    err = done.stderr.decode("utf-8", "replace")
    assert err.count("\n") == 1 and "Traceback" not in err, err[-600:]
    assert err.startswith("tinygrad-edu: error: "), err
    return err


# --- defects ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["predict", "model.npz", "0.5", "--", "-1"], *HELPS],
                         ids=lambda args: " ".join(args))
def test_output_on_a_full_disk_is_one_error_line_naming_standard_output(model: Path, args: list[str]) -> None:
    done = into_full_disk(args, model.parent)
    assert done.returncode == 2, done.stderr[-600:]
    err = one_error_line(done)
    assert "standard output" in err and os.strerror(28) in err  # what could not be written, and why


def test_train_output_on_a_full_disk_says_the_output_failed_and_keeps_the_model(tmp_path: Path) -> None:
    done = into_full_disk(TINY_TRAIN, tmp_path)
    assert done.returncode == 2
    assert "standard output" in one_error_line(done)
    assert nn.load(str(tmp_path / "trained.npz")).sizes == [1, 2, 1]  # the model itself was saved


def test_demo_output_on_a_full_disk_names_standard_output(tmp_path: Path) -> None:
    done = into_full_disk(["demo", "--quick", "-o", "out"], tmp_path)
    assert done.returncode == 2
    assert "standard output" in one_error_line(done)


@pytest.mark.parametrize("args", [["predict", "model.npz", "0.5", "0.25"], *HELPS], ids=lambda args: " ".join(args))
def test_a_reader_gone_before_the_output_is_written_ends_quietly_with_141(model: Path, args: list[str]) -> None:
    done = into_gone_reader(args, model.parent)
    assert (done.returncode, done.stderr) == (141, b"")


@pytest.mark.parametrize("args", HELPS, ids=lambda args: " ".join(args))
def test_help_that_cannot_be_written_is_an_error_also_unbuffered(tmp_path: Path, args: list[str]) -> None:
    done = into_full_disk(args, tmp_path, PYTHONUNBUFFERED="1")
    assert done.returncode == 2
    assert "standard output" in one_error_line(done)


@pytest.mark.parametrize("args", HELPS, ids=lambda args: " ".join(args))
def test_help_with_stdout_closed_prints_nothing_on_stderr(tmp_path: Path, args: list[str]) -> None:
    done = run(args, tmp_path, stdout=None, preexec_fn=lambda: os.close(1))
    assert (done.returncode, done.stderr) == (0, b"")


# --- guards -----------------------------------------------------------------------------------------------------

def test_predict_with_stdout_closed_succeeds_and_stderr_closed_keeps_stdout_clean(model: Path) -> None:
    closed = run(["predict", "model.npz", "0.5"], model.parent, stdout=None, preexec_fn=lambda: os.close(1))
    assert (closed.returncode, closed.stderr) == (0, b"")
    wrong = run(["predict", "model.npz", "x"], model.parent, stdin=subprocess.DEVNULL)
    no_stderr = subprocess.run([sys.executable, "-m", "tinygrad_edu", "predict", "model.npz", "x"], cwd=model.parent,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, timeout=120,
                               preexec_fn=lambda: os.close(2))
    assert wrong.returncode == no_stderr.returncode == 2 and no_stderr.stdout == b""  # no error among the results


def test_a_latin1_console_keeps_what_it_can_encode_and_only_replaces_the_rest(model: Path) -> None:
    """x² is written as Latin-1's ² (only what Latin-1 lacks, → and η, becomes "?"); the numbers are the same."""
    latin = run([*TINY_TRAIN], model.parent, env={"PYTHONIOENCODING": "latin-1"})
    assert latin.returncode == 0 and latin.stderr == b"", latin.stderr
    assert b"on 10 x\xb2 samples" in latin.stdout  # ² is 0xb2 in Latin-1, not "?"
    done = run(["predict", "model.npz", "0.5"], model.parent, env={"PYTHONIOENCODING": "latin-1"})
    utf8 = run(["predict", "model.npz", "0.5"], model.parent)
    assert done.stdout == utf8.stdout.replace("→".encode(), b"?") and b"?" in done.stdout
    with np.errstate(all="ignore"):
        expected = nn.load(str(model))(np.array([[0.5]])).data.item()
    assert float(done.stdout.split()[-1]) == pytest.approx(expected, rel=1e-5)


def test_no_home_and_a_missing_tmpdir_write_nothing_but_the_model(model: Path) -> None:
    env: dict[str, str | None] = {"HOME": None, "TMPDIR": str(model.parent / "does not exist")}
    trained = run(TINY_TRAIN, model.parent, env=env)
    assert trained.returncode == 0 and trained.stderr == b"", trained.stderr
    assert sorted(path.name for path in model.parent.iterdir()) == ["model.npz", "trained.npz"]  # no probe file left
    done = run(["predict", "trained.npz", "0.5"], model.parent, env=env)
    assert done.returncode == 0 and done.stdout == run(["predict", "trained.npz", "0.5"], model.parent).stdout


def test_no_color_and_a_dumb_terminal_get_no_escape_sequences(model: Path) -> None:
    env: dict[str, str | None] = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "300"}
    for args in (["--help"], ["train", "--help"], TINY_TRAIN, ["predict", "model.npz", "0.5"],
                 ["predict", "model.npz", "oops"]):
        done = run(args, model.parent, env=env)
        assert b"\x1b" not in done.stdout + done.stderr, args
        assert done.returncode == (2 if "oops" in args else 0), done.stderr
