"""A user whose machine is not set up like the developers': the command line and the file functions under the C
locale (ASCII file names and output), a decimal-comma locale (de_DE), narrow and wide terminals, and file names with
spaces, non-ASCII letters and leading dashes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.cli import main

ROOT = Path(__file__).resolve().parents[1]
#: The C locale without Python's rescues (locale coercion, UTF-8 mode): file names and stdout are ASCII.
C_LOCALE = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
NAMES = ["café.npz", "Ωμέγα.npz", "-dash.npz", "with space .npz", "İstanbul ı.npz"]


def python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -X utf8=0 -c code`` with ``env`` added (and this clone first on the path); output read as UTF-8."""
    full = {key: value for key, value in os.environ.items() if key not in ("PYTHONIOENCODING", "LC_CTYPE")}
    full.update(env, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-X", "utf8=0", "-c", code], capture_output=True, env=full, cwd=cwd,
                          timeout=120, encoding="utf-8", errors="replace")


def cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return python(f"import sys; from tinygrad_edu.cli import main; sys.exit(main({args!r}))", env, cwd)


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A 1-3-1 model saved as ``-model.npz`` in the current folder (tmp_path)."""
    monkeypatch.chdir(tmp_path)
    nn.MLP([1, 3, 1], rng=0).save("-model.npz")
    return tmp_path / "-model.npz"


# --- defects ----------------------------------------------------------------------------------------------------

def test_a_file_name_the_locale_cannot_encode_is_a_value_error_naming_function_file_and_locale(tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import json, sys
        from tinygrad_edu import nn, viz, plots
        from tinygrad_edu.demo import chain_cost
        if sys.getfilesystemencoding() != "ascii":
            print(json.dumps("skip")); sys.exit()
        net, cost = nn.MLP([1, 2, 1], rng=0), chain_cost()
        calls = {"save": lambda: net.save("café.npz"), "load": lambda: nn.load("Ωμέγα.npz"),
                 "render": lambda: viz.render(viz.draw_dependency_tree(cost), "café.dot"),
                 "BackpropPlayer.save": lambda: viz.backprop_player(cost).save("café.html"),
                 "plot_activations": lambda: plots.plot_activations(["relu"], path="café.svg")}
        results = {}
        for name, call in calls.items():
            try:
                call()
                results[name] = ["no error", ""]
            except Exception as error:
                results[name] = [type(error).__name__, str(error)]
        print(json.dumps(results))
        """)
    done = python(code.encode("ascii", "backslashreplace").decode(), C_LOCALE, tmp_path)  # an ASCII command line
    assert done.returncode == 0, done.stderr[-500:]
    results = json.loads(done.stdout)
    if results == "skip":
        pytest.skip("LC_ALL=C does not give an ASCII file system encoding here")
    for operation, (kind, message) in results.items():
        assert kind == "ValueError", (operation, kind, message)
        assert message.startswith(f"{operation}:") and ("café" in message or "Ωμέγα" in message), message
        assert "ascii" in message and "UTF-8" in message, message  # the cause, and the way out
    assert list(tmp_path.iterdir()) == []  # and nothing half-written


