"""Edges found by mutation testing of ``dependency_tree.py`` and ``notation.py`` (second pass, after
test_tree_notation_mutants.py): each test pins a behaviour that a hand-made mutant (a wrong superscript or character
class, a wrong derivative formula, a dropped check, an off-by-one, a wrong order or message) changed while the other
tests passed.

80 mutants (54 of ``dependency_tree.py``, 26 of ``notation.py``); 19 killed before these tests, 72 after.  No defect
found.  (Screened with tests/test_dependency_tree.py, test_tree_notation_mutants.py, test_drawing_steps_edges.py and
``--doctest-modules tinygrad_edu/dependency_tree.py tinygrad_edu/notation.py``.)

Equivalent mutants, left without a test:

- ``DependencyTree.chain_rule`` taking the oldest ready node (``ready.pop(0)``): Kahn's walk passes a total on only
  once it is complete, in any order; only the order of additions changes.
- ``chain_lines`` without ``name != self.cost``: the cost's kind is always "cost" (``_kind`` asks first), never
  "weight" or "bias".
- ``dependency_tree`` without its ``key.size != 1`` check: every node but the cost is first an input in
  ``_local_derivatives``, which refuses an input of another size before the node is queued; the cost is checked
  on entry.
- ``format_number`` without ``isinstance(x, bool)`` in its second test: a bool is no float, numpy number or array,
  so it is refused there anyway with the same message.
- ``notation._mean`` with ``np.isinf(mean)`` for ``not np.isfinite(mean)``: a NaN mean of an array without NaN
  comes from +inf and -inf, whose recomputed sum is NaN as well.
- ``pretty`` taking ``^(L-1-2)`` whole (``(?:[-−][0-9]+)*``): ``ᴸ⁻¹⁻²`` reads as the label did, the promise of its
  docstring.
- ``_formula`` accepting ``len(subs) >= 1``: another difference in the region of a single square lies under the
  squared one, where ``2(α − value)`` is still the edge's derivative; the mutant writes a correct formula where the
  code writes none.
- ``network_input`` walking under z¹ last-found first (``stack.pop()``): the order matters only with two products by
  the first weights under z¹, which ``dependency_tree`` refuses (W¹ used by two operations).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_player import two_uses

from tinygrad_edu import Value, nn
from tinygrad_edu.demo import chain_cost
from tinygrad_edu.dependency_tree import dependency_tree, network_input
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number, left_out_note, pretty, printable, summary


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# notation.py


@pytest.mark.parametrize(("label", "shown"), [("W^(L−1)", "Wᴸ⁻¹"), ("x^−1", "x⁻¹"),  # the seed's minus sign, U+2212
                                              ("W^(L+1)", "W^(L+1)"), ("x^2y", "x^2y"), ("e^Lx", "e^Lx")])
def test_pretty_writes_only_whole_exponents_as_superscripts(label, shown):
    """The seed writes L − 1 with a real minus; ᴸ+1 or x²y would read as another expression than the label's."""
    assert pretty(label) == shown


def test_pretty_and_printable_take_what_they_promise():
    """pretty names its str argument; printable writes anything as str() does and blanks NUL, DEL, LS and LRM."""
    with pytest.raises(TypeError, match="^pretty: label must be a str, got int$"):
        pretty(3)
    assert printable(3) == "3"
    assert printable("a\x00b\x7fc\u2028d\u200ee") == "a b c d e"


def test_format_number_takes_real_numbers_only_with_0_to_17_digits():
    """True and a complex number are not real numbers to draw; an unsigned int is.  17 digits tell 0.1 from the
    nearest decimal; 0 digits shows one, as Python's format does."""
    for bad in (True, np.complex128(1 + 2j)):
        with pytest.raises(TypeError, match="^format_number: x must be a real number"):
            format_number(bad)
    assert format_number(np.uint8(3)) == "3"
    assert format_number(0.1, 17) == "0.10000000000000001" and format_number(1.5, 0) == "2"


def test_summary_of_no_gradient_of_nothing_of_one_number_and_of_a_value():
    """"–" (an en dash) for None, "empty" for no numbers, a single element as a number, a Value by its numbers."""
    assert summary(None) == "–" and summary([]) == "empty"
    assert summary([2.5]) == "2.5" and summary(Value(2.5)) == "2.5"


def test_the_mean_of_numbers_whose_sum_overflows_is_finite():
    """(1e308 + 1e308) / 2 = 1e308, though the sum is inf in float64."""
    assert summary([1e308, 1e308]) == "min 1e+308 · mean 1e+308 · max 1e+308"


