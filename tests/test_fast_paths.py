"""The engine's fast paths compute what numpy computes: single float64 numbers done by Python floats, shared
constant arrays, the heap of creation numbers in backward.  Each is checked against numpy or exact values."""

from __future__ import annotations

import copy
import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, engine, ops
from tinygrad_edu import functional as F

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv]
NUMBERS = st.one_of(st.floats(), st.integers(-2 ** 60, 2 ** 60), st.sampled_from([0.0, -0.0, 5e-324, 1e-308, 1e308]))


def run(compute):
    """What ``compute()`` gives (or raises) and the numpy warnings it emits, by category and message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = compute()
        except (FloatingPointError, ZeroDivisionError) as error:
            result = (type(error), str(error))
    return result, [(w.category, str(w.message)) for w in caught]


def same(ours, theirs) -> bool:
    (a, warned_a), (b, warned_b) = ours, theirs
    if isinstance(a, tuple) or isinstance(b, tuple):
        return a == b and warned_a == warned_b
    return (a.dtype == b.dtype and a.shape == b.shape and warned_a == warned_b
            and a.tobytes() == b.tobytes())  # the same bits: signed zeros and NaNs included


@pytest.mark.parametrize("errstate", [{}, {"all": "raise"}, {"all": "ignore"}, {"under": "warn"}])
@pytest.mark.parametrize("function", OPERATORS, ids=lambda f: f.__name__)
@given(a=NUMBERS, b=NUMBERS)
def test_scalar_arithmetic_gives_numpys_bits_warnings_and_errors(function, errstate, a, b):
    x = np.array(float(a))
    with np.errstate(**errstate):
        numpy_result = run(lambda: np.asarray(function(x, np.array(float(b)))))
        assert same(run(lambda: function(Value(x), b).data), numpy_result)
        assert same(run(lambda: function(a, Value(float(b))).data), run(lambda: np.asarray(function(np.array(
            float(a)), np.array(float(b))))))
        assert same(run(lambda: function(Value(x), Value(float(b))).data), numpy_result)


@pytest.mark.parametrize("errstate", [{}, {"all": "raise"}, {"under": "warn"}])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64), (np.float64, np.float32)])
@given(a=NUMBERS, b=NUMBERS, g=NUMBERS)
def test_a_products_backward_gives_numpys_bits_warnings_and_errors(errstate, dtypes, a, b, g):
    """The walk's rules of a product of single numbers, ∂(a·b)/∂a = g·b and ∂(a·b)/∂b = g·a (by Python floats where
    all three are float64): numpy's bits, warnings and errors, computed in this order, then in each input's dtype."""
    with np.errstate(all="ignore"):  # (the forward's overflow is not what is compared)
        a, b = (np.array(float(n)).astype(dtype) for n, dtype in zip((a, b), dtypes))
        x, y = Value(a), Value(b)
        product = x * y
    seed = np.array(float(g))

    def numpy_rules():  # the walk's order: the first input's rule, then the second's, each in its input's dtype
        first = np.asarray(seed * b).astype(x.dtype)
        return np.array([first, np.asarray(seed * a).astype(y.dtype)], dtype=object)

    def backward():
        product.backward(seed)
        return np.array([x.grad, y.grad], dtype=object)

    with np.errstate(**errstate):
        ours, theirs = run(backward), run(numpy_rules)
    if isinstance(ours[0], tuple) or isinstance(theirs[0], tuple):
        assert ours == theirs
    else:
        assert ours[1] == theirs[1]
        assert [(d.dtype, d.tobytes()) for d in ours[0]] == [(d.dtype, d.tobytes()) for d in theirs[0]]


def test_float32_numbers_stay_float32_and_a_gradient_flows_through_the_fast_path():
    x = Value(np.float32(3.0))
    assert (x * 0.1).dtype == np.float32
    w = Value(1.5)
    y = (w * 2.0 - 1.0) / 4.0 + w * w  # every operation is a single float64 number
    y.backward()
    assert y.data.item() == 2.75 and w.grad.item() == 0.5 + 3.0


@pytest.mark.parametrize("case", ["recorded", "constants", "no_grad", "two values"])
def test_the_fast_path_fills_in_every_field_of_a_node_as_the_general_path_does(case):
    """The arithmetic fast path fills in its node itself (``_result`` and ``_node`` written out): every slot as the
    general path would, so a field added to one and not the other fails here."""
    x = Value(2.0, requires_grad=case != "constants")
    y = x if case != "two values" else Value(3.0)
    with engine.no_grad() if case == "no_grad" else engine.enable_grad():
        fast = x * y if case == "two values" else x * 1.5
        general = engine._record(ops.mul, (x, y if case == "two values" else np.asarray(1.5)), {})
    for field in Value.__slots__:
        if field in ("_data", "_order", "__weakref__"):
            continue
        ours, theirs = getattr(fast, field), getattr(general, field)
        assert ours is theirs or (field == "_second" and ours.tobytes() == theirs.tobytes()), field
    assert fast.data.tobytes() == general.data.tobytes() and fast.data.flags.writeable
    assert fast._order == general._order + 1 and fast._first is (x if case in ("recorded", "two values") else None)


def test_constants_made_from_a_number_are_separate_nodes_with_read_only_numbers():
    x = Value(2.0)
    first, second = x * 1.5, x * 1.5
    a, b = first.parents[1], second.parents[1]
    assert a is not b and a.data.item() == b.data.item() == 1.5  # one node per use, as drawings show them
    with pytest.raises(ValueError):
        a.data[...] = 7.0  # a shared number cannot be changed behind another graph's back
    assert (x * 1.5).data.item() == 3.0
    assert (x * -0.0).data.tobytes() == np.array(-0.0).tobytes()  # -0.0 is not mistaken for 0.0


@pytest.mark.parametrize("first", [np.float64, np.float32])
def test_a_shared_number_has_an_array_per_dtype_whichever_came_first(first):
    """A number's shared array is kept per dtype: 1/3 met by float64 first must not make a float32 product float64
    (or the other way round), in the value or in the constant the graph keeps."""
    number = 1 / 3 + (first is np.float32) * 1e-3  # a number no earlier test made shared
    for dtype in (first, np.float32 if first is np.float64 else np.float64):
        product = Value(np.array(3.0, dtype=dtype)) * number
        assert product.dtype == dtype and product.parents[1].dtype == dtype
        assert product.item() == np.multiply(np.array(3.0, dtype=dtype), number).item()


def test_a_constant_input_becomes_one_value_on_first_look_and_stays_that_value():
    x = Value(np.array([1.0, 2.0]))
    data = np.array([3.0, 4.0])
    y = x * data + 2.0  # two constants, kept in the graph as their arrays until someone looks
    product = y.parents[0]
    times, plus = product.parents[1], y.parents[1]
    assert isinstance(times, Value) and isinstance(plus, Value)
    assert product.parents[1] is times and y.parents[1] is plus  # later looks see the same Values
    assert not times.requires_grad and times.op is None and times.parents == ()
    assert times.data.tolist() == [3.0, 4.0] and plus.data.item() == 2.0
    data[0] = 99.0  # the caller's array was copied when the operation was recorded
    assert times.data.tolist() == [3.0, 4.0]
    y.backward(np.ones(2))
    assert x.grad.tolist() == [3.0, 4.0] and times.grad is None  # constants get no gradient
    ((i, parent, grad),) = engine.local_gradients(product, np.ones(2))
    assert (i, parent) == (0, x) and grad.tolist() == [3.0, 4.0]
    both = engine.local_gradients(product, np.ones(2), constants=[times])  # a drawing's edge to a constant
    assert [(i, p) for i, p, _ in both] == [(0, x), (1, times)] and both[1][2].tolist() == [1.0, 2.0]


def test_a_graph_looked_at_before_or_after_backward_gets_the_same_gradients():
    def graph():
        w = Value(0.5)
        return w, ((w * 3.0 - 1.0) * (w / 2.0)).sigmoid() * 4.0

    w_plain, y_plain = graph()
    w_seen, y_seen = graph()
    seen = engine.backward_order(y_seen)
    assert all(isinstance(p, Value) for node in seen for p in node.parents)  # every constant made a Value
    y_plain.backward()
    y_seen.backward()
    assert w_plain.grad.item() == w_seen.grad.item()
    assert [n.op for n in engine.backward_order(y_plain)] == [n.op for n in seen]


def test_backward_visits_a_diamond_once_per_node_after_all_its_users():
    x = Value(3.0)
    a, b = x * 2.0, x * x
    y = a * b + a  # ∂y/∂x = 2·x² + 2x·2x + 2 = 6x² + 2
    y.backward()
    assert x.grad.item() == 6 * 9 + 2
    assert a.grad.item() == b.data.item() + 1 and b.grad.item() == a.data.item()


def test_a_deep_copy_of_a_graph_used_with_the_original_gets_its_own_gradients():
    w = Value(np.ones(3))
    w_copy = copy.deepcopy(w)  # the same creation number as w: backward must still tell them apart
    (w * 2.0 + w_copy * 3.0).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0] and w_copy.grad.tolist() == [3.0, 3.0, 3.0]
    x = Value(2.0)
    h = x * x
    h_copy = copy.deepcopy(h)  # copies x too
    (h * 3.0 + h_copy * 5.0).backward()
    assert x.grad.item() == 12.0 and h_copy.parents[0].grad.item() == 20.0


LEAKY_INPUTS = st.lists(st.one_of(st.floats(width=32), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324])),
                        min_size=1, max_size=12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(x=LEAKY_INPUTS, g=LEAKY_INPUTS, slope=st.one_of(st.floats(5e-324, 1.0), st.sampled_from([0.01, 1.0, 1e-300])))
def test_leaky_relu_as_a_maximum_gives_the_bits_of_its_definition_with_np_where(dtype, x, g, slope):
    """For 0 < s ≤ 1 leaky_relu is computed as max(x, s·x) and its slope as max(sign x, s): the same bits as the
    definition, x where x > 0 else s·x, and 1 where x > 0 else s, for signed zeros, infinities and NaN too."""
    x = np.array(x, dtype)
    g = np.resize(np.array(g, dtype), x.shape)
    with np.errstate(all="ignore"):
        out = ops.leaky_relu.forward(x, negative_slope=slope)
        grad = ops.leaky_relu.vjps[0](g, out, x, negative_slope=slope)
        expected_out = np.where(x > 0, x, x * slope)
        if dtype(slope) == 0:  # a slope of 0 in x's dtype: s·x is −0 at −∞, not 0·(−∞) = NaN (see test_ops_mutants)
            expected_out = np.where(x == -np.inf, dtype(-0.0), expected_out)
        expected_grad = g * np.where(x > 0, 1.0, slope).astype(dtype)
    for ours, theirs in ((out, expected_out), (grad, expected_grad)):
        assert ours.dtype == theirs.dtype == dtype
        nan = np.isnan(theirs)
        assert np.array_equal(np.isnan(ours), nan)  # a NaN is a NaN, whatever its sign bit
        assert ours[~nan].tobytes() == theirs[~nan].tobytes()


@pytest.mark.parametrize("slope", [0.0, -0.5, 2.0, 1, np.float32(0.25)])
def test_leaky_relu_with_other_slopes_follows_its_definition(slope):
    x = Value(np.array([-2.0, -0.0, 0.0, 3.0]))
    y = F.leaky_relu(x, negative_slope=slope)
    y.backward(np.ones(4))
    assert np.array_equal(y.data, np.where(x.data > 0, x.data, x.data * slope))
    assert np.array_equal(x.grad, np.where(x.data > 0, 1.0, float(slope)))


def test_nodes_of_one_two_and_many_inputs_give_their_inputs_in_order():
    """A node keeps its first two inputs in slots of their own and any further ones apart: all come back in order,
    constants (kept as arrays) as Values, and the backward pass reaches every input."""
    a, b, c = Value([1.0]), Value([2.0]), Value([3.0])
    constant = np.array([10.0])
    unary, binary = a.exp(), a * constant
    many = F.concatenate([a, constant, b, c, a])
    assert len(unary.parents) == 1 and unary.parents[0] is a
    assert binary.parents[0] is a and np.array_equal(binary.parents[1].data, constant)
    inputs = many.parents
    assert len(inputs) == 5 and all(inputs[i] is v for i, v in ((0, a), (2, b), (3, c), (4, a)))
    assert not inputs[1].requires_grad and np.array_equal(inputs[1].data, constant)
    assert all(p is q for p, q in zip(many.parents, inputs))  # the constant became a Value once
    (many * np.arange(1.0, 6.0)).sum().backward()
    assert [v.grad.tolist() for v in (a, b, c)] == [[6.0], [3.0], [4.0]]
    assert [id(v) for v in engine.backward_order(many)] == [id(v) for v in (many, c, b, a)]


SIGMOID_INPUTS = st.lists(st.one_of(st.floats(width=32), st.floats(-800.0, 800.0),
                                    st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 36.7, -745.2])),
                          min_size=0, max_size=12)


@pytest.mark.parametrize("errstate", [{}, {"all": "raise"}, {"under": "warn"}])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(x=SIGMOID_INPUTS, zero_d=st.booleans())
def test_a_recorded_sigmoid_keeps_the_bits_of_its_slope_from_one_exponential(errstate, dtype, x, zero_d):
    """A recorded σ computes σ' in its forward pass, from the same exponential, for the backward pass: the same
    bits, warnings and errors as σ and σ' computed apart (signed zeros, infinities, NaN, 0-d arrays, float32)."""
    x = np.array(x[0] if zero_d and x else x, dtype)
    with np.errstate(**errstate):
        together = run(lambda: ops._sigmoid_and_slope(x))
        apart = run(lambda: ops._sigmoid(x)), run(lambda: ops._sigmoid_slope(x))
    if isinstance(together[0], tuple) and isinstance(together[0][0], type):  # raised (errstate "raise")
        assert together[0] == apart[0][0] and together[1] == apart[0][1]
        return
    (sigma, slope), warned = together
    assert warned == apart[0][1]  # (the slope's exponential is the same one: its warnings come once)
    for ours, (theirs, _) in ((sigma, apart[0]), (slope, apart[1])):
        assert ours.__class__ is np.ndarray and ours.dtype == theirs.dtype == dtype and ours.shape == x.shape
        assert ours.tobytes() == theirs.tobytes()


