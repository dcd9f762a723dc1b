"""A teacher prints the dependency tree and the player's steps for slides: the seed's notation as it is drawn.

Found by an exploratory pass that rendered the drawings (rsvg-convert, headless Chromium) and looked at them: the
underscore of the seed's ``w_3`` ran into the number on the line below (``= 0̄.7``), the exponential's ``e^z²`` could
be read as (e^z)², and ``min``, ``maximum``, ``softmax`` and the operations that only move numbers had no local
derivative written out.  Every formula is checked against the engine's own numbers and closed forms.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn, ops, viz
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.engine import local_gradients
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import forward_formula, local_formula, tree_steps


def _text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _seed_last_layer() -> tuple[Value, Value]:
    """The seed's section 6.3 as labelled there: z^L = w_3·α^(L−1) + b_3, α^L = σ(z^L), C = (α^L − y_true)²."""
    w, b = Value(0.7, label="w_3"), Value(-0.2, label="b_3")
    z = w * 0.6 + b
    z.label = "z^L"
    alpha = z.sigmoid()
    alpha.label = "α^L"
    cost = (alpha - Value(0.9, requires_grad=False, label="y_true")) ** 2
    return cost, w


# --- defects ------------------------------------------------------------------------------------------------------
def test_the_tree_drawing_writes_the_seeds_index_below_the_line_as_a_subscript():
    cost, _ = _seed_last_layer()
    source = viz.draw_dependency_tree(cost).source
    assert "<B>w₃</B>" in source and "<B>b₃</B>" in source
    assert "∂zᴸ/∂w₃ = αᴸ⁻¹" in source and "∂C/∂w₃ = " in source and "∂zᴸ/∂b₃ = 1" in source
    assert not re.search(r"[^\W\d_]_\d", source)  # no letter, underscore, digit left anywhere in the drawing
    assert "y_true" in source  # a name's other underscores are no index: kept