def test_left_out_note_refuses_a_negative_count():
    with pytest.raises(ValueError, match="left_out_note: shown must be an integer >= 0, got -1"):
        left_out_note(-1, 3)


# dependency_tree.py


def test_layers_from_the_tenth_on_are_still_layers():
    """α¹⁰ is an activation and W¹⁰ a weight (with its chain) in a ten-layer chain, not "other" Values."""
    tree = dependency_tree(chain_cost(layers=10))
    assert tree.nodes["α^10"].kind == "activation" and tree.nodes["W^10"].kind == "weight"
    assert tree.nodes["α^0"].kind == "input" and tree.nodes["α^0"].grad is None  # a constant has no gradient


def _hand_made(*, y_label: str | None = "y", power: float = 2.0, n_labels: int = 0) -> Value:
    """C = (σ(w·2 + b) − y)^power by hand, 2 unlabelled (the input α⁰)."""
    w, b = Value(0.5, label="w"), Value(-0.25, label="b")
    z = w * Value(2.0, requires_grad=False) + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    y = Value(0.25, requires_grad=False, label=y_label)
    cost = (a - y) ** power
    cost.label = "C"
    return cost


def test_a_labelled_target_of_a_written_out_square_is_an_input_with_its_edge():
    """C = (α − y)²: ∂C/∂y = −2(α − y), by hand with α = σ(0.5·2 − 0.25) = σ(0.75)."""
    tree = dependency_tree(_hand_made())
    (edge,) = [e for e in tree.edges if e.parent == "y"]
    assert edge.child == "C" and edge.formula == "−2(α − y)"
    assert edge.number == pytest.approx(-2 * (_sigmoid(0.75) - 0.25), rel=1e-12)
    assert tree.nodes["y"].kind == "input" and tree.nodes["w"].kind == "weight"


def test_a_cube_has_no_squares_formula():
    """∂(α − y)³/∂α = 3(α − y)², not 2(α − y): the edge keeps its number and no formula."""
    tree = dependency_tree(_hand_made(power=3.0))
    (edge,) = [e for e in tree.edges if e.parent == "α"]
    assert edge.formula == "" and edge.number == pytest.approx(3 * (_sigmoid(0.75) - 0.25) ** 2, rel=1e-12)


def test_a_difference_times_something_else_is_not_a_square():
    """C = (α − 0.25)·k: ∂C/∂α = k = 3, not 2(α − 0.25)."""
    a, k = Value(0.5, label="α"), Value(3.0, label="k")
    cost = (a - 0.25) * k
    cost.label = "C"
    (edge,) = [e for e in dependency_tree(cost).edges if e.parent == "α"]
    assert edge.formula == "" and edge.number == 3.0


@pytest.mark.parametrize(("activation", "formula", "derivative"), [
    ("tanh", "1 − tanh²(z¹)", lambda z: 1 - math.tanh(z) ** 2),
    ("relu", "ReLU′(z¹)", lambda z: float(z > 0)),
    ("softplus", "σ(z¹)", _sigmoid)])
def test_each_activations_edge_has_the_seeds_derivative(activation, formula, derivative):
    """∂α¹/∂z¹ is written as the activation's derivative, and its number is that derivative at z¹."""
    net = nn.Network(nn.Layer(1, 1, activation, rng=3))
    net.layers[0].weights.data[...] = 0.5
    net.layers[0].biases.data[...] = 0.25
    tree = dependency_tree(squared_error(net(np.array([0.5])), np.array([0.1])))
    (edge,) = [e for e in tree.edges if e.child == "α^1"]
    assert edge.formula == formula and edge.number == pytest.approx(derivative(0.5), rel=1e-12)


def test_an_exp_and_a_squashed_product_have_their_own_formulas():
    """∂e^z/∂z = e^z; α = σ(2z) is not σ(z): its edge has the number 2σ′(2z) and no formula."""
    z = Value(0.3, label="z")
    e, s = z.exp(), (z * 2.0).sigmoid()
    e.label, s.label = "α^1", "α^2"
    cost = e + s
    cost.label = "C"
    edges = {e.child: e for e in dependency_tree(cost).edges if e.parent == "z"}
    assert edges["α^1"].formula == "e^z" and edges["α^1"].number == pytest.approx(math.exp(0.3), rel=1e-12)
    assert edges["α^2"].formula == ""
    assert edges["α^2"].number == pytest.approx(2 * _sigmoid(0.6) * (1 - _sigmoid(0.6)), rel=1e-12)


