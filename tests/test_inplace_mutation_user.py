"""An engineer who mutates things: arrays given to Value() and changed afterwards, parameters changed in place while
a graph recorded from them is alive, ``.grad`` changed between backward calls, and the arrays that state_dict(),
data.batches and custom Ops hand out or take in.  Gradients are checked against central differences or closed
forms."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, apply, data, nn, no_grad, optim

#: A straight-through estimator, as a custom Op's author writes it: the forward hands back the array it was given.
STRAIGHT_THROUGH = Op("straight_through", lambda x: x, lambda g, out, x: g)


# --- defects ---------------------------------------------------------------------------------------------------

def test_an_unrecorded_custom_op_result_has_numbers_of_its_own() -> None:
    w = Value([1.0, 2.0], label="w")
    with no_grad():
        y = apply(STRAIGHT_THROUGH, w)
        y -= 10.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    np.testing.assert_array_equal(y.data, [-9.0, -8.0])


def test_a_gradient_is_not_changed_through_a_custom_op_result_sharing_a_constant() -> None:
    w0, c0 = np.array([3.0, 4.0]), np.array([1.0, 2.0])
    w, c = Value(w0), Value(c0, requires_grad=False, label="c")
    k = apply(STRAIGHT_THROUGH, c)  # a leaf: c needs no gradient
    loss = (w * c).sum()
    with no_grad():
        k *= 100.0
    loss.backward()
    np.testing.assert_array_equal(c.data, c0)
    expected = central_difference(lambda v: float((v * c0).sum()), w0)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-7)


def test_the_data_property_says_it_is_shared_and_how_writes_are_seen() -> None:
    doc = inspect.getdoc(Value.data) or ""
    assert "shared" in doc.lower() and "v.data[0] = 1" in doc
    # what it says holds: the assigned array is the Value's, a step writes into it
    given_array = np.zeros(2)
    w = Value([5.0, 5.0])
    w.data = given_array
    with no_grad():
        w += 1.0
    np.testing.assert_array_equal(given_array, [1.0, 1.0])


def test_backward_docstring_names_the_writes_it_does_not_see() -> None:
    doc = inspect.getdoc(Value.backward) or ""
    assert "w.data[0] = 1" in doc and "not seen" in doc
    w = Value([1.0, 2.0])
    y = (w * w).sum()
    w.data[0] = 10.0  # (documented: not seen)
    y.backward()
    np.testing.assert_array_equal(w.grad, [20.0, 4.0])


# --- guards ------------------------------------------------------------------------------------------------------

def test_an_array_given_to_value_and_changed_afterwards_changes_nothing() -> None:
    given_array = np.array([1.0, -2.0, 3.0])
    w = Value(given_array)
    y = (w * w * w).sum()
    given_array[:] = 100.0
    y.backward()
    original = np.array([1.0, -2.0, 3.0])
    np.testing.assert_array_equal(w.data, original)
    np.testing.assert_allclose(w.grad, central_difference(lambda v: float((v ** 3).sum()), original), rtol=1e-6)


@pytest.mark.parametrize("change", ["-= under no_grad", "[...] = under no_grad", "micrograd's p.data += ...",
                                    "optimizer step", "load_state_dict"])
def test_every_seen_change_of_a_parameter_makes_the_old_graph_stale_and_keeps_gradients(change: str) -> None:
    layer = nn.Layer(2, 1, rng=1, activation="tanh")
    x = Value([[0.5, -1.0], [2.0, 0.25]], requires_grad=False)
    cost = (layer(x) ** 2).sum()
    cost.backward()
    before = layer.weights.grad.copy()
    state = layer.state_dict()
    if change == "-= under no_grad":
        with no_grad():
            layer.weights -= 0.1 * layer.weights.grad
    elif change == "[...] = under no_grad":
        with no_grad():
            layer.weights[0] = 0.0
    elif change == "micrograd's p.data += ...":
        layer.weights.data += -0.1 * layer.weights.grad
    elif change == "optimizer step":
        optim.SGD(layer, learning_rate=0.1, momentum=0.5).step(cost=cost)
    else:
        layer.load_state_dict(state)  # even the same numbers: the parameter was written
    with pytest.raises(ValueError, match="stale"):
        cost.backward()
    np.testing.assert_array_equal(layer.weights.grad, before)  # a backward that raises changes no gradient


def test_a_gradient_after_an_in_place_step_is_the_one_at_the_new_point() -> None:
    w = Value([0.3, -0.7])
    (w * w * w).sum().backward()
    with no_grad():
        w -= 0.5 * w.grad
    moved = w.data.copy()
    w.zero_grad()
    (w * w * w).sum().backward()
    np.testing.assert_allclose(w.grad, central_difference(lambda v: float((v ** 3).sum()), moved), rtol=1e-6)


def test_a_grad_changed_in_place_is_added_to_and_a_users_own_array_is_left_alone() -> None:
    w = Value([1.0, 2.0])
    (w * w).sum().backward()
    kept = w.grad
    kept *= 0.5  # the user halves the gradient in place: it is the leaf's own array
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    (w * w).sum().backward()  # accumulates onto what the user left
    np.testing.assert_allclose(w.grad, 0.5 * np.array([2.0, 4.0]) + central_difference(
        lambda v: float((v * v).sum()), np.array([1.0, 2.0])), rtol=1e-7)
    mine = np.array([10.0, 10.0])
    w.grad = mine
    (w * w).sum().backward()
    np.testing.assert_array_equal(mine, [10.0, 10.0])  # the user's array is not written into
    np.testing.assert_allclose(w.grad, [12.0, 14.0])


def test_state_dicts_are_copies_both_ways() -> None:
    model = nn.MLP([2, 3, 1], rng=0)
    reference = {name: array.copy() for name, array in model.state_dict().items()}
    for array in model.state_dict().values():
        array[...] = 123.0
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, reference[name])
    given_state = {name: array + 1.0 for name, array in reference.items()}
    model.load_state_dict(given_state)
    for array in given_state.values():
        array[...] = -7.0
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, reference[name] + 1.0)


def test_an_optimizer_state_dict_is_a_copy_both_ways() -> None:
    p = Value([1.0, -2.0])
    sgd = optim.SGD([p], learning_rate=0.1, momentum=0.9)
    sgd.step(lambda: (p * p).sum())
    saved = sgd.state_dict()
    velocity = saved["state.0.velocity"].copy()
    saved["state.0.velocity"][...] = 999.0
    np.testing.assert_array_equal(sgd.state_dict()["state.0.velocity"], velocity)
    resumed = optim.SGD([p], learning_rate=0.1, momentum=0.9)
    state = sgd.state_dict()
    resumed.load_state_dict(state)
    state["state.0.velocity"][...] = -5.0
    np.testing.assert_array_equal(resumed.state_dict()["state.0.velocity"], velocity)


@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_are_copies_of_the_callers_arrays(shuffle: bool) -> None:
    inputs, targets = np.arange(12.0).reshape(6, 2), np.arange(6.0)
    reference = inputs.copy(), targets.copy()
    first = next(iter(data.batches(inputs, targets, batch_size=4, shuffle=shuffle, seed=0)))
    kept = first[0].copy(), first[1].copy()
    first[0][...] = -1.0
    first[1][...] = -1.0
    np.testing.assert_array_equal(inputs, reference[0])
    np.testing.assert_array_equal(targets, reference[1])
    again = next(iter(data.batches(inputs, targets, batch_size=4, shuffle=shuffle, seed=0)))
    inputs[...] = 0.0  # the caller's arrays change after the batch was taken: the batch does not
    np.testing.assert_array_equal(again[0], kept[0])
    np.testing.assert_array_equal(again[1], kept[1])


@given(st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=4), st.floats(0.01, 0.5))
def test_in_place_steps_then_a_new_forward_pass_give_central_difference_gradients(start: list[float],
                                                                                  rate: float) -> None:
    w = Value(start)
    old = (w.tanh() * w).sum()
    old.backward()
    with no_grad():
        w -= rate * w.grad
    with pytest.raises(ValueError, match="stale"):
        old.backward()
    point = w.data.copy()
    w.zero_grad()
    (w.tanh() * w).sum().backward()
    expected = central_difference(lambda v: float((np.tanh(v) * v).sum()), point)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-5, atol=1e-8)
