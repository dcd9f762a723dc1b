"""A maintainer of a small zoo of saved models: every save path (the package's model files, state_dict with
numpy.savez, pickle), loaded back bit for bit, refused whole, and read by later versions of the package.

The pickles below were written by older commits of tinygrad_edu (as tests/data/format_compat/README.txt does for
model files: the commit checked out, run with PYTHONPATH on it), then zlib-compressed and base64-encoded:

* ``_VALUE_0A66FB4``: commit 0a66fb4, ``pickle.dumps(Value(np.arange(6).reshape(2, 3) / 7 - 0.25, label="W^1"),
  protocol=4)`` (a Value of that time kept its inputs in a slot ``_parents``);
* ``_MLP_C2C5AEF``: commit c2c5aef, ``pickle.dumps(net, protocol=4)`` of ``nn.MLP([2, 3, 1], activation="tanh",
  rng=0)`` with every parameter set to ``np.arange(size).reshape(shape) / 7 + k - 0.25`` (``k`` counts the
  parameters: layer 1's weights 0, its biases 1, ...) and layer 1's biases frozen (a Layer of that time kept its
  activation's name in a plain attribute ``activation_name``).
"""

from __future__ import annotations

import base64
import copy
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn

_VALUE_0A66FB4 = (
    "eNolTzFOw0AQtGObgAQVEi9IkTQWdBQgF6mCJRcU0HE6+45gyT6b813hAgkKQiJtgZLlAzzCDUU6agq6wFvAvkyx2pmd0e4+um/ntmUAhyoV9VRS"
    "RjjTPhfTVHAE74pmmuMKR08YPeAQXEYVRTgSOi9rnySF5H6uM5VSKWmNsE8kTwpRKakT1ebAM06EvmBbywpD6xnHdowveInD0A57oTPDuz3wmKrL"
    "bhn0bk9xMd/OHbDPMIqii78WpoSWwngxPt5e/rX+afJNk3+sXweT5WDyHhi6+QwMXX4HoqPNb4BtDNzuR4zgQPJ7nUpeESPMwctozDME5/rmBGGX"
    "lFRyoSocgUOKsk30O4nmVdvukEIyLttP9Axj/x8PRYbE")
_MLP_C2C5AEF = (
    "eNp9kk1r1EAYxzebzXahb2jFiqCI9NB6WNv6VkRYoajU1CAe7MkOk81sn4Fksk4m6hYEPVi7MAdpH7+A38CDvXjozaN48Fa9e/DgB9DqJNm1Vkrn"
    "kMzzNv/n98w8q7x+Z5fypUcVF50VSQPCgrQuBGr7zuJd3MSp5/gUdTWkHSYTfICTUNLOYmb1g5N6gAuS8FWGblnX4lT1DFuP0qbij6jisSCCRgx1"
    "RVEBqAfJXgT1+D7xViqamZ+GCCObpoQLrlAPpIK3YhmZ3WPGV0AlqMf2FTKxwoXRcO7TMGVFe17WXyWgiqI+LtKo3amTZixZPUpDxamUtIN6iEjW"
    "jEWiZNpUpk47eaZREkGRsolu6QXOWz6+xHs46Vpu2bXXEE5rJ1Cddiamy6057K4XcVtb19DzvNu/zco/bkmh352fLub9afvLVrSzFb3ffjWxsDGx"
    "8KaRmzsfGrm58bkhMnPrawNNma5kjOjpYckeplyyhOSOde2E1Gehuayl5RlzS6TFZaJM4gBJMqKsxjFwxjelbRK381CbSholZlslsQzMRbqldM2o"
    "VH1OE5YgjPcGByfhFJzJyOFsn9s2xrnu/ImC41uv3++9/4+8XzjvwXQXZrTtm7bgggcXPbg0BZc9uOLBXD6PXNEpXkXWCRcBe4KupWtklfSpVjOq"
    "IULDNtC+s/LxrfGmPtSK1weDrg1DrgXDMAKjcASOwhgcO5zBtdb+pfjZ2Mjb3+39S9f/UqxnFEvLswdQ7PYo4OqhYlYxsFohVf3vaP/Ao3/1j77h"
    "wU23DLeyUZjEhZx+1tCzxK//AWXcbxA=")


def _unpickled(text: str) -> object:
    return pickle.loads(zlib.decompress(base64.b64decode(text)))  # (our own test data, written by this project)


def _numbered(shape: tuple[int, ...], k: int) -> np.ndarray:
    """The numbers the old commits gave the k-th parameter (see the module docstring)."""
    return np.arange(int(np.prod(shape))).reshape(shape) / 7 + k - 0.25


# --- pickles written by earlier versions ----------------------------------------------------------------------

def test_a_value_pickled_by_an_earlier_version_unpickles_and_differentiates() -> None:
    value = _unpickled(_VALUE_0A66FB4)
    assert isinstance(value, Value) and value.label == "W^1" and value.requires_grad and value.parents == ()
    expected = np.arange(6).reshape(2, 3) / 7 - 0.25
    assert value.dtype == np.float64 and value.data.tobytes() == expected.tobytes()
    cost = (value * value * value).sum()
    cost.backward()
    np.testing.assert_allclose(value.grad, 3 * expected ** 2, rtol=1e-14)  # d/dw Σ w³ = 3 w²