def test_an_exponential_layers_formula_puts_its_layer_index_inside_the_exponent():
    net = nn.Network(nn.Layer(1, 1, F.exp, rng=0), nn.Layer(1, 1, F.exp, rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    tree = dependency_tree(cost)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    for i, written in ((1, "z¹"), (2, "z²")):
        edge = edges[(f"z^{i}", f"α^{i}")]
        assert edge.formula == f"e^({written})"
        # the formula evaluated: e to the power of the z of layer i, the engine's local derivative
        assert edge.number == pytest.approx(math.exp(tree.nodes[f"z^{i}"].data), rel=1e-12)
    alpha = Value(0.3, label="z^2").exp()
    assert forward_formula(alpha, ["z²"]) == "e^(z²)" and local_formula(alpha, 0, ["z²"]) == "e^(z²)"
    forward = [_text_of(step.html) for step in tree_steps(cost, tree) if step.phase == "forward"]
    assert any("α² = e^(z²)" in text for text in forward)


def _maker(op: str):
    """One small graph per built-in operation, its inputs single numbers or a short vector."""
    v = lambda: Value(np.array([0.7, -0.2, 1.5]))  # noqa: E731
    s = lambda: Value(0.7)  # noqa: E731
    return {
        "abs": lambda: abs(s()), "add": lambda: s() + Value(0.3), "sub": lambda: s() - Value(0.3),
        "mul": lambda: s() * Value(0.3), "div": lambda: s() / Value(0.3), "pow": lambda: s() ** Value(3.0),
        "neg": lambda: -s(), "exp": lambda: s().exp(), "log": lambda: s().log(), "sqrt": lambda: s().sqrt(),
        "tanh": lambda: s().tanh(), "sigmoid": lambda: s().sigmoid(), "relu": lambda: s().relu(),
        "leaky_relu": lambda: F.leaky_relu(s()), "softplus": lambda: F.softplus(s()),
        "sigmoid_slope": lambda: ops.sigmoid_slope(s()), "tanh_slope": lambda: ops.tanh_slope(s()),
        "log_softmax_grad": lambda: ops.log_softmax_grad(v(), F.log_softmax(v())),  # (round 39)
        "sum": lambda: v().sum(), "mean": lambda: v().mean(), "max": lambda: v().max(), "min": lambda: v().min(),
        "matmul": lambda: Value(np.ones((1, 2))) @ Value(np.ones((2, 1))), "maximum": lambda: F.maximum(s(), 0.3),
        "softmax": lambda: F.softmax(v()), "log_softmax": lambda: F.log_softmax(v()),
        "squared_error": lambda: squared_error(s(), 0.3), "copy": lambda: ops.copy(s()),
        "astype": lambda: ops.astype(s(), dtype=np.float32), "broadcast_to": lambda: ops.broadcast_to(s(), shape=(3,)),
        "reshape": lambda: v().reshape(3, 1), "transpose": lambda: v().reshape(1, 3).T, "index": lambda: v()[2],
        "scatter": lambda: ops.scatter(s(), shape=(3,), key=1),
        # (round 38: built in too, with their settings shown)
        "where": lambda: F.where([True, False, True], v(), 0.3), "concatenate": lambda: F.concatenate([v(), v()]),
        "stack": lambda: F.stack([v(), v()], axis=1),
    }[op]


def test_every_built_in_operation_has_its_local_derivative_written_out():
    missing = []
    for op in sorted(ops.BUILT_IN):
        node = _maker(op)()
        assert node.op == op
        names = [f"x{i}" for i in range(len(node.parents))]
        missing += [f"{op}[{i}]" for i in range(len(names)) if not local_formula(node, i, names)]
    assert missing == []


def _engine_jacobian(node: Value, position: int = 0) -> np.ndarray:
    """∂node/∂(input ``position``) by the engine's own vjps, row j the vjp of the unit vector e_j."""
    rows = []
    for j in range(node.size):
        unit = np.zeros(node.size)
        unit[j] = 1.0
        rows.append(next(np.asarray(g, float).reshape(-1) for i, _, g in local_gradients(node, unit.reshape(node.shape))
                         if i == position))
    return np.array(rows)


@pytest.mark.parametrize(("a", "b"), [(0.7, 0.3), (0.3, 0.7), (0.5, 0.5)], ids=["a>b", "a<b", "tie"])
def test_min_and_maximum_formulas_state_the_engines_numbers(a, b):
    node = F.maximum(Value(a), Value(b))
    forms = [local_formula(node, i, ["a", "b"]) for i in (0, 1)]
    assert forms == ["1 where a > b, ½ where they are equal, 0 elsewhere",
                     "1 where b > a, ½ where they are equal, 0 elsewhere"]
    stated = [1.0 if x > y else 0.5 if x == y else 0.0 for x, y in ((a, b), (b, a))]  # the formula, evaluated
    engine = [float(g) for _, _, g in local_gradients(node, np.ones(()))]
    assert engine == stated
    values = np.array([a, b, min(a, b)])  # the minimum twice: a tie of two
    smallest = Value(values).min()
    assert local_formula(smallest, 0, ["v"]) == "1 at the minimum (shared equally by ties), 0 elsewhere"
    at_minimum = values == values.min()
    np.testing.assert_array_equal(_engine_jacobian(smallest)[0], at_minimum / at_minimum.sum())


def test_softmax_formulas_are_the_engines_jacobian():
    x = np.array([0.7, -0.2, 1.5])
    s = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    soft, log_soft = F.softmax(Value(x)), F.log_softmax(Value(x))
    assert local_formula(soft, 0, ["x"]) == "sᵢ(δᵢⱼ − sⱼ), s = softmax(x)"
    assert local_formula(log_soft, 0, ["x"]) == "δᵢⱼ − softmax(x)ⱼ"
    delta = np.eye(3)
    np.testing.assert_allclose(_engine_jacobian(soft), s[:, None] * (delta - s[None, :]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_engine_jacobian(log_soft), delta - s[None, :], rtol=1e-12, atol=1e-15)


# --- guards -------------------------------------------------------------------------------------------------------
def test_guard_the_text_outputs_keep_the_seeds_w_3_and_its_chain_is_the_closed_form():
    """What the drawing writes w₃ stays w_3 in the tree's names and symbols (a teacher types them); the player's steps,
    shown beside the drawing, write it w₃ as the drawing does (round 38: they wrote w_3 next to the drawing's w₃)."""
    cost, w = _seed_last_layer()
    tree = dependency_tree(cost)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("w_3", "z^L")].symbol == "∂zᴸ/∂w_3"
    a = _sigmoid(0.7 * 0.6 - 0.2)
    assert tree.chain_rule("w_3") == pytest.approx(0.6 * a * (1 - a) * 2 * (a - 0.9), rel=1e-12)
    assert tree.chain_rule("w_3") == pytest.approx(float(w.grad), rel=1e-12)
    texts = [_text_of(step.html) for step in tree_steps(cost, tree)]
    assert any("zᴸ = w₃ · αᴸ⁻¹ + b₃" in text for text in texts)


def test_guard_a_plain_exponent_keeps_no_parentheses_and_a_sigmoid_layer_keeps_its_formula():
    """e^x, not e^(x); σ′(z²) as before: only an exponent with an exponent of its own is put in parentheses."""
    x = Value(0.4).exp()
    assert forward_formula(x, ["x"]) == "e^x" and local_formula(x, 0, ["x"]) == "e^x"
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    tree = dependency_tree(squared_error(net(np.array([0.5])), np.array([0.25])))
    (edge,) = [e for e in tree.edges if e.child == "α^2"]
    z = tree.nodes["z^2"].data
    assert edge.formula == "σ′(z²)" and edge.number == pytest.approx(_sigmoid(z) * (1 - _sigmoid(z)), rel=1e-12)
