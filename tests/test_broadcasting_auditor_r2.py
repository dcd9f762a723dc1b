"""An auditor of broadcasting and shapes: binary operations between Values of shapes (), (1,), (3,), (3, 1), (1, 4),
(2, 3, 4) and the empty (0,), (0, 3), (3, 0); reductions over every kind of axis; reshapes, transposes and indexing fed
into broadcasting operations; and all of it through the second derivative.  Every gradient is checked for its input's
exact shape and dtype and against central differences in float64 (computed here, on numpy, not by the package).

The xfail tests are the defects this pass found (each fixed in the package); the others are guards for behaviour a
broadcasting user relies on that no other test pinned: a size-1 axis broadcast against a size-0 one, compositions of
several broadcasting operations at order 2, float32 kept through a float64 partner, ties of F.maximum across a
broadcast.
"""

import itertools
import re
import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu.functional as F
from tinygrad_edu import Value

SHAPES = [(), (1,), (3,), (3, 1), (1, 4), (2, 3, 4), (0,), (0, 3), (3, 0)]


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


PAIRS = [(a, b) for a, b in itertools.product(SHAPES, SHAPES) if _broadcastable(a, b)]

BINARY: dict[str, Callable] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: F.maximum(a, b) if isinstance(a, Value) else np.maximum(a, b)}


def _central_gradient(f: Callable[..., float], arrays: list[np.ndarray], i: int, h: float = 1e-6) -> np.ndarray:
    """∂f/∂arrays[i] by central differences, element by element, on numpy arrays (float64)."""
    grad = np.zeros_like(arrays[i])
    for index in np.ndindex(arrays[i].shape):
        up = [x.copy() for x in arrays]
        down = [x.copy() for x in arrays]
        up[i][index] += h
        down[i][index] -= h
        grad[index] = (f(*up) - f(*down)) / (2 * h)
    return grad


def _numbers(f: Callable[..., Value], weights: np.ndarray) -> Callable[..., float]:
    """Σ weights · f(...) as a plain number, f run on Values made from the arrays it is given."""
    return lambda *arrays: float((f(*(Value(x) for x in arrays)) * weights).sum().data)


# --- defects -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["broadcast_to", "expand", "expand_as"])
def test_broadcast_to_and_pytorchs_expand_say_what_to_write_and_the_advice_broadcasts(name):
    data = np.array([[1.0], [2.0], [-3.0]], dtype=np.float32)
    v = Value(data)
    with pytest.raises(AttributeError, match=rf"has no attribute {name!r}; write ") as caught:
        getattr(v, name)
    formula = str(caught.value).split("; write ", 1)[1].split(" (")[0]
    shape, other = (2, 3, 4), Value(np.zeros((2, 3, 4)))
    out = eval(formula, {"v": v, "np": np, "shape": shape, "other": other})  # noqa: S307
    assert isinstance(out, Value) and out.shape == shape and out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.broadcast_to(data, shape))
    weights = np.arange(24.0).reshape(shape)
    (out * weights).sum().backward()  # the gradient sums the copies back: Σ over the broadcast axes
    np.testing.assert_array_equal(v.grad, weights.sum(axis=(0, 2)).reshape(3, 1).astype(np.float32))


