"""A numerical analyst's pass over the costs and activations at extreme inputs: softmax's own slope where one share
is nearly 1, the squared error of differences whose squares sum past the largest float, and the activations and
costs under ``np.errstate(all="raise")``.  Expected numbers come from mpmath at 50 digits (closed forms), from
closed forms worked out by hand (noted beside them), or from the same call without the errstate; never from the
code under test alone.

Each test here failed before its fix:

- softmax's vjp s ⊙ (g − Σ g⊙s) took 1 − s from a sum near 1 at the nearly sure share, so its slope kept only
  the digits left over from 1: 1e-3 off at logits (30, 0) in float64, 0 instead of 9.4e-14 in float32.
- ``squared_error`` summed the squares before dividing by the number of samples: inf for two samples of
  difference 1e154, whose cost is 1e308.
- sigmoid, tanh's slope, softplus, softmax and log_softmax (so cross_entropy) compute e^−|x| or e^(x − max x),
  which underflows to 0 far out, as it should: sigmoid(800) = 1, yet under ``np.errstate(all="raise")`` (or
  ``under="raise"``) numpy's bare FloatingPointError "underflow encountered in exp" came out of them.
- Adam's step raised numpy's "underflow encountered in multiply" there for a gradient whose square underflows (1e-200),
  which is harmless (ε dominates √v̂).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers_numerics import ulps
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, optim

mp = pytest.importorskip("mpmath")

DTYPES = [np.float64, np.float32]


@pytest.fixture(autouse=True)
def _fifty_digits():
    """mpmath's precision is global (other test files set their own): 50 digits for every test here."""
    with mp.workdps(50):
        yield


def _exact_softmax(row) -> list:
    """softmax of ``row`` in mpmath, each share as e^(x_i − max) / (1 + Σ_{j≠max} e^(x_j − max)): no cancellation."""
    xs = [mp.mpf(float(v)) for v in row]
    top = max(xs)
    total = mp.fsum(mp.exp(v - top) for v in xs)
    return [mp.exp(v - top) / total for v in xs]


def _exact_softmax_vjp(row, g) -> list:
    """s ⊙ (g − Σ g⊙s), with g − Σ g⊙s = Σ_j (g_i − g_j)·s_j (Σ s = 1): each term exact, nothing cancels."""
    s, u = _exact_softmax(row), [mp.mpf(float(v)) for v in g]
    return [s[i] * mp.fsum((u[i] - u[j]) * s[j] for j in range(len(s))) for i in range(len(s))]


# --- softmax's slope at a nearly sure share ------------------------------------------------------------------------
# rows with a share near 1, upstream gradients, and the dtypes where every exact slope is a normal number
NEARLY_SURE = [([30.0, 0.0], [1.0, 0.0]), ([0.0, -30.0], [0.5, -2.0]), ([10.0, 0.0], [1.0, 0.0]),
               ([40.0, 0.0, -3.0], [0.0, 0.0, 1.0]), ([30.0, 1.0, -1.0], [1.0, 0.25, -3.0]),
               ([-30.0, -30.0, 0.0], [0.3, -1.0, 2.0]), ([20.0, 0.0], [0.0, 1.0]), ([300.0, 260.0], [1.0, 0.0])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("row", "upstream"), NEARLY_SURE)
def test_softmax_slope_at_a_nearly_sure_share_keeps_its_relative_digits(row, upstream, dtype):
    """Every entry of softmax's vjp within 4·(2 + max|x|) ulps of mpmath's (the condition number of e^(x − ln Σ eˣ),
    the tolerance of tests/test_numerics_mpmath.py), the nearly sure share's too, where 1 − s is tiny."""
    x = np.array(row, dtype=dtype)
    exact = _exact_softmax_vjp(x, upstream)
    if any(0 < abs(r) < np.finfo(dtype).tiny for r in exact):
        pytest.skip("an exact slope is below the dtype's normal numbers")
    v = Value(x)
    F.softmax(v).backward(np.array(upstream, dtype=dtype))
    slope = np.asarray(v.grad)
    assert slope.dtype == dtype
    allowed = 4 * (2 + max(abs(float(q)) for q in x))
    for i, (s, r) in enumerate(zip(slope, exact)):
        assert (s == 0) if r == 0 else ulps(s, r, dtype) <= allowed, \
            f"∂/∂x{i} of softmax({row}) · {upstream} in {dtype.__name__}: {s!r}, mpmath {mp.nstr(r, 17)}"


@pytest.mark.parametrize("axis", [0, 1, None, (0, 1)])
def test_softmax_slope_along_any_axis_keeps_the_digits_of_the_nearly_sure_shares(axis):
    """A 2-D input along each axis, a tuple of axes and all of them: each slice's nearly sure share within a few ulps,
    ties between two largest entries (shares of ½, nothing to lose) and an all-equal column too."""
    x = np.array([[30.0, 0.0, 5.0], [-2.0, 30.0, 5.0], [-2.0, 30.0, 30.0]])
    g = np.array([[1.0, -0.5, 0.25], [0.75, 2.0, -1.0], [0.0, 1.5, 3.0]])
    v = Value(x)
    F.softmax(v, axis=axis).backward(g)
    moved = (0, 1) if axis is None else axis
    lines = np.moveaxis(x, moved, -1) if isinstance(moved, int) else x
    ups = np.moveaxis(g, moved, -1) if isinstance(moved, int) else g
    got = np.moveaxis(np.asarray(v.grad), moved, -1) if isinstance(moved, int) else np.asarray(v.grad)
    if not isinstance(moved, int):  # (all of it: one slice)
        lines, ups, got = x.reshape(1, -1), g.reshape(1, -1), got.reshape(1, -1)
    for row, up, slope in zip(lines, ups, got):
        for s, r in zip(slope, _exact_softmax_vjp(row, up)):
            assert ulps(s, r, np.float64) <= 4 * (2 + 30), (axis, row, up, slope)


@given(st.lists(st.floats(-60.0, 60.0), min_size=2, max_size=6), st.integers(0, 5))
def test_softmax_slope_of_any_row_is_within_its_condition_number_of_mpmath(values, which):
    """Rows of any spread, the upstream gradient on one share (∂s_k/∂x): relative error within the bound above."""
    x = np.array(values)
    upstream = np.zeros_like(x)
    upstream[which % len(x)] = 1.0
    exact = _exact_softmax_vjp(x, upstream)
    v = Value(x)
    F.softmax(v).backward(upstream)
    for s, r in zip(np.asarray(v.grad), exact):
        if abs(r) >= np.finfo(np.float64).tiny:
            assert ulps(s, r, np.float64) <= 4 * (2 + max(abs(x))), (values, which, v.grad)


def test_softmax_second_derivatives_at_a_nearly_sure_share_agree_with_mpmath():
    """The recorded backward pass of the rewritten rule still differentiates to ∂²s₀/∂x_i∂x_j: for s₀ of (x₀, x₁),
    ∂s₀/∂x₀ = s₀s₁ and ∂²s₀/∂x₀² = s₀s₁(s₁ − s₀) (closed forms), at a margin of 3 (each share normal-sized)."""
    x = Value(np.array([3.0, 0.0]))
    F.softmax(x)[0].backward(create_graph=True)
    slope = x.grad
    x.grad = None
    slope[0].backward()
    s0, s1 = _exact_softmax([3.0, 0.0])
    assert ulps(slope.data[0], s0 * s1, np.float64) <= 20
    assert ulps(x.grad[0], s0 * s1 * (s1 - s0), np.float64) <= 20
    assert ulps(x.grad[1], -s0 * s1 * (s1 - s0), np.float64) <= 20


