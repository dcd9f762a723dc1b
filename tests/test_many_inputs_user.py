"""An engineer who builds Values from many pieces: F.stack and F.concatenate of thousands of scalars (a student's
per-sample costs, a layer written neuron by neuron), sum() of a long list, np.sum of an object array of Values, and
the same under create_graph=True.  Work is counted (arguments handed to vjps, characters of a message), not timed."""

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, no_grad, viz
from tinygrad_edu.engine import backward_order
from tinygrad_edu.testing import check_gradients


def _vjp_arguments(run) -> int:
    """How many inputs ``run()`` hands to the vjps of joins (``vjp(g, out, *inputs)``: all of its op's inputs)."""
    handed = 0

    def count(frame, event, arg):
        nonlocal handed
        code = frame.f_code
        if event == "call" and code.co_name == "vjp" and code.co_filename.endswith("ops.py"):
            handed += len(frame.f_locals.get("inputs", ()))

    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(None)
    return handed


def _scalars(n: int) -> list[Value]:
    return [Value(float(i) / n - 0.5) for i in range(n)]


def _join_scalars(join, xs):
    return F.stack(xs) if join == "stack" else F.concatenate([x.reshape(1) for x in xs])


# --- defects ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("join", ["stack", "concatenate"])
def test_the_backward_pass_of_a_join_of_many_values_does_work_linear_in_their_number(join, create_graph) -> None:
    handed = {}
    for n in (500, 2000):
        xs = _scalars(n)
        cost = (_join_scalars(join, xs) ** 2).sum()
        handed[n] = _vjp_arguments(lambda cost=cost: cost.backward(create_graph=create_graph))
        grads = [float(x.grad.data if create_graph else x.grad) for x in xs]
        np.testing.assert_allclose(grads, [2 * x.item() for x in xs], rtol=1e-15)  # d(Σ x²)/dx = 2x
    assert handed[2000] < 6 * handed[500], handed  # four times the inputs: about four times the work (n²: 16)


@pytest.mark.parametrize("join", [F.stack, F.concatenate])
def test_the_error_of_a_join_of_thousands_of_values_is_short_and_names_the_shapes(join) -> None:
    values = [Value([1.0]) for _ in range(16000)] + [Value([[1.0, 2.0]])]
    with pytest.raises(ValueError) as error:
        join(values)
    message = str(error.value)
    assert len(message) < 600, len(message)
    assert message.startswith(join.__name__ + ":")
    assert "(1,)" in message and "(1, 2)" in message and "16000" in message


# --- guards ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [5, 33, 100, 1100])
@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_a_join_of_many_values_of_mixed_dtypes_gives_numpys_numbers_to_the_bit(n, axis) -> None:
    rng = np.random.default_rng(n)
    pieces, arrays = [], []
    for i in range(n):
        numbers = rng.normal(size=(2, 3))
        if i % 7 == 3:  # a constant array among them, float32 or float64
            array = numbers.astype(np.float32 if i % 2 else np.float64)
            pieces.append(array)
            arrays.append(array)
        else:
            dtype = np.float32 if i % 5 == 0 else np.float64
            pieces.append(Value(numbers.astype(dtype)))
            arrays.append(numbers.astype(dtype))
    joined = F.concatenate(pieces, axis=axis)
    expected = np.concatenate(arrays, axis=axis)
    assert joined.dtype == expected.dtype
    np.testing.assert_array_equal(joined.data, expected, strict=True)
    if axis is not None:
        stacked = F.stack(pieces, axis=axis)
        np.testing.assert_array_equal(stacked.data, np.stack(arrays, axis=axis), strict=True)


