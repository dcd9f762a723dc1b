"""A performance engineer's round on issue 10: what the speed change could break, checked against numpy and
central differences, and the collector advice of the README's *Performance* section.

The change: the engine's per-operation paths (the arithmetic fast path, ``_record``, ``_result``, the backward walk,
the constants' arrays) read numpy's ``ndarray`` and ``asarray`` from module-level names instead of ``np.ndarray``:
numpy's module defines ``__getattr__``, so CPython does not specialise reads of its attributes, each a generic lookup
(the scalar chain and the 1,000,000-op chain about 4 % faster).  The tests below pin what those reads decide: which
inputs are constants' arrays, that every result and every gradient is a plain ndarray of the right dtype (numpy
scalars from reductions and 0-d sums made arrays), that a subclass of ndarray given as a constant is copied, and that
the numbers stay numpy's, bit for bit, with gradients equal to central differences.

The defect (failed before its fix): the README advised pausing the collector around ``forward``/``backward``
(``gc.disable()`` … ``gc.enable()``) since "the graphs hold no reference cycles", so it "frees nothing later than
usual"; after ``backward(create_graph=True)`` a ``.grad`` is a Value whose graph may lead back to the Value holding it,
a cycle that waits for the collector (the README's section on the walk said so; the advice did not)."""

from __future__ import annotations

import gc
import operator
import weakref
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, no_grad

README = Path(__file__).resolve().parent.parent / "README.md"
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv]
# finite float64 numbers of every size, subnormals and zeros included (the fast path hands those to numpy)
NUMBERS = st.floats(allow_nan=False, allow_infinity=False, width=64)


def _same_bits(ours: np.ndarray, theirs: object) -> bool:
    theirs = np.asarray(theirs)
    return ours.dtype == theirs.dtype and ours.shape == theirs.shape and ours.tobytes() == theirs.tobytes()


# --- the scalar fast path: numpy's numbers, plain 0-d arrays -------------------------------------------------------
@given(a=NUMBERS, b=NUMBERS, which=st.sampled_from(range(4)))
def test_one_float64_number_and_a_python_float_give_numpys_bits(a: float, b: float, which: int) -> None:
    """x ∘ 1.001 and 2.0 ∘ x on single float64 numbers (Python's float arithmetic, or numpy where the result is not a
    normal number): numpy's own bits, in a plain 0-d ndarray, whichever side the number is on."""
    function = OPERATORS[which]
    with np.errstate(all="ignore"):
        for ours, theirs in ((function(Value(a), b), function(np.array(a), np.array(b))),
                             (function(a, Value(b)), function(np.array(a), np.array(b))),
                             (function(Value(a), Value(b)), function(np.array(a), np.array(b)))):
            assert ours.data.__class__ is np.ndarray
            assert _same_bits(ours.data, theirs), (a, b, function.__name__)


@given(a=st.floats(-1e3, 1e3, allow_subnormal=False), b=st.floats(-1e3, 1e3, allow_subnormal=False))
def test_the_product_rule_of_single_numbers_is_g_times_the_other_input(a: float, b: float) -> None:
    """The walk computes a product's rules g·b and g·a by Python floats: with g = 5 they are numpy's 5·b and 5·a,
    to the bit, plain 0-d float64 arrays."""
    x, y = Value(a), Value(b)
    (x * y).backward(np.array(5.0))
    with np.errstate(all="ignore"):
        assert _same_bits(x.grad, np.array(5.0) * np.array(b)) and x.grad.__class__ is np.ndarray
        assert _same_bits(y.grad, np.array(5.0) * np.array(a)) and y.grad.__class__ is np.ndarray


@pytest.mark.parametrize(("factor", "shift", "turns"), [(1.001, 0.5, 200), (0.75, -2.0, 30), (-1.3, 1e-3, 25)])
def test_the_scalar_chain_gradient_is_the_closed_form_and_central_differences(factor, shift, turns) -> None:
    """y = y·c + d, n turns from x: dy/dx = cⁿ, and the central difference of the same function agrees."""
    def chain(start):
        y = start
        for _ in range(turns):
            y = y * factor + shift
        return y

    x = Value(0.3)
    y = chain(x)
    y.backward()
    assert x.grad.__class__ is np.ndarray and x.grad.dtype == np.float64 and x.grad.shape == ()
    assert x.grad == pytest.approx(factor ** turns, rel=1e-12)
    h = 1e-6
    assert x.grad == pytest.approx((chain(0.3 + h) - chain(0.3 - h)) / (2 * h), rel=1e-6)
    assert y.data == pytest.approx(chain(0.3), rel=1e-15)


def test_a_number_used_twice_gets_its_gradients_summed_in_a_plain_array() -> None:
    """x·x + 3x: the walk adds the parts of x's gradient (numpy gives a 0-d sum back as a numpy scalar, made an
    array); float32 numbers keep float32, on every node the walk passes."""
    for dtype, tolerance in ((np.float64, 1e-15), (np.float32, 1e-6)):
        x = Value(np.array(1.5, dtype))
        product = x * x
        y = product + x * 3.0
        y.backward()
        for value in (x, product):
            assert value.grad.__class__ is np.ndarray and value.grad.dtype == dtype and value.grad.shape == ()
        assert float(x.grad) == pytest.approx(2 * 1.5 + 3, rel=tolerance)


