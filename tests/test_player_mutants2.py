"""Edges found by a second mutation pass over ``player.py``, aimed at what the first (test_player_mutants.py) left
open: the forward and local formulas of each operation, the names that get parentheses as a base, the checks of
the formula functions, the names display_names gives, the text of the forward and backward steps, the tree's
folded operations and constants, and the page's data (the steps as JSON, the ``#step=N`` switch, the step count).
182 mutants of ``tinygrad_edu/player.py`` (none repeating the first pass's); 105 killed before these tests, 172
after, 9 equivalent.  The run found one defect, fixed with the test that failed before: a label holding ``<!--``
(which a step's title carries as it is) was written ``<\\!--`` into the page's data, an escape JSON does not have,
so the page's JSON.parse threw and no step was shown; it is now ``\\u003c!--``, and the one mutant left (the
``<!--`` replacement dropped) is killed by that test.  Screened with test_player.py (its Chromium tests deselected),
test_player_mutants.py, test_drawing_steps_edges.py, test_dependency_tree.py, test_viz.py, test_viz_edges.py,
test_viz_mutants.py, test_display.py, test_small_modules_mutants.py, test_reprs_half_built.py,
test_public_names.py, the player's cases of test_api_misuse.py and the module's doctest.

Equivalent mutants, left without a test:

- ``display_names`` sorting ties by ``-id(node)`` instead of ``id(node)``: only a constant made from an array
  shares its number (``_order``) with another Value, and constants are not counted (only operations get ``mul₁``).
- ``_backward_step``'s first line naming ``∂C/∂(the node)`` instead of ``∂C/∂C``: that step is the output's, so the
  two names are one.
- ``_esc`` without ``quote=True``: escaped text never lands inside an attribute of a step's HTML.
- ``_gradients`` seeding with float64 ones whatever the output's dtype: the engine casts every upstream gradient
  to its node's dtype, so only the output's own 1 differs, and it reads 1 either way.
- ``_operand`` without ``pretty`` for a tree node's name: the whole formula goes through ``pretty`` in ``_esc``,
  and no formula puts an exponent's ``^`` straight after a name (a raised base gets parentheses).
- ``_constant_names`` calling every folded constant ``constant``, not ``constant[3]``: a folded constant is always
  a single number (the tree refuses an operation with an input of another size on the way to a drawn Value, and a
  number with a tensor gives a tensor).
- ``_backward_step`` saying "A parameter" for any leaf: ``backward_order`` holds only Values that need a
  gradient, so every leaf in it is a parameter (one whose ``requires_grad`` was turned off is left out too).
- ``local_formula`` writing ∂(x/y)/∂x as ``1/(y²)`` instead of ``1/y²`` for a raised name: both read the same.
- ``_RAISED`` without ``⁻``: ``pretty`` writes ``⁻`` only before a superscript digit or ``ᴸ``, which are in the set
  (a hand-typed superscript letter such as ``xⁿ`` is not recognised either way).
"""

from __future__ import annotations

import html
import json
import math
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from helpers_player import (  # a cost's steps (nearest_values, display_names, backprop_steps); a step's visible text
    player_steps,
    text_of,
)

from tinygrad_edu import Op, Value
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import DependencyTree, dependency_tree
from tinygrad_edu.engine import local_gradients
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.player import (
    BackpropPlayer,
    Step,
    backprop_steps,
    display_names,
    forward_formula,
    local_formula,
    tree_steps,
)

# ------------------------------------------------------------------------------------------ each operation's formulas

