"""An engineer feeding the package every kind of number numpy and Python have: object arrays of ints (a pandas
object column, ``np.array(labels, dtype=object)``), masked arrays and float16/longdouble in an optimizer's saved
state, strings and datetimes compared with a Value from numpy's side, complex numbers on either side of an
operator, unsigned and small integers and bools beside float32 Values.  Each must work with a documented dtype or
stop at once with a TypeError/ValueError naming the operation and the type at fault."""

from __future__ import annotations

import operator
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Value, data, fit, losses, nn, optim

LOGITS = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
LABELS = [0, 2]


def _cross_entropy_closed_form(logits: np.ndarray, labels: list[int]) -> tuple[float, np.ndarray]:
    """−(1/n) Σ ln softmax(z_s)[y_s] and its gradient (softmax − one-hot)/n, in plain numpy."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    onehot = np.zeros_like(logits)
    onehot[rows, labels] = 1.0
    return float(-np.log(softmax[rows, labels]).mean()), (softmax - onehot) / len(labels)


# --- defects (xfail strict: each fails on the code before the fix, for the reason given) --------------------------

@pytest.mark.parametrize("labels", [np.array(LABELS, dtype=object), np.array([[1, 0, 0], [0, 0, 1]], dtype=object)],
                         ids=["class indices", "one-hot rows"])
def test_cross_entropy_takes_object_arrays_of_int_labels_as_their_ints(labels: np.ndarray) -> None:
    logits = Value(LOGITS.copy())
    cost = losses.cross_entropy(logits, labels)
    cost.backward()
    expected, gradient = _cross_entropy_closed_form(LOGITS, LABELS)
    assert cost.item() == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(logits.grad, gradient, rtol=1e-12, atol=1e-15)


def test_one_hot_takes_an_object_array_of_int_labels_as_their_ints() -> None:
    assert data.one_hot(np.array([0, 2], dtype=object), 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]


def _sgd_state() -> dict[str, np.ndarray]:
    """The state of an SGD with momentum after one step (its velocity entry: ∇C = 2p)."""
    p = Value(np.array([1.0, -2.0]))
    opt = optim.SGD([p], learning_rate=0.1, momentum=0.9)
    opt.step(lambda: (p ** 2).sum())
    return opt.state_dict()


def test_an_optimizer_refuses_a_masked_entry_when_loading_and_keeps_its_state() -> None:
    state = _sgd_state()
    q = Value(np.array([1.0, -2.0]))
    opt = optim.SGD([q], learning_rate=0.1, momentum=0.9)
    before = opt.state_dict()
    masked = np.ma.array(state["state.0.velocity"], mask=[False, True])
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: 'state\.0\.velocity' is a masked array with "
                                         r"masked elements"):
        opt.load_state_dict({**state, "state.0.velocity": masked})
    assert opt.state_dict().keys() == before.keys()  # (no velocity was loaded)
    opt.step(lambda: (q ** 2).sum())  # and the optimizer still steps: v = ∇C = 2q, q − 0.1·v
    np.testing.assert_array_equal(q.data, [1.0 - 0.1 * 2.0, -2.0 + 0.1 * 4.0])


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
def test_an_optimizer_state_of_a_dtype_no_model_has_gets_no_advice_to_use_that_dtype(dtype: type) -> None:
    state = _sgd_state()
    opt = optim.SGD([Value(np.array([1.0, -2.0]))], learning_rate=0.1, momentum=0.9)
    wrong = r"'state\.0\.velocity' must have the shape \(2,\) and dtype float64"
    with pytest.raises(ValueError, match=wrong) as caught:
        opt.load_state_dict({**state, "state.0.velocity": state["state.0.velocity"].astype(dtype)})
    assert "load it into the model in" not in str(caught.value)
    with pytest.raises(TypeError, match="a Value holds float32 or float64"):  # (why: no model can be float16)
        Value(1.0).astype(dtype)


@pytest.mark.parametrize("other", [np.array(["a", "b"]), np.array(["2020-01-01"] * 2, "datetime64[D]")],
                         ids=["strings", "datetimes"])
def test_an_array_that_is_no_numbers_on_the_left_of_a_comparison_names_it_and_the_value(other: np.ndarray) -> None:
    v = Value([1.0, 2.0])
    with pytest.raises(TypeError) as caught:
        other < v  # noqa: B015  (the comparison is what is tested)
    assert type(caught.value) is TypeError  # (not numpy's UFuncTypeError subclass)
    message = str(caught.value)
    assert message.startswith("np.less: ") and "Value" in message and str(other.dtype) in message


# --- guards: what this user relies on that no other test pins ------------------------------------------------------

@pytest.mark.parametrize("operand", [1 + 2j, np.array([1j, 2.0]), np.complex64(1)], ids=["complex", "array",
                                                                                         "complex64"])
@pytest.mark.parametrize(("operator", "name"), [(operator.add, "add"), (operator.mul, "mul"), (operator.pow, "pow"),
                                                (operator.sub, "sub"), (operator.matmul, "matmul")])
def test_complex_numbers_on_either_side_of_an_operator_are_refused_by_operation_and_dtype(
        operand: object, operator: Callable[[object, object], object], name: str) -> None:
    v = Value([1.0, 2.0])
    for left, right in ((v, operand), (operand, v)):
        with pytest.raises(TypeError, match=rf"^{name}: cannot use .*complex"):
            operator(left, right)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint64, np.int8, np.bool_])
def test_unsigned_and_small_integer_data_do_not_wrap_around(dtype: type) -> None:
    v = Value(np.array([0, 1], dtype))
    assert v.dtype == np.float64
    np.testing.assert_array_equal((v - 2).data, [-2.0, -1.0])  # uint8 arithmetic would give 254, 255
    np.testing.assert_array_equal((-v).data, [0.0, -1.0])


@given(hnp.arrays(np.uint8, 3), hnp.arrays(np.float32, 3, elements=st.floats(-4, 4, width=32)))
def test_small_integer_arrays_beside_a_float32_value_keep_float32_and_exact_gradients(c: np.ndarray,
                                                                                      x0: np.ndarray) -> None:
    x = Value(x0)
    y = ((x - c) * c).sum()  # ∂y/∂x = c, exactly, in float32 (uint8 with float32 is float32: numpy's rule)
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, c.astype(np.float32))
    expected = ((x0.astype(np.float64) - c) * c).sum()
    assert float(y) == pytest.approx(expected, rel=1e-5, abs=1e-3)


@pytest.mark.parametrize("labels", [[0, 2 ** 80], np.array([0, 2 ** 63], dtype=object)], ids=["2**80", "2**63"])
def test_labels_beyond_int64_are_still_out_of_range_by_name(labels: object) -> None:
    with pytest.raises(ValueError, match=r"^cross_entropy: labels must lie in 0 … 2 for 3 classes, got "):
        losses.cross_entropy(Value(LOGITS), labels)
    with pytest.raises(ValueError, match=r"^one_hot: label \d+ is outside 0\.\.2"):
        data.one_hot(labels, 3)


def test_fit_converts_uint8_inputs_to_a_float32_models_dtype_as_documented() -> None:
    inputs = np.array([[0, 1], [1, 0], [1, 1], [0, 0]], np.uint8)
    targets = np.array([[1.0], [1.0], [0.0], [0.0]], np.float32)
    costs = []
    for given_inputs in (inputs, inputs.astype(np.float32)):
        model = nn.MLP([2, 3, 1], rng=0).float()
        opt = optim.GradientDescent(model, learning_rate=0.5)
        history = fit(model, given_inputs, targets, optimizer=opt, episodes=3, progress=False)
        assert all(p.dtype == np.float32 for p in model.parameters())
        costs.append(history.final_cost)
    assert costs[0] == costs[1]  # the same float32 numbers: uint8 inputs trained exactly as float32 ones
