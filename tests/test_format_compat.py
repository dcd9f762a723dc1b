"""Model and optimizer-state files kept across versions: files written by older commits (fixtures in
tests/data/format_compat/, see its README.txt) load back exactly with the current code, or fail saying which file,
which format and what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, serialization

DATA = Path(__file__).parent / "data" / "format_compat"


def _filled(model: nn.Module, dtype: type = np.float64) -> nn.Module:
    """``model`` with the numbers the old code was given before saving (see README.txt): parameter k in order
    holds arange(size) / 7 + k - 0.25."""
    layers = model.layers if isinstance(model, nn.Network) else [model]
    for k, p in enumerate(p for layer in layers for p in (layer.weights, layer.biases)):
        p.data = (np.arange(p.data.size, dtype=np.float64).reshape(p.shape) / 7 + k - 0.25).astype(dtype)
    return model


def _relu_sigmoid() -> nn.Network:
    return nn.Network(nn.Layer(2, 3, activation="relu"), nn.Layer(3, 1, activation="sigmoid"))


def _same_model(got: nn.Module, expected: nn.Module) -> None:
    got_state, expected_state = got.state_dict(), expected.state_dict()
    assert list(got_state) == list(expected_state)
    for name, array in expected_state.items():
        assert got_state[name].dtype == array.dtype, name
        assert np.array_equal(got_state[name], array), name
    assert [(n, p.requires_grad) for n, p in got.named_parameters()] == [
        (n, p.requires_grad) for n, p in expected.named_parameters()]


# --- models written in format 1 (layers counted from 0) load back exactly -------------------------------------

MODELS = {
    "network": (_relu_sigmoid, np.float64),
    "mlp": (lambda: nn.MLP([2, 3, 1]), np.float64),
    "network_f32": (lambda: nn.Network(nn.Layer(2, 3, activation="tanh"), nn.Layer(3, 1, activation="sigmoid")),
                    np.float32),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_format_1_network_with_architecture_is_rebuilt_by_nn_load_exactly(name: str):
    make, dtype = MODELS[name]
    loaded = nn.load(DATA / f"0a66fb4_{name}.npz")
    expected = _filled(make(), dtype)
    _same_model(loaded, expected)
    assert loaded.config() == expected.config()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_format_1_network_loads_into_a_model_exactly(name: str):
    make, dtype = MODELS[name]
    model = make()
    assert model.load(DATA / f"0a66fb4_{name}.npz") is model
    _same_model(model, _filled(make(), dtype))


def test_a_format_1_layer_and_a_network_without_architecture_load_into_models_exactly():
    layer = nn.Layer(2, 3, activation="tanh").load(DATA / "0a66fb4_layer.npz")
    _same_model(layer, _filled(nn.Layer(2, 3, activation="tanh")))
    make = lambda: nn.Network(nn.Layer(2, 3, activation=lambda v: v.tanh()),  # noqa: E731
                              nn.Layer(3, 1, activation="sigmoid"))
    network = make().load(DATA / "0a66fb4_network_noarch.npz")
    _same_model(network, _filled(make()))
    assert sorted(nn.load_state(DATA / "0a66fb4_network_noarch.npz")) == sorted(network.state_dict())


def test_a_format_1_file_without_architecture_says_so_to_nn_load():
    with pytest.raises(ValueError, match=r"0a66fb4_layer\.npz' stores parameters but no architecture; build the "
                                         r"model yourself and call model\.load\(path\)"):
        nn.load(DATA / "0a66fb4_layer.npz")


def test_a_format_2_file_with_frozen_weights_is_rebuilt_frozen():
    loaded = nn.load(DATA / "df11c00_network_frozen.npz")
    expected = _filled(_relu_sigmoid())
    expected.layers[0].weights.requires_grad = False
    _same_model(loaded, expected)
    assert not loaded.layers[0].weights.requires_grad


# --- a model file that left frozen parameters out --------------------------------------------------------------

def test_a_file_that_left_out_the_frozen_parameters_is_refused_saying_why_and_what_to_do():
    """c2c5aef saved only the parameters that require grad, and loaded such a file into a model with frozen
    weights.  Now the file is refused (rightly: it lacks them); the message must name the file and say that
    files of that time left frozen parameters out and how to load the others.  Following it loads them exactly."""
    path = DATA / "c2c5aef_network_frozen.npz"
    model = _relu_sigmoid()
    model.layers[0].weights.requires_grad = False
    before = model.state_dict()
    with pytest.raises(serialization.ModelFileError) as caught:
        model.load(path)
    message = str(caught.value)
    assert "c2c5aef_network_frozen.npz" in message and "missing layers.1.weights" in message
    assert "frozen" in message and serialization.FORMAT_1 in message
    assert "model.load_state_dict(nn.load_state(path), strict=False)" in message
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items())  # the failed load changed nothing
    assert model.load_state_dict(nn.load_state(path), strict=False) == ([ "layers.1.weights"], [])
    expected = _filled(_relu_sigmoid())
    expected.layers[0].weights.data = before["layers.1.weights"]  # the frozen weights stay as they were
    expected.layers[0].weights.requires_grad = False
    _same_model(model, expected)


def test_a_format_1_file_without_its_frozen_weights_says_why_and_what_reads_it():
    """0a66fb4 saved a network with frozen layer-1 weights as its architecture and the other three arrays.  No
    version loads that whole; the refusal must name the file, the format and the way to the arrays that are there,
    and that way must give them exactly."""
    path = DATA / "0a66fb4_network_frozen.npz"
    for load in (nn.load, nn.load_state):
        with pytest.raises(serialization.ModelFileError) as caught:
            load(path)
        message = str(caught.value)
        assert "0a66fb4_network_frozen.npz" in message and "missing layers.1.weights" in message
        assert serialization.FORMAT_1 in message and "frozen" in message and "numpy.load(path)" in message
    expected = _filled(_relu_sigmoid()).state_dict()
    with np.load(path, allow_pickle=False) as file:  # what the message points to
        arrays = {serialization.counted_from_1(name): file[name] for name in file.files if not name.startswith("__")}
    assert sorted(arrays) == sorted(set(expected) - {"layers.1.weights"})
    for name, array in arrays.items():
        assert array.dtype == expected[name].dtype and np.array_equal(array, expected[name]), name


def test_a_damaged_format_2_file_gets_no_format_1_advice(tmp_path: Path):
    """Only format-1 files are explained so: the same shortfall in a format-2 file is damage, named as such."""
    state = _filled(_relu_sigmoid()).state_dict()
    del state["layers.1.weights"]
    path = tmp_path / "short.npz"
    np.savez(path, __format__=np.array(serialization.FORMAT),
             __architecture__=np.array(np.load(DATA / "df11c00_network_frozen.npz")["__architecture__"]), **state)
    with pytest.raises(serialization.ModelFileError, match=r"short\.npz' does not fit the stored architecture "
                                                           r"\(2 layer\(s\)\): missing layers\.1\.weights$"):
        nn.load(path)


def test_a_model_whose_missing_parameters_are_not_frozen_gets_no_frozen_hint():
    """The same file into a model with nothing frozen: refused as not fitting, without the frozen-parameter
    advice, which would be wrong there."""
    with pytest.raises(serialization.ModelFileError, match=r"missing layers\.1\.weights$"):
        _relu_sigmoid().load(DATA / "c2c5aef_network_frozen.npz")


# --- a file of a format newer than this code -------------------------------------------------------------------

def test_a_file_of_a_newer_format_is_refused_naming_the_file_and_both_formats(tmp_path: Path):
    path = tmp_path / "future.npz"
    np.savez(path, __format__=np.array("tinygrad_edu.state/3"), weights=np.ones((2, 3)), biases=np.zeros(3))
    model = nn.Layer(2, 3)
    before = model.state_dict()
    with pytest.raises(serialization.ModelFileError, match=r"future\.npz' has format 'tinygrad_edu\.state/3'; "
                                                           r"this version reads 'tinygrad_edu\.state/2'"):
        model.load(path)
    assert all(np.array_equal(model.state_dict()[k], v) for k, v in before.items())


# --- optimizer states -----------------------------------------------------------------------------------------

def _parameters(dtype: type) -> list[Value]:
    return [Value(np.array([3.0, -2.0], dtype=dtype)), Value(np.array([[1.0, 0.5]], dtype=dtype))]


OPTIMIZERS = {
    "c2c5aef_sgd": (lambda ps: optim.SGD(ps, learning_rate=1.0), np.float64, {"learning_rate": 0.05, "momentum": 0.9}),
    "c2c5aef_sgd_f32": (lambda ps: optim.SGD(ps, learning_rate=1.0), np.float32, {"momentum": 0.9}),
    "c2c5aef_adam": (optim.Adam, np.float64, {"learning_rate": 0.1, "betas": (0.8, 0.99), "eps": 1e-7}),
    "14055a4_adam": (optim.Adam, np.float64, {"learning_rate": 0.1, "betas": (0.8, 0.99), "eps": 1e-7}),
    "c2c5aef_adam_f32": (optim.Adam, np.float32, {"learning_rate": 0.1}),
    "c2c5aef_armijo": (optim.Armijo, np.float64,
                       {"sigma": 0.01, "alpha": 0.6, "initial_step": 2.0, "max_backtracks": 30}),
    "c2c5aef_randomsearch": (optim.RandomSearch, np.float64, {"scale": 0.3}),
    "14055a4_randomsearch": (optim.RandomSearch, np.float64, {"scale": 0.3}),
    "c2c5aef_newton": (optim.Newton, np.float64, {"damping": 0.1, "sigma": 0.01, "alpha": 0.6, "max_backtracks": 25}),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_old_optimizer_state_loads_back_exactly(name: str):
    """Every entry comes back with its dtype and numbers (state_dict() of the loaded optimizer is the file), and
    the settings are the ones the old code was given."""
    make, dtype, settings = OPTIMIZERS[name]
    optimizer = make(_parameters(dtype))
    with np.load(DATA / f"{name}.npz", allow_pickle=False) as file:
        saved = dict(file)
        optimizer.load_state_dict(file)
    back = optimizer.state_dict()
    assert sorted(back) == sorted(saved)
    for key, array in saved.items():
        assert back[key].dtype == array.dtype and np.array_equal(back[key], array), key
    for setting, value in settings.items():
        assert getattr(optimizer, setting) == value, setting


def test_an_old_random_search_state_goes_on_with_the_saved_generator():
    """Two optimizers loaded from the same old state draw the same next numbers, not fresh ones."""
    draws = []
    for _ in range(2):
        optimizer = optim.RandomSearch(_parameters(np.float64), rng=np.random.default_rng(123))
        with np.load(DATA / "c2c5aef_randomsearch.npz", allow_pickle=False) as file:
            optimizer.load_state_dict(file)
        draws.append(optimizer.rng.random(3))
    fresh = np.random.default_rng(123).random(3)
    assert np.array_equal(draws[0], draws[1]) and not np.array_equal(draws[0], fresh)