def test_a_weight_scaled_again_has_no_formula_and_a_branching_sum_none_either():
    """z = (w·a)·3: ∂z/∂w = 3a, not a.  z = 2u + 3u with u = b + 1: ∂z/∂b = 5, not 1, and the edge says it
    branches."""
    w, a = Value(0.5, label="w"), Value(1.5, label="a")
    z = (w * a) * 3.0
    z.label = "z"
    (edge,) = [e for e in dependency_tree(z).edges if e.parent == "w"]
    assert edge.formula == "" and edge.number == pytest.approx(4.5)
    b = Value(0.5, label="b")
    u = b + 1.0
    z = (u * 2.0 + u * 3.0) + 1.0
    z.label = "z"
    (edge,) = dependency_tree(z).edges
    assert edge.formula == "" and edge.branching and edge.number == pytest.approx(5.0)


def test_a_weight_that_is_the_cost_times_a_constant_has_no_chain_to_multiply():
    """C = 3w: one factor, so no chain line."""
    w = Value(0.5, label="w")
    cost = w * 3.0
    cost.label = "C"
    assert dependency_tree(cost).chain_lines("w") == []


def test_a_parameter_used_by_three_operations_is_refused():
    w = Value(0.5, label="w")
    cost = w * 2.0 + w * 3.0 + w.tanh()
    cost.label = "C"
    with pytest.raises(ValueError, match="'w' is used by 3 operations"):
        dependency_tree(cost)


def test_a_cost_without_labelled_values_is_refused():
    """Only unlabelled parameters: nothing of the seed's tree to show."""
    cost = Value(0.5) * Value(2.0)
    with pytest.raises(ValueError, match="no labelled Values found"):
        dependency_tree(cost)


def test_a_tree_method_names_a_name_that_is_not_a_str():
    tree = dependency_tree(chain_cost(layers=1))
    with pytest.raises(TypeError, match=r"^DependencyTree.path: name must be a node's name \(a str such as 'W\^1'\)"):
        tree.path(3)


def test_a_tree_of_exactly_eight_nodes_is_shown_whole():
    """"…" says names are left out; with eight nodes none is."""
    w, b, c = (Value(v, label=n) for v, n in ((0.5, "w"), (0.25, "b"), (1.0, "c")))
    z = w * 2.0 + b
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    u = a * c
    u.label = "u"
    cost = u * u
    cost.label = "C"
    tree = dependency_tree(cost)
    assert len(tree.nodes) == 8 and "…" not in repr(tree) and "; 8 nodes: C, u, c, α, z, w, α⁰, b; " in repr(tree)


def test_a_gradient_off_by_a_small_fraction_or_tiny_amount_is_still_refused():
    """A .grad that differs from the chain rule by 1e-7 relative, or by 1e-9 on a gradient of 1e-9, holds
    something else; float64's tolerance is sqrt(eps) ≈ 1.5e-8."""
    cost = chain_cost(layers=2)
    weight = next(v for v in nearest_values(cost)[0] if v.label == "W^1")
    weight.grad = weight.grad * (1 + 1e-7)
    with pytest.raises(ValueError, match="W\\^1.grad is"):
        dependency_tree(cost)
    w = Value(0.5, label="w")
    cost = w * 1e-9
    cost.label = "C"
    cost.backward()
    cost.backward()
    with pytest.raises(ValueError, match="other backward passes"):
        dependency_tree(cost)


def test_the_input_of_a_hand_made_first_layer_is_found_under_z():
    """z = w·2 + b with 2 unlabelled: x is α⁰; for a network, the constant under z¹ (not α¹'s σ)."""
    cost = _hand_made()
    x = network_input(nearest_values(cost)[0])
    assert x is not None and float(x.data) == 2.0
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0))
    cost = squared_error(net(np.array([0.7])), np.array([0.1]))
    x = network_input(nearest_values(cost)[0])
    assert x is not None and float(x.data.reshape(())) == 0.7


def test_a_parameter_used_by_two_operations_is_refused_by_name():
    """C = 2w + tanh w in one edge would hide the two paths ∂C/∂w adds up."""
    w = Value(0.5, label="w")
    cost = w * 2.0 + w.tanh()
    cost.label = "C"
    with pytest.raises(ValueError, match="'w' is used by 2 operations"):
        dependency_tree(cost)


