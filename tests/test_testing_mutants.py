"""Edges found by mutation testing of ``tinygrad_edu/testing/strategies.py`` and ``expressions.py``: each test pins a
behaviour that a hand-made mutant (a flipped comparison, an off-by-one in a bound, a dropped check or domain guard, a
wrong default or message) changed while the other tests (test_testing, test_testing_edges, test_strategies_misuse,
test_expressions_edges; test_composition too for the mutants of the numpy reference) passed.  85 mutants, 45 of
strategies.py and 40 of expressions.py; 54 killed before these tests, 83 after.  The run also found a defect,
fixed with the test that failed before (``test_an_exact_fit_across_a_kink_…``): ``arrays`` with ``min_gap`` refused
an exact fit that spans a kink (two elements 2 apart in [-1, 1] away from 0), though it accepts the same fit without
a kink and promises a ValueError only for a shape that does not fit: the gap was padded against rounding where no
room is left for the padding.

Equivalent mutants, left without a test:

- ``least = min_side ** min_dims`` without ``max(min_side, 1)``: differs only for min_side=0 (least 0 instead of 1),
  and the capacity is at least 1 once the no-room check has passed, so ``capacity < least`` is false either way.
- ``_fitted`` popping a dim at ``len(dims) >= min_dims``: reached only with every side at max(min_side, 1), where
  the shape holds least <= capacity elements and the loop has already stopped.
"""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
from helpers_strategies import FIRST, drawn, drawn_graphs, first  # what a strategy draws (derandomized)
from hypothesis import find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Op, Value
from tinygrad_edu.testing.expressions import (
    Expression,
    Graph,
    OpSpec,
    _inside,
    _off_kinks,
    custom,
    elementwise,
    expressions,
    numpy_function,
)
from tinygrad_edu.testing.strategies import (
    MAX_DIMS,
    arrays,
    arrays_for,
    broadcastable_shapes,
    matmul_shapes,
    shapes,
    values,
)


# ------------------------------------------------------------------------------------------ shapes and their limits
def test_shapes_take_numpys_limit_of_32_dimensions_and_no_more():
    assert MAX_DIMS == 32
    assert first(shapes(min_dims=32, max_dims=32, max_side=1)) == (1,) * 32
    assert first(arrays((1,) * 32)).shape == (1,) * 32
    with pytest.raises(ValueError, match=r"^shapes: max_dims must be at most 32, got 33$"):
        shapes(max_dims=33)
    with pytest.raises(ValueError, match=r"^arrays: shape \(1, 1, .*\) has more than 32 dimensions$"):
        arrays((1,) * 33)


def test_a_min_equal_to_its_max_is_allowed_and_a_larger_one_names_both():
    assert all(s and set(s) == {2} for s in drawn(shapes(min_dims=1, min_side=2, max_side=2), lambda s: s))
    with pytest.raises(ValueError, match=r"^shapes: min_dims=3 is larger than max_dims=2$"):
        shapes(min_dims=3, max_dims=2)


def test_a_side_of_0_is_a_shape_arrays_draws_but_a_bool_is_not_a_side():
    """A shape is a tuple of ints >= 0: empty arrays are arrays; True is no int of a shape."""
    assert first(arrays((2, 0))).shape == (2, 0)
    with pytest.raises(TypeError, match=r"^arrays: shape must be a tuple of ints"):
        arrays((True, 2))


def test_broadcastable_shapes_take_one_shape_or_more_and_keep_min_side():
    with pytest.raises(ValueError, match="num_shapes"):
        broadcastable_shapes(0)
    pairs = drawn(broadcastable_shapes(2, min_dims=2, min_side=2), lambda pair: pair)
    # sides of 1 broadcast; every other side, and the shape they broadcast to, is at least min_side
    assert all(n == 1 or n >= 2 for pair in pairs for s in pair for n in s)
    assert all(min(np.broadcast_shapes(*pair)) >= 2 for pair in pairs)


def test_matmul_shapes_leave_two_of_the_32_dimensions_to_the_matrix():
    matmul_shapes(max_batch_dims=30)
    with pytest.raises(ValueError, match=r"^matmul_shapes: max_batch_dims must be at most 30, got 31$"):
        matmul_shapes(max_batch_dims=31)


# ----------------------------------------------------------------------------------------------- arrays: the values
def test_a_range_of_one_number_draws_that_number():
    """[min_value, max_value] is closed: [1, 1] holds 1.0 (in float32 too, where 1 is a float32 number)."""
    for dtype in (np.float64, np.float32):
        x = first(arrays((3,), dtype=dtype, min_value=1.0, max_value=1.0))
        assert x.dtype == dtype and np.all(x == 1.0)


