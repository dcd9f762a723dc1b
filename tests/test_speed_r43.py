"""Round 43, the x² update's per-update path (issue 10): what its fast paths must not change.

``optim._parameters`` takes a list of distinct Values at once (fit's ‖∇C‖ of every batch), the gradients' finite
check sums them without ``ndarray.sum``'s wrapper, and the steps' ``no_grad`` and ``cost_with_gradient``'s
``enable_grad`` are blocks made once.  Each test here holds on the code before those changes and after them.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, enable_grad, is_grad_enabled, no_grad, optim
from tinygrad_edu.optim import cost_with_gradient


def _values(*shapes: tuple[int, ...]) -> list[Value]:
    return [Value(np.arange(1.0, 1.0 + np.prod(s)).reshape(s) / 7) for s in shapes]


# --- optim._parameters: a list of distinct Values, and everything else as before ---

def test_gradient_norm_of_a_list_counts_a_repeated_value_once() -> None:
    a, b = _values((2,), (3,))
    a.grad, b.grad = np.array([3.0, 4.0]), np.array([0.0, 0.0, 12.0])
    assert optim.gradient_norm([a, b, a]) == 13.0  # √(9 + 16 + 144), a counted once
    assert optim.gradient_norm([a, b]) == 13.0


def test_an_optimizer_keeps_its_own_copy_of_a_list_of_values() -> None:
    params = _values((2,), (3,))
    descent = optim.GradientDescent(params, 0.1)
    params.append(Value(np.zeros(4)))
    params[0] = Value(np.ones(2))
    assert len(descent.params) == 2 and descent.params[0] is not params[0]


def test_a_list_with_a_repeated_value_makes_an_optimizer_of_distinct_values() -> None:
    a, b = _values((2,), (3,))
    assert [id(p) for p in optim.SGD([a, b, a, b], 0.1).params] == [id(a), id(b)]


def test_a_list_holding_something_else_is_refused_as_before() -> None:
    a, = _values((2,))
    with pytest.raises(TypeError, match="gradient_norm: every parameter must be a Value, got ndarray"):
        optim.gradient_norm([a, np.zeros(2)])
    with pytest.raises(TypeError, match="named_parameters"):
        optim.gradient_norm([("w", a)])


def test_a_subclass_of_value_in_a_list_is_taken() -> None:
    class Weight(Value):
        pass

    w = Weight(np.array([1.0, 2.0]))
    w.grad = np.array([6.0, 8.0])
    assert optim.gradient_norm([w, w]) == 10.0
    assert optim.GradientDescent([w], 0.5).params[0] is w


# --- the gradients' finite check ---

def _stepped(grads: list[np.ndarray], dtype: type = np.float64) -> tuple[list[Value], list[np.ndarray]]:
    params = [Value(np.ones(g.shape, dtype)) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    return params, [p.data.copy() for p in params]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_gradient_not_finite_is_refused_and_nothing_changes(bad: float) -> None:
    grads = [np.zeros((2, 3)), np.array([1.0, bad]), np.ones(1)]
    params, before = _stepped(grads)
    with pytest.raises(FloatingPointError, match="GradientDescent.step: the gradient holds NaN or inf; the parameters "
                                                 r"are unchanged \(try a smaller learning rate\)"):
        optim.GradientDescent(params, 0.1).step()
    assert all(np.array_equal(p.data, b) for p, b in zip(params, before, strict=True))


def test_float32_gradients_whose_sum_exceeds_float32_are_finite() -> None:
    big = np.full(4, 3e38, np.float32)  # each finite; their float32 sum would be inf
    params, before = _stepped([big, big.copy()], np.float32)
    optim.GradientDescent(params, 1e-40).step()  # (a step of about 0: the check is what is tested)
    assert all(p.data.dtype == np.float32 for p in params)


def test_a_sum_that_overflows_from_finite_gradients_is_no_error() -> None:
    params, _ = _stepped([np.full(3, 1e308), np.full(2, 1e308)])  # Σ = inf in float64, every number finite
    with warnings.catch_warnings():  # (numpy's "overflow encountered in reduce", of the check's sum, as before)
        warnings.simplefilter("ignore", RuntimeWarning)
        optim.GradientDescent(params, 1e-300).step()
    assert all(np.isfinite(p.data).all() for p in params)


def test_a_gradient_that_is_not_contiguous_is_checked_and_used() -> None:
    g = np.arange(6.0).reshape(2, 3).T  # (3, 2), Fortran order
    params, before = _stepped([g])
    optim.GradientDescent(params, 0.5).step()
    np.testing.assert_array_equal(params[0].data, before[0] - 0.5 * g)
    h = np.arange(6.0).reshape(2, 3).T.copy()
    h[2, 1] = np.nan
    params, before = _stepped([h.T.copy().T])
    with pytest.raises(FloatingPointError):
        optim.GradientDescent(params, 0.5).step()


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=12), st.floats(0.01, 1.0))
def test_a_step_of_gradient_descent_is_p_minus_rate_times_g(numbers: list[float], rate: float) -> None:
    g = np.array(numbers)
    params, before = _stepped([g, g[::-1].copy()])
    optim.GradientDescent(params, rate).step()
    np.testing.assert_array_equal(params[0].data, before[0] - rate * g)
    np.testing.assert_array_equal(params[1].data, before[1] - rate * g[::-1])


def test_a_repeated_step_still_warns() -> None:
    params, _ = _stepped([np.ones(2)])
    descent = optim.GradientDescent(params, 0.1)
    descent.step()
    with pytest.warns(RuntimeWarning, match="hold the gradients the previous step used"):
        descent.step()


# --- the blocks made once: recording as each caller had it, nested, after errors, in threads ---

def test_cost_with_gradient_records_inside_no_grad_and_leaves_it_as_it_was() -> None:
    x = Value(np.array([3.0]))
    with no_grad():
        cost, number = cost_with_gradient(lambda: (x * x).sum(), [x], "example")
        assert not is_grad_enabled()
    assert number == 9.0 and x.grad.tolist() == [6.0]
    assert is_grad_enabled()


def test_cost_with_gradient_nested_in_its_own_closure() -> None:
    x, y = Value(np.array([2.0])), Value(np.array([5.0]))
    seen = []

    def outer() -> Value:
        with no_grad():
            _, inner = cost_with_gradient(lambda: (y * y * y).sum(), [y], "inner")
            seen.append(is_grad_enabled())
        seen.append(is_grad_enabled())
        return (x * x).sum()

    with no_grad():
        _, number = cost_with_gradient(outer, [x], "outer")
        seen.append(is_grad_enabled())
    assert seen == [False, True, False] and number == 4.0
    assert x.grad.tolist() == [4.0] and y.grad.tolist() == [75.0]  # d(y³)/dy = 3y² = 75
    assert is_grad_enabled()


def test_a_closure_that_raises_leaves_the_mode_as_it_was() -> None:
    x = Value(np.array([1.0]))

    def failing() -> Value:
        raise KeyError("boom")

    with no_grad():
        with pytest.raises(KeyError):
            cost_with_gradient(failing, [x], "example")
        assert not is_grad_enabled()
        with enable_grad():
            with pytest.raises(KeyError):
                cost_with_gradient(failing, [x], "example")
            assert is_grad_enabled()
    assert is_grad_enabled()


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.5),
                                  lambda p: optim.Adam(p, 0.1)])
def test_a_step_leaves_recording_as_it_found_it(make: object) -> None:
    x = Value(np.array([1.0, -2.0]))
    step = make([x])  # type: ignore[operator]
    for outer in (no_grad, enable_grad):
        with outer():
            step.step(lambda: (x * x).sum())
            assert is_grad_enabled() is (outer is enable_grad)
    assert is_grad_enabled()
    x.grad = np.array([np.nan, 0.0])
    with pytest.raises(FloatingPointError):
        step.step()
    assert is_grad_enabled()


def test_steps_in_threads_at_once_each_record_their_own_cost() -> None:
    errors: list[BaseException] = []
    results: list[float] = []

    def train(seed: int) -> None:
        try:
            rng = np.random.default_rng(seed)
            w = Value(rng.normal(size=3))
            descent = optim.GradientDescent([w], 0.1)
            for _ in range(200):
                descent.step(lambda: (w * w).sum())
                if not is_grad_enabled():
                    raise AssertionError("recording off after a step")
            results.append(float((w.data ** 2).sum()))
        except BaseException as error:  # noqa: BLE001  (reported by the main thread)
            errors.append(error)

    threads = [threading.Thread(target=train, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    assert all(0 <= r < 1e-30 for r in results)  # (each step w ← 0.8·w: Σw² → 0)