def test_a_labelled_constant_that_is_neither_input_nor_target_is_folded_into_the_edge():
    """C = 3a with k = 3 a labelled constant: k needs no gradient, so the edge a → C carries it (∂C/∂a = 3)."""
    a, k = Value(0.5, label="a"), Value(3.0, requires_grad=False, label="k")
    cost = a * k
    cost.label = "C"
    tree = dependency_tree(cost)
    assert set(tree.nodes) == {"C", "a"} and [(e.parent, e.number) for e in tree.edges] == [("a", 3.0)]


def test_a_result_labelled_w_is_a_weight():
    """``w`` is a hand-made graph's weight (notation.LAYER_LABEL), also when it is computed (a tied weight)."""
    w = Value(0.25) * 2.0
    w.label = "w"
    cost = w * 3.0
    cost.label = "C"
    assert dependency_tree(cost).nodes["w"].kind == "weight"


@pytest.mark.parametrize("order", range(3))
def test_a_nodes_inputs_are_weights_then_activations_then_the_input_then_biases(order):
    """z = 2w + v·α¹ + b, its terms in any order: the tree lists W·α's factors before α⁰ and the bias last."""
    t, w, v, b = Value(0.3, label="t"), Value(0.5, label="w"), Value(0.7, label="v"), Value(0.1, label="b")
    a = t.sigmoid()
    a.label = "α^1"
    terms = [w * 2.0, v * a, b]
    z = terms[order] + terms[(order + 1) % 3] + terms[(order + 2) % 3]
    z.label = "z"
    cost = z * 1.0
    cost.label = "C"
    parents = [e.parent for e in dependency_tree(cost).edges if e.child == "z"]
    assert sorted(parents[:2]) == ["v", "w"] and parents[2:] == ["α^1", "α^0", "b"]


def test_a_sum_over_uses_writes_each_term_as_the_users_gradient_times_the_local_derivative():
    """Σ ∂C/∂(user)·∂(user)/∂w, in that order: for m = w·a, ∂C/∂m = 2u with u = 1.4 + tanh 0.7, and ∂m/∂w = a = 2."""
    tree = dependency_tree(two_uses())
    u = 1.4 + math.tanh(0.7)
    assert f"{format_number(2 * u)}·2" in tree.chain_lines("w")[0]
    assert repr(tree).endswith("; 4 nodes: C, m, t, w; 4 edges)")  # a node with two uses: as many edges as nodes


def test_chain_lines_checks_its_width_and_precision():
    tree = dependency_tree(chain_cost(layers=2))
    with pytest.raises(ValueError, match="width"):
        tree.chain_lines("W^1", width=0)
    with pytest.raises(ValueError, match="DependencyTree.chain_lines: precision"):
        tree.chain_lines("W^1", precision=0)


def test_a_labelled_constant_taken_away_under_z_is_no_target():
    """Only what is taken away under the cost is the seed's y′: z = 2w − k folds k into its edge."""
    w, k = Value(0.5, label="w"), Value(0.1, requires_grad=False, label="k")
    z = w * 2.0 - k
    z.label = "z"
    cost = z * 1.0
    cost.label = "C"
    tree = dependency_tree(cost)
    assert "k" not in tree.nodes and [(e.parent, e.number) for e in tree.edges if e.child == "z"][0][1] == 2.0


def test_wrong_arguments_are_named():
    """A cost that is no Value, nodes that are no list, and a name the tree does not have (the names sorted)."""
    with pytest.raises(TypeError, match=r"^dependency_tree: expected a Value \(the cost\), got float$"):
        dependency_tree(3.0)
    with pytest.raises(TypeError, match="^network_input: nodes must be a list of Values, got str"):
        network_input("x")
    tree = dependency_tree(chain_cost(layers=1))
    names = r"\['C', 'W\^1', 'b\^1', 'z\^1', 'α\^0', 'α\^1'\]"  # sorted: Latin capitals, small letters, then Greek
    with pytest.raises(KeyError, match=f"no node named 'W'; nodes are {names}"):
        tree.path("W")


def test_a_nan_left_in_a_gradient_by_another_pass_is_refused():
    """W¹.grad NaN (a diverged earlier pass) while the chain rule through this cost is finite: the drawing would
    contradict itself, so it is refused (only a NaN on both sides, a NaN cost, is drawn)."""
    cost = chain_cost(layers=2)
    weight = next(v for v in nearest_values(cost)[0] if v.label == "W^1")
    weight.grad = weight.grad + math.nan
    with pytest.raises(ValueError, match="other backward passes"):
        dependency_tree(cost)
