"""Packaging and Python 3.10: what pyproject.toml promises, what the wheel and the source archive carry.

The README promises Python 3.10 or newer, and the package needs numpy 2.  An extra whose lower bound admits a release
built only for numpy 1 installs without complaint and then fails at import (or makes pip take numpy back below the
package's own floor); these tests read the bounds from pyproject.toml and hold them against the newest release of
each such dependency that cannot run with numpy 2.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from helpers_checkout import copied_tree
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

try:
    import tomllib
except ImportError:  # Python 3.10: mypy (the dev extra) brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

#: The newest release of each dependency built only against numpy 1: it cannot run with numpy 2.  matplotlib 3.7.0
#: fails at import ("numpy.core.multiarray failed to import") and 3.8.3 requires numpy < 2 (pip then takes numpy back
#: to 1.26), 3.8.4 is the first built for numpy 2; torch 2.2.2 cannot turn arrays into tensors under numpy 2
#: ("Numpy is not available"), 2.3.0 is the first built for it.
LAST_NUMPY1_ONLY = {"matplotlib": "3.8.3", "torch": "2.2.2"}


def project() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def requirements(name: str) -> list[tuple[str, Requirement]]:
    """Every requirement on ``name``: in the dependencies ("") and in each extra."""
    table = project()
    found = [("", Requirement(text)) for text in table["dependencies"]]
    found += [(extra, Requirement(text)) for extra, texts in table["optional-dependencies"].items() for text in texts]
    return [(extra, requirement) for extra, requirement in found if requirement.name == name]


def numpy_floor_is_2() -> bool:
    (_, numpy), = requirements("numpy")
    return not numpy.specifier.contains("1.26.4")


def admitted_numpy1_builds(name: str) -> list[str]:
    assert numpy_floor_is_2()
    found = requirements(name)
    assert found, f"pyproject.toml no longer names {name}"
    last = LAST_NUMPY1_ONLY[name]
    return [f"{extra or 'dependencies'}: {requirement}" for extra, requirement in found
            if requirement.specifier.contains(last)]


def test_matplotlib_floor_is_a_release_built_for_numpy_2():
    assert admitted_numpy1_builds("matplotlib") == []


def test_torch_floor_is_a_release_built_for_numpy_2():
    assert admitted_numpy1_builds("torch") == []


def test_classifiers_name_the_oldest_python_supported():
    table = project()
    floor = SpecifierSet(table["requires-python"])
    versions = [c.rsplit("::", 1)[1].strip() for c in table["classifiers"]
                if c.startswith("Programming Language :: Python :: 3.")]
    assert "3.10" in versions
    assert all(floor.contains(f"{version}.0") for version in versions), versions  # none outside requires-python
    assert not floor.contains("3.9.99")


def test_expressions_without_hypothesis_says_what_to_install():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import tinygrad_edu.testing.expressions\n"
            "except ImportError as error:\n    print(type(error).__name__, error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
    message = run.stdout
    assert "hypothesis" in message and "testing" in message and "pip install" in message, message


def test_strategies_without_hypothesis_says_what_to_install():
    """The module the README names already says it (kept: the fix above must not change it)."""
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import tinygrad_edu.testing.strategies\n"
            "except ImportError as error:\n    print(error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "tinygrad_edu.testing.strategies needs hypothesis" in run.stdout, run.stdout + run.stderr


def test_every_extra_the_readme_names_exists():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    extras = set(project()["optional-dependencies"])
    named = {name for group in re.findall(r'"\.\[([a-z,]+)\]"', readme) for name in group.split(",")}
    named |= set(re.findall(r"`([a-z]+)` extra", readme))
    assert named and named <= extras, named - extras


# --- the archives, built the way `python -m build` builds them (sdist first, the wheel from the sdist) ---

SOURCES = ["tinygrad_edu", "tests", "examples", "notebooks", "docs", "scripts", "benchmarks", ".ci",
           "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"]


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(the tree copied, the sdist, the wheel), or a skip where no setuptools new enough to build offline."""
    tree = copied_tree(tmp_path_factory, SOURCES)
    dist = tmp_path_factory.mktemp("dist")
    run = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "-o", str(dist), str(tree)],
                         capture_output=True, text=True, timeout=300, cwd=dist)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    return tree, sdist, wheel


def test_wheel_carries_the_player_the_datasets_and_py_typed(archives: tuple[Path, Path, Path]):
    tree, _, wheel = archives
    names = set(zipfile.ZipFile(wheel).namelist())
    package = tree / "tinygrad_edu"
    wanted = {f"tinygrad_edu/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert {"tinygrad_edu/player.html", "tinygrad_edu/py.typed", "tinygrad_edu/datasets/digits.csv.gz"} <= wanted
    assert wanted <= names, sorted(wanted - names)


def test_wheel_metadata(archives: tuple[Path, Path, Path]):
    _, _, wheel = archives
    with zipfile.ZipFile(wheel) as archive:
        info = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(info).decode()
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode()
    import tinygrad_edu

    assert f"\nVersion: {tinygrad_edu.__version__}\n" in metadata
    assert "\nRequires-Python: >=3.10\n" in metadata and "\nLicense-Expression: MIT\n" in metadata
    assert "tinygrad-edu = tinygrad_edu.cli:main" in entry_points
    for extra in project()["optional-dependencies"]:
        assert f"\nProvides-Extra: {extra}\n" in metadata


def test_sdist_carries_what_the_tests_read(archives: tuple[Path, Path, Path]):
    tree, sdist, _ = archives
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    wanted = {p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file()}
    assert wanted <= names, sorted(wanted - names)