@pytest.mark.parametrize("n", [5, 40, 3000])
def test_python_numbers_in_a_long_join_take_numpys_dtype_of_all_the_values(n) -> None:
    xs = [Value(np.float32(i)) for i in range(n)]
    pieces = [*xs[: n // 2], 0.1, *xs[n // 2:], Value(np.float64(2.5))]  # a float64 Value last: the result is float64
    stacked = F.stack(pieces)
    assert stacked.dtype == np.float64
    assert stacked.data[n // 2] == 0.1  # 0.1 itself (a float64 among them), as in one join and in np.stack
    (stacked * np.arange(n + 2.0)).sum().backward()
    assert [x.grad.dtype for x in xs[:2]] == [np.float32, np.float32]
    weights = np.concatenate([np.arange(n // 2), np.arange(n // 2 + 1, n + 1)])  # (0.1 took place n // 2)
    np.testing.assert_array_equal([x.grad for x in xs], weights)


@pytest.mark.parametrize("n", [40, 1000])
def test_gradients_of_a_long_stack_match_the_closed_form_at_first_and_second_order(n) -> None:
    rng = np.random.default_rng(n)
    xs = [Value(rng.normal(size=2)) for _ in range(n)]
    w = rng.normal(size=(2, n))
    cost = (w * F.stack(xs, axis=1) ** 3).sum()  # ∂/∂x_i = 3 w_i x_i², ∂²/∂x_i² = 6 w_i x_i
    cost.backward(create_graph=True)
    for i, x in enumerate(xs):
        np.testing.assert_allclose(x.grad.data, 3 * w[:, i] * x.data ** 2, rtol=1e-12)
    slopes = sum(x.grad.sum() for x in xs)
    for x in xs:
        x.zero_grad()
    slopes.backward()
    for i, x in enumerate(xs):
        np.testing.assert_allclose(x.grad, 6 * w[:, i] * x.data, rtol=1e-12)


def test_gradients_of_a_long_concatenation_match_central_differences_to_second_order() -> None:
    rng = np.random.default_rng(7)
    inputs = [rng.normal(size=(1, 2)) for _ in range(36)]  # more than one join takes

    def f(*xs):
        joined = F.concatenate(xs, axis=None)
        ends = F.concatenate([xs[0], xs[-1]], axis=1)
        return (joined.tanh() * joined).sum() + ends[0, 0] * ends[0, 3]

    report = check_gradients(f, *inputs, order=2)  # (raises where a derivative disagrees)
    assert len(report.max_abs_error) == 36


@given(n=st.integers(1, 120), axis=st.integers(-2, 1))
def test_a_stack_of_any_length_gives_each_value_its_own_slice_of_the_gradient(n, axis) -> None:
    xs = [Value(np.array([i, -i], dtype=float)) for i in range(n)]
    upstream = np.arange(2.0 * n).reshape((n, 2) if axis in (0, -2) else (2, n)) + 1
    stacked = F.stack(xs, axis=axis)
    np.testing.assert_array_equal(stacked.data, np.stack([x.data for x in xs], axis=axis))
    stacked.backward(grad=upstream)
    for i, x in enumerate(xs):
        np.testing.assert_array_equal(x.grad, upstream[i] if axis in (0, -2) else upstream[:, i])


@pytest.mark.parametrize("join", [F.stack, F.concatenate])
def test_a_long_join_refuses_what_one_join_refuses_with_the_same_words(join) -> None:
    bad = [[Value([1.0]) for _ in range(40)] + [Value([[1.0, 2.0]])],  # shapes (and dimensions) differ
           [Value([1.0]) for _ in range(40)] + ["text"]]  # not a number
    for values in bad:
        with pytest.raises((ValueError, TypeError)) as recorded:
            join(values)
        with no_grad(), pytest.raises(type(recorded.value)) as one_join:  # nothing recorded: one join of them all
            join(values)
        assert str(recorded.value) == str(one_join.value)
        assert str(recorded.value).startswith(join.__name__ + ":")
    with pytest.raises(ValueError, match="axis 3"):
        join([Value([1.0]) for _ in range(40)], axis=3)


def test_a_stack_of_a_handful_of_values_is_one_operation_with_them_as_its_inputs() -> None:
    xs = [Value(float(i), label=f"x{i}") for i in range(5)]
    stacked = F.stack(xs)
    assert stacked.op == "stack" and all(p is x for p, x in zip(stacked.parents, xs, strict=True))
    source = viz.draw_graph(stacked.sum()).source
    assert source.count("stack") == 1 and all(f"x{i}" in source for i in range(5))


def test_a_stack_of_many_values_is_a_shallow_tree_of_joins_of_a_few_tens() -> None:
    xs = _scalars(5000)
    stacked = F.stack(xs)
    widest, depth, level = 0, 0, [stacked]
    while level:
        joins = [v for v in level if v.op in ("stack", "concatenate")]
        widest = max([widest, *(len(v.parents) for v in joins)])
        depth += bool(joins)
        level = [p for v in joins for p in v.parents]
    assert widest <= 64 and depth <= 4, (widest, depth)
    assert {id(v) for v in backward_order(stacked)} >= {id(x) for x in xs}


def test_sum_of_a_long_list_and_its_second_derivative_need_no_recursion() -> None:
    xs = _scalars(10000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # a recursive walk of a chain of 10,000 additions would fail here
    try:
        total = sum(x * x for x in xs)
        total.backward(create_graph=True)
        slopes = sum(x.grad for x in xs[:3])  # 2x₀ + 2x₁ + 2x₂
        for x in xs:
            x.zero_grad()
        slopes.backward()
        order = backward_order(total)
    finally:
        sys.setrecursionlimit(limit)
    assert [x.grad.item() for x in xs[:3]] == [2.0, 2.0, 2.0] and xs[3].grad is None  # d(2x₀ + 2x₁ + 2x₂)/dx
    assert len(order) > 10000


def test_np_sum_of_an_object_array_of_values_and_the_mean_of_a_stack_are_in_the_graph() -> None:
    xs = _scalars(3000)
    costs = np.empty(len(xs), dtype=object)
    for i, x in enumerate(xs):
        costs[i] = x * x
    np.sum(costs).backward()
    np.testing.assert_allclose([x.grad.item() for x in xs], [2 * x.item() for x in xs], rtol=1e-15)
    for x in xs:
        x.zero_grad()
    F.stack([x * x for x in xs]).mean().backward()
    np.testing.assert_allclose([x.grad.item() for x in xs], [2 * x.item() / 3000 for x in xs], rtol=1e-12)


def test_numpy_on_a_list_of_values_says_what_keeps_the_graph() -> None:
    """np.sum(list of Values) is refused; the advice was .data only, which drops the graph the student wanted."""
    values = [Value(1.0), Value(2.0)]
    for call in (np.sum, np.mean):
        with pytest.raises(TypeError, match=r"sum\(values\), functional\.stack\(values\)"):
            call(values)
    total = sum(values)
    total.backward()
    assert [v.grad for v in values] == [1.0, 1.0]
