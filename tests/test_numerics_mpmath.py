"""Values, first and second derivatives of tinygrad_edu's ops, functions and losses at the extremes, checked against
mpmath at 50 digits (closed forms of the derivatives, not finite differences), in float64 and float32.

The tests of the slopes at −0 are defects this pass found, each failing before its fix; the others guard what
was right."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_numerics import compare_with_mpmath, derivatives, sigma, ulps

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses
from tinygrad_edu.autodiff import grad, hessian

mp = pytest.importorskip("mpmath")


@pytest.fixture(autouse=True)
def _fifty_digits():
    """mpmath's precision is global (other test files set their own): 50 digits for every test here."""
    with mp.workdps(50):
        yield


# (overflow and division by zero are the point here: numpy's warnings about them are expected)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

DTYPES = [np.float64, np.float32]


# f, f, f', f'' (mpmath closed forms)
ELEMENTWISE = {
    "sigmoid": (F.sigmoid, sigma, lambda x: sigma(x) * sigma(-x),
                lambda x: -sigma(x) * sigma(-x) * mp.tanh(x / 2)),  # (1 − 2σ(x) = −tanh(x/2), no cancellation)
    "tanh": (F.tanh, mp.tanh, lambda x: mp.sech(x) ** 2, lambda x: -2 * mp.sech(x) ** 2 * mp.tanh(x)),
    "softplus": (F.softplus, lambda x: mp.log1p(mp.exp(x)), sigma, lambda x: sigma(x) * sigma(-x)),
    "exp": (F.exp, mp.exp, mp.exp, mp.exp),
    "log": (F.log, mp.log, lambda x: 1 / x, lambda x: -1 / x ** 2),
    "sqrt": (F.sqrt, mp.sqrt, lambda x: 1 / (2 * mp.sqrt(x)), lambda x: -1 / (4 * x * mp.sqrt(x))),
}


def _points(name: str, dtype) -> np.ndarray:
    rng = np.random.default_rng(7)
    if name in ("log", "sqrt"):
        exponent = 37 if dtype == np.float32 else 307
        return np.concatenate([10.0 ** rng.uniform(-exponent, exponent, 120), [1.0, 2.0]]).astype(dtype)
    edge = 100.0 if dtype == np.float32 else 800.0
    return np.concatenate([rng.uniform(-edge, edge, 120), rng.uniform(-5, 5, 60), 10.0 ** rng.uniform(-30, 0, 20),
                           [-edge, edge, 0.0]]).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_values_and_two_derivatives_are_within_a_few_ulps_of_mpmath(name, dtype):
    """Where the exact value is a normal number of the dtype, f, f' and f'' are within 4 ulps; where it underflows
    the result is at most the smallest normal number; where it overflows the result is inf of the right sign."""
    f, *exact = ELEMENTWISE[name]
    x = _points(name, dtype)
    compare_with_mpmath(name, derivatives(f, x), exact, x, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 0.5, -0.5, 2.5])
def test_powers_and_their_two_derivatives_agree_with_mpmath_including_negative_bases(exponent, dtype):
    bases = [-3.0, -0.75, 0.75, 3.0, 1e-6, 1e6] if float(exponent).is_integer() else [0.75, 3.0, 1e-6, 1e6]
    x = np.array(bases, dtype=dtype)
    results = derivatives(lambda v: v ** exponent, x)
    b = mp.mpf(exponent)
    for order, got in enumerate(results):
        for xi, gi in zip(x, got):
            a = mp.mpf(float(xi))
            r = (a ** b, b * a ** (b - 1), b * (b - 1) * a ** (b - 2))[order]
            assert gi.dtype == dtype
            assert ulps(gi, r, dtype) <= 4, f"d^{order}/dx^{order} x**{exponent} at {float(xi)}: {gi!r} vs {r}"


