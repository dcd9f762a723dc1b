"""A numpy power user's dtype zoo: every dtype and array kind fed to Values, ops, costs, data, fit and optimizers.

The package refuses masked arrays with masked elements where a Value is made (``Value(m)``, ``v + m``,
``backward(m)``, ``grad(f)(m)``, ``check_gradients``, ``stationary_point``): ``np.asarray(m)`` would silently use the
numbers under the mask.  The xfail tests below are the places that still took them silently.  The guard tests pin
numpy's dtype rule, copies of arrays the caller later changes, and Python ints beyond int64.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, data, losses, nn, no_grad, optim
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.training import fit

MASKED_MESSAGE = "masked"


def _masked_vector() -> np.ma.MaskedArray:
    """[1, 2, 3] with the 2 masked: numpy's asarray keeps the 2."""
    return np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])


# ------------------------------------------------------------------------------------- masked arrays (defects)

def test_in_place_update_refuses_a_masked_array_and_leaves_the_leaf_as_it_was() -> None:
    w = Value([10.0, 20.0, 30.0])
    with no_grad(), pytest.raises(TypeError, match=f"sub in place.*{MASKED_MESSAGE}"):
        w -= _masked_vector()
    np.testing.assert_array_equal(w.data, [10.0, 20.0, 30.0])


def test_indexing_with_a_masked_array_is_refused() -> None:
    v = Value([1.0, 2.0, 3.0])
    key = np.ma.array([0, 2], mask=[False, True])
    with pytest.raises(TypeError, match=f"index.*{MASKED_MESSAGE}"):
        v[key]


def test_where_refuses_a_masked_condition() -> None:
    condition = np.ma.array([True, False], mask=[False, True])
    with pytest.raises(TypeError, match=f"where.*{MASKED_MESSAGE}"):
        F.where(condition, Value([1.0, 2.0]), 0.0)


@pytest.mark.parametrize("which", ["inputs", "targets"])
def test_fit_refuses_masked_inputs_and_targets(which: str) -> None:
    model = nn.MLP([1, 1], rng=0)
    inputs, targets = np.linspace(-1.0, 1.0, 3).reshape(-1, 1), np.ones((3, 1))
    before = [p.data.copy() for p in model.parameters()]
    arrays = {"inputs": inputs, "targets": targets}
    arrays[which] = np.ma.array(arrays[which], mask=[[False], [True], [False]])
    with pytest.raises(TypeError, match=f"fit: the {which}.*{MASKED_MESSAGE}"):
        fit(model, arrays["inputs"], arrays["targets"],
            optimizer=optim.GradientDescent(model.parameters(), learning_rate=0.1), episodes=1, progress=False)
    for p, old in zip(model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.data, old)


@pytest.mark.parametrize("function", ["one_hot", "batches", "train_test_split"])
def test_data_functions_refuse_masked_arrays(function: str) -> None:
    labels = np.ma.array([0, 1, 1], mask=[False, True, False])
    inputs = np.ma.array(np.arange(6.0).reshape(3, 2), mask=[[False, True], [False, False], [False, False]])
    calls = {"one_hot": lambda: data.one_hot(labels, classes=2),
             "batches": lambda: list(data.batches(inputs, np.arange(3.0), batch_size=2, shuffle=False)),
             "train_test_split": lambda: data.train_test_split(inputs, np.arange(3.0), test_fraction=0.34, seed=0)}
    with pytest.raises(TypeError, match=f"{function}.*{MASKED_MESSAGE}"):
        calls[function]()


def test_cross_entropy_refuses_masked_labels() -> None:
    labels = np.ma.array([0, 1, 1], mask=[False, True, False])
    with pytest.raises(TypeError, match=f"cross_entropy.*{MASKED_MESSAGE}"):
        losses.cross_entropy(Value(np.zeros((3, 2))), labels)


def test_load_state_dict_refuses_a_masked_entry_and_keeps_the_weights() -> None:
    model = nn.MLP([2, 1], rng=0)
    state = model.state_dict()
    before = {k: v.copy() for k, v in state.items()}
    name = next(iter(state))
    state[name] = np.ma.array(state[name] + 1.0, mask=np.ones(state[name].shape, dtype=bool))
    with pytest.raises(ValueError, match=f"load_state_dict: entry {name!r}.*{MASKED_MESSAGE}"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_armijo_step_refuses_a_masked_point() -> None:
    x = np.ma.array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match=f"armijo_step: x.*{MASKED_MESSAGE}"):
        optim.armijo_step(lambda p: float((p ** 2).sum()), x, np.array([2.0, 4.0]), sigma=1e-4, alpha=0.5)


# ------------------------------------------------------------------------------------------ guard tests

OPERAND_DTYPES = [np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_]


@given(st.sampled_from(OPERAND_DTYPES), st.sampled_from(["add", "sub", "mul", "matmul"]),
       st.sampled_from([np.float32, np.float64]))
