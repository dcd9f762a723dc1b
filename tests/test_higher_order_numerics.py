"""Derivatives of derivatives, audited as a numerical analyst would: third derivatives of the elementary functions and
powers at 1e-300 and 1e300, compositions of the S-shaped activations far into saturation, the mixed derivatives of
aᵇ (and the ones its vjp's docstring promises at b = 0), the README's repeated ``backward(create_graph=True)``, and
the squared-error cost's Hessian, all against closed forms evaluated in 50-digit mpmath.

Where the exact value overflows the dtype the engine must give inf of the right sign; where it underflows, at most
the smallest normal number; elsewhere a relative error of a few ulps (compositions: relative to the size of the
chain rule's terms, which is as much as any evaluation of them can promise).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses
from tinygrad_edu.autodiff import grad, gradients, hessian, jacobian

mp = pytest.importorskip("mpmath")

# (overflow of the exact derivative is part of what is checked: numpy's warnings about it are expected)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture(autouse=True)
def _fifty_digits():
    with mp.workdps(50):
        yield


def _orders(f, x, dtype=np.float64) -> list[np.ndarray]:
    """f(x), f'(x), f''(x), f'''(x) by the engine: grad of grad of grad (each a recorded backward pass)."""
    point = np.array(x, dtype=dtype)
    first = grad(lambda v: f(v).sum())
    second = grad(lambda v: first(v).sum())
    third = grad(lambda v: second(v).sum())
    return [np.asarray(h(point).data) for h in (lambda p: f(Value(p)), first, second, third)]


def _check(got, exact, dtype, what: str, ulps: float = 8, scale=None) -> None:
    """``got`` against the mpmath number ``exact``: inf of its sign where it overflows ``dtype``, at most the smallest
    normal number where it underflows, else within ``ulps`` relative to |exact| (or to ``scale``, the size of the
    terms it is a sum of)."""
    info = np.finfo(dtype)
    got = float(got)
    message = f"{what}: got {got!r}, exact {mp.nstr(exact, 17)}"
    if abs(exact) > info.max:
        assert np.isinf(got) and np.sign(got) == mp.sign(exact), message
    elif abs(exact) < info.tiny and scale is None:
        assert abs(got) <= info.tiny, message
    else:
        assert np.isfinite(got), message
        bound = ulps * info.eps * (abs(exact) if scale is None else scale)
        assert abs(mp.mpf(got) - exact) <= bound + info.smallest_subnormal, message


# --- closed forms of f, f', f'', f''' ----------------------------------------------------------------------------
def _sigmoid_orders(x) -> list:
    s, rest = 1 / (1 + mp.exp(-x)), 1 / (1 + mp.exp(x))  # σ(x) and 1 − σ(x) = σ(−x), no cancellation
    slope = s * rest
    # (σ'' = σ'·(σ(−x) − σ(x)) = −σ'·tanh(x/2): the difference would lose all 50 digits at |x| < 1e-50)
    return [s, slope, -slope * mp.tanh(x / 2), slope * (1 - 6 * slope)]


def _sigmoid_sizes(x) -> list:
    """The sizes of the terms of each order: σ''' = σ' − 6σ'² cancels where σ' = 1/6 (x ≈ ±1.317), and a program
    computing it (the engine's σ'·(tanh²(x/2) − ½sech²(x/2)) as much as this closed form) rounds relative to them."""
    s, slope, second, _ = _sigmoid_orders(x)
    return [s, slope, abs(second), slope * (1 + 6 * slope)]


def _tanh_orders(x) -> list:
    t, slope = mp.tanh(x), mp.sech(x) ** 2
    return [t, slope, -2 * t * slope, -2 * slope * (3 * slope - 2)]


def _tanh_sizes(x) -> list:
    """As :func:`_sigmoid_sizes`: tanh''' = 4sech² − 6sech⁴ cancels where sech² = 2/3 (x ≈ ±0.658)."""
    t, slope = mp.tanh(x), mp.sech(x) ** 2
    return [abs(t), slope, 2 * abs(t) * slope, 2 * slope * (3 * slope + 2)]


def _softplus_orders(x) -> list:
    return [mp.log1p(mp.exp(x)), *_sigmoid_orders(x)[:3]]


def _softplus_sizes(x) -> list:
    return [mp.log1p(mp.exp(x)), *_sigmoid_sizes(x)[:3]]


def _power_orders(b):
    return lambda x: [x ** b, b * x ** (b - 1), b * (b - 1) * x ** (b - 2), b * (b - 1) * (b - 2) * x ** (b - 3)]


ELEMENTARY = {
    "exp": (F.exp, lambda x: [mp.exp(x)] * 4, [-700.0, -40.0, 0.0, 1.5, 40.0, 700.0, 709.0]),
    "log": (F.log, lambda x: [mp.log(x), 1 / x, -1 / x ** 2, 2 / x ** 3], [1e-300, 1e-150, 0.5, 3.0, 1e150, 1e300]),
    "sqrt": (F.sqrt, lambda x: [mp.sqrt(x), 1 / (2 * mp.sqrt(x)), -1 / (4 * x * mp.sqrt(x)),
                                3 / (8 * x ** 2 * mp.sqrt(x))], [1e-300, 1e-150, 0.5, 3.0, 1e150, 1e300]),
    "reciprocal": (lambda v: 1.0 / v, lambda x: [1 / x, -1 / x ** 2, 2 / x ** 3, -6 / x ** 4],
                   [-1e-100, 1e-300, 1e-100, 0.5, -3.0, 1e100, 1e300]),
}


@pytest.mark.parametrize("name", sorted(ELEMENTARY))
def test_third_derivatives_of_exp_log_sqrt_and_reciprocal_at_the_ends_of_the_float_range(name):
    f, closed, points = ELEMENTARY[name]
    for x in points:
        for order, (got, exact) in enumerate(zip(_orders(f, x), closed(mp.mpf(x)), strict=True)):
            _check(got, exact, np.float64, f"{name} order {order} at {x}")


@pytest.mark.parametrize("exponent", [3, 2, 1, -1, -2, 0.5, 1.5, -0.5, 2.5])
def test_third_derivatives_of_powers_at_tiny_huge_and_ordinary_bases(exponent):
    """x**b for integer, fractional and negative b: the engine's b·x^(b−1) differentiated twice more (its x² fast
    path is for arrays only, so the recorded pass keeps x¹ and its derivatives)."""
    bases = [1e-300, 1e-100, 0.75, 3.0, 1e100, 1e300]
    if float(exponent).is_integer():
        bases += [-1e-100, -0.75, -3.0, -1e100]
    closed = _power_orders(mp.mpf(exponent))
    for x in bases:
        for order, (got, exact) in enumerate(zip(_orders(lambda v: v ** exponent, x), closed(mp.mpf(x)), strict=True)):
            _check(got, exact, np.float64, f"x**{exponent} order {order} at {x}")


@pytest.mark.parametrize("exponent", [3, -1, 0.5, -1.5])
def test_third_derivatives_of_float32_powers_stay_float32_and_accurate(exponent):
    closed = _power_orders(mp.mpf(exponent))
    for x in [1e-30, 1e-10, 0.75, 3.0, 1e10]:
        x32 = float(np.float32(x))
        for order, (got, exact) in enumerate(zip(_orders(lambda v: v ** exponent, x32, np.float32),
                                                 closed(mp.mpf(x32)), strict=True)):
            assert got.dtype == np.float32, (exponent, order)
            _check(got, exact, np.float32, f"float32 x**{exponent} order {order} at {x32}")


# --- compositions far into saturation: Faà di Bruno in mpmath ------------------------------------------------------
def _faa_di_bruno(f: list, g: list) -> list:
    """The terms of the orders 0–3 of f(g(x)), from the orders of f (at g(x)) and of g."""
    return [[f[0]], [f[1] * g[1]], [f[2] * g[1] ** 2, f[1] * g[2]],
            [f[3] * g[1] ** 3, 3 * f[2] * g[1] * g[2], f[1] * g[3]]]


def _composed(outer, inner):
    """The orders 0–3 of outer(inner(x)) by Faà di Bruno's formula, each with the sum of its terms' sizes, the terms
    of f's and g's own orders counted too (g''' = σ' − 6σ'² is no bigger than its rounding where σ' = 1/6: at
    x = −1.31640625 sigmoid(sigmoid(x))''' was 20 ulps off its own size, within 1 of its terms')."""
    def orders(x):
        g, g_sizes = inner(x), SIZES[inner](x)
        f, f_sizes = outer(g[0]), SIZES[outer](g[0])
        return [(mp.fsum(terms), mp.fsum(abs(size) for size in sizes))
                for terms, sizes in zip(_faa_di_bruno(f, g), _faa_di_bruno(f_sizes, g_sizes), strict=True)]
    return orders


def _negated(x):
    return [-x, mp.mpf(-1), mp.mpf(0), mp.mpf(0)]


SIZES = {_sigmoid_orders: _sigmoid_sizes, _tanh_orders: _tanh_sizes, _softplus_orders: _softplus_sizes,
         _negated: lambda x: [abs(x), mp.mpf(1), mp.mpf(0), mp.mpf(0)]}


COMPOSITIONS = {
    "sigmoid(sigmoid(x))": (lambda v: F.sigmoid(F.sigmoid(v)), _composed(_sigmoid_orders, _sigmoid_orders)),
    "softplus(-x)": (lambda v: F.softplus(-v), _composed(_softplus_orders, _negated)),
    "tanh(tanh(x))": (lambda v: F.tanh(F.tanh(v)), _composed(_tanh_orders, _tanh_orders)),
    "sigmoid(tanh(x))": (lambda v: F.sigmoid(F.tanh(v)), _composed(_sigmoid_orders, _tanh_orders)),
    "softplus(sigmoid(x))": (lambda v: F.softplus(F.sigmoid(v)), _composed(_softplus_orders, _sigmoid_orders)),
}
FAR = [-800.0, -700.0, -40.0, -20.0, -1.0, 0.0, 1.0, 20.0, 40.0, 700.0, 800.0]


@pytest.mark.parametrize("name", sorted(COMPOSITIONS))
def test_compositions_of_activations_keep_three_derivatives_far_into_saturation(name):
    """Each activation's derivative rules are stable (σ' = σ(x)σ(−x), never σ(1 − σ)), so their chain rule is too:
    sigmoid''' at 40 is 4e-18, not 0, and softplus(−x)'' at 800 a subnormal, not NaN."""
    f, closed = COMPOSITIONS[name]
    for x in FAR:
        for order, (got, (exact, size)) in enumerate(zip(_orders(f, x), closed(mp.mpf(x)), strict=True)):
            _check(got, exact, np.float64, f"{name} order {order} at {x}", ulps=16, scale=size)


@given(st.floats(-60, 60, allow_nan=False), st.sampled_from(sorted(COMPOSITIONS)))
@example(-1.31640625, "sigmoid(sigmoid(x))")  # (σ' = 1/6 there: failed under the dev and thorough profiles)
def test_compositions_hold_their_digits_at_any_point_in_between(x, name):
    f, closed = COMPOSITIONS[name]
    for order, (got, (exact, size)) in enumerate(zip(_orders(f, x), closed(mp.mpf(x)), strict=True)):
        _check(got, exact, np.float64, f"{name} order {order} at {x!r}", ulps=16, scale=size)


@pytest.mark.parametrize("x", [-104.0, -88.0, -20.0, 0.5, 20.0, 88.0])
def test_float32_compositions_stay_float32_near_the_limits_of_its_exponential(x):
    for name, (f, closed) in COMPOSITIONS.items():
        for order, (got, (exact, size)) in enumerate(zip(_orders(f, x, np.float32), closed(mp.mpf(x)), strict=True)):
            assert got.dtype == np.float32, (name, order)
            _check(got, exact, np.float32, f"float32 {name} order {order} at {x}", ulps=16, scale=size)


# --- the README's way: backward(create_graph=True), then backward of the gradient, and again --------------------
@pytest.mark.parametrize("name, x", [("sigmoid", 40.0), ("sigmoid", -700.0), ("tanh", 20.0), ("softplus", -40.0),
                                     ("tanh", -300.0)])
def test_repeated_backward_with_create_graph_gives_the_closed_forms_in_saturation(name, x):
    closed = {"sigmoid": _sigmoid_orders, "tanh": _tanh_orders, "softplus": _softplus_orders}[name]
    point = Value(x)
    getattr(F, name)(point).backward(create_graph=True)
    found = [point.grad]
    for _ in range(2):
        slope = found[-1]
        point.zero_grad()
        slope.backward(create_graph=True)
        found.append(point.grad)
    for order, (got, exact) in enumerate(zip(found, closed(mp.mpf(x))[1:], strict=True), start=1):
        assert isinstance(got, Value)
        _check(got.data, exact, np.float64, f"{name} order {order} at {x} by repeated backward")


# --- aᵇ in both arguments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("a, b", [(2.0, 3.0), (0.5, -1.5), (3.0, 0.0), (0.25, 0.0), (1e-100, 2.0), (1e100, -0.5),
                                  (7.0, 0.5)])
