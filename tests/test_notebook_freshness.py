"""The committed notebooks read as a reviewer re-running them would: a cell re-run after an earlier one still
works, and prose numbers that follow from the code (batch counts, kinds of points, the step sizes' pattern) are
those the code produces.  Cells run in this process, from their committed source, with matplotlib's Agg backend."""

from __future__ import annotations

import ast
import builtins
import json
import re
import sys
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def cells(path: Path) -> list[tuple[str, str]]:
    """(cell type, source) of every cell of the notebook at ``path``."""
    return [(cell["cell_type"], "".join(cell["source"])) for cell in json.loads(path.read_text("utf-8"))["cells"]]


def code_cells(name: str) -> list[str]:
    return [source for kind, source in cells(next(p for p in NOTEBOOKS if p.stem == name)) if kind == "code"]


def prose(name: str) -> str:
    return " ".join(" ".join(source.split()) for kind, source in cells(next(p for p in NOTEBOOKS if p.stem == name))
                    if kind == "markdown")


def run(sources: list[str], namespace: dict | None = None) -> dict:
    """Execute ``sources`` one after another in one namespace (print silenced), as cells in one kernel; the pyplot
    figures they open are closed (left open, they would be counted by later tests)."""
    namespace = {"print": lambda *args, **kwargs: None} if namespace is None else namespace
    try:
        for source in sources:
            exec(compile(source, "<cell>", "exec"), namespace)
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
    return namespace


SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
          ast.DictComp, ast.GeneratorExp)


def top_level(tree: ast.AST):
    """The nodes of a cell that run in the notebook's namespace: not those in a function, lambda or comprehension
    (whose names stay local), though the function's own name and defaults are the cell's."""
    for node in ast.iter_child_nodes(tree):
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for part in node.decorator_list + getattr(node.args, "defaults", []):
                yield from [part, *top_level(part)]
        elif not isinstance(node, SCOPES):
            yield from top_level(node)


def stored_names(tree: ast.AST) -> set[str]:
    """The names a cell sets in the notebook's namespace."""
    nodes = list(top_level(tree))
    names = {node.id for node in nodes if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names |= {node.name for node in nodes if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    return names | {(alias.asname or alias.name).split(".")[0] for node in nodes
                    if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}


def test_no_cell_reads_a_name_that_two_earlier_cells_set():
    """A name a cell uses but does not set must come from one earlier cell only: if two set it, which value the
    cell sees depends on which of them ran last, and re-running the earlier one changes (or breaks) the later."""
    ambiguous = []
    for path in NOTEBOOKS:
        stores: list[set[str]] = []
        for index, source in enumerate(source for kind, source in cells(path) if kind == "code"):
            tree = ast.parse(source)
            mine = stored_names(tree)
            used = {node.id for node in ast.walk(tree)
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
            for name in sorted(used - mine - set(dir(builtins))):
                setters = [earlier for earlier, names in enumerate(stores) if name in names]
                if len(setters) > 1:
                    ambiguous.append((path.stem, f"code cell {index}", name, f"set by code cells {setters}"))
            stores.append(mine)
    assert not ambiguous, ambiguous


def test_07_timing_cell_works_after_the_first_example_is_run_again():
    code = code_cells("07_second_derivatives")
    setup, cubic = code[0], next(source for source in code if "x ** 3 - 3 * x" in source)
    network = next(source for source in code if "gradient_and_hessian(cost" in source)
    timing = next(source for source in code if "def seconds(" in source)
    timing = timing.replace("(2, 4, 8, 16, 32)", "(2,)").replace("repeats=5", "repeats=1")  # one size is enough
    namespace = run([setup, cubic, network])
    samples = namespace["x"].copy()
    run([cubic, timing], namespace)  # the student goes back to the first example, then on to the timing cell
    assert np.array_equal(namespace["x"], samples)  # the timing cell used the network cell's 32 samples


def test_04_step_sizes_mostly_alternate_as_the_prose_says():
    """04: "nearly all are 2^-5 or 2^-6, mostly alternating as the path zig-zags across the narrow valley"."""
    assert "mostly alternating" in prose("04_gradient_descent_and_armijo")
    code = code_cells("04_gradient_descent_and_armijo")
    namespace = run([code[0], next(source for source in code if "def armijo_descent" in source)])
    exponents = np.log2(namespace["ts"])
    assert np.array_equal(exponents, exponents.round())  # every step is some α^l
    usual = np.isin(exponents, [-5, -6])
    assert usual.mean() >= 0.95
    changes = exponents[1:] != exponents[:-1]
    assert changes.mean() > 0.5, changes.mean()


def test_06_batch_counts_in_the_prose_follow_from_the_code():
    """06 says a mini-batch episode averages "its 16 batch costs", and the demo's first gradient-descent point comes
    "after up to 199 of its updates": the number of samples over the batch size, and one less."""
    from tinygrad_edu import demo

    text, code = prose("06_training"), code_cells("06_training")
    samples = len(run([code[0]])["inputs"])
    batch = int(re.search(r"batch_size=(\d+), seed=0, progress=False\)\nbatched", "\n".join(code)).group(1))
    assert f"average of its {samples // batch} batch costs" in text
    demo_batch = next(method[5] for method in demo._METHODS if method[0] == "gradient descent")
    assert "on 1000 samples" in text and f"after up to {1000 // demo_batch - 1} of its updates" in text


def test_07_newton_finds_every_kind_of_point_as_the_prose_says():
    """07: "it finds maxima and saddles as readily as minima": its six starts find each kind."""
    assert "finds maxima and saddles as readily as minima" in prose("07_second_derivatives")
    code = code_cells("07_second_derivatives")
    cell = next(source for source in code if "stationary_point(g, start)" in source)
    namespace = run([code[0], cell.replace("plots.plot_stationary_points(g, found)", "")])
    kinds = [point.kind for point in namespace["found"]]
    assert {"minimum", "maximum", "saddle"} <= set(kinds), kinds
    for point in namespace["found"]:  # each point is where ∇g = 3x² − 3 vanishes, judged by g's Hessian diag(6x)
        assert np.allclose(np.abs(point.point), 1)
        signs = np.sign(point.point)
        assert point.kind == {2: "minimum", -2: "maximum", 0: "saddle"}[int(signs.sum())]