def test_a_kink_just_inside_the_lower_bound_moves_elements_up_not_out_of_the_range():
    """0 is 5e-4 from the kink, inside its margin of 1e-3: below the kink there is no room (−5e-4 < 0), so an
    element drawn there goes up to 1.5e-3; all stay in [0, 1]."""
    elements = np.concatenate(drawn(arrays(min_value=0.0, max_value=1.0, avoid=(5e-4,), margin=1e-3),
                                    lambda x: x.ravel()))
    assert np.all((elements >= 0.0) & (elements <= 1.0)) and np.all(np.abs(elements - 5e-4) >= 1e-3)
    assert 1.5e-3 in elements  # the lower bound, 0, drawn and moved up


def test_the_largest_float32_number_is_a_bound_float32_arrays_take():
    largest = float(np.finfo(np.float32).max)
    first(arrays((2,), dtype=np.float32, min_value=0.0, max_value=largest))
    with pytest.raises(ValueError, match="reaches beyond float32's largest number"):
        arrays((2,), dtype=np.float32, min_value=0.0, max_value=float(np.nextafter(largest, np.inf)))


def test_a_margin_of_0_is_allowed():
    """The margin must be >= 0: 0 keeps nothing away (a kink at 0 is then only moved onto itself)."""
    assert first(arrays((3,), avoid=(0.0,), margin=0.0), lambda x: 0.0 in x) is not None


def test_points_exactly_a_margin_from_the_kink_are_allowed():
    """[-1, 1] at distance 1 from 0 leaves exactly -1 and 1, which are a margin away: drawn, not refused."""
    elements = np.concatenate(drawn(arrays((2,), min_value=-1.0, max_value=1.0, avoid=(0.0,), margin=1.0),
                                    lambda x: x))
    assert set(elements) == {-1.0, 1.0}


# ------------------------------------------------------------------------------------------- arrays with a min_gap
def test_a_min_gap_draws_shapes_holding_exactly_as_many_elements_as_fit():
    """0, 0.5, 1: three elements 0.5 apart fit into [0, 1], so min_dims=1, min_side=3 can be met (a vector of 3)."""
    found = drawn(arrays(min_value=0.0, max_value=1.0, min_gap=0.5, min_dims=1, min_side=3), lambda x: x)
    assert found and all(x.shape == (3,) and sorted(x) == [0.0, 0.5, 1.0] for x in found)


def test_drawn_shapes_cut_down_for_a_min_gap_keep_min_side():
    """Shapes are cut down by dropping dims, not by shortening a side below min_side=2 (shapes() promises sides
    between min_side and max_side)."""
    found = drawn(arrays(min_value=0.0, max_value=1.0, min_gap=0.5, min_side=2), lambda x: x.shape)
    assert found and all(all(n >= 2 for n in shape) for shape in found)
    assert (2,) in found


def test_float32_elements_with_a_min_gap_stay_a_margin_from_a_kink_after_rounding():
    """Two elements 0.002 apart fit into [0.048999, 0.0515] away from 0.05 by 0.001 only across the kink: at the
    lower bound and at the edge of the margin, 0.051, which is no float32 number (the nearest, 0.05099999905, lies
    inside the margin): the element must be a float32 number at least 0.051."""
    found = drawn(arrays((2,), dtype=np.float32, min_value=0.048999, max_value=0.0515, avoid=(0.05,), margin=0.001,
                         min_gap=0.002), lambda x: x.astype(np.float64))
    assert found
    for x in found:
        assert np.all(np.abs(x - 0.05) >= 0.001) and np.all((x >= 0.048999) & (x <= 0.0515))
        assert abs(x[0] - x[1]) >= 0.002


def test_a_point_left_alone_beside_a_kink_counts_toward_the_elements_that_fit():
    """[-c, 3] at distance c·(1 − 1e-9) (a hair under c) from 0 leaves the single point -c and [c, 3]: -c, c and 2.5
    are 1.5 apart, so min_dims=1, min_side=3 can be met, across the kink."""
    c = 1.0 * (1 + 1e-9)
    found = drawn(arrays(min_value=-c, max_value=3.0, avoid=(0.0,), margin=1.0, min_gap=1.5, min_dims=1,
                         min_side=3), lambda x: sorted(x))
    assert found and all(len(x) == 3 and x[0] == -c and np.all(np.diff(x) >= 1.5) for x in found)


def test_an_exact_fit_across_a_kink_is_drawn_as_one_without_a_kink_is():
    """Two elements 2 apart fit into [-1, 1] exactly (at -1 and 1), with or without a kink at 0 with a margin of
    0.5: both ends are 1 from 0.  arrays promises a ValueError only for a given shape that does not fit."""
    assert sorted(first(arrays((2,), min_value=-1.0, max_value=1.0, min_gap=2.0))) == [-1.0, 1.0]
    assert sorted(first(arrays((2,), min_value=-1.0, max_value=1.0, avoid=(0.0,), margin=0.5,
                               min_gap=2.0))) == [-1.0, 1.0]


