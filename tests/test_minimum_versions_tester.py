"""The lowest versions pyproject.toml allows: Python 3.10 and every dependency's lower bound.

A packager installs exactly the lower bounds (``pip install numpy==2.0.0 hypothesis==6.80.0 pytest==7.4 ...``) and
expects the package, its extras and its tests to work there.  What can be checked without installing old releases is
checked here, statically: the bounds in pyproject.toml against the releases known not to work, and the sources
against the Python and numpy APIs that appeared after the floors.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10: mypy (the dev extra) brings tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = ["tinygrad_edu", "tests", "examples", "scripts", "benchmarks", "notebooks"]


def pyproject() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)


def requirements(name: str) -> list[tuple[str, Requirement]]:
    """Every requirement on ``name``: in the dependencies ("") and in each extra."""
    table = pyproject()["project"]
    found = [("", Requirement(text)) for text in table["dependencies"]]
    found += [(extra, Requirement(text)) for extra, texts in table["optional-dependencies"].items() for text in texts]
    return [(extra, requirement) for extra, requirement in found if requirement.name == name]


def admitted(name: str, release: str) -> list[str]:
    """The requirements on ``name`` that let pip install ``release``."""
    found = requirements(name)
    assert found, f"pyproject.toml no longer names {name}"
    return [f"{extra or 'dependencies'}: {requirement}" for extra, requirement in found
            if requirement.specifier.contains(release)]


def floor(name: str) -> Version:
    """The lower bound of the package's own requirement on ``name``."""
    (_, requirement), = [(extra, r) for extra, r in requirements(name) if extra == ""]
    (bound,) = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    return bound


# --- the extras' lower bounds ------------------------------------------------------------------------------------

def test_pandas_floor_is_a_release_built_for_numpy_2():
    """pandas 2.2.2 is the first release built for numpy 2; with numpy 2.0.0, pandas 2.0.0 fails at import
    ("numpy.dtype size changed, may indicate binary incompatibility") and pip refuses pandas 2.2.1 (numpy < 2)."""
    assert floor("numpy") >= Version("2")
    assert admitted("pandas", "2.2.1") == []


def test_tqdm_floor_draws_the_bar_with_ipywidgets_8():
    """fit's progress bar is tqdm.auto whenever ipywidgets is importable; tqdm 4.60 to 4.64.0 give that bar an
    application/json representation, which JupyterLab shows instead of the widget with ipywidgets >= 8 (the jupyter
    extra's floor); tqdm 4.64.1 dropped it."""
    (_, widgets), = requirements("ipywidgets")
    assert not widgets.specifier.contains("7.8.5")  # the jupyter extra asks for ipywidgets 8: the case above
    assert admitted("tqdm", "4.64.0") == []


def test_tool_settings_target_the_oldest_python_supported():
    """ruff and mypy check for the oldest Python that requires-python admits (neither lets 3.11-only code pass)."""
    table = pyproject()
    oldest = SpecifierSet(table["project"]["requires-python"])
    assert oldest.contains("3.10.0") and not oldest.contains("3.9.99")
    assert table["tool"]["ruff"]["target-version"] == "py310"
    assert table["tool"]["mypy"]["python_version"] == "3.10"


# --- the sources against the floors ------------------------------------------------------------------------------

def sources() -> Iterator[tuple[str, str]]:
    """(name, Python source) of every module, test, example, script and notebook code cell of the checkout."""
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8")
        for path in sorted((ROOT / folder).rglob("*.ipynb")):
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            for number, cell in enumerate(cells):
                if cell["cell_type"] == "code":
                    code = "".join(cell["source"])
                    code = re.sub(r"(?m)^\s*[%!].*$", "", code)  # IPython's magics and shell lines
                    yield f"{path.relative_to(ROOT).as_posix()} cell {number}", code


def test_every_source_parses_with_python_3_10_grammar():
    """No match-less 3.11+ syntax (except*, PEP 695 type parameters, …) anywhere Python 3.10 runs."""
    with pytest.raises(SyntaxError):  # the check itself sees 3.11 syntax
        ast.parse("try:\n    pass\nexcept* ValueError:\n    pass\n", feature_version=(3, 10))
    failures = []
    names = 0
    for name, code in sources():
        names += 1
        try:
            ast.parse(code, filename=name, feature_version=(3, 10))
        except SyntaxError as error:
            failures.append(f"{name}:{error.lineno}: {error.msg}")
    assert names > 100 and failures == []


