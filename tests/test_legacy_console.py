"""The command line on a console that is not UTF-8: the C/POSIX locale of an old SSH session or a Docker container
(ASCII, ``errors="surrogateescape"``), a Windows code page (cp1252) when the output goes to a file.  Each run is a
subprocess with its own locale; the output is compared as bytes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The C locale without Python's rescues (locale coercion, UTF-8 mode): stdout is ASCII with surrogateescape.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
TINY_TRAIN = ["train", "--hidden", "2", "--episodes", "1", "--samples", "10"]


def run(locale: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """``python -X utf8=0 -m tinygrad_edu *args`` with ``locale`` (and this clone first on the path)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONIOENCODING", "LC_CTYPE")}
    env.update(locale, PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-X", "utf8=0", "-m", "tinygrad_edu", *args], capture_output=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def _ascii_c_locale() -> None:
    """The tests mean a console that writes ASCII; a system where LC_ALL=C does not give one has nothing to test."""
    env = {**os.environ, **C_LOCALE}
    env.pop("PYTHONIOENCODING", None)
    done = subprocess.run([sys.executable, "-X", "utf8=0", "-c", "import sys; print(sys.stdout.encoding, "
                           "sys.stdout.errors)"], capture_output=True, env=env, timeout=60)
    if done.stdout.split() != [b"ascii", b"surrogateescape"]:
        pytest.skip(f"LC_ALL=C gives stdout {done.stdout!r} here, not ASCII")


def test_help_under_the_c_locale_is_printed_not_a_traceback(tmp_path: Path) -> None:
    for command in ([], ["demo"], ["train"]):
        done = run(C_LOCALE, *command, "--help", cwd=tmp_path)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr[-300:]
        assert b"usage: tinygrad-edu" in done.stdout and b"x? " in done.stdout  # x² as x?
    train_help = run(C_LOCALE, "train", "--help", cwd=tmp_path).stdout
    assert b"learning rate ?;" in train_help and train_help.isascii()


def test_train_predict_and_demo_under_the_c_locale_print_their_results(tmp_path: Path) -> None:
    done = run(C_LOCALE, *TINY_TRAIN, "-o", "m.npz", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert b"on 10 x? samples" in done.stdout and b"saved the model to m.npz" in done.stdout
    done = run(C_LOCALE, "predict", "m.npz", "0.5", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    assert done.stdout.startswith(b"0.5 ? ") and float(done.stdout.split()[-1]) == pytest.approx(
        float(run({}, "predict", "m.npz", "0.5", cwd=tmp_path).stdout.split()[-1]))  # the same number as in UTF-8
    done = run(C_LOCALE, "demo", "--quick", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0 and b"error" not in done.stderr, done.stderr
    assert done.stdout.startswith(b"Fitting f(x) = x? on [?1, 1]") and b"| method" in done.stdout
    assert (tmp_path / "out" / "results.md").is_file()


def test_files_written_under_the_c_locale_are_utf8(tmp_path: Path) -> None:
    """The demo's table, drawings and page are UTF-8 whatever the locale (stdout strict ASCII, replaced by "?")."""
    done = run({**C_LOCALE, "PYTHONIOENCODING": "ascii"}, "demo", "--quick", "-o", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    texts = [path for path in (tmp_path / "out").iterdir() if path.suffix in (".md", ".svg", ".html", ".dot")]
    assert {path.name for path in texts} >= {"results.md", "backprop_player.html"}
    for path in texts:
        path.read_bytes().decode("utf-8")  # raises if not UTF-8
    assert "x²" in (tmp_path / "out" / "results.md").read_text(encoding="utf-8").splitlines()[0]
    assert "∇C" in (tmp_path / "out" / "results.md").read_text(encoding="utf-8")


def test_inputs_files_are_read_as_utf8_with_any_line_ends_under_the_c_locale(tmp_path: Path) -> None:
    assert run({**C_LOCALE, "PYTHONIOENCODING": "ascii"}, *TINY_TRAIN, "-o", "m.npz", cwd=tmp_path).returncode == 0
    (tmp_path / "crlf.txt").write_bytes(b"\xef\xbb\xbf0.5\r\n-1\r\n")  # Notepad: a byte order mark, CRLF
    done = run({**C_LOCALE, "PYTHONIOENCODING": "ascii"}, "predict", "m.npz", "--inputs-file", "crlf.txt",
               cwd=tmp_path)
    in_utf8 = run({}, "predict", "m.npz", "0.5", "-1", cwd=tmp_path).stdout
    assert "→".encode() in in_utf8 and done.returncode == 0
    assert done.stdout == in_utf8.replace("→".encode(), b"?")
    (tmp_path / "greek.txt").write_bytes("0.5 η\n".encode())
    done = run({"PYTHONIOENCODING": "cp1252"}, "predict", "m.npz", "--inputs-file", "greek.txt", cwd=tmp_path)
    assert done.returncode == 2 and b"Traceback" not in done.stderr
    assert done.stderr == b"tinygrad-edu: error: predict: 'greek.txt' line 1: '\\u03b7' is not a number\n"
