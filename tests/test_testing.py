"""Tests of the gradient checker itself: numerical_gradient, check_gradients, the strategies and the example."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_strategies import DRAWS, drawn
from hypothesis import Phase, example, find, given, settings
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, no_grad
from tinygrad_edu.testing import GradientCheckError, GradientReport, check_gradients, numerical_gradient
from tinygrad_edu.testing import expressions as expressions_module
from tinygrad_edu.testing.strategies import (
    Expression,
    OpSpec,
    arrays,
    arrays_for,
    broadcastable_shapes,
    expressions,
    matmul_shapes,
    shapes,
    values,
)

ROOT = Path(__file__).resolve().parents[1]
EPS = float(np.finfo(np.float64).eps)
FIRST_FOUND = settings(database=None, phases=[Phase.generate], derandomize=True)


def half_square() -> Op:
    """x² with a derivative that forgot the factor 2."""
    return Op("half_square", lambda x: x * x, lambda g, out, x: g * x)


# --- numerical_gradient ------------------------------------------------------------------------------------------
@given(arrays())
@example(np.array([0.2] + [-2.9] * 63))  # (3x² = 0.12 came out 1.3e-7 off: an ulp of Σx³ = −1536 over 2·1e-6)
def test_numerical_gradient_matches_closed_forms(x):
    """∂/∂x Σ u·w·sin x = u·w·cos x and ∂/∂x Σ x³ = 3x², for numpy functions and for Values alike."""
    w = np.linspace(0.5, 2.0, x.size).reshape(x.shape)
    upstream = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    [grad] = numerical_gradient(lambda a: np.sin(a) * w, x, upstream=upstream)
    np.testing.assert_allclose(grad, upstream * w * np.cos(x), rtol=1e-7, atol=1e-8)
    [grad] = numerical_gradient(lambda v: (v ** 3).sum(), Value(x))
    # each of the two sums of up to 64 cubes ≤ 27 is within about log₂(n)·ε·Σ|xᵢ³| of its exact value (numpy adds
    # pairwise), and their difference is divided by 2·1e-6: up to 2.3e-6 for 64 cubes of ±3, where one ulp of the
    # sum alone is 1.1e-7 (a one-sided difference, off by 3e-6·|x|, still fails at any element with |x| > 0.9)
    rounding = max(1, int(np.ceil(np.log2(x.size)))) * EPS * np.abs(x ** 3).sum() / 1e-6
    assert (np.abs(grad - 3 * x ** 2) <= 1e-7 * (1 + 3 * x ** 2) + rounding).all(), (grad, 3 * x ** 2, rounding)


def test_numerical_gradient_of_several_inputs_with_an_upstream_gradient():
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    upstream = np.array([0.5, 2.0])
    grad_a, grad_b = numerical_gradient(lambda x, y: x * y, a, b, upstream=upstream)
    np.testing.assert_allclose(grad_a, upstream * b, rtol=1e-9)
    np.testing.assert_allclose(grad_b, upstream * a, rtol=1e-9)


def test_numerical_gradient_is_float64_of_the_input_shapes_and_leaves_inputs_alone():
    x32 = np.array([[1.0, 2.0]], dtype=np.float32)
    n = 3
    grads = numerical_gradient(lambda x, k: (x * k).sum(), x32, n)
    assert [g.dtype for g in grads] == [np.float64, np.float64]
    assert grads[0].shape == (1, 2) and grads[1].shape == ()
    np.testing.assert_allclose(grads[0], [[3.0, 3.0]], rtol=1e-9)
    np.testing.assert_allclose(grads[1], 3.0, rtol=1e-9)
    np.testing.assert_array_equal(x32, [[1.0, 2.0]])


def test_numerical_gradient_needs_an_upstream_gradient_of_the_output_shape():
    with pytest.raises(ValueError, match=r"numerical_gradient: f returned shape \(2,\); give upstream"):
        numerical_gradient(lambda x: x * 2, np.ones(2))
    with pytest.raises(ValueError, match=r"upstream has shape \(3,\) but f returned shape \(2,\)"):
        numerical_gradient(lambda x: x * 2, np.ones(2), upstream=np.ones(3))
    with pytest.raises(TypeError, match="f must return a Value or an array"):
        numerical_gradient(lambda x: "nope", np.ones(2))


@pytest.mark.parametrize("call, error, message", [
    (lambda: numerical_gradient(lambda x: None, np.ones(2)), TypeError, "f must return a Value or an array"),
    (lambda: numerical_gradient(lambda x: x.sum(), np.array([1 + 1j])), TypeError, "input 0 has dtype complex128"),
    (lambda: numerical_gradient(lambda x: x.sum(), "ab"), TypeError, "input 0 has dtype <U2"),
    (lambda: numerical_gradient(lambda x: x.sum(), [[1.0], [1.0, 2.0]]), ValueError, "input 0 is not a rectangular"),
    (lambda: numerical_gradient(lambda x: x, np.ones(2), upstream="abc"), TypeError, "upstream has dtype <U3"),
    (lambda: check_gradients(lambda x, y: x.sum(), np.ones(1), [[1.0], []]), ValueError, "input 1 is not a rectang"),
])
def test_numerical_gradient_refuses_what_is_not_real_numbers(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way
        with pytest.raises(error, match=r"^(numerical_gradient|check_gradients): " + message):
            call()


# --- check_gradients: passing ------------------------------------------------------------------------------------
def test_check_gradients_returns_a_report_when_all_agree():
    report = check_gradients(lambda w, a: (w @ a).tanh(), np.ones((2, 3)) * 0.1, np.arange(3.0))
    assert isinstance(report, GradientReport)
    assert report.elements == 9 and len(report.max_abs_error) == 2
    assert max(report.max_abs_error) < 1e-6 and max(report.max_rel_error) < 1e-5
    assert repr(report).startswith("GradientReport(ok, 2 input(s), 9 element(s)")
    np.testing.assert_allclose(report.analytic[1], report.numeric[1], rtol=1e-5)


def test_inputs_the_gradient_never_reaches_count_as_zeros():
    report = check_gradients(lambda a, b: (a * 2.0).sum(), np.ones(3), np.ones(2))
    assert report.max_abs_error[1] == 0.0
    np.testing.assert_array_equal(report.analytic[1], np.zeros(2))
    report = check_gradients(lambda a: Value(3.0, requires_grad=False), np.ones(2))  # nothing reached at all
    assert report.max_abs_error == (0.0,)


@pytest.mark.parametrize("f, cut", [
    (lambda x: Value(x.data ** 2).sum(), "input 0"),  # a new Value from the numbers
    (lambda x: (x.detach() ** 2).sum(), "input 0"),
    (lambda x: (Value(x.data ** 2) * Value(3.0)).sum(), "input 0"),  # a graph, but from a parameter, not from x
    (lambda x, y: (Value(x.data) * y * y).sum(), "input 0"),  # y is reached, x is not
    (lambda x, y: Value(np.sum(x.data * y.data)), "inputs 0, 1"),
], ids=["new Value", "detach", "a graph of other Values", "one of two", "both"])
def test_an_output_without_a_graph_from_the_inputs_is_named_not_shown_as_a_bare_analytic_0(f, cut):
    """f returning a detached Value failed with analytic 0 in every row and no hint why."""
    inputs = [np.array([1.0, 2.0])] * f.__code__.co_argcount
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs)
    assert all(np.all(a == 0) for a in caught.value.analytic[:1])  # what the table shows
    assert f"f's output holds no graph from {cut}, so backpropagation cannot reach" in str(caught.value)


def test_a_wrong_derivative_of_an_output_with_a_graph_gets_no_note_about_the_graph():
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda x: half_square()(x).sum(), np.array([1.0, 2.0]))
    assert "no graph" not in str(caught.value)

def test_values_that_require_no_gradient_are_held_fixed_and_not_checked():
    """As torch.autograd.gradcheck does: integer labels reach cross_entropy as they are (moving them by ε made
    cross_entropy refuse them), and the inputs around them are checked and named by their place in the call."""
    from tinygrad_edu import losses

    logits, labels = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 0.3]]), Value(np.array([0, 2]), requires_grad=False)
    report = check_gradients(lambda z, y: losses.cross_entropy(z, y), logits, labels)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(report.analytic[0], (probabilities - np.eye(3)[[0, 2]]) / 2, rtol=1e-12)
    assert len(report.max_abs_error) == 1 and report.elements == 6
    scale = Value(np.array([2.0]), requires_grad=False)
    with pytest.raises(GradientCheckError, match=r"\n\s+2\s+\(0,\)"):  # input 2 of the call, not 1 of the checked
        check_gradients(lambda a, s, b: half_square()(a * s * b).sum(), np.array([1.0]), scale, np.array([3.0]))


@pytest.mark.parametrize("f, inputs, words", [
    (lambda v: half_square()(v).sum(), (Value(np.array([1.0, -2.0]), requires_grad=False),),
     "all 1 input(s) are Values with requires_grad=False"),
    (lambda: half_square()(Value([1.0, -2.0])).sum(), (), "no inputs given"),
])
def test_a_check_with_nothing_to_check_is_refused_not_reported_ok(f, inputs, words):
    """As torch.autograd.gradcheck refuses it: an input drawn by strategies.values(requires_grad=False) was held
    fixed, and the report of 0 elements passed a derivative that is wrong everywhere."""
    with pytest.raises(ValueError, match=r"^check_gradients: nothing to check: " + re.escape(words)):
        check_gradients(f, *inputs)


def test_float32_inputs_warn_and_float64_ones_do_not():
    with pytest.warns(UserWarning, match="input 1 is float32"):
        check_gradients(lambda a, b: (a * b).sum(), np.ones(2), np.ones(2, dtype=np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_gradients(lambda a, b: (a * b).sum(), np.ones(2), Value(np.ones(2)))


def test_float16_inputs_warn_as_float32_ones_do():
    """float16 is coarser still; it is checked in float64, and the check says so (it said nothing)."""
    x = np.array([0.5, -1.25], dtype=np.float16)
    with pytest.warns(UserWarning, match="input 0 is float16; it is checked in float64"):
        report = check_gradients(lambda a: (a ** 3).sum(), x)
    np.testing.assert_allclose(report.analytic[0], 3 * x.astype(np.float64) ** 2, rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_a_function_that_rounds_to_float32_inside_is_named_not_a_mismatch(order):
    """A right derivative of a float32 forward would fail the check by ~5 %: the ε step is lost in rounding."""
    square32 = Op("square32", lambda x: (x * x).astype(np.float32), lambda g, out, x: g * 2 * x)
    with pytest.raises(TypeError, match="check_gradients: f returned float32 for float64 inputs"):
        check_gradients(lambda v: square32(v).sum(), np.array([1.0, 2.0]), order=order)
    with pytest.raises(TypeError, match="numerical_gradient: f returned float32 for float64 inputs"):
        numerical_gradient(lambda v: v.astype(np.float32).sum(), np.array([1.0, 2.0]))


# --- check_gradients: failing ------------------------------------------------------------------------------------
def test_a_wrong_derivative_raises_with_a_table_of_the_worst_elements():
    x = np.array([0.5, -3.0, 1.0, 2.0])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: half_square()(v).sum(), Value(x, label="x"))
    error = caught.value
    assert isinstance(error, AssertionError)
    lines = str(error).splitlines()
    assert lines[0].startswith("check_gradients: 4 of 4 gradient elements disagree")
    assert lines[1].split() == ["input", "index", "analytic", "numeric", "abs", "error", "rel", "error"]
    worst = lines[3].split()  # analytic x vs numeric 2x: the largest |x| is worst
    assert worst[:3] == ["0", "(x)", "(1,)"]
    assert float(worst[3]) == -3.0 and float(worst[4]) == pytest.approx(-6.0, rel=1e-6)
    assert float(worst[5]) == pytest.approx(3.0, rel=1e-6) and float(worst[6]) == pytest.approx(0.5, rel=1e-6)
    np.testing.assert_allclose(error.analytic[0], x)
    np.testing.assert_allclose(error.numeric[0], 2 * x, rtol=1e-6)


def test_a_mismatch_at_a_kink_is_named_with_its_one_sided_slopes_and_the_avoid_argument():
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: (v.relu() * 3.0).sum(), np.array([0.0, 2.0, -1.0]))
    lines = str(caught.value).splitlines()
    assert lines[1].split()[-5:] == ["kink:", "slopes", "left", "|", "right"]
    assert lines[3].split()[-3:] == ["0", "|", "3"]  # ReLU's slope is 0 on the left of 0 and 1 (times 3) on the right
    assert "kink" in lines[-1] and "strategies.arrays(avoid=(0.0,))" in lines[-1]


def test_a_wrong_derivative_away_from_kinks_is_not_called_a_kink():
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: half_square()(v).sum(), np.array([0.5, -3.0]))
    assert "kink" not in str(caught.value)


@pytest.mark.parametrize("order", [1, 2])
def test_a_function_with_random_numbers_inside_is_named_not_called_a_kink(order):
    """Noise inside f (dropout) makes one-sided slopes disagree as at a kink; the check says f is not deterministic."""
    rng = np.random.default_rng(0)
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: (v ** 3 * (1 + 0.1 * rng.standard_normal())).sum(), np.array([0.5, 1.5]),
                        order=order)
    message = str(caught.value)
    assert "f is not deterministic" in message and "kink" not in message
    assert "step is halved" not in message and "rounding of f" not in message


def test_a_failed_check_under_pytest_shows_the_table_not_the_library_source(tmp_path):
    test_file = tmp_path / "test_wrong.py"
    test_file.write_text("import numpy as np\n"
                         "from tinygrad_edu import Op\n"
                         "from tinygrad_edu.testing import check_gradients\n\n"
                         "def test_square():\n"
                         "    square = Op('square', lambda x: x * x, lambda g, out, x: g * x)\n"
                         "    check_gradients(lambda v: square(v).sum(), np.array([1.0, 2.0]))\n")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 of 2 gradient elements disagree" in result.stdout
    assert "def check_gradients" not in result.stdout and "_central_differences" not in result.stdout
    failure = result.stdout.split("test_square ___")[1].split("short test summary")[0]
    assert len(failure.splitlines()) < 25, failure


def test_order_2_checks_derivatives_of_the_gradient():
    report = check_gradients(lambda a, b: (a * b).sigmoid().sum() + (a ** 3).sum(), np.array([1.0, 2.0]),
                             np.array([0.5, -1.0]), order=2)
    assert report.order == 2 and repr(report).startswith("GradientReport(ok, order 2, 2 input(s)")
    # a vjp computed on raw numbers is right at first order but invisible to create_graph: (x²)'' = 2, not 0
    square = Op("square", lambda x: x * x, lambda g, out, x: g * 2 * (x.data if isinstance(x, Value) else x))
    check_gradients(lambda v: square(v).sum(), np.array([1.0, 2.0]))
    with pytest.raises(GradientCheckError, match="2 of 2 second-order elements"):
        check_gradients(lambda v: square(v).sum(), np.array([1.0, 2.0]), order=2)


def test_order_3_and_up_check_derivatives_of_the_order_below():
    x = np.array([0.3, -0.7, 1.2])
    for order in (3, 4):
        report = check_gradients(lambda v: (v.tanh() * v.exp()).sum() + (v ** 4).sum(), x, order=order)
        assert report.order == order and report.eps == 1e-4
    # a vjp of a vjp computed on raw numbers: x³'s first and second derivatives are right, the third is 0, not 6
    square = Op("square", lambda x: x * x, lambda g, out, x: g * 2 * (x.data if isinstance(x, Value) else x))
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 3 * square(x))
    for order in (1, 2):
        check_gradients(lambda v: cube(v).sum(), x, order=order)
    with pytest.raises(GradientCheckError, match=r"3 of 3 order-3 elements \(∂/∂x of the randomly weighted "
                                                 r"derivative of order 2\) disagree"):
        check_gradients(lambda v: cube(v).sum(), x, order=3)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_check_gradients_leaves_the_grad_of_values_f_closes_over_as_it_was(order):
    """A model's parameters used inside f keep their .grad (as torch.autograd.gradcheck leaves it): a check between
    a backward pass and an optimizer's step must not change the step."""
    w, untouched = Value(np.array([0.5, -1.5])), Value(np.array([2.0, 3.0]))
    untouched.grad = np.array([7.0, 8.0])
    x = np.array([1.0, 2.0])
    check_gradients(lambda a: (a * a * w * untouched).tanh().sum(), x, order=order)
    assert w.grad is None
    np.testing.assert_array_equal(untouched.grad, [7.0, 8.0])


