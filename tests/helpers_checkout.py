"""The checkout beyond the package, as the tests use it: a copy of its files to build the archives from, and the
scripts of ``benchmarks/`` imported as modules.  A helper module, not a test module: no test module imports another.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"


def copied_tree(tmp_path_factory: pytest.TempPathFactory, names: list[str]) -> Path:
    """A copy of the checkout's ``names`` to build from, or a skip where ``build`` or a setuptools new enough to
    build offline (77, the dev extra's) is missing."""
    pytest.importorskip("build")
    setuptools = pytest.importorskip("setuptools")
    if Version(setuptools.__version__) < Version("77"):
        pytest.skip("building offline needs setuptools >= 77 in this environment (the dev extra)")
    tree = tmp_path_factory.mktemp("tree")
    for name in names:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, tree / name)
    return tree


def import_benchmark(name: str) -> ModuleType:
    """A benchmark script as a module, without PyTorch (its optional columns are not needed by most tests, and it
    takes seconds to import; a test that needs PyTorch's columns hands the module PyTorch itself)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    blocked = "torch" not in sys.modules
    if blocked:
        sys.modules["torch"] = None  # type: ignore[assignment]  # ``import torch`` raises ImportError
    try:
        return importlib.import_module(name)
    finally:
        if blocked:
            del sys.modules["torch"]