# ----------------------------------------------------------------------------------------------------------- values
def test_values_refuse_a_requires_grad_that_is_not_a_bool():
    with pytest.raises(TypeError, match="values: requires_grad"):
        values((2,), requires_grad="yes")


def test_arrays_for_refuses_a_tuple_of_shapes_given_instead_of_a_strategy():
    with pytest.raises(TypeError, match=r"^arrays_for: shapes_strategy must be a hypothesis strategy"):
        arrays_for(((2,), (3,)))


# ------------------------------------------------------------------------------------------------------ expressions
def built_lines(builder, x0: list[float], custom: dict | None = None,
                examples: int = 100) -> list[tuple[str, dict[str, np.ndarray]]]:
    """The lines ``builder`` adds to a graph of the one input ``x0`` in ``examples`` derandomized draws, each with
    the numpy values of its graph's nodes."""
    lines: list[tuple[str, dict[str, np.ndarray]]] = []

    @settings(FIRST, max_examples=examples)
    @given(st.data())
    def build(data):
        g = Graph(data.draw, [np.array(x0)], custom or {})
        builder(g, "x0")
        lines.extend((line, dict(g.values)) for line in g.lines)
    build()
    return lines


@pytest.mark.parametrize("builder, kinked", [
    (elementwise, r"F\.(abs|relu|leaky_relu)\(x0[,)]"), (numpy_function, r"np\.(absolute)\(x0\)")])
def test_kinked_functions_take_no_argument_within_0_01_of_their_kink(builder, kinked):
    """KINK_MARGIN, 1e-2, is how far every input of relu, abs, leaky_relu (numpy's absolute too) stays from 0:
    x0 holding 0.005 is refused, x0 holding 0.02 taken."""
    assert not [line for line, _ in built_lines(builder, [0.005, 1.5]) if re.search(kinked, line)]
    taken = {m.group(1) for line, _ in built_lines(builder, [0.02, 1.5]) for m in [re.search(kinked, line)] if m}
    assert taken == ({"abs", "relu", "leaky_relu"} if builder is elementwise else {"absolute"})


def test_a_custom_op_of_positive_domain_gets_arguments_at_least_0_01_above_0():
    """e^x and σ(x) of x = −6 are 0.0025 there: positive, but within KINK_MARGIN (1e-2) of 0."""
    log = Op("my_log", np.log, lambda g, out, x: g / x)
    arguments = [nodes[m.group(1)] for line, nodes in built_lines(custom, [-6.0, 1.0],
                                                                  {"my_log": OpSpec(log, domain="positive")})
                 for m in [re.fullmatch(r"v\d+ = my_log\((\w+)\)", line)] if m]
    assert len(arguments) == 4 and all(np.all(a >= 1e-2) for a in arguments)  # one for each helper tried first


def test_helper_nodes_that_move_an_operand_off_a_kink_keep_it_in_its_domain():
    """0.012 is 0.008 from a kink at 0.02: a helper moves it off, and (domain "positive") keeps it at least 0.01
    above 0 (0.012 · 0.5 = 0.006 is off the kink but not positive enough)."""
    @settings(FIRST, max_examples=60)
    @given(st.data())
    def move(data):
        g = Graph(data.draw, [np.array([0.012, 1.0])], {})
        name = _off_kinks(g, "x0", (0.02,), "positive")
        if name is not None:
            value = g.value(name)
            assert np.all(value >= 1e-2) and np.all(np.abs(value - 0.02) >= 1e-2)
    move()


def test_expressions_refuse_fewer_than_2_nodes_and_take_min_nodes_equal_to_max_nodes():
    with pytest.raises(ValueError, match="min_nodes"):
        expressions(min_nodes=1, max_nodes=3)
    sizes = {len(e.inputs) + len(e.lines) for e in drawn_graphs(expressions(min_nodes=4, max_nodes=4), examples=30)}
    assert sizes == {4}


def test_only_extra_needs_extra_ops():
    with pytest.raises(ValueError, match=r"^expressions: only_extra=True needs extra_ops$"):
        expressions(only_extra=True)


def test_opspec_refuses_a_domain_tuple_of_the_wrong_length_and_a_broadcasts_that_is_not_a_bool():
    mul = Op("mul2", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a))
    with pytest.raises(ValueError, match=r"^OpSpec 'mul2': domain must be one of .* or a tuple of 2 of them"):
        OpSpec(mul, domain=("real",))
    with pytest.raises(TypeError, match="broadcasts"):
        OpSpec(mul, broadcasts="no")
    with pytest.raises(TypeError, match=r"^OpSpec 'mul2': params must be a hypothesis strategy"):
        OpSpec(mul, params={"alpha": 0.5})


