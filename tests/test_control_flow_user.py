"""A programmer who differentiates ordinary Python code: if/else on comparisons, loops that run until a value is
small enough, recursion, early returns, Python's built-ins and the math module on Values.  The xfail tests failed on
the code before their fix; the others pin what such a programmer relies on, against closed forms and central
differences."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.testing import GradientCheckError, check_gradients

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _central(f, x: float, h: float = 1e-6) -> float:
    """(f(x + h) − f(x − h)) / 2h on plain numbers."""
    return (f(x + h) - f(x - h)) / (2 * h)


def _power(x, n: int):
    """xⁿ by recursion, with an early return at n = 1."""
    if n == 1:
        return x
    return x * _power(x, n - 1)


def _horner(coefficients: list[float], x):
    """c₀ + x(c₁ + x(c₂ + …)) by recursion (Horner's rule)."""
    if len(coefficients) == 1:
        return coefficients[0] + 0.0 * x
    return coefficients[0] + x * _horner(coefficients[1:], x)


def _newton_sqrt(a):
    """√a by Newton's method, looping while the residual is large: the loop's length depends on the value."""
    x = a + 1.0  # (not a: at a = 1 the loop would not run, and x = a has the derivative 1)
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


# --- defects --------------------------------------------------------------------------------------------------------

def test_three_argument_pow_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"^pow: .*v \*\* exponent"):
        pow(Value(3.0), 2, 5)
    assert float(pow(Value(3.0), 2)) == 9.0  # the two-argument pow is unchanged


@pytest.mark.parametrize("number", [2.7, -2.7, 0.5, -0.0])
def test_math_trunc_works_as_int_does(number: float) -> None:
    v = Value(number)
    assert math.trunc(v) == math.trunc(number) == int(v)
    assert type(math.trunc(v)) is int
    with pytest.raises(TypeError, match="^trunc: only a Value of size 1"):
        math.trunc(Value([1.5, 2.5]))


def test_readme_and_float_say_that_math_functions_leave_the_graph() -> None:
    text = README.read_text(encoding="utf-8")
    paragraph = next((p for p in text.split("\n\n") if "math.exp(v)" in p), "")
    for needed in ("float(v)", "round(v)", "int(v)", "x * math.exp(x)", "check_gradients", "if x > 0"):
        assert needed in paragraph, needed
    doc = Value.__float__.__doc__ or ""
    assert "math" in doc and "backward" in doc
    # and what they say holds: math.exp's path is a constant to backward, and check_gradients finds it
    assert float(grad(lambda x: x * math.exp(x))(1.0)) == pytest.approx(math.e)
    with pytest.raises(GradientCheckError):
        check_gradients(lambda x: x * math.exp(x), 1.0)
    assert float(grad(lambda x: x * x.exp())(1.0)) == pytest.approx(2 * math.e)


# --- guards: control flow -------------------------------------------------------------------------------------------

@given(st.floats(-2.0, 2.0), st.integers(1, 6))
def test_recursive_power_has_the_derivatives_of_x_to_the_n(x: float, n: int) -> None:
    assert float(grad(_power)(x, n)) == pytest.approx(n * x ** (n - 1), rel=1e-12, abs=1e-12)
    second = n * (n - 1) * x ** (n - 2) if n >= 2 else 0.0
    assert float(hessian(_power)(x, n).data) == pytest.approx(second, rel=1e-12, abs=1e-12)


@given(st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=6), st.floats(-1.5, 1.5))
def test_horner_by_recursion_against_numpy_polyder(coefficients: list[float], x: float) -> None:
    ascending = np.polynomial.Polynomial(coefficients)
    assert float(grad(lambda v: _horner(coefficients, v))(x)) == pytest.approx(
        ascending.deriv(1)(x), rel=1e-10, abs=1e-10)
    assert float(hessian(lambda v: _horner(coefficients, v))(x).data) == pytest.approx(
        ascending.deriv(2)(x), rel=1e-10, abs=1e-10)


@given(st.floats(0.1, 50.0))
def test_a_while_loop_until_converged_differentiates_as_the_closed_form(a: float) -> None:
    assert float(grad(_newton_sqrt)(a)) == pytest.approx(0.5 / math.sqrt(a), rel=1e-9)


