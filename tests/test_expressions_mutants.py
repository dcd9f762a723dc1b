"""Edges found by mutation testing of ``tinygrad_edu/testing/expressions.py`` and ``strategies.py`` (second pass).

Each test pins a behaviour that a hand-made mutant (a dropped domain guard or tie check, a reference function
written the unstable way, a reversed order of the nodes ``pick`` offers, an off-by-one in a bound, a dropped argument
check, a wrong text in the printed program) changed while the other tests passed.  Screened with tests/test_testing.py,
test_testing_edges.py, test_testing_mutants.py, test_expressions_edges.py and test_strategies_misuse.py (the doctests
of both modules, test_composition.py and test_gradients.py were not run against the survivors: the time box ran
out); none of the first pass's mutants (test_testing_mutants.py) is repeated.

38 mutants, 33 of expressions.py and 5 of strategies.py; 17 killed before these tests, 37 after.  No defect found:
the numpy reference's softplus, sigmoid slope and log-softmax are the stable forms, which only these tests pinned.

Equivalent mutant, left without a test:

- ``custom`` drawing its constant operands for the "positive" domain from [0, 2] (not [0.5, 2]) and for "unit"
  from [-1, 1] (not [-0.9, 0.9]): every argument still passes the ``_inside`` guard (at least 0.01 above 0, or
  within 0.99), so only how often a constant operand is accepted changes, not what a drawn graph may hold.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers_strategies import FIRST, NODE, drawn_graphs, first, lines_matching  # derandomized draws
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.vendor.pretty import pretty

from tinygrad_edu import Op, Value
from tinygrad_edu import functional as F
from tinygrad_edu.testing.expressions import (
    KINK_MARGIN,
    NUMPY,
    Expression,
    Graph,
    OpSpec,
    _identifier,
    _number,
    elementwise,
    expressions,
    numpy_function,
)
from tinygrad_edu.testing.strategies import arrays_for, broadcastable_shapes


def _root_slope(g, out, x):
    return g / (2 * out)


#: An Op whose forward is numpy's own function (its module, numpy, does not hold the Op) and whose vjp is ours.
ROOT = Op("root", np.sqrt, _root_slope)
#: An Op held under its own name.
cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)


def fixed(index: int):
    """A ``draw`` that always answers ``index``: for a Graph whose only draws are ``pick``'s choice of a node."""
    return lambda strategy: index


def graphs_built(builder, x0: list[float], examples: int = 100) -> list[tuple[str, Graph]]:
    """Every line ``builder`` adds (helper nodes too) to a graph of the one input ``x0``, with that graph, over
    ``examples`` derandomized draws."""
    built: list[tuple[str, Graph]] = []

    @settings(FIRST, max_examples=examples)
    @given(st.data())
    def build(data):
        g = Graph(data.draw, [np.array(x0)], {})
        builder(g, "x0")
        built.extend((line, g) for line in g.lines)
    build()
    return built


# ------------------------------------------------------------------------------------------ the numpy reference
def test_the_reference_leaky_relu_has_the_library_default_slope_of_0_01():
    """``F.leaky_relu(x)`` in a line is checked against the reference: both must default to a slope of 0.01."""
    x = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(NUMPY["F"].leaky_relu(x), [-0.02, 3.0])
    np.testing.assert_array_equal(NUMPY["F"].leaky_relu(x), F.leaky_relu(Value(x)).data)


def test_the_reference_softplus_is_stable_far_out():
    """ln(1 + e⁸⁰⁰) = 800 + ln(1 + e⁻⁸⁰⁰) = 800 (log1p(exp(x)) overflows to inf there); ln(1 + e⁻⁸⁰⁰) is e⁻⁸⁰⁰ → 0."""
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(NUMPY["F"].softplus(np.array([800.0, -800.0])), [800.0, 0.0])


@pytest.mark.parametrize("x", [40.0, -40.0, 700.0])
def test_the_reference_sigmoid_slope_keeps_its_digits_far_out(x):
    """σ(x)·σ(−x) = e^−|x| / (1 + e^−|x|)²: at x = 40, σ(x) rounds to 1, so σ(x)·(1 − σ(x)) would be 0."""
    e = np.exp(-abs(x))
    np.testing.assert_allclose(NUMPY["ops"].sigmoid_slope(np.array(x)), e / (1 + e) ** 2, rtol=1e-14, atol=0)


def test_the_reference_log_softmax_is_stable_for_large_inputs():
    """log_softmax([1000, 1000]) = [−ln 2, −ln 2]; e¹⁰⁰⁰ overflows unless the maximum is subtracted first."""
    with np.errstate(all="raise"):
        np.testing.assert_allclose(NUMPY["F"].log_softmax(np.array([1000.0, 1000.0])), [-np.log(2)] * 2, rtol=1e-15)
        np.testing.assert_allclose(NUMPY["F"].softmax(np.array([1000.0, 1000.0])), [0.5, 0.5], rtol=1e-15)