def test_params_that_draw_something_other_than_a_dict_are_refused_by_name():
    scale = Op("scale", lambda x, w=1.0: x * w, lambda g, out, x, w=1.0: g * w)
    with pytest.raises(TypeError, match=r"^expressions: OpSpec 'scale': params must draw dicts"):
        find(expressions(extra_ops=[OpSpec(scale, params=st.just([("w", 2.0)]))], only_extra=True, max_nodes=5),
             lambda e: True, settings=FIRST)


def test_an_op_named_f_or_like_another_is_renamed_and_the_program_still_runs():
    """The program defines f (the graph); two different Ops of one name are both kept, under two names."""
    square = Op("f", lambda x: x * x, lambda g, out, x: 2 * g * x)
    cube = Op("power", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)
    fourth = Op("power", lambda x: x ** 4, lambda g, out, x: 4 * g * x ** 3)
    [expr] = drawn_graphs(expressions(extra_ops=[square, cube, fourth], only_extra=True, max_nodes=10), examples=1)
    assert "f" not in expr.custom and list(expr.custom.values()) == [square, cube, fourth]
    source = expr.program().replace("check_gradients(f, *inputs, order=3)", "")
    names = {name: op for name, op in expr.custom.items()}
    exec(re.sub(r"^# .*$", "", source, flags=re.M), {**names, "__name__": "replay"})


def test_an_expression_refuses_a_line_that_is_not_an_assignment():
    with pytest.raises(TypeError, match=r"^Expression: lines must be a non-empty tuple of lines 'name = expression'"):
        Expression((np.ones(2),), {}, ("x0 + 1",))


def test_an_op_of_a_script_is_named_in_a_comment_not_imported_from_main(monkeypatch):
    """A script's globals cannot be imported by name (``from __main__ import …`` in another run finds nothing)."""
    double = Op("double", lambda x: 2 * x, lambda g, out, x: 2 * g)
    double.forward.__module__ = "__main__"
    for vjp in double.vjps:
        vjp.__module__ = "__main__"
    monkeypatch.setattr(sys.modules["__main__"], "double", double, raising=False)
    expr = Expression((np.ones(2),), {}, ("v1 = double(x0)",), {"double": double})
    assert '\ndouble = Op("double", lambda x: 2 * x, lambda g, out, x: 2 * g)\n' in expr.program()  # its source
    assert "from __main__" not in expr.program()


def test_a_param_of_a_one_element_tuple_prints_as_a_tuple():
    pick = Op("pick", lambda x, axes=(0,): x * len(axes), lambda g, out, x, axes=(0,): g * len(axes))
    spec = OpSpec(pick, params=st.just({"axes": (1,)}))
    [expr] = drawn_graphs(expressions(extra_ops=[spec], only_extra=True, max_nodes=3), examples=1)
    assert "axes=(1,))" in expr.program()


def test_calling_an_expression_on_float32_values_keeps_index_arrays_as_integers():
    expr = Expression((np.arange(3.0),), {"c0": np.array([2, 0], dtype=np.intp), "c1": np.array([0.5, 1.5])},
                      ("v1 = x0[c0] * c1",))
    out = expr(Value(np.arange(3.0, dtype=np.float32)))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, [1.0, 0.0])


def test_a_unit_domain_op_is_drawn_on_an_operand_far_outside_the_unit_interval():
    """x0 = 3 is moved inside (−1, 1) by a helper node (0.9·tanh keeps it at most 0.9 < 0.99), not given up on."""
    arcsine = Op("arcsine", np.arcsin, lambda g, out, x: g / np.sqrt(1 - x * x))
    arguments = [nodes[m.group(1)] for line, nodes in built_lines(custom, [3.0, 0.5],
                                                                  {"arcsine": OpSpec(arcsine, domain="unit")})
                 for m in [re.fullmatch(r"v\d+ = arcsine\((\w+)\)", line)] if m]
    assert arguments and all(np.all(np.abs(a) <= 0.99) for a in arguments)


@pytest.mark.parametrize("value, domain, inside", [
    (0.995, "unit", False), (-0.995, "unit", False), (0.99, "unit", True), (0.005, "positive", False),
    (0.01, "positive", True), (-5.0, "real", True)])
def test_the_domain_guard_keeps_a_margin_of_0_01_inside_the_domain(value, domain, inside):
    """The guard every custom op's argument passes: "unit" is (−1, 1) kept KINK_MARGIN (1e-2) inside, "positive"
    at least 1e-2 above 0.  (Its helpers keep unit operands within ±0.9, so only this check shows the margin.)"""
    assert _inside(np.array([0.5, value]), domain) is inside
