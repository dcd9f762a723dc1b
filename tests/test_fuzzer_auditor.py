"""The random-expression fuzzer (``testing/expressions.py``) audited: does it reach every built-in op at each order
test_composition.py checks, and do its graphs catch bugs planted in the backward rules?

test_composition.py checked 800 graphs (ci profile) at the first order, 200 of at most 12 nodes at the second and
100 of at most 8 at the third (now 800 and 400: these tests keep the smaller counts, so coverage holds even
there).  Measured before the fix: its builder table was drawn uniformly, so each of the 9
element-wise functions came up in one node of 144 and each of the 6 ops the backward pass builds on in one of 96;
in the 200 graphs of the second-order check copy, scatter, sqrt and tanh_slope never appeared, so an error in their
second derivative went unseen.  The builders are now drawn about as often as the ops they write.

The planted bugs are put in one Op's rule for the length of a test (``planted``) and searched for as
test_composition does (same graph sizes, its former counts, generation only: no shrinking), stopping at the first
failing graph; the guards at the end check that this quicker search still reports that graph, once.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from helpers_strategies import op_names  # the ops a drawn graph uses
from hypothesis import HealthCheck, Phase, given, settings

from tinygrad_edu import Value, ops
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import Expression, expressions

GRAPHS = 20 * settings.default.max_examples  # as test_composition.py: its first-order property
SECOND, THIRD = GRAPHS // 4, GRAPHS // 8     # its second- and third-order properties' former counts
REGISTERED = set(ops.BUILT_IN) | {"where", "concatenate", "stack"}  # and the Ops made per call
DRAWN = settings(derandomize=True, database=None, phases=[Phase.generate], deadline=None,
                 suppress_health_check=list(HealthCheck))


@functools.cache
def graphs_drawn(count: int, max_nodes: int) -> tuple[Expression, ...]:
    """``count`` derandomized graphs of at most ``max_nodes`` nodes, drawn once for the tests that look at them."""
    drawn: list[Expression] = []

    @settings(DRAWN, max_examples=count)
    @given(expressions(max_nodes=max_nodes))
    def collect(expr: Expression) -> None:
        drawn.append(expr)

    collect()
    return tuple(drawn)


def ops_drawn(count: int, max_nodes: int) -> collections.Counter:
    """In how many of ``count`` derandomized graphs of at most ``max_nodes`` nodes each op appears."""
    seen: collections.Counter = collections.Counter()
    for expr in graphs_drawn(count, max_nodes):
        seen.update(op_names(expr(*[Value(x) for x in expr.inputs])))
    return seen


class _Found(Exception):
    """Raised once a graph fails: hypothesis draws no more graphs (they would not be checked)."""


def failing_graphs(count: int, max_nodes: int, order: int, uses: str = "") -> int:
    """How many of ``count`` derandomized graphs fail check_gradients at ``order`` (stops at the first); only the
    graphs whose lines match the pattern ``uses`` are checked (the others could not fail: quicker)."""
    found: list[Expression] = []

    @settings(DRAWN, max_examples=count)
    @given(expressions(max_nodes=max_nodes))
    def check(expr: Expression) -> None:
        if found:  # hypothesis replaying the failing graph: it failed already
            raise _Found
        if not any(re.search(uses, line) for line in expr.lines):
            return
        try:
            check_gradients(expr, *expr.inputs, order=order)
        except GradientCheckError:
            found.append(expr)
            raise _Found from None

    try:
        check()
    except _Found:
        pass
    return len(found)


@contextmanager
def planted(op_name: str, vjp: Callable) -> Iterator[None]:
    """``ops.BUILT_IN[op_name]``'s (only) vjp replaced by ``vjp`` inside the block."""
    op = ops.BUILT_IN[op_name]
    rules = op.vjps
    op.vjps = (vjp,)
    try:
        yield
    finally:
        op.vjps = rules


def numbers(x):
    """A Value's numbers without its graph (a constant in a recorded pass); an array as it is."""
    return x.detach() if isinstance(x, Value) else x


