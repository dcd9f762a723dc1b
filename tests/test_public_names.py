"""``__all__`` of the modules that make and read models, costs, data and the command line: every public function
and class they define is listed, nothing they merely import (``np``, ``os``, ``zipfile``) is."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest

from tinygrad_edu import cli, data, files, losses, nn, serialization


@pytest.mark.parametrize("module", [nn, losses, data, cli, serialization, files], ids=lambda m: m.__name__)
def test_all_lists_what_the_module_defines_and_nothing_it_imports(module: ModuleType) -> None:
    defined = {name for name, obj in vars(module).items()
               if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
               and obj.__module__ == module.__name__}
    assert defined - set(module.__all__) == set(), "defined but not in __all__"
    assert [name for name in module.__all__ if not hasattr(module, name)] == []
    imported = {name for name, obj in vars(module).items() if inspect.ismodule(obj)}
    assert imported & set(module.__all__) == set()
    namespace: dict = {}
    exec(f"from {module.__name__} import *", namespace)  # noqa: S102 - the star import is what is tested
    assert set(namespace) - {"__builtins__"} == set(module.__all__)