@pytest.mark.parametrize("before", [[], ["--inputs-file", "inputs.txt"]])
def test_predict_reads_a_model_named_after_the_double_dash(capsys: pytest.CaptureFixture[str], model_file: Path,
                                                           before: list[str]) -> None:
    Path("inputs.txt").write_text("0.25\n", encoding="utf-8")
    extra = ["0.25"] if before else []
    assert main(["predict", "./-model.npz", "0.5", "-1", *extra]) == 0
    expected = capsys.readouterr().out
    assert main(["predict", *before, "--", "-model.npz", "0.5", "-1"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.startswith("0.5 → ") and "-1 → " in out
    # the numbers on the command line come first, then the file's: the same outputs in the same order
    assert out == expected and len(out.splitlines()) == 2 + len(extra)


def test_a_file_name_read_as_an_option_gets_an_error_saying_how_to_write_it(capsys: pytest.CaptureFixture[str],
                                                                           model_file: Path) -> None:
    err = one_line_error(capsys, ["predict", "-model.npz", "0.5"])
    assert "unrecognized arguments: -model.npz" in err and "./-model.npz" in err and "-- -model.npz" in err
    for argv, option in ((["train", "-o", "-new.npz"], "--output"), (["demo", "-o", "-pictures"], "--output"),
                         (["predict", "./-model.npz", "--inputs-file", "-inputs.txt"], "--inputs-file")):
        err = one_line_error(capsys, argv)
        assert "expected one argument" in err and f"{option}=NAME" in err and "./NAME" in err, err
    assert not any(path.name != "-model.npz" for path in model_file.parent.iterdir())  # nothing trained or written
    # a mistyped option is not taken for a file name
    assert "./" not in one_line_error(capsys, ["predict", "./-model.npz", "--input-file", "x"])


@pytest.mark.parametrize("argv", [["predict", "model.npz", "0,5"], ["predict", "model.npz", "--", "-0,25"],
                                  ["train", "--lr", "0,05"], ["train", "--data", "digits", "--test-fraction", ",2"]])
def test_a_decimal_comma_on_the_command_line_is_refused_saying_to_write_a_decimal_point(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    err = one_line_error(capsys, argv)
    assert "decimal point (0.5, not 0,5)" in err, err
    assert list(tmp_path.iterdir()) == []  # refused before anything was trained or written
    assert "decimal point" not in one_line_error(capsys, ["predict", "model.npz", "1;5"])  # only a decimal comma


def test_run_demo_on_an_ascii_console_prints_question_marks_for_what_it_cannot_show(tmp_path: Path) -> None:
    from tinygrad_edu.demo import run_demo

    console = io.TextIOWrapper(io.BytesIO(), encoding="ascii")  # what sys.stdout is under PYTHONIOENCODING=ascii
    assert run_demo(tmp_path / "Ergebnisse ä", quick=True, stream=console) == 0
    console.flush()
    printed = console.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert printed.startswith("Fitting f(x) = x? on [?1, 1] with a 1-12-12-1 network") and "| Armijo " in printed
    assert "Ergebnisse ?/results.md" in printed  # the files written are named, as well as the console can
    results = (tmp_path / "Ergebnisse ä" / "results.md").read_text(encoding="utf-8")
    assert "x²" in results  # the file itself is UTF-8, whatever the console


# --- guards -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_models_saved_under_unusual_names_load_back_bit_for_bit(tmp_path: Path, name: str) -> None:
    net = nn.MLP([2, 3, 2], rng=1, activation="tanh")
    net.layers[0].weights.data = net.layers[0].weights.data.astype(np.float32)
    path = tmp_path / "sub folder Ωμέγα" / name
    path.parent.mkdir()
    net.save(path)
    loaded = nn.load(str(path))
    assert [p.data.dtype for p in loaded.parameters()] == [p.data.dtype for p in net.parameters()]
    assert all(np.array_equal(a.data, b.data) for a, b in zip(loaded.parameters(), net.parameters()))
    assert sorted(os.listdir(path.parent)) == [name]  # no temporary file left next to it


@pytest.mark.parametrize("columns", [20, 60, 400])
def test_help_prose_wraps_to_the_terminal_width(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                columns: int) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    for command in ([], ["demo"], ["train"], ["predict"]):
        with pytest.raises(SystemExit) as stop:  # main returns the status of --help
            raise SystemExit(main([*command, "--help"]))
        assert stop.value.code == 0
        out = capsys.readouterr().out
        body = out.split("\n\n", 1)[1]  # after the usage, whose [--option {choices}] groups argparse cannot break
        prose = [line for line in body.splitlines() if line.strip() and not line.startswith(("  -", "positional"))]
        width = max(map(len, prose))
        assert width <= max(columns, 24), (columns, command, [line for line in prose if len(line) > columns])
        if columns == 400:  # a wide terminal gets long lines, not the 80 columns of a default
            assert width > 120


def _decimal_comma_locale(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a de_DE.UTF-8 locale: an installed one, or one built with localedef (LOCPATH)."""
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split() if shutil.which(
        "locale") else []
    for name in listed:
        if name.lower().replace("-", "") in ("de_de.utf8", "fr_fr.utf8"):
            return {"LC_ALL": name}
    if not (shutil.which("localedef") and Path("/usr/share/i18n/locales/de_DE").exists()):
        pytest.skip("no decimal-comma locale is installed, and localedef cannot build one")
    folder = tmp_path_factory.mktemp("locales")
    built = subprocess.run(["localedef", "-i", "de_DE", "-f", "UTF-8", str(folder / "de_DE.UTF-8")],
                           capture_output=True, timeout=60)
    if not (folder / "de_DE.UTF-8").exists():
        pytest.skip(f"localedef could not build de_DE.UTF-8: {built.stderr[-200:]!r}")
    return {"LC_ALL": "de_DE.UTF-8", "LOCPATH": str(folder)}


def test_numbers_written_under_a_decimal_comma_locale_read_back_as_in_the_c_locale(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    german = _decimal_comma_locale(tmp_path_factory)
    check = python("import locale; locale.setlocale(locale.LC_ALL, ''); print(locale.localeconv()['decimal_point'])",
                   german, tmp_path)
    assert check.stdout.strip() == ",", check  # the locale really writes decimal commas
    train = ["train", "--hidden", "3", "--episodes", "3", "--samples", "20", "-o", "Modell ä.npz"]
    assert cli(train, german, tmp_path).returncode == 0
    inputs = ["0.1", "0.5", "-1", "0.01"]
    german_out = cli(["predict", "Modell ä.npz", "--", *inputs], german, tmp_path)
    plain_out = cli(["predict", "Modell ä.npz", "--", *inputs], {"LC_ALL": "C.UTF-8"}, tmp_path)
    assert german_out.returncode == plain_out.returncode == 0, german_out.stderr
    assert german_out.stdout == plain_out.stdout
    outputs = [float(line.split("→")[1]) for line in german_out.stdout.splitlines()]
    with np.errstate(all="raise"):
        net = nn.load(tmp_path / "Modell ä.npz")
        expected = net(np.array(inputs, dtype=float).reshape(-1, 1)).data.ravel()
    np.testing.assert_allclose(outputs, expected, rtol=1e-5)  # printed with 6 significant digits
    # a program that turns the locale on (as Tk or a notebook extension may) still gets Graphviz coordinates with
    # decimal points: a comma in an SVG's numbers breaks the picture
    if shutil.which("dot") is None:
        return
    code = ("import locale; locale.setlocale(locale.LC_ALL, '')\n"
            "from tinygrad_edu import viz; from tinygrad_edu.demo import chain_cost\n"
            "viz.render(viz.draw_dependency_tree(chain_cost()), 'Baum ö.svg')")
    assert python(code, german, tmp_path).returncode == 0
    svg = (tmp_path / "Baum ö.svg").read_text(encoding="utf-8")
    points = [pair for group in re.findall(r'points="([^"]*)"', svg) for pair in group.split()]
    sizes = re.findall(r'\s(?:x|y|width|height)="([^"]*)"', svg)
    assert points and sizes
    assert all(re.fullmatch(r"-?\d+(\.\d+)?,-?\d+(\.\d+)?", pair) for pair in points), points[:5]
    assert all(re.fullmatch(r"-?\d+(\.\d+)?(pt)?", size) for size in sizes), sizes[:5]
