"""Editing a model after building it, second pass: a hidden layer grown or pruned (its sizes and numbers changed in
place, or new Values put in), layers frozen and unfrozen under an optimizer made before, and then the file, the
errors and the optimizer's state.  Defects found by an exploratory pass in the role of a model-surgery user; each
test asserts the behaviour expected, and the numbers are checked against a float64 numpy reimplementation."""

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim

README = Path(__file__).resolve().parent.parent / "README.md"


def _grown_through_data(net: nn.Network, extra: int, rng: np.random.Generator) -> None:
    """Give the first layer ``extra`` more neurons (and the second as many more inputs) through ``.data = ...``
    alone, the sizes left as they were: the brief's ``layer.weights.data = bigger``."""
    first, second = net[0], net[1]
    first.weights.data = np.hstack([first.weights.data, rng.normal(size=(first.in_size, extra))])
    first.biases.data = np.concatenate([first.biases.data, np.zeros(extra)])
    second.weights.data = np.vstack([second.weights.data, rng.normal(size=(extra, second.out_size))])


# --- defects ------------------------------------------------------------------------------------------------------

def test_saving_a_network_whose_numbers_no_longer_fit_its_layer_sizes_is_refused_naming_the_layer(tmp_path):
    net = nn.MLP([2, 3, 1], rng=0)
    _grown_through_data(net, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^save: layer 1: weights must have shape \(2, 3\).*got a Value of shape "
                                         r"\(2, 5\)"):
        net.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_the_shape_error_after_growing_a_layer_through_data_says_how_to_resize_it():
    net = nn.MLP([2, 3, 1], rng=0)
    _grown_through_data(net, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^layer 1: weights must have shape \(2, 3\).*\(2, 5\).*out_size"):
        net(np.zeros((1, 2)))


@pytest.mark.parametrize("size, error", [("5", TypeError), (5.0, TypeError), (0, ValueError), (-1, ValueError),
                                         (True, TypeError)])
@pytest.mark.parametrize("name", ["in_size", "out_size"])
def test_a_layer_size_that_is_no_positive_integer_is_refused_when_set_and_changes_nothing(name, size, error):
    layer = nn.Layer(2, 3, rng=0)
    with pytest.raises(error, match=rf"^Layer: {name} must be an integer"):
        setattr(layer, name, size)
    assert (layer.in_size, layer.out_size) == (2, 3)


def test_the_readme_says_how_to_grow_or_prune_a_layer():
    text = README.read_text(encoding="utf-8")
    assert re.search(r"\.out_size = ", text) and re.search(r"\.in_size = ", text)
    assert re.search(r"opt(imizer)?\.params = (net|model)\.parameters\(\)", text)


# --- guards -------------------------------------------------------------------------------------------------------

def test_a_numpy_integer_size_is_kept_as_an_int_and_a_grown_layer_computes_with_its_new_numbers():
    """(guard) Sizes set to a numpy integer count as ints (repr, config), and a layer resized in place computes
    α = σ(x W + b) with the Values put in."""
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0)
    net[0].out_size, net[1].in_size = np.int64(5), 5
    rng = np.random.default_rng(1)
    w1, b1, w2 = rng.normal(size=(2, 5)), rng.normal(size=5), rng.normal(size=(5, 1))
    net[0].weights, net[0].biases, net[1].weights = Value(w1), Value(b1), Value(w2)
    assert net.sizes == [2, 5, 1] and "Layer(2 → 5" in repr(net)
    x = np.array([[0.3, -0.7], [1.2, 0.4]])
    np.testing.assert_allclose(net(x).data, np.tanh(x @ w1 + b1) @ w2 + net[1].biases.data, rtol=1e-12)


def test_a_network_grown_in_place_saves_and_loads_back_and_the_old_architecture_refuses_the_file(tmp_path):
    """(guard) Grown by setting the sizes and putting in Values of the new shapes, the network saves its new
    architecture; ``nn.load`` rebuilds it bit for bit; the un-edited architecture refuses the file, naming the entry
    and both shapes, and keeps its own numbers."""
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0)
    rng = np.random.default_rng(2)
    net[0].out_size, net[1].in_size = 5, 5
    net[0].weights = Value(np.hstack([net[0].weights.data, rng.normal(size=(2, 2))]))
    net[0].biases = Value(np.concatenate([net[0].biases.data, np.zeros(2)]))
    net[1].weights = Value(np.vstack([net[1].weights.data, rng.normal(size=(2, 1))]))
    net.save(tmp_path / "m.npz")
    back = nn.load(tmp_path / "m.npz")
    assert {k: v.shape for k, v in back.state_dict().items()} == {
        "layers.1.weights": (2, 5), "layers.1.biases": (5,), "layers.2.weights": (5, 1), "layers.2.biases": (1,)}
    x = np.array([[0.1, 0.9], [-2.0, 0.3]])
    np.testing.assert_array_equal(back(x).data, net(x).data)
    old = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=7)
    before = {k: v.copy() for k, v in old.state_dict().items()}
    with pytest.raises(ValueError, match=r"layers\.1\.weights.*\(2, 5\).*\(2, 3\)"):
        old.load(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"layers\.1\.weights.*\(2, 5\).*\(2, 3\)"):
        old.load_state_dict(net.state_dict(), strict=False)
    assert all(np.array_equal(before[k], v) for k, v in old.state_dict().items())