def test_gradient_descent_while_the_cost_is_above_a_tolerance() -> None:
    x, steps = Value(3.0), 0
    cost = (x - 1.0) ** 2
    while cost > 1e-10:  # a comparison of one number decides, as a float would
        x.zero_grad()
        cost.backward()
        assert x.grad == pytest.approx(2 * (x.item() - 1.0))
        x.data = x.data - 0.25 * x.grad
        cost = (x - 1.0) ** 2
        steps += 1
    assert 0 < steps < 100 and x.item() == pytest.approx(1.0, abs=1e-5)


def test_a_piecewise_function_at_its_boundary_takes_the_branch_that_ran() -> None:
    def f(x):
        if x > 0:
            return x ** 2
        return -3.0 * x

    assert float(grad(f)(0.0)) == -3.0  # x > 0 is False at 0: the else branch ran
    assert float(grad(f)(1e-9)) == pytest.approx(2e-9)
    assert float(grad(f)(2.0)) == pytest.approx(_central(lambda t: t ** 2, 2.0), rel=1e-8)


def test_a_branch_returning_a_plain_number_is_refused_not_differentiated_to_zero() -> None:
    relu = lambda x: x if x > 0 else 0.0  # noqa: E731
    assert float(grad(relu)(2.0)) == 1.0
    with pytest.raises(TypeError, match="f must return a Value"):
        grad(relu)(-2.0)


def test_truth_of_comparisons_single_numbers_and_arrays() -> None:
    assert bool(Value(1.5) > 0) is True and bool(Value(-1.5) > 0) is False
    with pytest.raises(ValueError, match=r"ambiguous"):
        bool(Value([1.0, -2.0]) > 0)
    with pytest.raises(ValueError, match=r"^bool: .*shape \(2,\)"):
        bool(Value([1.0, -2.0]))


def test_closures_over_values_in_a_list_comprehension() -> None:
    w = Value(1.5)
    terms = [lambda x, k=k: w * x ** k for k in range(4)]  # w·(1 + x + x² + x³)
    out = sum(term(Value(2.0)) for term in terms)
    out.backward()
    assert w.grad == pytest.approx(1 + 2 + 4 + 8)


# --- guards: built-ins ----------------------------------------------------------------------------------------------

BUILTINS = {
    "sum": (lambda x: sum([x, x * x, x ** 3]), lambda t: t + t * t + t ** 3),
    "sum with a start": (lambda x: sum((x * k for k in range(1, 4)), 1.0), lambda t: 1.0 + 6 * t),
    "max of a list": (lambda x: max([x * 2.0, x * x, -x]), lambda t: max(t * 2.0, t * t, -t)),
    "min of a list": (lambda x: min([x * 2.0, x * x, -x]), lambda t: min(t * 2.0, t * t, -t)),
    "max against a number": (lambda x: max(x ** 3, 0.5) + x, lambda t: max(t ** 3, 0.5) + t),
    "abs": (lambda x: abs(x ** 3 - 2.0), lambda t: abs(t ** 3 - 2.0)),
    "pow": (lambda x: pow(x, 3) + pow(2.0, x), lambda t: pow(t, 3) + pow(2.0, t)),
    "math.prod": (lambda x: math.prod([x, x + 1.0, 3.0]), lambda t: math.prod([t, t + 1.0, 3.0])),
}


@pytest.mark.parametrize("name", list(BUILTINS))
@pytest.mark.parametrize("x", [-1.7, -0.3, 0.4, 1.3, 2.2])
def test_builtins_on_values_against_central_differences(name: str, x: float) -> None:
    on_values, on_numbers = BUILTINS[name]
    assert float(on_values(Value(x))) == pytest.approx(on_numbers(x), rel=1e-12)
    assert float(grad(on_values)(x)) == pytest.approx(_central(on_numbers, x), rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("convert", [float, int, round, math.floor, math.ceil, complex])
def test_python_conversions_of_an_array_value_are_refused_by_name(convert) -> None:
    with pytest.raises(TypeError, match=r"only a Value of size 1 is one number; this one has shape \(2,\)"):
        convert(Value([1.5, 2.5]))


def test_round_and_int_are_constants_so_their_path_has_no_derivative() -> None:
    # x · round(x) away from a half: locally x · 2, derivative 2 (what backward gives and what differences see)
    assert float(grad(lambda x: x * round(x))(1.8)) == pytest.approx(2.0)
    assert check_gradients(lambda x: x * round(x), 1.8).elements == 1  # (it raises where they disagree)
    assert float(grad(lambda x: x * int(x))(2.7)) == pytest.approx(2.0)
    with pytest.raises(TypeError, match=r"f must return a Value.*math"):
        grad(lambda x: math.exp(x))(1.0)
