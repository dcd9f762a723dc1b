"""A student follows README.md from the top on a fresh machine (round 50): the quickstart's two commands in a fresh
clone, every block and command after them, the examples and the README's pictures.

- "Seeing the math" shows the dependency tree of a 3-layer chain network (docs/images/dependency_tree.svg: target
  y′ = 0.25, the seed's x² at x = 0.5) and then a block that builds "the seed's chain network" and draws its
  tree.svg, but with the target 1.0: every gradient in the student's tree differed from the picture above it
  (∂C/∂W³ = -0.1384 against 0.1371), and the picture's y′ was nowhere.  The block now draws the pictured tree.
- The layout table's checks.py listed the argument checks it holds, but not the class labels that cross_entropy
  and one_hot have read through it since this round (checks.label_numbers).
- The layout table said ops.py "imports nothing of the package"; it has imported checks (checks.Absent, the other
  libraries' names an Op refuses) since commit ae845b6.
"""

from __future__ import annotations

import ast
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tinygrad_edu import checks, data, losses

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


def _texts(svg: Path) -> list[str]:
    """Every text of a Graphviz SVG, in the order drawn: labels, values, gradients, edge formulas."""
    return [element.text or "" for element in ET.parse(svg).iter(SVG_TEXT)]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_the_seeing_the_math_block_draws_the_tree_pictured_above_it(tmp_path, monkeypatch) -> None:
    """The block's tree.svg holds the README picture's texts, one for one: the same Values, numbers and gradients
    (∂C/∂W¹ = 0.0004587), and the target y′ with its edge."""
    [block] = [code for code in re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)
               if "draw_dependency_tree(cost)" in code and "backprop_player" in code]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(block, "README.md, Seeing the math", "exec"), {"__name__": "readme"})
    drawn, pictured = _texts(tmp_path / "tree.svg"), _texts(ROOT / "docs" / "images" / "dependency_tree.svg")
    assert "= 0.0004587" in " ".join(pictured) and "y′" in pictured  # (the picture is the one the test reads)
    assert drawn == pictured


def test_the_layout_table_says_checks_py_reads_the_class_labels_cross_entropy_and_one_hot_share() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| engine |"))
    described = row[row.index("`checks.py` ("):].split(") |")[0].split(");")[0]
    assert "class labels" in described and "`cross_entropy`" in described and "`one_hot`" in described
    with pytest.raises(TypeError, match="cross_entropy"):  # what the row says they share, named by each
        losses.cross_entropy([[0.0, 1.0]], ["a"])
    with pytest.raises(TypeError, match="one_hot"):
        data.one_hot(["a"], 2)
    assert "label_numbers" in checks.__all__


def _package_imports(module: str) -> set[str]:
    """The package's modules that tinygrad_edu/<module>.py imports, anywhere in it."""
    tree = ast.parse((ROOT / "tinygrad_edu" / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "tinygrad_edu":
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_edu."):
            found.add(node.module.split(".")[1])  # type: ignore[union-attr]
        elif isinstance(node, ast.Import):
            found |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("tinygrad_edu.")}
    return found


def test_what_the_layout_table_says_a_module_imports_of_the_package_is_what_it_imports() -> None:
    """"imports nothing of the package" and "of the package it imports only `x.py`" in "How the code is laid out",
    against the module's own import statements."""
    section = README[README.index("## How the code is laid out"):].split("\n## ")[0]
    claims = re.findall(r"`(\w+)\.py` \(([^`]*?(?:`[^`]*`[^`]*?)*?)(?:\)[,;|]|\), `)", section)
    said = {module: text for module, text in claims if "imports" in text and "of the package" in text}
    assert "ops" in said, sorted(said)
    for module, text in said.items():
        only = re.search(r"imports only ((?:`\w+\.py`(?:,| and)? ?)+)", text)
        named = set(re.findall(r"`(\w+)\.py`", only.group(1))) if only else set()
        assert only or "imports nothing of the package" in text, (module, text)
        assert _package_imports(module) == named, (module, text, _package_imports(module))
