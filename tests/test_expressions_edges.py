"""Edges of the composition fuzzer's generator (``testing/expressions.py``), found by mutation testing.

A generator that silently stops drawing some kind of line (a number on the left, a negative axis, a 4-d node, two
inputs that do not broadcast) weakens the fuzzer without failing anything, so these tests draw a fixed pool of
graphs (derandomized) and show that each kind of case is actually produced, and that every drawn line keeps to the
documented bounds.  The numpy reference the drawn lines are checked against (``NUMPY``) is checked here against
closed forms and hand-worked values.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from helpers_strategies import NODE, POOL, drawn_graphs, lines_matching, pool, references
from hypothesis import find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.expressions import KINK_MARGIN, NUMPY, Expression, Graph, OpSpec, expressions

#: A line that changes a node in place (``v3 += c0``, ``with no_grad(): x0 -= c0``), read as ``v3 = v3 + c0``.
CHANGED_IN_PLACE = re.compile(r"^(with no_grad\(\): )?([xv]\d+) (\*\*|[-+*/])= ")

NUMBER = r"(-?\d+\.\d+)"


# --- every kind of line is drawn -------------------------------------------------------------------------------
@pytest.mark.parametrize("what, pattern", [
    ("negation", rf"-{NODE}"),
    ("a number on the left of + - *", rf"{NUMBER} [-+*] {NODE}"),
    ("x ** 0", rf"{NODE} \*\* 0"),
    ("Value ** Value", rf"{NODE} \*\* {NODE}"),
    ("leaky_relu with its own slope", rf"F\.leaky_relu\({NODE}, negative_slope=-?[\d.]+\)"),
    ("a reduction over a negative axis", rf"{NODE}\.(sum|mean|max|min)\(axis=-\d.*\)"),
    ("a reduction over a tuple with a negative axis", rf"{NODE}\.(sum|mean|max|min)\(axis=\([^)]*-\d.*\)"),
    ("keepdims=False", rf"{NODE}\.(sum|mean|max|min)\(.*keepdims=False\)"),
    ("softmax along a given axis", rf"F\.(log_)?softmax\({NODE}, axis=-?\d\)"),
    ("a reshape to 0-d", rf"{NODE}\.reshape\(\(\)\)"),
    ("a reshape with -1", rf"{NODE}\.reshape\(.*-1.*\)"),
    ("swapaxes of a negative axis", rf"{NODE}\.swapaxes\((-\d, -?\d|-?\d, -\d)\)"),
    ("None among other parts of a key", rf"{NODE}\[(.*, None.*|None, .*)\]"),
    ("a[rows, cols]", rf"{NODE}\[c\d+, c\d+\]"),
    ("concatenate with axis=None", r"F\.concatenate\(\[.*\], axis=None\)"),
    ("F.maximum", r"F\.maximum\(.*\)"),
    ("numpy's own functions", r"np\.(exp|tanh|negative|log|sqrt|absolute|add|subtract|multiply|divide|power|"
                              r"maximum|matmul)\(.*\)"),
])
def test_each_kind_of_line_is_drawn(what, pattern):
    assert lines_matching(pattern), f"no {what} in {len(pool())} graphs"


def test_the_exponent_kept_at_a_whole_number_is_drawn():
    """Σ(a − a's value) + n equals n where it is checked but keeps its derivatives in a; the value is exactly n."""
    found = lines_matching(rf"\({NODE} - (c\d+)\)\.sum\(\) \+ {NUMBER}")
    assert found
    for expr, nodes, match in found:
        assert float(nodes[match[1]]) == float(match[4]), expr.lines


def test_binary_lines_combine_two_different_nodes():
    """Fan-in from two different nodes (a + b, a @ b, a ** b with the base made from another node): a generator
    that only ever combined a node with itself or with constants would never send gradients two ways."""
    assert [m for _, _, m in lines_matching(rf"{NODE} [-+*] {NODE}") if m[2] != m[3]]
    assert [m for _, _, m in lines_matching(rf"{NODE} @ {NODE}") if m[2] != m[3]]
    apart = []
    for expr, _, match in lines_matching(rf"{NODE} \*\* {NODE}"):
        uses = {line.split(" = ")[0]: set(re.findall(r"\b[xv]\d+\b", line.split(" = ")[1])) for line in expr.lines
                if " = " in line}  # (not v3 += c0)
        base, exponent = uses.get(match[2], {match[2]}), {match[3]} | uses.get(match[3], set())
        apart.append(not base & exponent)
    assert any(apart), "every Value ** Value had a base made from its own exponent"


def test_a_constant_multiplies_a_non_square_matrix_from_the_left():
    """c @ a needs c's last side to be a's second-to-last, not its last: only a square a hides the difference."""
    found = [nodes[m[2]].shape for _, nodes, m in lines_matching(rf"c\d+ @ {NODE}")
             if nodes[m[2]].ndim >= 2 and nodes[m[2]].shape[-1] != nodes[m[2]].shape[-2]]
    assert found


def test_concatenate_takes_an_empty_constant_piece_next_to_a_full_one():
    """(Searched for, not looked up in the pool: 1 line in 400 or so, which a pool of 1000 graphs can miss.)"""
    def empty_beside_full(expr: Expression) -> bool:
        nodes = expr.run(*expr.inputs, reference=True)
        for line in expr.lines:
            match = re.fullmatch(r"v\d+ = F\.concatenate\(\[(.*)\], axis=(-?\d)\)", line)
            if match:
                pieces = [p.strip() for p in match[1].split(",")]
                sizes = [(expr.constants[p] if p.startswith("c") else np.asarray(nodes[p])).size for p in pieces]
                if 0 in sizes and max(sizes) > 0 and all(p.startswith("c") for p, n in zip(pieces, sizes) if n == 0):
                    return True
        return False

    find(expressions(), empty_beside_full, settings=settings(POOL, max_examples=3000))  # (NoSuchExample if none)


def test_masks_cover_a_whole_array_and_scatter_keys_go_negative():
    masks = [expr.constants[m[3]].ndim for expr, _, m in lines_matching(rf"{NODE}\[(c\d+)\]")
             if expr.constants[m[3]].dtype == bool]
    assert max(masks) >= 2
    rows = [np.min(expr.constants[m[2]], initial=0) for expr, _, m in lines_matching(r"ops\.scatter\(.*key=(c\d+)\)")]
    whole = [int(m[2]) for _, _, m in lines_matching(r"ops\.scatter\(.*key=(-?\d+)\)")]
    assert min(rows) < 0 and min(whole) < 0  # rows of a to rows counted from the end; a to a slice from the end


def test_a_custom_op_takes_the_drawn_node_in_either_position():
    """A two-input op is called with a constant first as well as second (its vjp for each input is exercised
    with a node behind it)."""
    mul = Op("mul2", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a))
    exprs = drawn_graphs(expressions(extra_ops=[mul], only_extra=True, max_nodes=6), examples=60)
    firsts = [m[1] for e in exprs for line in e.lines for m in [re.search(r"mul2\((\w+), (\w+)\)", line)] if m]
    assert any(name.startswith("c") for name in firsts) and any(name[0] in "xv" for name in firsts)


