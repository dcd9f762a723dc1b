"""A first-time user on a fresh machine: the README's quickstart, and the package installed the ordinary way.

What was checked by hand (Python 3.11 and 3.10, fresh virtual environments): the quickstart's two commands, ``pip
install`` of the clone and of a wheel built by ``python -m build``, the ``tinygrad-edu`` command, the examples run
from a folder outside the clone, the notebooks' imports, and the tests run from the unpacked source archive.  These
tests pin what that found: the README's test environment must be able to build the archives its packaging tests
check, the package must find its own files wherever it was imported from (a wheel on ``PYTHONPATH`` is a zip), and
the module the ``tinygrad-edu`` entry point names must not exit 0 having done nothing when run with ``python -m``.
The wheel tests build in a temporary copy of the tree and are skipped without ``build`` (or an old setuptools).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers_checkout import copied_tree  # a copy of the checkout to build a wheel from
from packaging.requirements import Requirement

try:
    import tomllib
except ImportError:  # Python 3.10: mypy (the dev extra) brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_edu"
#: What ``python -m build`` reads to make the sdist and the wheel (the rest of the tree is not needed for them).
BUILD_SOURCES = ["tinygrad_edu", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"]


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def run_python(args: list[str], cwd: Path, pythonpath: Path | None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run this Python with only ``pythonpath`` (not the clone) on PYTHONPATH, from ``cwd`` (outside the clone)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


# --- the README's test environment can build what the packaging tests check ---

def test_dev_extra_installs_a_setuptools_that_can_build_the_archives():
    """``pip install ".[dev]"`` must bring a setuptools the build-system accepts: the packaging tests build the sdist
    and the wheel offline (``--no-isolation``) and skip otherwise, and a venv's own setuptools is too old (Debian's
    Python 3.11: 66.1) or missing (Python 3.12 and newer)."""
    table = pyproject()
    build_requires = [Requirement(text) for text in table["build-system"]["requires"]]
    dev = {Requirement(text).name: Requirement(text) for text in table["project"]["optional-dependencies"]["dev"]}
    (setuptools,) = [r for r in build_requires if r.name == "setuptools"]
    assert "build" in dev
    assert "setuptools" in dev, "the dev extra leaves setuptools to whatever the venv came with"
    for version in ("66.1.1", "68.0", "76.1", "77.0", "80.9", "84.2.1"):  # every version the dev extra admits builds
        if dev["setuptools"].specifier.contains(version):
            assert setuptools.specifier.contains(version), (version, str(dev["setuptools"]), str(setuptools))


def test_readme_names_everything_the_dev_extra_installs():
    """The quickstart lists what its second command installs; every requirement of the dev extra is on that list."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"The second installs what\s+the tests need \(([^)]*)\)", readme)
    assert match, "the README no longer lists what the dev extra installs"
    listed = {name.strip() for name in " ".join(match.group(1).split()).split(",")}
    wanted = {Requirement(text).name for text in pyproject()["project"]["optional-dependencies"]["dev"]}
    assert wanted <= listed, sorted(wanted - listed)


# --- the package's own files, wherever it is imported from ---

