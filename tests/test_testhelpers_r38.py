"""A maintainer of the test suite: no test module is also a library.

37 test modules imported helpers from other test modules (``from test_gradients import _central_difference``), so
an edit to one test file broke others, running one file alone ran another's module-level work, and a helper copied
instead of imported drifted apart from its original.  The helpers live in helper modules now, one concern each
(tests/helpers_*.py, tests/stateful_shadow.py), never named ``test_*.py``, shipped in the source archive by
MANIFEST.in like the tests; the copies of the same helper in several test files are gone.  The guards below read
the sources with ``ast`` (importing a test module would run it).
"""

from __future__ import annotations

import ast
import fnmatch
import functools
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
TEST_MODULES = {path.stem for path in TESTS.glob("test_*.py")}
HELPER_MODULES = sorted([*TESTS.glob("helpers_*.py"), TESTS / "stateful_shadow.py"])
#: The calls that import a module by its name or its file.
IMPORTING_CALLS = {"import_module", "__import__", "spec_from_file_location", "run_path", "SourceFileLoader"}
#: What a file that imports a test module holds somewhere (the files without it are not parsed: parsing all 400 of
#: them takes seconds).
IMPORT_HINT = re.compile(r"\b(?:from|import)\s+test_\w|\bimport\b[^\n]*,\s*test_\w|" + "|".join(IMPORTING_CALLS))
CODE_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(test_\w+)[ \t]+import|import[ \t]+(test_\w+))", re.MULTILINE)


@functools.cache
def _tree(path: Path) -> ast.Module:
    """The file parsed (once: the guards read every test file); not to be changed by its readers."""
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _named_test_modules(strings: list[str]) -> set[str]:
    """The test modules these strings name: ``test_x``, ``test_x.py`` or a path ending in one."""
    named = set()
    for text in strings:
        match = re.fullmatch(r"(?:.*/)?(test_\w+?)(?:\.py)?", text)
        if match and match.group(1) in TEST_MODULES:
            named.add(match.group(1))
    return named


def imported_test_modules(path: Path) -> set[str]:
    """The test modules that the file at ``path`` imports: by an import statement (at module level or inside a
    function), by importlib or runpy naming one, or in the code of a string it runs in another process (a module
    running itself there is not counted)."""
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names} & TEST_MODULES
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module.split(".")[0]} & TEST_MODULES
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in IMPORTING_CALLS:
                strings = [n.value for argument in [*node.args, *node.keywords] for n in ast.walk(argument)
                           if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                found |= _named_test_modules(strings)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {a or b for a, b in CODE_IMPORT.findall(node.value)} & (TEST_MODULES - {path.stem})
    return found


def test_no_test_module_or_helper_imports_a_test_module() -> None:
    importers = {path.name: sorted(imported_test_modules(path)) for path in sorted(TESTS.glob("*.py"))
                 if IMPORT_HINT.search(path.read_text(encoding="utf-8"))}
    assert {name: modules for name, modules in importers.items() if modules} == {}


def test_the_scan_sees_every_way_a_test_module_was_imported(tmp_path: Path) -> None:
    """(the guard above can fail) each way the suite used to import a test module is found."""
    sources = {  # (written with {} for "test_": this file's own strings import nothing)
        "statement": "from {}gradients import _central_difference\n",
        "inside a function": "def f():\n    import {}data\n    return {}data.idx_bytes\n",
        "importlib": "import importlib\nm = importlib.import_module('{}numerics_mpmath')\n",
        "a file": "import importlib.util\nspec = importlib.util.spec_from_file_location('x', ROOT / 'tests' / "
                  "'{}layering.py')\n",
        "another process": "CODE = '''\n    import sys\n    from {}player import _text_of\n'''\n",
    }
    expected = {"statement": {"test_gradients"}, "inside a function": {"test_data"},
                "importlib": {"test_numerics_mpmath"}, "a file": {"test_layering"},
                "another process": {"test_player"}}
    for kind, source in sources.items():
        path = tmp_path / f"test_{kind.replace(' ', '_')}.py"
        path.write_text(source.replace("{}", "test_"), encoding="utf-8")
        assert imported_test_modules(path) == expected[kind], kind
    itself = tmp_path / "test_player.py"
    itself.write_text("CODE = 'from {}player import _outputs'\n".replace("{}", "test_"), encoding="utf-8")
    assert imported_test_modules(itself) == set()  # a module run again in a fresh process imports no other


def test_helper_modules_hold_no_tests_and_ship_in_the_source_archive() -> None:
    """A ``test_`` function in a helper module is never collected (it would pass by not running); MANIFEST.in's
    rules must take every helper module into the sdist, whose tests import them."""
    assert len(HELPER_MODULES) >= 10
    rules = [line.split()[1:] for line in (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
             if line.startswith("recursive-include ")]
    for path in HELPER_MODULES:
        assert not path.name.startswith("test_")
        tests = [node.name for node in _tree(path).body
                 if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.startswith(("test", "Test"))]
        assert tests == [], path.name
        relative = path.relative_to(ROOT).as_posix()
        assert any(relative.startswith(folder + "/") and any(fnmatch.fnmatch(path.name, p) for p in patterns)
                   for folder, *patterns in rules), relative


def _renamed(node: object, names: dict[str, str]) -> str:
    """``node`` written out as ``ast.dump`` would, every name and argument renamed in order of first appearance
    (``n0``, ``n1``, …; an argument's annotation left out): copies that differ only in names compare equal.  Written
    out, not a renamed copy of the tree: deep copies of every test file's functions took minutes late in a full run,
    whose large heap the collector walks again and again."""
    if isinstance(node, ast.Name | ast.arg):
        name = node.id if isinstance(node, ast.Name) else node.arg
        renamed = names.setdefault(name, f"n{len(names)}")
        return f"Name({renamed}, {type(node.ctx).__name__})" if isinstance(node, ast.Name) else f"arg({renamed})"
    if isinstance(node, ast.AST):
        fields = ", ".join(_renamed(value, names) for _, value in ast.iter_fields(node))
        return f"{type(node).__name__}({fields})"
    if isinstance(node, list):
        return "[" + ", ".join(_renamed(item, names) for item in node) + "]"
    return repr(node)


def _body(function: ast.FunctionDef) -> list[ast.stmt]:
    """A function's statements without its docstring."""
    body = function.body
    docstring = body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    return body[1:] if docstring else body


def _shape(function: ast.FunctionDef) -> str:
    """A function's body, its arguments and names renamed: what two copies of it share whatever their names."""
    names: dict[str, str] = {}
    arguments = [_renamed(argument, names) for argument in function.args.args]
    return f"{len(arguments)} {_renamed(_body(function), names)}"


def _sizeable(tree: ast.Module) -> list[ast.FunctionDef]:
    """The module's functions whose bodies are more than a line or two (those every file may write alike)."""
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)
            and sum(1 for statement in _body(node) for _ in ast.walk(statement)) > 30]


