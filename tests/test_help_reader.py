"""A reader who learns the API from help() and tab completion (IPython, Jupyter): what pydoc's plain text shows of
the package, its modules and its main classes, and what dir() lists.

help(cls) is read as a reader reads it: the entries of each section ("Methods defined here", "Data descriptors
defined here", …) and the first line of each entry's docstring, parsed from ``pydoc.render_doc``'s plain text.
"""

import importlib
import pydoc
import re
import types

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import History, Value, checks, optim
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge
from tinygrad_edu.nn import MLP, Layer, Module, Network
from tinygrad_edu.player import BackpropPlayer

MODULES = ["engine", "nn", "losses", "optim", "training", "data", "viz", "plots", "calculus", "autodiff", "testing",
           "functional"]
OPTIMIZERS = [optim.GradientDescent, optim.Armijo, optim.RandomSearch, optim.SGD, optim.Adam, optim.Newton]
CLASSES = [Value, Module, Layer, MLP, Network, History, DependencyTree, BackpropPlayer, *OPTIMIZERS]
_HEADING = re.compile(r"(Methods|Class methods|Static methods|Readonly properties|Data descriptors|"
                      r"Data and other attributes) (defined here|inherited from \S+):")


def _help(obj: object) -> str:
    return pydoc.render_doc(obj, renderer=pydoc.plaintext)


def _entries(cls: type) -> dict[str, dict[str, str]]:
    """help(cls)'s sections, each {entry name: first line of its docstring ('' for none)}."""
    sections: dict[str, dict[str, str]] = {}
    entries: dict[str, str] | None = None
    name = None
    for line in _help(cls).splitlines():
        if not line.startswith(" |  "):
            continue
        body = line[4:]
        if body.startswith("-" * 10):
            entries = None
        elif _HEADING.fullmatch(body):
            entries = sections.setdefault(body[:-1], {})
        elif entries is not None and body and not body.startswith(" "):
            name = re.match(r"\w+", body).group(0)  # type: ignore[union-attr]
            entries[name] = ""
        elif entries is not None and name in entries and not entries[name] and body.startswith("    ") \
                and body.strip():
            entries[name] = body.strip()
    return sections


def _absent(cls: type) -> set[str]:
    return {name for name in dir(cls) if isinstance(getattr(cls, name, None), checks.Absent)}


# ---- defects ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda cls: cls.__name__)
def test_help_says_what_each_optimizer_setting_is(cls: type) -> None:
    own = _entries(cls)["Data descriptors defined here"]
    for name in cls._settings:  # type: ignore[attr-defined]
        assert own[name].startswith("A setting"), (name, own[name])
    if cls is optim.Armijo:
        assert "> 0 and < 1" in own["sigma"]  # the bounds the constructor checks
    if cls is optim.Adam:
        assert "(β₁, β₂)" in own["betas"]


def test_help_says_what_value_grad_label_and_requires_grad_are() -> None:
    own = _entries(Value)["Data descriptors defined here"]
    assert own["grad"].startswith("The derivative of the output")
    assert own["requires_grad"].startswith("Whether backward() gives this Value a gradient")
    assert own["label"].startswith("The name")
    assert not any(doc.startswith("Not an attribute") for doc in (own["grad"], own["requires_grad"], own["label"]))


def test_dir_of_engine_lists_its_api() -> None:
    engine = importlib.import_module("tinygrad_edu.engine")
    assert dir(engine) == sorted(engine.__all__)
    assert not any(isinstance(getattr(engine, name), types.ModuleType) for name in dir(engine))


@pytest.mark.parametrize(("cls", "section", "name"), [(Module, "Methods defined here", "forward"),
                                                       (TreeEdge, "Readonly properties defined here", "symbol")])
def test_help_says_what_forward_and_symbol_are(cls: type, section: str, name: str) -> None:
    assert _entries(cls)[section][name]


def test_the_package_docstring_names_the_seed() -> None:
    first = _help(tinygrad_edu).split("FILE")[0]
    assert "seed" in first and "Teutschbein" in first


# ---- guards -------------------------------------------------------------------------------------------------------

def test_symbol_docstring_matches_what_it_gives() -> None:
    # (the docstring's example is the symbol's own form)
    assert TreeEdge("W^2", "z^2", 1.0).symbol == "∂z²/∂W²"


@pytest.mark.parametrize("module", MODULES)
def test_each_module_docstring_names_the_seed(module: str) -> None:
    doc = importlib.import_module(f"tinygrad_edu.{module}").__doc__ or ""
    assert "seed" in doc


@pytest.mark.parametrize("obj", ["tinygrad_edu", *(f"tinygrad_edu.{m}" for m in MODULES), *CLASSES],
                         ids=lambda obj: obj if isinstance(obj, str) else obj.__name__)
def test_help_renders_without_a_traceback_or_a_memory_address_in_the_settings(obj: object) -> None:
    text = _help(importlib.import_module(obj) if isinstance(obj, str) else obj)
    assert "Traceback" not in text
    # an optimizer's settings, a Value's slots: readable defaults, no "<... object at 0x…>"
    if isinstance(obj, type):
        assert not re.search(r"= <[\w.]+ object at 0x", text)


@pytest.mark.parametrize("cls", [Value, Module, History, *OPTIMIZERS], ids=lambda cls: cls.__name__)
def test_other_libraries_names_are_marked_in_help_and_left_out_of_dir(cls: type) -> None:
    absent = _absent(cls)
    assert absent  # (each of these classes has some: PyTorch's lr, Keras's fit, …)
    marked = {name for section in _entries(cls).values() for name, doc in section.items()
              if re.match(r"Not an attribute here \((another library's name|the seed's name)\): ", doc)}
    assert marked == {name for name in absent if not name.startswith("_")}  # all marked, no real one taken for one
    makers = {Value: lambda: Value(np.ones(2)), Module: lambda: MLP([1, 2, 1], rng=0), History: History,
              optim.GradientDescent: lambda: cls([Value(np.ones(2))], learning_rate=0.1),
              optim.SGD: lambda: cls([Value(np.ones(2))], learning_rate=0.1)}
    instance = makers.get(cls, lambda: cls([Value(np.ones(2))]))()
    assert not absent & set(dir(instance))
    name = sorted(absent)[0]
    with pytest.raises(AttributeError, match=re.escape(getattr(cls, name).advice[:30])):
        getattr(instance, name)


def test_help_of_the_optimizer_settings_does_not_change_what_is_checked() -> None:
    opt = optim.Armijo([Value(np.ones(2))])
    with pytest.raises(ValueError, match="Armijo: sigma must lie in"):
        opt.sigma = 1.0
    search = optim.RandomSearch([Value(np.ones(2))], rng=3)
    assert isinstance(search.rng, np.random.Generator)
    assert search.rng.integers(10**9) == np.random.default_rng(3).integers(10**9)
