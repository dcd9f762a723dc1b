"""Edges found by mutation testing of ``player.py``: each test pins a behaviour that a hand-made mutant (a flipped
comparison, a dropped check, an off-by-one, a wrong name or message, a dropped escape or copy) changed while the
other tests passed.  86 mutants of ``tinygrad_edu/player.py``; 47 killed before these tests, 78 after.  The run also
found two defects, fixed with the two tests that failed before: ``display_names`` numbered ``mul₁``, ``mul₂``... in
the order of the drawing's breadth-first walk, not of the forward pass it promises, and a folded difference with an
exponent inside was squared as ``((w − y²))²``.

Equivalent mutants, left without a test:

- ``_gradients`` records the arrivals of every Value, not only the drawn ones: only a drawn Value's are ever read.
- ``_backward_step`` starts at ``k == 1`` instead of ``node is output``: ``backward_order`` always puts the output
  first.
- ``_uses`` with ``uses <= users`` for ``uses == users``: a Value is used at least once by each of its users.
- ``_folded_constants`` without its ``seen`` set: the constants are kept by id, so a second visit only costs time.
- ``_constant_names`` without ``pretty`` for a label: a folded constant has no label (every labelled Value is a node
  of the tree, and a label on two Values is refused).
- ``_power_rule`` without ``exponent.op is not None``, and ``_is_number`` without ``node.op is None`` or without
  ``node.size == 1``: they differ only for a caller's name that is a computed (or tensor) Value's own number, where
  both texts are true (``2·x`` or ``2·x^(2 − 1)``; a ``6 = 6`` line listed or not).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_introspection import half_built  # the object whose __init__ raised
from helpers_player import (  # a cost's steps (nearest_values, display_names, backprop_steps); a step's visible text
    player_steps,
    text_of,
)

from tinygrad_edu import Value
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.player import (
    BackpropPlayer,
    Step,
    backprop_steps,
    check_drawn,
    display_names,
    forward_formula,
    local_formula,
    tree_steps,
)

# ---------------------------------------------------------------------------------------------------- check_drawn


def test_check_drawn_refuses_an_empty_kept():
    """nearest_values gives the output first, so an empty kept cannot be what it gave."""
    w = Value(1.0, label="w")
    with pytest.raises(ValueError, match=r"^f: kept must start with the output"):
        check_drawn(w, [], 0, {}, "f")


def test_check_drawn_refuses_true_as_a_total_even_where_1_would_do():
    """A bool is no count of Values: True is refused for one drawn Value, where the int 1 is fine."""
    w = Value(1.0, label="w")
    assert check_drawn(w, [w], 1, {}, "f") is None
    with pytest.raises(ValueError, match=r"^f: total \(the number of Values, drawn or not\) must be an int"):
        check_drawn(w, [w], True, {}, "f")


def test_check_drawn_and_the_steps_take_a_numpy_integer_total():
    """A count from numpy (np.int64) is an int as the message means it."""
    cost = Value(0.5, label="p") * 3.0
    kept, total = nearest_values(cost)
    assert check_drawn(cost, kept, np.int64(total), {}, "f") is None
    steps = backprop_steps(cost, kept, np.int64(total), display_names(kept))
    assert [s.phase for s in steps] == ["start", "forward", "backward", "backward", "result"]


# ----------------------------------------------------------------------------------------------- names and formulas


def test_a_quotient_is_written_numerator_first():
    assert forward_formula(Value(1.0) / Value(2.0), ["a", "b"]) == "a / b"


def test_a_formulas_names_must_be_strings_one_for_each_input():
    """A formula takes one str per input of the node (forward_formula here, local_formula by the same check), and
    the error says how many it got."""
    total = Value(1.0) + Value(2.0)
    with pytest.raises(TypeError, match=r"^forward_formula: names must be a list of str"):
        forward_formula(total, ["a", 2])
    with pytest.raises(ValueError, match=r"^forward_formula: names must name each of the 2 inputs of the add Value, "
                                         r"got 3 names$"):
        forward_formula(total, ["a", "b", "c"])


def test_unlabelled_results_are_numbered_in_the_order_the_forward_pass_computes_them():
    """C = a·a + 3a: a·a is computed first, so it is mul₁ and 3a is mul₂, as display_names promises ("oldest first,
    so mul₁ comes before mul₂ in the forward pass"); the walk from C meets a·a first and so numbered it last."""
    a = Value(1.0, label="a")
    square = a * a
    triple = a * 3.0
    kept, steps = player_steps(square + triple)
    names = display_names(kept)
    assert (names[id(square)], names[id(triple)]) == ("mul₁", "mul₂")
    assert [s.title for s in steps if s.phase == "forward"] == ["Forward 1 of 3: mul₁", "Forward 2 of 3: mul₂",
                                                                "Forward 3 of 3: C"]


@pytest.mark.parametrize("i", [2, True])
def test_local_formula_takes_only_the_position_of_an_input(i):
    """An add has inputs 0 and 1: 2 is one past the end, and True is a bool, not a position."""
    with pytest.raises(ValueError, match=r"^local_formula: i must be the position of one of the node's 2 inputs "
                                         r"\(0 to 1\), got"):
        local_formula(Value(1.0) + Value(2.0), i, ["a", "b"])


def test_display_names_refuses_a_list_of_names():
    """names must map id(Value) to a name; an empty list is no mapping either."""
    kept, _ = nearest_values(Value(0.5, label="p") * 3.0)
    with pytest.raises(TypeError, match=r"^display_names: names must map id\(Value\) to the Value's name, got list"):
        display_names(kept, [])


def test_an_empty_label_is_no_name_and_a_constant_of_other_than_one_number_is_named_by_its_shape():
    """A label "" names nothing: the product is mul₁; constants of 3 numbers and of none are constant[3] and
    constant[0] (the second has no number to be called by)."""
    three, empty = Value(np.zeros(3), requires_grad=False), Value(np.zeros(0), requires_grad=False)
    product = Value(2.0) * 3.0
    product.label = ""
    kept, _ = nearest_values(product * 4.0)
    names = display_names([*kept, three, empty])  # (display_names names any list of Values, the output first)
    assert names[id(product)] == "mul₁"
    assert (names[id(three)], names[id(empty)]) == ("constant[3]", "constant[0]")


def test_the_local_derivatives_of_a_mean_a_minimum_and_a_one_by_one_matrix():
    """∂mean(v)/∂v = 1/3 for 3 numbers; min's is 1 at the minimum; α @ W with a 1×1 W: ∂/∂α is W, no transpose."""
    v = Value([1.0, 2.0, 3.0])
    assert local_formula(v.mean(), 0, ["v"]) == "1/3 for every element"
    assert local_formula(v.min(), 0, ["v"]) == "1 at the minimum (shared equally by ties), 0 elsewhere"
    alpha, weights = Value(np.ones(1)), Value(np.ones((1, 1)))
    assert local_formula(alpha @ weights, 0, ["α", "W"]) == "W"


def test_the_power_rule_works_out_the_lower_exponent_as_a_number():
    """The docstring's examples: ∂x³/∂x = 3·x^2 (shown 3·x²) and ∂x^0.5/∂x = 0.5·x^-0.5; not x^2.0."""
    x = Value(1.7)
    assert local_formula(x ** 3.0, 0, ["x", "3"]) == "3·x^2"
    assert local_formula(x ** 0.5, 0, ["x", "0.5"]) == "0.5·x^-0.5"


def test_a_name_with_a_superscript_l_gets_parentheses_as_a_base():
    """Wᴸ already has an exponent: (Wᴸ)^2, not Wᴸ^2."""
    assert forward_formula(Value(1.7) ** 2.0, ["Wᴸ", "2"]) == "(Wᴸ)^2"


def test_a_minimums_row_shows_the_local_derivative_without_an_empty_formula():
    """C = 2·min(v), v = (1, 4): ∂min/∂v = (1, 0) (min 0 · mean 0.5 · max 1), times the arriving 2 gives (2, 0)."""
    v = Value([1.0, 4.0], label="v")
    cost = v.min() * 2.0
    _, steps = player_steps(cost)
    text = text_of(steps[-2].html)
    assert steps[-2].title == "Backward 3 of 3: ∂C/∂v"
    assert ("∂min₁/∂v = 1 at the minimum (shared equally by ties), 0 elsewhere = min 0 · mean 0.5 · max 1 2 × min 0 "
            "· mean 0.5 · max 1 = min 0 · mean 1 · max 2") in text


# ------------------------------------------------------------------------------------------------- the graph's steps


def test_a_cut_graph_names_what_is_not_drawn_and_lights_only_drawn_edges():
    """C = x + 2x with x = 1, the 2 nearest Values drawn (C, x) of 4 (C, x, 2x, 2): the product 2x is "a Value not
    drawn", no edge of the drawing leads to it, and x's contributions still add up: 1 + 2 = 3."""
    x = Value(1.0, label="x")
    cost = x + x * 2.0
    kept, total = nearest_values(cost, 2)
    assert (len(kept), total) == (2, 4)
    start, forward, _, backward_x, _ = backprop_steps(cost, kept, total, display_names(kept))
    assert "… 2 more Values left out" in text_of(start.html)
    assert forward.edges == ["v1->op0", "op0->v0"] and "C = x + a Value not drawn" in text_of(forward.html)
    assert backward_x.edges == ["v1->op0", "op0->v0"]
    text = text_of(backward_x.html)
    assert "a Value not drawn (mul) 1" in text and "they add up: 1 + 2 = 3" in text


def _vector_used_three_times():
    """C = Σ(w·w + w·p), w = (1, 2), p = 3: ∂C/∂w = 2w + p = (5, 7), from the three uses p = (3, 3), w = (1, 2) and
    w = (1, 2), newest first."""
    w = Value([1.0, 2.0], label="w")
    p = Value(3.0, requires_grad=False, label="p")
    return player_steps((w * w + w * p).sum())[1]


def test_tensor_contributions_are_summed_in_parentheses_as_vector_jacobian_products():
    """A tensor's contribution is a summary (min · mean · max), each in parentheses in the sum; a row whose user is
    a tensor says vector-Jacobian product instead of multiplying two numbers."""
    step = _vector_used_three_times()[-2]
    text = text_of(step.html)
    assert step.title.endswith("∂C/∂w") and "w was used 3 times, by 2 operations" in text
    assert "vector-Jacobian product: min 3 · mean 3 · max 3" in text
    assert ("they add up: (min 3 · mean 3 · max 3) + (min 1 · mean 1.5 · max 2) + (min 1 · mean 1.5 · max 2) = "
            "min 5 · mean 6 · max 7") in text


def test_only_a_parameters_step_says_its_gradient_is_final():
    """The operations' steps (Σ, +, the two products) have no .grad to keep; the parameter w's step says it."""
    steps = [s for s in _vector_used_three_times() if s.phase == "backward"]
    assert ["A parameter" in s.html for s in steps] == [False, False, False, False, True]


def test_the_last_step_lists_parameters_only_and_a_grad_from_another_pass_differs():
    """C = 3p: the constant 3 gets no row; after a first backward pass of 10⁻⁶·p, p.grad = 3.000001 is not the
    steps' 3 (a relative 3.3·10⁻⁷ apart: far above rounding, though both are shown as 3)."""
    p = Value(0.5, label="p")
    (p * 1e-6).backward()
    cost = p * 3.0
    cost.backward()
    assert p.grad == pytest.approx(3.000001, rel=1e-12)
    result = player_steps(cost)[1][-1].html
    assert result.count("<tr><td>") == 1 and "<td>p</td><td>3</td><td>3</td>" in result
    assert "≠ .grad (it holds other backward passes too: zero_grad() first)" in text_of(result)


def test_the_last_step_of_a_cost_not_yet_backpropagated_says_grad_differs():
    """Before backward() the parameter's .grad is None (shown –): not the steps' 3."""
    p = Value(0.5, label="p")
    result = text_of(player_steps(p * 3.0)[1][-1].html)
    assert "p 3 – ≠ .grad" in result


# -------------------------------------------------------------------------------------------------- the tree's steps


def _folded_chain():
    """C = (5·(3·(2w + 1) − 4))², w = 0.5: 2w + 1 = 2, ·3 = 6, −4 = 2, ·5 = 10, C = 100; the tree has C and w only,
    the six constants (2, 1, 3, 4, 5 and the exponent 2) folded into its one edge, ∂C/∂w = 2·10·5·3·2 = 600."""
    w = Value(0.5, label="w")
    cost = ((((w * 2.0) + 1.0) * 3.0 - 4.0) * 5.0) ** 2
    cost.label = "C"
    return w, cost, dependency_tree(cost)


def test_the_tree_writes_three_levels_of_unlabelled_operations_in_parentheses():
    """An edge's unlabelled operations are written out three levels below the cost's own, deeper ones as …"""
    _, cost, tree = _folded_chain()
    steps = tree_steps(cost, tree)
    forward = [s for s in steps if s.phase == "forward"]
    assert len(forward) == 1 and "C = ((… · 3 − 4) · 5)² from w = 0.5 C = 100" in text_of(forward[0].html)
    assert steps[-2].title == "Backward 2 of 2: ∂C/∂w" and "∂C/∂w = 600" in text_of(steps[-2].html)


def test_the_trees_first_step_lists_every_folded_constant_and_cuts_nothing():
    """The leaves of the tree's start step: w, then the six constants found through the unlabelled operations; the
    tree has every Value, so no "left out" note."""
    _, cost, tree = _folded_chain()
    start = text_of(tree_steps(cost, tree)[0].html)
    assert start.count("constant") == 6 and "w parameter 0.5" in start
    for number in ("1", "2", "3", "4", "5"):
        assert f" {number} constant {number}" in start
    assert "left out" not in start


def test_a_folded_difference_squared_has_one_pair_of_parentheses():
    """C = (w − y²)² with w = 0.5 and the labelled target y² = 0.25 (C = 0.0625): the difference is parenthesised
    once, not ((w − y²))²."""
    w = Value(0.5, label="w")
    cost = (w - Value(0.25, requires_grad=False, label="y^2")) ** 2
    cost.label = "C"
    forward = [s for s in tree_steps(cost, dependency_tree(cost)) if s.phase == "forward"]
    assert "C = (w − y²)² from w = 0.5 y² = 0.25 C = 0.0625" in text_of(forward[0].html)


def test_tree_steps_refuse_a_cost_the_tree_was_not_found_from():
    _, cost, tree = _folded_chain()
    with pytest.raises(ValueError, match=r"^tree_steps: cost must be the Value the tree was found from"):
        tree_steps(cost * 1.0, tree)


# ---------------------------------------------------------------------------------------------------------- the page


class _StepsFirst(BackpropPlayer):
    """A user's player that keeps its steps before BackpropPlayer.__init__ checks the title."""

    def __init__(self, steps, title):
        self.steps = steps
        super().__init__(steps, None, title=title)


def test_a_player_with_only_some_of_its_attributes_is_not_initialised():
    """steps alone (no drawing, title...) is not a page: the repr says so instead of counting steps."""
    player = half_built(lambda: _StepsFirst([], title=3), TypeError, BackpropPlayer)
    assert hasattr(player, "steps") and not hasattr(player, "title")
    assert repr(player) == "<BackpropPlayer: not initialised>"
    assert player._repr_html_() == "<p>&lt;BackpropPlayer: not initialised&gt;</p>"


def test_a_tuple_of_steps_is_kept_as_a_list_of_its_own():
    steps = (Step("start", -1, "The leaves", "<p>"), Step("result", -1, "Every gradient", "<p>"))
    player = BackpropPlayer(steps, None)
    assert player.steps == list(steps) and len(player) == 2


def test_the_page_escapes_the_title_and_the_missing_drawings_text_and_drops_the_svg_prolog():
    """The title and the advice are text, not HTML; the drawing starts at its <svg> (the XML declaration and
    doctype Graphviz writes before it do not belong inside an HTML page)."""
    steps = [Step("start", -1, "The leaves", "<p>")]
    page = BackpropPlayer(steps, None, title="a <b> & c", missing_drawing="install <dot> & co").html()
    assert "<title>a &lt;b&gt; &amp; c</title>" in page and "<h1>a &lt;b&gt; &amp; c</h1>" in page
    assert "<div class='missing' lang='en'>install &lt;dot&gt; &amp; co</div>" in page
    svg = '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="1"><g/></svg>'
    page = BackpropPlayer(steps, svg).html()
    assert '<div class="drawing"><svg width="1"><g/></svg></div>' in page and "<?xml" not in page


def test_the_inline_frame_has_the_title_escaped():
    player = BackpropPlayer([Step("start", -1, "The leaves", "<p>")], None, title='say "hi" <now>')
    assert 'title="say &quot;hi&quot; &lt;now&gt;"' in player._repr_html_()


@pytest.mark.parametrize("name", ["PAGE.HTML", "page.htm"])
def test_save_takes_html_and_htm_in_any_case(tmp_path, name):
    player = BackpropPlayer([Step("start", -1, "The leaves", "<p>")], None)
    path = player.save(tmp_path / name)
    assert path == tmp_path / name and path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
