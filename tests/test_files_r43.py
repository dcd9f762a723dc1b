"""A hardening tester of the files the package reads and writes (round 43): a state read with ``np.load`` and
given to ``load_state_dict`` fails, when the file is damaged or does not fit, with an error naming the file, not
only the entry, and changes nothing."""

from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import losses, nn, optim

_X = np.random.default_rng(0).normal(size=(5, 2))
_Y = np.ones((5, 1))


def _network(sizes: tuple[int, ...] = (2, 3, 1)) -> nn.MLP:
    return nn.MLP(list(sizes), activation="relu", output_activation="identity", rng=0)


def _trained(steps: int = 2) -> tuple[nn.MLP, optim.Adam]:
    net = _network()
    opt = optim.Adam(net, learning_rate=0.01)
    for _ in range(steps):
        opt.zero_grad()
        losses.mean_squared_error(net(_X), _Y).backward()
        opt.step()
    return net, opt


def _bits(state: dict) -> dict:
    return {name: (array.dtype.str, array.shape, array.tobytes()) for name, array in state.items()}


def _with_entry_damaged(path: Path, entry: str) -> None:
    """Flip a bit in a data byte of ``entry`` (stored, as numpy.savez writes it), so that its CRC fails."""
    data = bytearray(path.read_bytes())
    start = data.index(entry.encode() + b".npy") + len(entry) + 4
    header = data.index(b"\n", start)  # (the .npy header ends in a new line; the data follows)
    data[header + 8] ^= 0x01
    path.write_bytes(bytes(data))


def test_an_optimizer_state_file_with_a_damaged_entry_is_named_and_nothing_changes(tmp_path: Path) -> None:
    """opt.load_state_dict(np.load(path)) of a file whose entry is damaged (a flipped bit: its CRC fails) said
    "Adam.load_state_dict: 'state.0.gradient_average' cannot be read (BadZipFile: ...)", naming no file: with a
    model's file and an optimizer's loaded side by side, which one is damaged?  It names the file now."""
    _, opt = _trained()
    path = tmp_path / "optimizer-state.npz"
    np.savez(path, **opt.state_dict())
    _with_entry_damaged(path, "state.0.gradient_average")
    _, fresh = _trained(steps=1)
    before = _bits(fresh.state_dict())
    with np.load(path, allow_pickle=False) as state, pytest.raises(ValueError) as info:
        fresh.load_state_dict(state)
    assert "optimizer-state.npz" in str(info.value) and "'state.0.gradient_average'" in str(info.value)
    assert str(info.value).startswith("Adam.load_state_dict: ")
    assert _bits(fresh.state_dict()) == before


def test_an_optimizer_state_file_of_another_model_is_named(tmp_path: Path) -> None:
    """A state file saved for a model with a layer more: the count of parameters differs; the message names the
    file read, and the optimizer keeps its state."""
    big = _network((2, 3, 3, 1))
    opt = optim.Adam(big)
    path = tmp_path / "bigger-optimizer.npz"
    np.savez(path, **opt.state_dict())
    _, fresh = _trained(steps=1)
    before = _bits(fresh.state_dict())
    with np.load(path, allow_pickle=False) as state, pytest.raises(ValueError, match="parameter_count") as info:
        fresh.load_state_dict(state)
    assert "bigger-optimizer.npz" in str(info.value)
    assert _bits(fresh.state_dict()) == before


def test_a_state_dict_file_with_a_damaged_entry_is_named_and_the_model_is_unchanged(tmp_path: Path) -> None:
    """model.load_state_dict(np.load(path)) of np.savez(path, **model.state_dict()) with a damaged entry said
    "load_state_dict: entry 'layers.2.weights' cannot be read (BadZipFile: Bad CRC-32 ...)", naming no file."""
    net, _ = _trained()
    path = tmp_path / "weights.npz"
    np.savez(path, **net.state_dict())
    _with_entry_damaged(path, "layers.2.weights")
    fresh = _network()
    before = _bits(fresh.state_dict())
    with np.load(path) as state, pytest.raises(ValueError) as info:
        fresh.load_state_dict(state)
    assert "weights.npz" in str(info.value) and "'layers.2.weights'" in str(info.value)
    assert str(info.value).startswith("load_state_dict: ")
    assert _bits(fresh.state_dict()) == before


def test_a_state_dict_file_of_another_architecture_is_named(tmp_path: Path) -> None:
    """np.load of a state saved from a network of transposed shapes: the message names the entry, the shapes, the
    advice, and now the file."""
    path = tmp_path / "other.npz"
    np.savez(path, **_network((3, 2, 1)).state_dict())
    fresh = _network()
    before = _bits(fresh.state_dict())
    with np.load(path) as state, pytest.raises(ValueError, match="has shape") as info:
        fresh.load_state_dict(state)
    assert "other.npz" in str(info.value)
    assert _bits(fresh.state_dict()) == before


