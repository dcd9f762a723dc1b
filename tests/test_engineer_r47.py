"""An engineer who writes Ops of their own and property-tests their gradients (round 47): what went wrong for them."""

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import OpSpec, expressions

# a slip in the forward: np.logaddexp takes two inputs, so every call is a TypeError
BROKEN_SOFTPLUS = Op("softplus", lambda x: np.logaddexp(x), lambda g, out, x: g / (1 + np.exp(-x)))


def test_an_op_whose_forward_always_raises_is_refused_by_expressions_not_silently_never_drawn():
    # each node whose forward raised was left out, so with only_extra=True every graph lacked the op and the
    # property test passed without ever calling it
    with pytest.raises(ValueError, match=r"forward of your Op 'softplus' raised TypeError \(.*logaddexp.*\) on "
                                         r"inputs of every shape tried") as caught:
        expressions(extra_ops=[BROKEN_SOFTPLUS], only_extra=True).validate()  # (its first use: round 50)
    advice = str(caught.value).split("to see why, ")[-1]
    assert advice == "softplus(np.linspace(0.1, 0.5, 3))"
    with pytest.raises(TypeError, match="logaddexp"):  # the advice, pasted, shows the forward's own error
        eval(advice, {"softplus": BROKEN_SOFTPLUS, "np": np})
    with pytest.raises(ValueError, match="'softplus'"):  # as an OpSpec, among others, too
        expressions(extra_ops=[Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * x ** 2),
                               OpSpec(BROKEN_SOFTPLUS, kinks=(0.0,))]).validate()


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


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _sigmoid_vjp(g, out, z, saved=None):
    return g * (out * (1 - out) if saved is None else saved)


def _saving_with(saved):
    return lambda z: (_sigmoid(z), saved(_sigmoid(z)))


def test_a_wrong_saved_is_named_when_the_recorded_pass_agrees():
    # saved σ where σ(1 − σ) was meant: the table alone blamed nothing; backward(create_graph=True) recomputes it
    # from out and agrees with the differences, which points at the saved= path
    sig = Op("my_sigmoid", _sigmoid, _sigmoid_vjp, saving=_saving_with(lambda s: s))
    with pytest.raises(AssertionError, match=r"create_graph=True\), whose vjps get no saved= and compute it again, "
                                             r"agrees with the differences: in f's Op with saving= \('my_sigmoid'\)"):
        check_gradients(lambda z: sig(z), np.array([0.5, -1.0, 2.0]))
    z = np.array([0.5, -1.0, 2.0])  # the closed form the right saving gives, and the check passes
    right = Op("my_sigmoid", _sigmoid, _sigmoid_vjp, saving=_saving_with(lambda s: s * (1 - s)))
    check_gradients(lambda v: right(v).sum(), z)
    v = Value(z)
    right(v).sum().backward()
    np.testing.assert_allclose(v.grad, np.exp(-z) / (1 + np.exp(-z)) ** 2, rtol=1e-14)


def test_no_saved_note_where_the_recorded_pass_is_wrong_too():
    # the vjp itself is wrong (the 1 − σ forgotten on both paths), or another Op is: saved= is not to blame
    wrong = Op("half_sigmoid", _sigmoid, lambda g, out, z, saved=None: g * out,
               saving=_saving_with(lambda s: s * (1 - s)))
    cube = Op("wrong_cube", lambda x: x ** 3, lambda g, out, x: g * 2 * x ** 2)
    right = Op("my_sigmoid", _sigmoid, _sigmoid_vjp, saving=_saving_with(lambda s: s * (1 - s)))
    for f in (lambda z: wrong(z), lambda z: right(cube(z))):
        with pytest.raises(AssertionError) as caught:
            check_gradients(f, np.array([0.5, -1.0, 2.0]))
        assert "saved=" not in str(caught.value)


class _OnlyG:
    """A vjp as a callable object that forgot out and the input: __call__(self, g)."""

    def __call__(self, g):
        return g


def test_a_callable_object_or_partial_vjp_that_takes_too_few_arguments_is_refused_when_the_op_is_made():
    # a function's code was read and refused there; a callable object or a functools.partial passed, and its
    # backward() then blamed the keywords ("not the forward's defaults"), which had nothing to do with it
    import functools
    for vjp, named in ((_OnlyG(), "_OnlyG"), (functools.partial(lambda g, k: g * k, k=2.0), "partial")):
        with pytest.raises(TypeError, match=rf"Op 'twice': a vjp is called as vjp\(g, out, \*inputs, \*\*params\), "
                                            rf"3 arguments for this op's 1 input\(s\); {named} takes fewer"):
            Op("twice", lambda x: 2 * x, vjp)
    twice = Op("twice", lambda x: 2 * x, functools.partial(lambda g, out, x, k: g * k, k=2.0))  # a right one
    x = Value(np.array([1.0, -3.0]))
    twice(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_the_advice_for_an_unusable_two_input_op_gives_it_two_inputs():
    joined = Op("joined", lambda a, b: np.concatenate(a, b), (lambda g, out, a, b: g, lambda g, out, a, b: g))
    with pytest.raises(ValueError, match="forward of your Op 'joined'") as caught:
        expressions(extra_ops=[joined]).validate()
    advice = str(caught.value).split("to see why, ")[-1]
    assert advice == "joined(np.linspace(0.1, 0.5, 3), np.linspace(0.1, 0.5, 3))"
    with pytest.raises(TypeError):  # pasted: the forward's own error (np.concatenate's axis given an array)
        eval(advice, {"joined": joined, "np": np})