@pytest.mark.parametrize("order", [1, 2])
def test_check_gradients_inside_no_grad_still_checks_the_derivatives(order):
    """Inside no_grad() the check records f for itself, as autodiff's transforms do: x³'s right derivatives pass,
    a wrong one still fails."""
    x = np.array([0.5, -1.2])
    with no_grad():
        report = check_gradients(lambda v: (v ** 3).sum(), x, order=order)
        with pytest.raises(GradientCheckError):
            check_gradients(lambda v: half_square()(v).sum(), x, order=order)
    if order == 1:
        np.testing.assert_allclose(report.analytic[0], 3 * x ** 2, rtol=1e-12)
    np.testing.assert_allclose(report.analytic[0], report.numeric[0], rtol=1e-5)


def test_the_table_is_cut_to_the_given_rows():
    with pytest.raises(GradientCheckError, match=r"\.\.\. and 9 more$"):
        check_gradients(lambda v: half_square()(v).sum(), np.arange(1.0, 13.0), rows=3)


def test_the_failing_input_is_named():
    partial = Op("partial", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: 0 * g))
    with pytest.raises(GradientCheckError, match=r"\n\s+1\s+\(0,\)"):
        check_gradients(lambda a, b: partial(a, b).sum(), np.array([2.0]), np.array([3.0]))


def test_a_random_upstream_gradient_checks_every_output():
    """Reversing the order of the outputs is invisible to Σ outputs, but not to a random upstream gradient."""
    reverse = Op("reverse", lambda x: x[::-1].copy(), lambda g, out, x: g)  # forgot to reverse g back
    check_gradients(lambda v: reverse(v).sum(), np.arange(4.0))
    with pytest.raises(GradientCheckError):
        check_gradients(reverse, np.arange(4.0))
    with pytest.raises(GradientCheckError):
        check_gradients(reverse, np.arange(4.0), seed=1)


def test_nan_gradients_fail():
    nan_op = Op("nan_op", lambda x: x * 1.0, lambda g, out, x: g * np.nan)
    with pytest.raises(GradientCheckError, match="nan"):
        check_gradients(lambda v: nan_op(v).sum(), np.ones(2))


def test_finite_differences_that_are_not_finite_near_the_point_are_named_not_scored():
    """f = exp(10²²·x²) is 1 at x = 0, where its slope is 0, but overflows a step away: the numeric column is nan,
    and the message says why rather than scoring a relative error of 0 (the thorough fuzz drew such a graph)."""
    with warnings.catch_warnings(), pytest.raises(GradientCheckError) as raised:
        warnings.simplefilter("error")  # (the overflow a step away is the table's to explain)
        check_gradients(lambda x: (x * x * 1e22).exp().sum(), np.array([0.0]))
    row = str(raised.value).splitlines()[3].split()
    assert row[2:] == ["0", "nan", "nan", "nan"]  # analytic, numeric, abs error, rel error
    assert "f is not finite a step away from the point" in str(raised.value)


def test_a_step_out_of_the_domain_is_named_in_the_table_not_raised_as_a_runtime_warning():
    """√x at x = 1e-7 − ε is nan: under warnings-as-errors (pytest -W error) the check still explains it, instead of a
    RuntimeWarning from inside the engine; the point itself warns nothing, so nothing of f's is hidden there."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GradientCheckError) as raised:
            check_gradients(lambda x: x.sqrt().sum(), np.array([1e-7, 1.0]))
    assert "f is not finite a step away from the point" in str(raised.value)


def test_an_infinite_finite_difference_fails_the_check_rather_than_passing_its_infinite_tolerance():
    """ln x at x = ε with step ε: x − ε = 0, so the central difference is inf where the slope is 1/ε; the tolerance
    atol + rtol·|numeric| was inf too, and the check passed (a reviewing helper found it); the table's inf − inf
    then raised numpy's "invalid value in scalar subtract" instead.  Since disagreeing elements are taken again with
    smaller steps at order 1 too, the right ln x passes there on finite differences (checked against 1/x); a vjp of
    ln x off by 1e-3 below x = 0.5 fails, its infinite difference in the table."""
    eps = 2.0 ** -10
    x = np.array([eps, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(check_gradients(lambda v: v.log().sum(), x, eps=eps).numeric[0], 1 / x, rtol=1e-5)
    wrong = Op("log", np.log, lambda g, out, x: g / x * np.where(x < 0.5, 1.001, 1.0))
    with warnings.catch_warnings(), pytest.raises(GradientCheckError) as raised:
        warnings.simplefilter("error")
        check_gradients(lambda v: wrong(v).sum(), x, eps=eps)
    assert "1 of 2 gradient elements disagree" in str(raised.value)
    assert "f is not finite a step away from the point" in str(raised.value)


@pytest.mark.parametrize("first", range(4))  # each of _positive's forms tried first
def test_positive_operands_of_random_graphs_stay_a_margin_above_zero(first):
    """A divisor (or log's, sqrt's, a power base's input) near 0 has slopes without bound: e⁻⁵⁰ as a divisor made
    x²/d overflow within a finite-difference step of x = 0, a false failure of the thorough fuzz."""
    graph = expressions_module.Graph(lambda strategy: first, [np.array([-50.0, 0.3, 4.0])], {})
    name = expressions_module._positive(graph, "x0")
    assert np.all(graph.value(name) >= expressions_module.KINK_MARGIN)


def test_tolerances_are_used():
    tiny_error = Op("tiny_error", lambda x: x * 1.0, lambda g, out, x: g * (1 + 1e-4))
    with pytest.raises(GradientCheckError):
        check_gradients(lambda v: tiny_error(v).sum(), np.ones(3))
    check_gradients(lambda v: tiny_error(v).sum(), np.ones(3), rtol=1e-3)
    check_gradients(lambda v: tiny_error(v).sum(), np.ones(3), atol=1e-3)


@pytest.mark.parametrize("result", [np.ones(2), 1.0, None])
def test_f_must_return_a_value(result):
    with pytest.raises(TypeError, match="check_gradients: f must return a Value, got"):
        check_gradients(lambda a: result, np.ones(2))


def test_bad_arguments_raise_type_errors():
    with pytest.raises(TypeError, match="f must be callable"):
        check_gradients(np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="input 0 has dtype complex128"):
        check_gradients(lambda a: a, np.ones(2, dtype=complex))


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
def test_inputs_f_cannot_take_are_named_with_a_hint_for_a_torch_style_tuple(check):
    """check_gradients(f, x, y), not gradcheck's check_gradients(f, (x, y)) (or a list, which gradcheck takes too):
    the error names the check and f."""
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for together in ((x, y), [x, y]):
        with pytest.raises(TypeError, match=re.escape(f"{check.__name__}: f <lambda>(a, b) cannot be called with the "
                                                      f"1 input(s) given; give the inputs one by one, "
                                                      f"{check.__name__}(f, x, y), not as one "
                                                      f"{type(together).__name__}")):
            check((lambda a, b: (a * b).sum()), together)
    with pytest.raises(TypeError, match=re.escape(f"{check.__name__}: f <lambda>(a) cannot be called with the 2 "
                                                  "input(s) given") + "$"):
        check((lambda a: (a * a).sum()), x, y)
    if check is numerical_gradient:  # given one by one, they are checked: ∂Σab/∂a = b, ∂Σab/∂b = a
        grads = numerical_gradient(lambda a, b: (a * b).sum(), x, y)
        np.testing.assert_allclose(grads[0], y, rtol=1e-8)
        np.testing.assert_allclose(grads[1], x, rtol=1e-8)


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
@pytest.mark.parametrize("eps, error, message", [
    (0, ValueError, "be > 0, got 0.0"), (-1e-6, ValueError, "be > 0, got -1e-06"),
    (np.nan, ValueError, "be finite, got nan"), (np.inf, ValueError, "be finite, got inf"),
    ("1e-6", TypeError, "be a number, got str '1e-6'"), (True, TypeError, "be a number, got bool True")])
def test_eps_must_be_a_finite_number_above_zero(check, eps, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error, match=re.escape(f"{check.__name__}: eps must {message}")):
            check(lambda x: (x * 2.0).sum(), np.ones(2), eps=eps)


@pytest.mark.parametrize("argument, bad, error", [
    ("atol", -1, ValueError), ("atol", np.nan, ValueError), ("atol", "a", TypeError), ("rtol", np.inf, ValueError),
    ("rtol", None, TypeError), ("rows", -1, ValueError), ("rows", 0, ValueError), ("rows", 2.0, TypeError),
    ("seed", -1, ValueError), ("seed", 1.5, TypeError), ("order", True, TypeError), ("order", 2.0, TypeError),
    ("order", 0, ValueError)])
def test_check_gradients_settings_are_checked_before_any_work(argument, bad, error):
    calls = []

    def f(v):
        calls.append(v)
        return (v * v).sum()
    with pytest.raises(error, match=rf"^check_gradients: {argument} must be"):
        check_gradients(f, np.array([1.0, 2.0]), **{argument: bad})
    assert calls == []
    assert check_gradients(f, np.array([1.0, 2.0]), atol=0, rtol=np.float32(1e-5), seed=np.int64(3), rows=1)


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_inputs_are_value_errors_not_gradient_mismatches(check, bad):
    w = Value(np.array([[1.0, bad]]), label="w")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"{check.__name__}: input 1.*element \(0, 1\) = {bad} is not finite"):
            check(lambda a, b: (a * b).sum(), np.ones(2), w)


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
def test_a_step_lost_in_rounding_is_a_value_error_suggesting_a_larger_eps(check):
    """Near 3e10 the float64 spacing is 4e-6: x ± 1e-6 rounds back to x and the difference would be 0/0."""
    x = np.array([1.0, 3e10])
    assert x[1] + 1e-6 == x[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"{check.__name__}: input 0, element \(1,\) = 3e\+10 does not move "
                                             r"by eps=1e-06.*give a larger eps"):
            check(lambda v: (v * 2.0).sum(), x)
    assert check(lambda v: (v * 2.0).sum(), x, eps=3e4) is not None  # a step of 1e-6·|x| works


def test_a_step_lost_at_order_2_and_overflow_are_named_too():
    with pytest.raises(ValueError, match=r"input 0, element \(\) = 1e\+12 does not move by eps=1e-05"):
        check_gradients(lambda v: v ** 3, np.array(1e12), order=2, eps=1e-5)
    with pytest.raises(ValueError, match=r"element \(\) = 1.797e\+308 overflows when moved by eps=1e\+305"):
        check_gradients(lambda v: v * 1.0, np.array(1.797e308), eps=1e305)


def square_sum(x):
    return (x * x).sum()


@pytest.mark.parametrize("check, setting, message", [
    (numerical_gradient, {"eps": 1e308}, r"input 0, element \(0,\) = 1 overflows when moved by eps=1e\+308 \(x ± eps, "
                                         r"or the step of 2·eps between them, .*give a smaller eps"),
    (check_gradients, {"eps": 1e308}, r"input 0, element \(0,\) = 1 overflows when moved by eps=1e\+308 .*give a "
                                      "smaller eps"),
    (numerical_gradient, {"upstream": 1e308}, r"input 0, element \(0,\) = 1: Σ upstream · \(f\(x \+ eps\) − "
                                              r"f\(x − eps\)\) / 2·eps is beyond float64's 1.8e\+308 \(upstream up to "
                                              r"1e\+308 in size"),
    (numerical_gradient, {"upstream": np.inf}, "upstream must be finite, got inf"),
    (numerical_gradient, {"upstream": np.nan}, "upstream must be finite, got nan"),
    (check_gradients, {"rtol": 1e308}, r"rtol must lie in \[0, 1\), got 1e\+308"),
    (numerical_gradient, {"eps": 1e200}, r"input 0, element \(0,\) = 1: f is not finite at x \+ eps or x − eps "
                                         r"\(eps=1e\+200\).*give a smaller eps"),
], ids=lambda value: value.__name__ if callable(value) else str(value) if isinstance(value, dict) else "")
def test_settings_that_give_no_meaningful_difference_are_refused_by_name_without_numpy_warnings(check, setting,
                                                                                                message):
    """eps=1e308 (2·eps overflows), upstream=1e308 (the gradient 2e308 overflows) and rtol=1e308 leaked numpy's
    overflow warnings, and check_gradients blamed the derivative for eps=1e308's NaN differences."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"^{check.__name__}: {message}"):
            check(square_sum, np.array([1.0, 2.0]), **setting)


@pytest.mark.parametrize("as_value", [False, True])
def test_numerical_gradient_where_f_leaves_its_domain_within_the_step_says_so_without_a_warning(as_value):
    """√x at 1e-7 − 1e-6 is nan: numerical_gradient returned nan with numpy's RuntimeWarning from inside f."""
    x = np.array([1.0, 1e-7])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^numerical_gradient: input 0, element \(1,\) = 1e-07: f is not finite "
                                             r"at x \+ eps or x − eps \(eps=1e-06\)"):
            numerical_gradient(lambda v: (v.sqrt() if as_value else np.sqrt(v)).sum(), Value(x) if as_value else x)
    np.testing.assert_allclose(numerical_gradient(lambda v: v.sqrt().sum(), Value(x), eps=1e-9),
                               [0.5 / np.sqrt(x)], rtol=1e-4)  # a step within the domain works


def test_rtol_of_1_or_more_is_refused_since_a_zero_gradient_would_pass():
    forgot_the_gradient = Op("forgot", lambda x: x * 2.0, lambda g, out, x: g * 0.0)
    with pytest.raises(GradientCheckError):
        check_gradients(lambda v: forgot_the_gradient(v).sum(), np.ones(2), rtol=0.99)
    with pytest.raises(ValueError, match=r"^check_gradients: rtol must lie in \[0, 1\), got 1.0"):
        check_gradients(lambda v: forgot_the_gradient(v).sum(), np.ones(2), rtol=1)


