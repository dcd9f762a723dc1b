"""The package as Python's introspection sees it: the public functions and classes of modules, the object a debugger
shows after its ``__init__`` raised, and the function calls a piece of work makes.  A helper module, not a test
module: no test module imports another.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable
from typing import Any

import pytest


def public_callables(modules: list[str]) -> dict[str, Any]:
    """``module.name`` → each function and class listed in the modules' ``__all__`` (each object once)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    for name in modules:
        module = importlib.import_module(name)
        for item in module.__all__:
            obj = getattr(module, item)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and id(obj) not in seen:
                seen.add(id(obj))
                found[f"{name}.{item}"] = obj
    return found


def half_built(make: Callable[[], Any], error: type[BaseException] | tuple[type[BaseException], ...],
               cls: type) -> Any:
    """The object whose ``__init__`` raised ``error``, as a debugger shows it: ``self`` in the frame that raised."""
    with pytest.raises(error) as caught:
        make()
    found, frame = None, caught.tb
    while frame is not None:  # the innermost __init__ of a ``cls``: the object the caller never got
        candidate = frame.tb_frame.f_locals.get("self")
        found = candidate if isinstance(candidate, cls) else found
        frame = frame.tb_next
    assert found is not None
    return found


def count_calls(run: Callable[[], Any]) -> int:
    """How many function calls ``run()`` makes: Python's (generators' steps included) and built-in ones."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls
