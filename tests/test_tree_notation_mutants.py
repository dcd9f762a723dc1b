"""Edges found by mutation testing of dependency_tree.py, notation.py and graph.py: each test here kills a hand-made
mutant (a changed comparison, constant, character class...) that the other tests let through.

Equivalent mutants (no test can tell them from the code):
- ``DependencyTree.chain_rule`` returning ``total.get(name, 1.0)`` instead of ``0.0``: every node but the cost is
  some edge's parent and the edges form a DAG under the cost, so Kahn's walk reaches every node and the default is
  never used.
- ``notation._mean`` recomputing ``(array / size).sum()`` for NaN arrays too (the ``not np.isnan(array).any()``
  check dropped): a NaN anywhere makes that sum NaN as well, the same result, and the warnings are silenced there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number, left_out_note, pretty, printable, summary


def test_an_exponent_raised_again_keeps_its_caret():
    """x^2^3 written x²³ would read as x^23: only the last exponent becomes a superscript."""
    assert pretty("x^2^3") == "x^2³"


@pytest.mark.parametrize("mark", ["\x85", "\u2067", "\u061c"])  # NEL (a C1 control), RLI and ALM (bidi marks)
def test_printable_blanks_c1_controls_and_every_bidi_mark(mark):
    """Each would break the line or reorder the text after a label in a picture."""
    assert printable(f"w{mark} = 22.5") == "w  = 22.5"


def test_a_summary_of_a_tensor_has_three_digits_per_number():
    """mean of 1.23456, 2, 3 is 6.23456 / 3 = 2.07819 (by hand): 3 digits each, whatever the precision above 3."""
    assert summary([1.23456, 2.0, 3.0]) == "min 1.23 · mean 2.08 · max 3"
    assert summary([1.23456, 2.0, 3.0], precision=2) == "min 1.2 · mean 2.1 · max 3"


def test_format_number_names_an_int_no_float_holds():
    """10**400 reached Python's own OverflowError from inside the format."""
    with pytest.raises(ValueError, match=r"^format_number: x must be at most .* got an int of about 10\^400$"):
        format_number(10**400)


def test_left_out_note_counts_what_is_left_out_and_shown():
    assert left_out_note(1500, 200_000) == ("… 198,500 more Values left out",
                                            "(showing the 1,500 nearest the output; raise max_nodes to see more)")
    assert left_out_note(3, 3)[0] == "… 0 more Values left out"  # all shown is not "more than total"
    with pytest.raises(ValueError, match="shown=4 is more than total=3"):
        left_out_note(4, 3)


def _with_a_labelled_result():
    """z = w·x + b + bias, where bias = 3θ is a labelled result whose name is not a layer's (LAYER_LABEL)."""
    w, b, theta = Value(0.5, label="w"), Value(0.25, label="b"), Value(1.5)
    x = Value(2.0, requires_grad=False, label="x")
    other = theta * 3.0
    other.label = "bias"
    z = w * x + b + other
    z.label = "z"
    cost = z**2
    cost.label = "C"
    return cost


def test_a_label_that_only_starts_like_a_layers_is_of_another_kind_and_drawn_last():
    """"bias" is not b^i; a node's inputs are ordered weight, input, bias, then the other kinds."""
    tree = dependency_tree(_with_a_labelled_result())
    assert tree.nodes["bias"].kind == "other" and tree.nodes["b"].kind == "bias"
    into_z = [(edge.parent, edge.number) for edge in tree.edges if edge.child == "z"]
    assert into_z == [("w", 2.0), ("x", 0.5), ("b", 1.0), ("bias", 1.0)]  # ∂z/∂w = x, ∂z/∂x = w, then 1 and 1


def test_a_float32_chain_is_drawn_within_float32_rounding():
    """Six float32 sigmoid layers: the float64 chain rule differs from W².grad by 2.1e-7 relative (and more than the
    1e-12 absolute slack), more than float32's eps of 1.2e-7; a tolerance of eps itself refused this tree as "other
    backward passes"."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=2000 + i) for i in range(6)])
    net.load_state_dict({name: array.astype(np.float32) for name, array in net.state_dict().items()})
    cost = squared_error(net(np.array([0.5], dtype=np.float32)), np.array([0.25], dtype=np.float32))
    tree = dependency_tree(cost)
    grad = float(net.layers[1].weights.grad.item())
    gap = abs(tree.chain_rule("W^2") - grad)
    assert gap > 1e-12 and gap / abs(grad) > float(np.finfo(np.float32).eps)  # the case the test is about
    assert gap / abs(grad) < math.sqrt(float(np.finfo(np.float32).eps))