def test_a_step_beyond_f_s_range_is_named_in_the_table_without_a_numpy_warning():
    """eps=1e200: x² overflows at x ± eps; check_gradients raised numpy's 'invalid value in subtract' (inf − inf)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GradientCheckError, match="f is not finite a step away from the point"):
            check_gradients(square_sum, np.array([1.0, 2.0]), eps=1e200)


# --- strategies --------------------------------------------------------------------------------------------------
@given(arrays(min_value=-2.0, max_value=5.0, avoid=(0.0, 1.0), margin=0.1, max_dims=2, max_side=3))
def test_arrays_are_bounded_float64_and_kept_off_kinks(x):
    assert x.dtype == np.float64 and x.ndim <= 2 and all(1 <= n <= 3 for n in x.shape)
    assert np.all((x >= -2.0) & (x <= 5.0))
    assert np.all(np.abs(x) >= 0.1) and np.all(np.abs(x - 1.0) >= 0.1)


@given(arrays((2, 3), min_gap=0.01))
def test_arrays_with_a_min_gap_have_distinct_elements(x):
    assert x.shape == (2, 3)
    assert np.diff(np.sort(x, axis=None)).min() >= 0.01


@given(arrays(st.sampled_from([(4, 4), (64,), (2, 4, 8)]), min_gap=0.05, avoid=(0.0, 1.0), margin=0.1))
def test_arrays_with_a_min_gap_are_built_directly_for_many_elements(x):
    """16 or more elements used to fail hypothesis's health check (the gap was filtered for)."""
    assert x.size in (16, 64) and np.all((x >= -3.0) & (x <= 3.0))
    assert np.diff(np.sort(x, axis=None)).min() >= 0.05
    assert np.all(np.abs(x) >= 0.1) and np.all(np.abs(x - 1.0) >= 0.1)


def test_arrays_with_a_min_gap_that_cannot_fit_say_so():
    with pytest.raises(ValueError, match=r"7 elements at least 1.0 apart do not fit in \[0.0, 5.0\]"):
        arrays((7,), min_value=0.0, max_value=5.0, min_gap=1.0)
    with pytest.raises(ValueError, match="min_gap must be positive"):
        arrays((2,), min_gap=0.0)


def test_arrays_with_a_min_gap_that_fit_only_across_a_kink_are_drawn():
    """[-1, 1] away from 0 by 0.9 leaves [-1, -0.9] and [0.9, 1]: two elements 1.5 apart fit (-1 and 1 are 2
    apart), three do not; laid end to end the pieces are only 0.2 long, and both were refused."""
    given_shape = drawn(arrays((2,), min_value=-1.0, max_value=1.0, avoid=(0.0,), margin=0.9, min_gap=1.5),
                        lambda x: x)
    drawn_shape = drawn(arrays(min_value=-1.0, max_value=1.0, avoid=(0.0,), margin=0.9, min_gap=1.5, min_dims=1,
                               min_side=2), lambda x: x)
    for x in given_shape + drawn_shape:
        assert x.shape == (2,) and abs(x[0] - x[1]) >= 1.5
        assert np.all((np.abs(x) >= 0.9) & (np.abs(x) <= 1.0))
    with pytest.raises(ValueError, match=r"3 elements at least 1.5 apart do not fit"):
        arrays((3,), min_value=-1.0, max_value=1.0, avoid=(0.0,), margin=0.9, min_gap=1.5)


def test_arrays_with_a_min_gap_draw_only_shapes_that_fit():
    """Only 61 elements 0.1 apart fit into [-3, 3]; the drawn shapes hold up to 64 without min_gap."""
    sizes = drawn(arrays(min_gap=0.1), lambda x: (x.size, np.diff(np.sort(x, axis=None)).min(initial=1.0)))
    assert all(size <= 61 and gap >= 0.1 for size, gap in sizes) and max(size for size, _ in sizes) > 30
    assert all(x.size <= 3 for x in drawn(values(min_value=0, max_value=1, min_gap=0.5), lambda v: v.data))


def test_arrays_with_a_min_gap_accept_an_exact_fit_and_an_int_shape():
    exact = drawn(arrays((3,), min_value=0, max_value=1, min_gap=0.5), lambda x: sorted(x))
    assert exact and all(x == [0.0, 0.5, 1.0] for x in exact)
    assert {x.shape for x in drawn(arrays(3, min_gap=0.1), lambda x: x)} == {(3,)}
    with pytest.raises(ValueError, match="4 elements at least 0.5 apart do not fit"):
        arrays(4, min_value=0, max_value=1, min_gap=0.5)


@given(arrays(st.sampled_from([(4,), (1, 2)]), avoid=(3.0,), margin=0.5))
def test_arrays_take_a_strategy_of_shapes_and_a_kink_at_the_bound(x):
    assert x.shape in {(4,), (1, 2)}
    assert np.all(x <= 2.5)  # 3.0 ± 0.5: only the side below lies inside [-3, 3]


def test_arrays_reject_impossible_requests():
    with pytest.raises(ValueError, match="no room"):
        arrays(min_value=-0.1, max_value=0.1, avoid=(0.0,), margin=0.5)
    with pytest.raises(ValueError, match="min_value"):
        arrays(min_value=1.0, max_value=0.0)
    with pytest.raises(TypeError, match="only apply when the shape is drawn"):
        arrays((2,), max_dims=3)


@given(arrays(dtype=np.float32, min_value=-0.1, max_value=0.1, avoid=(0.05,), margin=1e-3, max_dims=2))
def test_float32_arrays_keep_their_bounds_and_margins_after_rounding(x):
    """-0.1, 0.1 and 0.051 are not float32 numbers: rounding the float64 draws would leave the promised range."""
    assert x.dtype == np.float32 and x.ndim <= 2
    wide = x.astype(np.float64)
    assert np.all((wide >= -0.1) & (wide <= 0.1)) and np.all(np.abs(wide - 0.05) >= 1e-3)


@given(arrays((5,), dtype=np.float32, min_value=0.0, max_value=1.0, min_gap=0.2499), values((2,), dtype="float32"))
def test_float32_arrays_keep_their_gaps_and_make_float32_values(x, v):
    assert x.dtype == np.float32 and np.diff(np.sort(x.astype(np.float64))).min() >= 0.2499
    assert v.dtype == np.float32 and v.shape == (2,)


def test_float32_arrays_shrink_to_plain_numbers():
    """The smallest example is two zeros moved off the kink: the float32 number nearest 0.001, not 0.0010002."""
    found = find(arrays(dtype=np.float32, avoid=(0.0,)), lambda x: x.size >= 2,
                 settings=settings(database=None, derandomize=True))
    assert found.shape == (2,) and found.dtype == np.float32 and np.all(found == np.float32(0.001))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"dtype": np.int32}, TypeError, "arrays: dtype must be np.float64 or np.float32, got dtype('int32')"),
    ({"dtype": "x"}, TypeError, "arrays: dtype must be np.float64 or np.float32"),
    ({"max_dim": 2}, TypeError, "arrays: unexpected keyword argument(s) ['max_dim']"),
    ({"min_value": np.nan}, ValueError, "arrays: min_value must be finite, got nan"),
    ({"max_value": np.inf}, ValueError, "arrays: max_value must be finite, got inf"),
    ({"avoid": 0.0}, TypeError, "arrays: avoid must be a sequence of numbers, e.g. avoid=(0.0,)"),
    ({"avoid": ("a",)}, TypeError, "arrays: avoid[0] must be a number, got str 'a'"),
    ({"margin": -1e-3}, ValueError, "arrays: margin must be >= 0"),
    ({"min_gap": "x"}, TypeError, "arrays: min_gap must be a number"),
    ({"dtype": np.float32, "max_value": 1e39}, ValueError, "reaches beyond float32's largest number"),
    ({"dtype": np.float32, "min_value": 0.1, "max_value": 0.1}, ValueError, "no float32 number lies in [0.1, 0.1]"),
])
def test_arrays_name_the_argument_at_fault(kwargs, error, words):
    with pytest.raises(error) as raised:
        arrays(**kwargs)
    assert words in str(raised.value)


@given(broadcastable_shapes(3), shapes(min_dims=1, max_dims=2))
def test_broadcastable_shapes_broadcast(shape_tuple, shape):
    assert len(shape_tuple) == 3
    np.broadcast_shapes(*shape_tuple)
    assert 1 <= len(shape) <= 2


@given(arrays_for(matmul_shapes()))
def test_matmul_shapes_multiply(pair):
    a, b = pair
    assert (a @ b).ndim <= max(a.ndim, b.ndim)


