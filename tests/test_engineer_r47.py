"""An engineer who writes Ops of their own and property-tests their gradients (round 47): what went wrong for them."""

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu import Op
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import OpSpec, expressions

# a slip in the forward: np.logaddexp takes two inputs, so every call is a TypeError
BROKEN_SOFTPLUS = Op("softplus", lambda x: np.logaddexp(x), lambda g, out, x: g / (1 + np.exp(-x)))


def test_an_op_whose_forward_always_raises_is_refused_by_expressions_not_silently_never_drawn():
    # each node whose forward raised was left out, so with only_extra=True every graph lacked the op and the
    # property test passed without ever calling it
    with pytest.raises(ValueError, match=r"forward of your Op 'softplus' raised TypeError \(.*logaddexp.*\) on "
                                         r"inputs of every shape tried") as caught:
        expressions(extra_ops=[BROKEN_SOFTPLUS], only_extra=True)
    advice = str(caught.value).split("to see why, ")[-1]
    assert advice == "softplus(np.linspace(0.1, 0.5, 3))"
    with pytest.raises(TypeError, match="logaddexp"):  # the advice, pasted, shows the forward's own error
        eval(advice, {"softplus": BROKEN_SOFTPLUS, "np": np})
    with pytest.raises(ValueError, match="'softplus'"):  # as an OpSpec, among others, too
        expressions(extra_ops=[Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x ** 2),
                               OpSpec(BROKEN_SOFTPLUS, kinks=(0.0,))])


def test_an_op_that_takes_only_some_shapes_is_still_drawn():
    # a forward that refuses some shapes (a matrix-only op) is no mistake: its nodes are drawn where it fits
    trace = Op("rows_sum", lambda x: x.sum(axis=-1), lambda g, out, x: g[..., None] * np.ones_like(x))  # not 0-d
    strategy = expressions(extra_ops=[trace], only_extra=True, max_nodes=6)
    drawn = []

    @settings(max_examples=30, deadline=None, database=None, derandomize=True)
    @given(strategy)
    def property_test(expr):
        drawn.append("rows_sum(" in expr.program())
        check_gradients(expr, *expr.inputs)

    property_test()
    assert any(drawn)


def test_an_op_whose_forward_needs_a_keyword_is_named_when_drawn_as_before():
    scale = Op("scale", lambda x, k: x * k, lambda g, out, x, k: g * k)
    strategy = expressions(extra_ops=[scale], only_extra=True, max_nodes=4)  # no error yet: params are drawn later

    @settings(max_examples=2, deadline=None, database=None)
    @given(strategy)
    def property_test(expr):
        pass

    with pytest.raises(TypeError, match=r"OpSpec 'scale': its forward cannot be called as forward\(x0, \*\*\{\}\)"):
        property_test()