# --- inputs and nodes: their documented bounds, and reaching them ------------------------------------------------
def test_inputs_are_float64_in_minus_2_to_2_reach_3_dims_and_sometimes_do_not_broadcast():
    inputs = [x for e in pool() for x in e.inputs]
    assert all(x.dtype == np.float64 for x in inputs)
    assert max(np.abs(x).max(initial=0) for x in inputs) <= 2
    assert max(np.abs(x).max(initial=0) for x in inputs) > 1.5
    assert max(x.ndim for x in inputs) == 3

    def broadcast(shapes):
        try:
            np.broadcast_shapes(*shapes)
            return True
        except ValueError:
            return False
    assert not all(broadcast([x.shape for x in e.inputs]) for e in pool())
    assert any(broadcast([x.shape for x in e.inputs]) and max(x.ndim for x in e.inputs) == 3 for e in pool())


def test_nodes_stay_finite_within_100_and_64_elements_and_reach_towards_those_bounds():
    nodes = [np.asarray(v) for refs in references() for name, v in refs.items() if name.startswith("v")]
    assert all(np.all(np.isfinite(v)) and v.size <= 64 and v.ndim <= 4 for v in nodes)
    largest = max(np.abs(v).max(initial=0) for v in nodes)
    assert 10 < largest <= 100
    assert max(v.size for v in nodes) > 16
    assert max(v.ndim for v in nodes) == 4


