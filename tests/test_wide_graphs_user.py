"""Wide graphs of scalars, found by an exploratory pass as an engineer who builds them: sums of 10,000 scalar Values
(sum(), functools.reduce, +=), one Value used by 10,000 operations, written-out dot products, polynomials by Horner
and term by term, and micrograd-style MLPs with one Value per weight.

Defect (xfail, strict):
- draw_graph of a graph where one Value is used by every step of a long chain (x in a Horner polynomial) kept
  Graphviz's ``dot`` busy for half a minute to minutes at the default max_nodes (its placing of the nodes grows
  steeply with that Value's many-ranks-long edges), so a notebook showing it hung and ``render`` waited for minutes.
"""

import functools
import operator
import random
import shutil
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, optim, viz
from tinygrad_edu.testing import numerical_gradient

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _calls(run) -> int:
    """How many function calls ``run()`` makes: Python's (generators' steps included) and built-in ones."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event in ("call", "c_call")

    previous = sys.getprofile()  # (a profiler or debugger of the user's keeps running after the count)
    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(previous)
    return calls


def _horner(coefficients: np.ndarray, x: Value) -> Value:
    """c₀ + x(c₁ + x(c₂ + …)): x is used by every step of the chain."""
    total = x * 0.0 + float(coefficients[-1])
    for c in coefficients[-2::-1]:
        total = total * x + float(c)
    return total


# --- the defect -------------------------------------------------------------------------------------------------
@needs_dot
def test_the_drawing_of_a_value_used_by_every_step_of_a_long_chain_is_laid_out_in_seconds(tmp_path) -> None:
    coefficients = np.random.default_rng(0).normal(size=101)
    polynomial = _horner(coefficients, Value(0.7, label="x"))
    polynomial.backward()
    drawing = viz.draw_graph(polynomial)  # (the default 150 Values nearest the output: x is used by 50 of them)
    # a second or so here (two runs at once on two busy cores), 35-45 s before the fix: 20 s tells them apart on a
    # slower or busier machine too, where 5 s left too little room
    path = viz.render(drawing, tmp_path / "horner.svg", timeout=20)
    assert path.read_text(encoding="utf-8").count("<g id=\"node") > 100


# --- guards: what building wide graphs of scalars relies on -------------------------------------------------
def _plus_equals(xs: list[Value]) -> Value:
    total = Value(0.0, requires_grad=False)
    for x in xs:
        total += x
    return total


@pytest.mark.parametrize("add_up", [sum, lambda xs: functools.reduce(operator.add, xs), _plus_equals],
                         ids=["sum", "reduce", "plus_equals"])
def test_a_sum_of_ten_thousand_scalars_gives_every_one_gradient_one_without_recursion(add_up) -> None:
    xs = [Value(i / 7.0) for i in range(10_000)]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(300)  # a recursive walk of 10,000 additions would fail here
    try:
        total = add_up(xs)
        total.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert total.item() == pytest.approx(sum(i / 7.0 for i in range(10_000)), rel=1e-12)
    assert all(x.grad.item() == 1.0 for x in xs)


def test_sum_with_a_value_start_gives_the_start_its_gradient_and_an_int_start_keeps_float32() -> None:
    xs = [Value(np.float32(i)) for i in range(1, 5)]
    start = Value(np.float32(10.0))
    total = sum((x * x for x in xs), start)
    total.backward()
    assert total.item() == 10.0 + 1 + 4 + 9 + 16 and start.grad.item() == 1.0
    assert [x.grad.item() for x in xs] == [2.0, 4.0, 6.0, 8.0]
    assert sum(xs).dtype == np.float32  # Python's int 0 start adapts, as a Python number does
    assert sum([]) == 0  # (an empty list: Python's own start, no Value)


def test_backward_through_a_sum_does_work_linear_in_the_number_of_terms() -> None:
    calls = {}
    for n in (2000, 4000):
        xs = [Value(float(i)) for i in range(n)]
        total = sum(x * x for x in xs)
        calls[n] = _calls(total.backward)
        assert [x.grad.item() for x in xs[:3]] == [0.0, 2.0, 4.0]
    assert calls[4000] < 2.5 * calls[2000], calls  # twice the terms, about twice the work (n²: four times)


def test_a_value_used_by_ten_thousand_operations_sums_their_gradients_exactly() -> None:
    w = Value(0.7)
    total = sum(w * float(i) for i in range(10_000))
    calls = _calls(total.backward)
    assert w.grad.item() == 10_000 * 9_999 / 2  # Σ i, exact in float64
    assert calls < 40 * 20_000  # a few dozen calls per operation, not one per pair of them


def test_a_written_out_dot_product_of_a_thousand_pairs_has_the_other_vector_as_its_gradient() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=1000), rng.normal(size=1000)
    xs, ys = [Value(v) for v in a], [Value(v) for v in b]
    dot = sum(x * y for x, y in zip(xs, ys, strict=True))
    dot.backward()
    assert dot.item() == pytest.approx(float(a @ b), rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal([x.grad.item() for x in xs], b)
    np.testing.assert_array_equal([y.grad.item() for y in ys], a)


@given(st.lists(st.floats(-2, 2), min_size=1, max_size=40), st.floats(-1.2, 1.2))
def test_horner_and_term_by_term_give_the_closed_form_first_and_second_derivative(coefficients, at) -> None:
    c = np.array(coefficients)
    want = [np.polynomial.polynomial.polyval(at, np.polynomial.polynomial.polyder(c, k)) for k in (0, 1, 2)]
    for evaluate in (lambda x: _horner(c, x), lambda x: sum(float(ck) * x ** k for k, ck in enumerate(c))):
        x = Value(at)
        y = evaluate(x)
        y.backward(create_graph=True)
        slope = x.grad
        x.zero_grad()
        if slope.requires_grad:  # (a constant or linear polynomial: its slope is a constant)
            slope.backward()
        got = [y.item(), slope.item(), 0.0 if x.grad is None else x.grad.item()]
        # rounding: a few ulps of the sum of the terms' sizes, Σ|c_k|·|x|^k for each derivative
        sizes = [np.polynomial.polynomial.polyval(abs(at), np.abs(np.polynomial.polynomial.polyder(c, k))) + 1.0
                 for k in (0, 1, 2)]
        for g, w, size in zip(got, want, sizes, strict=True):
            assert abs(g - w) <= 1e-13 * len(c) * size, (got, want)


class _Neuron:
    def __init__(self, inputs: int, rng: random.Random, nonlinear: bool) -> None:
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(inputs)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: list) -> Value:
        z = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return z.tanh() if self.nonlinear else z


def _scalar_mlp(sizes: list[int], seed: int) -> tuple[list[list[_Neuron]], list[Value]]:
    rng = random.Random(seed)
    layers = [[_Neuron(sizes[i], rng, i < len(sizes) - 2) for _ in range(sizes[i + 1])] for i in range(len(sizes) - 1)]
    params = [p for layer in layers for neuron in layer for p in (*neuron.w, neuron.b)]
    return layers, params


def _mlp_cost(layers: list[list[_Neuron]], samples: np.ndarray, targets: np.ndarray) -> Value:
    total = 0
    for x, y in zip(samples, targets, strict=True):
        out: list = [float(v) for v in x]
        for layer in layers:
            out = [neuron(out) for neuron in layer]
        total = total + (out[0] - float(y)) ** 2
    return total / len(samples)


def test_a_micrograd_style_mlp_of_hundreds_of_scalars_gets_finite_difference_gradients_and_trains() -> None:
    layers, params = _scalar_mlp([3, 12, 12, 1], seed=0)
    assert len(params) == 3 * 12 + 12 + 12 * 12 + 12 + 12 + 1  # 217 Values, one per weight
    rng = np.random.default_rng(0)
    samples = rng.uniform(-1, 1, (6, 3))
    targets = np.sign(samples.sum(axis=1))
    cost = _mlp_cost(layers, samples, targets)
    cost.backward()
    analytic = np.array([p.grad.item() for p in params])
    picked = list(range(0, len(params), 23))  # a few weights of every layer, against central differences

    def cost_at(*numbers: float) -> float:
        saved = [params[i].data.copy() for i in picked]
        for i, number in zip(picked, numbers, strict=True):
            params[i].data = number
        value = _mlp_cost(layers, samples, targets).item()
        for i, old in zip(picked, saved, strict=True):
            params[i].data = old
        return value

    numeric = numerical_gradient(cost_at, *[params[i].data.item() for i in picked])
    np.testing.assert_allclose(analytic[picked], [g.item() for g in numeric], rtol=1e-6, atol=1e-9)
    assert optim.gradient_norm(params) == pytest.approx(float(np.linalg.norm(analytic)), rel=1e-12)
    adam = optim.Adam(params, learning_rate=0.05)
    first = cost.item()
    for _ in range(5):
        adam.zero_grad()
        assert all(p.grad is None for p in params)
        cost = _mlp_cost(layers, samples, targets)
        cost.backward()
        adam.step(cost=cost)
    assert _mlp_cost(layers, samples, targets).item() < first


def test_gradient_norm_and_zero_grad_of_many_scalar_parameters_do_work_linear_in_their_number() -> None:
    calls = {}
    for n in (3000, 6000):
        params = [Value(float(i)) for i in range(n)]
        sum(p * p for p in params).backward()
        opt = optim.GradientDescent(params, learning_rate=0.1)
        norm = 0.0

        def run(params=params, opt=opt) -> None:
            nonlocal norm
            norm = optim.gradient_norm(params)
            opt.zero_grad()

        calls[n] = _calls(run)
        assert norm == pytest.approx(2 * np.sqrt(sum(i * i for i in range(n))), rel=1e-12)
        assert all(p.grad is None for p in params)
    assert calls[6000] < 2.5 * calls[3000], calls


def test_drawing_a_sum_of_ten_thousand_values_keeps_max_nodes_and_counts_the_rest() -> None:
    xs = [Value(float(i), label=f"x{i}") for i in range(10_000)]
    total = sum(xs)
    total.backward()
    source = viz.draw_graph(total).source
    assert source.count("[label=<") <= 150 + 1  # the Values kept (and the note)
    assert "more Values left out" in source
    with pytest.raises(ValueError, match="10000 labelled Values"):
        viz.draw_dependency_tree(total)