_X = 0.7
_V = [0.7, -0.2, 1.5]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# (the operation on x = 0.7 or v = (0.7, −0.2, 1.5), its forward formula, its local derivative as written, and that
# derivative worked out in floats: the engine's local gradient must be it, so the written formula is the right one)
_ONE_INPUT = [
    ("exp", lambda x: x.exp(), "e^x", "e^x", math.exp),
    ("log", lambda x: x.log(), "ln x", "1/x", lambda x: 1 / x),
    ("sqrt", lambda x: x.sqrt(), "√x", "1/(2√x)", lambda x: 1 / (2 * math.sqrt(x))),
    ("abs", abs, "|x|", "sign(x)", lambda x: -1.0),  # (at x = −0.7: the sign is −1)
    ("tanh", lambda x: x.tanh(), "tanh(x)", "1 − tanh²(x)", lambda x: 1 - math.tanh(x) ** 2),
    ("sigmoid", lambda x: x.sigmoid(), "σ(x)", "σ′(x) = σ(x)(1 − σ(x))", lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    ("relu", lambda x: x.relu(), "max(x, 0)", "ReLU′(x): 1 where x > 0, else 0", lambda x: 1.0),
    ("neg", lambda x: -x, "−x", "−1", lambda x: -1.0),
    ("leaky_relu", F.leaky_relu, "leaky_relu(x, negative_slope=0.01)", "LeakyReLU′(x): 1 where x > 0, else 0.01",
     lambda x: 1.0),
    ("softplus", F.softplus, "softplus(x)", "σ(x)", _sigmoid),
]


@pytest.mark.parametrize(("op", "make", "forward", "local", "derivative"), _ONE_INPUT, ids=[r[0] for r in _ONE_INPUT])
def test_each_element_wise_operation_has_its_seed_formulas_and_they_are_the_engines_derivative(
        op, make, forward, local, derivative):
    """The forward formula and the local derivative of each one-input operation, as the steps write them; an
    operation without a formula of its own (leaky_relu, softplus) is written as its name applied to the input, with
    its setting (leaky_relu's slope)."""
    x = Value(-_X if op == "abs" else _X)
    node = make(x)
    assert node.op == op
    assert forward_formula(node, ["x"]) == forward
    assert local_formula(node, 0, ["x"]) == local
    (_, _, number), = local_gradients(node, np.ones(node.shape))
    assert float(number) == pytest.approx(derivative(float(x.data)))


_REDUCTIONS = [
    ("sum", lambda v: v.sum(), "Σ v", "1 for every element", [1.0, 1.0, 1.0]),
    ("mean", lambda v: v.mean(), "mean(v)", "1/3 for every element", [1 / 3, 1 / 3, 1 / 3]),
    ("max", lambda v: v.max(), "max(v)", "1 at the maximum (shared equally by ties), 0 elsewhere", [0.0, 0.0, 1.0]),
    ("reshape", lambda v: v.reshape(3, 1), "reshape(v, shape=(3, 1))", "1 (the numbers only move)", [1.0, 1.0, 1.0]),
    ("transpose", lambda v: v.reshape(1, 3).T, "transpose(v)", "1 (the numbers only move)", [1.0, 1.0, 1.0]),
    ("index", lambda v: v[2], "v[2]", "1 for the picked elements", [0.0, 0.0, 1.0]),
]


@pytest.mark.parametrize(("op", "make", "forward", "local", "derivative"), _REDUCTIONS, ids=[r[0] for r in _REDUCTIONS])
def test_each_reduction_and_move_has_its_formulas_and_they_are_the_engines_derivative(
        op, make, forward, local, derivative):
    """v = (0.7, −0.2, 1.5): the sums, the maximum and the operations that only move numbers (reshape; transpose of
    a 1×3 reshaped v, whose own input is named v here; v[2] picks 1.5)."""
    v = Value(_V)
    node = make(v)
    assert node.op == op
    assert forward_formula(node, ["v"]) == forward
    assert local_formula(node, 0, ["v"]) == local
    (_, _, number), = local_gradients(node, np.ones(node.shape))
    assert np.asarray(number).reshape(-1).tolist() == pytest.approx(derivative)


def test_an_operation_of_several_inputs_without_a_formula_is_written_as_its_name_applied_to_them():
    """blend(a, b), an Op of one's own: every input named, comma-separated (not only the first); its local derivative
    has no formula.  (Round 38: stack, which this used, now writes its own, with its axis: stack([a, b], axis=0).)"""
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    blend = Op("blend", lambda a, b: a + 2 * b, (lambda g, out, a, b: g, lambda g, out, a, b: 2 * g))
    blended = blend(a, b)
    assert forward_formula(blended, ["a", "b"]) == "blend(a, b)"
    assert local_formula(blended, 1, ["a", "b"]) == ""
    stacked = F.stack([a, b])
    assert forward_formula(stacked, ["a", "b"]) == "stack([a, b], axis=0)"
    assert local_formula(stacked, 1, ["a", "b"]) == "1 for its own slice, index 1 along axis 0"


def test_the_second_input_of_a_quotient_and_of_a_power_get_their_own_derivatives():
    """∂(x/y)/∂y = −x/y², checked against the engine at x = 3, y = 2 (−0.75); ∂(x^y)/∂y = x^y · ln x, with the base
    in parentheses when its name already has an exponent: (x²)^y · ln x²."""
    x, y = Value(3.0), Value(2.0)
    quotient = x / y
    assert local_formula(quotient, 1, ["x", "y"]) == "−x/y²"
    assert float(next(g for i, _, g in local_gradients(quotient, 1.0) if i == 1)) == pytest.approx(-0.75)
    assert local_formula(x ** y, 1, ["x", "y"]) == "x^y · ln x"
    assert local_formula(x ** y, 1, ["x²", "y"]) == "(x²)^y · ln x²"


def test_a_vector_times_a_matrix_transposes_only_the_matrix():
    """v @ W with v of 2 numbers and W 2×3: ∂/∂v is Wᵀ, ∂/∂W is v (a vector has no transpose to write)."""
    product = Value(np.ones(2)) @ Value(np.ones((2, 3)))
    assert local_formula(product, 0, ["v", "W"]) == "Wᵀ"
    assert local_formula(product, 1, ["v", "W"]) == "v"


# ------------------------------------------------------------------------------------------------ names as a base


@pytest.mark.parametrize(("name", "base"), [
    ("x⁻¹", "(x⁻¹)"),  # a negative exponent
    ("x^a", "(x^a)"),  # an exponent pretty leaves as it is
    ("x³", "(x³)"),
    ("(a)·(b²)", "((a)·(b²))"),  # two groups, not one: the first closes before the end
    ("(a²", "((a²)"),  # opens but never closes: not one group either
    ("(w − y²)", "(w − y²)"),  # one group already
    ("x", "x"),
])
def test_a_name_with_an_exponent_is_put_in_parentheses_as_a_base_unless_it_is_one_group(name, base):
    assert forward_formula(Value(1.7) ** 2.0, [name, "2"]) == f"{base}^2"


def test_the_power_rule_keeps_b_minus_1_unless_the_exponent_is_shown_as_its_own_number():
    """x^n with the constant exponent 2 called n: n·x^(n − 1) (working out 2 − 1 would mix a name and a number); an
    exponent of several numbers: the same form (it has no single number); x^2.125: 2.125·x^1.125, to all its
    digits."""
    x = Value(1.7)
    assert local_formula(x ** 2.0, 0, ["x", "n"]) == "n·x^(n − 1)"
    assert local_formula(x ** Value([2.0, 3.0], requires_grad=False), 0, ["x", "e"]) == "e·x^(e − 1)"
    assert local_formula(x ** 2.125, 0, ["x", "2.125"]) == "2.125·x^1.125"


# ---------------------------------------------------------------------------------------------- the formulas' checks


def test_the_formulas_take_a_tuple_of_names_and_a_numpy_position():
    total = Value(1.0) - Value(2.0)
    assert forward_formula(total, ("a", "b")) == "a − b"
    assert local_formula(total, np.int64(1), ("a", "b")) == "−1"


def test_the_formulas_refuse_a_leaf_and_too_few_names():
    """A leaf has no inputs to write a formula of; one name for the two inputs of an add is too few (the first pass
    checked too many)."""
    with pytest.raises(ValueError, match=r"^forward_formula: node must be an operation's result; a leaf Value"):
        forward_formula(Value(1.0), [])
    with pytest.raises(ValueError, match=r"^local_formula: node must be an operation's result"):
        local_formula(Value(1.0), 0, [])
    with pytest.raises(ValueError, match=r"^forward_formula: names must name each of the 2 inputs of the add Value, "
                                         r"got 1 names$"):
        forward_formula(Value(1.0) + Value(2.0), ["a"])


# ------------------------------------------------------------------------------------------------ display_names


def test_a_name_given_for_the_output_beats_c_and_a_label_set_to_a_number_is_its_text():
    """display_names calls the output C unless the caller names it; a label set by hand to 7 names its Value "7"
    (a str, as every name is)."""
    p = Value(0.5, label="p")
    scaled = p * 3.0
    scaled.label = 7
    cost = scaled * 2.0
    kept, _ = nearest_values(cost)
    names = display_names(kept, {id(cost): "L"})
    assert names[id(cost)] == "L" and names[id(scaled)] == "7" and isinstance(names[id(scaled)], str)
    assert display_names(kept)[id(cost)] == "C"


def test_ten_unlabelled_results_are_numbered_with_two_digit_subscripts():
    """C = x·2·2·…·2 (eleven products): mul₁ to mul₁₀ then C, each digit a subscript of its own."""
    x = Value(1.0, label="x")
    value = x
    for _ in range(11):
        value = value * 2.0
    _, steps = player_steps(value)
    titles = [s.title for s in steps if s.phase == "forward"]
    assert titles == [f"Forward {k} of 11: mul{s}" for k, s in enumerate("₁ ₂ ₃ ₄ ₅ ₆ ₇ ₈ ₉ ₁₀".split(), 1)] + \
        ["Forward 11 of 11: C"]


# ---------------------------------------------------------------------------------------------- the graph's steps


def test_the_start_and_the_result_are_about_no_drawn_value_and_the_start_lists_the_leaves_only():
    """C = 3p: the start step (node −1, nothing to highlight) has a row for each leaf, p and 3, not for C."""
    steps = player_steps(Value(0.5, label="p") * 3.0)[1]
    assert (steps[0].node, steps[-1].node) == (-1, -1)
    assert re.findall(r"<tr><td>(.*?)</td>", steps[0].html) == ["p", "3"]


def test_a_tensors_forward_step_gives_the_shapes_of_its_inputs_and_its_result():
    """C = Σ 3v, v = (1, 2): "mul₁ = v · 3 from v = shape (2,): …" and "mul₁ = shape (2,): …", each summarised."""
    v = Value([1.0, 2.0], label="v")
    forward = player_steps((v * 3.0).sum())[1][1]
    assert forward.title == "Forward 1 of 2: mul₁"
    assert text_of(forward.html) == ("mul₁ = v · 3 from v = shape (2,): min 1 · mean 1.5 · max 2 "
                                      "mul₁ = shape (2,): min 3 · mean 4.5 · max 6")


def test_a_labelled_results_exponent_is_raised_in_its_forward_title():
    """z^1 is shown z¹ in the title as in the formula."""
    w = Value(0.5, label="w")
    z = w * 2.0
    z.label = "z^1"
    forward = [s.title for s in player_steps(z * 3.0)[1] if s.phase == "forward"]
    assert forward == ["Forward 1 of 2: z¹", "Forward 2 of 2: C"]


def test_the_backward_steps_name_the_cost_by_its_label_and_the_first_lights_no_edge():
    """L = 3w: the first backward step (the cost itself) highlights nothing; w's table says what arrives is ∂L/∂·,
    and the last step's column too."""
    w = Value(0.5, label="w")
    cost = w * 3.0
    cost.label = "L"
    steps = player_steps(cost)[1]
    first, second = [s for s in steps if s.phase == "backward"]
    assert first.title == "Backward 1 of 2: ∂L/∂L" and first.edges == []
    assert "<th>arriving ∂L<span class='unbroken'>/∂·</span></th>" in second.html
    assert "<th>∂L/∂· (the steps)</th>" in steps[-1].html


def test_a_single_uses_product_is_the_gradient_to_every_digit():
    """C = 7·(x/3) at precision 17: the row shows the contribution the engine passes down (7/3 =
    2.3333333333333335), the number ∂C/∂x is, not 7 times the rounded 1/3 (2.333333333333333), and says ≈: the
    numbers printed multiply to 2.33333333333333317."""
    x = Value(2.0, label="x")
    cost = (x / 3.0) * 7.0
    kept, total = nearest_values(cost)
    step = backprop_steps(cost, kept, total, display_names(kept), precision=17)[-2]
    assert step.title == "Backward 3 of 3: ∂C/∂x"
    assert "7 × 0.33333333333333331 ≈ 2.3333333333333335 ∂C/∂x = 2.3333333333333335" in text_of(step.html)


# ---------------------------------------------------------------------------------------------- the tree's steps


@pytest.mark.parametrize(("make", "formula"), [
    (lambda w: (-w) ** 2, "(−w)²"),  # not −w², which squares before negating
    (lambda w: (w / 2.0) ** 2, "(w / 2)²"),
    (lambda w: w.exp() * 3.0, "e^w · 3"),  # a function's value needs no parentheses
])
def test_the_tree_parenthesises_folded_operations_where_they_would_misread(make, formula):
    w = Value(0.5, label="w")
    cost = make(w)
    cost.label = "C"
    forward = [s for s in tree_steps(cost, dependency_tree(cost)) if s.phase == "forward"]
    assert text_of(forward[0].html).startswith(f"C = {formula} from w = 0.5")


def test_the_tree_parenthesises_a_folded_matrix_product():
    """C = Σ(x @ W) with the 1×1 weights W = 1 and the unlabelled input x = (2): Σ (2 @ W), not Σ 2 @ W."""
    weights = Value(np.ones((1, 1)), label="W")
    cost = (np.array([2.0]) @ weights).sum()
    cost.label = "C"
    forward = [s for s in tree_steps(cost, dependency_tree(cost)) if s.phase == "forward"]
    assert text_of(forward[0].html).startswith("C = Σ (2 @ W) from W = 1")


def test_the_trees_start_lists_each_leaf_once_and_the_constants_of_every_operation():
    """C = d², d = w − 1, w = 0.5: the tree is C, d and w; the constant 1 is folded into d's edge, the exponent 2
    into C's; w is a node of the tree, so it is not listed a second time as a folded constant.  ∂C/∂d = 2d = −1
    arrives at w negative: −1 × 1 = −1."""
    w = Value(0.5, label="w")
    d = w - 1.0
    d.label = "d"
    cost = d ** 2
    cost.label = "C"
    steps = tree_steps(cost, dependency_tree(cost))
    assert re.findall(r"<tr><td>(.*?)</td>", steps[0].html) == ["w", "1", "2"]
    assert steps[-2].title == "Backward 3 of 3: ∂C/∂w" and "-1 × 1 = -1" in text_of(steps[-2].html)


def test_tree_steps_refuse_a_tree_whose_cost_is_not_among_its_nodes():
    """A tree changed by hand to name a cost it does not have: the ValueError, not a KeyError from inside."""
    w = Value(0.5, label="w")
    cost = w * 3.0
    cost.label = "C"
    tree = dependency_tree(cost)
    with pytest.raises(ValueError, match=r"^tree_steps: cost must be the Value the tree was found from"):
        tree_steps(cost, DependencyTree("L", tree.nodes, tree.edges))


# ---------------------------------------------------------------------------------------------------------- the page


class _Scripts(HTMLParser):
    """The text of each <script> of a page, by its id ("code" for the one without)."""

    def __init__(self, page: str):
        super().__init__()
        self.data: dict[str, str] = {}
        self.inside: str | None = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.inside = dict(attrs).get("id", "code") if tag == "script" else None

    def handle_endtag(self, tag):
        self.inside = None

    def handle_data(self, data):
        if self.inside:
            self.data[self.inside] = self.data.get(self.inside, "") + data


def _player(label: str = "w"):
    cost = (Value(0.5, label=label) * 3.0) ** 2
    kept, total = nearest_values(cost)
    return BackpropPlayer(backprop_steps(cost, kept, total, display_names(kept)), None)


def test_the_pages_data_is_every_step_with_its_node_and_edges():
    """The page carries each step whole, as the script reads it: the drawn Value it is about and the edges to
    light included."""
    player = _player()
    data = json.loads(_Scripts(player.html()).data["steps"])
    assert data == [{"phase": s.phase, "node": s.node, "title": s.title, "html": s.html, "edges": s.edges,
                     "heading": html.escape(s.title)} for s in player.steps]
    assert len({s["node"] for s in data}) == 4 and any(s["edges"] for s in data)  # (−1, C, 3w and w)


def test_a_reversing_mark_in_a_label_is_blanked_in_the_pages_data():
    """A right-to-left override (U+202E) would turn the rest of the step's line around: the page blanks it, also
    where the script decodes the data (an escaped \\u202e would come back)."""
    data = json.loads(_Scripts(_player("w\u202e").html()).data["steps"])
    assert data[-2]["title"] == "Backward 3 of 3: ∂C/∂w "
    assert not any("\u202e" in s["html"] for s in data)


def test_an_html_comment_opened_in_a_label_stays_out_of_the_script_and_the_data_still_parses():
    """"<!--" inside a script changes how the browser looks for its end, so the page must not write it there; but
    what it writes instead must still be JSON: the script reads the steps with JSON.parse, which (as Python's json)
    refuses "\\!" (Node: "Bad escaped character in JSON").  A title keeps the label as it is (a title is shown as
    text), so C = (w<!-- · 3)² put "<!--" in the page's data."""
    page = _player("w<!--").html()
    steps = _Scripts(page).data["steps"]
    assert "<!--" not in steps
    assert json.loads(steps)[-2]["title"] == "Backward 3 of 3: ∂C/∂w<!--"


def test_the_page_counts_its_steps_and_keeps_the_step_in_the_address_when_saved(tmp_path):
    """Seven steps: the slider goes to 7, the counter starts at "step 1 / 7"; the saved page keeps #step=N
    (data-hash yes), the inline frame does not (tested elsewhere), and html(use_hash=False) turns it off."""
    player = _player()
    assert len(player) == 7
    assert repr(player) == "<BackpropPlayer: 7 steps; .save('player.html') writes the page>"
    page = player.save(tmp_path / "p.html").read_text(encoding="utf-8")
    assert 'max="7"' in page and "<span class=\"counter\">step 1 / 7</span>" in page
    assert 'data-hash="yes"' in page and 'data-hash="no"' in player.html(use_hash=False)


def test_a_player_refuses_advice_that_is_not_text():
    with pytest.raises(TypeError, match=r"^BackpropPlayer: missing_drawing must be a str, got int 3$"):
        BackpropPlayer([Step("start", -1, "The leaves", "<p>")], None, missing_drawing=3)
