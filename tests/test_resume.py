"""A student trains on the digits, saves the model and the optimizer to files, and goes on another day: the
training must continue exactly as a run that never stopped (the reference here, never the code's own output)."""

import io
import json
import warnings

import numpy as np
import pytest

from tinygrad_edu import losses, nn, optim
from tinygrad_edu.data import load_digits
from tinygrad_edu.training import fit

OPTIMIZERS = {
    "GradientDescent": lambda model: optim.GradientDescent(model, learning_rate=0.5),
    "SGD": lambda model: optim.SGD(model, learning_rate=0.1, momentum=0.9),
    "Adam": lambda model: optim.Adam(model, learning_rate=0.02),
    "Armijo": lambda model: optim.Armijo(model),
    "RandomSearch": lambda model: optim.RandomSearch(model, scale=0.05, rng=3),
    "Newton": lambda model: optim.Newton(model, damping=1e-3),
}


@pytest.fixture(scope="module")
def digits():
    inputs, labels = load_digits()
    return inputs[:48], labels[:48]


def _network(name):
    hidden = 2 if name == "Newton" else 8  # Newton: one backward pass per parameter, so a small network
    return nn.MLP([64, hidden, 10], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _fit(model, optimizer, digits, episodes, batch_size, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a line search that finds no step says so; not tested here
        return fit(model, *digits, cost=losses.cross_entropy, optimizer=optimizer, episodes=episodes,
                   batch_size=batch_size, seed=seed, progress=False)


def _resumed(name, digits, batch_size, folder):
    """2 episodes, everything saved to files, then 2 more from the files with new objects."""
    model = _network(name)
    optimizer = OPTIMIZERS[name](model)
    order = np.random.default_rng(0)
    first = _fit(model, optimizer, digits, 2, batch_size, order)
    model.save(folder / "model.npz")
    np.savez(folder / "optimizer.npz", **optimizer.state_dict(), order=np.array(json.dumps(order.bit_generator.state)))
    del model, optimizer, order

    model = nn.load(folder / "model.npz")
    optimizer = OPTIMIZERS[name](model)
    saved = dict(np.load(folder / "optimizer.npz", allow_pickle=False))
    order = np.random.default_rng()
    order.bit_generator.state = json.loads(str(saved.pop("order")))
    optimizer.load_state_dict(saved)
    return model, first, _fit(model, optimizer, digits, 2, batch_size, order)


@pytest.mark.parametrize("batch_size", [None, 16], ids=["full batch", "mini-batches"])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_training_resumed_from_files_goes_on_as_if_it_never_stopped(name, batch_size, digits, tmp_path):
    straight_model = _network(name)
    straight = _fit(straight_model, OPTIMIZERS[name](straight_model), digits, 4, batch_size, 0)
    model, first, second = _resumed(name, digits, batch_size, tmp_path)
    for (key, expected), (_, value) in zip(straight_model.state_dict().items(), model.state_dict().items(),
                                           strict=True):
        assert value.dtype == expected.dtype, key
        np.testing.assert_array_equal(value, expected, err_msg=key)
    assert first.cost + second.cost == straight.cost
    assert first.gradient_norm + second.gradient_norm == straight.gradient_norm
    assert first.step_size + second.step_size == straight.step_size
    assert second.final_cost == straight.final_cost and second.stopped == straight.stopped == "episodes"


def test_an_int_seed_starts_the_same_orders_again_so_a_resumed_run_differs(digits, tmp_path):
    """Why the test above passes a Generator: fit(seed=0) twice shuffles episodes 3 and 4 as episodes 1 and 2."""
    straight_model = _network("SGD")
    straight = _fit(straight_model, OPTIMIZERS["SGD"](straight_model), digits, 4, 16, 0)
    model = _network("SGD")
    optimizer = OPTIMIZERS["SGD"](model)
    first = _fit(model, optimizer, digits, 2, 16, 0)
    second = _fit(model, optimizer, digits, 2, 16, 0)
    assert first.cost == straight.cost[:2] and second.cost != straight.cost[2:]


@pytest.mark.parametrize("make", [lambda net: optim.Adam(net, learning_rate=0.01),
                                  lambda net: optim.SGD(net, learning_rate=0.1, momentum=0.9)],
                         ids=["Adam", "SGD-momentum"])
def test_resuming_after_model_float_goes_on_bit_for_bit(make, digits):
    """model.float() converts the weights in place, and an optimizer made before keeps training them; its averages
    (Adam) or velocities (momentum) stayed float64, while state_dict saves them in the parameter's float32, so a run
    resumed from the files drifted from the uninterrupted one by ~1e-7.  They are kept in the parameter's dtype now,
    as a float32 model's are from the start.  Found by an exploratory pass."""
    net = _network("Adam")
    optimizer, rng = make(net), np.random.default_rng(0)
    _fit(net, optimizer, digits, 1, 12, rng)
    net.float()
    _fit(net, optimizer, digits, 1, 12, rng)
    saved = io.BytesIO()
    np.savez(saved, **optimizer.state_dict())
    saved.seek(0)
    resumed = nn.MLP([64, 8, 10], activation="tanh", output_activation="identity", init="xavier", rng=1).float()
    resumed.load_state_dict(net.state_dict())
    resumed_optimizer, resumed_rng = make(resumed), np.random.default_rng()
    resumed_optimizer.load_state_dict(np.load(saved, allow_pickle=False))
    resumed_rng.bit_generator.state = rng.bit_generator.state
    _fit(net, optimizer, digits, 2, 12, rng)
    _fit(resumed, resumed_optimizer, digits, 2, 12, resumed_rng)
    for (name, p), q in zip(net.named_parameters(), resumed.parameters(), strict=True):
        assert p.dtype == q.dtype == np.float32
        np.testing.assert_array_equal(q.data, p.data, err_msg=name)