def test_the_advice_for_np_broadcast_to_keeps_a_float32_value_in_float32():
    v = Value(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    with pytest.raises(TypeError, match=r"^np\.broadcast_to: .*\(here: ") as caught:
        np.broadcast_to(v, (2, 3))
    formula = str(caught.value).split("(here: ", 1)[1].split(" (")[0]
    out = eval(formula, {"v": v, "np": np, "shape": (2, 3)})  # noqa: S307
    assert out.dtype == np.broadcast_to(v.data, (2, 3)).dtype == np.float32
    np.testing.assert_array_equal(out.data, np.broadcast_to(v.data, (2, 3)))


def test_F_minimum_says_what_to_write_and_the_advice_is_the_broadcast_minimum_with_ties_split():
    with pytest.raises(AttributeError, match=r"'minimum'.*; write ") as caught:
        F.minimum  # noqa: B018
    formula = str(caught.value).split("; write ", 1)[1]
    a_data, b_data = np.array([1.0, 2.0, 3.0]), np.array([[2.0], [0.5]])
    a, b = Value(a_data), Value(b_data)
    out = eval(formula, {"F": F, "a": a, "b": b})  # noqa: S307
    np.testing.assert_array_equal(out.data, np.minimum(a_data, b_data))
    out.sum().backward()
    # the tie at a = b = 2 is split evenly, as F.maximum splits it
    np.testing.assert_array_equal(a.grad, [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(b.grad, [[1.5], [3.0]])


# --- guards ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "shapes"), [(n, p) for n in BINARY for p in PAIRS],
                         ids=[f"{n}-{a}-{b}" for n in BINARY for a, b in PAIRS])
def test_binary_ops_between_every_pair_of_shapes_give_gradients_of_the_inputs_shape_dtype_and_slope(name, shapes):
    """Each gradient has its input's shape and dtype and is the central difference, empty shapes included: a size-1
    axis broadcast against a size-0 one gets a gradient of zeros (an empty sum), never NaN, and no warning."""
    f = BINARY[name]
    rng = np.random.default_rng(sum(map(len, shapes)))
    arrays = [rng.uniform(0.5, 2.0, size=shape) for shape in shapes]
    a, b = Value(arrays[0]), Value(arrays[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = f(a, b)
        assert out.shape == np.broadcast_shapes(*shapes)
        weights = rng.normal(size=out.shape)
        (out * weights).sum().backward()
    for i, x in enumerate((a, b)):
        assert x.grad.shape == shapes[i] and x.grad.dtype == np.float64
        assert np.isfinite(x.grad).all()
        np.testing.assert_allclose(x.grad, _central_gradient(_numbers(f, weights), arrays, i), rtol=1e-6, atol=1e-8)


def test_a_size_one_axis_broadcast_against_an_empty_one_gets_zeros_at_orders_one_and_two():
    column, empty = Value(np.array([[1.0], [2.0], [3.0]])), Value(np.zeros((3, 0)))
    product = column * empty * column
    assert product.shape == (3, 0)
    product.sum().backward(create_graph=True)
    slope = column.grad
    assert isinstance(slope, Value) and slope.shape == (3, 1)
    np.testing.assert_array_equal(slope.data, np.zeros((3, 1)))
    column.zero_grad()
    empty.zero_grad()
    (slope * slope + slope).sum().backward()
    np.testing.assert_array_equal(column.grad, np.zeros((3, 1)))
    assert empty.grad.shape == (3, 0)
    one, none = Value(np.array([2.0])), Value(np.zeros(0))
    (one ** none).sum().backward()
    np.testing.assert_array_equal(one.grad, [0.0])
    assert none.grad.shape == (0,)


COMPOSITIONS: dict[str, Callable[[Value], Value]] = {
    "centre rows of a reshape, divided by sums over two axes":
        lambda x: (x.reshape(6, 4) - x.reshape(6, 4).mean(axis=0, keepdims=True)) ** 2 / x.sum(axis=(0, 1)),
    "a transpose times an index": lambda x: x.transpose(2, 0, 1) * x[:, :, 0],
    "a new axis times a kept max, then a min over a tuple": lambda x: (x[None, 0] * x.max(axis=-1, keepdims=True))
    .min(axis=(0, 2)),
    "a maximum against a mean with a new axis, to the power of a min":
        lambda x: F.maximum(x, x.mean(axis=(0, 2))[:, None]) ** x.min(axis=0),
    "picked rows over a swapped square root": lambda x: x[[0, 0, 1]].sum(axis=0, keepdims=True)
    / x.swapaxes(0, 1)[:, :1].sqrt().transpose(1, 0, 2),
    "a log-sum-exp over negative axes": lambda x: (x - x.max(axis=None, keepdims=True)).exp()
    .sum(axis=(-1, -2)).log(),
    "a batched matmul and an empty-tuple mean": lambda x: (x.swapaxes(-1, -2) @ x).sum(axis=-1)[:, None, :]
    * x.mean(axis=())[:, :, :1],
    "a softmax over two axes times a column": lambda x: F.softmax(x, axis=(0, -1)) * x[:, :, 1:2],
}


@pytest.mark.parametrize("name", list(COMPOSITIONS))
def test_compositions_of_broadcasting_ops_match_central_differences_at_orders_one_and_two(name):
    """∇ of Σ w·f(x) and H·d (the gradient of ⟨∇, d⟩, by a recorded pass) against central differences of the value
    and of the gradient, for f that chains several broadcasting operations."""
    f = COMPOSITIONS[name]
    rng = np.random.default_rng(5)
    data = rng.permutation(np.linspace(0.5, 2.0, 24)).reshape(2, 3, 4)  # (distinct numbers: no ties)
    weights = rng.normal(size=f(Value(data)).shape)
    direction = rng.normal(size=data.shape)

    def gradient(at: np.ndarray) -> np.ndarray:
        x = Value(at)
        (f(x) * weights).sum().backward()
        return x.grad

    x = Value(data)
    (f(x) * weights).sum().backward(create_graph=True)
    slope = x.grad
    assert slope.shape == data.shape and slope.dtype == np.float64
    np.testing.assert_allclose(slope.data, _central_gradient(_numbers(f, weights), [data], 0), rtol=1e-6, atol=1e-8)
    x.zero_grad()
    (slope * direction).sum().backward()
    h = 1e-5
    numeric = (gradient(data + h * direction) - gradient(data - h * direction)) / (2 * h)
    assert x.grad.shape == data.shape and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", list(BINARY))
def test_a_float32_value_broadcast_against_float64_arrays_keeps_float32_gradients_at_orders_one_and_two(name):
    f = BINARY[name]
    data, partner = np.array([0.5, 1.25, 2.0], dtype=np.float32), np.array([[0.75], [1.5]])
    x = Value(data)
    out = f(x, partner)
    (out * out).sum().backward(create_graph=True)
    slope = x.grad
    assert slope.shape == (3,) and slope.dtype == np.float32
    x.zero_grad()
    slope.sum().backward()
    assert x.grad.shape == (3,) and x.grad.dtype == np.float32
    # the float64 central difference of Σ f(x, partner)², at x's (float32) numbers
    wide = data.astype(np.float64)
    expected = _central_gradient(lambda v: float((f(Value(v), partner) ** 2).sum().data), [wide], 0)
    np.testing.assert_allclose(slope.data, expected, rtol=1e-5, atol=1e-6)


def test_F_maximum_splits_a_tie_across_a_broadcast_as_the_central_difference_finds():
    """max(a, b) with b of shape () tying every a: each a gets ½, b the sum of its three halves, 1.5; the central
    difference of Σ max(a, b) in b is (3h − 0) / 2h = 1.5 too."""
    a_data, b_data = np.array([2.0, 2.0, 2.0]), np.array(2.0)
    a, b = Value(a_data), Value(b_data)
    F.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.5, 0.5])
    assert b.grad.shape == () and b.grad == 1.5
    total = _numbers(lambda p, q: F.maximum(p, q), np.ones(3))
    np.testing.assert_allclose(_central_gradient(total, [a_data, b_data], 1), 1.5, rtol=1e-9)


@st.composite
def _broadcast_case(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3))
    a_shape, b_shape = shapes.input_shapes
    a = draw(hnp.arrays(np.float64, a_shape, elements=st.floats(0.5, 2.0)))
    b = draw(hnp.arrays(np.float64, b_shape, elements=st.floats(0.5, 2.0)))
    return a, b, draw(st.sampled_from([None, -1, 0, ()])), draw(st.booleans())


@given(_broadcast_case())
def test_a_reduction_of_a_broadcast_product_has_gradients_of_the_inputs_shapes_and_slopes(case):
    """(a·b + a/b).sum(axis, keepdims) · b, for any two broadcastable shapes (size-0 sides included): each gradient has
    its input's shape and is the central difference; an axis the result does not have is refused naming sum."""
    a_data, b_data, axis, keepdims = case

    def f(a, b):
        return (a * b + a / b).sum(axis=axis, keepdims=keepdims) * b

    a, b = Value(a_data), Value(b_data)
    try:
        out = f(a, b)
    except ValueError as error:  # an axis out of range for a 0-d product, or a result that does not fit b
        assert re.match(r"^(sum|mul): ", str(error)), error
        return
    weights = np.linspace(-1.0, 1.0, out.size).reshape(out.shape)
    (out * weights).sum().backward()
    for i, x in enumerate((a, b)):
        assert x.grad.shape == (a_data, b_data)[i].shape and x.grad.dtype == np.float64
        expected = _central_gradient(_numbers(f, weights), [a_data, b_data], i)
        np.testing.assert_allclose(x.grad, expected, rtol=1e-6, atol=1e-7)