#: Standard library names that Python 3.10 lacks: module -> names (None: the module itself)
NEWER_STDLIB: dict[str, set[str] | None] = {
    "tomllib": None, "wsgiref.types": None,
    "typing": {"Self", "LiteralString", "Never", "assert_never", "assert_type", "reveal_type", "Required",
               "NotRequired", "dataclass_transform", "TypeVarTuple", "Unpack", "get_overloads", "clear_overloads",
               "override", "TypeAliasType"},
    "datetime": {"UTC"}, "enum": {"StrEnum", "verify", "member", "nonmember", "global_enum", "ReprEnum"},
    "asyncio": {"TaskGroup", "timeout", "Runner"}, "contextlib": {"chdir"}, "hashlib": {"file_digest"},
    "math": {"cbrt", "exp2"}, "operator": {"call"}, "itertools": {"batched"}, "inspect": {"getmembers_static"},
    "logging": {"getLevelNamesMapping"}, "sys": {"exception"},
}
NEWER_BUILTINS = {"ExceptionGroup", "BaseExceptionGroup", "EncodingWarning"}
NEWER_METHODS = {"add_note"}  # BaseException.add_note

#: numpy functions that appeared after 2.0 (numpy.<name>: the release that brought it)
NEWER_NUMPY = {"unstack": "2.1", "cumulative_sum": "2.1", "cumulative_prod": "2.1", "matvec": "2.2", "vecmat": "2.2"}


def guarded(tree: ast.AST) -> set[int]:
    """ids of the nodes under a ``try`` that catches ImportError/AttributeError or an ``if sys.version_info``."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        body: list[ast.stmt] = []
        if isinstance(node, ast.Try) and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError", "AttributeError")
                for h in node.handlers):
            body = node.body
        elif isinstance(node, ast.If) and "version_info" in ast.unparse(node.test):
            body = node.body + node.orelse
        inside |= {id(child) for statement in body for child in ast.walk(statement)}
    return inside


def newer_than_the_floors(name: str, code: str, numpy_floor: Version) -> list[str]:
    """Where ``code`` uses a Python 3.11+ standard library name or a numpy function newer than ``numpy_floor``."""
    tree = ast.parse(code)
    skip = guarded(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if NEWER_STDLIB.get(a.name, ()) is None]
        elif isinstance(node, ast.ImportFrom) and node.module in NEWER_STDLIB:
            newer = NEWER_STDLIB[node.module]
            found += [f"{where}: from {node.module} import {a.name}" for a in node.names
                      if newer is None or a.name in newer]
        elif isinstance(node, ast.Name) and node.id in NEWER_BUILTINS:
            found.append(f"{where}: {node.id}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, attribute = node.value.id, node.attr
            if attribute in (NEWER_STDLIB.get(module) or ()):
                found.append(f"{where}: {module}.{attribute}")
            if module in ("np", "numpy") and Version(NEWER_NUMPY.get(attribute, "0")) > numpy_floor:
                found.append(f"{where}: numpy.{attribute} (numpy {NEWER_NUMPY[attribute]})")
        if isinstance(node, ast.Attribute) and node.attr in NEWER_METHODS:
            found.append(f"{where}: .{node.attr}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "clip"
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy")
                and {k.arg for k in node.keywords} & {"min", "max"} and numpy_floor < Version("2.1")):
            found.append(f"{where}: numpy.clip(min=, max=) (numpy 2.1)")
    return found


def test_the_check_finds_what_python_3_10_and_numpy_2_0_lack():
    code = ("import tomllib\nfrom typing import Self\nimport datetime\nimport numpy as np\n"
            "datetime.UTC\nraise ExceptionGroup('x', [])\nnp.cumulative_sum([1])\nnp.clip(x, min=0, max=1)\n"
            "e.add_note('x')\n"
            "try:\n    import tomllib\nexcept ImportError:\n    pass\n")
    found = newer_than_the_floors("code", code, Version("2.0"))
    assert sorted(int(line.split(":")[1]) for line in found) == [1, 2, 5, 6, 7, 8, 9], found
    assert newer_than_the_floors("code", "import numpy as np\nnp.cumulative_sum([1])\n", Version("2.1")) == []


def test_no_source_uses_what_the_oldest_python_and_numpy_lack():
    """Python 3.10 (requires-python) and numpy's floor: a name either lacks is an AttributeError or ImportError
    there, found only by whoever installs the lowest versions."""
    numpy_floor = floor("numpy")
    found = [line for name, code in sources() if not name.endswith("test_minimum_versions_tester.py")
             for line in newer_than_the_floors(name, code, numpy_floor)]
    assert found == []
