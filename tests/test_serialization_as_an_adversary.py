"""Saving and loading as an adversary would: a failed load changes nothing (numpy's global random state
included), and a damaged entry of an np.load file is a ValueError naming it.  Each test failed before its fix."""

import zipfile

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim


def test_loading_a_random_search_state_leaves_numpys_global_random_state_alone():
    optimizer = optim.RandomSearch([Value([1.0, 2.0])], scale=0.5, rng=3)
    state = optimizer.state_dict()
    damaged = {**state, "accepted": np.array(-1)}
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        expected = np.random.rand()
        np.random.seed(0)
        optimizer.load_state_dict(state)
        with pytest.raises(ValueError, match="'accepted'"):
            optimizer.load_state_dict(damaged)  # a failed load changes nothing, numpy's global state included
        assert np.random.rand() == expected
    finally:
        np.random.set_state(saved)


@pytest.mark.parametrize("damage", ["crc", "pickled"])
def test_a_damaged_entry_of_an_np_load_file_is_a_value_error_naming_the_key(tmp_path, damage):
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    state, path = net.state_dict(), tmp_path / "state.npz"
    if damage == "pickled":
        np.savez(path, **{**state, "layers.2.weights": np.array([None], dtype=object)})
    else:
        np.savez(path, **state)
        raw = bytearray(path.read_bytes())
        raw[raw.find(state["layers.2.weights"].tobytes())] ^= 1
        path.write_bytes(bytes(raw))
    other = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=1)
    before = other.state_dict()
    with np.load(path) as file, pytest.raises(ValueError, match=r"^load_state_dict: entry 'layers\.2\.weights' "
                                                                 r"cannot be read") as error:
        other.load_state_dict(file)
    assert not isinstance(error.value, zipfile.BadZipFile)
    for name, array in other.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_state_of_another_architecture_is_named_in_a_message_of_a_few_lines():
    """A deep model's state given to another: load_state_dict listed every missing and unexpected name (a screenful
    for a 40-layer model); now the first five of each and how many more, as a model file's load says."""
    deep, other = nn.MLP([2] * 41, rng=0), nn.MLP([3, 2, 1], rng=0)
    with pytest.raises(ValueError) as raised:
        deep.load_state_dict({f"x{i}": np.zeros(1) for i in range(30)})
    message = str(raised.value)
    assert "missing layers.1.weights, layers.1.biases, layers.2.weights, layers.2.biases, layers.3.weights and " \
           "75 more; unexpected x0, x1, x2, x3, x4 and 25 more" in message, message
    assert len(message) < 400
    before = other.state_dict()
    with pytest.raises(ValueError, match=r"missing layers\.1\.weights, layers\.1\.biases, layers\.2\.weights, "
                                         r"layers\.2\.biases; unexpected x$"):
        other.load_state_dict({"x": np.zeros(1)})
    for name, array in other.state_dict().items():
        np.testing.assert_array_equal(array, before[name])