# --- arrays: the element-wise chain, reductions, constants ---------------------------------------------------------
def _numpy_chain(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    y = x
    for _ in range(12):
        y = 1 / (1 + np.exp(-np.tanh(y * w + x)))
    return y


def test_the_elementwise_chain_gradient_is_central_differences() -> None:
    """The benchmark's chain y = σ(tanh(y·w + x)) on (8,) arrays, 12 turns: both gradients against central
    differences of the numpy function, each element moved alone."""
    x0, w0 = np.linspace(-1, 1, 8), np.full(8, 0.9)
    upstream = np.linspace(0.5, 2.0, 8)
    x, w = Value(x0), Value(w0)
    y = x
    for _ in range(12):
        y = ((y * w) + x).tanh().sigmoid()
    y.backward(upstream)
    np.testing.assert_allclose(y.data, _numpy_chain(x0, w0), rtol=1e-14)
    h = 1e-6
    for value, moved in ((x, 0), (w, 1)):
        assert value.grad.__class__ is np.ndarray and value.grad.shape == (8,)
        expected = np.empty(8)
        for i in range(8):
            step = [np.zeros(8), np.zeros(8)]
            step[moved][i] = h
            up = upstream @ _numpy_chain(x0 + step[0], w0 + step[1])
            down = upstream @ _numpy_chain(x0 - step[0], w0 - step[1])
            expected[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(value.grad, expected, rtol=1e-6, atol=1e-10)


def test_a_reductions_numpy_scalar_is_made_a_plain_array_of_its_dtype() -> None:
    """numpy's sum over every axis gives a numpy scalar: the Value holds it as a 0-d ndarray, float32 kept."""
    for dtype in (np.float32, np.float64):
        numbers = np.array([0.1, 0.2, 0.3], dtype)
        total = Value(numbers).sum()
        assert total.data.__class__ is np.ndarray and total.data.dtype == dtype
        assert _same_bits(total.data, np.add.reduce(numbers))
        with no_grad():
            assert Value(numbers).mean().data.__class__ is np.ndarray


class _Tagged(np.ndarray):
    """A subclass of ndarray, as a memmap or a library's array type is: not an ndarray itself."""


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix's own)
def test_a_constant_of_an_ndarray_subclass_is_copied_and_its_changes_do_not_reach_the_gradient() -> None:
    """The constants' test is for ndarray itself: a subclass goes the general way, which copies it too, so writing
    into it after the forward pass changes neither the result nor the gradient."""
    factor = np.array([2.0, 3.0]).view(_Tagged)
    x = Value(np.array([1.0, 1.0]))
    y = x * factor
    factor[:] = 100.0
    y.backward(np.ones(2))
    np.testing.assert_array_equal(y.data, [2.0, 3.0])
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])
    with pytest.raises(TypeError, match=r"^mul: np.matrix \* is a matrix product"):
        x * np.matrix([[2.0, 3.0]])


def test_an_unrecorded_result_never_shares_its_inputs_numbers() -> None:
    """A custom Op whose forward returns its input as it is (straight through): under no_grad the result is a leaf
    that ``-=`` changes in place, so it gets numbers of its own; the input's stay."""
    same = Op("same", lambda x: x, lambda g, out, x: g)
    x = Value(np.array([1.0, 2.0]))
    with no_grad():
        y = same(x)
        y -= 1.0
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    np.testing.assert_array_equal(y.data, [0.0, 1.0])


# --- the README's advice on the collector --------------------------------------------------------------------------
def _freed_without_the_collector(create_graph: bool) -> tuple[bool, bool]:
    """Whether x of y = x³ (and a Value of its graph) is freed when dropped with the collector paused, and whether it
    is freed once the collector runs."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        x = Value(2.0)
        cube = x ** 3
        (cube.sigmoid() * 2.0).backward(create_graph=create_graph)
        leaf, node = weakref.ref(x), weakref.ref(cube)
        del x, cube
        freed = leaf() is None and node() is None
        gc.collect()
        return freed, leaf() is None and node() is None
    finally:
        if enabled:
            gc.enable()


def test_the_readme_advice_on_pausing_the_collector_says_where_a_graph_waits_for_it() -> None:
    """An ordinary pass's graph is freed as soon as it is dropped, with the collector paused; after
    ``create_graph=True`` x.grad (3x²·…) holds a graph that leads back to x, which only the collector frees: the
    advice said "frees nothing later than usual" of every graph."""
    assert _freed_without_the_collector(create_graph=False) == (True, True)
    assert _freed_without_the_collector(create_graph=True) == (False, True)
    text = " ".join(README.read_text(encoding="utf-8").split())
    advice = text.split("A library must not switch off its user's collector")[1].split("- **")[0]
    assert "frees nothing later than usual" in advice
    assert "create_graph=True" in advice and "only the collector frees" in advice