def test_hessian_of_a_to_the_b_in_both_arguments_agrees_with_its_closed_form(a, b):
    A, B = mp.mpf(a), mp.mpf(b)
    exact = [[B * (B - 1) * A ** (B - 2), A ** (B - 1) * (1 + B * mp.log(A))],
             [A ** (B - 1) * (1 + B * mp.log(A)), A ** B * mp.log(A) ** 2]]
    matrix = hessian(lambda p: p[0] ** p[1])(np.array([a, b])).data
    for (i, j), got in np.ndenumerate(matrix):
        _check(got, exact[i][j], np.float64, f"∂²(a**b)/∂{'ab'[i]}∂{'ab'[j]} at a={a}, b={b}")


@pytest.mark.parametrize("a", [2.0, 0.5, 1e-30, 1e30])
def test_the_slope_in_a_at_b_zero_has_the_derivatives_in_b_its_docstring_promises(a):
    """ops._pow_vjp_base writes the slope b·aᵇ⁻¹ as (b/a)·aᵇ where b = 0: "the same value (0) and, to every order,
    the same derivatives in b (1/a, then 2·ln(a)/a, …)"; the next is 3·ln²(a)/a."""
    base, exponent = Value(np.array([a])), Value(np.array([0.0]))
    (slope,) = gradients((base ** exponent).sum(), [base], create_graph=True)
    found = [slope]
    for _ in range(3):
        (derivative,) = gradients(found[-1].sum(), [exponent], create_graph=True)
        found.append(derivative)
    A, L = mp.mpf(a), mp.log(a)
    for k, (got, exact) in enumerate(zip(found, [mp.mpf(0), 1 / A, 2 * L / A, 3 * L ** 2 / A], strict=True)):
        if exact == 0:
            assert float(got.data[0]) == 0.0
        else:
            _check(got.data[0], exact, np.float64, f"∂ᵏ/∂bᵏ of the slope in a, k = {k}, at a = {a}")