@pytest.fixture(scope="module")
def zipped_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package as a zip archive, the way Python imports it from a wheel put on PYTHONPATH (or from a zipapp)."""
    archive = tmp_path_factory.mktemp("zipped") / "tinygrad_edu.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out.write(path, path.relative_to(ROOT).as_posix())
    return archive


ZIP_CHECK = """
import sys, tinygrad_edu
assert tinygrad_edu.__file__.startswith(sys.argv[1]), tinygrad_edu.__file__
"""


def test_digits_load_from_a_zipped_package(zipped_package: Path, tmp_path: Path):
    from tinygrad_edu.data import load_digits

    code = ZIP_CHECK + ("from tinygrad_edu.data import load_digits\nd = load_digits()\n"
                        "print(repr(d.inputs.tolist()), repr(d.labels.tolist()), sep='\\n')")
    run = run_python(["-c", code, str(zipped_package)], tmp_path, zipped_package)
    assert run.returncode == 0, run.stderr[-2000:]
    here = load_digits()  # read from the files of the tree
    assert here.inputs.shape == (1797, 64)
    assert run.stdout.splitlines() == [repr(here.inputs.tolist()), repr(here.labels.tolist())]


def test_player_page_from_a_zipped_package(zipped_package: Path, tmp_path: Path):
    code = ZIP_CHECK + ("from tinygrad_edu import Value, viz\n"
                        "w = Value(0.5, label='w')\n"
                        "cost = ((w * 2.0).sigmoid() - 1.0) ** 2\n"
                        "print(viz.backprop_player(cost).save('player.html'))\n")
    run = run_python(["-c", code, str(zipped_package)], tmp_path, zipped_package)
    assert run.returncode == 0, run.stderr[-2000:]
    page = (tmp_path / "player.html").read_text(encoding="utf-8")
    template = (PACKAGE / "player.html").read_text(encoding="utf-8")
    assert page.startswith(template[:template.index("$")])  # the page is the bundled template, filled in
    assert "$title" not in page and "$steps" not in page


# --- the module the entry point names ---

def test_python_m_cli_module_runs_the_command_line(tmp_path: Path):
    import tinygrad_edu

    version = run_python(["-m", "tinygrad_edu.cli", "--version"], tmp_path, ROOT)
    assert version.returncode == 0 and version.stdout.split() == ["tinygrad-edu", tinygrad_edu.__version__], version
    nothing = run_python(["-m", "tinygrad_edu.cli"], tmp_path, ROOT)
    assert nothing.returncode == 2 and "required: COMMAND" in nothing.stderr, nothing


# --- a wheel built from the tree and installed (not editable), used from a folder outside the clone ---

@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the folder it is installed into with ``pip install --target``), or a skip without ``build``."""
    tree = copied_tree(tmp_path_factory, BUILD_SOURCES)
    dist = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), str(tree)],
                           capture_output=True, text=True, timeout=120, cwd=dist)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    target = tmp_path_factory.mktemp("site")
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                          "--target", str(target), str(wheel)], capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    return wheel, target


def test_wheel_built_directly_carries_every_file_of_the_package(installed_wheel: tuple[Path, Path]):
    """``pip install /path/to/clone`` builds the wheel from the tree, not from the sdist: it too has every file."""
    wheel, _ = installed_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert {"tinygrad_edu/player.html", "tinygrad_edu/datasets/digits.csv.gz", "tinygrad_edu/py.typed"} <= wanted
    assert wanted <= names, sorted(wanted - names)
    assert not {n for n in names if n.startswith(("tests/", "examples/", "benchmarks/", "scripts/"))}


def test_installed_wheel_trains_and_predicts_from_outside_the_clone(installed_wheel: tuple[Path, Path],
                                                                      tmp_path: Path):
    _, target = installed_wheel
    where = run_python(["-c", "import tinygrad_edu; print(tinygrad_edu.__file__)"], tmp_path, target)
    assert where.stdout.strip() == str(target / "tinygrad_edu" / "__init__.py"), where
    train = run_python(["-m", "tinygrad_edu", "train", "--data", "digits", "--hidden", "8", "--episodes", "1",
                        "-o", "digits.npz"], tmp_path, target)
    assert train.returncode == 0, train.stderr[-2000:]
    assert "1347 training digits" in train.stdout and "test accuracy" in train.stdout, train.stdout
    row = run_python(["-c", "from tinygrad_edu.data import load_digits\n"
                            "print(' '.join(map(repr, load_digits().inputs[0].tolist())))"], tmp_path, target)
    assert row.returncode == 0, row.stderr[-2000:]
    (tmp_path / "digit.txt").write_text(row.stdout, encoding="utf-8")
    predict = run_python(["-m", "tinygrad_edu", "predict", "digits.npz", "--inputs-file", "digit.txt"],
                         tmp_path, target)
    assert predict.returncode == 0, predict.stderr[-2000:]
    assert re.search(r"class [0-9]$", predict.stdout.strip()), predict.stdout
    assert len(predict.stdout.strip().splitlines()) == 1


def test_installed_wheel_runs_an_example_from_outside_the_clone(installed_wheel: tuple[Path, Path], tmp_path: Path):
    """An example copied out of the clone runs against the installed package, and what it prints agrees."""
    _, target = installed_wheel
    shutil.copy2(ROOT / "examples" / "forward_propagation.py", tmp_path)
    run = run_python(["forward_propagation.py"], tmp_path, target)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("they agree") == 2 and "each row agrees with the loops" in run.stdout, run.stdout
    assert "DISAGREE" not in run.stdout