def test_relu_slope_at_zero_is_the_documented_zero_and_its_second_derivative_vanishes():
    assert "0 otherwise" in (F.relu.__doc__ or "")
    x = np.array([0.0, -0.0, 1e-300, -1e-300])
    np.testing.assert_array_equal(grad(lambda v: F.relu(v).sum())(x).data, [0.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(hessian(lambda v: F.relu(v).sum())(x).data, np.zeros((4, 4)))


# --- the square root and the logarithm at −0 --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sqrt_slope_at_negative_zero_is_plus_infinity(dtype):
    """√x at 0: f' = 1/(2√x) → +∞ and f'' = −1/(4x√x) → −∞, the limits mpmath gives at the smallest positive
    number.  −0 turns up as −x at x = 0, or a·0 for a negative a; √(−x) at x = 0 then went uphill the wrong way."""
    tiny = mp.mpf(float(np.finfo(dtype).smallest_subnormal))
    _, slope, curvature = derivatives(F.sqrt, np.array([-0.0, 0.0], dtype=dtype))
    assert np.all(slope == float(mp.sign(1 / (2 * mp.sqrt(tiny)))) * np.inf)
    assert np.all(curvature == float(mp.sign(-1 / (4 * tiny * mp.sqrt(tiny)))) * np.inf)
    # d/dx √(−x) = −1/(2√(−x)) → −∞ as x → 0 from below
    assert grad(lambda v: F.sqrt(-v))(np.array(0.0, dtype=dtype)).data == -np.inf


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_slope_at_negative_zero_is_plus_infinity(dtype):
    """ln(−0) = −∞ like ln(+0) (IEEE and numpy), so its slope 1/x is +∞ there too, and the curvature −1/x² is −∞."""
    tiny = mp.mpf(float(np.finfo(dtype).smallest_subnormal))
    value, slope, curvature = derivatives(F.log, np.array([-0.0, 0.0], dtype=dtype))
    assert np.all(value == -np.inf)
    assert np.all(slope == float(mp.sign(1 / tiny)) * np.inf)
    assert np.all(curvature == -np.inf)
    assert grad(lambda v: F.log(-v))(np.array(0.0, dtype=dtype)).data == -np.inf  # d/dx ln(−x) = 1/x → −∞


# --- softmax, log_softmax and cross_entropy of a dominant class --------------------------------------------------
ROWS = [[0.0, -40.0], [30.0, 0.0, -5.0], [2.0, -30.0, 1.0, -25.0], [-3.0, 12.0, -7.0]]


def _exact_softmax(row) -> list:
    exact = [mp.mpf(float(v)) for v in row]
    total = mp.fsum(mp.exp(v) for v in exact)
    return [mp.exp(v) / total for v in exact]


def _tolerance(row) -> float:
    """ulps allowed for softmax-like results of ``row``: e^(x − ln Σ eˣ) turns an absolute error of ε·|x| in its
    exponent into a relative error of ε·|x|, the condition number of softmax at x (4·(2 + max |x|))."""
    return 4 * (2 + max(abs(float(v)) for v in row))


def _close(got, exact, dtype, what: str, ulps: float) -> None:
    """Every entry within ``ulps`` of its exact value, relative to it (exact zeros: exactly 0)."""
    for index, r in np.ndenumerate(np.array(exact, dtype=object)):
        g = np.asarray(got)[index]
        message = f"{what}{index}: {g!r}, mpmath {mp.nstr(r, 17)}"
        if r == 0:
            assert g == 0, message
        else:
            assert ulps(g, r, dtype) <= ulps, message


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_log_softmax_vector_jacobian_products_agree_with_mpmath_for_any_upstream(dtype):
    """The vjps for arbitrary upstream gradients g, on rows with and without a dominant share (2-D, along either
    axis): within a few ulps of max|g| of the exact s⊙(g − Σg⊙s) and g − s·Σg; second derivatives by mpmath."""
    rng = np.random.default_rng(3)
    for axis in (-1, 0):
        x = (rng.standard_normal((4, 3)) * np.array([[1.0], [10.0], [40.0], [0.1]])).astype(dtype)
        if axis == 0:
            x = np.ascontiguousarray(x.T)
        g = rng.standard_normal(x.shape).astype(dtype)
        for function in (F.softmax, F.log_softmax):
            v = Value(x)
            function(v, axis=axis).backward(g)
            lines = np.moveaxis(x, axis, -1).reshape(-1, x.shape[axis])
            upstream = np.moveaxis(g, axis, -1).reshape(lines.shape)
            got = np.moveaxis(np.asarray(v.grad), axis, -1).reshape(lines.shape)
            for row, up, slope in zip(lines, upstream, got):
                p = _exact_softmax(row)
                u = [mp.mpf(float(q)) for q in up]
                if function is F.softmax:
                    dot = mp.fsum(a * b for a, b in zip(u, p))
                    exact = [p[i] * (u[i] - dot) for i in range(len(p))]
                else:
                    exact = [u[i] - p[i] * mp.fsum(u) for i in range(len(p))]
                scale = max(abs(float(q)) for q in up) * np.finfo(dtype).eps
                for s, r in zip(slope, exact):
                    assert abs(mp.mpf(float(s)) - r) <= 8 * scale, f"{function.__name__} at {row}: {s} vs {r}"


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_gradient_and_hessian_of_uncertain_and_wrong_answers_agree_with_mpmath(dtype):
    """Labels other than the dominant class: the slopes p − onehot and Hessian diag(p) − ppᵀ to a few ulps."""
    for row in ROWS:
        label = int(np.argmin(row))
        p = _exact_softmax([float(dtype(v)) for v in row])
        logits = np.array(row, dtype=dtype)
        slope = grad(lambda z, label=label: losses.cross_entropy(z, np.array(label)))(logits).data
        assert slope.dtype == dtype
        for i, s in enumerate(slope):
            r = p[i] - (i == label)
            assert s == 0 if r == 0 else ulps(s, r, dtype) <= _tolerance(row), (row, i, s, r)
        curvature = hessian(lambda z, label=label: losses.cross_entropy(z, np.array(label)))(logits).data
        assert curvature.dtype == dtype
        for (i, j), h in np.ndenumerate(curvature):
            r = (p[i] if i == j else 0) - p[i] * p[j]
            scale = max(abs(p[i]), abs(p[i] * p[j]))  # (a difference: measured against its larger term)
            assert abs(mp.mpf(float(h)) - r) <= _tolerance(row) * np.finfo(dtype).eps * scale, (row, i, j, h, r)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_and_cross_entropy_at_infinite_and_huge_logits(dtype):
    """A ruled-out class (−inf) costs nothing and gets slope 0; ±max finite logits keep the cost finite."""
    big = np.finfo(dtype).max
    z = Value(np.array([[0.0, -np.inf, 1.0], [big, -big, 0.0]], dtype=dtype))
    cost = losses.cross_entropy(z, np.array([2, 0]))
    cost.backward()
    p = _exact_softmax([0.0, 1.0])
    exact_cost = -mp.log(p[1]) / 2
    assert ulps(cost.data, exact_cost, dtype) <= 4
    slope = np.asarray(z.grad)
    assert slope[0, 1] == 0 and slope[1].tolist() == [0.0, 0.0, 0.0]
    assert ulps(slope[0, 0], p[0] / 2, dtype) <= 4 and ulps(slope[0, 2], (p[1] - 1) / 2, dtype) <= 4


# --- averages whose sum overflows --------------------------------------------------------------------------------