# ------------------------------------------------------------------------------------------- the Graph's bookkeeping
def test_sinks_are_the_unused_nodes_newest_first_and_pick_prefers_them():
    """``pick`` offers the unused nodes newest first, then the used ones (newest first): choice 0 is the newest
    unused node, and a used node comes only after every unused one."""
    g = Graph(fixed(0), [np.ones(2), np.ones(3)], {})
    assert g.add("x0 + 1.0") == "v2"  # x0 is used now
    assert g.sinks() == ["v2", "x1"]
    assert g.pick() == "v2"
    g.draw = fixed(2)
    assert g.pick() == "x0"


def test_a_node_of_64_elements_is_taken_and_one_of_65_left_out():
    """MAX_SIZE: finite differences cost two evaluations per element, so a node holds at most 64 elements."""
    g = Graph(fixed(0), [np.ones(2)], {})
    assert g.add("x0.sum() * np.ones(64)") == "v1"
    assert g.add("x0.sum() * np.ones(65)") is None and g.add("x0.sum() * np.ones((5, 13))") is None


def test_nodes_are_numbered_after_the_inputs_in_order():
    """Inputs are x0, x1, …; each added node is v<k>, k counting every node before it (inputs included)."""
    g = Graph(fixed(0), [np.ones(2), np.ones(2)], {})
    assert [g.add("x0 * 2.0"), g.add("v2 + x1")] == ["v2", "v3"]
    assert Expression(g.inputs, {}, tuple(g.lines)).output_name == "v3"


def test_a_rollback_makes_the_nodes_used_since_the_checkpoint_unused_again():
    g = Graph(fixed(0), [np.ones(2)], {})
    checkpoint = g.checkpoint()
    g.add("x0 * 2.0")
    g.rollback(checkpoint)
    assert g.lines == [] and g.sinks() == ["x0"] and list(g.values) == ["x0"]


def test_finish_weights_every_loose_node_by_a_nonzero_array():
    """Every loose node is joined to the output times a random array: a weight of 0 would cut its gradient, and
    the node would never be checked."""
    @settings(FIRST, max_examples=60)
    @given(st.data())
    def finish(data):
        g = Graph(data.draw, [np.ones(3)], {})
        g.add("x0 * 2.0")
        g.add("x0 * 3.0")
        g.finish()
        assert len(g.constants) == 1
        assert np.all(next(iter(g.constants.values())) > 0)
    finish()


# ------------------------------------------------------------------------------------------------- the domains
def test_positive_python_numbers_are_never_zero():
    """A divisor drawn as a number must be positive; 0.0 is among the numbers, but not the positive ones."""
    @settings(FIRST, max_examples=60)
    @given(st.data())
    def number(data):
        assert float(_number(Graph(data.draw, [np.ones(2)], {}), positive=True)) > 0
    number()


@pytest.mark.parametrize("builder, pattern", [
    (elementwise, r"F\.(log|sqrt)\((\w+)\)"), (numpy_function, r"np\.(log|sqrt)\((\w+)\)"),
    (numpy_function, r"np\.(power)\((\w+), .*\)")])
def test_logs_roots_and_real_powers_take_arguments_at_least_0_01_above_0(builder, pattern):
    """x0 holds 0.005: positive, but within KINK_MARGIN (1e-2) of 0, where the slopes of log and sqrt (and of a
    power's base) grow without bound; it is moved up (x² + 0.5, eˣ, σ(x), softplus) before it is taken."""
    arguments = [g.value(m[2]) for line, g in graphs_built(builder, [0.005, 1.5])
                 for m in [re.fullmatch(r"v\d+ = " + pattern, line)] if m]
    assert arguments and all(np.all(a >= KINK_MARGIN) for a in arguments)


def test_numpys_maximum_is_never_tied():
    """np.maximum(l, r) of operands closer than KINK_MARGIN somewhere is refused, as F.maximum is: x0 holds
    0.5, 2.0 and 1.0, which ties with the numbers 0.5, 2.0 and 1.0 drawn as the other operand."""
    found = [g.evaluate(f"{m[1]} - {m[2]}") for line, g in graphs_built(numpy_function, [0.5, 2.0, 1.0], 300)
             for m in [re.fullmatch(r"v\d+ = np\.maximum\((\S+), (\S+)\)", line)] if m]
    assert found and all(np.all(np.abs(d) >= KINK_MARGIN) for d in found)


# -------------------------------------------------------------------------------------------- printing a graph
def test_hypothesis_prints_a_drawn_graph_as_its_program_on_lines_of_its_own():
    """What hypothesis shows for a failing example (``expr=`` and then the program, from its first line)."""
    expr = Expression((np.ones(2),), {}, ("v1 = x0 * 2.0",))
    assert pretty(expr) == "\n" + expr.program()