@pytest.mark.parametrize("make, what", [(lambda p: optim.Adam(p, learning_rate=0.1), "gradient averages"),
                                        (lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.9), "velocity")],
                         ids=["Adam", "SGD-momentum"])
def test_a_step_with_state_of_the_old_shapes_names_the_parameter_and_changes_nothing(make, what):
    """(guard) After a hidden layer was grown in place (its Values kept, their numbers of a new shape), a step of an
    optimizer made before names the parameter, both shapes and the state, and changes no parameter."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    opt = make(net)
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    cost = losses.squared_error(net(x), x ** 2)
    cost.backward()
    opt.step()
    net[0].out_size, net[1].in_size = 5, 5
    _grown_through_data(net, 2, np.random.default_rng(3))
    before = [p.data.copy() for p in net.parameters()]
    opt.zero_grad()
    losses.squared_error(net(x), x ** 2).backward()
    with pytest.raises(ValueError, match=rf"parameter 0 \('W\^1'\) has shape \(1, 5\).*\({what}\) has shape "
                                         r"\(1, 3\)"):
        opt.step()
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))


def _forward_backward(w1, b1, w2, b2, x, y):
    """The float64 gradients of the mean over samples of (tanh(x W1 + b1) W2 + b2 − y)²."""
    h = np.tanh(x @ w1 + b1)
    r = h @ w2 + b2 - y
    d_out = 2 * r / len(x)
    d_h = d_out @ w2.T * (1 - h ** 2)
    return x.T @ d_h, d_h.sum(0), h.T @ d_out, d_out.sum(0)


def test_momentum_after_a_layer_is_grown_with_new_values_and_params_reset_matches_numpy():
    """(guard) ``opt.params = net.parameters()`` after the grown layers got new Values drops their velocity and keeps
    that of the output bias, which was not replaced: the next steps match SGD with momentum in numpy, whose velocity
    starts at the gradient for the new Values and goes on for b²."""
    eta, mu = 0.1, 0.9
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    opt = optim.SGD(net, learning_rate=eta, momentum=mu)
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    y = x ** 2
    for _ in range(2):
        opt.zero_grad()
        losses.squared_error(net(x), y).backward()
        opt.step()
    velocity_b2 = opt._velocity[id(net[1].biases)].copy()
    rng = np.random.default_rng(4)
    net[0].out_size, net[1].in_size = 5, 5
    net[0].weights = Value(np.hstack([net[0].weights.data, rng.normal(size=(1, 2))]))
    net[0].biases = Value(np.concatenate([net[0].biases.data, np.zeros(2)]))
    net[1].weights = Value(np.vstack([net[1].weights.data, rng.normal(size=(2, 1))]))
    opt.params = net.parameters()
    params = [p.data.copy() for p in net.parameters()]
    velocities = [np.zeros_like(params[0]), np.zeros_like(params[1]), np.zeros_like(params[2]), velocity_b2]
    fresh = [True, True, True, False]
    for _ in range(3):
        opt.zero_grad()
        losses.squared_error(net(x), y).backward()
        opt.step()
        grads = _forward_backward(*params, x, y)
        for i, g in enumerate(grads):
            velocities[i] = g if fresh[i] else mu * velocities[i] + g
            params[i] = params[i] - eta * velocities[i]
        fresh = [False] * 4
    for p, expected in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-14)


def test_adam_made_before_freezing_leaves_the_frozen_layer_and_counts_its_steps_from_where_they_stopped():
    """(guard) Fine-tuning: the first layer frozen with an Adam made before, then unfrozen: its numbers stay while it
    is frozen, and its step count k (the bias correction 1 − βᵏ) goes on from where it stopped, as PyTorch's, which
    a numpy Adam of per-parameter counts reproduces."""
    rate, (beta1, beta2), eps = 0.05, (0.9, 0.999), 1e-8
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    opt = optim.Adam(net, learning_rate=rate)
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    y = x ** 2
    params = [p.data.copy() for p in net.parameters()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    k = [0, 0, 0, 0]
    for frozen in (False, True, True, False, False):
        net[0].requires_grad_(not frozen)
        opt.zero_grad()
        losses.squared_error(net(x), y).backward()
        opt.step()
        grads = _forward_backward(*params, x, y)
        for i, g in enumerate(grads):
            if frozen and i < 2:
                continue
            k[i] += 1
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            params[i] = params[i] - rate * (m[i] / (1 - beta1 ** k[i])) / (np.sqrt(v[i] / (1 - beta2 ** k[i])) + eps)
    assert k == [3, 3, 5, 5]
    for p, expected in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(p.data, expected, rtol=1e-10, atol=1e-13)
