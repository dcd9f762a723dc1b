"""What the comments and docstrings of engine.py, ops.py, autodiff.py and functional.py claim, checked against the
code: each test pins one claim that no other test pins, and that could silently become false.

Gradients are checked against central differences or closed forms; numpy's own functions give the expected numbers.
"""

import math
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, no_grad, ops
from tinygrad_edu.autodiff import grad, hvp
from tinygrad_edu.engine import backward_order

FINITE = st.floats(-30.0, 30.0, allow_nan=False)


def _advice(call) -> str:
    """The code a TypeError suggests after "write ", up to ", for" or the end."""
    with pytest.raises(TypeError) as raised:
        call()
    text = str(raised.value)
    assert "write " in text, text
    code = text[text.index("write ") + len("write "):]
    return code.split(", for")[0]


def _central(f, x: float, h: float = 1e-5) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


# --- defects ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, axis", [((2, 3), 1), ((3, 3, 2), 0), ((2, 3, 4), -1)], ids=["2-D axis 1",
                                                                                           "3-D axis 0", "3-D axis -1"])
def test_add_accumulate_advice_computes_numpys_running_sum_along_the_axis_given(shape, axis):
    numbers = np.arange(np.prod(shape), dtype=float).reshape(shape) ** 1.5
    v = Value(numbers)
    code = _advice(lambda: np.add.accumulate(v, axis=axis))
    result = eval(code, {"np": np, "v": v, "n": shape[axis]})  # noqa: S307
    np.testing.assert_allclose(getattr(result, "data", result), np.add.accumulate(numbers, axis=axis), rtol=1e-12)


# --- guards: formulas in ops.py's comments ----------------------------------------------------------------------

@given(FINITE)
def test_the_sigmoid_slopes_own_derivative_is_minus_slope_times_tanh_of_half_x(x):
    """ops.py: σ''(x) = σ'(x)(1 − 2σ(x)) = −σ'(x)·tanh(x/2), the vjp of sigmoid_slope; and (sech²)' = −2·sech²·tanh,
    the vjp of tanh_slope: both against central differences of the slopes themselves."""
    slope = lambda f: lambda t: float(f(np.asarray(t)))  # noqa: E731
    for op, closed in ((ops.sigmoid_slope, -ops._sigmoid_slope(np.asarray(x)) * np.tanh(x / 2)),
                       (ops.tanh_slope, -2 * ops._tanh_slope(np.asarray(x)) * np.tanh(x))):
        point = Value(x)
        op(point).backward()
        assert math.isclose(float(point.grad), float(closed), rel_tol=1e-12, abs_tol=1e-300)
        assert math.isclose(float(closed), _central(slope(op.forward), x), rel_tol=1e-5, abs_tol=1e-9)


def test_log_and_sqrt_have_slope_plus_infinity_at_minus_zero():
    """ops.py: the "+ 0.0" in the vjps of log and sqrt makes the slope at −0 +∞ (1/(−0) would be −∞)."""
    for method in ("log", "sqrt"):
        x = Value(-0.0)
        with np.errstate(divide="ignore"):
            getattr(x, method)().backward()
        assert float(x.grad) == math.inf, method