def test_an_op_whose_forward_is_numpys_is_imported_from_the_module_of_its_vjp():
    """numpy does not hold ROOT (its forward is np.sqrt): the module of its vjp, which holds it, is where the
    program imports it from."""
    expr = Expression((np.ones(2),), {}, ("v1 = root(x0)",), {"root": ROOT})
    assert f"from {__name__} import ROOT as root" in expr.program().splitlines()


def test_an_op_held_under_its_own_name_is_imported_without_an_alias():
    """``from module import cube``: an alias (``as cube``) only where the graph's name differs from the global's."""
    expr = Expression((np.ones(2),), {}, ("v1 = cube(x0)",), {"cube": cube})
    assert f"from {__name__} import cube" in expr.program().splitlines()


def test_a_list_param_prints_as_a_list():
    scale = Op("scale", lambda x, ws=(1.0,): x * ws[0], lambda g, out, x, ws=(1.0,): g * ws[0])
    spec = OpSpec(scale, params=st.just({"ws": [2.0, 3.0]}))
    [expr] = drawn_graphs(expressions(extra_ops=[spec], only_extra=True, max_nodes=3), examples=1)
    assert "ws=[2.0, 3.0])" in expr.program()


@pytest.mark.parametrize("name", ["inputs", "lambda", "Value", "check_gradients"])
def test_an_op_named_like_a_name_of_the_program_or_a_keyword_is_renamed(name):
    """The program assigns ``inputs``, imports Value and check_gradients; a keyword is no name at all."""
    renamed = _identifier(Op(name, lambda x: x, lambda g, out, x: g), set())
    assert renamed != name and renamed.isidentifier()


# ------------------------------------------------------------------------------------------ expressions' arguments
def test_a_graph_of_two_nodes_is_one_input_and_one_line():
    """Of max_nodes=2, one node at least is a line (an Expression needs one), so one input at most."""
    graphs = drawn_graphs(expressions(min_nodes=2, max_nodes=2, max_inputs=3), examples=20)
    assert graphs and all(len(e.inputs) == 1 and len(e.lines) == 1 for e in graphs)


def test_expressions_refuse_a_max_inputs_below_1_and_extra_ops_that_are_a_string():
    with pytest.raises(ValueError, match="max_inputs"):
        expressions(max_inputs=0)
    with pytest.raises(TypeError, match=r"^expressions: extra_ops must be a list of Op or OpSpec objects"):
        expressions(extra_ops="")


def test_an_expression_refuses_constants_not_named_by_strings():
    with pytest.raises(TypeError, match=r"^Expression: constants must be a dict of names to numpy arrays"):
        Expression((np.ones(2),), {0: np.ones(2)}, ("v1 = x0 * 2.0",))


# ---------------------------------------------------------------------------------- what the pool of graphs holds
def test_int_axes_reach_the_first_axis_counted_from_the_end():
    """An int axis runs from −ndim to ndim − 1: reductions and softmaxes of 2-d and 3-d nodes over axis −ndim."""
    reduced = [m for _, nodes, m in lines_matching(rf"{NODE}\.(sum|mean|max|min)\(axis=(-\d)(, keepdims=\w+)?\)")
               if nodes[m[2]].ndim >= 2 and int(m[4]) == -nodes[m[2]].ndim]
    softened = [m for _, nodes, m in lines_matching(rf"F\.(log_)?softmax\({NODE}, axis=(-\d)\)")
                if nodes[m[3]].ndim >= 2 and int(m[4]) == -nodes[m[3]].ndim]
    assert reduced and softened


def test_cross_entropy_takes_a_batch_of_rows():
    """L.cross_entropy of a 2-d node (one row of logits per sample, one label each), not only of a vector."""
    assert [m for _, nodes, m in lines_matching(rf"L\.cross_entropy\({NODE}, c\d+\)") if nodes[m[2]].ndim == 2]


def test_an_expression_called_on_plain_numbers_keeps_its_constants_in_float64():
    """Float constants take the dtype of the input Values; with none (plain numbers), float64: 2 · 0.1 is the
    float64 0.2, not float32's 0.2000000029802…"""
    expr = Expression((np.ones(1),), {"c0": np.array([0.1])}, ("v1 = x0 * c0",))
    out = expr(2.0)
    assert out.dtype == np.float64 and out[0] == 0.2


# ------------------------------------------------------------------------------------------------- the strategies
def test_arrays_for_passes_its_keywords_to_every_array():
    """arrays_for(shapes, **kwargs) draws each array by arrays(shape, **kwargs): here all elements in [5, 6]."""
    pair = first(arrays_for(broadcastable_shapes(2), min_value=5.0, max_value=6.0), lambda p: p[0].size > 0)
    assert all(np.all((a >= 5.0) & (a <= 6.0)) for a in pair)