# --- coverage: which ops the graphs of each order reach ------------------------------------------------------------
def test_every_built_in_op_appears_in_the_graphs_of_the_second_order_check() -> None:
    """In the first half of the second-order property's graphs (it draws GRAPHS of them; relu, kept off its kink,
    appears in about 1 of 80 such small graphs, so the former count, a quarter, could miss it)."""
    seen = ops_drawn(GRAPHS // 2, max_nodes=12)
    assert REGISTERED - set(seen) == set(), "ops no graph of the second-order check uses"


def test_every_built_in_op_appears_in_the_graphs_of_the_first_order_check_more_than_ten_times() -> None:
    seen = ops_drawn(GRAPHS // 2, max_nodes=25)
    assert {name: seen[name] for name in REGISTERED if seen[name] <= 10} == {}


def test_the_softmaxes_are_drawn_over_all_axes_and_over_tuples_of_axes() -> None:
    """In the same graphs as the first-order coverage test (expressions()'s own max_nodes is 25: drawn once)."""
    lines = [line for expr in graphs_drawn(GRAPHS // 2, 25) for line in expr.lines if "softmax(" in line]
    assert any("axis=None" in line for line in lines)
    assert any(re.search(r"axis=\((-?\d+, )+-?\d+\)", line) for line in lines)  # two axes or more


# --- planted bugs: each must be found by graphs like test_composition's ------------------------------------------
def _softmax_first_axis_only(g, out, x, axis=-1):
    """softmax's rule summing over only the first of several axes: right for one axis and for None."""
    first = axis[0] if isinstance(axis, tuple) and axis else axis
    return out * (g - (g * out).sum(axis=first, keepdims=True))


def test_a_softmax_rule_wrong_only_over_several_axes_is_found() -> None:
    with planted("softmax", _softmax_first_axis_only):
        assert failing_graphs(GRAPHS, max_nodes=25, order=1, uses=r"softmax\(.*axis=\(") == 1


def _abs_wrong_for_negatives(g, out, x):
    return g * np.abs(np.sign(x))  # the slope of |x| taken as +1 for x < 0 too


def test_an_abs_rule_wrong_only_for_negative_inputs_is_found_at_the_first_order() -> None:
    with planted("abs", _abs_wrong_for_negatives):
        assert failing_graphs(GRAPHS, max_nodes=25, order=1, uses=r"F\.abs\(|np\.absolute\(") == 1


def _sqrt_slope_held_constant(g, out, x):
    return g / (2 * numbers(out) + 0.0)  # right numbers, but no graph: the second derivative loses √x's own slope


def test_a_sqrt_rule_wrong_only_at_the_second_order_is_found() -> None:
    with planted("sqrt", _sqrt_slope_held_constant):
        assert failing_graphs(SECOND, max_nodes=12, order=2, uses=r"sqrt\(|\*\* 0\.5") == 1


# --- guards: the quicker search keeps what made the slower one fail -------------------------------------------------
def test_failing_graphs_stops_at_the_first_failing_graph_and_checks_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """failing_graphs stops hypothesis at the first failing graph (it used to draw the rest of its 800 graphs without
    checking them): it still reports that graph once and checks nothing after it."""
    outcomes: list[bool] = []

    def counted(*args, **kwargs):
        try:
            result = checked(*args, **kwargs)
        except GradientCheckError:
            outcomes.append(False)
            raise
        outcomes.append(True)
        return result

    checked = check_gradients
    monkeypatch.setitem(globals(), "check_gradients", counted)
    with planted("abs", _abs_wrong_for_negatives):
        found = failing_graphs(GRAPHS, max_nodes=25, order=1, uses=r"F\.abs\(|np\.absolute\(")
    assert found == 1
    assert outcomes and outcomes[-1] is False and all(outcomes[:-1])  # the failing graph was the last one checked


def test_failing_graphs_lets_an_error_other_than_a_failed_check_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise ZeroDivisionError("not a gradient check failure")

    monkeypatch.setitem(globals(), "check_gradients", broken)
    with pytest.raises(ZeroDivisionError):
        failing_graphs(5, max_nodes=6, order=1)