def test_sigmoid_keeps_its_slope_only_where_it_is_recorded_and_a_recorded_backward_computes_it_again():
    """The slope σ'(x) kept by the forward pass is the exact e/(1 + e)², reaches ``x.grad`` unchanged, is not part
    of the operation's parameters, is not computed where nothing is recorded, and a recorded backward pass
    (create_graph) differentiates σ' again: σ''(x) = σ'(x)(1 − 2σ(x))."""
    data = np.array([-40.0, -1.0, 0.0, 2.0, 40.0])
    e = np.exp(-np.abs(data))
    x = Value(data)
    y = x.sigmoid()
    assert y.op_params == {}
    y.backward(np.ones(5))
    assert x.grad.tobytes() == (e / (1 + e) ** 2).tobytes()  # σ'(40) = 4.2e-18 kept, where σ(1 − σ) gives 0
    with engine.no_grad():
        assert x.sigmoid()._params is None
    assert Value(data, requires_grad=False).sigmoid()._params is None
    x.zero_grad()
    y.backward(np.ones(5), create_graph=True)
    slope = x.grad
    assert isinstance(slope, Value) and slope.requires_grad
    x.zero_grad()
    slope.sum().backward()
    sigma = 1 / (1 + np.exp(-data))
    np.testing.assert_allclose(x.grad, e / (1 + e) ** 2 * (1 - 2 * sigma), rtol=1e-14, atol=1e-300)