def test_softmax_slope_of_a_row_with_no_softmax_stays_nan_without_warnings():
    """A row holding +inf has no softmax (NaN, as documented): its slope stays NaN, another row's is untouched, and
    the rewritten rule's reference share warns of nothing (no 0/0)."""
    x = Value(np.array([[np.inf, 0.0], [30.0, 0.0]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.softmax(x)
        y.backward(np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert np.isnan(x.grad[0]).all()
    s0, s1 = _exact_softmax([30.0, 0.0])
    assert ulps(x.grad[1, 0], s0 * s1, np.float64) <= 4 * 32 and ulps(x.grad[1, 1], -s0 * s1, np.float64) <= 4 * 32


# --- squared_error where the squares' sum overflows ------------------------------------------------------------------
@pytest.mark.parametrize(("differences", "dtype"),
                         [([1e154, 1e154], np.float64), ([2e154, 0.0, 0.0, 0.0], np.float64),
                          ([1.3e154, -1.3e154, 1.3e154], np.float64), ([1.5e19, -1.5e19], np.float32),
                          ([3e19, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], np.float32)])
def test_squared_error_is_finite_where_its_mean_is_though_the_squares_sum_past_the_largest_float(differences, dtype):
    """n samples of one output each, d_s off: the cost Σd²/n is finite though Σd² (for 2e154 and 3e19, d² itself)
    overflows; its slopes are 2d_s/n.  Under errstate(all="raise") no error (under numpy's default errstate, numpy
    still warns of the overflow of the fast first attempt: telling the cases apart first would cost every call)."""
    prediction = np.array(differences, dtype=dtype).reshape(-1, 1)
    target = np.zeros_like(prediction)
    d = [mp.mpf(float(q)) for q in prediction.ravel()]
    exact = mp.fsum(q * q for q in d) / len(d)
    assert exact < np.finfo(dtype).max
    for errstate in ({"all": "ignore"}, {"all": "raise"}):
        p = Value(prediction)
        with np.errstate(**errstate), warnings.catch_warnings():
            warnings.simplefilter("error")
            cost = losses.squared_error(p, target)
            cost.backward()
        assert cost.dtype == dtype and ulps(cost.data, exact, dtype) <= 4, (errstate, cost.data)
        for s, q in zip(np.asarray(p.grad).ravel(), d):
            assert (s == 0) if q == 0 else ulps(s, 2 * q / len(d), dtype) <= 2, (errstate, p.grad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_squared_error_that_overflows_is_inf_with_one_warning_or_numpys_error(dtype):
    """Where the cost itself is past the largest float (a difference of 0.8·max over 2 samples: 0.64·max²), it is
    inf with numpy's one overflow warning, and under errstate(over="raise") numpy's FloatingPointError; a prediction
    of inf costs inf (not the NaN of inf/inf)."""
    big = np.finfo(dtype).max * dtype(0.8)
    prediction, target = np.full((2, 1), big, dtype=dtype), np.zeros((2, 1), dtype=dtype)
    with pytest.warns(RuntimeWarning, match="overflow") as caught:
        assert losses.squared_error(prediction, target).data == np.inf
    assert len(caught) == 1
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        losses.squared_error(prediction, target)
    with np.errstate(all="ignore"):
        assert losses.squared_error(np.array([[np.inf], [0.0]], dtype=dtype), target).data == np.inf


# --- quiet under np.errstate(all="raise") ---------------------------------------------------------------------------
UNDERFLOWING = {
    "sigmoid": F.sigmoid, "tanh": F.tanh, "softplus": F.softplus, "softmax": F.softmax, "log_softmax": F.log_softmax,
    "cross_entropy": lambda v: losses.cross_entropy(v, np.array(0)),
    "cross_entropy of rows": lambda v: losses.cross_entropy(v.reshape(1, -1), np.full((1, v.size), 1 / v.size)),
    "binary cross-entropy": lambda v: (0.3 * F.softplus(-v) + 0.7 * F.softplus(v)).mean(),
}


def _inputs(dtype) -> list[np.ndarray]:
    info = np.finfo(dtype)
    rows = [[30.0, -30.0], [300.0, -300.0], [1e4, -1e4, 0.0], [800.0, 0.0], [-800.0, 0.5],
            [float(info.max) / 2, -float(info.max) / 2], [float(info.smallest_subnormal), 0.0],
            [float(info.tiny) / 3, 2.0]]
    return [np.array(row, dtype=dtype) for row in rows]


def _value_slope_curvature(f, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(x), its vjp for an upstream gradient weighing each output differently (so that no slope cancels to 0 by
    symmetry), and the gradient of that vjp's sum, from a recorded backward pass."""
    v = Value(x)
    out = f(v)
    out.backward(np.linspace(0.5, 2.0, out.size).astype(x.dtype).reshape(out.shape), create_graph=True)
    slope = v.grad
    v.grad = None
    slope.sum().backward()
    return out.data, slope.data, np.asarray(v.grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(UNDERFLOWING))
def test_activations_and_costs_of_finite_inputs_raise_nothing_under_errstate_raise(name, dtype):
    """Far out, e^−|x| rounds to 0 (sigmoid(800) = 1 exactly): that underflow is the right answer, not an error, so
    values, slopes and second derivatives under np.errstate(all="raise") are those of numpy's default errstate, to
    the bit."""
    f = UNDERFLOWING[name]
    for x in _inputs(dtype):
        with np.errstate(all="ignore"):
            expected = _value_slope_curvature(f, x)
        with np.errstate(all="raise"):
            got = _value_slope_curvature(f, x)
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(g, e, err_msg=f"{name} at {x} ({dtype.__name__})")


def test_an_underflow_the_caller_asked_for_still_raises_and_other_errors_are_numpys():
    """The quiet underflow is the activations' own: e^−800 computed by F.exp, and an overflow or a division by 0
    anywhere, still raise numpy's FloatingPointError under np.errstate(all="raise")."""
    with np.errstate(all="raise"):
        with pytest.raises(FloatingPointError, match="underflow"):
            F.exp(Value(-800.0))
        with pytest.raises(FloatingPointError, match="overflow"):
            F.exp(Value(800.0))
        with pytest.raises(FloatingPointError, match="divide"):
            F.log(Value(0.0))
        assert float(F.sigmoid(Value(-800.0)).data) == 0.0  # (e^−800 / (1 + e^−800), rounded)


@pytest.mark.parametrize(("dtype", "gradient"), [(np.float32, 1e-30), (np.float64, 1e-200)])
def test_adams_step_on_a_gradient_whose_square_underflows_raises_nothing_under_errstate_raise(dtype, gradient):
    """g² underflowing to 0 is harmless (ε dominates √v̂ there): the first update η·g/(|g| + ε) (closed form), under
    np.errstate(all="raise") too, which raised numpy's bare "underflow encountered in multiply"."""
    w = Value(np.zeros(2, dtype=dtype))
    w.grad = np.array([gradient, -gradient], dtype=dtype)
    with np.errstate(all="raise"):
        optim.Adam([w], learning_rate=0.1).step()
    g = float(dtype(gradient))
    expected = 0.1 * g / (g + 1e-8)
    assert w.dtype == dtype
    np.testing.assert_allclose(w.data, [-expected, expected], rtol=1e-6)