def test_matmul_shapes_cover_vectors_matrices_and_batches():
    for wanted in (lambda s: len(s[0]) == 1, lambda s: len(s[1]) == 1, lambda s: len(s[0]) == len(s[1]) == 2,
                   lambda s: len(s[0]) == 3 or len(s[1]) == 3):
        a_shape, b_shape = find(matmul_shapes(), wanted, settings=FIRST_FOUND)
        np.matmul(np.ones(a_shape), np.ones(b_shape))


@given(values((2,), min_value=0.5), values(requires_grad=False))
def test_values_strategy(v, constant):
    assert isinstance(v, Value) and v.shape == (2,) and v.requires_grad and np.all(v.data >= 0.5)
    assert not constant.requires_grad


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_testing_works_without_hypothesis_and_strategies_name_the_extra():
    result = run_python(
        "import sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "import numpy as np\n"
        "from tinygrad_edu.testing import check_gradients\n"
        "check_gradients(lambda v: v.exp().sum(), np.ones(2))\n"
        "try:\n"
        "    import tinygrad_edu.testing.strategies\n"
        "except ImportError as error:\n"
        "    print(error)\n")
    assert result.returncode == 0, result.stderr
    assert 'pip install hypothesis (or pip install ".[testing]"' in result.stdout


def test_importing_testing_does_not_import_hypothesis():
    result = run_python("import sys, tinygrad_edu.testing; print('hypothesis' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- the example --------------------------------------------------------------------------------------------------
def test_custom_op_example_catches_the_wrong_sigmoid_derivative_and_passes_the_right_one():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "custom_op_gradient_check.py")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "caught the wrong derivative (GradientCheckError)" in out
    assert "gradient elements disagree with finite differences" in out
    assert "analytic" in out and "numeric" in out
    assert "the right derivative passes: GradientReport(ok" in out


# --- expressions: node and input bounds, extra ops ---------------------------------------------------------------
def cube() -> Op:
    return Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)


def test_only_extra_graphs_use_the_extra_op_every_other_step():
    """Every graph uses the extra op, about every other node is one (tanh fallbacks and helper nodes aside)."""
    log = Op("my_log", np.log, lambda g, out, x: g / x)
    for ops in ([cube()], [OpSpec(log, domain="positive")]):
        name = ops[0].op.name if isinstance(ops[0], OpSpec) else ops[0].name
        counts = drawn(expressions(extra_ops=ops, only_extra=True),
                       lambda e, name=name: (sum(f"{name}(" in line for line in e.lines), len(e.lines)))
        assert all(uses >= 1 for uses, _ in counts)
        assert sum(uses for uses, _ in counts) >= sum(lines for _, lines in counts) / 4


@pytest.mark.parametrize("min_nodes, max_nodes, max_inputs", [(2, 2, 3), (3, 6, 3), (3, 25, 3), (5, 8, 1)])
def test_expressions_keep_to_their_node_bounds_and_draw_up_to_max_inputs(min_nodes, max_nodes, max_inputs):
    counts = drawn(expressions(min_nodes=min_nodes, max_nodes=max_nodes, max_inputs=max_inputs),
                   lambda e: (len(e.inputs) + len(e.lines), len(e.inputs)))
    assert min_nodes <= min(n for n, _ in counts) and max(n for n, _ in counts) <= max_nodes
    assert max(k for _, k in counts) == min(max_inputs, max_nodes - 1)


# --- found by writing custom ops and fuzzing them (issue: a user's custom-op workflow) -----------------------------
def _raw(x):
    return x.data if isinstance(x, Value) else x


#: x² whose vjp reads .data: right at order 1, its second derivative is 0 instead of 2.
DATA_SQUARE = Op("data_square", lambda x: x * x, lambda g, out, x: g * 2 * _raw(x))
#: e^(2x), right at orders 1 and 2; its slope's vjp reads .data, so the third derivative is 0 instead of 8e^(2x).
EXP2_SLOPE = Op("exp2_slope", lambda x: 2 * np.exp(2 * x), lambda g, out, x: g * 4 * np.exp(2 * _raw(x)))
EXP2 = Op("exp2", lambda x: np.exp(2 * x), lambda g, out, x: g * EXP2_SLOPE(x))
#: softsign x / (1 + |x|), smooth at order 1, with a kink at 0 in its derivative.
SOFTSIGN = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + np.abs(x)) ** 2)


def test_a_higher_order_check_checks_every_order_below_it_first():
    """Order 3 alone compares with differences of the engine's own second derivative: a wrong second derivative
    (0 here) made it pass, with 0 error."""
    x = np.array([0.3, -0.7])
    check_gradients(DATA_SQUARE, x)
    for order in (3, 2):
        with pytest.raises(GradientCheckError) as caught:
            check_gradients(DATA_SQUARE, x, order=order)
        message = str(caught.value)
        assert message.startswith("check_gradients: 2 of 2 second-order elements")
        assert f"order={order} checks orders 1 to {order} in turn; order 2 failed" in message
        assert "may read .data" in message  # analytic 0 everywhere: the hint says where such a 0 comes from


def test_a_smooth_mismatch_at_order_3_is_not_called_a_kink_but_a_kink_at_order_2_is():
    """With eps = 1e-4 the one-sided slopes of a smooth function differ by eps·C'', above the old kink threshold."""
    x = np.array([0.5, 1.0])
    check_gradients(EXP2, x, order=2)
    with pytest.raises(GradientCheckError, match="2 of 2 order-3 elements") as caught:
        check_gradients(EXP2, x, order=3)
    assert "kink" not in str(caught.value)
    with pytest.raises(GradientCheckError, match="second-order") as caught:
        check_gradients(SOFTSIGN, np.array([1e-6, 1.0]), order=2)  # (1 + |x|)⁻² has a kink at 0, within eps
    lines = str(caught.value).splitlines()
    assert "kink: slopes left | right" in lines[1] and lines[3].split()[:2] == ["0", "(0,)"] and "|" in lines[3]


def _program_namespace() -> dict:
    return {"print": lambda *args: None}


def test_a_printed_program_checks_the_orders_the_fuzzer_does_and_imports_module_level_ops():
    """The program printed for a failing graph used to check order 1 only (an order-2 failure replayed as a pass)
    and left a module-level custom op undefined (a NameError when run as printed)."""
    def fails_at_order_2_only(expr: Expression) -> bool:
        check_gradients(expr, *expr.inputs)
        try:
            check_gradients(expr, *expr.inputs, order=2)
        except GradientCheckError:
            return True
        return False

    expr = find(expressions(extra_ops=[DATA_SQUARE], only_extra=True, max_nodes=6), fails_at_order_2_only,
                settings=FIRST_FOUND)
    program = expr.program()
    assert f"from {__name__} import DATA_SQUARE as data_square\n" in program
    assert program.rstrip().endswith("check_gradients(f, *inputs, order=3)  # checks orders 1, 2 and 3")
    with pytest.raises(GradientCheckError, match="second-order"):
        exec(program, _program_namespace())


def test_an_op_defined_in_a_function_is_defined_by_its_source_and_array_params_print_as_literals():
    scale = Op("scale", lambda x, w: x * w, lambda g, out, x, w: g * w)
    spec = OpSpec(scale, params=st.fixed_dictionaries({"w": st.just(np.array(2.5))}))
    expr = find(expressions(extra_ops=[spec], only_extra=True, max_nodes=5), lambda e: True, settings=FIRST_FOUND)
    program = expr.program()
    assert '\nscale = Op("scale", lambda x, w: x * w, lambda g, out, x, w: g * w)\n' in program  # (round 50)
    assert "w=np.array(2.5)" in program
    exec(program, _program_namespace())
    opaque = OpSpec(scale, params=st.just({"w": object()}))  # its repr is no source: refused by name, not a NameError
    with pytest.raises(TypeError, match=r"OpSpec 'scale': the param w=<object object at .*> cannot be written as "):
        find(expressions(extra_ops=[opaque], only_extra=True, max_nodes=5), lambda e: True, settings=FIRST_FOUND)