#: A function at module level that is not a test, up to the next line at column 0.
DEFINITION = re.compile(r"^def (?!test)\w+\(.*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def _definitions(text: str) -> list[ast.FunctionDef]:
    """The module-level functions of a test file that are not tests (each parsed alone: a test file holds few)."""
    found = []
    for block in DEFINITION.findall(text):
        try:
            found += _sizeable(ast.parse(block))
        except SyntaxError:  # a string of its body that reaches column 0 cut it short: not a helper's copy
            continue
    return found


def test_no_test_module_holds_a_copy_of_a_helper() -> None:
    """A helper is written once: no test module's function is one of the helpers' with other names."""
    helpers = {_shape(function): f"{path.name}:{function.name}" for path in HELPER_MODULES
               for function in _sizeable(_tree(path))}
    assert len(helpers) >= 40
    copies = [f"{path.name}:{function.name} = {helpers[shape]}" for path in sorted(TESTS.glob("test_*.py"))
              for function in _definitions(path.read_text(encoding="utf-8")) if (shape := _shape(function)) in helpers]
    assert copies == []


def test_the_copy_scan_sees_a_renamed_copy_and_nothing_else() -> None:
    """(the guard above can fail) tests/test_round37_mutants.py's central difference before it was shared, its
    names and docstring its own, is the helper's; a test, and a helper that computes something else, are not."""
    copied = (
        "def _central(function, x, step=1e-6):\n"
        '    """The gradient of a scalar ``function`` at ``x`` by central differences, in float64."""\n'
        "    x = np.asarray(x, dtype=np.float64)\n"
        "    grad = np.zeros_like(x)\n"
        "    for i in np.ndindex(x.shape):\n"
        "        up, down = x.copy(), x.copy()\n"
        "        up[i] += step\n"
        "        down[i] -= step\n"
        "        grad[i] = (function(up) - function(down)) / (2 * step)\n"
        "    return grad\n")
    helpers = {_shape(function) for path in HELPER_MODULES for function in _sizeable(_tree(path))}
    assert [_shape(function) in helpers for function in _definitions(copied)] == [True]
    assert _definitions(copied.replace("def _central", "def test_central")) == []
    assert [_shape(function) in helpers for function in _definitions(copied.replace("- function(down)", "+ 0"))] \
        == [False]
