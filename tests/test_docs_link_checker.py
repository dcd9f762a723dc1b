"""Every link, anchor, path, command and name the documentation gives, checked mechanically where tests/test_readme.py
and tests/test_docstrings_hold.py do not look: benchmarks/README.md, the notebooks' markdown, the scripts' docstrings
and their --help, the package's cross-references (``:func:`...```), the README's layout table and its counts, and
the commands of README.md and cli.py parsed by the parser that runs them.  A renamed file, option or module makes
one of these fail.  The xfail tests failed before their fixes (a cut --help, usage lines that disagree with
--help, a README sentence about the mutant files that was not true of all of them)."""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers_layering import LAYERS

import tinygrad_edu
from tinygrad_edu import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BENCH_README = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: The runnable scripts of the repository: each has a docstring with a "Run" line and an argparse --help.
SCRIPTS = sorted(p.relative_to(ROOT).as_posix() for folder in ("examples", "benchmarks", "scripts")
                 for p in (ROOT / folder).glob("*.py") if p.name != "bare_tape.py")


def _markdown(notebook: Path) -> str:
    return "\n\n".join("".join(cell["source"]) for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                       if cell["cell_type"] == "markdown")


def _without_code_blocks(text: str) -> str:
    """Markdown without its fenced code blocks (a ``# comment`` in a code block is no heading)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)


def _anchors(text: str) -> set[str]:
    """GitHub's anchors of the headings outside code blocks: lower case, punctuation dropped, spaces as hyphens, and
    ``-1``, ``-2``, ... after a repeated one."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", _without_code_blocks(text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = 0
        while (slug if count == 0 else f"{slug}-{count}") in anchors:
            count += 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _docstring(script: str) -> str:
    return ast.get_docstring(ast.parse((ROOT / script).read_text(encoding="utf-8"))) or ""


@functools.cache
def _help(script: str) -> str:
    """``python script --help``, run in an empty folder with this checkout's package (and PyTorch kept out by a
    ``sitecustomize``: importing it takes seconds and --help needs none of it); it must write nothing."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as site:
        Path(site, "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n", encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([site, str(ROOT), os.environ.get("PYTHONPATH", "")])}
        result = subprocess.run([sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True,
                                timeout=120, cwd=folder, env=env)
        assert result.returncode == 0, result.stderr
        assert os.listdir(folder) == [], f"{script} --help wrote files"
    return result.stdout


def _declared_options(script: str) -> set[str]:
    """The options a script's argparse declares: the strings starting with ``-`` given to ``add_argument``."""
    tree = ast.parse((ROOT / script).read_text(encoding="utf-8"))
    return {argument.value for call in ast.walk(tree) if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"
            for argument in call.args if isinstance(argument, ast.Constant) and str(argument.value).startswith("-")}


# --- defects ---------------------------------------------------------------------------------------------------


def test_benchmark_help_shows_the_whole_first_sentence() -> None:
    script = "benchmarks/bench_xsquared_seeds.py"
    description = _help(script).split("\n\n")[1]
    first_paragraph = _docstring(script).split("\n\n")[0]
    assert " ".join(description.split()) == " ".join(first_paragraph.split())


@pytest.mark.parametrize("script", [script for script in SCRIPTS if script != "benchmarks/bench_xsquared_seeds.py"])
def test_every_scripts_help_shows_its_docstrings_first_paragraph(script: str) -> None:
    """Guard (the defect above, for the other scripts): --help opens with the docstring's whole first paragraph, not
    a line of it (tests/test_examples.py checks only that the examples' descriptions end in a full stop)."""
    description = _help(script).split("\n\n")[1]
    assert " ".join(description.split()) == " ".join(_docstring(script).split("\n\n")[0].split())


def _documented_options(script: str) -> list[tuple[str, str]]:
    """``(--option, PLACEHOLDER)`` of the ``[--option PLACEHOLDER]`` in the script's "Run" line."""
    run = re.search(rf"python {re.escape(script)}(.*)", _docstring(script))
    assert run, f"{script}: its docstring has no 'python {script} ...' line"
    return re.findall(r"\[(--[\w-]+) ([A-Z]+)\]", run.group(1))


SCRIPTS_WITH_PLACEHOLDERS = [script for script in SCRIPTS if _documented_options(script)]


def test_docstring_usage_lines_name_the_values_as_help_does() -> None:
    assert len(SCRIPTS_WITH_PLACEHOLDERS) >= 4, SCRIPTS_WITH_PLACEHOLDERS  # the Run lines were read
    disagreeing = []
    for script in SCRIPTS_WITH_PLACEHOLDERS:
        usage = " ".join(_help(script).split("\n\n")[0].split())
        disagreeing += [f"{script}: [{option} {value}]" for option, value in _documented_options(script)
                        if f"[{option} {value}]" not in usage]
    assert disagreeing == []


def _mutant_files() -> list[Path]:
    return sorted((ROOT / "tests").glob("test_*mutants*.py"))


def test_readme_describes_the_mutant_test_files_as_they_are() -> None:
    text = " ".join(README.split())
    sentence = re.search(r"The test files (?:whose names )?end(?:ing)? in (.*?)\. (.*?)\.(?= )", text)
    assert sentence, "README.md no longer describes the mutant test files"
    patterns = re.findall(r"`(_mutants[\w*]*\.py)`", sentence.group(1))
    files = _mutant_files()
    assert len(files) >= 10
    for path in files:  # every mutant file is one the README's names cover
        assert any(Path(path.name).match(f"*{pattern}") for pattern in patterns), (path.name, patterns)
    with_counts = [p.name for p in files if re.search(r"[Kk]illed", ast.get_docstring(ast.parse(p.read_text())))]
    claim = sentence.group(2)
    if re.match(r"Each file's docstring gives its modules' counts", claim):
        assert with_counts == [p.name for p in files], sorted(set(p.name for p in files) - set(with_counts))
    else:
        assert re.search(r"\bmost give their modules' counts", claim) and len(with_counts) > len(files) / 2, claim


# --- guards: links, anchors and files --------------------------------------------------------------------------


def test_readme_anchors_are_headings_outside_code_blocks() -> None:
    """tests/test_readme.py counts a ``# comment`` of a code block as a heading; GitHub does not."""
    anchors = _anchors(README)
    assert "check-a-gradient-backward-against-central-finite-differences-element-by-element" not in anchors
    links = re.findall(r"\]\(#([^)\s]+)\)", README)
    assert len(links) >= 5
    for anchor in links:
        assert anchor in anchors, f"README.md links to #{anchor}, which is no heading"


def test_benchmarks_readme_links_files_and_readme_sections_exist() -> None:
    """benchmarks/README.md: its links, the scripts it names, and the README sections it says quote them."""
    for target in re.findall(r"\]\(([^)\s]+)\)", BENCH_README):
        if not re.match(r"https?://", target):
            path, _, anchor = target.partition("#")
            file = (ROOT / "benchmarks" / path) if path else ROOT / "benchmarks" / "README.md"
            assert file.exists(), target
            if anchor:
                assert anchor in _anchors(file.read_text(encoding="utf-8")), target
    scripts = set(re.findall(r"`(\w+\.py)\b", BENCH_README))
    assert {"bench_engine.py", "bench_second_order.py", "bare_tape.py"} <= scripts
    for name in scripts:
        assert (ROOT / "benchmarks" / name).exists() or (ROOT / "tinygrad_edu" / name).exists(), name
    for path in re.findall(r"`((?:tests|tinygrad_edu|examples|scripts)/[\w./]+)`", BENCH_README):
        assert (ROOT / path).exists(), path
    table = [line for line in BENCH_README.splitlines() if line.startswith("| `")]
    assert {re.match(r"\| `([\w.]+)`", line).group(1) for line in table} == \
        {p.name for p in (ROOT / "benchmarks").glob("*.py")}  # the table lists every script, and only them
    headings = {heading.strip() for heading in re.findall(r"^## (.+)$", _without_code_blocks(README), re.MULTILINE)}
    quoted = re.findall(r"README, \*([^*]+)\*", BENCH_README)
    assert len(quoted) == len(table)
    for section in quoted:
        assert section in headings, f"benchmarks/README.md quotes README section {section!r}, which is no heading"


def test_paths_in_docstrings_notebooks_and_benchmarks_exist() -> None:
    """Every repository path written in the package's and scripts' sources, the notebooks and benchmarks/README.md
    (``benchmarks/bench_second_order.py``, ``examples/xsquared.py``, ``tests/test_benchmarks.py``) exists, and
    every link of a notebook's markdown points at a file."""
    sources = {p: p.read_text(encoding="utf-8") for folder in ("tinygrad_edu", "examples", "benchmarks", "scripts")
               for p in (ROOT / folder).rglob("*.py")}
    sources |= {p: _markdown(p) for p in NOTEBOOKS}
    sources[ROOT / "benchmarks" / "README.md"] = BENCH_README
    folders = "examples|benchmarks|scripts|tests|tinygrad_edu|docs|notebooks"
    found = 0
    for source, text in sources.items():
        for path in re.findall(rf"(?<![\w/.-])((?:{folders})/[\w./-]*\w)", text):
            found += 1
            assert (ROOT / path).exists(), f"{source.relative_to(ROOT)} names {path}, which does not exist"
        if source.suffix == ".ipynb":
            for target in re.findall(r"\]\(([^)\s#]+)", text):
                assert re.match(r"https?://", target) or (source.parent / target).exists(), (source.name, target)
    assert found >= 10


# --- guards: names ---------------------------------------------------------------------------------------------


def _modules() -> dict[str, object]:
    found = {"tinygrad_edu": tinygrad_edu}
    for info in pkgutil.walk_packages(tinygrad_edu.__path__, "tinygrad_edu."):
        if info.name != "tinygrad_edu.__main__":
            found[info.name] = importlib.import_module(info.name)
    return found


def _lookup(start: object, dotted: str) -> bool:
    for part in dotted.split("."):
        if not hasattr(start, part):
            return False
        start = getattr(start, part)
    return True


def _resolves(reference: str, module: object, modules: dict[str, object], classes: list[type]) -> bool:
    """Whether a docstring's cross-reference names something: a module, a name of ``module`` or of one of its
    classes, ``tinygrad_edu.x``, ``module.x`` of a module of the package, ``Class.x`` of a class of the package, or
    a name of another library (``matplotlib.figure.Figure``)."""
    short = reference.removeprefix("tinygrad_edu.")
    if f"tinygrad_edu.{short}" in modules or _lookup(tinygrad_edu, short):
        return True
    if any(_lookup(m, reference.removeprefix(f"{n}.")) for n, m in modules.items() if reference.startswith(f"{n}.")):
        return True
    if any(_lookup(start, reference) for start in [module, *(c for c in vars(module).values() if inspect.isclass(c))]):
        return True
    head, _, rest = reference.partition(".")
    if any(c.__name__ == head and _lookup(c, rest) for c in classes):
        return True
    if head != "tinygrad_edu" and importlib.util.find_spec(head) is not None:  # the longest module, then names
        parts = reference.split(".")
        for i in range(len(parts), 0, -1):
            try:
                return _lookup(importlib.import_module(".".join(parts[:i])), ".".join(parts[i:])) if i < len(parts) \
                    else True
            except ImportError:
                continue
    return False


def test_cross_references_in_the_packages_docstrings_resolve() -> None:
    """``:func:`x```, ``:class:`x```, ``:mod:`x```, ... in the package's sources name something that exists."""
    modules = _modules()
    classes = [c for m in modules.values() for c in vars(m).values() if inspect.isclass(c)
               and c.__module__.startswith("tinygrad_edu")]
    checked = 0
    for name, module in modules.items():
        source = Path(module.__file__).read_text(encoding="utf-8")
        for reference in re.findall(r":(?:func|class|meth|mod|attr|data|exc):`~?([\w.]+)`", source):
            checked += 1
            assert _resolves(reference, module, modules, classes), f"{name} refers to {reference!r}: nothing"
    assert checked > 50


def test_names_in_the_notebooks_markdown_exist() -> None:
    """``nn.Layer``, ``optim.Adam``, ``tinygrad_edu.autodiff.grad``: every dotted name of the package that a
    notebook's prose shows in backticks exists."""
    checked = 0
    for notebook in NOTEBOOKS:
        for span in re.findall(r"`([^`]+)`", _markdown(notebook)):
            name = re.sub(r"\(.*", "", span)
            head = name.split(".")[0]
            if "." in name and (head == "tinygrad_edu" or importlib.util.find_spec(f"tinygrad_edu.{head}")):
                checked += 1
                assert _lookup(tinygrad_edu, name.removeprefix("tinygrad_edu.")) or \
                    _lookup(importlib.import_module(f"tinygrad_edu.{head}"), name.split(".", 1)[1]), \
                    f"{notebook.name} names {name}, which does not exist"
    assert checked >= 3


def test_readme_layout_table_names_every_module_in_its_layer() -> None:
    """"How the code is laid out": every module of the package is in the table (a renamed one fails), every file it
    names exists, and its rows follow the layers tests/test_layering.py enforces (tests/helpers_layering.py; its
    second row holds two)."""
    section = re.search(r"^## How the code is laid out\n(.*?)^## ", README, re.MULTILINE | re.DOTALL)
    assert section
    rows = [line for line in section.group(1).splitlines() if line.startswith("|")][2:]
    assert [row.split("|")[1].strip() for row in rows] == ["engine", "functions and layers",
                                                          "training, data, drawing", "on top"]
    layers = LAYERS
    row_of_layer = {0: 0, 1: 1, 2: 1, 3: 2, 4: 3}
    named: dict[str, int] = {}
    for i, row in enumerate(rows):
        for name in re.findall(r"`([\w.]+\.(?:py|html)|\w+/)`", row):
            named[name] = i
            assert (ROOT / "tinygrad_edu" / name).exists() or (ROOT / name).exists(), name
    modules = {p.name for p in (ROOT / "tinygrad_edu").glob("*.py")} - {"__init__.py", "__main__.py"}
    assert modules | {"player.html", "testing/"} <= set(named), sorted(modules - set(named))
    for name, row in named.items():
        module = name.removesuffix(".py").rstrip("/")
        if module in layers:
            assert row == row_of_layer[layers[module]], (name, row, layers[module])


# --- guards: counts --------------------------------------------------------------------------------------------

NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def test_readme_counts_the_notebooks_and_the_benchmarks_workloads() -> None:
    """"the seed as seven notebooks, six following its parts", the notebooks' headings, and benchmarks/README.md's
    "issue 10's eight workloads", the rows of README.md's performance table."""
    text = " ".join(README.split())
    found = re.search(r"the seed as (\w+) notebooks, (\w+) following its parts", text)
    assert found
    assert NUMBERS[found.group(1)] == len(NOTEBOOKS)
    assert NUMBERS[found.group(2)] == len(NOTEBOOKS) - 1  # and a seventh on second derivatives
    assert re.search(r"and a (\w+) on second derivatives", text).group(1) == \
        ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"][len(NOTEBOOKS) - 1]
    workloads = re.search(r"issue 10's (\w+) workloads", BENCH_README)
    assert workloads
    performance = re.search(r"^## Performance\n(.*?)^## ", README, re.MULTILINE | re.DOTALL).group(1)
    table = performance[performance.index("| workload"):].split("\n\n")[0]  # the run's table, not the standings'
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| workload")]
    assert NUMBERS[workloads.group(1)] == len(rows)


# --- guards: commands ------------------------------------------------------------------------------------------


def _commands(text: str, program: str) -> list[str]:
    """The ``program ...`` commands written in ``text`` (up to a backtick, a comment or the line's end), without
    the ones that show a usage with [brackets] or ellipses."""
    found = re.findall(rf"(?<![\w-]){re.escape(program)} ([^`#\n]*)", text)
    return [command.strip().rstrip(").;:,") for command in found if not re.search(r"\[|\.\.\.|ARGS", command)]


def test_tinygrad_edu_commands_of_the_readme_and_cli_parse_as_written() -> None:
    """Every ``tinygrad-edu ...`` and ``python -m tinygrad_edu ...`` command of README.md and cli.py's docstring is
    accepted by the command line's own parser (a renamed option or subcommand fails)."""
    texts = README + (cli.__doc__ or "")
    commands = _commands(texts, "tinygrad-edu") + _commands(texts, "python -m tinygrad_edu")
    assert len(commands) >= 6 and {"train", "predict", "demo"} <= {c.split()[0] for c in commands}, commands
    parser = cli.build_parser()
    for command in commands:
        arguments = shlex.split(command)
        assert arguments and arguments[0] in ("demo", "train", "predict"), command
        try:
            parser.parse_args(arguments)
        except SystemExit as stopped:
            pytest.fail(f"tinygrad-edu {command!r} does not parse (exit {stopped.code})")


def test_script_commands_name_scripts_and_options_that_exist() -> None:
    """``python examples/second_derivative.py --output pictures``, ``python benchmarks/bench_xsquared_seeds.py
    --first 100``, ``tests/test_against_pytorch.py --graphs 5000 --seed 1``, ...: in README.md, the notebooks and the
    scripts' docstrings, each script exists and each option it is given is one its argparse declares."""
    texts = [README, BENCH_README, *(_markdown(p) for p in NOTEBOOKS), *(_docstring(s) for s in SCRIPTS)]
    options: dict[str, set[str]] = {}
    for text in texts:
        for script, rest in re.findall(r"python ((?:examples|benchmarks|scripts|tests)/[\w/]+\.py)([^`\n]*)", text):
            assert (ROOT / script).exists(), script
            options.setdefault(script, set()).update(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest))
    assert {"examples/second_derivative.py", "benchmarks/bench_xsquared_seeds.py"} <= set(options)
    assert sum(map(len, options.values())) >= 10
    for script, given in sorted(options.items()):
        assert given <= _declared_options(script), (script, sorted(given - _declared_options(script)))