@pytest.mark.parametrize("kinks", [(0.0,), (0.0, 0.5)])
def test_only_extra_graphs_use_a_kinked_op_every_time(kinks):
    """Inputs near a kink used to make the op give up, so about a quarter of the graphs had none of it."""
    uses = drawn(expressions(extra_ops=[OpSpec(SOFTSIGN, kinks=kinks)], only_extra=True, max_nodes=12),
                 lambda e: [line for line in e.lines if "softsign(" in line])
    assert all(uses), [len(u) for u in uses]
    checked = drawn(expressions(extra_ops=[OpSpec(SOFTSIGN, kinks=kinks)], only_extra=True, max_nodes=12),
                    lambda e: check_gradients(e, *e.inputs, order=2))
    assert len(checked) == DRAWS.max_examples


@pytest.mark.parametrize("kwargs, error, words", [
    ({"params": {"w": 2.0}}, TypeError, "OpSpec 'softsign': params must be a hypothesis strategy of keyword-argument "
                                        "dicts, e.g. st.just({'w': 2.0}), got dict"),
    ({"kinks": 0.0}, TypeError, "OpSpec 'softsign': kinks must be a sequence of numbers, e.g. kinks=(0.0,), got float"),
    ({"kinks": ("a",)}, TypeError, "OpSpec 'softsign': kinks[0] must be a number, got str 'a'"),
    ({"kinks": (np.nan,)}, ValueError, "OpSpec 'softsign': kinks[0] must be finite"),
    ({"broadcasts": "no"}, TypeError, "OpSpec 'softsign': broadcasts must be True or False, got str 'no'"),
    ({"kinks": np.array(0.0)}, TypeError, "OpSpec 'softsign': kinks must be a sequence of numbers, e.g. kinks=(0.0,), "
                                          "got ndarray"),
])
def test_op_spec_names_the_argument_at_fault(kwargs, error, words):
    with pytest.raises(error) as raised:
        OpSpec(SOFTSIGN, **kwargs)
    assert words in str(raised.value)


def _draw_all(spec: OpSpec) -> None:
    drawn(expressions(extra_ops=[spec], only_extra=True, max_nodes=6), lambda e: e)


def test_params_the_op_does_not_take_are_named_not_silently_left_out():
    """A misspelt keyword made the forward raise a TypeError, which dropped the op from every graph: the property
    then passed without ever calling it."""
    softplus = Op("softplus_beta", lambda x, beta=1.0: np.logaddexp(0, beta * x) / beta,
                  lambda g, out, x, beta=1.0: g / (1 + np.exp(-beta * x)))
    with pytest.raises(TypeError, match=r"expressions: OpSpec 'softplus_beta': its forward cannot be called as "
                                        r"forward\(x0, \*\*\{'betta': 2.0\}\): .*'betta'"):
        _draw_all(OpSpec(softplus, params=st.just({"betta": 2.0})))
    forward_only = Op("softplus_beta", softplus.forward, lambda g, out, x: g / (1 + np.exp(-x)))
    with pytest.raises(TypeError, match=r"expressions: OpSpec 'softplus_beta': its vjp 0 cannot be called as "
                                        r"vjp\(g, out, x0, \*\*\{'beta': 2.0\}\)"):
        _draw_all(OpSpec(forward_only, params=st.just({"beta": 2.0})))
    with pytest.raises(TypeError, match=r"expressions: OpSpec 'softplus_beta': params must draw dicts of keyword "
                                        r"arguments, drew float 2.0"):
        _draw_all(OpSpec(softplus, params=st.just(2.0)))


@pytest.mark.parametrize("x", [-13.18, 0.5, 20.0, 800.0])
def test_the_numpy_reference_of_tanh_slope_keeps_its_digits_far_out(x):
    """1 − tanh² cancelled to a relative error of 1e-5 at x = −13, failing graphs whose engine value was right."""
    from tinygrad_edu.testing.expressions import NUMPY
    e = np.exp(-2 * abs(x))
    exact = 4 * e / (1 + e) ** 2  # sech²x, no cancellation
    with np.errstate(over="ignore"):  # as the reference runs: cosh(800) is inf, and 1/inf² the 0 it should be
        np.testing.assert_allclose(NUMPY["ops"].tanh_slope(np.array(x)), exact, rtol=1e-14, atol=0)


def test_a_step_too_large_for_the_inputs_is_named_not_blamed_on_the_derivative():
    """√x′ at x = 0.01 is right, but a step of 1e-3 is 10 % of x: the central difference's own error (∝ ε²) exceeds
    the tolerance.  At every order such elements are taken again with smaller steps before they are reported: √x′
    with eps=1e-3 passes, its numeric value the extrapolated 1/(2√x) = 5, and so does √x‴ at 0.01 with the step of
    order 3, 1e-4.  Where a tenth of the step is still too large (e^(1000x) − 1000x at 0, whose slope is 0, with
    eps=1e-3), the failure says the disagreement falls fourfold with half the step, which a wrong derivative's does
    not, and names a step that agrees."""
    np.testing.assert_allclose(check_gradients(lambda x: x.sqrt(), 0.01, eps=1e-3).numeric[0], 5.0, rtol=1e-5)
    with pytest.raises(GradientCheckError, match=r"(?s)falls from .* when the step is halved.*eps=0\.001 is too "
                                                 r"large for these inputs \(try eps=1e-06\)"):
        check_gradients(lambda x: (1e3 * x).exp() - 1e3 * x, 0.0, eps=1e-3)
    assert check_gradients(lambda x: (1e3 * x).exp() - 1e3 * x, 0.0, eps=1e-6).order == 1
    assert check_gradients(lambda x: x.sqrt(), 0.01, order=3).order == 3
    wrong = Op("square", lambda x: x * x, lambda g, out, x: g * 3 * x)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda x: wrong(x).sum(), np.array([1.0, 2.0]))
    assert "step is halved" not in str(failure.value)