def test_every_node_but_the_output_is_used_by_a_later_line():
    """Each node must reach the output (else its gradient is never checked): finish() sums the loose ones in."""
    for expr in pool():
        assert 3 <= len(expr.inputs) + len(expr.lines) <= 25
        # (v3 += c0 reads v3 and makes a new v3; so does x0 -= c0 under no_grad)
        names, reads = zip(*(CHANGED_IN_PLACE.sub(r"\2 = \2 \3 ", line).split(" = ", 1) for line in expr.lines))
        for i, name in enumerate(names[:-1]):
            assert re.search(rf"\b{name}\b", " ".join(reads[i + 1:])), expr.program()
        joined = re.findall(r"\((v\d+) \* c\d+\)\.sum\(\)", expr.lines[-1])  # only nodes nothing else used
        last = {name: i for i, name in enumerate(names)}  # (after it was last made)
        assert not [n for n in joined if any(re.search(rf"\b{n}\b", read) for read in reads[last[n] + 1:-1])]


@settings(POOL, max_examples=5)
@given(st.data())
def test_loose_nodes_too_large_to_add_as_they_are_are_still_joined_to_the_output(data):
    """finish() adds each loose node, weighted and summed, to the newest; where that sum passed LIMIT the join was
    dropped silently: the loose nodes never reached the output (their gradients went unchecked) and the graph fell
    a node short of min_nodes.  Here v1 = 90 in 64 elements weighs at least 0.1 · 90 · 64 = 576."""
    graph = Graph(data.draw, [np.full(64, 1.5)], {})
    graph.add("x0 * 60.0")
    graph.add("x0 * 2.0")
    graph.finish()
    expr = graph.expression()
    assert len(expr.lines) == 3 and re.search(r"\bv1\b", expr.lines[-1]), expr.lines
    out = expr.run(*expr.inputs, reference=True)[expr.output_name]
    assert np.all(np.isfinite(out)) and np.abs(out).max() <= 100
    check_gradients(expr, *expr.inputs)


def test_divisors_and_bases_of_real_powers_stay_a_margin_above_zero():
    """Near 0 a quotient's slopes have no bound, and a negative base of a real power is NaN."""
    checked = 0
    for expr, nodes in zip(pool(), references()):
        env = {**nodes, **expr.constants}
        changed = {CHANGED_IN_PLACE.match(line)[2] for line in expr.lines if CHANGED_IN_PLACE.match(line)}
        for line in expr.lines:
            match = re.fullmatch(r"v\d+ = (?:np\.divide\(\w+, (\S+)\)|\S+ / (\S+)|(\w+) \*\* [xvc]\d+)", line)
            if match:
                operand = next(g for g in match.groups() if g)
                if operand in changed:  # (env holds its last value, not the one this line divided by)
                    continue
                value = env[operand] if operand in env else float(operand)  # a node, a constant or a number
                assert np.all(value >= KINK_MARGIN), line
                checked += 1
    assert checked > 50


def test_constant_arrays_have_at_most_two_decimals_and_are_not_all_whole():
    copies = {(id(e), m) for e in pool() for line in e.lines for m in re.findall(r"- (c\d+)\)\.sum\(\)", line)}
    floats = [c for e in pool() for name, c in e.constants.items()  # a node's value copied is no drawn array
              if c.dtype == np.float64 and c.size and (id(e), name) not in copies]
    assert all(np.array_equal(np.round(c, 2), c) for c in floats)
    assert any(np.any(c != np.round(c)) for c in floats)


def test_few_lines_are_the_tanh_fallback():
    """F.tanh of the newest node is what _grow writes when its builders all fail: if they gave up too early,
    the graphs would be tanh chains.  Drawn fairly, one line in 16·9 is an element-wise tanh."""
    lines = [line for e in pool() for line in e.lines]
    assert sum("= F.tanh(" in line for line in lines) < len(lines) / 10


# --- the partner shapes of broadcasting ----------------------------------------------------------------------
def test_partner_shapes_broadcast_both_ways():
    """Dims dropped, set to 1, stretched from 1, or added in front: the gradient is summed back both ways."""
    from tinygrad_edu.testing.expressions import _partner_shape

    shapes: list = []

    @settings(POOL, max_examples=200)
    @given(st.data())
    def collect(data):
        graph = Graph(data.draw, [np.zeros((1, 3))], {})
        shapes.append(_partner_shape(graph, (1, 3)))

    collect()
    assert all(np.broadcast_shapes((1, 3), s) for s in shapes)
    assert any(len(s) < 2 for s in shapes) and any(len(s) > 2 for s in shapes)
    assert any(s[-2:-1] in ((2,), (3,)) for s in shapes if len(s) >= 2)  # the 1 stretched
    assert any(s[-1] == 1 for s in shapes if s)  # the 3 set to 1


