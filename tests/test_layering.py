"""The layering rule of the developers' guide, checked on the source: nothing lower imports anything higher, and
no import cycles.  Imports are read with ``ast``, at module level and inside functions alike (a lazy import is
still a dependency)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from helpers_layering import LAYERS

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_edu"



def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, module: str, modules: set[str], packages: set[str],
             package: str) -> list[tuple[str, int, bool]]:
    """(imported module of the package, line, only under ``if TYPE_CHECKING:``) for every import in ``tree``."""
    found: list[tuple[str, int, bool]] = []
    here = [package] + ([] if module == "__init__" else module.split("."))  # the module's dotted name
    if module not in packages:
        here.pop()  # relative imports start from the package that holds the module

    def resolve(dotted: str) -> str | None:
        """The package's module that ``dotted`` names, or is a name in (None: not this package)."""
        if dotted != package and not dotted.startswith(package + "."):
            return None
        inner = dotted[len(package) + 1:]
        while inner and inner not in modules:  # pkg.testing.check_gradients -> testing, pkg.Value -> __init__
            inner = inner.rpartition(".")[0]
        return inner or "__init__"

    def visit(node: ast.AST, typing_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing_only)
            return
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[:len(here) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names]
        for name in names:
            imported = resolve(name)
            if imported is not None:
                found.append((imported, node.lineno, typing_only))
        for child in ast.iter_child_nodes(node):
            visit(child, typing_only)

    visit(tree, False)
    return found


def import_graph(root: Path) -> dict[str, list[tuple[str, int, bool]]]:
    """Each module of the package at ``root`` and the package modules it imports."""
    files = {_module_name(path, root) or "__init__": path for path in sorted(root.rglob("*.py"))}
    packages = {name for name, path in files.items() if path.name == "__init__.py"}
    return {name: [(imported, line, typing_only)
                   for imported, line, typing_only in _imports(ast.parse(path.read_text(), str(path)), name,
                                                               set(files), packages, root.name)
                   if imported != name]
            for name, path in files.items()}


def upward_imports(graph: dict[str, list[tuple[str, int, bool]]], layers: dict[str, int]) -> list[str]:
    """The imports that break the layering, and the modules that have no layer yet."""
    problems = [f"{name} has no layer: add it to LAYERS in tests/helpers_layering.py" for name in graph
                if name not in layers]
    for name, imports in graph.items():
        for imported, line, _ in imports:
            if name in layers and imported in layers and layers[imported] > layers[name]:
                problems.append(f"{name} (layer {layers[name]}) imports {imported} (layer {layers[imported]}) "
                                f"on line {line}")
    return problems


def import_cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or through others (imports that run only under
    ``TYPE_CHECKING`` do not count: they never execute)."""
    edges = {name: sorted({imported for imported, _, typing_only in imports if not typing_only})
             for name, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, []):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(edges):
        if name not in index:
            connect(name)
    return sorted(cycles)


def test_nothing_imports_a_higher_layer():
    assert upward_imports(import_graph(PACKAGE), LAYERS) == []


def test_no_import_cycles():
    assert import_cycles(import_graph(PACKAGE)) == []


# --- the checker itself finds what it should ---------------------------------------------------------------

def _dotted(node: ast.expr) -> str:
    """``a.b.c`` for a chain of attributes on a name, else ""."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def private_uses(root: Path) -> list[str]:
    """Where a module of the package ``root`` uses another's _private name: ``from pkg.x import _y``, ``x._y`` (by
    the module's name or an alias it was imported as) or ``pkg.x._y``."""
    package, modules = root.name, {path.stem for path in root.rglob("*.py")}
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        ours = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and (
            node.level or (node.module or "").startswith(package))]
        aliases = {alias.asname for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
                   if alias.asname and alias.name.startswith(package)}
        aliases |= {alias.asname for node in ours for alias in node.names if alias.asname}
        uses = [(node.lineno, alias.name) for node in ours for alias in node.names]
        uses += [(node.lineno, node.attr) for node in ast.walk(tree) if isinstance(node, ast.Attribute) and (
            (name := _dotted(node.value)) in modules | aliases or name == package or name.startswith(package + "."))]
        found += [f"{path.name}:{line} {name}" for line, name in uses
                  if name.startswith("_") and not name.startswith("__")]
    return found


def test_no_module_uses_another_modules_private_names():
    """A module that reaches into another's _private helper leans on what that module may change at will."""
    assert not private_uses(PACKAGE)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def test_the_checker_finds_upward_lazy_relative_and_unplaced_imports(tmp_path):
    root = _package(tmp_path, {
        "low.py": "import numpy\n\ndef later():\n    from pkg import high\n",
        "mid.py": "from .low import thing\nfrom . import high as h\n",
        "high.py": "import pkg.low\nfrom pkg.sub import deep\n",
        "sub/__init__.py": "from ..low import x\n",
        "sub/deep.py": "from .. import mid\n",
        "stray.py": "",
    })
    graph = import_graph(root)
    layers = {"__init__": 0, "low": 0, "mid": 1, "high": 2, "sub": 0, "sub.deep": 1}
    assert sorted(upward_imports(graph, layers)) == [
        "low (layer 0) imports high (layer 2) on line 4",
        "mid (layer 1) imports high (layer 2) on line 2",
        "stray has no layer: add it to LAYERS in tests/helpers_layering.py",
    ]
    assert [imported for imported, _, _ in graph["sub"]] == ["low"]
    assert [imported for imported, _, _ in graph["sub.deep"]] == ["mid"]
    assert [imported for imported, _, _ in graph["high"]] == ["low", "sub.deep"]


def test_the_checker_finds_cycles_but_not_typing_only_ones(tmp_path):
    root = _package(tmp_path, {
        "a.py": "from pkg import b\n",
        "b.py": "def f():\n    from pkg.c import g\n",
        "c.py": "import pkg.a\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import e\n",
        "e.py": "from pkg import d\n",
    })
    assert import_cycles(import_graph(root)) == [["a", "b", "c"]]


def test_the_private_name_checker_follows_imports_aliases_and_dotted_paths(tmp_path):
    root = _package(tmp_path, {
        "a.py": "def _helper():\n    pass\n",
        "b.py": """\
            import pkg.a
            import pkg.a as m
            from pkg import a as alias
            from .a import _helper
            alias._helper()
            pkg.a._helper()
            m._helper()
            a._helper()
            """,
        "c.py": "thing = object()\nthing._fine = 1\nfrom pkg import __version__\n",
    })
    assert private_uses(root) == ["b.py:4 _helper", "b.py:5 _helper", "b.py:6 _helper", "b.py:7 _helper",
                                  "b.py:8 _helper"]
