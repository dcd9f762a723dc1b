"""README.md's code runs as written (every ```python block is executed, and test functions it defines are called),
and what it names exists: links, pictures and files, the names of the seed-to-code table, quoted signatures."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import shutil
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_readme_starts_with_a_quickstart_of_two_commands():
    text = README.read_text(encoding="utf-8")
    quickstart = re.search(r"^## Quickstart\n+```bash\n(.*?)```", text, re.MULTILINE | re.DOTALL)
    assert quickstart, "README.md has no Quickstart section with a bash block"
    commands = [line for line in quickstart.group(1).splitlines() if line.strip()]
    assert len(commands) == 2 and "demo" in commands[0] and "pytest" in commands[1]
    assert re.findall(r"^## (.+)$", text, re.MULTILINE)[0] == "Quickstart"  # the README starts with it


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block {i + 1}" for i in range(len(BLOCKS))])
def test_readme_python_block_runs(code, tmp_path, monkeypatch):
    if "viz.render" in code and shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.chdir(tmp_path)  # blocks may write files
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, f"README.md {code.splitlines()[0]!r}", "exec"), namespace)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value):
            value()


ROOT = README.parent
TEXT = README.read_text(encoding="utf-8")
#: Modules whose functions the README names without a module prefix (``xsquared(...)``, ``grad(...)``).
BARE_NAME_MODULES = ["data", "autodiff", "training", "nn", "optim", "calculus", "viz", "plots", "losses", "testing"]


def _heading_anchors(text: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
            for heading in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}


def _resolve(dotted: str, modules: list[str]) -> object:
    """``tinygrad_edu.<dotted>``, or ``<dotted>`` found in one of ``modules``; AttributeError if nowhere."""
    for prefix in ["", *(f"{module}." for module in modules)]:
        parts = f"{prefix}{dotted}".split(".")
        try:
            found: object = importlib.import_module(f"tinygrad_edu.{parts[0]}")
        except ImportError:
            found = getattr(importlib.import_module("tinygrad_edu"), parts[0], None)
        for part in parts[1:]:
            found = getattr(found, part, None)
        if found is not None:
            return found
    raise AttributeError(f"README.md names {dotted!r}, which is not in tinygrad_edu (nor in {modules})")


def test_readme_links_and_named_files_exist():
    """Every relative link and picture, every #anchor and every repository path in backticks points at something."""
    anchors = _heading_anchors(TEXT)
    for target in re.findall(r"\]\(([^)\s]+)\)", TEXT):
        if target.startswith("#"):
            assert target[1:] in anchors, f"README.md links to {target}, which is no heading"
        elif not re.match(r"https?://", target):
            assert (ROOT / target.split("#")[0]).exists(), f"README.md links to {target}, which does not exist"
    folders = "examples|benchmarks|scripts|tests|tinygrad_edu|docs|notebooks|\\.ci"
    for path in re.findall(rf"`(?:python )?((?:{folders})/[\w./-]*)", TEXT):
        assert (ROOT / path).exists(), f"README.md names {path}, which does not exist"


def test_readme_seed_map_names_exist():
    """Each name in the table "From the seed to the code" exists: modules, functions, classes, examples."""
    table = re.search(r"^## From the seed to the code\n(.*?)\n\n", TEXT, re.MULTILINE | re.DOTALL)
    assert table, "README.md has no table 'From the seed to the code'"
    for row in [line for line in table.group(1).splitlines() if line.startswith("|")][2:]:  # after the header
        modules: list[str] = []  # the modules named so far in this row, for the names that follow them
        for span in re.findall(r"`([^`]+)`", row.split("|")[3]):
            if span.startswith("python -m"):
                continue
            if "/" in span:
                assert (ROOT / span).exists(), f"README.md's seed table names {span}, which does not exist"
                continue
            call = re.fullmatch(r"(\w+)\(\.\.\., (\w+)=\)", span)  # fit(..., tol=)
            if call:
                parameters = inspect.signature(_resolve(call.group(1), BARE_NAME_MODULES)).parameters
                assert call.group(2) in parameters, f"README.md's seed table: {call.group(1)} has no {call.group(2)}="
                continue
            for name in span.split():
                found = _resolve(name, modules + BARE_NAME_MODULES)
                if inspect.ismodule(found):
                    modules.insert(0, name)
                elif "." in name:
                    modules.insert(0, name.split(".")[0])


def test_readme_signatures_match_the_code():
    """A list item that opens with a call, ``- `load_mnist(root, kind="train", download=False)`: ...``, quotes the
    function's signature: every argument it names exists, and every default it writes is the function's."""
    for dotted, arguments in re.findall(r"^\s*- `([\w.]+)\(([^`]*)\)`", TEXT, re.MULTILINE):
        parameters = inspect.signature(_resolve(dotted, BARE_NAME_MODULES)).parameters
        for argument in filter(None, (part.strip() for part in arguments.split(","))):
            name, _, default = argument.partition("=")
            assert name in parameters, f"README.md: {dotted} has no argument {name!r}"
            try:
                written = ast.literal_eval(default) if default else inspect.Parameter.empty
            except ValueError:
                continue  # a symbol such as damping=λ, not a default
            actual = parameters[name].default
            assert written is inspect.Parameter.empty or written == actual, \
                f"README.md: {dotted}({name}={default}) but its default is {actual!r}"