def test_the_states_read_whole_still_load_bit_for_bit(tmp_path: Path) -> None:
    """What the file name is added to changes nothing that works: a float32 model with -0.0 and its Adam state load
    back through np.load exactly, and training goes on bit for bit."""
    net, opt = _trained()
    net.layers[0].weights.data[0, 0] = -0.0
    net.float()
    opt.zero_grad()
    losses.mean_squared_error(net(_X), _Y).backward()
    opt.step()
    np.savez(tmp_path / "m.npz", **net.state_dict())
    np.savez(tmp_path / "o.npz", **opt.state_dict())
    again = _network()
    resumed = optim.Adam(again, learning_rate=0.01)
    with np.load(tmp_path / "m.npz") as state:
        again.load_state_dict(state)
    with np.load(tmp_path / "o.npz", allow_pickle=False) as state:
        resumed.load_state_dict(state)
    assert _bits(again.state_dict()) == _bits(net.state_dict())
    assert _bits(resumed.state_dict()) == _bits(opt.state_dict())


@pytest.mark.parametrize("call", [
    lambda path, net: nn.load(path, map_location="cpu"),
    lambda path, net: net.load(path, map_location="cpu"),
    lambda path, net: nn.load_state(path, map_location="cpu"),
    lambda path, net: nn.load(path, weights_only=True),
    lambda path, net: net.load_state_dict(nn.load_state(path), assign=True),
], ids=["nn.load map_location", "model.load map_location", "load_state map_location", "weights_only", "assign"])
def test_pytorchs_loading_keywords_say_what_they_are_here(tmp_path: Path, call) -> None:
    """torch.load(path, map_location="cpu") (and weights_only=True, load_state_dict's assign=True) pasted onto the
    loaders here was Python's bare "load() got an unexpected keyword argument 'map_location'": a TypeError naming
    the keyword as PyTorch's, and saying what to write; the advice, followed (the call without it), loads the file
    bit for bit."""
    net = _network()
    path = tmp_path / "model.npz"
    net.save(path)
    fresh = _network()
    fresh.reset_parameters(rng=1)
    before = _bits(fresh.state_dict())
    with pytest.raises(TypeError, match=r"there is no argument \w+= \(another library's name\); ") as info:
        call(path, fresh)
    assert "unexpected keyword" not in str(info.value)
    assert _bits(fresh.state_dict()) == before
    assert _bits(nn.load(path).state_dict()) == _bits(net.state_dict())
    assert _bits(fresh.load(path).state_dict()) == _bits(net.state_dict())


def test_a_state_saved_without_its_stars_is_said_to_be_one_and_the_advice_recovers_it(tmp_path: Path) -> None:
    """np.savez(path, opt.state_dict()), the ** forgotten, writes the dict pickled as one entry, arr_0: loading it
    said "this is no optimizer's state_dict() ... a model's state or file is loaded by the model", which is untrue
    (it is an optimizer's state, saved the wrong way); it says so now, and its recovery, pasted, loads it exactly."""
    net, opt = _trained()
    path = tmp_path / "optimizer.npz"
    np.savez(path, opt.state_dict())
    _, fresh = _trained(steps=1)
    before = _bits(fresh.state_dict())
    with np.load(path, allow_pickle=False) as state, pytest.raises(ValueError) as info:
        fresh.load_state_dict(state)
    message = str(info.value)
    assert "no optimizer's state_dict()" not in message and "loaded by the model" not in message
    assert "np.savez(path, **" in message and "'arr_0'" in message
    assert _bits(fresh.state_dict()) == before
    with np.load(path, allow_pickle=True) as archive:  # the recovery the message gives (closed: no ResourceWarning)
        fresh.load_state_dict(archive["arr_0"].item())
    assert _bits(fresh.state_dict()) == _bits(opt.state_dict())

    np.savez(tmp_path / "model.npz", net.state_dict())  # the model's state, the same way
    model = _network()
    model.reset_parameters(rng=1)
    for strict in (True, False):  # (strict=False too: it would load nothing, and say only that arr_0 is unexpected)
        with np.load(tmp_path / "model.npz") as state, pytest.raises(ValueError, match=r"np\.savez\(path, \*\*"):
            model.load_state_dict(state, strict=strict)
    with np.load(tmp_path / "model.npz", allow_pickle=True) as archive:
        model.load_state_dict(archive["arr_0"].item())
    assert _bits(model.state_dict()) == _bits(net.state_dict())