def test_a_condition_changed_after_where_changes_neither_the_result_nor_the_gradient():
    """ops.where's condition setting is copied, so changing the caller's mask later changes nothing."""
    mask = np.array([True, False, True])
    a, b = Value([1.0, 2.0, 3.0]), Value([10.0, 20.0, 30.0])
    out = F.where(mask, a * 2.0, b * 3.0)
    mask[:] = [False, True, False]
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [2.0, 60.0, 6.0])
    np.testing.assert_array_equal(a.grad, [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(b.grad, [0.0, 3.0, 0.0])


# --- guards: behavioural claims in engine.py --------------------------------------------------------------------

@pytest.mark.parametrize("combine", [lambda x: x + 1.25, lambda x: x - 1.25, lambda x: x * 1.25, lambda x: x / 1.25,
                                     lambda x: x ** 1.25, lambda x: 1.25 - x, lambda x: 1.25 / x, lambda x: 1.25 ** x],
                         ids=["+", "-", "*", "/", "**", "r-", "r/", "r**"])
def test_an_unrecorded_result_with_a_python_number_owns_writable_numbers(combine):
    """_shared_operand: a Python number's array is shared, read-only, by every use, and "no result is a read-only view
    of a shared number": so a result changed in place under no_grad changes neither the number nor later results."""
    with no_grad():
        for shape in ((), (3,)):
            x = Value(np.full(shape, 2.0))
            first = combine(x)
            expected = first.data.copy()
            assert first.data.flags.writeable
            first -= 1.0  # a leaf under no_grad: its own numbers change
            np.testing.assert_array_equal(first.data, expected - 1.0)
            np.testing.assert_array_equal(combine(Value(np.full(shape, 2.0))).data, expected)


def test_an_element_changed_in_place_under_no_grad_is_written_back_into_the_leaf():
    """_result's comment: an unrecorded w[0] gets numbers of its own, but ``w[0] += 1`` still changes w (Python writes
    the changed copy back with w[0] = …), and a graph recorded from w before is then stale."""
    w = Value([1.0, 2.0])
    cost = (w * w).sum()
    with no_grad():
        w[0] += 1.0
        part = w[1]
        part -= 5.0  # a copy: w is not changed
    np.testing.assert_array_equal(w.data, [2.0, 2.0])
    with pytest.raises(ValueError, match="stale"):
        cost.backward()


def test_math_floor_and_ceil_of_a_value_round_as_pythons():
    """math.floor(v), math.ceil(v), int, round and math.trunc each have their own member, rounding as Python's."""
    v = Value(-2.5)
    assert (math.floor(v), math.ceil(v), int(v), round(v), math.trunc(v)) == (-3, -2, -2, -2, -2)
    assert round(Value(2.675), 2) == round(2.675, 2)


def test_a_leaf_unpickled_in_its_own_process_shares_its_number_and_the_walk_still_takes_both():
    """_backpropagate's comment: two leaves may share a creation number (one unpickled where it was pickled); the walk
    breaks the tie by identity and gives each its own gradient."""
    a = Value(1.5, label="a")
    b = pickle.loads(pickle.dumps(a))
    y = a * 2.0 + b * 3.0
    assert {v.label for v in backward_order(y) if v.op is None} == {"a"}  # (b kept a's label: both found)
    assert len([v for v in backward_order(y) if v.op is None]) == 2
    y.backward()
    assert (float(a.grad), float(b.grad)) == (2.0, 3.0)


# --- guards: functional.py and autodiff.py ----------------------------------------------------------------------

@pytest.mark.parametrize("label, join, axis", [("concatenate", F.concatenate, 0),
                                               ("concatenate axis=None", F.concatenate, None),
                                               ("stack axis=-1", F.stack, -1)])
def test_one_value_with_a_gradient_among_many_arrays_is_joined_in_a_tree_with_the_same_numbers(label, join, axis):
    """concatenate/stack: more than _FAN_IN (32) inputs of a recorded join (here one Value needs a gradient) are joined
    in a tree of joins of at most 32: the same numbers as one join, and the one Value's gradient."""
    rng = np.random.default_rng(5)
    arrays = [rng.normal(size=(2, 3)) for _ in range(70)]
    w = Value(rng.normal(size=(2, 3)))
    values = [*arrays[:40], w, *arrays[40:]]
    out = join(values, axis=axis)
    with no_grad():
        one = join(values, axis=axis)
    assert out.op == "concatenate"
    np.testing.assert_array_equal(out.data, one.data)
    assert max(len(node.parents) for node in backward_order(out)) <= F._FAN_IN
    weights = rng.normal(size=out.shape)
    (out * weights).sum().backward()
    w_part = {"concatenate": lambda: weights[80:82], "concatenate axis=None": lambda: weights[240:246].reshape(2, 3),
              "stack axis=-1": lambda: weights[..., 40]}[label]
    np.testing.assert_array_equal(w.grad, w_part())


def test_transforms_leave_the_grad_of_a_computed_value_that_f_uses_as_it_was():
    """autodiff: "Nothing is mutated": the .grad of a computed Value of the caller's that f uses (and of its leaf) is
    the same after grad and hvp as before."""
    w = Value([1.0, 2.0])
    c = w * 2.0
    (c * c).sum().backward()
    c_grad, w_grad = c.grad.copy(), w.grad.copy()
    slope = grad(lambda x: (x * x * c).sum())([1.0, 3.0])
    product = hvp(lambda x: (x * x * c).sum(), [1.0, 3.0], [1.0, -1.0])
    np.testing.assert_array_equal(slope.data, 2 * np.array([1.0, 3.0]) * c.data)  # ∂/∂x (x²·c) = 2xc
    np.testing.assert_array_equal(product.data, 2 * c.data * np.array([1.0, -1.0]))  # H = diag(2c)
    np.testing.assert_array_equal(c.grad, c_grad)
    np.testing.assert_array_equal(w.grad, w_grad)
