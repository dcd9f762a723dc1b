"""The error messages and warnings added or changed in round 36's late commits (4e84e0b..), read by a student who has
never seen the code: each triggered as a user would, its facts checked against numpy or PyTorch and its advice run as
written.  Found by an exploratory pass in the role of a reader of the round's late messages; each marked test fails
before its fix."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, viz


def _message(action: Callable[[], object], kind: type[Exception] = Exception) -> str:
    with pytest.raises(kind) as caught:
        action()
    return str(caught.value)


def _key(cost: Value) -> str:
    """The key under draw_graph's drawing of ``cost`` (its graph label), without its no-break spaces."""
    return viz.draw_graph(cost).source.split('label="', 1)[1].split('" labelloc', 1)[0].replace("\xa0", "")


def _two_layer_cost() -> tuple[nn.Network, Value]:
    net = nn.Network(nn.Layer(2, 2, rng=0), nn.Layer(2, 1, rng=1))
    return net, losses.squared_error(net(np.array([[0.5, -0.3]])), np.array([[0.25]]))


# --- defect: clamp_min's and clamp_max's advice said PyTorch passes all of the gradient at the bound ----------------

@pytest.mark.parametrize(("name", "bound"), [("clamp_min", "low"), ("clamp_max", "high")])
def test_clamp_min_and_max_advice_gives_a_formula_with_pytorchs_gradient_at_the_bound(name: str, bound: str) -> None:
    torch = pytest.importorskip("torch")
    data = np.array([-0.5, 0.0, 0.25, 1.0, 1.5])  # the bound 0.0 (clamp_min) or 1.0 (clamp_max) hit exactly
    limit = 0.0 if name == "clamp_min" else 1.0
    theirs = torch.tensor(data, requires_grad=True)
    getattr(theirs, name)(limit).sum().backward()
    message = _message(lambda: getattr(Value(data), name), AttributeError)
    formulas = re.findall(r"functional\.where\([^()]*\)", message)
    assert formulas, message  # a formula of PyTorch's gradient at the bound
    for formula in formulas:
        v = Value(data, requires_grad=True)
        clamped = eval(formula, {"functional": F, "v": v, bound: limit})  # noqa: S307
        np.testing.assert_array_equal(clamped.data, getattr(torch, name)(torch.tensor(data), limit).numpy())
        clamped.sum().backward()
        np.testing.assert_array_equal(v.grad, theirs.grad.numpy())


# --- defect: a layer given weights of another number of rows was told to set its out_size --------------------------

@pytest.mark.parametrize(("name", "shape"), [("weights", (5, 4)), ("weights", (3, 6)), ("weights", (5, 6)),
                                             ("biases", (6,))], ids=["rows", "columns", "both", "biases"])
def test_the_resize_advice_names_the_sizes_that_make_the_new_numbers_fit(name: str, shape: tuple[int, ...]) -> None:
    layer = nn.Layer(3, 4, rng=0)
    new = Value(np.ones(shape))
    message = _message(lambda: setattr(layer, name, new), ValueError)
    steps = re.findall(r"layer\.(in_size|out_size) = (\d+)", message)
    assert steps, message
    for size, n in steps:  # the advice followed as written
        setattr(layer, size, int(n))
    setattr(layer, name, new)  # now fits
    assert getattr(layer, name) is new


def test_the_resize_advice_of_a_first_layer_names_no_layer_before_it() -> None:
    """Layer 1's inputs are the data's columns, not a layer's out_size."""
    net = nn.Network(nn.Layer(3, 4, rng=0), nn.Layer(4, 2, rng=1))
    first = _message(lambda: setattr(net[0], "weights", Value(np.ones((5, 4)))), ValueError)
    second = _message(lambda: setattr(net[1], "weights", Value(np.ones((5, 2)))), ValueError)
    assert "layer.in_size = 5" in first and "previous layer" not in first, first
    assert "previous layer's out_size = 5" in second, second


# --- defect: draw_graph's key said backward() alone shows one pass where backward(inputs=…) left parameters out -----

def test_the_keys_advice_for_emptied_parameters_gives_a_drawing_of_one_pass() -> None:
    net, cost = _two_layer_cost()
    cost.backward(inputs=[net[1].weights])
    key = _key(cost)
    # (since round 38 the line names the intermediates left out, first layer's, and the parameters with them)
    assert "grad: – on an intermediate: its .grad is None, left out by backward(inputs=…)" in key, key
    assert "so are the parameters\nthat are not its inputs" in key, key
    advice = key.rsplit(": ", 1)[1]
    if "zero_grad()" in advice:  # the advice followed as written
        net.zero_grad()
    cost.backward()
    assert "\ngrad:" not in _key(cost), _key(cost)  # one pass: nothing to warn of


def test_the_keys_advice_after_zero_grad_gives_a_drawing_of_one_pass() -> None:
    """Guard: after zero_grad() of every parameter, backward() again is enough, and the key says so."""
    net, cost = _two_layer_cost()
    cost.backward()
    net.zero_grad()
    key = _key(cost)
    assert "call backward() again to see one pass" in key, key
    cost.backward()
    assert "\ngrad:" not in _key(cost)
    h = 1e-6  # and the drawing's one pass is ∂C/∂W², by central differences
    w = net[1].weights
    grad = np.zeros_like(w.data)
    for index in np.ndindex(w.shape):
        for sign in (1, -1):
            w.data[index] += sign * h
            grad[index] += sign * float(losses.squared_error(net(np.array([[0.5, -0.3]])), np.array([[0.25]])).data)
            w.data[index] -= sign * h
    np.testing.assert_allclose(w.grad, grad / (2 * h), rtol=1e-6, atol=1e-10)


# --- defect: np.split's advice for indices said "the parts between the indices i and j" ----------------------------

def test_the_uneven_split_advice_says_what_split_at_indices_gives() -> None:
    v = Value(np.arange(10.0))
    message = _message(lambda: np.split(v, 3), ValueError)
    parts = np.split(v, [2, 5])
    assert [p.shape for p in parts] == [(2,), (3,), (5,)]  # before i, from i to j, from j on
    assert "from j on" in message, message


def test_split_at_indices_of_a_value_gives_numpys_parts_and_the_gradient_back() -> None:
    """Guard: the advised np.split(v, [i, j], axis=1) is recorded, each part's gradient back where it came from."""
    numbers = np.arange(14.0).reshape(2, 7)
    v = Value(numbers, requires_grad=True)
    parts = np.split(v, [2, 5], axis=1)
    for part, expected in zip(parts, np.split(numbers, [2, 5], axis=1), strict=True):
        np.testing.assert_array_equal(part.data, expected)
    sum(float(i + 1) * p.sum() for i, p in enumerate(parts)).backward()
    np.testing.assert_array_equal(v.grad, np.broadcast_to([1.0, 1.0, 2.0, 2.0, 2.0, 3.0, 3.0], (2, 7)))