def test_an_array_operand_follows_numpys_dtype_rule_and_numbers(operand_dtype: type, name: str, own: type) -> None:
    """Value(x) ∘ array gives numpy's dtype for x ∘ array (a float dtype) and numpy's numbers; the gradient has x's
    dtype and is the closed form (for matmul Σ_j c_ij per row: ∂Σ(x @ C)/∂x_i = Σ_j C_ij)."""
    x_numbers = np.array([[0.5, -1.5], [2.0, 0.25]], dtype=own)
    c = np.array([[1, 0], [1, 1]], dtype=operand_dtype)
    function = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "matmul": np.matmul}[name]
    expected = function(x_numbers, c)
    x = Value(x_numbers)
    out = function(x, c) if name != "matmul" else x @ c
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    closed = {"add": np.ones((2, 2)), "sub": np.ones((2, 2)), "mul": c.astype(np.float64),
              "matmul": np.broadcast_to(c.astype(np.float64).sum(axis=1), (2, 2))}[name]
    assert x.grad.dtype == own
    np.testing.assert_array_equal(x.grad, closed)


@pytest.mark.parametrize("scalar, dtype", [(np.float32(2.0), np.float32), (np.float64(2.0), np.float64),
                                           (np.int64(2), np.float64), (2.0, np.float32), (2, np.float32),
                                           (True, np.float32)])
def test_numpy_scalars_are_strong_and_python_numbers_weak_as_in_numpy(scalar: object, dtype: type) -> None:
    x = Value(np.array([1.5, -2.0], dtype=np.float32))
    assert (x * scalar).dtype == dtype == (x.data * scalar).dtype


@pytest.mark.parametrize("make", [
    lambda a: a[::-2],                                       # negative strides
    lambda a: np.asfortranarray(a.reshape(2, 3)),            # not C-contiguous
    lambda a: a.reshape(2, 3)[:, 1],                         # a strided view
    lambda a: a.astype(np.int8),                             # converted, then the int8 array changed
])
def test_a_value_keeps_its_numbers_when_the_given_array_is_changed_afterwards(make) -> None:
    base = np.arange(6.0)
    given_array = make(base)
    expected = np.array(given_array, dtype=np.float64)
    v = Value(given_array)
    base[:] = -7.0
    given_array[...] = 99
    np.testing.assert_array_equal(v.data, expected)
    (v * v).sum().backward()
    np.testing.assert_array_equal(v.grad, 2 * expected)


def test_a_read_only_array_becomes_a_leaf_that_no_grad_updates_can_change() -> None:
    frozen = np.array([1.0, 2.0])
    frozen.flags.writeable = False
    w = Value(frozen)
    with no_grad():
        w -= 0.5
    np.testing.assert_array_equal(w.data, [0.5, 1.5])
    np.testing.assert_array_equal(frozen, [1.0, 2.0])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.float16, np.bool_, np.float32])
def test_a_constant_changed_after_the_forward_pass_does_not_change_the_gradient(dtype: type) -> None:
    c = np.array([1, 0, 1], dtype=dtype)
    x = Value(np.array([0.5, 1.5, 2.5], dtype=np.float32))
    cost = (x * c).sum()
    expected = c.astype(np.float32)
    c[...] = 0
    cost.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, expected)


def test_python_ints_beyond_int64_are_floats_with_exact_gradients() -> None:
    big = 2 ** 70
    v = Value([big, 1])
    assert v.data.dtype == np.float64 and v.data[0] == float(big)
    w = Value(3.0)
    (w * big).backward()
    assert w.grad == float(big)
    with pytest.raises(ValueError, match="too large for a float"):
        Value(10 ** 400)


@pytest.mark.parametrize("dtype", [np.complex64, np.dtype("datetime64[D]"), np.dtype("timedelta64[s]"), object])
def test_arrays_that_are_not_real_numbers_are_refused_by_name(dtype: object) -> None:
    array = np.zeros(2, dtype=dtype) if dtype is not object else np.array([object(), object()])
    with pytest.raises(TypeError, match="Value: data of dtype"):
        Value(array)
    with pytest.raises(TypeError, match="mul: cannot use ndarray"):
        Value([1.0, 2.0]) * array


@pytest.mark.parametrize("start", [np.float32(0.7), np.array([0.7, -0.3], dtype=np.float32)])
def test_grad_and_hessian_of_float32_stay_float32_and_match_the_closed_form(start: object) -> None:
    def f(x: Value) -> Value:
        return (x ** 3).sum()

    numbers = np.asarray(start, dtype=np.float64)
    first, second = grad(f)(start), hessian(f)(start)
    assert first.dtype == second.dtype == np.float32
    np.testing.assert_allclose(first.data, 3 * numbers ** 2, rtol=1e-6)
    expected = np.diag(6 * numbers) if numbers.ndim else 6 * numbers
    np.testing.assert_allclose(second.data, expected, rtol=1e-6)
