"""Each module's API is its ``__all__``: everything public it defines is listed, everything listed exists, and
``dir(module)`` / ``from module import *`` show the API, not ``np``, ``math`` or private helpers."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ["training", "optim", "optim_state", "data", "seeds", "demo", "cli", "nn", "losses", "serialization", "files",
           "autodiff", "calculus", "viz", "plots", "player", "dependency_tree", "graph", "notation", "checks"]


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_definitions(name):
    module = importlib.import_module(f"tinygrad_edu.{name}")
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__), "a name is listed twice"
    assert all(hasattr(module, item) for item in exported)
    defined = {item for item, value in vars(module).items()
               if not item.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
               and value.__module__ == module.__name__}
    assert defined - exported == set(), f"public but not in __all__: {sorted(defined - exported)}"


@pytest.mark.parametrize("name", MODULES)
def test_dir_and_star_import_show_only_the_api(name):
    module = importlib.import_module(f"tinygrad_edu.{name}")
    assert dir(module) == sorted(module.__all__)
    assert "np" not in dir(module)
    namespace: dict = {}
    exec(f"from tinygrad_edu.{name} import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(module.__all__)
