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