# --- the numpy reference, against closed forms -------------------------------------------------------------------
def test_the_reference_sigmoid_and_its_slope_match_closed_forms_without_overflow():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    F, ops = NUMPY["F"], NUMPY["ops"]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sigmoid, slope = F.sigmoid(x), ops.sigmoid_slope(x)
    np.testing.assert_allclose(sigmoid, [0.0, 1 / (1 + np.e ** 3), 0.5, 1 / (1 + np.e ** -2), 1.0], rtol=1e-15)
    closed = [np.e ** -3 / (1 + np.e ** -3) ** 2, 0.25, np.e ** -2 / (1 + np.e ** -2) ** 2]  # σ(x)·σ(−x)
    np.testing.assert_allclose(slope[1:4], closed, rtol=1e-14)


def test_the_reference_softmaxes_work_along_the_axis_asked():
    x = np.log(np.array([[1.0, 3.0], [1.0, 1.0]]))
    np.testing.assert_allclose(NUMPY["F"].softmax(x, axis=0), [[0.5, 0.75], [0.5, 0.25]], rtol=1e-15)
    np.testing.assert_allclose(NUMPY["F"].log_softmax(x, axis=-2), np.log([[0.5, 0.75], [0.5, 0.25]]), rtol=1e-15)
    np.testing.assert_allclose(NUMPY["F"].softplus(np.array([0.0, 50.0])), [np.log(2), 50.0], rtol=1e-15)
    np.testing.assert_allclose(NUMPY["F"].leaky_relu(np.array([-2.0, 3.0])), [-0.02, 3.0], rtol=1e-15)


def test_the_reference_costs_average_over_the_samples():
    p, t = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[0.0, 2.0], [3.0, 2.0]])
    L = NUMPY["L"]
    assert L.squared_error(p, t) == pytest.approx((1 + 9) / 2)  # two samples
    assert L.squared_error(p[1], t[1]) == pytest.approx(9)  # one sample: the plain sum
    assert L.mean_squared_error(p, t) == pytest.approx(10 / 4)
    logits = np.log(np.array([[1.0, 3.0], [1.0, 1.0]]))
    assert L.cross_entropy(logits, np.array([1, 0])) == pytest.approx(-(np.log(0.75) + np.log(0.5)) / 2)


def test_the_reference_scatter_adds_up_repeated_keys():
    out = NUMPY["ops"].scatter(np.array([1.0, 2.0, 4.0]), (2,), np.array([0, -1, 0]))
    np.testing.assert_array_equal(out, [5.0, 2.0])


# --- Expression: running, printing ----------------------------------------------------------------------------
def _twice(x):
    return 2 * x


RENAMED = Op("twice", _twice, lambda g, out, x: 2 * g)  # held under another name than its own


def test_reference_runs_call_a_custom_op_on_arrays_and_a_renamed_op_is_imported_as_its_name():
    expr = Expression((np.array([1.0, -2.0]),), {}, ("v1 = twice(x0)",), {"twice": RENAMED})
    reference = expr.run(np.array([1.0, -2.0]), reference=True)["v1"]
    assert type(reference) is np.ndarray
    np.testing.assert_array_equal(reference, [2.0, -4.0])
    assert f"from {__name__} import RENAMED as twice" in expr.program()
    exec(expr.program(), {"print": lambda *a: None})


def test_an_op_named_like_a_constant_does_not_clash_with_it():
    c0 = Op("c0", lambda x: x + 1, lambda g, out, x: g)
    exprs = drawn_graphs(expressions(extra_ops=[c0], only_extra=True, max_nodes=5), examples=20)
    for expr in exprs:
        reference = expr.run(*expr.inputs, reference=True)
        out = expr(*[Value(x) for x in expr.inputs])
        np.testing.assert_allclose(out.data, reference[expr.output_name], rtol=1e-12)


