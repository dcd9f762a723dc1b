"""A final review of this round's changes to the lower modules (a493870..): the advice for np.logaddexp, the
list-as-axis check of the reductions (moved off the hot path), the stale-graph advice, the NaN-skipping advice and
the var/std advice; the defect's test is marked xfail (strict), the guard tests pin what was checked by hand."""

import re

import numpy as np
import pytest

from tinygrad_edu import Value, functional, no_grad


def _written_instead(call) -> str:
    """The code a TypeError or AttributeError of ``call`` says to write, after "write " or "(here: ", up to the
    first comma that ends it."""
    with pytest.raises((TypeError, AttributeError)) as raised:
        call()
    text = str(raised.value)
    start = text.index("(here: ") + len("(here: ") if "(here: " in text else text.rindex("write ") + len("write ")
    return text[start:]


def _run(code: str, **values: Value) -> Value:
    return eval(code, {"np": np, "functional": functional}, values)  # noqa: S307 (the message's own code)


# --- defect: the np.logaddexp advice is not exact, as it says it is --------------------------------------------------

def test_the_np_logaddexp_advice_followed_is_exact_for_finite_numbers():
    a = Value(np.array([-1e10, 0.0, 3.0, 2.0]))
    b = Value(np.array([1.2345678901234, 800.0, 3.0, -1.0]))
    code = _written_instead(lambda: np.logaddexp(a, b)).split(", exact")[0]
    result = _run(code, a=a, b=b)
    np.testing.assert_allclose(result.data, np.logaddexp(a.data, b.data), rtol=1e-14, atol=0)
    result.sum().backward()  # d/da ln(eᵃ + eᵇ) = eᵃ / (eᵃ + eᵇ), a tie's halves too
    share = np.exp(a.data - np.logaddexp(a.data, b.data))
    np.testing.assert_allclose(a.grad, share, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(b.grad, 1 - share, rtol=1e-12, atol=1e-300)


# --- guards ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [[1], [], np.array([0, 1])])
def test_guard_a_listed_axis_is_refused_for_a_0d_value_and_an_empty_list_too(name, axis):
    """The refusal with the tuple to write holds for every list, also where numpy's own error came from elsewhere."""
    v = Value(np.arange(6.0).reshape(2, 3)) if len(axis) else Value(1.0)
    with pytest.raises(TypeError, match=rf"^{name}: axis must be an int or a tuple of ints, .*"
                                        rf"axis={re.escape(repr(tuple(np.asarray(axis).tolist())))}$"):
        getattr(v, name)(axis=axis)


def test_guard_the_stale_graph_advice_tells_a_cost_computed_before_the_change_from_one_after():
    w = Value([1.0, 2.0])
    cost = (w * w).sum()
    with no_grad():
        w -= 0.1
    with pytest.raises(ValueError, match=r"compute the cost again \(a new forward pass\)"):
        cost.backward()
    w = Value([1.0, 2.0])
    kept = w * 2.0  # (made before the step: a hidden state carried over)
    with no_grad():
        w -= 0.1
    with pytest.raises(ValueError, match=r"this output was computed after that change, but from a Value kept"):
        (kept * w).sum().backward()


def test_guard_the_np_nanmean_advice_along_an_axis_gives_numpys_numbers_and_no_nan_gradient():
    numbers = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, np.nan], [7.0, 8.0, 9.5]])
    v = Value(numbers)
    code = _written_instead(lambda: np.nanmean(v, axis=1)).split("; along an axis, ")[1].removesuffix(")")
    result = _run(code.replace("(axis)", "(1)"), v=v)
    np.testing.assert_allclose(result.data, np.nanmean(numbers, axis=1), rtol=1e-15)
    result.sum().backward()  # each observed number weighs 1 / (the row's count); a NaN nothing
    observed = ~np.isnan(numbers)
    np.testing.assert_array_equal(v.grad, observed / observed.sum(1, keepdims=True))


@pytest.mark.parametrize("name", ["var", "std"])
def test_guard_the_var_and_std_advice_along_an_axis_divides_by_n_then_by_n_minus_1(name):
    numbers = np.random.default_rng(3).normal(size=(4, 5))
    v = Value(numbers)
    text = _written_instead(lambda: getattr(v, name)(0))
    by_n = text.split("; along an axis, ")[1].split(" (keepdims")[0]
    unbiased = text.split("divides by n - 1: ")[1].split(", n the numbers")[0]
    np.testing.assert_allclose(_run(by_n.replace("axis", "0"), v=v).data, getattr(np, name)(numbers, axis=0))
    np.testing.assert_allclose(_run(unbiased.replace("axis", "0").replace("n - 1", "4 - 1"), v=v).data,
                               getattr(np, name)(numbers, axis=0, ddof=1))
