"""A student working through notebooks/05_backpropagation.ipynb reads "chain: … the two agree" and then sees the
drawing end some chain lines in ``≈`` and some in ``=`` (and the player's products too), with no word on why: the
rounded factors as printed, not backpropagation, are what is approximate.  The cells run here from their committed
source, in this process, with their print silenced."""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import matplotlib
import pytest

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error

matplotlib.use("Agg")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_backpropagation.ipynb"


def cells() -> list[tuple[str, str]]:
    """(cell type, source) of every cell of notebook 05."""
    return [(cell["cell_type"], "".join(cell["source"]))
            for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]]


def code_cell(marker: str) -> str:
    [source] = [source for kind, source in cells() if kind == "code" and marker in source]
    return source


def prose_before(marker: str) -> str:
    """The markdown cell right before the code cell containing ``marker``, on one line."""
    found = cells()
    index = next(i for i, (kind, source) in enumerate(found) if kind == "code" and marker in source)
    assert found[index - 1][0] == "markdown"
    return " ".join(found[index - 1][1].split())


def run(*sources: str) -> dict:
    namespace: dict = {"print": lambda *args, **kwargs: None}
    for source in sources:
        exec(compile(source, "<cell>", "exec"), namespace)
    return namespace


FIRST = "network = nn.Network("  # the cell that builds the chain network and its cost
TREE = "viz.draw_dependency_tree(cost)"
USED_TWICE = "split = (w * a + w.tanh()) ** 2"


def chain_signs(cost: Value) -> dict[str, str]:
    """``=`` or ``≈`` of the chain line of every weight and bias of the tree of ``cost``."""
    tree = dependency_tree(cost)
    signs = {}
    for name, node in tree.nodes.items():
        if node.kind in ("weight", "bias"):
            signs[name] = re.search(r" ([=≈]) \S+$", tree.chain_lines(name)[-1]).group(1)
    return signs


def test_05_prose_says_what_the_approximately_equal_sign_of_the_chain_lines_means():
    signs = chain_signs(run(code_cell(FIRST))["cost"])
    rounded = {name for name, sign in signs.items() if sign == "≈"}
    assert rounded and rounded != set(signs)  # the drawing shows both signs, so the reader needs the difference
    prose = prose_before(TREE)
    named = re.search(r"≈ instead of = \(here under ([^)]*)\)", prose)
    assert named, prose
    assert set(re.findall(r"\$(\w\^\d)\$", named.group(1))) == rounded


def test_05_prose_says_what_the_approximately_equal_sign_of_the_player_means():
    namespace = run(code_cell(FIRST), code_cell(USED_TWICE))
    html = namespace["player"].html()
    products = re.findall(r"(-?[\d.]+) × (-?[\d.]+) ≈ (-?[\d.]+)", html)
    assert products  # the page shows one, from the rounding of the numbers printed
    above, local, shown = map(float, products[0])
    assert f"{above * local:.4g}" != f"{shown:.4g}"  # the numbers as printed do not multiply to the one shown
    first_player = next(source for kind, source in cells() if kind == "code" and "backprop_player" in source)
    assert "≈" in prose_before(first_player), prose_before(first_player)


@pytest.mark.parametrize("shift", [0, 3, 12, 21, 39])
def test_chain_lines_total_the_grad_and_say_equals_only_where_the_printed_factors_give_it(shift):
    """The seed's chain network with other seeds (the student changes ``rng=i``): the number after the sign is
    ``.grad`` (to the 4 digits printed), and the sign is ``=`` exactly where the factors as printed multiply, at 4
    significant digits, to that number."""
    network = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i + shift) for i in range(3)])
    cost = squared_error(network(Value([0.5], requires_grad=False)), Value([0.25], requires_grad=False))
    cost.backward()
    tree = dependency_tree(cost)
    parameters = [node for node in tree.nodes.values() if node.kind in ("weight", "bias")]
    assert len(parameters) == 6
    for node in parameters:
        line = " ".join(tree.chain_lines(node.name))
        factors, sign, total = re.fullmatch(r"chain: (.*) ([=≈]) (\S+)", line).groups()
        grad = float(node.value.grad.item())
        assert math.isclose(float(total), grad, rel_tol=5e-4), (node.name, line, grad)
        printed = math.prod(float(factor.strip("()")) for factor in factors.split(" · "))
        assert (sign == "=") == (float(f"{printed:.4g}") == float(f"{float(total):.4g}")), (node.name, line)


def test_05_cells_run_again_in_a_students_order_draw_the_same_tree_without_warnings():
    """Tree, by-hand cell, finite difference (which writes the bias in place and puts it back), the tree again:
    the second drawing is the first, and nothing warns."""
    first, tree, by_hand = code_cell(FIRST), code_cell(TREE), code_cell("∂C/∂b3 by hand")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        namespace = run(first, tree, by_hand)
        before = str(eval(tree, namespace))
        bias = namespace["last"].biases.data.copy()
        exec(code_cell("def cost_at(bias)"), namespace)
        exec(by_hand, namespace)
        after = str(eval(tree, namespace))
    assert (namespace["last"].biases.data == bias).all()
    assert "chain:" in before and after == before
    assert viz.draw_dependency_tree(namespace["cost"]) is not None