def test_the_printed_program_keeps_shapes_and_dtypes_of_its_arrays_and_checks_to_the_third_order():
    square = Op("data_square", lambda x: x * x, lambda g, out, x: g * 2 * (x.data if isinstance(x, Value) else x))
    constants = {"c0": np.zeros((0, 2)), "c1": np.array([0.5, 1.5], dtype=np.float32)}
    expr = Expression((np.array([0.3, -0.7]),), constants, ("v1 = data_square(x0) * c1",), {"data_square": square})
    header = expr.program().split("\ndef f(")[0]
    namespace: dict = {"data_square": square}
    exec(header, namespace)
    assert namespace["c0"].shape == (0, 2)
    assert namespace["c1"].dtype == np.float32
    with pytest.raises(GradientCheckError):  # right at order 1, its second derivative is 0 instead of 2
        exec(expr.program(), {"data_square": square, "print": lambda *a: None})


def test_a_run_with_the_wrong_number_of_inputs_is_refused():
    expr = Expression((np.ones(2),), {}, ("v1 = x0 * 2",))
    with pytest.raises(TypeError, match="takes 1 input"):
        expr.run(np.ones(2), np.ones(2))


def test_calling_on_float32_values_casts_the_float_constants_to_float32():
    """numpy keeps float32 · float32 in float32: a float64 constant left as it is would turn the graph float64."""
    expr = Expression((np.ones(2),), {"c0": np.array([0.5, 2.0])}, ("v1 = x0 * c0",))
    out = expr(Value(np.array([1.0, 3.0], dtype=np.float32)))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [0.5, 6.0])


def test_the_maximum_and_minimum_reduced_are_never_tied():
    """A tie (or a gap within a finite-difference step) makes max/min not differentiable there: exactly one
    element may lie within KINK_MARGIN of the extreme along the axes reduced."""
    checked = 0
    for _, nodes, match in lines_matching(rf"{NODE}\.(max|min)\((.*)\)"):
        value = np.asarray(nodes[match[2]]) * (1 if match[3] == "max" else -1)
        given_axis = re.search(r"axis=(\([^)]*\)|-?\d+|None)", match[4])
        axis = eval(given_axis[1]) if given_axis else None
        if value.ndim and value.size and axis != ():
            near = value > np.max(value, axis=axis, keepdims=True) - KINK_MARGIN
            assert np.all(np.sum(near, axis=axis) == 1), match[0]
            checked += 1
    assert checked > 20


def test_maximum_of_two_operands_is_never_tied():
    checked = 0
    for expr, nodes, match in lines_matching(r"(np|F)\.maximum\((\S+), (\S+)\)"):
        env = {**nodes, **expr.constants}
        left, right = (env[x] if x in env else float(x) for x in (match[3], match[4]))
        assert np.all(np.abs(left - right) >= KINK_MARGIN), match[0]
        checked += 1
    assert checked > 20


def test_kinked_and_unit_domain_custom_ops_get_arguments_off_their_kinks_and_inside_the_unit_interval():
    step = Op("step_abs", np.abs, lambda g, out, x: g * np.sign(x))
    arcsine = Op("arcsine", np.arcsin, lambda g, out, x: g / np.sqrt(1 - x * x))
    specs = [OpSpec(step, kinks=(0.0, 0.5)), OpSpec(arcsine, domain="unit")]
    arguments = {"step_abs": [], "arcsine": []}
    for expr in drawn_graphs(expressions(extra_ops=specs, only_extra=True, max_nodes=8), examples=150):
        env = {**expr.run(*expr.inputs, reference=True), **expr.constants}
        for line in expr.lines:
            for name, argument in re.findall(r"(step_abs|arcsine)\((\w+)\)", line):
                arguments[name].append(np.asarray(env[argument]))
    assert arguments["step_abs"] and arguments["arcsine"]
    assert all(np.all(np.abs(a) >= KINK_MARGIN) and np.all(np.abs(a - 0.5) >= KINK_MARGIN)
               for a in arguments["step_abs"])
    assert all(np.all(np.abs(a) <= 1 - KINK_MARGIN) for a in arguments["arcsine"])


def test_the_numpy_reference_run_is_silent_where_a_mean_has_no_numbers_to_give():
    """numpy warns "Mean of empty slice" for the mean of a (0, 0) array over an axis, whose result is empty; the
    engine gives the same empty result silently.  The reference run warned in a thorough fuzzer run."""
    expr = Expression((np.zeros((0, 0)),), {}, ("v0 = x0.mean(axis=0)",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert expr.run(np.zeros((0, 0)), reference=True)["v0"].shape == (0,)
        assert expr.run(Value(np.zeros((0, 0))))["v0"].shape == (0,)
