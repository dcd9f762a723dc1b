"""The table of every differentiable operation that tests/test_gradients.py checks against float64 central
differences (first and second derivatives) and tests/test_autodiff.py differentiates once more: each case is a name,
the function of Values to check, and a strategy drawing its inputs (float64 arrays, 0-d to 3-d, broadcasting pairs,
kept off kinks) and its keyword parameters.  A helper module, not a test module: no test module imports another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, ops
from tinygrad_edu.losses import squared_error
from tinygrad_edu.testing.strategies import arrays, arrays_for, broadcastable_shapes, matmul_shapes, shapes


@dataclass(frozen=True)
class Case:
    name: str
    f: Callable[..., Value]  # f(*values, **params)
    inputs: st.SearchStrategy  # draws (tuple of arrays, dict of params)


def no_params(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return strategy.map(lambda arrays_: (tuple(arrays_), {}))


def one(**kw) -> st.SearchStrategy:
    """A single array of any shape (0-d to 3-d)."""
    return no_params(arrays(**kw).map(lambda a: (a,)))


def pair(a_kw: dict | None = None, b_kw: dict | None = None) -> st.SearchStrategy:
    """Two arrays of mutually broadcastable shapes, each with its own element bounds."""
    return no_params(broadcastable_shapes(2).flatmap(
        lambda s: st.tuples(arrays(s[0], **(a_kw or {})), arrays(s[1], **(b_kw or {})))))


def one_and(name: str, param: st.SearchStrategy, **kw) -> st.SearchStrategy:
    """A single array and one keyword parameter ``name`` drawn from ``param``."""
    return st.tuples(one(**kw), param).map(lambda d: (d[0][0], {name: d[1]}))


def with_constant(**kw) -> st.SearchStrategy:
    """An array input and a broadcastable constant array ``c`` (a parameter: it gets no gradient)."""
    return pair(kw).map(lambda drawn: ((drawn[0][0],), {"c": drawn[0][1]}))


def broadcast_target() -> st.SearchStrategy:
    """An array and a shape it broadcasts to."""
    return broadcastable_shapes(2).flatmap(
        lambda s: arrays(s[0]).map(lambda a: ((a,), {"shape": np.broadcast_shapes(*s)})))


def scattered() -> st.SearchStrategy:
    """Values and the places (repeats allowed) of a 4-element array they are added into."""
    keys = st.lists(st.integers(-4, 3), min_size=0, max_size=6).map(lambda k: np.array(k, dtype=np.intp))
    return keys.flatmap(lambda key: arrays((len(key),)).map(lambda a: ((a,), {"key": key})))


def same_shape() -> st.SearchStrategy:
    """Two arrays of one shape (a prediction and its target)."""
    return no_params(shapes().flatmap(lambda s: st.tuples(arrays(s), arrays(s))))


@st.composite
def axis_params(draw, ndim: int) -> dict:
    """axis None, an int (negative too) or a tuple of axes, and keepdims."""
    choices = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        choices.append(st.integers(-ndim, ndim - 1))
    return {"axis": draw(st.one_of(choices)), "keepdims": draw(st.booleans())}


def reduction(**kw) -> st.SearchStrategy:
    return arrays(**kw).flatmap(lambda x: axis_params(x.ndim).map(lambda p: ((x,), p)))


@st.composite
def reshaped(draw) -> tuple:
    x = draw(arrays())
    ones = draw(st.integers(0, 1))
    new_shape = draw(st.permutations(list(x.shape) + [1] * ones))
    if new_shape and draw(st.booleans()):
        new_shape[draw(st.integers(0, len(new_shape) - 1))] = -1
    return (x,), {"shape": tuple(new_shape)}


@st.composite
def permuted(draw) -> tuple:
    x = draw(arrays())
    return (x,), {"axes": tuple(draw(st.permutations(range(x.ndim))))}


@st.composite
def two_axes(draw) -> tuple:
    x = draw(arrays(min_dims=1))
    axis = st.integers(-x.ndim, x.ndim - 1)
    return (x,), {"axis1": draw(axis), "axis2": draw(axis)}


@st.composite
def basic_index(draw) -> tuple:
    x = draw(arrays())
    return (x,), {"key": draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))}


@st.composite
def integer_array_index(draw) -> tuple:
    x = draw(arrays(min_dims=1))
    return (x,), {"key": draw(hnp.integer_array_indices(x.shape))}


@st.composite
def repeated_rows(draw) -> tuple:
    """A list of row numbers along axis 0 in which some row appears more than once."""
    x = draw(arrays(min_dims=1))
    rows = draw(st.lists(st.integers(-len(x), len(x) - 1), min_size=1, max_size=6))
    return (x,), {"key": rows + rows[:1]}


@st.composite
def last_axis(draw, **kw) -> tuple:
    x = draw(arrays(min_dims=1, **kw))
    return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}


@st.composite
def joinable(draw, stacked: bool) -> tuple:
    """1 to 3 arrays that concatenate (same shape but along ``axis``) or stack (same shape) along ``axis``; or
    arrays of any shapes and sizes that concatenate with axis=None (flattened first)."""
    if not stacked and draw(st.booleans()):
        return tuple(draw(st.lists(arrays(), min_size=1, max_size=3))), {"axis": None}
    shape = draw(shapes(min_dims=1))
    ndim = len(shape) + stacked
    axis = draw(st.integers(-ndim, ndim - 1))
    count = draw(st.integers(1, 3))
    pieces = []
    for _ in range(count):
        piece_shape = list(shape)
        if not stacked:
            piece_shape[axis] = draw(st.integers(1, 3))
        pieces.append(draw(arrays(tuple(piece_shape))))
    return tuple(pieces), {"axis": axis}


def apart() -> st.SearchStrategy:
    """(a, b) broadcastable with b − a at least 0.01 from 0 everywhere, for max(a, b)."""
    return pair(b_kw={"avoid": (0.0,), "margin": 0.01}).map(lambda d: ((d[0][0], d[0][0] + d[0][1]), {}))


@st.composite
def chosen(draw) -> tuple:
    c_shape, a_shape, b_shape = draw(broadcastable_shapes(3))
    condition = draw(hnp.arrays(bool, c_shape))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {"condition": condition}


@st.composite
def layer(draw) -> tuple:
    """Weights (n_in, n_out), biases (n_out,), a batch of inputs (batch, n_in) and targets (batch, n_out)."""
    batch, n_in, n_out = (draw(st.integers(1, 3)) for _ in range(3))
    return ((draw(arrays((n_in, n_out))), draw(arrays((n_out,))), draw(arrays((batch, n_in)))),
            {"y": draw(arrays((batch, n_out), min_value=0, max_value=1))})


#: numpy matmul semantics, each kind at least once: vector·vector, vector @ matrix, matrix @ vector, matrices,
#: a batch @ a matrix, a vector @ a batch, and batches whose batch dimensions broadcast.
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
                 ((3,), (2, 3, 4)), ((1, 2, 3), (4, 3, 2))]
POSITIVE = {"min_value": 0.1, "max_value": 3.0}
OFF_ZERO = {"avoid": (0.0,), "margin": 0.3}

CASES = [
    Case("add", lambda a, b: a + b, pair()),
    Case("sub", lambda a, b: a - b, pair()),
    Case("mul", lambda a, b: a * b, pair()),
    Case("div", lambda a, b: a / b, pair(b_kw=OFF_ZERO)),
    Case("number + - * / Value", lambda a: (1.5 + a) * 2.0 - 0.5 / (a * a + 1.0) - 3.0, one()),
    Case("number - Value", lambda a: 2.0 - a, one()),
    Case("array + Value", lambda a, c: c + a, with_constant()),
    Case("array - Value", lambda a, c: c - a, with_constant()),
    Case("array * Value", lambda a, c: c * a, with_constant()),
    Case("array / Value", lambda a, c: c / a, with_constant(**OFF_ZERO)),
    Case("Value ** Value", lambda a, b: a ** b, pair(a_kw={"min_value": 0.5, "max_value": 3.0},
                                                     b_kw={"min_value": -2.0, "max_value": 2.0})),
    Case("Value ** integer", lambda a, p: a ** p, one_and("p", st.sampled_from([1, 2, 3]))),
    Case("Value ** real", lambda a, p: a ** p, one_and("p", st.sampled_from([0.5, -1.5, 2.5]), **POSITIVE)),
    Case("number ** Value", lambda a: 2.0 ** a, one()),
    Case("neg", lambda a: -a, one()),
    Case("matmul", lambda a, b: a @ b, no_params(arrays_for(matmul_shapes()))),
    Case("matmul 1-D, 2-D, batched", lambda a, b: a @ b, no_params(arrays_for(st.sampled_from(MATMUL_SHAPES)))),
    Case("array @ Value", lambda b, c: c @ b, arrays_for(matmul_shapes()).map(lambda d: ((d[1],), {"c": d[0]}))),
    Case("exp", lambda a: a.exp(), one()),
    Case("log", lambda a: a.log(), one(**POSITIVE)),
    Case("sqrt", lambda a: a.sqrt(), one(**POSITIVE)),
    Case("abs", lambda a: a.abs(), one(avoid=(0.0,))),
    Case("tanh", lambda a: a.tanh(), one()),
    Case("sigmoid", lambda a: a.sigmoid(), one(min_value=-8.0, max_value=8.0)),
    Case("relu", lambda a: a.relu(), one(avoid=(0.0,))),
    Case("F.exp", F.exp, one()),
    Case("F.log", F.log, one(**POSITIVE)),
    Case("F.sqrt", F.sqrt, one(**POSITIVE)),
    Case("F.abs", F.abs, one(avoid=(0.0,))),
    Case("F.tanh", F.tanh, one()),
    Case("F.sigmoid", F.sigmoid, one()),
    Case("F.relu", F.relu, one(avoid=(0.0,))),
    Case("F.identity", F.identity, one()),
    Case("F.leaky_relu", F.leaky_relu, one_and("negative_slope", st.floats(0.0, 0.5), avoid=(0.0,))),
    Case("F.softplus", F.softplus, one(min_value=-10.0, max_value=10.0)),
    Case("F.softmax", F.softmax, last_axis()),
    Case("F.log_softmax", F.log_softmax, last_axis()),
    Case("sum", lambda a, **p: a.sum(**p), reduction()),
    Case("mean", lambda a, **p: a.mean(**p), reduction()),
    Case("max", lambda a, **p: a.max(**p), reduction(min_gap=1e-3)),
    Case("min", lambda a, **p: a.min(**p), reduction(min_gap=1e-3)),
    Case("reshape", lambda a, shape: a.reshape(shape), reshaped()),
    Case("transpose(axes)", lambda a, axes: a.transpose(axes), permuted()),  # (one tuple: (0, 1) of a matrix too)
    Case("transpose()", lambda a: a.transpose(), one()),
    Case(".T", lambda a: a.T, one()),
    Case("swapaxes", lambda a, axis1, axis2: a.swapaxes(axis1, axis2), two_axes()),
    Case("basic indexing", lambda a, key: a[key], basic_index()),
    Case("integer array indexing", lambda a, key: a[key], integer_array_index()),
    Case("repeated rows", lambda a, key: a[key], repeated_rows()),
    Case("F.concatenate", lambda *xs, axis: F.concatenate(xs, axis=axis), joinable(stacked=False)),
    Case("F.stack", lambda *xs, axis: F.stack(xs, axis=axis), joinable(stacked=True)),
    Case("F.maximum", F.maximum, apart()),
    Case("F.where", lambda a, b, condition: F.where(condition, a, b), chosen()),
    Case("squared_error", squared_error, same_shape()),
    Case("astype", lambda a: a.astype(np.float64) * 1.0, one()),
    Case("copy (a leaf's gradient under create_graph)", lambda a: ops.copy(a) * 1.0, one()),
    Case("sigmoid's slope σ'", lambda a: ops.sigmoid_slope(a), one(min_value=-8.0, max_value=8.0)),
    Case("tanh's slope 1 − tanh²", lambda a: ops.tanh_slope(a), one(min_value=-4.0, max_value=4.0)),
    Case("log_softmax's vjp g − e^out·Σg", lambda a, axis: ops.log_softmax_grad(a, F.log_softmax(a, axis=axis),
                                                                                 axis=axis), last_axis()),
    Case("broadcast_to", lambda a, shape: ops.broadcast_to(a, shape=shape), broadcast_target()),
    Case("scatter (index's gradient)", lambda a, key: ops.scatter(a, shape=(4,), key=key), scattered()),
    Case("sigmoid layer cost", lambda w, b, x, y: (((x @ w + b).sigmoid() - y) ** 2).mean(), layer()),
]