# --- the squared-error cost --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_squared_error_hessian_is_two_over_n_and_its_third_derivative_vanishes(dtype):
    """C = (1/n) Σ (y − y')²: ∂²C/∂y² = 2/n·I, ∂²C/∂y'² = 2/n·I, ∂²C/∂y∂y' = −2/n·I, and nothing beyond."""
    rng = np.random.default_rng(5)
    prediction = rng.standard_normal((3, 2)).astype(dtype)
    target = rng.standard_normal((3, 2)).astype(dtype)
    eye = np.eye(6) * 2 / 3
    in_prediction = hessian(lambda y: losses.squared_error(y, target))(prediction).data
    in_target = hessian(lambda t: losses.squared_error(prediction, t))(target).data
    mixed = jacobian(lambda t: grad(lambda y: losses.squared_error(y, t))(prediction))(Value(target)).data
    for matrix, want in ((in_prediction, eye), (in_target, eye), (mixed, -eye)):
        assert matrix.dtype == dtype
        np.testing.assert_allclose(matrix.reshape(6, 6), want, rtol=4 * np.finfo(dtype).eps, atol=0)
    third = jacobian(lambda y: hessian(lambda z: losses.squared_error(z, target))(y))(prediction).data
    assert third.shape == (3, 2) * 3 and not third.any()
