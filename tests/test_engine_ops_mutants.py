"""Behaviour of the engine (engine.py) and the gradient rules (ops.py) that the other tests left open, found by a
second round of mutation testing.

Mutation-tested: tinygrad_edu/ops.py and tinygrad_edu/engine.py, 90 hand-made mutants (fast-path guards, dtype
handling, unbroadcasting, second-order rules, no_grad, zero_grad, the backward walk and its limits, copies of
constants and parameters, error messages), run against tests/test_engine*.py, test_fast_paths.py,
test_gradients.py, test_autodiff*.py, test_composition.py, test_losses.py, test_functional_edges.py,
test_expressions_edges.py and the two modules' doctests.  Killed before this file: 71; with it: 81.

Equivalent mutants (no input tells them apart from the original):
- sum_to also summing size-1 axes that were not stretched: a sum over an axis of length 1 with keepdims is the
  identity, on arrays and on Values (where it records one more sum, of the same numbers and derivatives).
- σ's saving forward testing x > 0 instead of x ≥ 0: they differ only at x = ±0, where e^−|x| = 1 and
  max(1, 0) = max(1, 1); NaN gives NaN either way.
- σ's vjp ignoring its saved slope and computing σ'(x) again: both come from the same operations on e^−|x|, so
  they give the same bits (the saved slope only saves time).
- leaky ReLU taking the np.where form at slope 1: x for x > 0 else 1·x is x, and both slopes are 1 everywhere
  (NaN included), as max(x, x) and fmax(sign x, 1) give.
- the mean's vjp dividing by 0 instead of 1 when the input is empty: the gradient then has no elements to divide.
- concatenate's vjp finding the pieces' places again instead of using those its forward saved: the same places,
  only slower (time n² for n inputs).
- the fast path not checking that the first (or the second) operand is float64: the other one is float64 then,
  and numpy computes float32 beside float64 in float64, as Python floats do, with the same bits and warnings.
- the fast path taking a division by zero as 0.0 instead of NaN: both lie outside the normal numbers, so either
  way numpy computes the result, with its warning.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import Op, Value, apply, no_grad
from tinygrad_edu import functional as F


def _with_warnings(compute):
    """What ``compute()`` gives and the warnings it emits (category and message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = compute()
    return result, [(w.category, str(w.message)) for w in caught]


# --- the arithmetic fast path -----------------------------------------------------------------------------------
@pytest.mark.parametrize("base, exponent", [(-8.0, 1 / 3), (10.0, 400.0), (2.0, 0.5)])
def test_a_power_of_single_numbers_gives_numpys_result_and_warnings(base, exponent):
    """``**`` of single float64 numbers is numpy's: (−8)^(1/3) is NaN with numpy's warning (Python floats would give
    a complex number), and 10^400 is inf with numpy's overflow warning (Python floats would raise)."""
    ours, warned = _with_warnings(lambda: (Value(base) ** exponent).data)
    theirs, numpy_warned = _with_warnings(lambda: np.asarray(np.array(base) ** np.array(exponent)))
    assert ours.dtype == theirs.dtype == np.float64
    assert ours.tobytes() == theirs.tobytes() and warned == numpy_warned


# --- the precision of the slopes ---------------------------------------------------------------------------------
def test_the_slopes_of_a_power_with_mixed_dtypes_are_computed_in_the_output_dtype():
    """A float32 exponent of a float64 base: ∂/∂a = b·a^(b−1) with b − 1 in float64; a float32 base under a float64
    exponent: ∂/∂b = aᵇ·ln a with ln a in float64 (float32 would be off from the 8th digit)."""
    b32 = np.float32(0.1)
    a, b = Value([2.0]), Value(np.array([b32]))
    (a ** b).sum().backward()
    exact_b = float(b32)
    np.testing.assert_allclose(a.grad, [exact_b * 2.0 ** (exact_b - 1.0)], rtol=1e-14)
    a, b = Value(np.array([3.0], dtype=np.float32)), Value([0.5])
    (a ** b).sum().backward()
    np.testing.assert_allclose(b.grad, [math.sqrt(3.0) * math.log(3.0)], rtol=1e-14)


def test_the_tails_of_tanh_and_softplus_slopes_keep_their_digits():
    """tanh'(x) = sech²(x) = 4/(eˣ + e⁻ˣ)² and softplus'(x) = σ(x) = 1/(1 + e⁻ˣ), to the last digits where they are
    tiny (1 − tanh² would lose most of them, 1 − e^(−softplus) all of them)."""
    x = Value([10.0, 20.0, -3.0])
    x.tanh().sum().backward()
    np.testing.assert_allclose(x.grad, 4 / (np.exp(x.data) + np.exp(-x.data)) ** 2, rtol=1e-13)
    x = Value([-40.0, -3.0, 2.0])
    F.softplus(x).sum().backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-x.data)), rtol=1e-13)


