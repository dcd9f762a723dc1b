"""Weight initialisation, as a teacher explains it: other libraries' names for the schemes, drawing a trained
network's starting numbers again (PyTorch's ``reset_parameters``), seeds across processes, and what each scheme
does to the activations through ten layers (the reason the schemes exist)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import losses, nn, optim, training

ROOT = Path(__file__).resolve().parents[1]


# --- defects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "here"), [("kaiming", "'he'"), ("kaiming_normal_", "'he'"), ("he_normal", "'he'"),
                                             ("glorot_uniform", "'xavier'"), ("xavier_uniform_", "'xavier'"),
                                             ("Xavier", "'xavier'"), ("HE", "'he'")])
def test_other_libraries_init_names_say_which_init_they_are_here(given: str, here: str) -> None:
    for build in (lambda: nn.Layer(3, 2, init=given), lambda: nn.MLP([3, 2], init=given)):
        with pytest.raises(ValueError, match=r"unknown init") as caught:
            build()
        message = str(caught.value)
        # the scheme it is, named in its own words (beyond the list of all the names every error gives)
        assert here in message.split("; choose one of")[0], message


@pytest.mark.parametrize("given", [None, 5, np.random.rand])
def test_an_init_that_is_not_a_name_is_a_type_error(given: object) -> None:
    with pytest.raises(TypeError, match=r"^Layer: init must be the name of an initialisation, one of uniform, "
                                        r"xavier, he, got "):
        nn.Layer(3, 2, init=given)
    with pytest.raises(TypeError, match=r"^MLP: init must be the name"):
        nn.MLP([3, 2], init=given)


@pytest.mark.parametrize("init", nn.INITS)
def test_a_layer_s_reset_parameters_draws_its_first_numbers_again_in_place(init: str) -> None:
    fresh = nn.Layer(4, 3, init=init, rng=5)
    layer = nn.Layer(4, 3, init=init, rng=5).float()
    weights, biases = layer.weights, layer.biases
    with_numbers_of_its_own = {"weights": np.full((4, 3), 7.0), "biases": np.full(3, -7.0)}
    layer.load_state_dict(with_numbers_of_its_own)  # (float64 numbers: the layer is float64 now)
    layer.float()
    layer.reset_parameters(rng=5)
    assert layer.weights is weights and layer.biases is biases  # in place: an optimizer made before keeps them
    assert layer.weights.dtype == layer.biases.dtype == np.float32
    np.testing.assert_array_equal(layer.weights.data, fresh.weights.data.astype(np.float32))
    np.testing.assert_array_equal(layer.biases.data, fresh.biases.data.astype(np.float32))
    layer.reset_parameters(rng=6)
    assert not np.array_equal(layer.weights.data, fresh.weights.data.astype(np.float32))


def test_a_trained_network_s_reset_parameters_gives_the_network_it_started_as() -> None:
    net = nn.MLP([1, 6, 6, 1], activation="tanh", output_activation="identity", init="xavier", rng=3)
    start = net.state_dict()
    x = np.linspace(-1.0, 1.0, 16).reshape(-1, 1)
    training.fit(net, x, x**2, cost=losses.mean_squared_error, optimizer=optim.Adam(net, learning_rate=0.05),
                 episodes=5, progress=False)
    assert any(not np.array_equal(start[name], array) for name, array in net.state_dict().items())
    net.reset_parameters(rng=3)
    after = net.state_dict()
    assert after.keys() == start.keys()
    for name in start:
        np.testing.assert_array_equal(after[name], start[name], err_msg=name)
    # a refused reset (a layer's init set to PyTorch's name) changes no layer, the first ones neither
    net[-1].init = "kaiming"
    with pytest.raises(ValueError, match=r"^layer 3\.reset_parameters: unknown init 'kaiming' .*'he'"):
        net.reset_parameters(rng=4)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, start[name], err_msg=name)


# --- guards ----------------------------------------------------------------------------------------------------

_DRAW = ("import numpy as np, sys; from tinygrad_edu import nn; "
         "n = nn.MLP([3, 5, 4, 2], init=sys.argv[1], rng=42); "
         "sys.stdout.write(np.concatenate([v.ravel() for v in n.state_dict().values()]).tobytes().hex())")


@pytest.mark.parametrize("init", nn.INITS)
def test_an_int_seed_draws_the_same_weights_in_another_process(init: str) -> None:
    """A class's notebooks agree: the same ``rng=42`` gives every student the same bits, whatever the hash seed."""
    here = np.concatenate([v.ravel() for v in nn.MLP([3, 5, 4, 2], init=init, rng=42).state_dict().values()])
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", _DRAW, init], capture_output=True, text=True, env=env,
                              check=True, timeout=60)
        assert done.stdout == here.tobytes().hex()


def _second_moments(init: str, activation: str, width: int = 256, depth: int = 10) -> np.ndarray:
    """The mean square of each layer's activations, ``depth`` layers of ``width`` neurons, for 400 standard normal
    inputs."""
    net = nn.MLP([width] * (depth + 1), activation=activation, init=init, rng=0)
    data = np.random.default_rng(1).standard_normal((400, width))
    moments = []
    for layer in net:
        data = layer(data).numpy()
        moments.append(float(np.mean(data**2)))
    return np.array(moments)


def test_he_init_keeps_relu_activations_at_one_scale_through_ten_layers() -> None:
    """He's derivation: with Var(w) = 2 / in_size and biases 0, E[α²] of a ReLU layer is that of its input to the
    first order; xavier's half of it shrinks it by about half a layer, the seed's uniform one explodes."""
    he = _second_moments("he", "relu")
    assert np.all((he[1:] / he[:-1] > 0.7) & (he[1:] / he[:-1] < 1.4)), he
    xavier = _second_moments("xavier", "relu")  # Var(w) = 2 / 512: each layer halves E[α²]
    assert np.all((xavier[1:] / xavier[:-1] > 0.35) & (xavier[1:] / xavier[:-1] < 0.7)), xavier
    uniform = _second_moments("uniform", "relu")  # positive weights of mean 1/2: about (256 / 2)² per layer
    assert np.all(uniform[1:] / uniform[:-1] > 1000), uniform


def test_uniform_init_saturates_a_deep_sigmoid_network_as_the_docstring_says() -> None:
    """All-positive weights make z large after the first layer: σ is 1 to within σ'(z) < 1e-6; xavier keeps the
    activations spread around 1/2."""
    net = nn.MLP([64] * 5, activation="sigmoid", init="uniform", rng=0)
    data = np.random.default_rng(1).random((200, 64))
    outputs = net.layers[0](data).numpy()
    for layer in net.layers[1:]:
        outputs = layer(outputs).numpy()
        assert np.all(outputs * (1 - outputs) < 1e-6)
    net = nn.MLP([64] * 5, activation="sigmoid", init="xavier", rng=0)
    outputs = data
    for layer in net:
        outputs = layer(outputs).numpy()
        assert 0.4 < outputs.mean() < 0.6 and outputs.std() > 0.05