def test_a_halved_step_lost_in_rounding_warns_nothing_and_keeps_the_kink_verdict() -> None:
    """The kink and step probes halve ε; at x = 1e10, x ± 5e-7 rounds back to x: no 0/0, no numpy warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(GradientCheckError, match="kink: slopes left"):
            check_gradients(lambda x: (x - 1e10).relu(), np.array(1e10), eps=1e-6)


def test_a_derivative_of_zero_with_a_step_too_large_is_not_blamed_on_data() -> None:
    """100(e^(100(x − 1)) − 100x)′ = 0 at x = 1, truly: with a step of 1e-2 the differences are the step's (even a
    tenth of it is too large, so taking the element again does not clear it; 100(x³ − 3x), whose differences the
    extrapolation makes exact, passes now), and no vjp read .data."""
    report = check_gradients(lambda x: 100 * (x ** 3 - 3 * x), np.array(1.0), eps=1e-2)
    assert report.numeric[0] == pytest.approx(0, abs=1e-9)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda x: 100 * ((100 * (x - 1)).exp() - 100 * x), np.array(1.0), eps=1e-2)
    assert "step is halved" in str(failure.value) and ".data" not in str(failure.value)


@pytest.mark.parametrize("order", [1, 2])
def test_a_difference_off_by_the_kink_in_the_slope_is_named_not_left_unexplained(order):
    """(x·|x|)′ = 2|x| is 0 at 0, rightly; the central difference there is ε (its error is ε·(C″₊ − C″₋)/4, not
    ε²·C‴/6: it halves with the step rather than falling fourfold), which failed with no word about why."""
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda v: (v * v.abs() * 3.0).sum(), np.array([0.0, 1.0]), eps=1e-5, order=order)
    message = str(failure.value)
    assert "disagreement halves when the step is halved (3e-05, then 1.5e-05)" in message
    assert "the derivative is not shown to be wrong" in message and "try eps=1e-07" in message
    # the step suggested passes (1e-6, a tenth, was suggested before: its difference, 3e-6, still disagreed)
    check_gradients(lambda v: (v * v.abs() * 3.0).sum(), np.array([0.0, 1.0]), eps=1e-7, order=order)
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(lambda v: half_square()(v).sum(), np.array([0.0, 1.0]), eps=1e-5)
    assert "halves when the step is halved" not in str(failure.value)


@pytest.mark.parametrize("f, x, order", [
    (lambda v: v.abs().sum(), np.array([0.0, 2.0]), 2),  # |x|′ = sign x jumps from −1 to 1 at 0
    (lambda v: (v.abs() * -3.0 + v * v).sum(), np.array([1.5, 0.0]), 2),
    (lambda v: F.where(v.data > 0.0, v * 0.0 + 1.0, v * 0.0).sum(), np.array([0.0, 1.0]), 1),  # f itself jumps
])
def test_a_jump_in_what_is_differenced_is_named_not_blamed_on_data(f, x, order) -> None:
    """A central difference across a jump grows as 1/eps (it doubles when the step is halved): no derivative exists
    there.  At order 2 the analytic 0 of |x|″ at 0 drew the note that a vjp may read .data."""
    with pytest.raises(GradientCheckError) as failure:
        check_gradients(f, x, order=order, eps=1e-5)
    message = str(failure.value)
    assert "doubles when the step is halved" in message and "jumps there" in message
    assert ".data" not in message and "step is halved, as a central difference" not in message


def test_params_of_inf_nan_and_tuples_of_arrays_print_as_source_the_program_can_run() -> None:
    """A param of inf (np.linalg.norm's ord=inf, a bound) was refused as not writable; now the program imports
    inf and nan from numpy, and arrays inside tuples print as np.array(...)."""
    capped = Op("capped", lambda x, cap: np.minimum(x, cap), lambda g, out, x, cap: g * (x < cap))
    shifted = Op("shifted", lambda x, by: x + by[0].sum(), lambda g, out, x, by: g)
    programs = drawn(expressions(extra_ops=[OpSpec(capped, params=st.just({"cap": float("inf")})),
                                            OpSpec(shifted, params=st.just({"by": (np.array([0.5, 1.0]),)}))],
                                 only_extra=True, max_nodes=6), lambda e: e.program())
    assert any("cap=inf" in p for p in programs) and any("by=(np.array([0.5, 1.0]),)" in p for p in programs)
    program = next(p for p in programs if "cap=inf" in p)
    assert "from numpy import inf, nan" in program
    compile(program, "<program>", "exec")  # valid source; the ops themselves are the test's, so it is not run


@pytest.mark.parametrize("constant", [1e4, 1e5, 1e6])
def test_a_large_cost_with_a_small_slope_fails_with_a_note_that_the_difference_cannot_resolve_it(constant):
    """C = Σ(3x² + c) with x ≈ 1e-3: over a step of 1e-6, C moves by less than its own rounding, so the central
    difference misses the slope by more than atol (the random fuzz found this in a squared error at order 2).  No
    tolerance can excuse that without excusing wrong slopes too (a reviewing helper broke two), so the check fails
    and says why; the same function without the constant passes."""
    x = np.linspace(1e-3, 2e-3, 20)
    with pytest.raises(GradientCheckError, match="is within the rounding of f's values over the step") as raised:
        check_gradients(lambda v: (v ** 2 * 3.0 + constant).sum(), x)
    assert "the derivative is not shown to be wrong" in str(raised.value)
    check_gradients(lambda v: (v ** 2 * 3.0).sum(), x)
    wrong = Op("square", lambda x: x * x, lambda g, out, x: g * (2 * x + 1e-2))
    with pytest.raises(GradientCheckError, match="20 of 20 gradient elements disagree") as raised:
        check_gradients(lambda v: (wrong(v) * 3.0).sum(), x)
    assert "within the rounding" not in str(raised.value)


def test_a_0d_input_with_an_infinite_difference_still_fails():
    """An infinite difference at a 0-d input fails too (of a log whose vjp is off by 1e-3: the right one passes on
    smaller steps), and its one-row table (the 0-d branch) says why."""
    eps = 2.0 ** -10
    wrong = Op("log", np.log, lambda g, out, x: g / x * 1.001)
    with np.errstate(all="ignore"), pytest.raises(GradientCheckError, match="f is not finite a step away"):
        check_gradients(wrong, np.array(eps), eps=eps)


def test_wrong_slopes_among_many_large_outputs_fail():
    """Cases that broke a rounding allowance (found by reviewing helpers): a slope wrong by 5·rtol under 5000
    outputs of about 100, and a broadcast add onto 1000 outputs of up to 1e6 whose vjp drops one term."""
    wrong = Op("square", lambda x: x * x, lambda g, out, x: g * (2 * x + 5e-5))
    x = np.random.default_rng(1).uniform(0.5, 1.5, 5000)
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(lambda v: wrong(v) + 100.0, x)
    assert int(str(raised.value).split()[1]) > 4500  # "check_gradients: N of 5000 ..."
    add = Op("add", lambda a, b: a + b, [lambda g, out, a, b: g[1:].sum(), lambda g, out, a, b: g])
    with pytest.raises(GradientCheckError, match="1 of 1001 gradient elements disagree"):
        check_gradients(add, np.array(0.5), np.random.default_rng(0).uniform(-1e6, 1e6, 1000))


@pytest.mark.parametrize("slope", [0.0, np.inf])
def test_a_wrong_or_infinite_slope_of_outputs_near_the_largest_float_fails_without_a_floating_point_error(slope):
    """Outputs of 1e306: a wrong (or infinite) slope fails, and its report's relative error (inf/inf) does not raise
    under errstate("raise")."""
    op = Op("big", lambda x: x * 1e306, lambda g, out, x: g * slope)
    with np.errstate(all="raise"), pytest.raises(GradientCheckError, match="300 of 300"):
        check_gradients(op, np.linspace(1.0, 2.0, 300))


def test_infinite_analytic_and_numeric_derivatives_are_reported_under_errstate_raise():
    """inf − inf in the report (an infinite vjp where f jumps to inf) is nan in the table, not a FloatingPointError
    out of the checker (found by a reviewing helper)."""
    step = Op("step", lambda x: np.where(x > 1, np.inf, x), lambda g, out, x: g * np.inf)
    with np.errstate(all="raise"), pytest.raises(GradientCheckError, match="2 of 2 gradient elements disagree"):
        check_gradients(step, np.array([1.0, 0.5]))


@pytest.mark.parametrize("x", [2.0, np.array([2.0]), np.array([[2.0]])])
def test_a_vjp_that_forgets_its_upstream_gradient_fails_on_a_single_number_too(x):
    """The commonest mistake in a hand-written vjp returns the local derivative 3x² instead of g·3x².  A single
    number was backpropagated with g = 1 only, where the two agree, so check_gradients passed it (and 2·cube(x) then
    got 3x² for 6x²); jax's check_grads draws a random cotangent.  Found by an exploratory pass."""
    forgetful = Op("cube", lambda v: v ** 3, lambda g, out, v: 3 * v ** 2)
    with pytest.raises(GradientCheckError, match=r"check_gradients: input 0: backward\(\) with ∂C/∂output = −2 gave "
                                                 r"\[12\.\], not −2 times the gradient \[12\.\] it gives with 1: a "
                                                 r"vjp does not multiply by its upstream gradient g"):
        check_gradients(forgetful, x)
    right = Op("cube", lambda v: v ** 3, lambda g, out, v: g * 3 * v ** 2)
    report = check_gradients(right, x)
    assert np.array_equal(report.analytic[0].ravel(), [12.0])  # the gradient with g = 1, as before
    with pytest.raises(GradientCheckError):  # a non-scalar output was caught before, by its random upstream
        check_gradients(lambda v: forgetful(v) * np.array([1.0, 2.0]), x)