# --- Op: calls and definitions -----------------------------------------------------------------------------------
def test_an_op_called_with_an_array_before_a_value_records_itself():
    """An Op called on a Value records itself (it is what a drawing names), whichever input the Value is."""
    scale = Op("scale", lambda c, x: c * x, (lambda g, out, c, x: g * x, lambda g, out, c, x: g * c))
    x = Value([3.0])
    y = scale(np.array([2.0]), x)
    assert y.op == "scale"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0])


def test_an_op_refuses_a_vjp_that_cannot_take_every_input():
    """A vjp is called as vjp(g, out, *inputs): for two inputs it must take 4 arguments."""
    with pytest.raises(TypeError, match=r"^Op 'plus': a vjp is called as .* 4 arguments for this op's 2 input\(s\)"):
        Op("plus", np.add, (lambda g, out, a: g, lambda g, out, a: g))


def test_a_saving_forward_that_returns_no_pair_is_refused_by_name():
    bad = Op("bad", lambda x: x, lambda g, out, x, saved=None: g, saving=lambda x: (x, 1, 2))
    with pytest.raises(TypeError, match=r"^bad: its saving forward must return a pair \(out, saved\)"):
        bad(Value(1.0))


def test_python_numbers_take_numpys_dtype_of_the_values_among_the_inputs():
    """apply's promise: 0.1 beside a float32 Value alone is float32's 0.1; with a float64 Value among the inputs it is
    float64's, as numpy promotes a Python number (its rule since round 33; before, the first Value's dtype)."""
    affine = Op("affine", lambda x, w, c: x * w + c,
                (lambda g, out, x, w, c: g * w, lambda g, out, x, w, c: g * x, lambda g, out, x, w, c: g))
    out = apply(affine, Value(np.array([1.0], dtype=np.float32)), Value([1.0]), 0.1)
    assert out.dtype == np.float64
    assert out.data[0] == 1.1 != 1.0 + float(np.float32(0.1))
    alone = apply(affine, Value(np.array([1.0], dtype=np.float32)), Value(np.array([1.0], dtype=np.float32)), 0.1)
    assert alone.dtype == np.float32 and alone.data[0] == np.float32(1.0) + np.float32(0.1)


# --- the backward walk and shapes --------------------------------------------------------------------------------
def test_backward_towards_a_value_made_after_the_output_still_finds_a_stale_graph():
    """An input made after the output cannot be in its graph, so it limits nothing: the walk goes the whole way back
    and finds the leaf changed in place (backward's promise: a stale graph raises)."""
    w = Value(2.0)
    y = (w * 3.0) * 2.0
    with no_grad():
        w -= 1.0
    z = w * 2.0
    with pytest.raises(ValueError, match=r"^backward: the graph is stale"):
        y.backward(inputs=[z])


def test_swapaxes_names_an_axis_out_of_bounds():
    with pytest.raises(ValueError, match=r"^swapaxes: axis 2 is out of bounds for shape \(2, 3\)"):
        Value(np.ones((2, 3))).swapaxes(0, 2)
    with pytest.raises(ValueError, match=r"^swapaxes: axis -3 is out of bounds for shape \(2, 3\)"):
        Value(np.ones((2, 3))).swapaxes(-3, 1)
