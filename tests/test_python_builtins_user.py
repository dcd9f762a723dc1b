"""A Python programmer's pass: Values treated like Python numbers and numpy arrays by the builtins and the standard
library (math, statistics, copy, operator, f-strings, ``in``, iteration, sorted/max/min/sum, comparisons, numpy's
functions).  Results are compared with what Python or numpy answers for the same numbers, gradients with central
differences or closed forms, and what cannot work must be a TypeError or ValueError naming the operation."""

import copy
import math
import operator
import statistics

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)
positive = st.floats(0.2, 3.0, allow_nan=False, allow_infinity=False)
vectors = st.lists(finite, min_size=1, max_size=5).map(np.array)


# --- defects found and fixed ---------------------------------------------------------------------------------------

def test_in_on_a_matrix_value_answers_as_numpy_does():
    numbers = np.arange(6.0).reshape(2, 3)
    m = Value(numbers)
    for x in (2.0, 7.0, np.array([0.0, 1.0, 2.0]), np.array([9.0, 9.0, 9.0])):
        assert (x in m) is bool(x in numbers)


def test_in_on_a_single_number_value_answers_as_numpy_does():
    assert 2.5 in Value(2.5)
    assert 1.0 not in Value(2.5)
    assert (2.5 in Value(2.5)) == (2.5 in np.array(2.5))


def test_in_does_not_index_the_value_element_by_element(monkeypatch):
    a = Value(np.array([1.0, 2.0, 3.0]))

    def no_indexing(self, key):
        raise AssertionError(f"`in` indexed the Value at {key!r}")

    monkeypatch.setattr(Value, "__getitem__", no_indexing)
    assert 2.0 in a
    assert 5.0 not in a
    assert Value(3.0) in a
    assert None not in a  # as numpy: nothing equals None


def test_statistics_mean_of_values_says_what_to_write():
    values = [Value(1.0), Value(2.0), Value(4.0)]
    for function in (statistics.mean, statistics.variance, statistics.stdev):
        with pytest.raises(TypeError, match=r"statistics\.mean.*sum\(values\) / len\(values\)"):
            function(values)
    with pytest.raises(TypeError, match=r"statistics\.mean"):
        statistics.mean([1.0, Value(2.0)])  # a Value among numbers too


def test_complex_of_several_numbers_names_complex():
    with pytest.raises(TypeError, match=r"^complex: .*shape \(3,\)"):
        complex(Value(np.array([1.0, 2.0, 3.0])))


# --- guards: what the role relies on -------------------------------------------------------------------------------

def test_the_mean_statistics_mean_would_give_is_sum_over_len_with_its_gradient():
    values = [Value(1.0), Value(2.0), Value(4.0)]
    mean = sum(values) / len(values)
    assert mean.item() == pytest.approx(statistics.mean([1.0, 2.0, 4.0]))
    mean.backward()
    assert [v.grad for v in values] == pytest.approx([1 / 3] * 3)


def test_complex_of_a_single_number_is_that_number():
    assert complex(Value(2.5)) == 2.5 + 0j
    assert complex(Value([[-1.5]])) == -1.5 + 0j


@given(x=finite, digits=st.integers(-2, 4))
def test_conversions_of_a_single_number_answer_as_for_a_python_float(x, digits):
    for v in (Value(x), Value([x]), Value([[x]])):
        assert float(v) == x and int(v) == int(x) and math.trunc(v) == math.trunc(x)
        assert math.floor(v) == math.floor(x) and math.ceil(v) == math.ceil(x)
        assert round(v) == round(x) and round(v, digits) == round(x, digits)
        assert bool(v) == bool(x) and complex(v) == complex(x)
        assert f"{v:.3f}" == f"{x:.3f}" and f"{v:>12}" == f"{x:>12}" and f"{v:+.2e}" == f"{x:+.2e}"
        assert math.exp(v) == math.exp(x) and math.isclose(v, x)


@pytest.mark.parametrize("convert, name", [(float, "float"), (int, "int"), (round, "round"), (math.trunc, "trunc"),
                                           (lambda v: format(v, ".3f"), "format")])
def test_conversions_of_several_numbers_are_refused_by_name(convert, name):
    with pytest.raises(TypeError, match=rf"^{name}: .*shape \(2,\)"):
        convert(Value(np.array([1.0, 2.0])))


def test_truth_of_several_numbers_is_ambiguous_by_name():
    with pytest.raises(ValueError, match=r"^bool: .*shape \(2,\)"):
        bool(Value(np.array([1.0, 2.0])))


@pytest.mark.parametrize("call, name", [(lambda v: v % 2, "%"), (lambda v: 2 % v, "%"), (lambda v: v // 2, "//"),
                                        (lambda v: 7 // v, "//"), (lambda v: divmod(v, 2), "divmod"),
                                        (lambda v: divmod(7, v), "divmod"), (lambda v: pow(v, 2, 5), "pow")])
def test_operations_without_a_derivative_are_refused_by_name(call, name):
    with pytest.raises(TypeError, match=rf"^{name}: "):
        call(Value(2.5))


def test_comparisons_give_numpys_answers_not_values():
    numbers = np.array([1.0, 2.0, 3.0])
    a, v = Value(numbers), Value(2.0)
    for compare in (operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge):
        single = compare(v, 2.0)
        assert type(single) is np.bool_ and single == compare(np.float64(2.0), 2.0)
        several = compare(a, 2.0)
        assert type(several) is np.ndarray and np.array_equal(several, compare(numbers, 2.0))
        assert np.array_equal(compare(2.0, a), compare(2.0, numbers))  # reflected, as numpy's
    with pytest.raises(TypeError, match=r"^comparison <: "):
        v < None  # noqa: B015


def test_values_hash_by_identity_as_graph_nodes():
    v, w = Value(2.5), Value(2.5)
    assert bool(v == w) and len({v, w, v}) == 2
    table = {v: "v", w: "w"}
    assert table[v] == "v" and table[w] == "w"
    a = Value(np.array([1.0, 2.0]))
    assert {a: 1}[a] == 1  # a tensor Value as a key: its identity, not its (array-valued) ==


@given(numbers=vectors)
def test_iteration_reversed_and_len_give_the_rows_with_their_gradients(numbers):
    x = Value(numbers)
    assert len(x) == len(numbers)
    assert [p.item() for p in x] == list(numbers) and [p.item() for p in reversed(x)] == list(numbers[::-1])
    weights = np.arange(1.0, len(numbers) + 1)
    out = sum(w * p ** 3 for w, p in zip(weights, reversed(x)))
    out.backward()
    np.testing.assert_allclose(x.grad, 3 * weights[::-1] * numbers ** 2, rtol=1e-12, atol=1e-12)


def test_iterating_a_matrix_gives_rows_and_nested_iteration_the_elements():
    numbers = np.array([[0.3, -1.5, 2.0], [1.0, 2.0, -0.7]])
    report = check_gradients(lambda x: sum(e ** 2 * k for k, row in enumerate(x, 1) for e in row), numbers)
    assert report.elements == numbers.size
    rows = list(Value(numbers))
    assert [r.shape for r in rows] == [(3,), (3,)]


@pytest.mark.parametrize("pick", [sorted, lambda xs: [max(xs)], lambda xs: [min(xs)],
                                  lambda xs: [statistics.median(xs)], lambda xs: [math.prod(xs)],
                                  lambda xs: [sum(xs, 10.0)]])
def test_builtins_over_lists_of_values_keep_the_graph(pick):
    numbers = np.array([0.7, -1.3, 2.2, 0.1])

    def f(x):
        picked = pick(list(x))
        return sum(k * p for k, p in enumerate(picked, 1))

    analytic = Value(numbers)
    f(analytic).backward()
    numeric, = numerical_gradient(f, numbers)
    np.testing.assert_allclose(analytic.grad, numeric, atol=1e-6)
    assert np.abs(analytic.grad).sum() > 0  # the graph was kept: some gradient arrived


@given(x=positive, exponent=st.sampled_from([-2, -1, -0.5, 1 / 3, 0.5, 2, 3, 2.5]))
def test_powers_with_negative_and_fractional_exponents_match_finite_differences(x, exponent):
    v = Value(x)
    out = pow(v, exponent)
    assert out.item() == pytest.approx(x ** exponent, rel=1e-12)
    out.backward()
    assert v.grad == pytest.approx(exponent * x ** (exponent - 1), rel=1e-9)


@given(base=positive, exponent=finite)
def test_value_exponents_differentiate_in_base_and_exponent(base, exponent):
    check_gradients(lambda a, b: a ** b, base, exponent)  # (raises where an element disagrees)
    check_gradients(lambda b: 2.0 ** b, exponent)
    check_gradients(lambda b: np.float64(base) ** b, exponent)


def test_numpy_functions_on_values_keep_the_graph():
    numbers = np.array([0.4, -1.1, 2.3])
    for f, derivative in [(lambda x: np.sum(np.exp(x)), np.exp(numbers)),
                          (lambda x: np.sum(np.power(x, 3)), 3 * numbers ** 2),
                          (lambda x: np.mean(np.abs(x)), np.sign(numbers) / 3),
                          (lambda x: np.sum(np.tanh(x)), 1 - np.tanh(numbers) ** 2)]:
        x = Value(numbers)
        out = f(x)
        assert isinstance(out, Value)
        out.backward()
        np.testing.assert_allclose(x.grad, derivative, rtol=1e-12)


@pytest.mark.parametrize("convert", [np.asarray, np.array, np.float32])
def test_numpy_conversions_refuse_rather_than_drop_the_graph(convert):
    with pytest.raises(TypeError, match="not converted to a numpy array"):
        convert(Value(2.5))


def test_copy_of_a_computed_value_keeps_its_graph():
    x = Value(np.array([0.3, -1.5]))
    twin = copy.copy(x * 2.0)
    (twin ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, 8 * x.data)


def test_math_functions_are_numbers_outside_the_graph_as_documented():
    x = Value(0.7)
    (x * math.exp(x)).backward()  # the README: math.exp(x) is a constant to backward
    assert x.grad == pytest.approx(math.exp(0.7), rel=1e-12)
    with pytest.raises(GradientCheckError):  # and check_gradients finds the slip
        check_gradients(lambda x: x * math.exp(x), 0.7)