def test_a_network_pickled_by_an_earlier_version_computes_saves_and_reloads(tmp_path: Path) -> None:
    net = _unpickled(_MLP_C2C5AEF)
    assert isinstance(net, nn.MLP)
    shapes = {"layers.1.weights": (2, 3), "layers.1.biases": (3,), "layers.2.weights": (3, 1), "layers.2.biases": (1,)}
    state = net.state_dict()
    assert list(state) == list(shapes)
    for k, (name, shape) in enumerate(shapes.items()):
        assert state[name].tobytes() == _numbered(shape, k).tobytes(), name
    assert [layer.activation_name for layer in net] == ["tanh", "tanh"]
    assert "activation='tanh'" in repr(net) and not net[0].biases.requires_grad
    x = np.array([[0.1, -0.7], [2.0, 0.5]])
    hidden = np.tanh(x @ _numbered((2, 3), 0) + _numbered((3,), 1))
    expected = np.tanh(hidden @ _numbered((3, 1), 2) + _numbered((1,), 3))
    np.testing.assert_allclose(net(x).data, expected, rtol=1e-14)
    net.save(tmp_path / "old.npz")
    again = nn.load(tmp_path / "old.npz")
    assert [layer.activation_name for layer in again] == ["tanh", "tanh"] and not again[0].biases.requires_grad
    assert again(x).data.tobytes() == net(x).data.tobytes()


# --- guards: round trips of the zoo and refusals that change nothing -------------------------------------------

class _Zoo(nn.Module):
    """Nested lists and dicts of layers, a frozen bias, float32 next to float64, scalar Values and one without bias."""

    def __init__(self, seed: int) -> None:
        self.encoder = [nn.Layer(3, 4, "tanh", init="he", rng=seed), [nn.Layer(4, 2, "relu", init="he", rng=seed + 1)]]
        self.heads = {"mean": nn.Layer(2, 1, "identity", init="xavier", rng=seed + 2),
                      "spread": {"raw": Value(np.random.default_rng(seed).normal(size=(2, 1)).astype(np.float32))}}
        self.scale = Value(np.float32(1.5) + seed)
        self.offset = Value(0.25 * seed, requires_grad=False)
        self.encoder[0].biases.requires_grad = False
        self.heads["mean"].float()

    def forward(self, x: np.ndarray) -> Value:
        hidden = self.encoder[1][0](self.encoder[0](x))
        return self.heads["mean"](hidden) * self.scale + hidden @ self.heads["spread"]["raw"] + self.offset


def _same_state(a: nn.Module, b: nn.Module) -> None:
    left, right = a.state_dict(), b.state_dict()
    assert list(left) == list(right)
    for name in left:
        assert (left[name].dtype, left[name].shape) == (right[name].dtype, right[name].shape), name
        assert left[name].tobytes() == right[name].tobytes(), name
    assert [v.requires_grad for _, v in a._named_state()] == [v.requires_grad for _, v in b._named_state()]


@pytest.mark.parametrize("path", ["model.save", "numpy.savez", "pickle"])
def test_the_zoo_comes_back_bit_for_bit_by_every_save_path(tmp_path: Path, path: str) -> None:
    saved, other = _Zoo(1), _Zoo(2)
    assert saved.heads["mean"].weights.dtype == np.float32 and saved.encoder[0].weights.dtype == np.float64
    if path == "model.save":
        saved.save(tmp_path / "zoo.npz")
        loaded = other.load(tmp_path / "zoo.npz")
    elif path == "numpy.savez":
        np.savez(tmp_path / "zoo.npz", **saved.state_dict())
        with np.load(tmp_path / "zoo.npz", allow_pickle=False) as archive:
            assert other.load_state_dict(archive) == ([], [])
        loaded = other
    else:
        loaded = pickle.loads(pickle.dumps(saved))
    _same_state(saved, loaded)
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert loaded(x).data.tobytes() == saved(x).data.tobytes()


def test_a_load_that_fails_on_its_last_entry_changes_nothing(tmp_path: Path) -> None:
    source, target = _Zoo(1), _Zoo(2)
    source.save(tmp_path / "zoo.npz")
    with zipfile.ZipFile(tmp_path / "zoo.npz") as archive:
        last = archive.infolist()[-1]
        offset = last.header_offset + 30 + len(last.filename.encode()) + len(last.extra) + last.file_size - 1
    data = bytearray((tmp_path / "zoo.npz").read_bytes())
    data[offset] ^= 0x01  # the last number's last byte: every other entry reads whole
    (tmp_path / "damaged.npz").write_bytes(bytes(data))
    before = copy.deepcopy(target)
    with pytest.raises(ValueError, match=r"damaged\.npz.*CRC"):
        target.load(tmp_path / "damaged.npz")
    _same_state(before, target)
    state = nn.load_state(tmp_path / "zoo.npz")
    state["offset"] = np.zeros((1,))  # every entry fits but the last, whose shape is wrong
    with pytest.raises(ValueError, match=r"'offset' has shape \(1,\) but the parameter has shape \(\)"):
        target.load_state_dict(state)
    _same_state(before, target)


def test_a_layer_copied_or_pickled_keeps_its_activation_name_and_frozen_flags() -> None:
    layer = nn.Layer(2, 3, "softplus", rng=0, name="enc")
    layer.biases.requires_grad = False
    for twin in (copy.copy(layer), copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert repr(twin) == "Layer(2 → 3, activation='softplus', name='enc')"
        assert twin.config() == layer.config() and not twin.biases.requires_grad
        x = np.array([0.3, -1.2])
        np.testing.assert_array_equal(twin(x).data, np.logaddexp(0, x @ layer.weights.data + layer.biases.data))
