"""A teacher re-running notebooks/ after round 36 (w_3 drawn as w₃, e^(z²), local formulas for min/maximum/softmax,
frozen parameters drawn as constants, drawings after zero_grad(), stationary_point's new zero_tol, a number as a
cost target, check_gradients re-checking steep elements): all seven notebooks still run from a fresh kernel
(nbclient) without errors or warnings, they store no outputs, their printed numbers still say what the prose says
and their figures (rendered and looked at) still show it.  But

Defect (its test failed before the fix): freezing the first layer of 05's chain network (the seed's network with
its first layer kept, as a teacher shows transfer learning), the dependency tree dropped α¹, the constant that layer
hands to the next: the edge ∂z²/∂W² still read "= α¹", a node the tree did not draw, with no dashed edge
∂z²/∂α¹ = W² as α⁰ has, and the player's step wrote "z² = (α¹ @ W²) + b² from W², b²".  A labelled α^i that is a
constant is now drawn as one, as α⁰ and (round 36) a frozen W^i or b^i are.
Guards: 05's prose "(here under b² and b¹)" the chain lines end in ≈; 05's cost with the target y' = 0.25 given as
a number (round 36) is the cost with the array and its ∂C/∂b_3 is the hand formula and a central difference; 07's
verdicts of the six Newton runs are those of the closed-form Hessian diag(6x, 6y), with the new default zero_tol.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def code_cell(stem: str, marker: str) -> str:
    notebook = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    [source] = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"
                and marker in "".join(c["source"])]
    return source


def prose(stem: str) -> str:
    notebook = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return " ".join(" ".join("".join(c["source"]).split()) for c in notebook["cells"] if c["cell_type"] == "markdown")


def chain_cost() -> tuple[nn.Network, Value]:
    """05's first cell, run as it is (print silenced): the seed's chain network and its cost C, after backward()."""
    namespace: dict = {"print": lambda *args, **kwargs: None}
    exec(compile(code_cell("05_backpropagation", "cost.backward()"), "<05 cell 1>", "exec"), namespace)
    return namespace["network"], namespace["cost"]


# --- defects ---------------------------------------------------------------------------------------------------------
def test_05_a_frozen_first_layer_hands_the_next_a_constant_the_tree_draws():
    network, _ = chain_cost()
    network.zero_grad()  # (05's cell ran backward(); this is a new pass)
    for parameter in network.layers[0].parameters():
        parameter.requires_grad = False
    cost = squared_error(network(np.array([0.5])), Value(np.array([0.25]), requires_grad=False, label="y′"))
    cost.label = "C"
    cost.backward()
    tree = dependency_tree(cost)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("W^2", "z^2")].formula == "α¹" and "α^1" in tree.nodes  # the node the formula names is drawn
    alpha1 = tree.nodes["α^1"]
    assert alpha1.kind == "input" and not alpha1.value.requires_grad and alpha1.grad is None
    w2 = network.layers[1].weights.item()
    assert edges[("α^1", "z^2")].formula == "W²" and edges[("α^1", "z^2")].number == w2  # ∂z²/∂α¹ = W², as for α⁰
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    assert np.isclose(alpha1.data, sigmoid(network.layers[0].weights.item() * 0.5 + network.layers[0].biases.item()))
    forward = [step for step in viz.backprop_player(cost).steps if step.title.endswith(": z²")]
    assert len(forward) == 1 and "z² = W² · α¹ + b²" in forward[0].html and "α¹ = 0.643" in forward[0].html
    svg = viz.draw_dependency_tree(cost).pipe(format="svg").decode()
    assert "∂z²/∂α¹ = W²" in svg  # the dashed edge a constant input gets


# --- guards ----------------------------------------------------------------------------------------------------------
def test_05_chain_lines_end_in_approximately_where_the_prose_says():
    """05: "where those rounded factors multiply to another last digit the line ends in ≈ instead of = (here under
    b² and b¹)"; the number after it is .grad."""
    assert "(here under $b^2$ and $b^1$)" in prose("05_backpropagation")
    _, cost = chain_cost()
    tree = dependency_tree(cost)
    lines = {name: " ".join(tree.chain_lines(name, 4)) for name in ("W^3", "b^3", "W^2", "b^2", "W^1", "b^1")}
    assert {name for name, line in lines.items() if "≈" in line} == {"b^2", "b^1"}, lines
    for name, line in lines.items():
        factors = [float(f) for f in re.search(r"chain: (.*) [=≈]", line).group(1).split(" · ")]
        grad = tree.nodes[name].value.grad.item()
        assert np.isclose(np.prod(factors), grad, rtol=1e-3)  # the rounded factors multiply to about .grad
        assert ("≈" in line) == (f"{np.prod(factors):.4g}" != f"{grad:.4g}")


def test_05_the_target_as_a_number_gives_the_seed_cost_and_gradient():
    """05's C = (α^L − y')² with y' = 0.25 a number (round 36 takes it): the same cost as with the array, and
    ∂C/∂b_3 = σ′(z^L)·2(α^L − y') by hand and by a central difference."""
    network, _ = chain_cost()
    x, last = np.array([0.5]), network.layers[2]
    network.zero_grad()
    cost = squared_error(network(x), 0.25)
    cost.backward()
    assert cost.shape == () and cost.item() == squared_error(network(x), np.array([0.25])).item()
    alpha3 = network(x).item()
    assert np.isclose(last.biases.grad.item(), alpha3 * (1 - alpha3) * 2 * (alpha3 - 0.25), rtol=1e-12)
    b, eps = last.biases.data.copy(), 1e-6
    costs = []
    for shift in (eps, -eps):
        last.biases.data[...] = b + shift
        costs.append(squared_error(network(x), 0.25).item())
    last.biases.data[...] = b
    assert np.isclose((costs[0] - costs[1]) / (2 * eps), last.biases.grad.item(), rtol=1e-6)


def test_07_verdicts_of_the_newton_runs_are_those_of_the_closed_form_hessian():
    """07: g = x³ − 3x + y³ − 3y; at each point found the Hessian is diag(6x, 6y): both positive a minimum, both
    negative a maximum, mixed a saddle; stationary_point's default zero_tol (round 36) gives those verdicts."""
    namespace: dict = {}
    exec(compile(code_cell("07_second_derivatives", "from tinygrad_edu.calculus"), "<07 imports>", "exec"), namespace)
    source = code_cell("07_second_derivatives", "found = [stationary_point")
    exec(compile(source.split("for point in found")[0], "<07 Newton>", "exec"), namespace)
    found = namespace["found"]
    assert len(found) == 6
    for point in found:
        x, y = point.point
        assert np.allclose(np.abs(point.point), 1, atol=1e-9)  # ∇g = (3x² − 3, 3y² − 3) = 0
        signs = {np.sign(6 * x), np.sign(6 * y)}
        expected = "minimum" if signs == {1} else "maximum" if signs == {-1} else "saddle"
        assert point.kind == expected, (point.point, point.kind)
    assert {point.kind for point in found} == {"minimum", "maximum", "saddle"}
